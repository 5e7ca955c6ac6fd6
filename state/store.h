/* store: the state in one LMDB file (MDB_NOSUBDIR; LMDB keeps its lock
 * file beside it as PATH-lock).  Named databases, schema "2":
 *
 *   meta      "schema", "site", "webhook_id", "webhook_id route NAME",
 *             "moodle_token" (the token kept from a password sign-in:
 *             "GOT TOKEN"), "token_warned", "checked" (sync's round of
 *             look-ups), "posting" and "posting route NAME" (a route's post in flight) -> text
 *             ("last_sync", written by moodlecord 0.1.0 and never read,
 *             may be present)
 *   events    8-byte big-endian event id -> event_to_json() of the event
 *   messages  8-byte big-endian event id -> message_to_json() of its
 *             message data (event.c names every key of both)
 *   by_start  8-byte big-endian start + 8-byte big-endian id -> empty
 *
 * Every write is one transaction, so a crash leaves the last committed
 * state.  Values are copied out before their transaction ends.  A full map
 * is grown and the transaction retried.  A file that is not a sound LMDB
 * file is refused with MC_ERR_IO before LMDB maps it and is never written.
 * Event ids and starts must not be negative (keys sort as unsigned).
 *
 * Threads: store_get, store_put, store_remove, store_load_all,
 * store_load_window and the writes of protocol.h may be called on one
 * store from several threads at once (sync's routes side by side).  Each
 * of them enters LMDB under the fault guard (lmdb_guard.h), which one
 * thread holds at a time, so one transaction at a time is open in the
 * process: a write commits whole before the next begins, and growing
 * the map (which LMDB allows only while the process has no transaction
 * open) never meets another thread's.  No transaction crosses threads
 * and no thread holds two, so LMDB's per-thread reader slots serve
 * (no MDB_NOTLS).  The rest (open, close, meta) is for one thread.
 *
 * A newer moodlecord that changes the stored form raises STORE_SCHEMA and
 * adds a migration step (schema.c) that upgrades an older file in place
 * on its first read-write open.  Writes that touch the ping fields, which
 * sync and ping share, are in protocol.h. */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "util.h"

#define STORE_SCHEMA 2

struct store;

enum {
	STORE_RDONLY = 1, /* read only: never creates nor writes the data file */
	STORE_CREATE = 2, /* create the file (0600) and its directory (0700)   */
	STORE_UPGRADE = 4, /* with STORE_RDONLY: a file of an older schema is
	                     upgraded first (opened read-write once), so the
	                     first run of a new release may be any verb       */
	STORE_CHECKED = 8 /* the file is as a run that read it whole left it
	                     (sound.h): its pages are not walked again        */
};

/* Open the state file at path.  Without STORE_CREATE an absent file (or an
 * empty one, for STORE_RDONLY) is MC_ERR_NOTFOUND ("no state yet").  A
 * file with no schema is initialised (read-write) or, read-only and
 * holding nothing, MC_ERR_NOTFOUND.  A newer schema, a damaged file or one
 * that is not a moodlecord state: MC_ERR_IO, the file left untouched.
 * STORE_RDONLY uses LMDB's lock file when it exists and can be opened, and
 * otherwise reads without it (MDB_NOLOCK); it creates neither file.
 * On success *out is the store, freed with store_close. */
enum mc_err store_open(const char *path, int flags, struct store **out, struct err *e);

/* Compare site_url with meta "site": absent -> recorded (not on a
 * read-only store), equal -> MC_OK, different -> MC_ERR_CONFIG telling how
 * to start afresh. */
enum mc_err store_check_site(struct store *s, const char *site_url, struct err *e);

/* Append every stored conference to out (not cleared first), sorted by
 * start, then id.  Strings are the caller's (record_list_free). */
enum mc_err store_load_all(struct store *s, struct record_list *out, struct err *e);

/* Append the conferences with from <= start < to, sorted by start, then
 * id, reading only that range of by_start. */
enum mc_err store_load_window(struct store *s, int64_t from, int64_t to,
    struct record_list *out, struct err *e);

/* store_load_window, keeping only the conferences for which keep(arg,
 * id, start, message data) says 1: the others' events are not even
 * decoded (ping reads a day's worth of records every minute). */
typedef int (*store_keep_fn)(void *arg, int64_t id, int64_t start, const struct message *m);
enum mc_err store_load_window_where(struct store *s, int64_t from, int64_t to, store_keep_fn keep,
    void *arg, struct record_list *out, struct err *e);

/* Walks that hold one record at a time, in increasing id order from
 * conference id from (included): fn(arg, ...) is called for each and
 * returns 0 to go on, anything else to stop the walk there (MC_OK).
 * What fn is given is freed when it returns.  The pages of the file the
 * walk read are given back to the kernel as it goes (the file's map would
 * otherwise count whole in the process's memory).
 * store_walk: every stored conference, event and message data.
 * store_walk_messages: the message data only, of the conferences that
 * have some (their events are not decoded). */
typedef int (*store_walk_fn)(void *arg, const struct record *r);
typedef int (*store_walk_msg_fn)(void *arg, int64_t id, const struct message *m);
enum mc_err store_walk(struct store *s, int64_t from, store_walk_fn fn, void *arg,
    struct err *e);
enum mc_err store_walk_messages(struct store *s, int64_t from, store_walk_msg_fn fn, void *arg,
    struct err *e);

/* The conference with this id: MC_OK and *out filled (caller frees
 * out->ev with event_free), or MC_ERR_NOTFOUND. */
enum mc_err store_get(struct store *s, int64_t id, struct record *out, struct err *e);

/* Write r (event, message data and its by_start key, moving that key
 * when the start changed) in one transaction.  MC_ERR_DATA when the id or
 * start is negative. */
enum mc_err store_put(struct store *s, const struct record *r, struct err *e);

/* Remove conference id from events, messages and by_start in one
 * transaction.  Removing an absent id is MC_OK. */
enum mc_err store_remove(struct store *s, int64_t id, struct err *e);

/* The id of the webhook the stored messages were posted with: *id is a
 * new string (caller frees), or NULL when none is recorded yet. */
enum mc_err store_webhook_get(struct store *s, char **id, struct err *e);
/* The same for the messages posted through route NAME (meta "webhook_id
 * route NAME"; "" or NULL: [discord]'s, as store_webhook_get/put). */
enum mc_err store_route_webhook_get(struct store *s, const char *route, char **id, struct err *e);
enum mc_err store_route_webhook_put(struct store *s, const char *route, const char *id,
    struct err *e);
/* Record the webhook id the stored messages now belong to. */
enum mc_err store_webhook_put(struct store *s, const char *id, struct err *e);

/* The Moodle token kept from a password sign-in and when it was got:
 * *token a new string (a secret: the caller frees it with secret_free),
 * or NULL and *got 0 when none is kept. */
enum mc_err store_token_get(struct store *s, char **token, int64_t *got, struct err *e);
/* Keep token, got at time got, in place of the one kept before. */
enum mc_err store_token_put(struct store *s, const char *token, int64_t got, struct err *e);
/* The day (Unix time / 86400) sync last warned that the token is old; 0
 * when never. */
enum mc_err store_token_warned_get(struct store *s, int64_t *day, struct err *e);
enum mc_err store_token_warned_put(struct store *s, int64_t day, struct err *e);
/* The id of the conference whose message sync looked at last, in its
 * round of look-ups (0: none yet), and recording it. */
enum mc_err store_checked_get(struct store *s, int64_t *id, struct err *e);
enum mc_err store_checked_put(struct store *s, int64_t id, struct err *e);

/* Close the store (NULL is fine).  Nothing is pending: every write above
 * has been committed when it returned. */
void store_close(struct store *s);

/* Create the directory holding path and its missing parents, mode 0700. */
enum mc_err store_make_dir(const char *path, struct err *e);

#endif
