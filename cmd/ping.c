/* ping: the reminders before each conference (ping_minutes, per route),
 * each once, the one it replaces deleted, the last deleted once the
 * conference is over.
 *
 * Run every minute, so the path with nothing to do is kept short: config
 * (no password command: CONFIG_NEED_MOODLE is not asked; it comes before
 * the lock, which lives beside the state file the config names), lock, a
 * read-only transaction over the due window of by_start, the plan
 * (state/ping_plan.h, lib/remind.h), exit.  No libcurl, no network, no
 * write transaction.  Only a plan with work in it reopens the state
 * read-write and starts the Discord client of a route.  Each reminder is
 * claimed in LMDB before it is posted, so two runs that the lock does not
 * keep apart still post it once. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "discord.h"
#include "http.h"
#include "lock.h"
#include "ping_plan.h"
#include "protocol.h"
#include "render.h"
#include "sound.h"
#include "store.h"

/* A lock held this long belongs to a run that hangs: an error, not busy. */
#define PING_LOCK_STALE 3600

static void
print_plan(struct ctx *c, const struct record_list *recs, const struct ping_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct record *r = &recs->v[p->v[i].rec];
		const struct remind_due *d = &p->v[i].due;
		const char *course = r->ev.course_short && *r->ev.course_short ? r->ev.course_short :
		    r->ev.course_name ? r->ev.course_name : "";
		char when[32];

		fmt_local_time((time_t)r->ev.start, when);
		if (d->unpost_old)
			out(c, "delete-ping  %s  %s  %s  (replaced)", when, course, r->ev.name);
		if (d->post)
			out(c, "ping  %s  %s  %s%s", when, course, r->ev.name,
			    d->started ? "  (started)" : d->moved ? "  (moved: replaces its ping)" :
			    r->msg.ping_id[0] != '\0' && r->msg.ping != PING_DONE ?
			    "  (replaces its ping)" : "");
		if (d->unpost)
			out(c, "delete-ping  %s  %s  %s", when, course, r->ev.name);
	}
}

/* Give up the claim on conference id, so the next run tries again; a
 * failure to do so only delays that by PROTOCOL_STALE_CLAIM. */
static void
unclaim(struct ctx *c, struct store *s, int64_t id)
{
	struct err e = { 0 };

	if (protocol_ping_unclaim(s, id, &e) != MC_OK && e.kind != MC_ERR_NOTFOUND)
		warn(c, "ping: %s", e.msg);
}

/* What a ping run needs for one conference: the state, its route and that
 * route's client. */
struct target {
	struct store *s;
	struct discord *d;
	const struct route_config *route;
};

/* The thread of a conference's reminders: its forum post; NULL: the
 * route's channel (or thread_id). */
static const char *
thread_of(const struct record *r)
{
	return r->msg.thread_id[0] != '\0' ? r->msg.thread_id : NULL;
}

/* Delete the replaced reminder old_id of conference id; one already gone
 * counts. */
static enum mc_err
unpost_old(struct ctx *c, const struct target *t, const struct record *cur, struct err *e)
{
	char old[32];
	enum mc_err rc;

	memcpy(old, cur->msg.ping_old, sizeof old);
	rc = discord_remove_in(t->d, thread_of(cur), old, e);
	if (rc != MC_OK)
		return err_prefix(e, "the replaced ping message of '%s' not deleted: ", cur->ev.name);
	rc = protocol_ping_old_gone(t->s, cur->ev.id, old, e);
	if (rc == MC_OK)
		info(c, "deleted ping: %s (replaced)", cur->ev.name);
	return rc == MC_ERR_NOTFOUND ? MC_OK : rc;
}

/* Post the reminder due for r: claim, read again (sync may have changed
 * or moved the conference since the plan), post, record (the reminder it
 * replaces becomes ping_old), delete the one replaced.  A post that failed
 * gives up the claim so the next run tries again. */
static enum mc_err
post_one(struct ctx *c, const struct target *t, const struct record *r, struct err *e)
{
	const struct render_opts opts = {
		.role_id = t->route->role_id,
		.username = t->route->username,
	};
	struct record cur = { 0 };
	struct remind_state st;
	struct remind_due due;
	char id[32] = "";
	char *body;
	enum mc_err rc;
	int64_t now = (int64_t)time(NULL);
	int won = 0;

	rc = protocol_ping_claim(t->s, r->ev.id, now, &won, e);
	if (rc == MC_ERR_NOTFOUND) {
		info(c, "ping: %s is gone from the state, skipped", r->ev.name);
		return MC_OK;
	}
	if (rc != MC_OK)
		return rc;
	if (!won) {
		info(c, "ping: %s is claimed by another run, skipped", r->ev.name);
		return MC_OK;
	}
	rc = store_get(t->s, r->ev.id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK) {
		unclaim(c, t->s, r->ev.id);
		return rc;
	}
	/* Due still, as this run's claim sees it (the claim itself aside). */
	ping_plan_state(&cur.msg, &st);
	st.claim = 0;
	if (!remind_plan(&st, &t->route->ping, cur.ev.start,
	    event_end(&cur.ev, c->cfg.meeting_minutes), now, &due) || !due.post) {
		unclaim(c, t->s, cur.ev.id);
		info(c, "ping: %s has moved, no longer due", cur.ev.name);
		goto event_free;
	}
	body = render_ping(&cur.ev, &opts, now);
	rc = discord_post_in(t->d, thread_of(&cur), body, id, e);
	free(body);
	if (rc != MC_OK) {
		unclaim(c, t->s, cur.ev.id);
		err_prefix(e, "ping of '%s' not posted (the next run tries again): ", cur.ev.name);
		goto event_free;
	}
	rc = protocol_ping_sent(t->s, cur.ev.id, id, due.offset, now, e);
	if (rc != MC_OK) {
		err_prefix(e, "ping of '%s' posted as %s but not recorded: ", cur.ev.name, id);
		goto event_free;
	}
	info(c, "pinged: %s (message %s)", cur.ev.name, id);
	if (cur.msg.ping_id[0] != '\0' && cur.msg.ping != PING_DONE) {
		memcpy(cur.msg.ping_old, cur.msg.ping_id, sizeof cur.msg.ping_old);
		rc = unpost_old(c, t, &cur, e);
	}
event_free:
	event_free(&cur.ev);
	return rc;
}

/* The conference is over: delete its reminder. */
static enum mc_err
unpost_one(struct ctx *c, const struct target *t, const struct record *cur, struct err *e)
{
	enum mc_err rc;

	rc = discord_remove_in(t->d, thread_of(cur), cur->msg.ping_id, e);
	if (rc != MC_OK)
		return err_prefix(e, "ping message of '%s' not deleted: ", cur->ev.name);
	rc = protocol_ping_done(t->s, cur->ev.id, (int64_t)time(NULL), e);
	if (rc == MC_OK)
		info(c, "deleted ping: %s", cur->ev.name);
	return rc == MC_ERR_NOTFOUND ? MC_OK : rc;
}

/* One conference's step, on the record as stored now: sync may have
 * removed or changed it since the plan was made. */
static enum mc_err
run_step(struct ctx *c, struct target *t, struct route_clients *rcl, const struct record *r,
    const struct remind_due *planned, struct err *e)
{
	struct record cur = { 0 };
	struct remind_state st;
	struct remind_due due;
	int64_t now = (int64_t)time(NULL);
	enum mc_err rc;

	rc = store_get(t->s, r->ev.id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	ping_plan_state(&cur.msg, &st);
	if (!remind_plan(&st, &t->route->ping, cur.ev.start,
	    event_end(&cur.ev, c->cfg.meeting_minutes), now, &due)) {
		if (planned->post)
			info(c, "ping: %s has moved, no longer due", cur.ev.name);
		goto event_free;
	}
	t->d = routes_client(rcl, t->route, e);
	if (t->d == NULL) {
		rc = e->kind;
		goto event_free;
	}
	/* In a forum a reminder goes into the conference's post, which sync
	 * makes first. */
	if (t->route->forum && thread_of(&cur) == NULL)
		due.post = 0;
	if (due.unpost_old)
		rc = unpost_old(c, t, &cur, e);
	if (rc == MC_OK && due.post)
		rc = post_one(c, t, &cur, e);
	else if (rc == MC_OK && due.unpost)
		rc = unpost_one(c, t, &cur, e);
event_free:
	event_free(&cur.ev);
	return rc;
}

static enum mc_err
run_steps(struct ctx *c, const struct record_list *recs, const struct ping_plan *p,
    const struct route_config *const *routes, struct err *e)
{
	struct route_clients rcl;
	struct target t = { 0 };
	enum mc_err rc;
	size_t i;

	rc = store_open(c->cfg.state_path, 0, &t.s, e);
	if (rc != MC_OK)
		return rc;
	rc = ctx_http_init(c, e);
	if (rc != MC_OK) {
		store_close(t.s);
		return rc;
	}
	routes_clients_init(&rcl, c, (int64_t)c->started + c->cfg.deadline);
	for (i = 0; i < p->n && rc == MC_OK; i++) {
		t.route = routes[p->v[i].rec];
		rc = run_step(c, &t, &rcl, &recs->v[p->v[i].rec], &p->v[i].due, e);
	}
	routes_clients_free(&rcl);
	store_close(t.s);
	return rc;
}

/* The read window over every route's reminders. */
static void
window(const struct config *cfg, int64_t now, int64_t *from, int64_t *to)
{
	int64_t largest = cfg->ping.m[0], smallest = cfg->ping.m[cfg->ping.n - 1];
	size_t i;

	for (i = 0; i < cfg->nroutes; i++) {
		const struct remind_offsets *o = &cfg->routes[i].ping;

		if (o->m[0] > largest)
			largest = o->m[0];
		if (o->m[o->n - 1] < smallest)
			smallest = o->m[o->n - 1];
	}
	ping_plan_window(now, largest, smallest, cfg->meeting_minutes, from, to);
}

/* May anything be due for the conference of message m starting at start,
 * as far as its message data tells without its event?  A conference that
 * has not started cannot be over; one that has, or one not posted yet
 * (its route follows its course), is read whole. */
static int
may_be_due(void *arg, int64_t id, int64_t start, const struct message *m)
{
	struct ctx *c = arg;
	struct route_config fallback;
	const struct route_config *route;
	struct remind_state st;
	struct remind_due due;
	int64_t now = (int64_t)c->started;

	(void)id;
	if (message_gone(m))
		return 0;
	if (start <= now || (m->msg_id[0] == '\0' && m->route[0] == '\0'))
		return 1;
	route = routes_by_name(&c->cfg, m->route, &fallback);
	if (route == NULL)
		return 0;
	ping_plan_state(m, &st);
	return remind_plan(&st, &route->ping, start, INT64_MAX, now, &due);
}

/* Plan the run over recs: each record's route (routes[i], NULL = none)
 * and the steps. */
static void
plan_run(struct ctx *c, const struct record_list *recs, int64_t now,
    const struct route_config ***routes, struct route_config *fallback, struct ping_plan *plan)
{
	const struct remind_offsets **offs = xcalloc(recs->n ? recs->n : 1, sizeof *offs);
	size_t i;

	*routes = xcalloc(recs->n ? recs->n : 1, sizeof **routes);
	for (i = 0; i < recs->n; i++) {
		(*routes)[i] = routes_of_record(&c->cfg, &recs->v[i], fallback);
		offs[i] = (*routes)[i] != NULL ? &(*routes)[i]->ping : NULL;
	}
	ping_plan_make(recs, offs, now, c->cfg.meeting_minutes, plan);
	free(offs);
}

/* Every record decoded, as sync reads them, and dropped. */
static enum mc_err
read_whole(struct store *s, struct err *e)
{
	struct record_list all = { 0 };
	enum mc_err rc = store_load_all(s, &all, e);

	record_list_free(&all);
	return rc;
}

enum mc_err
verb_ping(struct ctx *c, struct err *e)
{
	struct record_list recs = { 0 };
	struct ping_plan plan = { 0 };
	struct route_config fallback;
	const struct route_config **routes = NULL;
	struct store *s = NULL;
	struct lock *lk = NULL;
	int64_t now = (int64_t)c->started, from, to;
	enum mc_err rc;
	int verified;

	rc = ctx_load_config(c, CONFIG_NEED_STATE | CONFIG_NEED_DISCORD, e);
	if (rc != MC_OK)
		return rc;
	/* a dry run writes nothing, not even a lock file (as sync's) */
	if (!c->dry_run) {
		rc = lock_take(c->cfg.state_path, "ping", PING_LOCK_STALE, &lk, e);
		if (rc != MC_OK)
			return rc;
	}
	/* ping reads only its window: a file changed since a run last read
	 * it whole is read whole first (its pages walked, every record
	 * decoded), so ping refuses what sync refuses; one unchanged since
	 * costs nothing more */
	verified = sound_check(c->cfg.state_path);
	rc = store_open(c->cfg.state_path, STORE_RDONLY | (c->dry_run ? 0 : STORE_UPGRADE) |
	    (verified ? STORE_CHECKED : 0), &s, e);
	if (rc == MC_ERR_NOTFOUND) {
		info(c, "ping: no state yet (run sync first), nothing to do");
		rc = MC_OK;
		goto lock_release;
	}
	if (rc != MC_OK)
		goto lock_release;
	if (!verified)
		rc = read_whole(s, e);
	if (rc == MC_OK) {
		window(&c->cfg, now, &from, &to);
		rc = store_load_window_where(s, from, to, may_be_due, c, &recs, e);
	}
	store_close(s);
	if (rc != MC_OK)
		goto lock_release;
	plan_run(c, &recs, now, &routes, &fallback, &plan);
	if (c->dry_run)
		print_plan(c, &recs, &plan);
	else if (plan.n == 0)
		info(c, "ping: nothing to do");
	else
		rc = run_steps(c, &recs, &plan, routes, e);
	/* read whole or written by this run: sound as it is now (a note
	 * that cannot be written only costs the next run a whole read) */
	if (rc == MC_OK && !c->dry_run && (!verified || plan.n > 0))
		(void)sound_mark(c->cfg.state_path, &(struct err){ 0 });
	ping_plan_free(&plan);
	free(routes);
	record_list_free(&recs);
lock_release:
	lock_release(lk);
	return rc;
}
