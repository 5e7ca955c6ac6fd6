/* store: opening the state file, reading and writing conferences in
 * transactions.  See store.h for the schema, schema.c for its upgrades,
 * lmdb_header.c for the checks before LMDB maps the file, and event.c for
 * the stored form of each value. */
#include "store_internal.h"
#include "secret.h"
#include "lmdb_guard.h"
#include "lmdb_pages.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* A new file's map: room for some 50,000 conferences before it grows. */
#define DEFAULT_MAPSIZE ((size_t)64 << 20)

/* ---- errors ---------------------------------------------------------- */

enum mc_err
store_damaged(const struct store *s, struct err *e, const char *why)
{
	return err_set(e, MC_ERR_IO, "state file %s is damaged or not a moodlecord state (%s): "
	    "move it away to start afresh", s->path, why);
}

static int
is_damage(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
	    rc == MDB_VERSION_MISMATCH || rc == MDB_INCOMPATIBLE || rc == MDB_BAD_DBI;
}

enum mc_err
store_lmdb_err(const struct store *s, int rc, const char *what, struct err *e)
{
	if (is_damage(rc))
		return store_damaged(s, e, mdb_strerror(rc));
	return err_set(e, MC_ERR_IO, "state file %s: cannot %s: %s", s->path, what,
	    mdb_strerror(rc));
}

/* ---- opening --------------------------------------------------------- */

enum mc_err
store_make_dir(const char *path, struct err *e)
{
	char *dir = xstrdup(path), *p;
	enum mc_err rc = MC_OK;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		goto free_dir;
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;
			struct stat st;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				rc = err_set(e, MC_ERR_IO, "cannot create directory %s: %s", dir,
				    strerror(errno));
				goto free_dir;
			}
			if (c == '\0') {
				if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
					rc = err_set(e, MC_ERR_IO, "%s is not a directory", dir);
				goto free_dir;
			}
			*p = c;
		}
	}
free_dir:
	free(dir);
	return rc;
}

int
store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	/* Another process grew the map: adopt its size. */
	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

/* LMDB maps its lock file and writes the reader table through the map.
 * Were the file's blocks not allocated, a full disk would kill the run
 * with SIGBUS instead of an error: allocate them first, so a full disk is
 * an ENOSPC here.  LOCK_FILE_BYTES covers LMDB's table of 126 readers. */
#define LOCK_FILE_BYTES 16384

static enum mc_err
lock_file_allocate(const char *path, struct err *e)
{
	char *lockpath = xasprintf("%s-lock", path);
	struct stat st;
	enum mc_err rc = MC_OK;
	int fd, err;

	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(e, MC_ERR_IO, "cannot open LMDB's lock file %s: %s", lockpath,
		    strerror(errno));
		goto free_path;
	}
	err = fstat(fd, &st) == 0 ? 0 : errno;
	if (err == 0)
		err = posix_fallocate(fd, 0, st.st_size > LOCK_FILE_BYTES ?
		    st.st_size : LOCK_FILE_BYTES);
	if (err != 0)
		rc = err_set(e, MC_ERR_IO, "cannot make LMDB's lock file %s: %s", lockpath,
		    strerror(err));
	close(fd);
free_path:
	free(lockpath);
	return rc;
}

static int
env_open(struct store *s, unsigned flags, size_t mapsize)
{
	int rc;

	rc = mdb_env_create(&s->env);
	if (rc != 0)
		return rc;
	rc = mdb_env_set_maxdbs(s->env, 8);
	if (rc == 0 && mapsize != 0)
		rc = mdb_env_set_mapsize(s->env, mapsize);
	if (rc == 0)
		rc = mdb_env_open(s->env, s->path, flags | MDB_NOSUBDIR, 0600);
	if (rc != 0) {
		mdb_env_close(s->env);
		s->env = NULL;
	}
	return rc;
}

/* ---- LMDB's faults caught ----
 * lmdb_pages checked every page before LMDB mapped the file; what a check
 * cannot foresee (a fault, an assertion inside LMDB) is caught around
 * each of the store's entries into LMDB and reported as damage.  The
 * environment is not touched again after a fault (LMDB may be half way
 * through a change of its own structures). */

static enum mc_err load_all(struct store *s, struct record_list *out, struct err *e);
static enum mc_err load_window(struct store *s, int64_t from, int64_t to,
    struct record_list *out, struct err *e);
static enum mc_err get_record(struct store *s, int64_t id, struct record *out, struct err *e);
struct walk;
static enum mc_err walk(struct store *s, struct walk *w, struct err *e);
static enum mc_err txn_write(struct store *s, store_txn_step op, void *arg, struct err *e);

/* Environments left after a fault: kept reachable, never closed. */
static MDB_env *faulted_envs[4];

static void
env_close(struct store *s)
{
	size_t i;

	if (!s->faulted) {
		mdb_env_close(s->env);
		return;
	}
	for (i = 0; i < sizeof faulted_envs / sizeof faulted_envs[0]; i++)
		if (faulted_envs[i] == NULL) {
			faulted_envs[i] = s->env;
			break;
		}
}

static enum mc_err
fault_caught(struct store *s, const struct lmdb_guard *g, struct err *e)
{
	s->faulted = 1;
	return store_damaged(s, e, g->sig == SIGABRT ? "LMDB stopped on a failed check of it" :
	    g->sig == SIGBUS ? "LMDB read past its end (SIGBUS)" : "LMDB faulted reading it");
}

/* What a read returns on a store a fault left unusable. */
static int
faulted(struct store *s, struct err *e, enum mc_err *rc)
{
	if (!s->faulted)
		return 0;
	*rc = store_damaged(s, e, "an earlier read of it faulted");
	return 1;
}

/* Free what a read that faulted had appended to out. */
static void
drop_appended(struct record_list *out, size_t first)
{
	while (out->n > first)
		event_free(&out->v[--out->n].ev);
	/* a list this read began owns no array after it failed */
	if (first == 0)
		record_list_free(out);
}

static enum mc_err
guarded_schema_open(struct store *s, struct err *e)
{
	struct lmdb_guard g;
	enum mc_err rc;

	if (LMDB_GUARD_FAULTED(&g))
		return fault_caught(s, &g, e);
	lmdb_guard_enter(&g);
	rc = schema_open(s, e);
	lmdb_guard_leave(&g);
	return rc;
}

enum mc_err
store_load_all(struct store *s, struct record_list *out, struct err *e)
{
	struct lmdb_guard g;
	size_t first = out->n;
	enum mc_err rc;

	if (faulted(s, e, &rc))
		return rc;
	if (LMDB_GUARD_FAULTED(&g)) {
		drop_appended(out, first);
		return fault_caught(s, &g, e);
	}
	lmdb_guard_enter(&g);
	rc = load_all(s, out, e);
	lmdb_guard_leave(&g);
	return rc;
}

enum mc_err
store_load_window(struct store *s, int64_t from, int64_t to, struct record_list *out,
    struct err *e)
{
	struct lmdb_guard g;
	size_t first = out->n;
	enum mc_err rc;

	if (faulted(s, e, &rc))
		return rc;
	if (LMDB_GUARD_FAULTED(&g)) {
		drop_appended(out, first);
		return fault_caught(s, &g, e);
	}
	lmdb_guard_enter(&g);
	rc = load_window(s, from, to, out, e);
	lmdb_guard_leave(&g);
	return rc;
}

/* What one walk does (store_walk, store_walk_messages). */
struct walk {
	int64_t from;
	store_walk_fn fn;          /* records; or, NULL:              */
	store_walk_msg_fn msg_fn;  /* message data only               */
	void *arg;
};

static enum mc_err
guarded_walk(struct store *s, struct walk *w, struct err *e)
{
	struct lmdb_guard g;
	enum mc_err rc;

	if (faulted(s, e, &rc))
		return rc;
	if (w->from < 0)
		w->from = 0;
	if (LMDB_GUARD_FAULTED(&g))
		return fault_caught(s, &g, e);
	lmdb_guard_enter(&g);
	rc = walk(s, w, e);
	lmdb_guard_leave(&g);
	return rc;
}

enum mc_err
store_walk(struct store *s, int64_t from, store_walk_fn fn, void *arg, struct err *e)
{
	struct walk w = { from, fn, NULL, arg };

	return guarded_walk(s, &w, e);
}

enum mc_err
store_walk_messages(struct store *s, int64_t from, store_walk_msg_fn fn, void *arg,
    struct err *e)
{
	struct walk w = { from, NULL, fn, arg };

	return guarded_walk(s, &w, e);
}

enum mc_err
store_get(struct store *s, int64_t id, struct record *out, struct err *e)
{
	struct lmdb_guard g;
	enum mc_err rc;

	if (faulted(s, e, &rc))
		return rc;
	if (LMDB_GUARD_FAULTED(&g)) {
		memset(out, 0, sizeof *out);
		return fault_caught(s, &g, e);
	}
	lmdb_guard_enter(&g);
	rc = get_record(s, id, out, e);
	lmdb_guard_leave(&g);
	return rc;
}

/* A fault inside a write transaction leaves it uncommitted: LMDB writes
 * the file only when it commits. */
enum mc_err
store_txn_write(struct store *s, store_txn_step op, void *arg, struct err *e)
{
	struct lmdb_guard g;
	enum mc_err rc;

	if (faulted(s, e, &rc))
		return rc;
	if (LMDB_GUARD_FAULTED(&g))
		return fault_caught(s, &g, e);
	lmdb_guard_enter(&g);
	rc = txn_write(s, op, arg, e);
	lmdb_guard_leave(&g);
	return rc;
}

/* Every page LMDB can reach, before LMDB maps the file: LMDB trusts its
 * pages, and one bad header makes it fault, abort or corrupt the heap. */
static enum mc_err
pages_check(const struct store *s, struct err *e)
{
	char why[160] = "";
	int rc, err = 0, tries;

	for (tries = 0; tries < 4; tries++) {
		rc = lmdb_pages_check(s->path, why, sizeof why, &err);
		if (rc != -2)
			break;
	}
	if (rc == 0)
		return MC_OK;
	if (err != 0)
		return err_set(e, MC_ERR_IO, "cannot read state file %s: %s", s->path, strerror(err));
	return store_damaged(s, e, why);
}

enum mc_err
store_open_ex(const char *path, int flags, size_t mapsize, struct store **out, struct err *e)
{
	struct store *s;
	enum lmdb_header h;
	enum mc_err rc;
	char why[160] = "";
	int err, tries, lrc;

	*out = NULL;
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->rdonly = (flags & STORE_RDONLY) != 0;

	for (tries = 0; ; tries++) {
		h = lmdb_header_check(path, why, sizeof why, &err);
		if (h != LMDB_HEADER_SHAKY || tries == 3)
			break;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	if (h == LMDB_HEADER_ABSENT && (s->rdonly || !(flags & STORE_CREATE))) {
		rc = err_set(e, MC_ERR_NOTFOUND, "no state yet: %s does not exist", path);
		goto free_store;
	}
	if (h == LMDB_HEADER_EMPTY) {
		/* what a full disk or a crash can leave: taken as new, every
		 * conference would be posted and pinged again */
		rc = err_set(e, MC_ERR_IO, "state file %s is empty (0 bytes): it lost what was "
		    "posted; remove it to start afresh (every conference is posted again)", path);
		goto free_store;
	}
	if (err != 0 && h != LMDB_HEADER_ABSENT) {
		rc = err_set(e, MC_ERR_IO, "cannot read state file %s: %s", path, strerror(err));
		goto free_store;
	}
	if (h == LMDB_HEADER_BAD || h == LMDB_HEADER_SHAKY) {
		rc = store_damaged(s, e, why);
		goto free_store;
	}
	if (h == LMDB_HEADER_OK && !(flags & STORE_CHECKED)) {
		rc = pages_check(s, e);
		if (rc != MC_OK)
			goto free_store;
	}
	if (h == LMDB_HEADER_ABSENT) {
		rc = store_make_dir(path, e);
		if (rc != MC_OK)
			goto free_store;
	}

	if (s->rdonly) {
		char *lockpath = xasprintf("%s-lock", path);
		int haslock = access(lockpath, F_OK) == 0;

		free(lockpath);
		/* LMDB keeps its lock file while it has the file open, so
		 * without one nobody is writing: read without creating it.  A
		 * lock file we may not write: read without it too. */
		lrc = haslock ? env_open(s, MDB_RDONLY, 0) : -1;
		if (lrc != 0)
			lrc = env_open(s, MDB_RDONLY | MDB_NOLOCK, 0);
	} else {
		rc = lock_file_allocate(path, e);
		if (rc != MC_OK)
			goto free_store;
		lrc = env_open(s, 0, h == LMDB_HEADER_OK ? mapsize : mapsize ? mapsize : DEFAULT_MAPSIZE);
	}
	if (lrc != 0) {
		rc = store_lmdb_err(s, lrc, "open it", e);
		goto free_store;
	}
	rc = guarded_schema_open(s, e);
	if (rc != MC_OK && s->rdonly && (flags & STORE_UPGRADE) && s->schema_found > 0 &&
	    s->schema_found < STORE_SCHEMA) {
		struct store *rw = NULL;

		env_close(s);
		free(s->path);
		free(s);
		rc = store_open_ex(path, 0, 0, &rw, e);
		if (rc != MC_OK)
			return rc;
		store_close(rw);
		/* the upgrade wrote the file: its pages are walked again */
		return store_open_ex(path, flags & ~(STORE_UPGRADE | STORE_CHECKED), mapsize, out, e);
	}
	if (rc != MC_OK)
		goto close_env;
	*out = s;
	return MC_OK;
close_env:
	env_close(s);
free_store:
	free(s->path);
	free(s);
	return rc;
}

enum mc_err
store_open(const char *path, int flags, struct store **out, struct err *e)
{
	return store_open_ex(path, flags, 0, out, e);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	env_close(s);
	free(s->path);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

size_t
store_map_size(const struct store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return 0;
	return info.me_mapsize;
}

int
store_schema(const struct store *s)
{
	return s->schema;
}

/* ---- encoding ---------------------------------------------------------- */

void
store_key_id(unsigned char k[8], int64_t id)
{
	be64_put(k, (uint64_t)id);
}

static void
key_start(unsigned char k[16], int64_t start, int64_t id)
{
	be64_put(k, (uint64_t)start);
	be64_put(k + 8, (uint64_t)id);
}

enum mc_err
store_unreadable(const struct store *s, int64_t id, const char *what, struct err *e)
{
	char why[96];

	snprintf(why, sizeof why, "the %s of conference %lld is unreadable", what, (long long)id);
	return store_damaged(s, e, why);
}

/* Read conference id into r (copied out).  MDB_NOTFOUND when absent;
 * TXN_FAILED with e filled when the stored text is unreadable. */
static int
read_record(struct store *s, MDB_txn *txn, int64_t id, struct record *r, struct err *e)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	memset(r, 0, sizeof *r);
	store_key_id(kb, id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc != 0)
		return rc;
	if (event_from_json(v.mv_data, v.mv_size, &r->ev, NULL) != MC_OK || r->ev.id != id) {
		event_free(&r->ev);
		store_unreadable(s, id, "record", e);
		return TXN_FAILED;
	}
	rc = store_txn_get_message(s, txn, id, &r->msg, e);
	if (rc != 0)
		event_free(&r->ev);
	return rc;
}

/* ---- reading ----------------------------------------------------------- */

static int
record_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->ev.start != y->ev.start)
		return x->ev.start < y->ev.start ? -1 : 1;
	if (x->ev.id != y->ev.id)
		return x->ev.id < y->ev.id ? -1 : 1;
	return 0;
}

static enum mc_err
load_all(struct store *s, struct record_list *out, struct err *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct record r;
	size_t first = out->n;
	enum mc_err mrc = MC_OK;
	int rc;

	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = mdb_cursor_open(txn, s->events, &cur);
	if (rc != 0)
		goto abort_txn;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t id;

		if (k.mv_size != 8) {
			mrc = store_damaged(s, e, "a conference key is not 8 bytes");
			break;
		}
		id = (int64_t)be64_get(k.mv_data);
		rc = read_record(s, txn, id, &r, e);
		if (rc == TXN_FAILED) {
			mrc = e->kind;
			break;
		}
		if (rc != 0)
			break;
		record_list_push(out, &r);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
abort_txn:
	mdb_txn_abort(txn);
	if (mrc == MC_OK && rc != 0)
		mrc = store_lmdb_err(s, rc, "read it", e);
	if (mrc != MC_OK) {
		drop_appended(out, first);
		return mrc;
	}
	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof *out->v, record_cmp);
	return MC_OK;
}

/* The pages of the map a process read stay counted in its memory (they
 * are the file's, in the page cache, but mapped): a walk over 100,000
 * conferences, or thousands of commits (each reads a few pages, freshly
 * written ones at new places), would count the whole file.  Dropping the
 * mapping of them loses nothing (the map is shared, the file holds every
 * byte); LMDB reads them again from the page cache when it needs them.
 * LMDB does not tell where its map is (mdb_env_info gives an address only
 * for a fixed map), so the mappings of the file are found in
 * /proc/self/maps by its device and inode; without /proc, nothing is
 * given back. */
static void
map_release(struct store *s)
{
	struct stat sb;
	char line[512];
	FILE *f;
	int fd;

	s->commits = 0;
	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &sb) != 0)
		return;
	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi, off, ino;
		unsigned maj, min;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &min,
		    &ino) != 7)
			continue;
		if (ino == (unsigned long)sb.st_ino && makedev(maj, min) == sb.st_dev && hi > lo &&
		    perms[3] == 's')
			(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(f);
}

/* Records a walk reads between two map_release. */
#define WALK_RELEASE 512

/* One walk's step: id's value v of the walked database, handed to fn. */
static int
walk_one(struct store *s, MDB_txn *txn, struct walk *w, int64_t id, const MDB_val *v,
    int *stop, struct err *e)
{
	struct record r;
	int rc;

	if (w->fn == NULL) {
		struct message m;

		if (message_from_json(v->mv_data, v->mv_size, &m, NULL) != MC_OK) {
			store_unreadable(s, id, "message data", e);
			return TXN_FAILED;
		}
		*stop = w->msg_fn(w->arg, id, &m);
		return 0;
	}
	rc = read_record(s, txn, id, &r, e);
	if (rc != 0)
		return rc;
	*stop = w->fn(w->arg, &r);
	event_free(&r.ev);
	return 0;
}

static enum mc_err
walk(struct store *s, struct walk *w, struct err *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	enum mc_err mrc = MC_OK;
	size_t n = 0;
	int rc, stop = 0;

	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = mdb_cursor_open(txn, w->fn ? s->events : s->messages, &cur);
	if (rc != 0)
		goto abort_txn;
	store_key_id(kb, w->from);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			mrc = store_damaged(s, e, "a conference key is not 8 bytes");
			break;
		}
		rc = walk_one(s, txn, w, (int64_t)be64_get(k.mv_data), &v, &stop, e);
		if (rc == TXN_FAILED) {
			mrc = e->kind;
			break;
		}
		if (rc != 0 || stop)
			break;
		if (++n % WALK_RELEASE == 0)
			map_release(s);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
abort_txn:
	mdb_txn_abort(txn);
	map_release(s);
	if (mrc == MC_OK && rc != 0)
		mrc = store_lmdb_err(s, rc, "read it", e);
	return mrc;
}

static enum mc_err
load_window(struct store *s, int64_t from, int64_t to, struct record_list *out,
    struct err *e)
{
	return store_load_window_where(s, from, to, NULL, NULL, out, e);
}

enum mc_err
store_load_window_where(struct store *s, int64_t from, int64_t to, store_keep_fn keep,
    void *arg, struct record_list *out, struct err *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	unsigned char kb[16];
	MDB_val k = { 16, kb }, v;
	struct record r;
	size_t first = out->n;
	enum mc_err mrc = MC_OK;
	int rc;

	if (from < 0)
		from = 0;
	if (to <= from)
		return MC_OK;
	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = mdb_cursor_open(txn, s->by_start, &cur);
	if (rc != 0)
		goto abort_txn;
	key_start(kb, from, 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t start, id;

		if (k.mv_size != 16) {
			mrc = store_damaged(s, e, "a by_start key is not 16 bytes");
			break;
		}
		start = (int64_t)be64_get(k.mv_data);
		if (start >= to || start < 0)
			break;
		id = (int64_t)be64_get((const unsigned char *)k.mv_data + 8);
		if (keep != NULL) {
			struct message m;

			rc = store_txn_get_message(s, txn, id, &m, e);
			if (rc == 0 && !keep(arg, id, start, &m))
				continue;
			if (rc == TXN_FAILED) {
				mrc = e->kind;
				break;
			}
		}
		rc = read_record(s, txn, id, &r, e);
		if (rc == TXN_FAILED) {
			mrc = e->kind;
			break;
		}
		if (rc == 0 && r.ev.start != start) {
			char why[96];

			event_free(&r.ev);
			snprintf(why, sizeof why, "by_start disagrees with conference %lld",
			    (long long)id);
			mrc = store_damaged(s, e, why);
			break;
		}
		if (rc == MDB_NOTFOUND) {
			char why[96];

			snprintf(why, sizeof why, "by_start names conference %lld, which is not stored",
			    (long long)id);
			mrc = store_damaged(s, e, why);
			break;
		}
		if (rc != 0)
			break;
		record_list_push(out, &r);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
abort_txn:
	mdb_txn_abort(txn);
	if (mrc == MC_OK && rc != 0)
		mrc = store_lmdb_err(s, rc, "read it", e);
	if (mrc != MC_OK) {
		drop_appended(out, first);
	}
	return mrc;
}

static enum mc_err
get_record(struct store *s, int64_t id, struct record *out, struct err *e)
{
	MDB_txn *txn;
	int rc;

	memset(out, 0, sizeof *out);
	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = read_record(s, txn, id, out, e);
	mdb_txn_abort(txn);
	if (rc == TXN_FAILED)
		return e->kind;
	if (rc == MDB_NOTFOUND)
		return err_set(e, MC_ERR_NOTFOUND, "conference %lld is not in the state",
		    (long long)id);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	return MC_OK;
}

enum mc_err
store_meta_get(struct store *s, const char *key, char **val, struct err *e)
{
	MDB_txn *txn;
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	*val = NULL;
	rc = store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return store_lmdb_err(s, rc, "read it", e);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0)
		*val = xstrndup(v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_lmdb_err(s, rc, "read it", e);
	return MC_OK;
}

/* ---- writing ----------------------------------------------------------- */

static enum mc_err
txn_write(struct store *s, store_txn_step op, void *arg, struct err *e)
{
	MDB_txn *txn;
	MDB_envinfo info;
	int rc, grown;

	if (s->rdonly)
		return err_set(e, MC_ERR_IO, "state file %s is open read-only", s->path);
	for (grown = 0; ; grown++) {
		rc = store_txn_begin(s, 0, &txn);
		if (rc != 0)
			return store_lmdb_err(s, rc, "write it", e);
		rc = op(s, txn, arg, e);
		if (rc == 0) {
			rc = mdb_txn_commit(txn);
			/* each write reads a few pages of the map: over thousands
			 * of commits, the whole file */
			if (rc == 0 && ++s->commits >= WALK_RELEASE / 4)
				map_release(s);
		} else {
			mdb_txn_abort(txn);
			if (rc == TXN_NOCHANGE)
				return MC_OK;
			if (rc == TXN_FAILED)
				return e->kind;
		}
		if (rc == 0)
			return MC_OK;
		if (rc != MDB_MAP_FULL || grown == 24)
			break;
		rc = mdb_env_info(s->env, &info);
		if (rc == 0 && info.me_mapsize > SIZE_MAX / 2)
			rc = MDB_MAP_FULL;
		if (rc == 0)
			rc = mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
		if (rc != 0)
			break;
	}
	if (rc == MDB_MAP_FULL)
		return err_set(e, MC_ERR_IO, "state file %s is full and its map cannot grow further",
		    s->path);
	return store_lmdb_err(s, rc, "write it", e);
}

/* The start stored for key, or -1 when id is not stored; TXN_FAILED when
 * its record is unreadable. */
static int
stored_start(struct store *s, MDB_txn *txn, int64_t id, int64_t *start, struct err *e)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	struct event ev;
	int rc;

	*start = -1;
	store_key_id(kb, id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (event_from_json(v.mv_data, v.mv_size, &ev, NULL) != MC_OK) {
		store_unreadable(s, id, "record", e);
		return TXN_FAILED;
	}
	*start = ev.start;
	event_free(&ev);
	return 0;
}

int
store_txn_get_message(struct store *s, MDB_txn *txn, int64_t id, struct message *m,
    struct err *e)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	memset(m, 0, sizeof *m);
	store_key_id(kb, id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc != 0)
		return rc;
	rc = mdb_get(txn, s->messages, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (message_from_json(v.mv_data, v.mv_size, m, NULL) != MC_OK) {
		store_unreadable(s, id, "message data", e);
		return TXN_FAILED;
	}
	return 0;
}

int
store_txn_put_message(struct store *s, MDB_txn *txn, int64_t id, const struct message *m)
{
	unsigned char kb[8];
	char *json = message_to_json(m);
	MDB_val k = { 8, kb }, v = { strlen(json), json };
	int rc;

	store_key_id(kb, id);
	rc = mdb_put(txn, s->messages, &k, &v, 0);
	free(json);
	return rc;
}

int
store_txn_put_record(struct store *s, MDB_txn *txn, const struct record *r, int keep_ping,
    struct err *e)
{
	unsigned char kb[8], sb[16];
	MDB_val k = { 8, kb }, sk = { 16, sb }, v, empty = { 0, NULL };
	struct message m = r->msg, old;
	int64_t old_start;
	char *json;
	int rc;

	rc = stored_start(s, txn, r->ev.id, &old_start, e);
	if (rc != 0)
		return rc;
	if (keep_ping && old_start >= 0) {
		rc = store_txn_get_message(s, txn, r->ev.id, &old, e);
		if (rc != 0)
			return rc;
		m.ping = old.ping;
		memcpy(m.ping_id, old.ping_id, sizeof m.ping_id);
		m.ping_at = old.ping_at;
		m.ping_offset = old.ping_offset;
		m.ping_sent_at = old.ping_sent_at;
		memcpy(m.ping_old, old.ping_old, sizeof m.ping_old);
	}
	store_key_id(kb, r->ev.id);
	json = event_to_json(&r->ev);
	v.mv_size = strlen(json);
	v.mv_data = json;
	rc = mdb_put(txn, s->events, &k, &v, 0);
	free(json);
	if (rc == 0)
		rc = store_txn_put_message(s, txn, r->ev.id, &m);
	if (rc != 0)
		return rc;
	if (old_start >= 0 && old_start != r->ev.start) {
		key_start(sb, old_start, r->ev.id);
		rc = mdb_del(txn, s->by_start, &sk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	key_start(sb, r->ev.start, r->ev.id);
	return mdb_put(txn, s->by_start, &sk, &empty, 0);
}

struct put_arg {
	const struct record *r;
	size_t n;
};

static int
op_put(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct put_arg *a = arg;
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++) {
		rc = store_txn_put_record(s, txn, &a->r[i], 0, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

enum mc_err
store_check_keys(const struct record *r, size_t n, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].ev.id < 0 || r[i].ev.start < 0)
			return err_set(e, MC_ERR_DATA, "conference %lld starting at %lld cannot be "
			    "stored: negative id or start", (long long)r[i].ev.id,
			    (long long)r[i].ev.start);
	return MC_OK;
}

enum mc_err
store_put_many(struct store *s, const struct record *r, size_t n, struct err *e)
{
	struct put_arg a = { r, n };

	if (store_check_keys(r, n, e) != MC_OK)
		return e->kind;
	if (n == 0)
		return MC_OK;
	return store_txn_write(s, op_put, &a, e);
}

enum mc_err
store_put(struct store *s, const struct record *r, struct err *e)
{
	return store_put_many(s, r, 1, e);
}

int
store_txn_remove(struct store *s, MDB_txn *txn, int64_t id, struct err *e)
{
	int64_t start;
	unsigned char kb[8], sb[16];
	MDB_val k = { 8, kb }, sk = { 16, sb };
	int rc;

	rc = stored_start(s, txn, id, &start, e);
	if (rc != 0)
		return rc;
	if (start < 0)
		return TXN_NOCHANGE;
	store_key_id(kb, id);
	rc = mdb_del(txn, s->events, &k, NULL);
	if (rc == 0)
		rc = mdb_del(txn, s->messages, &k, NULL);
	if (rc == 0 || rc == MDB_NOTFOUND) {
		key_start(sb, start, id);
		rc = mdb_del(txn, s->by_start, &sk, NULL);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
op_remove(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	return store_txn_remove(s, txn, *(const int64_t *)arg, e);
}

enum mc_err
store_remove(struct store *s, int64_t id, struct err *e)
{
	return store_txn_write(s, op_remove, &id, e);
}
