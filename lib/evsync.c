#include "evsync.h"

#include <stdlib.h>
#include <string.h>

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

	if (shows == NULL || bot_id == NULL || *bot_id == '\0')
		return NULL;
	for (k = 0; k < nlisted; k++) {
		if (taken[k] || !is_alive(&listed[k]) || strcmp(listed[k].creator_id, bot_id) != 0)
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
