/* due: the ping window and the cleanup of ping messages. */
#include "due.h"

#include <stdlib.h>
#include <string.h>

void
due_window(int64_t now, int64_t ping_minutes, int64_t meeting_minutes,
    int64_t *from, int64_t *to)
{
	int64_t back = (meeting_minutes + ping_minutes) * 60;

	if (back < DUE_MIN_LOOKBACK)
		back = DUE_MIN_LOOKBACK;
	*from = now - back;
	*to = now + ping_minutes * 60 + 1;
}

int
due_claimable(const struct message *m, int64_t now)
{
	if (m->ping == PING_NONE)
		return 1;
	return m->ping == PING_CLAIMED && now - m->ping_at > DUE_STALE_CLAIM;
}

static void
add(struct due_plan *p, size_t *cap, size_t rec, enum due_kind kind, int replace)
{
	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		p->v = xrealloc(p->v, *cap * sizeof *p->v);
	}
	p->v[p->n].rec = rec;
	p->v[p->n].kind = kind;
	p->v[p->n].replace = replace;
	p->n++;
}

int
due_ping_window(const struct event *ev, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, enum due_kind *kind)
{
	int64_t lead = ping_minutes * 60;

	if (ev->start - lead <= now && now < ev->start) {
		*kind = DUE_PING;
		return 1;
	}
	if (ev->start <= now && now < ev->start + lead &&
	    now < event_end(ev, meeting_minutes)) {
		*kind = DUE_PING_STARTED;
		return 1;
	}
	return 0;
}

int
due_unping(const struct record *r, int64_t now, int64_t meeting_minutes)
{
	return r->msg.ping == PING_SENT && now >= event_end(&r->ev, meeting_minutes);
}

int
due_moved(const struct record *r, int64_t ping_minutes)
{
	return r->msg.ping == PING_SENT && r->msg.ping_at < r->ev.start - ping_minutes * 60;
}

void
due_plan(const struct record_list *recs, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, struct due_plan *out)
{
	enum due_kind kind;
	size_t i, cap = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];
		int moved = due_moved(r, ping_minutes);

		if ((moved || due_claimable(&r->msg, now)) &&
		    due_ping_window(&r->ev, now, ping_minutes, meeting_minutes, &kind))
			add(out, &cap, i, kind, moved);
	}
	out->npings = out->n;
	for (i = 0; i < recs->n; i++)
		if (due_unping(&recs->v[i], now, meeting_minutes))
			add(out, &cap, i, DUE_DELETE, 0);
}

void
due_plan_free(struct due_plan *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
