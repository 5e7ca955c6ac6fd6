/* login: sign in to the Moodle site once, with a password or in a
 * browser, and keep the token for the other verbs (the Moodle side is
 * lib/login.h, the file lib/tokenfile.h).  The one verb that talks to a
 * person: it asks on the terminal, or reads standard input in scripts,
 * and never waits when there is neither (cron). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "http.h"
#include "login.h"
#include "moodle.h"
#include "secret.h"
#include "tokenfile.h"

#define LINE_MAX_LEN 8192

static const char no_person[] = "no terminal and nothing on standard input: run "
	"'moodlecord login' yourself in a terminal (cron's sync and ping then use the token "
	"it keeps)";

/* ---- reading a person's answer ------------------------------------------ */

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* A signal while the password is typed: give the terminal its echo back
 * before dying of the signal. */
static void
restore_tty_and_die(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

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
			secret_wipe(buf, cap);
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
		secret_wipe(buf, cap);
	free(buf);
	if (errno != 0 && errno != EBADF)
		return err_set(e, MC_ERR_IO, "cannot read standard input: %s", strerror(errno));
	return err_set(e, MC_ERR_USAGE, "%s", why);
}

/* The password: typed on the terminal without echo, or the first line of
 * standard input when that is no terminal. */
static enum mc_err
ask_password(const char *username, char **password, struct err *e)
{
	char *prompt = xasprintf("password for %s: ", username);
	enum mc_err rc = ask_secret(prompt, password, e);

	free(prompt);
	return rc;
}

enum mc_err
ask_secret(const char *prompt, char **secret, struct err *e)
{
	struct termios quiet;
	struct sigaction sa = { 0 }, old[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	enum mc_err rc;
	int i;

	if (!isatty(STDIN_FILENO))
		return read_line(stdin, 0, no_person, secret, e);
	if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
		return err_set(e, MC_ERR_IO, "cannot read the terminal's settings: %s", strerror(errno));
	sa.sa_handler = restore_tty_and_die;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* the echo goes off before the prompt shows: what is typed after
	 * seeing it is never echoed */
	tty_changed = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	if (!tty_changed) {
		for (i = 0; i < 4; i++)
			sigaction(sigs[i], &old[i], NULL);
		return err_set(e, MC_ERR_IO, "cannot switch the terminal's echo off: %s",
		    strerror(errno));
	}
	fputs(prompt, stderr);
	fflush(stderr);
	rc = read_line(stdin, 0, "no answer given", secret, e);
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	tty_changed = 0;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	fputc('\n', stderr);
	return rc;
}

/* The username: asked on a terminal (the config's by default), else the
 * config's. */
static enum mc_err
ask_username(struct ctx *c, char **username, struct err *e)
{
	const char *def = c->cfg.username;
	char *line;
	enum mc_err rc;

	*username = NULL;
	if (!isatty(STDIN_FILENO)) {
		if (def == NULL)
			return err_set(e, MC_ERR_CONFIG, "no terminal to ask the username on: set "
			    "[moodle] username in the config");
		*username = xstrdup(def);
		return MC_OK;
	}
	fprintf(stderr, def != NULL ? "username [%s]: " : "username: ", def);
	fflush(stderr);
	rc = read_line(stdin, 0, "no username given", &line, e);
	if (rc != MC_OK)
		return rc;
	if (*line == '\0' && def != NULL) {
		free(line);
		line = xstrdup(def);
	}
	if (*line == '\0') {
		free(line);
		return err_set(e, MC_ERR_USAGE, "no username given");
	}
	*username = line;
	return MC_OK;
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
		secret_free(line);
	}
	secret_wipe(passport, sizeof passport);
	return rc;
}

/* ---- the verb ------------------------------------------------------------ */

/* Sign in with the username and password a person gives. */
static enum mc_err
password_flow(struct ctx *c, struct http *h, struct login_link *link, struct err *e)
{
	char *username = NULL, *password = NULL;
	enum mc_err rc;

	rc = ask_username(c, &username, e);
	if (rc == MC_OK)
		rc = ask_password(username, &password, e);
	if (rc == MC_OK) {
		secrets_add(&c->cfg.secrets, password);
		rc = moodle_sign_in(&c->cfg, h, username, password, &link->token, e);
	}
	secret_free(password);
	free(username);
	return rc;
}

/* Ask the site how it signs in.  A site that cannot say (a Moodle older
 * than the call) still takes a password; maintenance stops here. */
static enum mc_err
probe(struct ctx *c, struct http *h, struct login_site *site, int *have_site, struct err *e)
{
	char *mismatch;
	enum mc_err rc;

	*have_site = 0;
	rc = login_site_fetch(h, c->cfg.moodle_url, site, e);
	if (rc != MC_OK) {
		if (rc == MC_ERR_TEMP || c->sso)
			return rc;
		warn(c, "%s; signing in with a password", e->msg);
		return MC_OK;
	}
	*have_site = 1;
	rc = login_site_allows(site, e);
	if (rc != MC_OK)
		return rc;
	mismatch = login_url_mismatch(c->cfg.moodle_url, site->wwwroot);
	if (mismatch != NULL) {
		warn(c, "%s", mismatch);
		free(mismatch);
	}
	return MC_OK;
}

/* Keep the token where the other verbs look for it, then say who signed
 * in. */
static enum mc_err
keep_token(struct ctx *c, struct http *h, const struct login_link *link, struct err *e)
{
	struct moodle_site who = { 0 };
	enum mc_err rc;

	if (c->cfg.token_file == NULL)
		return err_set(e, MC_ERR_CONFIG, "no config file to keep the token beside: "
		    "create one, or set [moodle] token_file");
	rc = tokenfile_save(c->cfg.token_file, link->token, link->privatetoken, e);
	if (rc != MC_OK)
		return rc;
	rc = moodle_whoami(&c->cfg, h, link->token, &who, e);
	if (rc == MC_OK) {
		out(c, "signed in to %s as %s (%zu course%s)", who.sitename, who.fullname,
		    who.ncourses, who.ncourses == 1 ? "" : "s");
		info(c, "the token is kept in %s", c->cfg.token_file);
	}
	moodle_site_free(&who);
	return rc;
}

enum mc_err
verb_login(struct ctx *c, struct err *e)
{
	struct login_site site = { 0 };
	struct login_link link = { 0 };
	struct http *h;
	int have_site;
	enum mc_err rc;

	/* A closed standard input would be taken by the next file opened
	 * (the config, a socket) and read as the person's answer. */
	if (fcntl(STDIN_FILENO, F_GETFD) == -1 && open("/dev/null", O_RDONLY) != STDIN_FILENO)
		return err_set(e, MC_ERR_IO, "standard input is closed and /dev/null cannot take its place");
	/* read straight from the descriptor: a password or link never rests
	 * in stdio's buffer, which nothing would wipe */
	setvbuf(stdin, NULL, _IONBF, 0);
	rc = ctx_open_config(c, 0, e);
	if (rc != MC_OK)
		return rc;
	if (c->cfg.moodle_url == NULL)
		return err_set(e, MC_ERR_CONFIG, "[moodle] url is not set: add the site root "
		    "(e.g. https://moodle.example.edu) to the config");
	h = http_new((long)c->cfg.connect_timeout, (long)c->cfg.timeout, 0);
	rc = probe(c, h, &site, &have_site, e);
	if (rc != MC_OK)
		goto site_free;
	if (c->sso || (have_site && login_site_wants_browser(&site)))
		rc = browser_flow(c, &site, &link, e);
	else
		rc = password_flow(c, h, &link, e);
	if (rc != MC_OK)
		goto link_free;
	secrets_add(&c->cfg.secrets, link.token);
	secrets_add(&c->cfg.secrets, link.privatetoken);
	rc = keep_token(c, h, &link, e);
link_free:
	login_link_free(&link);
site_free:
	login_site_free(&site);
	http_free(h);
	return rc;
}

/* ---- the questions init asks the same way (cmd.h) ------------------------ */

enum mc_err
ask_line(const char *prompt, char **line, struct err *e)
{
	fputs(prompt, stderr);
	fflush(stderr);
	return read_line(stdin, 0, "no answer given", line, e);
}

enum mc_err
ask_username_of(struct ctx *c, char **username, struct err *e)
{
	return ask_username(c, username, e);
}

enum mc_err
ask_browser_link(struct ctx *c, const struct login_site *site, struct login_link *link,
    struct err *e)
{
	return browser_flow(c, site, link, e);
}
