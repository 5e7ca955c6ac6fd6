/* check, the Discord half: does the webhook answer, and where does it
 * post.  Posts nothing. */
#include <stdlib.h>

#include "cmd.h"
#include "discord.h"

enum mc_err
check_discord(struct ctx *c, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct discord *d;
	char *name = NULL, *channel = NULL;
	enum mc_err rc;

	d = discord_new(cfg->webhook_url, cfg->thread_id, (long)cfg->connect_timeout,
	    (long)cfg->timeout, (int64_t)c->started + cfg->deadline, e);
	if (d == NULL)
		return err_prefix(e, "discord: ");
	rc = discord_get_webhook(d, &name, &channel, e);
	if (rc != MC_OK) {
		err_prefix(e, "discord: ");
		goto discord_free;
	}
	out(c, "discord: webhook %s \"%s\" posts to channel %s", discord_webhook_id(d), name, channel);
	if (cfg->thread_id != NULL && *cfg->thread_id != '\0')
		out(c, "discord: messages go to thread %s of that channel", cfg->thread_id);
	free(name);
	free(channel);
discord_free:
	discord_free(d);
	return rc;
}
