/* sync: keep the Discord channel equal to Moodle's conferences.
 *
 * lock -> Moodle fetch -> state -> diff -> apply (sync_apply.c) ->
 * look-ups of standing messages (sync_look.c) -> scheduled events
 * (sync_events.c, with a bot token).  A failed fetch
 * changes nothing: the state is opened only after it succeeded.  apply
 * runs the routes side by side (sync_routes.c), each route's calls in
 * order, and commits each Discord call that succeeded to LMDB before that
 * route's next call, so a crash loses at most the one call in flight of
 * each route (a post whose answer was lost is the one duplicate of that
 * route that can follow). */
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#include "cmd.h"
#include "diff.h"
#include "discord.h"
#include "http.h"
#include "lock.h"
#include "moodle.h"
#include "render.h"
#include "sound.h"
#include "store.h"
#include "sync_int.h"


/* A sync lock held this long belongs to a run that hangs: an error. */
#define SYNC_LOCK_STALE 3600

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

		if (!sync_is_call(p->v[i].op))
			continue;
		/* a conference stored: its reason may need it, and one
		 * Moodle no longer has is shown as stored */
		if (r->st != NULL)
			have = store_get(r->st, p->v[i].id, &cur, &(struct err){ 0 }) == MC_OK;
		diff_step_reason(p, &p->v[i], have ? &cur : NULL, reason, sizeof reason);
		if (w != NULL || have) {
			line = sync_change_line(diff_op_name(p->v[i].op), w != NULL ? w->ev : &cur.ev,
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
		struct render_opts ro = sync_opts(rc);
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

	rc = sync_apply_state(&r, &plan, &set, e);
	if (rc == MC_OK)
		rc = record_webhooks(&r, record, e);
	if (rc == MC_OK)
		rc = sync_apply_calls(&r, &plan, e);
	if (rc == MC_OK)
		rc = sync_look_standing(&r, &plan, e);
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
