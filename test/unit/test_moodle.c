/* moodle: the client fed the real Moodle 4.5 answers (test/fixtures/) and
 * every error a site gives, through moodle_fetch_via's exchange seam. */
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

#define F45 "test/fixtures/moodle-4.5/"
#define FC "test/fixtures/moodle-constructed/"
#define NOW 1795771374          /* when the 4.5 fixtures were captured */
#define SITE "https://moodle.example.edu"
#define PASSWORD "s3cret-Pass!"
#define TOKEN45 "9d3878163d51641479a5bf6acff30bad"
#define READY_TOKEN "0123456789abcdef0123456789abcdef"

/* ---- a scripted Moodle ------------------------------------------------ */

/* An answer to the call named fn ("login" for token.php).  The first
 * route for a call that has answers left is used. */
struct route {
	const char *fn;
	long status;            /* -1: the connection fails */
	const char *file;       /* body from this file, or ... */
	const char *body;       /* ... this text, or ... */
	char *(*make)(const char *form); /* ... what this makes of the request */
	const char *location, *retry_after, *ctype;
	int times;              /* 0 = every time */
	int used;
};

struct stub {
	struct route *r;
	size_t n;
	char *calls[64];        /* fn of each request */
	char *forms[64];        /* its form body */
	size_t ncalls;
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

/* The value of form field name (percent-decoded), or NULL. */
static char *
form_get(const char *form, const char *name)
{
	const char *p = form;

	while (p && *p) {
		const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
		size_t flen = amp ? (size_t)(amp - p) : strlen(p);
		struct buf key = { 0 }, val = { 0 };
		const char *q;
		int match;

		if (eq == NULL || (amp && eq > amp))
			eq = p + flen;
		for (q = p; q < p + flen; q++) {
			struct buf *b = q < eq ? &key : &val;
			char c = *q;

			if (q == eq)
				continue;
			if (c == '%' && q + 2 < p + flen + 1) {
				char hex[3] = { q[1], q[2], 0 };

				c = (char)strtol(hex, NULL, 16);
				q += 2;
			} else if (c == '+') {
				c = ' ';
			}
			buf_add(b, &c, 1);
		}
		match = key.data && strcmp(key.data, name) == 0;
		buf_free(&key);
		if (match)
			return buf_take(&val);
		buf_free(&val);
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static enum mc_err
stub_send(void *arg, const struct http_request *req, struct http_response *resp,
    enum http_fail *fail, struct err *e)
{
	struct stub *s = arg;
	char *fn;
	size_t i;

	memset(resp, 0, sizeof *resp);
	*fail = HTTP_FAIL_NONE;
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->content_type, "application/x-www-form-urlencoded");
	if (strcmp(req->url, SITE "/login/token.php") == 0) {
		fn = xstrdup("login");
	} else {
		assert_string_equal(req->url, SITE "/webservice/rest/server.php?moodlewsrestformat=json");
		fn = form_get(req->body, "wsfunction");
		assert_non_null(fn);
	}
	assert_true(s->ncalls < 64);
	s->calls[s->ncalls] = fn;
	s->forms[s->ncalls++] = xstrndup(req->body, req->body_len);
	for (i = 0; i < s->n; i++) {
		struct route *r = &s->r[i];

		if (strcmp(r->fn, fn) != 0 || (r->times && r->used >= r->times))
			continue;
		r->used++;
		if (r->status < 0) {
			*fail = HTTP_FAIL_CONNECT;
			return err_set(e, MC_ERR_TEMP, "POST %s: cannot connect: refused", SITE);
		}
		resp->status = r->status;
		resp->body = r->file ? slurp(r->file) : r->make ? r->make(req->body) : xstrdup(r->body);
		resp->len = strlen(resp->body);
		resp->location = xstrdup(r->location);
		resp->retry_after = xstrdup(r->retry_after);
		resp->content_type = xstrdup(r->ctype ? r->ctype : "application/json");
		return MC_OK;
	}
	fail_msg("no route for %s", fn);
	return MC_ERR_DATA;
}

static void
stub_free(struct stub *s)
{
	size_t i;

	for (i = 0; i < s->ncalls; i++) {
		free(s->calls[i]);
		free(s->forms[i]);
	}
	s->ncalls = 0;
}

/* The calls made, as "fn,fn,...". */
static char *
calls(const struct stub *s)
{
	struct buf b = { 0 };
	size_t i;

	for (i = 0; i < s->ncalls; i++)
		buf_addf(&b, "%s%s", i ? "," : "", s->calls[i]);
	return buf_take(&b);
}

static char *modules_bbb[] = { "bigbluebuttonbn" };

static void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->moodle_url = SITE "/";
	c->username = "student1";
	c->password = PASSWORD;
	c->modules = modules_bbb;
	c->nmodules = 1;
	c->lookahead_days = 30;
}

struct run {
	struct moodle_site site;
	struct event_list evs;
	struct err e;
	enum mc_err rc;
	char *calls;
};

static void
run(const struct config *cfg, struct stub *s, struct run *r)
{
	memset(r, 0, sizeof *r);
	r->rc = moodle_fetch_via(cfg, stub_send, s, NOW, &r->site, &r->evs, &r->e);
	r->calls = calls(s);
	/* No secret in any message, whatever happened. */
	assert_null(strstr(r->e.msg, PASSWORD));
	assert_null(strstr(r->e.msg, TOKEN45));
	assert_null(strstr(r->e.msg, READY_TOKEN));
}

static void
run_free(struct run *r, struct stub *s)
{
	moodle_site_free(&r->site);
	event_list_free(&r->evs);
	free(r->calls);
	stub_free(s);
}

#define ROUTES_45(calendar, bbb) \
	{ .fn = "login", .status = 200, .file = F45 "token_ok.json" }, \
	{ .fn = "core_webservice_get_site_info", .status = 200, .file = F45 "core_webservice_get_site_info.json" }, \
	{ .fn = "core_enrol_get_users_courses", .status = 200, .file = F45 "core_enrol_get_users_courses.json" }, \
	{ .fn = "core_calendar_get_calendar_events", .status = 200, .file = F45 calendar }, \
	{ .fn = "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses", .status = 200, .file = F45 bbb }

static void
expect_event(const struct event *ev, int64_t id, int64_t course, const char *cshort,
    const char *name, int64_t cmid, int64_t start)
{
	char url[128];

	assert_int_equal(ev->id, id);
	assert_int_equal(ev->course_id, course);
	assert_string_equal(ev->course_short, cshort);
	assert_string_equal(ev->course_name, course == 2 ? "Real Moodle Course One" : "Real Moodle Course Two");
	assert_string_equal(ev->name, name);
	assert_string_equal(ev->module, "bigbluebuttonbn");
	assert_int_equal(ev->cmid, cmid);
	snprintf(url, sizeof url, SITE "/mod/bigbluebuttonbn/view.php?id=%lld", (long long)cmid);
	assert_string_equal(ev->url, url);
	assert_string_equal(ev->site_name, "Real Moodle Test Site");
	assert_int_equal(ev->start, start);
	assert_int_equal(ev->duration, 0);
}

static void
test_fixtures_45(void **state)
{
	struct route routes[] = { ROUTES_45("core_calendar_get_calendar_events_courseids.json",
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json") };
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;
	char *v;

	(void)state;
	config_init(&cfg);
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events,mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses");
	assert_string_equal(s.forms[0], "username=student1&password=s3cret-Pass%21&service=moodle_mobile_app");
	assert_string_equal(s.forms[1], "wstoken=" TOKEN45 "&wsfunction=core_webservice_get_site_info");
	assert_string_equal(s.forms[2], "wstoken=" TOKEN45 "&wsfunction=core_enrol_get_users_courses"
	    "&userid=3&returnusercount=0");
	assert_string_equal(s.forms[3], "wstoken=" TOKEN45 "&wsfunction=core_calendar_get_calendar_events"
	    "&events%5Bcourseids%5D%5B0%5D=2&events%5Bcourseids%5D%5B1%5D=3"
	    "&options%5Buserevents%5D=0&options%5Bsiteevents%5D=0"
	    "&options%5Btimestart%5D=1795684974&options%5Btimeend%5D=1798363374");
	assert_string_equal(s.forms[4], "wstoken=" TOKEN45
	    "&wsfunction=mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"
	    "&courseids%5B0%5D=2&courseids%5B1%5D=3");
	v = form_get(s.forms[3], "options[timeend]");
	assert_string_equal(v, "1798363374");
	free(v);

	assert_int_equal(r.site.userid, 3);
	assert_string_equal(r.site.sitename, "Real Moodle Test Site");
	assert_string_equal(r.site.release, "4.5 (Build: 20241007)");
	assert_string_equal(r.site.username, "student1");
	assert_string_equal(r.site.fullname, "Stu Dent");
	assert_int_equal(r.site.ncourses, 2);
	assert_int_equal(r.site.nselected, 2);

	assert_int_equal(r.evs.n, 5);
	expect_event(&r.evs.v[0], 5, 2, "RM101", "BBB already open (opened 1h ago, closes in 2h)", 7, 1795767774);
	expect_event(&r.evs.v[1], 1, 2, "RM101", "BBB opens in 10 minutes", 3, 1795771974);
	expect_event(&r.evs.v[2], 2, 3, "RM202", "BBB opens in 2 hours", 4, 1795778574);
	expect_event(&r.evs.v[3], 3, 2, "RM101", "BBB opens in 1 day", 5, 1795857774);
	expect_event(&r.evs.v[4], 4, 3, "RM202", "BBB opens in 3 days", 6, 1796030574);
	run_free(&r, &s);
}

static void
test_fixtures_45_after_edit(void **state)
{
	struct route routes[] = { ROUTES_45("core_calendar_get_calendar_events_courseids_after_edit.json",
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses_after_edit.json") };
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 4);
	expect_event(&r.evs.v[0], 5, 2, "RM101", "BBB already open (opened 1h ago, closes in 2h)", 7, 1795767774);
	expect_event(&r.evs.v[1], 1, 2, "RM101", "BBB opens in 10 minutes", 3, 1795771974);
	expect_event(&r.evs.v[2], 2, 3, "RM202", "BBB opens in 2 hours", 4, 1795778574);
	expect_event(&r.evs.v[3], 3, 2, "RM101", "BBB opens in 1 day", 5, 1795879374);
	run_free(&r, &s);
}

/* Without course ids the calendar gives nothing: the fixture of that. */
static void
test_fixture_no_courseids(void **state)
{
	struct route routes[] = { ROUTES_45("core_calendar_get_calendar_events.json",
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json") };
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 0);
	/* No conference: no activity call. */
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events");
	run_free(&r, &s);
}

static void
test_course_filter(void **state)
{
	struct route routes[] = { ROUTES_45("core_calendar_get_calendar_events_courseids.json",
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses_noparams.json") };
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	char *by_short[] = { "RM202" }, *by_id[] = { "2" }, *none[] = { "RM999" };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	cfg.courses = by_short;
	cfg.ncourses = 1;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.site.ncourses, 2);
	assert_int_equal(r.site.nselected, 1);
	assert_non_null(strstr(s.forms[3], "&events%5Bcourseids%5D%5B0%5D=3&options"));
	assert_non_null(strstr(s.forms[4], "&courseids%5B0%5D=3"));
	assert_null(strstr(s.forms[4], "courseids%5B1%5D"));
	assert_int_equal(r.evs.n, 2);
	expect_event(&r.evs.v[0], 2, 3, "RM202", "BBB opens in 2 hours", 4, 1795778574);
	expect_event(&r.evs.v[1], 4, 3, "RM202", "BBB opens in 3 days", 6, 1796030574);
	run_free(&r, &s);

	cfg.courses = by_id;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 3);
	assert_int_equal(r.evs.v[0].id, 5);
	assert_int_equal(r.evs.v[2].id, 3);
	run_free(&r, &s);

	/* No course selected: no calendar call at all. */
	cfg.courses = none;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 0);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses");
	run_free(&r, &s);
}

/* A cm answer made from the BigBlueButton fixture, as a site lacking the
 * BigBlueButton list function (or for another module) would give it. */
static char *
cm_answer(const char *form)
{
	char *module = form_get(form, "module"), *instance = form_get(form, "instance");
	char *all = slurp(F45 "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"), *out;
	json_object *j = json_tokener_parse(all), *l, *a;
	size_t i;

	out = xstrdup("{\"exception\":\"dml_missing_record_exception\",\"errorcode\":\"invalidrecord\","
	    "\"message\":\"Can't find data record in database table course_modules.\"}");
	if (strcmp(module, "assign") == 0 && strcmp(instance, "1") == 0) {
		free(out);
		out = xstrdup("{\"cm\":{\"id\":8,\"course\":2,\"module\":1,\"name\":\"Essay due in 2 days\","
		    "\"modname\":\"assign\",\"instance\":1},\"warnings\":[]}");
	}
	json_object_object_get_ex(j, "bigbluebuttonbns", &l);
	for (i = 0; strcmp(module, "bigbluebuttonbn") == 0 && i < json_object_array_length(l); i++) {
		json_object *id, *cm, *name;

		a = json_object_array_get_idx(l, i);
		json_object_object_get_ex(a, "id", &id);
		json_object_object_get_ex(a, "coursemodule", &cm);
		json_object_object_get_ex(a, "name", &name);
		if (json_object_get_int64(id) == atoll(instance) && atoll(instance) != 4) {
			free(out);
			out = xasprintf("{\"cm\":{\"id\":%lld,\"course\":2,\"module\":25,\"name\":\"%s\","
			    "\"modname\":\"bigbluebuttonbn\",\"instance\":%s},\"warnings\":[]}",
			    (long long)json_object_get_int64(cm), json_object_get_string(name), instance);
		}
	}
	json_object_put(j);
	free(all);
	free(module);
	free(instance);
	return out;
}

/* Site info without the named functions. */
static char *site_info_without[4];

static char *
site_info_lacking(const char *form)
{
	char *all = slurp(F45 "core_webservice_get_site_info.json"), *out;
	json_object *j = json_tokener_parse(all), *fns, *keep = json_object_new_array();
	size_t i, k;

	(void)form;
	json_object_object_get_ex(j, "functions", &fns);
	for (i = 0; i < json_object_array_length(fns); i++) {
		json_object *f = json_object_array_get_idx(fns, i), *name;
		int drop = 0;

		json_object_object_get_ex(f, "name", &name);
		for (k = 0; site_info_without[k]; k++)
			if (strcmp(json_object_get_string(name), site_info_without[k]) == 0)
				drop = 1;
		if (!drop)
			json_object_array_add(keep, json_object_get(f));
	}
	json_object_object_add(j, "functions", keep);
	out = xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	free(all);
	return out;
}

static void
test_without_bbb_function(void **state)
{
	struct route routes[] = {
		{ .fn = "login", .status = 200, .file = F45 "token_ok.json" },
		{ .fn = "core_webservice_get_site_info", .status = 200, .make = site_info_lacking },
		{ .fn = "core_enrol_get_users_courses", .status = 200, .file = F45 "core_enrol_get_users_courses.json" },
		{ .fn = "core_calendar_get_calendar_events", .status = 200,
		  .file = F45 "core_calendar_get_calendar_events_courseids.json" },
		{ .fn = "core_course_get_course_module_by_instance", .status = 200, .make = cm_answer },
	};
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;
	char *v;

	(void)state;
	config_init(&cfg);
	site_info_without[0] = "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses";
	site_info_without[1] = NULL;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events,core_course_get_course_module_by_instance,"
	    "core_course_get_course_module_by_instance,core_course_get_course_module_by_instance,"
	    "core_course_get_course_module_by_instance,core_course_get_course_module_by_instance");
	v = form_get(s.forms[4], "module");
	assert_string_equal(v, "bigbluebuttonbn");
	free(v);
	assert_int_equal(r.evs.n, 5);
	expect_event(&r.evs.v[0], 5, 2, "RM101", "BBB already open (opened 1h ago, closes in 2h)", 7, 1795767774);
	expect_event(&r.evs.v[3], 3, 2, "RM101", "BBB opens in 1 day", 5, 1795857774);
	/* Instance 4 is "gone" in cm_answer: the course page and the event's name. */
	assert_int_equal(r.evs.v[4].id, 4);
	assert_int_equal(r.evs.v[4].cmid, 0);
	assert_string_equal(r.evs.v[4].name, "BBB opens in 3 days");
	assert_string_equal(r.evs.v[4].url, SITE "/course/view.php?id=3");
	run_free(&r, &s);

	/* Neither function: every link is the course page. */
	site_info_without[1] = "core_course_get_course_module_by_instance";
	site_info_without[2] = NULL;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events");
	assert_int_equal(r.evs.n, 5);
	assert_string_equal(r.evs.v[1].name, "BBB opens in 10 minutes");
	assert_string_equal(r.evs.v[1].url, SITE "/course/view.php?id=2");
	assert_string_equal(r.evs.v[2].url, SITE "/course/view.php?id=3");
	run_free(&r, &s);

	/* Without the calendar: unavailable, naming it and the release. */
	site_info_without[0] = "core_calendar_get_calendar_events";
	site_info_without[1] = NULL;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_ERR_UNAVAILABLE);
	assert_non_null(strstr(r.e.msg, "core_calendar_get_calendar_events"));
	assert_non_null(strstr(r.e.msg, "4.5 (Build: 20241007)"));
	assert_string_equal(r.calls, "login,core_webservice_get_site_info");
	run_free(&r, &s);
	site_info_without[0] = NULL;
}

static void
test_other_module(void **state)
{
	struct route routes[] = {
		ROUTES_45("core_calendar_get_calendar_events_courseids.json",
		    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"),
		{ .fn = "core_course_get_course_module_by_instance", .status = 200, .make = cm_answer },
	};
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	char *mods[] = { "assign" }, *both[] = { "bigbluebuttonbn", "assign" };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	cfg.modules = mods;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events,core_course_get_course_module_by_instance");
	assert_string_equal(s.forms[4], "wstoken=" TOKEN45
	    "&wsfunction=core_course_get_course_module_by_instance&module=assign&instance=1");
	assert_int_equal(r.evs.n, 1);
	assert_int_equal(r.evs.v[0].id, 6);
	assert_string_equal(r.evs.v[0].module, "assign");
	assert_string_equal(r.evs.v[0].name, "Essay due in 2 days");
	assert_int_equal(r.evs.v[0].cmid, 8);
	assert_string_equal(r.evs.v[0].url, SITE "/mod/assign/view.php?id=8");
	run_free(&r, &s);

	cfg.modules = both;
	cfg.nmodules = 2;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 6);
	assert_int_equal(r.evs.v[4].id, 6);
	assert_string_equal(r.evs.v[4].url, SITE "/mod/assign/view.php?id=8");
	run_free(&r, &s);
}

static void
test_ready_token(void **state)
{
	struct route routes[] = { ROUTES_45("core_calendar_get_calendar_events_courseids.json",
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json") };
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	cfg.username = NULL;
	cfg.password = NULL;
	cfg.token = READY_TOKEN;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(s.calls[0], "core_webservice_get_site_info");
	assert_string_equal(s.forms[0], "wstoken=" READY_TOKEN "&wsfunction=core_webservice_get_site_info");
	assert_int_equal(r.evs.n, 5);
	run_free(&r, &s);
}

/* One failing answer to fn, everything else as the 4.5 site answers. */
struct fault {
	const char *fn, *file, *body, *location, *retry_after, *ctype;
	long status;
	int token_only;             /* configure a ready token, no password */
	enum mc_err kind;
	const char *msg;            /* must be in the message */
	const char *calls;          /* the calls made */
};

static void
check_fault(const struct fault *f)
{
	struct route routes[] = {
		{ .fn = f->fn, .status = f->status, .file = f->file, .body = f->body,
		  .location = f->location, .retry_after = f->retry_after, .ctype = f->ctype },
		ROUTES_45("core_calendar_get_calendar_events_courseids.json",
		    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"),
	};
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;

	config_init(&cfg);
	if (f->token_only) {
		cfg.username = cfg.password = NULL;
		cfg.token = READY_TOKEN;
	}
	run(&cfg, &s, &r);
	if (r.rc != f->kind || strstr(r.e.msg, f->msg) == NULL ||
	    (f->calls && strcmp(r.calls, f->calls) != 0))
		fail_msg("%s %s: got kind %d (want %d), message \"%s\" (want \"%s\"), calls %s",
		    f->fn, f->file ? f->file : f->body ? f->body : "", r.rc, f->kind, r.e.msg, f->msg, r.calls);
	assert_null(strchr(r.e.msg, '\n'));
	assert_int_equal(r.evs.n, 0);
	run_free(&r, &s);
}

#define C_LOGIN "login"
#define C_SITE C_LOGIN ",core_webservice_get_site_info"
#define C_COURSES C_SITE ",core_enrol_get_users_courses"
#define C_EVENTS C_COURSES ",core_calendar_get_calendar_events"
#define C_BBB C_EVENTS ",mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"

static const char html_login[] =
	"<!DOCTYPE html>\n<html  dir=\"ltr\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
	"    <title>Log in to the site | Real Moodle</title>\n</head><body></body></html>\n";

static void
test_errors(void **state)
{
	static const struct fault faults[] = {
		{ "login", F45 "token_wrong_password.json", NULL, NULL, NULL, NULL, 200, 0,
		  MC_ERR_AUTH, "Moodle refused the username or password", C_LOGIN },
		{ "login", F45 "token_unknown_service.json", NULL, NULL, NULL, NULL, 200, 0,
		  MC_ERR_CONFIG, "Enable web services for mobile devices", C_LOGIN },
		{ "login", FC "login-enablewsdescription.json", NULL, NULL, NULL, NULL, 200, 0,
		  MC_ERR_CONFIG, "Enable web services", C_LOGIN },
		{ "login", NULL, "{\"error\":\"The site is undergoing maintenance\",\"errorcode\":\"sitemaintenance\","
		  "\"stacktrace\":null,\"debuginfo\":null,\"reproductionlink\":null}", NULL, NULL, NULL, 200, 0,
		  MC_ERR_TEMP, "maintenance mode", C_LOGIN },
		{ "login", NULL, "{\"error\":\"Your password has expired.\",\"errorcode\":\"passwordisexpired\","
		  "\"stacktrace\":null,\"debuginfo\":null,\"reproductionlink\":null}", NULL, NULL, NULL, 200, 0,
		  MC_ERR_AUTH, "passwordisexpired", C_LOGIN },
		{ "login", NULL, "{\"privatetoken\":null}", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "no usable token", C_LOGIN },
		{ "login", NULL, "", NULL, "300", "text/html", 503, 0,
		  MC_ERR_TEMP, "HTTP 503, retry after 300 s", C_LOGIN },
		{ "login", NULL, "", "https://sso.example.edu/idp?SAMLRequest=abc", NULL, "text/html", 303, 0,
		  MC_ERR_CONFIG, "redirects (HTTP 303) to https://sso.example.edu/idp?***: check [moodle] url", C_LOGIN },
		{ "login", NULL, html_login, NULL, NULL, "text/html", 200, 0,
		  MC_ERR_DATA, "JSON, not quoted: the request carried the password; check [moodle] url", C_LOGIN },
		{ "login", NULL, "<!DOCTYPE html><html><head><title>Log in</title>", NULL, NULL, "text/html", 200, 0,
		  MC_ERR_DATA, "HTML or XML page instead of JSON", C_LOGIN },
		{ "login", NULL, "Not Found", NULL, NULL, "text/plain", 404, 0,
		  MC_ERR_CONFIG, "not found (HTTP 404): check [moodle] url", C_LOGIN },
		{ "login", NULL, NULL, NULL, NULL, NULL, -1, 0,
		  MC_ERR_TEMP, "Moodle login: POST https://moodle.example.edu: cannot connect", C_LOGIN },
		{ "core_webservice_get_site_info", F45 "core_webservice_get_site_info_invalid_token.json",
		  NULL, NULL, NULL, NULL, 200, 1, MC_ERR_AUTH,
		  "the token was refused (invalidtoken: Invalid token - token not found); make a new token",
		  "core_webservice_get_site_info" },
		{ "core_webservice_get_site_info", FC "rest-accessexception.json",
		  NULL, NULL, NULL, NULL, 200, 1, MC_ERR_AUTH,
		  "the token was refused (accessexception: Access control exception)",
		  "core_webservice_get_site_info" },
		{ "core_webservice_get_site_info", FC "rest-accessexception-debug.json",
		  NULL, NULL, NULL, NULL, 200, 1, MC_ERR_AUTH,
		  "Access control exception; Invalid token - token expired",
		  "core_webservice_get_site_info" },
		{ "core_webservice_get_site_info", FC "rest-sitemaintenance.json",
		  NULL, NULL, NULL, NULL, 200, 0, MC_ERR_TEMP, "maintenance mode", C_SITE },
		{ "core_webservice_get_site_info", NULL, "", NULL, NULL, NULL, 403, 0,
		  MC_ERR_CONFIG, "REST protocol disabled on this site", C_SITE },
		{ "core_webservice_get_site_info", NULL, "<html><body>Service Unavailable</body></html>",
		  NULL, "300", "text/html", 503, 0, MC_ERR_TEMP, "retry after 300 s", C_SITE },
		{ "core_webservice_get_site_info", NULL, "", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "empty answer", C_SITE },
		{ "core_webservice_get_site_info", NULL, "{\"sitename\":\"Real Moodle Test Site\",\"username\":\"stud",
		  NULL, NULL, NULL, 200, 0, MC_ERR_DATA,
		  "truncated JSON (52 bytes): \"{\"sitename\":\"Real Moodle Test Site\",\"username\":\"stud\"", C_SITE },
		{ "core_webservice_get_site_info", NULL, "{\"sitename\":1} trailing", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "broken or truncated JSON", C_SITE },
		{ "core_webservice_get_site_info", NULL, "Internal error", NULL, NULL, "text/html", 500, 0,
		  MC_ERR_UNAVAILABLE, "the site failed (HTTP 500)", C_SITE },
		{ "core_webservice_get_site_info", NULL, "[]", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "lacks userid", C_SITE },
		{ "core_enrol_get_users_courses", F45 "core_enrol_get_users_courses_missing_param.json",
		  NULL, NULL, NULL, NULL, 200, 0, MC_ERR_DATA,
		  "core_enrol_get_users_courses rejected moodlecord's parameters (invalidparameter: "
		  "Invalid parameter value detected)", C_COURSES },
		{ "core_enrol_get_users_courses", NULL, "{\"events\":[]}", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "not a list of courses", C_COURSES },
		{ "core_calendar_get_calendar_events", NULL,
		  "{\"events\":[{\"id\":\"x\",\"name\":\"n\",\"courseid\":2,\"modulename\":\"bigbluebuttonbn\"}],\"warnings\":[]}",
		  NULL, NULL, NULL, 200, 0, MC_ERR_DATA, "bad id or time", C_EVENTS },
		/* A start before 1970 cannot be stored: refused before anything is posted. */
		{ "core_calendar_get_calendar_events", NULL,
		  "{\"events\":[{\"id\":9,\"name\":\"n\",\"courseid\":2,\"modulename\":\"bigbluebuttonbn\","
		  "\"instance\":1,\"timestart\":-5,\"timeduration\":0}],\"warnings\":[]}",
		  NULL, NULL, NULL, 200, 0, MC_ERR_DATA, "bad id or time", C_EVENTS },
		{ "core_calendar_get_calendar_events", NULL, "{\"warnings\":[]}", NULL, NULL, NULL, 200, 0,
		  MC_ERR_DATA, "no events list", C_EVENTS },
		{ "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses", F45 "invalid_wsfunction.json",
		  NULL, NULL, NULL, NULL, 200, 0, MC_ERR_UNAVAILABLE,
		  "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses: this site (Moodle 4.5 (Build: 20241007)) "
		  "does not have this function", C_BBB },
		{ "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses", NULL, "{\"bigbluebuttonbns\":[",
		  NULL, NULL, NULL, 200, 0, MC_ERR_DATA, "truncated JSON (21 bytes)", C_BBB },
		/* A site or proxy echoing a secret: the quote shows "***". */
		{ "core_webservice_get_site_info", NULL, "{\"exception\":\"moodle_exception\","
		  "\"errorcode\":\"generalexceptionmessage\",\"message\":\"wstoken=" TOKEN45 " rejected\"}",
		  NULL, NULL, NULL, 200, 0, MC_ERR_DATA, "(generalexceptionmessage: wstoken=*** rejected)", C_SITE },
		{ "login", NULL, "<html>password=" PASSWORD " is wrong</html>", NULL, NULL, "text/html", 200, 0,
		  MC_ERR_DATA, "JSON, not quoted: the request carried the password", C_LOGIN },
		{ "core_webservice_get_site_info", NULL, "{\"exception\":\"moodle_exception\","
		  "\"errorcode\":\"invalidtoken\",\"message\":\"Invalid token\",\"debuginfo\":\"token "
		  READY_TOKEN "\"}", NULL, NULL, NULL, 200, 1, MC_ERR_AUTH, "Invalid token; token ***)",
		  "core_webservice_get_site_info" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof faults / sizeof faults[0]; i++)
		check_fault(&faults[i]);
}

/* invalidtoken with a password: one new login, then on; refused again:
 * stop, no third login. */
static void
test_relogin(void **state)
{
	struct route once[] = {
		{ .fn = "core_webservice_get_site_info", .status = 200, .times = 1,
		  .file = F45 "core_webservice_get_site_info_invalid_token.json" },
		{ .fn = "login", .status = 200, .times = 1, .file = F45 "token_ok.json" },
		{ .fn = "login", .status = 200, .file = FC "login-success.json" },
		ROUTES_45("core_calendar_get_calendar_events_courseids.json",
		    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"),
	};
	struct route always[] = {
		{ .fn = "core_calendar_get_calendar_events", .status = 200,
		  .file = FC "rest-accessexception.json" },
		ROUTES_45("core_calendar_get_calendar_events_courseids.json",
		    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"),
	};
	struct stub s = { once, sizeof once / sizeof once[0], { 0 }, { 0 }, 0 };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,login,core_webservice_get_site_info,"
	    "core_enrol_get_users_courses,core_calendar_get_calendar_events,"
	    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses");
	/* The new token is the one used from then on. */
	assert_string_equal(s.forms[3], "wstoken=d80dce7db13c5e36f3135ff2060fb0f7"
	    "&wsfunction=core_webservice_get_site_info");
	assert_int_equal(r.evs.n, 5);
	run_free(&r, &s);

	s.r = always;
	s.n = sizeof always / sizeof always[0];
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_ERR_AUTH);
	assert_non_null(strstr(r.e.msg, "accessexception"));
	assert_non_null(strstr(r.e.msg, "also after a new login"));
	assert_string_equal(r.calls, "login,core_webservice_get_site_info,core_enrol_get_users_courses,"
	    "core_calendar_get_calendar_events,login,core_calendar_get_calendar_events");
	run_free(&r, &s);
}

static const char funny_events[] =
	"{\"events\":[{\"id\":41,\"name\":\"Q&amp;A \\ud83c\\udf89 @everyone **bold** &lt;b&gt; is scheduled for\","
	"\"description\":\"\",\"format\":1,\"courseid\":2,\"categoryid\":null,\"groupid\":null,\"userid\":2,"
	"\"repeatid\":null,\"modulename\":\"bigbluebuttonbn\",\"instance\":99,\"eventtype\":\"meeting_start\","
	"\"timestart\":1795771974,\"timeduration\":null,\"visible\":1,\"sequence\":1,\"timemodified\":1795771374,"
	"\"subscriptionid\":null},"
	"{\"id\":42,\"name\":\"Caf\\u00e9 \\u2013 &quot;Tea&quot; &#39;n&#039; &#x1F600; &bogus; &#0;\","
	"\"courseid\":3,\"modulename\":\"zoom\",\"instance\":7,\"eventtype\":\"zoom\","
	"\"timestart\":1795778574,\"timeduration\":3600}],\"warnings\":[]}";

static void
test_names(void **state)
{
	struct route routes[] = {
		{ .fn = "core_calendar_get_calendar_events", .status = 200, .body = funny_events },
		{ .fn = "core_course_get_course_module_by_instance", .status = 200,
		  .body = "{\"exception\":\"require_login_exception\",\"errorcode\":\"requireloginerror\","
		  "\"message\":\"Course or activity not accessible.\"}" },
		ROUTES_45("core_calendar_get_calendar_events_courseids.json",
		    "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json"),
	};
	struct stub s = { routes, sizeof routes / sizeof routes[0], { 0 }, { 0 }, 0 };
	char *mods[] = { "bigbluebuttonbn", "zoom" };
	struct config cfg;
	struct run r;

	(void)state;
	config_init(&cfg);
	cfg.modules = mods;
	cfg.nmodules = 2;
	run(&cfg, &s, &r);
	assert_int_equal(r.rc, MC_OK);
	assert_int_equal(r.evs.n, 2);
	/* Instance 99 is not in the activity list: the event's own name. */
	assert_string_equal(r.evs.v[0].name, "Q&A \xf0\x9f\x8e\x89 @everyone **bold** <b>");
	assert_string_equal(r.evs.v[0].url, SITE "/course/view.php?id=2");
	assert_int_equal(r.evs.v[0].duration, 0);
	assert_string_equal(r.evs.v[1].name,
	    "Caf\xc3\xa9 \xe2\x80\x93 \"Tea\" 'n' \xf0\x9f\x98\x80 &bogus; \xef\xbf\xbd");
	assert_string_equal(r.evs.v[1].module, "zoom");
	assert_int_equal(r.evs.v[1].duration, 3600);
	assert_int_equal(r.evs.v[1].cmid, 0);
	assert_string_equal(r.evs.v[1].url, SITE "/course/view.php?id=3");
	run_free(&r, &s);
}

static void
test_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Q&amp;A", "Q&A" },
		{ "&amp;amp;", "&amp;" },            /* decoded once */
		{ "&lt;&gt;&quot;&#39;&#039;&apos;", "<>\"'''" },
		{ "&#233;&#xE9;&#XE9;&eacute;", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" },
		{ "&#128512;", "\xf0\x9f\x98\x80" },
		{ "&#xD800;&#x110000;&#99999999999999999999;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "a & b &c &; &#; &#x; &amp", "a & b &c &; &#; &#x; &amp" },
		{ "&nbsp;&ndash;&hellip;", "\xc2\xa0\xe2\x80\x93\xe2\x80\xa6" },
		{ "ok \xff end", "ok \xef\xbf\xbd end" },              /* invalid byte */
		{ "\xc3", "\xef\xbf\xbd" },                            /* cut sequence */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },            /* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xf0\x9f\x8e\x89 fine", "\xf0\x9f\x8e\x89 fine" },
		{ "", "" },
	};
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t = moodle_text(cases[i].in, strlen(cases[i].in));
		assert_string_equal(t, cases[i].out);
		assert_true(utf8_valid(t, strlen(t)));
		free(t);
	}
	t = moodle_text("a\0b", 3);
	assert_string_equal(t, "a\xef\xbf\xbd" "b");
	free(t);
	t = moodle_text(NULL, 0);
	assert_string_equal(t, "");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_45),
		cmocka_unit_test(test_fixtures_45_after_edit),
		cmocka_unit_test(test_fixture_no_courseids),
		cmocka_unit_test(test_course_filter),
		cmocka_unit_test(test_without_bbb_function),
		cmocka_unit_test(test_other_module),
		cmocka_unit_test(test_ready_token),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_relogin),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
