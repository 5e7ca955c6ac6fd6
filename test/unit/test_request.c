/* request: the clocks, the digit and token checks and the waits within
 * the run's deadline that the webhook and bot clients share (their retry
 * rules are tested through the clients: test_discord_calls,
 * test_bot_calls). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "request.h"

static void
test_digits(void **state)
{
	(void)state;
	assert_true(request_digits("123456789012345678", 18));
	assert_true(request_digits("12x", 2));
	assert_false(request_digits("12x", 3));
	assert_false(request_digits("", 0));
	assert_false(request_digits("-1", 2));
	assert_true(request_token_char('a') && request_token_char('Z') && request_token_char('0'));
	assert_true(request_token_char('_') && request_token_char('.') && request_token_char('-'));
	assert_false(request_token_char('/') || request_token_char(' ') || request_token_char('%'));
}

static void
test_clocks(void **state)
{
	int64_t wall = request_wall_us(), mono = request_mono_us();

	(void)state;
	/* the wall clock is Unix time in µs; the monotonic clock moves on */
	assert_true(wall / 1000000 - (int64_t)time(NULL) <= 1);
	assert_true(request_mono_us() >= mono);
	assert_int_equal(request_deadline_us(0), INT64_MAX);
	assert_int_equal(request_deadline_us(-5), INT64_MAX);
	assert_int_equal(request_deadline_us(1700000000), INT64_C(1700000000) * 1000000);
}

static void
test_wait(void **state)
{
	struct err e = { 0 };
	int64_t t0, now_s = (int64_t)time(NULL);

	(void)state;
	/* a wait that would end past the deadline: refused at once */
	t0 = request_mono_us();
	assert_int_equal(request_wait_until(now_s + 1, t0 + 5000000, "a retry", &e), MC_ERR_TEMP);
	assert_true(request_mono_us() - t0 < 100000);
	assert_non_null(strstr(e.msg, "run deadline reached: a retry would wait"));
	/* within it (or with none): slept to the time */
	t0 = request_mono_us();
	assert_int_equal(request_wait_until(now_s + 60, t0 + 50000, "x", &e), MC_OK);
	assert_true(request_mono_us() - t0 >= 50000);
	t0 = request_mono_us();
	assert_int_equal(request_wait_until(0, t0 + 20000, "x", &e), MC_OK);
	assert_true(request_mono_us() - t0 >= 20000);
	/* a time already past: no wait */
	assert_int_equal(request_wait_until(now_s - 10, t0 - 1, "x", &e), MC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
