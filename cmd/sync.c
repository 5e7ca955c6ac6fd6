/* sync: keep the Discord channel equal to Moodle's conferences.
 *
 * lock -> Moodle fetch -> state -> diff -> apply.  A failed fetch
 * changes nothing: the state is opened only after it succeeded.  apply
 * commits each Discord call that succeeded to LMDB before the next call,
 * so a crash loses at most the one call in flight (a post whose answer was
 * lost is the one duplicate that can follow). */
#include <stdlib.h>
#include <string.h>

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

/* A sync lock held this long belongs to a run that hangs: an error. */
#define SYNC_LOCK_STALE 3600

struct run {
	struct ctx *c;
	struct store *st;
	struct discord *d;
	struct render_opts ro;
	int64_t deadline;       /* absolute: no Discord call starts after it */
	size_t created, edited, deleted, skipped;
};

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
	return op == DIFF_CREATE || op == DIFF_EDIT || op == DIFF_DELETE;
}

/* A Discord failure that ends the run (everything but a refused body). */
static int
fatal(enum mc_err rc)
{
	return rc != MC_OK && rc != MC_ERR_DATA;
}

static int
record_id_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return (x->ev.id > y->ev.id) - (x->ev.id < y->ev.id);
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

static enum mc_err
post_new(struct run *r, struct record *rec, const char *body, struct err *e)
{
	char id[32] = "";
	enum mc_err rc;

	/* No post the state cannot record: each sync on a full disk would
	 * post it again. */
	rc = protocol_sync_intent(r->st, rec, (int64_t)time(NULL), e);
	if (rc != MC_OK)
		return err_prefix(e, "nothing posted for '%.*s', the state cannot record it: ",
		    name_cut(rec), name_of(rec));
	rc = discord_post(r->d, body, id, e);
	if (rc != MC_OK)
		return err_prefix(e, "posting '%.*s': ", name_cut(rec), name_of(rec));
	memcpy(rec->msg.msg_id, id, sizeof rec->msg.msg_id);
	rc = protocol_sync_posted(r->st, rec, e);
	/* what matters first: a name of any length cannot push it out */
	if (rc != MC_OK)
		return err_prefix(e, "message %s was posted but not recorded (the next sync "
		    "posts it again) for '%.*s': ", id, name_cut(rec), name_of(rec));
	return MC_OK;
}

static enum mc_err
do_create(struct run *r, struct diff_step *st, struct err *e)
{
	char *body = render_conference(&st->rec.ev, &r->ro);
	enum mc_err rc = post_new(r, &st->rec, body, e);

	free(body);
	if (rc == MC_OK) {
		r->created++;
		report_done(r->c, "create", &st->rec.ev, st->reason);
	}
	return rc;
}

static enum mc_err
do_edit(struct run *r, struct diff_step *st, struct err *e)
{
	char *body = render_conference(&st->rec.ev, &r->ro);
	enum mc_err rc;

	rc = discord_edit(r->d, st->rec.msg.msg_id, body, e);
	if (rc == MC_ERR_NOTFOUND) {
		/* deleted by someone in Discord: post it anew */
		rc = post_new(r, &st->rec, body, e);
		if (rc == MC_OK) {
			r->created++;
			report_done(r->c, "create", &st->rec.ev, "its message was deleted in Discord");
		}
		free(body);
		return rc;
	}
	free(body);
	if (rc != MC_OK)
		return err_prefix(e, "editing '%s': ", st->rec.ev.name);
	rc = protocol_sync_put(r->st, &st->rec, e);
	if (rc != MC_OK)
		return rc;
	r->edited++;
	report_done(r->c, "edit", &st->rec.ev, st->reason);
	return MC_OK;
}

/* Delete the conference message, then its ping message, then the record;
 * each step committed before the next call.  A message already gone
 * counts as deleted.  A ping run posting the ping meanwhile keeps the
 * record (protocol_sync_remove): the next sync deletes that ping. */
static enum mc_err
do_delete(struct run *r, struct diff_step *st, struct err *e)
{
	struct record cur = { 0 };
	enum mc_err rc;
	int removed;

	/* the stored record now: a ping run may have posted meanwhile */
	rc = store_get(r->st, st->rec.ev.id, &cur, e);
	if (rc == MC_ERR_NOTFOUND)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	if (cur.msg.msg_id[0] != '\0') {
		rc = discord_remove(r->d, cur.msg.msg_id, e);
		if (rc != MC_OK) {
			err_prefix(e, "deleting '%s': ", cur.ev.name);
			goto cur_free;
		}
		if (protocol_ping_standing(&cur.msg)) {
			cur.msg.msg_id[0] = '\0';
			rc = protocol_sync_put(r->st, &cur, e);
			if (rc != MC_OK)
				goto cur_free;
		}
	}
	/* a ping message ping deleted (DONE) is not deleted again */
	if (protocol_ping_standing(&cur.msg)) {
		if (time(NULL) >= r->deadline) {
			rc = err_set(e, MC_ERR_TEMP, "the run's deadline was reached; "
			    "the next sync carries on");
			goto cur_free;
		}
		rc = discord_remove(r->d, cur.msg.ping_id, e);
		if (rc != MC_OK) {
			err_prefix(e, "deleting the ping message of '%s': ", cur.ev.name);
			goto cur_free;
		}
	}
	rc = protocol_sync_remove(r->st, cur.ev.id, cur.msg.ping_id, (int64_t)time(NULL),
	    &removed, e);
	if (rc != MC_OK)
		goto cur_free;
	r->deleted++;
	report_done(r->c, "delete", &st->rec.ev, st->reason);
cur_free:
	event_free(&cur.ev);
	return rc;
}

/* The steps without a Discord call.  A new webhook's forgotten ids are
 * written whole (the old ping id goes too); otherwise a ping run's claim
 * made meanwhile is kept, and so is a record whose ping is being posted. */
static enum mc_err
apply_state_steps(struct run *r, struct diff_plan *p, int webhook_changed, struct err *e)
{
	enum mc_err rc = MC_OK;
	size_t i;
	int removed;

	for (i = 0; i < p->n && rc == MC_OK; i++) {
		struct diff_step *st = &p->v[i];

		if (st->op == DIFF_FORGET && webhook_changed)
			rc = store_remove(r->st, st->rec.ev.id, e);
		else if (st->op == DIFF_FORGET)
			rc = protocol_sync_remove(r->st, st->rec.ev.id, "", (int64_t)time(NULL),
			    &removed, e);
		else if (st->op == DIFF_KEEP && webhook_changed)
			rc = store_put(r->st, &st->rec, e);
		else if (st->op == DIFF_KEEP)
			rc = protocol_sync_put(r->st, &st->rec, e);
	}
	return rc;
}

/* The calls, in plan order.  A refused body skips that change; anything
 * else that fails, or the deadline, ends the run with what was done
 * kept. */
static enum mc_err
apply_calls(struct run *r, struct diff_plan *p, struct err *e)
{
	size_t i, ncalls = p->ncreate + p->nedit + p->ndelete, done = 0;
	enum mc_err rc;

	for (i = 0; i < p->n; i++) {
		struct diff_step *st = &p->v[i];

		if (!is_call(st->op))
			continue;
		if (time(NULL) >= r->deadline)
			return err_set(e, MC_ERR_TEMP, "the run's deadline was reached after "
			    "%zu of %zu changes; the next sync carries on", done, ncalls);
		if (st->op == DIFF_DELETE)
			rc = do_delete(r, st, e);
		else if (st->op == DIFF_EDIT)
			rc = do_edit(r, st, e);
		else
			rc = do_create(r, st, e);
		if (fatal(rc))
			return rc;
		if (rc == MC_ERR_DATA) {
			warn(r->c, "sync: %s (skipped)", e->msg);
			r->skipped++;
		}
		done++;
	}
	if (r->skipped)
		return err_set(e, MC_ERR_DATA, "%zu of %zu changes were refused by Discord "
		    "and skipped (see above)", r->skipped, ncalls);
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
changed_now(const struct diff_plan *p, int64_t id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].rec.ev.id == id && is_call(p->v[i].op))
			return 1;
	return 0;
}

/* Look up message of rec; post it anew when it is gone. */
static enum mc_err
look_one(struct run *r, struct record *rec, struct err *e)
{
	char *body;
	enum mc_err rc = discord_look(r->d, rec->msg.msg_id, e);

	if (rc != MC_ERR_NOTFOUND)
		return rc == MC_OK ? MC_OK : err_prefix(e, "looking up the message of '%.*s': ",
		    name_cut(rec), name_of(rec));
	body = render_conference(&rec->ev, &r->ro);
	render_hash(body, rec->msg.hash);
	rc = post_new(r, rec, body, e);
	free(body);
	if (rc == MC_OK) {
		r->created++;
		report_done(r->c, "create", &rec->ev, "its message was deleted in Discord");
	}
	return rc;
}

static enum mc_err
look_standing(struct run *r, const struct diff_plan *p, struct err *e)
{
	struct record_list all = { 0 };
	size_t i, n = 0, start = 0, k, want;
	int64_t from = 0, last = 0;
	enum mc_err rc;

	rc = store_load_all(r->st, &all, e);
	if (rc == MC_OK)
		rc = store_checked_get(r->st, &from, e);
	if (rc != MC_OK)
		goto all_free;
	/* the standing messages, by id (no copies: moved to the front) */
	for (i = 0; i < all.n; i++)
		if (all.v[i].msg.msg_id[0] != '\0' && !changed_now(p, all.v[i].ev.id)) {
			struct record t = all.v[n];

			all.v[n++] = all.v[i];
			all.v[i] = t;
		}
	if (n == 0)
		goto all_free;
	qsort(all.v, n, sizeof *all.v, record_id_cmp);
	while (start < n && all.v[start].ev.id <= from)
		start++;
	want = (n + LOOK_SYNCS - 1) / LOOK_SYNCS;
	want = want < 2 ? 2 : want > LOOK_MAX ? LOOK_MAX : want;
	for (k = 0; k < want && k < n && rc == MC_OK; k++) {
		struct record *rec = &all.v[(start + k) % n];

		if (time(NULL) >= r->deadline)
			break;
		rc = look_one(r, rec, e);
		last = rec->ev.id;
	}
	if (last != 0) {
		struct err e2 = { 0 };
		enum mc_err rc2 = store_checked_put(r->st, last, &e2);

		if (rc == MC_OK && rc2 != MC_OK) {
			*e = e2;
			rc = rc2;
		}
	}
all_free:
	record_list_free(&all);
	return rc;
}

static void
print_plan(struct ctx *c, const struct diff_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		char *line;

		if (!is_call(p->v[i].op))
			continue;
		line = change_line(diff_op_name(p->v[i].op), &p->v[i].rec.ev, p->v[i].reason);
		out(c, "%s", line);
		free(line);
	}
	out(c, "%zu to create, %zu to edit, %zu to delete", p->ncreate, p->nedit, p->ndelete);
}

/* The desired conferences with the hash of the body each would send. */
static struct diff_want *
wants_of(const struct event_list *evs, const struct render_opts *ro)
{
	struct diff_want *w = xcalloc(evs->n ? evs->n : 1, sizeof *w);
	size_t i;

	for (i = 0; i < evs->n; i++) {
		char *body = render_conference(&evs->v[i], ro);

		w[i].ev = &evs->v[i];
		render_hash(body, w[i].hash);
		free(body);
	}
	return w;
}

/* The stored snapshot and webhook id; a dry run reads an absent state as
 * empty and never writes. */
static enum mc_err
open_state(struct ctx *c, struct store **st, struct record_list *prev, char **hook,
    struct err *e)
{
	enum mc_err rc;

	*st = NULL;
	*hook = NULL;
	rc = store_open(c->cfg.state_path, c->dry_run ? STORE_RDONLY : STORE_CREATE, st, e);
	if (rc == MC_ERR_NOTFOUND && c->dry_run)
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	rc = store_check_site(*st, c->cfg.moodle_url, e);
	if (rc == MC_OK)
		rc = store_webhook_get(*st, hook, e);
	if (rc == MC_OK)
		rc = store_load_all(*st, prev, e);
	if (rc != MC_OK) {
		store_close(*st);
		*st = NULL;
		free(*hook);
		*hook = NULL;
	}
	return rc;
}

static enum mc_err
sync_with(struct ctx *c, struct http *h, struct err *e)
{
	const struct config *cfg = &c->cfg;
	struct moodle_site site = { 0 };
	struct event_list evs = { 0 };
	struct record_list prev = { 0 };
	struct diff_want *want = NULL;
	struct diff_plan plan = { 0 };
	struct diff_settings set = { 0 };
	struct run r = { 0 };
	char *hook = NULL;
	int64_t now = (int64_t)c->started;
	enum mc_err rc;

	rc = moodle_fetch(cfg, h, now, &site, &evs, e);
	if (rc != MC_OK)
		goto events_free;

	r.c = c;
	r.ro.role_id = cfg->role_id;
	r.ro.username = cfg->discord_username;
	r.deadline = now + cfg->deadline;
	r.d = discord_new(cfg->webhook_url, cfg->thread_id, (long)cfg->connect_timeout,
	    (long)cfg->timeout, r.deadline, e);
	if (r.d == NULL) {
		rc = e->kind;
		goto events_free;
	}
	rc = open_state(c, &r.st, &prev, &hook, e);
	if (rc != MC_OK)
		goto discord_free;

	want = wants_of(&evs, &r.ro);
	set.meeting_minutes = cfg->meeting_minutes;
	set.webhook_changed = hook != NULL && strcmp(hook, discord_webhook_id(r.d)) != 0;
	diff_compute(want, evs.n, &prev, now, &set, &plan);
	if (set.webhook_changed)
		warn(c, "sync: the webhook is not the one the state was made with: "
		    "forgetting %zu old message%s (left in place) and posting every "
		    "conference anew", plan.nforgotten, plan.nforgotten == 1 ? "" : "s");

	if (c->dry_run) {
		print_plan(c, &plan);
		goto plan_free;
	}

	rc = apply_state_steps(&r, &plan, set.webhook_changed, e);
	if (rc == MC_OK && (hook == NULL || set.webhook_changed))
		rc = store_webhook_put(r.st, discord_webhook_id(r.d), e);
	if (rc == MC_OK)
		rc = apply_calls(&r, &plan, e);
	if (rc == MC_OK)
		rc = look_standing(&r, &plan, e);
	info(c, "%zu created, %zu edited, %zu deleted", r.created, r.edited, r.deleted);

plan_free:
	diff_plan_free(&plan);
	free(want);
	record_list_free(&prev);
	free(hook);
	store_close(r.st);
discord_free:
	discord_free(r.d);
events_free:
	event_list_free(&evs);
	moodle_site_free(&site);
	return rc;
}

enum mc_err
verb_sync(struct ctx *c, struct err *e)
{
	struct lock *lk = NULL;
	struct http *h;
	enum mc_err rc;

	rc = ctx_open_config(c, CONFIG_NEED_MOODLE | CONFIG_NEED_DISCORD, e);
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
