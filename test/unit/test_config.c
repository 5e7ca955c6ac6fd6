/* config: every key, defaults, each error and its message, environment
 * overrides, lookup order, permissions, secrets from files and commands.
 * Each test runs in its own temporary HOME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

extern char **environ;

struct fx {
	char dir[64];     /* the temporary HOME                  */
	char path[128];   /* the config file tests write         */
};

static char *
pathf(const struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

static void
write_file(const char *path, int mode, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static void
clear_env(void)
{
	int again = 1;

	/* Unsetting changes environ, so start over after each. */
	while (again) {
		char **ep;

		again = 0;
		for (ep = environ; *ep != NULL; ep++) {
			if (strncmp(*ep, "MOODLECORD_", 11) == 0) {
				char *name = xstrndup(*ep, strcspn(*ep, "="));

				unsetenv(name);
				free(name);
				again = 1;
				break;
			}
		}
	}
}

static void
rm_rf(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *s;

	snprintf(f->dir, sizeof f->dir, "/tmp/mc-config.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/config", f->dir);
	clear_env();
	setenv("HOME", f->dir, 1);
	s = pathf(f, ".config");
	setenv("XDG_CONFIG_HOME", s, 1);
	free(s);
	s = pathf(f, ".local/state");
	setenv("XDG_STATE_HOME", s, 1);
	free(s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	clear_env();
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Write text as the config (mode 600) and load it with -c. */
static enum mc_err
load(struct fx *f, const char *text, unsigned need, struct config *cfg, struct err *e)
{
	write_file(f->path, 0600, text);
	memset(e, 0, sizeof *e);
	return config_load(cfg, f->path, need, e);
}

/* Expect failure with exactly "PATH" + suffix as the message (or the
 * whole message when suffix starts with '='). */
static void
expect_error(struct fx *f, const char *text, unsigned need, const char *suffix)
{
	struct config cfg;
	struct err e;
	char *want;

	assert_int_equal(load(f, text, need, &cfg, &e), MC_ERR_CONFIG);
	assert_int_equal(e.kind, MC_ERR_CONFIG);
	want = suffix[0] == '=' ? xstrdup(suffix + 1) : xasprintf("%s%s", f->path, suffix);
	assert_string_equal(e.msg, want);
	free(want);
	/* cfg was freed by config_load. */
	assert_null(cfg.moodle_url);
	assert_int_equal(cfg.secrets.n, 0);
}

#define NEED_ALL (CONFIG_NEED_MOODLE | CONFIG_NEED_DISCORD | CONFIG_NEED_STATE)
#define HOOK "https://discord.com/api/webhooks/123456789012345678/Tok-en_123.abcXYZ"

static void
test_defaults(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *sp;

	assert_int_equal(load(f, "; nothing but a comment\n", CONFIG_NEED_STATE, &cfg, &e), MC_OK);
	assert_string_equal(cfg.file, f->path);
	assert_null(cfg.moodle_url);
	assert_null(cfg.username);
	assert_null(cfg.password);
	assert_null(cfg.token);
	assert_int_equal(cfg.nmodules, 1);
	assert_string_equal(cfg.modules[0], "bigbluebuttonbn");
	assert_int_equal(cfg.lookahead_days, 30);
	assert_int_equal(cfg.ncourses, 0);
	assert_null(cfg.webhook_url);
	assert_null(cfg.role_id);
	assert_int_equal(cfg.ping_minutes, 5);
	assert_null(cfg.thread_id);
	assert_null(cfg.discord_username);
	assert_int_equal(cfg.meeting_minutes, 90);
	sp = pathf(f, ".local/state/moodlecord/state.mdb");
	assert_string_equal(cfg.state_path, sp);
	free(sp);
	assert_int_equal(cfg.connect_timeout, 10);
	assert_int_equal(cfg.timeout, 30);
	assert_int_equal(cfg.deadline, 1200);
	assert_int_equal(cfg.secrets.n, 0);
	config_free(&cfg);

	/* Without $XDG_STATE_HOME: under ~/.local/state. */
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/nonexistent/home", 1);
	assert_int_equal(load(f, "", 0, &cfg, &e), MC_OK);
	assert_string_equal(cfg.state_path, "/nonexistent/home/.local/state/moodlecord/state.mdb");
	config_free(&cfg);
}

static void
test_every_key(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *text, *sp;

	text = xasprintf(
	    "# every key\n"
	    "[moodle]\n"
	    "url = https://moodle.example.edu/sub///\n"
	    "username = alice\n"
	    "password = correct horse   ; an inline comment\n"
	    "modules = bigbluebuttonbn, zoom\n"
	    "lookahead_days = 366\n"
	    "courses = MATH 101, PHYS 2 ,,\n"
	    "\n"
	    "[discord]\n"
	    "webhook_url = %s\n"
	    "role_id = 123456789012345678\n"
	    "ping_minutes = 15\n"
	    "thread_id = 98765432109876543210\n"
	    "username = Moodle Bot\n"
	    "[schedule]\n"
	    "meeting_minutes = 45\n"
	    "[state]\n"
	    "path = ~/data/state.mdb\n"
	    "[http]\n"
	    "connect_timeout = 2\n"
	    "timeout = 3\n"
	    "deadline = 4\n", HOOK);
	assert_int_equal(load(f, text, NEED_ALL, &cfg, &e), MC_OK);
	free(text);
	assert_string_equal(cfg.moodle_url, "https://moodle.example.edu/sub");
	assert_string_equal(cfg.username, "alice");
	assert_string_equal(cfg.password, "correct horse");
	assert_null(cfg.token);
	assert_int_equal(cfg.nmodules, 2);
	assert_string_equal(cfg.modules[0], "bigbluebuttonbn");
	assert_string_equal(cfg.modules[1], "zoom");
	assert_int_equal(cfg.lookahead_days, 366);
	assert_int_equal(cfg.ncourses, 2);
	assert_string_equal(cfg.courses[0], "MATH 101");
	assert_string_equal(cfg.courses[1], "PHYS 2");
	assert_string_equal(cfg.webhook_url, HOOK);
	assert_string_equal(cfg.role_id, "123456789012345678");
	assert_int_equal(cfg.ping_minutes, 15);
	assert_string_equal(cfg.thread_id, "98765432109876543210");
	assert_string_equal(cfg.discord_username, "Moodle Bot");
	assert_int_equal(cfg.meeting_minutes, 45);
	sp = pathf(f, "data/state.mdb");
	assert_string_equal(cfg.state_path, sp);
	free(sp);
	assert_int_equal(cfg.connect_timeout, 2);
	assert_int_equal(cfg.timeout, 3);
	assert_int_equal(cfg.deadline, 4);
	config_free(&cfg);

	/* Token instead of username and password; blank-separated lists;
	 * keys and sections in any case; empty values are "not set". */
	assert_int_equal(load(f,
	    "[Moodle]\n"
	    "URL = http://127.0.0.1:8080\n"
	    "token = 0123456789abcdef0123456789abcdef\n"
	    "modules = zoom   bigbluebuttonbn\n"
	    "courses = 12 34\n"
	    "[discord]\n"
	    "webhook_url = http://127.0.0.1:9/api/v10/webhooks/123456789012345678/tok\n"
	    "role_id =\n"
	    "thread_id =\n"
	    "username =\n",
	    NEED_ALL, &cfg, &e), MC_OK);
	assert_string_equal(cfg.moodle_url, "http://127.0.0.1:8080");
	assert_string_equal(cfg.token, "0123456789abcdef0123456789abcdef");
	assert_null(cfg.username);
	assert_null(cfg.password);
	assert_int_equal(cfg.nmodules, 2);
	assert_string_equal(cfg.modules[0], "zoom");
	assert_int_equal(cfg.ncourses, 2);
	assert_string_equal(cfg.courses[1], "34");
	assert_null(cfg.role_id);
	assert_null(cfg.thread_id);
	assert_null(cfg.discord_username);
	config_free(&cfg);
}

static void
test_secrets_listed(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *text, *r;

	text = xasprintf("[moodle]\nurl = https://m.example.edu\nusername = bob\n"
	    "password = pw-secret-1\n[discord]\nwebhook_url = %s\n", HOOK);
	assert_int_equal(load(f, text, NEED_ALL, &cfg, &e), MC_OK);
	free(text);
	r = secrets_redact(&cfg.secrets, "pw-secret-1 " HOOK " /webhooks/123456789012345678/Tok-en_123.abcXYZ/messages/1");
	assert_string_equal(r, "*** *** /webhooks/123456789012345678/***/messages/1");
	free(r);
	config_free(&cfg);
}

static void
test_urls(void **state)
{
	static const char *const ok[] = {
		"http://127.0.0.1:8080/", "http://127.1.2.3", "http://[::1]:99/moodle",
		"http://localhost", "HTTP://LOCALHOST:1/x", "https://moodle.example.edu:8443/",
	};
	static const struct { const char *url, *why; } no[] = {
		{ "http://moodle.example.edu", "http:// is only allowed for loopback hosts; use https://" },
		{ "http://128.0.0.1", "http:// is only allowed for loopback hosts; use https://" },
		{ "http://localhost.evil.example", "http:// is only allowed for loopback hosts; use https://" },
		{ "http://127.0.0.1.evil.example", "http:// is only allowed for loopback hosts; use https://" },
		{ "http://127.0.0.256", "http:// is only allowed for loopback hosts; use https://" },
		{ "http://[::2]", "http:// is only allowed for loopback hosts; use https://" },
		{ "moodle.example.edu", "must start with https://, e.g. https://moodle.example.edu" },
		{ "ftp://moodle.example.edu", "must start with https://, e.g. https://moodle.example.edu" },
		{ "https://", "has no host" },
		{ "https://m.example.edu:0", "has a bad port" },
		{ "https://m.example.edu:99999", "has a bad port" },
		{ "https://m.example.edu:8x", "has a bad port" },
		{ "https://m.example.edu/?x=1", "must be the site root, without ?query or #fragment" },
		{ "https://m.example.edu/a b", "must not contain spaces or control characters" },
	};
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char *text = xasprintf("[moodle]\nurl = %s\n", ok[i]);

		assert_int_equal(load(f, text, 0, &cfg, &e), MC_OK);
		config_free(&cfg);
		free(text);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		char *text = xasprintf("[moodle]\nurl = %s\n", no[i].url);
		char *want = xasprintf(":2: [moodle] url: %s", no[i].why);

		expect_error(f, text, 0, want);
		free(want);
		free(text);
	}
	/* Credentials in the URL are refused without being echoed. */
	expect_error(f, "[moodle]\nurl = https://alice:pw-in-url@m.example.edu\n", 0,
	    ":2: [moodle] url: must not hold a user name or password; use the other keys");
	/* The webhook URL is a secret: the message never quotes it. */
	expect_error(f, "[discord]\nwebhook_url = http://discord.example/api/webhooks/1/hook-secret\n", 0,
	    ":2: [discord] webhook_url: http:// is only allowed for loopback hosts; use https:// "
	    "(Discord gives https://discord.com/api/webhooks/ID/TOKEN)");
}

static void
test_value_errors(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "[moodle]\nlookahead_days = abc\n",
		  ":2: [moodle] lookahead_days: 'abc' is not a number (1-366)" },
		{ "[moodle]\nlookahead_days = 0\n",
		  ":2: [moodle] lookahead_days: '0' is not a number (1-366)" },
		{ "[moodle]\nlookahead_days = 367\n",
		  ":2: [moodle] lookahead_days: '367' is not a number (1-366)" },
		{ "[discord]\nping_minutes = 5m\n",
		  ":2: [discord] ping_minutes: '5m' is not a number (1-1440)" },
		{ "[schedule]\nmeeting_minutes = -1\n",
		  ":2: [schedule] meeting_minutes: '-1' is not a number (1-1440)" },
		{ "[http]\nconnect_timeout = 301\n",
		  ":2: [http] connect_timeout: '301' is not a number (1-300)" },
		{ "[http]\ntimeout = 0\n",
		  ":2: [http] timeout: '0' is not a number (1-3600)" },
		{ "[http]\ndeadline = 1e3\n",
		  ":2: [http] deadline: '1e3' is not a number (1-86400)" },
		{ "[discord]\nrole_id = 1234\n",
		  ":2: [discord] role_id: '1234' is not a Discord id (17 to 20 digits; in Discord: "
		  "Developer Mode, then Copy ID)" },
		{ "[discord]\nthread_id = <#123456789012345678>\n",
		  ":2: [discord] thread_id: '<#123456789012345678>' is not a Discord id (17 to 20 "
		  "digits; in Discord: Developer Mode, then Copy ID)" },
		{ "[moodle]\nmodules = bigbluebuttonbn, Zoom\n",
		  ":2: [moodle] modules: 'Zoom' is not a module name (lower-case letters, digits "
		  "and _, e.g. bigbluebuttonbn, zoom)" },
		{ "[discord]\nusername = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxx\n",
		  ":2: [discord] username: must be valid UTF-8 of at most 80 characters" },
		{ "[state]\npath = ~bob/state.mdb\n",
		  ":2: [state] path: only ~/ is expanded, not ~user; give a full path" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(f, cases[i].text, 0, cases[i].msg);
}

static void
test_parse_errors(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "[moodle]\nurl = https://m.example.edu\n\npasword = x\n",
		  ":4: unknown key 'pasword' in [moodle] (did you mean 'password'?)" },
		{ "[http]\nretries = 3\n",
		  ":2: unknown key 'retries' in [http] ([http] has: connect_timeout timeout deadline)" },
		{ "[moodle]\n[foo]\nx = 1\n",
		  ":2: unknown section [foo] (sections: [moodle], [discord], [schedule], [state], [http])" },
		{ "[moodle]\n[empty]\n",
		  ":2: unknown section [empty] (sections: [moodle], [discord], [schedule], [state], [http])" },
		{ "url = https://m.example.edu\n[moodle]\n",
		  ":1: key 'url' comes before any [section]; put it under the section it belongs to" },
		{ "[moodle]\nurl https://m.example.edu\n",
		  ":2: not a 'key = value' line nor a [section] header" },
		{ "[moodle\n",
		  ":1: not a 'key = value' line nor a [section] header" },
		{ "[moodle]\nurl = https://a.example.edu\n  url = https://b.example.edu\n",
		  ":3: [moodle] url: given twice (also on line 2); keep one" },
		{ "[moodle]\nusername = a\npassword = pw-one\npassword_file = /x\n",
		  ":4: [moodle] password_file: also given as password (line 3); keep one of password, "
		  "password_file, password_command" },
		{ "[moodle]\ntoken_file = /x\ntoken = tok-one\n",
		  ":3: [moodle] token: also given as token_file (line 2); keep one of token, token_file" },
		{ "[discord]\nwebhook_url_file = /x\nwebhook_url = " HOOK "\n",
		  ":3: [discord] webhook_url: also given as webhook_url_file (line 2); keep one of "
		  "webhook_url, webhook_url_file" },
		{ "[moodle]\nusername = a\npassword_command = echo pw\ntoken = tok-two\n",
		  ":4: [moodle] token: both username/password and token are set; keep one" },
	};
	struct fx *f = *state;
	size_t i;
	char *text;
	struct buf b = { 0 };

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(f, cases[i].text, 0, cases[i].msg);

	/* A line longer than inih's buffer is refused, not cut in two. */
	buf_adds(&b, "[moodle]\npassword_command = echo ");
	for (i = 0; i < 200; i++)
		buf_adds(&b, "x");
	buf_adds(&b, "\n");
	text = buf_take(&b);
	expect_error(f, text, 0, ":2: line too long (at most 197 characters)");
	free(text);

	/* The first error wins, whatever kind it is. */
	expect_error(f, "[moodle]\nnope\nlookahead_days = x\nbad = 1\n", 0,
	    ":2: not a 'key = value' line nor a [section] header");
	expect_error(f, "[moodle]\nbad = 1\nnope\n", 0,
	    ":2: unknown key 'bad' in [moodle] ([moodle] has: url username password "
	    "password_file password_command token token_file modules lookahead_days courses)");
}

static void
test_needs(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *want;

	/* Nothing required without a need. */
	assert_int_equal(load(f, "[moodle]\nusername = a\n", CONFIG_NEED_STATE, &cfg, &e), MC_OK);
	config_free(&cfg);

	want = xasprintf("=[moodle] url is not set (the site root, e.g. "
	    "https://moodle.example.edu); add it to %s (or set MOODLECORD_MOODLE_URL)", f->path);
	expect_error(f, "[moodle]\nusername = a\npassword = b12\n", CONFIG_NEED_MOODLE, want);
	free(want);

	want = xasprintf("=[moodle] username is not set and there is no token: give username "
	    "and password_command, password_file or password, or token_file or token; add it "
	    "to %s (or set MOODLECORD_MOODLE_USERNAME)", f->path);
	expect_error(f, "[moodle]\nurl = https://m.example.edu\n", CONFIG_NEED_MOODLE, want);
	free(want);

	want = xasprintf("=[moodle] username is not set (a password is given); add it to %s "
	    "(or set MOODLECORD_MOODLE_USERNAME)", f->path);
	expect_error(f, "[moodle]\nurl = https://m.example.edu\npassword = b12\n",
	    CONFIG_NEED_MOODLE, want);
	free(want);

	want = xasprintf("=[moodle] password_file is not set nor password_command nor password "
	    "(a username is given); add it to %s (or set MOODLECORD_MOODLE_PASSWORD_FILE)", f->path);
	expect_error(f, "[moodle]\nurl = https://m.example.edu\nusername = a\n",
	    CONFIG_NEED_MOODLE, want);
	free(want);

	want = xasprintf("=[discord] webhook_url_file is not set nor webhook_url (Discord: "
	    "channel settings, Integrations, Webhooks, Copy Webhook URL); add it to %s (or set "
	    "MOODLECORD_DISCORD_WEBHOOK_URL_FILE)", f->path);
	expect_error(f, "[moodle]\nurl = https://m.example.edu\nusername = a\npassword = b12\n",
	    NEED_ALL, want);
	free(want);

	/* Discord alone does not need Moodle's keys. */
	assert_int_equal(load(f, "[discord]\nwebhook_url = " HOOK "\n", CONFIG_NEED_DISCORD,
	    &cfg, &e), MC_OK);
	assert_string_equal(cfg.webhook_url, HOOK);
	config_free(&cfg);
}

static void
test_env(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;

	/* The environment beats the file. */
	setenv("MOODLECORD_MOODLE_LOOKAHEAD_DAYS", "20", 1);
	setenv("MOODLECORD_HTTP_TIMEOUT", "2", 1);
	setenv("MOODLECORD_DISCORD_ROLE_ID", "", 1);
	assert_int_equal(load(f, "[moodle]\nlookahead_days = 10\n[discord]\n"
	    "role_id = 123456789012345678\n", 0, &cfg, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 20);
	assert_int_equal(cfg.timeout, 2);
	assert_null(cfg.role_id);
	config_free(&cfg);
	clear_env();

	/* A secret in the environment replaces the file's source of it: the
	 * file's command is not run. */
	setenv("MOODLECORD_MOODLE_PASSWORD", "env-pass-9", 1);
	assert_int_equal(load(f, "[moodle]\nurl = https://m.example.edu\nusername = a\n"
	    "password_command = exit 3\n", CONFIG_NEED_MOODLE, &cfg, &e), MC_OK);
	assert_string_equal(cfg.password, "env-pass-9");
	assert_int_equal(cfg.secrets.n, 1);
	config_free(&cfg);
	clear_env();

	/* Errors name the variable. */
	setenv("MOODLECORD_HTTP_TIMEOUT", "abc", 1);
	expect_error(f, "", 0, "=MOODLECORD_HTTP_TIMEOUT: 'abc' is not a number (1-3600)");
	clear_env();
	setenv("MOODLECORD_MOODLE_URL", "http://moodle.example.edu", 1);
	expect_error(f, "", 0, "=MOODLECORD_MOODLE_URL: http:// is only allowed for loopback "
	    "hosts; use https://");
	clear_env();
	setenv("MOODLECORD_MOODLE_PASWORD", "env-pass-9", 1);
	expect_error(f, "", 0, "=environment: MOODLECORD_MOODLE_PASWORD is not a setting "
	    "(MOODLECORD_<SECTION>_<KEY>, e.g. MOODLECORD_HTTP_TIMEOUT); unset it");
	clear_env();
	setenv("MOODLECORD_FOO", "1", 1);
	expect_error(f, "", 0, "=environment: MOODLECORD_FOO is not a setting "
	    "(MOODLECORD_<SECTION>_<KEY>, e.g. MOODLECORD_HTTP_TIMEOUT); unset it");
	clear_env();
	setenv("MOODLECORD_MOODLE_PASSWORD", "env-pass-9", 1);
	setenv("MOODLECORD_MOODLE_PASSWORD_FILE", "/x", 1);
	assert_int_equal(load(f, "", 0, &cfg, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "MOODLECORD_MOODLE_PASSWORD"));
	assert_non_null(strstr(e.msg, "keep one of password, password_file, password_command"));
	assert_null(strstr(e.msg, "env-pass-9"));
	clear_env();
	setenv("MOODLECORD_MOODLE_TOKEN", "env-token-9", 1);
	expect_error(f, "[moodle]\nusername = a\n", 0,
	    "=MOODLECORD_MOODLE_TOKEN: both username/password and token are set; keep one");
	clear_env();

	/* Everything from the environment, no file at all. */
	setenv("MOODLECORD_MOODLE_URL", "https://m.example.edu/", 1);
	setenv("MOODLECORD_MOODLE_TOKEN", "env-token-9", 1);
	setenv("MOODLECORD_DISCORD_WEBHOOK_URL", HOOK, 1);
	setenv("MOODLECORD_STATE_PATH", "~/s.mdb", 1);
	memset(&e, 0, sizeof e);
	assert_int_equal(config_load(&cfg, NULL, NEED_ALL, &e), MC_OK);
	assert_null(cfg.file);
	assert_string_equal(cfg.moodle_url, "https://m.example.edu");
	assert_string_equal(cfg.token, "env-token-9");
	assert_string_equal(cfg.webhook_url, HOOK);
	assert_non_null(strstr(cfg.state_path, f->dir));
	config_free(&cfg);
	clear_env();

	/* No file and nothing in the environment: what is missing, and where. */
	memset(&e, 0, sizeof e);
	assert_int_equal(config_load(&cfg, NULL, CONFIG_NEED_MOODLE, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "[moodle] url is not set"));
	assert_non_null(strstr(e.msg, "no config file (looked for "));
	assert_non_null(strstr(e.msg, "/.config/moodlecord/config); create it (or set MOODLECORD_MOODLE_URL)"));
}

static void
test_lookup_order(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *named = pathf(f, "named"), *envf = pathf(f, "envfile");
	char *xdgdir = pathf(f, "xdg/moodlecord"), *xdg = pathf(f, "xdg/moodlecord/config");
	char *homedir = pathf(f, ".config/moodlecord"), *home = pathf(f, ".config/moodlecord/config");
	char *xdghome = pathf(f, "xdg"), *missing = pathf(f, "missing");
	char *dotconfig = pathf(f, ".config");

	assert_int_equal(mkdir(xdghome, 0700), 0);
	assert_int_equal(mkdir(xdgdir, 0700), 0);
	assert_int_equal(mkdir(dotconfig, 0700), 0);
	assert_int_equal(mkdir(homedir, 0700), 0);
	write_file(named, 0600, "[moodle]\nlookahead_days = 1\n");
	write_file(envf, 0600, "[moodle]\nlookahead_days = 2\n");
	write_file(xdg, 0600, "[moodle]\nlookahead_days = 3\n");
	write_file(home, 0600, "[moodle]\nlookahead_days = 4\n");
	setenv("MOODLECORD_CONFIG", envf, 1);
	setenv("XDG_CONFIG_HOME", xdghome, 1);

	assert_int_equal(config_load(&cfg, named, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 1);
	assert_string_equal(cfg.file, named);
	config_free(&cfg);
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 2);
	config_free(&cfg);
	unsetenv("MOODLECORD_CONFIG");
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 3);
	assert_string_equal(cfg.file, xdg);
	config_free(&cfg);
	/* $XDG_CONFIG_HOME without the file: ~/.config's is next. */
	assert_int_equal(unlink(xdg), 0);
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 4);
	assert_string_equal(cfg.file, home);
	config_free(&cfg);
	write_file(xdg, 0600, "[moodle]\nlookahead_days = 3\n");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 4);
	assert_string_equal(cfg.file, home);
	config_free(&cfg);
	/* A relative $XDG_CONFIG_HOME is ignored (XDG base directory spec). */
	setenv("XDG_CONFIG_HOME", "xdg", 1);
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_int_equal(cfg.lookahead_days, 4);
	config_free(&cfg);

	/* A missing default file is fine; a named one is not. */
	assert_int_equal(unlink(home), 0);
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_OK);
	assert_null(cfg.file);
	config_free(&cfg);
	assert_int_equal(config_load(&cfg, missing, 0, &e), MC_ERR_CONFIG);
	assert_true(strstr(e.msg, "cannot open config file ") == e.msg);
	assert_non_null(strstr(e.msg, "/missing: No such file or directory"));
	setenv("MOODLECORD_CONFIG", missing, 1);
	assert_int_equal(config_load(&cfg, NULL, 0, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "/missing: No such file or directory"));
	unsetenv("MOODLECORD_CONFIG");
	/* A directory is not a config file. */
	assert_int_equal(config_load(&cfg, f->dir, 0, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "is not a regular file"));

	free(named);
	free(envf);
	free(xdgdir);
	free(xdg);
	free(homedir);
	free(home);
	free(xdghome);
	free(missing);
	free(dotconfig);
}

static void
test_permissions(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *want, *pwfile = pathf(f, "pw"), *text;
	static const int modes[] = { 0644, 0640, 0604 };
	size_t i;

	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		write_file(f->path, modes[i], "[moodle]\nurl = https://m.example.edu\n"
		    "password = perm-secret\n");
		assert_int_equal(config_load(&cfg, f->path, 0, &e), MC_ERR_CONFIG);
		want = xasprintf("%s holds a secret ([moodle] password on line 3) and can be read "
		    "by group or others; run: chmod 600 %s", f->path, f->path);
		assert_string_equal(e.msg, want);
		free(want);
	}
	/* Refused even when the environment overrides the secret. */
	setenv("MOODLECORD_MOODLE_PASSWORD", "other-secret", 1);
	assert_int_equal(config_load(&cfg, f->path, 0, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "chmod 600"));
	clear_env();
	/* No secret inside: readable is fine. */
	write_file(f->path, 0644, "[moodle]\nurl = https://m.example.edu\nusername = a\n"
	    "password_file = ~/pw\n");
	write_file(pwfile, 0644, "file-secret\n");
	assert_int_equal(config_load(&cfg, f->path, 0, &e), MC_OK);
	config_free(&cfg);
	/* The secret file is checked when it is read. */
	assert_int_equal(config_load(&cfg, f->path, CONFIG_NEED_MOODLE, &e), MC_ERR_CONFIG);
	want = xasprintf("%s:4: [moodle] password_file: %s holds the password and can be read "
	    "by group or others; run: chmod 600 %s", f->path, pwfile, pwfile);
	assert_string_equal(e.msg, want);
	free(want);
	assert_int_equal(chmod(pwfile, 0600), 0);
	assert_int_equal(config_load(&cfg, f->path, CONFIG_NEED_MOODLE, &e), MC_OK);
	assert_string_equal(cfg.password, "file-secret");
	config_free(&cfg);
	free(pwfile);
	/* Also for token and webhook files. */
	text = NULL;
	pwfile = pathf(f, "tok");
	write_file(pwfile, 0604, "tok-secret\n");
	free(text);
	text = xasprintf("[moodle]\nurl = https://m.example.edu\ntoken_file = %s\n", pwfile);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	want = xasprintf("%s:3: [moodle] token_file: %s holds the token and can be read by "
	    "group or others; run: chmod 600 %s", f->path, pwfile, pwfile);
	assert_string_equal(e.msg, want);
	free(want);
	free(text);
	free(pwfile);
}

static void
test_secret_files(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *hook = pathf(f, "hook"), *want, *text;

	/* First line, trailing blanks and CR cut. */
	write_file(hook, 0600, HOOK " \r\nsecond line\n");
	text = xasprintf("[discord]\nwebhook_url_file = ~/hook\n");
	assert_int_equal(load(f, text, CONFIG_NEED_DISCORD, &cfg, &e), MC_OK);
	assert_string_equal(cfg.webhook_url, HOOK);
	assert_int_equal(cfg.secrets.n, 2); /* the URL and its token */
	config_free(&cfg);

	/* Not read when the verb does not need it. */
	assert_int_equal(unlink(hook), 0);
	assert_int_equal(load(f, text, CONFIG_NEED_STATE, &cfg, &e), MC_OK);
	assert_null(cfg.webhook_url);
	config_free(&cfg);
	assert_int_equal(load(f, text, CONFIG_NEED_DISCORD, &cfg, &e), MC_ERR_CONFIG);
	want = xasprintf("%s:2: [discord] webhook_url_file: cannot open %s: No such file or "
	    "directory", f->path, hook);
	assert_string_equal(e.msg, want);
	free(want);

	/* Empty file. */
	write_file(hook, 0600, "\n\n");
	assert_int_equal(load(f, text, CONFIG_NEED_DISCORD, &cfg, &e), MC_ERR_CONFIG);
	want = xasprintf("%s:2: [discord] webhook_url_file: %s is empty; put the webhook URL on "
	    "its first line", f->path, hook);
	assert_string_equal(e.msg, want);
	free(want);

	/* What the file holds is checked like webhook_url, never quoted. */
	write_file(hook, 0600, "http://discord.example/api/webhooks/1/file-hook-secret\n");
	assert_int_equal(load(f, text, CONFIG_NEED_DISCORD, &cfg, &e), MC_ERR_CONFIG);
	want = xasprintf("%s:2: [discord] webhook_url_file: the URL in the file http:// is only "
	    "allowed for loopback hosts; use https:// (Discord gives "
	    "https://discord.com/api/webhooks/ID/TOKEN)", f->path);
	assert_string_equal(e.msg, want);
	free(want);
	free(text);
	free(hook);
}

static void
test_password_command(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *marker = pathf(f, "ran"), *text;
	time_t started;
	static const char head[] = "[moodle]\nurl = https://m.example.edu\nusername = a\n";

	text = xasprintf("%spassword_command = printf 'cmd-secret-1  \\nline two\\n'\n", head);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_OK);
	assert_string_equal(cfg.password, "cmd-secret-1");
	assert_int_equal(cfg.secrets.n, 1);
	assert_string_equal(cfg.secrets.v[0].v, "cmd-secret-1");
	config_free(&cfg);
	free(text);

	/* Not run unless the verb needs Moodle (ping must stay cheap). */
	text = xasprintf("%spassword_command = touch %s\n[discord]\nwebhook_url = " HOOK "\n",
	    head, marker);
	assert_int_equal(load(f, text, CONFIG_NEED_STATE | CONFIG_NEED_DISCORD, &cfg, &e), MC_OK);
	assert_null(cfg.password);
	assert_string_equal(cfg.webhook_url, HOOK);
	config_free(&cfg);
	assert_int_equal(access(marker, F_OK), -1);
	/* Run when needed; printing nothing is an error. */
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	assert_int_equal(access(marker, F_OK), 0);
	free(text);
	text = xasprintf("%s:4: [moodle] password_command: printed nothing; it must print the "
	    "password on its first line", f->path);
	assert_string_equal(e.msg, text);
	free(text);

	/* Failing: the status, and nothing it printed. */
	text = xasprintf("%spassword_command = echo leaked-out-1; echo leaked-err-1 >&2; exit 3\n", head);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	free(text);
	text = xasprintf("%s:4: [moodle] password_command: failed with status 3; run it by hand "
	    "to see why", f->path);
	assert_string_equal(e.msg, text);
	free(text);

	text = xasprintf("%spassword_command = kill -9 $$\n", head);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	free(text);
	text = xasprintf("%s:4: [moodle] password_command: was killed by signal 9; run it by hand "
	    "to see why", f->path);
	assert_string_equal(e.msg, text);
	free(text);

	text = xasprintf("%spassword_command = /nonexistent/pass-tool\n", head);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "failed with status 127"));
	free(text);

	/* One that waits for a person is killed after [http] timeout seconds. */
	started = time(NULL);
	text = xasprintf("%spassword_command = exec sleep 30\n[http]\ntimeout = 1\n", head);
	assert_int_equal(load(f, text, CONFIG_NEED_MOODLE, &cfg, &e), MC_ERR_CONFIG);
	assert_true(time(NULL) - started < 10);
	free(text);
	text = xasprintf("%s:4: [moodle] password_command: did not finish within 1 seconds "
	    "([http] timeout); it must print the password without asking", f->path);
	assert_string_equal(e.msg, text);
	free(text);
	free(marker);
}

/* Secret values never appear in an error message, whatever the error. */
static void
test_no_secret_in_messages(void **state)
{
	static const char *const secrets[] = { "pw-AAAA", "tok-BBBB", "hook-CCCC", "cmd-DDDD" };
	static const char *const texts[] = {
		"[moodle]\npassword = pw-AAAA\ntoken = tok-BBBB\n",
		"[moodle]\npassword = pw-AAAA\npassword_command = echo cmd-DDDD\n",
		"[moodle]\nurl = https://m.example.edu\nusername = a\npassword = pw-AAAA\n"
		    "[discord]\nwebhook_url = ftp://x/api/webhooks/1/hook-CCCC\n",
		"[moodle]\nurl = https://m.example.edu\nusername = a\npassword = pw-AAAA\n"
		    "[discord]\nwebhook_url = hook-CCCC\n",
		"[moodle]\npasword = pw-AAAA\n",
		"[moodle]\npw-AAAA\n",
		"[moodle]\nurl = https://u:pw-AAAA@m.example.edu\n",
		"[moodle]\nurl = https://m.example.edu\nusername = a\n"
		    "password_command = echo cmd-DDDD >&2; echo cmd-DDDD; exit 1\n",
		"[moodle]\nlookahead_days = 5\n[discord]\nwebhook_url = http://x/webhooks/1/hook-CCCC\n",
	};
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	size_t i, j;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		assert_int_equal(load(f, texts[i], NEED_ALL, &cfg, &e), MC_ERR_CONFIG);
		for (j = 0; j < sizeof secrets / sizeof secrets[0]; j++) {
			if (strstr(e.msg, secrets[j]) != NULL)
				fail_msg("case %zu: secret %s in \"%s\"", i, secrets[j], e.msg);
		}
	}
	/* The same with world-readable files. */
	for (i = 0; i < 4; i++) {
		write_file(f->path, 0644, texts[i]);
		assert_int_equal(config_load(&cfg, f->path, NEED_ALL, &e), MC_ERR_CONFIG);
		for (j = 0; j < sizeof secrets / sizeof secrets[0]; j++)
			assert_null(strstr(e.msg, secrets[j]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_secret_in_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
