/* moodle: the session with the site (login, the web service calls, the
 * check of every answer) and the order of the calls.  The answers are
 * taken apart in moodle_read.c. */
#include "moodle.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodle_int.h"
#include "secret.h"
#include "url.h"

#define DAY 86400
#define FORM_TYPE "application/x-www-form-urlencoded"
/* How much of an answer a message quotes, in characters. */
#define QUOTE_CHARS 60

/* ---- one session ----------------------------------------------------- */

struct session {
	const struct config *cfg;
	moodle_send_fn send;
	void *arg;
	char *site;          /* configured URL without trailing slashes */
	char *token;         /* secret */
	struct secrets secrets; /* password, configured and login tokens */
	const char *username, *password; /* for token.php; password NULL
	                        until needed when auth->password gives it */
	struct moodle_auth *auth; /* kept token and password on demand, or NULL */
	int may_login;       /* username and password (or a way to get it) */
	int relogged;        /* the one new login was used */
	int signed_in;       /* token.php handed out s->token */
	char *release;       /* for messages, once site info is read */
	char **functions;    /* sorted, from site info */
	size_t nfunctions;
	char last_code[64];  /* errorcode of the last error answer, "" = none */
	size_t limit;        /* answer size limit of the next call, 0 = the client's */
	size_t last_len;     /* bytes of the last answer */
	int last_toobig;     /* the last answer was over the limit, not read whole */
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

/* login/token.php carries the password, and its answer may hold a token
 * not known yet: nothing it answers is ever quoted. */
enum endpoint { LOGIN, REST };

/* ': "QUOTE"' of text from the site, every piece of a secret hidden
 * before the quote is cut; for a login, only that it is not quoted. */
static char *
shown(const struct session *s, enum endpoint ep, const char *text, size_t len)
{
	char *q, *r;

	if (ep == LOGIN)
		return xstrdup(", not quoted: the request carried the password");
	q = secrets_quote(&s->secrets, text, len, QUOTE_CHARS);
	r = xasprintf(": \"%s\"", q);
	free(q);
	return r;
}

/* The errors Moodle answers with HTTP 200 and {"errorcode": ...}.  In
 * text, $F is the function called, $D "errorcode: message" ("errorcode"
 * alone for a login), $G "; debuginfo" when given (REST), $R the site's
 * release.  The last row is the default. */
enum { AT_LOGIN = 1, AT_REST = 2, AT_ANY = 3 };

static const struct moodle_error {
	const char *codes;       /* the errorcodes, separated by spaces     */
	unsigned at;             /* AT_*: where Moodle answers so          */
	const char *message_has; /* NULL, or what the message must hold   */
	enum mc_err kind;
	int token_refused;       /* a new login may help                  */
	const char *text;
} moodle_errors[] = {
	{ "invalidlogin", AT_ANY, NULL, MC_ERR_AUTH, 0, "Moodle refused the username or password" },
	{ "invalidtoken accessexception", AT_ANY, NULL, MC_ERR_AUTH, 1,
	  "Moodle $F: the token was refused ($D$G)" },
	{ "enablewsdescription", AT_ANY, NULL, MC_ERR_CONFIG, 0, "Moodle: web services are off on "
	  "this site; the site admin must switch on Site administration > Advanced features > "
	  "Enable web services" },
	{ "servicenotavailable", AT_ANY, NULL, MC_ERR_CONFIG, 0, "Moodle: the mobile app service "
	  "is off on this site; the site admin must switch on Site administration > Advanced "
	  "features > Enable web services for mobile devices" },
	{ "sitemaintenance", AT_ANY, NULL, MC_ERR_TEMP, 0, "Moodle $F: the site is in maintenance "
	  "mode; try again later" },
	{ "invalidparameter missingparam", AT_ANY, NULL, MC_ERR_DATA, 0, "Moodle $F rejected "
	  "moodlecord's parameters ($D); please report this bug" },
	{ "invalidrecord", AT_ANY, "external_functions", MC_ERR_UNAVAILABLE, 0, "Moodle $F: this "
	  "site (Moodle $R) does not have this function" },
	{ "usernotconfirmed passwordisexpired noguest restoredaccountresetpassword "
	  "cannotcreatetoken", AT_LOGIN, NULL, MC_ERR_AUTH, 0, "Moodle refused the login ($D); "
	  "log in on the web site to see why" },
	{ NULL, AT_ANY, NULL, MC_ERR_DATA, 0, "Moodle $F answered with an error ($D)" },
};

/* Is code one of the space-separated words of list? */
static int
code_in(const char *list, const char *code)
{
	size_t n = strlen(code);

	while (*list != '\0') {
		size_t len = strcspn(list, " ");

		if (len == n && strncmp(list, code, n) == 0)
			return 1;
		list += len;
		list += strspn(list, " ");
	}
	return 0;
}

static const struct moodle_error *
error_row(enum endpoint ep, const char *code, const char *message)
{
	const struct moodle_error *m = moodle_errors;

	for (; m->codes != NULL; m++)
		if (code_in(m->codes, code) && (m->at & (ep == LOGIN ? AT_LOGIN : AT_REST)) &&
		    (m->message_has == NULL || (message && strstr(message, m->message_has))))
			break;
	return m;
}

/* text with its $-fields filled. */
static char *
expand(const char *text, const char *fn, const char *detail, const char *debug,
    const char *release)
{
	struct buf b = { 0 };
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p != '$' || p[1] == '\0') {
			buf_add(&b, p, 1);
			continue;
		}
		p++;
		buf_adds(&b, *p == 'F' ? fn : *p == 'D' ? detail : *p == 'G' ? debug :
		    *p == 'R' ? release : "");
	}
	return buf_take(&b);
}

/* An answer with an errorcode: its kind and message from the table. */
static enum mc_err
check_errorcode(struct session *s, enum endpoint ep, const char *fn, json_object *j,
    const char *code, int *refused, struct err *e)
{
	const char *msg = moodle_json_str(j, ep == LOGIN ? "error" : "message");
	const char *dbg = moodle_json_str(j, "debuginfo");
	const struct moodle_error *m = error_row(ep, code, msg);
	char *q = NULL, *dq = NULL, *detail, *debug, *text;

	snprintf(s->last_code, sizeof s->last_code, "%s", code);
	if (ep == REST) {
		q = secrets_quote(&s->secrets, msg ? msg : "", msg ? strlen(msg) : 0, QUOTE_CHARS);
		if (dbg != NULL)
			dq = secrets_quote(&s->secrets, dbg, strlen(dbg), QUOTE_CHARS);
	}
	detail = q ? xasprintf("%s: %s", code, q) : xstrdup(code);
	debug = dq ? xasprintf("; %s", dq) : xstrdup("");
	text = expand(m->text, fn, detail, debug, release_of(s));
	*refused = m->token_refused;
	err_set(e, m->kind, "%s", text);
	free(text);
	free(debug);
	free(detail);
	free(dq);
	free(q);
	return m->kind;
}

/* The HTTP status of an answer: MC_OK for 200, else the error. */
static enum mc_err
check_status(struct session *s, enum endpoint ep, const char *fn, const char *where,
    const struct http_response *r, struct err *e)
{
	char *to, *q;

	if (r->status >= 300 && r->status < 400) {
		to = http_url_for_humans(r->location ? r->location : "(no Location)");
		err_set(e, MC_ERR_CONFIG, "Moodle %s: %s redirects (HTTP %ld) to %s: "
		    "check [moodle] url, it must be the site root that the app uses",
		    fn, where, r->status, to);
		free(to);
	} else if (r->status == 503) {
		err_set(e, MC_ERR_TEMP, "Moodle %s: the site is unavailable (HTTP 503%s%s%s), "
		    "probably in maintenance; try again later", fn,
		    r->retry_after ? ", retry after " : "", r->retry_after ? r->retry_after : "",
		    r->retry_after ? " s" : "");
	} else if (r->status >= 500) {
		err_set(e, MC_ERR_UNAVAILABLE, "Moodle %s: the site failed (HTTP %ld)", fn, r->status);
	} else if (r->status == 403 && r->len == 0 && ep == REST) {
		err_set(e, MC_ERR_CONFIG, "Moodle %s: REST protocol disabled on this site (HTTP 403); "
		    "the site admin must enable it (Site administration > Server > Web services > "
		    "Manage protocols)", fn);
	} else if (r->status == 404) {
		err_set(e, MC_ERR_CONFIG, "Moodle %s: %s not found (HTTP 404): check [moodle] url, "
		    "it must be the site root", fn, where);
	} else if (r->status != 200) {
		q = shown(s, ep, r->body, r->len);
		err_set(e, MC_ERR_DATA, "Moodle %s: unexpected HTTP %ld from %s%s",
		    fn, r->status, where, q);
		free(q);
	} else {
		return MC_OK;
	}
	return e->kind;
}

/* The body of a 200 answer as one JSON value, with nothing after it. */
static enum mc_err
check_json(struct session *s, enum endpoint ep, const char *fn, const char *where,
    const struct http_response *r, json_object **out, struct err *e)
{
	json_tokener *tok;
	json_object *j;
	size_t end = 0;
	char *q;

	while (end < r->len && isspace((unsigned char)r->body[end]))
		end++;
	if (end == r->len)
		return err_set(e, MC_ERR_DATA, "Moodle %s: empty answer from %s", fn, where);
	if (r->body[end] == '<') {
		q = shown(s, ep, r->body, r->len);
		err_set(e, MC_ERR_DATA, "Moodle %s: an HTML or XML page instead of JSON%s; "
		    "check [moodle] url", fn, q);
		free(q);
		return MC_ERR_DATA;
	}
	tok = json_tokener_new();
	j = json_tokener_parse_ex(tok, r->body, (int)r->len);
	end = j ? json_tokener_get_parse_end(tok) : 0;
	while (j && end < r->len && isspace((unsigned char)r->body[end]))
		end++;
	json_tokener_free(tok);
	if (j == NULL || end != r->len) {
		json_object_put(j);
		q = shown(s, ep, r->body, r->len);
		err_set(e, MC_ERR_DATA, "Moodle %s: broken or truncated JSON (%zu bytes)%s",
		    fn, r->len, q);
		free(q);
		return MC_ERR_DATA;
	}
	*out = j;
	return MC_OK;
}

/* Check one answer: MC_OK with *out the parsed JSON value, or an error.
 * *refused is set when Moodle refused the token (a new login may help). */
static enum mc_err
check_answer(struct session *s, enum endpoint ep, const char *fn, const char *url,
    const struct http_response *r, json_object **out, int *refused, struct err *e)
{
	json_object *j = NULL;
	const char *code;
	char *where = http_url_for_humans(url);
	enum mc_err rc;

	*out = NULL;
	*refused = 0;
	s->last_code[0] = '\0';
	rc = check_status(s, ep, fn, where, r, e);
	if (rc == MC_OK)
		rc = check_json(s, ep, fn, where, r, &j, e);
	free(where);
	if (rc != MC_OK)
		return rc;
	code = json_object_is_type(j, json_type_object) ? moodle_json_str(j, "errorcode") : NULL;
	if (code == NULL) {
		*out = j;
		return MC_OK;
	}
	rc = check_errorcode(s, ep, fn, j, code, refused, e);
	json_object_put(j);
	return rc;
}

/* Take the whole secrets out of e->msg too: it may quote an error of the
 * HTTP layer. */
static enum mc_err
scrub(const struct session *s, struct err *e)
{
	char *clean = secrets_redact(&s->secrets, e->msg);

	snprintf(e->msg, sizeof e->msg, "%s", clean);
	secret_free(clean);
	return e->kind;
}

/* POST body to url and check the answer. */
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
	req.max_body = s->limit;
	*refused = 0;
	*out = NULL;
	s->last_len = 0;
	fail = HTTP_FAIL_NONE;
	rc = s->send(s->arg, &req, &resp, &fail, e);
	s->last_toobig = rc != MC_OK && fail == HTTP_FAIL_TOOBIG;
	if (rc != MC_OK) {
		err_prefix(e, "Moodle %s: ", fn);
		return scrub(s, e);
	}
	s->last_len = resp.len;
	rc = check_answer(s, ep, fn, url, &resp, out, refused, e);
	/* the answer may hold the token (a login's, or an echo) */
	secret_wipe(resp.body, resp.len);
	http_response_free(&resp);
	if (rc != MC_OK)
		scrub(s, e);
	return rc;
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

	if (s->password == NULL && s->auth != NULL && s->auth->password != NULL) {
		rc = s->auth->password(s->auth->arg, &s->password, e);
		if (rc != MC_OK)
			goto url_free;
		secrets_add(&s->secrets, s->password);
	}
	if (s->username == NULL || s->password == NULL) {
		rc = err_set(e, MC_ERR_AUTH, "Moodle login: no password to sign in with");
		goto url_free;
	}
	http_form_add(&body, "username", s->username);
	http_form_add(&body, "password", s->password);
	http_form_add(&body, "service", "moodle_mobile_app");
	rc = exchange(s, LOGIN, "login", url, &body, &j, &refused, e);
	secret_buf_free(&body);
	if (rc != MC_OK)
		goto url_free;
	tok = json_object_is_type(j, json_type_object) ? moodle_json_str(j, "token") : NULL;
	for (i = 0; tok && tok[i]; i++)
		if (!isalnum((unsigned char)tok[i]))
			break;
	if (tok == NULL || i == 0 || tok[i] != '\0') {
		rc = err_set(e, MC_ERR_DATA, "Moodle login: the answer holds no usable token");
		goto json_put;
	}
	secret_free(s->token);
	s->token = xstrdup(tok);
	secrets_add(&s->secrets, tok);
	s->signed_in = 1;
json_put:
	json_object_put(j);
url_free:
	free(url);
	return rc;
}

/* Call web service function fn with params (form-encoded, may be empty):
 * MC_OK and *out, or an error.  A refused token is met with one new
 * login when possible. */
static enum mc_err
rest_call(struct session *s, const char *fn, const struct buf *params, json_object **out,
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
		secret_buf_free(&body);
		/* accessexception elsewhere than site info is about the call
		 * (a function outside the service), not the token */
		if (refused && strcmp(s->last_code, "accessexception") == 0 &&
		    strcmp(fn, FN_SITE_INFO) != 0)
			refused = 0;
		if (rc == MC_OK || !refused)
			break;
		if (!s->may_login || s->relogged) {
			char why[sizeof e->msg];

			memcpy(why, e->msg, sizeof why);
			rc = err_set(e, MC_ERR_AUTH, "%s%s", why, s->may_login ?
			    ", also after a new login" :
			    "; expired or revoked: run moodlecord login");
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

enum mc_err
moodle_call_piece(struct session *s, const char *fn, const struct buf *params, json_object **out,
    size_t *len, int *toobig, struct err *e)
{
	enum mc_err rc;

	*toobig = 0;
	*len = 0;
	s->limit = MOODLE_ANSWER_BUDGET;
	rc = rest_call(s, fn, params, out, e);
	s->limit = 0;
	if (rc != MC_OK && s->last_toobig) {
		*toobig = 1;
		return MC_OK;
	}
	if (rc == MC_OK && s->last_len > MOODLE_ANSWER_BUDGET) {
		/* a transport that does not honour the limit (tests) */
		json_object_put(*out);
		*out = NULL;
		*toobig = 1;
		return MC_OK;
	}
	*len = s->last_len;
	return rc;
}

/* ---- the calls, in order --------------------------------------------- */

static enum mc_err
read_site_info(struct session *s, json_object *j, struct moodle_site *site, struct err *e)
{
	json_object *fns = moodle_json_array(j, "functions");
	size_t i, n;

	if (!json_object_is_type(j, json_type_object) || moodle_json_int(j, "userid", &site->userid) != 0 ||
	    site->userid <= 0 || fns == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_SITE_INFO ": the answer lacks userid or functions");
	site->sitename = moodle_json_text(j, "sitename");
	site->release = moodle_json_text(j, "release");
	site->username = moodle_json_text(j, "username");
	site->fullname = moodle_json_text(j, "fullname");
	s->release = xstrdup(site->release);
	n = json_object_array_length(fns);
	s->functions = xcalloc(n, sizeof *s->functions);
	for (i = 0; i < n; i++) {
		const char *name = moodle_json_str(json_object_array_get_idx(fns, i), "name");

		if (name)
			s->functions[s->nfunctions++] = xstrdup(name);
	}
	qsort(s->functions, s->nfunctions, sizeof *s->functions, cmp_str);
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
	rc = rest_call(s, FN_CM, &p, &j, e);
	buf_free(&p);
	/* The activity gone, or hidden from this user: link the course. */
	if (rc == MC_ERR_DATA && (strcmp(s->last_code, "invalidrecord") == 0 ||
	    strcmp(s->last_code, "requireloginerror") == 0 ||
	    strcmp(s->last_code, "nopermissions") == 0))
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (json_object_is_type(j, json_type_object) && json_object_object_get_ex(j, "cm", &cm) &&
	    json_object_is_type(cm, json_type_object) && moodle_json_int(cm, "id", cmid) == 0) {
		*name = moodle_json_text(cm, "name");
	} else {
		rc = err_set(e, MC_ERR_DATA, "Moodle " FN_CM ": the answer has no cm");
	}
	json_object_put(j);
	return rc;
}

/* Fill name, cmid for every candidate. */
static enum mc_err
resolve_links(struct session *s, struct found_list *cs, struct err *e)
{
	enum mc_err rc = MC_OK;
	int have_bbb = 0, bbb_listed = 0;
	size_t i, k;

	for (i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].module, BBB) == 0)
			have_bbb = 1;
	if (have_bbb && site_has(s, FN_BBB)) {
		rc = moodle_link_bbbs(s, cs, e);
		if (rc != MC_OK)
			return rc;
		bbb_listed = 1;
	}
	for (i = 0; i < cs->n; i++) {
		struct found *c = &cs->v[i];
		int is_bbb = strcmp(c->module, BBB) == 0;

		/* a BigBlueButton conference is linked by moodle_link_bbbs when
		 * its course lists it */
		if (!(is_bbb && bbb_listed) && c->instance > 0 && site_has(s, FN_CM)) {
			/* The same activity may have several events: ask once. */
			for (k = 0; k < i; k++) {
				if (cs->v[k].instance == c->instance &&
				    strcmp(cs->v[k].module, c->module) == 0)
					break;
			}
			if (k < i) {
				c->cmid = cs->v[k].cmid;
				c->name = xstrdup(cs->v[k].name);
			} else {
				rc = cm_by_instance(s, c->module, c->instance, &c->cmid, &c->name, e);
				if (rc != MC_OK)
					return rc;
			}
		}
		if (c->name == NULL || *c->name == '\0') {
			free(c->name);
			c->name = moodle_name_unscheduled(c->event_name);
		}
		/* only what a message shows is kept */
		free(c->event_name);
		c->event_name = NULL;
	}
	return rc;
}

static void
session_free(struct session *s)
{
	size_t i;

	secret_free(s->token);
	secrets_free(&s->secrets);
	for (i = 0; i < s->nfunctions; i++)
		free(s->functions[i]);
	free(s->functions);
	free(s->release);
	free(s->site);
}

/* The session's token: the configured one, else the kept one, else a
 * login's. */
static enum mc_err
session_start(struct session *s, const struct config *cfg, struct moodle_auth *auth,
    struct err *e)
{
	s->cfg = cfg;
	s->auth = auth;
	s->site = xstrndup(cfg->moodle_url, url_trim_slashes(cfg->moodle_url,
	    strlen(cfg->moodle_url)));
	secrets_add(&s->secrets, cfg->password);
	secrets_add(&s->secrets, cfg->token);
	s->username = cfg->username;
	s->password = cfg->password && *cfg->password ? cfg->password : NULL;
	s->may_login = cfg->username && *cfg->username &&
	    (s->password != NULL || (auth != NULL && auth->password != NULL));
	if (auth != NULL && auth->token != NULL && *auth->token && !(cfg->token && *cfg->token)) {
		/* kept from an earlier run's sign-in: no token.php, no
		 * password_command, until Moodle refuses it */
		secrets_add(&s->secrets, auth->token);
		s->token = xstrdup(auth->token);
		return MC_OK;
	}
	if (cfg->token && *cfg->token) {
		/* A ready token is used as it is; a password alongside it is
		 * the way back when the token stops working. */
		s->token = xstrdup(cfg->token);
		return MC_OK;
	}
	if (s->may_login)
		return login(s, e);
	return err_set(e, MC_ERR_CONFIG, "[moodle] needs username and password (or a token)");
}

/* Site info: the user and the functions the site offers the app. */
static enum mc_err
fetch_site(struct session *s, struct moodle_site *site, struct err *e)
{
	json_object *j = NULL;
	enum mc_err rc;

	rc = rest_call(s, FN_SITE_INFO, NULL, &j, e);
	if (rc != MC_OK)
		return rc;
	rc = read_site_info(s, j, site, e);
	json_object_put(j);
	if (rc != MC_OK)
		return rc;
	if (!site_has(s, FN_COURSES) || !site_has(s, FN_EVENTS))
		return err_set(e, MC_ERR_UNAVAILABLE, "Moodle: this site (Moodle %s) does not offer "
		    "%s to the app", release_of(s), site_has(s, FN_COURSES) ? FN_EVENTS : FN_COURSES);
	return MC_OK;
}

static enum mc_err
fetch_courses(struct session *s, struct moodle_site *site, struct courses *out, struct err *e)
{
	struct buf p = { 0 };
	json_object *j = NULL;
	char val[32];
	enum mc_err rc;

	snprintf(val, sizeof val, "%lld", (long long)site->userid);
	http_form_add(&p, "userid", val);
	http_form_add(&p, "returnusercount", "0");
	rc = rest_call(s, FN_COURSES, &p, &j, e);
	buf_free(&p);
	if (rc == MC_OK)
		rc = moodle_read_courses(s->cfg, j, site, out, e);
	json_object_put(j);
	return rc;
}

/* The course events of the window [now - 1 day, now + lookahead_days],
 * asked in pieces (moodle_piece.c). */
static enum mc_err
fetch_events(struct session *s, const struct courses *courses, int64_t now,
    struct found_list *out, struct err *e)
{
	return moodle_fetch_calendar(s, s->cfg, courses, now - DAY,
	    now + s->cfg->lookahead_days * DAY, out, e);
}

/* Hand the conferences found over to out, sorted, each with its link and
 * its course's names.  Into an empty list (or one with a pool) the
 * strings go into the list's pool, the names every conference shares
 * kept once; otherwise each event gets its own copies. */
static void
hand_over(const struct session *s, const struct moodle_site *site,
    const struct courses *courses, struct found_list *fl, struct event_list *out)
{
	struct strpool *pool;
	size_t i;

	if (fl->n == 0)
		return;  /* qsort wants a base even for nothing */
	if (out->pool == NULL && out->n == 0)
		out->pool = xcalloc(1, sizeof *out->pool);
	pool = out->pool;
	qsort(fl->v, fl->n, sizeof *fl->v, moodle_found_cmp);
	if (out->cap < out->n + fl->n) {
		out->cap = out->n + fl->n;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	for (i = 0; i < fl->n; i++) {
		struct found *f = &fl->v[i];
		const struct course *co = moodle_course_find(courses, f->course_id);
		struct event *ev = &out->v[out->n++];
		char *url;

		if (f->cmid > 0)
			url = xasprintf("%s/mod/%s/view.php?id=%lld", s->site, f->module,
			    (long long)f->cmid);
		else
			url = xasprintf("%s/course/view.php?id=%lld", s->site,
			    (long long)f->course_id);
		memset(ev, 0, sizeof *ev);
		ev->id = f->id;
		ev->course_id = f->course_id;
		ev->cmid = f->cmid;
		ev->start = f->start;
		ev->duration = f->duration;
		if (pool != NULL) {
			ev->course_short = strpool_intern(pool, co ? co->shortname : "");
			ev->course_name = strpool_intern(pool, co ? co->fullname : "");
			ev->module = strpool_intern(pool, f->module);
			ev->site_name = strpool_intern(pool, site->sitename);
			ev->name = strpool_add(pool, f->name ? f->name : "");
			ev->url = strpool_add(pool, url);
		} else {
			ev->course_short = xstrdup(co ? co->shortname : "");
			ev->course_name = xstrdup(co ? co->fullname : "");
			ev->module = xstrdup(f->module);
			ev->site_name = xstrdup(site->sitename);
			ev->name = xstrdup(f->name ? f->name : "");
			ev->url = url;
			url = NULL;
		}
		free(url);
		moodle_found_clear(f);
	}
	/* every one handed over: none left to free */
	free(fl->v);
	memset(fl, 0, sizeof *fl);
}

/* Hand the session's token back to auth: the one to keep. */
static void
auth_update(const struct session *s, struct moodle_auth *auth)
{
	if (auth == NULL || s->token == NULL)
		return;
	if (auth->token == NULL || strcmp(auth->token, s->token) != 0) {
		secret_free(auth->token);
		auth->token = xstrdup(s->token);
	}
	auth->signed_in = s->signed_in;
}

static enum mc_err
fetch(const struct config *cfg, moodle_send_fn send, void *arg, int64_t now,
    struct moodle_auth *auth, struct moodle_site *site, struct event_list *out, struct err *e)
{
	struct session s = { 0 };
	struct courses courses = { 0 };
	struct found_list found = { 0 };
	enum mc_err rc;

	memset(site, 0, sizeof *site);
	if (cfg->moodle_url == NULL || *cfg->moodle_url == '\0')
		return err_set(e, MC_ERR_CONFIG, "[moodle] url is not set");
	s.send = send;
	s.arg = arg;
	rc = session_start(&s, cfg, auth, e);
	if (rc == MC_OK)
		rc = fetch_site(&s, site, e);
	if (rc == MC_OK)
		rc = fetch_courses(&s, site, &courses, e);
	/* no course: no course events to ask for */
	if (rc == MC_OK && courses.n > 0)
		rc = fetch_events(&s, &courses, now, &found, e);
	if (rc == MC_OK && found.n > 0)
		rc = resolve_links(&s, &found, e);
	if (rc == MC_OK)
		hand_over(&s, site, &courses, &found, out);
	auth_update(&s, auth);
	moodle_found_free(&found);
	moodle_courses_free(&courses);
	session_free(&s);
	return rc;
}

enum mc_err
moodle_fetch_via(const struct config *cfg, moodle_send_fn send, void *arg, int64_t now,
    struct moodle_site *site, struct event_list *out, struct err *e)
{
	return fetch(cfg, send, arg, now, NULL, site, out, e);
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

enum mc_err
moodle_fetch_auth(const struct config *cfg, struct http *h, int64_t now,
    struct moodle_auth *auth, struct moodle_site *site, struct event_list *out, struct err *e)
{
	return fetch(cfg, send_http, h, now, auth, site, out, e);
}

void
moodle_auth_free(struct moodle_auth *auth)
{
	secret_free(auth->token);
	auth->token = NULL;
}

/* A session with cfg's site over h, holding no token yet. */
static void
session_on(struct session *s, const struct config *cfg, struct http *h)
{
	s->cfg = cfg;
	s->send = send_http;
	s->arg = h;
	s->site = xstrndup(cfg->moodle_url, url_trim_slashes(cfg->moodle_url,
	    strlen(cfg->moodle_url)));
}

enum mc_err
moodle_sign_in(const struct config *cfg, struct http *h, const char *username,
    const char *password, char **token, struct err *e)
{
	struct session s = { 0 };
	enum mc_err rc;

	*token = NULL;
	session_on(&s, cfg, h);
	s.username = username;
	s.password = password;
	secrets_add(&s.secrets, password);
	rc = login(&s, e);
	if (rc == MC_OK) {
		*token = s.token;
		s.token = NULL;
	}
	session_free(&s);
	return rc;
}

enum mc_err
moodle_whoami(const struct config *cfg, struct http *h, const char *token,
    struct moodle_site *site, struct err *e)
{
	struct session s = { 0 };
	struct courses courses = { 0 };
	enum mc_err rc;

	memset(site, 0, sizeof *site);
	session_on(&s, cfg, h);
	s.token = xstrdup(token);
	secrets_add(&s.secrets, token);
	rc = fetch_site(&s, site, e);
	if (rc == MC_OK)
		rc = fetch_courses(&s, site, &courses, e);
	moodle_courses_free(&courses);
	session_free(&s);
	return rc;
}

void
moodle_site_free(struct moodle_site *site)
{
	size_t i;

	if (site == NULL)
		return;
	free(site->sitename);
	free(site->release);
	free(site->username);
	free(site->fullname);
	for (i = 0; i < site->nselected && site->selected != NULL; i++)
		free(site->selected[i].shortname);
	free(site->selected);
	memset(site, 0, sizeof *site);
}
