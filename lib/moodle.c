#include "moodle.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define FORM_TYPE "application/x-www-form-urlencoded"
#define BBB "bigbluebuttonbn"
#define FN_SITE_INFO "core_webservice_get_site_info"
#define FN_COURSES "core_enrol_get_users_courses"
#define FN_EVENTS "core_calendar_get_calendar_events"
#define FN_BBB "mod_bigbluebuttonbn_get_bigbluebuttonbns_by_courses"
#define FN_CM "core_course_get_course_module_by_instance"

/* ---- text ---------------------------------------------------------- */


static const struct {
	const char *name;
	uint32_t cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xa0 }, { "iexcl", 0xa1 }, { "cent", 0xa2 }, { "pound", 0xa3 },
	{ "euro", 0x20ac }, { "yen", 0xa5 }, { "sect", 0xa7 }, { "copy", 0xa9 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "reg", 0xae }, { "deg", 0xb0 },
	{ "plusmn", 0xb1 }, { "middot", 0xb7 }, { "frac12", 0xbd }, { "iquest", 0xbf },
	{ "times", 0xd7 }, { "divide", 0xf7 }, { "szlig", 0xdf },
	{ "Agrave", 0xc0 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 }, { "Atilde", 0xc3 },
	{ "Auml", 0xc4 }, { "Aring", 0xc5 }, { "AElig", 0xc6 }, { "Ccedil", 0xc7 },
	{ "Egrave", 0xc8 }, { "Eacute", 0xc9 }, { "Ecirc", 0xca }, { "Euml", 0xcb },
	{ "Igrave", 0xcc }, { "Iacute", 0xcd }, { "Icirc", 0xce }, { "Iuml", 0xcf },
	{ "Ntilde", 0xd1 }, { "Ograve", 0xd2 }, { "Oacute", 0xd3 }, { "Ocirc", 0xd4 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "Oslash", 0xd8 }, { "Ugrave", 0xd9 },
	{ "Uacute", 0xda }, { "Ucirc", 0xdb }, { "Uuml", 0xdc }, { "Yacute", 0xdd },
	{ "agrave", 0xe0 }, { "aacute", 0xe1 }, { "acirc", 0xe2 }, { "atilde", 0xe3 },
	{ "auml", 0xe4 }, { "aring", 0xe5 }, { "aelig", 0xe6 }, { "ccedil", 0xe7 },
	{ "egrave", 0xe8 }, { "eacute", 0xe9 }, { "ecirc", 0xea }, { "euml", 0xeb },
	{ "igrave", 0xec }, { "iacute", 0xed }, { "icirc", 0xee }, { "iuml", 0xef },
	{ "ntilde", 0xf1 }, { "ograve", 0xf2 }, { "oacute", 0xf3 }, { "ocirc", 0xf4 },
	{ "otilde", 0xf5 }, { "ouml", 0xf6 }, { "oslash", 0xf8 }, { "ugrave", 0xf9 },
	{ "uacute", 0xfa }, { "ucirc", 0xfb }, { "uuml", 0xfc }, { "yacute", 0xfd },
	{ "yuml", 0xff }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "bdquo", 0x201e }, { "bull", 0x2022 }, { "hellip", 0x2026 }, { "trade", 0x2122 },
	{ "larr", 0x2190 }, { "rarr", 0x2192 },
};

/* Decode the entity at s (just after '&', n bytes left): its code point
 * and length up to and including ';', or 0 when it is not one. */
static size_t
entity(const char *s, size_t n, uint32_t *cp)
{
	size_t i, len;

	for (len = 0; len < n && len < 32 && s[len] != ';'; len++)
		if (!isalnum((unsigned char)s[len]) && !(len == 0 && s[len] == '#'))
			return 0;
	if (len == 0 || len >= n || s[len] != ';')
		return 0;
	if (s[0] == '#') {
		uint64_t v = 0;
		int hex = len > 1 && (s[1] == 'x' || s[1] == 'X');
		size_t k = hex ? 2 : 1;

		if (k >= len)
			return 0;
		for (; k < len; k++) {
			int c = (unsigned char)s[k], d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				return 0;
			v = v * (hex ? 16 : 10) + (uint64_t)d;
			if (v > 0x10ffff)
				v = 0x110000;   /* stays invalid, cannot overflow */
		}
		*cp = (uint32_t)v;  /* buf_add_cp turns invalid ones into U+FFFD */
		return len + 1;
	}
	for (i = 0; i < sizeof entities / sizeof entities[0]; i++) {
		if (strlen(entities[i].name) == len && strncmp(entities[i].name, s, len) == 0) {
			*cp = entities[i].cp;
			return len + 1;
		}
	}
	return 0;
}

char *
moodle_text(const char *s, size_t len)
{
	char *clean = utf8_repair(s ? s : "", s ? len : 0), *p;
	struct buf b = { 0 };

	for (p = clean; *p; ) {
		char *amp = strchr(p, '&');
		uint32_t cp;
		size_t n;

		if (amp == NULL) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(amp - p));
		n = entity(amp + 1, strlen(amp + 1), &cp);
		if (n == 0) {
			buf_add(&b, "&", 1);
			p = amp + 1;
		} else {
			buf_add_cp(&b, cp);
			p = amp + 1 + n;
		}
	}
	free(clean);
	return buf_take(&b);
}

/* The first 60 characters of an answer, for a message: UTF-8 repaired,
 * control characters as spaces.  A new string. */
static char *
quote60(const char *body, size_t len)
{
	char *clean = utf8_repair(body ? body : "", body ? len : 0);
	struct buf b = { 0 };
	size_t i, chars = 0;

	for (i = 0; clean[i] && chars < 60; chars++) {
		unsigned char c = (unsigned char)clean[i];
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (c < 0x20 || c == 0x7f)
			buf_add(&b, " ", 1);
		else
			buf_add(&b, clean + i, n);
		i += n;
	}
	if (clean[i])
		buf_adds(&b, "...");
	free(clean);
	return buf_take(&b);
}

/* ---- JSON helpers --------------------------------------------------- */

/* An integer member (a JSON number, or a string of digits as very old
 * sites send); 0 when absent or null, -1 when of another type. */
static int
jint(json_object *o, const char *key, int64_t *v)
{
	json_object *m;

	*v = 0;
	if (!json_object_object_get_ex(o, key, &m) || m == NULL)
		return 0;
	if (json_object_is_type(m, json_type_int)) {
		*v = json_object_get_int64(m);
		return 0;
	}
	if (json_object_is_type(m, json_type_string) &&
	    parse_int64(json_object_get_string(m), INT64_MIN, INT64_MAX, v) == 0)
		return 0;
	if (json_object_is_type(m, json_type_boolean)) {
		*v = json_object_get_boolean(m);
		return 0;
	}
	return -1;
}

/* A string member decoded for showing; "" when absent or null. */
static char *
jtext(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || m == NULL)
		return xstrdup("");
	if (json_object_is_type(m, json_type_string))
		return moodle_text(json_object_get_string(m), (size_t)json_object_get_string_len(m));
	return moodle_text(json_object_get_string(m), strlen(json_object_get_string(m)));
}

/* A string member as sent (NULL when absent, null or not a string). */
static const char *
jstr(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

static json_object *
jarray(json_object *o, const char *key)
{
	json_object *m;

	if (o == NULL || !json_object_object_get_ex(o, key, &m) ||
	    !json_object_is_type(m, json_type_array))
		return NULL;
	return m;
}

/* ---- one session ----------------------------------------------------- */

struct session {
	const struct config *cfg;
	moodle_send_fn send;
	void *arg;
	char *site;          /* configured URL without trailing slashes */
	char *token;         /* secret */
	int may_login;       /* username and password configured */
	int relogged;        /* the one new login was used */
	char *release;       /* for messages, once site info is read */
	char **functions;    /* sorted, from site info */
	size_t nfunctions;
	char last_code[64];  /* errorcode of the last error answer, "" = none */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
site_has(const struct session *s, const char *fn)
{
	return bsearch(&fn, s->functions, s->nfunctions, sizeof *s->functions, cmp_str) != NULL;
}

static const char *
release_of(const struct session *s)
{
	return s->release && *s->release ? s->release : "of unknown release";
}

enum endpoint { LOGIN, REST };

/* Judge one answer: MC_OK with *out the parsed JSON value, or an error.
 * *refused is set when Moodle refused the token (a new login may help). */
static enum mc_err
judge(struct session *s, enum endpoint ep, const char *fn, const char *url,
    const struct http_response *r, json_object **out, int *refused, struct err *e)
{
	json_tokener *tok;
	json_object *j;
	const char *code, *msg, *p;
	char *q, *where;
	enum mc_err rc;
	size_t end;

	*out = NULL;
	*refused = 0;
	s->last_code[0] = '\0';
	where = http_url_for_humans(url);
	if (r->status >= 300 && r->status < 400) {
		char *to = http_url_for_humans(r->location ? r->location : "(no Location)");

		rc = err_set(e, MC_ERR_CONFIG, "Moodle %s: %s redirects (HTTP %ld) to %s: "
		    "check [moodle] url, it must be the site root that the app uses",
		    fn, where, r->status, to);
		free(to);
		goto where_free;
	}
	if (r->status == 503) {
		rc = err_set(e, MC_ERR_TEMP, "Moodle %s: the site is unavailable (HTTP 503%s%s%s), "
		    "probably in maintenance; try again later", fn,
		    r->retry_after ? ", retry after " : "", r->retry_after ? r->retry_after : "",
		    r->retry_after ? " s" : "");
		goto where_free;
	}
	if (r->status >= 500) {
		rc = err_set(e, MC_ERR_UNAVAILABLE, "Moodle %s: the site failed (HTTP %ld)", fn, r->status);
		goto where_free;
	}
	if (r->status == 403 && r->len == 0 && ep == REST) {
		rc = err_set(e, MC_ERR_CONFIG, "Moodle %s: REST protocol disabled on this site (HTTP 403); "
		    "the site admin must enable it (Site administration > Server > Web services > "
		    "Manage protocols)", fn);
		goto where_free;
	}
	if (r->status == 404) {
		rc = err_set(e, MC_ERR_CONFIG, "Moodle %s: %s not found (HTTP 404): check [moodle] url, "
		    "it must be the site root", fn, where);
		goto where_free;
	}
	if (r->status != 200) {
		q = quote60(r->body, r->len);
		rc = err_set(e, MC_ERR_DATA, "Moodle %s: unexpected HTTP %ld from %s: \"%s\"",
		    fn, r->status, where, q);
		free(q);
		goto where_free;
	}
	for (p = r->body, end = 0; end < r->len && isspace((unsigned char)p[end]); end++)
		;
	if (end == r->len) {
		rc = err_set(e, MC_ERR_DATA, "Moodle %s: empty answer from %s", fn, where);
		goto where_free;
	}
	if (p[end] == '<') {
		q = quote60(r->body, r->len);
		rc = err_set(e, MC_ERR_DATA, "Moodle %s: an HTML or XML page instead of JSON: \"%s\"; "
		    "check [moodle] url", fn, q);
		free(q);
		goto where_free;
	}
	tok = json_tokener_new();
	j = json_tokener_parse_ex(tok, r->body, (int)r->len);
	end = j ? json_tokener_get_parse_end(tok) : 0;
	while (j && end < r->len && isspace((unsigned char)r->body[end]))
		end++;
	json_tokener_free(tok);
	if (j == NULL || end != r->len) {
		json_object_put(j);
		q = quote60(r->body, r->len);
		rc = err_set(e, MC_ERR_DATA, "Moodle %s: broken or truncated JSON (%zu bytes): \"%s\"",
		    fn, r->len, q);
		free(q);
		goto where_free;
	}
	code = json_object_is_type(j, json_type_object) ? jstr(j, "errorcode") : NULL;
	if (code == NULL) {
		*out = j;
		rc = MC_OK;
		goto where_free;
	}
	snprintf(s->last_code, sizeof s->last_code, "%s", code);
	msg = jstr(j, ep == LOGIN ? "error" : "message");
	q = quote60(msg ? msg : "", msg ? strlen(msg) : 0);
	if (strcmp(code, "invalidlogin") == 0) {
		rc = err_set(e, MC_ERR_AUTH, "Moodle refused the username or password");
	} else if (strcmp(code, "invalidtoken") == 0 || strcmp(code, "accessexception") == 0) {
		const char *dbg = jstr(j, "debuginfo");
		char *dq = dbg ? quote60(dbg, strlen(dbg)) : NULL;

		*refused = 1;
		rc = err_set(e, MC_ERR_AUTH, "Moodle %s: the token was refused (%s: %s%s%s)", fn, code, q,
		    dq ? "; " : "", dq ? dq : "");
		free(dq);
	} else if (strcmp(code, "enablewsdescription") == 0) {
		rc = err_set(e, MC_ERR_CONFIG, "Moodle: web services are off on this site; the site admin "
		    "must switch on Site administration > Advanced features > Enable web services");
	} else if (strcmp(code, "servicenotavailable") == 0) {
		rc = err_set(e, MC_ERR_CONFIG, "Moodle: the mobile app service is off on this site; the site "
		    "admin must switch on Site administration > Advanced features > "
		    "Enable web services for mobile devices");
	} else if (strcmp(code, "sitemaintenance") == 0) {
		rc = err_set(e, MC_ERR_TEMP, "Moodle %s: the site is in maintenance mode; try again later", fn);
	} else if (strcmp(code, "invalidparameter") == 0 || strcmp(code, "missingparam") == 0) {
		rc = err_set(e, MC_ERR_DATA, "Moodle %s rejected moodlecord's parameters (%s: %s); "
		    "please report this bug", fn, code, q);
	} else if (strcmp(code, "invalidrecord") == 0 && msg && strstr(msg, "external_functions")) {
		rc = err_set(e, MC_ERR_UNAVAILABLE, "Moodle %s: this site (Moodle %s) does not have this "
		    "function", fn, release_of(s));
	} else if (ep == LOGIN && (strcmp(code, "usernotconfirmed") == 0 ||
	    strcmp(code, "passwordisexpired") == 0 || strcmp(code, "noguest") == 0 ||
	    strcmp(code, "restoredaccountresetpassword") == 0 ||
	    strcmp(code, "cannotcreatetoken") == 0)) {
		rc = err_set(e, MC_ERR_AUTH, "Moodle refused the login (%s: %s); log in on the web site "
		    "to see why", code, q);
	} else {
		rc = err_set(e, MC_ERR_DATA, "Moodle %s answered with an error (%s: %s)", fn, code, q);
	}
	free(q);
	json_object_put(j);
where_free:
	free(where);
	return rc;
}

/* Take the secrets out of e->msg: it quotes what the site sent, and a
 * site (or a proxy page) may echo the token or password it was given.
 * The token from a login is known to no one else who could redact it. */
static enum mc_err
scrub(const struct session *s, struct err *e)
{
	struct secrets sec = { 0 };
	char *clean;

	secrets_add(&sec, s->token);
	secrets_add(&sec, s->cfg->token);
	secrets_add(&sec, s->cfg->password);
	clean = redact(&sec, e->msg);
	snprintf(e->msg, sizeof e->msg, "%s", clean);
	free(clean);
	secrets_free(&sec);
	return e->kind;
}

/* POST body to url and judge the answer. */
static enum mc_err
exchange(struct session *s, enum endpoint ep, const char *fn, const char *url,
    struct buf *body, json_object **out, int *refused, struct err *e)
{
	struct http_request req = { 0 };
	struct http_response resp;
	enum http_fail fail;
	enum mc_err rc;

	req.method = "POST";
	req.url = url;
	req.body = body->data ? body->data : "";
	req.body_len = body->len;
	req.content_type = FORM_TYPE;
	*refused = 0;
	*out = NULL;
	rc = s->send(s->arg, &req, &resp, &fail, e);
	if (rc != MC_OK) {
		err_prefix(e, "Moodle %s: ", fn);
		return scrub(s, e);
	}
	rc = judge(s, ep, fn, url, &resp, out, refused, e);
	http_response_free(&resp);
	if (rc != MC_OK)
		scrub(s, e);
	return rc;
}

static void
wipe(struct buf *b)
{
	if (b->data)
		memset(b->data, 0, b->len);
	buf_free(b);
}

static enum mc_err
login(struct session *s, struct err *e)
{
	struct buf body = { 0 };
	json_object *j = NULL;
	const char *tok;
	char *url = xasprintf("%s/login/token.php", s->site);
	enum mc_err rc;
	int refused;
	size_t i;

	http_form_add(&body, "username", s->cfg->username);
	http_form_add(&body, "password", s->cfg->password);
	http_form_add(&body, "service", "moodle_mobile_app");
	rc = exchange(s, LOGIN, "login", url, &body, &j, &refused, e);
	wipe(&body);
	if (rc != MC_OK)
		goto url_free;
	tok = json_object_is_type(j, json_type_object) ? jstr(j, "token") : NULL;
	for (i = 0; tok && tok[i]; i++)
		if (!isalnum((unsigned char)tok[i]))
			break;
	if (tok == NULL || i == 0 || tok[i] != '\0') {
		rc = err_set(e, MC_ERR_DATA, "Moodle login: the answer holds no usable token");
		goto json_put;
	}
	if (s->token) {
		memset(s->token, 0, strlen(s->token));
		free(s->token);
	}
	s->token = xstrdup(tok);
json_put:
	json_object_put(j);
url_free:
	free(url);
	return rc;
}

/* Call fn with params (form-encoded, may be empty): MC_OK and *out, or an
 * error.  A refused token is met with one new login when possible. */
static enum mc_err
call(struct session *s, const char *fn, const struct buf *params, json_object **out,
    struct err *e)
{
	char *url = xasprintf("%s/webservice/rest/server.php?moodlewsrestformat=json", s->site);
	enum mc_err rc;
	int refused;

	for (;;) {
		struct buf body = { 0 };

		http_form_add(&body, "wstoken", s->token);
		http_form_add(&body, "wsfunction", fn);
		if (params && params->len) {
			buf_add(&body, "&", 1);
			buf_add(&body, params->data, params->len);
		}
		rc = exchange(s, REST, fn, url, &body, out, &refused, e);
		wipe(&body);
		if (rc == MC_OK || !refused)
			break;
		if (!s->may_login || s->relogged) {
			char why[sizeof e->msg];

			memcpy(why, e->msg, sizeof why);
			rc = err_set(e, MC_ERR_AUTH, "%s%s", why, s->may_login ?
			    ", also after a new login" :
			    "; make a new token and put it in [moodle] token (or token_file)");
			break;
		}
		s->relogged = 1;
		rc = login(s, e);
		if (rc != MC_OK)
			break;
	}
	free(url);
	return rc;
}

/* ---- the answers ------------------------------------------------------- */

static enum mc_err
read_site_info(struct session *s, json_object *j, struct moodle_site *site, struct err *e)
{
	json_object *fns = jarray(j, "functions");
	size_t i, n;

	if (!json_object_is_type(j, json_type_object) || jint(j, "userid", &site->userid) != 0 ||
	    site->userid <= 0 || fns == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_SITE_INFO ": the answer lacks userid or functions");
	site->sitename = jtext(j, "sitename");
	site->release = jtext(j, "release");
	site->username = jtext(j, "username");
	site->fullname = jtext(j, "fullname");
	s->release = xstrdup(site->release);
	n = json_object_array_length(fns);
	s->functions = xcalloc(n, sizeof *s->functions);
	for (i = 0; i < n; i++) {
		const char *name = jstr(json_object_array_get_idx(fns, i), "name");

		if (name)
			s->functions[s->nfunctions++] = xstrdup(name);
	}
	qsort(s->functions, s->nfunctions, sizeof *s->functions, cmp_str);
	return MC_OK;
}

struct course {
	int64_t id;
	char *shortname, *fullname;
};

struct courses {
	struct course *v;
	size_t n;
};

static void
courses_free(struct courses *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].shortname);
		free(c->v[i].fullname);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int
cmp_course(const void *a, const void *b)
{
	const struct course *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static const struct course *
course_find(const struct courses *c, int64_t id)
{
	struct course key = { .id = id };

	return bsearch(&key, c->v, c->n, sizeof *c->v, cmp_course);
}

static int
course_selected(const struct config *cfg, int64_t id, const char *rawshort, const char *shortname)
{
	size_t i;

	if (cfg->ncourses == 0)
		return 1;
	for (i = 0; i < cfg->ncourses; i++) {
		int64_t v;

		if (parse_int64(cfg->courses[i], 1, INT64_MAX, &v) == 0 && v == id)
			return 1;
		if (strcmp(cfg->courses[i], shortname) == 0 || (rawshort && strcmp(cfg->courses[i], rawshort) == 0))
			return 1;
	}
	return 0;
}

/* The enrolled courses, sorted by id, only those cfg selects. */
static enum mc_err
read_courses(const struct config *cfg, json_object *j, struct moodle_site *site,
    struct courses *out, struct err *e)
{
	size_t i, n;

	if (!json_object_is_type(j, json_type_array))
		return err_set(e, MC_ERR_DATA, "Moodle " FN_COURSES ": the answer is not a list of courses");
	n = json_object_array_length(j);
	out->v = xcalloc(n, sizeof *out->v);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(j, i);
		struct course co = { 0 };

		if (!json_object_is_type(c, json_type_object) || jint(c, "id", &co.id) != 0 || co.id <= 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_COURSES ": a course without an id");
		site->ncourses++;
		co.shortname = jtext(c, "shortname");
		if (!course_selected(cfg, co.id, jstr(c, "shortname"), co.shortname)) {
			free(co.shortname);
			continue;
		}
		co.fullname = jtext(c, "fullname");
		out->v[out->n++] = co;
	}
	qsort(out->v, out->n, sizeof *out->v, cmp_course);
	site->nselected = out->n;
	return MC_OK;
}

struct cand {
	struct event ev;
	int64_t instance;
	char *event_name;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static void
cands_free(struct cands *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		event_free(&c->v[i].ev);
		free(c->v[i].event_name);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int
module_wanted(const struct config *cfg, const char *module)
{
	size_t i;

	if (cfg->nmodules == 0)
		return strcmp(module, BBB) == 0;
	for (i = 0; i < cfg->nmodules; i++)
		if (strcmp(cfg->modules[i], module) == 0)
			return 1;
	return 0;
}

static enum mc_err
read_events(const struct config *cfg, json_object *j, const struct courses *courses,
    struct cands *out, struct err *e)
{
	json_object *evs = json_object_is_type(j, json_type_object) ? jarray(j, "events") : NULL;
	size_t i, n;

	if (evs == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": the answer has no events list");
	n = json_object_array_length(evs);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(evs, i);
		const char *module = jstr(v, "modulename");
		const struct course *co;
		struct cand c = { 0 };
		int64_t id, courseid, instance, start, duration;

		if (!json_object_is_type(v, json_type_object))
			return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": an event is not an object");
		if (jint(v, "id", &id) != 0 || jint(v, "courseid", &courseid) != 0 ||
		    jint(v, "instance", &instance) != 0 || jint(v, "timestart", &start) != 0 ||
		    jint(v, "timeduration", &duration) != 0 || id <= 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": an event with a bad id or time");
		if (module == NULL || !module_wanted(cfg, module))
			continue;
		co = course_find(courses, courseid);
		if (co == NULL)
			continue;
		c.ev.id = id;
		c.ev.course_id = courseid;
		c.ev.course_short = xstrdup(co->shortname);
		c.ev.course_name = xstrdup(co->fullname);
		c.ev.module = xstrdup(module);
		c.ev.start = start;
		c.ev.duration = duration > 0 ? duration : 0;
		c.instance = instance;
		c.event_name = jtext(v, "name");
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 16;
			out->v = xrealloc(out->v, out->cap * sizeof *out->v);
		}
		out->v[out->n++] = c;
	}
	return MC_OK;
}

/* An activity's link and clean name. */
struct activity {
	int64_t instance, cmid;
	char *name;
};

struct activities {
	struct activity *v;
	size_t n;
};

static void
activities_free(struct activities *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof *a);
}

static int
cmp_activity(const void *a, const void *b)
{
	const struct activity *x = a, *y = b;

	return (x->instance > y->instance) - (x->instance < y->instance);
}

static const struct activity *
activity_find(const struct activities *a, int64_t instance)
{
	struct activity key = { .instance = instance };

	return bsearch(&key, a->v, a->n, sizeof *a->v, cmp_activity);
}

static enum mc_err
read_bbbs(json_object *j, struct activities *out, struct err *e)
{
	json_object *l = json_object_is_type(j, json_type_object) ? jarray(j, "bigbluebuttonbns") : NULL;
	size_t i, n;

	if (l == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_BBB ": the answer has no bigbluebuttonbns list");
	n = json_object_array_length(l);
	out->v = xcalloc(n, sizeof *out->v);
	for (i = 0; i < n; i++) {
		json_object *b = json_object_array_get_idx(l, i);
		struct activity a = { 0 };

		if (!json_object_is_type(b, json_type_object) || jint(b, "id", &a.instance) != 0 ||
		    jint(b, "coursemodule", &a.cmid) != 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_BBB ": an activity with a bad id");
		a.name = jtext(b, "name");
		out->v[out->n++] = a;
	}
	qsort(out->v, out->n, sizeof *out->v, cmp_activity);
	return MC_OK;
}

/* Ask for one activity by instance.  MC_OK with cmid 0 when the site has no
 * such activity for this user (the link falls back to the course). */
static enum mc_err
cm_by_instance(struct session *s, const char *module, int64_t instance, int64_t *cmid,
    char **name, struct err *e)
{
	struct buf p = { 0 };
	json_object *j = NULL, *cm;
	char num[32];
	enum mc_err rc;

	*cmid = 0;
	*name = NULL;
	snprintf(num, sizeof num, "%lld", (long long)instance);
	http_form_add(&p, "module", module);
	http_form_add(&p, "instance", num);
	rc = call(s, FN_CM, &p, &j, e);
	buf_free(&p);
	/* The activity gone, or hidden from this user: link the course. */
	if (rc == MC_ERR_DATA && (strcmp(s->last_code, "invalidrecord") == 0 ||
	    strcmp(s->last_code, "requireloginerror") == 0 ||
	    strcmp(s->last_code, "nopermissions") == 0))
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (json_object_is_type(j, json_type_object) && json_object_object_get_ex(j, "cm", &cm) &&
	    json_object_is_type(cm, json_type_object) && jint(cm, "id", cmid) == 0) {
		*name = jtext(cm, "name");
	} else {
		rc = err_set(e, MC_ERR_DATA, "Moodle " FN_CM ": the answer has no cm");
	}
	json_object_put(j);
	return rc;
}

static char *
strip_scheduled(const char *name)
{
	static const char suffix[] = " is scheduled for";
	size_t n = strlen(name), k = sizeof suffix - 1;

	if (n > k && strcmp(name + n - k, suffix) == 0)
		return xstrndup(name, n - k);
	return xstrdup(name);
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->ev.start != y->ev.start)
		return (x->ev.start > y->ev.start) - (x->ev.start < y->ev.start);
	return (x->ev.id > y->ev.id) - (x->ev.id < y->ev.id);
}

/* Fill name, cmid for every candidate. */
static enum mc_err
resolve_links(struct session *s, const struct courses *courses, struct cands *cs, struct err *e)
{
	struct activities bbbs = { 0 };
	enum mc_err rc = MC_OK;
	int have_bbb = 0, bbb_listed = 0;
	size_t i, k;

	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].ev.module, BBB) == 0)
			have_bbb = 1;
	if (have_bbb && site_has(s, FN_BBB)) {
		struct buf p = { 0 };
		json_object *j = NULL;

		/* Only the courses that hold a BigBlueButton conference. */
		for (i = 0, k = 0; i < courses->n; i++) {
			for (size_t c = 0; c < cs->n; c++) {
				if (cs->v[c].ev.course_id == courses->v[i].id &&
				    strcmp(cs->v[c].ev.module, BBB) == 0) {
					char key[48], val[32];

					snprintf(key, sizeof key, "courseids[%zu]", k++);
					snprintf(val, sizeof val, "%lld", (long long)courses->v[i].id);
					http_form_add(&p, key, val);
					break;
				}
			}
		}
		rc = call(s, FN_BBB, &p, &j, e);
		buf_free(&p);
		if (rc == MC_OK)
			rc = read_bbbs(j, &bbbs, e);
		json_object_put(j);
		if (rc != MC_OK)
			goto bbbs_free;
		bbb_listed = 1;
	}
	for (i = 0; i < cs->n; i++) {
		struct cand *c = &cs->v[i];
		int is_bbb = strcmp(c->ev.module, BBB) == 0;

		if (is_bbb && bbb_listed) {
			const struct activity *a = activity_find(&bbbs, c->instance);

			if (a) {
				c->ev.cmid = a->cmid;
				c->ev.name = xstrdup(a->name);
			}
		} else if (c->instance > 0 && site_has(s, FN_CM)) {
			/* The same activity may have several events: ask once. */
			for (k = 0; k < i; k++) {
				if (cs->v[k].instance == c->instance &&
				    strcmp(cs->v[k].ev.module, c->ev.module) == 0)
					break;
			}
			if (k < i) {
				c->ev.cmid = cs->v[k].ev.cmid;
				c->ev.name = xstrdup(cs->v[k].ev.name);
			} else {
				rc = cm_by_instance(s, c->ev.module, c->instance, &c->ev.cmid, &c->ev.name, e);
				if (rc != MC_OK)
					goto bbbs_free;
			}
		}
		if (c->ev.name == NULL || *c->ev.name == '\0') {
			free(c->ev.name);
			c->ev.name = strip_scheduled(c->event_name);
		}
	}
bbbs_free:
	activities_free(&bbbs);
	return rc;
}

static void
session_free(struct session *s)
{
	size_t i;

	if (s->token) {
		memset(s->token, 0, strlen(s->token));
		free(s->token);
	}
	for (i = 0; i < s->nfunctions; i++)
		free(s->functions[i]);
	free(s->functions);
	free(s->release);
	free(s->site);
}

enum mc_err
moodle_fetch_via(const struct config *cfg, moodle_send_fn send, void *arg, int64_t now,
    struct moodle_site *site, struct event_list *out, struct err *e)
{
	struct session s = { 0 };
	struct courses courses = { 0 };
	struct cands cs = { 0 };
	struct buf p = { 0 };
	json_object *j = NULL;
	enum mc_err rc;
	size_t i, n;
	char val[32];

	memset(site, 0, sizeof *site);
	if (cfg->moodle_url == NULL || *cfg->moodle_url == '\0')
		return err_set(e, MC_ERR_CONFIG, "[moodle] url is not set");
	s.cfg = cfg;
	s.send = send;
	s.arg = arg;
	n = strlen(cfg->moodle_url);
	while (n > 0 && cfg->moodle_url[n - 1] == '/')
		n--;
	s.site = xstrndup(cfg->moodle_url, n);
	s.may_login = cfg->username && *cfg->username && cfg->password && *cfg->password;
	if (cfg->token && *cfg->token) {
		s.token = xstrdup(cfg->token);
		/* A ready token is used as it is; a password alongside it is
		 * the way back when the token stops working. */
	} else if (s.may_login) {
		rc = login(&s, e);
		if (rc != MC_OK)
			goto session_free;
	} else {
		rc = err_set(e, MC_ERR_CONFIG, "[moodle] needs username and password (or a token)");
		goto session_free;
	}

	rc = call(&s, FN_SITE_INFO, NULL, &j, e);
	if (rc != MC_OK)
		goto session_free;
	rc = read_site_info(&s, j, site, e);
	json_object_put(j);
	j = NULL;
	if (rc != MC_OK)
		goto session_free;
	if (!site_has(&s, FN_COURSES) || !site_has(&s, FN_EVENTS)) {
		rc = err_set(e, MC_ERR_UNAVAILABLE, "Moodle: this site (Moodle %s) does not offer %s to "
		    "the app", release_of(&s), site_has(&s, FN_COURSES) ? FN_EVENTS : FN_COURSES);
		goto session_free;
	}

	snprintf(val, sizeof val, "%lld", (long long)site->userid);
	http_form_add(&p, "userid", val);
	http_form_add(&p, "returnusercount", "0");
	rc = call(&s, FN_COURSES, &p, &j, e);
	buf_free(&p);
	if (rc == MC_OK)
		rc = read_courses(cfg, j, site, &courses, e);
	json_object_put(j);
	j = NULL;
	if (rc != MC_OK || courses.n == 0)
		goto courses_free;  /* no course: no course events to ask for */

	for (i = 0; i < courses.n; i++) {
		char key[48];

		snprintf(key, sizeof key, "events[courseids][%zu]", i);
		snprintf(val, sizeof val, "%lld", (long long)courses.v[i].id);
		http_form_add(&p, key, val);
	}
	http_form_add(&p, "options[userevents]", "0");
	http_form_add(&p, "options[siteevents]", "0");
	snprintf(val, sizeof val, "%lld", (long long)(now - DAY));
	http_form_add(&p, "options[timestart]", val);
	snprintf(val, sizeof val, "%lld", (long long)(now + cfg->lookahead_days * DAY));
	http_form_add(&p, "options[timeend]", val);
	rc = call(&s, FN_EVENTS, &p, &j, e);
	buf_free(&p);
	if (rc == MC_OK)
		rc = read_events(cfg, j, &courses, &cs, e);
	json_object_put(j);
	j = NULL;
	if (rc != MC_OK || cs.n == 0)
		goto cands_free;

	rc = resolve_links(&s, &courses, &cs, e);
	if (rc != MC_OK)
		goto cands_free;
	qsort(cs.v, cs.n, sizeof *cs.v, cmp_cand);
	for (i = 0; i < cs.n; i++) {
		struct event *ev = &cs.v[i].ev;

		if (ev->cmid > 0)
			ev->url = xasprintf("%s/mod/%s/view.php?id=%lld", s.site, ev->module, (long long)ev->cmid);
		else
			ev->url = xasprintf("%s/course/view.php?id=%lld", s.site, (long long)ev->course_id);
		ev->site_name = xstrdup(site->sitename);
		event_list_push(out, ev);
	}
cands_free:
	cands_free(&cs);
courses_free:
	courses_free(&courses);
session_free:
	session_free(&s);
	return rc;
}

static enum mc_err
send_http(void *arg, const struct http_request *req, struct http_response *resp,
    enum http_fail *fail, struct err *e)
{
	return http_send(arg, req, resp, fail, e);
}

enum mc_err
moodle_fetch(const struct config *cfg, struct http *h, int64_t now,
    struct moodle_site *site, struct event_list *out, struct err *e)
{
	return moodle_fetch_via(cfg, send_http, h, now, site, out, e);
}

void
moodle_site_free(struct moodle_site *site)
{
	if (site == NULL)
		return;
	free(site->sitename);
	free(site->release);
	free(site->username);
	free(site->fullname);
	memset(site, 0, sizeof *site);
}
