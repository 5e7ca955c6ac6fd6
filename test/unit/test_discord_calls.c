/* discord: what the client does with answers the fake Discord cannot
 * give, against a scripted HTTP server on loopback: a post retried when
 * nothing could connect, 403 stops at once, and no wait (backoff, 429)
 * runs past the run's deadline. */
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

#include "discord.h"
#include "loopback.h"

#define ID "123456789012345678"
#define TOKEN "Ab_c-D.e0123456789SecretTokenXyz"
#define RL "X-RateLimit-Limit: 5\r\nX-RateLimit-Remaining: 4\r\nX-RateLimit-Reset-After: 2\r\n" \
	"X-RateLimit-Bucket: b\r\nConnection: close\r\n"

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

/* Nothing listening at first: the post surely never left, so it is sent
 * again after a backoff, and lands once. */
static void
test_post_retried_when_nothing_connected(void **state)
{
	static const char body[] = "{\"id\":\"1234567890123456789\",\"channel_id\":\"1\"}";
	char *answer = xasprintf("HTTP/1.1 200 OK\r\n" RL "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	const char *answers[] = { answer };
	int port, lfd = lb_bind(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char id[32], *got;
	int64_t t0;

	(void)state;
	lb_serve(lfd, 250, answers, 1, NULL);
	t0 = lb_now_ms();
	assert_int_equal(discord_post(d, "{\"content\":\"x\"}", id, &e), MC_OK);
	assert_string_equal(id, "1234567890123456789");
	assert_true(lb_now_ms() - t0 >= 250);
	got = lb_requests(TOKEN);
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
	int port, lfd = lb_bind(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char id[32], *got;

	(void)state;
	lb_serve(lfd, 0, answers, 2, NULL);
	usleep(100000);
	assert_int_equal(discord_post(d, "{\"content\":\"x\"}", id, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "403, 50013 Missing Permissions"));
	assert_null(strstr(e.msg, TOKEN));
	assert_int_equal(discord_edit(d, "123456789012345642", "{\"content\":\"x\"}", &e), MC_ERR_CONFIG);
	got = lb_requests(TOKEN);
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
	int port, lfd = lb_bind(&port);
	struct discord *d = client(port, (int64_t)time(NULL) + 2);
	struct err e = { 0 };
	char *got;
	int64_t t0;

	(void)state;
	lb_serve(lfd, 0, answers, 1, NULL);
	usleep(100000);
	t0 = lb_now_ms();
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_ERR_TEMP);
	assert_true(lb_now_ms() - t0 < 1500);
	assert_non_null(strstr(e.msg, "run deadline reached"));
	got = lb_requests(TOKEN);
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
	int port, lfd = lb_bind(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char *got;
	int64_t t0;

	(void)state;
	lb_serve(lfd, 0, answers, 2, NULL);
	usleep(100000);
	t0 = lb_now_ms();
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_OK);
	assert_true(lb_now_ms() - t0 >= 990);
	got = lb_requests(TOKEN);
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
	int port, lfd = lb_bind(&port);
	struct discord *d = client(port, 0);
	struct err e = { 0 };
	char *got;

	(void)state;
	lb_serve(lfd, 0, answers, 3, NULL);
	usleep(100000);
	assert_int_equal(discord_delete(d, "123456789012345642", &e), MC_ERR_NOTFOUND);
	assert_int_equal(discord_remove(d, "123456789012345642", &e), MC_OK);
	assert_int_equal(discord_remove(d, "123456789012345642", &e), MC_ERR_CONFIG);
	got = lb_requests(TOKEN);
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
		cmocka_unit_test_setup_teardown(test_post_retried_when_nothing_connected, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_403_stops, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_backoff_respects_deadline, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_429_retry_after_header, lb_setup, lb_teardown),
		cmocka_unit_test_setup_teardown(test_remove_gone_message, lb_setup, lb_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
