/* request: what the webhook client (discord.c) and the bot client (bot.c)
 * share to make one call to Discord: the clocks, waiting within the run's
 * deadline, and Discord's retry rules.
 *
 * The rules (Discord documents the headers; the rest is this program's
 * choice, the same for both clients):
 * - No call starts, and no wait begins, that would end past the run's
 *   deadline: MC_ERR_TEMP, the next run carries on.
 * - A request that could not connect never left: sent again, up to 3
 *   tries, waiting 0.5 s, then 1 s.  A timeout or a lost answer is tried
 *   again the same way unless the request has no idempotency key (a
 *   message post, an event create): that one may have arrived, so it is
 *   never sent twice and the error says so.
 * - A 5xx answer is tried again as a timeout is (waiting Retry-After
 *   instead when that is longer than the backoff and under a minute).
 * - A 429 is waited out as it says (retry_after, else the bucket's
 *   reset; 1 s when it says neither), at most 5 in a row; a 429 of a ban
 *   (no rate-limit headers) is MC_ERR_TEMP at once.
 * The client's own pacing (buckets, the bot's global limit) is its hooks'
 * business. */
#ifndef MC_REQUEST_H
#define MC_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "discord.h"
#include "http.h"
#include "secret.h"
#include "util.h"

/* Monotonic and wall-clock time in microseconds. */
int64_t request_mono_us(void);
int64_t request_wall_us(void);

/* Are the n characters at s digits, n > 0? */
int request_digits(const char *s, size_t n);

/* A character of a Discord token: letters, digits, '_', '.', '-'. */
int request_token_char(char c);

/* The deadline (Unix seconds, <= 0 = none) in wall-clock microseconds
 * (INT64_MAX for none). */
int64_t request_deadline_us(int64_t deadline);

/* Sleep until monotonic time until_us.  MC_ERR_TEMP, "run deadline
 * reached: WHY would wait ...", without sleeping, when that would pass
 * deadline (Unix seconds, <= 0 = none). */
enum mc_err request_wait_until(int64_t deadline, int64_t until_us, const char *why, struct err *e);

/* How a client paces its calls and learns from the answers; each hook
 * gets arg.  pace is required, the others may be NULL. */
struct request_hooks {
	/* Wait until a call may start; MC_OK or an error (the deadline). */
	enum mc_err (*pace)(void *arg, struct err *e);
	/* After each try, whether an answer came or not. */
	void (*sent)(void *arg);
	/* Each answer's rate-limit headers, a 429's included. */
	void (*noted)(void *arg, const struct http_response *r, const struct discord_limits *l);
	/* A 429 that is not a ban, to wait wait_us before the next call. */
	void (*limited)(void *arg, const struct http_response *r, const struct discord_limits *l,
	    int64_t wait_us);
	void *arg;
};

/* One call to make. */
struct request_call {
	struct http *http;
	const struct secrets *secrets; /* hidden from transport errors        */
	int64_t deadline;              /* Unix seconds, <= 0 = none           */
	const char *what;              /* "post", "event create": in errors   */
	int once;                      /* no idempotency key: never resent once
	                                  it may have left                    */
	const char *maybe;             /* error prefix for a `once` call that
	                                  may or may not have arrived         */
	struct request_hooks h;
};

/* Send req as c says, by the rules above.  MC_OK with resp filled when a
 * final answer came (never a 429 or a 5xx: the caller judges its status
 * and frees resp); else an error with e filled (no secret in it). */
enum mc_err request_send(const struct request_call *c, const struct http_request *req,
    struct http_response *resp, struct err *e);

#endif
