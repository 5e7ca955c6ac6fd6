/* lmdb_guard: a fault inside LMDB while it reads a damaged file becomes
 * an error instead of the end of the run.
 *
 * LMDB trusts its pages; lmdb_pages checks every page before LMDB maps
 * the file, and this guard catches what a check cannot foresee: SIGSEGV,
 * SIGBUS or SIGABRT (LMDB's assertions) raised while a guarded read runs.
 * The read then returns as failed and the environment must not be used
 * again (LMDB may hold its state half-changed): the caller marks it so.
 *
 *	struct lmdb_guard g;
 *
 *	if (LMDB_GUARD_FAULTED(&g))
 *		return damaged(...);       // g.sig: the signal caught
 *	lmdb_guard_enter(&g);
 *	... LMDB reads ...
 *	lmdb_guard_leave(&g);
 *
 * Locals changed inside the guarded part and read after a fault must be
 * volatile.  Guards do not nest.  Threads: the handlers are the
 * process's, so a guard is held by one thread at a time (lmdb_guard_enter
 * waits while another thread's guard is in force: every guarded entry
 * into LMDB takes its turn, which is also what makes the store usable
 * from several threads), and a fault is caught only in the thread whose
 * guard is in force (another thread's fault is not LMDB's: it ends the
 * run as it would without a guard). */
#ifndef MC_LMDB_GUARD_H
#define MC_LMDB_GUARD_H

#include <setjmp.h>
#include <signal.h>

struct lmdb_guard {
	sigjmp_buf jb;
	struct sigaction old[3];
	volatile sig_atomic_t sig;
};

/* Nonzero (after lmdb_guard_leave was done for it) when a fault inside
 * the guarded part jumped back here. */
#define LMDB_GUARD_FAULTED(g) (sigsetjmp((g)->jb, 1) != 0 && lmdb_guard_fault(g))

/* Wait for the guard's turn, then catch SIGSEGV, SIGBUS and SIGABRT of
 * this thread until lmdb_guard_leave. */
void lmdb_guard_enter(struct lmdb_guard *g);

/* Put the signals' previous handlers back and give up the turn. */
void lmdb_guard_leave(struct lmdb_guard *g);

/* For LMDB_GUARD_FAULTED: leave the guard; returns 1. */
int lmdb_guard_fault(struct lmdb_guard *g);

#endif
