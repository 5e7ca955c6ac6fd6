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
	DIFF_CREATE,  /* post the record's body; store it with the new message id */
	DIFF_EDIT,    /* PATCH its msg_id with the record's body; store it        */
	DIFF_DELETE,  /* delete its msg_id and ping_id (those set); then remove
	               * the conference from the state                          */
	DIFF_KEEP,    /* no Discord call: store the record (missing counter,
	               * event data, or message ids forgotten)                  */
	DIFF_FORGET,  /* no Discord call: remove the conference from the state   */
	DIFF_MOVE     /* its course now goes to another route: delete its msg_id
	               * and ping_id through the stored route, then post the
	               * record's body through the wanted one; store it          */
};

/* Why a step is made (diff_step_reason tells it to people). */
enum diff_why {
	WHY_NEW,           /* create: Moodle has it, never stored            */
	WHY_NOT_POSTED,    /* create: stored without a message               */
	WHY_NEW_WEBHOOK,   /* create: its route's webhook changed            */
	WHY_FORGOTTEN,     /* keep: the old webhook's message ids dropped    */
	WHY_OVER,          /* delete/forget: over                            */
	WHY_NO_ROUTE,      /* delete/forget: no route takes its course       */
	WHY_GONE_TWICE,    /* delete/forget: missing from two syncs in a row */
	WHY_GONE_ONCE,     /* keep: missing once                             */
	WHY_BACK,          /* keep: back in Moodle                           */
	WHY_DETAILS,       /* keep: stored data changed, not the body        */
	WHY_CHANGED,       /* edit: the body changed                         */
	WHY_ROUTE          /* move: its course goes to another route         */
};

#define DIFF_NO_WANT UINT32_MAX

/* One step, compact (a plan of 100,000 conferences must not hold 100,000
 * records): what to do to which conference.  The record to store or post
 * is made when the step is applied (diff_step_record), from the wanted
 * conference and the record stored then. */
struct diff_step {
	int64_t id;          /* the conference                                */
	int64_t start;       /* its start (wanted, else stored): the order    */
	const char *route;   /* the route its call goes through: the stored
	                        record's (DELETE, EDIT, MOVE: its old one),
	                        else the wanted one; owned by the plan or the
	                        want array                                    */
	uint32_t want;       /* index in the want array, or DIFF_NO_WANT      */
	unsigned char op;    /* enum diff_op                                  */
	unsigned char why;   /* enum diff_why                                 */
};

/* The steps in the order they must be applied: first the steps without a
 * Discord call (KEEP, FORGET), then deletes, then edits, then moves, then
 * creates, each group in order of start, then id. */
struct diff_plan {
	struct diff_step *v;
	size_t n, cap;
	size_t ncreate, nedit, ndelete;  /* steps that cost one Discord call each */
	size_t nmove;                    /* steps that cost two               */
	size_t nforgotten;               /* message ids dropped for a new webhook */
	/* what the steps refer to, borrowed from diff_begin's caller */
	const struct diff_want *want;
	size_t nwant;
	struct diff_settings set;
	int64_t now;
	/* the stored routes' names the steps point to (each once) */
	char **routes;
	size_t nroutes;
	/* the merge in progress (diff_begin .. diff_end) */
	struct diff_byid {
		int64_t id;
		uint32_t want;
	} *byid;          /* the wanted ids in order, the first of a repeat  */
	size_t nbyid, next;
	int64_t last_id;  /* the last stored id given, -1 = none             */
};

/* The plan, computed as a merge of the wanted conferences against the
 * stored ones, walked in increasing id order (an LMDB cursor): only the
 * plan's compact steps are held, never the stored records.
 *
 *   diff_begin(plan, want, nwant, now, settings);
 *   for each stored record r, by increasing id: diff_stored(plan, &r);
 *   diff_end(plan);
 *
 * want: the conferences Moodle returns now (a repeated id counts once,
 * the first); want, its events and s->routes_changed must stay valid
 * while the plan is used.  plan is zeroed first; free it with
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
void diff_begin(struct diff_plan *out, const struct diff_want *want, size_t nwant, int64_t now,
    const struct diff_settings *s);
/* The next stored record; its id must be greater than the last one's (a
 * record out of order is ignored).  p is not kept. */
void diff_stored(struct diff_plan *pl, const struct record *p);
/* The wanted conferences left are new; the steps are put in order. */
void diff_end(struct diff_plan *pl);

/* The whole merge over a list of stored records in any order (a repeated
 * id counts once): for tests and small callers. */
void diff_compute(const struct diff_want *want, size_t nwant,
    const struct record_list *prev, int64_t now,
    const struct diff_settings *s, struct diff_plan *out);

/* The wanted conference of step st, or NULL (stored only). */
const struct diff_want *diff_step_want(const struct diff_plan *pl, const struct diff_step *st);

/* The record step st stores (or, DELETE/FORGET, removes), made from its
 * wanted conference and stored, the record stored now (NULL: none):
 *   CREATE: msg_id "", hash the new body's, route the wanted one;
 *   EDIT, MOVE: the stored message data with the new hash (MOVE: route
 *   still the old one, the caller posts through the wanted route);
 *   KEEP: the missing counter, event data or forgotten ids as decided.
 * out is zeroed first and owns copies (event_free(&out->ev)). */
void diff_step_record(const struct diff_plan *pl, const struct diff_step *st,
    const struct record *stored, struct record *out);

/* The reason of step st for people ("new", "time changed", ...), from
 * stored (the record stored now, NULL: none), into out. */
void diff_step_reason(const struct diff_plan *pl, const struct diff_step *st,
    const struct record *stored, char *out, size_t n);

/* Free what the plan owns and zero it. */
void diff_plan_free(struct diff_plan *p);

/* "create", "edit", "delete", "keep", "forget", "move". */
const char *diff_op_name(enum diff_op op);

#endif
