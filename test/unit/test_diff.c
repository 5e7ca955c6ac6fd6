/* diff: every rule of "Rules that decide what is posted" and its
 * boundaries, as a table of (wanted, stored, now) -> expected steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"

#define NOW  1700000000LL
#define MM   90               /* meeting_minutes */
#define MEET (MM * 60LL)

struct w_row {   /* a conference Moodle returns */
	int64_t id, start, dur;
	const char *name, *hash;
};

struct p_row {   /* a stored conference */
	int64_t id, start, dur;
	const char *name, *hash, *msg, *ping;
	int64_t missing;
};

struct x_row {   /* an expected step */
	enum diff_op op;
	int64_t id;
	const char *reason;  /* exact */
	int64_t missing;     /* of the record to store (KEEP/CREATE/EDIT) */
};

struct tcase {
	const char *what;
	int webhook_changed;
	struct w_row w[5];  /* id 0 ends */
	struct p_row p[5];
	struct x_row x[8];
	size_t forgotten;
};

static const struct tcase cases[] = {
	{ "nothing at all", 0, { { 0 } }, { { 0 } }, { { 0 } }, 0 },

	/* new conferences */
	{ "new future conference: create", 0,
	  { { 1, NOW + 3600, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "new, started, not over: create", 0,
	  { { 1, NOW - 60, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "new, exactly at start + meeting_minutes: over, never posted", 0,
	  { { 1, NOW - MEET, 0, "A", "h1" } }, { { 0 } }, { { 0 } }, 0 },
	{ "new, one second before start + meeting_minutes: create", 0,
	  { { 1, NOW - MEET + 1, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "new, exactly at start + duration: over", 0,
	  { { 1, NOW - 600, 600, "A", "h1" } }, { { 0 } }, { { 0 } }, 0 },
	{ "new, one second before start + duration: create", 0,
	  { { 1, NOW - 600, 601, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "duration given wins over meeting_minutes (long)", 0,
	  { { 1, NOW - MEET - 10, MEET + 11, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "new, a duration past the limits: not over, no overflow", 0,
	  { { 1, NOW - 60, INT64_MAX, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "new, a start near the limits: not over, no overflow", 0,
	  { { 1, INT64_MAX - 10, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },
	{ "repeated id from Moodle counts once", 0,
	  { { 1, NOW + 60, 0, "A", "h1" }, { 1, NOW + 60, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },

	/* stored and wanted */
	{ "unchanged: no step", 0,
	  { { 1, NOW + 3600, 0, "A", "h1" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } }, { { 0 } }, 0 },
	{ "moved: edit with the new time", 0,
	  { { 1, NOW + 7200, 0, "A", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_EDIT, 1, "time changed", 0 } }, 0 },
	{ "renamed: edit", 0,
	  { { 1, NOW + 3600, 0, "B", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_EDIT, 1, "renamed", 0 } }, 0 },
	{ "moved and renamed: one edit naming both", 0,
	  { { 1, NOW + 7200, 0, "B", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_EDIT, 1, "time changed, renamed", 0 } }, 0 },
	{ "hash differs, data equal (renderer changed): edit", 0,
	  { { 1, NOW + 3600, 0, "A", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_EDIT, 1, "message changed", 0 } }, 0 },
	{ "data changed, same body (duration): keep without a call", 0,
	  { { 1, NOW + 3600, 1800, "A", "h1" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_KEEP, 1, "details changed", 0 } }, 0 },
	{ "stored without a message (post failed before): create", 0,
	  { { 1, NOW + 3600, 0, "A", "h1" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "", "", 0 } },
	  { { DIFF_CREATE, 1, "not posted yet", 0 } }, 0 },
	{ "back in Moodle after missing once: counter reset, no call", 0,
	  { { 1, NOW + 3600, 0, "A", "h1" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 1 } },
	  { { DIFF_KEEP, 1, "back in Moodle", 0 } }, 0 },
	{ "back in Moodle and moved: edit resets the counter", 0,
	  { { 1, NOW + 7200, 0, "A", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 1 } },
	  { { DIFF_EDIT, 1, "time changed", 0 } }, 0 },
	{ "stored, exactly over: delete", 0,
	  { { 1, NOW - MEET, 0, "A", "h1" } },
	  { { 1, NOW - MEET, 0, "A", "h1", "m1", "p1", 0 } },
	  { { DIFF_DELETE, 1, "over", 0 } }, 0 },
	{ "stored, one second before over: no step", 0,
	  { { 1, NOW - MEET + 1, 0, "A", "h1" } },
	  { { 1, NOW - MEET + 1, 0, "A", "h1", "m1", "p1", 0 } }, { { 0 } }, 0 },
	{ "stored, over by its duration: delete", 0,
	  { { 1, NOW - 60, 60, "A", "h1" } },
	  { { 1, NOW - 60, 60, "A", "h1", "m1", "", 0 } },
	  { { DIFF_DELETE, 1, "over", 0 } }, 0 },
	{ "stored without message, over: forget", 0,
	  { { 1, NOW - MEET, 0, "A", "h1" } },
	  { { 1, NOW - MEET, 0, "A", "h1", "", "", 0 } },
	  { { DIFF_FORGET, 1, "over", 0 } }, 0 },
	{ "moved into the past beyond its end: delete", 0,
	  { { 1, NOW - 2 * MEET, 0, "A", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_DELETE, 1, "over", 0 } }, 0 },

	/* stored, no longer returned by Moodle */
	{ "gone, future, first time: keep, missing 1", 0,
	  { { 0 } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_KEEP, 1, "gone from Moodle once", 1 } }, 0 },
	{ "gone, future, second time in a row: delete", 0,
	  { { 0 } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "", 1 } },
	  { { DIFF_DELETE, 1, "gone from Moodle two syncs in a row", 0 } }, 0 },
	{ "gone twice, never posted: forget", 0,
	  { { 0 } },
	  { { 1, NOW + 3600, 0, "A", "h1", "", "", 1 } },
	  { { DIFF_FORGET, 1, "gone from Moodle two syncs in a row", 0 } }, 0 },
	/* a started conference is not over: one empty answer keeps it */
	{ "gone, started exactly now, not over: keep, missing 1", 0,
	  { { 0 } },
	  { { 1, NOW, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_KEEP, 1, "gone from Moodle once", 1 } }, 0 },
	{ "gone, started, its ping sent, not over: keep, missing 1", 0,
	  { { 0 } },
	  { { 1, NOW - 60, 0, "A", "h1", "m1", "p1", 0 } },
	  { { DIFF_KEEP, 1, "gone from Moodle once", 1 } }, 0 },
	{ "gone, started, missing once already: delete", 0,
	  { { 0 } },
	  { { 1, NOW - 60, 0, "A", "h1", "m1", "p1", 1 } },
	  { { DIFF_DELETE, 1, "gone from Moodle two syncs in a row", 0 } }, 0 },
	{ "gone, exactly at start + meeting_minutes: over, delete", 0,
	  { { 0 } },
	  { { 1, NOW - MEET, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_DELETE, 1, "over", 0 } }, 0 },
	{ "gone, starts in one second: still future, keep", 0,
	  { { 0 } },
	  { { 1, NOW + 1, 0, "A", "h1", "m1", "", 0 } },
	  { { DIFF_KEEP, 1, "gone from Moodle once", 1 } }, 0 },
	{ "gone and over, never posted: forget", 0,
	  { { 0 } },
	  { { 1, NOW - MEET - 10, 0, "A", "h1", "", "", 0 } },
	  { { DIFF_FORGET, 1, "over", 0 } }, 0 },
	{ "gone and over, only a ping message: delete (the ping)", 0,
	  { { 0 } },
	  { { 1, NOW - MEET - 10, 0, "A", "h1", "", "p1", 0 } },
	  { { DIFF_DELETE, 1, "over", 0 } }, 0 },

	/* a new webhook */
	{ "webhook changed: forget every id, post anew, no delete call", 1,
	  { { 1, NOW + 3600, 0, "A", "h1" }, { 2, NOW - MEET, 0, "B", "h2" } },
	  { { 1, NOW + 3600, 0, "A", "h1", "m1", "p1", 0 },
	    { 2, NOW - MEET, 0, "B", "h2", "m2", "", 0 },
	    { 3, NOW - 5, 0, "C", "h3", "m3", "", 0 },
	    { 4, NOW + 60, 0, "D", "h4", "m4", "", 0 },
	    { 5, NOW + 90, 0, "E", "h5", "m5", "", 1 } },
	  { { DIFF_FORGET, 2, "over", 0 },
	    { DIFF_KEEP, 3, "gone from Moodle once", 1 },
	    { DIFF_KEEP, 4, "gone from Moodle once", 1 },
	    { DIFF_FORGET, 5, "gone from Moodle two syncs in a row", 0 },
	    { DIFF_KEEP, 1, "new webhook: old message forgotten", 0 },
	    { DIFF_CREATE, 1, "new webhook", 0 } }, 5 },
	{ "webhook changed, nothing stored: plain creates", 1,
	  { { 1, NOW + 3600, 0, "A", "h1" } }, { { 0 } },
	  { { DIFF_CREATE, 1, "new", 0 } }, 0 },

	/* order: no-call steps, deletes, edits, creates; each by start, id */
	{ "order of the plan", 0,
	  { { 10, NOW + 500, 0, "new late", "n10" },
	    { 11, NOW + 100, 0, "new early", "n11" },
	    { 12, NOW + 100, 0, "new early too", "n12" },
	    { 20, NOW + 900, 0, "edited", "e20" },
	    { 21, NOW + 50, 0, "edited early", "e21" } },
	  { { 20, NOW + 900, 0, "edited", "old", "m20", "", 0 },
	    { 21, NOW + 50, 0, "edited early", "old", "m21", "", 0 },
	    { 30, NOW + 800, 0, "gone", "h", "m30", "", 1 },
	    { 31, NOW - 5, 0, "started gone", "h", "m31", "", 0 },
	    { 32, NOW + 10, 0, "missing once", "h", "m32", "", 0 } },
	  { { DIFF_KEEP, 31, "gone from Moodle once", 1 },
	    { DIFF_KEEP, 32, "gone from Moodle once", 1 },
	    { DIFF_DELETE, 30, "gone from Moodle two syncs in a row", 0 },
	    { DIFF_EDIT, 21, "message changed", 0 },
	    { DIFF_EDIT, 20, "message changed", 0 },
	    { DIFF_CREATE, 11, "new", 0 },
	    { DIFF_CREATE, 12, "new", 0 },
	    { DIFF_CREATE, 10, "new", 0 } }, 0 },
};

static void
make_event(struct event *ev, int64_t id, int64_t start, int64_t dur, const char *name)
{
	memset(ev, 0, sizeof *ev);
	ev->id = id;
	ev->course_id = 7;
	ev->course_short = xstrdup("RM101");
	ev->course_name = xstrdup("Research Methods");
	ev->name = xstrdup(name);
	ev->module = xstrdup("bigbluebuttonbn");
	ev->cmid = id + 100;
	ev->url = xasprintf("https://m.example/mod/bigbluebuttonbn/view.php?id=%lld", (long long)id + 100);
	ev->site_name = xstrdup("Example");
	ev->start = start;
	ev->duration = dur;
}

static const struct p_row *
find_prev(const struct tcase *tc, int64_t id)
{
	size_t i;

	for (i = 0; i < 5 && tc->p[i].id; i++)
		if (tc->p[i].id == id)
			return &tc->p[i];
	return NULL;
}

static const struct w_row *
find_want(const struct tcase *tc, int64_t id)
{
	size_t i;

	for (i = 0; i < 5 && tc->w[i].id; i++)
		if (tc->w[i].id == id)
			return &tc->w[i];
	return NULL;
}

/* The stored record of id in prev, or NULL. */
static const struct record *
stored_of(const struct record_list *prev, int64_t id)
{
	size_t i;

	for (i = 0; prev != NULL && i < prev->n; i++)
		if (prev->v[i].ev.id == id)
			return &prev->v[i];
	return NULL;
}

/* What step i of plan stores, with its reason, as apply makes them from
 * the snapshot prev (nothing applied yet). */
struct view {
	struct diff_step s;
	struct record rec;
	char reason[96];
};

static void
view_of(const struct diff_plan *plan, size_t i, const struct record_list *prev, struct view *v)
{
	const struct record *p = stored_of(prev, plan->v[i].id);

	v->s = plan->v[i];
	diff_step_record(plan, &plan->v[i], p, &v->rec);
	diff_step_reason(plan, &plan->v[i], p, v->reason, sizeof v->reason);
}

static void
run_case(const struct tcase *tc)
{
	struct event wev[5];
	struct diff_want want[5];
	struct record_list prev = { 0 };
	struct diff_settings set = { .meeting_minutes = MM, .webhook_changed = tc->webhook_changed };
	struct diff_plan plan;
	size_t nw = 0, nx = 0, i;
	size_t nc = 0, ne = 0, nd = 0;

	for (i = 0; i < 5 && tc->w[i].id; i++) {
		make_event(&wev[i], tc->w[i].id, tc->w[i].start, tc->w[i].dur, tc->w[i].name);
		want[i].ev = &wev[i];
		want[i].route = "";
		snprintf(want[i].hash, sizeof want[i].hash, "%s", tc->w[i].hash);
		nw++;
	}
	for (i = 0; i < 5 && tc->p[i].id; i++) {
		struct record r = { 0 };

		make_event(&r.ev, tc->p[i].id, tc->p[i].start, tc->p[i].dur, tc->p[i].name);
		r.ev.missing = tc->p[i].missing;
		snprintf(r.msg.hash, sizeof r.msg.hash, "%s", tc->p[i].hash);
		snprintf(r.msg.msg_id, sizeof r.msg.msg_id, "%s", tc->p[i].msg);
		snprintf(r.msg.ping_id, sizeof r.msg.ping_id, "%s", tc->p[i].ping);
		if (tc->p[i].ping[0] != '\0') {
			r.msg.ping = PING_SENT;
			r.msg.ping_at = tc->p[i].start - 300;
		}
		record_list_push(&prev, &r);
	}
	for (nx = 0; nx < 8 && tc->x[nx].id; nx++)
		;

	diff_compute(want, nw, &prev, NOW, &set, &plan);

	if (plan.n != nx) {
		for (i = 0; i < plan.n; i++) {
			struct view v;

			view_of(&plan, i, &prev, &v);
			print_message("  got %s %lld (%s)\n", diff_op_name(plan.v[i].op),
			    (long long)plan.v[i].id, v.reason);
			event_free(&v.rec.ev);
		}
		fail_msg("%s: %zu steps, expected %zu", tc->what, plan.n, nx);
	}
	for (i = 0; i < nx; i++) {
		struct view v, *st = &v;
		const struct x_row *x = &tc->x[i];
		const struct p_row *p = find_prev(tc, x->id);
		const struct w_row *w = find_want(tc, x->id);

		view_of(&plan, i, &prev, &v);
		if (st->s.op != x->op || st->s.id != x->id || st->rec.ev.id != x->id ||
		    strcmp(st->reason, x->reason) != 0)
			fail_msg("%s: step %zu is %s %lld (%s), expected %s %lld (%s)", tc->what, i,
			    diff_op_name(st->s.op), (long long)st->s.id, st->reason,
			    diff_op_name(x->op), (long long)x->id, x->reason);
		switch ((enum diff_op)st->s.op) {
		case DIFF_CREATE:
			nc++;
			assert_non_null(w);
			assert_string_equal(st->rec.msg.msg_id, "");
			assert_string_equal(st->rec.msg.hash, w->hash);
			assert_int_equal(st->rec.ev.start, w->start);
			assert_string_equal(st->rec.ev.name, w->name);
			assert_int_equal(st->rec.ev.missing, 0);
			break;
		case DIFF_EDIT:
			ne++;
			assert_non_null(w);
			assert_non_null(p);
			assert_string_equal(st->rec.msg.msg_id, p->msg);
			assert_string_equal(st->rec.msg.hash, w->hash);
			assert_int_equal(st->rec.ev.start, w->start);
			assert_string_equal(st->rec.ev.name, w->name);
			assert_int_equal(st->rec.ev.missing, 0);
			break;
		case DIFF_DELETE:
			nd++;
			assert_non_null(p);
			assert_false(tc->webhook_changed);
			assert_string_equal(st->rec.msg.msg_id, p->msg);
			assert_string_equal(st->rec.msg.ping_id, p->ping);
			break;
		case DIFF_KEEP:
			assert_non_null(p);
			assert_int_equal(st->rec.ev.missing, x->missing);
			if (!tc->webhook_changed)
				assert_string_equal(st->rec.msg.msg_id, p->msg);
			if (w)
				assert_int_equal(st->rec.ev.duration, w->dur);
			break;
		case DIFF_FORGET:
			assert_non_null(p);
			break;
		case DIFF_MOVE:
			fail_msg("%s: a move with one route", tc->what);
			break;
		}
		if (tc->webhook_changed) {
			assert_string_equal(st->rec.msg.msg_id, "");
			assert_string_equal(st->rec.msg.ping_id, "");
			assert_true(st->rec.msg.ping != PING_SENT);
		}
		event_free(&v.rec.ev);
	}
	assert_int_equal(plan.ncreate, nc);
	assert_int_equal(plan.nedit, ne);
	assert_int_equal(plan.ndelete, nd);
	assert_int_equal(plan.nforgotten, tc->forgotten);

	diff_plan_free(&plan);
	record_list_free(&prev);
	for (i = 0; i < nw; i++)
		event_free(&wev[i]);
}

static void
test_case(void **state)
{
	run_case(*state);
}

/* Applying a plan to the stored snapshot and diffing again against the
 * same Moodle answer must give no step: the plan converges. */
static void
test_converges(void **state)
{
	struct event wev[3];
	struct diff_want want[3];
	struct record_list prev = { 0 };
	struct diff_settings set = { .meeting_minutes = MM };
	struct diff_plan plan;
	size_t i, k;

	(void)state;
	make_event(&wev[0], 1, NOW + 100, 0, "A");
	make_event(&wev[1], 2, NOW + 200, 0, "B");
	make_event(&wev[2], 3, NOW - 100, 0, "C");
	for (i = 0; i < 3; i++) {
		want[i].ev = &wev[i];
		want[i].route = "";
		snprintf(want[i].hash, sizeof want[i].hash, "%016zx", i + 1);
	}
	for (k = 0; k < 2; k++) {
		diff_compute(want, 3, &prev, NOW, &set, &plan);
		if (k == 0) {
			assert_int_equal(plan.ncreate, 3);
			assert_int_equal(plan.v[0].id, 3);  /* earliest start first */
			for (i = 0; i < plan.n; i++) {
				struct record r = { 0 };

				diff_step_record(&plan, &plan.v[i], NULL, &r);
				snprintf(r.msg.msg_id, sizeof r.msg.msg_id, "9%zu", i);
				record_list_push(&prev, &r);
			}
		} else {
			assert_int_equal(plan.n, 0);
		}
		diff_plan_free(&plan);
	}
	/* Moodle returns nothing twice: first a keep of each, the started
	 * one too (one empty answer deletes nothing), then every one deleted. */
	diff_compute(NULL, 0, &prev, NOW, &set, &plan);
	assert_int_equal(plan.n, 3);
	assert_int_equal(plan.ndelete, 0);
	for (i = 0; i < plan.n; i++) {
		struct view v;

		view_of(&plan, i, &prev, &v);
		assert_int_equal(plan.v[i].op, DIFF_KEEP);
		assert_int_equal(v.rec.ev.missing, 1);
		event_free(&v.rec.ev);
	}
	for (i = 0; i < prev.n; i++)
		prev.v[i].ev.missing = 1;
	diff_plan_free(&plan);
	diff_compute(NULL, 0, &prev, NOW, &set, &plan);
	assert_int_equal(plan.ndelete, 3);
	diff_plan_free(&plan);

	record_list_free(&prev);
	for (i = 0; i < 3; i++)
		event_free(&wev[i]);
}

/* The plan as a merge: stored records given one at a time in id order
 * (as an LMDB cursor gives them), wanted ones in Moodle's order; wanted
 * ids before, between and after the stored ones are new; a stored record
 * out of order is ignored; the steps hold no record, only what names it. */
static void
test_merge(void **state)
{
	struct event wev[5];
	struct diff_want want[5];
	struct record st[4];
	struct diff_settings set = { .meeting_minutes = MM };
	struct diff_plan plan;
	static const int64_t wid[5] = { 9, 1, 5, 12, 5 };
	static const int64_t sid[4] = { 3, 5, 9, 4 };
	size_t i, ncreate = 0;

	(void)state;
	for (i = 0; i < 5; i++) {
		make_event(&wev[i], wid[i], NOW + 600 * (int64_t)(5 - i), 0, i == 4 ? "dup" : "W");
		want[i].ev = &wev[i];
		want[i].route = "";
		snprintf(want[i].hash, sizeof want[i].hash, "h%zu", i);
	}
	for (i = 0; i < 4; i++) {
		memset(&st[i], 0, sizeof st[i]);
		make_event(&st[i].ev, sid[i], NOW + 3600, 0, "W");
		snprintf(st[i].msg.msg_id, sizeof st[i].msg.msg_id, "%lld", (long long)(1000 + sid[i]));
		snprintf(st[i].msg.hash, sizeof st[i].msg.hash, "h%zu", i == 2 ? (size_t)0 : 9);
	}
	diff_begin(&plan, want, 5, NOW, &set);
	for (i = 0; i < 4; i++)
		diff_stored(&plan, &st[i]);   /* 4 after 9: out of order, ignored */
	diff_end(&plan);
	/* 1, 12 new; 5 edited (the first of the repeated 5 wins: hash h2);
	 * 9 the same (start differs: a keep); 3 missing once: a keep */
	for (i = 0; i < plan.n; i++) {
		const struct diff_step *s = &plan.v[i];
		const struct diff_want *w = diff_step_want(&plan, s);
		struct record rec;

		assert_true(s->id != 4);
		switch (s->id) {
		case 1:
		case 12:
			assert_int_equal(s->op, DIFF_CREATE);
			assert_non_null(w);
			assert_int_equal(w->ev->id, s->id);
			assert_int_equal(s->start, w->ev->start);
			ncreate++;
			break;
		case 5:
			assert_int_equal(s->op, DIFF_EDIT);
			assert_int_equal(s->want, 2);
			diff_step_record(&plan, s, &st[1], &rec);
			assert_string_equal(rec.msg.hash, "h2");
			assert_string_equal(rec.msg.msg_id, "1005");
			assert_string_equal(rec.ev.name, "W");
			event_free(&rec.ev);
			break;
		case 9:
			assert_int_equal(s->op, DIFF_KEEP);
			break;
		case 3:
			assert_int_equal(s->op, DIFF_KEEP);
			assert_int_equal(s->want, DIFF_NO_WANT);
			assert_null(w);
			assert_int_equal(s->start, NOW + 3600);
			diff_step_record(&plan, s, &st[0], &rec);
			assert_int_equal(rec.ev.missing, 1);
			assert_string_equal(rec.msg.msg_id, "1003");
			event_free(&rec.ev);
			break;
		default:
			fail_msg("a step for %lld", (long long)s->id);
		}
	}
	assert_int_equal(plan.n, 5);
	assert_int_equal(ncreate, 2);
	assert_int_equal(plan.ncreate, 2);
	assert_int_equal(plan.nedit, 1);
	/* in order: the keeps, then the edit, then the creates by start */
	assert_int_equal(plan.v[2].op, DIFF_EDIT);
	assert_int_equal(plan.v[3].id, 12);
	assert_int_equal(plan.v[4].id, 1);
	diff_plan_free(&plan);
	assert_null(plan.v);
	for (i = 0; i < 5; i++)
		event_free(&wev[i]);
	for (i = 0; i < 4; i++)
		event_free(&st[i].ev);
}

/* A new webhook: a keep that forgets the old ids, then a create.  Apply
 * makes the create's record from the record stored then (the keep
 * already written): the same as from the snapshot. */
static void
test_record_at_apply(void **state)
{
	struct event wev;
	struct diff_want want;
	struct record prev = { 0 }, kept, a, b;
	struct diff_settings set = { .meeting_minutes = MM, .webhook_changed = 1 };
	struct diff_plan plan;

	(void)state;
	make_event(&wev, 4, NOW + 600, 0, "A");
	want.ev = &wev;
	want.route = "";
	snprintf(want.hash, sizeof want.hash, "hnew");
	make_event(&prev.ev, 4, NOW + 600, 0, "A");
	snprintf(prev.msg.msg_id, sizeof prev.msg.msg_id, "1100");
	snprintf(prev.msg.ping_id, sizeof prev.msg.ping_id, "1200");
	prev.msg.ping = PING_SENT;
	snprintf(prev.msg.hash, sizeof prev.msg.hash, "hold");
	diff_begin(&plan, &want, 1, NOW, &set);
	diff_stored(&plan, &prev);
	diff_end(&plan);
	assert_int_equal(plan.n, 2);
	assert_int_equal(plan.nforgotten, 1);
	assert_int_equal(plan.v[0].op, DIFF_KEEP);
	assert_int_equal(plan.v[1].op, DIFF_CREATE);
	diff_step_record(&plan, &plan.v[0], &prev, &kept);
	assert_string_equal(kept.msg.msg_id, "");
	assert_string_equal(kept.msg.ping_id, "");
	assert_int_equal(kept.msg.ping, PING_DONE);
	diff_step_record(&plan, &plan.v[1], &prev, &a);
	diff_step_record(&plan, &plan.v[1], &kept, &b);
	assert_string_equal(a.msg.msg_id, b.msg.msg_id);
	assert_string_equal(a.msg.ping_id, b.msg.ping_id);
	assert_int_equal(a.msg.ping, b.msg.ping);
	assert_string_equal(a.msg.hash, "hnew");
	assert_string_equal(b.msg.hash, "hnew");
	event_free(&a.ev);
	event_free(&b.ev);
	event_free(&kept.ev);
	event_free(&prev.ev);
	event_free(&wev);
	diff_plan_free(&plan);
}

static void
test_op_names(void **state)
{
	(void)state;
	assert_string_equal(diff_op_name(DIFF_CREATE), "create");
	assert_string_equal(diff_op_name(DIFF_EDIT), "edit");
	assert_string_equal(diff_op_name(DIFF_DELETE), "delete");
	assert_string_equal(diff_op_name(DIFF_KEEP), "keep");
	assert_string_equal(diff_op_name(DIFF_FORGET), "forget");
}

int
main(void)
{
	enum { NCASES = sizeof cases / sizeof cases[0] };
	static struct CMUnitTest tests[NCASES + 4];
	size_t i;

	/* one test per row of the table, named after it */
	for (i = 0; i < NCASES; i++) {
		tests[i].name = cases[i].what;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	tests[NCASES].name = "plan converges";
	tests[NCASES].test_func = test_converges;
	tests[NCASES + 1].name = "op names";
	tests[NCASES + 1].test_func = test_op_names;
	tests[NCASES + 2].name = "a merge against stored records in id order";
	tests[NCASES + 2].test_func = test_merge;
	tests[NCASES + 3].name = "the record made at apply time";
	tests[NCASES + 3].test_func = test_record_at_apply;
	return _cmocka_run_group_tests("diff", tests, NCASES + 4, NULL, NULL);
}
