/* config: the INI file, environment overrides and secrets. */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <stdint.h>

#include "remind.h"
#include "route.h"
#include "secret.h"
#include "util.h"

/* Where the conferences of one route go, with what they look like: the
 * keys of [discord], for [discord] itself or for a [route NAME] (a key the
 * route does not set is [discord]'s). */
struct route_config {
	char *name;              /* NULL: [discord] itself                    */
	struct route_courses courses; /* the courses it takes; none for [discord] */
	char *webhook_url;       /* secret; NULL: none (only [discord])       */
	char *role_id;           /* NULL = no mention                         */
	struct remind_offsets ping; /* reminders, minutes before the start    */
	char *thread_id;         /* NULL = the channel itself                 */
	char *username;          /* NULL = the webhook's own name             */
	int silent;              /* conference posts without notifications    */
	int forum;               /* a forum channel: a post per conference    */
	char **tags;             /* forum tag ids for new posts               */
	size_t ntags;
	/* Scheduled events: the conferences of every route (and [discord])
	 * naming one server are kept as that server's events, through one bot
	 * per server (config_read_secrets refuses two bot tokens for one
	 * server, and two events_max for one server). */
	int events;              /* this route's conferences get events       */
	char *bot_token;         /* secret; NULL = none (events then 0)       */
	char *guild_id;          /* the server of its events; NULL = none     */
	int64_t events_max;      /* per server: the nearest N of its routes'  */
};

struct config {
	char *file;              /* the file read, NULL when none was found   */

	/* [moodle] */
	char *moodle_url;        /* site root, no trailing slash              */
	char *username;
	char *password;          /* secret, from password/_file/_command      */
	char *token;             /* secret, from token/token_file             */
	char *token_file;        /* where `login` keeps the token: [moodle]
	                            token_file, else the config file's name
	                            with ".token" added; NULL with neither    */
	int64_t token_time;      /* when token_file was written (the token
	                            got), 0 when unknown                      */
	char **modules;          /* default {"bigbluebuttonbn"}               */
	size_t nmodules;
	int64_t lookahead_days;  /* default 30                                */
	char **courses;          /* ids or short names; empty = all           */
	size_t ncourses;

	/* [discord] */
	char *webhook_url;       /* secret                                    */
	char *role_id;           /* NULL = no mention                         */
	int64_t ping_minutes;    /* the smallest of ping (default 5)          */
	struct remind_offsets ping; /* every reminder, default {5}            */
	char *thread_id;         /* NULL = channel itself                     */
	char *discord_username;  /* NULL = webhook's own name                 */
	int silent;              /* default no                                */
	int forum;               /* default no                                */
	char **tags;             /* forum tag ids, at most 5                  */
	size_t ntags;

	/* [route NAME] sections in file order, [discord]'s keys filled in
	 * where a route sets none; each owns its strings. */
	struct route_config *routes;
	size_t nroutes;
	const struct route_courses **route_courses; /* routes[i].courses, for route_pick */
	char *bot_token;         /* secret, from bot_token/bot_token_file     */
	char *guild_id;          /* the server of the scheduled events        */
	int64_t events;          /* 1 = keep scheduled events (default: 1 with
	                            a bot token), 0 = not                     */
	int64_t events_max;      /* 1-100, default 50                         */

	/* [schedule] */
	int64_t meeting_minutes; /* default 90                                */

	/* [state] */
	char *state_path;        /* default $XDG_STATE_HOME/moodlecord/state.mdb */

	/* [http]: limits, settable for tests */
	int64_t connect_timeout; /* seconds, default 10                       */
	int64_t timeout;         /* seconds for a whole request, default 30   */
	int64_t deadline;        /* seconds for a whole run, default 1200     */

	struct secrets secrets;  /* every secret value, for secrets_redact()  */

	struct config_loader *pending; /* between config_open and
	                             config_read_secrets: where each value
	                             came from (private to config*.c)         */
};

/* What a verb needs from the config file. */
enum config_need {
	CONFIG_NEED_MOODLE  = 1 << 0, /* url and credentials               */
	CONFIG_NEED_DISCORD = 1 << 1, /* webhook_url; guild_id with a bot  */
	CONFIG_NEED_STATE   = 1 << 2, /* nothing required beyond defaults  */
	CONFIG_LATER_PASSWORD = 1 << 3 /* with NEED_MOODLE: the password is
	                                  read by config_read_password, when
	                                  a sign-in needs it, not before     */
};

/* With NEED_MOODLE, a config that names no password and no token uses the
 * token file (token_file above) when it exists: the one `moodlecord
 * login` wrote.  A username may stand beside a token: `login` uses it,
 * the other verbs the token. */

/* Open the config: the file named by `path` (from -c) or else the first
 * of $MOODLECORD_CONFIG, $XDG_CONFIG_HOME/moodlecord/config,
 * ~/.config/moodlecord/config; then MOODLECORD_<SECTION>_<KEY> overrides;
 * then defaults; then every value given is checked (whatever `need` says:
 * a webhook_url given inline is checked as the Discord client reads it),
 * and the keys `need` requires must be there.  Reads no secret file and
 * runs no password_command: config_read_secrets does, after the caller
 * took its lock.  Inline secrets (and a webhook URL's token alone) are in
 * cfg->secrets.  On failure returns MC_ERR_CONFIG (or MC_ERR_IO) with e
 * naming file, line and key and what would be right; cfg is then freed.
 * On success the caller frees cfg with config_free. */
enum mc_err config_open(struct config *cfg, const char *path, unsigned need, struct err *e);

/* Read the secrets of the sections config_open's `need` named from their
 * files (password_file, token_file, webhook_url_file) or command
 * (password_command, killed after [http] timeout), check what was read
 * (a webhook URL as the Discord client reads it) and add it to
 * cfg->secrets.  Once per cfg; a second call does nothing.  On failure
 * MC_ERR_CONFIG with e naming the key; cfg stays loaded (the caller frees
 * it). */
enum mc_err config_read_secrets(struct config *cfg, struct err *e);

/* The password, for a config opened with CONFIG_LATER_PASSWORD: read it
 * (file or command) now, once; MC_OK with cfg->password set (or left NULL
 * when the config names none).  Errors as config_read_secrets. */
enum mc_err config_read_password(struct config *cfg, struct err *e);

/* config_open, then config_read_secrets; on failure cfg is freed. */
enum mc_err config_load(struct config *cfg, const char *path, unsigned need, struct err *e);

/* [discord] itself as a route (name NULL): a view into cfg, valid while
 * cfg is; webhook_url is NULL when [discord] has none. */
void config_discord_route(const struct config *cfg, struct route_config *out);

/* The route of a conference of this course (route.h's rule): a route of
 * cfg->routes, [discord] (view filled by config_discord_route into
 * *fallback), or NULL when no channel takes it. */
const struct route_config *config_route_for(const struct config *cfg, int64_t course_id,
    const char *course_short, struct route_config *fallback);

/* A server keeping scheduled events: views into cfg, valid while it is. */
struct config_server {
	const char *guild_id;
	const char *bot_token;   /* its one bot (config_read_secrets checks)  */
	const char *webhook_url; /* a webhook of a route keeping events there:
	                            where the bot API is for tests (bot_api_for) */
	int64_t events_max;      /* its one events_max                        */
};

/* The servers keeping events, one per guild_id, from the routes with
 * events = yes (and [discord], when it takes conferences itself: it has a
 * webhook), in file order, [discord] last: *out (caller frees) holds the
 * count returned (0: *out NULL). */
size_t config_servers(const struct config *cfg, struct config_server **out);

/* The server route r's conferences get events in, NULL = none. */
const char *config_route_server(const struct config *cfg, const struct route_config *r);

/* Free what cfg holds, secrets wiped first, and zero it (a zeroed cfg is
 * fine). */
void config_free(struct config *cfg);

#endif
