/* config_route: the [route NAME] sections.
 *
 * A route holds `courses` and any of [discord]'s keys; what it does not
 * set is [discord]'s (its webhook included, when [discord] has one).
 * Routes are read from the file only: MOODLECORD_<SECTION>_<KEY> names no
 * route.  Their values are checked as [discord]'s are, and an error names
 * "FILE:LINE: [route NAME] key".
 *
 * The scheduled-event keys (bot_token[_file], guild_id, events,
 * events_max) are inherited the same way.  A server's events come from one
 * bot and number at most one events_max (counted over every route keeping
 * events there): two routes naming one server with two tokens or two
 * events_max are refused, so moodlecord alone never fills a server past
 * events_max (at most 100, Discord's limit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "url.h"

int
config_route_header(const char *section)
{
	return strncasecmp(section, "route", 5) == 0 &&
	    (section[5] == '\0' || section[5] == ' ' || section[5] == '\t');
}

/* The name in "route NAME", blanks around it dropped: a new string. */
static char *
name_of(const char *section)
{
	const char *p = section + 5;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

static struct raw_route *
find_route(struct config_loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < ld->nroutes; i++)
		if (strcmp(ld->routes[i].name, name) == 0)
			return &ld->routes[i];
	return NULL;
}

void
config_route_pair(struct config_loader *ld, const char *section, const char *name,
    const char *value)
{
	char *rname = name_of(section);
	struct raw_route *rt = find_route(ld, rname);
	struct raw *r;
	int k;

	if (name == NULL) {
		/* The header. */
		if (rt != NULL)
			config_parse_problem(ld, "[route %s] is given twice (also on line %d); "
			    "merge them", rname, rt->line);
		if (rt == NULL) {
			ld->routes = xrealloc(ld->routes, (ld->nroutes + 1) * sizeof *ld->routes);
			rt = &ld->routes[ld->nroutes++];
			memset(rt, 0, sizeof *rt);
			rt->name = rname;
			rt->line = ld->lineno;
			return;
		}
		free(rname);
		return;
	}
	free(rname);
	if (rt == NULL)
		return;  /* its header was refused */
	if (strpbrk(name, " \t") != NULL) {
		config_parse_problem(ld, "not a 'key = value' line nor a [section] header");
		return;
	}
	if (strcasecmp(name, "courses") == 0) {
		r = &rt->courses;
	} else {
		k = config_find_key(SEC_DISCORD, name);
		if (k < 0) {
			char *hint = config_key_hint(SEC_DISCORD, name);

			config_parse_problem(ld, "unknown key '%s' in [route %s] (courses, or a key "
			    "of [discord]: %s)", name, rt->name, hint);
			free(hint);
			return;
		}
		r = &rt->raw[k];
	}
	if (r->val != NULL) {
		config_parse_problem(ld, "[route %s] %s: given twice (also on line %d); keep one",
		    rt->name, name, r->line);
		return;
	}
	r->val = xstrdup(value);
	r->line = ld->lineno;
}

static int
is_set(const struct raw *r)
{
	return r->val != NULL && r->val[0] != '\0';
}

int
config_routes_have_webhook(const struct config_loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nroutes; i++)
		if (is_set(&ld->routes[i].raw[K_WEBHOOK_URL]) ||
		    is_set(&ld->routes[i].raw[K_WEBHOOK_URL_FILE]))
			return 1;
	return 0;
}

static char **
copy_list(char *const *v, size_t n)
{
	char **out = n ? xcalloc(n, sizeof *out) : NULL;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* "FILE:LINE: [route NAME] key" of a route's value. */
static void
where(const struct config_loader *ld, const struct raw_route *rt, const struct raw *r,
    const char *key, char *out, size_t n)
{
	snprintf(out, n, "%s:%d: [route %s]%s%s", ld->file, r != NULL ? r->line : rt->line,
	    rt->name, key ? " " : "", key ? key : "");
}

/* Check the value of [discord] key k set in route rt into rc. */
static enum mc_err
check_key(struct config_loader *ld, struct config *cfg, const struct raw_route *rt, enum key k,
    struct route_config *rc, struct err *e)
{
	const char *v = rt->raw[k].val, *problem = NULL;
	char at[512];
	struct err pe = { 0 };
	int b;

	where(ld, rt, &rt->raw[k], keydefs[k].name, at, sizeof at);
	switch (k) {
	case K_WEBHOOK_URL:
		if (config_check_webhook_at(cfg, v, at, "", e) != MC_OK)
			return MC_ERR_CONFIG;
		secret_free(rc->webhook_url);
		rc->webhook_url = xstrdup(v);
		return MC_OK;
	case K_WEBHOOK_URL_FILE:
		secret_free(rc->webhook_url);
		rc->webhook_url = NULL;  /* read with the other secrets */
		return MC_OK;
	case K_ROLE_ID:
	case K_THREAD_ID:
		if (!snowflake_valid(v))
			return err_set(e, MC_ERR_CONFIG, "%s: '%.40s' is not a Discord id (17 to 20 "
			    "digits; in Discord: Developer Mode, then Copy ID)", at, v);
		free(k == K_ROLE_ID ? rc->role_id : rc->thread_id);
		*(k == K_ROLE_ID ? &rc->role_id : &rc->thread_id) = xstrdup(v);
		return MC_OK;
	case K_PING_MINUTES:
		if (remind_offsets_parse(v, &rc->ping, &pe) != MC_OK)
			return err_set(e, MC_ERR_CONFIG, "%s: %s", at, pe.msg);
		return MC_OK;
	case K_DISCORD_USERNAME:
		if (!utf8_valid(v, strlen(v)) || utf8_count(v) > 80)
			return err_set(e, MC_ERR_CONFIG, "%s: must be valid UTF-8 of at most 80 "
			    "characters", at);
		free(rc->username);
		rc->username = xstrdup(v);
		return MC_OK;
	case K_SILENT:
	case K_FORUM:
		b = config_bool(v);
		if (b < 0)
			return err_set(e, MC_ERR_CONFIG, "%s: '%.40s' is not yes or no", at, v);
		*(k == K_SILENT ? &rc->silent : &rc->forum) = b;
		return MC_OK;
	case K_TAGS:
		config_free_list(rc->tags, rc->ntags);
		rc->tags = config_tags_parse(v, &rc->ntags, &problem);
		if (problem != NULL)
			return err_set(e, MC_ERR_CONFIG, "%s: %s", at, problem);
		return MC_OK;
	case K_BOT_TOKEN:
		secrets_add(&cfg->secrets, v);
		secret_free(rc->bot_token);
		rc->bot_token = xstrdup(v);
		return MC_OK;
	case K_BOT_TOKEN_FILE:
		secret_free(rc->bot_token);
		rc->bot_token = NULL;  /* read with the other secrets */
		return MC_OK;
	case K_GUILD_ID:
		if (!snowflake_valid(v))
			return err_set(e, MC_ERR_CONFIG, "%s: '%.40s' is not a Discord id (17 to 20 "
			    "digits; in Discord: Developer Mode, then Copy Server ID)", at, v);
		free(rc->guild_id);
		rc->guild_id = xstrdup(v);
		return MC_OK;
	case K_EVENTS:
		b = config_bool(v);
		if (b < 0)
			return err_set(e, MC_ERR_CONFIG, "%s: '%.40s' is not yes or no", at, v);
		rc->events = b;
		return MC_OK;
	case K_EVENTS_MAX:
		if (parse_int64(v, keydefs[k].min, keydefs[k].max, &rc->events_max) != 0)
			return err_set(e, MC_ERR_CONFIG, "%s: '%.40s' is not a number (%lld-%lld)", at, v,
			    (long long)keydefs[k].min, (long long)keydefs[k].max);
		return MC_OK;
	default:
		return MC_OK;
	}
}

/* The route's scheduled events: events = yes|no when it says, else yes
 * with a bot token of its own, else [discord]'s choice (yes when
 * [discord] has a bot token and does not say no).  Events need a bot and,
 * for the verbs that talk to Discord, a server. */
static enum mc_err
check_route_events(struct config_loader *ld, const struct config *cfg, const struct raw_route *rt,
    struct route_config *rc, struct err *e)
{
	int own_bot = is_set(&rt->raw[K_BOT_TOKEN]) || is_set(&rt->raw[K_BOT_TOKEN_FILE]);
	int discord_bot = config_is_set(ld, K_BOT_TOKEN) || config_is_set(ld, K_BOT_TOKEN_FILE);
	char at[512];

	if (!is_set(&rt->raw[K_EVENTS]))
		rc->events = own_bot ? 1 : config_is_set(ld, K_EVENTS) ? (int)cfg->events : discord_bot;
	if (!rc->events)
		return MC_OK;
	if (!own_bot && !discord_bot) {
		where(ld, rt, &rt->raw[K_EVENTS], "events", at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s: scheduled events need a bot: set bot_token_file "
		    "here or in [discord] (Discord Developer Portal: your application, Bot, Reset "
		    "Token)", at);
	}
	if (rc->guild_id == NULL && (ld->need & CONFIG_NEED_DISCORD)) {
		where(ld, rt, NULL, NULL, at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s has scheduled events but no guild_id, and "
		    "[discord] has none to lend; add guild_id (Discord: Developer Mode, then Copy "
		    "Server ID) or events = no", at);
	}
	return MC_OK;
}

/* Route rt checked into rc, starting from [discord]'s values. */
static enum mc_err
check_route(struct config_loader *ld, struct config *cfg, const struct raw_route *rt,
    struct route_config *rc, struct err *e)
{
	char at[512];
	struct err pe = { 0 };
	enum mc_err ret;
	int k;

	rc->name = xstrdup(rt->name);
	where(ld, rt, NULL, NULL, at, sizeof at);
	if (route_name_check(rt->name, &pe) != MC_OK)
		return err_set(e, MC_ERR_CONFIG, "%s: %s", at, pe.msg);
	rc->webhook_url = cfg->webhook_url != NULL ? xstrdup(cfg->webhook_url) : NULL;
	rc->role_id = cfg->role_id != NULL ? xstrdup(cfg->role_id) : NULL;
	rc->ping = cfg->ping;
	rc->thread_id = cfg->thread_id != NULL ? xstrdup(cfg->thread_id) : NULL;
	rc->username = cfg->discord_username != NULL ? xstrdup(cfg->discord_username) : NULL;
	rc->silent = cfg->silent;
	rc->forum = cfg->forum;
	rc->tags = copy_list(cfg->tags, cfg->ntags);
	rc->ntags = cfg->ntags;
	rc->bot_token = cfg->bot_token != NULL ? xstrdup(cfg->bot_token) : NULL;
	rc->guild_id = cfg->guild_id != NULL ? xstrdup(cfg->guild_id) : NULL;
	rc->events_max = cfg->events_max;
	if (!is_set(&rt->courses))
		return err_set(e, MC_ERR_CONFIG, "%s has no courses; add courses = (the course "
		    "short names or ids it takes, e.g. RM101, NET210)", at);
	if (route_courses_parse(rt->courses.val, &rc->courses, &pe) != MC_OK) {
		where(ld, rt, &rt->courses, "courses", at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s: %s", at, pe.msg);
	}
	if (is_set(&rt->raw[K_WEBHOOK_URL]) && is_set(&rt->raw[K_WEBHOOK_URL_FILE])) {
		where(ld, rt, &rt->raw[K_WEBHOOK_URL_FILE], "webhook_url_file", at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s: also given as webhook_url; keep one of "
		    "webhook_url, webhook_url_file", at);
	}
	if (is_set(&rt->raw[K_BOT_TOKEN]) && is_set(&rt->raw[K_BOT_TOKEN_FILE])) {
		where(ld, rt, &rt->raw[K_BOT_TOKEN_FILE], "bot_token_file", at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s: also given as bot_token; keep one of "
		    "bot_token, bot_token_file", at);
	}
	for (k = 0; k < NKEYS; k++) {
		if (keydefs[k].sec != SEC_DISCORD || !is_set(&rt->raw[k]))
			continue;
		ret = check_key(ld, cfg, rt, (enum key)k, rc, e);
		if (ret != MC_OK)
			return ret;
	}
	ret = check_route_events(ld, cfg, rt, rc, e);
	if (ret != MC_OK)
		return ret;
	if (rc->forum && rc->thread_id != NULL) {
		where(ld, rt, is_set(&rt->raw[K_FORUM]) ? &rt->raw[K_FORUM] : NULL,
		    is_set(&rt->raw[K_FORUM]) ? "forum" : NULL, at, sizeof at);
		return err_set(e, MC_ERR_CONFIG, "%s: forum = yes makes a post per conference: "
		    "remove thread_id%s", at, is_set(&rt->raw[K_THREAD_ID]) ? "" :
		    " (this route takes [discord]'s)");
	}
	if (!is_set(&rt->raw[K_WEBHOOK_URL]) && !is_set(&rt->raw[K_WEBHOOK_URL_FILE]) &&
	    !config_is_set(ld, K_WEBHOOK_URL) && !config_is_set(ld, K_WEBHOOK_URL_FILE))
		return err_set(e, MC_ERR_CONFIG, "%s has no webhook_url and [discord] has none to "
		    "lend; add webhook_url_file or webhook_url", at);
	return MC_OK;
}

enum mc_err
config_routes_check(struct config_loader *ld, struct config *cfg, struct err *e)
{
	enum mc_err rc;
	size_t i;

	if (ld->nroutes == 0)
		return MC_OK;
	cfg->routes = xcalloc(ld->nroutes, sizeof *cfg->routes);
	cfg->route_courses = xcalloc(ld->nroutes, sizeof *cfg->route_courses);
	cfg->nroutes = ld->nroutes;
	for (i = 0; i < ld->nroutes; i++) {
		cfg->route_courses[i] = &cfg->routes[i].courses;
		rc = check_route(ld, cfg, &ld->routes[i], &cfg->routes[i], e);
		if (rc != MC_OK)
			return rc;
	}
	return MC_OK;
}

/* Route rt's bot token from its bot_token_file, or [discord]'s (read
 * only now) when it sets none. */
static enum mc_err
read_bot_token(struct config_loader *ld, struct config *cfg, const struct raw_route *rt,
    struct route_config *r, struct err *e)
{
	char at[512];
	enum mc_err rc;

	if (is_set(&rt->raw[K_BOT_TOKEN_FILE])) {
		where(ld, rt, &rt->raw[K_BOT_TOKEN_FILE], "bot_token_file", at, sizeof at);
		secret_free(r->bot_token);
		r->bot_token = NULL;
		rc = config_secret_file(ld, rt->raw[K_BOT_TOKEN_FILE].val, at, "bot token",
		    &r->bot_token, e);
		if (rc != MC_OK)
			return rc;
		secrets_add(&cfg->secrets, r->bot_token);
	} else if (!is_set(&rt->raw[K_BOT_TOKEN]) && r->bot_token == NULL &&
	    cfg->bot_token != NULL) {
		r->bot_token = xstrdup(cfg->bot_token);
	}
	return MC_OK;
}

/* "[route NAME]" or "[discord]" of sender i (i == nroutes: [discord]). */
static const char *
sender_name(const struct config *cfg, size_t i, char *out, size_t n)
{
	if (i == cfg->nroutes)
		snprintf(out, n, "[discord]");
	else
		snprintf(out, n, "[route %s]", cfg->routes[i].name);
	return out;
}

/* One bot and one events_max per server: the routes (and [discord], when
 * it takes conferences itself) that keep events in the same server must
 * agree on both, so the server never holds more than events_max (at most
 * 100, Discord's limit) events from moodlecord. */
static enum mc_err
check_servers(struct config_loader *ld, const struct config *cfg, struct err *e)
{
	struct route_config dflt;
	const struct route_config *a, *b;
	char na[80], nb[80];
	size_t i, j, n = cfg->nroutes;

	config_discord_route(cfg, &dflt);
	for (i = 0; i <= n; i++) {
		a = i < n ? &cfg->routes[i] : &dflt;
		if (!a->events || a->guild_id == NULL || (i == n && cfg->webhook_url == NULL))
			continue;
		for (j = 0; j < i; j++) {
			b = &cfg->routes[j];
			if (!b->events || b->guild_id == NULL || strcmp(a->guild_id, b->guild_id) != 0)
				continue;
			sender_name(cfg, i, na, sizeof na);
			sender_name(cfg, j, nb, sizeof nb);
			if (a->bot_token == NULL || b->bot_token == NULL ||
			    strcmp(a->bot_token, b->bot_token) != 0)
				return err_set(e, MC_ERR_CONFIG, "%s: %s and %s keep events in server %s "
				    "with two bot tokens; one bot per server: give them the same "
				    "bot_token_file", ld->file ? ld->file : "config", nb, na, a->guild_id);
			if (a->events_max != b->events_max)
				return err_set(e, MC_ERR_CONFIG, "%s: %s and %s keep events in server %s "
				    "with events_max %lld and %lld; events_max counts the events of a "
				    "whole server: give them the same", ld->file ? ld->file : "config",
				    nb, na, a->guild_id, (long long)b->events_max,
				    (long long)a->events_max);
		}
	}
	return MC_OK;
}

enum mc_err
config_routes_read_secrets(struct config_loader *ld, struct config *cfg, struct err *e)
{
	char at[512];
	enum mc_err rc;
	size_t i;

	for (i = 0; i < cfg->nroutes && i < ld->nroutes; i++) {
		const struct raw_route *rt = &ld->routes[i];
		struct route_config *r = &cfg->routes[i];

		if (is_set(&rt->raw[K_WEBHOOK_URL_FILE])) {
			where(ld, rt, &rt->raw[K_WEBHOOK_URL_FILE], "webhook_url_file", at, sizeof at);
			secret_free(r->webhook_url);
			r->webhook_url = NULL;
			rc = config_secret_file(ld, rt->raw[K_WEBHOOK_URL_FILE].val, at, "webhook URL",
			    &r->webhook_url, e);
			if (rc == MC_OK)
				rc = config_check_webhook_at(cfg, r->webhook_url, at,
				    "the URL in the file ", e);
			if (rc != MC_OK)
				return rc;
		} else if (!is_set(&rt->raw[K_WEBHOOK_URL]) && r->webhook_url == NULL &&
		    cfg->webhook_url != NULL) {
			/* [discord]'s, read from its file only now. */
			r->webhook_url = xstrdup(cfg->webhook_url);
		}
		rc = read_bot_token(ld, cfg, rt, r, e);
		if (rc != MC_OK)
			return rc;
	}
	return check_servers(ld, cfg, e);
}

void
config_routes_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++) {
		struct route_config *r = &cfg->routes[i];

		free(r->name);
		route_courses_free(&r->courses);
		secret_free(r->webhook_url);
		free(r->role_id);
		free(r->thread_id);
		free(r->username);
		config_free_list(r->tags, r->ntags);
		secret_free(r->bot_token);
		free(r->guild_id);
	}
	free(cfg->routes);
	free(cfg->route_courses);
	cfg->routes = NULL;
	cfg->route_courses = NULL;
	cfg->nroutes = 0;
}

void
config_raw_routes_free(struct config_loader *ld)
{
	size_t i;
	int k;

	for (i = 0; i < ld->nroutes; i++) {
		free(ld->routes[i].name);
		for (k = 0; k < NKEYS; k++)
			secret_free(ld->routes[i].raw[k].val);
		free(ld->routes[i].courses.val);
	}
	free(ld->routes);
	ld->routes = NULL;
	ld->nroutes = 0;
}

void
config_discord_route(const struct config *cfg, struct route_config *out)
{
	memset(out, 0, sizeof *out);
	out->webhook_url = cfg->webhook_url;
	out->role_id = cfg->role_id;
	out->ping = cfg->ping;
	out->thread_id = cfg->thread_id;
	out->username = cfg->discord_username;
	out->silent = cfg->silent;
	out->forum = cfg->forum;
	out->tags = cfg->tags;
	out->ntags = cfg->ntags;
	out->events = (int)cfg->events;
	out->bot_token = cfg->bot_token;
	out->guild_id = cfg->guild_id;
	out->events_max = cfg->events_max;
}

const struct route_config *
config_route_for(const struct config *cfg, int64_t course_id, const char *course_short,
    struct route_config *fallback)
{
	long i = route_pick(cfg->route_courses, cfg->nroutes, cfg->webhook_url != NULL,
	    course_id, course_short);

	if (i >= 0)
		return &cfg->routes[i];
	if (i != ROUTE_DEFAULT)
		return NULL;
	config_discord_route(cfg, fallback);
	return fallback;
}

const char *
config_route_server(const struct config *cfg, const struct route_config *r)
{
	if (r == NULL || !r->events || r->guild_id == NULL || r->bot_token == NULL ||
	    (r->name == NULL && cfg->webhook_url == NULL))
		return NULL;
	return r->guild_id;
}

size_t
config_servers(const struct config *cfg, struct config_server **out)
{
	struct config_server *v = xcalloc(cfg->nroutes + 1, sizeof *v);
	struct route_config dflt;
	size_t i, j, n = 0;

	config_discord_route(cfg, &dflt);
	for (i = 0; i <= cfg->nroutes; i++) {
		const struct route_config *r = i < cfg->nroutes ? &cfg->routes[i] : &dflt;
		const char *g = config_route_server(cfg, r);

		if (g == NULL)
			continue;
		for (j = 0; j < n && strcmp(v[j].guild_id, g) != 0; j++)
			;
		if (j < n)
			continue;
		v[n].guild_id = g;
		v[n].bot_token = r->bot_token;
		v[n].webhook_url = r->webhook_url != NULL ? r->webhook_url : cfg->webhook_url;
		v[n].events_max = r->events_max;
		n++;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return n;
}
