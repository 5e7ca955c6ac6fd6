/* discord: what the client does with answers the fake Discord cannot
 * give, against a scripted HTTP server on loopback: a post retried when
 * nothing could connect, 403 stops at once, and no wait (backoff, 429)
 * runs past the run's deadline. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "discord.h"

#define ID "123456789012345678"
#define TOKEN "Ab_c-D.e0123456789SecretTokenXyz"
#define RL "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 4\r\nX-RateLimit-Reset-After: 2\r\n" \
	"X-RateLimit-Bucket: b\r\nConnection: close\r\n"

static pid_t server_pid;
static char logpath[] = "/tmp/mc_discord_calls.XXXXXX";

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read one request from fd and append "METHOD PATH" to the log; 0 at EOF. */
static int
take_request(int fd, FILE *log)
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
	fprintf(log, "%s %s\n", method, path);
	fflush(log);
	return 1;
}

/* A loopback socket bound to a free port and not listening yet: a
 * connection to it is refused until serve() listens, and no other process
 * can take the port meanwhile.  Sets *port. */
static int
bind_loopback(int *port)
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

/* Serve the answers in order on lfd (from bind_loopback, closed here), one
 * connection each (they say Connection: close), starting to listen after
 * delay_ms. */
static void
serve(int lfd, int delay_ms, const char *const *answers, size_t n)
{
	int fd;
	FILE *log;
	size_t i;

	fflush(stdout);
	fflush(stderr);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid != 0) {
		close(lfd);
		return;
	}
	signal(SIGPIPE, SIG_IGN);
	log = fopen(logpath, "a");
	if (log == NULL)
		_exit(1);
	usleep((useconds_t)delay_ms * 1000);
	if (listen(lfd, 8) != 0)
		_exit(1);
	for (i = 0; i < n; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(1);
		if (take_request(fd, log))
			write_all(fd, answers[i], strlen(answers[i]));
		close(fd);
	}
	/* Then nothing more: further connections are refused. */
	close(lfd);
	pause();
	_exit(0);
}

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = 0;
}

/* The requests the server got, "METHOD PATH|..." with the token as ***. */
static char *
requests(void)
{
	FILE *f = fopen(logpath, "r");
	struct buf b = { 0 };
	char line[600], *tok;

	buf_adds(&b, "");
	if (f == NULL)
		return buf_take(&b);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		tok = strstr(line, TOKEN);
		if (tok != NULL)
			memmove(tok + 3, tok + strlen(TOKEN), strlen(tok + strlen(TOKEN)) + 1);
		if (tok != NULL)
			memcpy(tok, "***", 3);
		buf_addf(&b, "%s%s", b.len ? "|" : "", line);
	}
	fclose(f);
	return buf_take(&b);
}

static struct discord *
client(int port, int64_t deadline)
{
	struct err e = { 0 };
	char *url = xasprintf("http://127.0.0.1:%d/api/v10/webhooks/" ID "/" TOKEN, port);
	struct discord *d = discord_new(url, NULL, 2, 2, deadline, &e);

	assert_non_null(d);
	free(url);
	return d;
}

static int
setup(void **state)
{
	struct err e = { 0 };
	int fd;

	(void)state;
	memcpy(logpath + strlen(logpath) - 6, "XXXXXX", 6);
	fd = mkstemp(logpath);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(http_global_init(&e), MC_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* Here, not in the test: a failed assertion must not leave it. */
	server_stop();
	unlink(logpath);
	http_global_cleanup();
	return 0;
}

/* Nothing listening at first: the post surely never left, so it is sent
 * again after a backoff, and lands once. */
static void
test_post_retried_when_nothing_connected(void **state)
{
	static const char body[] = "{\"id\":\"1234567890123456789\",\"channel_id\":\"1\"}";
	char *answer = xasprintf("HTTP/1.1 200 OK\r\n" RL "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	const char *answers[] = { answer };
	int port, lfd = bind_loopback(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char id[32], *got;
	int64_t t0;

	(void)state;
	serve(lfd, 250, answers, 1);
	t0 = now_ms();
	assert_int_equal(discord_post(d, "{\"content\":\"x\"}", id, &e), MC_OK);
	assert_string_equal(id, "1234567890123456789");
	assert_true(now_ms() - t0 >= 250);
	got = requests();
	assert_string_equal(got, "POST /api/v10/webhooks/" ID "/***?wait=true");
	free(got);
	discord_free(d);
	free(answer);
}

/* 403: the webhook may not post there; the run stops, nothing retried. */
static void
test_403_stops(void **state)
{
	static const char body[] = "{\"message\": \"Missing Permissions\", \"code\": 50013}";
	char *answer = xasprintf("HTTP/1.1 403 Forbidden\r\n" RL "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	const char *answers[] = { answer, answer };
	int port, lfd = bind_loopback(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char id[32], *got;

	(void)state;
	serve(lfd, 0, answers, 2);
	usleep(100000);
	assert_int_equal(discord_post(d, "{\"content\":\"x\"}", id, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "403, 50013 Missing Permissions"));
	assert_null(strstr(e.msg, TOKEN));
	assert_int_equal(discord_edit(d, "123456789012345642", "{\"content\":\"x\"}", &e), MC_ERR_CONFIG);
	got = requests();
	assert_string_equal(got, "POST /api/v10/webhooks/" ID "/***?wait=true|"
	    "PATCH /api/v10/webhooks/" ID "/***/messages/123456789012345642");
	free(got);
	discord_free(d);
	free(answer);
}

/* A 502 asking for a retry in 30 s, 2 s before the deadline: the run stops
 * at once instead of sleeping past its deadline. */
static void
test_backoff_respects_deadline(void **state)
{
	static const char *const answers[] = {
		"HTTP/1.1 502 Bad Gateway\r\n" RL "Retry-After: 30\r\nContent-Length: 0\r\n\r\n",
	};
	int port, lfd = bind_loopback(&port);
	struct discord *d = client(port, (int64_t)time(NULL) + 2);
	struct err e = { 0 };
	char *got;
	int64_t t0;

	(void)state;
	serve(lfd, 0, answers, 1);
	usleep(100000);
	t0 = now_ms();
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_ERR_TEMP);
	assert_true(now_ms() - t0 < 1500);
	assert_non_null(strstr(e.msg, "run deadline reached"));
	got = requests();
	assert_string_equal(got, "DELETE /api/v10/webhooks/" ID "/***/messages/123456789012345642");
	free(got);
	discord_free(d);
}

/* A 429 whose body has no retry_after: Retry-After says how long (not the
 * bucket's Reset-After); the same request is sent again once, after that
 * wait. */
static void
test_429_retry_after_header(void **state)
{
	static const char body[] = "{\"message\": \"You are being rate limited.\", \"global\": false}";
	char *limited = xasprintf("HTTP/1.1 429 Too Many Requests\r\nX-RateLimit-Limit: 5\r\n"
	    "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset-After: 0.2\r\nX-RateLimit-Bucket: b\r\n"
	    "X-RateLimit-Scope: shared\r\n"
	    "Retry-After: 1\r\nConnection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	const char *answers[] = { limited, "HTTP/1.1 204 No Content\r\n" RL "\r\n" };
	int port, lfd = bind_loopback(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char *got;
	int64_t t0;

	(void)state;
	serve(lfd, 0, answers, 2);
	usleep(100000);
	t0 = now_ms();
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_OK);
	assert_true(now_ms() - t0 >= 990);
	got = requests();
	assert_string_equal(got, "DELETE /api/v10/webhooks/" ID "/***/messages/123456789012345642|"
	    "DELETE /api/v10/webhooks/" ID "/***/messages/123456789012345642");
	free(got);
	discord_free(d);
	free(limited);
}

/* A message someone already deleted (404, code 10008): discord_delete
 * says MC_ERR_NOTFOUND, discord_remove counts it as deleted; a webhook
 * that is gone (10015) is an error for both. */
static void
test_remove_gone_message(void **state)
{
	static const char gone[] = "{\"message\": \"Unknown Message\", \"code\": 10008}";
	static const char hook[] = "{\"message\": \"Unknown Webhook\", \"code\": 10015}";
	char *a404 = xasprintf("HTTP/1.1 404 Not Found\r\n" RL "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(gone), gone);
	char *h404 = xasprintf("HTTP/1.1 404 Not Found\r\n" RL "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(hook), hook);
	const char *answers[] = { a404, a404, h404 };
	int port, lfd = bind_loopback(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char *got;

	(void)state;
	serve(lfd, 0, answers, 3);
	usleep(100000);
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_ERR_NOTFOUND);
	assert_int_equal(discord_remove(d, "123456789012345642", &e), MC_OK);
	assert_int_equal(discord_remove(d, "123456789012345642", &e), MC_ERR_CONFIG);
	got = requests();
	assert_non_null(strstr(got, "DELETE /api/v10/webhooks/" ID "/***/messages/123456789012345642"));
	free(got);
	discord_free(d);
	free(a404);
	free(h404);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_post_retried_when_nothing_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_403_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_respects_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_429_retry_after_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_gone_message, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
