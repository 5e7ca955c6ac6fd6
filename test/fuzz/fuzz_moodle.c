/* fuzz_moodle: the Moodle client fed one hostile answer among real ones.
 *
 * Input: byte 0 chooses the scene, the rest is the body of the answer to
 * one call; every other call gets the real Moodle 4.5 answer
 * (test/fixtures/, read once from the working directory, which must be
 * the top of the tree).  Scene bits: 0-2 which call (login, site info,
 * enrolments, calendar, BigBlueButton list, course module; 6 and 7 are
 * login and site info again), 3-5 the HTTP status of that answer, 6 a
 * ready token instead of a login, 7 the modules zoom and
 * bigbluebuttonbn instead of bigbluebuttonbn alone.
 *
 * Properties: MC_OK, or an error kind with one clean line that holds no
 * secret of the run (the password, the configured or the login's token,
 * even when an answer echoes it); on MC_OK every string valid UTF-8, the list sorted by start then
 * id, starts and ids positive, links on the site. */
#include "fuzz.h"
#include "moodle.h"

#define F45 "test/fixtures/moodle-4.5/"
#define NOW 1795771374          /* when the 4.5 fixtures were captured */
#define SITE "https://moodle.example.edu"
#define PASSWORD "s3cret-Pass!"
#define TOKEN45 "9d3878163d51641479a5bf6acff30bad"
#define READY_TOKEN "0123456789abcdef0123456789abcdef"

enum { C_LOGIN, C_SITE, C_COURSES, C_EVENTS, C_BBB, C_CM, NCALLS };

static const char *const fn_names[NCALLS] = {
	"login", "core_webservice_get_site_info", "core_enrol_get_users_courses",
	"core_calendar_get_calendar_events",
	"mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses",
	"core_course_get_course_module_by_instance",
};

static const char *const fixture_files[NCALLS] = {
	F45 "token_ok.json", F45 "core_webservice_get_site_info.json",
	F45 "core_enrol_get_users_courses.json",
	F45 "core_calendar_get_calendar_events_courseids.json",
	F45 "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.json", NULL,
};

/* What core_course_get_course_module_by_instance answers for an activity
 * of another module than BigBlueButton. */
static const char cm_answer[] = "{\"cm\":{\"id\":57,\"course\":2,\"module\":24,"
    "\"name\":\"Weekly &amp; live\",\"modname\":\"zoom\",\"instance\":3},\"warnings\":[]}";

static const long statuses[8] = { 200, 200, 200, 200, 403, 404, 500, 302 };

static char *fixtures[NCALLS];

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "fuzz_moodle: cannot open %s (run from the top of the tree)\n", path);
		abort();
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

static void
load_fixtures(void)
{
	int i;

	if (fixtures[0] != NULL)
		return;
	for (i = 0; i < NCALLS; i++)
		fixtures[i] = fixture_files[i] ? slurp(fixture_files[i]) : xstrdup(cm_answer);
}

struct scene {
	int fuzzed;             /* index of the call answered with the input */
	long status;
	const uint8_t *body;
	size_t len;
	size_t ncalls;
	int token45_given;      /* the real login answer was sent */
};

static int
call_of(const struct http_request *req)
{
	const char *p;
	size_t n;
	int i;

	if (strcmp(req->url, SITE "/login/token.php") == 0)
		return C_LOGIN;
	FUZZ_CHECK(strcmp(req->url, SITE "/webservice/rest/server.php?moodlewsrestformat=json") == 0);
	p = strstr(req->body, "wsfunction=");
	FUZZ_CHECK(p != NULL);
	p += strlen("wsfunction=");
	n = strcspn(p, "&");
	for (i = C_SITE; i < NCALLS; i++)
		if (strlen(fn_names[i]) == n && strncmp(fn_names[i], p, n) == 0)
			return i;
	FUZZ_CHECK(!"a call the client should not make");
	return -1;
}

static enum mc_err
scene_send(void *arg, const struct http_request *req, struct http_response *resp,
    enum http_fail *fail, struct err *e)
{
	struct scene *s = arg;
	int c = call_of(req);

	(void)e;
	memset(resp, 0, sizeof *resp);
	*fail = HTTP_FAIL_NONE;
	/* A relogin and one course module call per activity at most. */
	FUZZ_CHECK(++s->ncalls < 200);
	if (c == s->fuzzed) {
		resp->status = s->status;
		resp->body = xmalloc(s->len + 1);
		if (s->len)
			memcpy(resp->body, s->body, s->len);
		resp->body[s->len] = '\0';
		resp->len = s->len;
		if (s->status == 302)
			resp->location = xstrdup(SITE "/login/index.php?a=b");
	} else {
		if (c == C_LOGIN)
			s->token45_given = 1;
		resp->status = 200;
		resp->body = xstrdup(fixtures[c]);
		resp->len = strlen(resp->body);
	}
	resp->content_type = xstrdup("application/json; charset=utf-8");
	return MC_OK;
}

static void
check_text(const char *s)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(utf8_valid(s, strlen(s)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *both[] = { "zoom", "bigbluebuttonbn" };
	static char *bbb[] = { "bigbluebuttonbn" };
	struct scene s = { 0 };
	struct config cfg;
	struct moodle_site site;
	struct event_list evs = { 0 };
	struct err e = { 0 };
	enum mc_err rc;
	size_t i;

	if (size == 0)
		return 0;
	load_fixtures();
	s.fuzzed = (data[0] & 7) % NCALLS;
	s.status = statuses[(data[0] >> 3) & 7];
	s.body = data + 1;
	s.len = size - 1;

	memset(&cfg, 0, sizeof cfg);
	cfg.moodle_url = SITE "/";
	cfg.username = "student1";
	cfg.password = PASSWORD;
	if (data[0] & 0x40)
		cfg.token = READY_TOKEN;
	cfg.modules = (data[0] & 0x80) ? both : bbb;
	cfg.nmodules = (data[0] & 0x80) ? 2 : 1;
	cfg.lookahead_days = 30;

	rc = moodle_fetch_via(&cfg, scene_send, &s, NOW, &site, &evs, &e);
	if (rc != MC_OK) {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(strstr(e.msg, PASSWORD) == NULL);
		/* The token of the real login answer is a secret once handed
		 * out; before, a fuzzed answer may hold the same text. */
		if (s.token45_given)
			FUZZ_CHECK(strstr(e.msg, TOKEN45) == NULL);
		if (cfg.token != NULL)
			FUZZ_CHECK(strstr(e.msg, READY_TOKEN) == NULL);
	} else {
		check_text(site.sitename);
		check_text(site.release);
		check_text(site.username);
		check_text(site.fullname);
		FUZZ_CHECK(site.userid > 0);
		for (i = 0; i < evs.n; i++) {
			const struct event *ev = &evs.v[i];

			check_text(ev->course_short);
			check_text(ev->course_name);
			check_text(ev->name);
			check_text(ev->module);
			check_text(ev->url);
			check_text(ev->site_name);
			FUZZ_CHECK(strncmp(ev->url, SITE "/", strlen(SITE "/")) == 0);
			FUZZ_CHECK(ev->id > 0 && ev->start > 0 && ev->duration >= 0);
			if (i > 0)
				FUZZ_CHECK(evs.v[i - 1].start < ev->start ||
				    (evs.v[i - 1].start == ev->start && evs.v[i - 1].id <= ev->id));
		}
	}
	moodle_site_free(&site);
	event_list_free(&evs);
	return 0;
}
