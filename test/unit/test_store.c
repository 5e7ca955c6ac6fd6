/* store: the LMDB state on real temporary files: round trips, windows,
 * map growth, schema and damage refusal, and a writer killed in the
 * middle of its transactions.  The shared ping fields: test_protocol.c. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "event.h"
#include "protocol.h"
#include "store.h"
#include "store_internal.h"
#include "statefix.h"

static void
assert_record_equal(const struct record *a, const struct record *b)
{
	assert_int_equal(a->ev.id, b->ev.id);
	assert_int_equal(a->ev.course_id, b->ev.course_id);
	assert_string_equal(a->ev.course_short, b->ev.course_short);
	assert_string_equal(a->ev.course_name, b->ev.course_name);
	assert_string_equal(a->ev.name, b->ev.name);
	assert_string_equal(a->ev.module, b->ev.module);
	assert_int_equal(a->ev.cmid, b->ev.cmid);
	assert_string_equal(a->ev.url, b->ev.url);
	assert_string_equal(a->ev.site_name, b->ev.site_name);
	assert_int_equal(a->ev.start, b->ev.start);
	assert_int_equal(a->ev.duration, b->ev.duration);
	assert_int_equal(a->ev.missing, b->ev.missing);
	assert_string_equal(a->msg.msg_id, b->msg.msg_id);
	assert_string_equal(a->msg.hash, b->msg.hash);
	assert_string_equal(a->msg.ping_id, b->msg.ping_id);
	assert_int_equal(a->msg.ping, b->msg.ping);
	assert_int_equal(a->msg.ping_at, b->msg.ping_at);
}

static void
raw_put(const char *path, const char *db, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_env *env = raw_open(path, 0);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { kn, (void *)k }, val = { vn, (void *)v };

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
	if (v == NULL)
		assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
	else
		assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* raw value of key in db, NUL-terminated; NULL when absent. */
static char *
raw_get(const char *path, const char *db, const void *k, size_t kn)
{
	MDB_env *env = raw_open(path, MDB_RDONLY);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { kn, (void *)k }, val;
	char *out = NULL;

	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (mdb_get(txn, dbi, &key, &val) == 0)
		out = strndup(val.mv_data, val.mv_size);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return out;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long len;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	*n = fread(buf, 1, (size_t)len, fp);
	assert_int_equal(*n, (size_t)len);
	fclose(fp);
	return buf;
}

static void
spit(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- round trips ------------------------------------------------------- */

static void
test_create_modes(void **state)
{
	struct fixture *f = *state;
	char path[400], lockp[420];
	struct stat st;
	struct store *s;

	snprintf(path, sizeof path, "%s/a/b/state.mdb", f->dir);
	snprintf(lockp, sizeof lockp, "%s-lock", path);
	s = open_ok(path, STORE_CREATE);
	assert_int_equal(store_schema(s), STORE_SCHEMA);
	assert_string_equal(store_path(s), path);
	store_close(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(lockp, &st), 0);
	snprintf(path, sizeof path, "%s/a", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof path, "%s/a/b", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void
test_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct record in[3], got;
	struct record_list all = { 0 };
	struct err e = { 0 };
	struct store *s = open_ok(f->path, STORE_CREATE);
	int i;

	for (i = 0; i < 3; i++) {
		make_record(&in[i], 30 - i, 1800000000 + i, i + 1);
		assert_int_equal(store_put(s, &in[i], &e), MC_OK);
	}
	/* An empty message and an empty string survive too. */
	free(in[2].ev.course_short);
	in[2].ev.course_short = strdup("");
	memset(&in[2].msg, 0, sizeof in[2].msg);
	assert_int_equal(store_put(s, &in[2], &e), MC_OK);
	store_close(s);

	s = open_ok(f->path, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(store_get(s, in[i].ev.id, &got, &e), MC_OK);
		assert_record_equal(&got, &in[i]);
		event_free(&got.ev);
	}
	assert_int_equal(store_get(s, 99, &got, &e), MC_ERR_NOTFOUND);
	assert_int_equal(store_load_all(s, &all, &e), MC_OK);
	assert_int_equal(all.n, 3);
	for (i = 0; i < 3; i++)
		assert_record_equal(&all.v[i], &in[i]);
	record_list_free(&all);
	store_close(s);
	for (i = 0; i < 3; i++)
		event_free(&in[i].ev);
}

/* The stored bytes are what store.h documents (what mdb_dump shows). */
static void
test_encoding(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r;
	struct err e = { 0 };
	unsigned char k[8] = { 0, 0, 0, 0, 0, 0, 0x01, 0x02 };
	unsigned char sk[16] = { 0, 0, 0, 0, 0x6b, 0x49, 0xd2, 0x00, 0, 0, 0, 0, 0, 0, 0x01, 0x02 };
	char *v, *json;

	make_record(&r, 0x102, 1800000000, 3);
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	store_close(s);
	v = raw_get(f->path, "messages", k, 8);
	assert_string_equal(v, "{\"msg_id\":\"1100000000000000003\",\"hash\":\"fedcba9876543213\","
	    "\"ping_id\":\"1200000000000000003\",\"ping\":\"done\",\"ping_at\":1700000003,"
	    "\"ping_offset\":0,\"ping_sent_at\":0,\"ping_old\":\"\",\"route\":\"\",\"thread_id\":\"\"}");
	free(v);
	v = raw_get(f->path, "events", k, 8);
	json = event_to_json(&r.ev);
	assert_string_equal(v, json);
	free(json);
	free(v);
	v = raw_get(f->path, "by_start", sk, 16);
	assert_non_null(v);
	assert_string_equal(v, "");
	free(v);
	v = raw_get(f->path, "meta", "schema", 6);
	assert_string_equal(v, "2");
	free(v);
	event_free(&r.ev);
}

static void
test_window(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record_list l = { 0 };
	struct err e = { 0 };
	static const struct { int64_t from, to; size_t n; int64_t ids[5]; } q[] = {
		{ 0, 1000, 5, { 1, 7, 9, 2, 3 } },
		{ 100, 200, 1, { 1 } },
		{ 101, 200, 0, { 0 } },
		{ 200, 300, 3, { 7, 9, 2 } },
		{ 200, 201, 2, { 7, 9 } },
		{ 201, 300, 1, { 2 } },
		{ 300, 301, 1, { 3 } },
		{ 301, 100000, 0, { 0 } },
		{ -50, 101, 1, { 1 } },
		{ 250, 250, 0, { 0 } },
		{ 300, 100, 0, { 0 } },
		{ 0, INT64_MAX, 5, { 1, 7, 9, 2, 3 } },
	};
	size_t i, j;

	put_ok(s, 3, 300, 1);
	put_ok(s, 9, 200, 2);
	put_ok(s, 1, 100, 3);
	put_ok(s, 2, 299, 4);
	put_ok(s, 7, 200, 5);
	for (i = 0; i < sizeof q / sizeof q[0]; i++) {
		assert_int_equal(store_load_window(s, q[i].from, q[i].to, &l, &e), MC_OK);
		if (l.n != q[i].n)
			fail_msg("window [%lld, %lld): %zu records, want %zu", (long long)q[i].from,
			    (long long)q[i].to, l.n, q[i].n);
		for (j = 0; j < l.n; j++)
			assert_int_equal(l.v[j].ev.id, q[i].ids[j]);
		record_list_free(&l);
	}
	/* Appends to what the list holds. */
	assert_int_equal(store_load_window(s, 100, 101, &l, &e), MC_OK);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.v[0].ev.id, 1);
	assert_int_equal(l.v[1].ev.id, 1);
	assert_int_equal(l.v[5].ev.id, 3);
	record_list_free(&l);
	store_close(s);
}

static void
test_put_moves_start(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record_list l = { 0 };
	struct err e = { 0 };

	put_ok(s, 5, 100, 1);
	put_ok(s, 6, 100, 2);
	put_ok(s, 5, 500, 3);
	assert_int_equal(store_load_window(s, 100, 101, &l, &e), MC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].ev.id, 6);
	record_list_free(&l);
	assert_int_equal(store_load_window(s, 500, 501, &l, &e), MC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].ev.id, 5);
	assert_int_equal(l.v[0].ev.course_id, 103);
	record_list_free(&l);
	/* Same start again: nothing moves, nothing doubles. */
	put_ok(s, 5, 500, 4);
	store_close(s);
	assert_int_equal(raw_count(f->path, "by_start"), 2);
	assert_int_equal(raw_count(f->path, "events"), 2);
	assert_int_equal(raw_count(f->path, "messages"), 2);
}

static void
test_put_many_and_negative(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r[3];
	struct record_list l = { 0 };
	struct err e = { 0 };
	int i;

	for (i = 0; i < 3; i++)
		make_record(&r[i], i + 1, 1000 + i, i);
	assert_int_equal(store_put_many(s, r, 3, &e), MC_OK);
	assert_int_equal(store_put_many(s, r, 0, &e), MC_OK);
	/* One bad record: none of the batch is written. */
	r[0].ev.start = 5000;
	r[2].ev.start = -1;
	assert_int_equal(store_put_many(s, r, 3, &e), MC_ERR_DATA);
	assert_non_null(strstr(e.msg, "negative"));
	r[2].ev.start = 1002;
	r[1].ev.id = -4;
	assert_int_equal(store_put(s, &r[1], &e), MC_ERR_DATA);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].ev.start, 1000);
	record_list_free(&l);
	store_close(s);
	for (i = 0; i < 3; i++)
		event_free(&r[i].ev);
}

static void
test_remove(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record_list l = { 0 };
	struct record got;
	struct err e = { 0 };

	put_ok(s, 1, 100, 1);
	put_ok(s, 2, 200, 2);
	assert_int_equal(store_remove(s, 1, &e), MC_OK);
	assert_int_equal(store_remove(s, 1, &e), MC_OK);
	assert_int_equal(store_remove(s, 77, &e), MC_OK);
	assert_int_equal(store_get(s, 1, &got, &e), MC_ERR_NOTFOUND);
	assert_int_equal(store_load_window(s, 0, 1000, &l, &e), MC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].ev.id, 2);
	record_list_free(&l);
	store_close(s);
	assert_int_equal(raw_count(f->path, "events"), 1);
	assert_int_equal(raw_count(f->path, "messages"), 1);
	assert_int_equal(raw_count(f->path, "by_start"), 1);
}

static void
test_meta(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct err e = { 0 };
	char *v = (char *)1;

	assert_int_equal(store_meta_get(s, "webhook_id", &v, &e), MC_OK);
	assert_null(v);
	v = (char *)1;
	assert_int_equal(store_webhook_get(s, &v, &e), MC_OK);
	assert_null(v);
	assert_int_equal(store_meta_get(s, "schema", &v, &e), MC_OK);
	assert_string_equal(v, "2");
	free(v);
	assert_int_equal(store_meta_put(s, "webhook_id", "123456789012345678", &e), MC_OK);
	assert_int_equal(store_meta_put(s, "note", "1800000000", &e), MC_OK);
	assert_int_equal(store_meta_put(s, "note", "1800000600", &e), MC_OK);
	assert_int_equal(store_meta_put(s, "empty", "", &e), MC_OK);
	assert_int_equal(store_meta_put(s, "", "x", &e), MC_ERR_DATA);
	store_close(s);
	s = open_ok(f->path, STORE_RDONLY);
	assert_int_equal(store_meta_get(s, "webhook_id", &v, &e), MC_OK);
	assert_string_equal(v, "123456789012345678");
	free(v);
	assert_int_equal(store_meta_get(s, "note", &v, &e), MC_OK);
	assert_string_equal(v, "1800000600");
	free(v);
	/* cmd's way to the webhook id: the same meta key */
	assert_int_equal(store_webhook_get(s, &v, &e), MC_OK);
	assert_string_equal(v, "123456789012345678");
	free(v);
	assert_int_equal(store_webhook_put(s, "1", &e), MC_ERR_IO);   /* read-only */
	assert_int_equal(store_meta_get(s, "empty", &v, &e), MC_OK);
	assert_string_equal(v, "");
	free(v);
	/* Read-only: writes refused. */
	assert_int_equal(store_meta_put(s, "x", "y", &e), MC_ERR_IO);
	store_close(s);
}

static void
test_check_site(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct err e = { 0 };
	char *v, want[1024];

	store_close(s);
	/* Read-only: nothing is recorded. */
	s = open_ok(f->path, STORE_RDONLY);
	assert_int_equal(store_check_site(s, "https://a.example.edu", &e), MC_OK);
	store_close(s);
	s = open_ok(f->path, 0);
	assert_int_equal(store_meta_get(s, "site", &v, &e), MC_OK);
	assert_null(v);
	assert_int_equal(store_check_site(s, "https://a.example.edu", &e), MC_OK);
	assert_int_equal(store_meta_get(s, "site", &v, &e), MC_OK);
	assert_string_equal(v, "https://a.example.edu");
	free(v);
	assert_int_equal(store_check_site(s, "https://a.example.edu", &e), MC_OK);
	assert_int_equal(store_check_site(s, "https://b.example.edu", &e), MC_ERR_CONFIG);
	snprintf(want, sizeof want, "state file %s belongs to https://a.example.edu, not "
	    "https://b.example.edu: set [state] path to a new file, or remove %s to start afresh",
	    f->path, f->path);
	assert_string_equal(e.msg, want);
	store_close(s);
	s = open_ok(f->path, STORE_RDONLY);
	assert_int_equal(store_check_site(s, "https://b.example.edu", &e), MC_ERR_CONFIG);
	store_close(s);
}

/* Strings of every kind survive the round trip. */
static void
test_strings(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r, got;
	struct err e = { 0 };
	char ctl[40];
	int i;

	for (i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = '\0';
	make_record(&r, 1, 100, 1);
	free(r.ev.name);
	r.ev.name = strdup(ctl);
	free(r.ev.course_name);
	r.ev.course_name = strdup("\"quoted\" back\\slash /slash/ \x7f é € 😀 \\u0041");
	free(r.ev.url);
	r.ev.url = strdup("");
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(store_get(s, 1, &got, &e), MC_OK);
	assert_record_equal(&got, &r);
	event_free(&got.ev);
	event_free(&r.ev);
	store_close(s);
}

/* The fast reader of stored JSON and json-c read the same values: texts
 * in store's own form and in forms only json-c reads. */
static void
test_stored_json_forms(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {
		/* store's form, with every escape */
		"{\"id\":1,\"course_id\":-2,\"course_short\":\"a\\u00e9\\ud83d\\ude00\\/\\\"\\\\\","
		"\"course_name\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\",\"name\":\"n\",\"module\":\"m\","
		"\"cmid\":0,\"url\":\"u\",\"site_name\":\"\",\"start\":9223372036854775807,"
		"\"duration\":-9223372036854775808,\"missing\":3}",
		/* keys in another order */
		"{\"missing\":3,\"id\":1,\"course_short\":\"x\",\"course_id\":2,\"course_name\":\"c\","
		"\"name\":\"n\",\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\","
		"\"start\":5,\"duration\":6}",
		/* spaces, an unknown key, a duplicate: json-c's business */
		"{ \"id\": 1, \"course_id\": 2, \"course_short\": \"x\", \"course_name\": \"c\", "
		"\"name\": \"n\", \"module\": \"m\", \"cmid\": 0, \"url\": \"u\", \"site_name\": \"s\", "
		"\"start\": 5, \"duration\": 6, \"missing\": 0 }",
		"{\"id\":1,\"course_id\":2,\"course_short\":\"x\",\"course_name\":\"c\",\"name\":\"n\","
		"\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,\"duration\":6,"
		"\"missing\":0,\"later\":\"field\"}",
		"{\"id\":1,\"course_id\":2,\"course_short\":\"x\",\"course_name\":\"c\",\"name\":\"n\","
		"\"name\":\"second\",\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\","
		"\"start\":5,\"duration\":6,\"missing\":0}",
		/* a lone surrogate, a number too big, a missing field, a trailing comma */
		"{\"id\":1,\"course_id\":2,\"course_short\":\"\\ud800\",\"course_name\":\"c\",\"name\":\"n\","
		"\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,\"duration\":6,"
		"\"missing\":0}",
		"{\"id\":1,\"course_id\":92233720368547758070,\"course_short\":\"x\",\"course_name\":\"c\","
		"\"name\":\"n\",\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,"
		"\"duration\":6,\"missing\":0}",
		"{\"id\":1,\"course_id\":2,\"course_short\":\"x\",\"course_name\":\"c\",\"name\":\"n\","
		"\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,\"duration\":6}",
		"{\"id\":1,\"course_id\":2,\"course_short\":\"x\",\"course_name\":\"c\",\"name\":\"n\","
		"\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,\"duration\":6,"
		"\"missing\":0,}",
		"{\"id\":1}",
		"",
		/* bytes that are not UTF-8 (a file edited by hand), both forms */
		"{\"id\":1,\"course_id\":2,\"course_short\":\"x\",\"course_name\":\"c\",\"name\":\"bad\xff\","
		"\"module\":\"m\",\"cmid\":0,\"url\":\"u\",\"site_name\":\"s\",\"start\":5,\"duration\":6,"
		"\"missing\":0}",
		"{ \"id\": 1, \"course_id\": 2, \"course_short\": \"x\", \"course_name\": \"c\", "
		"\"name\": \"bad\xff\", \"module\": \"m\", \"cmid\": 0, \"url\": \"u\", \"site_name\": \"s\", "
		"\"start\": 5, \"duration\": 6, \"missing\": 0 }",
	};
	unsigned char k[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record got;
	struct event want;
	struct err e = { 0 };
	enum mc_err rc, wrc;
	size_t i;

	store_close(s);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		raw_put(f->path, "events", k, 8, texts[i], strlen(texts[i]));
		s = open_ok(f->path, 0);
		rc = store_get(s, 1, &got, &e);
		store_close(s);
		wrc = event_from_json(texts[i], strlen(texts[i]), &want, NULL);
		if ((rc == MC_OK) != (wrc == MC_OK))
			fail_msg("text %zu: store %d, json-c %d", i, rc, wrc);
		if (rc != MC_OK) {
			assert_int_equal(rc, MC_ERR_IO);
			assert_non_null(strstr(e.msg, "(the record of conference 1 is unreadable)"));
			continue;
		}
		assert_int_equal(got.ev.id, want.id);
		assert_int_equal(got.ev.course_id, want.course_id);
		assert_string_equal(got.ev.course_short, want.course_short);
		assert_string_equal(got.ev.course_name, want.course_name);
		assert_string_equal(got.ev.name, want.name);
		assert_string_equal(got.ev.module, want.module);
		assert_int_equal(got.ev.cmid, want.cmid);
		assert_string_equal(got.ev.url, want.url);
		assert_string_equal(got.ev.site_name, want.site_name);
		assert_int_equal(got.ev.start, want.start);
		assert_int_equal(got.ev.duration, want.duration);
		assert_int_equal(got.ev.missing, want.missing);
		/* struct event promises valid UTF-8, whatever the file held */
		assert_true(utf8_valid(got.ev.name, strlen(got.ev.name)));
		if (strstr(texts[i], "bad\xff") != NULL)
			assert_string_equal(got.ev.name, "bad\xef\xbf\xbd");
		if (i == 0) {
			assert_string_equal(got.ev.course_short, "aé😀/\"\\");
			assert_string_equal(got.ev.course_name, "\b\f\n\r\t\x01\x1f");
		}
		event_free(&got.ev);
		event_free(&want);
	}
}

/* lmdb-utils read what store writes, and what they copy store reads. */
static void
test_lmdb_tools(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record in[3];
	struct record_list l = { 0 };
	struct err e = { 0 };
	char cmd[2400], line[512], copy[400];
	int i, found = 0;
	FILE *p;

	for (i = 0; i < 3; i++) {
		make_record(&in[i], i + 1, 1000 - i, i);
		assert_int_equal(store_put(s, &in[i], &e), MC_OK);
	}
	assert_int_equal(store_meta_put(s, "site", "https://a.example.edu", &e), MC_OK);
	store_close(s);
	snprintf(cmd, sizeof cmd, "mdb_stat -n -a '%s'", f->path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof line, p) != NULL)
		if (strstr(line, "Status of by_start") || strstr(line, "Entries: 3"))
			found++;
	assert_int_equal(pclose(p), 0);
	assert_true(found >= 4);   /* by_start, and 3 entries in by_start, events, messages */
	snprintf(copy, sizeof copy, "%s/copy.mdb", f->dir);
	snprintf(cmd, sizeof cmd, "mdb_dump -n -a '%s' | grep -v '^db_pagesize=' > '%s/dump' && "
	    "mdb_load -n -f '%s/dump' '%s'", f->path, f->dir, f->dir, copy);
	assert_int_equal(system(cmd), 0);
	s = open_ok(copy, STORE_RDONLY);
	assert_int_equal(store_check_site(s, "https://a.example.edu", &e), MC_OK);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 3);
	for (i = 0; i < 3; i++) {
		assert_record_equal(&l.v[i], &in[2 - i]);
		event_free(&in[2 - i].ev);
	}
	record_list_free(&l);
	store_close(s);
}

/* ---- growth ------------------------------------------------------------ */

static void
test_growth(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct record r;
	struct record_list l = { 0 };
	struct err e = { 0 };
	size_t initial;
	char big[3000];
	int i;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(store_open_ex(f->path, STORE_CREATE, 64 * 1024, &s, &e), MC_OK);
	initial = store_map_size(s);
	assert_true(initial <= 64 * 1024);
	for (i = 1; i <= 400; i++) {
		make_record(&r, i, 1000 + i, i);
		free(r.ev.course_name);
		r.ev.course_name = strdup(big);
		if (store_put(s, &r, &e) != MC_OK)
			fail_msg("put %d: %s", i, e.msg);
		event_free(&r.ev);
	}
	assert_true(store_map_size(s) >= 1024 * 1024);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 400);
	assert_string_equal(l.v[399].ev.course_name, big);
	record_list_free(&l);
	store_close(s);
	/* The grown size is the file's now. */
	s = open_ok(f->path, 0);
	assert_true(store_map_size(s) >= 1024 * 1024);
	store_close(s);
}

/* What a walk saw. */
struct seen {
	int64_t ids[16];
	char msg[16][32];
	size_t n, stop_after;
};

static int
see_record(void *arg, const struct record *r)
{
	struct seen *w = arg;

	assert_true(w->n < 16);
	w->ids[w->n] = r->ev.id;
	/* the whole record, decoded */
	assert_non_null(r->ev.name);
	snprintf(w->msg[w->n], sizeof w->msg[w->n], "%s", r->msg.msg_id);
	w->n++;
	return w->stop_after != 0 && w->n == w->stop_after;
}

static int
see_message(void *arg, int64_t id, const struct message *m)
{
	struct seen *w = arg;

	assert_true(w->n < 16);
	w->ids[w->n] = id;
	snprintf(w->msg[w->n], sizeof w->msg[w->n], "%s", m->msg_id);
	w->n++;
	return w->stop_after != 0 && w->n == w->stop_after;
}

/* Walks go by id (not by start), from an id, and stop when told; the
 * message walk sees only the conferences that have message data. */
static void
test_walk(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct err e = { 0 };
	struct seen w = { 0 };
	static const int64_t by_id[] = { 1, 2, 3, 7, 9 };
	size_t i;

	put_ok(s, 3, 100, 1);
	put_ok(s, 9, 50, 2);
	put_ok(s, 1, 400, 3);
	put_ok(s, 2, 10, 4);
	put_ok(s, 7, 200, 5);
	assert_int_equal(store_walk(s, 0, see_record, &w, &e), MC_OK);
	assert_int_equal(w.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(w.ids[i], by_id[i]);
	assert_string_equal(w.msg[0], "1100000000000000003");
	memset(&w, 0, sizeof w);
	assert_int_equal(store_walk(s, 4, see_record, &w, &e), MC_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], 7);
	assert_int_equal(w.ids[1], 9);
	memset(&w, 0, sizeof w);
	w.stop_after = 2;
	assert_int_equal(store_walk(s, 2, see_record, &w, &e), MC_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[1], 3);
	memset(&w, 0, sizeof w);
	assert_int_equal(store_walk(s, 10, see_record, &w, &e), MC_OK);
	assert_int_equal(w.n, 0);

	/* 7 loses its message data: the message walk skips it */
	{
		MDB_txn *txn;
		unsigned char kb[8];
		MDB_val k = { 8, kb };

		assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
		store_key_id(kb, 7);
		assert_int_equal(mdb_del(txn, s->messages, &k, NULL), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	memset(&w, 0, sizeof w);
	assert_int_equal(store_walk_messages(s, 0, see_message, &w, &e), MC_OK);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.ids[2], 3);
	assert_int_equal(w.ids[3], 9);
	assert_string_equal(w.msg[3], "1100000000000000002");
	memset(&w, 0, sizeof w);
	w.stop_after = 1;
	assert_int_equal(store_walk_messages(s, 3, see_message, &w, &e), MC_OK);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.ids[0], 3);
	/* the record walk still gives 7, without message data */
	memset(&w, 0, sizeof w);
	assert_int_equal(store_walk(s, 7, see_record, &w, &e), MC_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], 7);
	assert_string_equal(w.msg[0], "");
	store_close(s);
}

/* KiB of the state file's mapping resident in this process (smaps). */
static long
map_resident_kib(const char *path)
{
	struct stat sb;
	char line[512];
	FILE *fp;
	long kib = 0;
	int ours = 0;

	if (stat(path, &sb) != 0)
		return -1;
	fp = fopen("/proc/self/smaps", "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		char perms[8];
		long v;

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min,
		    &ino) == 7)
			ours = ino == (unsigned long)sb.st_ino;
		else if (ours && sscanf(line, "Rss: %ld kB", &v) == 1)
			kib += v;
	}
	fclose(fp);
	return kib;
}

static int
count_record(void *arg, const struct record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return 0;
}

/* A walk over a file of many megabytes, and many commits, leave little of
 * the file's map counted in the process's memory: the pages read are
 * given back as the walk goes. */
static void
test_walk_gives_pages_back(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record_list l = { 0 };
	struct record *many = calloc(200, sizeof *many);
	struct err e = { 0 };
	struct stat sb;
	size_t n = 0, i;
	int64_t id = 1;
	long kib;
	int k;

	/* some 8 MB of conferences, written 200 to a transaction */
	for (k = 0; k < 40; k++) {
		for (i = 0; i < 200; i++, id++)
			make_record(&many[i], id, 1000 + id, id);
		assert_int_equal(store_put_many(s, many, 200, &e), MC_OK);
		for (i = 0; i < 200; i++)
			event_free(&many[i].ev);
	}
	free(many);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(sb.st_size > 4 * 1024 * 1024);
	kib = map_resident_kib(f->path);
	if (kib < 0)
		skip();  /* no /proc: nothing to measure */
	/* reading it all through the map counts the file (the load keeps
	 * every record; it is not one of the walks) ... */
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 8000);
	record_list_free(&l);
	assert_true(map_resident_kib(f->path) > 2048);
	/* ... a walk leaves little */
	assert_int_equal(store_walk(s, 0, count_record, &n, &e), MC_OK);
	assert_int_equal(n, 8000);
	kib = map_resident_kib(f->path);
	if (kib > 256)
		fail_msg("%ld KiB of the map left resident after a walk", kib);
	/* so do many small commits, each reading a few pages */
	for (k = 0; k < 1000; k++)
		put_ok(s, 8001 + k, 500, k);
	kib = map_resident_kib(f->path);
	if (kib > 2048)
		fail_msg("%ld KiB of the map resident after 1000 commits", kib);
	store_close(s);
}

/* Another process grows the map while this one has the file open. */
static void
test_growth_by_other(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct record_list l = { 0 };
	struct err e = { 0 };
	pid_t pid;
	int st;

	assert_int_equal(store_open_ex(f->path, STORE_CREATE, 64 * 1024, &s, &e), MC_OK);
	put_ok(s, 1, 100, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs;
		struct err ce;
		struct record r;
		int i;

		if (store_open(f->path, 0, &cs, &ce) != MC_OK)
			_exit(3);
		for (i = 2; i <= 600; i++) {
			make_record(&r, i, 100 + i, i);
			if (store_put(cs, &r, &ce) != MC_OK)
				_exit(4);
			event_free(&r.ev);
		}
		store_close(cs);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 600);
	record_list_free(&l);
	put_ok(s, 601, 5000, 3);
	assert_true(store_map_size(s) > 64 * 1024);
	store_close(s);
}

/* ---- schema and damage ------------------------------------------------- */

static void
test_schema_newer(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct err e = { 0 };
	char want[1024], *before, *after;
	size_t n1, n2;
	int flags[] = { 0, STORE_RDONLY, STORE_CREATE };
	size_t i;

	put_ok(s, 1, 100, 1);
	store_close(s);
	raw_put(f->path, "meta", "schema", 6, "99", 2);
	before = slurp(f->path, &n1);
	snprintf(want, sizeof want, "state file %s was written by a newer moodlecord (schema 99; "
	    "this one knows 2): upgrade moodlecord", f->path);
	for (i = 0; i < 3; i++) {
		s = (struct store *)1;
		assert_int_equal(store_open(f->path, flags[i], &s, &e), MC_ERR_IO);
		assert_null(s);
		assert_string_equal(e.msg, want);
	}
	after = slurp(f->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);

	raw_put(f->path, "meta", "schema", 6, "one", 3);
	assert_int_equal(store_open(f->path, 0, &s, &e), MC_ERR_IO);
	assert_non_null(strstr(e.msg, "is damaged or not a moodlecord state (schema 'one')"));

	/* No schema: a read-write open writes it. */
	raw_put(f->path, "meta", "schema", 6, NULL, 0);
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_IO);
	s = open_ok(f->path, 0);
	assert_int_equal(store_schema(s), STORE_SCHEMA);
	store_close(s);
	before = raw_get(f->path, "meta", "schema", 6);
	assert_string_equal(before, "2");
	free(before);
	assert_int_equal(raw_count(f->path, "events"), 1);
}

/* An LMDB file that is not ours, and one that LMDB made but holds nothing. */
static void
test_foreign_and_blank(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct err e = { 0 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char *before, *after;
	size_t n1, n2;

	env = raw_open(f->path, 0);
	mdb_env_close(env);
	/* Blank: read-only sees no state, read-write initialises. */
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_NOTFOUND);
	s = open_ok(f->path, 0);
	store_close(s);
	assert_int_equal(raw_count(f->path, "events"), 0);

	/* Ours with another database beside: still ours. */
	raw_put(f->path, "mail", "k", 1, "v", 1);
	s = open_ok(f->path, 0);
	store_close(s);

	/* Another program's named database and no meta: not ours. */
	unlink(f->path);
	raw_put(f->path, "mail", "k", 1, "v", 1);
	before = slurp(f->path, &n1);
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_IO);
	assert_non_null(strstr(e.msg, "(it holds other databases)"));
	assert_int_equal(store_open(f->path, 0, &s, &e), MC_ERR_IO);
	assert_non_null(strstr(e.msg, "(it holds other databases)"));
	after = slurp(f->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);

	/* Plain keys in the main database, no meta at all. */
	unlink(f->path);
	env = raw_open(f->path, 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &(MDB_val){ 3, "foo" }, &(MDB_val){ 3, "bar" }, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_IO);
	assert_int_equal(store_open(f->path, 0, &s, &e), MC_ERR_IO);
	assert_non_null(strstr(e.msg, "(it holds other databases)"));
}

/* A real state file's bytes, with some records. */
static char *
real_file(struct fixture *f, size_t *n)
{
	struct store *s = open_ok(f->path, STORE_CREATE);
	int i;

	for (i = 1; i <= 60; i++)
		put_ok(s, i, 1000 + i, i);
	store_close(s);
	return slurp(f->path, n);
}

/* Every way of opening refuses the file with one line and leaves it as
 * it was, bytes and modification time. */
static void
assert_refused(struct fixture *f, const char *why)
{
	int flags[] = { STORE_RDONLY, 0, STORE_CREATE };
	struct store *s;
	struct err e;
	struct stat st1, st2;
	char *before, *after, want[1024];
	size_t n1, n2, i;

	assert_int_equal(stat(f->path, &st1), 0);
	before = slurp(f->path, &n1);
	snprintf(want, sizeof want, "state file %s is damaged or not a moodlecord state (%s): "
	    "move it away to start afresh", f->path, why);
	for (i = 0; i < 3; i++) {
		memset(&e, 0, sizeof e);
		s = (struct store *)1;
		if (store_open(f->path, flags[i], &s, &e) != MC_ERR_IO)
			fail_msg("'%s' opened with flags %d", why, flags[i]);
		assert_null(s);
		if (why[0] == '*')
			assert_non_null(strstr(e.msg, "is damaged or not a moodlecord state ("));
		else
			assert_string_equal(e.msg, want);
		assert_null(strchr(e.msg, '\n'));
	}
	assert_int_equal(stat(f->path, &st2), 0);
	after = slurp(f->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_true(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
	    st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
	free(before);
	free(after);
}

/* Offsets in an LMDB meta page on this machine (see store.c). */
#define META_MAGIC   (sizeof(size_t) + 8)
#define META_VERSION (META_MAGIC + 4)
#define META_PSIZE   (META_MAGIC + 8 + sizeof(void *) + sizeof(size_t))

static void
test_damaged(void **state)
{
	struct fixture *f = *state;
	char *real, *buf, why[128];
	size_t n, psize, i;
	uint32_t u;

	real = real_file(f, &n);
	memcpy(&u, real + META_PSIZE, 4);
	psize = u;
	/* LMDB's page: the OS's, at most 32 KiB. */
	assert_int_equal(psize, (size_t)sysconf(_SC_PAGESIZE) > 32768 ? 32768 :
	    (size_t)sysconf(_SC_PAGESIZE));
	assert_true(n > 6 * psize);

	/* Random bytes. */
	buf = malloc(n);
	srand(42);
	for (i = 0; i < n; i++)
		buf[i] = (char)(rand() & 0xff);
	spit(f->path, buf, n);
	assert_refused(f, "not an LMDB file");
	/* Text. */
	spit(f->path, "[moodle]\nurl = https://x\n", 25);
	assert_refused(f, "too short to be an LMDB file");
	/* Truncated: in the data, after the first page, in the header. */
	spit(f->path, real, 4 * psize);
	snprintf(why, sizeof why, "truncated: %zu bytes, the data needs", 4 * psize);
	assert_refused(f, "*");
	spit(f->path, real, n - psize);
	assert_refused(f, "*");
	spit(f->path, real, psize + 100);
	snprintf(why, sizeof why, "truncated: %zu bytes", psize + 100);
	assert_refused(f, why);
	spit(f->path, real, 60);
	assert_refused(f, "too short to be an LMDB file");
	/* Wrong page size in the header: zero, not a power of two, too big. */
	memcpy(buf, real, n);
	memset(buf + META_PSIZE, 0, 4);
	spit(f->path, buf, n);
	assert_refused(f, "page size 0");
	u = 3000;
	memcpy(buf + META_PSIZE, &u, 4);
	spit(f->path, buf, n);
	assert_refused(f, "page size 3000");
	u = 1 << 20;
	memcpy(buf + META_PSIZE, &u, 4);
	spit(f->path, buf, n);
	assert_refused(f, "page size 1048576");
	/* The second meta page disagrees. */
	memcpy(buf, real, n);
	u = (uint32_t)psize * 2;
	memcpy(buf + psize + META_PSIZE, &u, 4);
	spit(f->path, buf, n);
	snprintf(why, sizeof why, "page sizes %zu and %zu", psize, psize * 2);
	assert_refused(f, why);
	/* Another LMDB data format, and a bad magic in the second page. */
	memcpy(buf, real, n);
	u = 2;
	memcpy(buf + META_VERSION, &u, 4);
	spit(f->path, buf, n);
	assert_refused(f, "LMDB data format 2, not 1");
	memcpy(buf, real, n);
	buf[psize + META_MAGIC] ^= 0x55;
	spit(f->path, buf, n);
	assert_refused(f, "not an LMDB file");
	/* Sound header, every data page zeroed: LMDB reports it corrupted. */
	memcpy(buf, real, n);
	memset(buf + 2 * psize, 0, n - 2 * psize);
	spit(f->path, buf, n);
	assert_refused(f, "*");
	/* A directory. */
	unlink(f->path);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(store_open(f->path, STORE_CREATE, &(struct store *){ NULL },
	    &(struct err){ 0 }), MC_ERR_IO);
	rmdir(f->path);
	free(buf);
	free(real);
}

/* Damage inside a record's text: the read that meets it says so. */
static void
test_damaged_record(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record_list l = { 0 };
	struct err e = { 0 };
	unsigned char k[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };

	put_ok(s, 1, 100, 1);
	put_ok(s, 2, 200, 2);
	store_close(s);
	raw_put(f->path, "messages", k, 8, "{\"msg_id\":1}", 12);
	s = open_ok(f->path, 0);
	assert_int_equal(store_load_window(s, 0, 150, &l, &e), MC_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(store_load_all(s, &l, &e), MC_ERR_IO);
	assert_int_equal(l.n, 1);   /* what was there stays, nothing added */
	assert_non_null(strstr(e.msg, "(the message data of conference 2 is unreadable)"));
	record_list_free(&l);
	store_close(s);
	raw_put(f->path, "events", k, 8, "not json", 8);
	s = open_ok(f->path, 0);
	assert_int_equal(store_load_window(s, 150, 250, &l, &e), MC_ERR_IO);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(e.msg, "(the record of conference 2 is unreadable)"));
	store_close(s);
}

/* An empty file holds nothing to lose: read-only it is "no state yet",
 * read-write LMDB initialises it. */
static void
test_empty_file(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct err e = { 0 };

	struct stat st;
	static const int modes[] = { STORE_RDONLY, 0, STORE_CREATE };
	size_t i;

	/* what a full disk or a crash leaves: refused, never taken as new
	 * (every conference would be posted and pinged again) */
	spit(f->path, "", 0);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(store_open(f->path, modes[i], &s, &e), MC_ERR_IO);
		assert_non_null(strstr(e.msg, f->path));
		assert_non_null(strstr(e.msg, "remove it to start afresh"));
		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
}

static void
test_rdonly(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct record_list l = { 0 };
	struct err e = { 0 };
	struct stat st1, st2;
	char lockp[400], *before, *after;
	size_t n1, n2;
	int won;

	snprintf(lockp, sizeof lockp, "%s-lock", f->path);
	/* Absent: neither file is created, with or without flags. */
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_NOTFOUND);
	assert_int_equal(store_open(f->path, 0, &s, &e), MC_ERR_NOTFOUND);
	assert_int_equal(store_open(f->path, STORE_RDONLY | STORE_CREATE, &s, &e), MC_ERR_NOTFOUND);
	assert_false(exists(f->path));
	assert_false(exists(lockp));

	s = open_ok(f->path, STORE_CREATE);
	put_ok(s, 1, 100, 4);
	store_close(s);
	/* Without a lock file, and with one: the data file stays as it was. */
	assert_int_equal(unlink(lockp), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(stat(f->path, &st1), 0);
		before = slurp(f->path, &n1);
		s = open_ok(f->path, STORE_RDONLY);
		assert_int_equal(store_load_all(s, &l, &e), MC_OK);
		assert_int_equal(l.n, 1);
		record_list_free(&l);
		assert_int_equal(store_put(s, &(struct record){ .ev = { .id = 2 } }, &e), MC_ERR_IO);
		assert_int_equal(protocol_ping_claim(s, 1, 5000, &won, &e), MC_ERR_IO);
		assert_int_equal(store_remove(s, 1, &e), MC_ERR_IO);
		store_close(s);
		assert_int_equal(exists(lockp), pass);
		assert_int_equal(stat(f->path, &st2), 0);
		after = slurp(f->path, &n2);
		assert_int_equal(n1, n2);
		assert_memory_equal(before, after, n1);
		assert_true(st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
		    st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
		free(before);
		free(after);
		/* Second pass: with the lock file a writer leaves. */
		s = open_ok(f->path, 0);
		store_close(s);
	}
	/* A lock file this user may not write: read without it. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(lockp, 0400), 0);
		s = open_ok(f->path, STORE_RDONLY);
		assert_int_equal(store_load_all(s, &l, &e), MC_OK);
		assert_int_equal(l.n, 1);
		record_list_free(&l);
		store_close(s);
		chmod(lockp, 0600);
	}
}

/* ---- a writer killed mid-transaction ----------------------------------- */

#define KILL_IDS 5

/* The batch of transaction c: every field of every record follows from c. */
static void
kill_batch(struct record r[KILL_IDS], int64_t c)
{
	char big[2500];
	int i;

	memset(big, 'a' + (int)(c % 26), sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (i = 0; i < KILL_IDS; i++) {
		make_record(&r[i], i + 1, 1000000 + c * 7 + i, c);
		free(r[i].ev.name);
		r[i].ev.name = strdup(big);   /* overflow pages */
	}
}

static void
check_consistent(struct fixture *f, int64_t at_least)
{
	struct store *s = open_ok(f->path, 0);
	struct record_list l = { 0 };
	struct record want[KILL_IDS];
	struct err e = { 0 };
	int64_t c;
	int i;

	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, KILL_IDS);
	c = l.v[0].ev.course_id - 100;
	if (c < at_least)
		fail_msg("transaction %lld was committed, the file holds %lld", (long long)at_least,
		    (long long)c);
	kill_batch(want, c);
	for (i = 0; i < KILL_IDS; i++) {
		assert_record_equal(&l.v[i], &want[i]);
		event_free(&want[i].ev);
	}
	record_list_free(&l);
	/* by_start holds exactly the starts of the events. */
	assert_int_equal(store_load_window(s, 1000000 + c * 7, 1000000 + c * 7 + KILL_IDS, &l, &e),
	    MC_OK);
	assert_int_equal(l.n, KILL_IDS);
	record_list_free(&l);
	/* The write lock left by the killed process is recovered. */
	kill_batch(want, c + 1);
	assert_int_equal(store_put_many(s, want, KILL_IDS, &e), MC_OK);
	for (i = 0; i < KILL_IDS; i++)
		event_free(&want[i].ev);
	store_close(s);
	assert_int_equal(raw_count(f->path, "by_start"), KILL_IDS);
	assert_int_equal(raw_count(f->path, "messages"), KILL_IDS);
}

static void
test_sigkill(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	struct record r[KILL_IDS];
	struct err e = { 0 };
	int round, i, p[2], st;
	int64_t c0 = 0, last;
	pid_t pid;

	s = open_ok(f->path, STORE_CREATE);
	kill_batch(r, 0);
	assert_int_equal(store_put_many(s, r, KILL_IDS, &e), MC_OK);
	for (i = 0; i < KILL_IDS; i++)
		event_free(&r[i].ev);
	store_close(s);
	for (round = 0; round < 6; round++) {
		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct store *cs;
			struct err ce;
			int64_t c;

			close(p[0]);
			if (store_open(f->path, 0, &cs, &ce) != MC_OK)
				_exit(3);
			for (c = c0 + 2; ; c++) {
				kill_batch(r, c);
				if (store_put_many(cs, r, KILL_IDS, &ce) != MC_OK)
					_exit(4);
				for (i = 0; i < KILL_IDS; i++)
					event_free(&r[i].ev);
				/* Committed: tell the parent. */
				if (write(p[1], &c, sizeof c) != sizeof c)
					_exit(5);
			}
		}
		close(p[1]);
		last = 0;
		/* Let it commit a few, then kill it at a varying moment. */
		for (i = 0; i < 3 + round; i++)
			assert_int_equal(read(p[0], &last, sizeof last), sizeof last);
		usleep((useconds_t)(round * 700));
		assert_int_equal(kill(pid, SIGKILL), 0);
		while (read(p[0], &c0, sizeof c0) == sizeof c0)
			last = c0;
		close(p[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		check_consistent(f, last);
		c0 = last + 2;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_modes, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_encoding, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_window, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_walk, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_walk_gives_pages_back, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_put_moves_start, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_put_many_and_negative, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_remove, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_meta, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_check_site, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_strings, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_stored_json_forms, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_lmdb_tools, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_growth, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_growth_by_other, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_schema_newer, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_and_blank, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_damaged, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_rdonly, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill, statefix_setup, statefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
