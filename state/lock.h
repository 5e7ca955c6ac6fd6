/* lock: one run of a verb at a time.  A per-verb lock file beside the
 * state file (PATH.VERB.lock, e.g. state.mdb.sync.lock) held with flock(2)
 * for the whole run; the kernel drops it when the process ends, however it
 * ends.  The holder writes "PID START" (Unix seconds) into the file. */
#ifndef MC_LOCK_H
#define MC_LOCK_H

#include <stdint.h>

#include "util.h"

struct lock;

/* Take the lock of verb (e.g. "sync", "ping") for state_path, without
 * waiting; creates the directory (0700) and the lock file (0600) when
 * missing.  Held by another process: MC_ERR_BUSY with e saying "another
 * VERB is running (pid N since TIME)", or MC_ERR_TEMP when it has been
 * held for over stale_after seconds (a hung run someone should look at).
 * Other failures: MC_ERR_IO.  On success *out is freed by lock_release. */
enum mc_err lock_take(const char *state_path, const char *verb, int64_t stale_after,
    struct lock **out, struct err *e);

/* The lock file's path (for messages and tests). */
const char *lock_path(const struct lock *l);

/* Release the lock and free l (NULL is fine). */
void lock_release(struct lock *l);

#endif
