/* sync: keep the Discord channel equal to Moodle's conferences.
 *
 * lock -> Moodle fetch -> state -> diff -> apply -> scheduled events
 * (sync_events.c, with a bot token).  A failed fetch
 * changes nothing: the state is opened only after it succeeded.  apply
 * runs the routes side by side (sync_routes.c), each route's calls in
 * order, and commits each Discord call that succeeded to LMDB before that
 * route's next call, so a crash loses at most the one call in flight of
 * each route (a post whose answer was lost is the one duplicate of that
 * route that can follow). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#include "cmd.h"
#include "diff.h"
#include "discord.h"
#include "http.h"
#include "lock.h"
#include "moodle.h"
#include "protocol.h"
#include "render.h"
#include "sound.h"
#include "store.h"
#include "sync_routes.h"

/* A sync lock held this long belongs to a run that hangs: an error. */
#define SYNC_LOCK_STALE 3600

struct run {
	struct ctx *c;
	struct store *st;
	struct route_clients rcl;
	int64_t deadline;       /* absolute: no Discord call starts after it */
	size_t created, edited, deleted, moved, skipped;
	char *stopped;          /* [slot]: that route's webhook refused the run */
	struct err stop;        /* why the first route stopped               */
	size_t nstopped;
	const char *last_route; /* the route of the latest call (client_of)  */
	const struct diff_plan *plan; /* the wanted conferences its steps name */
};

/* The slot of route name in r->stopped: cfg.routes[i] is i, [discord] is
 * nroutes; -1 when the config has no such route. */
static long
slot_of(const struct run *r, const char *name)
{
	const struct config *cfg = &r->c->cfg;
	size_t i;

	if (name == NULL || *name == '\0')
		return (long)cfg->nroutes;
	for (i = 0; i < cfg->nroutes; i++)
		if (strcmp(cfg->routes[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* The client of route name, or NULL with e filled: the route is gone
 * from the config (MC_ERR_NOTFOUND), stopped this run (MC_ERR_CONFIG),
 * or its URL unusable. */
static struct discord *
client_of(struct run *r, const char *name, const struct route_config **route, struct err *e)
{
	/* per thread: the routes' lanes each fill and use their own */
	static _Thread_local struct route_config fallback;
	const struct route_config *rc = routes_by_name(&r->c->cfg, name, &fallback);
	long slot = slot_of(r, name);

	if (route != NULL)
		*route = rc;
	/* the config's name, which outlives name (a step's record, made for
	 * the call); a route not in the config never stops (stop_route) */
	r->last_route = rc != NULL && rc != &fallback ? rc->name : "";
	if (rc == NULL || slot < 0) {
		err_set(e, MC_ERR_NOTFOUND, "route %s is not in the config", *name ? name : "[discord]");
		return NULL;
	}
	if (r->stopped[slot]) {
		err_set(e, MC_ERR_CONFIG, "route %s was stopped", routes_label(rc));
		return NULL;
	}
	return routes_client(&r->rcl, rc, e);
}

/* The render options of a route. */
static struct render_opts
opts_of(const struct route_config *rc)
{
	struct render_opts o = { 0 };

	if (rc != NULL) {
		o.role_id = rc->role_id;
		o.username = rc->username;
		o.silent = rc->silent;
		o.forum = rc->forum;
		o.tags = rc->tags;
		o.ntags = rc->ntags;
	}
	return o;
}

static const char *
course_of(const struct event *ev)
{
	if (ev->course_short && *ev->course_short)
		return ev->course_short;
	return ev->course_name ? ev->course_name : "";
}

/* The line of one change, "create  2025-03-03 10:00  RM101  Lecture 3
 * (new)": a new string. */
static char *
change_line(const char *op, const struct event *ev, const char *reason)
{
	char when[32];

	fmt_local_time((time_t)ev->start, when);
	return xasprintf("%s  %s  %s  %s  (%s)", op, when, course_of(ev),
	    ev->name ? ev->name : "", reason);
}

/* A change made, told with -v. */
static void
report_done(struct ctx *c, const char *op, const struct event *ev, const char *reason)
{
	char *line = change_line(op, ev, reason);

	info(c, "%s", line);
	free(line);
}

static int
is_call(enum diff_op op)
{
	return op == DIFF_CREATE || op == DIFF_EDIT || op == DIFF_DELETE || op == DIFF_MOVE;
}

/* A Discord failure that ends the run (everything but a refused body). */
static int
fatal(enum mc_err rc)
{
	return rc != MC_OK && rc != MC_ERR_DATA;
}

/* The record step st stores, made now from the record stored now
 * (diff_step_record), and the step's reason when reason is not NULL.
 * MC_ERR_NOTFOUND: a step of a stored conference no longer stored. */
static enum mc_err
step_record(struct run *r, const struct diff_step *st, struct record *rec, char *reason,
    size_t n, struct err *e)
{
	struct record cur = { 0 };
	enum mc_err rc = MC_ERR_NOTFOUND;

	if (r->st != NULL)
		rc = store_get(r->st, st->id, &cur, e);
	if (rc != MC_OK && rc != MC_ERR_NOTFOUND)
		return rc;
	if (rc == MC_ERR_NOTFOUND && diff_step_want(r->plan, st) == NULL)
		return err_set(e, MC_ERR_NOTFOUND, "conference %lld is not in the state",
		    (long long)st->id);
	diff_step_record(r->plan, st, rc == MC_OK ? &cur : NULL, rec);
	if (reason != NULL)
		diff_step_reason(r->plan, st, rc == MC_OK ? &cur : NULL, reason, n);
	event_free(&cur.ev);
	return MC_OK;
}

static const char *
name_of(const struct record *rec)
{
	return rec->ev.name ? rec->ev.name : "";
}

/* How many bytes of a conference's name an error line quotes: enough to
 * know it, cut on a character boundary. */
static int
name_cut(const struct record *rec)
{
	const char *n = name_of(rec);
	size_t len = strlen(n);

	if (len <= 60)
		return (int)len;
	len = 60;
	while (len > 0 && ((unsigned char)n[len] & 0xc0) == 0x80)
		len--;
	return (int)len;
}

/* The thread a message of rec lives in: its forum post, else the
 * route's (NULL: the client's). */
static const char *
thread_of(const struct record *rec)
{
	return rec->msg.thread_id[0] != '\0' ? rec->msg.thread_id : NULL;
}

/* Post rec's conference through d (route's look: silent, a forum post)
 * and record it.  In a forum the post opens a thread whose id is the
 * message's. */
static enum mc_err
post_new(struct run *r, struct discord *d, const struct route_config *route, struct record *rec,
    struct err *e)
{
	struct render_opts ro = opts_of(route);
	char *body;
	char id[32] = "";
	enum mc_err rc;

	/* No post the state cannot record: each sync on a full disk would
	 * post it again. */
	rc = protocol_sync_intent(r->st, rec, (int64_t)time(NULL), e);
	if (rc != MC_OK)
		return err_prefix(e, "nothing posted for '%.*s', the state cannot record it: ",
		    name_cut(rec), name_of(rec));
	body = render_conference_post(&rec->ev, &ro);
	rc = discord_post(d, body, id, e);
	free(body);
	if (rc != MC_OK)
		return err_prefix(e, "posting '%.*s': ", name_cut(rec), name_of(rec));
	memcpy(rec->msg.msg_id, id, sizeof rec->msg.msg_id);
	if (ro.forum)
		memcpy(rec->msg.thread_id, id, sizeof rec->msg.thread_id);
	else
		rec->msg.thread_id[0] = '\0';
	rc = protocol_sync_posted(r->st, rec, e);
	/* what matters first: a name of any length cannot push it out */
	if (rc != MC_OK)
		return err_prefix(e, "message %s was posted but not recorded (the next sync "
		    "posts it again) for '%.*s': ", id, name_cut(rec), name_of(rec));
	return MC_OK;
}

/* Post rec through its route and record it. */
static enum mc_err
create_rec(struct run *r, struct record *rec, const char *reason, struct err *e)
{
	const struct route_config *route;
	struct discord *d = client_of(r, rec->msg.route, &route, e);
	enum mc_err rc;

	if (d == NULL)
		return e->kind;
	rc = post_new(r, d, route, rec, e);
	if (rc == MC_OK) {
		r->created++;
		report_done(r->c, "create", &rec->ev, reason);
	}
	return rc;
}

static enum mc_err
do_create(struct run *r, struct diff_step *st, struct err *e)
{
	struct record rec;
	char reason[96];
	enum mc_err rc;

	rc = step_record(r, st, &rec, reason, sizeof reason, e);
	if (rc != MC_OK)
		return rc;
	rc = create_rec(r, &rec, reason, e);
	event_free(&rec.ev);
	return rc;
}

static enum mc_err
edit_rec(struct run *r, struct record *rec, const char *reason, struct err *e)
{
	const struct route_config *route;
	struct discord *d = client_of(r, rec->msg.route, &route, e);
	struct render_opts ro = opts_of(route);
	char *body;
	enum mc_err rc;

	if (d == NULL)
		return e->kind;
	body = render_conference(&rec->ev, &ro);
	rc = discord_edit_in(d, thread_of(rec), rec->msg.msg_id, body, e);
	free(body);
	if (rc == MC_ERR_NOTFOUND) {
		/* deleted by someone in Discord: post it anew */
		rc = post_new(r, d, route, rec, e);
		if (rc == MC_OK) {
			r->created++;
			report_done(r->c, "create", &rec->ev, "its message was deleted in Discord");
		}
		return rc;
	}
	if (rc != MC_OK)
		return err_prefix(e, "editing '%s': ", rec->ev.name);
	rc = protocol_sync_put(r->st, rec, e);
	if (rc != MC_OK)
		return rc;
	r->edited++;
	report_done(r->c, "edit", &rec->ev, reason);
	return MC_OK;
}

static enum mc_err
do_edit(struct run *r, struct diff_step *st, struct err *e)
{
	struct record rec;
	char reason[96];
	enum mc_err rc;

	rc = step_record(r, st, &rec, reason, sizeof reason, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	/* its record gone since the plan (no message to edit): posted */
	if (rec.msg.msg_id[0] == '\0')
		rc = create_rec(r, &rec, reason, e);
	else
		rc = edit_rec(r, &rec, reason, e);
	event_free(&rec.ev);
	return rc;
}

/* Take the conference message of cur away: deleted, or in a forum post
 * (which a webhook can neither delete nor archive) edited to open with
 * word ("Ended", "Cancelled", "Moved"), the thread left in place. */
static enum mc_err
close_message(struct discord *d, const struct route_config *route, const struct record *cur,
    const char *word, struct err *e)
{
	struct render_opts ro = opts_of(route);
	char *body;
	enum mc_err rc;

	if (thread_of(cur) == NULL)
		return discord_remove(d, cur->msg.msg_id, e);
	body = render_conference_closed(&cur->ev, &ro, word);
	rc = discord_edit_in(d, thread_of(cur), cur->msg.msg_id, body, e);
	if (rc == MC_ERR_NOTFOUND)
		rc = MC_OK;  /* deleted by someone in Discord: nothing to close */
	free(body);
	return rc;
}

/* Delete the messages of cur through d: the conference message, then
 * its reminders (the one standing and one it replaced, not yet deleted),
 * each deletion committed before the next call; a message already gone
 * counts as deleted.  cur is updated as stored. */
static enum mc_err
delete_messages(struct run *r, struct discord *d, const struct route_config *route,
    struct record *cur, const char *word, struct err *e)
{
	enum mc_err rc;

	if (cur->msg.msg_id[0] != '\0') {
		rc = close_message(d, route, cur, word, e);
		if (rc != MC_OK)
			return err_prefix(e, "deleting '%s': ", cur->ev.name);
		cur->msg.msg_id[0] = '\0';
		rc = protocol_sync_put(r->st, cur, e);
		if (rc != MC_OK)
			return rc;
	}
	if (cur->msg.ping_id[0] != '\0' && cur->msg.ping != PING_DONE) {
		if (time(NULL) >= r->deadline)
			return err_set(e, MC_ERR_TEMP, "the run's deadline was reached; "
			    "the next sync carries on");
		rc = discord_remove_in(d, thread_of(cur), cur->msg.ping_id, e);
		if (rc != MC_OK)
			return err_prefix(e, "deleting the ping message of '%s': ", cur->ev.name);
	}
	if (cur->msg.ping_old[0] != '\0') {
		/* a reminder replaced by ping_id whose deletion a ping run
		 * did not finish */
		rc = discord_remove_in(d, thread_of(cur), cur->msg.ping_old, e);
		if (rc == MC_OK)
			rc = protocol_ping_old_gone(r->st, cur->ev.id, cur->msg.ping_old, e);
		if (rc != MC_OK)
			return err_prefix(e, "deleting a ping message of '%s': ", cur->ev.name);
		cur->msg.ping_old[0] = '\0';
	}
	return MC_OK;
}

/* Remove conference id, which the messages no longer need (ping_deleted:
 * the ping message just deleted; whole: regardless of a ping run, for a
 * new webhook).  While its scheduled event is still in Discord, the
 * record is kept instead, marked gone (SYNC_GONE_HASH), until
 * sync_events has deleted the event: its id must not be lost. */
static enum mc_err
remove_record(struct run *r, int64_t id, const char *ping_deleted, int whole, struct err *e)
{
	struct record cur = { 0 };
	enum mc_err rc;
	int removed;

	rc = store_get(r->st, id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (cur.msg.sevent_id[0] != '\0' && sync_events_on(&r->c->cfg)) {
		cur.msg.msg_id[0] = '\0';
		snprintf(cur.msg.hash, sizeof cur.msg.hash, "%s", SYNC_GONE_HASH);
		rc = protocol_sync_put(r->st, &cur, e);
	} else if (whole) {
		rc = store_remove(r->st, id, e);
	} else {
		rc = protocol_sync_remove(r->st, id, ping_deleted, (int64_t)time(NULL), &removed, e);
	}
	event_free(&cur.ev);
	return rc;
}

/* Delete the conference's messages, then the record (remove_record).  A
 * ping run posting the ping meanwhile keeps the record
 * (protocol_sync_remove): the next sync deletes that ping.  A route gone
 * from the config: its messages are left in place and forgotten. */
static enum mc_err
do_delete(struct run *r, struct diff_step *st, struct err *e)
{
	struct record cur = { 0 };
	const struct route_config *route;
	const struct diff_want *w = diff_step_want(r->plan, st);
	struct discord *d;
	char reason[96];
	enum mc_err rc;

	/* the stored record now: a ping run may have posted meanwhile */
	rc = store_get(r->st, st->id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	diff_step_reason(r->plan, st, &cur, reason, sizeof reason);
	d = client_of(r, cur.msg.route, &route, e);
	if (d == NULL && e->kind == MC_ERR_NOTFOUND) {
		warn(r->c, "sync: '%s' was posted through route %s, which is not in the config "
		    "any more: its messages are left in place", cur.ev.name, cur.msg.route);
		rc = remove_record(r, cur.ev.id, "", 1, e);
		goto cur_free;
	}
	if (d == NULL) {
		rc = e->kind;
		goto cur_free;
	}
	rc = delete_messages(r, d, route, &cur, st->why == WHY_OVER ? "Ended" : "Cancelled", e);
	if (rc != MC_OK)
		goto cur_free;
	rc = remove_record(r, cur.ev.id, cur.msg.ping_id, 0, e);
	if (rc != MC_OK)
		goto cur_free;
	r->deleted++;
	/* shown with Moodle's data when it still has it */
	report_done(r->c, "delete", w != NULL ? w->ev : &cur.ev, reason);
cur_free:
	event_free(&cur.ev);
	return rc;
}

/* Its course goes to another route now: delete its messages through the
 * old route (each committed), then post it through the new one.  A crash
 * in between leaves a record without a message, which the next sync posts
 * through the new route. */
static enum mc_err
do_move(struct run *r, struct diff_step *st, struct err *e)
{
	struct record cur = { 0 }, rec;
	const struct route_config *route;
	const struct diff_want *w = diff_step_want(r->plan, st);
	struct discord *d;
	char reason[96];
	enum mc_err rc;

	rc = store_get(r->st, st->id, &cur, e);
	if (rc == MC_ERR_NOTFOUND || w == NULL || w->route == NULL) {
		event_free(&cur.ev);
		return rc == MC_ERR_NOTFOUND ? MC_OK : rc;
	}
	if (rc != MC_OK)
		return rc;
	diff_step_record(r->plan, st, &cur, &rec);
	diff_step_reason(r->plan, st, &cur, reason, sizeof reason);
	d = client_of(r, cur.msg.route, &route, e);
	if (d == NULL && e->kind == MC_ERR_NOTFOUND)
		warn(r->c, "sync: '%s' was posted through route %s, which is not in the config "
		    "any more: its messages are left in place", cur.ev.name, cur.msg.route);
	else if (d == NULL)
		rc = e->kind;
	else
		rc = delete_messages(r, d, route, &cur, "Moved", e);
	event_free(&cur.ev);
	if (rc != MC_OK)
		goto rec_free;
	/* the reminders went with the old messages: none stands now */
	rec.msg.msg_id[0] = '\0';
	rec.msg.ping_id[0] = '\0';
	rec.msg.ping_old[0] = '\0';
	rec.msg.thread_id[0] = '\0';
	if (rec.msg.ping != PING_DONE)
		rec.msg.ping = rec.msg.ping_offset != 0 ? PING_SENT : PING_NONE;
	snprintf(rec.msg.route, sizeof rec.msg.route, "%s", w->route);
	rc = store_put(r->st, &rec, e);
	if (rc != MC_OK)
		goto rec_free;
	rc = create_rec(r, &rec, reason, e);
	if (rc == MC_OK) {
		r->created--;
		r->moved++;
	}
rec_free:
	event_free(&rec.ev);
	return rc;
}

/* Was the webhook of route name changed (diff_settings)? */
static int
webhook_changed(const struct diff_settings *set, const char *name)
{
	size_t i;

	if (*name == '\0')
		return set->webhook_changed;
	for (i = 0; i < set->nroutes_changed; i++)
		if (strcmp(set->routes_changed[i], name) == 0)
			return 1;
	return 0;
}

/* Store the record of KEEP step st: whole when its route's webhook was
 * changed (forgotten), else as sync writes a record ping may share. */
static enum mc_err
keep_step(struct run *r, const struct diff_step *st, int forgotten, struct err *e)
{
	struct record rec;
	enum mc_err rc;

	rc = step_record(r, st, &rec, NULL, 0, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (forgotten)
		rc = store_put(r->st, &rec, e);
	else
		rc = protocol_sync_put(r->st, &rec, e);
	event_free(&rec.ev);
	return rc;
}

/* The steps without a Discord call.  A new webhook's forgotten ids are
 * written whole (the old ping id goes too); otherwise a ping run's claim
 * made meanwhile is kept, and so is a record whose ping is being posted. */
static enum mc_err
apply_state_steps(struct run *r, struct diff_plan *p, const struct diff_settings *set,
    struct err *e)
{
	enum mc_err rc = MC_OK;
	size_t i;

	for (i = 0; i < p->n && rc == MC_OK; i++) {
		struct diff_step *st = &p->v[i];
		int forgotten = webhook_changed(set, st->route);

		if (st->op == DIFF_FORGET)
			rc = remove_record(r, st->id, "", forgotten, e);
		else if (st->op == DIFF_KEEP)
			rc = keep_step(r, st, forgotten, e);
	}
	return rc;
}

/* The route a call of step st goes through. */
static const char *
route_of_step(const struct diff_step *st)
{
	return st->route;
}

/* A route's webhook refused the run (gone, wrong token, no permission):
 * that route stops, the others go on, and the run ends in that error. */
static void
stop_route(struct run *r, const char *name, struct err *e)
{
	long slot = slot_of(r, name);

	if (slot < 0 || r->stopped[slot])
		return;
	r->stopped[slot] = 1;
	if (r->nstopped++ == 0) {
		r->stop = *e;
		if (r->c->cfg.nroutes > 0)
			err_prefix(&r->stop, "route %s: ", *name ? name : "[discord]");
	} else {
		warn(r->c, "sync: route %s: %s", *name ? name : "[discord]", e->msg);
	}
}

/* The calls being applied, the routes side by side (sync_routes.h): each
 * lane works on a struct run of its own (its counters, its stops, the
 * route of its latest call), sharing the state, the clients and
 * stopped[], whose slot a lane reads and writes only holding that
 * route's turn.  A step takes the turns of the routes the plan read from
 * the state (its record's, and a move's new one); its calls go to those:
 * the sync lock keeps other syncs off, and ping never changes a record's
 * route. */
struct apply {
	struct diff_plan *p;
	struct run *lane;       /* [lane] */
	size_t ncalls;
	atomic_size_t done;     /* calls made, every lane */
};

/* One call of the plan, with the turns of its routes held.  A refused
 * body skips that change; a route whose webhook refuses the run stops
 * that route; anything else that fails, or the deadline, ends the run
 * with what was done kept. */
static enum mc_err
apply_step(void *arg, size_t lane, size_t i, struct err *e)
{
	struct apply *a = arg;
	struct run *r = &a->lane[lane];
	struct diff_step *st = &a->p->v[i];
	long slot = slot_of(r, route_of_step(st));
	enum mc_err rc;

	if (slot >= 0 && r->stopped[slot])
		return MC_OK;
	if (time(NULL) >= r->deadline)
		return err_set(e, MC_ERR_TEMP, "the run's deadline was reached after "
		    "%zu of %zu changes; the next sync carries on", atomic_load(&a->done), a->ncalls);
	if (st->op == DIFF_DELETE)
		rc = do_delete(r, st, e);
	else if (st->op == DIFF_EDIT)
		rc = do_edit(r, st, e);
	else if (st->op == DIFF_MOVE)
		rc = do_move(r, st, e);
	else
		rc = do_create(r, st, e);
	if (rc == MC_ERR_CONFIG) {
		stop_route(r, r->last_route, e);
		return MC_OK;
	}
	if (fatal(rc))
		return rc;
	if (rc == MC_ERR_DATA) {
		warn(r->c, "sync: %s (skipped)", e->msg);
		r->skipped++;
	}
	atomic_fetch_add(&a->done, 1);
	return MC_OK;
}

/* Add what lane w did to r: its counts, and its stopped routes (the
 * first of the run becomes its error, the others are told). */
static void
apply_merge(struct run *r, const struct run *w)
{
	r->created += w->created;
	r->edited += w->edited;
	r->deleted += w->deleted;
	r->moved += w->moved;
	r->skipped += w->skipped;
	if (w->nstopped == 0)
		return;
	if (r->nstopped == 0)
		r->stop = w->stop;
	else
		warn(r->c, "sync: %s", w->stop.msg);
	r->nstopped += w->nstopped;
}

/* The calls: each route's in plan order, the routes side by side, each
 * call of a route committed before its next (sync_routes.c). */
static enum mc_err
apply_calls(struct run *r, struct diff_plan *p, struct err *e)
{
	size_t nslots = r->c->cfg.nroutes + 1, i;
	struct lanes *l = lanes_new(nslots);
	struct apply a = { .p = p, .ncalls = p->ncreate + p->nedit + p->ndelete + p->nmove };
	enum mc_err rc;

	atomic_init(&a.done, 0);
	for (i = 0; i < p->n; i++) {
		const struct diff_step *st = &p->v[i];
		long from, to;

		if (!is_call(st->op))
			continue;
		from = slot_of(r, route_of_step(st));
		to = -1;
		if (st->op == DIFF_MOVE) {
			/* the route it goes to now: the wanted conference's */
			const struct diff_want *w = diff_step_want(p, st);

			if (w != NULL && w->route != NULL)
				to = slot_of(r, w->route);
		}
		lanes_add(l, from >= 0 ? (size_t)from : nslots, i, from, to);
	}
	a.lane = xcalloc(nslots + 1, sizeof *a.lane);
	for (i = 0; i <= nslots; i++) {
		a.lane[i].c = r->c;
		a.lane[i].st = r->st;
		a.lane[i].rcl = r->rcl;
		a.lane[i].deadline = r->deadline;
		a.lane[i].stopped = r->stopped;
	}
	rc = lanes_run(l, apply_step, &a, e);
	for (i = 0; i <= nslots; i++)
		apply_merge(r, &a.lane[i]);
	free(a.lane);
	lanes_free(l);
	if (rc != MC_OK) {
		/* what ends the run goes first; a route stopped is told too */
		if (r->nstopped > 0)
			warn(r->c, "sync: %s", r->stop.msg);
		return rc;
	}
	if (r->nstopped > 0) {
		*e = r->stop;
		return MC_ERR_CONFIG;
	}
	if (r->skipped)
		return err_set(e, MC_ERR_DATA, "%zu of %zu changes were refused by Discord "
		    "and skipped (see above)", r->skipped, a.ncalls);
	return MC_OK;
}

/* A message a person deleted in Discord makes no call come back while its
 * conference does not change.  So each sync looks up a few standing
 * messages, in turn by conference id from where the last sync stopped
 * (meta "checked"): each is looked at within LOOK_SYNCS syncs, under a day
 * at a sync every half hour, at a few GETs a sync. */
#define LOOK_SYNCS 40
#define LOOK_MAX 10

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The ids of the conferences a call of the plan changed, sorted. */
static int64_t *
called_ids(const struct diff_plan *p, size_t *n)
{
	int64_t *v = xmalloc((p->n ? p->n : 1) * sizeof *v);
	size_t i;

	*n = 0;
	for (i = 0; i < p->n; i++)
		if (is_call(p->v[i].op))
			v[(*n)++] = p->v[i].id;
	if (*n)
		qsort(v, *n, sizeof *v, id_cmp);
	return v;
}

/* The standing messages a round of look-ups takes, walked by id from
 * where the last sync stopped: counted first (count), then the first
 * ones after from picked (pick), wrapping round to the lowest ids. */
struct look {
	const int64_t *called;   /* sorted: changed this sync, not looked at */
	size_t ncalled;
	size_t n;                /* standing messages counted                */
	int64_t after;           /* pick: only ids above this                */
	int64_t *ids;            /* pick: the ones picked                    */
	size_t nids, want;
};

static int
standing(const struct look *l, int64_t id, const struct message *m)
{
	return m->msg_id[0] != '\0' &&
	    bsearch(&id, l->called, l->ncalled, sizeof *l->called, id_cmp) == NULL;
}

static int
look_count(void *arg, int64_t id, const struct message *m)
{
	struct look *l = arg;

	if (standing(l, id, m))
		l->n++;
	return 0;
}

static int
look_pick(void *arg, int64_t id, const struct message *m)
{
	struct look *l = arg;
	size_t i;

	if (id <= l->after || !standing(l, id, m))
		return 0;
	for (i = 0; i < l->nids; i++)
		if (l->ids[i] == id)
			return 1;  /* wrapped round to the first picked */
	l->ids[l->nids++] = id;
	return l->nids == l->want;
}

/* Look up message of rec through its route; post it anew when it is
 * gone.  A route no longer in the config or stopped this run: left
 * alone. */
static enum mc_err
look_one(struct run *r, struct record *rec, struct err *e)
{
	const struct route_config *route;
	struct discord *d = client_of(r, rec->msg.route, &route, e);
	enum mc_err rc;

	if (d == NULL)
		return e->kind == MC_ERR_NOTFOUND || e->kind == MC_ERR_CONFIG ? MC_OK : e->kind;
	rc = discord_look_in(d, thread_of(rec), rec->msg.msg_id, e);
	if (rc != MC_ERR_NOTFOUND)
		return rc == MC_OK ? MC_OK : err_prefix(e, "looking up the message of '%.*s': ",
		    name_cut(rec), name_of(rec));
	rc = post_new(r, d, route, rec, e);
	if (rc == MC_OK) {
		r->created++;
		report_done(r->c, "create", &rec->ev, "its message was deleted in Discord");
	}
	return rc;
}

static enum mc_err
look_standing(struct run *r, const struct diff_plan *p, struct err *e)
{
	struct look l = { 0 };
	size_t k;
	int64_t from = 0, last = 0;
	enum mc_err rc;

	l.called = called_ids(p, &l.ncalled);
	rc = store_checked_get(r->st, &from, e);
	if (rc == MC_OK)
		rc = store_walk_messages(r->st, 0, look_count, &l, e);
	if (rc != MC_OK || l.n == 0)
		goto called_free;
	l.want = (l.n + LOOK_SYNCS - 1) / LOOK_SYNCS;
	l.want = l.want < 2 ? 2 : l.want > LOOK_MAX ? LOOK_MAX : l.want;
	if (l.want > l.n)
		l.want = l.n;
	l.ids = xcalloc(l.want, sizeof *l.ids);
	l.after = from;
	rc = store_walk_messages(r->st, from + 1, look_pick, &l, e);
	if (rc == MC_OK && l.nids < l.want) {
		l.after = 0;
		rc = store_walk_messages(r->st, 0, look_pick, &l, e);
	}
	for (k = 0; k < l.nids && rc == MC_OK; k++) {
		struct record rec = { 0 };

		if (time(NULL) >= r->deadline)
			break;
		rc = store_get(r->st, l.ids[k], &rec, e);
		if (rc == MC_OK)
			rc = look_one(r, &rec, e);
		event_free(&rec.ev);
		last = l.ids[k];
	}
	if (last != 0) {
		struct err e2 = { 0 };
		enum mc_err rc2 = store_checked_put(r->st, last, &e2);

		if (rc == MC_OK && rc2 != MC_OK) {
			*e = e2;
			rc = rc2;
		}
	}
called_free:
	free(l.ids);
	free((void *)l.called);
	return rc;
}

static void
print_plan(struct run *r, const struct diff_plan *p, size_t nowhere)
{
	struct ctx *c = r->c;
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct diff_want *w = diff_step_want(p, &p->v[i]);
		struct record cur = { 0 };
		int have = 0;
		char reason[96];
		char *line;

		if (!is_call(p->v[i].op))
			continue;
		/* a conference stored: its reason may need it, and one
		 * Moodle no longer has is shown as stored */
		if (r->st != NULL)
			have = store_get(r->st, p->v[i].id, &cur, &(struct err){ 0 }) == MC_OK;
		diff_step_reason(p, &p->v[i], have ? &cur : NULL, reason, sizeof reason);
		if (w != NULL || have) {
			line = change_line(diff_op_name(p->v[i].op), w != NULL ? w->ev : &cur.ev,
			    reason);
			out(c, "%s", line);
			free(line);
		}
		event_free(&cur.ev);
	}
	out(c, "%zu to create, %zu to edit, %zu to delete%s", p->ncreate, p->nedit, p->ndelete,
	    "");
	if (p->nmove)
		out(c, "%zu to move to another route", p->nmove);
	if (nowhere)
		out(c, "%zu conference%s of courses no route takes: not posted", nowhere,
		    nowhere == 1 ? "" : "s");
}

/* The desired conferences with the route each goes to and the hash of
 * the body it would send there; *nowhere counts those no route takes. */
static struct diff_want *
wants_of(const struct config *cfg, const struct event_list *evs, size_t *nowhere)
{
	struct diff_want *w = xcalloc(evs->n ? evs->n : 1, sizeof *w);
	struct route_config fallback;
	size_t i;

	*nowhere = 0;
	for (i = 0; i < evs->n; i++) {
		const struct route_config *rc = config_route_for(cfg, evs->v[i].course_id,
		    evs->v[i].course_short, &fallback);
		struct render_opts ro = opts_of(rc);
		char *body;

		w[i].ev = &evs->v[i];
		if (rc == NULL) {
			w[i].route = NULL;
			(*nowhere)++;
			continue;
		}
		/* the name lives in cfg: [discord]'s is "" */
		w[i].route = rc->name != NULL ? rc->name : "";
		body = render_conference(&evs->v[i], &ro);
		render_hash(body, w[i].hash);
		free(body);
	}
	return w;
}

/* The state, checked against the site; a dry run reads an absent state
 * as empty (*st NULL) and never writes. */
static enum mc_err
open_state(struct ctx *c, struct store **st, struct err *e)
{
	enum mc_err rc;

	*st = NULL;
	rc = store_open(c->cfg.state_path, c->dry_run ? STORE_RDONLY : STORE_CREATE, st, e);
	if (rc == MC_ERR_NOTFOUND && c->dry_run)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	rc = store_check_site(*st, c->cfg.moodle_url, e);
	if (rc != MC_OK) {
		store_close(*st);
		*st = NULL;
	}
	return rc;
}

static int
plan_stored(void *arg, const struct record *rec)
{
	diff_stored(arg, rec);
	return 0;
}

/* The plan: the wanted conferences merged against the stored ones, read
 * one at a time in id order (none when there is no state yet). */
static enum mc_err
plan_of(struct store *st, const struct diff_want *want, size_t nwant, int64_t now,
    const struct diff_settings *set, struct diff_plan *plan, struct err *e)
{
	enum mc_err rc = MC_OK;

	diff_begin(plan, want, nwant, now, set);
	if (st != NULL)
		rc = store_walk(st, 0, plan_stored, plan, e);
	diff_end(plan);
	return rc;
}

/* Read the password only when Moodle needs a new sign-in. */
static enum mc_err
password_now(void *arg, const char **password, struct err *e)
{
	struct ctx *c = arg;
	enum mc_err rc = config_read_password(&c->cfg, e);

	*password = c->cfg.password;
	return rc;
}

/* The token a password config kept from an earlier sign-in (none when the
 * config names a token, or there is no state yet). */
static enum mc_err
kept_token(struct ctx *c, struct moodle_auth *auth, struct err *e)
{
	struct store *st = NULL;
	int64_t got;
	enum mc_err rc;

	if (c->cfg.token != NULL)
		return MC_OK;
	auth->password = password_now;
	auth->arg = c;
	/* a file of an older schema is upgraded here, as by the open after
	 * the fetch, rather than refused as by a read-only verb */
	rc = store_open(c->cfg.state_path, STORE_RDONLY | (c->dry_run ? 0 : STORE_UPGRADE), &st, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc == MC_OK)
		rc = store_check_site(st, c->cfg.moodle_url, e);
	if (rc == MC_OK)
		rc = store_token_get(st, &auth->token, &got, e);
	store_close(st);
	if (auth->token != NULL)
		secrets_add(&c->cfg.secrets, auth->token);
	return rc;
}

#define WEEK (7 * 86400)

/* After a fetch: keep the token a new sign-in got; say once a day that a
 * token moodlecord cannot renew (no password) is getting old. */
static enum mc_err
tend_token(struct ctx *c, struct store *st, const struct moodle_auth *auth, int64_t now,
    struct err *e)
{
	int64_t day = now / 86400, warned, age = now - c->cfg.token_time;
	enum mc_err rc;

	if (auth->signed_in && auth->token != NULL) {
		secrets_add(&c->cfg.secrets, auth->token);
		return store_token_put(st, auth->token, now, e);
	}
	if (c->cfg.token == NULL || c->cfg.token_time <= 0 || age <= 11 * WEEK)
		return MC_OK;
	rc = store_token_warned_get(st, &warned, e);
	if (rc != MC_OK || warned == day)
		return rc;
	warn(c, "the Moodle token is %lld days old; sites usually end them after 12 weeks: "
	    "run moodlecord login", (long long)(age / 86400));
	return store_token_warned_put(st, day, e);
}

/* Each route's webhook against the one its stored messages were posted
 * with: the routes whose webhook changed go into set (their messages are
 * forgotten and posted anew), and *record[i] says that slot's id is to be
 * recorded (none yet, or changed).  Every client is made here, so a bad
 * URL stops the run before any call. */
static enum mc_err
check_webhooks(struct run *r, struct diff_settings *set, const char **changed, char *record,
    struct err *e)
{
	const struct config *cfg = &r->c->cfg;
	struct route_config fallback;
	size_t i, n = 0;

	for (i = 0; i <= cfg->nroutes; i++) {
		const char *name = i < cfg->nroutes ? cfg->routes[i].name : "";
		const struct route_config *rc = routes_by_name(cfg, name, &fallback);
		struct discord *d;
		char *hook = NULL;
		enum mc_err mrc;

		if (rc == NULL)
			continue;  /* [discord] without a webhook */
		d = routes_client(&r->rcl, rc, e);
		if (d == NULL)
			return e->kind;
		if (r->st == NULL)
			continue;
		mrc = store_route_webhook_get(r->st, name, &hook, e);
		if (mrc != MC_OK)
			return mrc;
		record[i] = hook == NULL || strcmp(hook, discord_webhook_id(d)) != 0;
		if (hook != NULL && record[i]) {
			if (*name == '\0')
				set->webhook_changed = 1;
			else
				changed[n++] = name;
		}
		free(hook);
	}
	set->routes_changed = changed;
	set->nroutes_changed = n;
	return MC_OK;
}

/* Record the webhook ids check_webhooks found to record. */
static enum mc_err
record_webhooks(struct run *r, const char *record, struct err *e)
{
	const struct config *cfg = &r->c->cfg;
	size_t i;
	enum mc_err rc = MC_OK;

	for (i = 0; i <= cfg->nroutes && rc == MC_OK; i++)
		if (record[i] && r->rcl.d[i] != NULL)
			rc = store_route_webhook_put(r->st, i < cfg->nroutes ? cfg->routes[i].name : "",
			    discord_webhook_id(r->rcl.d[i]), e);
	return rc;
}

static void
warn_changed(struct ctx *c, const struct diff_settings *set, const struct diff_plan *plan)
{
	struct buf b = { 0 };
	size_t i;

	if (!set->webhook_changed && set->nroutes_changed == 0)
		return;
	if (set->webhook_changed)
		buf_adds(&b, "the webhook");
	for (i = 0; i < set->nroutes_changed; i++)
		buf_addf(&b, "%s route %s's", b.len ? "," : "the webhook of", set->routes_changed[i]);
	warn(c, "sync: %s is not the one the state was made with: "
	    "forgetting %zu old message%s (left in place) and posting every "
	    "conference anew", b.data, plan->nforgotten, plan->nforgotten == 1 ? "" : "s");
	buf_free(&b);
}

static enum mc_err
sync_with(struct ctx *c, struct http *h, struct err *e)
{
	struct moodle_auth auth = { 0 };
	const struct config *cfg = &c->cfg;
	struct moodle_site site = { 0 };
	struct event_list evs = { 0 };
	struct diff_want *want = NULL;
	struct diff_plan plan = { 0 };
	struct diff_settings set = { 0 };
	struct run r = { 0 };
	const char **changed = xcalloc(cfg->nroutes + 1, sizeof *changed);
	char *record = xcalloc(cfg->nroutes + 1, 1);
	size_t nowhere;
	int64_t now = (int64_t)c->started;
	enum mc_err rc;

	r.c = c;
	r.deadline = now + cfg->deadline;
	r.stopped = xcalloc(cfg->nroutes + 1, 1);
	routes_clients_init(&r.rcl, c, r.deadline);
	rc = kept_token(c, &auth, e);
	if (rc == MC_OK)
		rc = moodle_fetch_auth(cfg, h, now, &auth, &site, &evs, e);
	if (rc != MC_OK)
		goto events_free;
	rc = open_state(c, &r.st, e);
	if (rc == MC_OK)
		rc = check_webhooks(&r, &set, changed, record, e);
	if (rc != MC_OK)
		goto plan_free;

	want = wants_of(cfg, &evs, &nowhere);
	set.meeting_minutes = cfg->meeting_minutes;
	rc = plan_of(r.st, want, evs.n, now, &set, &plan, e);
	if (rc != MC_OK)
		goto plan_free;
	r.plan = &plan;
	warn_changed(c, &set, &plan);

	if (c->dry_run) {
		print_plan(&r, &plan, nowhere);
		rc = sync_events_dry(c, r.st, &plan, now, r.deadline, e);
		goto plan_free;
	}
	rc = tend_token(c, r.st, &auth, now, e);
	if (rc != MC_OK)
		goto plan_free;

	rc = apply_state_steps(&r, &plan, &set, e);
	if (rc == MC_OK)
		rc = record_webhooks(&r, record, e);
	if (rc == MC_OK)
		rc = apply_calls(&r, &plan, e);
	if (rc == MC_OK)
		rc = look_standing(&r, &plan, e);
	if (r.moved)
		info(c, "%zu created, %zu edited, %zu deleted, %zu moved", r.created, r.edited,
		    r.deleted, r.moved);
	else
		info(c, "%zu created, %zu edited, %zu deleted", r.created, r.edited, r.deleted);
	/* The events after the messages; their failure never stops these,
	 * and a failure of the messages goes first. */
	if (rc == MC_OK || rc == MC_ERR_DATA) {
		struct err ee = { 0 };
		enum mc_err erc = sync_events(c, r.st, now, r.deadline, &ee);

		if (erc != MC_OK && rc == MC_OK) {
			*e = ee;
			rc = erc;
		} else if (erc != MC_OK) {
			warn(c, "sync: %s", ee.msg);
		}
	}

plan_free:
	diff_plan_free(&plan);
	free(want);
	store_close(r.st);
events_free:
	routes_clients_free(&r.rcl);
	free(r.stopped);
	free(changed);
	free(record);
	event_list_free(&evs);
	moodle_site_free(&site);
	moodle_auth_free(&auth);
	return rc;
}

enum mc_err
verb_sync(struct ctx *c, struct err *e)
{
	struct lock *lk = NULL;
	struct http *h;
	enum mc_err rc;

	rc = ctx_open_config(c, CONFIG_NEED_MOODLE | CONFIG_NEED_DISCORD | CONFIG_LATER_PASSWORD, e);
	if (rc != MC_OK)
		return rc;
	/* The lock (its path is in the config) before the secrets: a run
	 * that finds another busy must not run password_command.  A dry run
	 * writes nothing, not even a lock file. */
	if (!c->dry_run) {
		rc = lock_take(c->cfg.state_path, "sync", SYNC_LOCK_STALE, &lk, e);
		if (rc != MC_OK)
			return rc;
	}
	rc = ctx_read_secrets(c, e);
	if (rc != MC_OK)
		goto lock_release;
	h = http_new((long)c->cfg.connect_timeout, (long)c->cfg.timeout, 0);
	rc = sync_with(c, h, e);
	/* read whole at the start, written only by this run since: sound as
	 * it is now, which spares ping reading it whole (sound.h) */
	if (!c->dry_run && (rc == MC_OK || rc == MC_ERR_DATA))
		(void)sound_mark(c->cfg.state_path, &(struct err){ 0 });
	http_free(h);
lock_release:
	lock_release(lk);
	return rc;
}
