/* ping_plan: which pings `ping` posts and which ping messages it deletes, as a
 * pure function of the stored records and the clock (no I/O), so every
 * boundary is unit-tested. */
#ifndef MC_PING_PLAN_H
#define MC_PING_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "protocol.h"

/* How far back `ping` reads the state at least: one day.  See ping_plan_window. */
#define PING_PLAN_MIN_LOOKBACK (24 * 3600)

enum ping_step_kind {
	STEP_PING,          /* start - ping_minutes <= now < start: "starts"     */
	STEP_PING_STARTED,  /* start <= now < start + ping_minutes, not over:
	                      a missed run, worded "started"                    */
	STEP_DELETE_PING         /* ping sent and the conference is over              */
};

struct ping_step {
	size_t rec;           /* index into the record list given to ping_plan_make */
	enum ping_step_kind kind;
	int replace;          /* a ping of a conference moved later after its
	                         ping was sent (ping_plan_moved): that ping message
	                         is deleted first                              */
};

/* The steps of a ping run: pings first (in the order of the records,
 * i.e. by start), then deletes. */
struct ping_plan {
	struct ping_step *v;   /* NULL when n == 0 */
	size_t n;
	size_t npings;        /* v[0 .. npings) are pings, the rest deletes   */
};

/* The start times `ping` must read, as the half-open range [*from, *to)
 * that store_load_window takes: every conference that may be pinged
 * (start <= now + ping_minutes, start > now - ping_minutes) and every
 * pinged conference that may have ended (start in the past, up to
 * max(1 day, meeting_minutes + ping_minutes) back).  A conference that
 * lasts longer than that has its ping message deleted by sync, which
 * removes over conferences with their ping message. */
void ping_plan_window(int64_t now, int64_t ping_minutes, int64_t meeting_minutes,
    int64_t *from, int64_t *to);

/* Is ev in a ping window at now, whatever its ping state: 1 with *kind
 * STEP_PING or STEP_PING_STARTED (see enum ping_step_kind), else 0. */
int ping_plan_in_window(const struct event *ev, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, enum ping_step_kind *kind);

/* Is the ping message of r to be deleted at now: sent, and r over? */
int ping_plan_to_delete(const struct record *r, int64_t now, int64_t meeting_minutes);

/* Was r's ping sent for an earlier start, i.e. before its ping window
 * (ping_at < start - ping_minutes)?  Then Moodle moved the conference
 * later after the ping, and its ping is due again in the new window.
 * (Lowering ping_minutes makes pings already sent for coming conferences
 * look moved too: they are sent again, once.) */
int ping_plan_moved(const struct record *r, int64_t ping_minutes);

/* Fill out (zeroed first) with what is due at now among recs:
 * - STEP_PING / STEP_PING_STARTED for each record in its ping window (see
 *   enum ping_step_kind) that is claimable, or moved (ping_plan_moved: replace = 1);
 *   a conference that is already over gets no ping;
 * - STEP_DELETE_PING for each record whose ping state is PING_SENT and that is
 *   over (now >= event_end(ev, meeting_minutes)).
 * Allocates only when something is due.  Free with ping_plan_free. */
void ping_plan_make(const struct record_list *recs, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, struct ping_plan *out);

void ping_plan_free(struct ping_plan *p);

#endif
