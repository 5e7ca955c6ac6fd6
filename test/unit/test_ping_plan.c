/* ping_plan: the ping window, the missed-run window, stale claims and the
 * cleanup of ping messages, each at its boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ping_plan.h"

#define S     1700000000      /* the conference's start           */
#define PMIN  5               /* ping_minutes                     */
#define LEAD  (PMIN * 60)
#define MMIN  90              /* meeting_minutes                  */

static struct record_list
one(int64_t start, int64_t duration, enum ping_state ping, int64_t ping_at)
{
	struct record_list l = { 0 };
	struct record r = { 0 };

	r.ev.id = 42;
	r.ev.start = start;
	r.ev.duration = duration;
	r.msg.ping = ping;
	r.msg.ping_at = ping_at;
	if (ping == PING_SENT)
		memcpy(r.msg.ping_id, "1100000000000000001", 20);
	record_list_push(&l, &r);
	return l;
}

/* The plan for one record at now: -1 = nothing, else the ping_step_kind. */
static int
kind_at(int64_t now, int64_t duration, enum ping_state ping, int64_t ping_at)
{
	struct record_list l = one(S, duration, ping, ping_at);
	struct ping_plan p;
	int k;

	ping_plan_make(&l, now, PMIN, MMIN, &p);
	assert_true(p.n <= 1);
	if (p.n == 0) {
		assert_null(p.v);
		k = -1;
	} else {
		assert_int_equal(p.v[0].rec, 0);
		k = (int)p.v[0].kind;
		assert_int_equal(p.npings, k == STEP_DELETE_PING ? 0 : 1);
	}
	ping_plan_free(&p);
	record_list_free(&l);
	return k;
}

static void
test_ping_window(void **state)
{
	(void)state;
	assert_int_equal(kind_at(S - LEAD - 3600, 0, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S - LEAD - 1, 0, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S - LEAD, 0, PING_NONE, 0), STEP_PING);
	assert_int_equal(kind_at(S - 240, 0, PING_NONE, 0), STEP_PING);
	assert_int_equal(kind_at(S - 1, 0, PING_NONE, 0), STEP_PING);
}

static void
test_missed_run(void **state)
{
	(void)state;
	assert_int_equal(kind_at(S, 0, PING_NONE, 0), STEP_PING_STARTED);
	assert_int_equal(kind_at(S + 1, 0, PING_NONE, 0), STEP_PING_STARTED);
	assert_int_equal(kind_at(S + LEAD - 1, 0, PING_NONE, 0), STEP_PING_STARTED);
	assert_int_equal(kind_at(S + LEAD, 0, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S + LEAD + 3600, 0, PING_NONE, 0), -1);
}

static void
test_missed_run_over(void **state)
{
	(void)state;
	/* A 2-minute conference: a missed run pings while it lasts, not after. */
	assert_int_equal(kind_at(S + 119, 120, PING_NONE, 0), STEP_PING_STARTED);
	assert_int_equal(kind_at(S + 120, 120, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S + LEAD - 1, 120, PING_NONE, 0), -1);
}

static void
test_already_pinged(void **state)
{
	(void)state;
	assert_int_equal(kind_at(S - 60, 0, PING_SENT, S - 120), -1);
	assert_int_equal(kind_at(S + 60, 0, PING_SENT, S - 120), -1);
	assert_int_equal(kind_at(S - 60, 0, PING_DONE, S - 120), -1);
	assert_int_equal(kind_at(S + 60, 0, PING_DONE, 0), -1);
}

static void
test_claims(void **state)
{
	int64_t now = S - 60;

	(void)state;
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now), -1);
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - 1), -1);
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM), -1);
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM - 1), STEP_PING);
	/* a stale claim in the missed-run window: pinged, worded "started" */
	now = S + 200;
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM), -1);
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM - 1),
	    STEP_PING_STARTED);
	/* a stale claim outside both windows: nothing */
	now = S + LEAD;
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - 3600), -1);
	/* a fresh claim of an over conference is not a ping message to delete */
	assert_int_equal(kind_at(S + MMIN * 60, 0, PING_CLAIMED, S + MMIN * 60), -1);
}

static void
test_delete_when_over(void **state)
{
	int64_t end = S + MMIN * 60;

	(void)state;
	/* no duration from Moodle: meeting_minutes */
	assert_int_equal(kind_at(end - 1, 0, PING_SENT, S - 60), -1);
	assert_int_equal(kind_at(end, 0, PING_SENT, S - 60), STEP_DELETE_PING);
	assert_int_equal(kind_at(end + 86400, 0, PING_SENT, S - 60), STEP_DELETE_PING);
	/* duration from Moodle wins over meeting_minutes */
	assert_int_equal(kind_at(S + 1799, 1800, PING_SENT, S - 60), -1);
	assert_int_equal(kind_at(S + 1800, 1800, PING_SENT, S - 60), STEP_DELETE_PING);
	/* an over conference whose ping is done, none or claimed: nothing */
	assert_int_equal(kind_at(end, 0, PING_DONE, S - 60), -1);
	assert_int_equal(kind_at(end, 0, PING_NONE, 0), -1);
}

static void
test_zero_minutes(void **state)
{
	struct record_list l = one(S, 0, PING_NONE, 0);
	struct ping_plan p;
	int64_t now;

	(void)state;
	for (now = S - 2; now <= S + 2; now++) {
		ping_plan_make(&l, now, 0, MMIN, &p);
		assert_int_equal(p.n, 0);
		ping_plan_free(&p);
	}
	record_list_free(&l);
}

static void
test_many(void **state)
{
	struct record_list l = { 0 };
	struct ping_plan p;
	int64_t now = S;
	struct {
		int64_t start, duration;
		enum ping_state ping;
		int64_t at;
	} in[] = {
		{ S - 7200, 0, PING_SENT, S - 7500 },     /* 0: over -> delete       */
		{ S - 3600, 0, PING_SENT, S - 3700 },     /* 1: running, sent        */
		{ S - 3600, 1800, PING_SENT, S - 3700 },  /* 2: over by duration     */
		{ S - 100, 0, PING_NONE, 0 },             /* 3: missed -> started    */
		{ S - 50, 0, PING_CLAIMED, S - 10 },      /* 4: fresh claim          */
		{ S + 10, 0, PING_NONE, 0 },              /* 5: ping                 */
		{ S + LEAD, 0, PING_NONE, 0 },            /* 6: ping (first second)  */
		{ S + LEAD + 1, 0, PING_NONE, 0 },        /* 7: too early            */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		struct record r = { 0 };

		r.ev.id = (int64_t)i + 1;
		r.ev.start = in[i].start;
		r.ev.duration = in[i].duration;
		r.msg.ping = in[i].ping;
		r.msg.ping_at = in[i].at;
		record_list_push(&l, &r);
	}
	ping_plan_make(&l, now, PMIN, MMIN, &p);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.npings, 3);
	assert_int_equal(p.v[0].rec, 3);
	assert_int_equal(p.v[0].kind, STEP_PING_STARTED);
	assert_int_equal(p.v[1].rec, 5);
	assert_int_equal(p.v[1].kind, STEP_PING);
	assert_int_equal(p.v[2].rec, 6);
	assert_int_equal(p.v[2].kind, STEP_PING);
	assert_int_equal(p.v[3].rec, 0);
	assert_int_equal(p.v[3].kind, STEP_DELETE_PING);
	assert_int_equal(p.v[4].rec, 2);
	assert_int_equal(p.v[4].kind, STEP_DELETE_PING);
	ping_plan_free(&p);
	assert_null(p.v);
	assert_int_equal(p.n, 0);

	/* empty list: nothing, no allocation */
	record_list_free(&l);
	ping_plan_make(&l, now, PMIN, MMIN, &p);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	ping_plan_free(&p);
}

static void
test_moved(void **state)
{
	struct record_list l;
	struct ping_plan p;

	(void)state;
	/* pinged a second before its window: sent for an earlier start */
	l = one(S, 0, PING_SENT, S - LEAD - 1);
	assert_int_equal(ping_plan_moved(&l.v[0], PMIN), 1);
	ping_plan_make(&l, S - 60, PMIN, MMIN, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, STEP_PING);
	assert_int_equal(p.v[0].replace, 1);
	ping_plan_free(&p);
	ping_plan_make(&l, S + 60, PMIN, MMIN, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, STEP_PING_STARTED);
	assert_int_equal(p.v[0].replace, 1);
	ping_plan_free(&p);
	/* outside its new window: nothing yet, or nothing any more */
	ping_plan_make(&l, S - LEAD - 1, PMIN, MMIN, &p);
	assert_int_equal(p.n, 0);
	ping_plan_free(&p);
	ping_plan_make(&l, S + LEAD, PMIN, MMIN, &p);
	assert_int_equal(p.n, 0);
	ping_plan_free(&p);
	record_list_free(&l);
	/* pinged at the first second of its window: not moved */
	l = one(S, 0, PING_SENT, S - LEAD);
	assert_int_equal(ping_plan_moved(&l.v[0], PMIN), 0);
	ping_plan_make(&l, S - 60, PMIN, MMIN, &p);
	assert_int_equal(p.n, 0);
	ping_plan_free(&p);
	record_list_free(&l);
	/* only a sent ping can have moved */
	l = one(S, 0, PING_DONE, S - 86400);
	assert_int_equal(ping_plan_moved(&l.v[0], PMIN), 0);
	record_list_free(&l);
	l = one(S, 0, PING_CLAIMED, S - LEAD - 1);
	assert_int_equal(ping_plan_moved(&l.v[0], PMIN), 0);
	record_list_free(&l);
}

static void
test_single(void **state)
{
	struct record r = { 0 };
	enum ping_step_kind k = STEP_DELETE_PING;

	(void)state;
	r.ev.start = S;
	/* the window alone, whatever the ping state */
	r.msg.ping = PING_SENT;
	assert_int_equal(ping_plan_in_window(&r.ev, S - LEAD - 1, PMIN, MMIN, &k), 0);
	assert_int_equal(ping_plan_in_window(&r.ev, S - LEAD, PMIN, MMIN, &k), 1);
	assert_int_equal(k, STEP_PING);
	assert_int_equal(ping_plan_in_window(&r.ev, S, PMIN, MMIN, &k), 1);
	assert_int_equal(k, STEP_PING_STARTED);
	assert_int_equal(ping_plan_in_window(&r.ev, S + LEAD, PMIN, MMIN, &k), 0);
	/* unping: sent and over only */
	assert_int_equal(ping_plan_to_delete(&r, S + MMIN * 60 - 1, MMIN), 0);
	assert_int_equal(ping_plan_to_delete(&r, S + MMIN * 60, MMIN), 1);
	r.msg.ping = PING_DONE;
	assert_int_equal(ping_plan_to_delete(&r, S + MMIN * 60, MMIN), 0);
	/* claimable */
	r.msg.ping = PING_NONE;
	assert_int_equal(protocol_claimable(&r.msg, S), 1);
	r.msg.ping = PING_CLAIMED;
	r.msg.ping_at = S - PROTOCOL_STALE_CLAIM;
	assert_int_equal(protocol_claimable(&r.msg, S), 0);
	assert_int_equal(protocol_claimable(&r.msg, S + 1), 1);
	r.msg.ping = PING_SENT;
	assert_int_equal(protocol_claimable(&r.msg, S + 86400), 0);
}

static void
test_window(void **state)
{
	int64_t from, to;

	(void)state;
	ping_plan_window(S, PMIN, MMIN, &from, &to);
	assert_int_equal(from, S - PING_PLAN_MIN_LOOKBACK);
	/* store_load_window reads from <= start < to: start = now + lead is in */
	assert_int_equal(to, S + LEAD + 1);
	/* long meetings: the lookback covers meeting_minutes + ping_minutes */
	ping_plan_window(S, 10, 2000, &from, &to);
	assert_int_equal(from, S - (2000 + 10) * 60);
	assert_int_equal(to, S + 600 + 1);
	/* every record the plan can pick lies in the window */
	ping_plan_window(S, PMIN, MMIN, &from, &to);
	assert_true(from <= S - MMIN * 60);        /* just over: delete       */
	assert_true(from <= S - LEAD + 1);         /* last missed-run second  */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_window),
		cmocka_unit_test(test_missed_run),
		cmocka_unit_test(test_missed_run_over),
		cmocka_unit_test(test_already_pinged),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_delete_when_over),
		cmocka_unit_test(test_zero_minutes),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
