/* ping_plan: the reminders due in a ping run.  See ping_plan.h. */
#include "ping_plan.h"

#include <stdlib.h>
#include <string.h>

void
ping_plan_state(const struct message *m, struct remind_state *out)
{
	memset(out, 0, sizeof *out);
	out->sent = m->ping_offset;
	out->sent_at = m->ping_sent_at;
	if (m->ping == PING_SENT || m->ping == PING_CLAIMED)
		memcpy(out->id, m->ping_id, sizeof out->id);
	if (m->ping == PING_CLAIMED) {
		out->claim = 1;
		out->claim_at = m->ping_at;
	}
	memcpy(out->old_id, m->ping_old, sizeof out->old_id);
	out->done = m->ping == PING_DONE;
}

void
ping_plan_window(int64_t now, int64_t largest, int64_t smallest, int64_t meeting_minutes,
    int64_t *from, int64_t *to)
{
	struct remind_offsets o = { 0 };

	if (largest > 0) {
		o.m[o.n++] = largest;
		if (smallest > 0 && smallest < largest)
			o.m[o.n++] = smallest;
	}
	remind_window(&o, meeting_minutes, now, from, to);
}

void
ping_plan_make(const struct record_list *recs, const struct remind_offsets *const *offs,
    int64_t now, int64_t meeting_minutes, struct ping_plan *out)
{
	size_t i, cap = 0;
	int pass;

	memset(out, 0, sizeof *out);
	/* Posts first, by start (they are due now), then the deletes. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < recs->n; i++) {
			const struct record *r = &recs->v[i];
			struct remind_state st;
			struct remind_due due;

			/* A route gone from the config: sync removes its messages.
			 * A conference gone, kept for its scheduled event: its
			 * reminders went with it. */
			if (offs[i] == NULL || message_gone(&r->msg))
				continue;
			ping_plan_state(&r->msg, &st);
			if (!remind_plan(&st, offs[i], r->ev.start, event_end(&r->ev, meeting_minutes),
			    now, &due) || due.post != (pass == 0))
				continue;
			if (out->n == cap) {
				cap = cap ? cap * 2 : 4;
				out->v = xrealloc(out->v, cap * sizeof *out->v);
			}
			out->v[out->n].rec = i;
			out->v[out->n].due = due;
			out->n++;
		}
	}
}

void
ping_plan_free(struct ping_plan *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}
