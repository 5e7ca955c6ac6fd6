/* protocol: how sync and ping share a conference's messages.
 *
 * Two runs write the same record: sync owns the conference message
 * (msg_id, hash) and the record itself; ping owns the ping fields (ping,
 * ping_id, ping_at).  The run lock keeps two syncs or two pings apart, not
 * a sync and a ping, so each write below reads the record again inside its
 * own write transaction and changes only its own run's fields.
 *
 * The ping states of a conference (its reminders, lib/remind.h: ping_id
 * is the reminder standing, ping_offset and ping_sent_at the latest one
 * posted, ping_old one it replaced and not yet deleted), and which run
 * moves them (function):
 *
 *   from      to        run   function               when
 *   NONE      CLAIMED   ping  protocol_ping_claim    a reminder is due
 *   SENT      CLAIMED   ping  protocol_ping_claim    the next one is due
 *                                                    (ping_id still stands)
 *   CLAIMED   CLAIMED   ping  protocol_ping_claim    the claim is stale
 *                                                    (its run was killed)
 *   CLAIMED   SENT      ping  protocol_ping_sent     reminder posted; the
 *                                                    one standing moves to
 *                                                    ping_old
 *   any       the same  ping  protocol_ping_old_gone ping_old deleted
 *   CLAIMED   SENT/NONE ping  protocol_ping_unclaim  post failed, or no
 *                                                    longer due (SENT when
 *                                                    a reminder stands)
 *   SENT      DONE      ping  protocol_ping_done     over: its reminder
 *                                                    deleted
 *   any       the same  sync  protocol_sync_put      sync's fields only
 *   any       removed   sync  protocol_sync_remove   unless a ping run has
 *        a part in it (a fresh claim, or a reminder sync did not delete):
 *        then the record stays without its conference message, and the
 *        next sync deletes the reminder that run records.
 *
 * A new webhook makes every stored id meaningless: sync then writes and
 * removes whole records (store_put, store_remove), ping fields included.
 *
 * Every function commits one transaction before it returns, so a crash
 * costs at most the Discord call in flight. */
#ifndef MC_PROTOCOL_H
#define MC_PROTOCOL_H

#include <stdint.h>

#include "event.h"
#include "store.h"
#include "util.h"

/* A claim older than this many seconds was left by a run killed between
 * claim and post: its ping is claimed again (a duplicate ping is better
 * than none).  A fresh claim keeps sync from removing the record. */
#define PROTOCOL_STALE_CLAIM 120

/* May a ping run claim m at now: not over (DONE), and no claim or a
 * stale one? */
int protocol_claimable(const struct message *m, int64_t now);

/* Is m's ping message still in Discord?  A ping id with the ping DONE
 * names a message ping already deleted: deleting it again is a call whose
 * answer (404) is known in advance. */
int protocol_ping_standing(const struct message *m);

/* ---- sync's moves ---- */

/* Write r (event and conference message) keeping the ping fields stored
 * for its id; r's ping fields are used only for a new conference. */
enum mc_err protocol_sync_put(struct store *s, const struct record *r, struct err *e);

/* Before posting r's conference message: write r without a message id,
 * and note the post in flight, in one transaction that always writes.
 * A state that cannot record this gets no post, so a full disk costs no
 * duplicate (one at most, should it fill between this and
 * protocol_sync_posted). */
enum mc_err protocol_sync_intent(struct store *s, const struct record *r, int64_t now,
    struct err *e);

/* After the post: write r with its new message id and drop the note. */
enum mc_err protocol_sync_posted(struct store *s, const struct record *r, struct err *e);

/* Remove conference id, which sync no longer wants (its conference
 * message deleted or forgotten), unless a ping run has a part in it: a
 * claim at most PROTOCOL_STALE_CLAIM seconds before now, or a ping
 * message other than ping_deleted (the one the caller deleted, "" or NULL
 * = none).  Then only its msg_id and hash are cleared and *removed = 0.
 * An absent id: MC_OK, *removed = 1. */
enum mc_err protocol_sync_remove(struct store *s, int64_t id, const char *ping_deleted,
    int64_t now, int *removed, struct err *e);

/* ---- ping's moves ---- */

/* Claim the ping of conference id at now: *won = 1 and the state set to
 * CLAIMED when protocol_claimable, else *won = 0 and nothing written.
 * MC_ERR_NOTFOUND when id is not stored. */
enum mc_err protocol_ping_claim(struct store *s, int64_t id, int64_t now, int *won,
    struct err *e);

/* CLAIMED -> SENT: reminder ping_id, for offset minutes before the
 * start, was posted at now; the one standing before moves to ping_old.
 * MC_ERR_NOTFOUND when the conference is no longer stored. */
enum mc_err protocol_ping_sent(struct store *s, int64_t id, const char *ping_id, int64_t offset,
    int64_t now, struct err *e);

/* ping_old was old_id and that message is deleted now: ping_old = "".
 * MC_ERR_NOTFOUND when not stored. */
enum mc_err protocol_ping_old_gone(struct store *s, int64_t id, const char *old_id,
    struct err *e);

/* Give up a claim whose post failed or that is no longer due: back to
 * SENT when a reminder stands, else NONE.  MC_ERR_NOTFOUND when not
 * stored. */
enum mc_err protocol_ping_unclaim(struct store *s, int64_t id, struct err *e);

/* SENT -> DONE: the reminder of a conference that is over was deleted at
 * now (ping_id kept for the record).  MC_ERR_NOTFOUND when not stored. */
enum mc_err protocol_ping_done(struct store *s, int64_t id, int64_t now, struct err *e);

#endif
