/* loopback: a scripted HTTP server on 127.0.0.1 for the client tests
 * (test_discord_calls, test_bot_calls): answers given in order, one
 * connection each, in a forked child; every request logged as "METHOD
 * PATH" to a temporary file the test reads back.
 *
 * The port is bound before the test starts its client and listened on
 * only when the server is ready: until then a connection is refused (the
 * "nothing could connect" case), and no other process can take the port
 * in between (no free-port-then-bind race).
 *
 * Include once per test program, after cmocka.h; the test's cmocka setup
 * and teardown call lb_setup and lb_teardown. */
#ifndef MC_TEST_LOOPBACK_H
#define MC_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "util.h"

static pid_t lb_pid;
static char lb_logpath[] = "/tmp/mc_loopback.XXXXXX";

static int64_t
lb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
lb_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read one request from fd and log "METHOD PATH", with " (no auth)"
 * after it when auth (a whole header line) is given and the request lacks
 * it; 0 at EOF. */
static int
lb_take_request(int fd, FILE *log, const char *auth)
{
	char req[65536], method[16], path[512], *end, *cl;
	size_t have = 0, hlen, blen = 0;
	ssize_t r;

	while ((end = memmem(req, have, "\r\n\r\n", 4)) == NULL) {
		r = read(fd, req + have, sizeof req - have - 1);
		if (r <= 0)
			return 0;
		have += (size_t)r;
	}
	req[have] = '\0';
	hlen = (size_t)(end - req) + 4;
	cl = strcasestr(req, "\r\ncontent-length:");
	if (cl && cl < end)
		blen = strtoul(cl + 17, NULL, 10);
	while (have < hlen + blen && have < sizeof req - 1) {
		r = read(fd, req + have, sizeof req - have - 1);
		if (r <= 0)
			return 0;
		have += (size_t)r;
	}
	if (sscanf(req, "%15s %511s", method, path) != 2)
		return 0;
	fprintf(log, "%s %s%s\n", method, path,
	    auth == NULL || strcasestr(req, auth) != NULL ? "" : " (no auth)");
	fflush(log);
	return 1;
}

/* A loopback socket bound to a free port and not listening yet.  Sets
 * *port. */
static int
lb_bind(int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Serve the answers in order on lfd (from lb_bind, closed here), one
 * connection each (they say Connection: close), starting to listen after
 * delay_ms; an empty answer closes the connection without one.  auth: as
 * for lb_take_request. */
static void
lb_serve(int lfd, int delay_ms, const char *const *answers, size_t n, const char *auth)
{
	int fd;
	FILE *log;
	size_t i;

	fflush(stdout);
	fflush(stderr);
	lb_pid = fork();
	assert_true(lb_pid >= 0);
	if (lb_pid != 0) {
		close(lfd);
		return;
	}
	signal(SIGPIPE, SIG_IGN);
	log = fopen(lb_logpath, "a");
	if (log == NULL)
		_exit(1);
	usleep((useconds_t)delay_ms * 1000);
	if (listen(lfd, 8) != 0)
		_exit(1);
	for (i = 0; i < n; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(1);
		if (lb_take_request(fd, log, auth))
			lb_write_all(fd, answers[i], strlen(answers[i]));
		close(fd);
	}
	/* Then nothing more: further connections are refused. */
	close(lfd);
	pause();
	_exit(0);
}

static void
lb_stop(void)
{
	if (lb_pid > 0) {
		kill(lb_pid, SIGKILL);
		waitpid(lb_pid, NULL, 0);
	}
	lb_pid = 0;
}

/* The requests the server got, "METHOD PATH|...", each hide (a secret in
 * the path; NULL = none) shown as ***. */
static char *
lb_requests(const char *hide)
{
	FILE *f = fopen(lb_logpath, "r");
	struct buf b = { 0 };
	char line[700], *tok;

	buf_adds(&b, "");
	if (f == NULL)
		return buf_take(&b);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		tok = hide != NULL ? strstr(line, hide) : NULL;
		if (tok != NULL) {
			memmove(tok + 3, tok + strlen(hide), strlen(tok + strlen(hide)) + 1);
			memcpy(tok, "***", 3);
		}
		buf_addf(&b, "%s%s", b.len ? "|" : "", line);
	}
	fclose(f);
	return buf_take(&b);
}

/* For the cmocka setup: a fresh log file, libcurl set up. */
static int
lb_setup(void **state)
{
	struct err e = { 0 };
	int fd;

	(void)state;
	memcpy(lb_logpath + strlen(lb_logpath) - 6, "XXXXXX", 6);
	fd = mkstemp(lb_logpath);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(http_global_init(&e), MC_OK);
	return 0;
}

/* For the cmocka teardown (not the test: a failed assertion must not
 * leave the server running). */
static int
lb_teardown(void **state)
{
	(void)state;
	lb_stop();
	unlink(lb_logpath);
	http_global_cleanup();
	return 0;
}

#endif
