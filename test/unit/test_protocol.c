/* protocol: the states a conference's messages go through and which run
 * (sync or ping) may move them, on a real LMDB file in a temporary
 * directory, without the binary: every move of protocol.h, the stale-claim
 * boundary, what sync's writes keep of ping's, claims raced by several
 * processes, and sync's routes writing from several threads at once. */
#define _XOPEN_SOURCE 700
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "event.h"
#include "protocol.h"
#include "store.h"
#include "store_internal.h"
#include "statefix.h"

/* The message data of conference id as stored now. */
static struct message
msg_of(struct store *s, int64_t id)
{
	struct record got;
	struct err e = { 0 };

	if (store_get(s, id, &got, &e) != MC_OK)
		fail_msg("store_get %lld: %s", (long long)id, e.msg);
	event_free(&got.ev);
	return got.msg;
}

/* A conference of sync's with no ping yet. */
static void
put_fresh(struct store *s, int64_t id)
{
	struct record r;
	struct err e = { 0 };

	make_record(&r, id, 1000 + id, 4);   /* n = 4: ping none, no ping id */
	assert_int_equal(r.msg.ping, PING_NONE);
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	event_free(&r.ev);
}

/* The ping run's path: NONE -> CLAIMED -> SENT -> DONE, each move written
 * with its time and ping id, sync's fields untouched throughout. */
static void
test_ping_path(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct message m, before;
	struct err e = { 0 };
	int won = -1;

	put_fresh(s, 7);
	before = msg_of(s, 7);
	assert_int_equal(protocol_ping_claim(s, 7, 5000, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	m = msg_of(s, 7);
	assert_int_equal(m.ping, PING_CLAIMED);
	assert_int_equal(m.ping_at, 5000);
	assert_int_equal(protocol_ping_sent(s, 7, "1234567890123456789", 5, 5001, &e), MC_OK);
	m = msg_of(s, 7);
	assert_int_equal(m.ping, PING_SENT);
	assert_string_equal(m.ping_id, "1234567890123456789");
	assert_int_equal(m.ping_at, 5001);
	assert_int_equal(m.ping_sent_at, 5001);
	assert_int_equal(m.ping_offset, 5);
	assert_string_equal(m.ping_old, "");
	assert_int_equal(protocol_ping_done(s, 7, 9000, &e), MC_OK);
	m = msg_of(s, 7);
	assert_int_equal(m.ping, PING_DONE);
	assert_string_equal(m.ping_id, "1234567890123456789");
	assert_int_equal(m.ping_at, 9000);
	assert_string_equal(m.msg_id, before.msg_id);
	assert_string_equal(m.hash, before.hash);
	/* done: never claimed again, however late */
	assert_int_equal(protocol_ping_claim(s, 7, 9000 + 86400 * 365, &won, &e), MC_OK);
	assert_int_equal(won, 0);
	assert_int_equal(msg_of(s, 7).ping, PING_DONE);
	/* a conference that is not stored: NOTFOUND for every ping move */
	assert_int_equal(protocol_ping_claim(s, 8, 5000, &won, &e), MC_ERR_NOTFOUND);
	assert_int_equal(won, 0);
	assert_int_equal(protocol_ping_sent(s, 8, "1", 5, 5000, &e), MC_ERR_NOTFOUND);
	assert_int_equal(protocol_ping_unclaim(s, 8, &e), MC_ERR_NOTFOUND);
	assert_int_equal(protocol_ping_old_gone(s, 8, "1", &e), MC_ERR_NOTFOUND);
	assert_int_equal(protocol_ping_done(s, 8, 5000, &e), MC_ERR_NOTFOUND);
	store_close(s);
}

/* A claim given up goes back to what stood before it; a reminder posted
 * replaces the one standing, which waits in ping_old until deleted. */
static void
test_unclaim_and_replace(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct message m;
	struct err e = { 0 };
	int won;

	put_fresh(s, 1);
	assert_int_equal(protocol_ping_claim(s, 1, 5000, &won, &e), MC_OK);
	assert_int_equal(protocol_ping_unclaim(s, 1, &e), MC_OK);
	m = msg_of(s, 1);
	assert_int_equal(m.ping, PING_NONE);
	assert_string_equal(m.ping_id, "");
	assert_int_equal(protocol_ping_claim(s, 1, 5001, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(protocol_ping_sent(s, 1, "42", 60, 5002, &e), MC_OK);
	/* sent: the next reminder may be claimed at once */
	assert_int_equal(protocol_ping_claim(s, 1, 5003, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	m = msg_of(s, 1);
	assert_int_equal(m.ping, PING_CLAIMED);
	assert_string_equal(m.ping_id, "42");
	/* given up: the reminder standing is as it was */
	assert_int_equal(protocol_ping_unclaim(s, 1, &e), MC_OK);
	m = msg_of(s, 1);
	assert_int_equal(m.ping, PING_SENT);
	assert_string_equal(m.ping_id, "42");
	assert_int_equal(m.ping_at, 5002);
	assert_int_equal(m.ping_offset, 60);
	/* unclaim of what is not claimed: nothing */
	assert_int_equal(protocol_ping_unclaim(s, 1, &e), MC_OK);
	assert_int_equal(msg_of(s, 1).ping, PING_SENT);
	/* the next one replaces it */
	assert_int_equal(protocol_ping_claim(s, 1, 6000, &won, &e), MC_OK);
	assert_int_equal(protocol_ping_sent(s, 1, "43", 5, 6001, &e), MC_OK);
	m = msg_of(s, 1);
	assert_string_equal(m.ping_id, "43");
	assert_string_equal(m.ping_old, "42");
	assert_int_equal(m.ping_offset, 5);
	assert_int_equal(m.ping_sent_at, 6001);
	/* only the id recorded there is cleared */
	assert_int_equal(protocol_ping_old_gone(s, 1, "41", &e), MC_OK);
	assert_string_equal(msg_of(s, 1).ping_old, "42");
	assert_int_equal(protocol_ping_old_gone(s, 1, "42", &e), MC_OK);
	assert_string_equal(msg_of(s, 1).ping_old, "");
	store_close(s);
}

/* The stale-claim age, exactly at its boundary, in protocol_claimable and
 * in the stored claim alike. */
static void
test_stale_claim(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct message m = { .ping = PING_CLAIMED, .ping_at = 1000 };
	struct err e = { 0 };
	int won;

	assert_int_equal(protocol_claimable(&m, 1000 + PROTOCOL_STALE_CLAIM), 0);
	assert_int_equal(protocol_claimable(&m, 1000 + PROTOCOL_STALE_CLAIM + 1), 1);
	m.ping = PING_NONE;
	assert_int_equal(protocol_claimable(&m, 0), 1);
	m.ping = PING_SENT;
	assert_int_equal(protocol_claimable(&m, INT64_MAX), 1);
	m.ping = PING_DONE;
	assert_int_equal(protocol_claimable(&m, INT64_MAX), 0);
	/* a hand-edited file: no overflow either way */
	m.ping = PING_CLAIMED;
	m.ping_at = INT64_MAX;
	assert_int_equal(protocol_claimable(&m, INT64_MAX), 0);
	assert_int_equal(protocol_claimable(&m, INT64_MIN), 0);
	m.ping_at = INT64_MIN;
	assert_int_equal(protocol_claimable(&m, 1000), 1);
	assert_int_equal(protocol_claimable(&m, INT64_MIN), 0);

	put_fresh(s, 3);
	assert_int_equal(protocol_ping_claim(s, 3, 1000, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(protocol_ping_claim(s, 3, 1000 + PROTOCOL_STALE_CLAIM, &won, &e), MC_OK);
	assert_int_equal(won, 0);
	assert_int_equal(msg_of(s, 3).ping_at, 1000);
	assert_int_equal(protocol_ping_claim(s, 3, 1001 + PROTOCOL_STALE_CLAIM, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(msg_of(s, 3).ping_at, 1001 + PROTOCOL_STALE_CLAIM);
	store_close(s);
}

/* A delete that finds the message gone counts as done; nothing else does. */
#define RACERS 6
#define RACE_IDS 24

/* sync's remove keeps a record a ping run is still posting for. */
static void
test_sync_remove(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r, got;
	struct err e = { 0 };
	int won, removed;

	/* ping none: removed */
	make_record(&r, 4, 1000, 4);
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "", 5000, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(store_get(s, 4, &got, &e), MC_ERR_NOTFOUND);
	/* claimed 120 s ago (not stale yet): kept, its message id cleared */
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5000, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(protocol_sync_remove(s, 4, "", 5120, &removed, &e), MC_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_string_equal(got.msg.msg_id, "");
	assert_string_equal(got.msg.hash, "");
	assert_int_equal(got.msg.ping, PING_CLAIMED);
	assert_int_equal(got.msg.ping_at, 5000);
	assert_string_equal(got.ev.name, r.ev.name);
	event_free(&got.ev);
	/* the ping recorded meanwhile: a ping id the caller did not delete */
	assert_int_equal(protocol_ping_sent(s, 4, "1234567890123456789", 5, 5001, &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "", 5010, &removed, &e), MC_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_string_equal(got.msg.ping_id, "1234567890123456789");
	event_free(&got.ev);
	/* that ping deleted by the caller: removed */
	assert_int_equal(protocol_sync_remove(s, 4, "1234567890123456789", 5010, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(store_get(s, 4, &got, &e), MC_ERR_NOTFOUND);
	/* a stale claim (a killed ping run) does not keep it */
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_ping_unclaim(s, 4, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5000, &won, &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "", 5121, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(store_get(s, 4, &got, &e), MC_ERR_NOTFOUND);
	/* a replaced reminder not deleted yet keeps it, as a standing one does */
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5000, &won, &e), MC_OK);
	assert_int_equal(protocol_ping_sent(s, 4, "11", 60, 5000, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5001, &won, &e), MC_OK);
	assert_int_equal(protocol_ping_sent(s, 4, "12", 5, 5001, &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "12", 5010, &removed, &e), MC_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(protocol_ping_old_gone(s, 4, "11", &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "12", 5010, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	/* done (its reminder deleted): removed without one */
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5000, &won, &e), MC_OK);
	assert_int_equal(protocol_ping_sent(s, 4, "13", 5, 5000, &e), MC_OK);
	assert_int_equal(protocol_ping_done(s, 4, 9000, &e), MC_OK);
	assert_int_equal(protocol_sync_remove(s, 4, "", 9010, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	/* absent: done */
	assert_int_equal(protocol_sync_remove(s, 77, "", 5000, &removed, &e), MC_OK);
	assert_int_equal(removed, 1);
	event_free(&r.ev);
	store_close(s);
	assert_int_equal(raw_count(f->path, "events"), 0);
	assert_int_equal(raw_count(f->path, "messages"), 0);
	assert_int_equal(raw_count(f->path, "by_start"), 0);
}

/* The meta note key ("posting", "posting route NAME"), as another
 * program would read it; "" when absent. */
static void
raw_note(const char *path, const char *key, char *out, size_t n)
{
	MDB_env *env = raw_open(path, MDB_RDONLY);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { strlen(key), (void *)key }, v;

	out[0] = '\0';
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	if (mdb_get(txn, dbi, &k, &v) == 0)
		snprintf(out, n, "%.*s", (int)v.mv_size, (const char *)v.mv_data);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* sync's post: the record and a note written before it (always a write,
 * so a state that cannot take one gets no post), the id after it. */
static void
test_sync_intent(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r, got;
	struct err e = { 0 };
	char note[64];

	make_record(&r, 7, 3000, 2);
	assert_int_equal(protocol_sync_intent(s, &r, 5000, &e), MC_OK);
	assert_int_equal(store_get(s, 7, &got, &e), MC_OK);
	assert_string_equal(got.msg.msg_id, "");
	assert_string_equal(got.msg.hash, r.msg.hash);
	event_free(&got.ev);
	store_close(s);
	raw_note(f->path, "posting", note, sizeof note);
	assert_string_equal(note, "7 5000");

	/* the same intent again (the post failed): written again */
	s = open_ok(f->path, 0);
	assert_int_equal(protocol_sync_intent(s, &r, 5001, &e), MC_OK);
	store_close(s);
	raw_note(f->path, "posting", note, sizeof note);
	assert_string_equal(note, "7 5001");

	s = open_ok(f->path, 0);
	assert_int_equal(protocol_sync_posted(s, &r, &e), MC_OK);
	assert_int_equal(store_get(s, 7, &got, &e), MC_OK);
	assert_string_equal(got.msg.msg_id, r.msg.msg_id);
	event_free(&got.ev);
	store_close(s);
	raw_note(f->path, "posting", note, sizeof note);
	assert_string_equal(note, "");

	/* a state that takes no write: the intent fails, so nothing is posted */
	s = open_ok(f->path, STORE_RDONLY);
	assert_int_equal(protocol_sync_intent(s, &r, 5002, &e), MC_ERR_IO);
	store_close(s);
	event_free(&r.ev);
}

/* Routes post side by side: each its own note of the post in flight,
 * which another route's post neither replaces nor drops. */
static void
test_sync_intent_routes(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record main, math;
	struct err e = { 0 };
	char note[64];

	make_record(&main, 7, 3000, 2);
	make_record(&math, 8, 3100, 3);
	snprintf(math.msg.route, sizeof math.msg.route, "math");
	assert_int_equal(protocol_sync_intent(s, &main, 5000, &e), MC_OK);
	assert_int_equal(protocol_sync_intent(s, &math, 5001, &e), MC_OK);
	store_close(s);
	raw_note(f->path, "posting", note, sizeof note);
	assert_string_equal(note, "7 5000");
	raw_note(f->path, "posting route math", note, sizeof note);
	assert_string_equal(note, "8 5001");

	s = open_ok(f->path, 0);
	assert_int_equal(protocol_sync_posted(s, &math, &e), MC_OK);
	store_close(s);
	raw_note(f->path, "posting route math", note, sizeof note);
	assert_string_equal(note, "");
	raw_note(f->path, "posting", note, sizeof note);
	assert_string_equal(note, "7 5000");
	event_free(&main.ev);
	event_free(&math.ev);
}

/* sync's routes write one store from several threads at once: each
 * thread posts its own conferences (intent, then the id, then reads it
 * back) while the map, made tiny, grows again and again under the
 * others' reads and writes.  Every write lands, every read sees its own
 * thread's last write, and nothing reports the store damaged. */
enum { THREADS = 4, PER_THREAD = 150 };

struct writer {
	struct store *s;
	int index;
	int failed;             /* the first step that failed, 0 = none */
	char why[1100];
};

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	struct err e = { 0 };
	int i;

	for (i = 0; i < PER_THREAD && !w->failed; i++) {
		struct record r, got;
		int64_t id = 1000 * (w->index + 1) + i;

		make_record(&r, id, 4000 + id, i);
		snprintf(r.msg.route, sizeof r.msg.route, "r%d", w->index);
		if (protocol_sync_intent(w->s, &r, 5000, &e) != MC_OK ||
		    protocol_sync_posted(w->s, &r, &e) != MC_OK) {
			w->failed = 1;
		} else if (store_get(w->s, id, &got, &e) != MC_OK) {
			w->failed = 2;
		} else {
			if (strcmp(got.msg.msg_id, r.msg.msg_id) != 0 || strcmp(got.msg.route, r.msg.route) != 0)
				w->failed = 3;
			event_free(&got.ev);
		}
		if (w->failed)
			snprintf(w->why, sizeof w->why, "thread %d, record %d: %s", w->index, i, e.msg);
		event_free(&r.ev);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	struct writer w[THREADS];
	pthread_t th[THREADS];
	struct record_list all = { 0 };
	struct err e = { 0 };
	int i;

	assert_int_equal(store_open_ex(f->path, STORE_CREATE, 64 * 1024, &s, &e), MC_OK);
	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].s = s;
		w[i].index = i;
		assert_int_equal(pthread_create(&th[i], NULL, writer_run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < THREADS; i++)
		if (w[i].failed)
			fail_msg("step %d: %s", w[i].failed, w[i].why);
	assert_true(store_map_size(s) > 64 * 1024);
	assert_int_equal(store_load_all(s, &all, &e), MC_OK);
	assert_int_equal(all.n, THREADS * PER_THREAD);
	for (i = 0; i < (int)all.n; i++)
		assert_string_not_equal(all.v[i].msg.msg_id, "");
	record_list_free(&all);
	store_close(s);
}

static void
test_sync_put_keeps_ping(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record r, got;
	struct err e = { 0 };
	int won;

	make_record(&r, 4, 1000, 4);   /* ping none */
	assert_int_equal(r.msg.ping, PING_NONE);
	assert_int_equal(store_put(s, &r, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 4, 5000, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	/* sync writes its older copy: the claim stays, the rest is sync's. */
	free(r.ev.name);
	r.ev.name = strdup("renamed");
	snprintf(r.msg.hash, sizeof r.msg.hash, "0123456789abcdef");
	assert_int_equal(protocol_sync_put(s, &r, &e), MC_OK);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_string_equal(got.ev.name, "renamed");
	assert_string_equal(got.msg.hash, "0123456789abcdef");
	assert_int_equal(got.msg.ping, PING_CLAIMED);
	assert_int_equal(got.msg.ping_at, 5000);
	event_free(&got.ev);
	/* ping records its message: sync's fields stay. */
	assert_int_equal(protocol_ping_sent(s, 4, "1234567890123456789", 5, 5001, &e), MC_OK);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_string_equal(got.ev.name, "renamed");
	assert_string_equal(got.msg.hash, "0123456789abcdef");
	assert_string_equal(got.msg.msg_id, r.msg.msg_id);
	assert_int_equal(got.msg.ping, PING_SENT);
	assert_string_equal(got.msg.ping_id, "1234567890123456789");
	assert_int_equal(got.msg.ping_at, 5001);
	event_free(&got.ev);
	/* sync writes again: the reminder fields stay ping's */
	assert_int_equal(protocol_sync_put(s, &r, &e), MC_OK);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_int_equal(got.msg.ping_offset, 5);
	assert_int_equal(got.msg.ping_sent_at, 5001);
	event_free(&got.ev);
	assert_int_equal(protocol_ping_done(s, 4, 9000, &e), MC_OK);
	assert_int_equal(store_get(s, 4, &got, &e), MC_OK);
	assert_int_equal(got.msg.ping, PING_DONE);
	assert_string_equal(got.msg.ping_id, "1234567890123456789");
	event_free(&got.ev);
	assert_int_equal(protocol_ping_sent(s, 5, "1", 5, 1, &e), MC_ERR_NOTFOUND);
	/* A new conference takes the ping fields given. */
	r.ev.id = 8;
	r.msg.ping = PING_DONE;
	assert_int_equal(protocol_sync_put(s, &r, &e), MC_OK);
	assert_int_equal(store_get(s, 8, &got, &e), MC_OK);
	assert_int_equal(got.msg.ping, PING_DONE);
	event_free(&got.ev);
	event_free(&r.ev);
	store_close(s);
}

static void
test_claim(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	struct record got;
	struct err e = { 0 };
	int won = -1;

	put_ok(s, 1, 1000, 4);   /* n = 4: ping none */
	assert_int_equal(protocol_ping_claim(s, 1, 2000, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(protocol_ping_claim(s, 1, 2000, &won, &e), MC_OK);
	assert_int_equal(won, 0);
	/* Claimed exactly PROTOCOL_STALE_CLAIM ago: still held. */
	assert_int_equal(protocol_ping_claim(s, 1, 2120, &won, &e), MC_OK);
	assert_int_equal(won, 0);
	/* Longer ago: a killed run's claim, taken over. */
	assert_int_equal(protocol_ping_claim(s, 1, 2121, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(store_get(s, 1, &got, &e), MC_OK);
	assert_int_equal(got.msg.ping, PING_CLAIMED);
	assert_int_equal(got.msg.ping_at, 2121);
	event_free(&got.ev);
	/* Sent: the next reminder may be claimed; done: never again. */
	assert_int_equal(protocol_ping_sent(s, 1, "9", 5, 2602, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 1, 2603, &won, &e), MC_OK);
	assert_int_equal(won, 1);
	assert_int_equal(protocol_ping_done(s, 1, 2603, &e), MC_OK);
	assert_int_equal(protocol_ping_claim(s, 1, 99999, &won, &e), MC_OK);
	assert_int_equal(won, 0);
	won = 7;
	assert_int_equal(protocol_ping_claim(s, 42, 2000, &won, &e), MC_ERR_NOTFOUND);
	assert_int_equal(won, 0);
	store_close(s);
}

static void
test_claim_race(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path, STORE_CREATE);
	int gate[2], res[RACERS][2];
	pid_t pid[RACERS];
	uint32_t mask[RACERS] = { 0 };
	int i, id, winners, st;

	for (id = 1; id <= RACE_IDS; id++)
		put_ok(s, id, 1000 + id, 4 * id);   /* ping none */
	store_close(s);
	assert_int_equal(pipe(gate), 0);
	for (i = 0; i < RACERS; i++) {
		assert_int_equal(pipe(res[i]), 0);
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			struct store *cs;
			struct err ce;
			uint32_t m = 0;
			char c;
			int w;

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0)
				_exit(2);
			if (store_open(f->path, 0, &cs, &ce) != MC_OK)
				_exit(3);
			for (id = 1; id <= RACE_IDS; id++) {
				if (protocol_ping_claim(cs, id, 5000, &w, &ce) != MC_OK)
					_exit(4);
				if (w)
					m |= 1u << id;
			}
			store_close(cs);
			if (write(res[i][1], &m, sizeof m) != sizeof m)
				_exit(5);
			_exit(0);
		}
		close(res[i][1]);
	}
	close(gate[0]);
	close(gate[1]);   /* all start at once */
	for (i = 0; i < RACERS; i++) {
		assert_int_equal(read(res[i][0], &mask[i], sizeof mask[i]), sizeof mask[i]);
		close(res[i][0]);
		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (id = 1; id <= RACE_IDS; id++) {
		winners = 0;
		for (i = 0; i < RACERS; i++)
			winners += (mask[i] >> id) & 1;
		if (winners != 1)
			fail_msg("conference %d claimed by %d processes", id, winners);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping_path, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_unclaim_and_replace, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_stale_claim, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_sync_remove, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_sync_put_keeps_ping, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_sync_intent, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_sync_intent_routes, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_threads, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_claim, statefix_setup, statefix_teardown),
		cmocka_unit_test_setup_teardown(test_claim_race, statefix_setup, statefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
