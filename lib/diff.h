/* diff: what sync must do to bring the channel in step with Moodle.  A pure
 * function of (desired conferences, previous snapshot, now, settings); no
 * I/O, so every rule that decides what is posted, edited and deleted is
 * decided here and tested without servers:
 * - a conference is over at start + its length (Moodle's timeduration, else
 *   meeting_minutes): its message is deleted;
 * - one still ahead that Moodle stops returning is deleted only when it is
 *   missing from two syncs in a row (one odd answer must not wipe the
 *   channel and flood it again);
 * - a message is edited only when the body it would send hashes otherwise
 *   than the one sent, so an unchanged conference costs no call. */
#ifndef MC_DIFF_H
#define MC_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* One conference as Moodle returns it now, with the hash of the body sync
 * would send for it (render_conference + render_hash). */
struct diff_want {
	const struct event *ev;   /* borrowed for the call */
	char hash[17];
	const char *route;        /* the route its course goes to: a [route]'s
	                             name, "" = [discord]; NULL = no route takes
	                             it (its message, if any, is deleted)     */
};

struct diff_settings {
	int64_t meeting_minutes;  /* how long a conference without duration lasts */
	int webhook_changed;      /* [discord]'s webhook is not the one the state
	                             was made with                          */
	const char *const *routes_changed; /* [route]s whose webhook is not the
	                             one their messages were posted with    */
	size_t nroutes_changed;
};

enum diff_op {
	DIFF_CREATE,  /* post rec's body; store rec with the new message id      */
	DIFF_EDIT,    /* PATCH rec.msg.msg_id with rec's body; store rec          */
	DIFF_DELETE,  /* delete rec.msg.msg_id and rec.msg.ping_id (those set);
	               * then remove rec.ev.id from the state                    */
	DIFF_KEEP,    /* no Discord call: store rec (missing counter, event data,
	               * or message ids forgotten)                               */
	DIFF_FORGET,  /* no Discord call: remove rec.ev.id from the state         */
	DIFF_MOVE     /* its course now goes to another route: delete
	               * rec.msg.msg_id and rec.msg.ping_id through rec.msg.route,
	               * then post rec's body through to_route; store rec         */
};

struct diff_step {
	enum diff_op op;
	/* CREATE, EDIT, KEEP: the record as it is to be stored after the step
	 * (CREATE: msg_id "" to be filled by the post; hash = the new body's).
	 * DELETE, FORGET: the stored record to remove. */
	struct record rec;
	char reason[96];          /* for people: "new", "time changed", ... */
	char to_route[33];        /* MOVE: the route it goes to now          */
};

/* The steps in the order they must be applied: first the steps without a
 * Discord call (KEEP, FORGET), then deletes, then edits, then creates, each
 * group in order of start, then id. */
struct diff_plan {
	struct diff_step *v;
	size_t n, cap;
	size_t ncreate, nedit, ndelete;  /* steps that cost one Discord call each */
	size_t nmove;                    /* steps that cost two               */
	size_t nforgotten;               /* message ids dropped for a new webhook */
};

/* Compute the plan.  want: the conferences Moodle returns now (a repeated
 * id counts once, the first); prev: the stored snapshot; now: Unix time.
 * out is zeroed first and owns copies of everything it holds; free it with
 * diff_plan_free.  Rules:
 *   - over: now >= start + (duration, or meeting_minutes when 0): its
 *     message is deleted, or it is never posted;
 *   - stored but not wanted: over = deleted; otherwise (started or
 *     not): missing counter + 1, deleted when it reaches 2; wanted again:
 *     counter back to 0;
 *   - wanted and stored: no message yet: create; hash differs: edit;
 *     otherwise no call (a KEEP when stored data must change);
 *   - webhook changed (of [discord], or of a route): every stored message
 *     and ping id of that route is forgotten without a call (KEEP/FORGET
 *     first) and every live conference is posted anew;
 *   - a wanted conference with a message posted through another route
 *     than its course's now: MOVE; one that no route takes: deleted (or
 *     forgotten when it has no message). */
void diff_compute(const struct diff_want *want, size_t nwant,
    const struct record_list *prev, int64_t now,
    const struct diff_settings *s, struct diff_plan *out);

/* Free what the plan owns and zero it. */
void diff_plan_free(struct diff_plan *p);

/* "create", "edit", "delete", "keep", "forget", "move". */
const char *diff_op_name(enum diff_op op);

#endif
