/* schema: the named databases of the state file, its schema version and
 * the steps that upgrade an older file in place.  See store.h for the
 * schema itself. */
#include "store_internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

const char *const store_db_names[4] = { "meta", "events", "messages", "by_start" };

/* Count the entries of the main database (*entries) and tell whether any
 * is not one of our named databases (*foreign). */
static int
main_db_survey(MDB_txn *txn, size_t *entries, int *foreign)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi main;
	size_t i;
	int rc;

	*entries = 0;
	*foreign = 0;
	rc = mdb_dbi_open(txn, NULL, 0, &main);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_open(txn, main, &cur);
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int ours = 0;

		(*entries)++;
		for (i = 0; i < sizeof store_db_names / sizeof store_db_names[0]; i++)
			if (k.mv_size == strlen(store_db_names[i]) &&
			    memcmp(k.mv_data, store_db_names[i], k.mv_size) == 0)
				ours = 1;
		if (!ours)
			*foreign = 1;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The migration steps: migrations[v] upgrades a file of schema v to
 * v + 1 inside the open write transaction (rewriting records as the new
 * codec wants them).  Schema 1 is the first moodlecord wrote, so there is
 * no step yet; the one to schema 2 goes in migrations[1], with
 * STORE_SCHEMA raised to 2. */
typedef enum mc_err (*migration_step)(struct store *s, MDB_txn *txn, struct err *e);

static const migration_step migrations[STORE_SCHEMA] = {
	NULL,   /* schema 0 was never written */
};

/* Upgrade a file of schema from to STORE_SCHEMA inside txn, one step at
 * a time. */
static enum mc_err
migrate(struct store *s, MDB_txn *txn, int64_t from, struct err *e)
{
	char why[64];
	int64_t v;
	enum mc_err rc;

	for (v = from; v < STORE_SCHEMA; v++) {
		if (v < 0 || migrations[v] == NULL) {
			snprintf(why, sizeof why, "schema %lld was never written by moodlecord",
			    (long long)v);
			return store_damaged(s, e, why);
		}
		rc = migrations[v](s, txn, e);
		if (rc != MC_OK)
			return rc;
	}
	return MC_OK;
}

/* What the schema text says: MC_OK with *v = version when this program
 * can use it (possibly after migrating), else an error. */
static enum mc_err
parse_schema(struct store *s, const MDB_val *val, int64_t *v, struct err *e)
{
	char buf[24];
	char why[64];

	if (val->mv_size == 0 || val->mv_size >= sizeof buf)
		return store_damaged(s, e, "its schema is unreadable");
	memcpy(buf, val->mv_data, val->mv_size);
	buf[val->mv_size] = '\0';
	if (parse_int64(buf, 0, INT_MAX, v) != 0) {
		snprintf(why, sizeof why, "schema '%.20s'", buf);
		return store_damaged(s, e, why);
	}
	if (*v > STORE_SCHEMA)
		return err_set(e, MC_ERR_IO, "state file %s was written by a newer moodlecord "
		    "(schema %lld; this one knows %d): upgrade moodlecord", s->path,
		    (long long)*v, STORE_SCHEMA);
	return MC_OK;
}

/* Create what a new file lacks, or migrate an old one, in one write txn. */
static enum mc_err
init_schema(struct store *s, struct err *e)
{
	MDB_dbi *dbis[] = { &s->meta, &s->events, &s->messages, &s->by_start };
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	char num[16];
	size_t i, entries;
	int64_t ver = STORE_SCHEMA;
	int rc, foreign;
	enum mc_err mrc;

	rc = store_txn_begin(s, 0, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "initialise it", e);
	rc = main_db_survey(txn, &entries, &foreign);
	if (rc != 0)
		goto lmdb_fail;
	if (foreign) {
		mdb_txn_abort(txn);
		return store_damaged(s, e, "it holds other databases");
	}
	for (i = 0; i < 4; i++) {
		rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, dbis[i]);
		if (rc != 0)
			goto lmdb_fail;
	}
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0) {
		mrc = parse_schema(s, &v, &ver, e);
		if (mrc == MC_OK && ver < STORE_SCHEMA)
			mrc = migrate(s, txn, ver, e);
		if (mrc != MC_OK) {
			mdb_txn_abort(txn);
			return mrc;
		}
	} else if (rc != MDB_NOTFOUND) {
		goto lmdb_fail;
	}
	if (rc == MDB_NOTFOUND || ver < STORE_SCHEMA) {
		snprintf(num, sizeof num, "%d", STORE_SCHEMA);
		v.mv_size = strlen(num);
		v.mv_data = num;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
		if (rc != 0)
			goto lmdb_fail;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "initialise it", e);
	s->schema = STORE_SCHEMA;
	return MC_OK;
lmdb_fail:
	mdb_txn_abort(txn);
	return store_lmdb_err(s, rc, "initialise it", e);
}

/* The usual path: a read txn opens the databases and checks the schema.
 * Falls back to init_schema when the file is new or old. */
enum mc_err
schema_open(struct store *s, struct err *e)
{
	MDB_dbi *dbis[] = { &s->meta, &s->events, &s->messages, &s->by_start };
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	size_t i, entries;
	int64_t ver;
	int rc, foreign;
	enum mc_err mrc;

	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		rc = main_db_survey(txn, &entries, &foreign);
		mdb_txn_abort(txn);
		if (rc != 0)
			return store_lmdb_err(s, rc, "read it", e);
		if (foreign)
			return store_damaged(s, e, "it holds other databases");
		if (s->rdonly && entries == 0)
			return err_set(e, MC_ERR_NOTFOUND, "no state yet in %s", s->path);
		if (s->rdonly)
			return store_damaged(s, e, "it has no meta database");
		return init_schema(s, e);
	}
	if (rc != 0)
		goto lmdb_fail;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		if (s->rdonly)
			return store_damaged(s, e, "it records no schema");
		return init_schema(s, e);
	}
	if (rc != 0)
		goto lmdb_fail;
	mrc = parse_schema(s, &v, &ver, e);
	if (mrc != MC_OK) {
		mdb_txn_abort(txn);
		return mrc;
	}
	if (ver < STORE_SCHEMA) {
		mdb_txn_abort(txn);
		if (s->rdonly)
			return err_set(e, MC_ERR_IO, "state file %s was written by an older "
			    "moodlecord (schema %lld): run `moodlecord sync` once to upgrade it",
			    s->path, (long long)ver);
		return init_schema(s, e);
	}
	for (i = 1; i < 4; i++) {
		rc = mdb_dbi_open(txn, store_db_names[i], 0, dbis[i]);
		if (rc == MDB_NOTFOUND) {
			char why[64];

			mdb_txn_abort(txn);
			snprintf(why, sizeof why, "it lacks the %s database", store_db_names[i]);
			return store_damaged(s, e, why);
		}
		if (rc != 0)
			goto lmdb_fail;
	}
	/* Committing keeps the database handles open for later txns. */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	s->schema = (int)ver;
	return MC_OK;
lmdb_fail:
	mdb_txn_abort(txn);
	return store_lmdb_err(s, rc, "read it", e);
}
