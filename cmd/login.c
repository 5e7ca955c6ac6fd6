/* login: sign in to the Moodle site once, with a password or in a
 * browser, and keep the token for the other verbs (the Moodle side is
 * lib/login.h, the file lib/tokenfile.h).  The one verb that talks to a
 * person: it asks on the terminal, or reads standard input in scripts,
 * and never waits when there is neither (cron). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "http.h"
#include "login.h"
#include "moodle.h"
#include "tokenfile.h"

#define LINE_MAX_LEN 8192

static const char no_person[] = "no terminal and nothing on standard input: run "
	"'moodlecord login' yourself in a terminal (cron's sync and ping then use the token "
	"it keeps)";

/* ---- reading a person's answer ------------------------------------------ */

/* One line of f into *line (no newline; caller wipes and frees it), blank
 * lines skipped when skip_blank.  MC_OK, or MC_ERR_USAGE at the end of
 * input (why says what was awaited), or MC_ERR_DATA for a line too long. */
static enum mc_err
read_line(FILE *f, int skip_blank, const char *why, char **line, struct err *e)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	*line = NULL;
	for (;;) {
		errno = 0;
		n = getline(&buf, &cap, f);
		if (n < 0)
			break;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n > LINE_MAX_LEN) {
			explicit_bzero(buf, cap);
			free(buf);
			return err_set(e, MC_ERR_DATA, "the line given is longer than %d bytes",
			    LINE_MAX_LEN);
		}
		if (!skip_blank || strspn(buf, " \t") != (size_t)n) {
			*line = buf;
			return MC_OK;
		}
	}
	if (buf != NULL)
		explicit_bzero(buf, cap);
	free(buf);
	if (errno != 0 && errno != EBADF)
		return err_set(e, MC_ERR_IO, "cannot read standard input: %s", strerror(errno));
	return err_set(e, MC_ERR_USAGE, "%s", why);
}

static void
wipe_line(char *line)
{
	if (line != NULL) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
}

/* ---- the browser flow --------------------------------------------------- */

static enum mc_err
pick_provider(struct ctx *c, const struct login_site *site, int64_t *oauthsso, struct err *e)
{
	size_t i;

	*oauthsso = 0;
	if (site->nproviders > 0) {
		out(c, "This site's sign-in buttons (moodlecord login --sso --provider N goes "
		    "straight to one):");
		for (i = 0; i < site->nproviders; i++)
			out(c, "  %zu. %s", i + 1, site->providers[i].name);
	}
	if (c->provider == 0)
		return MC_OK;
	if (c->provider < 0 || (size_t)c->provider > site->nproviders)
		return err_set(e, MC_ERR_USAGE, "--provider %lld: the site lists %zu sign-in "
		    "button%s", (long long)c->provider, site->nproviders,
		    site->nproviders == 1 ? "" : "s");
	*oauthsso = site->providers[c->provider - 1].oauthsso;
	if (*oauthsso == 0)
		return err_set(e, MC_ERR_USAGE, "--provider %lld (%s) is not an OAuth 2 provider "
		    "that the launch address can go to: leave --provider out and pick it on the "
		    "site's login page", (long long)c->provider, site->providers[c->provider - 1].name);
	return MC_OK;
}

/* Print where to sign in, read the link back and check it. */
static enum mc_err
browser_flow(struct ctx *c, const struct login_site *site, struct login_link *link,
    struct err *e)
{
	char passport[LOGIN_PASSPORT_LEN + 1], *url, *line;
	int64_t oauthsso;
	enum mc_err rc;

	rc = pick_provider(c, site, &oauthsso, e);
	if (rc != MC_OK)
		return rc;
	rc = login_passport(passport, e);
	if (rc != MC_OK)
		return rc;
	url = login_launch_url(site, c->cfg.moodle_url, passport, oauthsso);
	if (!login_site_wants_browser(site) && oauthsso == 0)
		out(c, "This site signs in within the app: first sign in on %s/login/index.php, "
		    "then open the address below in the same browser.", site->wwwroot);
	out(c, "Open this address in a browser and sign in:");
	out(c, "  %s", url);
	out(c, "The site then sends the browser to a link starting with moodlemobile:// (or "
	    "another app's scheme), which the browser cannot open. Copy that link from the "
	    "address bar, or from the developer tools' network tab (the last request's "
	    "Location), and paste it here.");
	free(url);
	if (fflush(stdout) != 0)
		return err_set(e, MC_ERR_IO, "cannot write to standard output");
	if (isatty(STDIN_FILENO)) {
		fputs("link: ", stderr);
		fflush(stderr);
	}
	rc = read_line(stdin, 1, isatty(STDIN_FILENO) ? "no link given" : no_person, &line, e);
	if (rc == MC_OK) {
		rc = login_link_decode(line, site->wwwroot, passport, link, e);
		wipe_line(line);
	}
	explicit_bzero(passport, sizeof passport);
	return rc;
}

/* ---- the verb ------------------------------------------------------------ */

/* Keep the token where the other verbs look for it. */
static enum mc_err
keep_token(struct ctx *c, const struct login_link *link, char **where, struct err *e)
{
	*where = NULL;
	if (c->cfg.file == NULL)
		return err_set(e, MC_ERR_CONFIG, "no config file to keep the token beside: "
		    "create one (moodlecord(1), CONFIGURATION)");
	*where = tokenfile_default_path(c->cfg.file);
	return tokenfile_save(*where, link->token, link->privatetoken, e);
}

enum mc_err
verb_login(struct ctx *c, struct err *e)
{
	struct login_site site = { 0 };
	struct login_link link = { 0 };
	struct http *h;
	char *where = NULL, *mismatch;
	enum mc_err rc;

	/* A closed standard input would be taken by the next file opened
	 * (the config, a socket) and read as the person's answer. */
	if (fcntl(STDIN_FILENO, F_GETFD) == -1 && open("/dev/null", O_RDONLY) != STDIN_FILENO)
		return err_set(e, MC_ERR_IO, "standard input is closed and /dev/null cannot take its place");
	rc = ctx_load_config(c, 0, e);
	if (rc != MC_OK)
		return rc;
	if (c->cfg.moodle_url == NULL)
		return err_set(e, MC_ERR_CONFIG, "[moodle] url is not set: add the site root "
		    "(e.g. https://moodle.example.edu) to the config");
	rc = http_global_init(e);
	if (rc != MC_OK)
		return rc;
	h = http_new((long)c->cfg.connect_timeout, (long)c->cfg.timeout, 0);
	rc = login_site_fetch(h, c->cfg.moodle_url, &site, e);
	if (rc == MC_OK)
		rc = login_site_allows(&site, e);
	if (rc != MC_OK)
		goto site_free;
	mismatch = login_url_mismatch(c->cfg.moodle_url, site.wwwroot);
	if (mismatch != NULL) {
		warn(c, "%s", mismatch);
		free(mismatch);
	}
	if (!c->sso && !login_site_wants_browser(&site)) {
		rc = err_set(e, MC_ERR_UNAVAILABLE, "%s signs in with a password in the app; "
		    "signing in with a password is not built yet: use moodlecord login --sso",
		    site.wwwroot);
		goto site_free;
	}
	rc = browser_flow(c, &site, &link, e);
	if (rc != MC_OK)
		goto site_free;
	rc = keep_token(c, &link, &where, e);
	if (rc == MC_OK)
		out(c, "signed in to %s; the token is kept in %s", site.sitename, where);
	free(where);
	login_link_free(&link);
site_free:
	login_site_free(&site);
	http_free(h);
	http_global_cleanup();
	return rc;
}
