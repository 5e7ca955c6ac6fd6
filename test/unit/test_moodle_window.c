/* moodle, big sites: the calendar in time windows and the activity lists in
 * batches of courses, each answer under the budget, against a simulated
 * site that answers as Moodle does (through moodle_fetch_via's seam) and
 * refuses to send more than the request's limit, as the HTTP client does. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "moodle.h"

#define SITE "https://big.example.edu"
#define BUDGET ((size_t)2 << 20)       /* the client's answer budget */
#define GUARD ((size_t)16 << 20)       /* the HTTP client's own limit */
#define NOW 1800000000
#define DAY 86400

struct conf {
	int64_t start, duration;
};

struct site {
	size_t nconfs, ncourses, desc;     /* desc: bytes of description */
	struct conf *c;
	size_t intro;                      /* bytes of activity intro */
	int64_t big_course;                /* this course's intros: 100 kB each */
	int fail_calendar;                 /* fail the n-th calendar request */
	/* what was asked */
	size_t ncal, nbbb, max_courses_asked;
	size_t max_read;                   /* largest answer handed over */
};

static const char *
field(const char *form, const char *name, char *out, size_t n)
{
	size_t len = strlen(name);
	const char *p = form;

	while (p && *p) {
		const char *amp = strchr(p, '&');
		struct buf key = { 0 };
		const char *q;

		for (q = p; *q && *q != '=' && *q != '&'; q++) {
			char c = *q;

			if (c == '%' && q[1] && q[2]) {
				char hex[3] = { q[1], q[2], 0 };

				c = (char)strtol(hex, NULL, 16);
				q += 2;
			}
			buf_add(&key, &c, 1);
		}
		if (key.data && key.len == len && memcmp(key.data, name, len) == 0 && *q == '=') {
			size_t k = 0;

			for (q++; *q && *q != '&' && k + 1 < n; q++)
				out[k++] = *q;
			out[k] = '\0';
			buf_free(&key);
			return out;
		}
		buf_free(&key);
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* The values of name[0], name[1], ... */
static size_t
ids(const char *form, const char *name, int64_t *out, size_t max)
{
	size_t n = 0;
	char key[64], val[32];

	for (;;) {
		snprintf(key, sizeof key, "%s[%zu]", name, n);
		if (field(form, key, val, sizeof val) == NULL)
			return n;
		assert_true(n < max);
		out[n++] = strtoll(val, NULL, 10);
	}
}

static int
asked(const int64_t *v, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

static char *
prose(size_t n)
{
	char *s = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = "lorem ipsum dolor sit amet "[i % 27];
	s[n] = '\0';
	return s;
}

static char *
answer_calendar(struct site *st, const char *form)
{
	int64_t *cids = xcalloc(2000, sizeof *cids), from, to;
	size_t n = ids(form, "events[courseids]", cids, 2000), i;
	json_object *o = json_object_new_object(), *evs = json_object_new_array();
	char val[32], *desc = prose(st->desc), *out;

	assert_non_null(field(form, "options[timestart]", val, sizeof val));
	from = strtoll(val, NULL, 10);
	assert_non_null(field(form, "options[timeend]", val, sizeof val));
	to = strtoll(val, NULL, 10);
	if (n > st->max_courses_asked)
		st->max_courses_asked = n;
	for (i = 0; i < st->nconfs; i++) {
		const struct conf *c = &st->c[i];
		json_object *ev;
		char name[64];

		if (!asked(cids, n, 1000 + (int64_t)(i % st->ncourses)))
			continue;
		/* Moodle's window: starts inside it, or runs into it */
		if (!((c->start >= from && c->start <= to) ||
		    (c->duration > 0 && c->start < from && c->start + c->duration > from)))
			continue;
		ev = json_object_new_object();
		snprintf(name, sizeof name, "Event %zu is scheduled for", i);
		json_object_object_add(ev, "id", json_object_new_int64(5000 + (int64_t)i));
		json_object_object_add(ev, "name", json_object_new_string(name));
		json_object_object_add(ev, "description", json_object_new_string(desc));
		json_object_object_add(ev, "courseid", json_object_new_int64(1000 + (int64_t)(i % st->ncourses)));
		json_object_object_add(ev, "modulename", json_object_new_string("bigbluebuttonbn"));
		json_object_object_add(ev, "instance", json_object_new_int64(1 + (int64_t)i));
		json_object_object_add(ev, "eventtype", json_object_new_string("meeting_start"));
		json_object_object_add(ev, "timestart", json_object_new_int64(c->start));
		json_object_object_add(ev, "timeduration", json_object_new_int64(c->duration));
		json_object_array_add(evs, ev);
	}
	json_object_object_add(o, "events", evs);
	json_object_object_add(o, "warnings", json_object_new_array());
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(desc);
	free(cids);
	return out;
}

static char *
answer_bbbs(struct site *st, const char *form)
{
	int64_t *cids = xcalloc(2000, sizeof *cids);
	size_t n = ids(form, "courseids", cids, 2000), i, k;
	json_object *o = json_object_new_object(), *l = json_object_new_array();
	char *intro = prose(st->intro), *big = prose(100000), *out;

	if (n > st->max_courses_asked)
		st->max_courses_asked = n;
	for (k = 0; k < n; k++) {
		for (i = (size_t)(cids[k] - 1000); i < st->nconfs; i += st->ncourses) {
			json_object *a = json_object_new_object();
			char name[64];

			snprintf(name, sizeof name, "Activity %zu", i);
			json_object_object_add(a, "id", json_object_new_int64(1 + (int64_t)i));
			json_object_object_add(a, "coursemodule", json_object_new_int64(9000 + (int64_t)i));
			json_object_object_add(a, "course", json_object_new_int64(cids[k]));
			json_object_object_add(a, "name", json_object_new_string(name));
			json_object_object_add(a, "intro", json_object_new_string(
			    cids[k] == st->big_course ? big : intro));
			json_object_array_add(l, a);
		}
	}
	json_object_object_add(o, "bigbluebuttonbns", l);
	json_object_object_add(o, "warnings", json_object_new_array());
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(intro);
	free(big);
	free(cids);
	return out;
}

static char *
answer_courses(const struct site *st)
{
	struct buf b = { 0 };
	size_t k;

	buf_adds(&b, "[");
	for (k = 0; k < st->ncourses; k++)
		buf_addf(&b, "%s{\"id\":%zu,\"shortname\":\"C%zu\",\"fullname\":\"Course %zu\"}",
		    k ? "," : "", 1000 + k, k, k);
	buf_adds(&b, "]");
	return buf_take(&b);
}

static enum mc_err
site_send(void *arg, const struct http_request *req, struct http_response *resp,
    enum http_fail *fail, struct err *e)
{
	struct site *st = arg;
	size_t limit = req->max_body ? req->max_body : GUARD;
	char fn[96];
	char *body;

	memset(resp, 0, sizeof *resp);
	*fail = HTTP_FAIL_NONE;
	if (strstr(req->url, "/login/token.php")) {
		body = xstrdup("{\"token\":\"0123456789abcdef0123456789abcdef\",\"privatetoken\":null}");
	} else {
		assert_non_null(field(req->body, "wsfunction", fn, sizeof fn));
		if (strcmp(fn, "core_webservice_get_site_info") == 0) {
			body = xstrdup("{\"sitename\":\"Big\",\"userid\":3,\"release\":\"4.5\",\"functions\":["
			    "{\"name\":\"core_enrol_get_users_courses\"},"
			    "{\"name\":\"core_calendar_get_calendar_events\"},"
			    "{\"name\":\"mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses\"}]}");
		} else if (strcmp(fn, "core_enrol_get_users_courses") == 0) {
			body = answer_courses(st);
		} else if (strcmp(fn, "core_calendar_get_calendar_events") == 0) {
			if (++st->ncal == (size_t)st->fail_calendar) {
				*fail = HTTP_FAIL_CONNECT;
				return err_set(e, MC_ERR_TEMP, "POST %s: cannot connect: refused", SITE);
			}
			body = answer_calendar(st, req->body);
		} else {
			assert_string_equal(fn, "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses");
			st->nbbb++;
			body = answer_bbbs(st, req->body);
		}
	}
	if (strlen(body) > limit) {
		free(body);
		*fail = HTTP_FAIL_TOOBIG;
		return err_set(e, MC_ERR_DATA, "POST %s: the answer is over %zu bytes; refused", SITE, limit);
	}
	if (strlen(body) > st->max_read)
		st->max_read = strlen(body);
	resp->status = 200;
	resp->body = body;
	resp->len = strlen(body);
	resp->content_type = xstrdup("application/json");
	return MC_OK;
}

static char *modules_bbb[] = { "bigbluebuttonbn" };

static void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->moodle_url = SITE;
	c->username = "student1";
	c->password = "pw-0123";
	c->modules = modules_bbb;
	c->nmodules = 1;
	c->lookahead_days = 60;
}

/* n conferences over the 60 days ahead, one every step seconds. */
static void
site_init(struct site *st, size_t n, size_t ncourses, size_t desc, int64_t step)
{
	size_t i;

	memset(st, 0, sizeof *st);
	st->nconfs = n;
	st->ncourses = ncourses;
	st->desc = desc;
	st->intro = 100;
	st->big_course = -1;
	st->c = xcalloc(n, sizeof *st->c);
	for (i = 0; i < n; i++)
		st->c[i].start = NOW + 3600 + (int64_t)i * step;
}

struct result {
	struct moodle_site site;
	struct event_list evs;
	struct err e;
	enum mc_err rc;
};

static void
fetch(struct site *st, struct result *r)
{
	struct config cfg;

	config_init(&cfg);
	memset(r, 0, sizeof *r);
	r->rc = moodle_fetch_via(&cfg, site_send, st, NOW, &r->site, &r->evs, &r->e);
}

static void
result_free(struct result *r, struct site *st)
{
	moodle_site_free(&r->site);
	event_list_free(&r->evs);
	free(st->c);
}

/* Every conference once, in order of start, linked to its activity. */
static void
assert_all(const struct site *st, const struct result *r)
{
	size_t i;

	assert_int_equal(r->rc, MC_OK);
	assert_int_equal(r->evs.n, st->nconfs);
	for (i = 0; i < r->evs.n; i++) {
		const struct event *ev = &r->evs.v[i];
		size_t k = (size_t)(ev->id - 5000);
		char name[64], url[128];

		assert_true(k < st->nconfs);
		assert_int_equal(ev->start, st->c[k].start);
		if (i > 0)
			assert_true(r->evs.v[i - 1].start < ev->start ||
			    (r->evs.v[i - 1].start == ev->start && r->evs.v[i - 1].id < ev->id));
		snprintf(name, sizeof name, "Activity %zu", k);
		assert_string_equal(ev->name, name);
		assert_int_equal(ev->cmid, 9000 + (int64_t)k);
		snprintf(url, sizeof url, SITE "/mod/bigbluebuttonbn/view.php?id=%zu", 9000 + k);
		assert_string_equal(ev->url, url);
	}
}

/* 3,000 conferences with 2 KB descriptions: about 6.5 MB of calendar,
 * asked in windows none of whose answers was over the budget. */
static void
test_big_calendar_in_windows(void **state)
{
	struct site st;
	struct result r;

	(void)state;
	site_init(&st, 3000, 12, 2000, 1600);
	fetch(&st, &r);
	assert_all(&st, &r);
	assert_true(st.ncal >= 3);      /* the whole refused, then two or more */
	assert_true(st.ncal <= 10);
	assert_true(st.max_read <= BUDGET);
	assert_int_equal(st.nbbb, 1);
	result_free(&r, &st);
}

/* Long meetings run into the windows after the one they start in:
 * Moodle answers them in each, the client keeps each once. */
static void
test_running_into_windows(void **state)
{
	struct site st;
	struct result r;
	size_t i;

	(void)state;
	site_init(&st, 3000, 12, 2000, 1600);
	for (i = 0; i < st.nconfs; i += 25)
		st.c[i].duration = 20 * DAY;
	fetch(&st, &r);
	assert_all(&st, &r);
	assert_true(st.ncal >= 3);
	result_free(&r, &st);
}

/* A window that fails fails the fetch: nothing is handed over. */
static void
test_window_fails(void **state)
{
	struct site st;
	struct result r;

	(void)state;
	site_init(&st, 3000, 12, 2000, 1600);
	st.fail_calendar = 3;
	fetch(&st, &r);
	assert_int_equal(r.rc, MC_ERR_TEMP);
	assert_int_equal(r.evs.n, 0);
	assert_non_null(strstr(r.e.msg, "core_calendar_get_calendar_events"));
	assert_int_equal(st.nbbb, 0);
	result_free(&r, &st);
}

/* More than the budget in one second cannot be split: refused, naming
 * the second. */
static void
test_one_second_too_big(void **state)
{
	struct site st;
	struct result r;
	size_t i;

	(void)state;
	site_init(&st, 2200, 3, 2000, 800);
	for (i = 0; i < st.nconfs; i++)
		st.c[i].start = NOW + 7200;
	fetch(&st, &r);
	assert_int_equal(r.rc, MC_ERR_DATA);
	assert_int_equal(r.evs.n, 0);
	/* NOW + 7200 = 2027-01-15 10:00:00 UTC */
	assert_non_null(strstr(r.e.msg, "the calendar from 2027-01-15 10:00:00 to 2027-01-15 10:00:00 UTC"));
	assert_non_null(strstr(r.e.msg, "over 2097152 bytes even for one second; refused"));
	result_free(&r, &st);
}

/* 1,200 courses: no request names more than 500 (PHP would drop the
 * fields past max_input_vars). */
static void
test_many_courses(void **state)
{
	struct site st;
	struct result r;

	(void)state;
	site_init(&st, 1200, 1200, 10, 600);
	fetch(&st, &r);
	assert_all(&st, &r);
	assert_true(st.max_courses_asked <= 500);
	assert_int_equal(st.ncal, 3);
	assert_int_equal(st.nbbb, 3);
	result_free(&r, &st);
}

/* Activity lists over the budget are asked for fewer courses; one course
 * whose list alone is too big is refused, naming it. */
static void
test_activity_batches(void **state)
{
	struct site st;
	struct result r;

	(void)state;
	site_init(&st, 2000, 40, 10, 600);
	st.intro = 6000;      /* 12 MB of activity lists */
	fetch(&st, &r);
	assert_all(&st, &r);
	assert_true(st.nbbb >= 4);
	assert_true(st.max_read <= BUDGET);
	result_free(&r, &st);

	site_init(&st, 2000, 40, 10, 600);
	st.big_course = 1017;
	fetch(&st, &r);
	assert_int_equal(r.rc, MC_ERR_DATA);
	assert_int_equal(r.evs.n, 0);
	assert_non_null(strstr(r.e.msg, "the activities of course 1017 answer over 2097152 bytes; refused"));
	result_free(&r, &st);
}

/* A small site is still read in one calendar and one activity request. */
static void
test_small_site(void **state)
{
	struct site st;
	struct result r;

	(void)state;
	site_init(&st, 20, 2, 300, 3600);
	fetch(&st, &r);
	assert_all(&st, &r);
	assert_int_equal(st.ncal, 1);
	assert_int_equal(st.nbbb, 1);
	result_free(&r, &st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_site),
		cmocka_unit_test(test_big_calendar_in_windows),
		cmocka_unit_test(test_running_into_windows),
		cmocka_unit_test(test_window_fails),
		cmocka_unit_test(test_one_second_too_big),
		cmocka_unit_test(test_many_courses),
		cmocka_unit_test(test_activity_batches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
