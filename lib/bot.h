/* bot: the Discord bot client, for the server's scheduled events.
 *
 * What Discord documents and this module relies on:
 * - Every call carries "Authorization: Bot TOKEN".  The token is a secret:
 *   whoever has it acts as the bot.  It never appears in a message here.
 * - GET /users/@me is the bot's own user; GET /users/@me/guilds lists the
 *   servers it is in, each with "permissions", a decimal string of the
 *   bot's permission bits there (paged: at most 200 a page, ?after=ID).
 * - GET/POST /guilds/G/scheduled-events, PATCH/DELETE
 *   /guilds/G/scheduled-events/E.  Status 1 scheduled, 2 active,
 *   3 completed, 4 cancelled; completed and cancelled are final.  A server
 *   holds at most 100 scheduled or active events (code 30038 beyond).
 * - Creating needs CREATE_EVENTS (1 << 44) for the bot's own events;
 *   MANAGE_EVENTS (1 << 33) allows any event.  A missing one is 403 with
 *   code 50013.  Codes: 10004 unknown guild, 10070 unknown scheduled event.
 * - Rate limits: each answer names its bucket (X-RateLimit-Bucket) and how
 *   many calls it has left (-Remaining) until -Reset-After seconds; one
 *   bucket may serve several routes, and a route's bucket is per guild.
 *   Besides, a bot may make at most 50 calls a second in all.  A 429 says
 *   how long to wait (retry_after, Retry-After) and whether the limit hit
 *   is the global one (X-RateLimit-Global: true, "global": true,
 *   X-RateLimit-Scope: global) or the route's.  401, 403 and 429 answers
 *   count toward a temporary ban of the address: this client waits rather
 *   than collecting 429s.
 * - A create has no idempotency key: a create that may have reached
 *   Discord is never sent again; reads, edits and deletes are retried.
 *
 * One struct bot per run.  Like the webhook client it never waits or
 * retries past the run's deadline. */
#ifndef MC_BOT_H
#define MC_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define BOT_PERM_MANAGE_EVENTS (UINT64_C(1) << 33)
#define BOT_PERM_CREATE_EVENTS (UINT64_C(1) << 44)
#define BOT_EVENTS_MAX 100      /* scheduled or active events per server */

/* Discord codes the caller may act on (bot_last_code). */
enum {
	BOT_CODE_UNKNOWN_GUILD = 10004,
	BOT_CODE_UNKNOWN_EVENT = 10070,
	BOT_CODE_TOO_MANY_EVENTS = 30038,
	BOT_CODE_MISSING_PERMISSIONS = 50013
};

enum bot_status {
	BOT_EVENT_SCHEDULED = 1,
	BOT_EVENT_ACTIVE = 2,
	BOT_EVENT_COMPLETED = 3,
	BOT_EVENT_CANCELLED = 4
};

/* One scheduled event as Discord holds it. */
struct bot_event {
	char id[32];
	char creator_id[32];       /* "" when Discord gave none             */
	int status;                /* enum bot_status                       */
	int entity_type;
	int64_t start, end;        /* Unix seconds; end 0 when none          */
	char *name;                /* owned; bot_events_free                 */
	char *location;            /* NULL for events that are not external  */
};

struct bot;

/* A client for the bot with this token.  api_base: where requests go,
 * NULL = https://discord.com/api/v10 (tests give a loopback http URL;
 * anything else that is not https://discord.com/api/vN is refused).
 * Timeouts in seconds; deadline: absolute Unix time after which no wait or
 * retry starts (<= 0: none).  Returns NULL with e filled (MC_ERR_CONFIG)
 * when the token cannot be a bot token or api_base is not allowed.  The
 * client keeps its own copy of the token; free with bot_free. */
struct bot *bot_new(const char *api_base, const char *token, long connect_timeout,
    long timeout, int64_t deadline, struct err *e);

/* Where the bot's calls go for the webhook at webhook_url: NULL (Discord
 * itself) unless that is a loopback http URL (the tests' fake Discord),
 * whose part before /webhooks/ is then the API base: a new string, caller
 * frees. */
char *bot_api_for(const char *webhook_url);

/* Wipe the token and free b (NULL is fine). */
void bot_free(struct bot *b);

/* The Discord error code of the last answer that was refused (0 = none or
 * not JSON), e.g. BOT_CODE_TOO_MANY_EVENTS after a create. */
int bot_last_code(const struct bot *b);

/* How many 429 answers this client got (tests and check report it). */
long bot_ratelimited(const struct bot *b);

/* The bot's user name and id: new strings, caller frees.  Errors as for
 * every call: MC_ERR_CONFIG (401: token refused, with a hint; 403),
 * MC_ERR_UNAVAILABLE (5xx after retries), MC_ERR_TEMP (network, timeout,
 * ban, 429s without end, deadline), MC_ERR_DATA (an answer not understood). */
enum mc_err bot_me(struct bot *b, char **name, char **id, struct err *e);

/* The bot's permission bits in guild_id and the guild's name (new string,
 * caller frees), from the list of its servers.  MC_ERR_CONFIG with a hint
 * when the bot is not in that server (not invited, or a wrong id). */
enum mc_err bot_guild(struct bot *b, const char *guild_id, uint64_t *perms, char **name,
    struct err *e);

/* Every scheduled event of the guild (any creator, any status Discord
 * still lists) into *out (*n of them; bot_events_free).  MC_ERR_CONFIG on
 * 10004 (unknown guild) and 403. */
enum mc_err bot_events_list(struct bot *b, const char *guild_id, struct bot_event **out,
    size_t *n, struct err *e);

/* Create an event from body (JSON) and put its id in id_out.  Sent again
 * only when the request surely never left (could not connect).  Errors:
 * MC_ERR_CONFIG (401; 403 naming the missing Create Events permission;
 * 10004), MC_ERR_UNAVAILABLE (30038: the server holds 100 events; 5xx),
 * MC_ERR_DATA (400: body refused, e names the field), MC_ERR_TEMP (as
 * above, and a create that may or may not have arrived). */
enum mc_err bot_event_create(struct bot *b, const char *guild_id, const char *body,
    char id_out[32], struct err *e);

/* Change event event_id with body (JSON), retried as reads are.
 * MC_ERR_NOTFOUND when Discord does not know the event (10070: deleted by a
 * person); *status_out (when not NULL) gets the event's status after the
 * edit; other errors as bot_event_create (403 names Manage Events). */
enum mc_err bot_event_edit(struct bot *b, const char *guild_id, const char *event_id,
    const char *body, int *status_out, struct err *e);

/* Delete event event_id.  MC_ERR_NOTFOUND when it was already gone
 * (10070); errors as bot_event_edit. */
enum mc_err bot_event_delete(struct bot *b, const char *guild_id, const char *event_id,
    struct err *e);

/* Free a list from bot_events_list. */
void bot_events_free(struct bot_event *v, size_t n);

/* "Create Events" or "Manage Events" for the permissions the bot lacks to
 * keep its own events, NULL when it has enough. */
const char *bot_missing_permission(uint64_t perms);

/* Parse Discord's ISO 8601 time ("2026-11-30T14:00:00+00:00", with
 * fractions or Z) into Unix seconds; -1 when it is not one. */
int64_t bot_parse_time(const char *s);

#endif
