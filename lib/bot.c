#include "bot.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "discord.h"
#include "http.h"
#include "ratelimit.h"
#include "request.h"
#include "secret.h"
#include "url.h"

#define BOT_API "https://discord.com/api/v10"
#define USER_AGENT "DiscordBot (https://github.com/moodlecord/moodlecord, " MOODLECORD_VERSION ")"
#define TOKEN_HINT "copy the token again (Developer Portal > your application > Bot > " \
	"Reset Token) into [discord] bot_token_file"

enum {
	GLOBAL_N = 50,         /* calls a bot may make ...                    */
	GLOBAL_US = 1000000,   /* ... in this many microseconds              */
	GUILDS_PAGE = 200
};

enum op { OP_ME, OP_GUILDS, OP_LIST, OP_CREATE, OP_EDIT, OP_DELETE };

static const char *const op_name[] = {
	"read of the bot's user", "list of the bot's servers", "list of the server's events",
	"event create", "event edit", "event delete"
};

struct bot {
	struct http *http;
	char *base;
	char *auth;               /* "Bot TOKEN": secret                      */
	struct secrets secrets;   /* the token: scrubbed from http's messages */
	int64_t deadline;
	struct ratelimit *rl;
	int last_code;
	long ratelimited;
};

/* Is s all digits, min to max of them? */
static int
all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && request_digits(s, n);
}

/* An http:// URL of a loopback host (tests), or https://discord.com/api/vN. */
static int
base_allowed(const char *base)
{
	static const char *const loop[] = {
		"http://127.0.0.1:", "http://localhost:", "http://[::1]:"
	};
	size_t i, n;

	if (strncmp(base, "https://discord.com/api/v", 25) == 0)
		return all_digits(base + 25, 1, 3);
	for (i = 0; i < sizeof loop / sizeof loop[0]; i++) {
		n = strlen(loop[i]);
		if (strncmp(base, loop[i], n) == 0) {
			n += strspn(base + n, "0123456789");
			return base[n] == '\0' || base[n] == '/';
		}
	}
	return 0;
}

char *
bot_api_for(const char *webhook_url)
{
	const char *w = webhook_url ? strstr(webhook_url, "/webhooks/") : NULL;
	char *base;

	if (w == NULL || strncmp(webhook_url, "http://", 7) != 0)
		return NULL;
	base = xstrndup(webhook_url, (size_t)(w - webhook_url));
	if (!base_allowed(base) || strncmp(base, "https://", 8) == 0) {
		free(base);
		return NULL;
	}
	return base;
}

struct bot *
bot_new(const char *api_base, const char *token, long connect_timeout, long timeout,
    int64_t deadline, struct err *e)
{
	struct bot *b;
	size_t i, n;

	if (token == NULL || *token == '\0') {
		err_set(e, MC_ERR_CONFIG, "no Discord bot token: " TOKEN_HINT);
		return NULL;
	}
	/* People paste the header's value as well as the token alone. */
	if (strncmp(token, "Bot ", 4) == 0)
		token += 4;
	n = strlen(token);
	for (i = 0; i < n; i++)
		if (!request_token_char(token[i]))
			break;
	if (i < n || n < 20 || n > 200) {
		err_set(e, MC_ERR_CONFIG, "the Discord bot token is not one (a bot token is 50 to 100 "
		    "letters, digits and . _ -): " TOKEN_HINT);
		return NULL;
	}
	if (api_base == NULL)
		api_base = BOT_API;
	if (!base_allowed(api_base)) {
		err_set(e, MC_ERR_CONFIG, "the Discord API must be %s", BOT_API);
		return NULL;
	}
	b = xcalloc(1, sizeof *b);
	b->http = http_new(connect_timeout, timeout, 0);
	b->rl = ratelimit_new(GLOBAL_N, GLOBAL_US);
	n = strlen(api_base);
	while (n > 0 && api_base[n - 1] == '/')
		n--;
	b->base = xstrndup(api_base, n);
	b->auth = xasprintf("Bot %s", token);
	secrets_add(&b->secrets, token);
	b->deadline = deadline;
	return b;
}

void
bot_free(struct bot *b)
{
	if (b == NULL)
		return;
	http_free(b->http);
	free(b->base);
	secret_free(b->auth);
	secrets_free(&b->secrets);
	ratelimit_free(b->rl);
	free(b);
}

int
bot_last_code(const struct bot *b)
{
	return b->last_code;
}

long
bot_ratelimited(const struct bot *b)
{
	return b->ratelimited;
}

const char *
bot_missing_permission(uint64_t perms)
{
	/* ADMINISTRATOR (1 << 3) holds every permission. */
	if (perms & (UINT64_C(1) << 3))
		return NULL;
	if (perms & (BOT_PERM_CREATE_EVENTS | BOT_PERM_MANAGE_EVENTS))
		return NULL;
	return "Create Events";
}

/* --- rate limits --- */

/* Wait until the global limit and route's bucket allow a call, and count
 * it. */
static enum mc_err
pace(struct bot *b, const char *route, const char *guild, struct err *e)
{
	enum mc_err rc = request_wait_until(b->deadline, ratelimit_ready_at(b->rl, route, guild,
	    request_mono_us()), "Discord's rate limit", e);

	if (rc == MC_OK)
		ratelimit_sent(b->rl, request_mono_us());
	return rc;
}

/* --- answers --- */

/* The first leaf of a 400's "errors" tree as "path: message" into out. */
static int
first_error(json_object *node, struct buf *path, struct buf *out)
{
	json_object *errs, *msg;

	if (!json_object_is_type(node, json_type_object))
		return 0;
	if (json_object_object_get_ex(node, "_errors", &errs) && json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0) {
		json_object *first = json_object_array_get_idx(errs, 0);

		buf_addf(out, "%s: %s", path->len ? path->data : "body",
		    json_object_object_get_ex(first, "message", &msg) ? json_object_get_string(msg) : "invalid");
		return 1;
	}
	json_object_object_foreach(node, key, val) {
		size_t mark = path->len;

		if (path->len)
			buf_adds(path, ".");
		buf_adds(path, key);
		if (first_error(val, path, out))
			return 1;
		path->len = mark;
		if (path->data)
			path->data[mark] = '\0';
	}
	return 0;
}

static const char *
missing_for(enum op op)
{
	switch (op) {
	case OP_CREATE:
		return "Create Events";
	case OP_EDIT:
	case OP_DELETE:
		return "Create Events (for its own events) or Manage Events";
	default:
		return "View Channel";
	}
}

/* Judge an answer that is not 2xx, 429 or 5xx. */
static enum mc_err
classify(struct bot *b, enum op op, const char *guild, const char *id,
    const struct http_response *r, struct err *e)
{
	json_object *o = NULL, *v;
	int code = 0;
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
	b->last_code = code;
	if (r->status == 401) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord refused the bot token (401 %s): " TOKEN_HINT,
		    *message ? message : "Unauthorized");
	} else if (code == BOT_CODE_UNKNOWN_EVENT && (op == OP_EDIT || op == OP_DELETE)) {
		rc = err_set(e, MC_ERR_NOTFOUND, "Discord event %s is gone (deleted in Discord)", id);
	} else if (code == BOT_CODE_UNKNOWN_GUILD || (r->status == 404 && op == OP_LIST)) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord does not know the server %s (%d Unknown Guild): "
		    "check [discord] guild_id (Server Settings > Widget > Server ID), and that the bot "
		    "was invited to it", guild ? guild : "", code);
	} else if (r->status == 403) {
		rc = err_set(e, MC_ERR_CONFIG, "Discord refused the %s (403, %d %s): the bot lacks the "
		    "%s permission in the server (Server Settings > Roles > the bot's role)", op_name[op],
		    code, *message ? message : "Forbidden", missing_for(op));
	} else if (code == BOT_CODE_TOO_MANY_EVENTS) {
		rc = err_set(e, MC_ERR_UNAVAILABLE, "the server holds %d scheduled events, Discord's "
		    "limit (30038): no new event until some end or are deleted", BOT_EVENTS_MAX);
	} else if (r->status == 400) {
		struct buf path = { 0 }, what = { 0 };

		if (o != NULL && json_object_object_get_ex(o, "errors", &v))
			first_error(v, &path, &what);
		rc = err_set(e, MC_ERR_DATA, "Discord refused the %s (400, %d %s)%s%s", op_name[op], code,
		    *message ? message : "Bad Request", what.len ? ": " : "", what.len ? what.data : "");
		buf_free(&path);
		buf_free(&what);
	} else {
		rc = err_set(e, MC_ERR_DATA, "Discord answered the %s with HTTP %ld%s%s", op_name[op],
		    r->status, *message ? ": " : "", message);
	}
	json_object_put(o);
	return rc;
}

/* The call in flight, for the request hooks. */
struct in_flight {
	struct bot *b;
	const char *route, *guild;
};

static enum mc_err
hook_pace(void *arg, struct err *e)
{
	struct in_flight *f = arg;

	return pace(f->b, f->route, f->guild, e);
}

static void
hook_sent(void *arg)
{
	struct in_flight *f = arg;

	ratelimit_answered(f->b->rl, request_mono_us());
}

static void
hook_noted(void *arg, const struct http_response *r, const struct discord_limits *l)
{
	struct in_flight *f = arg;

	if (r->status == 429)
		f->b->ratelimited++;
	else
		ratelimit_note(f->b->rl, f->route, f->guild, r->rl_bucket, l->remaining,
		    l->reset_after_us, request_mono_us());
}

static void
hook_limited(void *arg, const struct http_response *r, const struct discord_limits *l,
    int64_t wait_us)
{
	struct in_flight *f = arg;

	ratelimit_429(f->b->rl, f->route, f->guild, l->global || (r->rl_scope != NULL &&
	    strcasecmp(r->rl_scope, "global") == 0), wait_us, request_mono_us());
}

/* One call as route in guild: paced, 429s waited out, what op allows
 * retried (request.h).  MC_OK with resp filled when a final answer came
 * (never a 429 or 5xx; the caller judges the status). */
static enum mc_err
call(struct bot *b, enum op op, const char *method, const char *path, const char *route,
    const char *guild, const char *body, struct http_response *resp, struct err *e)
{
	struct http_request req = { 0 };
	struct in_flight f = { b, route, guild };
	struct request_call c = { 0 };
	char *url = xasprintf("%s%s", b->base, path);
	enum mc_err rc;

	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.content_type = body ? "application/json" : NULL;
	req.user_agent = USER_AGENT;
	req.authorization = b->auth;
	/* A create has no idempotency key: never let libcurl resend it. */
	req.fresh = op == OP_CREATE;
	c.http = b->http;
	c.secrets = &b->secrets;
	c.deadline = b->deadline;
	c.what = op_name[op];
	c.once = op == OP_CREATE;
	c.maybe = "the event may or may not have been made: ";
	c.h.pace = hook_pace;
	c.h.sent = hook_sent;
	c.h.noted = hook_noted;
	c.h.limited = hook_limited;
	c.h.arg = &f;
	b->last_code = 0;
	rc = request_send(&c, &req, resp, e);
	free(url);
	return rc;
}

/* --- calls --- */

static enum mc_err
check_id(const char *what, const char *id, struct err *e)
{
	if (id == NULL || !all_digits(id, 1, 20))
		return err_set(e, MC_ERR_CONFIG, "'%s' is not a Discord %s id (digits)", id ? id : "", what);
	return MC_OK;
}

/* GET path and parse the 2xx answer into *out (caller puts it). */
static enum mc_err
get_json(struct bot *b, enum op op, const char *path, const char *route, const char *guild,
    json_object **out, struct err *e)
{
	struct http_response r;
	enum mc_err rc;

	*out = NULL;
	rc = call(b, op, "GET", path, route, guild, NULL, &r, e);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = classify(b, op, guild, NULL, &r, e);
	} else {
		*out = json_tokener_parse(r.body ? r.body : "");
		if (*out == NULL)
			rc = err_set(e, MC_ERR_DATA, "Discord's answer to the %s is not JSON", op_name[op]);
	}
	http_response_free(&r);
	return rc;
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

enum mc_err
bot_me(struct bot *b, char **name, char **id, struct err *e)
{
	json_object *o;
	const char *n, *i;
	enum mc_err rc;

	*name = *id = NULL;
	rc = get_json(b, OP_ME, "/users/@me", "GET /users/@me", NULL, &o, e);
	if (rc != MC_OK)
		return rc;
	n = jstr(o, "username");
	i = jstr(o, "id");
	if (n == NULL || i == NULL || !all_digits(i, 1, 20)) {
		rc = err_set(e, MC_ERR_DATA, "Discord's answer about the bot has no username or id");
	} else {
		*name = xstrdup(n);
		*id = xstrdup(i);
	}
	json_object_put(o);
	return rc;
}

/* Look for guild_id in one page of the bot's servers; *last gets the last
 * id of the page (for the next), *count its length. */
static int
guild_in_page(json_object *page, const char *guild_id, uint64_t *perms, char **name,
    char last[32], size_t *count)
{
	size_t i, n = json_object_array_length(page);

	*count = n;
	for (i = 0; i < n; i++) {
		json_object *g = json_object_array_get_idx(page, i);
		const char *id = jstr(g, "id"), *p = jstr(g, "permissions"), *gn = jstr(g, "name");

		if (id == NULL)
			continue;
		snprintf(last, 32, "%s", id);
		if (strcmp(id, guild_id) != 0)
			continue;
		*perms = p != NULL ? strtoull(p, NULL, 10) : 0;
		*name = xstrdup(gn ? gn : "");
		return 1;
	}
	return 0;
}

enum mc_err
bot_guild(struct bot *b, const char *guild_id, uint64_t *perms, char **name, struct err *e)
{
	char last[32] = "";
	size_t count;
	int found = 0;
	enum mc_err rc;

	*perms = 0;
	*name = NULL;
	if (check_id("server", guild_id, e) != MC_OK)
		return e->kind;
	do {
		json_object *page;
		char *path = last[0] ? xasprintf("/users/@me/guilds?limit=%d&after=%s", GUILDS_PAGE, last) :
		    xasprintf("/users/@me/guilds?limit=%d", GUILDS_PAGE);

		rc = get_json(b, OP_GUILDS, path, "GET /users/@me/guilds", NULL, &page, e);
		free(path);
		if (rc != MC_OK)
			return rc;
		if (!json_object_is_type(page, json_type_array)) {
			json_object_put(page);
			return err_set(e, MC_ERR_DATA, "Discord's list of the bot's servers is not a list");
		}
		found = guild_in_page(page, guild_id, perms, name, last, &count);
		json_object_put(page);
	} while (!found && count == GUILDS_PAGE);
	if (!found)
		return err_set(e, MC_ERR_CONFIG, "the bot is not in the server %s: check [discord] guild_id "
		    "(Server Settings > Widget > Server ID) and invite the bot with the Create Events "
		    "permission", guild_id);
	return MC_OK;
}

int64_t
bot_parse_time(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, n = 0, sign, oh, om;
	int64_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
	    n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	s += n;
	if (*s == '.') {
		s++;
		s += strspn(s, "0123456789");
	}
	sign = 0;
	oh = om = 0;
	if (*s == 'Z' && s[1] == '\0') {
		sign = 1;
	} else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && s[6] == '\0') {
		sign = *s == '+' ? 1 : -1;
	} else if (*s != '\0') {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = (int64_t)timegm(&tm);
	return t - (int64_t)(sign ? sign : 1) * (oh * 3600 + om * 60);
}

static int
event_from(json_object *o, struct bot_event *ev)
{
	json_object *v, *meta;
	const char *id = jstr(o, "id"), *name = jstr(o, "name"), *creator = jstr(o, "creator_id");

	memset(ev, 0, sizeof *ev);
	if (id == NULL || !all_digits(id, 1, 20) || name == NULL)
		return -1;
	snprintf(ev->id, sizeof ev->id, "%s", id);
	if (creator != NULL && all_digits(creator, 1, 20))
		snprintf(ev->creator_id, sizeof ev->creator_id, "%s", creator);
	if (json_object_object_get_ex(o, "status", &v))
		ev->status = json_object_get_int(v);
	if (json_object_object_get_ex(o, "entity_type", &v))
		ev->entity_type = json_object_get_int(v);
	ev->start = bot_parse_time(jstr(o, "scheduled_start_time"));
	ev->end = jstr(o, "scheduled_end_time") ? bot_parse_time(jstr(o, "scheduled_end_time")) : 0;
	ev->name = xstrdup(name);
	if (json_object_object_get_ex(o, "entity_metadata", &meta) && jstr(meta, "location") != NULL)
		ev->location = xstrdup(jstr(meta, "location"));
	return 0;
}

void
bot_events_free(struct bot_event *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].location);
	}
	free(v);
}

enum mc_err
bot_events_list(struct bot *b, const char *guild_id, struct bot_event **out, size_t *n,
    struct err *e)
{
	json_object *arr;
	char *path, *route;
	size_t i, len;
	enum mc_err rc;

	*out = NULL;
	*n = 0;
	if (check_id("server", guild_id, e) != MC_OK)
		return e->kind;
	path = xasprintf("/guilds/%s/scheduled-events", guild_id);
	route = xasprintf("GET %s", path);
	rc = get_json(b, OP_LIST, path, route, guild_id, &arr, e);
	free(route);
	free(path);
	if (rc != MC_OK)
		return rc;
	if (!json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return err_set(e, MC_ERR_DATA, "Discord's list of the server's events is not a list");
	}
	len = json_object_array_length(arr);
	*out = xcalloc(len ? len : 1, sizeof **out);
	for (i = 0; i < len; i++)
		if (event_from(json_object_array_get_idx(arr, i), &(*out)[*n]) == 0)
			(*n)++;
	json_object_put(arr);
	return MC_OK;
}

enum mc_err
bot_event_create(struct bot *b, const char *guild_id, const char *body, char id_out[32],
    struct err *e)
{
	struct http_response r;
	json_object *o = NULL;
	char *path, *route;
	const char *id;
	enum mc_err rc;

	id_out[0] = '\0';
	if (check_id("server", guild_id, e) != MC_OK)
		return e->kind;
	path = xasprintf("/guilds/%s/scheduled-events", guild_id);
	route = xasprintf("POST %s", path);
	rc = call(b, OP_CREATE, "POST", path, route, guild_id, body, &r, e);
	free(route);
	free(path);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = classify(b, OP_CREATE, guild_id, NULL, &r, e);
		goto resp_free;
	}
	o = json_tokener_parse(r.body ? r.body : "");
	id = jstr(o, "id");
	if (id == NULL || !all_digits(id, 1, 20)) {
		rc = err_set(e, MC_ERR_DATA, "Discord answered the event create (HTTP %ld) without an id; "
		    "the event may be in the server without moodlecord knowing it", r.status);
		goto json_put;
	}
	snprintf(id_out, 32, "%s", id);
json_put:
	json_object_put(o);
resp_free:
	http_response_free(&r);
	return rc;
}

/* PATCH or DELETE one event: both are safe to send again. */
static enum mc_err
event_call(struct bot *b, enum op op, const char *guild_id, const char *event_id,
    const char *body, int *status_out, struct err *e)
{
	struct http_response r;
	char *path, *route;
	const char *method = op == OP_EDIT ? "PATCH" : "DELETE";
	enum mc_err rc;

	if (check_id("server", guild_id, e) != MC_OK)
		return e->kind;
	if (event_id == NULL || !all_digits(event_id, 1, 20))
		return err_set(e, MC_ERR_DATA, "'%s' is not a Discord event id", event_id ? event_id : "");
	path = xasprintf("/guilds/%s/scheduled-events/%s", guild_id, event_id);
	/* The event id is not a major parameter: one bucket for them all. */
	route = xasprintf("%s /guilds/%s/scheduled-events/{id}", method, guild_id);
	rc = call(b, op, method, path, route, guild_id, body, &r, e);
	free(route);
	free(path);
	if (rc != MC_OK)
		return rc;
	if (r.status < 200 || r.status > 299) {
		rc = classify(b, op, guild_id, event_id, &r, e);
	} else if (status_out != NULL) {
		json_object *o = json_tokener_parse(r.body ? r.body : ""), *v;

		*status_out = o != NULL && json_object_object_get_ex(o, "status", &v) ?
		    json_object_get_int(v) : 0;
		json_object_put(o);
	}
	http_response_free(&r);
	return rc;
}

enum mc_err
bot_event_edit(struct bot *b, const char *guild_id, const char *event_id, const char *body,
    int *status_out, struct err *e)
{
	return event_call(b, OP_EDIT, guild_id, event_id, body, status_out, e);
}

enum mc_err
bot_event_delete(struct bot *b, const char *guild_id, const char *event_id, struct err *e)
{
	return event_call(b, OP_DELETE, guild_id, event_id, NULL, NULL, e);
}
