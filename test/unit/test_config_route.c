/* config: [route NAME] sections, the keys they take from [discord], their
 * errors, [discord]'s silent/forum/tags and ping_minutes lists, and which
 * route a course goes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define HOOK1 "http://127.0.0.1:9/api/v10/webhooks/123456789012345678/Token-One"
#define HOOK2 "http://127.0.0.1:9/api/v10/webhooks/223456789012345678/Token-Two"
#define HOOK3 "http://127.0.0.1:9/api/v10/webhooks/323456789012345678/Token-Three"

struct fx {
	char dir[64];
	char path[128];
};

static void
write_file(const char *path, int mode, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/mc-route.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/config", f->dir);
	setenv("HOME", f->dir, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static enum mc_err
load(struct fx *f, const char *text, struct config *cfg, struct err *e)
{
	write_file(f->path, 0600, text);
	memset(e, 0, sizeof *e);
	return config_load(cfg, f->path, CONFIG_NEED_DISCORD | CONFIG_NEED_STATE, e);
}

static void
expect_error(struct fx *f, const char *text, const char *suffix)
{
	struct config cfg;
	struct err e;
	char *want;

	assert_int_equal(load(f, text, &cfg, &e), MC_ERR_CONFIG);
	want = xasprintf("%s%s", f->path, suffix);
	assert_string_equal(e.msg, want);
	free(want);
	assert_null(cfg.routes);
	assert_int_equal(cfg.secrets.n, 0);
}

static void
test_inherit(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	const struct route_config *a, *b;
	char *red;

	assert_int_equal(load(f,
	    "[discord]\n"
	    "webhook_url = " HOOK1 "\n"
	    "role_id = 111111111111111111\n"
	    "ping_minutes = 60, 1440, 5\n"
	    "username = Moodle\n"
	    "silent = yes\n"
	    "[route math]\n"
	    "courses = MA101, 42\n"
	    "webhook_url = " HOOK2 "\n"
	    "role_id = 222222222222222222\n"
	    "silent = no\n"
	    "[route  net ]\n"
	    "courses = NET 210\n"
	    "ping_minutes = 30\n"
	    "forum = yes\n"
	    "tags = 333333333333333333, 444444444444444444\n",
	    &cfg, &e), MC_OK);
	assert_int_equal(cfg.nroutes, 2);
	assert_int_equal(cfg.ping.n, 3);
	assert_int_equal(cfg.ping.m[0], 1440);
	assert_int_equal(cfg.ping_minutes, 5);
	assert_true(cfg.silent);
	assert_false(cfg.forum);
	a = &cfg.routes[0];
	b = &cfg.routes[1];
	assert_string_equal(a->name, "math");
	assert_int_equal(a->courses.n, 2);
	assert_string_equal(a->courses.v[1], "42");
	assert_string_equal(a->webhook_url, HOOK2);
	assert_string_equal(a->role_id, "222222222222222222");
	assert_int_equal(a->ping.n, 3);
	assert_string_equal(a->username, "Moodle");
	assert_false(a->silent);
	assert_false(a->forum);
	assert_string_equal(b->name, "net");
	assert_string_equal(b->courses.v[0], "NET 210");
	assert_string_equal(b->webhook_url, HOOK1);
	assert_string_equal(b->role_id, "111111111111111111");
	assert_int_equal(b->ping.n, 1);
	assert_int_equal(b->ping.m[0], 30);
	assert_true(b->silent);
	assert_true(b->forum);
	assert_int_equal(b->ntags, 2);
	assert_string_equal(b->tags[1], "444444444444444444");
	/* Every webhook token is a secret. */
	red = secrets_redact(&cfg.secrets, "a Token-Two b");
	assert_null(strstr(red, "Token-Two"));
	free(red);
	config_free(&cfg);
}

static void
test_pick(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	struct route_config fb;
	const struct route_config *r;

	assert_int_equal(load(f,
	    "[discord]\n"
	    "webhook_url = " HOOK1 "\n"
	    "[route a]\n"
	    "courses = RM101\n"
	    "webhook_url = " HOOK2 "\n"
	    "[route b]\n"
	    "courses = RM101, NET210, 7\n"
	    "webhook_url = " HOOK3 "\n",
	    &cfg, &e), MC_OK);
	r = config_route_for(&cfg, 2, "RM101", &fb);
	assert_ptr_equal(r, &cfg.routes[0]);
	r = config_route_for(&cfg, 3, "NET210", &fb);
	assert_ptr_equal(r, &cfg.routes[1]);
	r = config_route_for(&cfg, 7, "X", &fb);
	assert_ptr_equal(r, &cfg.routes[1]);
	r = config_route_for(&cfg, 9, "ART", &fb);
	assert_ptr_equal(r, &fb);
	assert_null(fb.name);
	assert_string_equal(fb.webhook_url, HOOK1);
	config_free(&cfg);
	/* No webhook in [discord]: a course no route takes goes nowhere. */
	assert_int_equal(load(f,
	    "[route a]\n"
	    "courses = RM101\n"
	    "webhook_url = " HOOK2 "\n",
	    &cfg, &e), MC_OK);
	assert_null(cfg.webhook_url);
	assert_ptr_equal(config_route_for(&cfg, 2, "RM101", &fb), &cfg.routes[0]);
	assert_null(config_route_for(&cfg, 3, "NET210", &fb));
	config_free(&cfg);
}

static void
test_webhook_file(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	char *hook = xasprintf("%s/hook", f->dir), *text;

	write_file(hook, 0600, HOOK3 "\n");
	text = xasprintf("[discord]\nwebhook_url_file = %s\n"
	    "[route a]\ncourses = RM101\nwebhook_url_file = %s\n"
	    "[route b]\ncourses = NET210\n", hook, hook);
	assert_int_equal(load(f, text, &cfg, &e), MC_OK);
	assert_string_equal(cfg.routes[0].webhook_url, HOOK3);
	/* [discord]'s, read from its file, lent to b. */
	assert_string_equal(cfg.routes[1].webhook_url, HOOK3);
	config_free(&cfg);
	free(text);
	chmod(hook, 0644);
	text = xasprintf("[route a]\ncourses = RM101\nwebhook_url_file = %s\n", hook);
	assert_int_equal(load(f, text, &cfg, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, ":3: [route a] webhook_url_file: "));
	assert_non_null(strstr(e.msg, "can be read by group or others"));
	free(text);
	free(hook);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *suffix;
	} cases[] = {
		{ "[route a]\ncourses = X\n",
		  ":1: [route a] has no webhook_url and [discord] has none to lend; add "
		  "webhook_url_file or webhook_url" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\n",
		  ":3: [route a] has no courses; add courses = (the course short names or ids "
		  "it takes, e.g. RM101, NET210)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X,\n",
		  ":4: [route a] courses: a list of course short names or ids is expected, e.g. "
		  "RM101, NET210" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a b]\ncourses = X\n",
		  ":3: [route a b]: a route's name is made of letters, digits, '-', '_' and '.'" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route]\ncourses = X\n",
		  ":3: [route ]: a route needs a name: [route NAME]" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\n[route a]\n",
		  ":5: [route a] is given twice (also on line 3); merge them" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nsilet = yes\n",
		  ":5: unknown key 'silet' in [route a] (courses, or a key of [discord]: did you "
		  "mean 'silent'?)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nrole_id = 12\n",
		  ":5: [route a] role_id: '12' is not a Discord id (17 to 20 digits; in Discord: "
		  "Developer Mode, then Copy ID)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nping_minutes = 5, 5\n",
		  ":5: [route a] ping_minutes: 5 minutes is given twice" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nsilent = maybe\n",
		  ":5: [route a] silent: 'maybe' is not yes or no" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\ntags = 1\n",
		  ":5: [route a] tags: a tag id is a Discord id (17 to 20 digits; see the man page "
		  "for how to find it)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nwebhook_url = https://example.com/x\n",
		  ":5: [route a] webhook_url: the Discord webhook URL is not on discord.com; a "
		  "webhook URL looks like https://discord.com/api/webhooks/ID/TOKEN (channel settings "
		  "> Integrations > Webhooks > Copy Webhook URL)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nthread_id = 555555555555555555\n"
		  "[route a]\ncourses = X\nforum = yes\n",
		  ":6: [route a] forum: forum = yes makes a post per conference: remove thread_id "
		  "(this route takes [discord]'s)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nthread_id = 555555555555555555\nforum = yes\n",
		  ":4: [discord] forum: forum = yes makes a post per conference: remove thread_id" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nsilent = 2\n",
		  ":3: [discord] silent: '2' is not yes or no" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nping_minutes = 1,2,3,4,5,6\n",
		  ":3: [discord] ping_minutes: at most 5 reminders" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(f, cases[i].text, cases[i].suffix);
}

#define BOT1 "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Bot-One_token0123456789abcdef"
#define BOT2 "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gfake0.Bot-Two_token0123456789abcdef"
#define G1 "111111111111111111"
#define G2 "222222222222222222"
#define G3 "333333333333333333"

/* The scheduled-event keys in routes: inherited from [discord] like the
 * others; events on with a bot token of the route's own, else as
 * [discord] says; one server per guild for config_servers. */
static void
test_bot_keys(void **state)
{
	struct fx *f = *state;
	struct config cfg;
	struct err e;
	struct config_server *sv;
	struct route_config fb;
	char *tok = xasprintf("%s/bot2", f->dir), *text, *red;
	size_t n;

	write_file(tok, 0600, BOT2 "\n");
	text = xasprintf("[discord]\nwebhook_url = " HOOK1 "\nbot_token = " BOT1 "\n"
	    "guild_id = " G1 "\nevents_max = 30\n"
	    "[route a]\ncourses = RM101\nguild_id = " G2 "\nevents_max = 20\n"
	    "[route b]\ncourses = NET210\nevents = no\n"
	    "[route c]\ncourses = ART3\nbot_token_file = %s\nguild_id = " G3 "\n"
	    "[route d]\ncourses = PHYS2\n", tok);
	assert_int_equal(load(f, text, &cfg, &e), MC_OK);
	free(text);
	assert_true(cfg.routes[0].events);
	assert_string_equal(cfg.routes[0].bot_token, BOT1);
	assert_string_equal(cfg.routes[0].guild_id, G2);
	assert_int_equal(cfg.routes[0].events_max, 20);
	assert_false(cfg.routes[1].events);
	assert_true(cfg.routes[2].events);
	assert_string_equal(cfg.routes[2].bot_token, BOT2);
	assert_string_equal(cfg.routes[2].guild_id, G3);
	assert_int_equal(cfg.routes[2].events_max, 30);
	assert_true(cfg.routes[3].events);
	assert_string_equal(cfg.routes[3].guild_id, G1);
	/* a's, c's, then [discord]'s (d shares it): three servers */
	n = config_servers(&cfg, &sv);
	assert_int_equal(n, 3);
	assert_string_equal(sv[0].guild_id, G2);
	assert_string_equal(sv[0].bot_token, BOT1);
	assert_int_equal(sv[0].events_max, 20);
	assert_string_equal(sv[1].guild_id, G3);
	assert_string_equal(sv[1].bot_token, BOT2);
	assert_string_equal(sv[2].guild_id, G1);
	assert_int_equal(sv[2].events_max, 30);
	assert_string_equal(sv[2].webhook_url, HOOK1);
	free(sv);
	assert_null(config_route_server(&cfg, &cfg.routes[1]));
	assert_string_equal(config_route_server(&cfg,
	    config_route_for(&cfg, 5, "OTHER", &fb)), G1);
	/* both tokens are secrets, the one read from a file too */
	red = secrets_redact(&cfg.secrets, "x " BOT1 " y " BOT2);
	assert_null(strstr(red, "Bot-One"));
	assert_null(strstr(red, "Bot-Two"));
	free(red);
	config_free(&cfg);

	/* [discord] says no: a route follows unless it says yes or has a
	 * token of its own; [discord] without a webhook is no server. */
	text = xasprintf("[discord]\nbot_token = " BOT1 "\nguild_id = " G1 "\nevents = no\n"
	    "[route a]\ncourses = RM101\nwebhook_url = " HOOK2 "\n"
	    "[route b]\ncourses = NET210\nwebhook_url = " HOOK2 "\nevents = yes\n"
	    "[route c]\ncourses = ART3\nwebhook_url = " HOOK3 "\nbot_token_file = %s\n"
	    "guild_id = " G3 "\n", tok);
	assert_int_equal(load(f, text, &cfg, &e), MC_OK);
	free(text);
	assert_false(cfg.routes[0].events);
	assert_true(cfg.routes[1].events);
	assert_true(cfg.routes[2].events);
	n = config_servers(&cfg, &sv);
	assert_int_equal(n, 2);
	assert_string_equal(sv[0].guild_id, G1);
	assert_string_equal(sv[0].webhook_url, HOOK2);
	assert_string_equal(sv[1].guild_id, G3);
	free(sv);
	config_free(&cfg);

	/* A route's token file others may read. */
	chmod(tok, 0644);
	text = xasprintf("[discord]\nwebhook_url = " HOOK1 "\n"
	    "[route c]\ncourses = ART3\nbot_token_file = %s\nguild_id = " G3 "\n", tok);
	assert_int_equal(load(f, text, &cfg, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, ":5: [route c] bot_token_file: "));
	assert_non_null(strstr(e.msg, "can be read by group or others"));
	free(text);
	free(tok);
}

/* Errors of the scheduled-event keys in routes, and the one bot and one
 * events_max per server. */
static void
test_bot_errors(void **state)
{
	static const struct {
		const char *text, *suffix;
	} cases[] = {
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nguild_id = 12\n",
		  ":5: [route a] guild_id: '12' is not a Discord id (17 to 20 digits; in Discord: "
		  "Developer Mode, then Copy Server ID)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nevents_max = 0\n",
		  ":5: [route a] events_max: '0' is not a number (1-100)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nevents_max = 101\n",
		  ":5: [route a] events_max: '101' is not a number (1-100)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nevents = maybe\n",
		  ":5: [route a] events: 'maybe' is not yes or no" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nevents = yes\n",
		  ":5: [route a] events: scheduled events need a bot: set bot_token_file here or in "
		  "[discord] (Discord Developer Portal: your application, Bot, Reset Token)" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nbot_token = " BOT1 "\n"
		  "bot_token_file = /nonexistent\nguild_id = " G1 "\n",
		  ":6: [route a] bot_token_file: also given as bot_token; keep one of bot_token, "
		  "bot_token_file" },
		{ "[discord]\nwebhook_url = " HOOK1 "\n[route a]\ncourses = X\nbot_token = " BOT1 "\n",
		  ":3: [route a] has scheduled events but no guild_id, and [discord] has none to "
		  "lend; add guild_id (Discord: Developer Mode, then Copy Server ID) or events = no" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nbot_token = " BOT1 "\nguild_id = " G1 "\n"
		  "[route a]\ncourses = X\nevents_max = 70\n",
		  ": [route a] and [discord] keep events in server " G1 " with events_max 70 and 50; "
		  "events_max counts the events of a whole server: give them the same" },
		{ "[discord]\nwebhook_url = " HOOK1 "\nbot_token = " BOT1 "\nguild_id = " G1 "\n"
		  "[route a]\ncourses = X\nguild_id = " G2 "\n"
		  "[route b]\ncourses = Y\nguild_id = " G2 "\nbot_token = " BOT2 "\n",
		  ": [route a] and [route b] keep events in server " G2 " with two bot tokens; one "
		  "bot per server: give them the same bot_token_file" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(f, cases[i].text, cases[i].suffix);
	/* The same server with the same bot and events_max: fine. */
	{
		struct config cfg;
		struct err e;

		assert_int_equal(load(f, "[discord]\nwebhook_url = " HOOK1 "\nbot_token = " BOT1 "\n"
		    "guild_id = " G1 "\nevents_max = 70\n[route a]\ncourses = X\n[route b]\n"
		    "courses = Y\nevents_max = 70\nbot_token = " BOT1 "\n", &cfg, &e), MC_OK);
		config_free(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bot_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bot_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
