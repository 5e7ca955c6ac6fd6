/* diff with routes: a course moved to another route (a move: the old
 * message deleted through its route, the new one posted through the
 * other), a course no route takes, a route whose webhook changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"

#define NOW 1700000000LL

static void
event_of(struct event *ev, int64_t id, const char *name)
{
	memset(ev, 0, sizeof *ev);
	ev->id = id;
	ev->course_id = 7;
	ev->course_short = xstrdup("RM101");
	ev->course_name = xstrdup("Research Methods");
	ev->name = xstrdup(name);
	ev->module = xstrdup("bigbluebuttonbn");
	ev->url = xstrdup("https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=1");
	ev->site_name = xstrdup("Site");
	ev->start = NOW + 3600;
}

/* A stored record: posted as msg through route (msg "" = not posted). */
static void
stored(struct record_list *l, int64_t id, const char *route, const char *msg, const char *ping)
{
	struct record r = { 0 };

	event_of(&r.ev, id, "A");
	snprintf(r.msg.msg_id, sizeof r.msg.msg_id, "%s", msg);
	snprintf(r.msg.hash, sizeof r.msg.hash, "%s", "h1");
	snprintf(r.msg.route, sizeof r.msg.route, "%s", route);
	snprintf(r.msg.ping_id, sizeof r.msg.ping_id, "%s", ping);
	if (*ping)
		r.msg.ping = PING_SENT;
	record_list_push(l, &r);
}

struct world {
	struct event ev[4];
	struct diff_want want[4];
	size_t nwant;
	struct record_list prev;
	struct diff_plan plan;
};

static void
want(struct world *w, int64_t id, const char *route, const char *hash)
{
	event_of(&w->ev[w->nwant], id, "A");
	w->want[w->nwant].ev = &w->ev[w->nwant];
	w->want[w->nwant].route = route;
	snprintf(w->want[w->nwant].hash, sizeof w->want[w->nwant].hash, "%s", hash);
	w->nwant++;
}

static void
compute(struct world *w, const char *const *changed, size_t nchanged)
{
	struct diff_settings s = { .meeting_minutes = 90, .routes_changed = changed,
	    .nroutes_changed = nchanged };

	diff_compute(w->want, w->nwant, &w->prev, NOW, &s, &w->plan);
}

/* What step i stores (rec, freed by the caller) and its reason, made
 * from the snapshot as apply makes them. */
static void
view(struct world *w, size_t i, struct record *rec, char *reason)
{
	const struct record *p = NULL;
	size_t k;

	for (k = 0; k < w->prev.n; k++)
		if (w->prev.v[k].ev.id == w->plan.v[i].id)
			p = &w->prev.v[k];
	diff_step_record(&w->plan, &w->plan.v[i], p, rec);
	diff_step_reason(&w->plan, &w->plan.v[i], p, reason, 96);
}

static void
done(struct world *w)
{
	size_t i;

	for (i = 0; i < w->nwant; i++)
		event_free(&w->ev[i]);
	record_list_free(&w->prev);
	diff_plan_free(&w->plan);
	memset(w, 0, sizeof *w);
}

static void
test_move(void **state)
{
	struct world w = { 0 };
	const struct diff_step *st;
	struct record rec;
	char reason[96];

	(void)state;
	want(&w, 1, "math", "h1");
	stored(&w.prev, 1, "", "1100000000000000001", "1200000000000000001");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 1);
	st = &w.plan.v[0];
	view(&w, 0, &rec, reason);
	assert_int_equal(st->op, DIFF_MOVE);
	assert_string_equal(reason, "its course goes to route math now");
	assert_string_equal(diff_step_want(&w.plan, st)->route, "math");
	/* the call goes through the old route first */
	assert_string_equal(st->route, "");
	/* the old message and reminder, to delete through the old route */
	assert_string_equal(rec.msg.route, "");
	assert_string_equal(rec.msg.msg_id, "1100000000000000001");
	assert_string_equal(rec.msg.ping_id, "1200000000000000001");
	event_free(&rec.ev);
	assert_int_equal(w.plan.nmove, 1);
	assert_int_equal(w.plan.ncreate + w.plan.nedit + w.plan.ndelete, 0);
	done(&w);
	/* back to [discord] */
	want(&w, 1, "", "h1");
	stored(&w.prev, 1, "math", "1100000000000000001", "");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 1);
	assert_int_equal(w.plan.v[0].op, DIFF_MOVE);
	view(&w, 0, &rec, reason);
	event_free(&rec.ev);
	assert_string_equal(reason, "its course goes to [discord] now");
	assert_string_equal(diff_step_want(&w.plan, &w.plan.v[0])->route, "");
	assert_string_equal(w.plan.v[0].route, "math");
	done(&w);
	/* same route, same body: nothing */
	want(&w, 1, "math", "h1");
	stored(&w.prev, 1, "math", "1100000000000000001", "");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 0);
	done(&w);
	/* a move cut short after the delete: posted through the new route */
	want(&w, 1, "math", "h1");
	stored(&w.prev, 1, "", "", "");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 1);
	assert_int_equal(w.plan.v[0].op, DIFF_CREATE);
	assert_string_equal(w.plan.v[0].route, "math");
	view(&w, 0, &rec, reason);
	assert_string_equal(rec.msg.route, "math");
	event_free(&rec.ev);
	done(&w);
}

static void
test_nowhere(void **state)
{
	struct world w = { 0 };
	struct record rec;
	char reason[96];

	(void)state;
	want(&w, 1, NULL, "h1");
	want(&w, 2, NULL, "h1");
	want(&w, 3, NULL, "h1");
	stored(&w.prev, 1, "math", "1100000000000000001", "");
	stored(&w.prev, 2, "", "", "");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 2);
	/* no call first: 2 forgotten; then 1's message deleted; 3 never posted */
	assert_int_equal(w.plan.v[0].op, DIFF_FORGET);
	assert_int_equal(w.plan.v[0].id, 2);
	assert_int_equal(w.plan.v[1].op, DIFF_DELETE);
	assert_int_equal(w.plan.v[1].id, 1);
	assert_string_equal(w.plan.v[1].route, "math");
	view(&w, 1, &rec, reason);
	assert_string_equal(reason, "no route takes its course");
	assert_string_equal(rec.msg.route, "math");
	event_free(&rec.ev);
	done(&w);
	/* a new one a route takes: created with that route */
	want(&w, 4, "net", "h1");
	compute(&w, NULL, 0);
	assert_int_equal(w.plan.n, 1);
	assert_int_equal(w.plan.v[0].op, DIFF_CREATE);
	view(&w, 0, &rec, reason);
	assert_string_equal(rec.msg.route, "net");
	event_free(&rec.ev);
	done(&w);
}

static void
test_route_webhook_changed(void **state)
{
	static const char *const changed[] = { "math" };
	struct world w = { 0 };
	size_t i, creates = 0;

	(void)state;
	want(&w, 1, "math", "h1");
	want(&w, 2, "", "h1");
	stored(&w.prev, 1, "math", "1100000000000000001", "1200000000000000001");
	stored(&w.prev, 2, "", "1100000000000000002", "");
	compute(&w, changed, 1);
	assert_int_equal(w.plan.nforgotten, 1);
	for (i = 0; i < w.plan.n; i++) {
		const struct diff_step *st = &w.plan.v[i];
		struct record rec;
		char reason[96];

		/* [discord]'s conference is untouched */
		assert_int_equal(st->id, 1);
		view(&w, i, &rec, reason);
		if (st->op == DIFF_CREATE) {
			creates++;
			assert_string_equal(rec.msg.msg_id, "");
			assert_string_equal(rec.msg.ping_id, "");
			assert_string_equal(rec.msg.route, "math");
		} else {
			assert_int_equal(st->op, DIFF_KEEP);
			assert_string_equal(rec.msg.msg_id, "");
		}
		event_free(&rec.ev);
	}
	assert_int_equal(creates, 1);
	done(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_nowhere),
		cmocka_unit_test(test_route_webhook_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
