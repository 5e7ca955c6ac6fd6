/* moodle_piece: the calls whose answers grow with the site, made in pieces.
 *
 * Moodle answers core_calendar_get_calendar_events with every event of its
 * time window and mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses with
 * every activity of its courses, whole: neither has paging.  A department
 * with thousands of conferences and long descriptions gets answers of tens
 * of megabytes.  So the calendar is asked in time windows and the activity
 * lists in batches of courses (lib/window.h), each answer under a budget;
 * an answer over it is not read whole and its piece is split.  Of each
 * answer only what a conference message shows is kept, and its JSON tree
 * is freed before the next request.
 *
 * Moodle's calendar window takes the events that start in [timestart,
 * timeend] (both included) and those that started before and run into it
 * (timestart + timeduration > timestart asked), so an event with a
 * duration can be in the answers of several windows: kept once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moodle_int.h"
#include "window.h"

/* PHP reads at most max_input_vars form fields (1000 by default) and drops
 * the rest without an error: a request names at most this many courses. */
#define COURSES_PER_REQUEST 500

/* "2026-12-01 10:00:00" (UTC), for messages. */
static void
utc_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

static int
cmp_found_id(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Each event id once (see above). */
static void
found_dedupe(struct found_list *fl)
{
	size_t i, k;

	if (fl->n == 0)
		return;
	qsort(fl->v, fl->n, sizeof *fl->v, cmp_found_id);
	for (i = 1, k = 1; i < fl->n; i++) {
		if (fl->v[i].id == fl->v[k - 1].id) {
			moodle_found_clear(&fl->v[i]);
			continue;
		}
		fl->v[k++] = fl->v[i];
	}
	/* the array is kept as it is: a smaller copy would be made while
	 * it is still held, and it is freed after the hand over */
	fl->n = k;
}

/* One calendar request: courses first .. first + n - 1, the window
 * [from, to].  An answer over the budget splits the window; one that
 * cannot be split is an error naming it. */
static enum mc_err
calendar_window(struct session *s, const struct config *cfg, const struct courses *courses,
    size_t first, size_t n, struct window_plan *wp, int64_t from, int64_t to,
    struct found_list *out, struct err *e)
{
	struct buf p = { 0 };
	json_object *j = NULL;
	char key[48], val[32], tf[32], tt[32];
	size_t i, len;
	int toobig;
	enum mc_err rc;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "events[courseids][%zu]", i);
		snprintf(val, sizeof val, "%lld", (long long)courses->v[first + i].id);
		http_form_add(&p, key, val);
	}
	http_form_add(&p, "options[userevents]", "0");
	http_form_add(&p, "options[siteevents]", "0");
	snprintf(val, sizeof val, "%lld", (long long)from);
	http_form_add(&p, "options[timestart]", val);
	snprintf(val, sizeof val, "%lld", (long long)to);
	http_form_add(&p, "options[timeend]", val);
	rc = moodle_call_piece(s, FN_EVENTS, &p, &j, &len, &toobig, e);
	buf_free(&p);
	if (rc != MC_OK)
		return rc;
	if (toobig) {
		if (window_refused(wp) == 0)
			return MC_OK;
		utc_time(from, tf);
		utc_time(to, tt);
		return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": the calendar from %s to %s UTC "
		    "answers over %zu bytes even for one second; refused", tf, tt, MOODLE_ANSWER_BUDGET);
	}
	rc = moodle_read_events(cfg, j, courses, out, e);
	json_object_put(j);
	if (rc == MC_OK)
		window_taken(wp, len);
	return rc;
}

enum mc_err
moodle_fetch_calendar(struct session *s, const struct config *cfg, const struct courses *courses,
    int64_t from, int64_t to, struct found_list *out, struct err *e)
{
	enum mc_err rc = MC_OK;
	size_t first;

	for (first = 0; first < courses->n && rc == MC_OK; first += COURSES_PER_REQUEST) {
		size_t n = courses->n - first;
		struct window_plan wp;
		int64_t a, b;

		if (n > COURSES_PER_REQUEST)
			n = COURSES_PER_REQUEST;
		window_plan_init(&wp, from, to, 0, MOODLE_ANSWER_BUDGET);
		while (rc == MC_OK && window_next(&wp, &a, &b))
			rc = calendar_window(s, cfg, courses, first, n, &wp, a, b, out, e);
	}
	if (rc == MC_OK)
		found_dedupe(out);
	return rc;
}

static int
cmp_found_instance(const void *a, const void *b)
{
	const struct found *x = *(const struct found *const *)a;
	const struct found *y = *(const struct found *const *)b;

	return (x->instance > y->instance) - (x->instance < y->instance);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Of one activity list keep the link and clean name of the conferences in
 * bbb (sorted by instance); nothing else of the answer is kept. */
static enum mc_err
read_links(json_object *j, struct found **bbb, size_t nbbb, struct err *e)
{
	json_object *l = json_object_is_type(j, json_type_object) ?
	    moodle_json_array(j, "bigbluebuttonbns") : NULL;
	size_t i, n;

	if (l == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_BBB ": the answer has no bigbluebuttonbns list");
	n = json_object_array_length(l);
	for (i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(l, i);
		struct found key, *kp = &key, **hit;
		int64_t instance, cmid;

		if (!json_object_is_type(b, json_type_object) ||
		    moodle_json_int(b, "id", &instance) != 0 ||
		    moodle_json_int(b, "coursemodule", &cmid) != 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_BBB ": an activity with a bad id");
		key.instance = instance;
		hit = bsearch(&kp, bbb, nbbb, sizeof *bbb, cmp_found_instance);
		if (hit == NULL)
			continue;
		while (hit > bbb && hit[-1]->instance == instance)
			hit--;
		/* one activity, possibly several events */
		for (; hit < bbb + nbbb && (*hit)->instance == instance; hit++) {
			if ((*hit)->name != NULL)
				continue;
			(*hit)->cmid = cmid;
			(*hit)->name = moodle_json_text(b, "name");
		}
	}
	return MC_OK;
}

/* One activity-list request: the courses cids[from .. to]. */
static enum mc_err
bbb_batch(struct session *s, const int64_t *cids, struct window_plan *wp, int64_t from,
    int64_t to, struct found **bbb, size_t nbbb, struct err *e)
{
	struct buf p = { 0 };
	json_object *j = NULL;
	size_t k, len;
	int toobig;
	enum mc_err rc;

	for (k = 0; k <= (size_t)(to - from); k++) {
		char key[48], val[32];

		snprintf(key, sizeof key, "courseids[%zu]", k);
		snprintf(val, sizeof val, "%lld", (long long)cids[(size_t)from + k]);
		http_form_add(&p, key, val);
	}
	rc = moodle_call_piece(s, FN_BBB, &p, &j, &len, &toobig, e);
	buf_free(&p);
	if (rc != MC_OK)
		return rc;
	if (toobig) {
		if (window_refused(wp) == 0)
			return MC_OK;
		return err_set(e, MC_ERR_DATA, "Moodle " FN_BBB ": the activities of course %lld "
		    "answer over %zu bytes; refused", (long long)cids[from], MOODLE_ANSWER_BUDGET);
	}
	rc = read_links(j, bbb, nbbb, e);
	json_object_put(j);
	if (rc == MC_OK)
		window_taken(wp, len);
	return rc;
}

enum mc_err
moodle_link_bbbs(struct session *s, struct found_list *fl, struct err *e)
{
	struct found **bbb = xcalloc(fl->n ? fl->n : 1, sizeof *bbb);
	int64_t *cids = xcalloc(fl->n ? fl->n : 1, sizeof *cids), from, to;
	size_t i, k, nbbb = 0, ncids = 0;
	struct window_plan wp;
	enum mc_err rc = MC_OK;

	for (i = 0; i < fl->n; i++) {
		if (strcmp(fl->v[i].module, BBB) != 0)
			continue;
		bbb[nbbb++] = &fl->v[i];
		cids[ncids++] = fl->v[i].course_id;
	}
	qsort(bbb, nbbb, sizeof *bbb, cmp_found_instance);
	qsort(cids, ncids, sizeof *cids, cmp_i64);
	for (i = 1, k = ncids ? 1 : 0; i < ncids; i++)
		if (cids[i] != cids[k - 1])
			cids[k++] = cids[i];
	ncids = k;
	if (ncids > 0) {
		window_plan_init(&wp, 0, (int64_t)ncids - 1, COURSES_PER_REQUEST, MOODLE_ANSWER_BUDGET);
		while (rc == MC_OK && window_next(&wp, &from, &to))
			rc = bbb_batch(s, cids, &wp, from, to, bbb, nbbb, e);
	}
	free(cids);
	free(bbb);
	return rc;
}
