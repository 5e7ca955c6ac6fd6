/* routes: which route a stored conference belongs to, and a Discord
 * client per route, made when first needed (each with its own rate-limit
 * bucket: Discord counts per webhook). */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* The slot of a route in the client table: cfg->routes[i] is i, [discord]
 * is nroutes. */
static size_t
slot_of(const struct config *cfg, const struct route_config *r)
{
	if (r >= cfg->routes && r < cfg->routes + cfg->nroutes)
		return (size_t)(r - cfg->routes);
	return cfg->nroutes;
}

const struct route_config *
routes_by_name(const struct config *cfg, const char *name, struct route_config *fallback)
{
	size_t i;

	if (name == NULL || *name == '\0') {
		if (cfg->webhook_url == NULL)
			return NULL;
		config_discord_route(cfg, fallback);
		return fallback;
	}
	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0)
			return &cfg->routes[i];
	return NULL;
}

const struct route_config *
routes_of_record(const struct config *cfg, const struct record *r, struct route_config *fallback)
{
	if (r->msg.msg_id[0] != '\0' || r->msg.route[0] != '\0')
		return routes_by_name(cfg, r->msg.route, fallback);
	return config_route_for(cfg, r->ev.course_id, r->ev.course_short, fallback);
}

void
routes_clients_init(struct route_clients *rc, struct ctx *c, int64_t deadline)
{
	memset(rc, 0, sizeof *rc);
	rc->c = c;
	rc->deadline = deadline;
	rc->n = c->cfg.nroutes + 1;
	rc->d = xcalloc(rc->n, sizeof *rc->d);
}

struct discord *
routes_client(struct route_clients *rc, const struct route_config *r, struct err *e)
{
	const struct config *cfg = &rc->c->cfg;
	size_t i = slot_of(cfg, r);

	if (rc->d[i] == NULL)
		rc->d[i] = discord_new(r->webhook_url, r->thread_id, (long)cfg->connect_timeout,
		    (long)cfg->timeout, rc->deadline, e);
	return rc->d[i];
}

void
routes_clients_free(struct route_clients *rc)
{
	size_t i;

	for (i = 0; i < rc->n; i++)
		discord_free(rc->d[i]);
	free(rc->d);
	memset(rc, 0, sizeof *rc);
}

const char *
routes_label(const struct route_config *r)
{
	return r != NULL && r->name != NULL ? r->name : "[discord]";
}
