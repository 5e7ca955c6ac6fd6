/* moodle: read the conferences of a Moodle site the way the official app
 * does (the moodle_mobile_app web service, REST, JSON).
 *
 * What Moodle does, as this module relies on it:
 *  - POST /login/token.php with username, password and
 *    service=moodle_mobile_app answers {"token": "<32 hex>", ...}, or
 *    {"error": ..., "errorcode": ...} (invalidlogin, enablewsdescription,
 *    servicenotavailable, sitemaintenance, passwordisexpired, ...).
 *  - POST /webservice/rest/server.php?moodlewsrestformat=json with
 *    wstoken, wsfunction and the function's parameters (form-encoded,
 *    arrays as name[0]=...) answers the function's JSON, or
 *    {"exception", "errorcode", "message", "debuginfo"?}: invalidtoken or
 *    accessexception for a token refused, invalidrecord with a message
 *    naming external_functions for a function the site lacks,
 *    invalidparameter for a bad parameter.  Errors come with HTTP 200;
 *    without moodlewsrestformat=json the answer is XML.
 *  - The REST protocol switched off answers 403 with an empty body; a
 *    site in CLI maintenance 503 with an HTML page; a wrong site root a
 *    redirect to the login page or 404.
 *  - Site info lists the functions the app may call; text (names of
 *    sites, courses, activities) comes HTML-escaped, non-ASCII as \uXXXX;
 *    numbers may come as strings on old sites.
 *  - BigBlueButton's calendar events are named "<name> is scheduled for";
 *    the activity's own name and course module id come from
 *    mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses (or
 *    core_course_get_course_module_by_instance, which answers
 *    invalidrecord, nopermissions or requireloginerror for an activity
 *    gone or hidden). */
#ifndef MC_MOODLE_H
#define MC_MOODLE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "http.h"
#include "util.h"

/* What site info and the enrolments said; strings valid UTF-8, entities
 * decoded, owned by the struct (moodle_site_free). */
struct moodle_site {
	int64_t userid;
	char *sitename, *release, *username, *fullname;
	size_t ncourses;     /* courses the user is enrolled in              */
	size_t nselected;    /* of those, the ones [moodle] courses selects  */
};

/* Log in with cfg's username and password (login/token.php, service
 * moodle_mobile_app), or use cfg's token; then call, in this order and
 * nothing else: core_webservice_get_site_info, core_enrol_get_users_courses,
 * core_calendar_get_calendar_events (every selected course, the window
 * [now - 1 day, now + lookahead_days]), and for the activity links
 * mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses (BigBlueButton) or
 * core_course_get_course_module_by_instance (other modules, or BigBlueButton
 * on a site without the first), each only when site info lists it; without
 * either the link is the course page.  A refused token (invalidtoken,
 * accessexception) is answered by one new login when a password is
 * configured.
 *
 * On MC_OK, site is filled and out gets the conferences (events whose
 * module is in cfg->modules, in the courses cfg->courses selects), sorted
 * by start then id, every field filled (cmid 0 when unknown).  out is
 * appended to; the caller frees it and site (also after a failure).
 *
 * Failures (e filled with one line, never the token or password):
 * MC_ERR_AUTH login or token refused; MC_ERR_CONFIG web services, the
 * mobile service or REST off on the site, a redirect or 404 (check
 * [moodle] url); MC_ERR_TEMP network, timeout, maintenance (JSON or 503);
 * MC_ERR_UNAVAILABLE other 5xx, a function the site lacks; MC_ERR_DATA an
 * answer that is not the JSON expected (HTML, empty, truncated, too big,
 * invalidparameter). */
enum mc_err moodle_fetch(const struct config *cfg, struct http *h, int64_t now,
    struct moodle_site *site, struct event_list *out, struct err *e);

void moodle_site_free(struct moodle_site *site);

/* --- The seams below exist for the unit tests; programs use the above. --- */

/* The HTTP exchange moodle_fetch makes, with http_send's contract. */
typedef enum mc_err (*moodle_send_fn)(void *arg, const struct http_request *req,
    struct http_response *resp, enum http_fail *fail, struct err *e);

/* moodle_fetch with the exchange done by send(arg, ...) instead of
 * http_send(h, ...): tests answer from fixture files. */
enum mc_err moodle_fetch_via(const struct config *cfg, moodle_send_fn send, void *arg,
    int64_t now, struct moodle_site *site, struct event_list *out, struct err *e);

/* Text from Moodle made fit to show: invalid UTF-8 bytes (and NULs)
 * become U+FFFD, then HTML entities are decoded once (&amp; &lt; &gt;
 * &quot; &apos; &#NNN; &#xHH; and the common named ones; a numeric entity
 * that is not a Unicode scalar value becomes U+FFFD; an unknown one stays
 * as written).  A new string, caller frees. */
char *moodle_text(const char *s, size_t len);

#endif
