/* check, the Discord half: does each route's webhook answer, where does
 * it post, which courses go where.  Posts nothing. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "discord.h"
#include "moodle.h"

/* The webhook of route r: its id, name and channel on one line. */
static enum mc_err
check_webhook(struct ctx *c, const struct route_config *r, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct discord *d;
	char *name = NULL, *channel = NULL;
	enum mc_err rc;

	d = discord_new(r->webhook_url, r->thread_id, (long)cfg->connect_timeout,
	    (long)cfg->timeout, (int64_t)c->started + cfg->deadline, e);
	if (d == NULL)
		return err_prefix(e, "discord: ");
	rc = discord_get_webhook(d, &name, &channel, e);
	if (rc != MC_OK) {
		if (r->name != NULL)
			err_prefix(e, "discord: route %s: ", r->name);
		else
			err_prefix(e, "discord: ");
		goto discord_free;
	}
	if (r->name != NULL)
		out(c, "discord: route %s: webhook %s \"%s\" posts to %s %s", r->name,
		    discord_webhook_id(d), name, r->forum ? "forum" : "channel", channel);
	else
		out(c, "discord: webhook %s \"%s\" posts to %s %s", discord_webhook_id(d), name,
		    r->forum ? "forum" : "channel", channel);
	if (r->thread_id != NULL && *r->thread_id != '\0')
		out(c, "discord: %smessages go to thread %s of that channel",
		    r->name != NULL ? "its " : "", r->thread_id);
	free(name);
	free(channel);
discord_free:
	discord_free(d);
	return rc;
}

enum mc_err
check_discord(struct ctx *c, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct route_config fallback;
	enum mc_err rc = MC_OK;
	size_t i;

	if (cfg->webhook_url != NULL) {
		config_discord_route(cfg, &fallback);
		rc = check_webhook(c, &fallback, e);
	}
	for (i = 0; i < cfg->nroutes && rc == MC_OK; i++)
		rc = check_webhook(c, &cfg->routes[i], e);
	return rc;
}

void
check_routes(struct ctx *c, const struct moodle_site *site)
{
	const struct config *cfg = &c->cfg;
	struct route_config fallback;
	struct buf rest = { 0 };
	size_t i, j, k;

	if (cfg->nroutes == 0)
		return;
	for (i = 0; i < cfg->nroutes; i++) {
		const struct route_config *r = &cfg->routes[i];
		struct buf b = { 0 };

		for (j = 0; j < r->courses.n; j++) {
			int enrolled = 0;

			buf_addf(&b, "%s%s", j ? ", " : "", r->courses.v[j]);
			for (k = 0; k < site->nselected && !enrolled; k++)
				enrolled = route_entry_matches(r->courses.v[j], site->selected[k].id,
				    site->selected[k].shortname);
			if (!enrolled)
				warn(c, "check: [route %s] course '%s' is none of the courses "
				    "moodlecord reads (enrolled and selected by [moodle] courses)",
				    r->name, r->courses.v[j]);
		}
		out(c, "route %s: %s", r->name, b.data);
		buf_free(&b);
	}
	for (k = 0; k < site->nselected; k++) {
		const struct route_config *r = config_route_for(cfg, site->selected[k].id,
		    site->selected[k].shortname, &fallback);

		if (r == NULL || r->name == NULL)
			buf_addf(&rest, "%s%s", rest.len ? ", " : "", site->selected[k].shortname);
	}
	if (rest.len > 0)
		out(c, "courses no route takes: %s (%s)", rest.data, cfg->webhook_url != NULL ?
		    "they go to [discord]'s webhook" : "not posted: [discord] has no webhook");
	buf_free(&rest);
}
