/* check, the bot half (with a bot token): for each server keeping events
 * (config_servers: one bot and one events_max each), does the token work,
 * is the bot in the server with the permission to make events, and how
 * full is the server's Events tab.  Makes no event. */
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "cmd.h"

/* The server's scheduled or active events, against Discord's limit. */
static enum mc_err
count_events(struct ctx *c, struct bot *b, const struct config_server *s, struct err *e)
{
	struct bot_event *v;
	size_t n, i, live = 0;
	enum mc_err rc;

	rc = bot_events_list(b, s->guild_id, &v, &n, e);
	if (rc != MC_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (v[i].status == BOT_EVENT_SCHEDULED || v[i].status == BOT_EVENT_ACTIVE)
			live++;
	out(c, "events: %zu of %d scheduled or active in server %s (moodlecord keeps up to %lld)",
	    live, BOT_EVENTS_MAX, s->guild_id, (long long)s->events_max);
	if (live + (size_t)s->events_max > BOT_EVENTS_MAX)
		out(c, "events: server %s may reach its limit of %d: lower events_max", s->guild_id,
		    BOT_EVENTS_MAX);
	bot_events_free(v, n);
	return MC_OK;
}

/* The bot of server s (one per token: its name said once), in server s. */
static enum mc_err
check_server(struct ctx *c, const struct config_server *v, size_t s, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct bot *b;
	char *api, *name = NULL, *id = NULL, *guild = NULL;
	const char *missing;
	uint64_t perms;
	size_t j;
	enum mc_err rc = MC_OK;

	api = bot_api_for(v[s].webhook_url);
	b = bot_new(api, v[s].bot_token, (long)cfg->connect_timeout, (long)cfg->timeout,
	    (int64_t)c->started + cfg->deadline, e);
	free(api);
	if (b == NULL)
		return err_prefix(e, "bot: ");
	for (j = 0; j < s && strcmp(v[j].bot_token, v[s].bot_token) != 0; j++)
		;
	if (j == s) {
		rc = bot_me(b, &name, &id, e);
		if (rc != MC_OK)
			goto bot_free;
		out(c, "bot: %s (%s)", name, id);
	}
	rc = bot_guild(b, v[s].guild_id, &perms, &guild, e);
	if (rc != MC_OK)
		goto bot_free;
	missing = bot_missing_permission(perms);
	if (missing != NULL) {
		rc = err_set(e, MC_ERR_CONFIG, "the bot lacks the %s permission in server \"%s\" "
		    "(Server Settings > Roles > the bot's role)", missing, guild);
		goto bot_free;
	}
	out(c, "bot: in server \"%s\" (%s), may make events", guild, v[s].guild_id);
	rc = count_events(c, b, &v[s], e);
bot_free:
	if (rc != MC_OK)
		err_prefix(e, "bot: ");
	free(name);
	free(id);
	free(guild);
	bot_free(b);
	return rc;
}

enum mc_err
check_bot(struct ctx *c, struct err *e)
{
	struct config_server *v;
	size_t n = config_servers(&c->cfg, &v), s;
	enum mc_err rc = MC_OK;

	for (s = 0; s < n && rc == MC_OK; s++)
		rc = check_server(c, v, s, e);
	free(v);
	return rc;
}
