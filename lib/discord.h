/* discord: the webhook client.
 *
 * What Discord does, as this module relies on it: POST
 * /webhooks/ID/TOKEN?wait=true answers the new message (its "id"); PATCH
 * and DELETE /webhooks/ID/TOKEN/messages/MSG edit and delete one;
 * ?thread_id=T directs any of them into a thread; GET /webhooks/ID/TOKEN
 * answers the webhook (name, channel_id).  Errors are JSON {"code",
 * "message", "errors"?}: 404 with 10008 a message gone, 10015 the webhook
 * deleted, 10003 an unknown channel or thread; 401 a wrong token; 403 no
 * permission (an archived or locked thread); 400 a body refused, the
 * "errors" tree naming the field.  Every answer carries X-RateLimit-*
 * headers (Limit, Remaining, Reset, Reset-After in seconds with
 * fractions, Bucket, Scope, Global); a 429 carries retry_after (seconds)
 * in its body and Retry-After; a 429 without those headers, with code 0
 * or the text "error code: 1015" is a ban of the address, not a limit.
 * Ids are snowflakes (url.h).
 *
 * One struct discord per run and webhook.  It paces itself by the
 * rate-limit headers of every answer (when X-RateLimit-Remaining reaches 0
 * the next call waits X-RateLimit-Reset-After), waits out a 429 and sends
 * the same request again, retries what is safe to retry, and never waits
 * or retries past the run's deadline.  No message it fills ever holds the
 * webhook token. */
#ifndef MC_DISCORD_H
#define MC_DISCORD_H

#include <stdint.h>

#include "http.h"
#include "util.h"

struct discord;

/* A client for the webhook at webhook_url, which may be any form Discord
 * hands out: https://discord.com/api/webhooks/ID/TOKEN, with
 * discordapp.com, ptb. or canary. in front, with /api/vN or without /api,
 * with a trailing slash; requests always go to
 * https://discord.com/api/v10/webhooks/ID/TOKEN.  A query string is
 * dropped, except that its thread_id is used when thread_id is NULL or "".
 * An http(s) URL of a loopback host (127.0.0.0/8, localhost, [::1]) whose
 * path ends in /webhooks/ID/TOKEN is used as given (tests).
 * thread_id: post into that thread (NULL or "" = the channel itself).
 * Timeouts in seconds; deadline: absolute Unix time after which no wait or
 * retry starts (<= 0: none).  Returns NULL with e filled (MC_ERR_CONFIG,
 * saying what a webhook URL looks like, without the token) when the URL
 * or thread_id is not usable.  Free with discord_free. */
struct discord *discord_new(const char *webhook_url, const char *thread_id,
    long connect_timeout, long timeout, int64_t deadline, struct err *e);

/* The webhook id (digits, not secret). */
const char *discord_webhook_id(const struct discord *d);

/* Post body (JSON, ?wait=true) and put the new message id in id_out.
 * Retried only when the request surely never left (could not connect).
 * Errors: MC_ERR_CONFIG (webhook deleted 10015, token wrong 50027, no
 * permission 403: stop the run), MC_ERR_DATA (400: Discord refused the body,
 * e names the field; skip that change), MC_ERR_UNAVAILABLE (5xx),
 * MC_ERR_TEMP (network, timeout, a post that may or may not have arrived,
 * ban, deadline). */
enum mc_err discord_post(struct discord *d, const char *body, char id_out[32], struct err *e);

/* The same in thread (a forum post; NULL = the client's thread_id): post
 * into it, or edit or delete one of its messages (Discord wants the
 * thread of a message of a thread on every call). */
enum mc_err discord_post_in(struct discord *d, const char *thread, const char *body,
    char id_out[32], struct err *e);
enum mc_err discord_edit_in(struct discord *d, const char *thread, const char *msg_id,
    const char *body, struct err *e);
enum mc_err discord_delete_in(struct discord *d, const char *thread, const char *msg_id,
    struct err *e);
/* discord_remove in thread (NULL = the client's). */
enum mc_err discord_remove_in(struct discord *d, const char *thread, const char *msg_id,
    struct err *e);

/* Replace message msg_id with body.  MC_ERR_NOTFOUND when the message is
 * gone (10008: deleted in Discord); other errors as discord_post, but 5xx,
 * timeouts and lost connections are retried (3 tries, with backoff). */
enum mc_err discord_edit(struct discord *d, const char *msg_id, const char *body, struct err *e);

/* Delete message msg_id.  MC_ERR_NOTFOUND when it was already gone
 * (10008); errors and retries as discord_edit. */
enum mc_err discord_delete(struct discord *d, const char *msg_id, struct err *e);

/* Is message msg_id (one this webhook posted) still there?  MC_OK when
 * it is, MC_ERR_NOTFOUND when it was deleted in Discord (10008); errors
 * and retries as discord_edit.  A GET: changes nothing. */
enum mc_err discord_look(struct discord *d, const char *msg_id, struct err *e);
/* discord_look in thread (NULL = the client's). */
enum mc_err discord_look_in(struct discord *d, const char *thread, const char *msg_id,
    struct err *e);

/* Delete message msg_id where a message already gone (deleted in Discord)
 * counts as deleted: MC_OK then.  The rule every cleanup follows; errors
 * and retries as discord_delete. */
enum mc_err discord_remove(struct discord *d, const char *msg_id, struct err *e);

/* The webhook's name and channel id (new strings, caller frees); posts
 * nothing.  Errors and retries as discord_edit. */
enum mc_err discord_get_webhook(struct discord *d, char **name, char **channel_id, struct err *e);

void discord_free(struct discord *d);

/* --- parts exposed for tests --- */

/* A webhook URL taken apart: base is where requests go (ends with the
 * token, no slash), token and thread_id (from the query, NULL when none)
 * are new strings. */
struct discord_url {
	char id[24];
	char *token;
	char *base;
	char *thread_id;
};

/* Parse url as discord_new does.  MC_OK, or MC_ERR_CONFIG with e filled
 * (never echoing the URL); free with discord_url_free either way. */
enum mc_err discord_url_parse(const char *url, struct discord_url *out, struct err *e);
void discord_url_free(struct discord_url *u);

/* What an answer says about the rate limit. */
struct discord_limits {
	int has_headers;        /* any X-RateLimit-* header present           */
	long remaining;         /* X-RateLimit-Remaining, -1 = absent or bad */
	int64_t reset_after_us; /* X-RateLimit-Reset-After, -1 = absent      */
	int64_t retry_after_us; /* 429: body retry_after, else Retry-After; -1 */
	int global;             /* 429 that applies to every call            */
	int ban;                /* 429 of a ban: no rate-limit headers, body
	                           code 0, or "error code: 1015"              */
};
void discord_parse_limits(const struct http_response *r, struct discord_limits *out);

/* Seconds as Discord writes them ("1", "0.250", "2.5") in microseconds,
 * rounded up; -1 when s is NULL or not such a number. */
int64_t discord_parse_seconds(const char *s);

#endif
