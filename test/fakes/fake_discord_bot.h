/* fake_discord_bot.h: the bot side of fake_discord (scheduled events).
 * Part of fake_discord.c, included once, after that file's helpers (F,
 * jget, jstr, err_at, check_str, resp_json, arg, header, ...), which it
 * uses as they are.
 *
 * Options (fake_discord's command line):
 *   --bot TOKEN               the bot's token (default fake-bot-token)
 *   --guild ID[:PERMS]        a server the bot is in, with its permission
 *                             bits (decimal; default CREATE_EVENTS
 *                             1<<44 | VIEW_CHANNEL 1<<10); repeatable;
 *                             default 222222222222222222
 *   --bot-rate N/SECONDS      each route bucket (per server) allows N
 *                             calls per SECONDS (default 5/1)
 *   --bot-global N            the global limit: N calls per second (50)
 *
 * Bot API, under /api/v10, "Authorization: Bot TOKEN" on every call (else
 * 401 {"message": "401: Unauthorized", "code": 0}):
 *   GET    /users/@me                      the bot's user
 *   GET    /users/@me/guilds[?limit=&after=]  its servers, with permissions
 *   GET    /guilds/G/scheduled-events      the server's events
 *   POST   /guilds/G/scheduled-events      create (200 + event)
 *   GET    /guilds/G/scheduled-events/E
 *   PATCH  /guilds/G/scheduled-events/E    200 + event
 *   DELETE /guilds/G/scheduled-events/E    204
 * A server the bot is not in: 404 10004.  An unknown event: 404 10070.
 * Bodies are checked against the OpenAPI schemas
 * ExternalScheduledEventCreateRequest / ...PatchRequestPartial (types,
 * required keys, lengths in code points, enums) and Discord's rules: an
 * external event has channel_id null, entity_metadata.location 1-100 and
 * scheduled_end_time after the start; privacy_level 2; no start in the
 * past; an active event's start cannot change; completed and cancelled
 * events cannot change at all; status moves only 1->2, 1->4, 2->3.
 * Failures: 400 50035 with the errors tree.  Creating needs Create Events
 * or Manage Events (or Administrator), changing another's event Manage
 * Events: else 403 50013.  At most 100 scheduled or active events per
 * server: 400 30038.
 *
 * Time: an event becomes active at its start and completed at its end,
 * by the fake's clock, which is the real clock (CLOCK_REALTIME, so
 * libfaketime on the fake moves it too) plus an offset set by
 * /_fake/clock: a test that runs moodlecord under libfaketime at +S
 * seconds sets the offset S, and both agree on what "now" is.
 *
 * Rate limits: every bot answer carries X-RateLimit-Limit, -Remaining,
 * -Reset, -Reset-After and -Bucket (PATCH and DELETE of events share one
 * bucket; each route's bucket is per server).  Over a bucket: 429
 * {"message", "retry_after", "global": false} with Retry-After and
 * X-RateLimit-Scope: user.  Over the global limit: 429 with "global":
 * true, X-RateLimit-Global: true, X-RateLimit-Scope: global and no bucket
 * headers.  Call numbers, the log, holds, drops, /_fake/fail and
 * /_fake/ratelimit apply to bot calls as to webhook calls.
 *
 * Admin API:
 *   GET  /_fake/events                    every event the fake holds, as
 *                                         the API shows it, statuses
 *                                         brought up to date
 *   POST /_fake/event_delete?id=E         a person deletes the event
 *   POST /_fake/event_cancel?id=E         a person cancels it (status 4)
 *   POST /_fake/event_add?n=N[&guild=G][&start=SECONDS_FROM_NOW]
 *                                         a person makes N events
 *   POST /_fake/clock?offset=SECONDS      the fake's clock: real + offset
 *   POST /_fake/bot_perms?perms=N[&guild=G]
 *   POST /_fake/bot_rate?limit=N&per=SECONDS[&global=N]
 * /_fake/reset also empties the events and the buckets and sets the
 * offset back to 0. */

#define BOT_MAX_GUILDS 8
#define BOT_MAX_BUCKETS 64
#define BOT_EVENTS_LIMIT 100
#define PERM_ADMINISTRATOR (UINT64_C(1) << 3)
#define PERM_VIEW_CHANNEL (UINT64_C(1) << 10)
#define PERM_MANAGE_EVENTS (UINT64_C(1) << 33)
#define PERM_CREATE_EVENTS (UINT64_C(1) << 44)
#define BOT_USER_ID "333333333333333333"
#define PERSON_ID "444444444444444444"

struct bot_guild {
	char id[32];
	uint64_t perms;
};

struct bot_bucket {
	char key[160];
	double window_end;   /* monotonic seconds */
	int used;
};

static struct {
	char token[200];
	struct bot_guild guilds[BOT_MAX_GUILDS];
	size_t nguilds;
	int limit;
	double per;
	int global_limit;
	double global_end;
	int global_used;
	struct bot_bucket buckets[BOT_MAX_BUCKETS];
	double offset;           /* the fake's clock: wall() + offset */
	json_object *events;     /* array; each has "guild_id"        */
} B;

static double
bot_now(void)
{
	return wall() + B.offset;
}

static void
bot_init(void)
{
	if (B.token[0] == '\0')
		snprintf(B.token, sizeof B.token, "%s", "fake-bot-token");
	if (B.nguilds == 0) {
		snprintf(B.guilds[0].id, sizeof B.guilds[0].id, "%s", "222222222222222222");
		B.guilds[0].perms = PERM_CREATE_EVENTS | PERM_VIEW_CHANNEL;
		B.nguilds = 1;
	}
	if (B.limit == 0) {
		B.limit = 5;
		B.per = 1.0;
	}
	if (B.global_limit == 0)
		B.global_limit = 50;
	B.events = json_object_new_array();
}

/* A bot option of the command line: 1 when opt is one (it takes val). */
static int
bot_option(const char *opt, const char *val)
{
	char *end;

	if (strcmp(opt, "--bot") == 0) {
		snprintf(B.token, sizeof B.token, "%s", val);
	} else if (strcmp(opt, "--guild") == 0) {
		const char *colon = strchr(val, ':');
		struct bot_guild *g;

		if (B.nguilds == BOT_MAX_GUILDS)
			return 0;
		g = &B.guilds[B.nguilds++];
		snprintf(g->id, sizeof g->id, "%.*s", colon ? (int)(colon - val) : (int)strlen(val), val);
		g->perms = colon ? strtoull(colon + 1, NULL, 10) : PERM_CREATE_EVENTS | PERM_VIEW_CHANNEL;
	} else if (strcmp(opt, "--bot-rate") == 0) {
		B.limit = (int)strtol(val, &end, 10);
		if (*end != '/' || B.limit < 1)
			return 0;
		B.per = strtod(end + 1, &end);
		if (*end != '\0' || B.per <= 0)
			return 0;
	} else if (strcmp(opt, "--bot-global") == 0) {
		B.global_limit = (int)strtol(val, &end, 10);
		if (*end != '\0' || B.global_limit < 1)
			return 0;
	} else {
		return 0;
	}
	return 1;
}

static struct bot_guild *
bot_guild_find(const char *id)
{
	size_t i;

	for (i = 0; i < B.nguilds; i++)
		if (strcmp(B.guilds[i].id, id) == 0)
			return &B.guilds[i];
	return NULL;
}

/* --- time --- */

static double
iso_parse(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se, n = 0, oh = 0, om = 0, sign = 1;
	double frac = 0;

	if (s == NULL || !iso8601_ok(s) ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		double scale = 0.1;

		for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		sscanf(s + 1, "%2d:%2d", &oh, &om);
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (double)timegm(&tm) + frac - sign * (oh * 3600 + om * 60);
}

static json_object *
iso_of(double t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char out[40];

	gmtime_r(&tt, &tm);
	strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	return json_object_new_string(out);
}

static int
ev_status(json_object *ev)
{
	return json_object_get_int(jget(ev, "status"));
}

/* External events start and complete by themselves at their times. */
static void
bot_tick(void)
{
	double now = bot_now();
	size_t i, n = json_object_array_length(B.events);

	for (i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(B.events, i);
		int st = ev_status(ev);
		double start = iso_parse(jstr(ev, "scheduled_start_time"));
		double end = iso_parse(jstr(ev, "scheduled_end_time"));

		if (st == 1 && now >= start)
			st = 2;
		if (st == 2 && end >= 0 && now >= end)
			st = 3;
		json_object_object_add(ev, "status", json_object_new_int(st));
	}
}

static size_t
bot_uncompleted(const char *guild)
{
	size_t i, n = json_object_array_length(B.events), k = 0;

	for (i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(B.events, i);

		if (strcmp(jstr(ev, "guild_id"), guild) == 0 && ev_status(ev) <= 2)
			k++;
	}
	return k;
}

static json_object *
bot_event_find(const char *guild, const char *id, size_t *idx)
{
	size_t i, n = json_object_array_length(B.events);

	for (i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(B.events, i);

		if (strcmp(jstr(ev, "id"), id) == 0 && (guild == NULL || strcmp(jstr(ev, "guild_id"), guild) == 0)) {
			if (idx != NULL)
				*idx = i;
			return ev;
		}
	}
	return NULL;
}

/* --- rate limits --- */

static struct bot_bucket *
bot_bucket(const char *key, double now)
{
	struct bot_bucket *slot = NULL;
	size_t i;

	for (i = 0; i < BOT_MAX_BUCKETS; i++) {
		if (strcmp(B.buckets[i].key, key) == 0) {
			slot = &B.buckets[i];
			break;
		}
		if (slot == NULL && B.buckets[i].key[0] == '\0')
			slot = &B.buckets[i];
	}
	if (slot == NULL)
		slot = &B.buckets[0];
	if (strcmp(slot->key, key) != 0) {
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->window_end = 0;
		slot->used = 0;
	}
	if (now >= slot->window_end) {
		slot->window_end = now + B.per;
		slot->used = 0;
	}
	return slot;
}

static void
bot_rl_headers(struct MHD_Response *r, const struct bot_bucket *k, const char *hash, double now)
{
	char v[64];
	double after = k->window_end - now;
	int remaining = B.limit - k->used;

	if (after < 0)
		after = 0;
	after = ceil(after * 1000.0) / 1000.0;
	snprintf(v, sizeof v, "%d", B.limit);
	MHD_add_response_header(r, "X-RateLimit-Limit", v);
	snprintf(v, sizeof v, "%d", remaining < 0 ? 0 : remaining);
	MHD_add_response_header(r, "X-RateLimit-Remaining", v);
	snprintf(v, sizeof v, "%.3f", wall() + after);
	MHD_add_response_header(r, "X-RateLimit-Reset", v);
	snprintf(v, sizeof v, "%.3f", after);
	MHD_add_response_header(r, "X-RateLimit-Reset-After", v);
	MHD_add_response_header(r, "X-RateLimit-Bucket", hash);
}

static struct MHD_Response *
bot_429(double after, int global)
{
	json_object *o = json_object_new_object();
	struct MHD_Response *r;
	char v[32];

	after = ceil(after * 1000.0) / 1000.0;
	json_object_object_add(o, "message", json_object_new_string("You are being rate limited."));
	json_object_object_add(o, "retry_after", json_object_new_double(after));
	json_object_object_add(o, "global", json_object_new_boolean(global));
	r = resp_json(o);
	snprintf(v, sizeof v, "%.0f", ceil(after));
	MHD_add_response_header(r, "Retry-After", v);
	MHD_add_response_header(r, "X-RateLimit-Scope", global ? "global" : "user");
	if (global)
		MHD_add_response_header(r, "X-RateLimit-Global", "true");
	F.ratelimited++;
	return r;
}

/* --- bodies --- */

static void
check_enum(json_object *errors, json_object *o, const char *key, const int *allowed, size_t n,
    int nullable)
{
	json_object *v = jget(o, key);
	const char *p[1] = { key };
	size_t i;

	if (v == NULL || (nullable && json_object_is_type(v, json_type_null)))
		return;
	if (!json_object_is_type(v, json_type_int)) {
		err_at(errors, p, 1, "NUMBER_TYPE_COERCE", "Value is not int.");
		return;
	}
	for (i = 0; i < n; i++)
		if (json_object_get_int64(v) == allowed[i])
			return;
	err_at(errors, p, 1, "ENUM_TYPE_COERCE", "Value is not a valid enum value.");
}

static double
check_time(json_object *errors, json_object *o, const char *key, int nullable)
{
	json_object *v = jget(o, key);
	const char *p[1] = { key };

	if (v == NULL || (nullable && json_object_is_type(v, json_type_null)))
		return -2;  /* absent */
	if (!json_object_is_type(v, json_type_string) || !iso8601_ok(json_object_get_string(v))) {
		err_at(errors, p, 1, "DATE_TYPE_PARSE", "Could not parse value. Should be ISO8601.");
		return -3;
	}
	return iso_parse(json_object_get_string(v));
}

/* The schema checks shared by create and patch: types, lengths, enums. */
static void
bot_check_fields(json_object *errors, json_object *body)
{
	static const int privacy[] = { 2 }, types[] = { 3 }, statuses[] = { 1, 2, 3, 4 };
	const char *p[2] = { "entity_metadata", "location" };
	json_object *v;

	p[0] = "name";
	if (check_str(errors, body, "name", p, 1, 100, 0) == 0 && json_object_is_type(jget(body, "name"),
	    json_type_string))
		err_at(errors, p, 1, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
	p[0] = "description";
	check_str(errors, body, "description", p, 1, 1000, 0);
	p[0] = "image";
	if ((v = jget(body, "image")) != NULL && !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_string))
		err_at(errors, p, 1, "BASE_TYPE_STRING", "Could not interpret value as string.");
	check_enum(errors, body, "privacy_level", privacy, 1, 0);
	check_enum(errors, body, "entity_type", types, 1, 1);
	check_enum(errors, body, "status", statuses, 4, 1);
	p[0] = "channel_id";
	if ((v = jget(body, "channel_id")) != NULL && !json_object_is_type(v, json_type_null))
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_CHANNEL_ID_INVALID",
		    "channel_id must be null for an external event.");
	p[0] = "recurrence_rule";
	if ((v = jget(body, "recurrence_rule")) != NULL && !json_object_is_type(v, json_type_null) &&
	    !json_object_is_type(v, json_type_object))
		err_at(errors, p, 1, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
	if ((v = jget(body, "entity_metadata")) != NULL) {
		p[0] = "entity_metadata";
		if (!json_object_is_type(v, json_type_object))
			err_at(errors, p, 1, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
		else if (jget(v, "location") == NULL)
			err_at(errors, p, 2, "BASE_TYPE_REQUIRED", "This field is required");
		else if (check_str(errors, v, "location", p, 2, 100, 0) == 0 &&
		    json_object_is_type(jget(v, "location"), json_type_string))
			err_at(errors, p, 2, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
	}
}

/* The rules on the times of the event as it would be after the call. */
static void
bot_check_times(json_object *errors, double start, double end, int start_changed, int was_active,
    double now)
{
	const char *p[1] = { "scheduled_start_time" };

	if (start_changed && was_active) {
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_ACTIVE_START_TIME",
		    "Cannot change the start time of an active event.");
		return;
	}
	if (start_changed && start < now)
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past.");
	p[0] = "scheduled_end_time";
	if (end < 0)
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_END_TIME_REQUIRED",
		    "An end time is required for an external event.");
	else if (end <= start)
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
		    "The end time must be after the start time.");
}

static int
has_errors(json_object *errors)
{
	return json_object_object_length(errors) > 0;
}

/* Read rq's body as a JSON object: NULL with rq answered when it is not. */
static json_object *
bot_body(struct req *rq)
{
	struct json_tokener *tok;
	json_object *body;

	if (rq->ctype == NULL || strncasecmp(rq->ctype, "application/json", 16) != 0) {
		json_object *errors = json_object_new_object();

		err_at(errors, NULL, 0, "CONTENT_TYPE_INVALID", "Expected \"Content-Type\" header to be "
		    "one of {'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'}.");
		rq->status = 400;
		rq->resp = resp_json(bad_request("Invalid Form Body", 50035, errors));
		return NULL;
	}
	tok = json_tokener_new();
	body = rq->len > 0 ? json_tokener_parse_ex(tok, rq->body, (int)rq->len) : NULL;
	if (body == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != rq->len ||
	    !utf8_ok((const unsigned char *)rq->body, rq->len) || !json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		body = NULL;
		rq->status = 400;
		rq->resp = resp_json(jerror("The request body contains invalid JSON.", 50109));
	}
	json_tokener_free(tok);
	return body;
}

static int
may(const struct bot_guild *g, uint64_t perm)
{
	return (g->perms & (PERM_ADMINISTRATOR | perm)) != 0;
}

static void
answer_400(struct req *rq, json_object *errors)
{
	rq->status = 400;
	rq->resp = resp_json(bad_request("Invalid Form Body", 50035, errors));
}

/* POST /guilds/G/scheduled-events */
static void
bot_create(struct req *rq, const struct bot_guild *g)
{
	json_object *body, *errors, *ev, *meta, *v;
	double start, end, now = bot_now();
	const char *req_keys[] = { "name", "scheduled_start_time", "privacy_level", "entity_type",
	    "entity_metadata" };
	char id[32];
	size_t i;

	if (!may(g, PERM_CREATE_EVENTS | PERM_MANAGE_EVENTS)) {
		rq->status = 403;
		rq->resp = resp_json(jerror("Missing Permissions", 50013));
		return;
	}
	body = bot_body(rq);
	if (body == NULL)
		return;
	errors = json_object_new_object();
	for (i = 0; i < sizeof req_keys / sizeof req_keys[0]; i++) {
		const char *p[1] = { req_keys[i] };

		if (jget(body, req_keys[i]) == NULL)
			err_at(errors, p, 1, "BASE_TYPE_REQUIRED", "This field is required");
	}
	bot_check_fields(errors, body);
	start = check_time(errors, body, "scheduled_start_time", 0);
	end = check_time(errors, body, "scheduled_end_time", 1);
	if (start >= 0 && end != -3)
		bot_check_times(errors, start, end == -2 ? -1 : end, 1, 0, now);
	if (has_errors(errors)) {
		answer_400(rq, errors);
		json_object_put(body);
		return;
	}
	json_object_put(errors);
	if (bot_uncompleted(g->id) >= BOT_EVENTS_LIMIT) {
		rq->status = 400;
		rq->resp = resp_json(jerror("Maximum number of uncompleted guild scheduled events reached (100)",
		    30038));
		json_object_put(body);
		return;
	}
	new_id(id);
	ev = json_object_new_object();
	json_object_object_add(ev, "id", json_object_new_string(id));
	json_object_object_add(ev, "guild_id", json_object_new_string(g->id));
	json_object_object_add(ev, "name", json_object_new_string(jstr(body, "name")));
	v = jget(body, "description");
	json_object_object_add(ev, "description", v ? copy_of(v) : NULL);
	json_object_object_add(ev, "channel_id", NULL);
	json_object_object_add(ev, "creator_id", json_object_new_string(BOT_USER_ID));
	json_object_object_add(ev, "image", NULL);
	json_object_object_add(ev, "scheduled_start_time", iso_of(start));
	json_object_object_add(ev, "scheduled_end_time", iso_of(end));
	json_object_object_add(ev, "status", json_object_new_int(1));
	json_object_object_add(ev, "entity_type", json_object_new_int(3));
	json_object_object_add(ev, "entity_id", NULL);
	json_object_object_add(ev, "recurrence_rule", NULL);
	json_object_object_add(ev, "user_count", json_object_new_int(0));
	json_object_object_add(ev, "privacy_level", json_object_new_int(2));
	json_object_object_add(ev, "guild_scheduled_event_exceptions", json_object_new_array());
	meta = json_object_new_object();
	json_object_object_add(meta, "location", json_object_new_string(jstr(jget(body, "entity_metadata"),
	    "location")));
	json_object_object_add(ev, "entity_metadata", meta);
	json_object_array_add(B.events, ev);
	rq->status = 200;
	rq->resp = resp_json(copy_of(ev));
	json_object_put(body);
}

static int
status_move_ok(int from, int to)
{
	return from == to || (from == 1 && (to == 2 || to == 4)) || (from == 2 && to == 3);
}

/* PATCH /guilds/G/scheduled-events/E */
static void
bot_patch(struct req *rq, const struct bot_guild *g, json_object *ev)
{
	json_object *body, *errors, *v;
	double start, end, now = bot_now(), old_start;
	int st = ev_status(ev), to;
	const char *p[1] = { "status" };

	if (!may(g, strcmp(jstr(ev, "creator_id"), BOT_USER_ID) == 0 ?
	    PERM_CREATE_EVENTS | PERM_MANAGE_EVENTS : PERM_MANAGE_EVENTS)) {
		rq->status = 403;
		rq->resp = resp_json(jerror("Missing Permissions", 50013));
		return;
	}
	body = bot_body(rq);
	if (body == NULL)
		return;
	errors = json_object_new_object();
	bot_check_fields(errors, body);
	old_start = iso_parse(jstr(ev, "scheduled_start_time"));
	start = check_time(errors, body, "scheduled_start_time", 0);
	end = check_time(errors, body, "scheduled_end_time", 1);
	if (st >= 3) {
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_STATUS_FINAL",
		    "Cannot update a completed or cancelled event.");
	} else if (start != -3 && end != -3) {
		if (start == -2)
			start = old_start;
		if (end == -2)
			end = jget(body, "scheduled_end_time") != NULL ? -1 :
			    iso_parse(jstr(ev, "scheduled_end_time"));
		bot_check_times(errors, start, end, fabs(start - old_start) >= 0.001, st == 2, now);
	}
	to = (v = jget(body, "status")) != NULL && json_object_is_type(v, json_type_int) ?
	    json_object_get_int(v) : st;
	if (st < 3 && !status_move_ok(st, to))
		err_at(errors, p, 1, "GUILD_SCHEDULED_EVENT_STATUS_TRANSITION", "Invalid status transition.");
	if (has_errors(errors)) {
		answer_400(rq, errors);
		json_object_put(body);
		return;
	}
	json_object_put(errors);
	if ((v = jget(body, "name")) != NULL)
		json_object_object_add(ev, "name", copy_of(v));
	if ((v = jget(body, "description")) != NULL)
		json_object_object_add(ev, "description", copy_of(v));
	if ((v = jget(body, "entity_metadata")) != NULL)
		json_object_object_add(ev, "entity_metadata", copy_of(v));
	json_object_object_add(ev, "scheduled_start_time", iso_of(start));
	json_object_object_add(ev, "scheduled_end_time", iso_of(end));
	json_object_object_add(ev, "status", json_object_new_int(to));
	rq->status = 200;
	rq->resp = resp_json(copy_of(ev));
	json_object_put(body);
}

static json_object *
bot_user(void)
{
	json_object *u = json_object_new_object();

	json_object_object_add(u, "id", json_object_new_string(BOT_USER_ID));
	json_object_object_add(u, "username", json_object_new_string("Moodle Events"));
	json_object_object_add(u, "avatar", NULL);
	json_object_object_add(u, "discriminator", json_object_new_string("0000"));
	json_object_object_add(u, "public_flags", json_object_new_int(0));
	json_object_object_add(u, "flags", json_object_new_int(0));
	json_object_object_add(u, "bot", json_object_new_boolean(1));
	json_object_object_add(u, "global_name", NULL);
	json_object_object_add(u, "mfa_enabled", json_object_new_boolean(0));
	json_object_object_add(u, "locale", json_object_new_string("en-US"));
	return u;
}

static json_object *
bot_guilds(const char *after, const char *limit)
{
	json_object *a = json_object_new_array();
	long max = limit ? strtol(limit, NULL, 10) : 200;
	size_t i;

	if (max < 1 || max > 200)
		max = 200;
	for (i = 0; i < B.nguilds && (long)json_object_array_length(a) < max; i++) {
		json_object *g;
		char perms[32];

		if (after != NULL && strtoull(B.guilds[i].id, NULL, 10) <= strtoull(after, NULL, 10))
			continue;
		g = json_object_new_object();
		json_object_object_add(g, "id", json_object_new_string(B.guilds[i].id));
		json_object_object_add(g, "name", json_object_new_string("Fake Server"));
		json_object_object_add(g, "icon", NULL);
		json_object_object_add(g, "banner", NULL);
		json_object_object_add(g, "owner", json_object_new_boolean(0));
		snprintf(perms, sizeof perms, "%" PRIu64, B.guilds[i].perms);
		json_object_object_add(g, "permissions", json_object_new_string(perms));
		json_object_object_add(g, "features", json_object_new_array());
		json_object_array_add(a, g);
	}
	return a;
}

/* The route of a bot URL: its bucket name, the guild (major parameter)
 * and event id; 0 when url is no bot route. */
struct bot_route {
	char guild[32];
	char event[32];
	const char *bucket;   /* a constant per route template */
};

static int
bot_parse(const char *url, const char *method, struct bot_route *r)
{
	const char *p;
	int n = 0;

	memset(r, 0, sizeof *r);
	if (strcmp(url, "/api/v10/users/@me") == 0) {
		r->bucket = "b0e1a5c3d2f40001";
		return 1;
	}
	if (strcmp(url, "/api/v10/users/@me/guilds") == 0) {
		r->bucket = "b0e1a5c3d2f40002";
		return 1;
	}
	if (strncmp(url, "/api/v10/guilds/", 16) != 0)
		return 0;
	p = url + 16;
	if (sscanf(p, "%31[0-9]/scheduled-events%n", r->guild, &n) != 1 || n == 0)
		return 0;
	p += n;
	if (*p == '\0') {
		r->bucket = strcmp(method, "POST") == 0 ? "b0e1a5c3d2f40004" : "b0e1a5c3d2f40003";
		return 1;
	}
	n = 0;
	if (sscanf(p, "/%31[0-9]%n", r->event, &n) != 1 || p[n] != '\0')
		return 0;
	r->bucket = strcmp(method, "GET") == 0 ? "b0e1a5c3d2f40005" : "b0e1a5c3d2f40006";
	return 1;
}

/* The value of key in a query "a=1&b=2" into out; NULL when absent. */
static const char *
query_get(const char *q, const char *key, char *out, size_t size)
{
	size_t k = strlen(key);

	while (q != NULL && *q != '\0') {
		size_t len = strcspn(q, "&");

		if (len > k && strncmp(q, key, k) == 0 && q[k] == '=') {
			snprintf(out, size, "%.*s", (int)(len - k - 1), q + k + 1);
			return out;
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return NULL;
}

static int
bot_is_route(const char *url)
{
	return strncmp(url, "/api/v10/users/@me", 18) == 0 || strncmp(url, "/api/v10/guilds/", 16) == 0;
}

/* Carry out what the route asks; the caller adds the headers. */
static void
bot_dispatch(struct req *rq, struct bot_route *r)
{
	struct bot_guild *g;
	json_object *ev;
	size_t idx;
	int is = 0;

	if (r->guild[0] == '\0') {
		if (strcmp(rq->method, "GET") != 0) {
			rq->status = 405;
			rq->resp = resp_json(jerror("405: Method Not Allowed", 0));
		} else if (strcmp(r->bucket, "b0e1a5c3d2f40001") == 0) {
			rq->status = 200;
			rq->resp = resp_json(bot_user());
		} else {
			rq->status = 200;
			char after[32], limit[16];

			rq->resp = resp_json(bot_guilds(query_get(rq->query, "after", after, sizeof after),
			    query_get(rq->query, "limit", limit, sizeof limit)));
		}
		return;
	}
	g = bot_guild_find(r->guild);
	if (g == NULL) {
		rq->status = 404;
		rq->resp = resp_json(jerror("Unknown Guild", 10004));
		return;
	}
	bot_tick();
	if (r->event[0] == '\0') {
		if (strcmp(rq->method, "GET") == 0) {
			size_t i, n = json_object_array_length(B.events);
			json_object *a = json_object_new_array();

			for (i = 0; i < n; i++) {
				ev = json_object_array_get_idx(B.events, i);
				if (strcmp(jstr(ev, "guild_id"), g->id) == 0)
					json_object_array_add(a, copy_of(ev));
			}
			rq->status = 200;
			rq->resp = resp_json(a);
		} else if (strcmp(rq->method, "POST") == 0) {
			bot_create(rq, g);
		} else {
			is = 1;
		}
	} else if ((ev = bot_event_find(g->id, r->event, &idx)) == NULL) {
		rq->status = 404;
		rq->resp = resp_json(jerror("Unknown Guild Scheduled Event", 10070));
	} else if (strcmp(rq->method, "GET") == 0) {
		rq->status = 200;
		rq->resp = resp_json(copy_of(ev));
	} else if (strcmp(rq->method, "PATCH") == 0) {
		bot_patch(rq, g, ev);
	} else if (strcmp(rq->method, "DELETE") == 0) {
		if (!may(g, strcmp(jstr(ev, "creator_id"), BOT_USER_ID) == 0 ?
		    PERM_CREATE_EVENTS | PERM_MANAGE_EVENTS : PERM_MANAGE_EVENTS)) {
			rq->status = 403;
			rq->resp = resp_json(jerror("Missing Permissions", 50013));
		} else {
			json_object_array_del_idx(B.events, idx, 1);
			rq->status = 204;
			rq->resp = resp_new("", 0, NULL);
		}
	} else {
		is = 1;
	}
	if (is) {
		rq->status = 405;
		rq->resp = resp_json(jerror("405: Method Not Allowed", 0));
	}
}

/* One bot call: auth, limits, faults, then the route. */
static void
bot_call(struct req *rq)
{
	struct bot_route r;
	struct bot_bucket *k;
	char key[160];
	double now = mono();
	size_t tl = strlen(B.token);

	if (!bot_parse(rq->url, rq->method, &r)) {
		rq->status = 404;
		rq->resp = resp_json(jerror("404: Not Found", 0));
		return;
	}
	if (rq->auth == NULL || strncmp(rq->auth, "Bot ", 4) != 0 || strlen(rq->auth + 4) != tl ||
	    memcmp(rq->auth + 4, B.token, tl) != 0) {
		rq->status = 401;
		rq->resp = resp_json(jerror("401: Unauthorized", 0));
		return;
	}
	/* The global limit first: its 429 has no bucket headers. */
	if (now >= B.global_end) {
		B.global_end = now + 1.0;
		B.global_used = 0;
	}
	if (B.global_used >= B.global_limit || (F.force429_n > 0 && F.force429_global)) {
		double after = F.force429_n > 0 ? F.force429_after : B.global_end - now;

		if (F.force429_n > 0)
			F.force429_n--;
		rq->status = 429;
		rq->resp = bot_429(after, 1);
		return;
	}
	B.global_used++;
	snprintf(key, sizeof key, "%s|%s", r.bucket, r.guild);
	k = bot_bucket(key, now);
	if (k->used >= B.limit || F.force429_n > 0) {
		double after = F.force429_n > 0 ? F.force429_after : k->window_end - now;

		if (F.force429_n > 0)
			F.force429_n--;
		rq->status = 429;
		rq->resp = bot_429(after, 0);
		bot_rl_headers(rq->resp, k, r.bucket, now);
		return;
	}
	k->used++;
	if (F.fail_n > 0) {
		F.fail_n--;
		rq->status = F.fail_status;
		rq->resp = resp_json(jerror("500: Internal Server Error", 0));
		return;
	}
	bot_dispatch(rq, &r);
	bot_rl_headers(rq->resp, k, r.bucket, now);
}

/* --- admin --- */

static void
bot_reset(void)
{
	json_object_put(B.events);
	B.events = json_object_new_array();
	memset(B.buckets, 0, sizeof B.buckets);
	B.global_end = 0;
	B.global_used = 0;
	B.offset = 0;
}

static json_object *
ok_obj(void)
{
	return json_object_new_object();
}

/* A person makes n events in guild g, starting `in` seconds from now. */
static void
bot_add_events(const char *guild, long n, double in)
{
	long i;

	for (i = 0; i < n; i++) {
		json_object *ev = json_object_new_object(), *meta = json_object_new_object();
		char id[32], name[64];

		new_id(id);
		snprintf(name, sizeof name, "Someone's event %ld", i + 1);
		json_object_object_add(ev, "id", json_object_new_string(id));
		json_object_object_add(ev, "guild_id", json_object_new_string(guild));
		json_object_object_add(ev, "name", json_object_new_string(name));
		json_object_object_add(ev, "description", NULL);
		json_object_object_add(ev, "channel_id", NULL);
		json_object_object_add(ev, "creator_id", json_object_new_string(PERSON_ID));
		json_object_object_add(ev, "image", NULL);
		json_object_object_add(ev, "scheduled_start_time", iso_of(bot_now() + in));
		json_object_object_add(ev, "scheduled_end_time", iso_of(bot_now() + in + 3600));
		json_object_object_add(ev, "status", json_object_new_int(1));
		json_object_object_add(ev, "entity_type", json_object_new_int(3));
		json_object_object_add(ev, "entity_id", NULL);
		json_object_object_add(ev, "recurrence_rule", NULL);
		json_object_object_add(ev, "user_count", json_object_new_int(0));
		json_object_object_add(ev, "privacy_level", json_object_new_int(2));
		json_object_object_add(ev, "guild_scheduled_event_exceptions", json_object_new_array());
		json_object_object_add(meta, "location", json_object_new_string("The library"));
		json_object_object_add(ev, "entity_metadata", meta);
		json_object_array_add(B.events, ev);
	}
}

/* The bot's admin paths; NULL when path is none of them. */
static struct MHD_Response *
bot_admin(struct MHD_Connection *c, const char *method, const char *path, unsigned *status)
{
	const char *id = arg(c, "id"), *guild = arg(c, "guild");
	json_object *ev;
	size_t idx;

	*status = 200;
	if (strcmp(method, "GET") == 0 && strcmp(path, "events") == 0) {
		bot_tick();
		return resp_json(copy_of(B.events));
	}
	if (strcmp(method, "POST") != 0)
		return NULL;
	if (strcmp(path, "event_delete") == 0 || strcmp(path, "event_cancel") == 0) {
		bot_tick();
		ev = id ? bot_event_find(NULL, id, &idx) : NULL;
		if (ev == NULL) {
			*status = 404;
			return resp_json(jerror("no such event", 0));
		}
		if (path[6] == 'd')
			json_object_array_del_idx(B.events, idx, 1);
		else
			json_object_object_add(ev, "status", json_object_new_int(4));
		return resp_json(ok_obj());
	}
	if (strcmp(path, "event_add") == 0) {
		const char *n = arg(c, "n"), *start = arg(c, "start");

		bot_add_events(guild ? guild : B.guilds[0].id, n ? strtol(n, NULL, 10) : 1,
		    start ? strtod(start, NULL) : 86400);
		return resp_json(ok_obj());
	}
	if (strcmp(path, "clock") == 0) {
		const char *off = arg(c, "offset");

		B.offset = off ? strtod(off, NULL) : 0;
		return resp_json(ok_obj());
	}
	if (strcmp(path, "bot_perms") == 0) {
		struct bot_guild *g = bot_guild_find(guild ? guild : B.guilds[0].id);
		const char *perms = arg(c, "perms");

		if (g == NULL || perms == NULL) {
			*status = 404;
			return resp_json(jerror("no such guild", 0));
		}
		g->perms = strtoull(perms, NULL, 10);
		return resp_json(ok_obj());
	}
	if (strcmp(path, "bot_rate") == 0) {
		const char *l = arg(c, "limit"), *p = arg(c, "per"), *gl = arg(c, "global");

		if (l != NULL)
			B.limit = (int)strtol(l, NULL, 10);
		if (p != NULL)
			B.per = strtod(p, NULL);
		if (gl != NULL)
			B.global_limit = (int)strtol(gl, NULL, 10);
		return resp_json(ok_obj());
	}
	return NULL;
}
