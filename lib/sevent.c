#include "sevent.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

/* A link Discord shows as one: http(s), printable ASCII (so its bytes are
 * its code points), at most max long. */
static int
link_ok(const char *u, size_t max)
{
	size_t n;

	if (u == NULL)
		return 0;
	n = strlen(u);
	if (n > max || n <= 8)
		return 0;
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	for (; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || strchr("<>\"\\`", *u) != NULL)
			return 0;
	return 1;
}

void
sevent_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t < 0 || t > INT64_C(253402300799) || gmtime_r(&tt, &tm) == NULL)
		return;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* "2026-11-30 14:00–15:30 UTC", the end's date too when it is another
 * day's. */
static void
when_text(int64_t start, int64_t end, char out[80])
{
	time_t s = (time_t)start, en = (time_t)end;
	struct tm a, b;
	char from[32], to[32];

	if (gmtime_r(&s, &a) == NULL || gmtime_r(&en, &b) == NULL) {
		snprintf(out, 80, "?");
		return;
	}
	strftime(from, sizeof from, "%Y-%m-%d %H:%M", &a);
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strftime(to, sizeof to, "%H:%M", &b);
	else
		strftime(to, sizeof to, "%Y-%m-%d %H:%M", &b);
	snprintf(out, 80, "%s\xe2\x80\x93%s UTC", from, to);
}

static char *
pick_location(const struct event *ev, const char *site_url)
{
	char *course = NULL, *loc;

	if (link_ok(ev->url, SEVENT_LOCATION_MAX))
		return xstrdup(ev->url);
	if (site_url != NULL && ev->course_id > 0) {
		course = xasprintf("%s/course/view.php?id=%" PRId64, site_url, ev->course_id);
		if (link_ok(course, SEVENT_LOCATION_MAX))
			return course;
		free(course);
	}
	if (link_ok(site_url, SEVENT_LOCATION_MAX))
		return xstrdup(site_url);
	loc = render_text(ev->site_name, 0, SEVENT_LOCATION_MAX);
	if (*loc != '\0')
		return loc;
	free(loc);
	return xstrdup("Moodle");
}

/* Course, time, link, site; each link whole or not at all, the course name
 * cut to what the others leave. */
static char *
describe(const struct event *ev, const char *site_url, int64_t start, int64_t end)
{
	struct buf d = { 0 };
	char when[80];
	const char *link = NULL, *site = NULL;
	size_t room = SEVENT_DESCRIPTION_MAX, fixed;
	char *course;

	when_text(start, end, when);
	fixed = utf8_count(when);
	if (link_ok(ev->url, SEVENT_DESCRIPTION_MAX) && fixed + 1 + strlen(ev->url) <= room - 2) {
		link = ev->url;
		fixed += 1 + strlen(link);
	}
	if (link_ok(site_url, SEVENT_DESCRIPTION_MAX) && fixed + 1 + strlen(site_url) <= room - 2) {
		site = site_url;
		fixed += 1 + strlen(site);
	}
	/* The course line and its newline get the rest. */
	course = render_text(ev->course_name, 1, room - fixed - 1);
	if (*course != '\0')
		buf_addf(&d, "%s\n", course);
	buf_adds(&d, when);
	if (link != NULL)
		buf_addf(&d, "\n%s", link);
	if (site != NULL)
		buf_addf(&d, "\n%s", site);
	free(course);
	return buf_take(&d);
}

void
sevent_make(const struct event *ev, const char *site_url, int64_t meeting_minutes, struct sevent *s)
{
	memset(s, 0, sizeof *s);
	s->name = render_text(ev->name, 0, SEVENT_NAME_MAX);
	if (*s->name == '\0') {
		free(s->name);
		s->name = xstrdup("Conference");
	}
	s->start = ev->start;
	s->end = event_end(ev, meeting_minutes);
	if (s->end <= s->start || s->end == INT64_MAX)
		s->end = s->start + meeting_minutes * 60;
	s->location = pick_location(ev, site_url);
	s->description = describe(ev, site_url, s->start, s->end);
}

void
sevent_free(struct sevent *s)
{
	free(s->name);
	free(s->location);
	free(s->description);
	memset(s, 0, sizeof *s);
}

static void
add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static char *
body(const struct sevent *s, int with_start)
{
	json_object *o = json_object_new_object(), *meta = json_object_new_object();
	char iso[32];
	char *out;

	add_str(o, "name", s->name);
	add_str(o, "description", s->description);
	json_object_object_add(o, "privacy_level", json_object_new_int(2));
	json_object_object_add(o, "entity_type", json_object_new_int(3));
	json_object_object_add(o, "channel_id", NULL);
	add_str(meta, "location", s->location);
	json_object_object_add(o, "entity_metadata", meta);
	if (with_start) {
		sevent_iso(s->start, iso);
		add_str(o, "scheduled_start_time", iso);
	}
	sevent_iso(s->end, iso);
	add_str(o, "scheduled_end_time", iso);
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

char *
sevent_body_create(const struct sevent *s)
{
	return body(s, 1);
}

char *
sevent_body_patch(const struct sevent *s, int with_start)
{
	return body(s, with_start);
}

void
sevent_hash(const struct sevent *s, char out[17])
{
	char *b = body(s, 1);

	render_hash(b, out);
	free(b);
}
