/* cmd: what the verbs share.  Only cmd/ prints to the user or exits. */
#ifndef MC_CMD_H
#define MC_CMD_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "discord.h"
#include "event.h"
#include "util.h"

struct http;

struct ctx {
	const char *config_path; /* -c FILE, NULL = the lookup order */
	int verbosity;           /* -1 = -q, 0 = default, 1 = -v     */
	int dry_run;             /* --dry-run (sync, ping)           */
	int json;                /* --json (dump)                    */
	int sso;                 /* --sso (login)                    */
	int force;               /* --force (init: replace the file) */
	long long provider;      /* --provider N (login), 0 = none   */
	time_t started;          /* when the run began               */
	struct config cfg;       /* loaded by the verb (config_load) */
	int cfg_loaded;
	int http_ready;          /* libcurl set up (ctx_http_init)   */
};

/* The verbs.  Each loads the config it needs, does its work and returns
 * MC_OK or an error kind with e filled; main prints e and maps the kind to
 * the exit status.  main sets libcurl up (http_global_init) once before
 * sync and check; ping asks for it with ctx_http_init. */
enum mc_err verb_sync(struct ctx *c, struct err *e);
enum mc_err verb_ping(struct ctx *c, struct err *e);
enum mc_err verb_dump(struct ctx *c, struct err *e);
enum mc_err verb_check(struct ctx *c, struct err *e);
enum mc_err verb_login(struct ctx *c, struct err *e);
enum mc_err verb_init(struct ctx *c, struct err *e);

/* The Discord half of check (cmd/check_discord.c): get the webhook of
 * [discord] and of every route of c->cfg (loaded; main set libcurl up)
 * and print each one's id, name and channel with out(); posts nothing.
 * Errors as discord_get_webhook, the message starting "discord: ". */
enum mc_err check_discord(struct ctx *c, struct err *e);

/* The first half of check (cmd/check_site.c): ask the site how it signs
 * in.  App or web services off: MC_ERR_UNAVAILABLE; maintenance:
 * MC_ERR_TEMP; a url unlike the site's wwwroot, or a password on a site
 * that signs in through a browser: a warning.  *browser tells the latter
 * kind of site.  A site that cannot answer is MC_OK (said with -v): the
 * sign-in after it finds what is wrong. */
enum mc_err check_site(struct ctx *c, struct http *h, int *browser, struct err *e);

/* Print the age of the token the config names (its file's time) or of the
 * one kept in the state; nothing when unknown. */
void check_token_age(struct ctx *c);
/* The bot half of check (cmd/check_bot.c), for each server keeping
 * events (config_servers): print the bot's name (once per token), the
 * server and whether the bot may make events there, and how many events
 * the server holds against its limit; stops at the first failure.  Errors as the bot
 * client's, "bot: ..."; a missing permission is MC_ERR_CONFIG naming it. */
enum mc_err check_bot(struct ctx *c, struct err *e);

/* The hash sync stores for a conference whose messages are gone but whose
 * scheduled event is still to be deleted (cmd/sync.c keeps its record,
 * cmd/sync_events.c deletes the event and then the record; ping skips it):
 * MESSAGE_GONE_HASH of lib/event.h. */
#define SYNC_GONE_HASH MESSAGE_GONE_HASH

struct store;
/* The scheduled events half of sync (cmd/sync_events.c), after the
 * messages: bring each server's events in step with the conferences
 * stored in st of the routes keeping events there, each call committed before the next; no
 * call past deadline.  MC_OK, or the first failure with e filled
 * ("events: ..."); nothing when events are off. */
enum mc_err sync_events(struct ctx *c, struct store *st, int64_t now, int64_t deadline,
    struct err *e);

/* Does some route (or [discord]) keep scheduled events? */
int sync_events_on(const struct config *cfg);

struct record_list;
struct diff_plan;
/* sync --dry-run's events: the plan of each server for the records as
 * the message plan leaves those of st (NULL: no state yet), printed (out) as "event OP ..." lines and
 * a count per server.  Lists the servers' events (GET), changes nothing in
 * Discord.  Errors as sync_events. */
enum mc_err sync_events_dry(struct ctx *c, struct store *st,
    const struct diff_plan *plan, int64_t now, int64_t deadline, struct err *e);

/* The questions login asks (cmd/login.c), shared with init.  Each reads
 * one line of standard input into *line (no newline; the caller wipes and
 * frees it): MC_OK, or MC_ERR_USAGE at the end of input.
 * ask_line: prompt on stderr, the answer echoed as typed.
 * ask_secret: prompt on stderr with the terminal's echo off (restored,
 *   also on a signal); with no terminal, the first line of input.
 * ask_username_of: "username [DEFAULT]: " with c->cfg.username as default.
 * ask_browser_link: login's single sign-on half on site (c->cfg.moodle_url,
 *   c->provider): print the launch URL, read the pasted link and check it;
 *   link as login_link_decode fills it. */
struct login_site;
struct login_link;
enum mc_err ask_line(const char *prompt, char **line, struct err *e);
enum mc_err ask_secret(const char *prompt, char **line, struct err *e);
enum mc_err ask_username_of(struct ctx *c, char **line, struct err *e);
enum mc_err ask_browser_link(struct ctx *c, const struct login_site *site,
    struct login_link *link, struct err *e);

/* Set libcurl up for the run, once (later calls do nothing); main cleans
 * up at exit.  ping calls it only when it has a message to send: a run
 * with nothing to do stays small and quick.  MC_OK or MC_ERR_UNAVAILABLE. */
enum mc_err ctx_http_init(struct ctx *c, struct err *e);

struct moodle_site;
/* With routes: each route's courses, a warning for each of them that is
 * none of the courses read from Moodle (site), and the courses no route
 * takes. */
void check_routes(struct ctx *c, const struct moodle_site *site);

/* --- routes (cmd/routes.c) --- */

/* The route named name in cfg ("" or NULL: [discord], filled into
 * *fallback), or NULL when there is none by that name (or [discord] has
 * no webhook). */
const struct route_config *routes_by_name(const struct config *cfg, const char *name,
    struct route_config *fallback);

/* The route of a stored conference: the one its message was posted
 * through (msg.route) once posted, else the one its course goes to
 * (config_route_for).  NULL when none. */
const struct route_config *routes_of_record(const struct config *cfg, const struct record *r,
    struct route_config *fallback);

/* "NAME", or "[discord]" for [discord] itself. */
const char *routes_label(const struct route_config *r);

/* A Discord client per route of c->cfg, made by routes_client when first
 * needed, each with its own rate-limit bucket. */
struct route_clients {
	struct ctx *c;
	struct discord **d;   /* [i]: cfg.routes[i]; [nroutes]: [discord] */
	size_t n;
	int64_t deadline;     /* absolute, for every client */
};
void routes_clients_init(struct route_clients *rc, struct ctx *c, int64_t deadline);
/* The client of route r (a route of c->cfg or config_discord_route's
 * view): NULL with e filled when its webhook URL is unusable. */
struct discord *routes_client(struct route_clients *rc, const struct route_config *r,
    struct err *e);
void routes_clients_free(struct route_clients *rc);

/* Open c->cfg for the verb (need: CONFIG_NEED_*) without reading any
 * secret file or running password_command (config_open): every config
 * error, a bad webhook URL included, is found here, before any network
 * call.  Remembers cfg for redaction and freeing at exit. */
enum mc_err ctx_open_config(struct ctx *c, unsigned need, struct err *e);

/* Read the secrets of the opened c->cfg (config_read_secrets): after the
 * verb's lock, so a run that finds another busy runs no password_command. */
enum mc_err ctx_read_secrets(struct ctx *c, struct err *e);

/* ctx_open_config, then ctx_read_secrets. */
enum mc_err ctx_load_config(struct ctx *c, unsigned need, struct err *e);

/* Output, every line passed through secrets_redact() with the config's
 * secrets.
 * out: stdout, always (the verb's result: dump, check, --dry-run plan).
 * info: stdout, only with -v (what was done).
 * warn: stderr unless -q: problems that are not fatal.
 * Any thread may call them: each line is written whole. */
void out(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void info(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warn(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A local-time rendering of t as "YYYY-MM-DD HH:MM" (TZ respected);
 * returns buf. */
const char *fmt_local_time(time_t t, char buf[32]);

/* The exit status of an error kind: the one mapping, from <sysexits.h>,
 * listed in the man page's EXIT STATUS. */
int exit_status(enum mc_err kind);

#endif
