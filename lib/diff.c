#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Either side of one conference id: what Moodle wants, what is stored. */
struct pair {
	const struct diff_want *w;
	const struct record *p;
};

static int
by_want_id(const void *a, const void *b)
{
	const struct diff_want *x = *(const struct diff_want *const *)a;
	const struct diff_want *y = *(const struct diff_want *const *)b;

	return (x->ev->id > y->ev->id) - (x->ev->id < y->ev->id);
}

static int
by_rec_id(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a;
	const struct record *y = *(const struct record *const *)b;

	return (x->ev.id > y->ev.id) - (x->ev.id < y->ev.id);
}

static int
op_group(enum diff_op op)
{
	switch (op) {
	case DIFF_KEEP:
	case DIFF_FORGET: return 0;
	case DIFF_DELETE: return 1;
	case DIFF_EDIT:   return 2;
	case DIFF_MOVE:   return 3;
	case DIFF_CREATE: return 4;
	}
	return 5;
}

static int
by_order(const void *a, const void *b)
{
	const struct diff_step *x = a, *y = b;
	int gx = op_group(x->op), gy = op_group(y->op);

	if (gx != gy)
		return gx - gy;
	if (x->rec.ev.start != y->rec.ev.start)
		return x->rec.ev.start < y->rec.ev.start ? -1 : 1;
	return (x->rec.ev.id > y->rec.ev.id) - (x->rec.ev.id < y->rec.ev.id);
}

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int
event_eq(const struct event *a, const struct event *b)
{
	return a->id == b->id && a->course_id == b->course_id &&
	    str_eq(a->course_short, b->course_short) &&
	    str_eq(a->course_name, b->course_name) && str_eq(a->name, b->name) &&
	    str_eq(a->module, b->module) && a->cmid == b->cmid &&
	    str_eq(a->url, b->url) && str_eq(a->site_name, b->site_name) &&
	    a->start == b->start && a->duration == b->duration &&
	    a->missing == b->missing;
}

/* What changed between the stored and the wanted event, for people. */
static void
changes(const struct event *old, const struct event *now, char *out, size_t n)
{
	struct buf b = { 0 };
	char *s;

	if (old->start != now->start)
		buf_adds(&b, ", time changed");
	if (old->duration != now->duration)
		buf_adds(&b, ", duration changed");
	if (!str_eq(old->name, now->name))
		buf_adds(&b, ", renamed");
	if (!str_eq(old->course_name, now->course_name) ||
	    !str_eq(old->course_short, now->course_short) ||
	    old->course_id != now->course_id)
		buf_adds(&b, ", course changed");
	if (!str_eq(old->url, now->url) || old->cmid != now->cmid ||
	    !str_eq(old->module, now->module))
		buf_adds(&b, ", link changed");
	if (!str_eq(old->site_name, now->site_name))
		buf_adds(&b, ", site renamed");
	if (b.len == 0)
		buf_adds(&b, ", message changed");
	s = buf_take(&b);
	snprintf(out, n, "%s", s + 2);
	free(s);
}

static struct diff_step *
add_step(struct diff_plan *pl, enum diff_op op, const char *reason)
{
	struct diff_step *st;

	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 16;
		pl->v = xrealloc(pl->v, pl->cap * sizeof *pl->v);
	}
	st = &pl->v[pl->n++];
	memset(st, 0, sizeof *st);
	st->op = op;
	snprintf(st->reason, sizeof st->reason, "%s", reason);
	switch (op) {
	case DIFF_CREATE: pl->ncreate++; break;
	case DIFF_EDIT:   pl->nedit++;   break;
	case DIFF_DELETE: pl->ndelete++; break;
	case DIFF_MOVE:   pl->nmove++;   break;
	case DIFF_KEEP:
	case DIFF_FORGET: break;
	}
	return st;
}

/* Was the webhook of the route p's messages were posted through
 * changed? */
static int
route_changed(const struct diff_settings *s, const struct record *p)
{
	size_t i;

	if (p->msg.route[0] == '\0')
		return s->webhook_changed;
	for (i = 0; i < s->nroutes_changed; i++)
		if (strcmp(s->routes_changed[i], p->msg.route) == 0)
			return 1;
	return 0;
}

/* The stored record as this run sees it: with a new webhook, the old
 * message ids mean nothing and are dropped. */
static void
stored_view(const struct record *p, const struct diff_settings *s, struct record *r,
    int *forgot)
{
	event_copy(&r->ev, &p->ev);
	r->msg = p->msg;
	*forgot = 0;
	if (!route_changed(s, p))
		return;
	if (r->msg.msg_id[0] != '\0' || r->msg.ping_id[0] != '\0')
		*forgot = 1;
	r->msg.msg_id[0] = '\0';
	r->msg.hash[0] = '\0';
	r->msg.ping_id[0] = '\0';
	r->msg.ping_old[0] = '\0';
	r->msg.thread_id[0] = '\0';
	if (r->msg.ping == PING_SENT)
		r->msg.ping = PING_DONE;
}

static int
has_message(const struct record *r)
{
	return r->msg.msg_id[0] != '\0' || r->msg.ping_id[0] != '\0' || r->msg.ping_old[0] != '\0';
}

/* Stored and wanted: the record keeps its message data, takes the new
 * event data. */
static void
decide_both(struct diff_plan *pl, const struct diff_want *w, const struct record *p,
    int64_t now, const struct diff_settings *s)
{
	struct record r = { 0 };
	struct diff_step *st;
	int forgot;

	stored_view(p, s, &r, &forgot);
	if (w->route == NULL || now >= event_end(w->ev, s->meeting_minutes)) {
		/* shown with Moodle's data now: why it is over */
		st = add_step(pl, has_message(&r) ? DIFF_DELETE : DIFF_FORGET,
		    w->route == NULL ? "no route takes its course" : "over");
		st->rec.msg = r.msg;
		event_copy(&st->rec.ev, w->ev);
		st->rec.ev.missing = r.ev.missing;
		event_free(&r.ev);
		return;
	}
	if (r.msg.msg_id[0] == '\0') {
		if (forgot) {
			st = add_step(pl, DIFF_KEEP, "new webhook: old message forgotten");
			st->rec = r;
			st->rec.ev.missing = 0;
		} else {
			event_free(&r.ev);
		}
		st = add_step(pl, DIFF_CREATE, forgot ? "new webhook" : "not posted yet");
		event_copy(&st->rec.ev, w->ev);
		st->rec.ev.missing = 0;
		st->rec.msg = p->msg;
		st->rec.msg.msg_id[0] = '\0';
		if (forgot) {
			st->rec.msg.ping_id[0] = '\0';
			if (st->rec.msg.ping == PING_SENT)
				st->rec.msg.ping = PING_DONE;
		}
		memcpy(st->rec.msg.hash, w->hash, sizeof st->rec.msg.hash);
		snprintf(st->rec.msg.route, sizeof st->rec.msg.route, "%s", w->route);
		st->rec.msg.thread_id[0] = '\0';
		return;
	}
	if (strcmp(r.msg.route, w->route) != 0) {
		st = add_step(pl, DIFF_MOVE, "");
		snprintf(st->reason, sizeof st->reason, "its course goes to %s%s now",
		    *w->route ? "route " : "[discord]", w->route);
		snprintf(st->to_route, sizeof st->to_route, "%s", w->route);
		event_copy(&st->rec.ev, w->ev);
		st->rec.ev.missing = 0;
		st->rec.msg = r.msg;
		memcpy(st->rec.msg.hash, w->hash, sizeof st->rec.msg.hash);
		event_free(&r.ev);
		return;
	}
	if (strcmp(r.msg.hash, w->hash) != 0) {
		st = add_step(pl, DIFF_EDIT, "");
		changes(&r.ev, w->ev, st->reason, sizeof st->reason);
		event_copy(&st->rec.ev, w->ev);
		st->rec.ev.missing = 0;
		st->rec.msg = r.msg;
		memcpy(st->rec.msg.hash, w->hash, sizeof st->rec.msg.hash);
		event_free(&r.ev);
		return;
	}
	{
		struct event want = *w->ev;

		want.missing = 0;
		if (event_eq(&r.ev, &want)) {
			event_free(&r.ev);
			return;
		}
		st = add_step(pl, DIFF_KEEP, r.ev.missing > 0 ? "back in Moodle" : "details changed");
		event_copy(&st->rec.ev, &want);
		st->rec.msg = r.msg;
		event_free(&r.ev);
	}
}

/* Stored, not wanted: over = deleted; otherwise, started or not,
 * missing once is counted and missing twice deletes (one empty answer
 * from Moodle, an enrolment glitch, must not delete a conference running
 * now, whose ping would come again with its next post). */
static void
decide_gone(struct diff_plan *pl, const struct record *p, int64_t now,
    const struct diff_settings *s)
{
	struct record r = { 0 };
	struct diff_step *st;
	int forgot;

	stored_view(p, s, &r, &forgot);
	if (now >= event_end(&r.ev, s->meeting_minutes)) {
		st = add_step(pl, has_message(&r) ? DIFF_DELETE : DIFF_FORGET, "over");
		st->rec = r;
		return;
	}
	if (r.ev.missing + 1 >= 2) {
		st = add_step(pl, has_message(&r) ? DIFF_DELETE : DIFF_FORGET,
		    "gone from Moodle two syncs in a row");
		st->rec = r;
		return;
	}
	st = add_step(pl, DIFF_KEEP, "gone from Moodle once");
	st->rec = r;
	st->rec.ev.missing++;
}

static void
decide_new(struct diff_plan *pl, const struct diff_want *w, int64_t now,
    const struct diff_settings *s)
{
	struct diff_step *st;

	if (w->route == NULL || now >= event_end(w->ev, s->meeting_minutes))
		return;
	st = add_step(pl, DIFF_CREATE, "new");
	event_copy(&st->rec.ev, w->ev);
	st->rec.ev.missing = 0;
	memcpy(st->rec.msg.hash, w->hash, sizeof st->rec.msg.hash);
	snprintf(st->rec.msg.route, sizeof st->rec.msg.route, "%s", w->route);
}

void
diff_compute(const struct diff_want *want, size_t nwant,
    const struct record_list *prev, int64_t now,
    const struct diff_settings *s, struct diff_plan *out)
{
	const struct diff_want **wv = NULL;
	const struct record **pv = NULL;
	size_t i, j, np = prev ? prev->n : 0;

	memset(out, 0, sizeof *out);
	if (nwant)
		wv = xmalloc(nwant * sizeof *wv);
	if (np)
		pv = xmalloc(np * sizeof *pv);
	for (i = 0; i < nwant; i++)
		wv[i] = &want[i];
	for (i = 0; i < np; i++)
		pv[i] = &prev->v[i];
	/* qsort is not stable: a repeated id keeps the first by index below. */
	if (nwant)
		qsort(wv, nwant, sizeof *wv, by_want_id);
	if (np)
		qsort(pv, np, sizeof *pv, by_rec_id);

	for (i = 0; i < np; i++)
		if (pv[i]->msg.msg_id[0] != '\0' && route_changed(s, pv[i]))
			out->nforgotten++;

	i = j = 0;
	while (i < nwant || j < np) {
		const struct diff_want *w = NULL;
		const struct record *p = NULL;
		int64_t id;

		if (i < nwant && (j >= np || wv[i]->ev->id <= pv[j]->ev.id))
			w = wv[i];
		if (j < np && (i >= nwant || pv[j]->ev.id <= wv[i]->ev->id))
			p = pv[j];
		id = w ? w->ev->id : p->ev.id;
		if (w) {
			/* the first of a repeated id in Moodle's order wins */
			for (i++; i < nwant && wv[i]->ev->id == id; i++)
				if (wv[i] < w)
					w = wv[i];
		}
		if (p)
			for (j++; j < np && pv[j]->ev.id == id; j++)
				;
		if (w && p)
			decide_both(out, w, p, now, s);
		else if (w)
			decide_new(out, w, now, s);
		else
			decide_gone(out, p, now, s);
	}
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, by_order);
	free(wv);
	free(pv);
}

void
diff_plan_free(struct diff_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		event_free(&p->v[i].rec.ev);
	free(p->v);
	memset(p, 0, sizeof *p);
}

const char *
diff_op_name(enum diff_op op)
{
	switch (op) {
	case DIFF_CREATE: return "create";
	case DIFF_EDIT:   return "edit";
	case DIFF_DELETE: return "delete";
	case DIFF_KEEP:   return "keep";
	case DIFF_FORGET: return "forget";
	case DIFF_MOVE:   return "move";
	}
	return "?";
}
