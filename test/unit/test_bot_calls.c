/* bot: the bot client against a scripted HTTP server on loopback: the
 * token sent and never shown, each error Discord gives turned into the
 * right kind and hint, buckets and the global limit waited for rather than
 * run into, 429s waited out, and a create never sent twice when it may
 * have arrived. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bot.h"
#include "http.h"
#include "loopback.h"

#define TOKEN "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.Secret-Bot_Token0123456789abcdefgh"
#define GUILD "222222222222222222"
#define RL "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 4\r\nX-RateLimit-Reset-After: 1\r\n" \
	"X-RateLimit-Bucket: abc\r\nConnection: close\r\n"
#define DROP ""   /* an answer that closes the connection instead */
#define AUTH "\r\nAuthorization: Bot " TOKEN "\r\n"

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

static void
expect_requests(const char *want)
{
	char *got = lb_requests(NULL);

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
	int port, lfd = lb_bind(&port);
	struct err e = { 0 };
	char *base = xasprintf("http://127.0.0.1:%d/api/v10/", port), *name, *id;
	struct bot *b = bot_new(base, "Bot " TOKEN, 2, 2, 0, &e);

	(void)state;
	assert_non_null(b);
	lb_serve(lfd, 0, answers, 1, AUTH);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;

	(void)state;
	lb_serve(lfd, 0, answers, 1, AUTH);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	struct bot_event *evs;
	size_t n;
	char id[32];

	(void)state;
	lb_serve(lfd, 0, answers, 7, AUTH);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char id[32];
	int status = 0;

	(void)state;
	lb_serve(lfd, 0, answers, 3, AUTH);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char id[32];

	(void)state;
	lb_serve(lfd, 250, answers, 1, AUTH);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0, t1;

	(void)state;
	lb_serve(lfd, 0, answers, 3, AUTH);
	usleep(100000);
	t0 = lb_now_ms();
	assert_int_equal(bot_event_edit(b, GUILD, "1", "{}", NULL, &e), MC_OK);
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	t1 = lb_now_ms();
	assert_true(t1 - t0 < 500);
	/* Another event, the same route: waits out the bucket. */
	assert_int_equal(bot_event_edit(b, GUILD, "2", "{}", NULL, &e), MC_OK);
	assert_true(lb_now_ms() - t0 >= 600);
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
	int port, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0;

	(void)state;
	lb_serve(lfd, 0, answers, 5, AUTH);
	usleep(100000);
	t0 = lb_now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	assert_true(lb_now_ms() - t0 >= 400);
	free(name);
	free(id);
	t0 = lb_now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
	assert_true(lb_now_ms() - t0 >= 300);
	free(name);
	free(id);
	assert_int_equal(bot_ratelimited(b), 2);
	t0 = lb_now_ms();
	assert_int_equal(bot_me(b, &name, &id, &e), MC_ERR_TEMP);
	assert_non_null(strstr(e.msg, "blocked this address"));
	assert_true(lb_now_ms() - t0 < 300);
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
	int port, i, lfd = lb_bind(&port);
	struct bot *b = client(port, 0);
	struct err e = { 0 };
	char *name, *id;
	int64_t t0 = 0, t50 = 0;

	(void)state;
	for (i = 0; i < 52; i++)
		answers[i] = ok;
	lb_serve(lfd, 0, answers, 52, AUTH);
	usleep(100000);
	for (i = 0; i < 52; i++) {
		assert_int_equal(bot_me(b, &name, &id, &e), MC_OK);
		if (i == 0)
			t0 = lb_now_ms();
		if (i == 49)
			t50 = lb_now_ms();
		free(name);
		free(id);
	}
	/* The first 50 go at once; the 51st and 52nd wait for the second. */
	assert_true(t50 - t0 < 900);
	assert_true(lb_now_ms() - t0 >= 1000);
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
	int port, i, lfd = lb_bind(&port);
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
	lb_serve(lfd, 0, answers, 2, AUTH);
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
		cmocka_unit_test_setup_teardown(test_me, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_401, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_create_once_edit_retried, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_create_retried_when_nothing_connected, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_bucket_paced, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_429s, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_global_paced, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_guild_pages, lb_setup, lb_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
