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
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum section { SEC_MOODLE, SEC_DISCORD, SEC_SCHEDULE, SEC_STATE, SEC_HTTP, NSECTIONS };

static const char *const section_names[NSECTIONS] = {
	"moodle", "discord", "schedule", "state", "http"
};

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
enum group { G_NONE, G_PASSWORD, G_TOKEN, G_WEBHOOK };

static const struct keydef {
	enum section sec;
	const char *name;
	enum group group;
	int secret;              /* the value itself is a secret             */
	int64_t min, max, def;   /* numbers only (max > 0)                   */
} keydefs[NKEYS] = {
	[K_URL]              = { SEC_MOODLE,   "url",              G_NONE,     0, 0, 0, 0 },
	[K_USERNAME]         = { SEC_MOODLE,   "username",         G_NONE,     0, 0, 0, 0 },
	[K_PASSWORD]         = { SEC_MOODLE,   "password",         G_PASSWORD, 1, 0, 0, 0 },
	[K_PASSWORD_FILE]    = { SEC_MOODLE,   "password_file",    G_PASSWORD, 0, 0, 0, 0 },
	[K_PASSWORD_COMMAND] = { SEC_MOODLE,   "password_command", G_PASSWORD, 0, 0, 0, 0 },
	[K_TOKEN]            = { SEC_MOODLE,   "token",            G_TOKEN,    1, 0, 0, 0 },
	[K_TOKEN_FILE]       = { SEC_MOODLE,   "token_file",       G_TOKEN,    0, 0, 0, 0 },
	[K_MODULES]          = { SEC_MOODLE,   "modules",          G_NONE,     0, 0, 0, 0 },
	[K_LOOKAHEAD_DAYS]   = { SEC_MOODLE,   "lookahead_days",   G_NONE,     0, 1, 366, 30 },
	[K_COURSES]          = { SEC_MOODLE,   "courses",          G_NONE,     0, 0, 0, 0 },
	[K_WEBHOOK_URL]      = { SEC_DISCORD,  "webhook_url",      G_WEBHOOK,  1, 0, 0, 0 },
	[K_WEBHOOK_URL_FILE] = { SEC_DISCORD,  "webhook_url_file", G_WEBHOOK,  0, 0, 0, 0 },
	[K_ROLE_ID]          = { SEC_DISCORD,  "role_id",          G_NONE,     0, 0, 0, 0 },
	[K_PING_MINUTES]     = { SEC_DISCORD,  "ping_minutes",     G_NONE,     0, 1, 1440, 5 },
	[K_THREAD_ID]        = { SEC_DISCORD,  "thread_id",        G_NONE,     0, 0, 0, 0 },
	[K_DISCORD_USERNAME] = { SEC_DISCORD,  "username",         G_NONE,     0, 0, 0, 0 },
	[K_MEETING_MINUTES]  = { SEC_SCHEDULE, "meeting_minutes",  G_NONE,     0, 1, 1440, 90 },
	[K_STATE_PATH]       = { SEC_STATE,    "path",             G_NONE,     0, 0, 0, 0 },
	[K_CONNECT_TIMEOUT]  = { SEC_HTTP,     "connect_timeout",  G_NONE,     0, 1, 300, 10 },
	[K_TIMEOUT]          = { SEC_HTTP,     "timeout",          G_NONE,     0, 1, 3600, 30 },
	[K_DEADLINE]         = { SEC_HTTP,     "deadline",         G_NONE,     0, 1, 86400, 1200 },
};

/* The most read of a secret file or a command's output. */
#define SECRET_MAX (64 * 1024)

/* One raw value and where it came from: a line of the file, or a variable. */
struct raw {
	char *val;   /* NULL = not given; "" = given empty, same as not given  */
	int line;    /* file line, 0 when from the environment                 */
	char *env;   /* the variable's name when from the environment          */
};

struct loader {
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
};

static void
wipe_free(char *s)
{
	if (s != NULL) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static int
is_set(const struct loader *L, enum key k)
{
	return L->raw[k].val != NULL && L->raw[k].val[0] != '\0';
}

/* Where a value came from, as the start of an error line:
 * "FILE:LINE: [section] key" or "MOODLECORD_SECTION_KEY". */
static void
origin(const struct loader *L, enum key k, char *out, size_t n)
{
	const struct raw *r = &L->raw[k];

	if (r->env != NULL)
		snprintf(out, n, "%s", r->env);
	else
		snprintf(out, n, "%s:%d: [%s] %s", L->file, r->line,
		    section_names[keydefs[k].sec], keydefs[k].name);
}

/* Fail with "ORIGIN: message". */
static enum mc_err
bad(const struct loader *L, enum key k, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum mc_err
bad(const struct loader *L, enum key k, struct err *e, const char *fmt, ...)
{
	char where[512];
	va_list ap;
	char *msg;

	origin(L, k, where, sizeof where);
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(e, MC_ERR_CONFIG, "%s: %s", where, msg);
	free(msg);
	return MC_ERR_CONFIG;
}

/* Record the first problem met while parsing, at the current line. */
static void
parse_problem(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
parse_problem(struct loader *L, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (L->err_line != 0)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	L->err_line = L->lineno;
	err_set(&L->perr, MC_ERR_CONFIG, "%s:%d: %s", L->file, L->lineno, msg);
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
	struct loader *L = stream;
	ssize_t n;
	char *p, *end;

	n = getline(&L->line, &L->linecap, L->f);
	if (n < 0)
		return NULL;
	L->lineno++;
	p = L->line;
	if (L->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark */
	while (*p == ' ' || *p == '\t')
		p++;
	if ((size_t)(n - (p - L->line)) + 1 > (size_t)num) {
		parse_problem(L, "line too long (at most %d characters)", num - 3);
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (end != NULL) {
			char *name = xstrndup(p + 1, (size_t)(end - p - 1));

			if (find_section(name) < 0)
				parse_problem(L, "unknown section [%s] (sections: [moodle], "
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
	struct loader *L = user;
	struct raw *r;
	int sec, k;
	char *hint;

	if (*section == '\0') {
		parse_problem(L, "key '%s' comes before any [section]; put it under "
		    "the section it belongs to", name);
		return 1;
	}
	sec = find_section(section);
	if (sec < 0)
		return 1; /* reported at the section's header */
	if (strpbrk(name, " \t") != NULL) {
		/* "url https://x" is read by inih as key "url https" (':' may
		 * separate a key from its value). */
		parse_problem(L, "not a 'key = value' line nor a [section] header");
		return 1;
	}
	k = find_key(sec, name);
	if (k < 0) {
		hint = key_hint(sec, name);
		parse_problem(L, "unknown key '%s' in [%s] (%s)", name, section_names[sec], hint);
		free(hint);
		return 1;
	}
	r = &L->raw[k];
	if (r->val != NULL) {
		parse_problem(L, "[%s] %s: given twice (also on line %d); keep one",
		    section_names[sec], keydefs[k].name, r->line);
		return 1;
	}
	r->val = xstrdup(value);
	r->line = L->lineno;
	return 1;
}

static const char *
home_dir(struct loader *L)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (L->home != NULL)
		return L->home;
	if (h == NULL || *h == '\0') {
		pw = getpwuid(getuid());
		h = pw != NULL ? pw->pw_dir : NULL;
	}
	if (h == NULL || *h == '\0')
		return NULL;
	L->home = xstrdup(h);
	return L->home;
}

/* An XDG base directory: the variable when absolute, else ~/FALLBACK. */
static char *
xdg_dir(struct loader *L, const char *var, const char *fallback)
{
	const char *v = getenv(var);
	const char *h;

	if (v != NULL && v[0] == '/')
		return xstrdup(v);
	h = home_dir(L);
	if (h == NULL)
		return NULL;
	return xasprintf("%s/%s", h, fallback);
}

/* "~" and "~/..." become $HOME; other paths are kept as they are. */
static enum mc_err
expand_path(struct loader *L, enum key k, char **out, struct err *e)
{
	const char *v = L->raw[k].val;
	const char *h;

	if (v[0] == '~' && (v[1] == '\0' || v[1] == '/')) {
		h = home_dir(L);
		if (h == NULL)
			return bad(L, k, e, "cannot expand ~: $HOME is not set; give a full path");
		*out = xasprintf("%s%s", h, v + 1);
		return MC_OK;
	}
	if (v[0] == '~')
		return bad(L, k, e, "only ~/ is expanded, not ~user; give a full path");
	*out = xstrdup(v);
	return MC_OK;
}

/* Open the config file and parse it into L->raw.  A missing file is an
 * error when named (-c, $MOODLECORD_CONFIG), fine otherwise. */
static enum mc_err
parse_file(struct loader *L, const char *path, int named, int *holds_secret_readable,
    struct err *e)
{
	struct stat st;
	int fd, rc, k;
	enum mc_err ret = MC_OK;

	*holds_secret_readable = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (!named && (errno == ENOENT || errno == ENOTDIR)) {
			L->tried = path;
			return MC_OK;
		}
		return err_set(e, MC_ERR_CONFIG, "cannot open config file %s: %s%s", path,
		    strerror(errno), named ? "" : "; fix it or name another with -c FILE");
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, MC_ERR_CONFIG, "config file %s is not a regular file", path);
	}
	L->f = fdopen(fd, "r");
	if (L->f == NULL) {
		close(fd);
		return err_set(e, MC_ERR_CONFIG, "cannot read config file %s: %s", path,
		    strerror(errno));
	}
	L->file = path;
	rc = ini_parse_stream(read_line, L, on_pair, L);
	if (ferror(L->f))
		ret = err_set(e, MC_ERR_IO, "cannot read config file %s: %s", path, strerror(errno));
	else if (rc > 0 && (L->err_line == 0 || rc < L->err_line))
		ret = err_set(e, MC_ERR_CONFIG, "%s:%d: not a 'key = value' line nor a "
		    "[section] header", path, rc);
	else if (L->err_line != 0)
		ret = err_set(e, MC_ERR_CONFIG, "%s", L->perr.msg);
	else if (rc < 0)
		ret = err_set(e, MC_ERR_CONFIG, "cannot read config file %s", path);
	fclose(L->f);
	L->f = NULL;
	if (L->line != NULL) {
		memset(L->line, 0, L->linecap);
		free(L->line);
		L->line = NULL;
	}
	if (ret != MC_OK)
		return ret;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		for (k = 0; k < NKEYS; k++)
			if (keydefs[k].secret && is_set(L, k))
				*holds_secret_readable = k + 1;
	return MC_OK;
}

/* Apply MOODLECORD_<SECTION>_<KEY>.  A secret given in the environment
 * replaces every source of that secret given in the file. */
static enum mc_err
apply_env(struct loader *L, struct err *e)
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
					struct raw *r = &L->raw[j];

					if (keydefs[j].group == keydefs[k].group && r->env == NULL &&
					    r->val != NULL) {
						wipe_free(r->val);
						r->val = NULL;
					}
				}
				continue;
			}
			wipe_free(L->raw[k].val);
			L->raw[k].val = xstrdup(eq + 1);
			L->raw[k].line = 0;
			free(L->raw[k].env);
			L->raw[k].env = xstrdup(name);
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

static int
is_loopback(const char *host, size_t len)
{
	unsigned part[4];
	size_t i = 0;
	int nparts = 0;

	if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0))
		return 1;
	while (nparts < 4) {
		size_t digits = 0;

		part[nparts] = 0;
		while (i < len && isdigit((unsigned char)host[i]) && digits < 4) {
			part[nparts] = part[nparts] * 10 + (unsigned)(host[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || part[nparts] > 255)
			return 0;
		nparts++;
		if (nparts < 4) {
			if (i >= len || host[i] != '.')
				return 0;
			i++;
		}
	}
	return i == len && part[0] == 127;
}

/* What is wrong with URL u, NULL when nothing.  The URL may be a secret,
 * so the answer never quotes it. */
static const char *
url_problem(const char *u, int site_root)
{
	const char *p, *host, *hend;
	size_t alen;
	int https;

	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "must not contain spaces or control characters";
	if (strncasecmp(u, "https://", 8) == 0)
		https = 1;
	else if (strncasecmp(u, "http://", 7) == 0)
		https = 0;
	else
		return "must start with https://";
	host = u + (https ? 8 : 7);
	alen = strcspn(host, "/?#");
	if (memchr(host, '@', alen) != NULL)
		return "must not hold a user name or password; use the other keys";
	if (host[0] == '[') {
		hend = memchr(host, ']', alen);
		if (hend == NULL)
			return "has a bad host";
		hend++;
	} else {
		hend = host + strcspn(host, ":/?#");
	}
	if (hend == host)
		return "has no host";
	if (*hend == ':') {
		const char *q = hend + 1;
		size_t digits = strspn(q, "0123456789");
		int64_t port;
		char tmp[8];

		if (digits == 0 || digits > 5 || q + digits != host + alen)
			return "has a bad port";
		memcpy(tmp, q, digits);
		tmp[digits] = '\0';
		if (parse_int64(tmp, 1, 65535, &port) != 0)
			return "has a bad port";
	} else if (hend != host + alen) {
		return "has a bad host";
	}
	if (!https && !is_loopback(host, (size_t)(hend - host)))
		return "http:// is only allowed for loopback hosts; use https://";
	if (site_root && strpbrk(host, "?#") != NULL)
		return "must be the site root, without ?query or #fragment";
	return NULL;
}

/* A Discord snowflake: 17 to 20 digits. */
static int
is_snowflake(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return s[n] == '\0' && n >= 17 && n <= 20;
}

static size_t
codepoints(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Check every value given, whatever the verb needs, and fill cfg with the
 * values that need no reading or running. */
static enum mc_err
check_values(struct loader *L, struct config *cfg, struct err *e)
{
	const char *problem;
	size_t i, len;
	int k, j;
	enum mc_err rc;

	for (k = 0; k < NKEYS; k++) {
		const struct keydef *d = &keydefs[k];
		const char *v = L->raw[k].val;

		if (!is_set(L, k))
			continue;
		if (d->max > 0) {
			int64_t *dst = k == K_LOOKAHEAD_DAYS ? &cfg->lookahead_days :
			    k == K_PING_MINUTES ? &cfg->ping_minutes :
			    k == K_MEETING_MINUTES ? &cfg->meeting_minutes :
			    k == K_CONNECT_TIMEOUT ? &cfg->connect_timeout :
			    k == K_TIMEOUT ? &cfg->timeout : &cfg->deadline;

			if (parse_int64(v, d->min, d->max, dst) != 0)
				return bad(L, k, e, "'%.40s' is not a number (%lld-%lld)", v,
				    (long long)d->min, (long long)d->max);
			continue;
		}
		switch (k) {
		case K_URL:
			problem = url_problem(v, 1);
			if (problem != NULL)
				return bad(L, k, e, "%s%s", problem,
				    strncmp(problem, "must start", 10) == 0 ?
				    ", e.g. https://moodle.example.edu" : "");
			len = strlen(v);
			while (len > 0 && v[len - 1] == '/')
				len--;
			cfg->moodle_url = xstrndup(v, len);
			break;
		case K_USERNAME:
			cfg->username = xstrdup(v);
			break;
		case K_PASSWORD:
			cfg->password = xstrdup(v);
			secrets_add(&cfg->secrets, v);
			break;
		case K_TOKEN:
			cfg->token = xstrdup(v);
			secrets_add(&cfg->secrets, v);
			break;
		case K_WEBHOOK_URL:
			secrets_add(&cfg->secrets, v);
			problem = url_problem(v, 0);
			if (problem != NULL)
				return bad(L, k, e, "%s (Discord gives "
				    "https://discord.com/api/webhooks/ID/TOKEN)", problem);
			cfg->webhook_url = xstrdup(v);
			break;
		case K_MODULES:
			free_list(cfg->modules, cfg->nmodules);
			cfg->modules = split_list(v, &cfg->nmodules);
			for (i = 0; i < cfg->nmodules; i++) {
				const char *m = cfg->modules[i];

				if (strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(m))
					return bad(L, k, e, "'%.40s' is not a module name (lower-case "
					    "letters, digits and _, e.g. bigbluebuttonbn, zoom)", m);
			}
			break;
		case K_COURSES:
			cfg->courses = split_list(v, &cfg->ncourses);
			break;
		case K_ROLE_ID:
		case K_THREAD_ID:
			if (!is_snowflake(v))
				return bad(L, k, e, "'%.40s' is not a Discord id (17 to 20 digits; "
				    "in Discord: Developer Mode, then Copy ID)", v);
			if (k == K_ROLE_ID)
				cfg->role_id = xstrdup(v);
			else
				cfg->thread_id = xstrdup(v);
			break;
		case K_DISCORD_USERNAME:
			if (!utf8_valid(v, strlen(v)) || codepoints(v) > 80)
				return bad(L, k, e, "must be valid UTF-8 of at most 80 characters");
			cfg->discord_username = xstrdup(v);
			break;
		case K_STATE_PATH:
			rc = expand_path(L, k, &cfg->state_path, e);
			if (rc != MC_OK)
				return rc;
			break;
		default:
			break; /* file paths and commands: used when needed */
		}
	}

	/* Exactly one source per secret; the later one is named. */
	for (k = 0; k < NKEYS; k++) {
		if (keydefs[k].group == G_NONE || L->raw[k].val == NULL)
			continue;
		for (j = k + 1; j < NKEYS; j++) {
			char first[512];
			int a = k, b = j;

			if (keydefs[j].group != keydefs[k].group || L->raw[j].val == NULL)
				continue;
			if (L->raw[k].env == NULL && L->raw[j].env == NULL &&
			    L->raw[k].line > L->raw[j].line) {
				a = j;
				b = k;
			}
			if (L->raw[a].env != NULL)
				snprintf(first, sizeof first, "%s", L->raw[a].env);
			else
				snprintf(first, sizeof first, "%s (line %d)", keydefs[a].name,
				    L->raw[a].line);
			return bad(L, b, e, "also given as %s; keep one of %s", first,
			    keydefs[k].group == G_PASSWORD ? "password, password_file, password_command" :
			    keydefs[k].group == G_TOKEN ? "token, token_file" :
			    "webhook_url, webhook_url_file");
		}
	}
	if (is_set(L, K_TOKEN) || is_set(L, K_TOKEN_FILE)) {
		int user_side[] = { K_USERNAME, K_PASSWORD, K_PASSWORD_FILE, K_PASSWORD_COMMAND };

		for (i = 0; i < sizeof user_side / sizeof user_side[0]; i++)
			if (is_set(L, user_side[i]))
				return bad(L, is_set(L, K_TOKEN) ? K_TOKEN : K_TOKEN_FILE, e,
				    "both username/password and token are set; keep one");
	}
	return MC_OK;
}

/* The first line of text, trailing blanks cut; NULL when it is empty. */
static char *
first_line(const char *text, size_t len)
{
	size_t n = 0;

	while (n < len && text[n] != '\n' && text[n] != '\0')
		n++;
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	return n > 0 ? xstrndup(text, n) : NULL;
}

static const char *
what_secret(enum key k)
{
	return keydefs[k].group == G_PASSWORD ? "password" :
	    keydefs[k].group == G_TOKEN ? "token" : "webhook URL";
}

static enum mc_err
secret_from_file(struct loader *L, enum key k, char **out, struct err *e)
{
	struct buf b = { 0 };
	struct stat st;
	char chunk[4096], *path = NULL;
	ssize_t n;
	int fd = -1;
	enum mc_err rc;

	rc = expand_path(L, k, &path, e);
	if (rc != MC_OK)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = bad(L, k, e, "cannot open %s: %s", path, strerror(errno));
		goto free_path;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = bad(L, k, e, "%s is not a regular file", path);
		goto close_fd;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		rc = bad(L, k, e, "%s holds the %s and can be read by group or others; "
		    "run: chmod 600 %s", path, what_secret(k), path);
		goto close_fd;
	}
	while (b.len < SECRET_MAX) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = bad(L, k, e, "cannot read %s: %s", path, strerror(errno));
			goto wipe_buf;
		}
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t)n);
		if (memchr(chunk, '\n', (size_t)n) != NULL)
			break;
	}
	*out = first_line(b.data != NULL ? b.data : "", b.len);
	if (*out == NULL)
		rc = bad(L, k, e, "%s is empty; put the %s on its first line", path, what_secret(k));
wipe_buf:
	if (b.data != NULL)
		memset(b.data, 0, b.cap);
	buf_free(&b);
	memset(chunk, 0, sizeof chunk);
close_fd:
	close(fd);
free_path:
	free(path);
	return rc;
}

/* Run password_command with /bin/sh -c; the first line it prints is the
 * password.  Its stderr goes to /dev/null: it could echo the secret.  A
 * command still running after `limit` seconds is killed: a cron run must
 * not hang on a password manager waiting for a person. */
static enum mc_err
secret_from_command(struct loader *L, enum key k, int64_t limit, char **out, struct err *e)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	pid_t pid;
	int fd[2], status, err;
	time_t end;
	enum mc_err rc = MC_OK;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	char *argv[] = { "sh", "-c", L->raw[k].val, NULL };

	if (pipe(fd) != 0)
		return bad(L, k, e, "cannot run it: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	posix_spawnattr_init(&attr);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		rc = bad(L, k, e, "cannot run it: %s", strerror(err));
		close(fd[0]);
		close(fd[1]);
		return rc;
	}
	close(fd[1]);
	end = time(NULL) + limit;
	for (;;) {
		struct pollfd pfd = { .fd = fd[0], .events = POLLIN };
		time_t left = end - time(NULL);

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000)) == 0) {
			kill(pid, SIGKILL);
			close(fd[0]);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			rc = bad(L, k, e, "did not finish within %lld seconds ([http] timeout); "
			    "it must print the password without asking", (long long)limit);
			goto wipe_buf;
		}
		n = read(fd[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Keep reading past the limit so the command is never blocked. */
		if (b.len < SECRET_MAX)
			buf_add(&b, chunk, (size_t)n);
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = bad(L, k, e, "cannot wait for it: %s", strerror(errno));
			goto wipe_buf;
		}
	}
	if (WIFSIGNALED(status)) {
		rc = bad(L, k, e, "was killed by signal %d; run it by hand to see why",
		    WTERMSIG(status));
		goto wipe_buf;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = bad(L, k, e, "failed with status %d; run it by hand to see why",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto wipe_buf;
	}
	*out = first_line(b.data != NULL ? b.data : "", b.len);
	if (*out == NULL)
		rc = bad(L, k, e, "printed nothing; it must print the password on its first line");
wipe_buf:
	if (b.data != NULL)
		memset(b.data, 0, b.cap);
	buf_free(&b);
	memset(chunk, 0, sizeof chunk);
	return rc;
}

/* Read a secret from its file or command; *dst keeps an inline one. */
static enum mc_err
resolve_secret(struct loader *L, struct config *cfg, enum key file_key, enum key cmd_key,
    char **dst, struct err *e)
{
	char *v = NULL;
	enum mc_err rc;

	if (is_set(L, file_key))
		rc = secret_from_file(L, file_key, &v, e);
	else if (cmd_key != NKEYS && is_set(L, cmd_key))
		rc = secret_from_command(L, cmd_key, cfg->timeout, &v, e);
	else
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	secrets_add(&cfg->secrets, v);
	wipe_free(*dst);
	*dst = v;
	return MC_OK;
}

/* The token of a webhook URL (.../webhooks/ID/TOKEN) is a secret on its
 * own: logs may show a path without the rest of the URL. */
static void
add_webhook_token(struct config *cfg)
{
	const char *p = strstr(cfg->webhook_url, "/webhooks/");
	size_t n;

	if (p == NULL)
		return;
	p = strchr(p + 10, '/');
	if (p == NULL)
		return;
	p++;
	n = strcspn(p, "/?#");
	if (n > 0) {
		char *tok = xstrndup(p, n);

		secrets_add(&cfg->secrets, tok);
		wipe_free(tok);
	}
}

/* "in FILE or MOODLECORD_X_Y", for a key that is missing. */
static char *
where_to_set(const struct loader *L, enum key k)
{
	char env[128];
	size_t i;

	snprintf(env, sizeof env, "MOODLECORD_%s_%s", section_names[keydefs[k].sec],
	    keydefs[k].name);
	for (i = 0; env[i] != '\0'; i++)
		env[i] = (char)toupper((unsigned char)env[i]);
	if (L->file != NULL)
		return xasprintf("add it to %s (or set %s)", L->file, env);
	return xasprintf("no config file (looked for %s); create it (or set %s)",
	    L->tried != NULL ? L->tried : "one", env);
}

static enum mc_err
missing(const struct loader *L, enum key k, const char *what, struct err *e)
{
	char *w = where_to_set(L, k);

	err_set(e, MC_ERR_CONFIG, "[%s] %s is not set%s%s; %s", section_names[keydefs[k].sec],
	    keydefs[k].name, what ? " " : "", what ? what : "", w);
	free(w);
	return MC_ERR_CONFIG;
}

static enum mc_err
check_needs(struct loader *L, struct config *cfg, unsigned need, struct err *e)
{
	enum mc_err rc;

	if (need & CONFIG_NEED_MOODLE) {
		int token = is_set(L, K_TOKEN) || is_set(L, K_TOKEN_FILE);
		int pass = is_set(L, K_PASSWORD) || is_set(L, K_PASSWORD_FILE) ||
		    is_set(L, K_PASSWORD_COMMAND);

		if (cfg->moodle_url == NULL)
			return missing(L, K_URL, "(the site root, e.g. https://moodle.example.edu)", e);
		if (!token && !pass && cfg->username == NULL)
			return missing(L, K_USERNAME, "and there is no token: give username and "
			    "password_command, password_file or password, or token_file or token", e);
		if (!token && cfg->username == NULL)
			return missing(L, K_USERNAME, "(a password is given)", e);
		if (!token && !pass)
			return missing(L, K_PASSWORD_FILE, "nor password_command nor password "
			    "(a username is given)", e);
		rc = resolve_secret(L, cfg, K_PASSWORD_FILE, K_PASSWORD_COMMAND, &cfg->password, e);
		if (rc != MC_OK)
			return rc;
		rc = resolve_secret(L, cfg, K_TOKEN_FILE, NKEYS, &cfg->token, e);
		if (rc != MC_OK)
			return rc;
	}
	if (need & CONFIG_NEED_DISCORD) {
		if (!is_set(L, K_WEBHOOK_URL) && !is_set(L, K_WEBHOOK_URL_FILE))
			return missing(L, K_WEBHOOK_URL_FILE, "nor webhook_url "
			    "(Discord: channel settings, Integrations, Webhooks, Copy Webhook URL)", e);
		rc = resolve_secret(L, cfg, K_WEBHOOK_URL_FILE, NKEYS, &cfg->webhook_url, e);
		if (rc != MC_OK)
			return rc;
		if (is_set(L, K_WEBHOOK_URL_FILE)) {
			const char *problem = url_problem(cfg->webhook_url, 0);

			if (problem != NULL)
				return bad(L, K_WEBHOOK_URL_FILE, e, "the URL in the file %s "
				    "(Discord gives https://discord.com/api/webhooks/ID/TOKEN)", problem);
		}
	}
	if (cfg->webhook_url != NULL)
		add_webhook_token(cfg);
	return MC_OK;
}

static void
loader_free(struct loader *L)
{
	int k;

	for (k = 0; k < NKEYS; k++) {
		wipe_free(L->raw[k].val);
		free(L->raw[k].env);
	}
	free(L->home);
}

enum mc_err
config_load(struct config *cfg, const char *path, unsigned need, struct err *e)
{
	struct loader L = { 0 };
	char *file = NULL, *fallback = NULL, *tried = NULL, *dir;
	const char *env, *home;
	int named = 1, readable_secret = 0;
	enum mc_err rc;

	memset(cfg, 0, sizeof *cfg);
	env = getenv("MOODLECORD_CONFIG");
	if (path != NULL) {
		file = xstrdup(path);
	} else if (env != NULL && *env != '\0') {
		file = xstrdup(env);
	} else {
		named = 0;
		dir = xdg_dir(&L, "XDG_CONFIG_HOME", ".config");
		if (dir != NULL)
			file = xasprintf("%s/moodlecord/config", dir);
		free(dir);
		/* ~/.config/moodlecord/config comes after $XDG_CONFIG_HOME's,
		 * so a file found from cron (no XDG_CONFIG_HOME) is found from
		 * a login shell too. */
		home = home_dir(&L);
		if (home != NULL)
			fallback = xasprintf("%s/.config/moodlecord/config", home);
		if (fallback != NULL && file != NULL && strcmp(fallback, file) == 0) {
			free(fallback);
			fallback = NULL;
		}
	}
	if (file != NULL) {
		rc = parse_file(&L, file, named, &readable_secret, e);
		if (rc != MC_OK)
			goto free_cfg;
	}
	if (L.file == NULL && fallback != NULL) {
		tried = file != NULL ? xasprintf("%s and %s", file, fallback) : NULL;
		L.tried = NULL;
		free(file);
		file = fallback;
		fallback = NULL;
		rc = parse_file(&L, file, named, &readable_secret, e);
		if (rc != MC_OK)
			goto free_cfg;
		if (tried != NULL)
			L.tried = tried;
	}
	if (readable_secret) {
		enum key k = (enum key)(readable_secret - 1);

		rc = err_set(e, MC_ERR_CONFIG, "%s holds a secret ([%s] %s on line %d) and can "
		    "be read by group or others; run: chmod 600 %s", file,
		    section_names[keydefs[k].sec], keydefs[k].name, L.raw[k].line, file);
		goto free_cfg;
	}
	rc = apply_env(&L, e);
	if (rc != MC_OK)
		goto free_cfg;

	cfg->lookahead_days = keydefs[K_LOOKAHEAD_DAYS].def;
	cfg->ping_minutes = keydefs[K_PING_MINUTES].def;
	cfg->meeting_minutes = keydefs[K_MEETING_MINUTES].def;
	cfg->connect_timeout = keydefs[K_CONNECT_TIMEOUT].def;
	cfg->timeout = keydefs[K_TIMEOUT].def;
	cfg->deadline = keydefs[K_DEADLINE].def;
	rc = check_values(&L, cfg, e);
	if (rc != MC_OK)
		goto free_cfg;
	if (cfg->nmodules == 0) {
		free(cfg->modules);
		cfg->modules = split_list("bigbluebuttonbn", &cfg->nmodules);
	}
	if (cfg->state_path == NULL) {
		dir = xdg_dir(&L, "XDG_STATE_HOME", ".local/state");
		if (dir == NULL) {
			rc = err_set(e, MC_ERR_CONFIG, "[state] path is not set and neither are "
			    "$XDG_STATE_HOME nor $HOME; set one");
			goto free_cfg;
		}
		cfg->state_path = xasprintf("%s/moodlecord/state.mdb", dir);
		free(dir);
	}
	rc = check_needs(&L, cfg, need, e);
	if (rc != MC_OK)
		goto free_cfg;
	if (L.file != NULL)
		cfg->file = xstrdup(L.file);
	free(file);
	free(fallback);
	free(tried);
	loader_free(&L);
	return MC_OK;
free_cfg:
	free(file);
	free(fallback);
	free(tried);
	loader_free(&L);
	config_free(cfg);
	return rc;
}

void
config_free(struct config *cfg)
{
	free(cfg->file);
	free(cfg->moodle_url);
	free(cfg->username);
	wipe_free(cfg->password);
	wipe_free(cfg->token);
	free_list(cfg->modules, cfg->nmodules);
	free_list(cfg->courses, cfg->ncourses);
	wipe_free(cfg->webhook_url);
	free(cfg->role_id);
	free(cfg->thread_id);
	free(cfg->discord_username);
	free(cfg->state_path);
	secrets_free(&cfg->secrets);
	memset(cfg, 0, sizeof *cfg);
}
