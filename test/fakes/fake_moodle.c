/* fake_moodle: a Moodle site on loopback for the tests, answering the way
 * the real one does (test/fixtures/moodle-4.5 holds real answers):
 * HTTP 200 for errors, PHP's JSON (same keys in the same order, nulls,
 * "\/", "\uXXXX" for all non-ASCII), names HTML-escaped, the same headers.
 *
 * usage: fake_moodle --port-file FILE --scenario FILE.json [--log FILE]
 *
 * Binds 127.0.0.1 on a free port, writes the port to FILE when ready,
 * exits 0 on SIGTERM or SIGINT.
 *
 * Serves  POST|GET /login/token.php             username, password, service
 *         POST|GET /webservice/rest/server.php  wstoken, wsfunction, params
 *         GET      /_fake/base                  the time offsets count from
 *
 * Functions: core_webservice_get_site_info, core_enrol_get_users_courses,
 * core_calendar_get_calendar_events, core_course_get_course_module_by_instance,
 * mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses.  Like Moodle it
 * answers XML without moodlewsrestformat=json, invalidtoken for an unknown
 * token, invalidrecord for an unknown (or "absent") function and
 * invalidparameter for an unknown parameter, a missing one, or a bad value
 * (booleans are 0 or 1).
 *
 * The scenario file is read again whenever it changes (mtime, size or
 * inode), so a test edits the site while the fake runs.  Write it whole
 * (jq ... > tmp && mv tmp FILE): a file read half-written is retried for
 * a moment, then the previous scenario stays.
 *
 * {
 *   "base": 1795771374,          optional: the time offsets count from;
 *                                default the fake's start (GET /_fake/base)
 *   "site": {
 *     "sitename": "Fake Moodle", "release": "4.5 (Build: 20241007)",
 *     "version": "2024100700",
 *     "absent": ["mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"]
 *                                functions this site does not have
 *   },
 *   "users": [ { "id": 3, "username": "student1", "password": "pw",
 *                "firstname": "Stu", "lastname": "Dent",
 *                "token": "<32 hex>" } ],      token: optional, the first one
 *                                               login hands out; usable as a
 *                                               ready token from the start
 *   "courses": [ { "id": 2, "shortname": "RM101", "fullname": "Course One",
 *                  "users": [3] } ],            users: who is enrolled
 *   "activities": [ {
 *       "module": "bigbluebuttonbn", "instance": 1, "cmid": 3, "course": 2,
 *       "name": "Q&A <live>",       raw text: the fake HTML-escapes it
 *       "event": 1,                 calendar event id; absent/null: no event
 *       "start": 600,               timestart = base + start (negative: past)
 *       "duration": 0,              optional timeduration
 *       "closes": 4200,             optional: from base + closes on, Moodle
 *                                   no longer returns the event
 *       "visible": true,            optional: false hides activity and event
 *       "eventtype": "meeting_start", "event_name": "..."   optional; by
 *                                   default per module: bigbluebuttonbn
 *                                   "meeting_start" and "<name> is scheduled
 *                                   for", assign "due" and "<name> is due",
 *                                   zoom "zoom", others "open" and "<name>"
 *   } ],
 *   "revoke_after": 0,           optional: a token is refused (invalidtoken)
 *                                once it has made this many REST calls; a new
 *                                login then hands out a new one (0 = never)
 *   "revoked_tokens": ["..."],   optional: tokens refused from the start
 *   "fault": {                   optional: how the site misbehaves
 *     "mode": "none",            none | wrong_password (login: invalidlogin)
 *                                | maintenance (JSON sitemaintenance)
 *                                | cli_maintenance (503, HTML, Retry-After: 300)
 *                                | rest_disabled (server.php: 403, empty body)
 *                                | ws_disabled (login: enablewsdescription,
 *                                  server.php: 403 empty)
 *                                | service_disabled (login: servicenotavailable)
 *                                | html_login (200, the HTML login page)
 *                                | redirect (303 to "location", default
 *                                  /login/index.php on this fake)
 *                                | truncated (the right answer, cut in half)
 *                                | empty (200, empty body)
 *                                | server_error (500, HTML)
 *                                | slow (the right answer after "seconds")
 *                                | huge (a 200 JSON answer of "bytes" bytes,
 *                                  streamed chunked, or with Content-Length
 *                                  when "sized" is true)
 *                                Answers that echo secrets (the leaks moodlecord
 *                                must not pass on; see "leaks" below):
 *                                | php_warning (the right answer, then a PHP
 *                                  warning as display_errors prints it)
 *                                | echo_request (an HTML page of HTTP "status",
 *                                  default 200, echoing the request body
 *                                  HTML-escaped: wstoken= or password=
 *                                  percent-encoded)
 *                                | json_echo (a JSON error whose message echoes
 *                                  the request body and the password and token
 *                                  it carried, JSON-escaped as PHP does)
 *     "on": "any",               any | login | rest | a wsfunction name
 *     "seconds": 5, "bytes": 17000000, "sized": false, "location": "..."
 *   }
 * }
 *
 * The log (--log FILE) gets one JSON object per request, appended as it is
 * answered: {"method", "path", "wsfunction" (null for login), "params"
 * (query and form fields, wstoken/password/token shown as "***"),
 * "token_serial" (which token the fake handed out: 1, 2, ...; 0 unknown),
 * "status"}.
 */
#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_UPLOAD (1024 * 1024)

/* ---- small helpers ----------------------------------------------------- */

struct sb {
	char *p;
	size_t len, cap;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("fake_moodle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		die("out of memory");
	return p;
}

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_adds(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_addf(struct sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		sb_add(b, tmp, (size_t)n);
	} else {
		char *big = xrealloc(NULL, (size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sb_add(b, big, (size_t)n);
		free(big);
	}
}

/* ---- PHP's json_encode ------------------------------------------------ */

/* A JSON writer that places commas itself. */
struct jw {
	struct sb b;
	int first[64];
	int depth;
	int after_key;
};

static void
jw_value(struct jw *w)
{
	if (w->depth > 0 && !w->after_key && !w->first[w->depth])
		sb_add(&w->b, ",", 1);
	if (w->depth > 0)
		w->first[w->depth] = 0;
	w->after_key = 0;
}

/* s as PHP writes it: "\/", \uXXXX (lowercase) for every non-ASCII code
 * point, surrogate pairs above U+FFFF. */
static void
php_string(struct sb *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	sb_add(b, "\"", 1);
	while (*s) {
		uint32_t cp = *s;
		size_t n = 1, k;

		if (cp >= 0xf0)
			n = 4, cp &= 0x07;
		else if (cp >= 0xe0)
			n = 3, cp &= 0x0f;
		else if (cp >= 0xc0)
			n = 2, cp &= 0x1f;
		for (k = 1; k < n; k++) {
			if ((s[k] & 0xc0) != 0x80) {
				n = 1;
				cp = 0xfffd;
				break;
			}
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		s += n;
		switch (cp) {
		case '"':  sb_adds(b, "\\\""); continue;
		case '\\': sb_adds(b, "\\\\"); continue;
		case '/':  sb_adds(b, "\\/"); continue;
		case '\b': sb_adds(b, "\\b"); continue;
		case '\f': sb_adds(b, "\\f"); continue;
		case '\n': sb_adds(b, "\\n"); continue;
		case '\r': sb_adds(b, "\\r"); continue;
		case '\t': sb_adds(b, "\\t"); continue;
		default: break;
		}
		if (cp < 0x20 || (cp >= 0x80 && cp < 0x10000)) {
			sb_addf(b, "\\u%04x", cp);
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			sb_addf(b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			char c = (char)cp;

			sb_add(b, &c, 1);
		}
	}
	sb_add(b, "\"", 1);
}

static void
jw_k(struct jw *w, const char *k)
{
	if (!w->first[w->depth])
		sb_add(&w->b, ",", 1);
	w->first[w->depth] = 0;
	php_string(&w->b, k);
	sb_add(&w->b, ":", 1);
	w->after_key = 1;
}

static void
jw_obj(struct jw *w)
{
	jw_value(w);
	sb_add(&w->b, "{", 1);
	w->first[++w->depth] = 1;
}

static void
jw_arr(struct jw *w)
{
	jw_value(w);
	sb_add(&w->b, "[", 1);
	w->first[++w->depth] = 1;
}

static void
jw_end(struct jw *w, char c)
{
	sb_add(&w->b, &c, 1);
	w->depth--;
}

static void
jw_s(struct jw *w, const char *s)
{
	jw_value(w);
	php_string(&w->b, s);
}

static void
jw_i(struct jw *w, long long v)
{
	jw_value(w);
	sb_addf(&w->b, "%lld", v);
}

static void
jw_null(struct jw *w)
{
	jw_value(w);
	sb_adds(&w->b, "null");
}

static void
jw_bool(struct jw *w, int v)
{
	jw_value(w);
	sb_adds(&w->b, v ? "true" : "false");
}

/* Moodle's s(): htmlspecialchars with ENT_QUOTES. */
static char *
html_escape(const char *s)
{
	struct sb b = { 0 };

	sb_add(&b, "", 0);
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sb_adds(&b, "&amp;"); break;
		case '<': sb_adds(&b, "&lt;"); break;
		case '>': sb_adds(&b, "&gt;"); break;
		case '"': sb_adds(&b, "&quot;"); break;
		case '\'': sb_adds(&b, "&#039;"); break;
		default: sb_add(&b, s, 1);
		}
	}
	return b.p;
}

static void
jw_name(struct jw *w, const char *s)
{
	char *e = html_escape(s);

	jw_s(w, e);
	free(e);
}

/* ---- state -------------------------------------------------------------- */

struct token {
	char tok[33];
	long long userid;
	int calls;
	int serial;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stopping;
static const char *scenario_path, *log_path;
static json_object *scenario;
static struct stat scenario_st;
static long long started;
static struct token *tokens;
static size_t ntokens;
static unsigned tokens_made;

static json_object *
get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *
gets_(json_object *o, const char *k, const char *def)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static long long
geti(json_object *o, const char *k, long long def)
{
	json_object *v = get(o, k);

	return v && !json_object_is_type(v, json_type_null) ? (long long)json_object_get_int64(v) : def;
}

static json_object *
geta(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static size_t
alen(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

static long long
base_time(void)
{
	return geti(scenario, "base", started);
}

static struct token *
token_find(const char *t)
{
	size_t i;

	for (i = 0; t && i < ntokens; i++)
		if (strcmp(tokens[i].tok, t) == 0)
			return &tokens[i];
	return NULL;
}

static struct token *
token_add(const char *t, long long userid)
{
	struct token *k;

	tokens = xrealloc(tokens, (ntokens + 1) * sizeof *tokens);
	k = &tokens[ntokens++];
	memset(k, 0, sizeof *k);
	snprintf(k->tok, sizeof k->tok, "%s", t);
	k->userid = userid;
	k->serial = (int)++tokens_made;
	return k;
}

/* The users' fixed tokens work from the start, as ready tokens. */
static void
tokens_from_scenario(void)
{
	json_object *users = geta(scenario, "users");
	size_t i;

	for (i = 0; i < alen(users); i++) {
		json_object *u = json_object_array_get_idx(users, i);
		const char *t = gets_(u, "token", NULL);

		if (t && token_find(t) == NULL)
			token_add(t, geti(u, "id", 0));
	}
}

static int
token_revoked(const struct token *k)
{
	json_object *rv = geta(scenario, "revoked_tokens");
	long long after = geti(scenario, "revoke_after", 0);
	size_t i;

	if (after > 0 && k->calls >= after)
		return 1;
	for (i = 0; i < alen(rv); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(rv, i)), k->tok) == 0)
			return 1;
	return 0;
}

/* Read the scenario again when the file changed.  0 when there is one. */
static int
scenario_refresh(void)
{
	struct stat st;
	int tries;

	if (stat(scenario_path, &st) != 0)
		return scenario ? 0 : -1;
	if (scenario && st.st_mtim.tv_sec == scenario_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == scenario_st.st_mtim.tv_nsec &&
	    st.st_size == scenario_st.st_size && st.st_ino == scenario_st.st_ino)
		return 0;
	for (tries = 0; tries < 20; tries++) {
		json_object *j = json_object_from_file(scenario_path);

		if (j && json_object_is_type(j, json_type_object)) {
			json_object_put(scenario);
			scenario = j;
			scenario_st = st;
			tokens_from_scenario();
			return 0;
		}
		json_object_put(j);
		usleep(10000);
		stat(scenario_path, &st);
	}
	fprintf(stderr, "fake_moodle: %s is not a JSON object; keeping the previous scenario\n",
	    scenario_path);
	return scenario ? 0 : -1;
}

static json_object *
user_by_id(long long id)
{
	json_object *users = geta(scenario, "users");
	size_t i;

	for (i = 0; i < alen(users); i++)
		if (geti(json_object_array_get_idx(users, i), "id", -1) == id)
			return json_object_array_get_idx(users, i);
	return NULL;
}

static int
enrolled(json_object *course, long long userid)
{
	json_object *us = geta(course, "users");
	size_t i;

	for (i = 0; i < alen(us); i++)
		if (json_object_get_int64(json_object_array_get_idx(us, i)) == userid)
			return 1;
	return 0;
}

static json_object *
course_by_id(long long id)
{
	json_object *cs = geta(scenario, "courses");
	size_t i;

	for (i = 0; i < alen(cs); i++)
		if (geti(json_object_array_get_idx(cs, i), "id", -1) == id)
			return json_object_array_get_idx(cs, i);
	return NULL;
}

static int
visible(json_object *a)
{
	json_object *v = get(a, "visible");

	return v == NULL || json_object_get_boolean(v);
}

/* ---- requests ------------------------------------------------------------ */

struct kv {
	char *k, *v;
};

struct params {
	struct kv *v;
	size_t n;
};

static void
params_add(struct params *p, const char *k, size_t klen, const char *v, size_t vlen)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
	p->v[p->n].k = strndup(k, klen);
	p->v[p->n].v = strndup(v, vlen);
	if (p->v[p->n].k == NULL || p->v[p->n].v == NULL)
		die("out of memory");
	p->n++;
}

static void
params_free(struct params *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].k);
		free(p->v[i].v);
	}
	free(p->v);
}

/* The last value of k, or NULL. */
static const char *
param(const struct params *p, const char *k)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->v[i].k, k) == 0)
			v = p->v[i].v;
	return v;
}

static size_t
unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r == '+') {
			*w++ = ' ';
			r++;
		} else if (r[0] == '%' && r[1] && r[2]) {
			char hex[3] = { r[1], r[2], 0 };

			*w++ = (char)strtol(hex, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void
parse_form(struct params *p, const char *body, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, eq;
		char *k, *v;

		while (j < len && body[j] != '&')
			j++;
		for (eq = i; eq < j && body[eq] != '='; eq++)
			;
		k = strndup(body + i, eq - i);
		v = strndup(eq < j ? body + eq + 1 : "", eq < j ? j - eq - 1 : 0);
		if (k == NULL || v == NULL)
			die("out of memory");
		if (*k)
			params_add(p, k, unescape(k), v, unescape(v));
		free(k);
		free(v);
		i = j + 1;
	}
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	params_add(cls, key, strlen(key), value ? value : "", value ? strlen(value) : 0);
	return MHD_YES;
}

/* ---- answers ---------------------------------------------------------- */

enum hdrs { H_REST, H_LOGIN, H_HTML, H_XML, H_TEXT, H_NONE };

struct answer {
	int status;
	struct sb body;
	enum hdrs hdrs;
	char *location, *retry_after;
	int sleep_s;          /* answer after this many seconds */
	long long huge;       /* stream this many bytes instead of body */
	int huge_sized;
};

static void
set_body(struct answer *a, const char *s)
{
	a->body.len = 0;
	sb_add(&a->body, s, strlen(s));
}

static void
rest_error(struct answer *a, const char *exception, const char *code, const char *msg)
{
	struct jw w = { 0 };

	jw_obj(&w);
	jw_k(&w, "exception"); jw_s(&w, exception);
	jw_k(&w, "errorcode"); jw_s(&w, code);
	jw_k(&w, "message"); jw_s(&w, msg);
	jw_end(&w, '}');
	a->status = 200;
	a->hdrs = H_REST;
	free(a->body.p);
	a->body = w.b;
}

static void
login_error(struct answer *a, const char *code, const char *msg)
{
	struct jw w = { 0 };

	jw_obj(&w);
	jw_k(&w, "error"); jw_s(&w, msg);
	jw_k(&w, "errorcode"); jw_s(&w, code);
	jw_k(&w, "stacktrace"); jw_null(&w);
	jw_k(&w, "debuginfo"); jw_null(&w);
	jw_k(&w, "reproductionlink"); jw_null(&w);
	jw_end(&w, '}');
	a->status = 200;
	a->hdrs = H_LOGIN;
	free(a->body.p);
	a->body = w.b;
}

static void
invalid_parameter(struct answer *a)
{
	rest_error(a, "core\\exception\\invalid_parameter_exception", "invalidparameter",
	    "Invalid parameter value detected");
}

static const char html_login_page[] =
	"<!DOCTYPE html>\n\n<html  dir=\"ltr\" lang=\"en\" xml:lang=\"en\">\n<head>\n"
	"    <title>Log in to the site | Fake Moodle</title>\n"
	"    <meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n"
	"</head>\n<body id=\"page-login-index\" class=\"format-site path-login\">\n"
	"<form class=\"login-form\" action=\"/login/index.php\" method=\"post\" id=\"login\">\n"
	"<input type=\"text\" name=\"username\" id=\"username\" value=\"\">\n"
	"<input type=\"password\" name=\"password\" id=\"password\" value=\"\">\n"
	"</form>\n</body>\n</html>\n";

static const char html_maintenance[] =
	"<!DOCTYPE html>\n<html><head><title>Site maintenance</title></head>\n"
	"<body><div class=\"box py-3 generalbox maintenancewarning\">"
	"This site is undergoing maintenance and is currently not available</div></body></html>\n";

/* ---- the functions ------------------------------------------------------- */

static const char *const site_functions[] = {
	"core_badges_get_user_badges",
	"core_calendar_get_action_events_by_courses",
	"core_calendar_get_action_events_by_timesort",
	"core_calendar_get_calendar_event_by_id",
	"core_calendar_get_calendar_events",
	"core_calendar_get_calendar_monthly_view",
	"core_calendar_get_calendar_upcoming_view",
	"core_course_get_contents",
	"core_course_get_course_module",
	"core_course_get_course_module_by_instance",
	"core_course_get_courses",
	"core_course_view_course",
	"core_enrol_get_users_courses",
	"core_message_get_conversations",
	"core_user_get_users_by_field",
	"core_webservice_get_site_info",
	"mod_assign_get_assignments",
	"mod_bigbluebuttonbn_can_join",
	"mod_bigbluebuttonbn_completion_validate",
	"mod_bigbluebuttonbn_end_meeting",
	"mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses",
	"mod_bigbluebuttonbn_get_join_url",
	"mod_bigbluebuttonbn_get_recordings",
	"mod_bigbluebuttonbn_meeting_info",
	"mod_bigbluebuttonbn_view_bigbluebuttonbn",
	"tool_mobile_get_autologin_key",
	"tool_mobile_get_config",
	"tool_mobile_get_public_config",
};

/* Parameter names each function accepts ("#" = an array index) and their
 * type: 'i' integer, 'b' 0 or 1, 's' text.  A leading '!' = required. */
static const struct fndef {
	const char *name;
	const char *params[10];
} fndefs[] = {
	{ "core_webservice_get_site_info", { "sserviceshortnames[#]" } },
	{ "core_enrol_get_users_courses", { "!iuserid", "breturnusercount" } },
	{ "core_calendar_get_calendar_events", { "ievents[eventids][#]", "ievents[courseids][#]",
	  "ievents[groupids][#]", "ievents[categoryids][#]", "boptions[userevents]",
	  "boptions[siteevents]", "ioptions[timestart]", "ioptions[timeend]",
	  "boptions[ignorehidden]" } },
	{ "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses", { "icourseids[#]" } },
	{ "core_course_get_course_module_by_instance", { "!smodule", "!iinstance" } },
};

static int
site_lacks(const char *fn)
{
	json_object *absent = geta(get(scenario, "site"), "absent");
	size_t i;

	for (i = 0; i < alen(absent); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(absent, i)), fn) == 0)
			return 1;
	return 0;
}

static int
site_lists(const char *fn)
{
	size_t i;

	if (site_lacks(fn))
		return 0;
	for (i = 0; i < sizeof site_functions / sizeof site_functions[0]; i++)
		if (strcmp(site_functions[i], fn) == 0)
			return 1;
	return 0;
}

/* Does name match pattern (where '#' is one or more digits)? */
static int
name_matches(const char *pat, const char *name)
{
	while (*pat) {
		if (*pat == '#') {
			if (*name < '0' || *name > '9')
				return 0;
			while (*name >= '0' && *name <= '9')
				name++;
			pat++;
		} else if (*pat++ != *name++) {
			return 0;
		}
	}
	return *name == '\0';
}

static int
value_ok(char type, const char *v)
{
	const char *p = v;

	if (type == 'b')
		return strcmp(v, "0") == 0 || strcmp(v, "1") == 0;
	if (type == 'i') {
		if (*p == '-')
			p++;
		if (*p == '\0')
			return 0;
		for (; *p; p++)
			if (*p < '0' || *p > '9')
				return 0;
	}
	return 1;
}

static int
params_valid(const struct fndef *d, const struct params *p)
{
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		const char *n = p->v[i].k;
		int ok = 0;

		if (strcmp(n, "wstoken") == 0 || strcmp(n, "wsfunction") == 0 ||
		    strncmp(n, "moodlews", 8) == 0)
			continue;
		for (k = 0; k < 10 && d->params[k]; k++) {
			const char *pat = d->params[k] + (d->params[k][0] == '!');

			if (name_matches(pat + 1, n)) {
				ok = value_ok(pat[0], p->v[i].v);
				break;
			}
		}
		if (!ok)
			return 0;
	}
	for (k = 0; k < 10 && d->params[k]; k++)
		if (d->params[k][0] == '!' && param(p, d->params[k] + 2) == NULL)
			return 0;
	return 1;
}

static void
fn_site_info(struct answer *a, json_object *user, const char *host)
{
	json_object *site = get(scenario, "site");
	const char *version = gets_(site, "version", "2024100700");
	struct jw w = { 0 };
	char *full;
	size_t i;
	static const char *const adv[] = { "usecomments", "usetags", "enablenotes", "messaging",
		"enableblogs", "enablecompletion", "enablebadges", "messagingallusers",
		"enablecustomreports", "enableglobalsearch", "mnet_dispatcher_mode", "enablecompetencies" };
	static const int advv[] = { 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1 };

	{
		struct sb fb = { 0 };

		sb_addf(&fb, "%s %s", gets_(user, "firstname", ""), gets_(user, "lastname", ""));
		full = fb.p;
	}
	jw_obj(&w);
	jw_k(&w, "sitename"); jw_name(&w, gets_(site, "sitename", "Fake Moodle"));
	jw_k(&w, "username"); jw_s(&w, gets_(user, "username", ""));
	jw_k(&w, "firstname"); jw_s(&w, gets_(user, "firstname", ""));
	jw_k(&w, "lastname"); jw_s(&w, gets_(user, "lastname", ""));
	jw_k(&w, "fullname"); jw_s(&w, full);
	jw_k(&w, "lang"); jw_s(&w, "en");
	jw_k(&w, "userid"); jw_i(&w, geti(user, "id", 0));
	jw_k(&w, "siteurl"); {
		char u[300];

		snprintf(u, sizeof u, "http://%s", host);
		jw_s(&w, u);
	}
	jw_k(&w, "userpictureurl"); {
		char u[300];

		snprintf(u, sizeof u, "http://%s/theme/image.php/boost/core/1795771336/u/f1", host);
		jw_s(&w, u);
	}
	jw_k(&w, "functions");
	jw_arr(&w);
	for (i = 0; i < sizeof site_functions / sizeof site_functions[0]; i++) {
		if (site_lacks(site_functions[i]))
			continue;
		jw_obj(&w);
		jw_k(&w, "name"); jw_s(&w, site_functions[i]);
		jw_k(&w, "version"); jw_s(&w, version);
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	jw_k(&w, "downloadfiles"); jw_i(&w, 1);
	jw_k(&w, "uploadfiles"); jw_i(&w, 1);
	jw_k(&w, "release"); jw_s(&w, gets_(site, "release", "4.5 (Build: 20241007)"));
	jw_k(&w, "version"); jw_s(&w, version);
	jw_k(&w, "mobilecssurl"); jw_s(&w, "");
	jw_k(&w, "advancedfeatures");
	jw_arr(&w);
	for (i = 0; i < sizeof adv / sizeof adv[0]; i++) {
		jw_obj(&w);
		jw_k(&w, "name"); jw_s(&w, adv[i]);
		jw_k(&w, "value"); jw_i(&w, advv[i]);
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	jw_k(&w, "usercanmanageownfiles"); jw_bool(&w, 1);
	jw_k(&w, "userquota"); jw_i(&w, 104857600);
	jw_k(&w, "usermaxuploadfilesize"); jw_i(&w, 2097152);
	jw_k(&w, "userhomepage"); jw_i(&w, 1);
	jw_k(&w, "userprivateaccesskey"); jw_s(&w, "ae893edd4084f43c17cc29384c996e38");
	jw_k(&w, "siteid"); jw_i(&w, 1);
	jw_k(&w, "sitecalendartype"); jw_s(&w, "gregorian");
	jw_k(&w, "usercalendartype"); jw_s(&w, "gregorian");
	jw_k(&w, "userissiteadmin"); jw_bool(&w, 0);
	jw_k(&w, "theme"); jw_s(&w, "boost");
	jw_k(&w, "limitconcurrentlogins"); jw_i(&w, 0);
	jw_k(&w, "policyagreed"); jw_i(&w, 0);
	jw_end(&w, '}');
	free(full);
	free(a->body.p);
	a->body = w.b;
}

static void
fn_users_courses(struct answer *a, json_object *user, const struct params *p, const char *host)
{
	json_object *cs = geta(scenario, "courses");
	long long uid = atoll(param(p, "userid"));
	const char *ruc = param(p, "returnusercount");
	int count = ruc == NULL || strcmp(ruc, "1") == 0;
	struct jw w = { 0 };
	size_t i;

	if (uid != geti(user, "id", 0)) {
		rest_error(a, "required_capability_exception", "nopermissions",
		    "Sorry, but you do not currently have permissions to do that (View participants).");
		return;
	}
	jw_arr(&w);
	for (i = 0; i < alen(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i), *us = geta(c, "users");
		long long id = geti(c, "id", 0);
		char img[300];

		if (!enrolled(c, uid))
			continue;
		snprintf(img, sizeof img, "http://%s/pluginfile.php/%lld/course/generated/course.svg", host, id + 10);
		jw_obj(&w);
		jw_k(&w, "id"); jw_i(&w, id);
		jw_k(&w, "shortname"); jw_name(&w, gets_(c, "shortname", ""));
		jw_k(&w, "fullname"); jw_name(&w, gets_(c, "fullname", ""));
		jw_k(&w, "displayname"); jw_name(&w, gets_(c, "fullname", ""));
		if (count) {
			jw_k(&w, "enrolledusercount"); jw_i(&w, (long long)alen(us));
		}
		jw_k(&w, "idnumber"); jw_s(&w, gets_(c, "shortname", ""));
		jw_k(&w, "visible"); jw_i(&w, 1);
		jw_k(&w, "summary"); jw_s(&w, "");
		jw_k(&w, "summaryformat"); jw_i(&w, 1);
		jw_k(&w, "format"); jw_s(&w, "topics");
		jw_k(&w, "courseimage"); jw_s(&w, img);
		jw_k(&w, "showgrades"); jw_bool(&w, 1);
		jw_k(&w, "lang"); jw_s(&w, "");
		jw_k(&w, "enablecompletion"); jw_bool(&w, 0);
		jw_k(&w, "completionhascriteria"); jw_bool(&w, 0);
		jw_k(&w, "completionusertracked"); jw_bool(&w, 0);
		jw_k(&w, "category"); jw_i(&w, 1);
		jw_k(&w, "progress"); jw_null(&w);
		jw_k(&w, "completed"); jw_null(&w);
		jw_k(&w, "startdate"); jw_i(&w, base_time() - 30 * 86400);
		jw_k(&w, "enddate"); jw_i(&w, base_time() + 180 * 86400);
		jw_k(&w, "marker"); jw_i(&w, 0);
		jw_k(&w, "lastaccess"); jw_null(&w);
		jw_k(&w, "isfavourite"); jw_bool(&w, 0);
		jw_k(&w, "hidden"); jw_bool(&w, 0);
		jw_k(&w, "overviewfiles"); jw_arr(&w); jw_end(&w, ']');
		jw_k(&w, "showactivitydates"); jw_bool(&w, 0);
		jw_k(&w, "showcompletionconditions"); jw_bool(&w, 1);
		jw_k(&w, "timemodified"); jw_i(&w, base_time());
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	free(a->body.p);
	a->body = w.b;
}

static const char *
default_eventtype(const char *module)
{
	if (strcmp(module, "bigbluebuttonbn") == 0)
		return "meeting_start";
	if (strcmp(module, "assign") == 0)
		return "due";
	if (strcmp(module, "zoom") == 0)
		return "zoom";
	return "open";
}

static char *
event_name(json_object *act)
{
	const char *m = gets_(act, "module", ""), *n = gets_(act, "name", "");
	const char *given = gets_(act, "event_name", NULL);
	struct sb b = { 0 };

	if (given)
		return xstrdup(given);
	sb_adds(&b, n);
	if (strcmp(m, "bigbluebuttonbn") == 0)
		sb_adds(&b, " is scheduled for");
	else if (strcmp(m, "assign") == 0)
		sb_adds(&b, " is due");
	return b.p;
}

struct evref {
	json_object *act;
	long long start;
};

static int
cmp_evref(const void *x, const void *y)
{
	const struct evref *a = x, *b = y;

	if (a->start != b->start)
		return (a->start > b->start) - (a->start < b->start);
	return (geti(a->act, "event", 0) > geti(b->act, "event", 0)) -
	    (geti(a->act, "event", 0) < geti(b->act, "event", 0));
}

static int
in_list(const struct params *p, const char *prefix, long long v)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < p->n; i++)
		if (strncmp(p->v[i].k, prefix, n) == 0 && atoll(p->v[i].v) == v)
			return 1;
	return 0;
}

static void
fn_calendar_events(struct answer *a, json_object *user, const struct params *p)
{
	json_object *acts = geta(scenario, "activities");
	long long uid = geti(user, "id", 0), now = (long long)time(NULL), base = base_time();
	const char *ts = param(p, "options[timestart]"), *te = param(p, "options[timeend]");
	long long tstart = ts ? atoll(ts) : now, tend = te ? atoll(te) : 0;
	struct evref *refs = xrealloc(NULL, (alen(acts) + 1) * sizeof *refs);
	struct jw w = { 0 };
	size_t i, n = 0;

	for (i = 0; i < alen(acts); i++) {
		json_object *act = json_object_array_get_idx(acts, i), *c;
		long long start = base + geti(act, "start", 0), dur = geti(act, "duration", 0);

		if (get(act, "event") == NULL || geti(act, "event", 0) <= 0 || !visible(act))
			continue;
		c = course_by_id(geti(act, "course", 0));
		if (c == NULL || !enrolled(c, uid) || !in_list(p, "events[courseids][", geti(act, "course", 0)))
			continue;
		if (get(act, "closes") && now >= base + geti(act, "closes", 0))
			continue;
		/* Moodle's window: starts inside it, or runs into it. */
		if (!((start >= tstart && (tend == 0 || start <= tend)) ||
		    (dur > 0 && start < tstart && start + dur > tstart)))
			continue;
		refs[n].act = act;
		refs[n].start = start;
		n++;
	}
	qsort(refs, n, sizeof *refs, cmp_evref);
	jw_obj(&w);
	jw_k(&w, "events");
	jw_arr(&w);
	for (i = 0; i < n; i++) {
		json_object *act = refs[i].act;
		const char *module = gets_(act, "module", "");
		char *name = event_name(act), *desc;
		struct sb d = { 0 };

		sb_addf(&d, "<div class=\"no-overflow\"><p>%s (test meeting)</p></div>", gets_(act, "name", ""));
		desc = d.p;
		jw_obj(&w);
		jw_k(&w, "id"); jw_i(&w, geti(act, "event", 0));
		jw_k(&w, "name"); jw_name(&w, name);
		jw_k(&w, "description"); jw_s(&w, desc);
		jw_k(&w, "format"); jw_i(&w, 1);
		jw_k(&w, "courseid"); jw_i(&w, geti(act, "course", 0));
		jw_k(&w, "categoryid"); jw_null(&w);
		jw_k(&w, "groupid"); jw_null(&w);
		jw_k(&w, "userid"); jw_i(&w, 2);
		jw_k(&w, "repeatid"); jw_null(&w);
		jw_k(&w, "modulename"); jw_s(&w, module);
		jw_k(&w, "instance"); jw_i(&w, geti(act, "instance", 0));
		jw_k(&w, "eventtype"); jw_s(&w, gets_(act, "eventtype", default_eventtype(module)));
		jw_k(&w, "timestart"); jw_i(&w, refs[i].start);
		jw_k(&w, "timeduration"); jw_i(&w, geti(act, "duration", 0));
		jw_k(&w, "visible"); jw_i(&w, 1);
		jw_k(&w, "sequence"); jw_i(&w, 1);
		jw_k(&w, "timemodified"); jw_i(&w, base);
		jw_k(&w, "subscriptionid"); jw_null(&w);
		jw_end(&w, '}');
		free(name);
		free(desc);
	}
	jw_end(&w, ']');
	jw_k(&w, "warnings"); jw_arr(&w); jw_end(&w, ']');
	jw_end(&w, '}');
	free(refs);
	free(a->body.p);
	a->body = w.b;
}

static void
course_warning(struct jw *w, long long id)
{
	jw_obj(w);
	jw_k(w, "item"); jw_s(w, "course");
	jw_k(w, "itemid"); jw_i(w, id);
	jw_k(w, "warningcode"); jw_s(w, "1");
	jw_k(w, "message"); jw_s(w, "No access rights in course context");
	jw_end(w, '}');
}

static int
cmp_instance(const void *x, const void *y)
{
	json_object *const *a = x, *const *b = y;
	long long i = geti(*a, "instance", 0), j = geti(*b, "instance", 0);

	return (i > j) - (i < j);
}

static void
fn_bbbs(struct answer *a, json_object *user, const struct params *p)
{
	json_object *acts = geta(scenario, "activities"), *cs = geta(scenario, "courses");
	long long uid = geti(user, "id", 0), *ids = NULL, *bad = NULL;
	size_t i, k, nids = 0, nbad = 0;
	struct jw w = { 0 };

	/* The courses asked for, in order; none: every course of the user. */
	for (i = 0; i < p->n; i++) {
		if (strncmp(p->v[i].k, "courseids[", 10) != 0)
			continue;
		ids = xrealloc(ids, (nids + 1) * sizeof *ids);
		ids[nids++] = atoll(p->v[i].v);
	}
	if (nids == 0) {
		for (i = 0; i < alen(cs); i++) {
			json_object *c = json_object_array_get_idx(cs, i);

			if (enrolled(c, uid)) {
				ids = xrealloc(ids, (nids + 1) * sizeof *ids);
				ids[nids++] = geti(c, "id", 0);
			}
		}
	}
	jw_obj(&w);
	jw_k(&w, "bigbluebuttonbns");
	jw_arr(&w);
	for (k = 0; k < nids; k++) {
		json_object *c = course_by_id(ids[k]), **mine = NULL;
		size_t nmine = 0;

		if (c == NULL || !enrolled(c, uid)) {
			bad = xrealloc(bad, (nbad + 1) * sizeof *bad);
			bad[nbad++] = ids[k];
			continue;
		}
		for (i = 0; i < alen(acts); i++) {
			json_object *act = json_object_array_get_idx(acts, i);

			if (geti(act, "course", 0) == ids[k] && visible(act) &&
			    strcmp(gets_(act, "module", ""), "bigbluebuttonbn") == 0) {
				mine = xrealloc(mine, (nmine + 1) * sizeof *mine);
				mine[nmine++] = act;
			}
		}
		qsort(mine, nmine, sizeof *mine, cmp_instance);
		for (i = 0; i < nmine; i++) {
			json_object *act = mine[i];
			char intro[600], meeting[41];
			unsigned long long h = 1469598103934665603ULL ^ (unsigned long long)geti(act, "instance", 0);
			int d;

			for (d = 0; d < 40; d++) {
				h = h * 1099511628211ULL + (unsigned long long)d;
				meeting[d] = "0123456789abcdef"[(h >> 33) & 15];
			}
			meeting[40] = '\0';
			snprintf(intro, sizeof intro, "<p>%s (test meeting)</p>", gets_(act, "name", ""));
			jw_obj(&w);
			jw_k(&w, "id"); jw_i(&w, geti(act, "instance", 0));
			jw_k(&w, "coursemodule"); jw_i(&w, geti(act, "cmid", 0));
			jw_k(&w, "course"); jw_i(&w, ids[k]);
			jw_k(&w, "name"); jw_name(&w, gets_(act, "name", ""));
			jw_k(&w, "intro"); jw_s(&w, intro);
			jw_k(&w, "introformat"); jw_i(&w, 1);
			jw_k(&w, "introfiles"); jw_arr(&w); jw_end(&w, ']');
			jw_k(&w, "section"); jw_i(&w, 1);
			jw_k(&w, "visible"); jw_bool(&w, 1);
			jw_k(&w, "groupmode"); jw_i(&w, 0);
			jw_k(&w, "groupingid"); jw_i(&w, 0);
			jw_k(&w, "lang"); jw_null(&w);
			jw_k(&w, "meetingid"); jw_s(&w, meeting);
			jw_k(&w, "timemodified"); jw_i(&w, 0);
			jw_end(&w, '}');
		}
		free(mine);
	}
	jw_end(&w, ']');
	jw_k(&w, "warnings");
	jw_arr(&w);
	for (i = 0; i < nbad; i++)
		course_warning(&w, bad[i]);
	jw_end(&w, ']');
	jw_end(&w, '}');
	free(ids);
	free(bad);
	free(a->body.p);
	a->body = w.b;
}

static int
module_number(const char *m)
{
	static const char *const mods[] = { "assign", "assignment", "bigbluebuttonbn", "book",
		"chat", "choice", "data", "feedback", "folder", "forum", "glossary", "h5pactivity",
		"imscp", "label", "lesson", "lti", "page", "quiz", "resource", "scorm", "survey",
		"url", "wiki", "workshop", "zoom", "teams" };
	size_t i;

	for (i = 0; i < sizeof mods / sizeof mods[0]; i++)
		if (strcmp(mods[i], m) == 0)
			return (int)i + 1;
	return 0;
}

static void
fn_cm_by_instance(struct answer *a, json_object *user, const struct params *p)
{
	json_object *acts = geta(scenario, "activities"), *act = NULL, *c;
	const char *module = param(p, "module");
	long long instance = atoll(param(p, "instance"));
	struct jw w = { 0 };
	size_t i;

	for (i = 0; i < alen(acts); i++) {
		json_object *x = json_object_array_get_idx(acts, i);

		if (strcmp(gets_(x, "module", ""), module) == 0 && geti(x, "instance", 0) == instance)
			act = x;
	}
	if (module_number(module) == 0) {
		rest_error(a, "dml_missing_record_exception", "invalidrecord",
		    "Can't find data record in database table modules.");
		return;
	}
	if (act == NULL) {
		rest_error(a, "dml_missing_record_exception", "invalidrecord",
		    "Can't find data record in database table course_modules.");
		return;
	}
	c = course_by_id(geti(act, "course", 0));
	if (c == NULL || !enrolled(c, geti(user, "id", 0)) || !visible(act)) {
		rest_error(a, "require_login_exception", "requireloginerror",
		    "Course or activity not accessible. (Not enrolled)");
		return;
	}
	jw_obj(&w);
	jw_k(&w, "cm");
	jw_obj(&w);
	jw_k(&w, "id"); jw_i(&w, geti(act, "cmid", 0));
	jw_k(&w, "course"); jw_i(&w, geti(act, "course", 0));
	jw_k(&w, "module"); jw_i(&w, module_number(module));
	jw_k(&w, "name"); jw_name(&w, gets_(act, "name", ""));
	jw_k(&w, "modname"); jw_s(&w, module);
	jw_k(&w, "instance"); jw_i(&w, instance);
	jw_k(&w, "section"); jw_i(&w, 1);
	jw_k(&w, "sectionnum"); jw_i(&w, 1);
	jw_k(&w, "groupmode"); jw_i(&w, 0);
	jw_k(&w, "groupingid"); jw_i(&w, 0);
	jw_k(&w, "completion"); jw_i(&w, 0);
	jw_k(&w, "idnumber"); jw_s(&w, "");
	jw_k(&w, "added"); jw_i(&w, base_time());
	jw_k(&w, "score"); jw_i(&w, 0);
	jw_k(&w, "indent"); jw_i(&w, 0);
	jw_k(&w, "visible"); jw_i(&w, 1);
	jw_k(&w, "visibleoncoursepage"); jw_i(&w, 1);
	jw_k(&w, "visibleold"); jw_i(&w, 1);
	jw_k(&w, "completiongradeitemnumber"); jw_null(&w);
	jw_k(&w, "completionpassgrade"); jw_i(&w, 0);
	jw_k(&w, "completionview"); jw_i(&w, 0);
	jw_k(&w, "completionexpected"); jw_i(&w, 0);
	jw_k(&w, "showdescription"); jw_i(&w, 0);
	jw_k(&w, "downloadcontent"); jw_i(&w, 1);
	jw_k(&w, "availability"); jw_null(&w);
	jw_end(&w, '}');
	jw_k(&w, "warnings"); jw_arr(&w); jw_end(&w, ']');
	jw_end(&w, '}');
	free(a->body.p);
	a->body = w.b;
}

/* ---- the two endpoints --------------------------------------------------- */

static void
do_login(struct answer *a, const struct params *p, int *serial)
{
	json_object *users = geta(scenario, "users"), *user = NULL;
	const char *un = param(p, "username"), *pw = param(p, "password");
	const char *svc = param(p, "service");
	struct token *k = NULL;
	size_t i;

	if (param(p, "appsitecheck") && un == NULL) {
		set_body(a, "{\"appsitecheck\":\"ok\"}");
		a->status = 200;
		a->hdrs = H_LOGIN;
		return;
	}
	if (un == NULL || pw == NULL) {
		login_error(a, "missingparam", un == NULL ? "A required parameter (username) was missing" :
		    "A required parameter (password) was missing");
		return;
	}
	if (svc == NULL || strcmp(svc, "moodle_mobile_app") != 0) {
		login_error(a, "servicenotavailable",
		    "Web service is not available. (It doesn't exist or might be disabled.)");
		return;
	}
	for (i = 0; i < alen(users); i++) {
		json_object *u = json_object_array_get_idx(users, i);

		if (strcmp(gets_(u, "username", ""), un) == 0 &&
		    strcmp(gets_(u, "password", ""), pw) == 0)
			user = u;
	}
	if (user == NULL) {
		login_error(a, "invalidlogin", "Invalid login, please try again");
		return;
	}
	/* The same token again while it is valid, else a new one. */
	for (i = 0; i < ntokens; i++) {
		if (tokens[i].userid == geti(user, "id", 0) && !token_revoked(&tokens[i]))
			k = &tokens[i];
	}
	if (k == NULL) {
		const char *fixed = gets_(user, "token", NULL);
		char t[33];

		if (fixed && strlen(fixed) == 32 && token_find(fixed) == NULL) {
			snprintf(t, sizeof t, "%s", fixed);
		} else if (fixed && strlen(fixed) == 32) {
			snprintf(t, sizeof t, "%.28s%04x", fixed, (tokens_made + 1) & 0xffff);
		} else {
			unsigned long long h = (unsigned long long)started * 2654435761ULL +
			    (unsigned long long)getpid() * 40503ULL + tokens_made;
			int d;

			for (d = 0; d < 32; d++) {
				h = h * 6364136223846793005ULL + 1442695040888963407ULL;
				t[d] = "0123456789abcdef"[(h >> 60) & 15];
			}
			t[32] = '\0';
		}
		k = token_add(t, geti(user, "id", 0));
	}
	*serial = k->serial;
	a->status = 200;
	a->hdrs = H_LOGIN;
	a->body.len = 0;
	sb_addf(&a->body, "{\"token\":\"%s\",\"privatetoken\":null}", k->tok);
}

static void
xml_answer(struct answer *a, const char *code, const char *msg)
{
	a->status = 200;
	a->hdrs = H_XML;
	a->body.len = 0;
	sb_adds(&a->body, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
	if (code)
		sb_addf(&a->body, "<EXCEPTION class=\"moodle_exception\">\n<ERRORCODE>%s</ERRORCODE>\n"
		    "<MESSAGE>%s</MESSAGE>\n</EXCEPTION>\n", code, msg);
	else
		sb_adds(&a->body, "<RESPONSE>\n<SINGLE>\n</SINGLE>\n</RESPONSE>\n");
}

static void
do_rest(struct answer *a, const struct params *p, const char *host, int *serial)
{
	const char *fmt = param(p, "moodlewsrestformat"), *fn = param(p, "wsfunction");
	int json = fmt && strcmp(fmt, "json") == 0;
	struct token *k = token_find(param(p, "wstoken"));
	json_object *user;
	size_t i;

	if (k == NULL || token_revoked(k)) {
		if (!json)
			xml_answer(a, "invalidtoken", "Invalid token - token not found");
		else
			rest_error(a, "core\\exception\\moodle_exception", "invalidtoken",
			    "Invalid token - token not found");
		if (k)
			*serial = k->serial;
		return;
	}
	*serial = k->serial;
	k->calls++;
	user = user_by_id(k->userid);
	for (i = 0; i < sizeof fndefs / sizeof fndefs[0]; i++)
		if (fn && strcmp(fndefs[i].name, fn) == 0)
			break;
	if (fn == NULL || (i == sizeof fndefs / sizeof fndefs[0] && !site_lists(fn)) || site_lacks(fn)) {
		if (!json)
			xml_answer(a, "invalidrecord", "Can't find data record in database table external_functions.");
		else
			rest_error(a, "dml_missing_record_exception", "invalidrecord",
			    "Can't find data record in database table external_functions.");
		return;
	}
	if (i == sizeof fndefs / sizeof fndefs[0]) {
		rest_error(a, "coding_exception", "codingerror", "fake_moodle does not implement this function");
		return;
	}
	if (!params_valid(&fndefs[i], p)) {
		if (!json)
			xml_answer(a, "invalidparameter", "Invalid parameter value detected");
		else
			invalid_parameter(a);
		return;
	}
	if (!json) {
		xml_answer(a, NULL, NULL);
		return;
	}
	a->status = 200;
	a->hdrs = H_REST;
	if (strcmp(fn, "core_webservice_get_site_info") == 0)
		fn_site_info(a, user, host);
	else if (strcmp(fn, "core_enrol_get_users_courses") == 0)
		fn_users_courses(a, user, p, host);
	else if (strcmp(fn, "core_calendar_get_calendar_events") == 0)
		fn_calendar_events(a, user, p);
	else if (strcmp(fn, "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses") == 0)
		fn_bbbs(a, user, p);
	else
		fn_cm_by_instance(a, user, p);
}

/* ---- faults ------------------------------------------------------------ */

enum endpoint { EP_LOGIN, EP_REST };

static int
fault_applies(json_object *f, enum endpoint ep, const char *fn)
{
	const char *on = gets_(f, "on", "any");

	if (strcmp(on, "any") == 0)
		return 1;
	if (strcmp(on, "login") == 0)
		return ep == EP_LOGIN;
	if (strcmp(on, "rest") == 0)
		return ep == EP_REST;
	return ep == EP_REST && fn && strcmp(on, fn) == 0;
}

/* Answer per the fault, or return 0 to answer normally (the fault may
 * still change the normal answer afterwards: see after_fault). */
static int
fault_answer(struct answer *a, json_object *f, enum endpoint ep, const char *host)
{
	const char *mode = gets_(f, "mode", "none");

	if (strcmp(mode, "wrong_password") == 0 && ep == EP_LOGIN) {
		login_error(a, "invalidlogin", "Invalid login, please try again");
	} else if (strcmp(mode, "maintenance") == 0) {
		if (ep == EP_LOGIN)
			login_error(a, "sitemaintenance",
			    "The site is undergoing maintenance and is currently not available");
		else
			rest_error(a, "moodle_exception", "sitemaintenance",
			    "The site is undergoing maintenance and is currently not available");
	} else if (strcmp(mode, "cli_maintenance") == 0) {
		a->status = 503;
		a->hdrs = H_HTML;
		a->retry_after = xstrdup("300");
		set_body(a, html_maintenance);
	} else if ((strcmp(mode, "rest_disabled") == 0 || strcmp(mode, "ws_disabled") == 0) &&
	    ep == EP_REST) {
		a->status = 403;
		a->hdrs = H_NONE;
		set_body(a, "");
	} else if (strcmp(mode, "ws_disabled") == 0 && ep == EP_LOGIN) {
		login_error(a, "enablewsdescription", "Web services must be enabled in Advanced features.");
	} else if (strcmp(mode, "service_disabled") == 0 && ep == EP_LOGIN) {
		login_error(a, "servicenotavailable",
		    "Web service is not available. (It doesn't exist or might be disabled.)");
	} else if (strcmp(mode, "html_login") == 0) {
		a->status = 200;
		a->hdrs = H_HTML;
		set_body(a, html_login_page);
	} else if (strcmp(mode, "redirect") == 0) {
		char to[300];

		snprintf(to, sizeof to, "http://%s/login/index.php", host);
		a->status = 303;
		a->hdrs = H_HTML;
		a->location = xstrdup(gets_(f, "location", to));
		a->body.len = 0;
		sb_addf(&a->body, "<a href=\"%s\">Continue</a>", a->location);
	} else if (strcmp(mode, "empty") == 0) {
		a->status = 200;
		a->hdrs = ep == EP_LOGIN ? H_LOGIN : H_REST;
		set_body(a, "");
	} else if (strcmp(mode, "server_error") == 0) {
		a->status = 500;
		a->hdrs = H_HTML;
		set_body(a, "<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>\n");
	} else if (strcmp(mode, "huge") == 0) {
		a->status = 200;
		a->hdrs = ep == EP_LOGIN ? H_LOGIN : H_REST;
		a->huge = geti(f, "bytes", 17000000);
		a->huge_sized = json_object_get_boolean(get(f, "sized"));
	} else {
		return 0;
	}
	return 1;
}

static void
after_fault(struct answer *a, json_object *f)
{
	const char *mode = gets_(f, "mode", "none");

	if (strcmp(mode, "truncated") == 0) {
		a->body.len /= 2;
		if (a->body.p)
			a->body.p[a->body.len] = '\0';
	} else if (strcmp(mode, "slow") == 0) {
		long long s = geti(f, "seconds", 5);

		a->sleep_s = (int)(s < 0 ? 0 : s > 60 ? 60 : s);
	}
}

/* ---- the log --------------------------------------------------------------- */

static int
is_secret(const char *k)
{
	return strcmp(k, "wstoken") == 0 || strcmp(k, "password") == 0 || strcmp(k, "token") == 0 ||
	    strcmp(k, "privatetoken") == 0;
}

static void
log_request(const char *method, const char *path, const char *fn, const struct params *p,
    int serial, int status)
{
	struct jw w = { 0 };
	FILE *f;
	size_t i;

	if (log_path == NULL)
		return;
	jw_obj(&w);
	jw_k(&w, "method"); jw_s(&w, method);
	jw_k(&w, "path"); jw_s(&w, path);
	jw_k(&w, "wsfunction");
	if (fn)
		jw_s(&w, fn);
	else
		jw_null(&w);
	jw_k(&w, "params");
	jw_obj(&w);
	for (i = 0; i < p->n; i++) {
		jw_k(&w, p->v[i].k);
		jw_s(&w, is_secret(p->v[i].k) ? "***" : p->v[i].v);
	}
	jw_end(&w, '}');
	jw_k(&w, "token_serial"); jw_i(&w, serial);
	jw_k(&w, "status"); jw_i(&w, status);
	jw_end(&w, '}');
	sb_add(&w.b, "\n", 1);
	f = fopen(log_path, "a");
	if (f) {
		fwrite(w.b.p, 1, w.b.len, f);
		fclose(f);
	}
	free(w.b.p);
}

/* ---- HTTP -------------------------------------------------------------------- */

struct upload {
	struct sb body;
	int too_big;
};

struct stream {
	long long total;
};

/* A calendar answer of exactly s->total bytes: the head, as many fillers
 * as fit, spaces, the tail; any byte found from its position alone. */
static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	static const char head[] = "{\"events\":[";
	static const char tail[] = "{\"id\":1,\"name\":\"end\",\"courseid\":0}],\"warnings\":[]}";
	static const char filler[] =
		"{\"id\":1000000,\"name\":\"filler\",\"description\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"courseid\":0},";
	const uint64_t H = sizeof head - 1, T = sizeof tail - 1, F = sizeof filler - 1;
	struct stream *s = cls;
	uint64_t total = (uint64_t)s->total, body, fill_end, tail_start;
	size_t n = 0;

	if (total < H + T)
		total = H + T;
	body = total - H - T;
	fill_end = H + body / F * F;
	tail_start = total - T;
	if (stopping || pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	while (n < max && pos < total) {
		if (pos < H)
			out[n] = head[pos];
		else if (pos < fill_end)
			out[n] = filler[(pos - H) % F];
		else if (pos < tail_start)
			out[n] = ' ';
		else
			out[n] = tail[pos - tail_start];
		n++;
		pos++;
	}
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	free(cls);
}

static void
add_headers(struct MHD_Response *r, const struct answer *a)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	MHD_add_response_header(r, "X-Powered-By", "PHP/8.2.36");
	switch (a->hdrs) {
	case H_REST:
		MHD_add_response_header(r, "Content-type", "application/json");
		MHD_add_response_header(r, "Cache-Control",
		    "private, must-revalidate, pre-check=0, post-check=0, max-age=0");
		MHD_add_response_header(r, "Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
		MHD_add_response_header(r, "Pragma", "no-cache");
		MHD_add_response_header(r, "Accept-Ranges", "none");
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
		break;
	case H_LOGIN:
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
		MHD_add_response_header(r, "Content-type", "application/json; charset=utf-8");
		MHD_add_response_header(r, "Cache-Control", "no-store, no-cache, must-revalidate");
		MHD_add_response_header(r, "Cache-Control", "post-check=0, pre-check=0");
		MHD_add_response_header(r, "Pragma", "no-cache");
		MHD_add_response_header(r, "Expires", "Mon, 20 Aug 1969 09:23:00 GMT");
		MHD_add_response_header(r, "Last-Modified", date);
		MHD_add_response_header(r, "Accept-Ranges", "none");
		break;
	case H_HTML:
		MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
		break;
	case H_XML:
		MHD_add_response_header(r, "Content-type", "application/xml; charset=utf-8");
		MHD_add_response_header(r, "Cache-Control",
		    "private, must-revalidate, pre-check=0, post-check=0, max-age=0");
		break;
	case H_TEXT:
		MHD_add_response_header(r, "Content-Type", "text/plain");
		break;
	case H_NONE:
		break;
	}
	if (a->location)
		MHD_add_response_header(r, "Location", a->location);
	if (a->retry_after)
		MHD_add_response_header(r, "Retry-After", a->retry_after);
}

/* ---- leaks --------------------------------------------------------------- */

/* Answers of a site or proxy that echo what they were sent, secrets
 * included: moodlecord may quote an answer in an error, and must hide
 * every piece of a secret in it (or not quote it at all). */
static int
leak_answer(struct answer *a, json_object *f, enum endpoint ep, const struct upload *u,
    const struct params *p)
{
	const char *mode = gets_(f, "mode", "none");
	char *body = strndup(u->body.p ? u->body.p : "", u->body.len);
	struct jw w = { 0 };
	struct sb msg = { 0 };

	if (body == NULL)
		die("out of memory");
	if (strcmp(mode, "echo_request") == 0) {
		char *e = html_escape(body);

		a->status = (int)geti(f, "status", 200);
		a->hdrs = H_HTML;
		a->body.len = 0;
		sb_addf(&a->body, "<pre>%s</pre>\n<p>This request could not be handled.</p>\n", e);
		free(e);
	} else if (strcmp(mode, "json_echo") == 0) {
		sb_addf(&msg, "Request rejected: %s (password %s, token %s)", body,
		    param(p, "password") ? param(p, "password") : "-",
		    param(p, "wstoken") ? param(p, "wstoken") : "-");
		jw_obj(&w);
		if (ep == EP_LOGIN) {
			jw_k(&w, "error"); jw_s(&w, msg.p);
			jw_k(&w, "errorcode"); jw_s(&w, "generalexceptionmessage");
		} else {
			jw_k(&w, "exception"); jw_s(&w, "moodle_exception");
			jw_k(&w, "errorcode"); jw_s(&w, "generalexceptionmessage");
			jw_k(&w, "message"); jw_s(&w, msg.p);
		}
		jw_end(&w, '}');
		a->status = 200;
		a->hdrs = ep == EP_LOGIN ? H_LOGIN : H_REST;
		free(a->body.p);
		a->body = w.b;
		free(msg.p);
	} else {
		free(body);
		return 0;
	}
	free(body);
	return 1;
}

static void
after_leak(struct answer *a, json_object *f)
{
	if (strcmp(gets_(f, "mode", "none"), "php_warning") == 0)
		sb_adds(&a->body, "\n<br />\n<b>Warning</b>:  Undefined array key \"privatetoken\" in "
		    "<b>/var/www/moodle/login/token.php</b> on line <b>114</b><br />\n");
}

static void
build_answer(struct MHD_Connection *c, const char *url, const char *method,
    const struct upload *u, struct answer *a)
{
	struct params p = { 0 };
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *fn = NULL;
	enum endpoint ep;
	json_object *fault;
	int serial = 0;

	if (host == NULL)
		host = "127.0.0.1";
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &p);
	if (u->body.len)
		parse_form(&p, u->body.p, u->body.len);

	pthread_mutex_lock(&lock);
	if (scenario_refresh() != 0) {
		a->status = 500;
		a->hdrs = H_TEXT;
		set_body(a, "fake_moodle: no readable scenario\n");
		goto unlock;
	}
	if (strcmp(url, "/_fake/base") == 0) {
		a->status = 200;
		a->hdrs = H_TEXT;
		a->body.len = 0;
		sb_addf(&a->body, "%lld\n", base_time());
		goto unlock;
	}
	if (strcmp(url, "/login/token.php") == 0) {
		ep = EP_LOGIN;
	} else if (strcmp(url, "/webservice/rest/server.php") == 0) {
		ep = EP_REST;
		fn = param(&p, "wsfunction");
	} else {
		a->status = 404;
		a->hdrs = H_HTML;
		set_body(a, "<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>\n");
		goto logit;
	}
	fault = get(scenario, "fault");
	if (u->too_big) {
		a->status = 413;
		a->hdrs = H_HTML;
		set_body(a, "");
	} else if (fault && fault_applies(fault, ep, fn) && fault_answer(a, fault, ep, host)) {
		;
	} else if (fault && fault_applies(fault, ep, fn) && leak_answer(a, fault, ep, u, &p)) {
		;
	} else {
		if (ep == EP_LOGIN)
			do_login(a, &p, &serial);
		else
			do_rest(a, &p, host, &serial);
		if (fault && fault_applies(fault, ep, fn)) {
			after_fault(a, fault);
			after_leak(a, fault);
		}
	}
logit:
	log_request(method, url, fn, &p, serial, a->status);
unlock:
	pthread_mutex_unlock(&lock);
	params_free(&p);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct upload *u = *con_cls;
	struct answer a = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	int i;

	(void)cls;
	(void)version;
	if (u == NULL) {
		u = calloc(1, sizeof *u);
		if (u == NULL)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_size) {
		if (u->body.len + *upload_size > MAX_UPLOAD)
			u->too_big = 1;
		else
			sb_add(&u->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	build_answer(c, url, method, u, &a);
	for (i = 0; i < a.sleep_s * 20 && !stopping; i++)
		usleep(50000);
	if (a.huge) {
		struct stream *s = calloc(1, sizeof *s);

		if (s == NULL)
			return MHD_NO;
		s->total = a.huge;
		r = MHD_create_response_from_callback(a.huge_sized ? (uint64_t)a.huge : MHD_SIZE_UNKNOWN,
		    64 * 1024, stream_read, s, stream_free);
	} else {
		r = MHD_create_response_from_buffer(a.body.len, a.body.p ? a.body.p : (char *)"",
		    MHD_RESPMEM_MUST_COPY);
	}
	if (r == NULL)
		return MHD_NO;
	add_headers(r, &a);
	ret = MHD_queue_response(c, (unsigned)a.status, r);
	MHD_destroy_response(r);
	free(a.body.p);
	free(a.location);
	free(a.retry_after);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)t;
	if (u) {
		free(u->body.p);
		free(u);
		*con_cls = NULL;
	}
}

static void
usage(void)
{
	fputs("usage: fake_moodle --port-file FILE --scenario FILE.json [--log FILE]\n", stderr);
	exit(64);
}

int
main(int argc, char *argv[])
{
	const char *port_file = NULL;
	struct sockaddr_in sa = { 0 };
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t set;
	char tmp[4096];
	FILE *f;
	int i, sig;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc)
			scenario_path = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log_path = argv[++i];
		else
			usage();
	}
	if (port_file == NULL || scenario_path == NULL)
		usage();
	started = (long long)time(NULL);
	if (scenario_refresh() != 0)
		die("cannot read the scenario %s", scenario_path);

	/* The server's threads inherit this mask: the signals come to sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_END);
	if (d == NULL)
		die("cannot start the HTTP server");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		die("cannot learn the port");
	snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%u\n", (unsigned)info->port) < 0 || fclose(f) != 0 ||
	    rename(tmp, port_file) != 0)
		die("cannot write %s: %s", port_file, strerror(errno));

	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	stopping = 1;
	MHD_stop_daemon(d);
	json_object_put(scenario);
	free(tokens);
	return 0;
}
