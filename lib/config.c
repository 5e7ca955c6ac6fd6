/* config: the INI file (inih), MOODLECORD_<SECTION>_<KEY> overrides,
 * defaults, and the secrets read from files and commands.
 *
 * Loading happens in steps: the file's pairs and the environment's go into
 * one table of raw values, each remembering where it came from (file and
 * line, or the variable), so every later check can name its origin; then
 * every value present is checked, whatever the verb needs; then the
 * requirements of `need` are checked and only the secrets it needs are read
 * or run. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config_int.h"
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
	[K_PING_MINUTES]     = { SEC_DISCORD,  "ping_minutes",     G_NONE,     0, check_number, AT(ping_minutes), 1, 1440, 5 },
	[K_THREAD_ID]        = { SEC_DISCORD,  "thread_id",        G_NONE,     0, check_id, AT(thread_id), 0, 0, 0 },
	[K_DISCORD_USERNAME] = { SEC_DISCORD,  "username",         G_NONE,     0, check_name, AT(discord_username), 0, 0, 0 },
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

/* Record the first problem met while parsing, at the current line. */
static void
parse_problem(struct config_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
parse_problem(struct config_loader *ld, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (ld->err_line != 0)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	ld->err_line = ld->lineno;
	err_set(&ld->perr, MC_ERR_CONFIG, "%s:%d: %s", ld->file, ld->lineno, msg);
	free(msg);
}

static int
find_section(const char *name)
{
	int s;

	for (s = 0; s < NSECTIONS; s++)
		if (strcasecmp(name, section_names[s]) == 0)
			return s;
	return -1;
}

static int
find_key(int sec, const char *name)
{
	int k;

	for (k = 0; k < NKEYS; k++)
		if ((int)keydefs[k].sec == sec && strcasecmp(name, keydefs[k].name) == 0)
			return k;
	return -1;
}

/* Edit distance of two short names, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* "did you mean 'password'?" or the list of the section's keys. */
static char *
key_hint(int sec, const char *name)
{
	struct buf b = { 0 };
	size_t best = 3;
	int k, pick = -1;

	for (k = 0; k < NKEYS; k++) {
		if ((int)keydefs[k].sec != sec)
			continue;
		if (distance(name, keydefs[k].name) < best) {
			best = distance(name, keydefs[k].name);
			pick = k;
		}
	}
	if (pick >= 0) {
		buf_addf(&b, "did you mean '%s'?", keydefs[pick].name);
		return buf_take(&b);
	}
	buf_addf(&b, "[%s] has:", section_names[sec]);
	for (k = 0; k < NKEYS; k++)
		if ((int)keydefs[k].sec == sec)
			buf_addf(&b, " %s", keydefs[k].name);
	return buf_take(&b);
}

/* inih's reader: one whole line per call, counted, so the handler knows
 * the line it is called for.  Leading blanks are dropped so that inih never
 * takes an indented line for the continuation of the one before.  Section
 * headers are checked here, so an empty unknown section is caught too. */
static char *
read_line(char *str, int num, void *stream)
{
	struct config_loader *ld = stream;
	ssize_t n;
	char *p, *end;

	n = getline(&ld->line, &ld->linecap, ld->f);
	if (n < 0)
		return NULL;
	ld->lineno++;
	p = ld->line;
	if (ld->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	while (*p == ' ' || *p == '\t')
		p++;
	if ((size_t)(n - (p - ld->line)) + 1 > (size_t)num) {
		parse_problem(ld, "line too long (at most %d characters)", num - 3);
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (end != NULL) {
			char *name = xstrndup(p + 1, (size_t)(end - p - 1));

			if (find_section(name) < 0)
				parse_problem(ld, "unknown section [%s] (sections: [moodle], "
				    "[discord], [schedule], [state], [http])", name);
			free(name);
		}
	}
	snprintf(str, (size_t)num, "%s", p);
	return str;
}

static int
on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct config_loader *ld = user;
	struct raw *r;
	int sec, k;
	char *hint;

	if (*section == '\0') {
		parse_problem(ld, "key '%s' comes before any [section]; put it under "
		    "the section it belongs to", name);
		return 1;
	}
	sec = find_section(section);
	if (sec < 0)
		return 1; /* reported at the section's header */
	if (strpbrk(name, " \t") != NULL) {
		/* "url https://x" is read by inih as key "url https" (':' may
		 * separate a key from its value). */
		parse_problem(ld, "not a 'key = value' line nor a [section] header");
		return 1;
	}
	k = find_key(sec, name);
	if (k < 0) {
		hint = key_hint(sec, name);
		parse_problem(ld, "unknown key '%s' in [%s] (%s)", name, section_names[sec], hint);
		free(hint);
		return 1;
	}
	r = &ld->raw[k];
	if (r->val != NULL) {
		parse_problem(ld, "[%s] %s: given twice (also on line %d); keep one",
		    section_names[sec], keydefs[k].name, r->line);
		return 1;
	}
	r->val = xstrdup(value);
	r->line = ld->lineno;
	return 1;
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

enum mc_err
config_expand_path(struct config_loader *ld, enum key k, char **out, struct err *e)
{
	const char *v = ld->raw[k].val;
	const char *h;

	if (v[0] == '~' && (v[1] == '\0' || v[1] == '/')) {
		h = home_dir(ld);
		if (h == NULL)
			return config_bad(ld, k, e, "cannot expand ~: $HOME is not set; give a full path");
		*out = xasprintf("%s%s", h, v + 1);
		return MC_OK;
	}
	if (v[0] == '~')
		return config_bad(ld, k, e, "only ~/ is expanded, not ~user; give a full path");
	*out = xstrdup(v);
	return MC_OK;
}

/* Open the config file and parse it into ld->raw.  A missing file is an
 * error when named (-c, $MOODLECORD_CONFIG), fine otherwise. */
static enum mc_err
parse_file(struct config_loader *ld, const char *path, int named, enum key *readable_secret,
    struct err *e)
{
	struct stat st;
	int fd, rc, k;
	enum mc_err ret = MC_OK;

	*readable_secret = NKEYS;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (!named && (errno == ENOENT || errno == ENOTDIR)) {
			ld->tried = path;
			return MC_OK;
		}
		return err_set(e, MC_ERR_CONFIG, "cannot open config file %s: %s%s", path,
		    strerror(errno), named ? "" : "; fix it or name another with -c FILE");
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, MC_ERR_CONFIG, "config file %s is not a regular file", path);
	}
	ld->f = fdopen(fd, "r");
	if (ld->f == NULL) {
		close(fd);
		return err_set(e, MC_ERR_CONFIG, "cannot read config file %s: %s", path,
		    strerror(errno));
	}
	ld->file = path;
	rc = ini_parse_stream(read_line, ld, on_pair, ld);
	if (ferror(ld->f))
		ret = err_set(e, MC_ERR_IO, "cannot read config file %s: %s", path, strerror(errno));
	else if (rc > 0 && (ld->err_line == 0 || rc < ld->err_line))
		ret = err_set(e, MC_ERR_CONFIG, "%s:%d: not a 'key = value' line nor a "
		    "[section] header", path, rc);
	else if (ld->err_line != 0)
		ret = err_set(e, MC_ERR_CONFIG, "%s", ld->perr.msg);
	else if (rc < 0)
		ret = err_set(e, MC_ERR_CONFIG, "cannot read config file %s", path);
	fclose(ld->f);
	ld->f = NULL;
	secret_wipe(ld->line, ld->linecap);
	free(ld->line);
	ld->line = NULL;
	if (ret != MC_OK)
		return ret;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		for (k = 0; k < NKEYS; k++)
			if (keydefs[k].secret && config_is_set(ld, k))
				*readable_secret = (enum key)k;
	return MC_OK;
}

/* Apply MOODLECORD_<SECTION>_<KEY>.  A secret given in the environment
 * replaces every source of that secret given in the file. */
static enum mc_err
apply_env(struct config_loader *ld, struct err *e)
{
	static const char prefix[] = "MOODLECORD_";
	char **ep;
	int pass;

	/* Pass 0 checks names and drops the file's sources of overridden
	 * secrets; pass 1 sets the values. */
	for (pass = 0; pass < 2; pass++) {
		for (ep = environ; *ep != NULL; ep++) {
			const char *var = *ep, *eq = strchr(var, '='), *rest;
			char name[128], key[128];
			size_t nlen, i;
			int s, k = -1, j;

			if (eq == NULL || strncmp(var, prefix, sizeof prefix - 1) != 0)
				continue;
			nlen = (size_t)(eq - var);
			if (nlen >= sizeof name)
				nlen = sizeof name - 1;
			memcpy(name, var, nlen);
			name[nlen] = '\0';
			if (strcmp(name, "MOODLECORD_CONFIG") == 0)
				continue;
			rest = name + sizeof prefix - 1;
			for (s = 0; s < NSECTIONS && k < 0; s++) {
				size_t sl = strlen(section_names[s]);

				if (strncasecmp(rest, section_names[s], sl) != 0 || rest[sl] != '_')
					continue;
				for (i = 0; rest[sl + 1 + i] != '\0' && i < sizeof key - 1; i++)
					key[i] = (char)tolower((unsigned char)rest[sl + 1 + i]);
				key[i] = '\0';
				k = find_key(s, key);
			}
			if (k < 0)
				return err_set(e, MC_ERR_CONFIG, "environment: %s is not a setting "
				    "(MOODLECORD_<SECTION>_<KEY>, e.g. MOODLECORD_HTTP_TIMEOUT); "
				    "unset it", name);
			if (pass == 0) {
				if (keydefs[k].group == G_NONE)
					continue;
				for (j = 0; j < NKEYS; j++) {
					struct raw *r = &ld->raw[j];

					if (keydefs[j].group == keydefs[k].group && r->env == NULL &&
					    r->val != NULL) {
						secret_free(r->val);
						r->val = NULL;
					}
				}
				continue;
			}
			secret_free(ld->raw[k].val);
			ld->raw[k].val = xstrdup(eq + 1);
			ld->raw[k].line = 0;
			free(ld->raw[k].env);
			ld->raw[k].env = xstrdup(name);
		}
	}
	return MC_OK;
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

static void
free_list(char **v, size_t n)
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
config_check_webhook(struct config_loader *ld, struct config *cfg, enum key k, const char *v,
    const char *what, struct err *e)
{
	struct discord_url u;
	struct err pe = { 0 };
	const char *problem;

	secrets_add_whole(&cfg->secrets, v);
	problem = url_problem(v, 0);
	if (problem != NULL)
		return config_bad(ld, k, e, "%s%s (Discord gives "
		    "https://discord.com/api/webhooks/ID/TOKEN)", what, problem);
	/* As the Discord client will read it: a bad one is found before
	 * any network call. */
	if (discord_url_parse(v, &u, &pe) != MC_OK)
		return config_bad(ld, k, e, "%s", pe.msg);
	/* Logs may show a path without the rest of the URL. */
	secrets_add(&cfg->secrets, u.token);
	discord_url_free(&u);
	return MC_OK;
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

	free_list(cfg->modules, cfg->nmodules);
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
		K_USERNAME, K_PASSWORD, K_PASSWORD_FILE, K_PASSWORD_COMMAND
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

/* The keys `need` requires are there (their secrets are read later). */
static enum mc_err
check_needs(struct config_loader *ld, struct config *cfg, unsigned need, struct err *e)
{
	if (need & CONFIG_NEED_MOODLE) {
		int token = config_is_set(ld, K_TOKEN) || config_is_set(ld, K_TOKEN_FILE);
		int pass = config_is_set(ld, K_PASSWORD) || config_is_set(ld, K_PASSWORD_FILE) ||
		    config_is_set(ld, K_PASSWORD_COMMAND);

		if (cfg->moodle_url == NULL)
			return missing(ld, K_URL, "(the site root, e.g. https://moodle.example.edu)", e);
		if (!token && !pass && cfg->username == NULL)
			return missing(ld, K_USERNAME, "and there is no token: give username and "
			    "password_command, password_file or password, or token_file or token", e);
		if (!token && cfg->username == NULL)
			return missing(ld, K_USERNAME, "(a password is given)", e);
		if (!token && !pass)
			return missing(ld, K_PASSWORD_FILE, "nor password_command nor password "
			    "(a username is given)", e);
	}
	if ((need & CONFIG_NEED_DISCORD) && !config_is_set(ld, K_WEBHOOK_URL) &&
	    !config_is_set(ld, K_WEBHOOK_URL_FILE))
		return missing(ld, K_WEBHOOK_URL_FILE, "nor webhook_url "
		    "(Discord: channel settings, Integrations, Webhooks, Copy Webhook URL)", e);
	return MC_OK;
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
		rc = parse_file(ld, file, named, &readable, e);
	if (rc == MC_OK && ld->file == NULL && fallback != NULL) {
		ld->tried_owned = file != NULL ? xasprintf("%s and %s", file, fallback) : NULL;
		ld->tried = NULL;
		free(file);
		ld->file_owned = file = fallback;
		fallback = NULL;
		rc = parse_file(ld, file, named, &readable, e);
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
		rc = apply_env(ld, e);
	if (rc != MC_OK)
		goto free_cfg;
	for (k = 0; k < NKEYS; k++)
		if (keydefs[k].max > 0)
			*(int64_t *)(void *)((char *)cfg + keydefs[k].field) = keydefs[k].def;
	rc = check_values(ld, cfg, e);
	if (rc == MC_OK)
		rc = fill_defaults(ld, cfg, e);
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
	free_list(cfg->modules, cfg->nmodules);
	free_list(cfg->courses, cfg->ncourses);
	secret_free(cfg->webhook_url);
	free(cfg->role_id);
	free(cfg->thread_id);
	free(cfg->discord_username);
	free(cfg->state_path);
	secrets_free(&cfg->secrets);
	memset(cfg, 0, sizeof *cfg);
}
