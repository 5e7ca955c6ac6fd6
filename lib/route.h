/* route: which Discord channel a conference goes to, and the name of its
 * forum post, as pure functions (no I/O).
 *
 * A config holds any number of [route NAME] sections, each with the
 * courses it takes (`courses = RM101, NET210, 42`: course short names or
 * course ids).  A conference goes to the first route, in file order,
 * whose courses hold its course; else to [discord] when that has a
 * webhook; else nowhere.
 *
 * In a forum channel each conference is a post (a thread) named
 * "COURSE · NAME".  Discord takes 1 to 100 characters (code points) for
 * a thread name; a longer one is cut at a word and ends in "…". */
#ifndef MC_ROUTE_H
#define MC_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ROUTE_NAME_MAX 32        /* bytes of a route's name            */
#define ROUTE_THREAD_NAME_MAX 100 /* code points of a forum post's name */

/* route_pick's answers besides a route's index. */
#define ROUTE_DEFAULT (-1)  /* [discord]'s own webhook */
#define ROUTE_NONE (-2)     /* no channel takes it     */

/* The courses of one route, as written (trimmed), in order. */
struct route_courses {
	char **v;
	size_t n;
};

/* Is name usable as a route's name: 1 to ROUTE_NAME_MAX letters, digits,
 * '-', '_' or '.'?  MC_OK, or MC_ERR_CONFIG with e saying why. */
enum mc_err route_name_check(const char *name, struct err *e);

/* Parse a courses value: entries separated by commas, spaces around each
 * trimmed (a short name may hold inner spaces), at least one, none empty,
 * none twice.  MC_OK with out filled (free with route_courses_free), or
 * MC_ERR_CONFIG with e saying what is wrong and out empty. */
enum mc_err route_courses_parse(const char *text, struct route_courses *out, struct err *e);

void route_courses_free(struct route_courses *c);

/* Does the entry (as written in courses) name the course of this id and
 * short name?  An entry of digits only names the course with that id, or
 * one whose short name is those digits; any other entry names the course
 * whose short name is exactly the entry (case matters, as in Moodle). */
int route_entry_matches(const char *entry, int64_t course_id, const char *course_short);

/* Does any entry of c name the course? */
int route_courses_hold(const struct route_courses *c, int64_t course_id, const char *course_short);

/* The route of a conference of this course: the index of the first of
 * routes[0..n) whose courses hold it; else ROUTE_DEFAULT when has_default
 * ([discord] has a webhook); else ROUTE_NONE. */
long route_pick(const struct route_courses *const *routes, size_t n, int has_default,
    int64_t course_id, const char *course_short);

/* The forum post's name of a conference: "COURSE · NAME" (just NAME when
 * the short name is empty or NULL), control characters as spaces, cut to
 * ROUTE_THREAD_NAME_MAX code points at the last space that leaves room
 * for a closing "…" (or inside the word when a single word is longer).
 * name and course_short are valid UTF-8.  A new string, caller frees;
 * never empty ("?" when both are). */
char *route_thread_name(const char *course_short, const char *name);

#endif
