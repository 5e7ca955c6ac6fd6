/* ping_plan: what a `ping` run does, as a pure function of the stored
 * records, each record's reminder offsets (its route's ping_minutes) and
 * the clock (no I/O): lib/remind.h's rule applied to the message data of
 * each conference. */
#ifndef MC_PING_PLAN_H
#define MC_PING_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "protocol.h"
#include "remind.h"

/* One conference's part of the plan. */
struct ping_step {
	size_t rec;              /* index into the record list given to ping_plan_make */
	struct remind_due due;   /* what to do for it, in remind.h's order */
};

struct ping_plan {
	struct ping_step *v;     /* NULL when n == 0 */
	size_t n;
};

/* The reminder side of a stored message as remind.h sees it. */
void ping_plan_state(const struct message *m, struct remind_state *out);

/* The start times `ping` must read, as the half-open range [*from, *to)
 * that store_load_window takes, for routes whose largest offset is
 * largest and whose smallest is smallest (remind_window's reasons). */
void ping_plan_window(int64_t now, int64_t largest, int64_t smallest, int64_t meeting_minutes,
    int64_t *from, int64_t *to);

/* Fill out (zeroed first) with a step for each record of recs that has
 * something due at now (remind_plan), those that post first, each group
 * in the order of recs (by start); offs[i] are the offsets of
 * recs->v[i]'s route, NULL for a record whose route is not in the config
 * any more (left to sync).  Allocates only when something is due.  Free
 * with ping_plan_free. */
void ping_plan_make(const struct record_list *recs, const struct remind_offsets *const *offs,
    int64_t now, int64_t meeting_minutes, struct ping_plan *out);

void ping_plan_free(struct ping_plan *p);

#endif
