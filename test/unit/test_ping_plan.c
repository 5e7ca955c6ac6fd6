/* ping_plan: the reminder windows of stored records (one offset: the
 * ping and missed-run windows of earlier releases, unchanged), stale
 * claims, several offsets, a moved conference, the cleanup when over. */
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

static const struct remind_offsets five = { 1, { PMIN } };

enum { NOTHING = -1, PING, STARTED, DELETE };

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
	if (ping == PING_SENT || ping == PING_DONE) {
		memcpy(r.msg.ping_id, "1100000000000000001", 20);
		r.msg.ping_offset = PMIN;
		r.msg.ping_sent_at = ping_at;
	}
	record_list_push(&l, &r);
	return l;
}

/* One record's step as a code; the plan with offsets o. */
static int
code_of(const struct ping_plan *p, size_t i)
{
	const struct remind_due *d = &p->v[i].due;

	if (d->unpost)
		return DELETE;
	if (d->post)
		return d->started ? STARTED : PING;
	return NOTHING;
}

/* The plan for one record at now, with ping_minutes = 5. */
static int
kind_at(int64_t now, int64_t duration, enum ping_state ping, int64_t ping_at)
{
	struct record_list l = one(S, duration, ping, ping_at);
	const struct remind_offsets *offs[1] = { &five };
	struct ping_plan p;
	int k;

	ping_plan_make(&l, offs, now, MMIN, &p);
	assert_true(p.n <= 1);
	if (p.n == 0) {
		assert_null(p.v);
		k = NOTHING;
	} else {
		assert_int_equal(p.v[0].rec, 0);
		k = code_of(&p, 0);
	}
	ping_plan_free(&p);
	record_list_free(&l);
	return k;
}

static void
test_ping_window(void **state)
{
	(void)state;
	assert_int_equal(kind_at(S - LEAD - 3600, 0, PING_NONE, 0), NOTHING);
	assert_int_equal(kind_at(S - LEAD - 1, 0, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S - LEAD, 0, PING_NONE, 0), PING);
	assert_int_equal(kind_at(S - 240, 0, PING_NONE, 0), PING);
	assert_int_equal(kind_at(S - 1, 0, PING_NONE, 0), PING);
}

static void
test_missed_run(void **state)
{
	(void)state;
	assert_int_equal(kind_at(S, 0, PING_NONE, 0), STARTED);
	assert_int_equal(kind_at(S + 1, 0, PING_NONE, 0), STARTED);
	assert_int_equal(kind_at(S + LEAD - 1, 0, PING_NONE, 0), STARTED);
	assert_int_equal(kind_at(S + LEAD, 0, PING_NONE, 0), -1);
	assert_int_equal(kind_at(S + LEAD + 3600, 0, PING_NONE, 0), -1);
}

static void
test_missed_run_over(void **state)
{
	(void)state;
	/* A 2-minute conference: a missed run pings while it lasts, not after. */
	assert_int_equal(kind_at(S + 119, 120, PING_NONE, 0), STARTED);
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
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM - 1), PING);
	/* a stale claim in the missed-run window: pinged, worded "started" */
	now = S + 200;
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM), -1);
	assert_int_equal(kind_at(now, 0, PING_CLAIMED, now - PROTOCOL_STALE_CLAIM - 1),
	    STARTED);
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
	assert_int_equal(kind_at(end, 0, PING_SENT, S - 60), DELETE);
	assert_int_equal(kind_at(end + 86400, 0, PING_SENT, S - 60), DELETE);
	/* duration from Moodle wins over meeting_minutes */
	assert_int_equal(kind_at(S + 1799, 1800, PING_SENT, S - 60), -1);
	assert_int_equal(kind_at(S + 1800, 1800, PING_SENT, S - 60), DELETE);
	/* an over conference whose ping is done, none or claimed: nothing */
	assert_int_equal(kind_at(end, 0, PING_DONE, S - 60), -1);
	assert_int_equal(kind_at(end, 0, PING_NONE, 0), -1);
}

static void
test_route_gone(void **state)
{
	struct record_list l = one(S, 0, PING_NONE, 0);
	const struct remind_offsets *offs[1] = { NULL };
	struct ping_plan p;
	int64_t now;

	(void)state;
	/* a record whose route is not in the config: left to sync */
	for (now = S - 2; now <= S + MMIN * 60 + 2; now += 60) {
		ping_plan_make(&l, offs, now, MMIN, &p);
		assert_int_equal(p.n, 0);
		ping_plan_free(&p);
	}
	record_list_free(&l);
}

/* A record kept only for its scheduled event (its conference gone from
 * Moodle, its message deleted, hash MESSAGE_GONE_HASH) gets no reminder,
 * neither before nor after its start; the same record not gone does. */
static void
test_gone_record(void **state)
{
	struct record_list l = one(S, 0, PING_NONE, 0);
	const struct remind_offsets *offs[1] = { &five };
	struct ping_plan p;
	int64_t now;

	(void)state;
	memcpy(l.v[0].msg.sevent_id, "1200000000000000001", 20);
	ping_plan_make(&l, offs, S - 60, MMIN, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(code_of(&p, 0), PING);
	ping_plan_free(&p);
	memcpy(l.v[0].msg.hash, MESSAGE_GONE_HASH, sizeof MESSAGE_GONE_HASH);
	for (now = S - LEAD - 60; now <= S + MMIN * 60 + 60; now += 30) {
		ping_plan_make(&l, offs, now, MMIN, &p);
		assert_int_equal(p.n, 0);
		ping_plan_free(&p);
	}
	/* one whose reminder was posted before it went: no delete either
	 * (sync deletes that reminder with the conference's message) */
	l.v[0].msg.ping = PING_SENT;
	memcpy(l.v[0].msg.ping_id, "1100000000000000001", 20);
	l.v[0].msg.ping_offset = PMIN;
	l.v[0].msg.ping_sent_at = S - LEAD;
	ping_plan_make(&l, offs, S + MMIN * 60 + 60, MMIN, &p);
	assert_int_equal(p.n, 0);
	ping_plan_free(&p);
	record_list_free(&l);
}

static void
test_many(void **state)
{
	struct record_list l = { 0 };
	struct ping_plan p;
	const struct remind_offsets **offs;
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
		if (in[i].ping == PING_SENT) {
			memcpy(r.msg.ping_id, "1100000000000000001", 20);
			r.msg.ping_offset = PMIN;
			r.msg.ping_sent_at = in[i].at;
		}
		record_list_push(&l, &r);
	}
	offs = xcalloc(l.n, sizeof *offs);
	for (i = 0; i < l.n; i++)
		offs[i] = &five;
	ping_plan_make(&l, offs, now, MMIN, &p);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.v[0].rec, 3);
	assert_int_equal(code_of(&p, 0), STARTED);
	assert_int_equal(p.v[1].rec, 5);
	assert_int_equal(code_of(&p, 1), PING);
	assert_int_equal(p.v[2].rec, 6);
	assert_int_equal(code_of(&p, 2), PING);
	assert_int_equal(p.v[3].rec, 0);
	assert_int_equal(code_of(&p, 3), DELETE);
	assert_int_equal(p.v[4].rec, 2);
	assert_int_equal(code_of(&p, 4), DELETE);
	ping_plan_free(&p);
	assert_null(p.v);
	assert_int_equal(p.n, 0);
	free(offs);

	/* empty list: nothing, no allocation */
	record_list_free(&l);
	ping_plan_make(&l, NULL, now, MMIN, &p);
	assert_int_equal(p.n, 0);
	assert_null(p.v);
	ping_plan_free(&p);
}

/* The plan of one record at now: its due. */
static struct remind_due
due_at(const struct record_list *l, int64_t now, const struct remind_offsets *o)
{
	const struct remind_offsets *offs[1] = { o };
	struct remind_due d = { 0 };
	struct ping_plan p;

	ping_plan_make(l, offs, now, MMIN, &p);
	if (p.n == 1)
		d = p.v[0].due;
	ping_plan_free(&p);
	return d;
}

static void
test_moved(void **state)
{
	struct record_list l;
	struct remind_due d;

	(void)state;
	/* pinged a second before its window: sent for an earlier start */
	l = one(S, 0, PING_SENT, S - LEAD - 1);
	d = due_at(&l, S - 60, &five);
	assert_true(d.post && d.moved && !d.started);
	d = due_at(&l, S + 60, &five);
	assert_true(d.post && d.moved && d.started);
	/* outside its new window: nothing yet, or nothing any more */
	d = due_at(&l, S - LEAD - 1, &five);
	assert_false(d.post);
	d = due_at(&l, S + LEAD, &five);
	assert_false(d.post);
	record_list_free(&l);
	/* pinged at the first second of its window: not moved */
	l = one(S, 0, PING_SENT, S - LEAD);
	d = due_at(&l, S - 60, &five);
	assert_false(d.post);
	record_list_free(&l);
	/* done: nothing, moved or not */
	l = one(S, 0, PING_DONE, S - 86400);
	d = due_at(&l, S - 60, &five);
	assert_false(d.post || d.unpost || d.unpost_old);
	record_list_free(&l);
}

static void
test_several(void **state)
{
	const struct remind_offsets three = { 3, { 1440, 60, 5 } };
	struct record_list l;
	struct remind_due d;

	(void)state;
	/* the day-before one sent; at 50 minutes before: the hour one, which
	 * replaces it */
	l = one(S, 0, PING_SENT, S - 1440 * 60 + 10);
	l.v[0].msg.ping_offset = 1440;
	d = due_at(&l, S - 50 * 60, &three);
	assert_true(d.post);
	assert_int_equal(d.offset, 60);
	assert_false(d.moved);
	/* a replaced reminder not deleted yet: deleted first */
	memcpy(l.v[0].msg.ping_old, "1100000000000000000", 20);
	d = due_at(&l, S - 50 * 60, &three);
	assert_true(d.unpost_old && d.post);
	record_list_free(&l);
	/* a claimed record keeps its standing reminder as remind.h's id */
	l = one(S, 0, PING_CLAIMED, S - 10);
	memcpy(l.v[0].msg.ping_id, "1100000000000000001", 20);
	{
		struct remind_state st;

		ping_plan_state(&l.v[0].msg, &st);
		assert_string_equal(st.id, "1100000000000000001");
		assert_int_equal(st.claim, 1);
		assert_int_equal(st.claim_at, S - 10);
	}
	record_list_free(&l);
}

static void
test_claimable(void **state)
{
	struct message m = { 0 };

	(void)state;
	m.ping = PING_NONE;
	assert_int_equal(protocol_claimable(&m, S), 1);
	m.ping = PING_CLAIMED;
	m.ping_at = S - PROTOCOL_STALE_CLAIM;
	assert_int_equal(protocol_claimable(&m, S), 0);
	assert_int_equal(protocol_claimable(&m, S + 1), 1);
	/* a reminder sent: the next one may be claimed */
	m.ping = PING_SENT;
	assert_int_equal(protocol_claimable(&m, S + 86400), 1);
	m.ping = PING_DONE;
	assert_int_equal(protocol_claimable(&m, S + 86400), 0);
}

static void
test_window(void **state)
{
	int64_t from, to;

	(void)state;
	ping_plan_window(S, PMIN, PMIN, MMIN, &from, &to);
	assert_int_equal(from, S - 24 * 3600);
	/* store_load_window reads from <= start < to: start = now + lead is in */
	assert_int_equal(to, S + LEAD + 1);
	/* long meetings: the lookback covers meeting_minutes + the smallest */
	ping_plan_window(S, 1440, 10, 2000, &from, &to);
	assert_int_equal(from, S - (2000 + 10) * 60);
	assert_int_equal(to, S + 1440 * 60 + 1);
	/* every record the plan can pick lies in the window */
	ping_plan_window(S, PMIN, PMIN, MMIN, &from, &to);
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
		cmocka_unit_test(test_route_gone),
		cmocka_unit_test(test_gone_record),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_claimable),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
