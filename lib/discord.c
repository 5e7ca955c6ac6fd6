#include "discord.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"
#include "secret.h"
#include "url.h"

#define DISCORD_API "https://discord.com/api/v10/webhooks/"
#define USER_AGENT "DiscordBot (https://github.com/moodlecord/moodlecord, " MOODLECORD_VERSION ")"
#define URL_HELP "a webhook URL looks like https://discord.com/api/webhooks/ID/TOKEN " \
	"(channel settings > Integrations > Webhooks > Copy Webhook URL)"

/* The kinds of request, which decide what may be retried. */
enum request { REQ_POST, REQ_EDIT, REQ_DELETE, REQ_GET, REQ_LOOK };

static const char *const request_name[] = { "post", "edit", "delete", "get webhook",
	"look-up of a message" };

struct discord {
	struct http *http;
	char *base;
	char id[24];
	char *thread_id;
	struct secrets secrets;   /* the token: scrubbed from http's messages */
	int64_t deadline;
	int64_t next_ok;          /* monotonic µs before which no call starts */
};

/* --- URL --- */

static enum mc_err
url_bad(struct err *e, const char *why)
{
	return err_set(e, MC_ERR_CONFIG, "the Discord webhook URL %s; " URL_HELP, why);
}

static int
discord_host(const char *host, size_t n)
{
	static const char *const hosts[] = {
		"discord.com", "ptb.discord.com", "canary.discord.com",
		"discordapp.com", "ptb.discordapp.com", "canary.discordapp.com",
	};
	size_t i;

	for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
		if (strlen(hosts[i]) == n && strncasecmp(hosts[i], host, n) == 0)
			return 1;
	return 0;
}

/* The thread_id of a query string, NULL when none. */
static char *
query_thread(const char *q, size_t n)
{
	const char *p = q, *end = q + n;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);

		if (len > 10 && strncmp(p, "thread_id=", 10) == 0)
			return xstrndup(p + 10, len - 10);
		p += len + 1;
	}
	return NULL;
}

/* The parts of a webhook URL while it is taken apart. */
struct url_parts {
	const char *path;       /* just after the authority                   */
	const char *end;        /* end of the path, trailing slashes cut      */
	const char *id, *tok;   /* the ID and TOKEN segments                  */
	int loopback;
};

/* Scheme, host and port: a Discord host over https (port 443 at most
 * written out), or any loopback host. */
static enum mc_err
parse_authority(const char *p, struct url_parts *u, struct err *e)
{
	const char *auth, *auth_end, *host_end;
	size_t host_n;
	int https;

	if (strncasecmp(p, "https://", 8) == 0) {
		https = 1;
		auth = p + 8;
	} else if (strncasecmp(p, "http://", 7) == 0) {
		https = 0;
		auth = p + 7;
	} else {
		return url_bad(e, "does not start with https://");
	}
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
		return url_bad(e, "holds a user name or password");
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(auth_end - auth));
		host_end = host_end ? host_end + 1 : auth_end;
	} else {
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (host_end == NULL)
			host_end = auth_end;
	}
	host_n = (size_t)(host_end - auth);
	if (host_n == 0 || (host_end < auth_end &&
	    (*host_end != ':' || !request_digits(host_end + 1, (size_t)(auth_end - host_end - 1)))))
		return url_bad(e, "has a malformed host or port");
	u->loopback = url_is_loopback(auth, host_n);
	u->path = auth_end;
	if (u->loopback)
		return MC_OK;
	if (!discord_host(auth, host_n))
		return url_bad(e, "is not on discord.com");
	if (!https)
		return url_bad(e, "does not start with https://");
	if (host_end < auth_end && !(auth_end - host_end == 4 && strncmp(host_end, ":443", 4) == 0))
		return url_bad(e, "names a port Discord does not use");
	return MC_OK;
}

/* .../webhooks/ID/TOKEN at the end of the path; before /webhooks only
 * nothing, /api or /api/vN (any path on a loopback host). */
static enum mc_err
parse_path(struct url_parts *u, struct err *e)
{
	const char *path = u->path, *tok = u->end, *id, *p;
	size_t before;

	while (tok > path && tok[-1] != '/')
		tok--;
	id = tok > path ? tok - 1 : path;
	while (id > path && id[-1] != '/')
		id--;
	if (tok == u->end || id >= tok || id - path < 10 || strncmp(id - 10, "/webhooks/", 10) != 0)
		return url_bad(e, "does not end in /webhooks/ID/TOKEN");
	u->id = id;
	u->tok = tok;
	if ((size_t)(tok - 1 - id) > 20 || !request_digits(id, (size_t)(tok - 1 - id)) ||
	    (size_t)(tok - 1 - id) < 17)
		return url_bad(e, "has a webhook ID that is not 17 to 20 digits");
	for (p = tok; p < u->end; p++)
		if (!request_token_char(*p))
			return url_bad(e, "has a token with characters a webhook token never has");
	if (u->end - tok > 200)
		return url_bad(e, "has a token far longer than Discord's");
	before = (size_t)(id - 10 - path);
	if (!u->loopback && !(before == 0 || (before == 4 && strncmp(path, "/api", 4) == 0) ||
	    (before >= 7 && strncmp(path, "/api/v", 6) == 0 && request_digits(path + 6, before - 6))))
		return url_bad(e, "has an unexpected path");
	return MC_OK;
}

/* url without the blanks around it (a pasted line): a new string. */
static char *
trim_blanks(const char *url)
{
	static const char blanks[] = " \t\n\r";
	size_t n;

	url += strspn(url, blanks);
	n = strlen(url);
	while (n > 0 && strchr(blanks, url[n - 1]) != NULL)
		n--;
	return xstrndup(url, n);
}

enum mc_err
discord_url_parse(const char *url, struct discord_url *out, struct err *e)
{
	struct url_parts u = { 0 };
	const char *q;
	char *trimmed;
	enum mc_err rc;

	memset(out, 0, sizeof *out);
	if (url == NULL)
		return url_bad(e, "is missing");
	trimmed = trim_blanks(url);
	if (*trimmed == '\0') {
		rc = url_bad(e, "is empty");
		goto trimmed_free;
	}
	rc = parse_authority(trimmed, &u, e);
	if (rc != MC_OK)
		goto trimmed_free;
	/* The path, without query, fragment and trailing slashes. */
	q = u.path + strcspn(u.path, "?#");
	if (*q == '?')
		out->thread_id = query_thread(q + 1, strcspn(q + 1, "#"));
	u.end = u.path + url_trim_slashes(u.path, (size_t)(q - u.path));
	rc = parse_path(&u, e);
	if (rc != MC_OK)
		goto trimmed_free;
	if (out->thread_id != NULL && !snowflake_valid(out->thread_id)) {
		rc = url_bad(e, "has a thread_id that is not a Discord id");
		goto trimmed_free;
	}
	memcpy(out->id, u.id, (size_t)(u.tok - 1 - u.id));
	out->id[u.tok - 1 - u.id] = '\0';
	out->token = xstrndup(u.tok, (size_t)(u.end - u.tok));
	if (u.loopback)
		out->base = xstrndup(trimmed, (size_t)(u.end - trimmed));
	else
		out->base = xasprintf(DISCORD_API "%s/%s", out->id, out->token);
trimmed_free:
	if (rc != MC_OK)
		discord_url_free(out);
	secret_free(trimmed);
	return rc;
}

void
discord_url_free(struct discord_url *u)
{
	secret_free(u->token);
	secret_free(u->base);
	free(u->thread_id);
	u->token = u->base = u->thread_id = NULL;
	secret_wipe(u->id, sizeof u->id);
}

/* --- rate limits --- */

int64_t
discord_parse_seconds(const char *s)
{
	int64_t us = 0, frac = 0, scale = 100000;
	int any = 0, extra = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (us > INT64_C(1000000000))
			return -1;
		us = us * 10 + (*s - '0');
		any = 1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (scale > 0) {
				frac += (*s - '0') * scale;
				scale /= 10;
			} else if (*s != '0') {
				extra = 1;  /* below a microsecond: round up */
			}
			any = 1;
		}
	}
	while (*s == ' ')
		s++;
	if (!any || *s != '\0')
		return -1;
	return us * 1000000 + frac + extra;
}

void
discord_parse_limits(const struct http_response *r, struct discord_limits *out)
{
	json_object *o = NULL, *v;
	int64_t n;

	memset(out, 0, sizeof *out);
	out->remaining = -1;
	out->reset_after_us = discord_parse_seconds(r->rl_reset_after);
	out->retry_after_us = -1;
	out->has_headers = r->rl_limit || r->rl_remaining || r->rl_reset || r->rl_reset_after ||
	    r->rl_bucket || r->rl_global || r->rl_scope;
	if (r->rl_remaining != NULL && parse_int64(r->rl_remaining, 0, 1000000, &n) == 0)
		out->remaining = (long)n;
	if (r->status != 429)
		return;

	if (r->body != NULL && r->len > 0)
		o = json_tokener_parse(r->body);
	if (o != NULL && json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, "retry_after", &v) &&
		    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
			double d = json_object_get_double(v);

			if (d >= 0 && d < 1e9)
				out->retry_after_us = (int64_t)ceil(d * 1e6);
		}
		if (json_object_object_get_ex(o, "global", &v) && json_object_get_boolean(v))
			out->global = 1;
		if (json_object_object_get_ex(o, "code", &v) && json_object_is_type(v, json_type_int) &&
		    json_object_get_int(v) == 0)
			out->ban = 1;
	}
	json_object_put(o);
	if (out->retry_after_us < 0)
		out->retry_after_us = discord_parse_seconds(r->retry_after);
	if (r->rl_global != NULL && strcasecmp(r->rl_global, "true") == 0)
		out->global = 1;
	if (!out->has_headers || (r->body != NULL && strstr(r->body, "error code: 1015") != NULL))
		out->ban = 1;
}

/* --- calls --- */

static void
note_limits(struct discord *d, const struct discord_limits *l)
{
	if (l->remaining == 0 && l->reset_after_us >= 0) {
		int64_t t = request_mono_us() + l->reset_after_us;

		if (t > d->next_ok)
			d->next_ok = t;
	}
}

/* Up to *left leaves of a 400's "errors" tree as "path: message; ..."
 * into out (path is scratch). */
static void
errors_path(json_object *node, struct buf *path, struct buf *out, int *left)
{
	json_object *errs, *first, *msg;

	if (*left <= 0 || !json_object_is_type(node, json_type_object))
		return;
	if (json_object_object_get_ex(node, "_errors", &errs) && json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0) {
		first = json_object_array_get_idx(errs, 0);
		if (out->len > 0)
			buf_adds(out, "; ");
		buf_addf(out, "%s: %s", path->len ? path->data : "body",
		    json_object_object_get_ex(first, "message", &msg) ? json_object_get_string(msg) : "invalid");
		(*left)--;
	}
	json_object_object_foreach(node, key, val) {
		size_t mark = path->len;

		if (strcmp(key, "_errors") == 0)
			continue;
		if (path->len)
			buf_adds(path, ".");
		buf_adds(path, key);
		errors_path(val, path, out, left);
		path->len = mark;
		if (path->data)
			path->data[mark] = '\0';
	}
}

/* Classify an answer that is not 2xx, 429 or 5xx. */
static enum mc_err
classify(enum request kind, const char *msg_id, const struct http_response *r, struct err *e)
{
	json_object *o = NULL, *v;
	int code = -1;
	const char *message = "";
	enum mc_err rc;

	if (r->body != NULL && r->len > 0)
		o = json_tokener_parse(r->body);
	if (o != NULL && json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, "code", &v) && json_object_is_type(v, json_type_int))
			code = json_object_get_int(v);
		if (json_object_object_get_ex(o, "message", &v) && json_object_is_type(v, json_type_string))
			message = json_object_get_string(v);
	}
	if (r->status == 404 && code == 10008 &&
	    (kind == REQ_EDIT || kind == REQ_DELETE || kind == REQ_LOOK)) {
		rc = err_set(e, MC_ERR_NOTFOUND, "Discord message %s is gone (deleted in Discord)", msg_id);
	} else if (r->status == 404 && code == 10015) {
		rc = err_set(e, MC_ERR_CONFIG, "the webhook was deleted in Discord (10015 Unknown Webhook): "
		    "make a new one and update [discord] webhook_url");
	} else if (r->status == 401) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord refused the webhook token (%d %s): "
		    "copy the webhook URL again into [discord] webhook_url", code,
		    *message ? message : "Unauthorized");
	} else if (r->status == 404 && code == 10003) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord does not know the channel or thread "
		    "(10003 Unknown Channel): check [discord] thread_id");
	} else if (r->status == 404) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord answered 404 (%d %s) to the %s: "
		    "check [discord] webhook_url and thread_id", code, *message ? message : "Not Found",
		    request_name[kind]);
	} else if (r->status == 403) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord refused the %s (403, %d %s): the webhook may not "
		    "post there; check the channel's permissions, and [discord] thread_id (an archived "
		    "or locked thread)", request_name[kind], code, *message ? message : "Forbidden");
	} else if (r->status == 400 && code == 220001) {
		/* A forum refuses a plain post: every post would be refused,
		 * so the run stops here, not once per conference. */
		rc = err_set(e, MC_ERR_CONFIG, "this webhook posts to a forum channel: set forum = yes "
		    "(220001 %s)", *message ? message : "forum post without a thread");
	} else if (r->status == 400 && code == 220003) {
		rc = err_set(e, MC_ERR_CONFIG, "this webhook posts to a text channel, not a forum: "
		    "remove forum = yes (220003 %s)", *message ? message : "not a forum");
	} else if (r->status == 400 && code == 40067) {
		rc = err_set(e, MC_ERR_CONFIG, "this forum requires a tag on each post: set tags to "
		    "the id of one of its tags (40067 %s)", *message ? message : "a tag is required");
	} else if (r->status == 400) {
		struct buf path = { 0 }, what = { 0 };
		int left = 3;

		if (json_object_object_get_ex(o, "errors", &v))
			errors_path(v, &path, &what, &left);
		rc = err_set(e, MC_ERR_DATA, "Discord refused the %s (400, %d %s)%s%s", request_name[kind], code,
		    *message ? message : "Bad Request", what.len ? ": " : "", what.len ? what.data : "");
		buf_free(&path);
		buf_free(&what);
	} else {
		rc = err_set(e, MC_ERR_DATA, "Discord answered the %s with HTTP %ld%s%s", request_name[kind],
		    r->status, *message ? ": " : "", message);
	}
	json_object_put(o);
	return rc;
}

static enum mc_err
hook_pace(void *arg, struct err *e)
{
	struct discord *d = arg;

	return request_wait_until(d->deadline, d->next_ok, "Discord's rate limit", e);
}

static void
hook_noted(void *arg, const struct http_response *r, const struct discord_limits *l)
{
	(void)r;
	note_limits(arg, l);
}

/* One client talks to one webhook: a global limit and the bucket's limit
 * both hold back every next call. */
static void
hook_limited(void *arg, const struct http_response *r, const struct discord_limits *l,
    int64_t wait_us)
{
	struct discord *d = arg;
	int64_t t = request_mono_us() + wait_us;

	(void)r;
	(void)l;
	if (t > d->next_ok)
		d->next_ok = t;
}

/* Send one request, waiting for the bucket, waiting out 429s and retrying
 * what the kind allows (request.h).  MC_OK with resp filled when a final
 * answer came (the caller judges its status, which is never 429 or 5xx). */
static enum mc_err
send_request(struct discord *d, enum request kind, const char *method, const char *url, const char *body,
    struct http_response *resp, struct err *e)
{
	struct http_request req = { 0 };
	struct request_call c = { 0 };

	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? "application/json" : NULL;
	req.user_agent = USER_AGENT;
	/* A post has no idempotency key: never let libcurl resend it. */
	req.fresh = kind == REQ_POST;
	c.http = d->http;
	c.secrets = &d->secrets;
	c.deadline = d->deadline;
	c.what = request_name[kind];
	c.once = kind == REQ_POST;
	c.maybe = "the post may or may not have reached Discord: ";
	c.h.pace = hook_pace;
	c.h.noted = hook_noted;
	c.h.limited = hook_limited;
	c.h.arg = d;
	return request_send(&c, &req, resp, e);
}

/* thread: the thread of this call, NULL = the client's. */
static char *
url_for(const struct discord *d, const char *tail, int wait, const char *thread)
{
	struct buf b = { 0 };
	char sep = '?';

	buf_adds(&b, d->base);
	if (tail != NULL)
		buf_adds(&b, tail);
	if (wait) {
		buf_adds(&b, "?wait=true");
		sep = '&';
	}
	if (thread == NULL)
		thread = d->thread_id;
	if (thread != NULL)
		buf_addf(&b, "%cthread_id=%s", sep, thread);
	return buf_take(&b);
}

struct discord *
discord_new(const char *webhook_url, const char *thread_id, long connect_timeout, long timeout,
    int64_t deadline, struct err *e)
{
	struct discord_url u;
	struct discord *d;

	if (discord_url_parse(webhook_url, &u, e) != MC_OK)
		return NULL;
	if (thread_id != NULL && *thread_id != '\0') {
		if (!snowflake_valid(thread_id)) {
			discord_url_free(&u);
			err_set(e, MC_ERR_CONFIG, "[discord] thread_id must be a Discord id (digits): "
			    "right-click the thread > Copy Thread ID");
			return NULL;
		}
		free(u.thread_id);
		u.thread_id = xstrdup(thread_id);
	}
	d = xcalloc(1, sizeof *d);
	d->http = http_new(connect_timeout, timeout, 0);
	memcpy(d->id, u.id, sizeof d->id);
	d->base = u.base;
	d->thread_id = u.thread_id;
	secrets_add(&d->secrets, u.token);
	secret_free(u.token);
	d->deadline = deadline;
	return d;
}

const char *
discord_webhook_id(const struct discord *d)
{
	return d->id;
}

static enum mc_err
check_msg_id(const char *msg_id, struct err *e)
{
	if (msg_id == NULL || !snowflake_valid(msg_id))
		return err_set(e, MC_ERR_DATA, "'%s' is not a Discord message id", msg_id ? msg_id : "");
	return MC_OK;
}

enum mc_err
discord_post(struct discord *d, const char *body, char id_out[32], struct err *e)
{
	return discord_post_in(d, NULL, body, id_out, e);
}

enum mc_err
discord_post_in(struct discord *d, const char *thread, const char *body, char id_out[32],
    struct err *e)
{
	struct http_response r;
	char *url;
	json_object *o = NULL, *v;
	enum mc_err rc;

	id_out[0] = '\0';
	if (thread != NULL && !snowflake_valid(thread))
		return err_set(e, MC_ERR_DATA, "'%s' is not a Discord thread id", thread);
	url = url_for(d, NULL, 1, thread);
	rc = send_request(d, REQ_POST, "POST", url, body, &r, e);
	free(url);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = classify(REQ_POST, NULL, &r, e);
		goto resp_free;
	}
	o = json_tokener_parse(r.body ? r.body : "");
	if (o == NULL || !json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_string) ||
	    !snowflake_valid(json_object_get_string(v))) {
		rc = err_set(e, MC_ERR_DATA, "Discord answered the post (HTTP %ld) without a message id; "
		    "the message may be in the channel without moodlecord knowing it", r.status);
		goto json_put;
	}
	memcpy(id_out, json_object_get_string(v), strlen(json_object_get_string(v)) + 1);
json_put:
	json_object_put(o);
resp_free:
	http_response_free(&r);
	return rc;
}

/* PATCH, DELETE or GET one message: all safe to retry (call() does). */
static enum mc_err
message_call(struct discord *d, enum request kind, const char *method, const char *thread,
    const char *msg_id, const char *body, struct err *e)
{
	struct http_response r;
	char *tail, *url;
	enum mc_err rc;

	if (check_msg_id(msg_id, e) != MC_OK)
		return e->kind;
	if (thread != NULL && !snowflake_valid(thread))
		return err_set(e, MC_ERR_DATA, "'%s' is not a Discord thread id", thread);
	tail = xasprintf("/messages/%s", msg_id);
	url = url_for(d, tail, 0, thread);
	free(tail);
	rc = send_request(d, kind, method, url, body, &r, e);
	free(url);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299)
		rc = classify(kind, msg_id, &r, e);
	http_response_free(&r);
	return rc;
}

enum mc_err
discord_edit(struct discord *d, const char *msg_id, const char *body, struct err *e)
{
	return message_call(d, REQ_EDIT, "PATCH", NULL, msg_id, body, e);
}

enum mc_err
discord_delete(struct discord *d, const char *msg_id, struct err *e)
{
	return message_call(d, REQ_DELETE, "DELETE", NULL, msg_id, NULL, e);
}

enum mc_err
discord_edit_in(struct discord *d, const char *thread, const char *msg_id, const char *body,
    struct err *e)
{
	return message_call(d, REQ_EDIT, "PATCH", thread, msg_id, body, e);
}

enum mc_err
discord_delete_in(struct discord *d, const char *thread, const char *msg_id, struct err *e)
{
	return message_call(d, REQ_DELETE, "DELETE", thread, msg_id, NULL, e);
}

enum mc_err
discord_remove_in(struct discord *d, const char *thread, const char *msg_id, struct err *e)
{
	enum mc_err rc = discord_delete_in(d, thread, msg_id, e);

	return rc == MC_ERR_NOTFOUND ? MC_OK : rc;
}

enum mc_err
discord_look_in(struct discord *d, const char *thread, const char *msg_id, struct err *e)
{
	return message_call(d, REQ_LOOK, "GET", thread, msg_id, NULL, e);
}

enum mc_err
discord_look(struct discord *d, const char *msg_id, struct err *e)
{
	return discord_look_in(d, NULL, msg_id, e);
}

enum mc_err
discord_remove(struct discord *d, const char *msg_id, struct err *e)
{
	return discord_remove_in(d, NULL, msg_id, e);
}

enum mc_err
discord_get_webhook(struct discord *d, char **name, char **channel_id, struct err *e)
{
	struct http_response r;
	char *url;
	json_object *o = NULL, *n, *c;
	enum mc_err rc;

	*name = *channel_id = NULL;
	/* The webhook itself is never in a thread: no thread_id here. */
	url = xstrdup(d->base);
	rc = send_request(d, REQ_GET, "GET", url, NULL, &r, e);
	free(url);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = classify(REQ_GET, NULL, &r, e);
		goto resp_free;
	}
	o = json_tokener_parse(r.body ? r.body : "");
	if (o == NULL || !json_object_object_get_ex(o, "channel_id", &c) ||
	    !json_object_is_type(c, json_type_string)) {
		rc = err_set(e, MC_ERR_DATA, "Discord answered the webhook query without a channel id");
		goto json_put;
	}
	*channel_id = xstrdup(json_object_get_string(c));
	*name = xstrdup(json_object_object_get_ex(o, "name", &n) && json_object_is_type(n, json_type_string) ?
	    json_object_get_string(n) : "");
json_put:
	json_object_put(o);
resp_free:
	http_response_free(&r);
	return rc;
}

void
discord_free(struct discord *d)
{
	if (d == NULL)
		return;
	http_free(d->http);
	secret_free(d->base);
	free(d->thread_id);
	secrets_free(&d->secrets);
	free(d);
}
