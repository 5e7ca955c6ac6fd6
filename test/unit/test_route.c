/* route: names, the courses list, first match in file order, the
 * fallback to [discord], no route; the forum post's name and its cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route.h"

static size_t
cps(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
test_names(void **state)
{
	static const char *const good[] = { "math", "RM-101", "a", "x.y_z", "12345678901234567890123456789012" };
	static const char *const bad[] = { "", "two words", "é", "a/b", "[x]", "123456789012345678901234567890123" };
	struct err e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(route_name_check(good[i], &e), MC_OK);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (route_name_check(bad[i], &e) != MC_ERR_CONFIG)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
}

static void
test_courses_parse(void **state)
{
	static const char *const bad[] = { "", " ", ",", "RM101,", ", RM101", "RM101,,X", "RM101, RM101" };
	struct route_courses c;
	struct err e = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(route_courses_parse(" RM101 ,NET 210,42 ", &c, &e), MC_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], "RM101");
	assert_string_equal(c.v[1], "NET 210");
	assert_string_equal(c.v[2], "42");
	route_courses_free(&c);
	assert_int_equal(c.n, 0);
	assert_null(c.v);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (route_courses_parse(bad[i], &c, &e) != MC_ERR_CONFIG)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(c.n, 0);
		assert_null(c.v);
	}
	route_courses_parse("RM101, RM101", &c, &e);
	assert_string_equal(e.msg, "course 'RM101' is given twice");
}

static void
test_matches(void **state)
{
	(void)state;
	assert_true(route_entry_matches("RM101", 2, "RM101"));
	assert_false(route_entry_matches("rm101", 2, "RM101"));
	assert_false(route_entry_matches("RM10", 2, "RM101"));
	assert_true(route_entry_matches("2", 2, "RM101"));
	assert_false(route_entry_matches("3", 2, "RM101"));
	assert_false(route_entry_matches("02x", 2, "RM101"));
	/* A short name of digits is matched as a short name too. */
	assert_true(route_entry_matches("2024", 7, "2024"));
	assert_false(route_entry_matches("2", 2024, "2024"));
	assert_true(route_entry_matches("7", 7, NULL));
	assert_false(route_entry_matches("99999999999999999999", 7, "x"));
}

static void
test_pick(void **state)
{
	struct route_courses a, b, c;
	struct err e = { 0 };
	const struct route_courses *routes[3] = { &a, &b, &c };

	(void)state;
	assert_int_equal(route_courses_parse("RM101", &a, &e), MC_OK);
	assert_int_equal(route_courses_parse("NET210, 2", &b, &e), MC_OK);
	assert_int_equal(route_courses_parse("RM101, NET210, 5", &c, &e), MC_OK);
	/* First match in file order. */
	assert_int_equal(route_pick(routes, 3, 1, 2, "RM101"), 0);
	assert_int_equal(route_pick(routes, 3, 1, 3, "NET210"), 1);
	assert_int_equal(route_pick(routes, 3, 1, 5, "X"), 2);
	/* By id: course 2 is taken by a (short name) before b (id). */
	assert_int_equal(route_pick(routes, 3, 0, 2, "RM101"), 0);
	assert_int_equal(route_pick(routes, 3, 0, 2, "OTHER"), 1);
	/* Order matters: without a, RM101 goes to c. */
	assert_int_equal(route_pick(routes + 1, 2, 0, 2, "RM101"), 0);
	assert_int_equal(route_pick(routes + 2, 1, 0, 9, "RM101"), 0);
	/* No route: [discord] when it has a webhook, else none. */
	assert_int_equal(route_pick(routes, 3, 1, 9, "ART1"), ROUTE_DEFAULT);
	assert_int_equal(route_pick(routes, 3, 0, 9, "ART1"), ROUTE_NONE);
	assert_int_equal(route_pick(NULL, 0, 1, 2, "RM101"), ROUTE_DEFAULT);
	assert_int_equal(route_pick(NULL, 0, 0, 2, "RM101"), ROUTE_NONE);
	route_courses_free(&a);
	route_courses_free(&b);
	route_courses_free(&c);
}

static void
expect_name(const char *course, const char *name, const char *want)
{
	char *got = route_thread_name(course, name);

	assert_string_equal(got, want);
	assert_true(cps(got) >= 1 && cps(got) <= ROUTE_THREAD_NAME_MAX);
	free(got);
}

static void
test_thread_name(void **state)
{
	char name[512], want[600];
	char *got;
	size_t i;

	(void)state;
	expect_name("RM101", "Weekly seminar", "RM101 \xc2\xb7 Weekly seminar");
	expect_name("", "Weekly seminar", "Weekly seminar");
	expect_name(NULL, "Weekly seminar", "Weekly seminar");
	expect_name("RM101", "  Line\none\t ", "RM101 \xc2\xb7 Line one");
	expect_name("", "", "?");
	expect_name("RM101", " ", "RM101");
	expect_name(NULL, " \n ", "?");
	/* Exactly 100 code points: kept whole ("RM101 · " is 8). */
	memset(name, 'x', 92);
	name[92] = '\0';
	snprintf(want, sizeof want, "RM101 \xc2\xb7 %s", name);
	expect_name("RM101", name, want);
	/* 101: cut at the last word that fits, with an ellipsis. */
	snprintf(name, sizeof name, "%s", "");
	for (i = 0; i < 20; i++)
		strcat(name, "word ");  /* 100 bytes, ends with a space */
	strcat(name, "tail");
	got = route_thread_name("RM101", name);
	assert_true(cps(got) <= ROUTE_THREAD_NAME_MAX);
	assert_string_equal(got + strlen(got) - 7, "word\xe2\x80\xa6");
	assert_int_equal(cps(got), 8 + 18 * 5 - 1 + 1);
	free(got);
	/* Multi-byte letters count as one each; a cut never splits one. */
	name[0] = '\0';
	for (i = 0; i < 30; i++)
		strcat(name, "\xc3\xa9t\xc3\xa9 ");  /* "été " */
	got = route_thread_name("NET210", name);
	assert_true(cps(got) <= ROUTE_THREAD_NAME_MAX);
	assert_string_equal(got + strlen(got) - 8, "\xc3\xa9t\xc3\xa9\xe2\x80\xa6");
	free(got);
	/* One word longer than the room: cut inside it. */
	memset(name, 'y', 300);
	name[300] = '\0';
	got = route_thread_name("RM101", name);
	assert_int_equal(cps(got), ROUTE_THREAD_NAME_MAX);
	assert_memory_equal(got, "RM101 \xc2\xb7 yyy", 11);
	assert_string_equal(got + strlen(got) - 4, "y\xe2\x80\xa6");
	free(got);
	/* Emoji (4 bytes) at the edge. */
	name[0] = '\0';
	for (i = 0; i < 120; i++)
		strcat(name, "\xf0\x9f\x8e\x93");
	got = route_thread_name(NULL, name);
	assert_int_equal(cps(got), ROUTE_THREAD_NAME_MAX);
	assert_int_equal(strlen(got), 99 * 4 + 3);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_courses_parse),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_thread_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
