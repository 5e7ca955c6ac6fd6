/* sync_routes: the Discord calls of sync's routes side by side.
 *
 * Each route ([route NAME], and [discord]) posts through its own webhook,
 * with its own Discord client (its own curl handles) and so its own
 * rate-limit bucket: Discord counts a webhook's calls apart from
 * another's.  sync's apply puts each call of its plan into the lane of
 * the route it goes through, in plan order, and lanes_run runs the lanes
 * at the same time, one thread each, each paced by its own client.
 *
 * What a single route promised holds for each route:
 * - A step runs holding the turn of every route it calls through, and
 *   does its calls and commits their results inside that turn: a route's
 *   next call never starts before the result of its last is committed,
 *   so a route has one call in flight at most and a crash costs at most
 *   one duplicate post per route.
 * - One route's calls stay in plan order: its lane is one thread's loop.
 * - A route whose webhook refuses the run stops alone (the step function
 *   marks it under its turn); an outage, the deadline or a state that
 *   cannot be written ends every lane after its step in flight, the first
 *   such failure being the run's.
 *
 * Moves (a course now goes to another route): a move is one step in the
 * lane of the route it leaves, holding the turns of both routes for the
 * whole step (the delete in the old channel, committed, then the post in
 * the new, committed), the two turns taken in slot order so two moves the
 * opposite way cannot wait for each other.  So a move is what it is with
 * one route: a crash between its halves leaves a record without a
 * message, which the next sync posts through the new route, and the new
 * route never has a second call in flight.  Handing the post to the new
 * route's lane instead would split a step in two threads and leave no
 * order between a move's delete and its post; doing every move before the
 * lanes start would run the moves one route at a time.  The price here:
 * the new route waits for one delete of the old one.
 *
 * LMDB writes from several threads take turns in the store (store.h);
 * output lines are written whole (cmd.h).  libcurl is set up once by main
 * before any thread (curl_global_init is not thread-safe). */
#include "sync_routes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct lane_step {
	size_t step;
	long a, b;          /* the slots of the turns held, -1 = none */
};

struct lane {
	struct lane_step *v;
	size_t n, cap;
	size_t index;
	struct lanes *l;
	pthread_t thread;
	int threaded;       /* runs in a thread of its own */
};

struct lanes {
	size_t nslots, nlanes;
	struct lane *lane;
	pthread_mutex_t *turn;     /* [slot]: held by the step calling through it */
	pthread_mutex_t mu;        /* guards first and first_e             */
	atomic_int over;           /* a lane failed: the others stop       */
	enum mc_err first;         /* the first failure, and its message   */
	struct err first_e;
	lanes_step_fn fn;
	void *arg;
};

struct lanes *
lanes_new(size_t nslots)
{
	struct lanes *l = xcalloc(1, sizeof *l);
	size_t i;

	l->nslots = nslots;
	l->nlanes = nslots + 1;
	l->lane = xcalloc(l->nlanes, sizeof *l->lane);
	l->turn = xcalloc(nslots ? nslots : 1, sizeof *l->turn);
	for (i = 0; i < nslots; i++)
		pthread_mutex_init(&l->turn[i], NULL);
	pthread_mutex_init(&l->mu, NULL);
	atomic_init(&l->over, 0);
	for (i = 0; i < l->nlanes; i++) {
		l->lane[i].index = i;
		l->lane[i].l = l;
	}
	return l;
}

void
lanes_add(struct lanes *l, size_t lane, size_t step, long a, long b)
{
	struct lane *ln = &l->lane[lane];

	if (ln->n == ln->cap) {
		ln->cap = ln->cap ? ln->cap * 2 : 16;
		ln->v = xrealloc(ln->v, ln->cap * sizeof *ln->v);
	}
	/* the lower slot first: the order every step takes its turns in */
	if (a >= 0 && b >= 0 && b < a) {
		long t = a;

		a = b;
		b = t;
	}
	if (b == a)
		b = -1;
	if (a < 0) {
		a = b;
		b = -1;
	}
	ln->v[ln->n].step = step;
	ln->v[ln->n].a = a < (long)l->nslots ? a : -1;
	ln->v[ln->n].b = b < (long)l->nslots ? b : -1;
	ln->n++;
}

size_t
lanes_busy(const struct lanes *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->nlanes; i++)
		n += l->lane[i].n > 0;
	return n;
}

static void
turns_take(struct lanes *l, const struct lane_step *s)
{
	if (s->a >= 0)
		pthread_mutex_lock(&l->turn[s->a]);
	if (s->b >= 0)
		pthread_mutex_lock(&l->turn[s->b]);
}

static void
turns_give(struct lanes *l, const struct lane_step *s)
{
	if (s->b >= 0)
		pthread_mutex_unlock(&l->turn[s->b]);
	if (s->a >= 0)
		pthread_mutex_unlock(&l->turn[s->a]);
}

/* A lane's steps in order, until one fails or another lane did. */
static void *
lane_loop(void *arg)
{
	struct lane *ln = arg;
	struct lanes *l = ln->l;
	struct err e = { 0 };
	size_t i;

	for (i = 0; i < ln->n && !atomic_load(&l->over); i++) {
		enum mc_err rc;

		turns_take(l, &ln->v[i]);
		rc = l->fn(l->arg, ln->index, ln->v[i].step, &e);
		turns_give(l, &ln->v[i]);
		if (rc == MC_OK)
			continue;
		pthread_mutex_lock(&l->mu);
		if (!atomic_load(&l->over)) {
			l->first = rc;
			l->first_e = e;
			atomic_store(&l->over, 1);
		}
		pthread_mutex_unlock(&l->mu);
		break;
	}
	return NULL;
}

enum mc_err
lanes_run(struct lanes *l, lanes_step_fn fn, void *arg, struct err *e)
{
	struct lane *own = NULL;
	size_t i;

	l->fn = fn;
	l->arg = arg;
	l->first = MC_OK;
	atomic_store(&l->over, 0);
	for (i = 0; i < l->nlanes; i++) {
		struct lane *ln = &l->lane[i];

		if (ln->n == 0)
			continue;
		if (own == NULL) {
			own = ln;
			continue;
		}
		/* no thread (the system's limit): run by this thread later */
		ln->threaded = pthread_create(&ln->thread, NULL, lane_loop, ln) == 0;
	}
	if (own != NULL)
		lane_loop(own);
	for (i = 0; i < l->nlanes; i++)
		if (l->lane[i].n > 0 && &l->lane[i] != own && !l->lane[i].threaded)
			lane_loop(&l->lane[i]);
	for (i = 0; i < l->nlanes; i++)
		if (l->lane[i].threaded) {
			pthread_join(l->lane[i].thread, NULL);
			l->lane[i].threaded = 0;
		}
	if (l->first != MC_OK)
		*e = l->first_e;
	return l->first;
}

void
lanes_free(struct lanes *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nlanes; i++)
		free(l->lane[i].v);
	for (i = 0; i < l->nslots; i++)
		pthread_mutex_destroy(&l->turn[i]);
	pthread_mutex_destroy(&l->mu);
	free(l->turn);
	free(l->lane);
	free(l);
}
