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

/* A calendar event of a wanted module, before its activity is known. */
struct found {
	struct event ev;
	int64_t instance;
	char *event_name;
};

struct found_list {
	struct found *v;
	size_t n, cap;
};

/* An activity's link and clean name. */
struct activity {
	int64_t instance, cmid;
	char *name;
};

struct activities {
	struct activity *v;
	size_t n;
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
/* qsort order of struct found: by start, then id. */
int moodle_found_cmp(const void *a, const void *b);

/* The BigBlueButton activities of answer j, sorted by instance. */
enum mc_err moodle_read_bbbs(json_object *j, struct activities *out, struct err *e);
void moodle_activities_free(struct activities *a);
const struct activity *moodle_activity_find(const struct activities *a, int64_t instance);

/* An event name without the " is scheduled for" BigBlueButton's events
 * end with.  A new string. */
char *moodle_name_unscheduled(const char *name);

#endif
