/* sync_events: the scheduled-events half of sync.  After the messages,
 * each server's events are brought in step with the stored conferences
 * of the routes keeping events there (lib/evsync.h says how), each call
 * written to the conference's stored record (its sevent_* keys) before
 * the next, so a run killed midway is finished by the next one (an event
 * made just before the kill is adopted, not made twice).  A record the
 * messages no longer need stays, marked gone, until its event is deleted.
 *
 * Servers: every route (and [discord], when it takes conferences itself)
 * with events = yes names one; the config gives each server one bot token
 * and one events_max.  One bot client serves every server of its token,
 * so the bot's global limit (50 calls a second) is counted once.  A
 * record stores the server of its event (sevent_guild; "" in records of
 * before, meaning [discord]'s guild_id).  A course whose route now keeps
 * its events in another server, or none, has its event deleted in the
 * old server first, then made in the new one (in a second round of the
 * same run).  An event in a server that no route keeps events in any more
 * has no bot to delete it: it is forgotten, with a warning, and left in
 * Discord. */
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "cmd.h"
#include "diff.h"
#include "evsync.h"
#include "protocol.h"
#include "store.h"

/* One server keeping events, and the bot that keeps them. */
struct server {
	const char *guild_id;
	const char *token;
	const char *webhook;     /* a webhook of its routes: where the bot API is */
	int64_t events_max;
	struct bot *bot;         /* shared with the servers of the same token */
	int owns_bot;
};

struct events_run {
	struct ctx *c;
	struct store *st;        /* NULL on a dry run                        */
	struct evsync_conf *confs;
	const struct event **evs;
	char *gone;              /* per conference: kept only for its event   */
	const char *guild_id;    /* the server of this pass                   */
	int64_t now;
};

/* Write conference i's event into its stored record, with the server it
 * is in; a record kept only for its event (gone from Moodle) goes once
 * the event is gone. */
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
	snprintf(cur.msg.sevent_guild, sizeof cur.msg.sevent_guild, "%s",
	    *event_id != '\0' && x->guild_id != NULL ? x->guild_id : "");
	cur.msg.sevent_start = start;
	if (*event_id == '\0' && x->gone[i])
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
	if (x->st == NULL)
		out(x->c, "event %s  %s  %s  %s  (%s)", op, when,
		    ev->course_short && *ev->course_short ? ev->course_short : "",
		    ev->name ? ev->name : "", why);
	else
		info(x->c, "event %s  %s  %s  %s  (%s)", op, when,
		    ev->course_short && *ev->course_short ? ev->course_short : "",
		    ev->name ? ev->name : "", why);
}

/* The servers of cfg (config_servers), each with no bot yet: *n of
 * them, caller frees (servers_free). */
static struct server *
servers_of(const struct config *cfg, size_t *n)
{
	struct config_server *cs;
	struct server *v;
	size_t i;

	*n = config_servers(cfg, &cs);
	v = xcalloc(*n + 1, sizeof *v);
	for (i = 0; i < *n; i++) {
		v[i].guild_id = cs[i].guild_id;
		v[i].token = cs[i].bot_token;
		v[i].webhook = cs[i].webhook_url;
		v[i].events_max = cs[i].events_max;
	}
	free(cs);
	return v;
}

int
sync_events_on(const struct config *cfg)
{
	struct config_server *cs;
	size_t n = config_servers(cfg, &cs);

	free(cs);
	return n > 0;
}

/* The bot of server s: the one of an earlier server with its token, or a
 * new client.  NULL with e filled when the token cannot be one. */
static struct bot *
bot_of(struct server *v, size_t s, const struct config *cfg, int64_t deadline, struct err *e)
{
	char *api;
	size_t j;

	for (j = 0; j < s; j++) {
		if (v[j].bot != NULL && strcmp(v[j].token, v[s].token) == 0) {
			v[s].bot = v[j].bot;
			return v[s].bot;
		}
	}
	api = bot_api_for(v[s].webhook);
	v[s].bot = bot_new(api, v[s].token, (long)cfg->connect_timeout, (long)cfg->timeout,
	    deadline, e);
	free(api);
	v[s].owns_bot = v[s].bot != NULL;
	return v[s].bot;
}

static void
servers_free(struct server *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].owns_bot)
			bot_free(v[i].bot);
	free(v);
}

/* The server record r's event is in (NULL: none, or none known). */
static const char *
held_in(const struct config *cfg, const struct record *r)
{
	if (r->msg.sevent_id[0] == '\0')
		return NULL;
	return r->msg.sevent_guild[0] != '\0' ? r->msg.sevent_guild : cfg->guild_id;
}

/* The server record r's conference should have an event in, NULL = none
 * (gone, or its route keeps no events). */
static const char *
wanted_in(const struct config *cfg, const struct record *r)
{
	struct route_config fb;

	if (message_gone(&r->msg))
		return NULL;
	return config_route_server(cfg, config_route_for(cfg, r->ev.course_id, r->ev.course_short,
	    &fb));
}

static int
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Is guild one of the servers? */
static int
served(const struct server *v, size_t n, const char *guild)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same(v[i].guild_id, guild))
			return 1;
	return 0;
}

/* The conferences of server s as evsync sees them: those whose event is
 * there (present when their route still keeps it there) and those
 * without an event whose route keeps events there.  One whose event is in
 * another server is counted in *deferred (its old event goes first);
 * on a dry run it is shown as made here. */
static size_t
gather(const struct config *cfg, const struct record_list *recs, const char *guild, int dry,
    struct events_run *x, size_t *deferred)
{
	size_t i, n = 0;

	for (i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];
		const char *held = held_in(cfg, r), *want = wanted_in(cfg, r);
		struct evsync_conf *cf = &x->confs[n];

		if (!same(held, guild) && !(r->msg.sevent_id[0] == '\0' && same(want, guild))) {
			if (same(want, guild))
				(*deferred)++;
			if (!same(want, guild) || !dry)
				continue;
		}
		memset(cf, 0, sizeof *cf);
		cf->key = r->ev.id;
		cf->present = same(want, guild);
		cf->elsewhere = !cf->present && !message_gone(&r->msg);
		x->gone[n] = (char)message_gone(&r->msg);
		if (same(held, guild)) {
			memcpy(cf->event_id, r->msg.sevent_id, sizeof cf->event_id);
			memcpy(cf->event_hash, r->msg.sevent_hash, sizeof cf->event_hash);
			cf->event_start = r->msg.sevent_start;
		}
		x->evs[n++] = &r->ev;
	}
	return n;
}

/* Forget the events of servers no route keeps events in (no bot to delete
 * them): one warning; a record kept only for its event goes. */
static enum mc_err
forget_unserved(struct ctx *c, struct store *st, const struct record_list *recs,
    const struct server *v, size_t nv, int64_t now, struct err *e)
{
	struct events_run x = { 0 };
	struct evsync_conf cf;
	const struct event *ev;
	const char *guild = NULL;
	char gone;
	size_t i, n = 0;
	enum mc_err rc;

	x.c = c;
	x.st = st;
	x.now = now;
	x.confs = &cf;
	x.evs = &ev;
	x.gone = &gone;
	for (i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];

		if (r->msg.sevent_id[0] == '\0' || served(v, nv, held_in(&c->cfg, r)))
			continue;
		guild = held_in(&c->cfg, r);
		n++;
		if (st == NULL) {
			ev = &r->ev;
			said(&(struct events_run){ .c = c, .evs = &ev }, "forget", 0,
			    "its server has no route keeping events now: left in Discord");
			continue;
		}
		cf.key = r->ev.id;
		gone = (char)message_gone(&r->msg);
		rc = commit(&x, 0, "", "", 0, e);
		if (rc != MC_OK)
			return rc;
	}
	if (n > 0 && st != NULL)
		warn(c, "events: %zu event%s in server %s forgotten: no route keeps events there "
		    "now (left in Discord; delete %s there if unwanted)", n, n == 1 ? "" : "s",
		    guild != NULL ? guild : "(unknown)", n == 1 ? "it" : "them");
	return MC_OK;
}

/* One pass over server s: its conferences in recs brought in step (a dry
 * run: told).  *deferred counts the conferences waiting for their old
 * event in another server to go. */
static enum mc_err
server_pass(struct ctx *c, struct store *st, struct server *v, size_t s,
    const struct record_list *recs, int64_t now, int64_t deadline, size_t *deferred,
    struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct events_run x = { 0 };
	struct evsync_job job = { 0 };
	size_t n;
	enum mc_err rc;

	if (v[s].bot == NULL && bot_of(v, s, cfg, deadline, e) == NULL)
		return err_prefix(e, "events: ");
	x.c = c;
	x.st = st;
	x.now = now;
	x.guild_id = v[s].guild_id;
	x.confs = xcalloc(recs->n + 1, sizeof *x.confs);
	x.evs = xcalloc(recs->n + 1, sizeof *x.evs);
	x.gone = xcalloc(recs->n + 1, 1);
	n = gather(cfg, recs, v[s].guild_id, st == NULL, &x, deferred);

	job.bot = v[s].bot;
	job.guild_id = v[s].guild_id;
	job.site_url = cfg->moodle_url;
	job.meeting_minutes = cfg->meeting_minutes;
	job.events_max = v[s].events_max;
	job.now = now;
	job.commit = commit;
	job.said = said;
	job.arg = &x;
	job.dry_run = st == NULL;
	rc = evsync_run(&job, x.evs, x.confs, n, e);
	if (rc != MC_OK)
		err_prefix(e, "events: ");
	if (st == NULL)
		out(c, "events in server %s: %zu to create, %zu to edit, %zu to delete", v[s].guild_id,
		    job.created, job.edited, job.deleted);
	else
		info(c, "events: %zu created, %zu edited, %zu deleted", job.created, job.edited,
		    job.deleted);
	free(x.confs);
	free(x.evs);
	free(x.gone);
	return rc;
}

/* Every server, once; a second round when a course moved servers (its
 * new event waits for the old one's delete).  recs0: the records to use
 * (a dry run's), NULL = read them from st. */
static enum mc_err
run_servers(struct ctx *c, struct store *st, const struct record_list *recs0, int64_t now,
    int64_t deadline, struct err *e)
{
	struct record_list recs = { 0 };
	struct err first = { 0 };
	struct server *v;
	size_t nv, s, deferred;
	int round;
	enum mc_err rc = MC_OK;

	v = servers_of(&c->cfg, &nv);
	if (nv == 0)
		goto servers_free;
	for (round = 0; round < 2; round++) {
		if (recs0 == NULL) {
			rc = store_load_all(st, &recs, e);
			if (rc != MC_OK)
				goto servers_free;
		}
		if (round == 0 && forget_unserved(c, st, recs0 ? recs0 : &recs, v, nv, now,
		    &first) != MC_OK) {
			record_list_free(&recs);
			break;
		}
		deferred = 0;
		for (s = 0; s < nv; s++) {
			struct err one = { 0 };

			if (server_pass(c, st, v, s, recs0 ? recs0 : &recs, now, deadline, &deferred,
			    &one) == MC_OK)
				continue;
			if (first.kind == MC_OK)
				first = one;
			else
				warn(c, "sync: %s", one.msg);
		}
		record_list_free(&recs);
		if (deferred == 0 || first.kind != MC_OK || recs0 != NULL)
			break;
	}
	rc = first.kind;
	if (rc != MC_OK)
		*e = first;
servers_free:
	servers_free(v, nv);
	return rc;
}

enum mc_err
sync_events(struct ctx *c, struct store *st, int64_t now, int64_t deadline, struct err *e)
{
	return run_servers(c, st, NULL, now, deadline, e);
}

/* The record of step st's conference in l, NULL = none. */
static struct record *
find_record(struct record_list *l, int64_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].ev.id == id)
			return &l->v[i];
	return NULL;
}

/* The records as the plan leaves them: those stored (l) with every step
 * applied (a removed record whose event is still there kept, marked gone,
 * as cmd/sync.c's remove_record does). */
static void
apply_plan(const struct diff_plan *plan, struct record_list *l)
{
	struct record rec;
	size_t i;

	for (i = 0; i < plan->n; i++) {
		const struct diff_step *step = &plan->v[i];
		struct record *r = find_record(l, step->id);

		if (step->op == DIFF_DELETE || step->op == DIFF_FORGET) {
			if (r != NULL)
				snprintf(r->msg.hash, sizeof r->msg.hash, "%s", SYNC_GONE_HASH);
			continue;
		}
		diff_step_record(plan, step, r, &rec);
		if (r == NULL) {
			record_list_push(l, &rec);    /* owns rec's strings now */
			continue;
		}
		event_free(&r->ev);
		r->ev = rec.ev;
		snprintf(r->msg.hash, sizeof r->msg.hash, "%s", rec.msg.hash);
	}
}

enum mc_err
sync_events_dry(struct ctx *c, struct store *st, const struct diff_plan *plan,
    int64_t now, int64_t deadline, struct err *e)
{
	struct record_list after = { 0 };
	enum mc_err rc = MC_OK;
	struct server *v;
	size_t nv;

	/* no server keeps events: nothing to plan, and a big state is not
	 * read whole for nothing */
	v = servers_of(&c->cfg, &nv);
	servers_free(v, nv);
	if (nv == 0)
		return MC_OK;
	if (st != NULL)
		rc = store_load_all(st, &after, e);
	if (rc == MC_OK) {
		apply_plan(plan, &after);
		rc = run_servers(c, NULL, &after, now, deadline, e);
	}
	record_list_free(&after);
	return rc;
}
