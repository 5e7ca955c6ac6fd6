/* fake_discord: Discord's webhook API on loopback, for tests.
 *
 *   fake_discord --port-file FILE [--webhook ID/TOKEN]... [--rate N/SECONDS]
 *                [--name NAME] [--channel ID] [--hook-channel ID/CHANNEL]...
 *                [--forum ID[,required]]...
 *
 * Binds 127.0.0.1 on a free port, writes the port to FILE when ready, exits
 * cleanly on SIGTERM or SIGINT.  --webhook registers a webhook (repeatable;
 * default 123456789012345678/fake-token); --rate sets every webhook's rate
 * limit (default 5/2: 5 calls per 2 seconds, decimals allowed: 5/0.5),
 * each webhook counting in its own bucket.  --hook-channel gives webhook
 * ID its own channel (default: --channel's), --forum makes webhook ID's
 * channel a forum (required: a new post needs a tag); the rules are at
 * "forum channels" below.
 *
 * Webhook API, answering as Discord's API v10 does, under /api/v10 only:
 *   GET    /api/v10/webhooks/ID/TOKEN                      the webhook object
 *   POST   /api/v10/webhooks/ID/TOKEN[?wait=true][&thread_id=T]
 *                                   200 + message (204, no body, without wait)
 *   GET    /api/v10/webhooks/ID/TOKEN/messages/MID[?thread_id=T]
 *   PATCH  /api/v10/webhooks/ID/TOKEN/messages/MID[?thread_id=T]
 *   DELETE /api/v10/webhooks/ID/TOKEN/messages/MID[?thread_id=T]   204
 * Unknown or deleted webhook: 404 10015; known id, wrong token: 401 50027;
 * unknown message (or one of another thread): 404 10008.  Bodies are
 * validated like Discord: Content-Type application/json, valid UTF-8 and
 * JSON (else 400 50109), content or embeds present (400 50006), every
 * limit in code points and the shape of embeds and allowed_mentions
 * (400 50035 with the "errors" tree Discord builds, leaves
 * {"_errors": [{"code", "message"}]}).  Every answer of a known webhook
 * has X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket; over the
 * limit: 429 {"message", "retry_after": float, "global"} with Retry-After
 * (whole seconds, rounded up) and X-RateLimit-Scope.  /_fake/channel
 * lists the messages of every webhook's channel together (each names its
 * webhook_id and channel_id); ids are snowflake-like decimal strings,
 * always increasing.
 * Messages carry mention_roles and mention_everyone as Discord would
 * compute who gets notified under the allowed_mentions sent.
 *
 * Admin API for tests (not counted as calls; answers JSON):
 *   GET  /_fake/channel   array of the messages now in the channels, oldest
 *                         first: Discord's message object plus
 *                         "allowed_mentions" (as last sent), "edited" (bool),
 *                         "thread_id" (string or null)
 *   GET  /_fake/log[?from=K]  array of every webhook call (from the K-th,
 *                         0-based, on): {"n", "method",
 *                         "path" (token shown as ***), "query", "body",
 *                         "content_type", "user_agent", "status", "dropped"}
 *   GET  /_fake/stats     {"calls", "ratelimited" (429s sent), "held" (the
 *                         call number held now, 0 = none), "messages"}
 *   POST /_fake/delete_message?id=MID   a moderator deletes a message
 *   POST /_fake/delete_webhook[?id=WID] the webhook (default: all) is deleted
 *   POST /_fake/wrong_token?on=1|0      every call answers 401 50027
 *   POST /_fake/fail?n=N[&status=502]   the next N calls answer 5xx
 *                                       (502/503/504: Cloudflare HTML; 500: JSON)
 *   POST /_fake/drop?call=N | ?next=K   call N (or the K-th call from now)
 *                                       is carried out, then the connection
 *                                       is closed with no answer
 *   POST /_fake/hold?call=N | ?next=K [&stage=before|after]
 *                                       call N is held until release:
 *                                       before (default) = nothing done yet;
 *                                       after = done, answer withheld
 *   POST /_fake/release                 let the held call go on
 *   POST /_fake/ban?on=1|0              ban mode: 429, no rate-limit
 *                                       headers, text "error code: 1015"
 *   POST /_fake/ratelimit[?n=1][&retry_after=0.5][&global=1]
 *                                       the next n calls answer 429
 *   POST /_fake/rate?limit=N&per=SECONDS  change the rate limit
 *   GET  /_fake/threads   the forum posts: {"id", "parent_id", "webhook_id",
 *                         "name", "applied_tags", "messages" (ids now in it)}
 *   POST /_fake/load      body: an array of messages as /_fake/channel
 *                         shows them, added to the channel as they are
 *   POST /_fake/reset                   empty channel and log, counters,
 *                                       faults off, webhooks restored
 * Call numbers count webhook calls only, from 1.
 *
 * The bot API (scheduled events, --bot, --guild): fake_discord_bot.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_WEBHOOKS 16
#define MAX_BODY (8u * 1024 * 1024)

struct webhook {
	char id[32];
	char token[160];
	int deleted;
	double window_end;  /* monotonic seconds */
	int used;           /* calls in the current window */
};

struct req {
	char *method, *url, *query;
	char *thread, *wait, *ctype, *ua;  /* copied: a held call may outlive its client */
	char *auth;                        /* Authorization (bot calls)    */
	char *body;
	size_t len, cap;
	int toobig;
	int is_admin;
	long n;                  /* webhook call number, 0 = not yet counted */
	int held;                /* 1 while suspended                       */
	int done;                /* the call was carried out                 */
	int drop;
	struct MHD_Response *resp;
	unsigned status;
	size_t log_index;
};

static struct {
	pthread_mutex_t mu;
	struct webhook hooks[MAX_WEBHOOKS];
	size_t nhooks;
	int limit;
	double per;
	char name[128];
	char channel[32];
	json_object *channel_msgs;  /* array of message objects            */
	json_object *log;           /* array of call records               */
	long calls;
	long ratelimited;
	int wrong_token, ban;
	long fail_n;
	unsigned fail_status;
	long drop_call;
	long hold_call;
	int hold_after;
	struct MHD_Connection *held_conn;
	long held_n;
	long force429_n;
	double force429_after;
	int force429_global;
	uint64_t last_id;
	int shutting_down;
} F;

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fputs("fake_discord: out of memory\n", stderr);
		exit(71);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *p = xmalloc(n + 1);

	memcpy(p, s, n + 1);
	return p;
}

static size_t
cplen(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

static int
all_digits(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]))
			return 0;
	return n >= min && n <= max;
}

static int
contains_ci(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

static void
iso_now(char out[40])
{
	struct timespec ts;
	struct tm tm;
	char base[20];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%.19s.%06d+00:00", base, (int)(ts.tv_nsec / 1000) % 1000000);
}

/* Snowflake-like: milliseconds since Discord's epoch, shifted, always
 * increasing. */
static void
new_id(char out[32])
{
	uint64_t ms = (uint64_t)(wall() * 1000.0) - UINT64_C(1420070400000);
	uint64_t id = ms << 22;

	if (id <= F.last_id)
		id = F.last_id + 1;
	F.last_id = id;
	snprintf(out, 32, "%" PRIu64, id);
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *
jget(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

/* --- answers --- */

static struct MHD_Response *
resp_new(const char *body, size_t len, const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (ctype != NULL)
		MHD_add_response_header(r, "Content-Type", ctype);
	return r;
}

static struct MHD_Response *
resp_json(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *r = resp_new(s, strlen(s), "application/json");

	json_object_put(o);
	return r;
}

static json_object *
jerror(const char *message, int code)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "code", json_object_new_int(code));
	return o;
}

static uint64_t
bucket_of(const char *id)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 0x100000001b3u;
	return h;
}

static void
add_ratelimit_headers(struct MHD_Response *r, struct webhook *w, double now)
{
	char v[64];
	double after = w->window_end - now;
	int remaining = F.limit - w->used;

	if (after < 0)
		after = 0;
	/* Round up to the millisecond, as Discord does: a client that waits
	 * what it is told never arrives early. */
	after = ceil(after * 1000.0) / 1000.0;
	snprintf(v, sizeof v, "%d", F.limit);
	MHD_add_response_header(r, "X-RateLimit-Limit", v);
	snprintf(v, sizeof v, "%d", remaining < 0 ? 0 : remaining);
	MHD_add_response_header(r, "X-RateLimit-Remaining", v);
	snprintf(v, sizeof v, "%.3f", wall() + after);
	MHD_add_response_header(r, "X-RateLimit-Reset", v);
	snprintf(v, sizeof v, "%.3f", after);
	MHD_add_response_header(r, "X-RateLimit-Reset-After", v);
	snprintf(v, sizeof v, "%016" PRIx64, bucket_of(w->id));
	MHD_add_response_header(r, "X-RateLimit-Bucket", v);
}

/* --- the errors tree: keys mirror the request, leaves hold _errors --- */

static void
err_at(json_object *errors, const char *const *path, size_t n, const char *code, const char *message)
{
	json_object *cur = errors, *next, *arr, *e;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(cur, path[i], &next)) {
			next = json_object_new_object();
			json_object_object_add(cur, path[i], next);
		}
		cur = next;
	}
	if (!json_object_object_get_ex(cur, "_errors", &arr)) {
		arr = json_object_new_array();
		json_object_object_add(cur, "_errors", arr);
	}
	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_array_add(arr, e);
}

static void
err_maxlen(json_object *errors, const char *const *path, size_t n, size_t max)
{
	char m[64];

	snprintf(m, sizeof m, "Must be %zu or fewer in length.", max);
	err_at(errors, path, n, "BASE_TYPE_MAX_LENGTH", m);
}

/* A string field: type and length; returns its code points (0 when
 * absent or not a string). */
static size_t
check_str(json_object *errors, json_object *o, const char *key, const char *const *path, size_t n,
    size_t max, int required)
{
	json_object *v = jget(o, key);
	size_t len;

	if (v == NULL || json_object_is_type(v, json_type_null)) {
		if (required)
			err_at(errors, path, n, "BASE_TYPE_REQUIRED", "This field is required");
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		err_at(errors, path, n, "BASE_TYPE_STRING", "Could not interpret value as string.");
		return 0;
	}
	len = cplen(json_object_get_string(v));
	if (len > max)
		err_maxlen(errors, path, n, max);
	if (required && len == 0)
		err_at(errors, path, n, "BASE_TYPE_REQUIRED", "This field is required");
	return len;
}

static int
url_ok(const char *u)
{
	const char *p;

	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	p = strstr(u, "://") + 3;
	if (*p == '\0' || *p == '/')
		return 0;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || *u == 0x7f)
			return 0;
	return 1;
}

static int
iso8601_ok(const char *s)
{
	int y, mo, d, h, mi, se, n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return 0;
	s += n;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z')
		return s[1] == '\0';
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    s[3] == ':' && isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) && s[6] == '\0')
		return 1;
	return *s == '\0';
}

static void
check_embed(json_object *errors, json_object *em, size_t idx, size_t *total)
{
	char ix[24];
	const char *p[4] = { "embeds", ix, NULL, NULL };
	json_object *v;

	snprintf(ix, sizeof ix, "%zu", idx);
	if (!json_object_is_type(em, json_type_object)) {
		err_at(errors, p, 2, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
		return;
	}
	p[2] = "title";
	*total += check_str(errors, em, "title", p, 3, 256, 0);
	p[2] = "description";
	*total += check_str(errors, em, "description", p, 3, 4096, 0);
	p[2] = "url";
	if ((v = jget(em, "url")) != NULL && !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_string) || !url_ok(json_object_get_string(v))))
		err_at(errors, p, 3, "URL_TYPE_INVALID_URL", "Not a well formed URL.");
	p[2] = "timestamp";
	if ((v = jget(em, "timestamp")) != NULL && !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_string) || !iso8601_ok(json_object_get_string(v))))
		err_at(errors, p, 3, "DATE_TYPE_PARSE", "Could not parse value. Should be ISO8601.");
	p[2] = "color";
	if ((v = jget(em, "color")) != NULL && !json_object_is_type(v, json_type_null) &&
	    (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > 0xffffff))
		err_at(errors, p, 3, "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.");
	if ((v = jget(em, "footer")) != NULL && !json_object_is_type(v, json_type_null)) {
		p[2] = "footer";
		p[3] = "text";
		if (!json_object_is_type(v, json_type_object))
			err_at(errors, p, 3, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
		else
			*total += check_str(errors, v, "text", p, 4, 2048, 1);
	}
	if ((v = jget(em, "author")) != NULL && !json_object_is_type(v, json_type_null)) {
		p[2] = "author";
		p[3] = "name";
		if (!json_object_is_type(v, json_type_object))
			err_at(errors, p, 3, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
		else
			*total += check_str(errors, v, "name", p, 4, 256, 1);
	}
	if ((v = jget(em, "fields")) != NULL && !json_object_is_type(v, json_type_null)) {
		size_t i, n;

		p[2] = "fields";
		if (!json_object_is_type(v, json_type_array)) {
			err_at(errors, p, 3, "BASE_TYPE_ARRAY", "Could not interpret value as array.");
			return;
		}
		n = json_object_array_length(v);
		if (n > 25)
			err_maxlen(errors, p, 3, 25);
		for (i = 0; i < n; i++) {
			json_object *f = json_object_array_get_idx(v, i);
			char fx[24];
			const char *fp[5] = { "embeds", ix, "fields", fx, NULL };

			snprintf(fx, sizeof fx, "%zu", i);
			if (!json_object_is_type(f, json_type_object)) {
				err_at(errors, fp, 4, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
				continue;
			}
			fp[4] = "name";
			*total += check_str(errors, f, "name", fp, 5, 256, 1);
			fp[4] = "value";
			*total += check_str(errors, f, "value", fp, 5, 1024, 1);
		}
	}
}

static void
check_mentions(json_object *errors, json_object *am)
{
	const char *p[2] = { "allowed_mentions", NULL };
	json_object *parse, *roles, *users;
	int parse_roles = 0, parse_users = 0;
	size_t i, n;

	if (!json_object_is_type(am, json_type_object)) {
		err_at(errors, p, 1, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
		return;
	}
	parse = jget(am, "parse");
	if (parse != NULL) {
		p[1] = "parse";
		if (!json_object_is_type(parse, json_type_array)) {
			err_at(errors, p, 2, "BASE_TYPE_ARRAY", "Could not interpret value as array.");
		} else {
			n = json_object_array_length(parse);
			for (i = 0; i < n; i++) {
				const char *s = json_object_get_string(json_object_array_get_idx(parse, i));
				char ix[24];
				const char *pp[3] = { "allowed_mentions", "parse", ix };

				snprintf(ix, sizeof ix, "%zu", i);
				if (!json_object_is_type(json_object_array_get_idx(parse, i), json_type_string) ||
				    (strcmp(s, "roles") != 0 && strcmp(s, "users") != 0 && strcmp(s, "everyone") != 0))
					err_at(errors, pp, 3, "BASE_TYPE_CHOICES",
					    "Value must be one of {'roles', 'users', 'everyone'}.");
				else if (strcmp(s, "roles") == 0)
					parse_roles = 1;
				else if (strcmp(s, "users") == 0)
					parse_users = 1;
			}
		}
	}
	roles = jget(am, "roles");
	users = jget(am, "users");
	for (i = 0; i < 2; i++) {
		json_object *list = i == 0 ? roles : users;
		size_t k;

		if (list == NULL)
			continue;
		p[1] = i == 0 ? "roles" : "users";
		if (!json_object_is_type(list, json_type_array)) {
			err_at(errors, p, 2, "BASE_TYPE_ARRAY", "Could not interpret value as array.");
			continue;
		}
		n = json_object_array_length(list);
		if (n > 100)
			err_maxlen(errors, p, 2, 100);
		for (k = 0; k < n; k++) {
			json_object *id = json_object_array_get_idx(list, k);
			char ix[24];
			const char *pp[3] = { "allowed_mentions", p[1], ix };

			snprintf(ix, sizeof ix, "%zu", k);
			if (!json_object_is_type(id, json_type_string) ||
			    !all_digits(json_object_get_string(id), 1, 20))
				err_at(errors, pp, 3, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
		}
	}
	p[1] = NULL;
	if (parse_roles && roles != NULL)
		err_at(errors, p, 1, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
		    "parse:[\"roles\"] and roles: [ids...] are mutually exclusive.");
	if (parse_users && users != NULL)
		err_at(errors, p, 1, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
		    "parse:[\"users\"] and users: [ids...] are mutually exclusive.");
}

/* Validate a post or edit body as Discord does: fills errors (50035). */
static void
validate(json_object *body, int is_post, json_object *errors)
{
	json_object *v;
	const char *p[1];
	size_t total = 0;

	p[0] = "content";
	check_str(errors, body, "content", p, 1, 2000, 0);
	if (is_post && (v = jget(body, "username")) != NULL && !json_object_is_type(v, json_type_null)) {
		p[0] = "username";
		if (!json_object_is_type(v, json_type_string)) {
			err_at(errors, p, 1, "BASE_TYPE_STRING", "Could not interpret value as string.");
		} else {
			const char *u = json_object_get_string(v);
			size_t n = cplen(u);

			if (n < 1 || n > 80)
				err_at(errors, p, 1, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.");
			else if (contains_ci(u, "discord"))
				err_at(errors, p, 1, "USERNAME_INVALID_CONTAINS", "Username cannot contain \"discord\"");
			else if (contains_ci(u, "clyde"))
				err_at(errors, p, 1, "USERNAME_INVALID_CONTAINS", "Username cannot contain \"clyde\"");
			else if (strcasecmp(u, "everyone") == 0 || strcasecmp(u, "here") == 0)
				err_at(errors, p, 1, "USERNAME_INVALID", "Username is not allowed");
		}
	}
	if ((v = jget(body, "embeds")) != NULL && !json_object_is_type(v, json_type_null)) {
		p[0] = "embeds";
		if (!json_object_is_type(v, json_type_array)) {
			err_at(errors, p, 1, "BASE_TYPE_ARRAY", "Could not interpret value as array.");
		} else {
			size_t i, n = json_object_array_length(v);

			if (n > 10)
				err_maxlen(errors, p, 1, 10);
			for (i = 0; i < n; i++)
				check_embed(errors, json_object_array_get_idx(v, i), i, &total);
			if (total > 6000)
				err_at(errors, p, 1, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
		}
	}
	if ((v = jget(body, "allowed_mentions")) != NULL && !json_object_is_type(v, json_type_null))
		check_mentions(errors, v);
}

static int
nonempty(json_object *msg)
{
	json_object *e = jget(msg, "embeds");
	const char *c = jstr(msg, "content");

	return (c != NULL && *c != '\0') ||
	    (e != NULL && json_object_is_type(e, json_type_array) && json_object_array_length(e) > 0);
}

static int
am_allows(json_object *am, const char *kind, const char *id)
{
	json_object *parse, *list;
	size_t i;

	if (am == NULL)
		return 1;  /* no allowed_mentions: Discord's default parses all */
	parse = jget(am, "parse");
	for (i = 0; parse != NULL && i < json_object_array_length(parse); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(parse, i)), kind) == 0)
			return 1;
	list = jget(am, strcmp(kind, "roles") == 0 ? "roles" : "users");
	for (i = 0; id != NULL && list != NULL && i < json_object_array_length(list); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), id) == 0)
			return 1;
	return 0;
}

/* Who the content notifies under the allowed mentions: mention_roles,
 * mention_everyone. */
static void
compute_mentions(json_object *msg)
{
	const char *c = jstr(msg, "content");
	json_object *am = jget(msg, "allowed_mentions");
	json_object *roles = json_object_new_array();
	int everyone = 0;
	const char *p;

	if (am != NULL && json_object_is_type(am, json_type_null))
		am = NULL;
	for (p = c ? strstr(c, "<@&") : NULL; p != NULL; p = strstr(p + 3, "<@&")) {
		char id[32];
		size_t n = strspn(p + 3, "0123456789");

		if (n == 0 || n >= sizeof id || p[3 + n] != '>')
			continue;
		memcpy(id, p + 3, n);
		id[n] = '\0';
		if (am_allows(am, "roles", id))
			json_object_array_add(roles, json_object_new_string(id));
	}
	if (c != NULL && (strstr(c, "@everyone") || strstr(c, "@here")) && am_allows(am, "everyone", NULL))
		everyone = 1;
	json_object_object_add(msg, "mention_roles", roles);
	json_object_object_add(msg, "mention_everyone", json_object_new_boolean(everyone));
}

/* Store a copy of embeds (not an array: none) as Discord shows them. */
static void
set_embeds(json_object *msg, json_object *embeds)
{
	json_object *copy = NULL;
	size_t i;

	if (embeds == NULL || !json_object_is_type(embeds, json_type_array))
		copy = json_object_new_array();
	else
		json_object_deep_copy(embeds, &copy, NULL);
	for (i = 0; i < json_object_array_length(copy); i++) {
		json_object *e = json_object_array_get_idx(copy, i);

		if (jget(e, "type") == NULL)
			json_object_object_add(e, "type", json_object_new_string("rich"));
	}
	json_object_object_add(msg, "embeds", copy);
}

static json_object *
copy_of(json_object *o)
{
	json_object *c = NULL;

	json_object_deep_copy(o, &c, NULL);
	return c;
}

/* The message as the API shows it: no fake-only fields. */
static json_object *
api_view(json_object *msg)
{
	json_object *c = copy_of(msg);

	json_object_object_del(c, "allowed_mentions");
	json_object_object_del(c, "edited");
	json_object_object_del(c, "thread_id");
	return c;
}

static json_object *
find_msg(const char *id, const char *thread, const char *webhook_id, size_t *idx)
{
	size_t i, n = json_object_array_length(F.channel_msgs);

	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(F.channel_msgs, i);
		const char *t = jstr(m, "thread_id");

		if (strcmp(jstr(m, "id"), id) != 0)
			continue;
		/* Discord: a message of a thread is unknown without its
		 * thread_id, and a webhook sees only its own messages. */
		if ((t == NULL) != (thread == NULL) || (t != NULL && strcmp(t, thread) != 0))
			return NULL;
		if (strcmp(jstr(m, "webhook_id"), webhook_id) != 0)
			return NULL;
		*idx = i;
		return m;
	}
	return NULL;
}

struct route {
	struct webhook *hook;  /* NULL: unknown id */
	char id[32];
	char token[160];
	char msg_id[32];       /* "" = the webhook itself */
	int bad;               /* not a webhook route at all */
};

static void
parse_route(const char *url, struct route *r)
{
	const char *p = url, *slash;
	size_t n, i;

	memset(r, 0, sizeof *r);
	if (strncmp(p, "/api/v10/webhooks/", 18) != 0) {
		r->bad = 1;
		return;
	}
	p += 18;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (slash == NULL || n == 0 || n >= sizeof r->id) {
		r->bad = 1;
		return;
	}
	memcpy(r->id, p, n);
	p = slash + 1;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof r->token) {
		r->bad = 1;
		return;
	}
	memcpy(r->token, p, n);
	if (slash != NULL) {
		p = slash + 1;
		if (strncmp(p, "messages/", 9) != 0) {
			r->bad = 1;
			return;
		}
		p += 9;
		n = strlen(p);
		if (n == 0 || n >= sizeof r->msg_id || strchr(p, '/') != NULL) {
			r->bad = 1;
			return;
		}
		memcpy(r->msg_id, p, n);
	}
	for (i = 0; i < F.nhooks; i++)
		if (strcmp(F.hooks[i].id, r->id) == 0)
			r->hook = &F.hooks[i];
}

/* The path with the token hidden, for the log. */
static char *
masked_path(const char *url)
{
	const char *p = url, *tok, *end;
	char *out;
	size_t a;

	if (strncmp(p, "/api/v10/webhooks/", 18) != 0)
		return xstrdup(url);
	tok = strchr(p + 18, '/');
	if (tok == NULL)
		return xstrdup(url);
	tok++;
	end = strchr(tok, '/');
	if (end == NULL)
		end = tok + strlen(tok);
	a = (size_t)(tok - p);
	out = xmalloc(a + 3 + strlen(end) + 1);
	memcpy(out, p, a);
	memcpy(out + a, "***", 3);
	memcpy(out + a + 3, end, strlen(end) + 1);
	return out;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static const char *
arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static const char *
header(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, k);
}

static json_object *
bad_request(const char *message, int code, json_object *errors)
{
	json_object *o = jerror(message, code);

	if (errors != NULL)
		json_object_object_add(o, "errors", errors);
	return o;
}

/* --- forum channels, channels per webhook, message flags ---
 *
 * Each webhook posts into a channel: --channel's by default, or its own
 * (--hook-channel ID/CHANNEL).  --forum ID[,required] makes the channel of
 * webhook ID a forum, as Discord answers for one (Execute Webhook, JSON
 * error codes):
 *   - a post must say where it goes: thread_name in the body opens a new
 *     post (a thread) whose first message it is, ?thread_id= posts into an
 *     existing post of that forum.  Neither: 400 220001; both: 400 220002;
 *     a thread_id that is no post of this forum: 404 10003.
 *   - thread_name on a webhook of a text channel: 400 220003.
 *   - a forum that requires a tag refuses a new post without applied_tags:
 *     400 40067.
 *   - a thread's id is the id of its first message; the messages of a
 *     thread (the first one included) are edited and deleted only with
 *     ?thread_id= (else 404 10008).  Deleting the first message leaves
 *     the thread; a webhook cannot delete, rename or archive a thread.
 * Message flags: a post may set only SUPPRESS_EMBEDS (4),
 * SUPPRESS_NOTIFICATIONS (4096) and IS_COMPONENTS_V2 (32768), anything
 * else is 400 50035 at "flags"; an edit may not add
 * SUPPRESS_NOTIFICATIONS (it notifies no one new) nor change
 * IS_COMPONENTS_V2.  The leaf codes under "errors" for these are not
 * documented: the fake's are its own. */

#define FLAG_SUPPRESS_EMBEDS 4
#define FLAG_SUPPRESS_NOTIFICATIONS 4096
#define FLAG_COMPONENTS_V2 32768

struct hookinfo {
	char id[32];       /* the webhook's id                 */
	char channel[32];  /* "" = the default channel         */
	int forum;
	int require_tag;
};

static struct {
	struct hookinfo info[MAX_WEBHOOKS];
	size_t n;
	json_object *threads;  /* {"id", "parent_id", "webhook_id", "name",
	                          "applied_tags"}, in creation order */
} FX;

static struct hookinfo *
hookinfo_of(const char *id, int create)
{
	size_t i;

	for (i = 0; i < FX.n; i++)
		if (strcmp(FX.info[i].id, id) == 0)
			return &FX.info[i];
	if (!create || FX.n == MAX_WEBHOOKS || strlen(id) >= sizeof FX.info[0].id)
		return NULL;
	memset(&FX.info[FX.n], 0, sizeof FX.info[0]);
	memcpy(FX.info[FX.n].id, id, strlen(id) + 1);
	return &FX.info[FX.n++];
}

/* The channel webhook w posts into (a forum's id for a forum). */
static const char *
hook_channel(const struct webhook *w)
{
	const struct hookinfo *h = hookinfo_of(w->id, 0);

	return h != NULL && h->channel[0] != '\0' ? h->channel : F.channel;
}

static json_object *
find_thread(const char *id)
{
	size_t i, n = json_object_array_length(FX.threads);

	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(FX.threads, i);

		if (strcmp(jstr(t, "id"), id) == 0)
			return t;
	}
	return NULL;
}

/* The body keys of Execute Webhook that moodlecord's forum and quiet
 * posts use, checked against the OpenAPI schema: thread_name (string or
 * null, at most 100; Discord refuses an empty one), applied_tags (array or
 * null of at most 5 snowflakes) on posts; flags (integer or null, only the
 * three bits a webhook may set) on posts and edits. */
static void
check_post_extras(json_object *errors, json_object *body, int is_post)
{
	json_object *v;
	const char *p[2] = { NULL, NULL };

	p[0] = "flags";
	v = jget(body, "flags");
	if (v != NULL && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int))
			err_at(errors, p, 1, "NUMBER_TYPE_COERCE", "Value is not int.");
		else if ((json_object_get_int64(v) & ~(int64_t)(FLAG_SUPPRESS_EMBEDS |
		    FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2)) != 0)
			err_at(errors, p, 1, "MESSAGE_FLAGS_INVALID",
			    "Only SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS and IS_COMPONENTS_V2 can be set.");
	}
	if (!is_post)
		return;
	p[0] = "thread_name";
	v = jget(body, "thread_name");
	if (v != NULL && !json_object_is_type(v, json_type_null)) {
		size_t n = json_object_is_type(v, json_type_string) ? cplen(json_object_get_string(v)) : 0;

		if (!json_object_is_type(v, json_type_string))
			err_at(errors, p, 1, "BASE_TYPE_STRING", "Could not interpret value as string.");
		else if (n < 1 || n > 100)
			err_at(errors, p, 1, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
	}
	p[0] = "applied_tags";
	v = jget(body, "applied_tags");
	if (v != NULL && !json_object_is_type(v, json_type_null)) {
		size_t i, n;

		if (!json_object_is_type(v, json_type_array)) {
			err_at(errors, p, 1, "BASE_TYPE_ARRAY", "Could not interpret value as array.");
			return;
		}
		n = json_object_array_length(v);
		if (n > 5)
			err_maxlen(errors, p, 1, 5);
		for (i = 0; i < n; i++) {
			json_object *id = json_object_array_get_idx(v, i);
			char ix[24];
			const char *pp[2] = { "applied_tags", ix };

			snprintf(ix, sizeof ix, "%zu", i);
			if (!json_object_is_type(id, json_type_string) ||
			    !all_digits(json_object_get_string(id), 1, 20))
				err_at(errors, pp, 2, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
		}
	}
}

static int
refuse(struct req *rq, unsigned status, const char *message, int code)
{
	rq->status = status;
	rq->resp = resp_json(jerror(message, code));
	return -1;
}

/* Where a post of webhook w goes, by the forum rules above: 0 to carry it
 * out, -1 with rq's answer set. */
static int
post_place_check(struct req *rq, const struct webhook *w, json_object *body)
{
	const struct hookinfo *h = hookinfo_of(w->id, 0);
	json_object *name = jget(body, "thread_name"), *tags = jget(body, "applied_tags");
	int has_name = name != NULL && !json_object_is_type(name, json_type_null);
	json_object *t;

	if (h == NULL || !h->forum) {
		if (has_name)
			return refuse(rq, 400, "Webhooks can only create threads in forum channels", 220003);
		return 0;
	}
	if (!has_name && rq->thread == NULL)
		return refuse(rq, 400, "Webhooks posted to forum channels must have a thread_name or thread_id",
		    220001);
	if (has_name && rq->thread != NULL)
		return refuse(rq, 400,
		    "Webhooks posted to forum channels cannot have both a thread_name and thread_id", 220002);
	if (rq->thread != NULL) {
		t = find_thread(rq->thread);
		if (t == NULL || strcmp(jstr(t, "parent_id"), hook_channel(w)) != 0)
			return refuse(rq, 404, "Unknown Channel", 10003);
		return 0;
	}
	if (h->require_tag && (tags == NULL || !json_object_is_type(tags, json_type_array) ||
	    json_object_array_length(tags) == 0))
		return refuse(rq, 400, "A tag is required to create a forum post in this channel", 40067);
	return 0;
}

/* Place the new message m of webhook w: its channel, its thread (a new
 * forum post opens one with m's id), its flags. */
static void
post_place(const struct webhook *w, json_object *body, const char *thread, json_object *m)
{
	json_object *name = jget(body, "thread_name"), *flags = jget(body, "flags");
	const char *id = jstr(m, "id");

	if (flags != NULL && json_object_is_type(flags, json_type_int))
		json_object_object_add(m, "flags", json_object_new_int64(json_object_get_int64(flags)));
	if (name != NULL && json_object_is_type(name, json_type_string)) {
		json_object *t = json_object_new_object(), *tags = jget(body, "applied_tags");

		json_object_object_add(t, "id", json_object_new_string(id));
		json_object_object_add(t, "parent_id", json_object_new_string(hook_channel(w)));
		json_object_object_add(t, "webhook_id", json_object_new_string(w->id));
		json_object_object_add(t, "name", json_object_new_string(json_object_get_string(name)));
		json_object_object_add(t, "applied_tags", tags != NULL && json_object_is_type(tags, json_type_array) ?
		    copy_of(tags) : json_object_new_array());
		json_object_array_add(FX.threads, t);
		json_object_object_add(m, "channel_id", json_object_new_string(id));
		json_object_object_add(m, "thread_id", json_object_new_string(id));
		json_object_object_add(m, "position", json_object_new_int(0));
	} else {
		json_object_object_add(m, "channel_id", json_object_new_string(thread ? thread : hook_channel(w)));
	}
}

/* An edit's flags against the message's (m): 0 and the new flags set in
 * next, or -1 with errors filled. */
static int
edit_flags(json_object *m, json_object *body, json_object *next, json_object *errors)
{
	json_object *v = jget(body, "flags"), *old = jget(m, "flags");
	int64_t had = old != NULL ? json_object_get_int64(old) : 0, want;
	const char *p[1] = { "flags" };

	if (v == NULL || json_object_is_type(v, json_type_null))
		return 0;
	want = json_object_get_int64(v);
	if ((want & FLAG_SUPPRESS_NOTIFICATIONS) && !(had & FLAG_SUPPRESS_NOTIFICATIONS)) {
		err_at(errors, p, 1, "MESSAGE_FLAGS_INVALID", "SUPPRESS_NOTIFICATIONS cannot be set on edit.");
		return -1;
	}
	if ((want & FLAG_COMPONENTS_V2) != (had & FLAG_COMPONENTS_V2)) {
		err_at(errors, p, 1, "MESSAGE_FLAGS_INVALID", "IS_COMPONENTS_V2 cannot be changed on edit.");
		return -1;
	}
	/* The other bits Discord keeps as they were; only SUPPRESS_EMBEDS
	 * follows the edit. */
	want = (had & ~(int64_t)FLAG_SUPPRESS_EMBEDS) | (want & FLAG_SUPPRESS_EMBEDS);
	json_object_object_add(next, "flags", json_object_new_int64(want));
	return 0;
}

/* --forum ID[,required] and --hook-channel ID/CHANNEL. */
static int
forum_option(const char *opt, const char *val)
{
	struct hookinfo *h;
	char id[32];
	size_t n;

	if (strcmp(opt, "--forum") == 0) {
		n = strcspn(val, ",");
		if (n == 0 || n >= sizeof id || (val[n] != '\0' && strcmp(val + n, ",required") != 0))
			return -1;
		memcpy(id, val, n);
		id[n] = '\0';
		h = hookinfo_of(id, 1);
		if (h == NULL)
			return -1;
		h->forum = 1;
		h->require_tag = val[n] != '\0';
		return 0;
	}
	if (strcmp(opt, "--hook-channel") == 0) {
		n = strcspn(val, "/");
		if (n == 0 || n >= sizeof id || val[n] != '/' || !all_digits(val + n + 1, 17, 20))
			return -1;
		memcpy(id, val, n);
		id[n] = '\0';
		h = hookinfo_of(id, 1);
		if (h == NULL)
			return -1;
		snprintf(h->channel, sizeof h->channel, "%s", val + n + 1);
		return 0;
	}
	return 1;
}

/* GET /_fake/threads: the forum posts, each with the ids of the messages
 * in it now, oldest first. */
static json_object *
threads_view(void)
{
	json_object *out = copy_of(FX.threads);
	size_t i, k, n = json_object_array_length(out), nm = json_object_array_length(F.channel_msgs);

	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(out, i), *ids = json_object_new_array();

		for (k = 0; k < nm; k++) {
			json_object *m = json_object_array_get_idx(F.channel_msgs, k);
			const char *tid = jstr(m, "thread_id");

			if (tid != NULL && strcmp(tid, jstr(t, "id")) == 0)
				json_object_array_add(ids, json_object_new_string(jstr(m, "id")));
		}
		json_object_object_add(t, "messages", ids);
	}
	return out;
}

/* POST /_fake/load with a JSON array of messages as /_fake/channel shows
 * them: they join the channel as if posted before (a test that starts
 * from a state file made elsewhere).  New ids stay above theirs. */
static struct MHD_Response *
load_messages(const char *body, size_t len, unsigned *status)
{
	json_object *arr = body != NULL ? json_tokener_parse(body) : NULL;
	size_t i, n;

	(void)len;
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		*status = 400;
		return resp_json(jerror("load: a JSON array of messages", 0));
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(arr, i);
		const char *id = jstr(m, "id");

		if (id == NULL || !all_digits(id, 1, 20) || jstr(m, "webhook_id") == NULL) {
			json_object_put(arr);
			*status = 400;
			return resp_json(jerror("load: each message needs id and webhook_id", 0));
		}
	}
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(arr, i);
		uint64_t id = strtoull(jstr(m, "id"), NULL, 10);

		if (id > F.last_id)
			F.last_id = id;
		json_object_array_add(F.channel_msgs, copy_of(m));
	}
	json_object_put(arr);
	*status = 200;
	return resp_json(json_object_new_object());
}

/* The admin paths of this part; NULL when path is none of them. */
static struct MHD_Response *
admin_forum(const char *method, const char *path, const struct req *rq, unsigned *status)
{
	*status = 200;
	if (strcmp(method, "GET") == 0 && strcmp(path, "threads") == 0)
		return resp_json(threads_view());
	if (strcmp(method, "POST") == 0 && strcmp(path, "load") == 0)
		return load_messages(rq->body, rq->len, status);
	return NULL;
}
#include "fake_discord_bot.h"

/* Carry out one webhook call: sets rq->status and rq->resp. */
static void
webhook_call(struct req *rq)
{
	struct route r;
	const char *thread = rq->thread;
	const char *wait = rq->wait;
	const char *ctype = rq->ctype;
	double now = mono();
	json_object *body = NULL, *out = NULL;
	struct webhook *w;
	int is_post, is_patch;

	parse_route(rq->url, &r);
	if (F.ban) {
		static const char text[] = "error code: 1015";

		rq->status = 429;
		rq->resp = resp_new(text, sizeof text - 1, "text/plain; charset=UTF-8");
		F.ratelimited++;
		return;
	}
	if (bot_is_route(rq->url)) {
		bot_call(rq);
		return;
	}
	if (r.bad) {
		rq->status = 404;
		rq->resp = resp_json(jerror("404: Not Found", 0));
		return;
	}
	w = r.hook;
	if (w == NULL || w->deleted) {
		rq->status = 404;
		rq->resp = resp_json(jerror("Unknown Webhook", 10015));
		return;
	}

	/* The bucket: a window of `per` seconds opened by its first call. */
	if (now >= w->window_end) {
		w->window_end = now + F.per;
		w->used = 0;
	}
	if (F.force429_n > 0 || w->used >= F.limit) {
		double after = F.force429_n > 0 ? F.force429_after : w->window_end - now;
		int global = F.force429_n > 0 && F.force429_global;
		json_object *o = json_object_new_object();
		char v[32];

		if (F.force429_n > 0)
			F.force429_n--;
		after = ceil(after * 1000.0) / 1000.0;
		json_object_object_add(o, "message", json_object_new_string("You are being rate limited."));
		json_object_object_add(o, "retry_after", json_object_new_double(after));
		json_object_object_add(o, "global", json_object_new_boolean(global));
		rq->status = 429;
		rq->resp = resp_json(o);
		add_ratelimit_headers(rq->resp, w, now);
		snprintf(v, sizeof v, "%.0f", ceil(after));
		MHD_add_response_header(rq->resp, "Retry-After", v);
		MHD_add_response_header(rq->resp, "X-RateLimit-Scope", global ? "global" : "user");
		if (global)
			MHD_add_response_header(rq->resp, "X-RateLimit-Global", "true");
		F.ratelimited++;
		return;
	}
	w->used++;

	if (F.wrong_token || strcmp(w->token, r.token) != 0) {
		rq->status = 401;
		rq->resp = resp_json(jerror("Invalid Webhook Token", 50027));
		goto headers;
	}
	if (F.fail_n > 0) {
		F.fail_n--;
		rq->status = F.fail_status;
		if (F.fail_status == 500) {
			rq->resp = resp_json(jerror("500: Internal Server Error", 0));
		} else {
			char html[256];

			snprintf(html, sizeof html, "<html><head><title>%u</title></head><body>"
			    "<center><h1>%u Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>",
			    F.fail_status, F.fail_status);
			rq->resp = resp_new(html, strlen(html), "text/html");
		}
		return;  /* from Cloudflare: no rate-limit headers */
	}
	if (thread != NULL && !all_digits(thread, 1, 20)) {
		const char *p[1] = { "thread_id" };
		json_object *errors = json_object_new_object();

		err_at(errors, p, 1, "NUMBER_TYPE_COERCE", "Value is not snowflake.");
		rq->status = 400;
		rq->resp = resp_json(bad_request("Invalid Form Body", 50035, errors));
		goto headers;
	}

	is_post = strcmp(rq->method, "POST") == 0 && r.msg_id[0] == '\0';
	is_patch = strcmp(rq->method, "PATCH") == 0 && r.msg_id[0] != '\0';
	if (is_post || is_patch) {
		struct json_tokener *tok;
		json_object *errors;

		if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
			errors = json_object_new_object();
			err_at(errors, NULL, 0, "CONTENT_TYPE_INVALID",
			    "Expected \"Content-Type\" header to be one of {'application/json', "
			    "'application/x-www-form-urlencoded', 'multipart/form-data'}.");
			rq->status = 400;
			rq->resp = resp_json(bad_request("Invalid Form Body", 50035, errors));
			goto headers;
		}
		if (rq->toobig) {
			rq->status = 413;
			rq->resp = resp_json(jerror("Request entity too large", 40005));
			goto headers;
		}
		tok = json_tokener_new();
		body = rq->len > 0 ? json_tokener_parse_ex(tok, rq->body, (int)rq->len) : NULL;
		if (body == NULL || json_tokener_get_error(tok) != json_tokener_success ||
		    (size_t)json_tokener_get_parse_end(tok) != rq->len ||
		    !utf8_ok((const unsigned char *)rq->body, rq->len) ||
		    !json_object_is_type(body, json_type_object)) {
			json_tokener_free(tok);
			json_object_put(body);
			body = NULL;
			rq->status = 400;
			rq->resp = resp_json(jerror("The request body contains invalid JSON.", 50109));
			goto headers;
		}
		json_tokener_free(tok);
		errors = json_object_new_object();
		validate(body, is_post, errors);
		check_post_extras(errors, body, is_post);
		if (json_object_object_length(errors) > 0) {
			rq->status = 400;
			rq->resp = resp_json(bad_request("Invalid Form Body", 50035, errors));
			goto headers;
		}
		json_object_put(errors);
		if (is_post && post_place_check(rq, w, body) != 0)
			goto headers;
	}

	if (strcmp(rq->method, "GET") == 0 && r.msg_id[0] == '\0') {
		out = json_object_new_object();
		json_object_object_add(out, "application_id", NULL);
		json_object_object_add(out, "avatar", NULL);
		json_object_object_add(out, "channel_id", json_object_new_string(hook_channel(w)));
		json_object_object_add(out, "guild_id", json_object_new_string("222222222222222222"));
		json_object_object_add(out, "id", json_object_new_string(w->id));
		json_object_object_add(out, "name", json_object_new_string(F.name));
		json_object_object_add(out, "type", json_object_new_int(1));
		json_object_object_add(out, "token", json_object_new_string(w->token));
		rq->status = 200;
		rq->resp = resp_json(out);
	} else if (is_post) {
		json_object *m = json_object_new_object(), *author = json_object_new_object();
		char id[32], ts[40];
		const char *uname = jstr(body, "username");

		if (!nonempty(body)) {
			rq->status = 400;
			rq->resp = resp_json(jerror("Cannot send an empty message", 50006));
			json_object_put(m);
			json_object_put(author);
			goto headers;
		}
		new_id(id);
		iso_now(ts);
		json_object_object_add(m, "type", json_object_new_int(0));
		json_object_object_add(m, "channel_id", json_object_new_string(thread ? thread : F.channel));
		json_object_object_add(m, "content", json_object_new_string(jstr(body, "content") ? jstr(body, "content") : ""));
		json_object_object_add(m, "attachments", json_object_new_array());
		set_embeds(m, jget(body, "embeds"));
		json_object_object_add(m, "timestamp", json_object_new_string(ts));
		json_object_object_add(m, "edited_timestamp", NULL);
		json_object_object_add(m, "flags", json_object_new_int(0));
		json_object_object_add(m, "components", json_object_new_array());
		json_object_object_add(m, "id", json_object_new_string(id));
		json_object_object_add(author, "bot", json_object_new_boolean(1));
		json_object_object_add(author, "id", json_object_new_string(w->id));
		json_object_object_add(author, "username", json_object_new_string(uname ? uname : F.name));
		json_object_object_add(author, "avatar", NULL);
		json_object_object_add(author, "discriminator", json_object_new_string("0000"));
		json_object_object_add(m, "author", author);
		json_object_object_add(m, "mentions", json_object_new_array());
		json_object_object_add(m, "pinned", json_object_new_boolean(0));
		json_object_object_add(m, "tts", json_object_new_boolean(0));
		json_object_object_add(m, "webhook_id", json_object_new_string(w->id));
		json_object_object_add(m, "allowed_mentions", copy_of(jget(body, "allowed_mentions")));
		json_object_object_add(m, "edited", json_object_new_boolean(0));
		json_object_object_add(m, "thread_id", thread ? json_object_new_string(thread) : NULL);
		post_place(w, body, thread, m);
		compute_mentions(m);
		json_object_array_add(F.channel_msgs, m);
		if (wait != NULL && strcmp(wait, "true") == 0) {
			rq->status = 200;
			rq->resp = resp_json(api_view(m));
		} else {
			rq->status = 204;
			rq->resp = resp_new("", 0, NULL);
		}
	} else if (r.msg_id[0] != '\0' && (is_patch || strcmp(rq->method, "DELETE") == 0 ||
	    strcmp(rq->method, "GET") == 0)) {
		size_t idx = 0;
		json_object *m = find_msg(r.msg_id, thread, w->id, &idx);

		if (m == NULL) {
			rq->status = 404;
			rq->resp = resp_json(jerror("Unknown Message", 10008));
			goto headers;
		}
		if (strcmp(rq->method, "GET") == 0) {
			rq->status = 200;
			rq->resp = resp_json(api_view(m));
		} else if (strcmp(rq->method, "DELETE") == 0) {
			json_object_array_del_idx(F.channel_msgs, idx, 1);
			rq->status = 204;
			rq->resp = resp_new("", 0, NULL);
		} else {
			json_object *next = copy_of(m), *v;
			char ts[40];

			if ((v = jget(body, "content")) != NULL)
				json_object_object_add(next, "content", json_object_new_string(
				    json_object_is_type(v, json_type_null) ? "" : json_object_get_string(v)));
			if ((v = jget(body, "embeds")) != NULL)
				set_embeds(next, v);
			/* An edit without allowed_mentions is parsed with the
			 * default rules: everything may notify. */
			json_object_object_add(next, "allowed_mentions", copy_of(jget(body, "allowed_mentions")));
			v = json_object_new_object();
			if (edit_flags(m, body, next, v) != 0) {
				json_object_put(next);
				rq->status = 400;
				rq->resp = resp_json(bad_request("Invalid Form Body", 50035, v));
				goto headers;
			}
			json_object_put(v);
			if (!nonempty(next)) {
				json_object_put(next);
				rq->status = 400;
				rq->resp = resp_json(jerror("Cannot send an empty message", 50006));
				goto headers;
			}
			iso_now(ts);
			json_object_object_add(next, "edited_timestamp", json_object_new_string(ts));
			json_object_object_add(next, "edited", json_object_new_boolean(1));
			compute_mentions(next);
			json_object_array_put_idx(F.channel_msgs, idx, next);
			rq->status = 200;
			rq->resp = resp_json(api_view(next));
		}
	} else {
		rq->status = 405;
		rq->resp = resp_json(jerror("405: Method Not Allowed", 0));
	}
headers:
	json_object_put(body);
	add_ratelimit_headers(rq->resp, w, now);
}

/* --- admin --- */

static long
call_arg(struct MHD_Connection *c)
{
	const char *s = arg(c, "call"), *k = arg(c, "next");

	if (s != NULL)
		return strtol(s, NULL, 10);
	if (k != NULL)
		return F.calls + strtol(k, NULL, 10);
	return F.calls + 1;
}

static void
reset_all(void)
{
	size_t i;

	json_object_put(F.channel_msgs);
	json_object_put(F.log);
	F.channel_msgs = json_object_new_array();
	F.log = json_object_new_array();
	F.calls = F.ratelimited = 0;
	F.wrong_token = F.ban = 0;
	F.fail_n = 0;
	F.drop_call = F.hold_call = 0;
	F.force429_n = 0;
	json_object_put(FX.threads);
	FX.threads = json_object_new_array();
	bot_reset();
	for (i = 0; i < F.nhooks; i++) {
		F.hooks[i].deleted = 0;
		F.hooks[i].window_end = 0;
		F.hooks[i].used = 0;
	}
}

/* The log from entry `from` (0-based; NULL = all) on, for a test that
 * reads it as it grows. */
static json_object *
log_from(const char *from)
{
	size_t i, n = json_object_array_length(F.log), k = from ? strtoul(from, NULL, 10) : 0;
	json_object *a;

	if (k == 0)
		return copy_of(F.log);
	a = json_object_new_array();
	for (i = k; i < n; i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(F.log, i)));
	return a;
}

static struct MHD_Response *
admin(struct MHD_Connection *c, const char *method, const char *url, unsigned *status)
{
	const char *path = url + strlen("/_fake/");
	const char *on = arg(c, "on");
	json_object *o;
	struct MHD_Response *bot = bot_admin(c, method, path, status);

	if (bot != NULL)
		return bot;
	*status = 200;
	if (strcmp(method, "GET") == 0) {
		if (strcmp(path, "channel") == 0)
			return resp_json(copy_of(F.channel_msgs));
		if (strcmp(path, "log") == 0)
			return resp_json(log_from(arg(c, "from")));
		if (strcmp(path, "stats") == 0) {
			o = json_object_new_object();
			json_object_object_add(o, "calls", json_object_new_int64(F.calls));
			json_object_object_add(o, "ratelimited", json_object_new_int64(F.ratelimited));
			json_object_object_add(o, "held", json_object_new_int64(F.held_conn ? F.held_n : 0));
			json_object_object_add(o, "messages",
			    json_object_new_int64((int64_t)json_object_array_length(F.channel_msgs)));
			return resp_json(o);
		}
	} else if (strcmp(method, "POST") == 0) {
		if (strcmp(path, "delete_message") == 0) {
			const char *id = arg(c, "id");
			size_t i, n = json_object_array_length(F.channel_msgs);

			for (i = 0; id != NULL && i < n; i++) {
				if (strcmp(jstr(json_object_array_get_idx(F.channel_msgs, i), "id"), id) == 0) {
					json_object_array_del_idx(F.channel_msgs, i, 1);
					return resp_json(json_object_new_object());
				}
			}
			*status = 404;
			return resp_json(jerror("no such message", 0));
		}
		if (strcmp(path, "delete_webhook") == 0) {
			const char *id = arg(c, "id");
			size_t i;

			for (i = 0; i < F.nhooks; i++)
				if (id == NULL || strcmp(F.hooks[i].id, id) == 0)
					F.hooks[i].deleted = 1;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "wrong_token") == 0) {
			F.wrong_token = on == NULL || strcmp(on, "0") != 0;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "ban") == 0) {
			F.ban = on == NULL || strcmp(on, "0") != 0;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "fail") == 0) {
			const char *n = arg(c, "n"), *st = arg(c, "status");

			F.fail_n = n ? strtol(n, NULL, 10) : 1;
			F.fail_status = st ? (unsigned)strtoul(st, NULL, 10) : 502;
			if (F.fail_status < 500 || F.fail_status > 599)
				F.fail_status = 502;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "drop") == 0) {
			F.drop_call = call_arg(c);
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "hold") == 0) {
			const char *stage = arg(c, "stage");

			F.hold_call = call_arg(c);
			F.hold_after = stage != NULL && strcmp(stage, "after") == 0;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "release") == 0) {
			F.hold_call = 0;
			if (F.held_conn != NULL) {
				MHD_resume_connection(F.held_conn);
				F.held_conn = NULL;
			}
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "ratelimit") == 0) {
			const char *n = arg(c, "n"), *ra = arg(c, "retry_after"), *g = arg(c, "global");

			F.force429_n = n ? strtol(n, NULL, 10) : 1;
			F.force429_after = ra ? strtod(ra, NULL) : 0.5;
			F.force429_global = g != NULL && strcmp(g, "0") != 0;
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "rate") == 0) {
			const char *l = arg(c, "limit"), *p = arg(c, "per");

			if (l != NULL)
				F.limit = (int)strtol(l, NULL, 10);
			if (p != NULL)
				F.per = strtod(p, NULL);
			return resp_json(json_object_new_object());
		}
		if (strcmp(path, "reset") == 0) {
			reset_all();
			return resp_json(json_object_new_object());
		}
	}
	*status = 404;
	return resp_json(jerror("unknown admin path", 0));
}

static void
log_call(struct req *rq)
{
	json_object *o = json_object_new_object();
	char *path = masked_path(rq->url);
	const char *ct = rq->ctype, *ua = rq->ua;

	json_object_object_add(o, "n", json_object_new_int64(rq->n));
	json_object_object_add(o, "method", json_object_new_string(rq->method));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "query", rq->query ? json_object_new_string(rq->query) : NULL);
	json_object_object_add(o, "body", rq->body ? json_object_new_string_len(rq->body, (int)rq->len) : NULL);
	json_object_object_add(o, "content_type", ct ? json_object_new_string(ct) : NULL);
	json_object_object_add(o, "user_agent", ua ? json_object_new_string(ua) : NULL);
	json_object_object_add(o, "status", json_object_new_int((int)rq->status));
	json_object_object_add(o, "dropped", json_object_new_boolean(rq->drop));
	rq->log_index = json_object_array_length(F.log);
	json_object_array_add(F.log, o);
	free(path);
}

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	char **q = cls;
	char *old = *q, *next;
	size_t n;

	(void)kind;
	n = (old ? strlen(old) + 1 : 0) + strlen(key) + (value ? strlen(value) + 1 : 0) + 1;
	next = xmalloc(n);
	snprintf(next, n, "%s%s%s%s%s", old ? old : "", old ? "&" : "", key, value ? "=" : "", value ? value : "");
	free(old);
	*q = next;
	return MHD_YES;
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct req *rq)
{
	enum MHD_Result ret = MHD_queue_response(c, rq->status, rq->resp);

	MHD_destroy_response(rq->resp);
	rq->resp = NULL;
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
	struct req *rq = *req_cls;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		rq = calloc(1, sizeof *rq);
		if (rq == NULL)
			return MHD_NO;
		rq->method = xstrdup(method);
		rq->url = xstrdup(url);
		*req_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (rq->len + *upload_size > MAX_BODY) {
			rq->toobig = 1;
		} else {
			if (rq->len + *upload_size + 1 > rq->cap) {
				rq->cap = (rq->len + *upload_size + 1) * 2;
				rq->body = realloc(rq->body, rq->cap);
				if (rq->body == NULL)
					return MHD_NO;
			}
			memcpy(rq->body + rq->len, upload_data, *upload_size);
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}

	pthread_mutex_lock(&F.mu);
	if (F.shutting_down) {
		pthread_mutex_unlock(&F.mu);
		return MHD_NO;
	}
	if (rq->held) {
		/* Resumed after a release. */
		rq->held = 0;
	} else if (strncmp(url, "/_fake/", 7) == 0) {
		unsigned status;
		struct MHD_Response *r = admin_forum(method, url + 7, rq, &status);

		if (r == NULL)
			r = admin(c, method, url, &status);

		ret = MHD_queue_response(c, status, r);
		MHD_destroy_response(r);
		pthread_mutex_unlock(&F.mu);
		return ret;
	} else {
		rq->n = ++F.calls;
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &rq->query);
		rq->thread = dup_or_null(arg(c, "thread_id"));
		rq->wait = dup_or_null(arg(c, "wait"));
		rq->ctype = dup_or_null(header(c, "Content-Type"));
		rq->ua = dup_or_null(header(c, "User-Agent"));
		rq->auth = dup_or_null(header(c, "Authorization"));
		if (rq->n == F.hold_call && !F.hold_after) {
			rq->held = 1;
			F.held_conn = c;
			F.held_n = rq->n;
			MHD_suspend_connection(c);
			pthread_mutex_unlock(&F.mu);
			return MHD_YES;
		}
	}
	if (!rq->done) {
		webhook_call(rq);
		rq->done = 1;
		rq->drop = rq->n == F.drop_call;
		log_call(rq);
		if (rq->n == F.hold_call && F.hold_after) {
			rq->held = 1;
			F.held_conn = c;
			F.held_n = rq->n;
			MHD_suspend_connection(c);
			pthread_mutex_unlock(&F.mu);
			return MHD_YES;
		}
	}
	if (F.held_n == rq->n)
		F.held_n = 0;
	if (rq->drop) {
		pthread_mutex_unlock(&F.mu);
		return MHD_NO;  /* close the connection: no answer at all */
	}
	ret = queue(c, rq);
	pthread_mutex_unlock(&F.mu);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	/* A call released after its client went away: Discord had the
	 * request, so it is carried out all the same, its answer lost. */
	pthread_mutex_lock(&F.mu);
	if (rq->n != 0 && !rq->done && !F.shutting_down) {
		webhook_call(rq);
		rq->done = 1;
		rq->drop = 1;
		log_call(rq);
	}
	if (F.held_conn == c)
		F.held_conn = NULL;
	pthread_mutex_unlock(&F.mu);
	if (rq->resp != NULL)
		MHD_destroy_response(rq->resp);
	free(rq->method);
	free(rq->url);
	free(rq->query);
	free(rq->thread);
	free(rq->wait);
	free(rq->ctype);
	free(rq->ua);
	free(rq->auth);
	free(rq->body);
	free(rq);
	*req_cls = NULL;
}

static void
usage(void)
{
	fputs("usage: fake_discord --port-file FILE [--webhook ID/TOKEN]... [--rate N/SECONDS]\n"
	    "                    [--name NAME] [--channel ID] [--hook-channel ID/CHANNEL]\n"
	    "                    [--forum ID[,required]]\n"
	    "                    [--bot TOKEN] [--guild ID[:PERMS]]... [--bot-rate N/SECONDS] [--bot-global N]\n",
	    stderr);
	exit(64);
}

static void
add_hook(const char *spec)
{
	const char *slash = strchr(spec, '/');
	struct webhook *w;

	if (slash == NULL || F.nhooks == MAX_WEBHOOKS || (size_t)(slash - spec) >= sizeof w->id ||
	    strlen(slash + 1) >= sizeof w->token || slash == spec || slash[1] == '\0')
		usage();
	w = &F.hooks[F.nhooks++];
	memset(w, 0, sizeof *w);
	memcpy(w->id, spec, (size_t)(slash - spec));
	memcpy(w->token, slash + 1, strlen(slash + 1) + 1);
}

int
main(int argc, char *argv[])
{
	const char *port_file = NULL;
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	sigset_t set;
	FILE *f;
	int i, sig;

	pthread_mutex_init(&F.mu, NULL);
	F.limit = 5;
	F.per = 2.0;
	snprintf(F.name, sizeof F.name, "%s", "Moodle");
	snprintf(F.channel, sizeof F.channel, "%s", "111111111111111111");
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--port-file") == 0) {
			port_file = argv[++i];
		} else if (strcmp(argv[i], "--webhook") == 0) {
			add_hook(argv[++i]);
		} else if (strcmp(argv[i], "--rate") == 0) {
			char *end;

			F.limit = (int)strtol(argv[++i], &end, 10);
			if (*end != '/' || F.limit < 1)
				usage();
			F.per = strtod(end + 1, &end);
			if (*end != '\0' || F.per <= 0)
				usage();
		} else if (strcmp(argv[i], "--name") == 0) {
			snprintf(F.name, sizeof F.name, "%s", argv[++i]);
		} else if (strcmp(argv[i], "--channel") == 0) {
			snprintf(F.channel, sizeof F.channel, "%s", argv[++i]);
		} else if (forum_option(argv[i], argv[i + 1]) == 0) {
			i++;
		} else if (bot_option(argv[i], argv[i + 1])) {
			i++;
		} else {
			usage();
		}
	}
	if (port_file == NULL)
		usage();
	if (F.nhooks == 0)
		add_hook("123456789012345678/fake-token");
	F.channel_msgs = json_object_new_array();
	F.log = json_object_new_array();
	FX.threads = json_object_new_array();
	bot_init();

	/* The signals are taken by sigwait below, in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		fputs("fake_discord: cannot start the server\n", stderr);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	f = fopen(port_file, "w");
	if (info == NULL || f == NULL) {
		fputs("fake_discord: cannot write the port file\n", stderr);
		MHD_stop_daemon(d);
		return 1;
	}
	fprintf(f, "%u\n", (unsigned)info->port);
	fclose(f);

	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	pthread_mutex_lock(&F.mu);
	F.shutting_down = 1;
	if (F.held_conn != NULL) {
		MHD_resume_connection(F.held_conn);
		F.held_conn = NULL;
	}
	pthread_mutex_unlock(&F.mu);
	/* Let a resumed connection be closed before the daemon stops. */
	usleep(50 * 1000);
	MHD_stop_daemon(d);
	json_object_put(F.channel_msgs);
	json_object_put(F.log);
	json_object_put(FX.threads);
	json_object_put(B.events);
	return 0;
}
