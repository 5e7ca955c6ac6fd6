/* protocol: the writes sync and ping make to a shared record, each one
 * transaction that reads the record again first.  See protocol.h. */
#include "protocol.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

int
protocol_claimable(const struct message *m, int64_t now)
{
	if (m->ping == PING_DONE)
		return 0;
	if (m->ping != PING_CLAIMED)
		return 1;	/* none, or a reminder sent: the next may be claimed */
	/* ping_at comes from the file: whatever it holds, no overflow (a
	 * claim from the far future stays held) */
	return m->ping_at <= INT64_MAX - PROTOCOL_STALE_CLAIM &&
	    m->ping_at + PROTOCOL_STALE_CLAIM < now;
}

/* ---- sync ---- */

static int
step_sync_put(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	return store_txn_put_record(s, txn, arg, 1, e);
}

enum mc_err
protocol_sync_put(struct store *s, const struct record *r, struct err *e)
{
	if (store_check_keys(r, 1, e) != MC_OK)
		return e->kind;
	return store_txn_write(s, step_sync_put, (void *)r, e);
}

/* The meta key of a post in flight: "ID TIME".  Written with the record
 * before the post, removed with the message id after it.  One per route
 * ("posting" for [discord], "posting route NAME"): the routes post side
 * by side, each with its own post in flight. */
#define POSTING_KEY "posting"

struct sync_posting {
	const struct record *r;
	int64_t now;
	int done;
};

static int
step_sync_posting(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	struct sync_posting *a = arg;
	const char *route = a->r->msg.route;
	char key[sizeof POSTING_KEY + sizeof " route " + sizeof a->r->msg.route], text[48];
	MDB_val k, v;
	int rc;

	snprintf(key, sizeof key, "%s%s%s", POSTING_KEY, *route ? " route " : "", route);
	k.mv_size = strlen(key);
	k.mv_data = key;
	rc = store_txn_put_record(s, txn, a->r, 1, e);
	if (rc != 0)
		return rc;
	if (a->done) {
		rc = mdb_del(txn, s->meta, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	snprintf(text, sizeof text, "%lld %lld", (long long)a->r->ev.id, (long long)a->now);
	v.mv_size = strlen(text);
	v.mv_data = text;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

enum mc_err
protocol_sync_intent(struct store *s, const struct record *r, int64_t now, struct err *e)
{
	struct record cur = *r;
	struct sync_posting a = { &cur, now, 0 };

	cur.msg.msg_id[0] = '\0';
	if (store_check_keys(&cur, 1, e) != MC_OK)
		return e->kind;
	return store_txn_write(s, step_sync_posting, &a, e);
}

enum mc_err
protocol_sync_posted(struct store *s, const struct record *r, struct err *e)
{
	struct sync_posting a = { r, 0, 1 };

	if (store_check_keys(r, 1, e) != MC_OK)
		return e->kind;
	return store_txn_write(s, step_sync_posting, &a, e);
}

struct sync_remove {
	int64_t id, now;
	const char *ping_deleted;
	int *removed;
};

int
protocol_ping_standing(const struct message *m)
{
	return m->ping_id[0] != '\0' && m->ping != PING_DONE;
}

static int
step_sync_remove(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	struct sync_remove *a = arg;
	struct message m;
	int rc, pinging;

	*a->removed = 0;
	rc = store_txn_get_message(s, txn, a->id, &m, e);
	if (rc == MDB_NOTFOUND) {
		*a->removed = 1;
		return TXN_NOCHANGE;
	}
	if (rc != 0)
		return rc;
	pinging = (m.ping == PING_CLAIMED && !protocol_claimable(&m, a->now)) ||
	    (protocol_ping_standing(&m) && strcmp(m.ping_id, a->ping_deleted) != 0) ||
	    m.ping_old[0] != '\0';
	if (!pinging) {
		*a->removed = 1;
		return store_txn_remove(s, txn, a->id, e);
	}
	if (m.msg_id[0] == '\0' && m.hash[0] == '\0')
		return TXN_NOCHANGE;
	m.msg_id[0] = '\0';
	m.hash[0] = '\0';
	return store_txn_put_message(s, txn, a->id, &m);
}

enum mc_err
protocol_sync_remove(struct store *s, int64_t id, const char *ping_deleted, int64_t now,
    int *removed, struct err *e)
{
	struct sync_remove a = { id, now, ping_deleted ? ping_deleted : "", removed };

	return store_txn_write(s, step_sync_remove, &a, e);
}

/* ---- ping ---- */

enum ping_move { MOVE_CLAIM, MOVE_SENT, MOVE_OLD_GONE, MOVE_UNCLAIM, MOVE_DONE };

struct ping_write {
	enum ping_move move;
	int64_t id, now, offset;
	const char *ping_id;
	int *won;
};

static int
step_ping(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	struct ping_write *a = arg;
	struct message m;
	int rc;

	rc = store_txn_get_message(s, txn, a->id, &m, e);
	if (rc == MDB_NOTFOUND) {
		err_set(e, MC_ERR_NOTFOUND, "conference %lld is not in the state", (long long)a->id);
		return TXN_FAILED;
	}
	if (rc != 0)
		return rc;
	switch (a->move) {
	case MOVE_CLAIM:
		if (!protocol_claimable(&m, a->now))
			return TXN_NOCHANGE;
		m.ping = PING_CLAIMED;
		m.ping_at = a->now;
		break;
	case MOVE_SENT:
		if (m.ping_id[0] != '\0' && m.ping != PING_DONE)
			memcpy(m.ping_old, m.ping_id, sizeof m.ping_old);
		snprintf(m.ping_id, sizeof m.ping_id, "%s", a->ping_id);
		m.ping = PING_SENT;
		m.ping_at = m.ping_sent_at = a->now;
		m.ping_offset = a->offset;
		break;
	case MOVE_OLD_GONE:
		if (strcmp(m.ping_old, a->ping_id) != 0)
			return TXN_NOCHANGE;
		m.ping_old[0] = '\0';
		break;
	case MOVE_UNCLAIM:
		if (m.ping != PING_CLAIMED)
			return TXN_NOCHANGE;
		m.ping = m.ping_id[0] != '\0' ? PING_SENT : PING_NONE;
		m.ping_at = m.ping_sent_at;
		break;
	case MOVE_DONE:
		m.ping = PING_DONE;
		m.ping_at = a->now;
		break;
	}
	rc = store_txn_put_message(s, txn, a->id, &m);
	if (rc == 0 && a->won != NULL)
		*a->won = 1;
	return rc;
}

enum mc_err
protocol_ping_claim(struct store *s, int64_t id, int64_t now, int *won, struct err *e)
{
	struct ping_write a = { MOVE_CLAIM, id, now, 0, NULL, won };
	enum mc_err rc;

	*won = 0;
	rc = store_txn_write(s, step_ping, &a, e);
	if (rc != MC_OK)
		*won = 0;
	return rc;
}

enum mc_err
protocol_ping_sent(struct store *s, int64_t id, const char *ping_id, int64_t offset,
    int64_t now, struct err *e)
{
	struct ping_write a = { MOVE_SENT, id, now, offset, ping_id, NULL };

	return store_txn_write(s, step_ping, &a, e);
}

enum mc_err
protocol_ping_old_gone(struct store *s, int64_t id, const char *old_id, struct err *e)
{
	struct ping_write a = { MOVE_OLD_GONE, id, 0, 0, old_id, NULL };

	return store_txn_write(s, step_ping, &a, e);
}

enum mc_err
protocol_ping_unclaim(struct store *s, int64_t id, struct err *e)
{
	struct ping_write a = { MOVE_UNCLAIM, id, 0, 0, NULL, NULL };

	return store_txn_write(s, step_ping, &a, e);
}

enum mc_err
protocol_ping_done(struct store *s, int64_t id, int64_t now, struct err *e)
{
	struct ping_write a = { MOVE_DONE, id, now, 0, NULL, NULL };

	return store_txn_write(s, step_ping, &a, e);
}
