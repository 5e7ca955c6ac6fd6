/* sevent: a conference's scheduled event at Discord's limits: the name cut
 * at 100 code points, the location chosen by length, the description at
 * most 1000, the bodies Discord's rules ask for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "render.h"
#include "sevent.h"

#define START INT64_C(1767258000) /* 2026-01-01T09:00:00Z */
#define SITE "https://moodle.example.edu"
#define LINK SITE "/mod/bigbluebuttonbn/view.php?id=99"

static struct event
ev_with(const char *name, const char *course, const char *url)
{
	struct event ev = { 0 };

	ev.id = 42;
	ev.course_id = 7;
	ev.course_short = (char *)"RM101";
	ev.course_name = (char *)course;
	ev.name = (char *)name;
	ev.module = (char *)"bigbluebuttonbn";
	ev.cmid = 99;
	ev.url = (char *)url;
	ev.site_name = (char *)"Example University";
	ev.start = START;
	ev.duration = 5400;
	return ev;
}

/* n copies of the UTF-8 sequence unit: a new string. */
static char *
rep(const char *unit, size_t n)
{
	size_t u = strlen(unit), i;
	char *s = malloc(u * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

/* A URL of exactly n bytes under SITE. */
static char *
url_of(size_t n)
{
	char *u = malloc(n + 1);
	size_t base = strlen(SITE "/p?x=");

	assert_true(n > base);
	assert_non_null(u);
	memcpy(u, SITE "/p?x=", base);
	memset(u + base, 'a', n - base);
	u[n] = '\0';
	return u;
}

static const char *
jget_str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
test_name_at_100(void **state)
{
	char *exact = rep("\xc3\xa9", 100), *over = rep("\xc3\xa9", 101), *emoji = rep("\xf0\x9f\x8e\x93", 150);
	struct event ev = ev_with(exact, "Course", LINK);
	struct sevent s;

	(void)state;
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.name, exact);
	assert_int_equal(utf8_count(s.name), 100);
	sevent_free(&s);

	ev.name = over;
	sevent_make(&ev, SITE, 90, &s);
	assert_int_equal(utf8_count(s.name), 100);
	/* 99 of the letters and the mark, cut between code points. */
	assert_memory_equal(s.name, over, 99 * 2);
	assert_string_equal(s.name + 99 * 2, "\xe2\x80\xa6");
	assert_true(utf8_valid(s.name, strlen(s.name)));
	sevent_free(&s);

	/* Four-byte code points: the cut never splits one. */
	ev.name = emoji;
	sevent_make(&ev, SITE, 90, &s);
	assert_int_equal(utf8_count(s.name), 100);
	assert_true(utf8_valid(s.name, strlen(s.name)));
	assert_memory_equal(s.name, emoji, 99 * 4);
	sevent_free(&s);

	/* Nothing but white space: a name is required. */
	ev.name = (char *)" \t\n ";
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.name, "Conference");
	sevent_free(&s);
	free(exact);
	free(over);
	free(emoji);
}

static void
test_location_choice(void **state)
{
	char *u100 = url_of(100), *u101 = url_of(101), *longsite = url_of(120);
	char *longname = rep("x", 130);
	struct event ev = ev_with("Q&A", "Course", u100);
	struct sevent s;

	(void)state;
	/* The link fits: 100 is allowed. */
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.location, u100);
	sevent_free(&s);

	/* One over: the course page. */
	ev.url = u101;
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.location, SITE "/course/view.php?id=7");
	sevent_free(&s);

	/* The course page too long as well, and the site too: the site's
	 * name. */
	sevent_make(&ev, longsite, 90, &s);
	assert_string_equal(s.location, "Example University");
	sevent_free(&s);

	/* No course id: the site itself. */
	ev.course_id = 0;
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.location, SITE);
	sevent_free(&s);

	/* A link that is no http(s) link is never the location. */
	ev.course_id = 7;
	ev.url = (char *)"javascript:alert(1)";
	sevent_make(&ev, SITE, 90, &s);
	assert_string_equal(s.location, SITE "/course/view.php?id=7");
	sevent_free(&s);

	/* Nothing fits: the site's name cut at 100. */
	ev.url = u101;
	ev.site_name = longname;
	sevent_make(&ev, longsite, 90, &s);
	assert_int_equal(utf8_count(s.location), 100);
	sevent_free(&s);
	free(u100);
	free(u101);
	free(longsite);
	free(longname);
}

static void
test_description_at_1000(void **state)
{
	char *course = rep("\xc3\xa9", 2000), *u990 = url_of(990);
	struct event ev = ev_with("Q&A", course, LINK);
	struct sevent s;

	(void)state;
	sevent_make(&ev, SITE, 90, &s);
	/* A long course name is cut so that all of it is exactly 1000 and
	 * the links are whole. */
	assert_int_equal(utf8_count(s.description), 1000);
	assert_non_null(strstr(s.description, "\n2026-01-01 09:00\xe2\x80\x93" "10:30 UTC\n" LINK "\n" SITE));
	assert_non_null(strstr(s.description, "\xe2\x80\xa6\n2026-01-01"));
	sevent_free(&s);

	/* A link that would leave no room is left out, not cut. */
	ev.url = u990;
	ev.course_name = (char *)"Research Methods";
	sevent_make(&ev, SITE, 90, &s);
	assert_true(utf8_count(s.description) <= 1000);
	assert_null(strstr(s.description, u990));
	assert_string_equal(s.description, "Research Methods\n2026-01-01 09:00\xe2\x80\x93" "10:30 UTC\n" SITE);
	sevent_free(&s);

	/* Markdown renders there: the course name is escaped, mentions
	 * broken. */
	ev.url = (char *)LINK;
	ev.course_name = (char *)"**Bold** @everyone";
	sevent_make(&ev, SITE, 90, &s);
	assert_non_null(strstr(s.description, "\\*\\*Bold\\*\\* @\xe2\x80\x8b" "everyone\n"));
	sevent_free(&s);
	free(course);
	free(u990);
}

static void
test_times(void **state)
{
	struct event ev = ev_with("Q&A", "Course", LINK);
	struct sevent s;

	(void)state;
	sevent_make(&ev, SITE, 90, &s);
	assert_int_equal(s.end, START + 5400);
	sevent_free(&s);

	/* No length from Moodle: meeting_minutes. */
	ev.duration = 0;
	sevent_make(&ev, SITE, 45, &s);
	assert_int_equal(s.end, START + 45 * 60);
	sevent_free(&s);

	/* Past midnight: the end's date is written. */
	ev.start = START + 14 * 3600 + 30 * 60;   /* 23:30 */
	ev.duration = 3600;
	sevent_make(&ev, SITE, 90, &s);
	assert_non_null(strstr(s.description, "2026-01-01 23:30\xe2\x80\x93" "2026-01-02 00:30 UTC"));
	sevent_free(&s);
}

static void
test_bodies(void **state)
{
	struct event ev = ev_with("Q&A \"live\"", "Course", LINK);
	struct sevent s;
	json_object *o, *v, *meta;
	char *create, *patch, h1[17], h2[17];

	(void)state;
	sevent_make(&ev, SITE, 90, &s);
	create = sevent_body_create(&s);
	o = json_tokener_parse(create);
	assert_non_null(o);
	assert_string_equal(jget_str(o, "name"), "Q&A \"live\"");
	assert_string_equal(jget_str(o, "scheduled_start_time"), "2026-01-01T09:00:00+00:00");
	assert_string_equal(jget_str(o, "scheduled_end_time"), "2026-01-01T10:30:00+00:00");
	assert_true(json_object_object_get_ex(o, "entity_type", &v));
	assert_int_equal(json_object_get_int(v), 3);
	assert_true(json_object_object_get_ex(o, "privacy_level", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(o, "channel_id", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "entity_metadata", &meta));
	assert_string_equal(jget_str(meta, "location"), LINK);
	json_object_put(o);

	/* An active event's start cannot change: the patch leaves it out. */
	patch = sevent_body_patch(&s, 0);
	o = json_tokener_parse(patch);
	assert_non_null(o);
	assert_null(jget_str(o, "scheduled_start_time"));
	assert_string_equal(jget_str(o, "scheduled_end_time"), "2026-01-01T10:30:00+00:00");
	json_object_put(o);
	free(patch);
	patch = sevent_body_patch(&s, 1);
	assert_string_equal(patch, create);
	free(patch);
	free(create);

	/* The hash follows what the event shows. */
	sevent_hash(&s, h1);
	sevent_free(&s);
	sevent_make(&ev, SITE, 90, &s);
	sevent_hash(&s, h2);
	assert_string_equal(h1, h2);
	sevent_free(&s);
	ev.start += 60;
	sevent_make(&ev, SITE, 90, &s);
	sevent_hash(&s, h2);
	assert_string_not_equal(h1, h2);
	sevent_free(&s);
	ev.start -= 60;
	ev.url = (char *)SITE "/mod/bigbluebuttonbn/view.php?id=100";
	sevent_make(&ev, SITE, 90, &s);
	sevent_hash(&s, h2);
	assert_string_not_equal(h1, h2);
	sevent_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_at_100),
		cmocka_unit_test(test_location_choice),
		cmocka_unit_test(test_description_at_1000),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
