/* lmdb_guard: see lmdb_guard.h. */
#include "lmdb_guard.h"

#include <pthread.h>
#include <string.h>

static const int guarded[3] = { SIGSEGV, SIGBUS, SIGABRT };

/* The guard in force in this thread: a signal handler can reach it only
 * through a static.  Per thread, so that a fault of a thread that holds
 * no guard is never taken for LMDB's and jumped into another thread's
 * stack. */
static _Thread_local struct lmdb_guard *active;

/* The turn: the handlers and the saved ones (g->old) are the process's,
 * so two threads' guards must not overlap. */
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;

static void
on_fault(int sig)
{
	struct lmdb_guard *g = active;

	if (g == NULL) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	g->sig = sig;
	siglongjmp(g->jb, 1);
}

void
lmdb_guard_enter(struct lmdb_guard *g)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	/* SA_NODEFER: the jump leaves the handler without returning, so
	 * the signal must not stay blocked (sigsetjmp saved the mask too) */
	sa.sa_flags = SA_NODEFER;
	pthread_mutex_lock(&turn);
	g->sig = 0;
	active = g;
	for (i = 0; i < 3; i++)
		sigaction(guarded[i], &sa, &g->old[i]);
}

void
lmdb_guard_leave(struct lmdb_guard *g)
{
	size_t i;

	for (i = 0; i < 3; i++)
		sigaction(guarded[i], &g->old[i], NULL);
	active = NULL;
	pthread_mutex_unlock(&turn);
}

int
lmdb_guard_fault(struct lmdb_guard *g)
{
	lmdb_guard_leave(g);
	return 1;
}
