#include "evsync.h"

#include <stdlib.h>
#include <string.h>

#include "sevent.h"
#include "util.h"

struct list {
	struct evsync_action *v;
	size_t n, cap;
};

static void
push(struct list *l, enum evsync_op op, size_t conf, const char *adopt)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].op = op;
	l->v[l->n].conf = conf;
	if (adopt != NULL)
		memcpy(l->v[l->n].adopt, adopt, strlen(adopt) + 1);
	l->n++;
}

static void
append(struct list *to, const struct list *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		push(to, from->v[i].op, from->v[i].conf, from->v[i].adopt);
}

static const struct bot_event *
listed_find(const struct bot_event *listed, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(listed[i].id, id) == 0)
			return &listed[i];
	return NULL;
}

static int
is_alive(const struct bot_event *d)
{
	return d != NULL && (d->status == BOT_EVENT_SCHEDULED || d->status == BOT_EVENT_ACTIVE);
}

/* An upcoming conference in the order of the window: nearest first, ties
 * by key. */
struct slot {
	int64_t start, key;
	size_t conf;
};

static int
by_start(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

/* Sort creates by their conference's rank in the window. */
static void
creates_sort(struct list *create, const size_t *rank)
{
	size_t a, b;

	for (a = 1; a < create->n; a++) {
		for (b = a; b > 0 && rank[create->v[b - 1].conf] > rank[create->v[b].conf]; b--) {
			struct evsync_action t = create->v[b];

			create->v[b] = create->v[b - 1];
			create->v[b - 1] = t;
		}
	}
}

/* What a conference with a live event needs once the window is known:
 * pushes onto del, edit and create. */
static void
plan_live(const struct evsync_conf *c, size_t i, const struct bot_event *d, int wanted, int64_t now,
    struct list *del, struct list *edit, struct list *create)
{
	int active = d->status == BOT_EVENT_ACTIVE || c->event_start <= now;
	int moved = c->event_start != c->start;

	if (!wanted) {
		push(del, EVSYNC_DELETE, i, NULL);
	} else if (active && moved) {
		push(del, EVSYNC_DELETE, i, NULL);
		push(create, EVSYNC_CREATE, i, NULL);
	} else if (moved || strcmp(c->hash, c->event_hash) != 0) {
		push(edit, active ? EVSYNC_EDIT_NO_START : EVSYNC_EDIT, i, NULL);
	}
}

/* An event the bot made that no conference holds and that shows what
 * conference i should; NULL when none.  taken marks those adopted. */
static const struct bot_event *
orphan_for(size_t i, const struct evsync_conf *confs, size_t n, const struct bot_event *listed,
    size_t nlisted, char *taken, const char *bot_id,
    int (*shows)(size_t, const struct bot_event *, void *), void *arg)
{
	size_t k, j;

	if (shows == NULL)
		return NULL;
	for (k = 0; k < nlisted; k++) {
		if (taken[k] || !is_alive(&listed[k]) ||
		    (bot_id != NULL && *bot_id != '\0' && strcmp(listed[k].creator_id, bot_id) != 0))
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(confs[j].event_id, listed[k].id) == 0)
				break;
		if (j < n || !shows(i, &listed[k], arg))
			continue;
		taken[k] = 1;
		return &listed[k];
	}
	return NULL;
}

void
evsync_plan(const struct evsync_conf *confs, size_t n, const struct bot_event *listed,
    size_t nlisted, const char *bot_id, int (*shows)(size_t i, const struct bot_event *ev, void *arg),
    void *arg, int64_t now, int64_t events_max, struct evsync_action **out, size_t *nout)
{
	struct list first = { 0 }, del = { 0 }, edit = { 0 }, create = { 0 };
	struct slot *order = xcalloc(n ? n : 1, sizeof *order);
	size_t *rank = xcalloc(n ? n : 1, sizeof *rank);
	const struct bot_event **live = xcalloc(n ? n : 1, sizeof *live);
	char *taken = xcalloc(nlisted ? nlisted : 1, 1);
	size_t i, nup = 0, slots;
	int64_t kept = 0;

	/* The events already running, kept to their end, take slots. */
	for (i = 0; i < n; i++) {
		const struct evsync_conf *c = &confs[i];

		rank[i] = SIZE_MAX;
		if (c->event_id[0] == '\0')
			continue;
		live[i] = listed_find(listed, nlisted, c->event_id);
		if (!is_alive(live[i])) {
			live[i] = NULL;
			push(&first, EVSYNC_FORGET, i, NULL);
		} else if (!c->present) {
			push(&del, EVSYNC_DELETE, i, NULL);
			live[i] = NULL;
		} else if (now >= c->end) {
			/* Over: Discord completes it by itself. */
			push(&first, EVSYNC_FORGET, i, NULL);
			live[i] = NULL;
		} else if (c->start <= now) {
			if (c->event_start != c->start)
				push(&del, EVSYNC_DELETE, i, NULL);
			else if (strcmp(c->hash, c->event_hash) != 0)
				push(&edit, EVSYNC_EDIT_NO_START, i, NULL);
			if (c->event_start == c->start)
				kept++;
			live[i] = NULL;
		}
	}
	for (i = 0; i < n; i++) {
		if (confs[i].present && confs[i].start > now && now < confs[i].end) {
			order[nup].start = confs[i].start;
			order[nup].key = confs[i].key;
			order[nup++].conf = i;
		}
	}
	qsort(order, nup, sizeof *order, by_start);
	slots = events_max > kept ? (size_t)(events_max - kept) : 0;
	for (i = 0; i < nup; i++)
		rank[order[i].conf] = i;

	for (i = 0; i < n; i++)
		if (live[i] != NULL)
			plan_live(&confs[i], i, live[i], rank[i] < slots, now, &del, &edit, &create);
	for (i = 0; i < nup && i < slots; i++) {
		size_t k = order[i].conf;
		const struct bot_event *o;

		if (live[k] != NULL)
			continue;
		o = orphan_for(k, confs, n, listed, nlisted, taken, bot_id, shows, arg);
		if (o != NULL)
			push(&first, EVSYNC_ADOPT, k, o->id);
		else
			push(&create, EVSYNC_CREATE, k, NULL);
	}
	/* Creates nearest first, whatever order they were found in. */
	creates_sort(&create, rank);
	append(&first, &del);
	append(&first, &edit);
	append(&first, &create);
	*out = first.v;
	*nout = first.n;
	free(del.v);
	free(edit.v);
	free(create.v);
	free(order);
	free(rank);
	free(live);
	free(taken);
}

const char *
evsync_op_name(enum evsync_op op)
{
	static const char *const names[] = { "create", "edit", "edit", "delete", "forget", "adopt" };

	return (size_t)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

/* --- carrying the plan out --- */

struct shows_arg {
	const struct sevent *want;
};

/* Does Discord event ev show what conference i should (a create whose id
 * was lost)? */
static int
shows_same(size_t i, const struct bot_event *ev, void *arg)
{
	const struct sevent *w = &((const struct shows_arg *)arg)->want[i];

	return strcmp(ev->name, w->name) == 0 && ev->location != NULL &&
	    strcmp(ev->location, w->location) == 0 && ev->start == w->start && ev->end == w->end;
}

static void
tell(struct evsync_job *x, const char *op, size_t i, const char *why)
{
	if (x->said != NULL)
		x->said(x->arg, op, i, why);
}

/* Make conference i's event and record it. */
static enum mc_err
do_create(struct evsync_job *x, const struct evsync_conf *c, size_t i, const struct sevent *w,
    const char *why, struct err *e)
{
	char *body = sevent_body_create(w), id[32], hash[17];
	enum mc_err rc;

	rc = bot_event_create(x->bot, x->guild_id, body, id, e);
	free(body);
	if (rc != MC_OK)
		return err_prefix(e, "event for '%s': ", w->name);
	memcpy(hash, c->hash, sizeof hash);
	rc = x->commit(x->arg, i, id, hash, w->start, e);
	if (rc != MC_OK)
		return err_prefix(e, "event %s for '%s' was made but not recorded: ", id, w->name);
	x->created++;
	tell(x, "create", i, why);
	return MC_OK;
}

/* Why a conference no longer wants its event here. */
static const char *
gone_why(const struct evsync_conf *c)
{
	return c->elsewhere ? "its route keeps its event in another server, or none" :
	    "gone from Moodle";
}

static enum mc_err
do_delete(struct evsync_job *x, const struct evsync_conf *c, size_t i, const struct sevent *w,
    struct err *e)
{
	enum mc_err rc = bot_event_delete(x->bot, x->guild_id, c->event_id, e);

	if (rc != MC_OK && rc != MC_ERR_NOTFOUND)
		return err_prefix(e, "deleting the event of '%s': ", w->name);
	rc = x->commit(x->arg, i, "", "", 0, e);
	if (rc != MC_OK)
		return rc;
	x->deleted++;
	tell(x, "delete", i, !c->present ? gone_why(c) : c->start <= x->now ?
	    "moved while under way" : "out of the nearest events_max");
	return MC_OK;
}

static enum mc_err
do_edit(struct evsync_job *x, const struct evsync_conf *c, size_t i, const struct sevent *w,
    int with_start, struct err *e)
{
	char *body = sevent_body_patch(w, with_start), id[32], hash[17];
	int status = 0;
	enum mc_err rc;

	rc = bot_event_edit(x->bot, x->guild_id, c->event_id, body, &status, e);
	free(body);
	if (rc == MC_ERR_NOTFOUND || (rc == MC_OK && status >= BOT_EVENT_COMPLETED)) {
		/* Gone since the list was read: made again while ahead. */
		rc = x->commit(x->arg, i, "", "", 0, e);
		if (rc != MC_OK)
			return rc;
		if (c->start <= x->now)
			return MC_OK;
		return do_create(x, c, i, w, "its event was deleted in Discord", e);
	}
	if (rc != MC_OK)
		return err_prefix(e, "editing the event of '%s': ", w->name);
	/* The caller's commit may write where c points: pass copies. */
	memcpy(id, c->event_id, sizeof id);
	memcpy(hash, c->hash, sizeof hash);
	rc = x->commit(x->arg, i, id, hash, with_start ? w->start : c->event_start, e);
	if (rc != MC_OK)
		return rc;
	x->edited++;
	tell(x, "edit", i, "changed in Moodle");
	return MC_OK;
}

/* A dry run: tell each action of the plan, as if done, and count it. */
static void
preview(struct evsync_job *x, const struct evsync_action *plan, size_t nplan,
    const struct evsync_conf *confs)
{
	size_t i;

	for (i = 0; i < nplan; i++) {
		const struct evsync_conf *c = &confs[plan[i].conf];

		switch (plan[i].op) {
		case EVSYNC_CREATE:
			x->created++;
			tell(x, "create", plan[i].conf, c->event_id[0] ?
			    "its event was deleted in Discord" : "new");
			break;
		case EVSYNC_EDIT:
		case EVSYNC_EDIT_NO_START:
			x->edited++;
			tell(x, "edit", plan[i].conf, "changed in Moodle");
			break;
		case EVSYNC_DELETE:
			x->deleted++;
			tell(x, "delete", plan[i].conf, !c->present ? gone_why(c) :
			    c->start <= x->now ? "moved while under way" : "out of the nearest events_max");
			break;
		case EVSYNC_FORGET:
			x->forgotten++;
			tell(x, "forget", plan[i].conf, "over, or deleted or cancelled in Discord");
			break;
		case EVSYNC_ADOPT:
			tell(x, "adopt", plan[i].conf, "made by a run that was stopped before it recorded it");
			break;
		}
	}
}

/* One action; MC_ERR_DATA (a refused body) concerns that conference
 * only. */
static enum mc_err
act(struct evsync_job *x, const struct evsync_action *a, struct evsync_conf *confs,
    const struct sevent *want, struct err *e)
{
	struct evsync_conf *c = &confs[a->conf];
	const struct sevent *w = &want[a->conf];
	char hash[17];
	enum mc_err rc = MC_OK;

	switch (a->op) {
	case EVSYNC_FORGET:
		rc = x->commit(x->arg, a->conf, "", "", 0, e);
		if (rc == MC_OK) {
			x->forgotten++;
			tell(x, "forget", a->conf, "over, or deleted or cancelled in Discord");
		}
		break;
	case EVSYNC_ADOPT:
		memcpy(hash, c->hash, sizeof hash);
		rc = x->commit(x->arg, a->conf, a->adopt, hash, w->start, e);
		if (rc == MC_OK)
			tell(x, "adopt", a->conf, "made by a run that was stopped before it recorded it");
		break;
	case EVSYNC_DELETE:
		rc = do_delete(x, c, a->conf, w, e);
		break;
	case EVSYNC_EDIT:
	case EVSYNC_EDIT_NO_START:
		rc = do_edit(x, c, a->conf, w, a->op == EVSYNC_EDIT, e);
		break;
	case EVSYNC_CREATE:
		rc = do_create(x, c, a->conf, w, c->event_id[0] ? "its event was deleted in Discord" : "new", e);
		break;
	}
	return rc;
}

enum mc_err
evsync_run(struct evsync_job *x, const struct event *const *evs, struct evsync_conf *confs,
    size_t n, struct err *e)
{
	struct sevent *want = xcalloc(n ? n : 1, sizeof *want);
	struct shows_arg sa = { want };
	struct evsync_action *plan = NULL;
	struct bot_event *listed = NULL;
	struct err first = { 0 };
	size_t nlisted = 0, nplan = 0, i;
	int full = 0;
	enum mc_err rc;

	for (i = 0; i < n; i++) {
		sevent_make(evs[i], x->site_url, x->meeting_minutes, &want[i]);
		confs[i].start = want[i].start;
		confs[i].end = want[i].end;
		sevent_hash(&want[i], confs[i].hash);
	}
	rc = bot_events_list(x->bot, x->guild_id, &listed, &nlisted, e);
	if (rc != MC_OK)
		goto want_free;
	evsync_plan(confs, n, listed, nlisted, x->bot_id, shows_same, &sa, x->now, x->events_max,
	    &plan, &nplan);
	if (x->dry_run) {
		preview(x, plan, nplan, confs);
		nplan = 0;
	}
	for (i = 0; i < nplan; i++) {
		struct err one = { 0 };

		if (full && plan[i].op == EVSYNC_CREATE)
			continue;
		rc = act(x, &plan[i], confs, want, &one);
		if (rc == MC_OK)
			continue;
		if (first.kind == MC_OK)
			first = one;
		if (rc == MC_ERR_DATA)
			continue;
		if (rc == MC_ERR_UNAVAILABLE && bot_last_code(x->bot) == BOT_CODE_TOO_MANY_EVENTS) {
			full = 1;
			continue;
		}
		break;
	}
	rc = first.kind;
	if (rc != MC_OK)
		*e = first;
	free(plan);
	bot_events_free(listed, nlisted);
want_free:
	for (i = 0; i < n; i++)
		sevent_free(&want[i]);
	free(want);
	return rc;
}
