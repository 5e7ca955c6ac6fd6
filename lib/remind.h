/* remind: several reminders before each conference (ping_minutes =
 * 1440, 60, 5), as pure functions of a conference's stored reminder state,
 * the offsets and the clock: no I/O, so every boundary is unit-tested.
 *
 * The rule.  Offsets are minutes before the start, kept in decreasing
 * order o1 > o2 > ... > ok.  The reminder for offset oi is due from
 * start - oi until start - o(i+1) (the next smaller offset's time); the
 * smallest, ok, stays due until ok minutes after the start (worded
 * "started") and never once the conference is over.  So at any instant at
 * most one offset is due, and a run that comes late posts only the latest
 * one due: at 50 minutes before, the 60-minute reminder, never the
 * day-before one late.
 *
 * What is stored per conference (struct remind_state) is the latest
 * reminder posted: its offset and time, and its message.  Reminders are
 * posted in decreasing offset order, so "already sent" is every offset at
 * or above the latest one: a reminder is never sent again, nor an earlier
 * one late, when the list changes.  Posting a reminder replaces the one
 * standing (its message is deleted after the new one is recorded), so at
 * most one stands; the last is deleted when the conference is over.
 *
 * A conference Moodle moved later after a reminder was sent (that
 * reminder was posted before its own window under the new start) starts
 * its reminders afresh. */
#ifndef MC_REMIND_H
#define MC_REMIND_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define REMIND_MAX 5              /* offsets in a list                   */
#define REMIND_MINUTES_MAX 10080  /* one week                            */

/* A claim older than this many seconds was left by a run killed between
 * claim and post: the reminder is tried again (a duplicate reminder is
 * better than none). */
#define REMIND_STALE_CLAIM 120

/* The offsets of one route, in minutes, strictly decreasing, each in
 * 1..REMIND_MINUTES_MAX.  n == 0: no reminders. */
struct remind_offsets {
	size_t n;
	int64_t m[REMIND_MAX];
};

/* The reminder side of one conference, as stored. */
struct remind_state {
	int64_t sent;       /* offset (minutes) of the latest reminder posted; 0 = none */
	int64_t sent_at;    /* when it was posted                                   */
	char id[32];        /* its message, standing; "" = none or deleted          */
	int64_t claim;      /* offset a run claimed and is posting; 0 = no claim    */
	int64_t claim_at;   /* when claimed                                         */
	char old_id[32];    /* a reminder message replaced by a newer one and not
	                       yet deleted (a run stopped in between); "" = none    */
	int done;           /* over, and its last reminder deleted: nothing more    */
};

/* What a run does for one conference, in this order: delete old_id, then
 * post (posting replaces id: it becomes old_id once the post is
 * recorded) or delete id (over). */
struct remind_due {
	int unpost_old;     /* old_id is to be deleted                          */
	int post;           /* the reminder for offset is to be posted           */
	int64_t offset;     /* post: its offset in minutes                       */
	int started;        /* post: now >= start: worded "started"             */
	int moved;          /* post: the reminders sent were for an earlier start */
	int unpost;         /* over: id is to be deleted, then done              */
};

/* Parse a ping_minutes value: 1 to REMIND_MAX whole numbers in
 * 1..REMIND_MINUTES_MAX separated by commas (spaces around them allowed),
 * in any order, no value twice.  MC_OK with out sorted decreasing, or
 * MC_ERR_CONFIG with e saying what is wrong (the caller names the key). */
enum mc_err remind_offsets_parse(const char *text, struct remind_offsets *out, struct err *e);

/* The offsets as "1440, 60, 5" into buf (always NUL-terminated; size 64
 * holds any list). */
void remind_offsets_format(const struct remind_offsets *o, char *buf, size_t size);

/* The offset due at now for a conference starting at start and over at
 * end (its end: start + duration or meeting length), by the rule above:
 * its minutes, with *started set when now >= start; 0 when none is due. */
int64_t remind_offset_due(const struct remind_offsets *o, int64_t start, int64_t end, int64_t now,
    int *started);

/* Was r's latest reminder posted for an earlier start, i.e. before the
 * window of its own offset under start (sent_at < start - sent)? */
int remind_moved(const struct remind_state *r, int64_t start);

/* Is r free for a run at now to claim: no claim, or one older than
 * REMIND_STALE_CLAIM? */
int remind_claimable(const struct remind_state *r, int64_t now);

/* Fill *out (zeroed first) with what is due at now for the conference of
 * state r, offsets o, start and end; returns 1 when anything is, else 0:
 * - unpost_old when old_id holds a message;
 * - post when an offset is due (remind_offset_due), the conference is not
 *   over, r is claimable and that offset is below the latest sent (or
 *   anything is, when remind_moved);
 * - unpost when the conference is over (now >= end) and id holds a
 *   message.
 * Nothing once done, apart from unpost_old. */
int remind_plan(const struct remind_state *r, const struct remind_offsets *o, int64_t start,
    int64_t end, int64_t now, struct remind_due *out);

/* The offset a reminder posted at sent_at stands for, for a conference
 * starting at start: the minutes before the start, rounded up, in
 * 1..REMIND_MINUTES_MAX.  For a reminder whose offset was not recorded
 * (the single ping of state schema 1): every offset at or above it counts
 * as sent, and it is not taken as moved. */
int64_t remind_sent_offset(int64_t start, int64_t sent_at);

/* The start times a reminder run must read, as the half-open range
 * [*from, *to): every conference a reminder of o may be due for (start up
 * to now + the largest offset), and every one with a reminder that may
 * have to be deleted because it is over: started up to max(1 day,
 * meeting_minutes + the smallest offset) ago.  A conference that lasts
 * longer than that has its reminder deleted by sync, which removes over
 * conferences with their messages.  With no offsets, only the latter
 * (a reminder may still stand from an earlier list). */
void remind_window(const struct remind_offsets *o, int64_t meeting_minutes, int64_t now,
    int64_t *from, int64_t *to);

#endif
