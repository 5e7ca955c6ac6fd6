/* config: the table of keys, the checks of their values, defaults and
 * what each verb needs.
 *
 * Loading happens in steps: the file's pairs and the environment's go into
 * one table of raw values, each remembering where it came from (file and
 * line, or the variable: config_file.c), so every later check can name its
 * origin; then every value present is checked by its key's check function,
 * whatever the verb needs; then the requirements of `need` are checked.
 * Only config_read_secrets (config_secret.c) reads secret files and runs
 * password_command, after the caller took its lock. */
#include "config.h"

#include <ctype.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "config_int.h"
#include "tokenfile.h"
#include "discord.h"
#include "url.h"

extern char **environ;

const char *const section_names[NSECTIONS] = {
	"moodle", "discord", "schedule", "state", "http"
};

static enum mc_err check_site_url(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_copy(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_secret(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_webhook_url(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_modules(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_courses(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_id(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_name(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_path(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_number(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_ping(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_bool(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_tags(struct config_loader *, struct config *, enum key, const char *, struct err *);
static enum mc_err check_yes_no(struct config_loader *, struct config *, enum key, const char *, struct err *);

#define AT(f) offsetof(struct config, f)

const struct keydef keydefs[NKEYS] = {
	[K_URL]              = { SEC_MOODLE,   "url",              G_NONE,     0, check_site_url, AT(moodle_url), 0, 0, 0 },
	[K_USERNAME]         = { SEC_MOODLE,   "username",         G_NONE,     0, check_copy, AT(username), 0, 0, 0 },
	[K_PASSWORD]         = { SEC_MOODLE,   "password",         G_PASSWORD, 1, check_secret, AT(password), 0, 0, 0 },
	[K_PASSWORD_FILE]    = { SEC_MOODLE,   "password_file",    G_PASSWORD, 0, NULL, 0, 0, 0, 0 },
	[K_PASSWORD_COMMAND] = { SEC_MOODLE,   "password_command", G_PASSWORD, 0, NULL, 0, 0, 0, 0 },
	[K_TOKEN]            = { SEC_MOODLE,   "token",            G_TOKEN,    1, check_secret, AT(token), 0, 0, 0 },
	[K_TOKEN_FILE]       = { SEC_MOODLE,   "token_file",       G_TOKEN,    0, NULL, 0, 0, 0, 0 },
	[K_MODULES]          = { SEC_MOODLE,   "modules",          G_NONE,     0, check_modules, 0, 0, 0, 0 },
	[K_LOOKAHEAD_DAYS]   = { SEC_MOODLE,   "lookahead_days",   G_NONE,     0, check_number, AT(lookahead_days), 1, 366, 30 },
	[K_COURSES]          = { SEC_MOODLE,   "courses",          G_NONE,     0, check_courses, 0, 0, 0, 0 },
	[K_WEBHOOK_URL]      = { SEC_DISCORD,  "webhook_url",      G_WEBHOOK,  1, check_webhook_url, 0, 0, 0, 0 },
	[K_WEBHOOK_URL_FILE] = { SEC_DISCORD,  "webhook_url_file", G_WEBHOOK,  0, NULL, 0, 0, 0, 0 },
	[K_ROLE_ID]          = { SEC_DISCORD,  "role_id",          G_NONE,     0, check_id, AT(role_id), 0, 0, 0 },
	[K_PING_MINUTES]     = { SEC_DISCORD,  "ping_minutes",     G_NONE,     0, check_ping, 0, 0, 0, 0 },
	[K_THREAD_ID]        = { SEC_DISCORD,  "thread_id",        G_NONE,     0, check_id, AT(thread_id), 0, 0, 0 },
	[K_DISCORD_USERNAME] = { SEC_DISCORD,  "username",         G_NONE,     0, check_name, AT(discord_username), 0, 0, 0 },
	[K_SILENT]           = { SEC_DISCORD,  "silent",           G_NONE,     0, check_bool, AT(silent), 0, 0, 0 },
	[K_FORUM]            = { SEC_DISCORD,  "forum",            G_NONE,     0, check_bool, AT(forum), 0, 0, 0 },
	[K_TAGS]             = { SEC_DISCORD,  "tags",             G_NONE,     0, check_tags, 0, 0, 0, 0 },
	[K_BOT_TOKEN]        = { SEC_DISCORD,  "bot_token",        G_BOT,      1, check_secret, AT(bot_token), 0, 0, 0 },
	[K_BOT_TOKEN_FILE]   = { SEC_DISCORD,  "bot_token_file",   G_BOT,      0, NULL, 0, 0, 0, 0 },
	[K_GUILD_ID]         = { SEC_DISCORD,  "guild_id",         G_NONE,     0, check_id, AT(guild_id), 0, 0, 0 },
	[K_EVENTS]           = { SEC_DISCORD,  "events",           G_NONE,     0, check_yes_no, AT(events), 0, 0, 0 },
	[K_EVENTS_MAX]       = { SEC_DISCORD,  "events_max",       G_NONE,     0, check_number, AT(events_max), 1, 100, 50 },
	[K_MEETING_MINUTES]  = { SEC_SCHEDULE, "meeting_minutes",  G_NONE,     0, check_number, AT(meeting_minutes), 1, 1440, 90 },
	[K_STATE_PATH]       = { SEC_STATE,    "path",             G_NONE,     0, check_path, AT(state_path), 0, 0, 0 },
	[K_CONNECT_TIMEOUT]  = { SEC_HTTP,     "connect_timeout",  G_NONE,     0, check_number, AT(connect_timeout), 1, 300, 10 },
	[K_TIMEOUT]          = { SEC_HTTP,     "timeout",          G_NONE,     0, check_number, AT(timeout), 1, 3600, 30 },
	[K_DEADLINE]         = { SEC_HTTP,     "deadline",         G_NONE,     0, check_number, AT(deadline), 1, 86400, 1200 },
};

/* The keys of each group, for "keep one of ...". */
static const char *const group_keys[NGROUPS] = {
	[G_PASSWORD] = "password, password_file, password_command",
	[G_TOKEN] = "token, token_file",
	[G_WEBHOOK] = "webhook_url, webhook_url_file",
	[G_BOT] = "bot_token, bot_token_file",
};

int
config_is_set(const struct config_loader *ld, enum key k)
{
	return ld->raw[k].val != NULL && ld->raw[k].val[0] != '\0';
}

/* Where a value came from, as the start of an error line:
 * "FILE:LINE: [section] key" or "MOODLECORD_SECTION_KEY". */
static void
origin(const struct config_loader *ld, enum key k, char *out, size_t n)
{
	const struct raw *r = &ld->raw[k];

	if (r->env != NULL)
		snprintf(out, n, "%s", r->env);
	else
		snprintf(out, n, "%s:%d: [%s] %s", ld->file, r->line,
		    section_names[keydefs[k].sec], keydefs[k].name);
}

enum mc_err
config_bad(const struct config_loader *ld, enum key k, struct err *e, const char *fmt, ...)
{
	char where[512];
	va_list ap;
	char *msg;

	origin(ld, k, where, sizeof where);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(e, MC_ERR_CONFIG, "%s: %s", where, msg);
	free(msg);
	return MC_ERR_CONFIG;
}

static const char *
home_dir(struct config_loader *ld)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (ld->home != NULL)
		return ld->home;
	if (h == NULL || *h == '\0') {
		pw = getpwuid(getuid());
		h = pw != NULL ? pw->pw_dir : NULL;
	}
	if (h == NULL || *h == '\0')
		return NULL;
	ld->home = xstrdup(h);
	return ld->home;
}

/* An XDG base directory: the variable when absolute, else ~/FALLBACK. */
static char *
xdg_dir(struct config_loader *ld, const char *var, const char *fallback)
{
	const char *v = getenv(var);
	const char *h;

	if (v != NULL && v[0] == '/')
		return xstrdup(v);
	h = home_dir(ld);
	if (h == NULL)
		return NULL;
	return xasprintf("%s/%s", h, fallback);
}

/* "~" and "~/" in v expanded: the text of *out's problem, or NULL. */
static const char *
expand(struct config_loader *ld, const char *v, char **out)
{
	const char *h;

	if (v[0] == '~' && (v[1] == '\0' || v[1] == '/')) {
		h = home_dir(ld);
		if (h == NULL)
			return "cannot expand ~: $HOME is not set; give a full path";
		*out = xasprintf("%s%s", h, v + 1);
		return NULL;
	}
	if (v[0] == '~')
		return "only ~/ is expanded, not ~user; give a full path";
	*out = xstrdup(v);
	return NULL;
}

enum mc_err
config_expand_path(struct config_loader *ld, enum key k, char **out, struct err *e)
{
	const char *problem = expand(ld, ld->raw[k].val, out);

	return problem != NULL ? config_bad(ld, k, e, "%s", problem) : MC_OK;
}

enum mc_err
config_expand(struct config_loader *ld, const char *v, const char *where, char **out,
    struct err *e)
{
	const char *problem = expand(ld, v, out);

	return problem != NULL ? err_set(e, MC_ERR_CONFIG, "%s: %s", where, problem) : MC_OK;
}

/* A comma-separated list when the value has a comma (items may hold
 * spaces, like course short names), else a blank-separated one. */
static char **
split_list(const char *v, size_t *n)
{
	const char *seps = strchr(v, ',') != NULL ? "," : " \t";
	char **items = NULL;
	const char *p = v;

	*n = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, seps);
		const char *a = p, *b = p + len;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			items = xrealloc(items, (*n + 1) * sizeof *items);
			items[(*n)++] = xstrndup(a, (size_t)(b - a));
		}
		p += len;
		if (*p != '\0')
			p++;
	}
	return items;
}

void
config_free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The string field of cfg that keydefs[k].field names. */
static char **
field_str(struct config *cfg, enum key k)
{
	return (char **)(void *)((char *)cfg + keydefs[k].field);
}

static enum mc_err
check_number(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	const struct keydef *d = &keydefs[k];
	int64_t *dst = (int64_t *)(void *)((char *)cfg + d->field);

	if (parse_int64(v, d->min, d->max, dst) != 0)
		return config_bad(ld, k, e, "'%.40s' is not a number (%lld-%lld)", v,
		    (long long)d->min, (long long)d->max);
	return MC_OK;
}

static enum mc_err
check_yes_no(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	int64_t *dst = (int64_t *)(void *)((char *)cfg + keydefs[k].field);

	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*dst = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*dst = 0;
	else
		return config_bad(ld, k, e, "'%.40s' is not yes or no", v);
	return MC_OK;
}

static enum mc_err
check_site_url(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	const char *problem = url_problem(v, 1);

	if (problem != NULL)
		return config_bad(ld, k, e, "%s%s", problem, problem == url_no_scheme ?
		    ", e.g. https://moodle.example.edu" : "");
	cfg->moodle_url = xstrndup(v, url_trim_slashes(v, strlen(v)));
	return MC_OK;
}

static enum mc_err
check_copy(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	(void)ld;
	(void)e;
	*field_str(cfg, k) = xstrdup(v);
	return MC_OK;
}

static enum mc_err
check_secret(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	secrets_add(&cfg->secrets, v);
	return check_copy(ld, cfg, k, v, e);
}

enum mc_err
config_check_webhook_at(struct config *cfg, const char *v, const char *where, const char *what,
    struct err *e)
{
	struct discord_url u;
	struct err pe = { 0 };
	const char *problem;

	secrets_add_whole(&cfg->secrets, v);
	problem = url_problem(v, 0);
	if (problem != NULL)
		return err_set(e, MC_ERR_CONFIG, "%s: %s%s (Discord gives "
		    "https://discord.com/api/webhooks/ID/TOKEN)", where, what, problem);
	/* As the Discord client will read it: a bad one is found before
	 * any network call. */
	if (discord_url_parse(v, &u, &pe) != MC_OK)
		return err_set(e, MC_ERR_CONFIG, "%s: %s", where, pe.msg);
	/* Logs may show a path without the rest of the URL. */
	secrets_add(&cfg->secrets, u.token);
	discord_url_free(&u);
	return MC_OK;
}

enum mc_err
config_check_webhook(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    const char *what, struct err *e)
{
	char where[512];

	origin(ld, k, where, sizeof where);
	return config_check_webhook_at(cfg, v, where, what, e);
}

static enum mc_err
check_webhook_url(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	enum mc_err rc = config_check_webhook(ld, cfg, k, v, "", e);

	if (rc == MC_OK)
		cfg->webhook_url = xstrdup(v);
	return rc;
}

static enum mc_err
check_modules(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	size_t i;

	config_free_list(cfg->modules, cfg->nmodules);
	cfg->modules = split_list(v, &cfg->nmodules);
	for (i = 0; i < cfg->nmodules; i++) {
		const char *m = cfg->modules[i];

		if (strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(m))
			return config_bad(ld, k, e, "'%.40s' is not a module name (lower-case "
			    "letters, digits and _, e.g. bigbluebuttonbn, zoom)", m);
	}
	return MC_OK;
}

static enum mc_err
check_courses(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	(void)ld;
	(void)k;
	(void)e;
	cfg->courses = split_list(v, &cfg->ncourses);
	return MC_OK;
}

static enum mc_err
check_id(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	if (!snowflake_valid(v))
		return config_bad(ld, k, e, "'%.40s' is not a Discord id (17 to 20 digits; "
		    "in Discord: Developer Mode, then Copy ID)", v);
	return check_copy(ld, cfg, k, v, e);
}

static enum mc_err
check_name(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	if (!utf8_valid(v, strlen(v)) || utf8_count(v) > 80)
		return config_bad(ld, k, e, "must be valid UTF-8 of at most 80 characters");
	return check_copy(ld, cfg, k, v, e);
}

static enum mc_err
check_ping(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	struct err pe = { 0 };

	if (remind_offsets_parse(v, &cfg->ping, &pe) != MC_OK)
		return config_bad(ld, k, e, "%s", pe.msg);
	cfg->ping_minutes = cfg->ping.m[cfg->ping.n - 1];
	return MC_OK;
}

int
config_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static enum mc_err
check_bool(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	int b = config_bool(v);

	if (b < 0)
		return config_bad(ld, k, e, "'%.40s' is not yes or no", v);
	*(int *)(void *)((char *)cfg + keydefs[k].field) = b;
	return MC_OK;
}

/* Forum tag ids: 1 to 5 Discord ids. */
char **
config_tags_parse(const char *v, size_t *n, const char **problem)
{
	char **tags = split_list(v, n);
	size_t i;

	*problem = NULL;
	if (*n == 0 || *n > 5)
		*problem = "give 1 to 5 forum tag ids";
	for (i = 0; i < *n && *problem == NULL; i++)
		if (!snowflake_valid(tags[i]))
			*problem = "a tag id is a Discord id (17 to 20 digits; see the man page "
			    "for how to find it)";
	if (*problem != NULL) {
		config_free_list(tags, *n);
		*n = 0;
		return NULL;
	}
	return tags;
}

static enum mc_err
check_tags(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	const char *problem;

	cfg->tags = config_tags_parse(v, &cfg->ntags, &problem);
	if (problem != NULL)
		return config_bad(ld, k, e, "%s", problem);
	return MC_OK;
}

static enum mc_err
check_path(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    struct err *e)
{
	(void)v;
	return config_expand_path(ld, k, field_str(cfg, k), e);
}

/* Exactly one source per secret; the later one is named. */
static enum mc_err
check_sources(struct config_loader *ld, struct err *e)
{
	int k, j;

	for (k = 0; k < NKEYS; k++) {
		if (keydefs[k].group == G_NONE || ld->raw[k].val == NULL)
			continue;
		for (j = k + 1; j < NKEYS; j++) {
			char first[512];
			int a = k, b = j;

			if (keydefs[j].group != keydefs[k].group || ld->raw[j].val == NULL)
				continue;
			if (ld->raw[k].env == NULL && ld->raw[j].env == NULL &&
			    ld->raw[k].line > ld->raw[j].line) {
				a = j;
				b = k;
			}
			if (ld->raw[a].env != NULL)
				snprintf(first, sizeof first, "%s", ld->raw[a].env);
			else
				snprintf(first, sizeof first, "%s (line %d)", keydefs[a].name,
				    ld->raw[a].line);
			return config_bad(ld, b, e, "also given as %s; keep one of %s", first,
			    group_keys[keydefs[k].group]);
		}
	}
	return MC_OK;
}

/* Check every value given, whatever the verb needs, and fill cfg with the
 * values that need no reading or running. */
static enum mc_err
check_values(struct config_loader *ld, struct config *cfg, struct err *e)
{
	static const enum key user_side[] = {
		K_PASSWORD, K_PASSWORD_FILE, K_PASSWORD_COMMAND
	};
	enum mc_err rc;
	size_t i;
	int k;

	for (k = 0; k < NKEYS; k++) {
		if (!config_is_set(ld, k) || keydefs[k].check == NULL)
			continue;
		rc = keydefs[k].check(ld, cfg, k, ld->raw[k].val, e);
		if (rc != MC_OK)
			return rc;
	}
	rc = check_sources(ld, e);
	if (rc != MC_OK)
		return rc;
	if (cfg->forum && cfg->thread_id != NULL)
		return config_bad(ld, K_FORUM, e, "forum = yes makes a post per conference: "
		    "remove thread_id");
	rc = config_routes_check(ld, cfg, e);
	if (rc != MC_OK)
		return rc;
	if (!config_is_set(ld, K_TOKEN) && !config_is_set(ld, K_TOKEN_FILE))
		return MC_OK;
	for (i = 0; i < sizeof user_side / sizeof user_side[0]; i++)
		if (config_is_set(ld, user_side[i]))
			return config_bad(ld, config_is_set(ld, K_TOKEN) ? K_TOKEN : K_TOKEN_FILE, e,
			    "both username/password and token are set; keep one");
	return MC_OK;
}

/* "in FILE or MOODLECORD_X_Y", for a key that is missing. */
static char *
where_to_set(const struct config_loader *ld, enum key k)
{
	char env[128];
	size_t i;

	snprintf(env, sizeof env, "MOODLECORD_%s_%s", section_names[keydefs[k].sec],
	    keydefs[k].name);
	for (i = 0; env[i] != '\0'; i++)
		env[i] = (char)toupper((unsigned char)env[i]);
	if (ld->file != NULL)
		return xasprintf("add it to %s (or set %s)", ld->file, env);
	return xasprintf("no config file (looked for %s); create it (or set %s)",
	    ld->tried != NULL ? ld->tried : "one", env);
}

static enum mc_err
missing(const struct config_loader *ld, enum key k, const char *what, struct err *e)
{
	char *w = where_to_set(ld, k);

	err_set(e, MC_ERR_CONFIG, "[%s] %s is not set%s%s; %s", section_names[keydefs[k].sec],
	    keydefs[k].name, what ? " " : "", what ? what : "", w);
	free(w);
	return MC_ERR_CONFIG;
}

/* Scheduled events: on by default with a bot token, which they need, and
 * then a server. */
static enum mc_err
check_events(struct config_loader *ld, struct config *cfg, unsigned need, struct err *e)
{
	int bot = config_is_set(ld, K_BOT_TOKEN) || config_is_set(ld, K_BOT_TOKEN_FILE);

	if (!config_is_set(ld, K_EVENTS))
		cfg->events = bot;
	else if (cfg->events && !bot)
		return config_bad(ld, K_EVENTS, e, "scheduled events need a bot: set bot_token_file "
		    "(Discord Developer Portal: your application, Bot, Reset Token)");
	/* [discord] needs a server when it takes conferences itself (it has
	 * a webhook); else its bot keys are only lent to the routes, which
	 * check their own. */
	if ((need & CONFIG_NEED_DISCORD) && cfg->events && cfg->guild_id == NULL &&
	    (config_is_set(ld, K_WEBHOOK_URL) || config_is_set(ld, K_WEBHOOK_URL_FILE)))
		return missing(ld, K_GUILD_ID, "(the server whose Events tab to fill; Discord: "
		    "Developer Mode, then Copy Server ID)", e);
	return MC_OK;
}

/* The keys `need` requires are there (their secrets are read later). */
static enum mc_err
check_needs(struct config_loader *ld, struct config *cfg, unsigned need, struct err *e)
{
	if (need & CONFIG_NEED_MOODLE) {
		int token = config_is_set(ld, K_TOKEN) || config_is_set(ld, K_TOKEN_FILE);
		int pass = config_is_set(ld, K_PASSWORD) || config_is_set(ld, K_PASSWORD_FILE) ||
		    config_is_set(ld, K_PASSWORD_COMMAND);
		struct stat st;

		if (cfg->moodle_url == NULL)
			return missing(ld, K_URL, "(the site root, e.g. https://moodle.example.edu)", e);
		if (!token && !pass && cfg->token_file != NULL && stat(cfg->token_file, &st) == 0) {
			/* the token `moodlecord login` kept: read as a token_file */
			ld->raw[K_TOKEN_FILE].val = xstrdup(cfg->token_file);
			ld->raw[K_TOKEN_FILE].env = xasprintf("%s (kept by moodlecord login)",
			    cfg->token_file);
			token = 1;
		}
		if (!token && !pass && cfg->username == NULL)
			return missing(ld, K_USERNAME, "and there is no token: run moodlecord login "
			    "(it keeps a token for the other commands), or give username and "
			    "password_command, password_file or password", e);
		if (!token && cfg->username == NULL)
			return missing(ld, K_USERNAME, "(a password is given)", e);
		if (!token && !pass)
			return missing(ld, K_PASSWORD_FILE, "nor password_command nor password, and "
			    "there is no token: run moodlecord login, or give a password", e);
	}
	if ((need & CONFIG_NEED_DISCORD) && !config_is_set(ld, K_WEBHOOK_URL) &&
	    !config_is_set(ld, K_WEBHOOK_URL_FILE) && !config_routes_have_webhook(ld))
		return missing(ld, K_WEBHOOK_URL_FILE, "nor webhook_url "
		    "(Discord: channel settings, Integrations, Webhooks, Copy Webhook URL)", e);
	return check_events(ld, cfg, need, e);
}

void
config_loader_free(struct config_loader *ld)
{
	int k;

	if (ld == NULL)
		return;
	for (k = 0; k < NKEYS; k++) {
		secret_free(ld->raw[k].val);
		free(ld->raw[k].env);
	}
	config_raw_routes_free(ld);
	free(ld->home);
	free(ld->file_owned);
	free(ld->tried_owned);
	free(ld);
}

/* Find and parse the config file into ld (none found is fine unless one
 * was named). */
static enum mc_err
find_and_parse(struct config_loader *ld, const char *path, struct err *e)
{
	char *file = NULL, *fallback = NULL, *dir;
	const char *env = getenv("MOODLECORD_CONFIG"), *home;
	int named = 1;
	enum key readable = NKEYS;
	enum mc_err rc = MC_OK;

	if (path != NULL) {
		file = xstrdup(path);
	} else if (env != NULL && *env != '\0') {
		file = xstrdup(env);
	} else {
		named = 0;
		dir = xdg_dir(ld, "XDG_CONFIG_HOME", ".config");
		if (dir != NULL)
			file = xasprintf("%s/moodlecord/config", dir);
		free(dir);
		/* ~/.config/moodlecord/config comes after $XDG_CONFIG_HOME's,
		 * so a file found from cron (no XDG_CONFIG_HOME) is found from
		 * a login shell too. */
		home = home_dir(ld);
		if (home != NULL)
			fallback = xasprintf("%s/.config/moodlecord/config", home);
		if (fallback != NULL && file != NULL && strcmp(fallback, file) == 0) {
			free(fallback);
			fallback = NULL;
		}
	}
	ld->file_owned = file;
	if (file != NULL)
		rc = config_parse_file(ld, file, named, &readable, e);
	if (rc == MC_OK && ld->file == NULL && fallback != NULL) {
		ld->tried_owned = file != NULL ? xasprintf("%s and %s", file, fallback) : NULL;
		ld->tried = NULL;
		free(file);
		ld->file_owned = file = fallback;
		fallback = NULL;
		rc = config_parse_file(ld, file, named, &readable, e);
		if (ld->tried_owned != NULL)
			ld->tried = ld->tried_owned;
	}
	free(fallback);
	if (rc == MC_OK && readable != NKEYS)
		rc = err_set(e, MC_ERR_CONFIG, "%s holds a secret ([%s] %s on line %d) and can "
		    "be read by group or others; run: chmod 600 %s", file,
		    section_names[keydefs[readable].sec], keydefs[readable].name,
		    ld->raw[readable].line, file);
	return rc;
}

/* The defaults of what was not given. */
static enum mc_err
fill_defaults(struct config_loader *ld, struct config *cfg, struct err *e)
{
	char *dir;

	if (cfg->nmodules == 0) {
		free(cfg->modules);
		cfg->modules = split_list("bigbluebuttonbn", &cfg->nmodules);
	}
	if (cfg->state_path != NULL)
		return MC_OK;
	dir = xdg_dir(ld, "XDG_STATE_HOME", ".local/state");
	if (dir == NULL)
		return err_set(e, MC_ERR_CONFIG, "[state] path is not set and neither are "
		    "$XDG_STATE_HOME nor $HOME; set one");
	cfg->state_path = xasprintf("%s/moodlecord/state.mdb", dir);
	free(dir);
	return MC_OK;
}

/* Where the token is kept: [moodle] token_file, else beside the config
 * file, named after it (so two configs never share a token). */
static enum mc_err
token_file_path(struct config_loader *ld, struct config *cfg, struct err *e)
{
	if (config_is_set(ld, K_TOKEN_FILE))
		return config_expand_path(ld, K_TOKEN_FILE, &cfg->token_file, e);
	if (ld->file != NULL)
		cfg->token_file = tokenfile_default_path(ld->file);
	return MC_OK;
}

enum mc_err
config_open(struct config *cfg, const char *path, unsigned need, struct err *e)
{
	struct config_loader *ld = xcalloc(1, sizeof *ld);
	enum mc_err rc;
	int k;

	memset(cfg, 0, sizeof *cfg);
	cfg->pending = ld;
	ld->need = need;
	rc = find_and_parse(ld, path, e);
	if (rc == MC_OK)
		rc = config_apply_env(ld, e);
	if (rc != MC_OK)
		goto free_cfg;
	for (k = 0; k < NKEYS; k++)
		if (keydefs[k].max > 0)
			*(int64_t *)(void *)((char *)cfg + keydefs[k].field) = keydefs[k].def;
	cfg->ping.n = 1;
	cfg->ping.m[0] = cfg->ping_minutes = 5;
	rc = check_values(ld, cfg, e);
	if (rc == MC_OK)
		rc = fill_defaults(ld, cfg, e);
	if (rc == MC_OK)
		rc = token_file_path(ld, cfg, e);
	if (rc == MC_OK)
		rc = check_needs(ld, cfg, need, e);
	if (rc != MC_OK)
		goto free_cfg;
	if (ld->file != NULL)
		cfg->file = xstrdup(ld->file);
	return MC_OK;
free_cfg:
	config_free(cfg);
	return rc;
}

enum mc_err
config_load(struct config *cfg, const char *path, unsigned need, struct err *e)
{
	enum mc_err rc = config_open(cfg, path, need, e);

	if (rc != MC_OK)
		return rc;
	rc = config_read_secrets(cfg, e);
	if (rc != MC_OK)
		config_free(cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	config_loader_free(cfg->pending);
	free(cfg->file);
	free(cfg->moodle_url);
	free(cfg->username);
	secret_free(cfg->password);
	secret_free(cfg->token);
	free(cfg->token_file);
	config_free_list(cfg->modules, cfg->nmodules);
	config_free_list(cfg->courses, cfg->ncourses);
	secret_free(cfg->webhook_url);
	free(cfg->role_id);
	free(cfg->thread_id);
	free(cfg->discord_username);
	config_free_list(cfg->tags, cfg->ntags);
	config_routes_free(cfg);
	secret_free(cfg->bot_token);
	free(cfg->guild_id);
	free(cfg->state_path);
	secrets_free(&cfg->secrets);
	memset(cfg, 0, sizeof *cfg);
}
