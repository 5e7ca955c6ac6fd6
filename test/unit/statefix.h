/* statefix: what the tests of the state file share (test_store,
 * test_protocol): a state path in a fresh directory per test (the cmocka
 * setup and teardown statefix_setup / statefix_teardown; *state is a
 * struct fixture), records whose every field is set from a number, and
 * the raw LMDB view another program would have.  Include after cmocka.h
 * and lmdb.h. */
#ifndef MC_TEST_STATEFIX_H
#define MC_TEST_STATEFIX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "store.h"
#include "tmpdir.h"

struct fixture {
	char dir[256];
	char path[300];
};

static int
statefix_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || tmpdir_make(f->dir, sizeof f->dir, "mcstore") != 0)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/state.mdb", f->dir);
	*state = f;
	return 0;
}

static int
statefix_teardown(void **state)
{
	struct fixture *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* A record whose every field is set from n. */
static void
make_record(struct record *r, int64_t id, int64_t start, int64_t n)
{
	char buf[128];

	memset(r, 0, sizeof *r);
	r->ev.id = id;
	r->ev.course_id = 100 + n;
	snprintf(buf, sizeof buf, "RM%lld", (long long)n);
	r->ev.course_short = strdup(buf);
	snprintf(buf, sizeof buf, "Réseaux « %lld » \"q\" \\ / ünïcödé", (long long)n);
	r->ev.course_name = strdup(buf);
	snprintf(buf, sizeof buf, "Conférence %lld\ttab\nline", (long long)n);
	r->ev.name = strdup(buf);
	r->ev.module = strdup("bigbluebuttonbn");
	r->ev.cmid = 500 + n;
	snprintf(buf, sizeof buf, "https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=%lld",
	    (long long)(500 + n));
	r->ev.url = strdup(buf);
	r->ev.site_name = strdup("Université");
	r->ev.start = start;
	r->ev.duration = 60 * n;
	r->ev.missing = n % 3;
	snprintf(r->msg.msg_id, sizeof r->msg.msg_id, "%lld", 1100000000000000000LL + n);
	snprintf(r->msg.hash, sizeof r->msg.hash, "%016llx",
	    0xfedcba9876543210ULL + (unsigned long long)n);
	if (n % 2)
		snprintf(r->msg.ping_id, sizeof r->msg.ping_id, "%lld", 1200000000000000000LL + n);
	r->msg.ping = (enum ping_state)(n % 4);
	r->msg.ping_at = 1700000000 + n;
}

static struct store *
open_ok(const char *path, int flags)
{
	struct store *s = NULL;
	struct err e = { 0 };
	enum mc_err rc = store_open(path, flags, &s, &e);

	if (rc != MC_OK)
		fail_msg("store_open %s: %d %s", path, rc, e.msg);
	return s;
}

static void
put_ok(struct store *s, int64_t id, int64_t start, int64_t n)
{
	struct record r;
	struct err e = { 0 };

	make_record(&r, id, start, n);
	if (store_put(s, &r, &e) != MC_OK)
		fail_msg("store_put: %s", e.msg);
	event_free(&r.ev);
}

/* Raw LMDB access, as another program (mdb_dump) would see the file. */
static MDB_env *
raw_open(const char *path, unsigned flags)
{
	MDB_env *env;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, path, MDB_NOSUBDIR | flags, 0600), 0);
	return env;
}

static size_t
raw_count(const char *path, const char *db)
{
	MDB_env *env = raw_open(path, MDB_RDONLY);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

#endif
