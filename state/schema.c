/* schema: the named databases of the state file, its schema version and
 * the steps that upgrade an older file in place.  See store.h for the
 * schema itself. */
#include "store_internal.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remind.h"

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

/* Schema 1 -> 2 (moodlecord 0.2): the message data gains the reminders
 * (ping_offset, ping_sent_at, ping_old), the route and the forum thread.
 * Schema 1 held one ping per conference: a ping sent counts as the
 * reminder of the offset it was sent at (remind_sent_offset), so no offset
 * at or above it is sent again; route and thread are none ([discord]'s
 * channel, which every schema-1 message went to). */
/* A JSON object from an LMDB value (not NUL-terminated); NULL when it
 * is none. */
static json_object *
json_of(const MDB_val *v)
{
	struct json_tokener *tok;
	json_object *o = NULL;

	if (v->mv_size > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, v->mv_data, (int)v->mv_size);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The schema-2 form of one schema-1 message value v of conference key k:
 * *out, a new string; or TXN_FAILED (e filled) or an LMDB code. */
static int
message_1_to_2(struct store *s, MDB_txn *txn, const MDB_val *k, const MDB_val *v, char **out,
    struct err *e)
{
	struct message m;
	struct event ev;
	MDB_val ek = *k, evv;
	json_object *o, *ping;
	int64_t offset = 0, sent_at = 0;
	const char *text;
	int rc;

	rc = mdb_get(txn, s->events, &ek, &evv);
	if (rc == MDB_NOTFOUND) {
		store_damaged(s, e, "a message of schema 1 has no conference");
		return TXN_FAILED;
	}
	if (rc != 0)
		return rc;
	if (event_from_json(evv.mv_data, evv.mv_size, &ev, e) != MC_OK) {
		store_damaged(s, e, "a conference of schema 1 is unreadable");
		return TXN_FAILED;
	}
	o = json_of(v);
	if (o != NULL && json_object_object_get_ex(o, "ping", &ping) &&
	    json_object_is_type(ping, json_type_string) &&
	    strcmp(json_object_get_string(ping), "sent") == 0) {
		sent_at = json_object_get_int64(json_object_object_get(o, "ping_at"));
		offset = remind_sent_offset(ev.start, sent_at);
	}
	event_free(&ev);
	if (o == NULL) {
		store_damaged(s, e, "a message of schema 1 is unreadable");
		return TXN_FAILED;
	}
	json_object_object_add(o, "ping_offset", json_object_new_int64(offset));
	json_object_object_add(o, "ping_sent_at", json_object_new_int64(sent_at));
	json_object_object_add(o, "ping_old", json_object_new_string(""));
	json_object_object_add(o, "route", json_object_new_string(""));
	json_object_object_add(o, "thread_id", json_object_new_string(""));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = message_from_json(text, strlen(text), &m, e) == MC_OK ? 0 : TXN_FAILED;
	json_object_put(o);
	if (rc != 0) {
		store_damaged(s, e, "a message of schema 1 is unreadable");
		return rc;
	}
	*out = message_to_json(&m);
	return 0;
}

/* Rewrite every message value in its schema-2 form: all read first,
 * then written (a put under a cursor that walks the same database may
 * move it). */
static enum mc_err
migrate_1_to_2(struct store *s, MDB_txn *txn, struct err *e)
{
	struct { unsigned char key[8]; char *json; } *todo = NULL;
	size_t n = 0, i;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, s->messages, &cur);
	if (rc != 0)
		return store_lmdb_err(s, rc, "upgrade it", e);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = TXN_FAILED;
			store_damaged(s, e, "a message key is not a conference id");
			break;
		}
		todo = xrealloc(todo, (n + 1) * sizeof *todo);
		memcpy(todo[n].key, k.mv_data, 8);
		rc = message_1_to_2(s, txn, &k, &v, &todo[n].json, e);
		if (rc != 0)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		k.mv_size = 8;
		k.mv_data = todo[i].key;
		v.mv_size = strlen(todo[i].json);
		v.mv_data = todo[i].json;
		rc = mdb_put(txn, s->messages, &k, &v, 0);
	}
	for (i = 0; i < n; i++)
		free(todo[i].json);
	free(todo);
	if (rc == TXN_FAILED)
		return e->kind;
	if (rc != 0)
		return store_lmdb_err(s, rc, "upgrade it", e);
	return MC_OK;
}

/* The migration steps: migrations[v] upgrades a file of schema v to
 * v + 1 inside the open write transaction (rewriting records as the new
 * codec wants them). */
typedef enum mc_err (*migration_step)(struct store *s, MDB_txn *txn, struct err *e);

static const migration_step migrations[STORE_SCHEMA] = {
	NULL,            /* schema 0 was never written */
	migrate_1_to_2,
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
	s->schema_found = ver;
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
