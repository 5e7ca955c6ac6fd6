/* http: against a tiny HTTP/1.1 server on loopback, forked per test run
 * (one process per connection, so a connection number shows keep-alive). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

#include "http.h"

static pid_t server_pid;
static int server_port;

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			_exit(0);
		p += w;
		n -= (size_t)w;
	}
}

static void
reply(int fd, const char *status, const char *headers, const char *body)
{
	char head[1024];

	snprintf(head, sizeof head, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n",
	    status, headers, strlen(body));
	write_all(fd, head, strlen(head));
	write_all(fd, body, strlen(body));
}

/* Serve requests on one connection until the client closes it. */
static void
serve(int fd, int connno)
{
	char req[65536];
	size_t have = 0;

	for (;;) {
		char *end, *cl, method[16], path[256], body[4096], out[8192], hdrs[512];
		size_t hlen, blen = 0, total;
		ssize_t r;
		char ctype[128] = "";
		int proxied;

		while ((end = memmem(req, have, "\r\n\r\n", 4)) == NULL) {
			r = read(fd, req + have, sizeof req - have - 1);
			if (r <= 0)
				_exit(0);
			have += (size_t)r;
		}
		req[have] = '\0';
		hlen = (size_t)(end - req) + 4;
		cl = strcasestr(req, "\r\ncontent-length:");
		if (cl && cl < end)
			blen = strtoul(cl + 17, NULL, 10);
		cl = strcasestr(req, "\r\ncontent-type:");
		if (cl && cl < end)
			sscanf(cl + 15, " %127[^\r]", ctype);
		while (have < hlen + blen) {
			r = read(fd, req + have, sizeof req - have - 1);
			if (r <= 0)
				_exit(0);
			have += (size_t)r;
		}
		if (sscanf(req, "%15s %255s", method, path) != 2)
			_exit(0);
		path[strcspn(path, "?")] = '\0';
		/* Asked as a proxy: "GET http://host/path". */
		proxied = strncmp(path, "http://", 7) == 0;
		if (proxied)
			memmove(path, path + 7 + strcspn(path + 7, "/"), strlen(path + 7 + strcspn(path + 7, "/")) + 1);
		snprintf(body, sizeof body, "%.*s", (int)blen, req + hlen);
		total = hlen + blen;
		memmove(req, req + total, have - total);
		have -= total;

		if (strcmp(path, "/ok") == 0) {
			snprintf(hdrs, sizeof hdrs,
			    "content-type: text/plain\r\nretry-after:   7 \r\n"
			    "X-RATELIMIT-REMAINING: 3\r\nX-RateLimit-Reset-After: 1.5\r\n");
			snprintf(out, sizeof out, "conn=%d method=%s ctype=%s body=%s%s",
			    connno, method, ctype, body, proxied ? " proxied" : "");
			reply(fd, "200 OK", hdrs, out);
		} else if (strcmp(path, "/redirect") == 0) {
			reply(fd, "302 Found", "Location: https://elsewhere.example/login?next=x\r\n", "");
		} else if (strcmp(path, "/continue") == 0) {
			static const char two[] =
			    "HTTP/1.1 100 Continue\r\nRetry-After: 99\r\n\r\n"
			    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno";
			write_all(fd, two, sizeof two - 1);
		} else if (strcmp(path, "/chunked-big") == 0) {
			static const char head[] =
			    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
			char chunk[1100];
			int i;

			memset(chunk, 'x', sizeof chunk);
			memcpy(chunk, "3e8\r\n", 5);
			memcpy(chunk + 1005, "\r\n", 2);
			write_all(fd, head, sizeof head - 1);
			for (i = 0; i < 1000; i++)
				write_all(fd, chunk, 1007);
			write_all(fd, "0\r\n\r\n", 5);
		} else if (strcmp(path, "/big-length") == 0) {
			static const char head[] =
			    "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
			char chunk[1000];
			int i;

			memset(chunk, 'y', sizeof chunk);
			write_all(fd, head, sizeof head - 1);
			for (i = 0; i < 100; i++)
				write_all(fd, chunk, sizeof chunk);
		} else if (strcmp(path, "/big-stall") == 0 || strcmp(path, "/big-length-stall") == 0) {
			/* Past the limit, then nothing for longer than the
			 * client's timeout: only a client that stops reading at
			 * the limit sees "too big". */
			static const char chunked[] =
			    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
			static const char sized[] =
			    "HTTP/1.1 200 OK\r\nContent-Length: 20000000\r\n\r\n";
			char chunk[1007];
			int i;

			memset(chunk, 'z', sizeof chunk);
			if (path[4] == 's') {
				write_all(fd, chunked, sizeof chunked - 1);
				memcpy(chunk, "3e8\r\n", 5);
				memcpy(chunk + 1005, "\r\n", 2);
				for (i = 0; i < 8; i++)
					write_all(fd, chunk, sizeof chunk);
			} else {
				write_all(fd, sized, sizeof sized - 1);
				write_all(fd, chunk, 1000);
			}
			sleep(5);
			_exit(0);
		} else if (strcmp(path, "/slow") == 0) {
			sleep(5);
			_exit(0);
		} else if (strcmp(path, "/drop") == 0) {
			_exit(0);
		} else {
			reply(fd, "404 Not Found", "", "");
		}
	}
}

static int
setup(void **state)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct err e = { 0 };

	(void)state;
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	server_port = ntohs(a.sin_port);
	fflush(stdout);
	fflush(stderr);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
		int connno = 0;

		setpgid(0, 0);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				continue;
			connno++;
			if (fork() == 0) {
				close(lfd);
				serve(fd, connno);
				_exit(0);
			}
			close(fd);
		}
	}
	setpgid(server_pid, server_pid);
	close(lfd);
	assert_int_equal(http_global_init(&e), MC_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	kill(-server_pid, SIGKILL);
	kill(server_pid, SIGKILL);
	waitpid(server_pid, NULL, 0);
	http_global_cleanup();
	return 0;
}

static char *
url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", server_port, path);
}

static void
test_get_headers_keepalive(void **state)
{
	struct http *h = http_new(5, 5, 0);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/ok"), conn[32];

	(void)state;
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_int_equal(f, HTTP_FAIL_NONE);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "method=GET"));
	assert_int_equal(r.len, strlen(r.body));
	assert_string_equal(r.content_type, "text/plain");
	assert_string_equal(r.retry_after, "7");
	assert_string_equal(r.rl_remaining, "3");
	assert_string_equal(r.rl_reset_after, "1.5");
	assert_null(r.location);
	assert_null(r.rl_bucket);
	sscanf(r.body, "%31s", conn);
	http_response_free(&r);

	/* The same handle, the same connection. */
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_non_null(strstr(r.body, conn));
	http_response_free(&r);
	free(u);
	http_free(h);
}

static void
test_post_form(void **state)
{
	struct http *h = http_new(5, 5, 0);
	struct http_response r;
	struct http_request q = { .method = "POST" };
	struct buf b = { 0 };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/ok");

	(void)state;
	http_form_add(&b, "username", "al ice");
	http_form_add(&b, "password", "p&ss=w/o+rd\xc3\xa9");
	http_form_add(&b, "events[courseids][0]", "2");
	assert_string_equal(b.data,
	    "username=al%20ice&password=p%26ss%3Dw%2Fo%2Brd%C3%A9"
	    "&events%5Bcourseids%5D%5B0%5D=2");
	q.url = u;
	q.body = b.data;
	q.body_len = b.len;
	q.content_type = "application/x-www-form-urlencoded";
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_non_null(strstr(r.body, "method=POST ctype=application/x-www-form-urlencoded body=username=al%20ice&"));
	http_response_free(&r);

	q.method = "PATCH";
	q.body = "{}";
	q.body_len = 2;
	q.content_type = "application/json";
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_non_null(strstr(r.body, "method=PATCH ctype=application/json body={}"));
	http_response_free(&r);

	q.method = "DELETE";
	q.body = NULL;
	q.body_len = 0;
	q.content_type = NULL;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_non_null(strstr(r.body, "method=DELETE ctype= body="));
	http_response_free(&r);
	buf_free(&b);
	free(u);
	http_free(h);
}

static void
test_redirect_not_followed(void **state)
{
	struct http *h = http_new(5, 5, 0);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/redirect");

	(void)state;
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_int_equal(r.status, 302);
	assert_string_equal(r.location, "https://elsewhere.example/login?next=x");
	http_response_free(&r);
	free(u);
	http_free(h);
}

static void
test_last_headers_only(void **state)
{
	struct http *h = http_new(5, 5, 0);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/continue");

	(void)state;
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_int_equal(r.status, 503);
	assert_null(r.retry_after);
	assert_string_equal(r.body, "no");
	http_response_free(&r);
	free(u);
	http_free(h);
}

static void
test_too_big(void **state)
{
	struct http *h = http_new(5, 5, 4096);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/chunked-big?wstoken=SECRET");

	(void)state;
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_DATA);
	assert_int_equal(f, HTTP_FAIL_TOOBIG);
	assert_null(r.body);
	assert_null(strstr(e.msg, "SECRET"));
	assert_non_null(strstr(e.msg, "4096"));
	free(u);

	u = url("/big-length");
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_DATA);
	assert_int_equal(f, HTTP_FAIL_TOOBIG);
	free(u);

	/* The handle still works after an aborted transfer. */
	u = url("/ok");
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	assert_int_equal(r.status, 200);
	http_response_free(&r);
	free(u);
	http_free(h);
}

/* Refused at the limit, not after reading (or waiting for) the rest. */
static void
test_too_big_not_read_whole(void **state)
{
	struct http *h = http_new(5, 3, 4096);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	const char *paths[] = { "/big-stall", "/big-length-stall" };
	struct timespec t0, t1;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		char *u = url(paths[i]);

		q.url = u;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_DATA);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(f, HTTP_FAIL_TOOBIG);
		assert_true(t1.tv_sec - t0.tv_sec < 2);
		free(u);
	}
	http_free(h);
}

/* Proxies come from the environment (http_proxy), as for curl(1). */
static void
test_proxy_from_env(void **state)
{
	struct http *h = http_new(5, 5, 0);
	struct http_response r;
	struct http_request q = { .method = "GET", .url = "http://moodle.invalid/ok" };
	enum http_fail f;
	struct err e = { 0 };
	char *proxy = xasprintf("http://127.0.0.1:%d", server_port);

	(void)state;
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	setenv("http_proxy", proxy, 1);
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_OK);
	unsetenv("http_proxy");
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, " proxied"));
	http_response_free(&r);
	free(proxy);
	http_free(h);
}

/* The port openssl s_server (stdout on fd) listens on, from its
 * "ACCEPT 127.0.0.1:PORT" line (printed once it listens; it binds port 0
 * itself, so no other process can take the port in between); 0 if none
 * comes within 3 s. */
static int
s_server_port(int fd)
{
	char buf[256];
	size_t len = 0;
	ssize_t n;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *at;
	long port;

	while (len + 1 < sizeof buf && poll(&p, 1, 3000) == 1) {
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		at = strstr(buf, "ACCEPT 127.0.0.1:");
		if (at != NULL && strchr(at, '\n') != NULL) {
			port = strtol(at + strlen("ACCEPT 127.0.0.1:"), NULL, 10);
			return port > 0 && port < 65536 ? (int)port : 0;
		}
	}
	return 0;
}

/* TLS is always verified: a self-signed certificate (openssl s_server)
 * is a TLS failure, never an answer.  Skipped without openssl(1). */
static void
test_tls_verified(void **state)
{
	char dir[] = "/tmp/mc_tls.XXXXXX", *cmd, *u;
	struct http *h = http_new(2, 2, 0);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	int out[2], port, up;
	enum mc_err rc;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout %s/k -out %s/c -subj /CN=127.0.0.1 -days 1 -addext subjectAltName=IP:127.0.0.1 "
	    ">/dev/null 2>&1", dir, dir);
	if (system(cmd) != 0) {
		free(cmd);
		cmd = xasprintf("rm -rf %s", dir);
		(void)!system(cmd);
		free(cmd);
		http_free(h);
		skip();
	}
	free(cmd);
	assert_int_equal(pipe(out), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char crt[64], key[64];

		snprintf(crt, sizeof crt, "%s/c", dir);
		snprintf(key, sizeof key, "%s/k", dir);
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-www", "-accept", "127.0.0.1:0",
		    "-cert", crt, "-key", key, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	port = s_server_port(out[0]);
	up = port != 0;
	u = xasprintf("https://127.0.0.1:%d/?token=SECRET", port);
	q.url = u;
	rc = up ? http_send(h, &q, &r, &f, &e) : MC_OK;
	if (rc == MC_OK && up)
		http_response_free(&r);
	/* Assertions only once the server is gone. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(out[0]);
	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(u);
	http_free(h);
	assert_true(up);
	assert_int_equal(rc, MC_ERR_TEMP);
	assert_int_equal(f, HTTP_FAIL_TLS);
	assert_non_null(strstr(e.msg, "TLS failed"));
	assert_non_null(strstr(e.msg, "certificate"));
	assert_null(strstr(e.msg, "SECRET"));
}

static void
test_timeout_and_lost(void **state)
{
	struct http *h = http_new(5, 1, 0);
	struct http_response r;
	struct http_request q = { .method = "POST", .body = "password=SECRET", .body_len = 15 };
	enum http_fail f;
	struct err e = { 0 };
	char *u = url("/slow?token=SECRET");

	(void)state;
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_TEMP);
	assert_int_equal(f, HTTP_FAIL_TIMEOUT);
	assert_null(strstr(e.msg, "SECRET"));
	assert_non_null(strstr(e.msg, "/slow?***"));
	free(u);

	u = url("/drop");
	q.url = u;
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_TEMP);
	assert_int_equal(f, HTTP_FAIL_LOST);
	free(u);
	http_free(h);
}

static void
test_connect_refused(void **state)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct http *h = http_new(2, 2, 0);
	struct http_response r;
	struct http_request q = { .method = "GET" };
	enum http_fail f;
	struct err e = { 0 };
	char *u;
	enum mc_err rc;

	(void)state;
	/* A port bound here and not listening: connections are refused, and
	 * no other process can take it while fd is open. */
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	u = xasprintf("http://user:SECRET@127.0.0.1:%d/x?wstoken=SECRET", ntohs(a.sin_port));
	q.url = u;
	rc = http_send(h, &q, &r, &f, &e);
	close(fd);
	assert_int_equal(rc, MC_ERR_TEMP);
	assert_int_equal(f, HTTP_FAIL_CONNECT);
	assert_null(strstr(e.msg, "SECRET"));
	free(u);

	q.url = "ftp://127.0.0.1/x";
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_CONFIG);
	q.url = "not a url";
	assert_int_equal(http_send(h, &q, &r, &f, &e), MC_ERR_CONFIG);
	http_free(h);
}

static void
test_url_for_humans(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "https://m.example/webservice/rest/server.php?moodlewsrestformat=json",
		  "https://m.example/webservice/rest/server.php?***" },
		{ "https://u:pw@m.example/a#frag", "https://***@m.example/a" },
		{ "https://m.example", "https://m.example" },
		{ "http://127.0.0.1:8080/?a=1#b", "http://127.0.0.1:8080/?***" },
		{ "https://m.example?x=@y", "https://m.example?***" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = http_url_for_humans(cases[i].in);

		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_headers_keepalive),
		cmocka_unit_test(test_post_form),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_last_headers_only),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_too_big_not_read_whole),
		cmocka_unit_test(test_proxy_from_env),
		cmocka_unit_test(test_tls_verified),
		cmocka_unit_test(test_timeout_and_lost),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_url_for_humans),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
