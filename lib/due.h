/* due: which pings `ping` posts and which ping messages it deletes, as a
 * pure function of the stored records and the clock (no I/O), so every
 * boundary is unit-tested. */
#ifndef MC_DUE_H
#define MC_DUE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* A claim older than this many seconds was left by a run that was killed
 * between claim and post: its ping is tried again (a duplicate ping is
 * better than none). */
#define DUE_STALE_CLAIM 120

/* How far back `ping` reads the state at least: one day.  See due_window. */
#define DUE_MIN_LOOKBACK (24 * 3600)

enum due_kind {
	DUE_PING,          /* start - ping_minutes <= now < start: "starts"     */
	DUE_PING_STARTED,  /* start <= now < start + ping_minutes, not over:
	                      a missed run, worded "started"                    */
	DUE_DELETE         /* ping sent and the conference is over              */
};

struct due_item {
	size_t rec;           /* index into the record list given to due_plan */
	enum due_kind kind;
	int replace;          /* a ping of a conference moved later after its
	                         ping was sent (due_moved): that ping message
	                         is deleted first                              */
};

/* Pings first (in the order of the records, i.e. by start), then deletes. */
struct due_plan {
	struct due_item *v;   /* NULL when n == 0 */
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
void due_window(int64_t now, int64_t ping_minutes, int64_t meeting_minutes,
    int64_t *from, int64_t *to);

/* Is the ping open for a run at now: never pinged, or claimed more than
 * DUE_STALE_CLAIM seconds ago? */
int due_claimable(const struct message *m, int64_t now);

/* Is ev in a ping window at now, whatever its ping state: 1 with *kind
 * DUE_PING or DUE_PING_STARTED (see enum due_kind), else 0. */
int due_ping_window(const struct event *ev, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, enum due_kind *kind);

/* Is the ping message of r to be deleted at now: sent, and r over? */
int due_unping(const struct record *r, int64_t now, int64_t meeting_minutes);

/* Was r's ping sent for an earlier start, i.e. before its ping window
 * (ping_at < start - ping_minutes)?  Then Moodle moved the conference
 * later after the ping, and its ping is due again in the new window.
 * (Lowering ping_minutes makes pings already sent for coming conferences
 * look moved too: they are sent again, once.) */
int due_moved(const struct record *r, int64_t ping_minutes);

/* Fill out (zeroed first) with what is due at now among recs:
 * - DUE_PING / DUE_PING_STARTED for each record in its ping window (see
 *   enum due_kind) that is claimable, or moved (due_moved: replace = 1);
 *   a conference that is already over gets no ping;
 * - DUE_DELETE for each record whose ping state is PING_SENT and that is
 *   over (now >= event_end(ev, meeting_minutes)).
 * Allocates only when something is due.  Free with due_plan_free. */
void due_plan(const struct record_list *recs, int64_t now, int64_t ping_minutes,
    int64_t meeting_minutes, struct due_plan *out);

void due_plan_free(struct due_plan *p);

#endif
