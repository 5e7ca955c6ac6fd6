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
	int sso;                 /* --sso (login)                    */
	long long provider;      /* --provider N (login), 0 = none   */
	time_t started;          /* when the run began               */
	struct config cfg;       /* loaded by the verb (config_load) */
	int cfg_loaded;
};

/* The verbs.  Each loads the config it needs, does its work and returns
 * MC_OK or an error kind with e filled; main prints e and maps the kind to
 * the exit status. */
enum mc_err verb_sync(struct ctx *c, struct err *e);
enum mc_err verb_ping(struct ctx *c, struct err *e);
enum mc_err verb_dump(struct ctx *c, struct err *e);
enum mc_err verb_check(struct ctx *c, struct err *e);
enum mc_err verb_login(struct ctx *c, struct err *e);

/* The Discord half of check (cmd/check_discord.c): get the webhook of
 * c->cfg (loaded, http_global_init done) and print its id, name and
 * channel with out(); posts nothing.  Errors as discord_get_webhook, the
 * message starting "discord: ". */
enum mc_err check_discord(struct ctx *c, struct err *e);

/* Load c->cfg for the verb (need: CONFIG_NEED_*); remembers it for
 * redaction and freeing at exit. */
enum mc_err ctx_load_config(struct ctx *c, unsigned need, struct err *e);

/* Output, every line passed through redact() with the config's secrets.
 * out: stdout, always (the verb's result: dump, check, --dry-run plan).
 * info: stdout, only with -v (what was done).
 * warn: stderr unless -q: problems that are not fatal. */
void out(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void info(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warn(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A local-time rendering of t as "YYYY-MM-DD HH:MM" (TZ respected);
 * returns buf. */
const char *fmt_local_time(time_t t, char buf[32]);

/* The exit status of an error kind: the one mapping (DESIGN.md table). */
int exit_status(enum mc_err kind);

#endif
