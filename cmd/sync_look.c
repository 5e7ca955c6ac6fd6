/* sync_look: the look-ups of standing messages.  A message a person
 * deleted in Discord makes no call come back while its conference does
 * not change; so each sync looks up a few of the messages its plan did
 * not touch (a GET of the webhook's own message) and posts again those
 * found gone. */
#include <stdlib.h>
#include <string.h>

#include "discord.h"
#include "protocol.h"
#include "store.h"
#include "sync_int.h"

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
		if (sync_is_call(p->v[i].op))
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
	struct discord *d = sync_client(r, rec->msg.route, &route, e);
	enum mc_err rc;

	if (d == NULL)
		return e->kind == MC_ERR_NOTFOUND || e->kind == MC_ERR_CONFIG ? MC_OK : e->kind;
	rc = discord_look_in(d, sync_thread(rec), rec->msg.msg_id, e);
	if (rc != MC_ERR_NOTFOUND)
		return rc == MC_OK ? MC_OK : err_prefix(e, "looking up the message of '%.*s': ",
		    sync_name_cut(rec), sync_name(rec));
	return sync_post_new(r, d, route, rec, "its message was deleted in Discord", e);
}

enum mc_err
sync_look_standing(struct run *r, const struct diff_plan *p, struct err *e)
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

