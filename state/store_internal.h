/* store_internal: what the files of the store share (store.c, schema.c,
 * lmdb_header.c, protocol.c), and the functions only tests and test tools
 * use.  Not for cmd/: cmd uses store.h and protocol.h. */
#ifndef MC_STORE_INTERNAL_H
#define MC_STORE_INTERNAL_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store {
	char *path;
	MDB_env *env;
	MDB_dbi meta, events, messages, by_start;
	int rdonly;
	int schema;
	int64_t schema_found;  /* the version the file records, 0 = none read */
	_Atomic int faulted; /* LMDB faulted in it: never used again; set
	                        after the guard's turn, read before it    */
	unsigned commits;   /* write transactions since the map was given
	                       back (written within the guard's turn)     */
};

/* What a transaction step returns beyond LMDB's codes (which are >= 0 or
 * LMDB's own negative MDB_* values, all below -30800). */
#define TXN_FAILED   (-1)   /* e is filled: abort and return e->kind    */
#define TXN_NOCHANGE (-2)   /* nothing to write: abort, success          */

/* ---- errors (store.c) ---- */

/* MC_ERR_IO "state file PATH is damaged or not a moodlecord state (why)". */
enum mc_err store_damaged(const struct store *s, struct err *e, const char *why);
/* An LMDB code as MC_ERR_IO, damage named as such; what: "read it" etc. */
enum mc_err store_lmdb_err(const struct store *s, int rc, const char *what, struct err *e);
/* store_damaged: "the WHAT of conference ID is unreadable". */
enum mc_err store_unreadable(const struct store *s, int64_t id, const char *what, struct err *e);

/* ---- transactions (store.c) ---- */

/* mdb_txn_begin, adopting a map another process grew. */
int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn);

typedef int (*store_txn_step)(struct store *s, MDB_txn *txn, void *arg, struct err *e);

/* Run step in a write transaction and commit it.  step returns 0
 * (commit), TXN_NOCHANGE, TXN_FAILED or an LMDB code.  A full map is
 * doubled and step run again from the start, so step must not keep
 * anything from a failed attempt.  MC_ERR_IO on a read-only store. */
enum mc_err store_txn_write(struct store *s, store_txn_step step, void *arg, struct err *e);

/* The 8-byte key of conference id in events and messages. */
void store_key_id(unsigned char k[8], int64_t id);

/* The message data of conference id inside txn: 0 with *m filled (zeroed
 * when the conference has none), MDB_NOTFOUND when the conference is not
 * stored, TXN_FAILED (e filled) when unreadable, or an LMDB code. */
int store_txn_get_message(struct store *s, MDB_txn *txn, int64_t id, struct message *m,
    struct err *e);

/* Write m as the message data of conference id inside txn. */
int store_txn_put_message(struct store *s, MDB_txn *txn, int64_t id, const struct message *m);

/* Write r inside txn as store_put does; with keep_ping, the ping fields
 * already stored for r's id are kept (r's are used for a new id). */
int store_txn_put_record(struct store *s, MDB_txn *txn, const struct record *r,
    int keep_ping, struct err *e);

/* MC_ERR_DATA unless every record of r[0..n) has an id and start >= 0
 * (keys sort as unsigned). */
enum mc_err store_check_keys(const struct record *r, size_t n, struct err *e);

/* Remove conference id inside txn as store_remove does (TXN_NOCHANGE
 * when absent). */
int store_txn_remove(struct store *s, MDB_txn *txn, int64_t id, struct err *e);

/* ---- the LMDB file's header (lmdb_header.c) ---- */

enum lmdb_header {
	LMDB_HEADER_OK,
	LMDB_HEADER_EMPTY,   /* a file of 0 bytes                           */
	LMDB_HEADER_ABSENT,  /* no such file                                */
	LMDB_HEADER_BAD,     /* not a sound LMDB file: why says how          */
	LMDB_HEADER_SHAKY    /* figures a committing writer may be changing:
	                        worth reading again                        */
};

/* Check LMDB's two meta pages and the file's length before LMDB maps the
 * file (LMDB trusts them: a page size of 0 divides by zero, a short file
 * faults).  *err is an errno when the file could not be read, else 0. */
enum lmdb_header lmdb_header_check(const char *path, char *why, size_t whylen, int *err);

/* ---- schema (schema.c) ---- */

/* The databases of the file, in the order of struct store's handles. */
extern const char *const store_db_names[4];

/* Open the named databases of the freshly opened environment and check
 * the schema: a new file is initialised, an old one upgraded by the
 * migration steps (read-write), a newer one refused.  Sets s->schema. */
enum mc_err schema_open(struct store *s, struct err *e);

/* ---- for tests and test tools only ---- */

/* store_open with the initial map size of a new file in bytes (0 = the
 * default, 64 MiB); for tests of map growth. */
enum mc_err store_open_ex(const char *path, int flags, size_t mapsize,
    struct store **out, struct err *e);

/* The path the store was opened with, and the current map size in bytes. */
const char *store_path(const struct store *s);
size_t store_map_size(const struct store *s);

/* The schema version recorded in the file. */
int store_schema(const struct store *s);

/* store_put of n records in one transaction: all or none are written. */
enum mc_err store_put_many(struct store *s, const struct record *r, size_t n, struct err *e);

/* meta: *val is a new string (caller frees), or NULL when key is absent. */
enum mc_err store_meta_get(struct store *s, const char *key, char **val, struct err *e);
enum mc_err store_meta_put(struct store *s, const char *key, const char *val, struct err *e);

#endif
