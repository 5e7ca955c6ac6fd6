/* init: the first run, at a terminal.  Asks for the Moodle site and
 * probes it, signs in the way the site allows (login's own password and
 * browser flows), asks for the webhook and checks it with Discord, then
 * the role and the reminder minutes; writes the config (and the password
 * or token file beside it), runs check and says how to schedule the runs.
 *
 * Every file it writes is its owner's alone (0600, folders it makes
 * 0700), written whole to a temporary file that is then renamed (or
 * linked, when an existing file must not be replaced), so a config is
 * there complete or not at all.  Secrets typed are never echoed and are
 * wiped once written. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "discord.h"
#include "http.h"
#include "login.h"
#include "moodle.h"
#include "secret.h"
#include "tokenfile.h"
#include "url.h"

/* What the person answered; secrets wiped by answers_free. */
struct answers {
	char *path;              /* the config file, absolute              */
	char *password_file;     /* path + ".password" when kept, else NULL */
	char *username;          /* NULL on a single sign-on site          */
	char *password;          /* secret, kept only when asked to        */
	struct login_link link;  /* the token when it is kept instead      */
	char *webhook;           /* secret                                 */
	char *role;              /* NULL: no role pinged                   */
	int64_t minutes;
};

static void
answers_free(struct answers *a)
{
	free(a->path);
	free(a->password_file);
	free(a->username);
	secret_free(a->password);
	login_link_free(&a->link);
	secret_free(a->webhook);
	free(a->role);
}

/* ---- where the config goes ---------------------------------------------- */

/* The file to write: -c, else the first place moodlecord reads by default
 * ($MOODLECORD_CONFIG, $XDG_CONFIG_HOME/moodlecord/config, then
 * ~/.config/moodlecord/config), made absolute so the lines printed for
 * cron and the password_file it names work from any directory. */
static enum mc_err
target_path(struct ctx *c, char **path, struct err *e)
{
	const char *env = getenv("MOODLECORD_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char cwd[PATH_MAX];
	char *p;

	if (c->config_path != NULL)
		p = xstrdup(c->config_path);
	else if (env != NULL && *env != '\0')
		p = xstrdup(env);
	else if (xdg != NULL && xdg[0] == '/')
		p = xasprintf("%s/moodlecord/config", xdg);
	else if (home != NULL && home[0] == '/')
		p = xasprintf("%s/.config/moodlecord/config", home);
	else
		return err_set(e, MC_ERR_USAGE, "$HOME is not set: name the config file with -c");
	if (p[0] != '/') {
		if (getcwd(cwd, sizeof cwd) == NULL) {
			free(p);
			return err_set(e, MC_ERR_IO, "cannot tell the current folder: %s",
			    strerror(errno));
		}
		*path = xasprintf("%s/%s", cwd, p);
		free(p);
	} else {
		*path = p;
	}
	return MC_OK;
}

/* Make the folders above path that are missing, each 0700. */
static enum mc_err
make_parents(const char *path, struct err *e)
{
	char *dir = xstrdup(path), *p;
	enum mc_err rc = MC_OK;

	for (p = strchr(dir + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = err_set(e, MC_ERR_IO, "cannot make the folder %s: %s", dir,
			    strerror(errno));
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

static int
write_whole(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write text to path, 0600, through a temporary file in the same folder,
 * flushed to disk, then renamed over path (replace) or linked to it
 * (never replacing a file that is there).  MC_OK, or MC_ERR_IO (or
 * MC_ERR_USAGE for a file already there) with path untouched. */
static enum mc_err
file_write_private(const char *path, const char *text, int replace, struct err *e)
{
	char *tmp = xasprintf("%s.XXXXXX", path), *slash;
	enum mc_err rc = MC_OK;
	int fd, dfd;

	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write beside %s: %s", path, strerror(errno));
		goto tmp_free;
	}
	if (fchmod(fd, 0600) != 0 || write_whole(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		goto tmp_unlink;
	}
	if (close(fd) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto tmp_unlink;
	}
	if (replace ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		if (errno == EEXIST)
			rc = err_set(e, MC_ERR_USAGE, "%s is there already: moodlecord init "
			    "--force replaces it", path);
		else
			rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		goto tmp_unlink;
	}
	slash = strrchr(tmp, '/');
	*slash = '\0';
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	*slash = '/';
	if (replace)
		goto tmp_free;
tmp_unlink:
	unlink(tmp);
tmp_free:
	free(tmp);
	return rc;
}

/* Refuse early, before any question, a file that would be replaced. */
static enum mc_err
refuse_existing(const char *path, struct err *e)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return err_set(e, MC_ERR_USAGE, "%s is there already: moodlecord init --force "
		    "replaces it (or -c names another file)", path);
	return MC_OK;
}

/* ---- the questions ------------------------------------------------------ */

/* The site: asked until it answers as a Moodle that lets the app in.  A
 * url unlike the site's own wwwroot becomes the wwwroot. */
static enum mc_err
ask_site(struct ctx *c, struct http *h, struct login_site *site, struct err *e)
{
	const char *problem;
	char *line, *mismatch;
	enum mc_err rc;

	for (;;) {
		rc = ask_line("Moodle site (e.g. https://moodle.example.edu): ", &line, e);
		if (rc != MC_OK)
			return rc;
		line[strcspn(line, " \t")] = '\0';
		problem = url_problem(line, 1);
		if (problem != NULL) {
			out(c, "That is not a site address: %s.", problem);
			free(line);
			continue;
		}
		free(c->cfg.moodle_url);
		c->cfg.moodle_url = xstrndup(line, url_trim_slashes(line, strlen(line)));
		free(line);
		login_site_free(site);
		rc = login_site_fetch(h, c->cfg.moodle_url, site, e);
		if (rc == MC_OK)
			rc = login_site_allows(site, e);
		if (rc == MC_OK)
			break;
		out(c, "%s", e->msg);
	}
	mismatch = login_url_mismatch(c->cfg.moodle_url, site->wwwroot);
	if (mismatch != NULL) {
		out(c, "%s: using %s", mismatch, site->wwwroot);
		free(mismatch);
		free(c->cfg.moodle_url);
		c->cfg.moodle_url = xstrdup(site->wwwroot);
	}
	out(c, "%s signs in %s.", site->sitename, login_site_wants_browser(site) ?
	    "in a browser (single sign-on)" : "with a username and password");
	return MC_OK;
}

/* A yes or no question; def when only Enter is typed. */
static enum mc_err
ask_yes(const char *prompt, int def, int *yes, struct err *e)
{
	char *line;
	enum mc_err rc;

	for (;;) {
		rc = ask_line(prompt, &line, e);
		if (rc != MC_OK)
			return rc;
		*yes = line[0] == '\0' ? def : line[0] == 'y' || line[0] == 'Y' ? 1 :
		    line[0] == 'n' || line[0] == 'N' ? 0 : -1;
		free(line);
		if (*yes >= 0)
			return MC_OK;
	}
}

/* Who the token belongs to, said once signed in. */
static enum mc_err
say_signed_in(struct ctx *c, struct http *h, const char *token, struct err *e)
{
	struct moodle_site who = { 0 };
	enum mc_err rc;

	rc = moodle_whoami(&c->cfg, h, token, &who, e);
	if (rc == MC_OK)
		out(c, "Signed in to %s as %s (%zu course%s).", who.sitename, who.fullname,
		    who.ncourses, who.ncourses == 1 ? "" : "s");
	moodle_site_free(&who);
	return rc;
}

/* The password flow: asked again while Moodle refuses it, then kept (for
 * moodlecord to sign in again by itself) or only its token. */
static enum mc_err
sign_in_password(struct ctx *c, struct http *h, struct answers *a, struct err *e)
{
	char *prompt, *token = NULL;
	enum mc_err rc;
	int keep;

	for (;;) {
		rc = ask_username_of(c, &a->username, e);
		if (rc != MC_OK)
			return rc;
		prompt = xasprintf("password for %s (not shown): ", a->username);
		rc = ask_secret(prompt, &a->password, e);
		free(prompt);
		if (rc != MC_OK)
			return rc;
		secrets_add(&c->cfg.secrets, a->password);
		rc = moodle_sign_in(&c->cfg, h, a->username, a->password, &token, e);
		if (rc != MC_ERR_AUTH)
			break;
		out(c, "%s", e->msg);
		free(a->username);
		secret_free(a->password);
		a->username = a->password = NULL;
	}
	if (rc != MC_OK)
		return rc;
	secrets_add(&c->cfg.secrets, token);
	rc = say_signed_in(c, h, token, e);
	a->password_file = xasprintf("%s.password", a->path);
	if (rc == MC_OK) {
		out(c, "moodlecord can keep the password in %s (readable by you only) and sign "
		    "in again by itself when the token expires, or keep only the token, which "
		    "lasts about a semester (then: moodlecord login).", a->password_file);
		rc = ask_yes("Keep the password? [Y/n] ", 1, &keep, e);
	}
	if (rc == MC_OK && !keep) {
		secret_free(a->password);
		a->password = NULL;
		free(a->password_file);
		a->password_file = NULL;
		a->link.token = token;
		token = NULL;
	}
	secret_free(token);
	return rc;
}

static enum mc_err
sign_in_browser(struct ctx *c, struct http *h, const struct login_site *site,
    struct answers *a, struct err *e)
{
	enum mc_err rc;

	rc = ask_browser_link(c, site, &a->link, e);
	if (rc != MC_OK)
		return rc;
	secrets_add(&c->cfg.secrets, a->link.token);
	secrets_add(&c->cfg.secrets, a->link.privatetoken);
	return say_signed_in(c, h, a->link.token, e);
}

/* Try the webhook URL with Discord: MC_OK with its name and channel said,
 * or Discord's refusal in e. */
static enum mc_err
try_webhook(struct ctx *c, const char *url, struct err *e)
{
	struct discord *d;
	char *name = NULL, *channel = NULL;
	enum mc_err rc;

	d = discord_new(url, NULL, (long)c->cfg.connect_timeout, (long)c->cfg.timeout,
	    (int64_t)time(NULL) + c->cfg.timeout * 4, e);
	if (d == NULL)
		return MC_ERR_CONFIG;
	rc = discord_get_webhook(d, &name, &channel, e);
	if (rc == MC_OK)
		out(c, "The webhook \"%s\" posts to channel %s.", name, channel);
	free(name);
	free(channel);
	discord_free(d);
	return rc;
}

/* The webhook: asked without echo (its token is a secret) until Discord
 * takes it.  A network failure ends the run; a refusal asks again. */
static enum mc_err
ask_webhook(struct ctx *c, struct answers *a, struct err *e)
{
	struct discord_url u = { 0 };
	enum mc_err rc;

	for (;;) {
		rc = ask_secret("Discord webhook URL (channel settings, Integrations, Webhooks; "
		    "not shown): ", &a->webhook, e);
		if (rc != MC_OK)
			return rc;
		a->webhook[strcspn(a->webhook, " \t")] = '\0';
		secrets_add_whole(&c->cfg.secrets, a->webhook);
		if (discord_url_parse(a->webhook, &u, e) == MC_OK)
			secrets_add(&c->cfg.secrets, u.token);
		discord_url_free(&u);
		rc = try_webhook(c, a->webhook, e);
		if (rc == MC_OK || rc == MC_ERR_TEMP || rc == MC_ERR_UNAVAILABLE)
			return rc;
		out(c, "%s; try again.", e->msg);
		secret_free(a->webhook);
		a->webhook = NULL;
	}
}

static enum mc_err
ask_role(struct ctx *c, struct answers *a, struct err *e)
{
	char *line, *id;
	enum mc_err rc;

	for (;;) {
		rc = ask_line("Role to ping before each conference (its id; Enter for none): ",
		    &line, e);
		if (rc != MC_OK)
			return rc;
		/* a mention copied from Discord, <@&ID>, is taken too */
		id = line + strspn(line, " \t<@&");
		id[strcspn(id, " \t>")] = '\0';
		if (*id == '\0' || snowflake_valid(id)) {
			a->role = *id != '\0' ? xstrdup(id) : NULL;
			free(line);
			return MC_OK;
		}
		free(line);
		out(c, "A role id is 17 to 20 digits (Server Settings, Roles, right-click the "
		    "role, Copy Role ID; with Developer Mode on).");
	}
}

static enum mc_err
ask_minutes(struct ctx *c, struct answers *a, struct err *e)
{
	char *line;
	enum mc_err rc;
	int bad;

	for (;;) {
		rc = ask_line("Minutes before a conference to ping [5]: ", &line, e);
		if (rc != MC_OK)
			return rc;
		a->minutes = 5;
		bad = line[0] != '\0' && parse_int64(line, 1, 1440, &a->minutes) != 0;
		free(line);
		if (!bad)
			return MC_OK;
		out(c, "A number of minutes from 1 to 1440, please.");
	}
}

/* ---- writing it --------------------------------------------------------- */

static char *
config_text(const struct answers *a, const char *url)
{
	struct buf b = { 0 };

	buf_adds(&b, "# moodlecord's config, written by moodlecord init (moodlecord(1), "
	    "CONFIGURATION)\n\n[moodle]\n");
	buf_addf(&b, "url = %s\n", url);
	if (a->username != NULL)
		buf_addf(&b, "username = %s\n", a->username);
	if (a->password_file != NULL)
		buf_addf(&b, "password_file = %s\n", a->password_file);
	buf_addf(&b, "\n[discord]\nwebhook_url = %s\n", a->webhook);
	if (a->role != NULL)
		buf_addf(&b, "role_id = %s\n", a->role);
	buf_addf(&b, "ping_minutes = %lld\n", (long long)a->minutes);
	return buf_take(&b);
}

/* The password or token file first, the config last: a config that is
 * there is complete. */
static enum mc_err
write_files(struct ctx *c, const struct answers *a, struct err *e)
{
	char *text, *tokenfile;
	enum mc_err rc;

	rc = make_parents(a->path, e);
	if (rc == MC_OK && a->password != NULL) {
		text = xasprintf("%s\n", a->password);
		rc = file_write_private(a->password_file, text, c->force, e);
		secret_free(text);
	}
	if (rc == MC_OK && a->link.token != NULL) {
		tokenfile = tokenfile_default_path(a->path);
		rc = tokenfile_save(tokenfile, a->link.token, a->link.privatetoken, e);
		free(tokenfile);
	}
	if (rc != MC_OK)
		return rc;
	text = config_text(a, c->cfg.moodle_url);
	rc = file_write_private(a->path, text, c->force, e);
	secret_free(text);
	if (rc == MC_OK)
		out(c, "Wrote %s.", a->path);
	return rc;
}

/* The length of NAME when path is DIR/NAME.conf, else 0. */
static size_t
instance_of(const char *path, const char *dir)
{
	size_t d = strlen(dir), n;

	if (strncmp(path, dir, d) != 0 || strchr(path + d, '/') != NULL)
		return 0;
	n = strlen(path + d);
	return n > 5 && strcmp(path + d + n - 5, ".conf") == 0 ? n - 5 : 0;
}

/* How to run sync and ping from now on: the systemd instance when the
 * file is where the units look (/etc/moodlecord/NAME.conf for the
 * system's, $XDG_CONFIG_HOME/moodlecord/NAME.conf for a user's), and cron
 * lines always. */
static void
say_schedule(struct ctx *c, const char *path)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *userdir = NULL, self[PATH_MAX];
	size_t sys, user = 0;
	ssize_t len;

	if (xdg != NULL && xdg[0] == '/')
		userdir = xasprintf("%s/moodlecord/", xdg);
	else if (home != NULL && home[0] == '/')
		userdir = xasprintf("%s/.config/moodlecord/", home);
	sys = instance_of(path, "/etc/moodlecord/");
	if (userdir != NULL)
		user = instance_of(path, userdir);
	if (sys > 0 || user > 0) {
		out(c, "To run it with systemd (sync every 30 minutes, ping every minute):");
		out(c, "  systemctl%s enable --now moodlecord-sync@%.*s.timer "
		    "moodlecord-ping@%.*s.timer", sys > 0 ? "" : " --user",
		    (int)(sys + user), strrchr(path, '/') + 1,
		    (int)(sys + user), strrchr(path, '/') + 1);
		if (sys > 0 && getuid() == 0)
			out(c, "  (the system services run as the user moodlecord, which must own "
			    "the files written: chown moodlecord: %s*)", path);
		out(c, "or with cron (crontab -e):");
	} else {
		out(c, "To run it, add these lines to your crontab (crontab -e):");
	}
	free(userdir);
	len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0)
		len = snprintf(self, sizeof self, "moodlecord");
	self[len] = '\0';
	out(c, "  */30 * * * *  %s -c %s sync", self, path);
	out(c, "  * * * * *     %s -c %s ping", self, path);
}

/* ---- the verb ----------------------------------------------------------- */

/* The questions, in the order a person meets them. */
static enum mc_err
ask_all(struct ctx *c, struct http *h, struct answers *a, struct err *e)
{
	struct login_site site = { 0 };
	enum mc_err rc;

	rc = ask_site(c, h, &site, e);
	if (rc == MC_OK && login_site_wants_browser(&site))
		rc = sign_in_browser(c, h, &site, a, e);
	else if (rc == MC_OK)
		rc = sign_in_password(c, h, a, e);
	login_site_free(&site);
	if (rc == MC_OK)
		rc = ask_webhook(c, a, e);
	if (rc == MC_OK)
		rc = ask_role(c, a, e);
	if (rc == MC_OK)
		rc = ask_minutes(c, a, e);
	return rc;
}

enum mc_err
verb_init(struct ctx *c, struct err *e)
{
	struct answers a = { 0 };
	struct http *h;
	enum mc_err rc;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return err_set(e, MC_ERR_USAGE, "init asks its questions at a terminal: run it "
		    "in one (ssh -t for a remote machine), or write the config by hand "
		    "(moodlecord(1), CONFIGURATION)");
	/* read straight from the descriptor: a password never rests in
	 * stdio's buffer, which nothing would wipe */
	setvbuf(stdin, NULL, _IONBF, 0);
	rc = target_path(c, &a.path, e);
	if (rc == MC_OK && !c->force)
		rc = refuse_existing(a.path, e);
	if (rc != MC_OK)
		goto answers_free;
	out(c, "This writes %s. Ctrl-C stops at any question; nothing is written before "
	    "the last one.", a.path);
	/* the config being made: what the Moodle and Discord clients read */
	c->cfg_loaded = 1;
	c->cfg.connect_timeout = 10;
	c->cfg.timeout = 30;
	c->cfg.lookahead_days = 30;
	h = http_new((long)c->cfg.connect_timeout, (long)c->cfg.timeout, 0);
	rc = ask_all(c, h, &a, e);
	http_free(h);
	if (rc == MC_OK)
		rc = write_files(c, &a, e);
	if (rc != MC_OK)
		goto answers_free;
	config_free(&c->cfg);
	c->cfg_loaded = 0;
	c->config_path = a.path;
	out(c, "Checking it (moodlecord check):");
	rc = verb_check(c, e);
	if (rc == MC_OK)
		say_schedule(c, a.path);
	else
		err_prefix(e, "the config is written, but check failed: ");
	c->config_path = NULL;
answers_free:
	answers_free(&a);
	return rc;
}
