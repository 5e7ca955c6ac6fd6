/* config_file: the INI file (read with inih) and the
 * MOODLECORD_<SECTION>_<KEY> variables, into the raw values of a
 * config_loader, each remembering where it came from. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "secret.h"

extern char **environ;

void
config_parse_problem(struct config_loader *ld, const char *fmt, ...)
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

int
config_find_key(int sec, const char *name)
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

char *
config_key_hint(int sec, const char *name)
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
		config_parse_problem(ld, "line too long (at most %d characters)", num - 3);
		snprintf(str, (size_t)num, "\n");
		return str;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (end != NULL) {
			char *name = xstrndup(p + 1, (size_t)(end - p - 1));

			if (config_route_header(name))
				config_route_pair(ld, name, NULL, NULL);
			else if (find_section(name) < 0)
				config_parse_problem(ld, "unknown section [%s] (sections: [moodle], "
				    "[discord], [route NAME], [schedule], [state], [http])", name);
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
		config_parse_problem(ld, "key '%s' comes before any [section]; put it under "
		    "the section it belongs to", name);
		return 1;
	}
	if (config_route_header(section)) {
		config_route_pair(ld, section, name, value);
		return 1;
	}
	sec = find_section(section);
	if (sec < 0)
		return 1; /* reported at the section's header */
	if (strpbrk(name, " \t") != NULL) {
		/* "url https://x" is read by inih as key "url https" (':' may
		 * separate a key from its value). */
		config_parse_problem(ld, "not a 'key = value' line nor a [section] header");
		return 1;
	}
	k = config_find_key(sec, name);
	if (k < 0) {
		hint = config_key_hint(sec, name);
		config_parse_problem(ld, "unknown key '%s' in [%s] (%s)", name, section_names[sec], hint);
		free(hint);
		return 1;
	}
	r = &ld->raw[k];
	if (r->val != NULL) {
		config_parse_problem(ld, "[%s] %s: given twice (also on line %d); keep one",
		    section_names[sec], keydefs[k].name, r->line);
		return 1;
	}
	r->val = xstrdup(value);
	r->line = ld->lineno;
	return 1;
}

/* Open the config file and parse it into ld->raw.  A missing file is an
 * error when named (-c, $MOODLECORD_CONFIG), fine otherwise. */
/* A file others may read holds no route's inline secret (webhook_url,
 * bot_token) either. */
static enum mc_err
routes_private(const struct config_loader *ld, const char *path, struct err *e)
{
	size_t i;
	int k;

	for (i = 0; i < ld->nroutes; i++)
		for (k = 0; k < NKEYS; k++)
			if (keydefs[k].secret && ld->routes[i].raw[k].val != NULL &&
			    ld->routes[i].raw[k].val[0] != '\0')
				return err_set(e, MC_ERR_CONFIG, "%s holds a secret ([route %s] %s on "
				    "line %d) and can be read by group or others; run: chmod 600 %s",
				    path, ld->routes[i].name, keydefs[k].name, ld->routes[i].raw[k].line,
				    path);
	return MC_OK;
}

enum mc_err
config_parse_file(struct config_loader *ld, const char *path, int named, enum key *readable_secret,
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
	if (st.st_mode & (S_IRGRP | S_IROTH))
		return routes_private(ld, path, e);
	return MC_OK;
}

/* Apply MOODLECORD_<SECTION>_<KEY>.  A secret given in the environment
 * replaces every source of that secret given in the file. */
enum mc_err
config_apply_env(struct config_loader *ld, struct err *e)
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
				k = config_find_key(s, key);
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

