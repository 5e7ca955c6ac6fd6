/* config_int: what config.c (file, environment, value checks) and
 * config_secret.c (secrets read from files and commands) share.  Not for
 * other modules. */
#ifndef MC_CONFIG_INT_H
#define MC_CONFIG_INT_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum section { SEC_MOODLE, SEC_DISCORD, SEC_SCHEDULE, SEC_STATE, SEC_HTTP, NSECTIONS };

extern const char *const section_names[NSECTIONS];

enum key {
	K_URL, K_USERNAME, K_PASSWORD, K_PASSWORD_FILE, K_PASSWORD_COMMAND,
	K_TOKEN, K_TOKEN_FILE, K_MODULES, K_LOOKAHEAD_DAYS, K_COURSES,
	K_WEBHOOK_URL, K_WEBHOOK_URL_FILE, K_ROLE_ID, K_PING_MINUTES,
	K_THREAD_ID, K_DISCORD_USERNAME,
	K_MEETING_MINUTES,
	K_STATE_PATH,
	K_CONNECT_TIMEOUT, K_TIMEOUT, K_DEADLINE,
	NKEYS
};

/* The secrets that have several sources: exactly one may be given. */
enum group { G_NONE, G_PASSWORD, G_TOKEN, G_WEBHOOK, NGROUPS };

struct config_loader;

/* Check value v of key k (given, not empty) and put it into cfg; MC_OK or
 * MC_ERR_CONFIG with e naming where v came from. */
typedef enum mc_err (*check_fn)(struct config_loader *ld, struct config *cfg, enum key k,
    const char *v, struct err *e);

struct keydef {
	enum section sec;
	const char *name;
	enum group group;
	int secret;              /* the value itself is a secret               */
	check_fn check;          /* NULL: a file path or command, used later   */
	size_t field;            /* where check puts it: offsetof(struct config) */
	int64_t min, max, def;   /* numbers only (max > 0)                     */
};

extern const struct keydef keydefs[NKEYS];

/* One raw value and where it came from: a line of the file, or a variable. */
struct raw {
	char *val;   /* NULL = not given; "" = given empty, same as not given  */
	int line;    /* file line, 0 when from the environment                 */
	char *env;   /* the variable's name when from the environment          */
};

/* What config_open gathered, kept for config_read_secrets. */
struct config_loader {
	const char *file;        /* the config file being read, NULL = none    */
	const char *tried;       /* the default paths looked for, when absent  */
	FILE *f;
	char *line;              /* the reader's buffer                        */
	size_t linecap;
	int lineno;
	int err_line;            /* line of the first error found, 0 = none    */
	struct err perr;         /* that error                                 */
	struct raw raw[NKEYS];
	char *home;
	char *file_owned;        /* the path L->file points to, once loaded    */
	char *tried_owned;
	unsigned need;           /* what config_open was asked for             */
};

/* Was key k given a value that is not empty? */
int config_is_set(const struct config_loader *ld, enum key k);

/* Fail with MC_ERR_CONFIG and "ORIGIN: message", ORIGIN being
 * "FILE:LINE: [section] key" or the variable's name. */
enum mc_err config_bad(const struct config_loader *ld, enum key k, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The value of k with "~" or "~/" expanded to $HOME, in *out (caller
 * frees); MC_ERR_CONFIG for ~user or no home. */
enum mc_err config_expand_path(struct config_loader *ld, enum key k, char **out, struct err *e);

/* Check webhook URL v (from key k) as the Discord client will read it,
 * and list it and its token as secrets of cfg; never quotes v. */
enum mc_err config_check_webhook(struct config_loader *ld, struct config *cfg, enum key k,
    const char *v, const char *what, struct err *e);

/* Open the config file at path and parse it into ld->raw (ld->file set
 * when found).  A missing file is an error when named (-c,
 * $MOODLECORD_CONFIG), fine otherwise (ld->tried names it).  When the
 * file holds a secret and group or others can read it, *readable_secret
 * is that key, else NKEYS. */
enum mc_err config_parse_file(struct config_loader *ld, const char *path, int named,
    enum key *readable_secret, struct err *e);

/* Apply MOODLECORD_<SECTION>_<KEY> over ld->raw.  A secret given in the
 * environment replaces every source of that secret given in the file. */
enum mc_err config_apply_env(struct config_loader *ld, struct err *e);

/* Free what ld holds, every value wiped. */
void config_loader_free(struct config_loader *ld);

#endif
