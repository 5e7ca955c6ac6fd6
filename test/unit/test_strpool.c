/* strpool: the strings of a big event list kept together, the repeated
 * ones once; an event list with a pool frees it whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"

static void
test_intern(void **state)
{
	struct strpool p = { 0 };
	char buf[32];
	char *a, *b, *names[2000];
	size_t i;

	(void)state;
	assert_null(strpool_intern(&p, NULL));
	assert_null(strpool_add(&p, NULL));
	a = strpool_intern(&p, "RM101");
	snprintf(buf, sizeof buf, "RM%d", 101);
	b = strpool_intern(&p, buf);
	/* equal strings: one copy, not the caller's */
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(b, buf);
	assert_string_equal(a, "RM101");
	assert_ptr_not_equal(strpool_intern(&p, "RM102"), a);
	assert_ptr_equal(strpool_intern(&p, ""), strpool_intern(&p, ""));
	/* added ones are copies each time */
	assert_ptr_not_equal(strpool_add(&p, "RM101"), a);
	/* many: the table grows, every one still found */
	for (i = 0; i < 2000; i++) {
		snprintf(buf, sizeof buf, "course %zu", i);
		names[i] = strpool_intern(&p, buf);
	}
	for (i = 0; i < 2000; i++) {
		snprintf(buf, sizeof buf, "course %zu", i);
		assert_ptr_equal(strpool_intern(&p, buf), names[i]);
		assert_string_equal(names[i], buf);
	}
	assert_ptr_equal(strpool_intern(&p, "RM101"), a);
	strpool_free(&p);
	assert_null(p.blocks);
	assert_int_equal(p.used, 0);
}

/* Strings longer than a block, and many blocks: each copy whole and
 * still there after more are added. */
static void
test_blocks(void **state)
{
	struct strpool p = { 0 };
	size_t big = 200000, i;
	char *s = malloc(big + 1), *kept, *small[5000];

	(void)state;
	memset(s, 'x', big);
	s[big] = '\0';
	small[0] = strpool_add(&p, "first");
	kept = strpool_add(&p, s);
	assert_int_equal(strlen(kept), big);
	for (i = 1; i < 5000; i++) {
		char buf[64];

		snprintf(buf, sizeof buf, "https://moodle.example/mod/view.php?id=%zu", i);
		small[i] = strpool_add(&p, buf);
	}
	assert_string_equal(small[0], "first");
	assert_string_equal(small[4999], "https://moodle.example/mod/view.php?id=4999");
	assert_int_equal(strlen(kept), big);
	assert_int_equal(kept[big - 1], 'x');
	free(s);
	strpool_free(&p);
}

/* A list with a pool frees the pool, not the strings one by one (ASan
 * would see a bad free, or a leak when the pool is not freed). */
static void
test_list_pool(void **state)
{
	struct event_list l = { 0 };
	size_t i;

	(void)state;
	l.pool = calloc(1, sizeof *l.pool);
	l.v = calloc(3, sizeof *l.v);
	l.cap = 3;
	for (i = 0; i < 3; i++) {
		struct event *ev = &l.v[l.n++];

		ev->id = (int64_t)i + 1;
		ev->course_short = strpool_intern(l.pool, "RM101");
		ev->name = strpool_add(l.pool, "Lecture");
		ev->module = strpool_intern(l.pool, "bigbluebuttonbn");
	}
	assert_ptr_equal(l.v[0].course_short, l.v[2].course_short);
	event_list_free(&l);
	assert_null(l.v);
	assert_null(l.pool);
	assert_int_equal(l.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_list_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
