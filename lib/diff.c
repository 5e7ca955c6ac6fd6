#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
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

/* The plan's own copy of a stored route's name: a step outlives the
 * stored record it was decided from.  Routes are few: a linear look. */
static const char *
route_name(struct diff_plan *pl, const char *name)
{
	size_t i;

	for (i = 0; i < pl->nroutes; i++)
		if (strcmp(pl->routes[i], name) == 0)
			return pl->routes[i];
	pl->routes = xrealloc(pl->routes, (pl->nroutes + 1) * sizeof *pl->routes);
	pl->routes[pl->nroutes] = xstrdup(name);
	return pl->routes[pl->nroutes++];
}

static void
add_step(struct diff_plan *pl, enum diff_op op, enum diff_why why, const struct diff_want *w,
    const struct record *p)
{
	struct diff_step *st;

	if (pl->n == pl->cap) {
		/* growth by half, not double: at 100,000 steps the slack of a
		 * doubled array is megabytes */
		pl->cap = pl->cap ? pl->cap + pl->cap / 2 : 16;
		pl->v = xrealloc(pl->v, pl->cap * sizeof *pl->v);
	}
	st = &pl->v[pl->n++];
	memset(st, 0, sizeof *st);
	st->op = (unsigned char)op;
	st->why = (unsigned char)why;
	st->id = w ? w->ev->id : p->ev.id;
	st->start = w ? w->ev->start : p->ev.start;
	st->want = w ? (uint32_t)(w - pl->want) : DIFF_NO_WANT;
	if (p != NULL && op != DIFF_CREATE)
		st->route = route_name(pl, p->msg.route);
	else
		st->route = w->route;
	switch (op) {
	case DIFF_CREATE: pl->ncreate++; break;
	case DIFF_EDIT:   pl->nedit++;   break;
	case DIFF_DELETE: pl->ndelete++; break;
	case DIFF_MOVE:   pl->nmove++;   break;
	case DIFF_KEEP:
	case DIFF_FORGET: break;
	}
}

/* Stored and wanted: the record keeps its message data, takes the new
 * event data. */
static void
decide_both(struct diff_plan *pl, const struct diff_want *w, const struct record *p)
{
	const struct diff_settings *s = &pl->set;
	struct record r = { 0 };
	struct event want;
	int forgot;

	stored_view(p, s, &r, &forgot);
	if (w->route == NULL || pl->now >= event_end(w->ev, s->meeting_minutes)) {
		add_step(pl, has_message(&r) ? DIFF_DELETE : DIFF_FORGET,
		    w->route == NULL ? WHY_NO_ROUTE : WHY_OVER, w, p);
		goto r_free;
	}
	if (r.msg.msg_id[0] == '\0') {
		if (forgot)
			add_step(pl, DIFF_KEEP, WHY_FORGOTTEN, w, p);
		add_step(pl, DIFF_CREATE, forgot ? WHY_NEW_WEBHOOK : WHY_NOT_POSTED, w, p);
		goto r_free;
	}
	if (strcmp(r.msg.route, w->route) != 0) {
		add_step(pl, DIFF_MOVE, WHY_ROUTE, w, p);
		goto r_free;
	}
	if (strcmp(r.msg.hash, w->hash) != 0) {
		add_step(pl, DIFF_EDIT, WHY_CHANGED, w, p);
		goto r_free;
	}
	want = *w->ev;
	want.missing = 0;
	if (!event_eq(&r.ev, &want))
		add_step(pl, DIFF_KEEP, r.ev.missing > 0 ? WHY_BACK : WHY_DETAILS, w, p);
r_free:
	event_free(&r.ev);
}

/* Stored, not wanted: over = deleted; otherwise, started or not,
 * missing once is counted and missing twice deletes (one empty answer
 * from Moodle, an enrolment glitch, must not delete a conference running
 * now, whose ping would come again with its next post). */
static void
decide_gone(struct diff_plan *pl, const struct record *p)
{
	const struct diff_settings *s = &pl->set;
	int msg = has_message(p) && !route_changed(s, p);

	if (pl->now >= event_end(&p->ev, s->meeting_minutes))
		add_step(pl, msg ? DIFF_DELETE : DIFF_FORGET, WHY_OVER, NULL, p);
	else if (p->ev.missing + 1 >= 2)
		add_step(pl, msg ? DIFF_DELETE : DIFF_FORGET, WHY_GONE_TWICE, NULL, p);
	else
		add_step(pl, DIFF_KEEP, WHY_GONE_ONCE, NULL, p);
}

static void
decide_new(struct diff_plan *pl, const struct diff_want *w)
{
	if (w->route == NULL || pl->now >= event_end(w->ev, pl->set.meeting_minutes))
		return;
	add_step(pl, DIFF_CREATE, WHY_NEW, w, NULL);
}

/* qsort's order of (id, want index): by id, then by index (so the first
 * of a repeated id comes first). */
static int
by_want_id(const void *a, const void *b)
{
	const struct diff_byid *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->want > y->want) - (x->want < y->want);
}

void
diff_begin(struct diff_plan *out, const struct diff_want *want, size_t nwant, int64_t now,
    const struct diff_settings *s)
{
	size_t i, k;

	memset(out, 0, sizeof *out);
	out->want = want;
	out->nwant = nwant;
	out->set = *s;
	out->now = now;
	out->last_id = -1;
	if (nwant == 0)
		return;
	out->byid = xmalloc(nwant * sizeof *out->byid);
	for (i = 0; i < nwant; i++) {
		out->byid[i].id = want[i].ev->id;
		out->byid[i].want = (uint32_t)i;
	}
	qsort(out->byid, nwant, sizeof *out->byid, by_want_id);
	/* a repeated id keeps the first in Moodle's order */
	for (i = 1, k = 1; i < nwant; i++)
		if (out->byid[i].id != out->byid[k - 1].id)
			out->byid[k++] = out->byid[i];
	out->nbyid = k;
}

void
diff_stored(struct diff_plan *pl, const struct record *p)
{
	const struct diff_want *w;

	if (p->ev.id <= pl->last_id)
		return;
	pl->last_id = p->ev.id;
	if (p->msg.msg_id[0] != '\0' && route_changed(&pl->set, p))
		pl->nforgotten++;
	/* the wanted ones before it are new */
	while (pl->next < pl->nbyid && pl->byid[pl->next].id < p->ev.id)
		decide_new(pl, &pl->want[pl->byid[pl->next++].want]);
	if (pl->next < pl->nbyid && pl->byid[pl->next].id == p->ev.id) {
		w = &pl->want[pl->byid[pl->next++].want];
		decide_both(pl, w, p);
	} else {
		decide_gone(pl, p);
	}
}

void
diff_end(struct diff_plan *pl)
{
	while (pl->next < pl->nbyid)
		decide_new(pl, &pl->want[pl->byid[pl->next++].want]);
	free(pl->byid);
	pl->byid = NULL;
	pl->nbyid = pl->next = 0;
	if (pl->n)
		qsort(pl->v, pl->n, sizeof *pl->v, by_order);
}

static int
by_rec_id(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a;
	const struct record *y = *(const struct record *const *)b;

	return (x->ev.id > y->ev.id) - (x->ev.id < y->ev.id);
}

void
diff_compute(const struct diff_want *want, size_t nwant,
    const struct record_list *prev, int64_t now,
    const struct diff_settings *s, struct diff_plan *out)
{
	const struct record **pv = NULL;
	size_t i, np = prev ? prev->n : 0;

	diff_begin(out, want, nwant, now, s);
	if (np) {
		pv = xmalloc(np * sizeof *pv);
		for (i = 0; i < np; i++)
			pv[i] = &prev->v[i];
		qsort(pv, np, sizeof *pv, by_rec_id);
	}
	for (i = 0; i < np; i++)
		diff_stored(out, pv[i]);
	diff_end(out);
	free(pv);
}

const struct diff_want *
diff_step_want(const struct diff_plan *pl, const struct diff_step *st)
{
	return st->want < pl->nwant ? &pl->want[st->want] : NULL;
}

/* The event of a wanted conference as stored: missing counter reset. */
static void
wanted_event(struct record *out, const struct diff_want *w)
{
	event_copy(&out->ev, w->ev);
	out->ev.missing = 0;
}

void
diff_step_record(const struct diff_plan *pl, const struct diff_step *st,
    const struct record *stored, struct record *out)
{
	const struct diff_want *w = diff_step_want(pl, st);
	struct record r = { 0 };
	int forgot = 0;

	memset(out, 0, sizeof *out);
	if (stored != NULL)
		stored_view(stored, &pl->set, &r, &forgot);
	if (w == NULL) {
		/* stored only: as stored, counted missing once more */
		*out = r;
		if (st->op == DIFF_KEEP)
			out->ev.missing++;
		return;
	}
	switch ((enum diff_op)st->op) {
	case DIFF_DELETE:
	case DIFF_FORGET:
		/* shown with Moodle's data now: why it is over */
		event_copy(&out->ev, w->ev);
		out->ev.missing = r.ev.missing;
		out->msg = r.msg;
		break;
	case DIFF_KEEP:
		if (st->why == WHY_FORGOTTEN) {
			out->ev = r.ev;
			out->ev.missing = 0;
			out->msg = r.msg;
			return;
		}
		wanted_event(out, w);
		out->msg = r.msg;
		break;
	case DIFF_CREATE:
		wanted_event(out, w);
		if (stored != NULL) {
			out->msg = stored->msg;
			out->msg.msg_id[0] = '\0';
			if (st->why == WHY_NEW_WEBHOOK) {
				out->msg.ping_id[0] = '\0';
				if (out->msg.ping == PING_SENT)
					out->msg.ping = PING_DONE;
			}
		}
		memcpy(out->msg.hash, w->hash, sizeof out->msg.hash);
		snprintf(out->msg.route, sizeof out->msg.route, "%s", w->route ? w->route : "");
		out->msg.thread_id[0] = '\0';
		break;
	case DIFF_EDIT:
	case DIFF_MOVE:
		wanted_event(out, w);
		out->msg = r.msg;
		memcpy(out->msg.hash, w->hash, sizeof out->msg.hash);
		break;
	}
	event_free(&r.ev);
}

void
diff_step_reason(const struct diff_plan *pl, const struct diff_step *st,
    const struct record *stored, char *out, size_t n)
{
	const struct diff_want *w = diff_step_want(pl, st);

	switch ((enum diff_why)st->why) {
	case WHY_NEW: snprintf(out, n, "new"); return;
	case WHY_NOT_POSTED: snprintf(out, n, "not posted yet"); return;
	case WHY_NEW_WEBHOOK: snprintf(out, n, "new webhook"); return;
	case WHY_FORGOTTEN: snprintf(out, n, "new webhook: old message forgotten"); return;
	case WHY_OVER: snprintf(out, n, "over"); return;
	case WHY_NO_ROUTE: snprintf(out, n, "no route takes its course"); return;
	case WHY_GONE_TWICE: snprintf(out, n, "gone from Moodle two syncs in a row"); return;
	case WHY_GONE_ONCE: snprintf(out, n, "gone from Moodle once"); return;
	case WHY_BACK: snprintf(out, n, "back in Moodle"); return;
	case WHY_DETAILS: snprintf(out, n, "details changed"); return;
	case WHY_CHANGED:
		if (w != NULL && stored != NULL)
			changes(&stored->ev, w->ev, out, n);
		else
			snprintf(out, n, "message changed");
		return;
	case WHY_ROUTE:
		if (w != NULL && w->route != NULL)
			snprintf(out, n, "its course goes to %s%s now",
			    *w->route ? "route " : "[discord]", w->route);
		else
			snprintf(out, n, "its course goes to another route now");
		return;
	}
	snprintf(out, n, "?");
}

void
diff_plan_free(struct diff_plan *p)
{
	size_t i;

	for (i = 0; i < p->nroutes; i++)
		free(p->routes[i]);
	free(p->routes);
	free(p->byid);
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
