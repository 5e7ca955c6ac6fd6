/* ratelimit: when the next call of a route may start, from what the
 * answers said: buckets shared by routes, kept apart per guild, the global
 * limit, 429s global and of a route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define PATCH "PATCH /guilds/G/scheduled-events/{id}"
#define DELETE "DELETE /guilds/G/scheduled-events/{id}"
#define ME "GET /users/@me"
#define MS 1000

static void
test_buckets(void **state)
{
	struct ratelimit *rl = ratelimit_new(50, 1000 * MS);

	(void)state;
	/* Nothing known: go now. */
	assert_int_equal(ratelimit_ready_at(rl, PATCH, "1", 0), 0);
	/* The bucket is empty for 500 ms: its route waits, others not. */
	ratelimit_note(rl, PATCH, "1", "ev", 0, 500 * MS, 100 * MS);
	assert_int_equal(ratelimit_ready_at(rl, PATCH, "1", 200 * MS), 600 * MS);
	assert_int_equal(ratelimit_ready_at(rl, ME, NULL, 200 * MS), 200 * MS);
	/* Another guild has a bucket of its own. */
	assert_int_equal(ratelimit_ready_at(rl, PATCH, "2", 200 * MS), 200 * MS);
	/* DELETE learns it shares the bucket: it waits for it too. */
	assert_int_equal(ratelimit_ready_at(rl, DELETE, "1", 200 * MS), 200 * MS);
	ratelimit_note(rl, DELETE, "1", "ev", 0, 900 * MS, 150 * MS);
	assert_int_equal(ratelimit_ready_at(rl, PATCH, "1", 200 * MS), 1050 * MS);
	/* Refilled: go. */
	ratelimit_note(rl, PATCH, "1", "ev", 4, 1000 * MS, 1100 * MS);
	assert_int_equal(ratelimit_ready_at(rl, DELETE, "1", 1100 * MS), 1100 * MS);
	ratelimit_free(rl);
}

static void
test_429s(void **state)
{
	struct ratelimit *rl = ratelimit_new(50, 1000 * MS);

	(void)state;
	/* A route's 429 holds that route only. */
	ratelimit_429(rl, PATCH, "1", 0, 300 * MS, 0);
	assert_int_equal(ratelimit_ready_at(rl, PATCH, "1", 0), 300 * MS);
	assert_int_equal(ratelimit_ready_at(rl, ME, NULL, 0), 0);
	/* A global one holds every call. */
	ratelimit_429(rl, ME, NULL, 1, 700 * MS, 0);
	assert_int_equal(ratelimit_ready_at(rl, ME, NULL, 0), 700 * MS);
	assert_int_equal(ratelimit_ready_at(rl, DELETE, "9", 10 * MS), 700 * MS);
	ratelimit_free(rl);
}

static void
test_global(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1000 * MS);

	(void)state;
	ratelimit_sent(rl, 0);
	ratelimit_answered(rl, 10 * MS);
	ratelimit_sent(rl, 20 * MS);
	ratelimit_sent(rl, 30 * MS);
	/* Three in the last second: the fourth waits for a second after the
	 * first answer. */
	assert_int_equal(ratelimit_ready_at(rl, ME, NULL, 40 * MS), 1010 * MS);
	ratelimit_sent(rl, 1010 * MS);
	assert_int_equal(ratelimit_ready_at(rl, ME, NULL, 1010 * MS), 1020 * MS);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_429s),
		cmocka_unit_test(test_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
