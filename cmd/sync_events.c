/* sync_events: the scheduled-events half of sync.  After the messages,
 * the server's events are brought in step with the stored conferences
 * (lib/evsync.h says how), each call written to the conference's stored
 * record (its sevent_* keys) before the next, so a run killed midway is
 * finished by the next one (an event made just before the kill is
 * adopted, not made twice).  A record the messages no longer need stays,
 * marked gone, until its event is deleted. */
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "cmd.h"
#include "evsync.h"
#include "protocol.h"
#include "store.h"

struct events_run {
	struct ctx *c;
	struct store *st;
	struct evsync_conf *confs;
	const struct event **evs;
	int64_t now;
};

/* Write conference i's event into its stored record; a record kept only
 * for its event (gone from Moodle) goes once the event is gone. */
static enum mc_err
commit(void *arg, size_t i, const char *event_id, const char *hash, int64_t start, struct err *e)
{
	struct events_run *x = arg;
	struct record cur = { 0 };
	enum mc_err rc;
	int removed;

	rc = store_get(x->st, x->confs[i].key, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	snprintf(cur.msg.sevent_id, sizeof cur.msg.sevent_id, "%s", event_id);
	snprintf(cur.msg.sevent_hash, sizeof cur.msg.sevent_hash, "%s", hash);
	cur.msg.sevent_start = start;
	if (*event_id == '\0' && !x->confs[i].present)
		rc = protocol_sync_remove(x->st, cur.ev.id, cur.msg.ping_id, x->now, &removed, e);
	else
		rc = protocol_sync_put(x->st, &cur, e);
	event_free(&cur.ev);
	return rc;
}

static void
said(void *arg, const char *op, size_t i, const char *why)
{
	struct events_run *x = arg;
	const struct event *ev = x->evs[i];
	char when[32];

	fmt_local_time((time_t)ev->start, when);
	info(x->c, "event %s  %s  %s  %s  (%s)", op, when,
	    ev->course_short && *ev->course_short ? ev->course_short : "",
	    ev->name ? ev->name : "", why);
}

/* The conferences as evsync sees them: every stored record, one marked
 * gone by the messages (SYNC_GONE_HASH) as no longer present. */
static size_t
gather(const struct record_list *recs, struct evsync_conf *confs, const struct event **evs)
{
	size_t i, n = 0;

	for (i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];
		struct evsync_conf *cf = &confs[n];

		memset(cf, 0, sizeof *cf);
		cf->key = r->ev.id;
		cf->present = strcmp(r->msg.hash, SYNC_GONE_HASH) != 0;
		memcpy(cf->event_id, r->msg.sevent_id, sizeof cf->event_id);
		memcpy(cf->event_hash, r->msg.sevent_hash, sizeof cf->event_hash);
		cf->event_start = r->msg.sevent_start;
		evs[n++] = &r->ev;
	}
	return n;
}

enum mc_err
sync_events(struct ctx *c, struct store *st, int64_t now, int64_t deadline, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct record_list recs = { 0 };
	struct events_run x = { 0 };
	struct evsync_job job = { 0 };
	struct bot *b;
	char *api;
	size_t n;
	enum mc_err rc;

	if (!cfg->events)
		return MC_OK;
	api = bot_api_for(cfg->webhook_url);
	b = bot_new(api, cfg->bot_token, (long)cfg->connect_timeout, (long)cfg->timeout, deadline, e);
	free(api);
	if (b == NULL)
		return err_prefix(e, "events: ");
	rc = store_load_all(st, &recs, e);
	if (rc != MC_OK)
		goto bot_free;
	x.c = c;
	x.st = st;
	x.now = now;
	x.confs = xcalloc(recs.n + 1, sizeof *x.confs);
	x.evs = xcalloc(recs.n + 1, sizeof *x.evs);
	n = gather(&recs, x.confs, x.evs);

	job.bot = b;
	job.guild_id = cfg->guild_id;
	job.site_url = cfg->moodle_url;
	job.meeting_minutes = cfg->meeting_minutes;
	job.events_max = cfg->events_max;
	job.now = now;
	job.commit = commit;
	job.said = said;
	job.arg = &x;
	rc = evsync_run(&job, x.evs, x.confs, n, e);
	if (rc != MC_OK)
		err_prefix(e, "events: ");
	info(c, "events: %zu created, %zu edited, %zu deleted", job.created, job.edited, job.deleted);
	free(x.confs);
	free(x.evs);
	record_list_free(&recs);
bot_free:
	bot_free(b);
	return rc;
}
