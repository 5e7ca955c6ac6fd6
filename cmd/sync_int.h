/* sync_int: what sync's three files share (cmd/sync.c: the run from
 * sign-in to the plan; cmd/sync_apply.c: the plan's steps applied, the
 * routes side by side; cmd/sync_look.c: the look-ups of standing
 * messages).  Not for other verbs. */
#ifndef MC_SYNC_INT_H
#define MC_SYNC_INT_H

#include "cmd.h"
#include "diff.h"
#include "discord.h"
#include "render.h"
#include "store.h"

/* One sync's apply: the state, the clients of its routes and what was
 * done; each route lane (sync_apply.c) has one of its own. */
struct run {
	struct ctx *c;
	struct store *st;
	struct route_clients rcl;
	int64_t deadline;       /* absolute: no Discord call starts after it */
	size_t created, edited, deleted, moved, skipped;
	char *stopped;          /* [slot]: that route's webhook refused the run */
	struct err stop;        /* why the first route stopped               */
	size_t nstopped;
	const char *last_route; /* the route of the latest call (sync_client) */
	const struct diff_plan *plan; /* the wanted conferences its steps name */
};

/* The client of route name, or NULL with e filled: the route is gone
 * from the config (MC_ERR_NOTFOUND), stopped this run (MC_ERR_CONFIG),
 * or its URL unusable. */
struct discord *sync_client(struct run *r, const char *name, const struct route_config **route,
    struct err *e);

/* The render options of a route. */
struct render_opts sync_opts(const struct route_config *rc);

/* The line of one change, "create  2025-03-03 10:00  RM101  Lecture 3
 * (new)": a new string. */
char *sync_change_line(const char *op, const struct event *ev, const char *reason);

/* A change made, told with -v. */
void sync_report_done(struct ctx *c, const char *op, const struct event *ev, const char *reason);

/* Whether a step of op makes a Discord call. */
int sync_is_call(enum diff_op op);

/* rec's conference name, "" for none. */
const char *sync_name(const struct record *rec);

/* How many bytes of a conference's name an error line quotes: enough to
 * know it, cut on a character boundary. */
int sync_name_cut(const struct record *rec);

/* The thread a message of rec lives in: its forum post, else the
 * route's (NULL: the client's). */
const char *sync_thread(const struct record *rec);

/* Post rec's conference through d (route's look: silent, a forum post)
 * and record it; counted as created and told (-v) with reason.  In a
 * forum the post opens a thread whose id is the message's. */
enum mc_err sync_post_new(struct run *r, struct discord *d, const struct route_config *route,
    struct record *rec, const char *reason, struct err *e);

/* The steps without a Discord call.  A new webhook's forgotten ids are
 * written whole (the old ping id goes too); otherwise a ping run's claim
 * made meanwhile is kept, and so is a record whose ping is being posted. */
enum mc_err sync_apply_state(struct run *r, struct diff_plan *p, const struct diff_settings *set,
    struct err *e);

/* The calls: each route's in plan order, the routes side by side, each
 * call of a route committed before its next (sync_routes.c). */
enum mc_err sync_apply_calls(struct run *r, struct diff_plan *p, struct err *e);

/* Look up a few standing messages (those no call of plan p changed), in
 * turn from where the last sync stopped, and post again each one a person
 * deleted (sync_look.c). */
enum mc_err sync_look_standing(struct run *r, const struct diff_plan *p, struct err *e);

#endif
