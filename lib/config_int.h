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
	K_THREAD_ID, K_DISCORD_USERNAME, K_SILENT, K_FORUM, K_TAGS,
	K_BOT_TOKEN, K_BOT_TOKEN_FILE, K_GUILD_ID, K_EVENTS, K_EVENTS_MAX,
	K_MEETING_MINUTES,
	K_STATE_PATH,
	K_CONNECT_TIMEOUT, K_TIMEOUT, K_DEADLINE,
	NKEYS
};

/* The secrets that have several sources: exactly one may be given. */
enum group { G_NONE, G_PASSWORD, G_TOKEN, G_WEBHOOK, G_BOT, NGROUPS };

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

/* A [route NAME] section as read: its values of [discord]'s keys (only
 * those of SEC_DISCORD are used) and its courses. */
struct raw_route {
	char *name;
	int line;                /* of its [route NAME] header                */
	struct raw raw[NKEYS];
	struct raw courses;
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
	struct raw_route *routes; /* [route NAME] sections, in file order      */
	size_t nroutes;
	struct raw_route *cur_route; /* the one being read, NULL = none       */
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

/* The same for a value v named by where ("FILE:LINE: [route x] key"). */
enum mc_err config_expand(struct config_loader *ld, const char *v, const char *where, char **out,
    struct err *e);

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

/* Record the first problem met while parsing, at the current line. */
void config_parse_problem(struct config_loader *ld, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Find key name in section sec: its enum key, or -1. */
int config_find_key(int sec, const char *name);

/* "did you mean 'x'?" or the list of the section's keys; caller frees. */
char *config_key_hint(int sec, const char *name);

/* A secret's first line from the file named by path_value (~/ expanded),
 * which must be a regular file group and others cannot read; errors say
 * "WHERE: ...".  *out is the caller's (secret_free). */
enum mc_err config_secret_file(struct config_loader *ld, const char *path_value, const char *where,
    const char *what, char **out, struct err *e);

/* Parse yes/no (also true/false, on/off, 1/0, any case): 0 or 1, -1 when
 * none of these. */
int config_bool(const char *v);

/* Free a list of strings (NULL is fine). */
void config_free_list(char **v, size_t n);

/* Forum tag ids as written in a tags value (1 to 5 Discord ids): the
 * list (caller frees with config_free_list), or NULL with *problem set. */
char **config_tags_parse(const char *v, size_t *n, const char **problem);

/* --- config_route.c --- */

/* Is this section header "route NAME" (any name: checked later)? */
int config_route_header(const char *section);

/* A line "name = value" of section "route NAME": recorded, or a parse
 * problem. */
void config_route_pair(struct config_loader *ld, const char *section, const char *name,
    const char *value);

/* Check every [route NAME] and fill cfg->routes, [discord]'s values (in
 * cfg already) taken where a route sets none.  MC_ERR_CONFIG naming the
 * route, line and key. */
enum mc_err config_routes_check(struct config_loader *ld, struct config *cfg, struct err *e);

/* Does some route have a webhook of its own (webhook_url or _file)? */
int config_routes_have_webhook(const struct config_loader *ld);

/* Read the routes' webhook_url_file and bot_token_file secrets (after
 * the lock), a route that sets none borrowing [discord]'s (read before),
 * then check that the routes keeping events in one server agree on its
 * bot token and events_max (MC_ERR_CONFIG naming them). */
enum mc_err config_routes_read_secrets(struct config_loader *ld, struct config *cfg, struct err *e);

void config_routes_free(struct config *cfg);
void config_raw_routes_free(struct config_loader *ld);

/* config_check_webhook for a value named by where. */
enum mc_err config_check_webhook_at(struct config *cfg, const char *v, const char *where,
    const char *what, struct err *e);

/* Free what ld holds, every value wiped. */
void config_loader_free(struct config_loader *ld);

#endif
