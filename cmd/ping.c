/* ping: the role ping before each conference, once, and the cleanup of
 * ping messages of conferences that are over.
 *
 * Run every minute, so the path with nothing to do is kept short: config
 * (no password command: CONFIG_NEED_MOODLE is not asked; it comes before
 * the lock, which lives beside the state file the config names), lock, a
 * read-only transaction over the due window of by_start (state/ping_plan.h), the
 * plan, exit.  No libcurl, no network, no write transaction.  Only a plan
 * with work in it reopens the state read-write and starts the Discord
 * client.  Each ping is claimed in LMDB before it is posted, so two runs
 * that the lock does not keep apart still ping once. */
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
		char when[32];

		out(c, "%s  %s  %s  %s%s", p->v[i].kind == STEP_DELETE_PING ? "delete-ping" : "ping",
		    fmt_local_time((time_t)r->ev.start, when),
		    r->ev.course_short && *r->ev.course_short ? r->ev.course_short :
		    r->ev.course_name ? r->ev.course_name : "",
		    r->ev.name ? r->ev.name : "",
		    p->v[i].kind == STEP_PING_STARTED ? "  (started)" :
		    p->v[i].replace ? "  (moved: replaces its ping)" : "");
	}
}

/* Give up the claim on conference id, so the next run tries again; a
 * failure to do so only delays that by PROTOCOL_STALE_CLAIM. */
static void
unclaim(struct ctx *c, struct store *s, int64_t id)
{
	struct err e = { 0 };

	if (protocol_ping_reopen(s, id, &e) != MC_OK && e.kind != MC_ERR_NOTFOUND)
		warn(c, "ping: %s", e.msg);
}

/* A conference moved later after its ping was sent: delete that ping
 * message and set the ping back to none, so that it is pinged anew. */
static enum mc_err
unping_moved(struct ctx *c, struct store *s, struct discord *d, const struct record *r,
    struct err *e)
{
	struct record cur = { 0 };
	enum mc_err rc;

	rc = store_get(s, r->ev.id, &cur, e);
	if (rc != MC_OK)
		return rc;
	if (!ping_plan_moved(&cur, c->cfg.ping_minutes) ||
	    strcmp(cur.msg.ping_id, r->msg.ping_id) != 0)
		goto event_free;
	if (cur.msg.ping_id[0] != '\0') {
		rc = discord_remove(d, cur.msg.ping_id, e);
		if (rc != MC_OK) {
			err_prefix(e, "the old ping message of '%s' (moved) not deleted: ",
			    cur.ev.name);
			goto event_free;
		}
	}
	rc = protocol_ping_reopen(s, cur.ev.id, e);
	if (rc == MC_OK)
		info(c, "deleted ping: %s (moved, pinged again)", cur.ev.name);
event_free:
	event_free(&cur.ev);
	return rc;
}

/* Post the ping of r: claim it, post, record the message id.  The
 * conference is read again once claimed: sync may have changed or moved
 * it since the plan was made.  A post that failed gives up the claim so
 * the next run tries again. */
static enum mc_err
ping_one(struct ctx *c, struct store *s, struct discord *d, const struct record *r,
    int replace, struct err *e)
{
	const struct render_opts opts = {
		.role_id = c->cfg.role_id,
		.username = c->cfg.discord_username,
	};
	struct record cur = { 0 };
	enum ping_step_kind kind;
	char id[32] = "";
	char *body;
	enum mc_err rc;
	int64_t now = (int64_t)time(NULL);
	int won = 0;

	if (replace) {
		rc = unping_moved(c, s, d, r, e);
		if (rc == MC_ERR_NOTFOUND)
			return MC_OK;
		if (rc != MC_OK)
			return rc;
	}
	rc = protocol_ping_claim(s, r->ev.id, now, &won, e);
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
	rc = store_get(s, r->ev.id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK) {
		unclaim(c, s, r->ev.id);
		return rc;
	}
	if (!ping_plan_in_window(&cur.ev, now, c->cfg.ping_minutes, c->cfg.meeting_minutes, &kind)) {
		unclaim(c, s, cur.ev.id);
		info(c, "ping: %s has moved, no longer due", cur.ev.name);
		goto event_free;
	}
	body = render_ping(&cur.ev, &opts, now);
	rc = discord_post(d, body, id, e);
	free(body);
	if (rc != MC_OK) {
		unclaim(c, s, cur.ev.id);
		err_prefix(e, "ping of '%s' not posted (the next run tries again): ", cur.ev.name);
		goto event_free;
	}
	rc = protocol_ping_sent(s, cur.ev.id, id, now, e);
	if (rc != MC_OK) {
		err_prefix(e, "ping of '%s' posted as %s but not recorded: ", cur.ev.name, id);
		goto event_free;
	}
	info(c, "pinged: %s (message %s)", cur.ev.name, id);
event_free:
	event_free(&cur.ev);
	return rc;
}

/* Delete the ping message of r, over; a message already gone counts.
 * Read again first: sync may have removed the conference (and its ping
 * message) or moved it since the plan was made. */
static enum mc_err
unping_one(struct ctx *c, struct store *s, struct discord *d, const struct record *r,
    struct err *e)
{
	struct record cur = { 0 };
	enum mc_err rc;
	int64_t now = (int64_t)time(NULL);

	rc = store_get(s, r->ev.id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (!ping_plan_to_delete(&cur, now, c->cfg.meeting_minutes) ||
	    strcmp(cur.msg.ping_id, r->msg.ping_id) != 0)
		goto event_free;
	if (cur.msg.ping_id[0] != '\0') {
		rc = discord_remove(d, cur.msg.ping_id, e);
		if (rc != MC_OK) {
			err_prefix(e, "ping message of '%s' not deleted: ", cur.ev.name);
			goto event_free;
		}
	}
	rc = protocol_ping_done(s, cur.ev.id, cur.msg.ping_id, now, e);
	if (rc == MC_ERR_NOTFOUND)
		rc = MC_OK;
	else if (rc == MC_OK)
		info(c, "deleted ping: %s", cur.ev.name);
event_free:
	event_free(&cur.ev);
	return rc;
}

static enum mc_err
run_steps(struct ctx *c, const struct record_list *recs, const struct ping_plan *p,
    struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct store *s = NULL;
	struct discord *d = NULL;
	enum mc_err rc;
	size_t i;

	rc = store_open(cfg->state_path, 0, &s, e);
	if (rc != MC_OK)
		return rc;
	rc = ctx_http_init(c, e);
	if (rc != MC_OK)
		goto store_close;
	d = discord_new(cfg->webhook_url, cfg->thread_id, (long)cfg->connect_timeout,
	    (long)cfg->timeout, (int64_t)c->started + cfg->deadline, e);
	if (d == NULL) {
		rc = e->kind;
		goto store_close;
	}
	for (i = 0; i < p->n && rc == MC_OK; i++) {
		const struct record *r = &recs->v[p->v[i].rec];

		if (p->v[i].kind == STEP_DELETE_PING)
			rc = unping_one(c, s, d, r, e);
		else
			rc = ping_one(c, s, d, r, p->v[i].replace, e);
	}
	discord_free(d);
store_close:
	store_close(s);
	return rc;
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
	rc = store_open(c->cfg.state_path, STORE_RDONLY | (verified ? STORE_CHECKED : 0), &s, e);
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
		ping_plan_window(now, c->cfg.ping_minutes, c->cfg.meeting_minutes, &from, &to);
		rc = store_load_window(s, from, to, &recs, e);
	}
	store_close(s);
	if (rc != MC_OK)
		goto lock_release;
	ping_plan_make(&recs, now, c->cfg.ping_minutes, c->cfg.meeting_minutes, &plan);
	if (c->dry_run)
		print_plan(c, &recs, &plan);
	else if (plan.n == 0)
		info(c, "ping: nothing to do");
	else
		rc = run_steps(c, &recs, &plan, e);
	/* read whole or written by this run: sound as it is now (a note
	 * that cannot be written only costs the next run a whole read) */
	if (rc == MC_OK && !c->dry_run && (!verified || plan.n > 0))
		(void)sound_mark(c->cfg.state_path, &(struct err){ 0 });
	ping_plan_free(&plan);
	record_list_free(&recs);
lock_release:
	lock_release(lk);
	return rc;
}
