/* window: a sweep covers its range exactly once in pieces whose answers
 * fit the budget, splits what is refused, grows carefully, and stops on a
 * single point that cannot fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "window.h"

/* A simulated site: weight[i] bytes at point lo + i. */
struct site {
	int64_t lo, hi;
	size_t *weight;
};

static size_t
weigh(const struct site *s, int64_t from, int64_t to)
{
	size_t sum = 0;
	int64_t i;

	for (i = from; i <= to; i++)
		sum += s->weight[i - s->lo];
	return sum;
}

/* Sweep s with the plan as a client would: an answer over the budget is
 * refused.  Checks every taken piece fits and that the pieces tile the
 * range in order; returns -1 when the plan stopped on a point, else the
 * number of requests made. */
static long
sweep(const struct site *s, struct window_plan *p, int64_t *stuck)
{
	int64_t from, to, expect = s->lo;
	long requests = 0;

	while (window_next(p, &from, &to)) {
		size_t w = weigh(s, from, to);

		assert_true(from >= s->lo && to <= s->hi && from <= to);
		assert_int_equal(from, expect);
		if (p->max_len > 0)
			assert_true(to - from + 1 <= p->max_len);
		requests++;
		assert_true(requests < 100000);
		if (w > p->budget) {
			if (window_refused(p) != 0) {
				*stuck = from;
				assert_int_equal(from, to);
				return -1;
			}
			continue;
		}
		window_taken(p, w);
		expect = to + 1;
	}
	assert_int_equal(expect, s->hi + 1);
	return requests;
}

static struct site
site_new(int64_t lo, int64_t hi, size_t each)
{
	struct site s = { lo, hi, calloc((size_t)(hi - lo + 1), sizeof(size_t)) };
	int64_t i;

	assert_non_null(s.weight);
	for (i = 0; i <= hi - lo; i++)
		s.weight[i] = each;
	return s;
}

/* A small site is read in one request. */
static void
test_small_in_one(void **state)
{
	struct site s = site_new(1000, 1999, 10);
	struct window_plan p;
	int64_t stuck = 0, from, to;

	(void)state;
	window_plan_init(&p, 1000, 1999, 0, 1 << 20);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 1000);
	assert_int_equal(to, 1999);
	assert_int_equal(sweep(&s, &p, &stuck), 1);
	assert_int_equal(p.taken, 1);
	assert_int_equal(p.refused, 0);
	assert_int_equal(window_next(&p, &from, &to), 0);
	free(s.weight);
}

/* A refused piece: its first half is asked next, from the same point. */
static void
test_refused_splits_in_two(void **state)
{
	struct window_plan p;
	int64_t from, to;

	(void)state;
	window_plan_init(&p, 0, 99, 0, 1000);
	assert_int_equal(window_refused(&p), 0);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 0);
	assert_int_equal(to, 49);
	assert_int_equal(window_refused(&p), 0);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(to, 24);
	assert_int_equal(p.refused, 2);
	/* taken: the sweep goes on right after it */
	window_taken(&p, 500);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 25);
}

/* Without a budget problem pieces never exceed max_len (a course batch
 * stays under the number of form fields PHP reads). */
static void
test_max_len(void **state)
{
	struct site s = site_new(0, 2499, 1);
	struct window_plan p;
	int64_t stuck = 0;

	(void)state;
	window_plan_init(&p, 0, 2499, 500, 1 << 20);
	assert_int_equal(sweep(&s, &p, &stuck), 5);
	free(s.weight);
}

/* One point heavier than the budget: the plan stops on exactly it, after
 * taking everything before it. */
static void
test_unsplittable(void **state)
{
	struct site s = site_new(0, 999, 10);
	struct window_plan p;
	int64_t stuck = -1, from, to;

	(void)state;
	s.weight[637] = 5000;
	window_plan_init(&p, 0, 999, 0, 4096);
	assert_int_equal(sweep(&s, &p, &stuck), -1);
	assert_int_equal(stuck, 637);
	/* left as it was: the same point again */
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 637);
	assert_int_equal(to, 637);
	assert_int_equal(window_refused(&p), -1);
	free(s.weight);
}

/* After a light piece the next grows at most fourfold; after a heavy one
 * it shrinks toward half the budget. */
static void
test_sizing(void **state)
{
	struct window_plan p;
	int64_t from, to;

	(void)state;
	window_plan_init(&p, 0, 1000000, 0, 1000);
	p.len = 10;
	window_taken(&p, 0);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 10);
	assert_int_equal(to - from + 1, 40);
	window_taken(&p, 1);                      /* nearly empty: 4x, not 20,000x */
	assert_int_equal(p.len, 160);
	window_taken(&p, 800);                    /* 5 bytes a point: 100 points */
	assert_int_equal(p.len, 100);
	window_taken(&p, 500);                    /* on target: unchanged        */
	assert_int_equal(p.len, 100);
	/* never past the end of the range */
	p.next = 999990;
	p.len = 11;
	window_taken(&p, 1);
	assert_int_equal(p.next, 1000001);
	assert_int_equal(window_next(&p, &from, &to), 0);
	/* and the last piece is cut at the end */
	window_plan_init(&p, 0, 1000, 0, 1000);
	p.next = 900;
	p.len = 50;
	window_taken(&p, 1);
	assert_int_equal(window_next(&p, &from, &to), 1);
	assert_int_equal(from, 950);
	assert_int_equal(to, 1000);
}

/* A whole site whose answer is far over the budget: the sweep takes it in
 * pieces that all fit, in a number of requests near the least possible. */
static void
test_big_site(void **state)
{
	/* 60 days by the second, 10,000 conferences of 1.7 KiB each */
	int64_t lo = 1800000000, hi = lo + 60 * 86400 - 1, i;
	struct site s = site_new(lo, hi, 0);
	struct window_plan p;
	int64_t stuck = 0;
	size_t budget = 4 << 20, total = 0;
	long requests;

	(void)state;
	for (i = 0; i < 10000; i++)
		s.weight[(i * 518) % (hi - lo + 1)] += 1700;
	total = weigh(&s, lo, hi);
	window_plan_init(&p, lo, hi, 0, budget);
	requests = sweep(&s, &p, &stuck);
	assert_true(requests > 0);
	/* at least total / budget pieces; with the half-budget target about
	 * twice that, plus the splits of the first piece */
	assert_true(p.taken >= total / budget);
	assert_true(p.taken <= 3 * (total / budget) + 4);
	assert_true(p.refused <= 6);
	free(s.weight);
}

/* Random sites: coverage, fit and stopping hold whatever the weights. */
static void
test_random_sites(void **state)
{
	unsigned seed = 12345;
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		int64_t n = 1 + (int64_t)((seed = seed * 1103515245u + 12345u) >> 16) % 3000, i;
		size_t budget = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 5000, heaviest = 0;
		struct site s = site_new(-500, -500 + n - 1, 0);
		struct window_plan p;
		int64_t stuck = 0, first_heavy = 0;
		int heavy = 0;
		long r;

		for (i = 0; i < n; i++) {
			unsigned x = (seed = seed * 1103515245u + 12345u) >> 16;

			/* mostly empty, some busy stretches, rare huge points */
			s.weight[i] = x % 10 < 6 ? 0 : x % 1000 == 7 ? 6000 : x % 97;
			if (s.weight[i] > heaviest)
				heaviest = s.weight[i];
			if (s.weight[i] > budget && !heavy) {
				first_heavy = s.lo + i;
				heavy = 1;
			}
		}
		window_plan_init(&p, s.lo, s.hi, round % 3 == 0 ? 64 : 0, budget);
		r = sweep(&s, &p, &stuck);
		if (heaviest > budget) {
			assert_int_equal(r, -1);
			assert_int_equal(stuck, first_heavy);
		} else {
			assert_true(r >= 1);
		}
		free(s.weight);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_in_one),
		cmocka_unit_test(test_refused_splits_in_two),
		cmocka_unit_test(test_max_len),
		cmocka_unit_test(test_unsplittable),
		cmocka_unit_test(test_sizing),
		cmocka_unit_test(test_big_site),
		cmocka_unit_test(test_random_sites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
