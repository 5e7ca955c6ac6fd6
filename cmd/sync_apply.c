/* sync_apply: the steps of sync's plan applied.  The steps without a
 * Discord call first (sync_apply_state), then the calls (sync_apply_calls):
 * each route's in plan order, the routes side by side (sync_routes.c), a
 * step's record made when it is applied (diff_step_record) from the
 * wanted conference and the record stored then, each call's result
 * committed to the state before that route's next call.  What a crash
 * between a call and its commit costs: at most one duplicate post per
 * route in flight (protocol.h's intents say which). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discord.h"
#include "protocol.h"
#include "render.h"
#include "store.h"
#include "sync_int.h"
#include "sync_routes.h"

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
struct discord *
sync_client(struct run *r, const char *name, const struct route_config **route, struct err *e)
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
struct render_opts
sync_opts(const struct route_config *rc)
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
char *
sync_change_line(const char *op, const struct event *ev, const char *reason)
{
	char when[32];

	fmt_local_time((time_t)ev->start, when);
	return xasprintf("%s  %s  %s  %s  (%s)", op, when, course_of(ev),
	    ev->name ? ev->name : "", reason);
}

/* A change made, told with -v. */
void
sync_report_done(struct ctx *c, const char *op, const struct event *ev, const char *reason)
{
	char *line = sync_change_line(op, ev, reason);

	info(c, "%s", line);
	free(line);
}

int
sync_is_call(enum diff_op op)
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

const char *
sync_name(const struct record *rec)
{
	return rec->ev.name ? rec->ev.name : "";
}

/* How many bytes of a conference's name an error line quotes: enough to
 * know it, cut on a character boundary. */
int
sync_name_cut(const struct record *rec)
{
	const char *n = sync_name(rec);
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
const char *
sync_thread(const struct record *rec)
{
	return rec->msg.thread_id[0] != '\0' ? rec->msg.thread_id : NULL;
}

/* Post rec's conference through d (route's look: silent, a forum post)
 * and record it; counted as created and told (-v) with reason.  In a
 * forum the post opens a thread whose id is the message's. */
enum mc_err
sync_post_new(struct run *r, struct discord *d, const struct route_config *route, struct record *rec,
    const char *reason, struct err *e)
{
	struct render_opts ro = sync_opts(route);
	char *body;
	char id[32] = "";
	enum mc_err rc;

	/* No post the state cannot record: each sync on a full disk would
	 * post it again. */
	rc = protocol_sync_intent(r->st, rec, (int64_t)time(NULL), e);
	if (rc != MC_OK)
		return err_prefix(e, "nothing posted for '%.*s', the state cannot record it: ",
		    sync_name_cut(rec), sync_name(rec));
	body = render_conference_post(&rec->ev, &ro);
	rc = discord_post(d, body, id, e);
	free(body);
	if (rc != MC_OK)
		return err_prefix(e, "posting '%.*s': ", sync_name_cut(rec), sync_name(rec));
	memcpy(rec->msg.msg_id, id, sizeof rec->msg.msg_id);
	if (ro.forum)
		memcpy(rec->msg.thread_id, id, sizeof rec->msg.thread_id);
	else
		rec->msg.thread_id[0] = '\0';
	rc = protocol_sync_posted(r->st, rec, e);
	/* what matters first: a name of any length cannot push it out */
	if (rc != MC_OK)
		return err_prefix(e, "message %s was posted but not recorded (the next sync "
		    "posts it again) for '%.*s': ", id, sync_name_cut(rec), sync_name(rec));
	r->created++;
	sync_report_done(r->c, "create", &rec->ev, reason);
	return MC_OK;
}

/* Post rec through its route and record it. */
static enum mc_err
create_rec(struct run *r, struct record *rec, const char *reason, struct err *e)
{
	const struct route_config *route;
	struct discord *d = sync_client(r, rec->msg.route, &route, e);

	if (d == NULL)
		return e->kind;
	return sync_post_new(r, d, route, rec, reason, e);
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
	struct discord *d = sync_client(r, rec->msg.route, &route, e);
	struct render_opts ro = sync_opts(route);
	char *body;
	enum mc_err rc;

	if (d == NULL)
		return e->kind;
	body = render_conference(&rec->ev, &ro);
	rc = discord_edit_in(d, sync_thread(rec), rec->msg.msg_id, body, e);
	free(body);
	if (rc == MC_ERR_NOTFOUND) {
		/* deleted by someone in Discord: post it anew */
		return sync_post_new(r, d, route, rec, "its message was deleted in Discord", e);
	}
	if (rc != MC_OK)
		return err_prefix(e, "editing '%s': ", rec->ev.name);
	rc = protocol_sync_put(r->st, rec, e);
	if (rc != MC_OK)
		return rc;
	r->edited++;
	sync_report_done(r->c, "edit", &rec->ev, reason);
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
	struct render_opts ro = sync_opts(route);
	char *body;
	enum mc_err rc;

	if (sync_thread(cur) == NULL)
		return discord_remove(d, cur->msg.msg_id, e);
	body = render_conference_closed(&cur->ev, &ro, word);
	rc = discord_edit_in(d, sync_thread(cur), cur->msg.msg_id, body, e);
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
		rc = discord_remove_in(d, sync_thread(cur), cur->msg.ping_id, e);
		if (rc != MC_OK)
			return err_prefix(e, "deleting the ping message of '%s': ", cur->ev.name);
	}
	if (cur->msg.ping_old[0] != '\0') {
		/* a reminder replaced by ping_id whose deletion a ping run
		 * did not finish */
		rc = discord_remove_in(d, sync_thread(cur), cur->msg.ping_old, e);
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
	d = sync_client(r, cur.msg.route, &route, e);
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
	sync_report_done(r->c, "delete", w != NULL ? w->ev : &cur.ev, reason);
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
	d = sync_client(r, cur.msg.route, &route, e);
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
enum mc_err
sync_apply_state(struct run *r, struct diff_plan *p, const struct diff_settings *set,
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
enum mc_err
sync_apply_calls(struct run *r, struct diff_plan *p, struct err *e)
{
	size_t nslots = r->c->cfg.nroutes + 1, i;
	struct lanes *l = lanes_new(nslots);
	struct apply a = { .p = p, .ncalls = p->ncreate + p->nedit + p->ndelete + p->nmove };
	enum mc_err rc;

	atomic_init(&a.done, 0);
	for (i = 0; i < p->n; i++) {
		const struct diff_step *st = &p->v[i];
		long from, to;

		if (!sync_is_call(st->op))
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
		a.lane[i].plan = r->plan;
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

