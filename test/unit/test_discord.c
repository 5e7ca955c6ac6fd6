/* discord: webhook URL forms, rate-limit header parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "discord.h"

#define ID "123456789012345678"
#define TOKEN "Ab_c-D.e0123456789SecretTokenXyz"
#define CANON "https://discord.com/api/v10/webhooks/" ID "/" TOKEN

static void
test_url_good(void **state)
{
	static const char *const good[] = {
		"https://discord.com/api/webhooks/" ID "/" TOKEN,
		"https://discordapp.com/api/webhooks/" ID "/" TOKEN,
		"https://ptb.discord.com/api/webhooks/" ID "/" TOKEN,
		"https://canary.discord.com/api/webhooks/" ID "/" TOKEN,
		"https://ptb.discordapp.com/api/webhooks/" ID "/" TOKEN,
		"https://canary.discordapp.com/api/webhooks/" ID "/" TOKEN,
		"https://discord.com/api/v10/webhooks/" ID "/" TOKEN,
		"https://discord.com/api/v9/webhooks/" ID "/" TOKEN,
		"https://discordapp.com/api/v6/webhooks/" ID "/" TOKEN,
		"https://discord.com/webhooks/" ID "/" TOKEN,
		"https://discord.com/api/webhooks/" ID "/" TOKEN "/",
		"https://discord.com/api/webhooks/" ID "/" TOKEN "//",
		"https://discord.com/api/webhooks/" ID "/" TOKEN "?wait=true",
		"https://discord.com/api/webhooks/" ID "/" TOKEN "/?wait=false&x=1",
		"https://discord.com/api/webhooks/" ID "/" TOKEN "#frag",
		"  https://discord.com/api/webhooks/" ID "/" TOKEN "\n",
		"\thttps://discord.com/api/webhooks/" ID "/" TOKEN "\r\n",
		"HTTPS://Discord.COM/api/webhooks/" ID "/" TOKEN,
		"https://discord.com:443/api/webhooks/" ID "/" TOKEN,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct discord_url u;
		struct err e = { 0 };

		if (discord_url_parse(good[i], &u, &e) != MC_OK)
			fail_msg("refused #%zu: %s", i, e.msg);
		assert_string_equal(u.id, ID);
		assert_string_equal(u.token, TOKEN);
		assert_string_equal(u.base, CANON);
		assert_null(u.thread_id);
		discord_url_free(&u);
	}
}

static void
test_url_ids_and_thread(void **state)
{
	struct discord_url u;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(discord_url_parse("https://discord.com/api/webhooks/12345678901234567/t", &u, &e), MC_OK);
	assert_string_equal(u.id, "12345678901234567");
	assert_string_equal(u.base, "https://discord.com/api/v10/webhooks/12345678901234567/t");
	discord_url_free(&u);
	assert_int_equal(discord_url_parse("https://discord.com/api/webhooks/12345678901234567890/t", &u, &e), MC_OK);
	assert_string_equal(u.id, "12345678901234567890");
	discord_url_free(&u);

	/* A thread_id pasted with the URL is kept; the rest of the query not. */
	assert_int_equal(discord_url_parse("https://discord.com/api/webhooks/" ID "/" TOKEN
	    "?wait=true&thread_id=987654321098765432", &u, &e), MC_OK);
	assert_string_equal(u.thread_id, "987654321098765432");
	assert_string_equal(u.base, CANON);
	discord_url_free(&u);
}

static void
test_url_loopback(void **state)
{
	static const char *const loop[] = {
		"http://127.0.0.1:8080/api/v10/webhooks/" ID "/" TOKEN,
		"http://127.1.2.3/api/v10/webhooks/" ID "/" TOKEN,
		"http://localhost:9/webhooks/" ID "/" TOKEN,
		"http://[::1]:4242/x/y/webhooks/" ID "/" TOKEN,
		"https://127.0.0.1:8443/api/v10/webhooks/" ID "/" TOKEN,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof loop / sizeof loop[0]; i++) {
		struct discord_url u;
		struct err e = { 0 };

		if (discord_url_parse(loop[i], &u, &e) != MC_OK)
			fail_msg("refused #%zu: %s", i, e.msg);
		/* Used as given. */
		assert_string_equal(u.base, loop[i]);
		assert_string_equal(u.id, ID);
		discord_url_free(&u);
	}
	{
		struct discord_url u;
		struct err e = { 0 };

		assert_int_equal(discord_url_parse("http://127.0.0.1:1/api/v10/webhooks/" ID "/" TOKEN "/?wait=true",
		    &u, &e), MC_OK);
		assert_string_equal(u.base, "http://127.0.0.1:1/api/v10/webhooks/" ID "/" TOKEN);
		discord_url_free(&u);
	}
}

static void
test_url_bad(void **state)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
		{ "", "empty" },
		{ "   \n", "empty" },
		{ "discord.com/api/webhooks/" ID "/" TOKEN, "https://" },
		{ "ftp://discord.com/api/webhooks/" ID "/" TOKEN, "https://" },
		{ "http://discord.com/api/webhooks/" ID "/" TOKEN, "https://" },
		{ "https://evil.example/api/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "https://discord.com.evil.example/api/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "https://evildiscord.com/api/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "https://evil.example/?u=https://discord.com/api/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "https://user:" TOKEN "@discord.com/api/webhooks/" ID "/" TOKEN, "user name" },
		{ "https://discord.com:8443/api/webhooks/" ID "/" TOKEN, "port" },
		{ "https://discord.com:x/api/webhooks/" ID "/" TOKEN, "host or port" },
		{ "https:///api/webhooks/" ID "/" TOKEN, "host" },
		{ "https://discord.com/api/webhooks/1234567890123456/" TOKEN, "17 to 20" },
		{ "https://discord.com/api/webhooks/123456789012345678901/" TOKEN, "17 to 20" },
		{ "https://discord.com/api/webhooks/12345678901234567a/" TOKEN, "17 to 20" },
		{ "https://discord.com/api/webhooks/" ID "/" TOKEN "%20x", "token" },
		{ "https://discord.com/api/webhooks/" ID "/" TOKEN "<x>", "token" },
		{ "https://discord.com/api/webhooks/" ID "/" TOKEN " x", "token" },
		{ "https://discord.com/api/webhooks/" ID, "/webhooks/ID/TOKEN" },
		{ "https://discord.com/api/webhooks/" ID "/", "/webhooks/ID/TOKEN" },
		{ "https://discord.com/api/webhooks/", "/webhooks/ID/TOKEN" },
		{ "https://discord.com/", "/webhooks/ID/TOKEN" },
		{ "https://discord.com", "/webhooks/ID/TOKEN" },
		{ "https://discord.com/api/v10/channels/" ID "/" TOKEN, "/webhooks/ID/TOKEN" },
		{ "https://discord.com/api/webhooks/" ID "/" TOKEN "/messages/1", "/webhooks/ID/TOKEN" },
		{ "https://discord.com/foo/webhooks/" ID "/" TOKEN, "unexpected path" },
		{ "https://discord.com/api/vx/webhooks/" ID "/" TOKEN, "unexpected path" },
		{ "https://discord.com/api/webhooks/" ID "/" TOKEN "?thread_id=abc", "thread_id" },
		{ "http://128.0.0.1/api/v10/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "http://127.0.0.1.evil.example/api/v10/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "http://localhost.evil.example/api/v10/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "http://127.0.0/api/v10/webhooks/" ID "/" TOKEN, "discord.com" },
		{ "http://[::2]/api/v10/webhooks/" ID "/" TOKEN, "discord.com" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct discord_url u;
		struct err e = { 0 };
		struct discord *d;

		if (discord_url_parse(bad[i].url, &u, &e) != MC_ERR_CONFIG)
			fail_msg("accepted #%zu: %s", i, bad[i].url);
		assert_null(u.base);
		assert_null(u.token);
		if (strstr(e.msg, bad[i].why) == NULL)
			fail_msg("#%zu: '%s' does not say '%s'", i, e.msg, bad[i].why);
		/* What a webhook URL looks like, never the token. */
		assert_non_null(strstr(e.msg, "https://discord.com/api/webhooks/ID/TOKEN"));
		assert_null(strstr(e.msg, "SecretToken"));
		assert_null(strstr(e.msg, "evil"));
		discord_url_free(&u);

		memset(&e, 0, sizeof e);
		d = discord_new(bad[i].url, NULL, 1, 1, 0, &e);
		assert_null(d);
		assert_int_equal(e.kind, MC_ERR_CONFIG);
		assert_null(strstr(e.msg, "SecretToken"));
	}
	{
		struct discord_url u;
		struct err e = { 0 };

		assert_int_equal(discord_url_parse(NULL, &u, &e), MC_ERR_CONFIG);
	}
}

static void
test_new(void **state)
{
	struct err e = { 0 };
	struct discord *d;

	(void)state;
	d = discord_new("https://discord.com/api/webhooks/" ID "/" TOKEN, NULL, 1, 1, 0, &e);
	assert_non_null(d);
	assert_string_equal(discord_webhook_id(d), ID);
	discord_free(d);
	d = discord_new("https://discord.com/api/webhooks/" ID "/" TOKEN, "", 1, 1, 0, &e);
	assert_non_null(d);
	discord_free(d);
	d = discord_new("https://discord.com/api/webhooks/" ID "/" TOKEN, "987654321098765432", 1, 1, 0, &e);
	assert_non_null(d);
	discord_free(d);

	d = discord_new("https://discord.com/api/webhooks/" ID "/" TOKEN, "not-an-id", 1, 1, 0, &e);
	assert_null(d);
	assert_int_equal(e.kind, MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "thread_id"));
	assert_null(strstr(e.msg, "SecretToken"));
}

static void
test_bad_message_id(void **state)
{
	struct err e = { 0 };
	struct discord *d = discord_new("http://127.0.0.1:1/api/v10/webhooks/" ID "/" TOKEN, NULL, 1, 1, 0, &e);

	(void)state;
	assert_non_null(d);
	/* Refused before any request: a path must not be built from it. */
	assert_int_equal(discord_edit(d, "../../x", "{}", &e), MC_ERR_DATA);
	assert_int_equal(discord_delete(d, "", &e), MC_ERR_DATA);
	assert_int_equal(discord_delete(d, NULL, &e), MC_ERR_DATA);
	discord_free(d);
}

static void
test_deadline_passed(void **state)
{
	struct err e = { 0 };
	char id[32];
	/* A deadline in the past: no call starts (port 1 would refuse). */
	struct discord *d = discord_new("http://127.0.0.1:1/api/v10/webhooks/" ID "/" TOKEN, NULL, 1, 1, 1, &e);

	(void)state;
	assert_non_null(d);
	assert_int_equal(discord_post(d, "{}", id, &e), MC_ERR_TEMP);
	assert_non_null(strstr(e.msg, "deadline"));
	assert_string_equal(id, "");
	discord_free(d);
}

static void
test_connect_refused_no_token(void **state)
{
	struct err e = { 0 };
	char id[32];
	struct discord *d = discord_new("http://127.0.0.1:1/api/v10/webhooks/" ID "/" TOKEN, NULL, 1, 1, 0, &e);
	enum mc_err rc;

	(void)state;
	assert_non_null(d);
	rc = discord_post(d, "{}", id, &e);
	assert_int_equal(rc, MC_ERR_TEMP);
	assert_null(strstr(e.msg, "SecretToken"));
	discord_free(d);
}

static void
test_parse_seconds(void **state)
{
	(void)state;
	assert_int_equal(discord_parse_seconds("1"), 1000000);
	assert_int_equal(discord_parse_seconds("0"), 0);
	assert_int_equal(discord_parse_seconds("0.250"), 250000);
	assert_int_equal(discord_parse_seconds("2.5"), 2500000);
	assert_int_equal(discord_parse_seconds("1.000001"), 1000001);
	assert_int_equal(discord_parse_seconds("0.0001234"), 124);   /* rounded up */
	assert_int_equal(discord_parse_seconds("0.0000001"), 1);
	assert_int_equal(discord_parse_seconds(".5"), 500000);
	assert_int_equal(discord_parse_seconds("3."), 3000000);
	assert_int_equal(discord_parse_seconds(" 3 "), 3000000);
	assert_int_equal(discord_parse_seconds(NULL), -1);
	assert_int_equal(discord_parse_seconds(""), -1);
	assert_int_equal(discord_parse_seconds("."), -1);
	assert_int_equal(discord_parse_seconds("-1"), -1);
	assert_int_equal(discord_parse_seconds("abc"), -1);
	assert_int_equal(discord_parse_seconds("1.2.3"), -1);
	assert_int_equal(discord_parse_seconds("1e3"), -1);
	assert_int_equal(discord_parse_seconds("99999999999999999999"), -1);
}

static void
test_parse_limits(void **state)
{
	struct http_response r = { 0 };
	struct discord_limits l;
	char body429[] = "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.64, \"global\": false}";
	char bodyglobal[] = "{\"message\": \"You are being rate limited.\", \"retry_after\": 1, \"global\": true}";
	char body20028[] = "{\"message\": \"slow down\", \"retry_after\": 3.5, \"global\": false, \"code\": 20028}";
	char body0[] = "{\"message\": \"You are being blocked from accessing our API temporarily due to "
	    "exceeding our rate limits frequently.\", \"code\": 0}";
	char body1015[] = "error code: 1015";

	(void)state;
	/* An ordinary answer, bucket not empty. */
	r.status = 200;
	r.rl_limit = (char *)"5";
	r.rl_remaining = (char *)"4";
	r.rl_reset = (char *)"1700000000.123";
	r.rl_reset_after = (char *)"2.000";
	r.rl_bucket = (char *)"abcd";
	discord_parse_limits(&r, &l);
	assert_true(l.has_headers);
	assert_int_equal(l.remaining, 4);
	assert_int_equal(l.reset_after_us, 2000000);
	assert_int_equal(l.retry_after_us, -1);
	assert_false(l.ban);

	/* Bucket empty: the client waits reset_after before the next call. */
	r.rl_remaining = (char *)"0";
	r.rl_reset_after = (char *)"1.234";
	discord_parse_limits(&r, &l);
	assert_int_equal(l.remaining, 0);
	assert_int_equal(l.reset_after_us, 1234000);

	/* No headers at all on a 200: nothing known, not a ban. */
	memset(&r, 0, sizeof r);
	r.status = 200;
	discord_parse_limits(&r, &l);
	assert_false(l.has_headers);
	assert_int_equal(l.remaining, -1);
	assert_int_equal(l.reset_after_us, -1);
	assert_false(l.ban);
	r.rl_remaining = (char *)"x";
	discord_parse_limits(&r, &l);
	assert_true(l.has_headers);
	assert_int_equal(l.remaining, -1);

	/* 429: retry_after from the body, float seconds. */
	memset(&r, 0, sizeof r);
	r.status = 429;
	r.rl_limit = (char *)"5";
	r.rl_remaining = (char *)"0";
	r.rl_reset_after = (char *)"0.640";
	r.rl_scope = (char *)"user";
	r.retry_after = (char *)"1";
	r.body = body429;
	r.len = strlen(body429);
	discord_parse_limits(&r, &l);
	assert_int_equal(l.retry_after_us, 640000);
	assert_false(l.global);
	assert_false(l.ban);

	/* 429 without a body: Retry-After. */
	r.body = NULL;
	r.len = 0;
	discord_parse_limits(&r, &l);
	assert_int_equal(l.retry_after_us, 1000000);
	assert_false(l.ban);

	/* Global, from the body or from the header. */
	r.body = bodyglobal;
	r.len = strlen(bodyglobal);
	discord_parse_limits(&r, &l);
	assert_true(l.global);
	assert_int_equal(l.retry_after_us, 1000000);
	r.body = body429;
	r.len = strlen(body429);
	r.rl_global = (char *)"true";
	r.rl_scope = (char *)"global";
	discord_parse_limits(&r, &l);
	assert_true(l.global);
	r.rl_global = NULL;

	/* A sub-limit code is not a ban. */
	r.body = body20028;
	r.len = strlen(body20028);
	discord_parse_limits(&r, &l);
	assert_int_equal(l.retry_after_us, 3500000);
	assert_false(l.ban);

	/* Bans: body code 0; plain text 1015; no rate-limit headers. */
	r.body = body0;
	r.len = strlen(body0);
	discord_parse_limits(&r, &l);
	assert_true(l.ban);
	memset(&r, 0, sizeof r);
	r.status = 429;
	r.body = body1015;
	r.len = strlen(body1015);
	r.content_type = (char *)"text/plain";
	discord_parse_limits(&r, &l);
	assert_true(l.ban);
	assert_false(l.has_headers);
	r.body = body429;
	r.len = strlen(body429);
	discord_parse_limits(&r, &l);
	assert_true(l.ban);  /* a JSON 429 but no X-RateLimit-* header */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_good),
		cmocka_unit_test(test_url_ids_and_thread),
		cmocka_unit_test(test_url_loopback),
		cmocka_unit_test(test_url_bad),
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_bad_message_id),
		cmocka_unit_test(test_deadline_passed),
		cmocka_unit_test(test_connect_refused_no_token),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_limits),
	};
	int rc;

	if (http_global_init(NULL) != MC_OK)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return rc;
}
