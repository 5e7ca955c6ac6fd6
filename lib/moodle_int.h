/* moodle_int: what the Moodle session (moodle.c) and the answer readers
 * (moodle_read.c) share.  Not for other modules.
 *
 * The readers take the JSON of one answer apart; they never send a
 * request.  Strings are made fit to show with moodle_text (Moodle sends
 * names HTML-escaped); numbers may come as JSON numbers or, from old
 * sites, as strings of digits. */
#ifndef MC_MOODLE_INT_H
#define MC_MOODLE_INT_H

#include <json-c/json.h>

#include "moodle.h"

#define BBB "bigbluebuttonbn"
#define FN_SITE_INFO "core_webservice_get_site_info"
#define FN_COURSES "core_enrol_get_users_courses"
#define FN_EVENTS "core_calendar_get_calendar_events"
#define FN_BBB "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"
#define FN_CM "core_course_get_course_module_by_instance"

struct course {
	int64_t id;
	char *shortname, *fullname;
};

struct courses {
	struct course *v;
	size_t n;
};

/* A calendar event of a wanted module, before its activity is known:
 * only what a message will show (a big site has 100,000 of these at
 * once, so no copies of the course's names, which the course list holds,
 * nor of the module's, which the config holds).  It owns name and
 * event_name (moodle_found_clear). */
struct found {
	int64_t id, course_id, start, duration;
	int64_t cmid;              /* 0 until its activity is known         */
	int64_t instance;
	const char *module;        /* the config's name of it, or BBB      */
	char *name;                /* the activity's name, NULL until known */
	char *event_name;          /* the calendar event's name             */
};

struct found_list {
	struct found *v;
	size_t n, cap;
};

/* Member key of o as an integer (a JSON number, a boolean, or a string
 * of digits); 0 when absent or null; returns -1 when of another type. */
int moodle_json_int(json_object *o, const char *key, int64_t *v);
/* Member key of o decoded for showing (moodle_text); "" when absent or
 * null.  A new string. */
char *moodle_json_text(json_object *o, const char *key);
/* Member key of o as sent; NULL when absent, null or not a string. */
const char *moodle_json_str(json_object *o, const char *key);
/* Member key of o when an array, else NULL (o may be NULL). */
json_object *moodle_json_array(json_object *o, const char *key);

/* The enrolled courses of answer j, only those cfg selects, sorted by
 * id; counts into site.  MC_ERR_DATA for an answer of another shape. */
enum mc_err moodle_read_courses(const struct config *cfg, json_object *j,
    struct moodle_site *site, struct courses *out, struct err *e);
void moodle_courses_free(struct courses *c);
/* The course of that id in c, NULL when not selected. */
const struct course *moodle_course_find(const struct courses *c, int64_t id);

/* The calendar events of answer j whose module cfg wants, in the given
 * courses, appended to out.  MC_ERR_DATA for a bad event. */
enum mc_err moodle_read_events(const struct config *cfg, json_object *j,
    const struct courses *courses, struct found_list *out, struct err *e);
void moodle_found_free(struct found_list *c);
/* Free what one found owns and zero it. */
void moodle_found_clear(struct found *f);
/* qsort order of struct found: by start, then id. */
int moodle_found_cmp(const void *a, const void *b);

/* An event name without the " is scheduled for" BigBlueButton's events
 * end with.  A new string. */
char *moodle_name_unscheduled(const char *name);

/* ---- big sites (moodle_piece.c) ---- */

/* Moodle answers the calendar and the activity lists whole, without
 * paging.  These calls are made in pieces whose answers stay under this
 * budget (json-c's tree of an answer takes about three times its size):
 * an answer over it is not read whole, and its piece is split. */
#define MOODLE_ANSWER_BUDGET ((size_t)2 << 20)

struct session;

/* Web service call fn with params, its answer limited to
 * MOODLE_ANSWER_BUDGET: MC_OK with *out and the answer's size in *len; or
 * MC_OK with *toobig set and *out NULL when the answer was over the
 * budget; or an error (moodle.c). */
enum mc_err moodle_call_piece(struct session *s, const char *fn, const struct buf *params,
    json_object **out, size_t *len, int *toobig, struct err *e);

/* The conferences of the calendar window [from, to] (Unix seconds, both
 * included) in courses, appended to out once each: asked in windows of
 * time sized to the budget, at most 500 courses a request.  Any window
 * that fails fails the whole (out then holds a part: the caller drops
 * it); a window of one second still over the budget is MC_ERR_DATA
 * naming it. */
enum mc_err moodle_fetch_calendar(struct session *s, const struct config *cfg,
    const struct courses *courses, int64_t from, int64_t to, struct found_list *out,
    struct err *e);

/* Link the BigBlueButton conferences of fl (cmid and clean name) from the
 * activity lists of their courses, asked in batches sized to the budget;
 * a conference its course does not list keeps cmid 0 and no name.  One
 * course whose list alone is over the budget is MC_ERR_DATA naming it. */
enum mc_err moodle_link_bbbs(struct session *s, struct found_list *fl, struct err *e);

#endif
