/* ratelimit: Discord's rate limits as a bot client keeps them.
 *
 * Discord names, in X-RateLimit-Bucket, the bucket each answer's route
 * belongs to; several routes may share one, and a route's bucket is kept
 * apart per major parameter (the guild).  X-RateLimit-Remaining says how
 * many calls it has left until X-RateLimit-Reset-After seconds from the
 * answer.  Besides, a bot may make at most 50 calls a second in all.  A
 * 429 says how long to wait, and whether the limit hit was the global one
 * or the route's.  This table keeps all that and says when the next call
 * of a route may start; it never sleeps.  Times are monotonic
 * microseconds given by the caller. */
#ifndef MC_RATELIMIT_H
#define MC_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* A table for a client allowed global_n calls in every global_us. */
struct ratelimit *ratelimit_new(int global_n, int64_t global_us);
void ratelimit_free(struct ratelimit *rl);

/* When a call of route (e.g. "PATCH /guilds/G/scheduled-events/{id}") in
 * guild (NULL = none) may start: now, or later. */
int64_t ratelimit_ready_at(const struct ratelimit *rl, const char *route, const char *guild,
    int64_t now);

/* A call is sent now; ratelimit_answered moves its time to when its
 * answer came (Discord saw it no later, so a second counted from there
 * is a second at Discord too). */
void ratelimit_sent(struct ratelimit *rl, int64_t now);
void ratelimit_answered(struct ratelimit *rl, int64_t now);

/* What an answer said of route's bucket: its name (NULL = none), calls
 * remaining (-1 = not said) and microseconds until it refills (-1 = not
 * said). */
void ratelimit_note(struct ratelimit *rl, const char *route, const char *guild, const char *bucket,
    long remaining, int64_t reset_after_us, int64_t now);

/* A 429: every call (global) or route's bucket waits wait_us. */
void ratelimit_429(struct ratelimit *rl, const char *route, const char *guild, int global,
    int64_t wait_us, int64_t now);

#endif
