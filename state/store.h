/* store: the state in one LMDB file (MDB_NOSUBDIR; LMDB keeps its lock
 * file beside it as PATH-lock).  Named databases, schema "1":
 *
 *   meta      "schema", "site", "webhook_id", "last_sync" -> text
 *   events    8-byte big-endian event id -> event_to_json() of the event
 *   messages  8-byte big-endian event id -> JSON object
 *             {"msg_id":"…","hash":"…","ping_id":"…",
 *              "ping":"none|claimed|sent|done","ping_at":N}
 *   by_start  8-byte big-endian start + 8-byte big-endian id -> empty
 *
 * Every write is one transaction, so a crash leaves the last committed
 * state.  Values are copied out before their transaction ends.  A full map
 * is grown and the transaction retried.  A file that is not a sound LMDB
 * file is refused with MC_ERR_IO before LMDB maps it and is never written.
 * Event ids and starts must not be negative (keys sort as unsigned). */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "util.h"

#define STORE_SCHEMA 1

struct store;

enum {
	STORE_RDONLY = 1, /* read only: never creates nor writes the data file */
	STORE_CREATE = 2  /* create the file (0600) and its directory (0700)   */
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

/* store_open with the initial map size of a new file in bytes (0 = the
 * default, 64 MiB); for tests of map growth. */
enum mc_err store_open_ex(const char *path, int flags, size_t mapsize,
    struct store **out, struct err *e);

/* The path the store was opened with, and the current map size in bytes. */
const char *store_path(const struct store *s);
size_t store_map_size(const struct store *s);

/* The schema version recorded in the file. */
int store_schema(const struct store *s);

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

/* The conference with this id: MC_OK and *out filled (caller frees
 * out->ev with event_free), or MC_ERR_NOTFOUND. */
enum mc_err store_get(struct store *s, int64_t id, struct record *out, struct err *e);

/* Write r (event, message data and its by_start key, moving that key
 * when the start changed) in one transaction.  MC_ERR_DATA when the id or
 * start is negative. */
enum mc_err store_put(struct store *s, const struct record *r, struct err *e);

/* store_put of n records in one transaction: all or none are written. */
enum mc_err store_put_many(struct store *s, const struct record *r, size_t n, struct err *e);

/* Like store_put, but the ping fields (ping, ping_id, ping_at) already
 * stored for r's id are kept; r's are used only for a new conference.
 * For sync, so that a ping run's claim made meanwhile is not undone. */
enum mc_err store_put_keep_ping(struct store *s, const struct record *r, struct err *e);

/* Set only the ping fields of conference id, in one transaction.  For
 * ping, so that sync's changes made meanwhile are not undone.
 * MC_ERR_NOTFOUND when the conference is no longer stored. */
enum mc_err store_set_ping(struct store *s, int64_t id, enum ping_state ping,
    const char *ping_id, int64_t ping_at, struct err *e);

/* Remove conference id from events, messages and by_start in one
 * transaction.  Removing an absent id is MC_OK. */
enum mc_err store_remove(struct store *s, int64_t id, struct err *e);

/* Remove conference id as store_remove does, unless a ping run still has
 * a part in it: its ping claimed (PING_CLAIMED) at most stale_after seconds
 * before now, or a ping message recorded other than ping_deleted (the one
 * the caller deleted, "" = none).  Then only its message id and hash are
 * cleared and *removed = 0, so that a later sync, seeing the ping message
 * the ping run records, deletes it.  For sync, whose delete may meet a ping
 * run posting.  An absent id: MC_OK, *removed = 1. */
enum mc_err store_remove_unless_pinging(struct store *s, int64_t id, const char *ping_deleted,
    int64_t now, int64_t stale_after, int *removed, struct err *e);

/* meta: *val is a new string (caller frees), or NULL when key is absent. */
enum mc_err store_meta_get(struct store *s, const char *key, char **val, struct err *e);
enum mc_err store_meta_put(struct store *s, const char *key, const char *val, struct err *e);

/* Claim the ping of conference id: in one write transaction, *won = 1 and
 * the ping state set to PING_CLAIMED at now (ping_at) when it was PING_NONE,
 * or PING_CLAIMED more than stale_after seconds ago; otherwise *won = 0
 * and nothing is written.  MC_ERR_NOTFOUND when id is not stored. */
enum mc_err store_ping_claim(struct store *s, int64_t id, int64_t now, int64_t stale_after,
    int *won, struct err *e);

/* Close the store (NULL is fine).  Nothing is pending: every write above
 * has been committed when it returned. */
void store_close(struct store *s);

/* Create the directory holding path and its missing parents, mode 0700. */
enum mc_err store_make_dir(const char *path, struct err *e);

#endif
