/* check: test the config, the Moodle login and the webhook, and show what
 * a sync would see.  Writes nothing: no state, no Discord message. */
#include <stdlib.h>

#include "cmd.h"
#include "http.h"
#include "moodle.h"

static enum mc_err
check_moodle(struct ctx *c, struct http *h, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct moodle_site site = { 0 };
	struct event_list evs = { 0 };
	int64_t now = (int64_t)c->started;
	char from[32], to[32], when[32];
	enum mc_err rc;
	size_t i;

	rc = moodle_fetch(cfg, h, now, &site, &evs, e);
	if (rc != MC_OK)
		goto site_free;
	out(c, "moodle: %s (%s)", site.sitename, cfg->moodle_url);
	out(c, "release: %s", site.release);
	out(c, "user: %s (%s)", site.username, site.fullname);
	if (site.nselected == site.ncourses)
		out(c, "courses: %zu", site.ncourses);
	else
		out(c, "courses: %zu (%zu selected by [moodle] courses)", site.ncourses, site.nselected);
	out(c, "conferences: %zu from %s to %s", evs.n,
	    fmt_local_time((time_t)(now - 86400), from),
	    fmt_local_time((time_t)(now + cfg->lookahead_days * 86400), to));
	for (i = 0; i < evs.n; i++)
		out(c, "  %s  %s  %s  %s", fmt_local_time((time_t)evs.v[i].start, when),
		    evs.v[i].course_short, evs.v[i].name, evs.v[i].url);
	event_list_free(&evs);
site_free:
	moodle_site_free(&site);
	return rc;
}

enum mc_err
verb_check(struct ctx *c, struct err *e)
{
	struct http *h;
	enum mc_err rc;

	rc = ctx_load_config(c, CONFIG_NEED_MOODLE | CONFIG_NEED_DISCORD, e);
	if (rc != MC_OK)
		return rc;
	h = http_new((long)c->cfg.connect_timeout, (long)c->cfg.timeout, 0);
	out(c, "config: %s", c->cfg.file ? c->cfg.file : "(none: environment only)");
	rc = check_moodle(c, h, e);
	if (rc == MC_OK)
		rc = check_discord(c, e);
	http_free(h);
	return rc;
}
