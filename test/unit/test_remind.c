/* remind: the list of offsets, the window of each reminder at its
 * boundaries, late runs, a changed list, a moved conference, claims, and a
 * whole run of minutes from a week before to after the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "remind.h"

#define S    1800000000         /* the conference's start        */
#define MIN  60
#define END  (S + 90 * MIN)     /* over 90 minutes after it      */

static struct remind_offsets
offs(const char *text)
{
	struct remind_offsets o;
	struct err e = { 0 };

	assert_int_equal(remind_offsets_parse(text, &o, &e), MC_OK);
	return o;
}

static void
test_parse(void **state)
{
	static const char *const bad[] = {
		"", " ", ",", "5,", ",5", "5,,6", "0", "10081", "-5", "5x", "abc", "5 6",
		"1,2,3,4,5,6", "5, 5", "60,5,60", "99999999999999999999",
	};
	struct remind_offsets o;
	struct err e = { 0 };
	char buf[64];
	size_t i;

	(void)state;
	o = offs("5");
	assert_int_equal(o.n, 1);
	assert_int_equal(o.m[0], 5);
	o = offs(" 5 , 1440,60 ");
	assert_int_equal(o.n, 3);
	assert_int_equal(o.m[0], 1440);
	assert_int_equal(o.m[1], 60);
	assert_int_equal(o.m[2], 5);
	o = offs("1, 10080, 2, 3, 4");
	assert_int_equal(o.n, 5);
	remind_offsets_format(&o, buf, sizeof buf);
	assert_string_equal(buf, "10080, 4, 3, 2, 1");
	o = offs("1440,60,5");
	remind_offsets_format(&o, buf, sizeof buf);
	assert_string_equal(buf, "1440, 60, 5");
	remind_offsets_format(&o, buf, 8);
	assert_string_equal(buf, "1440, 6");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		if (remind_offsets_parse(bad[i], &o, &e) != MC_ERR_CONFIG)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(e.kind, MC_ERR_CONFIG);
		assert_true(e.msg[0] != '\0');
	}
	remind_offsets_parse("5,5", &o, &e);
	assert_string_equal(e.msg, "5 minutes is given twice");
	remind_offsets_parse("10081", &o, &e);
	assert_string_equal(e.msg, "'10081' is not a number of minutes in 1-10080");
	remind_offsets_parse("1,2,3,4,5,6", &o, &e);
	assert_string_equal(e.msg, "at most 5 reminders");
}

/* The offset due at now (0 = none) and whether worded "started". */
static int64_t
due_at(const char *list, int64_t now, int64_t end, int *started)
{
	struct remind_offsets o = offs(list);

	return remind_offset_due(&o, S, end, now, started);
}

static void
test_windows(void **state)
{
	int st = -1;

	(void)state;
	assert_int_equal(due_at("1440,60,5", S - 1440 * MIN - 1, END, &st), 0);
	assert_int_equal(due_at("1440,60,5", S - 1440 * MIN, END, &st), 1440);
	assert_int_equal(st, 0);
	assert_int_equal(due_at("1440,60,5", S - 60 * MIN - 1, END, &st), 1440);
	assert_int_equal(due_at("1440,60,5", S - 60 * MIN, END, &st), 60);
	assert_int_equal(due_at("1440,60,5", S - 5 * MIN - 1, END, &st), 60);
	assert_int_equal(due_at("1440,60,5", S - 5 * MIN, END, &st), 5);
	assert_int_equal(due_at("1440,60,5", S - 1, END, &st), 5);
	assert_int_equal(st, 0);
	assert_int_equal(due_at("1440,60,5", S, END, &st), 5);
	assert_int_equal(st, 1);
	assert_int_equal(due_at("1440,60,5", S + 5 * MIN - 1, END, &st), 5);
	assert_int_equal(st, 1);
	assert_int_equal(due_at("1440,60,5", S + 5 * MIN, END, &st), 0);
	assert_int_equal(st, 0);
	/* The smallest one never once the conference is over. */
	assert_int_equal(due_at("1440,60,5", S + 2 * MIN - 1, S + 2 * MIN, &st), 5);
	assert_int_equal(due_at("1440,60,5", S + 2 * MIN, S + 2 * MIN, &st), 0);
	/* One offset: today's single ping. */
	assert_int_equal(due_at("5", S - 5 * MIN - 1, END, &st), 0);
	assert_int_equal(due_at("5", S - 5 * MIN, END, &st), 5);
	assert_int_equal(due_at("5", S + 5 * MIN - 1, END, &st), 5);
	assert_int_equal(due_at("5", S + 5 * MIN, END, &st), 0);
	/* A week ahead. */
	assert_int_equal(due_at("10080,1", S - 10080 * MIN, END, &st), 10080);
	assert_int_equal(due_at("10080,1", S - 1 * MIN, END, &st), 1);
}

static struct remind_due
plan(const struct remind_state *r, const char *list, int64_t now, int *any)
{
	struct remind_offsets o = offs(list);
	struct remind_due d;

	*any = remind_plan(r, &o, S, END, now, &d);
	assert_int_equal(*any, d.unpost_old || d.post || d.unpost);
	return d;
}

static void
test_late_runs(void **state)
{
	struct remind_state r = { 0 };
	struct remind_due d;
	int any;

	(void)state;
	/* At 50 minutes before: the 60-minute one, never the day-before one. */
	d = plan(&r, "1440,60,5", S - 50 * MIN, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 60);
	assert_false(d.started);
	/* Just before the hour: still the day-before one. */
	d = plan(&r, "1440,60,5", S - 60 * MIN - 1, &any);
	assert_int_equal(d.offset, 1440);
	/* The first run after the start: the smallest, "started". */
	d = plan(&r, "1440,60,5", S + 3 * MIN, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 5);
	assert_true(d.started);
	/* Too late for any. */
	d = plan(&r, "1440,60,5", S + 5 * MIN, &any);
	assert_false(any);
}

static void
test_sent_once(void **state)
{
	struct remind_state r = { .sent = 60, .sent_at = S - 60 * MIN + 30, .id = "2000" };
	struct remind_due d;
	int any;

	(void)state;
	/* 60 sent: nothing until 5 is due, which replaces it. */
	d = plan(&r, "1440,60,5", S - 30 * MIN, &any);
	assert_false(any);
	d = plan(&r, "1440,60,5", S - 5 * MIN, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 5);
	assert_false(d.moved);
	/* The list changed: 90 is at or above what was sent, never late;
	 * 30 comes. */
	d = plan(&r, "120,90,30", S - 45 * MIN, &any);
	assert_false(any);
	d = plan(&r, "120,90,30", S - 30 * MIN, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 30);
	/* Only 60 left in the list: already sent, never again. */
	d = plan(&r, "60", S - 10 * MIN, &any);
	assert_false(any);
	d = plan(&r, "60", S + 10 * MIN, &any);
	assert_false(any);
	/* A list with only larger offsets: nothing. */
	d = plan(&r, "1440", S - 2 * MIN, &any);
	assert_false(any);
}

static void
test_moved(void **state)
{
	/* 60 sent an hour before; then Moodle moved it a day later. */
	struct remind_state r = { .sent = 60, .sent_at = S - 24 * 60 * MIN - 60 * MIN, .id = "2000" };
	struct remind_due d;
	int any;

	(void)state;
	assert_true(remind_moved(&r, S));
	d = plan(&r, "1440,60,5", S - 60 * MIN, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 60);
	assert_true(d.moved);
	/* Moved earlier: not moved, nothing sent twice. */
	r.sent_at = S + 60 * MIN - 60 * MIN;
	assert_false(remind_moved(&r, S));
	d = plan(&r, "1440,60,5", S - 30 * MIN, &any);
	assert_false(any);
	/* A late "started" reminder is not taken as moved. */
	r.sent = 5;
	r.sent_at = S + 4 * MIN;
	assert_false(remind_moved(&r, S));
	/* The exact boundary: posted at the first second of its window. */
	r.sent = 60;
	r.sent_at = S - 60 * MIN;
	assert_false(remind_moved(&r, S));
	r.sent_at = S - 60 * MIN - 1;
	assert_true(remind_moved(&r, S));
}

static void
test_claims_and_cleanup(void **state)
{
	struct remind_state r = { .claim = 60, .claim_at = S - 50 * MIN };
	struct remind_due d;
	int any;

	(void)state;
	d = plan(&r, "1440,60,5", S - 50 * MIN + REMIND_STALE_CLAIM, &any);
	assert_false(any);
	d = plan(&r, "1440,60,5", S - 50 * MIN + REMIND_STALE_CLAIM + 1, &any);
	assert_true(d.post);
	assert_int_equal(d.offset, 60);
	/* A replaced reminder still standing is deleted first, even done. */
	memset(&r, 0, sizeof r);
	memcpy(r.old_id, "1999", 5);
	memcpy(r.id, "2000", 5);
	r.sent = 60;
	r.sent_at = S - 60 * MIN;
	d = plan(&r, "1440,60,5", S - 30 * MIN, &any);
	assert_true(d.unpost_old);
	assert_false(d.post);
	assert_false(d.unpost);
	/* Over: the standing one is deleted; no post even if one would be due. */
	d = plan(&r, "1440,60,5", END, &any);
	assert_true(d.unpost);
	assert_false(d.post);
	r.done = 1;
	d = plan(&r, "1440,60,5", END, &any);
	assert_true(d.unpost_old);
	assert_false(d.unpost);
	r.old_id[0] = '\0';
	d = plan(&r, "1440,60,5", END + 1, &any);
	assert_false(any);
	/* Over with nothing standing: nothing. */
	memset(&r, 0, sizeof r);
	d = plan(&r, "1440,60,5", END, &any);
	assert_false(any);
}

static void
test_from_schema_1(void **state)
{
	struct remind_state r = { 0 };
	struct remind_due d;
	int any;

	(void)state;
	assert_int_equal(remind_sent_offset(S, S - 180), 3);
	assert_int_equal(remind_sent_offset(S, S - 181), 4);
	assert_int_equal(remind_sent_offset(S, S - 60), 1);
	assert_int_equal(remind_sent_offset(S, S + 30), 1);
	assert_int_equal(remind_sent_offset(S, S - 20000 * MIN), REMIND_MINUTES_MAX);
	/* The single ping of a schema-1 state, sent 3 minutes before with
	 * ping_minutes = 5: not sent again, nor taken as moved. */
	r.sent = remind_sent_offset(S, S - 180);
	r.sent_at = S - 180;
	memcpy(r.id, "2000", 5);
	assert_false(remind_moved(&r, S));
	d = plan(&r, "5", S - 120, &any);
	assert_false(any);
	d = plan(&r, "1440,60,5", S + 60, &any);
	assert_false(any);
	d = plan(&r, "5", END, &any);
	assert_true(d.unpost);
}

/* Every minute (and the second before each) from 8 days before to after
 * the end, each run doing what is planned: each offset posted once, in
 * order, each replacing the one before, the last deleted at the end. */
static void
test_a_week_of_runs(void **state)
{
	static const char *const lists[] = { "1440,60,5", "10080,1440,60,15,5", "5", "30,1" };
	size_t k;

	(void)state;
	for (k = 0; k < sizeof lists / sizeof lists[0]; k++) {
		struct remind_offsets o = offs(lists[k]);
		struct remind_state r = { 0 };
		int64_t posted[16], now;
		size_t nposted = 0, deletes = 0, i;
		int next_id = 1000;

		for (now = S - 8 * 1440 * MIN; now < END + 120 * MIN; now += 30) {
			struct remind_due d;

			if (!remind_plan(&r, &o, S, END, now, &d))
				continue;
			assert_false(d.post && d.unpost);
			if (d.unpost_old) {
				r.old_id[0] = '\0';
				deletes++;
			}
			if (d.post) {
				assert_true(nposted < 16);
				posted[nposted++] = d.offset;
				assert_true(now >= S - d.offset * MIN);
				assert_int_equal(d.started, now >= S);
				/* The post is recorded; the one it replaces
				 * becomes old_id, deleted in the same run. */
				memcpy(r.old_id, r.id, sizeof r.id);
				snprintf(r.id, sizeof r.id, "%d", next_id++);
				r.sent = d.offset;
				r.sent_at = now;
				if (r.old_id[0] != '\0') {
					r.old_id[0] = '\0';
					deletes++;
				}
			}
			if (d.unpost) {
				assert_true(now >= END);
				r.id[0] = '\0';
				r.done = 1;
				deletes++;
			}
		}
		assert_int_equal(nposted, o.n);
		for (i = 0; i < o.n; i++)
			assert_int_equal(posted[i], o.m[i]);
		assert_int_equal(deletes, o.n);
		assert_true(r.done);
		assert_string_equal(r.id, "");
	}
}

static void
test_window(void **state)
{
	struct remind_offsets o = offs("1440,60,5"), none = { 0 };
	int64_t from, to;

	(void)state;
	remind_window(&o, 90, S, &from, &to);
	assert_int_equal(from, S - 24 * 3600);
	assert_int_equal(to, S + 1440 * MIN + 1);
	remind_window(&o, 1500, S, &from, &to);
	assert_int_equal(from, S - (1500 + 5) * MIN);
	remind_window(&none, 90, S, &from, &to);
	assert_int_equal(from, S - 24 * 3600);
	assert_int_equal(to, S + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_late_runs),
		cmocka_unit_test(test_sent_once),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_claims_and_cleanup),
		cmocka_unit_test(test_from_schema_1),
		cmocka_unit_test(test_a_week_of_runs),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
