/* cmd: what the verbs share.  Only cmd/ prints to the user or exits. */
#ifndef MC_CMD_H
#define MC_CMD_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "util.h"

struct ctx {
	const char *config_path; /* -c FILE, NULL = the lookup order */
	int verbosity;           /* -1 = -q, 0 = default, 1 = -v     */
	int dry_run;             /* --dry-run (sync, ping)           */
	int json;                /* --json (dump)                    */
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

/* The Discord half of check (cmd/check_discord.c): get the webhook of
 * c->cfg (loaded; main set libcurl up) and print its id, name and
 * channel with out(); posts nothing.  Errors as discord_get_webhook, the
 * message starting "discord: ". */
enum mc_err check_discord(struct ctx *c, struct err *e);

/* Set libcurl up for the run, once (later calls do nothing); main cleans
 * up at exit.  ping calls it only when it has a message to send: a run
 * with nothing to do stays small and quick.  MC_OK or MC_ERR_UNAVAILABLE. */
enum mc_err ctx_http_init(struct ctx *c, struct err *e);

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
 * warn: stderr unless -q: problems that are not fatal. */
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
