/* bot: the bot client against a scripted HTTP server on loopback: the
 * token sent and never shown, each error Discord gives turned into the
 * right kind and hint, buckets and the global limit waited for rather than
 * run into, 429s waited out, and a create never sent twice when it may
 * have arrived. */
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

#include "bot.h"
#include "http.h"

#define TOKEN "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.Secret-Bot_Token0123456789abcdefgh"
#define GUILD "222222222222222222"
#define RL "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 4\r\nX-RateLimit-Reset-After: 1\r\n" \
	"X-RateLimit-Bucket: abc\r\nConnection: close\r\n"
#define DROP ""   /* an answer that closes the connection instead */

static pid_t server_pid;
static char logpath[] = "/tmp/mc_bot_calls.XXXXXX";

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

/* Read one request from fd and log "METHOD PATH" and whether it carried
 * the bot's Authorization header; 0 at EOF. */
static int
take_request(int fd, FILE *log)
{
	char req[65536], method[16], path[512], *end, *cl;
	size_t have = 0, hlen, blen = 0;
	ssize_t r;
	int auth;

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
	auth = strcasestr(req, "\r\nAuthorization: Bot " TOKEN "\r\n") != NULL;
	fprintf(log, "%s %s%s\n", method, path, auth ? "" : " (no bot auth)");
	fflush(log);
	return 1;
}

/* Serve the answers in order on port (127.0.0.1), one connection each,
 * starting to listen after delay_ms; DROP closes without an answer. */
static void
serve(int port, int delay_ms, const char *const *answers, size_t n)
{
	struct sockaddr_in a = { 0 };
	int lfd, one = 1, fd;
	FILE *log;
	size_t i;

	fflush(stdout);
	fflush(stderr);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid != 0)
		return;
	signal(SIGPIPE, SIG_IGN);
	log = fopen(logpath, "a");
	if (log == NULL)
		_exit(1);
	usleep((useconds_t)delay_ms * 1000);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0)
		_exit(1);
	for (i = 0; i < n; i++) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(1);
		if (take_request(fd, log))
			write_all(fd, answers[i], strlen(answers[i]));
		close(fd);
	}
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

static int
free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* The requests the server got, "METHOD PATH|...". */
static char *
requests(void)
{
	FILE *f = fopen(logpath, "r");
	struct buf b = { 0 };
	char line[700];

	buf_adds(&b, "");
	if (f == NULL)
		return buf_take(&b);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		buf_addf(&b, "%s%s", b.len ? "|" : "", line);
	}
	fclose(f);
	return buf_take(&b);
}

static char *
json_answer(const char *status, const char *headers, const char *body)
{
	return xasprintf("HTTP/1.1 %s\r\n%sContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    status, headers, strlen(body), body);
}

static struct bot *
client(int port, int64_t deadline)
{
	struct err e = { 0 };
	char *base = xasprintf("http://127.0.0.1:%d/api/v10", port);
	struct bot *b = bot_new(base, TOKEN, 2, 2, deadline, &e);

	assert_non_null(b);
	free(base);
	return b;
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
	server_stop();
	unlink(logpath);
	http_global_cleanup();
	return 0;
}

static void
expect_requests(const char *want)
{
	char *got = requests();

	assert_string_equal(got, want);
	free(got);
}

static void
test_new_refuses(void **state)
{
	struct err e = { 0 };

	(void)state;
	assert_null(bot_new(NULL, "", 2, 2, 0, &e));
	assert_int_equal(e.kind, MC_ERR_CONFIG);
	assert_null(bot_new(NULL, "short", 2, 2, 0, &e));
	assert_null(bot_new(NULL, TOKEN "\n", 2, 2, 0, &e));
	assert_null(strstr(e.msg, TOKEN));
	/* Only discord.com, or loopback for tests. */
	assert_null(bot_new("https://evil.example/api/v10", TOKEN, 2, 2, 0, &e));
	assert_null(bot_new("http://127.0.0.1.evil.example:80/api", TOKEN, 2, 2, 0, &e));
	assert_null(strstr(e.msg, TOKEN));
}

/* The token goes in the header ("Bot " pasted in front is fine), the
 * bot's name comes back. */
static void
test_me(void **state)
{
	char *ok = json_answer("200 OK", RL, "{\"id\":\"333\",\"username\":\"Moodle Events\",\"bot\":true}");
	const char *answers[] = { ok };
	int port = free_port();
	struct err e = { 0 };
	char *base = xasprintf("http://127.0.0.1:%d/api/v10/", port), *name, *id;
	struct bot *b = bot_new(base, "Bot " TOKEN, 2, 2, 0, &e);

	(void)state;
	assert_non_null(b);
	serve(port, 0, answers, 1);
	usleep(100000);
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	assert_string_equal(name, "Moodle Events");
	assert_string_equal(id, "333");
	expect_requests("GET /api/v10/users/@me");
	free(name);
	free(id);
	free(base);
	free(ok);
	bot_free(b);
}

/* 401: a config error with the hint, never the token. */
static void
test_401(void **state)
{
	char *no = json_answer("401 Unauthorized", RL, "{\"message\": \"401: Unauthorized\", \"code\": 0}");
	const char *answers[] = { no };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;

	(void)state;
	serve(port, 0, answers, 1);
	usleep(100000);
	assert_int_equal(bot_me(b, &name, &id, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "refused the bot token"));
	assert_non_null(strstr(e.msg, "bot_token_file"));
	assert_null(strstr(e.msg, TOKEN));
	assert_null(strstr(e.msg, "Secret-Bot"));
	assert_null(name);
	free(no);
	bot_free(b);
}

/* 403 names the permission; 10004 and 10070 are told apart; 30038 is the
 * server's limit. */
static void
test_refusals(void **state)
{
	char *forbidden = json_answer("403 Forbidden", RL, "{\"message\": \"Missing Permissions\", \"code\": 50013}");
	char *guild = json_answer("404 Not Found", RL, "{\"message\": \"Unknown Guild\", \"code\": 10004}");
	char *gone = json_answer("404 Not Found", RL,
	    "{\"message\": \"Unknown Guild Scheduled Event\", \"code\": 10070}");
	char *full = json_answer("400 Bad Request", RL, "{\"message\": \"Maximum number of uncompleted guild "
	    "scheduled events reached (100)\", \"code\": 30038}");
	char *invalid = json_answer("400 Bad Request", RL, "{\"message\": \"Invalid Form Body\", \"code\": 50035, "
	    "\"errors\": {\"entity_metadata\": {\"location\": {\"_errors\": [{\"code\": \"BASE_TYPE_MAX_LENGTH\", "
	    "\"message\": \"Must be 100 or fewer in length.\"}]}}}}");
	const char *answers[] = { forbidden, forbidden, guild, gone, gone, full, invalid };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	struct bot_event *evs;
	size_t n;
	char id[32];

	(void)state;
	serve(port, 0, answers, 7);
	usleep(100000);
	assert_int_equal(bot_event_create(b, GUILD, "{}", id, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "lacks the Create Events permission"));
	assert_int_equal(bot_last_code(b), 50013);
	assert_int_equal(bot_event_delete(b, GUILD, "77", &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "Manage Events"));
	assert_int_equal(bot_events_list(b, GUILD, &evs, &n, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "[discord] guild_id"));
	assert_int_equal(bot_event_edit(b, GUILD, "77", "{}", NULL, &e), MC_ERR_NOTFOUND);
	assert_int_equal(bot_event_delete(b, GUILD, "77", &e), MC_ERR_NOTFOUND);
	assert_int_equal(bot_event_create(b, GUILD, "{}", id, &e), MC_ERR_UNAVAILABLE);
	assert_int_equal(bot_last_code(b), 30038);
	assert_non_null(strstr(e.msg, "100"));
	assert_int_equal(bot_event_create(b, GUILD, "{}", id, &e), MC_ERR_DATA);
	assert_non_null(strstr(e.msg, "entity_metadata.location: Must be 100 or fewer"));
	expect_requests("POST /api/v10/guilds/" GUILD "/scheduled-events|"
	    "DELETE /api/v10/guilds/" GUILD "/scheduled-events/77|"
	    "GET /api/v10/guilds/" GUILD "/scheduled-events|"
	    "PATCH /api/v10/guilds/" GUILD "/scheduled-events/77|"
	    "DELETE /api/v10/guilds/" GUILD "/scheduled-events/77|"
	    "POST /api/v10/guilds/" GUILD "/scheduled-events|"
	    "POST /api/v10/guilds/" GUILD "/scheduled-events");
	free(forbidden);
	free(guild);
	free(gone);
	free(full);
	free(invalid);
	bot_free(b);
}

/* A create whose connection is lost after sending may have been made: it
 * is not sent again.  An edit that meets a 502 is. */
static void
test_create_once_edit_retried(void **state)
{
	char *bad = xasprintf("HTTP/1.1 502 Bad Gateway\r\n" RL "Content-Length: 0\r\n\r\n");
	char *ok = json_answer("200 OK", RL, "{\"id\":\"77\",\"status\":1}");
	const char *answers[] = { DROP, bad, ok };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char id[32];
	int status = 0;

	(void)state;
	serve(port, 0, answers, 3);
	usleep(100000);
	assert_int_equal(bot_event_create(b, GUILD, "{}", id, &e), MC_ERR_TEMP);
	assert_non_null(strstr(e.msg, "may or may not have been made"));
	assert_int_equal(bot_event_edit(b, GUILD, "77", "{}", &status, &e), MC_OK);
	assert_int_equal(status, 1);
	expect_requests("POST /api/v10/guilds/" GUILD "/scheduled-events|"
	    "PATCH /api/v10/guilds/" GUILD "/scheduled-events/77|"
	    "PATCH /api/v10/guilds/" GUILD "/scheduled-events/77");
	free(bad);
	free(ok);
	bot_free(b);
}

/* Nothing listening yet: the create surely never left, it is sent again
 * and lands once. */
static void
test_create_retried_when_nothing_connected(void **state)
{
	char *ok = json_answer("200 OK", RL, "{\"id\":\"78\"}");
	const char *answers[] = { ok };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char id[32];

	(void)state;
	serve(port, 250, answers, 1);
	assert_int_equal(bot_event_create(b, GUILD, "{}", id, &e), MC_OK);
	assert_string_equal(id, "78");
	expect_requests("POST /api/v10/guilds/" GUILD "/scheduled-events");
	free(ok);
	bot_free(b);
}

/* A bucket with nothing left holds its route until its reset, and only
 * its route. */
static void
test_bucket_paced(void **state)
{
	char *empty = json_answer("200 OK", "X-RateLimit-Limit: 1\r\nX-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset-After: 0.6\r\nX-RateLimit-Bucket: ev\r\nConnection: close\r\n", "{\"id\":\"1\"}");
	char *me = json_answer("200 OK", RL, "{\"id\":\"333\",\"username\":\"b\"}");
	const char *answers[] = { empty, me, empty };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0, t1;

	(void)state;
	serve(port, 0, answers, 3);
	usleep(100000);
	t0 = now_ms();
	assert_int_equal(bot_event_edit(b, GUILD, "1", "{}", NULL, &e), MC_OK);
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	t1 = now_ms();
	assert_true(t1 - t0 < 500);
	/* Another event, the same route: waits out the bucket. */
	assert_int_equal(bot_event_edit(b, GUILD, "2", "{}", NULL, &e), MC_OK);
	assert_true(now_ms() - t0 >= 600);
	assert_int_equal(bot_ratelimited(b), 0);
	free(name);
	free(id);
	free(empty);
	free(me);
	bot_free(b);
}

/* 429s, global and of a route, are waited out and the call sent again;
 * a ban (no rate-limit headers) stops at once. */
static void
test_429s(void **state)
{
	char *global = json_answer("429 Too Many Requests", "X-RateLimit-Global: true\r\nX-RateLimit-Scope: global\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n",
	    "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.4, \"global\": true}");
	char *route = json_answer("429 Too Many Requests", "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 0\r\n"
	    "X-RateLimit-Reset-After: 0.3\r\nX-RateLimit-Bucket: abc\r\nX-RateLimit-Scope: user\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n",
	    "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.3, \"global\": false}");
	char *ok = json_answer("200 OK", RL, "{\"id\":\"333\",\"username\":\"b\"}");
	char *ban = xasprintf("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n"
	    "Connection: close\r\nContent-Length: 16\r\n\r\nerror code: 1015");
	const char *answers[] = { global, ok, route, ok, ban };
	int port = free_port();
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0;

	(void)state;
	serve(port, 0, answers, 5);
	usleep(100000);
	t0 = now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	assert_true(now_ms() - t0 >= 400);
	free(name);
	free(id);
	t0 = now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	assert_true(now_ms() - t0 >= 300);
	free(name);
	free(id);
	assert_int_equal(bot_ratelimited(b), 2);
	t0 = now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_ERR_TEMP);
	assert_non_null(strstr(e.msg, "blocked this address"));
	assert_true(now_ms() - t0 < 300);
	expect_requests("GET /api/v10/users/@me|GET /api/v10/users/@me|GET /api/v10/users/@me|"
	    "GET /api/v10/users/@me|GET /api/v10/users/@me");
	free(global);
	free(route);
	free(ok);
	free(ban);
	bot_free(b);
}

/* 50 calls a second in all: the 51st waits until a second has passed
 * since the answer to the first. */
static void
test_global_paced(void **state)
{
	char *ok = json_answer("200 OK", "X-RateLimit-Limit: 1000\r\nX-RateLimit-Remaining: 999\r\n"
	    "X-RateLimit-Reset-After: 10\r\nX-RateLimit-Bucket: me\r\nConnection: close\r\n",
	    "{\"id\":\"333\",\"username\":\"b\"}");
	const char *answers[52];
	int port = free_port(), i;
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0 = 0, t50 = 0;

	(void)state;
	for (i = 0; i < 52; i++)
		answers[i] = ok;
	serve(port, 0, answers, 52);
	usleep(100000);
	for (i = 0; i < 52; i++) {
		assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
		if (i == 0)
			t0 = now_ms();
		if (i == 49)
			t50 = now_ms();
		free(name);
		free(id);
	}
	/* The first 50 go at once; the 51st and 52nd wait for the second. */
	assert_true(t50 - t0 < 900);
	assert_true(now_ms() - t0 >= 1000);
	free(ok);
	bot_free(b);
}

/* The bot's servers come in pages of 200: the next page starts after the
 * last id of the one before. */
static void
test_guild_pages(void **state)
{
	struct buf page = { 0 };
	char *p1, *p2;
	const char *answers[2];
	int port = free_port(), i;
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	uint64_t perms;
	char *name;

	(void)state;
	buf_adds(&page, "[");
	for (i = 0; i < 200; i++)
		buf_addf(&page, "%s{\"id\":\"%d\",\"name\":\"S%d\",\"permissions\":\"0\"}", i ? "," : "", 1000 + i, i);
	buf_adds(&page, "]");
	p1 = json_answer("200 OK", RL, page.data);
	p2 = json_answer("200 OK", RL, "[{\"id\":\"" GUILD "\",\"name\":\"Course Server\","
	    "\"permissions\":\"17592186045440\"}]");
	answers[0] = p1;
	answers[1] = p2;
	serve(port, 0, answers, 2);
	usleep(100000);
	assert_int_equal(bot_guild(b, GUILD, &perms, &name, &e), MC_OK);
	assert_string_equal(name, "Course Server");
	assert_true(perms & BOT_PERM_CREATE_EVENTS);
	assert_null(bot_missing_permission(perms));
	assert_string_equal(bot_missing_permission(1024), "Create Events");
	assert_null(bot_missing_permission(8));
	expect_requests("GET /api/v10/users/@me/guilds?limit=200|GET /api/v10/users/@me/guilds?limit=200&after=1199");
	free(name);
	free(p1);
	free(p2);
	buf_free(&page);
	bot_free(b);
}

static void
test_api_for(void **state)
{
	char *b;

	(void)state;
	b = bot_api_for("http://127.0.0.1:4242/api/v10/webhooks/1/tok");
	assert_string_equal(b, "http://127.0.0.1:4242/api/v10");
	free(b);
	assert_null(bot_api_for("https://discord.com/api/webhooks/123456789012345678/tok"));
	assert_null(bot_api_for("http://evil.example:80/api/webhooks/1/tok"));
	assert_null(bot_api_for(NULL));
}

static void
test_parse_time(void **state)
{
	(void)state;
	assert_int_equal(bot_parse_time("2026-01-01T09:00:00+00:00"), 1767258000);
	assert_int_equal(bot_parse_time("2026-01-01T09:00:00.123000+00:00"), 1767258000);
	assert_int_equal(bot_parse_time("2026-01-01T09:00:00Z"), 1767258000);
	assert_int_equal(bot_parse_time("2026-01-01T10:30:00+01:30"), 1767258000);
	assert_int_equal(bot_parse_time("2026-01-01T09:00:00"), 1767258000);
	assert_int_equal(bot_parse_time("2026-13-01T09:00:00Z"), -1);
	assert_int_equal(bot_parse_time("yesterday"), -1);
	assert_int_equal(bot_parse_time(NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_refuses),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_api_for),
		cmocka_unit_test_setup_teardown(test_me, setup, teardown),
		cmocka_unit_test_setup_teardown(test_401, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_once_edit_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_retried_when_nothing_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bucket_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_429s, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guild_pages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
