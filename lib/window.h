/* window: plan the requests that read a big Moodle site piece by piece.
 *
 * Moodle answers a calendar request with every event of its time window,
 * and an activity-list request with every activity of its courses, whole:
 * neither call has paging.  A site with many conferences or long
 * descriptions gives answers bigger than a client should hold at once.
 *
 * A plan sweeps a range of points (seconds of the calendar, or positions
 * in the course list), both ends included, one piece after the other.
 * Each piece is asked for; its answer is either taken (the sweep goes on
 * right after it, the next piece sized from what this one weighed) or
 * refused as over the budget (the piece is split in two and its first
 * half asked for; the second half follows in the sweep).  Taken pieces
 * are contiguous and cover the range exactly once, so the answers of all
 * of them together are the answer for the whole range.  A piece of a
 * single point still over the budget cannot be split: the plan stops
 * there and says which piece it was.
 *
 * Pure: no I/O, no clock, no allocation. */
#ifndef MC_WINDOW_H
#define MC_WINDOW_H

#include <stddef.h>
#include <stdint.h>

struct window_plan {
	int64_t lo, hi;       /* the whole range, both ends included          */
	int64_t next;         /* the first point not yet taken                */
	int64_t len;          /* points in the piece asked for now            */
	int64_t max_len;      /* never more points than this in one piece     */
	size_t budget;        /* an answer over this many bytes is refused    */
	size_t taken, refused;   /* pieces taken and refused so far           */
};

/* A plan over [lo, hi] (lo <= hi, both within +-2^62) whose pieces hold at most max_len points
 * (0 = no cap) and whose answers should not exceed budget bytes (> 0).
 * The first piece is the whole range, up to max_len: a small site is read
 * in one request. */
void window_plan_init(struct window_plan *p, int64_t lo, int64_t hi, int64_t max_len,
    size_t budget);

/* The piece to ask for now: returns 1 with [*from, *to] filled, or 0 when
 * the whole range is taken. */
int window_next(const struct window_plan *p, int64_t *from, int64_t *to);

/* The piece window_next gave was answered in bytes bytes (at most the
 * budget): take it, and size the next piece so that its answer should
 * weigh about half the budget, growing at most fourfold at a time (a
 * sparse stretch says little about the next). */
void window_taken(struct window_plan *p, size_t bytes);

/* The piece window_next gave was answered over the budget (or the answer
 * was refused as too big before it was read whole): split it.  Returns 0,
 * or -1 when the piece is a single point and cannot be split (the plan is
 * left as it was: window_next gives that point again). */
int window_refused(struct window_plan *p);

#endif
