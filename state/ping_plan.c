/* ping_plan: the ping window and the cleanup of ping messages. */
#include "ping_plan.h"

#include <stdlib.h>
#include <string.h>

void
ping_plan_window(int64_t now, int64_t ping_minutes, int64_t meeting_minutes,
    int64_t *from, int64_t *to)
{
	int64_t back = (meeting_minutes + ping_minutes) * 60;

	if (back < PING_PLAN_MIN_LOOKBACK)
		back = PING_PLAN_MIN_LOOKBACK;
	*from = now - back;
	*to = now + ping_minutes * 60 + 1;
}

static void
add(struct ping_plan *p, size_t *cap, size_t rec, enum ping_step_kind kind, int replace)
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
ping_plan_in_window(const struct event *ev, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, enum ping_step_kind *kind)
{
	int64_t lead = ping_minutes * 60;

	if (ev->start - lead <= now && now < ev->start) {
		*kind = STEP_PING;
		return 1;
	}
	if (ev->start <= now && now < ev->start + lead &&
	    now < event_end(ev, meeting_minutes)) {
		*kind = STEP_PING_STARTED;
		return 1;
	}
	return 0;
}

int
ping_plan_to_delete(const struct record *r, int64_t now, int64_t meeting_minutes)
{
	return r->msg.ping == PING_SENT && now >= event_end(&r->ev, meeting_minutes);
}

int
ping_plan_moved(const struct record *r, int64_t ping_minutes)
{
	return r->msg.ping == PING_SENT && r->msg.ping_at < r->ev.start - ping_minutes * 60;
}

void
ping_plan_make(const struct record_list *recs, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, struct ping_plan *out)
{
	enum ping_step_kind kind;
	size_t i, cap = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];
		int moved = ping_plan_moved(r, ping_minutes);

		if ((moved || protocol_claimable(&r->msg, now)) &&
		    ping_plan_in_window(&r->ev, now, ping_minutes, meeting_minutes, &kind))
			add(out, &cap, i, kind, moved);
	}
	out->npings = out->n;
	for (i = 0; i < recs->n; i++)
		if (ping_plan_to_delete(&recs->v[i], now, meeting_minutes))
			add(out, &cap, i, STEP_DELETE_PING, 0);
}

void
ping_plan_free(struct ping_plan *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
