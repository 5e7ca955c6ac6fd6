/* sync_routes: the Discord calls of sync's routes side by side (see the
 * top of sync_routes.c for the rules each route keeps). */
#ifndef MC_SYNC_ROUTES_H
#define MC_SYNC_ROUTES_H

#include <stddef.h>

#include "util.h"

struct lanes;

/* Lanes for nslots routes (slot i: cfg.routes[i], slot nroutes:
 * [discord]), lane i for the calls of route i, plus lane nslots for the
 * steps of a route no longer in the config.  Free with lanes_free. */
struct lanes *lanes_new(size_t nslots);

/* Put step (an index of the caller's plan) at the end of lane; while it
 * runs it holds the turns of routes a and b (slots, -1 = none), the
 * routes its calls go through. */
void lanes_add(struct lanes *l, size_t lane, size_t step, long a, long b);

/* How many lanes hold steps. */
size_t lanes_busy(const struct lanes *l);

/* Run one step of lane with the turns of its routes held: MC_OK goes on
 * to the lane's next step; anything else (e filled) ends every lane. */
typedef enum mc_err (*lanes_step_fn)(void *arg, size_t lane, size_t step, struct err *e);

/* Run every lane's steps in order, the lanes side by side: one thread
 * per lane holding steps (the calling thread takes one; a lane that gets
 * no thread is run by the calling thread after its own).  libcurl must be
 * set up before (http_global_init).  Returns MC_OK when every step did,
 * else the first failure in time, e filled; the other lanes stop before
 * their next step. */
enum mc_err lanes_run(struct lanes *l, lanes_step_fn fn, void *arg, struct err *e);

void lanes_free(struct lanes *l);

#endif
