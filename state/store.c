/* store: the state in LMDB.  See store.h for the schema. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <lmdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A new file's map: room for some 50,000 conferences before it grows. */
#define DEFAULT_MAPSIZE ((size_t)64 << 20)

/* An op's return beyond LMDB's codes: e is filled / nothing to commit. */
#define OP_FAILED   (-1)
#define OP_NOCHANGE (-2)

struct store {
	char *path;
	MDB_env *env;
	MDB_dbi meta, events, messages, by_start;
	int rdonly;
	int schema;
};

static const char *const db_names[] = { "meta", "events", "messages", "by_start" };

/* ---- errors ---------------------------------------------------------- */

static enum mc_err
damaged(const struct store *s, struct err *e, const char *why)
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

static enum mc_err
lmdb_err(const struct store *s, int rc, const char *what, struct err *e)
{
	if (is_damage(rc))
		return damaged(s, e, mdb_strerror(rc));
	return err_set(e, MC_ERR_IO, "state file %s: cannot %s: %s", s->path, what,
	    mdb_strerror(rc));
}

/* ---- the header check ------------------------------------------------ */

/* LMDB's meta page as it lies on disk (data format 1: MDB_page followed by
 * MDB_meta in mdb.c, native byte order).  LMDB trusts the page size and
 * page count it finds there (a page size of 0 divides by zero, a short
 * file faults on access), so they are checked before LMDB maps the file. */
struct lmdb_db {
	uint32_t pad;             /* page size, in the free db of the meta */
	uint16_t flags, depth;
	size_t branch_pages, leaf_pages, overflow_pages, entries, root;
};

struct lmdb_meta_page {
	size_t pgno;
	uint16_t pad, flags;
	uint16_t lower, upper;
	uint32_t magic, version;
	void *address;
	size_t mapsize;
	struct lmdb_db dbs[2];
	size_t last_pg, txnid;
};

_Static_assert(offsetof(struct lmdb_meta_page, magic) == sizeof(size_t) + 8,
    "MDB_meta follows a page header of pgno + 8 bytes");

#define LMDB_P_META    0x08
#define LMDB_MAGIC     0xBEEFC0DEu
#define LMDB_VERSION   1u
#define LMDB_P_INVALID ((size_t)-1)

enum header { HEADER_OK, HEADER_EMPTY, HEADER_ABSENT, HEADER_BAD, HEADER_SHAKY };

static int
read_meta(int fd, off_t off, struct lmdb_meta_page *m, char *why, size_t whylen)
{
	ssize_t n = pread(fd, m, sizeof *m, off);

	if (n != (ssize_t)sizeof *m) {
		snprintf(why, whylen, "too short to be an LMDB file");
		return -1;
	}
	if (!(m->flags & LMDB_P_META) || m->magic != LMDB_MAGIC) {
		snprintf(why, whylen, "not an LMDB file");
		return -1;
	}
	if (m->version != LMDB_VERSION) {
		snprintf(why, whylen, "LMDB data format %u, not %u", (unsigned)m->version,
		    LMDB_VERSION);
		return -1;
	}
	return 0;
}

static int
root_ok(size_t root, size_t last_pg)
{
	return root == LMDB_P_INVALID || (root >= 2 && root <= last_pg);
}

/* Check the two meta pages and the file's length.  HEADER_SHAKY: the
 * figures a writer updates do not add up, which a meta page read while
 * another process commits may show; worth reading again. */
static enum header
check_header(const char *path, char *why, size_t whylen, int *err)
{
	struct lmdb_meta_page m0, m1;
	const struct lmdb_meta_page *m;
	struct stat st;
	size_t psize;
	enum header h = HEADER_BAD;
	int fd;

	*err = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return errno == ENOENT ? HEADER_ABSENT : HEADER_BAD;
	}
	if (fstat(fd, &st) != 0) {
		*err = errno;
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto close_fd;
	}
	if (st.st_size == 0) {
		h = HEADER_EMPTY;
		goto close_fd;
	}
	if (read_meta(fd, 0, &m0, why, whylen) != 0)
		goto close_fd;
	psize = m0.dbs[0].pad;
	if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0) {
		snprintf(why, whylen, "page size %zu", psize);
		goto close_fd;
	}
	if ((uint64_t)st.st_size < 2 * (uint64_t)psize) {
		snprintf(why, whylen, "truncated: %lld bytes", (long long)st.st_size);
		goto close_fd;
	}
	if (read_meta(fd, (off_t)psize, &m1, why, whylen) != 0)
		goto close_fd;
	if (m1.dbs[0].pad != psize) {
		snprintf(why, whylen, "page sizes %zu and %u", psize, (unsigned)m1.dbs[0].pad);
		goto close_fd;
	}
	/* The meta LMDB will use: the later transaction. */
	m = m1.txnid > m0.txnid ? &m1 : &m0;
	h = HEADER_SHAKY;
	if (m->last_pg < 1 || m->last_pg >= (uint64_t)st.st_size / psize) {
		snprintf(why, whylen, "truncated: %lld bytes, the data needs %llu",
		    (long long)st.st_size,
		    m->last_pg < SIZE_MAX / psize ? (unsigned long long)((m->last_pg + 1) * psize) : 0ULL);
		goto close_fd;
	}
	if (!root_ok(m->dbs[0].root, m->last_pg) || !root_ok(m->dbs[1].root, m->last_pg)) {
		snprintf(why, whylen, "a root page beyond the data");
		goto close_fd;
	}
	h = HEADER_OK;
close_fd:
	close(fd);
	return h;
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

static int
txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
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

/* Does the main database hold anything but our named databases? */
static int
census(MDB_txn *txn, size_t *entries, int *foreign)
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
		for (i = 0; i < sizeof db_names / sizeof db_names[0]; i++)
			if (k.mv_size == strlen(db_names[i]) &&
			    memcmp(k.mv_data, db_names[i], k.mv_size) == 0)
				ours = 1;
		if (!ours)
			*foreign = 1;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Upgrade a file of schema from to STORE_SCHEMA inside txn.  Each step
 * goes from schema n to n + 1; none exists yet, schema 1 being the first. */
static enum mc_err
migrate(struct store *s, MDB_txn *txn, int64_t from, struct err *e)
{
	(void)txn;
	switch (from) {
	default:
		return damaged(s, e, "schema 0 was never written by moodlecord");
	}
}

/* What the schema text says: MC_OK with *v = version when this program
 * can use it (possibly after migrating), else an error. */
static enum mc_err
parse_schema(struct store *s, const MDB_val *val, int64_t *v, struct err *e)
{
	char buf[24];
	char why[64];

	if (val->mv_size == 0 || val->mv_size >= sizeof buf)
		return damaged(s, e, "its schema is unreadable");
	memcpy(buf, val->mv_data, val->mv_size);
	buf[val->mv_size] = '\0';
	if (parse_int64(buf, 0, INT_MAX, v) != 0) {
		snprintf(why, sizeof why, "schema '%.20s'", buf);
		return damaged(s, e, why);
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

	rc = txn_begin(s, 0, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "initialise it", e);
	rc = census(txn, &entries, &foreign);
	if (rc != 0)
		goto lmdb_fail;
	if (foreign) {
		mdb_txn_abort(txn);
		return damaged(s, e, "it holds other databases");
	}
	for (i = 0; i < 4; i++) {
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, dbis[i]);
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
		return lmdb_err(s, rc, "initialise it", e);
	s->schema = STORE_SCHEMA;
	return MC_OK;
lmdb_fail:
	mdb_txn_abort(txn);
	return lmdb_err(s, rc, "initialise it", e);
}

/* The usual path: a read txn opens the databases and checks the schema.
 * Falls back to init_schema when the file is new or old. */
static enum mc_err
open_schema(struct store *s, struct err *e)
{
	MDB_dbi *dbis[] = { &s->meta, &s->events, &s->messages, &s->by_start };
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	size_t i, entries;
	int64_t ver;
	int rc, foreign;
	enum mc_err mrc;

	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		rc = census(txn, &entries, &foreign);
		mdb_txn_abort(txn);
		if (rc != 0)
			return lmdb_err(s, rc, "read it", e);
		if (foreign)
			return damaged(s, e, "it holds other databases");
		if (s->rdonly && entries == 0)
			return err_set(e, MC_ERR_NOTFOUND, "no state yet in %s", s->path);
		if (s->rdonly)
			return damaged(s, e, "it has no meta database");
		return init_schema(s, e);
	}
	if (rc != 0)
		goto lmdb_fail;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		if (s->rdonly)
			return damaged(s, e, "it records no schema");
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
		rc = mdb_dbi_open(txn, db_names[i], 0, dbis[i]);
		if (rc == MDB_NOTFOUND) {
			char why[64];

			mdb_txn_abort(txn);
			snprintf(why, sizeof why, "it lacks the %s database", db_names[i]);
			return damaged(s, e, why);
		}
		if (rc != 0)
			goto lmdb_fail;
	}
	/* Committing keeps the database handles open for later txns. */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	s->schema = (int)ver;
	return MC_OK;
lmdb_fail:
	mdb_txn_abort(txn);
	return lmdb_err(s, rc, "read it", e);
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

enum mc_err
store_open_ex(const char *path, int flags, size_t mapsize, struct store **out, struct err *e)
{
	struct store *s;
	enum header h;
	enum mc_err rc;
	char why[160] = "";
	int err, tries, lrc;

	*out = NULL;
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->rdonly = (flags & STORE_RDONLY) != 0;

	for (tries = 0; ; tries++) {
		h = check_header(path, why, sizeof why, &err);
		if (h != HEADER_SHAKY || tries == 3)
			break;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	if (h == HEADER_ABSENT && (s->rdonly || !(flags & STORE_CREATE))) {
		rc = err_set(e, MC_ERR_NOTFOUND, "no state yet: %s does not exist", path);
		goto free_store;
	}
	if (h == HEADER_EMPTY && s->rdonly) {
		rc = err_set(e, MC_ERR_NOTFOUND, "no state yet: %s is empty", path);
		goto free_store;
	}
	if (err != 0 && h != HEADER_ABSENT) {
		rc = err_set(e, MC_ERR_IO, "cannot read state file %s: %s", path, strerror(err));
		goto free_store;
	}
	if (h == HEADER_BAD || h == HEADER_SHAKY) {
		rc = damaged(s, e, why);
		goto free_store;
	}
	if (h == HEADER_ABSENT) {
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
		lrc = env_open(s, 0, h == HEADER_OK ? mapsize : mapsize ? mapsize : DEFAULT_MAPSIZE);
	}
	if (lrc != 0) {
		rc = lmdb_err(s, lrc, "open it", e);
		goto free_store;
	}
	rc = open_schema(s, e);
	if (rc != MC_OK)
		goto close_env;
	*out = s;
	return MC_OK;
close_env:
	mdb_env_close(s->env);
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
	mdb_env_close(s->env);
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

/* ---- a fast reader of the flat JSON that store writes -------------------- */

/* `ping` reads a day of conferences every minute; json-c takes some
 * microseconds per object (allocations, a locale per parse).  The objects
 * store writes are flat: json-c's plain output of strings and integers.
 * flat_read parses exactly that form, and anything else (spaces, floats,
 * nesting) is left to json-c, so both read the same values. */

struct flat_key {
	const char *name;
	size_t len;
	int is_str;
	size_t off;          /* of a char * (is_str) or an int64_t in the struct */
};

#define FLAT_KEY(name, is_str, type, field) { name, sizeof name - 1, is_str, offsetof(type, field) }

static const struct flat_key event_keys[] = {
	FLAT_KEY("id", 0, struct event, id),
	FLAT_KEY("course_id", 0, struct event, course_id),
	FLAT_KEY("course_short", 1, struct event, course_short),
	FLAT_KEY("course_name", 1, struct event, course_name),
	FLAT_KEY("name", 1, struct event, name),
	FLAT_KEY("module", 1, struct event, module),
	FLAT_KEY("cmid", 0, struct event, cmid),
	FLAT_KEY("url", 1, struct event, url),
	FLAT_KEY("site_name", 1, struct event, site_name),
	FLAT_KEY("start", 0, struct event, start),
	FLAT_KEY("duration", 0, struct event, duration),
	FLAT_KEY("missing", 0, struct event, missing),
};

/* The end of the JSON string starting after its opening quote, or NULL. */
static const char *
flat_str_end(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '"')
			return p;
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && ++p == end)
			return NULL;
	}
	return NULL;
}

static int
hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Unescape the JSON string body [p, end) into a new string of valid UTF-8
 * (invalid bytes become U+FFFD, as event_from_json does); NULL when it
 * holds an escape json-c would read differently (or a NUL). */
static char *
flat_unescape(const char *p, const char *end)
{
	struct buf b = { 0 };
	unsigned u, lo;
	char *out;

	while (p < end) {
		const char *run = p;

		while (p < end && *p != '\\')
			p++;
		buf_add(&b, run, (size_t)(p - run));
		if (p == end)
			break;
		switch (p[1]) {
		case '"': case '\\': case '/': buf_add(&b, p + 1, 1); break;
		case 'b': buf_adds(&b, "\b"); break;
		case 'f': buf_adds(&b, "\f"); break;
		case 'n': buf_adds(&b, "\n"); break;
		case 'r': buf_adds(&b, "\r"); break;
		case 't': buf_adds(&b, "\t"); break;
		case 'u':
			if (end - p < 6 || hex4(p + 2, &u) != 0 || u == 0)
				goto refuse;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto refuse;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				goto refuse;
			}
			buf_add_cp(&b, u);
			p += 4;
			break;
		default:
			goto refuse;
		}
		p += 2;
	}
	out = buf_take(&b);
	if (!utf8_valid(out, strlen(out))) {
		char *fixed = utf8_repair(out, strlen(out));

		free(out);
		out = fixed;
	}
	return out;
refuse:
	buf_free(&b);
	return NULL;
}

static int
flat_int(const char *p, const char *end, int64_t *v)
{
	int neg = *p == '-';
	uint64_t x = 0, lim;

	if (neg)
		p++;
	if (p == end || (*p == '0' && end - p > 1))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || x > (lim - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

/* Read the flat object [p, p + n) into the struct at obj by keys[]: every
 * key present once, no other.  0, or -1 with the strings read so far
 * freed (the caller then asks json-c). */
static int
flat_read(const char *p, size_t n, const struct flat_key *keys, size_t nkeys, void *obj)
{
	const char *end = p + n, *k, *kend, *v;
	uint32_t seen = 0;
	size_t i, next = 0;

	if (n < 2 || *p != '{' || end[-1] != '}')
		return -1;
	p++;
	end--;
	while (p < end) {
		if (*p != '"')
			goto refuse;
		k = p + 1;
		kend = flat_str_end(k, end);
		if (kend == NULL || kend + 1 >= end || kend[1] != ':')
			goto refuse;
		/* Keys come in the table's order: try the next one first. */
		if (!(next < nkeys && keys[next].len == (size_t)(kend - k) &&
		    memcmp(keys[next].name, k, keys[next].len) == 0)) {
			for (next = 0; next < nkeys; next++)
				if (keys[next].len == (size_t)(kend - k) &&
				    memcmp(keys[next].name, k, keys[next].len) == 0)
					break;
		}
		i = next++;
		if (i >= nkeys || (seen & 1u << i))
			goto refuse;
		seen |= 1u << i;
		p = kend + 2;
		if (keys[i].is_str) {
			char **dst = (char **)((char *)obj + keys[i].off);

			if (p == end || *p != '"')
				goto refuse;
			v = flat_str_end(p + 1, end);
			if (v == NULL)
				goto refuse;
			*dst = flat_unescape(p + 1, v);
			if (*dst == NULL)
				goto refuse;
			p = v + 1;
		} else {
			for (v = p; v < end && *v != ','; v++)
				;
			if (flat_int(p, v, (int64_t *)(void *)((char *)obj + keys[i].off)) != 0)
				goto refuse;
			p = v;
		}
		if (p < end && *p++ != ',')
			goto refuse;
		if (p == end && p[-1] == ',')
			goto refuse;
	}
	if (seen == (1u << nkeys) - 1)
		return 0;
refuse:
	for (i = 0; i < nkeys; i++) {
		if (keys[i].is_str && (seen & 1u << i)) {
			char **dst = (char **)((char *)obj + keys[i].off);

			free(*dst);
			*dst = NULL;
		}
	}
	return -1;
}

/* ---- encoding ---------------------------------------------------------- */

static void
key_id(unsigned char k[8], int64_t id)
{
	be64_put(k, (uint64_t)id);
}

static void
key_start(unsigned char k[16], int64_t start, int64_t id)
{
	be64_put(k, (uint64_t)start);
	be64_put(k + 8, (uint64_t)id);
}

static char *
message_to_json(const struct message *m)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "msg_id",
	    json_object_new_string_len(m->msg_id, (int)strnlen(m->msg_id, sizeof m->msg_id - 1)));
	json_object_object_add(o, "hash",
	    json_object_new_string_len(m->hash, (int)strnlen(m->hash, sizeof m->hash - 1)));
	json_object_object_add(o, "ping_id",
	    json_object_new_string_len(m->ping_id, (int)strnlen(m->ping_id, sizeof m->ping_id - 1)));
	json_object_object_add(o, "ping", json_object_new_string(ping_state_name(m->ping)));
	json_object_object_add(o, "ping_at", json_object_new_int64(m->ping_at));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static int
copy_str(json_object *o, const char *k, char *dst, size_t cap)
{
	json_object *v;
	int n;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	n = json_object_get_string_len(v);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	memcpy(dst, json_object_get_string(v), (size_t)n);
	dst[n] = '\0';
	return 0;
}

static int
message_from_json_c(const char *p, size_t n, struct message *m)
{
	struct json_tokener *tok;
	json_object *o, *v;
	const char *name;
	int bad = 0, i;

	memset(m, 0, sizeof *m);
	if (n > INT_MAX)
		return -1;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, p, (int)n);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		bad = 1;
	json_tokener_free(tok);
	if (bad) {
		json_object_put(o);
		return -1;
	}
	bad |= copy_str(o, "msg_id", m->msg_id, sizeof m->msg_id);
	bad |= copy_str(o, "hash", m->hash, sizeof m->hash);
	bad |= copy_str(o, "ping_id", m->ping_id, sizeof m->ping_id);
	if (json_object_object_get_ex(o, "ping_at", &v) && json_object_is_type(v, json_type_int))
		m->ping_at = json_object_get_int64(v);
	else
		bad = 1;
	if (json_object_object_get_ex(o, "ping", &v) && json_object_is_type(v, json_type_string)) {
		name = json_object_get_string(v);
		for (i = PING_NONE; i <= PING_DONE; i++)
			if (strcmp(name, ping_state_name((enum ping_state)i)) == 0)
				break;
		if (i > PING_DONE)
			bad = 1;
		else
			m->ping = (enum ping_state)i;
	} else {
		bad = 1;
	}
	json_object_put(o);
	return bad ? -1 : 0;
}

struct flat_message {
	char *msg_id, *hash, *ping_id, *ping;
	int64_t ping_at;
};

static const struct flat_key message_keys[] = {
	FLAT_KEY("msg_id", 1, struct flat_message, msg_id),
	FLAT_KEY("hash", 1, struct flat_message, hash),
	FLAT_KEY("ping_id", 1, struct flat_message, ping_id),
	FLAT_KEY("ping", 1, struct flat_message, ping),
	FLAT_KEY("ping_at", 0, struct flat_message, ping_at),
};

static int
copy_flat(const char *src, char *dst, size_t cap)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

/* The stored message data into m: 0, or -1 when it is unreadable. */
static int
message_from_json(const char *p, size_t n, struct message *m)
{
	struct flat_message f = { 0 };
	int bad = 0, i;

	if (flat_read(p, n, message_keys, 5, &f) != 0)
		return message_from_json_c(p, n, m);
	memset(m, 0, sizeof *m);
	bad |= copy_flat(f.msg_id, m->msg_id, sizeof m->msg_id);
	bad |= copy_flat(f.hash, m->hash, sizeof m->hash);
	bad |= copy_flat(f.ping_id, m->ping_id, sizeof m->ping_id);
	m->ping_at = f.ping_at;
	for (i = PING_NONE; i <= PING_DONE; i++)
		if (strcmp(f.ping, ping_state_name((enum ping_state)i)) == 0)
			break;
	if (i > PING_DONE)
		bad = 1;
	else
		m->ping = (enum ping_state)i;
	free(f.msg_id);
	free(f.hash);
	free(f.ping_id);
	free(f.ping);
	return bad ? -1 : 0;
}

/* The stored conference into ev (zeroed first): 0, or -1. */
static int
event_read(const char *p, size_t n, struct event *ev)
{
	memset(ev, 0, sizeof *ev);
	if (flat_read(p, n, event_keys, sizeof event_keys / sizeof event_keys[0], ev) == 0)
		return 0;
	return event_from_json(p, n, ev, NULL) == MC_OK ? 0 : -1;
}

static enum mc_err
unreadable(const struct store *s, int64_t id, const char *what, struct err *e)
{
	char why[96];

	snprintf(why, sizeof why, "the %s of conference %lld is unreadable", what, (long long)id);
	return damaged(s, e, why);
}

/* Read conference id into r (copied out).  MDB_NOTFOUND when absent;
 * OP_FAILED with e filled when the stored text is unreadable. */
static int
read_record(struct store *s, MDB_txn *txn, int64_t id, struct record *r, struct err *e)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	memset(r, 0, sizeof *r);
	key_id(kb, id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc != 0)
		return rc;
	if (event_read(v.mv_data, v.mv_size, &r->ev) != 0 || r->ev.id != id) {
		event_free(&r->ev);
		unreadable(s, id, "record", e);
		return OP_FAILED;
	}
	rc = mdb_get(txn, s->messages, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc == 0 && message_from_json(v.mv_data, v.mv_size, &r->msg) != 0) {
		event_free(&r->ev);
		unreadable(s, id, "message data", e);
		return OP_FAILED;
	}
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

enum mc_err
store_load_all(struct store *s, struct record_list *out, struct err *e)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct record r;
	size_t first = out->n;
	enum mc_err mrc = MC_OK;
	int rc;

	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	rc = mdb_cursor_open(txn, s->events, &cur);
	if (rc != 0)
		goto abort_txn;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t id;

		if (k.mv_size != 8) {
			mrc = damaged(s, e, "a conference key is not 8 bytes");
			break;
		}
		id = (int64_t)be64_get(k.mv_data);
		rc = read_record(s, txn, id, &r, e);
		if (rc == OP_FAILED) {
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
		mrc = lmdb_err(s, rc, "read it", e);
	if (mrc != MC_OK) {
		while (out->n > first)
			event_free(&out->v[--out->n].ev);
		return mrc;
	}
	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof *out->v, record_cmp);
	return MC_OK;
}

enum mc_err
store_load_window(struct store *s, int64_t from, int64_t to, struct record_list *out,
    struct err *e)
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
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	rc = mdb_cursor_open(txn, s->by_start, &cur);
	if (rc != 0)
		goto abort_txn;
	key_start(kb, from, 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t start, id;

		if (k.mv_size != 16) {
			mrc = damaged(s, e, "a by_start key is not 16 bytes");
			break;
		}
		start = (int64_t)be64_get(k.mv_data);
		if (start >= to || start < 0)
			break;
		id = (int64_t)be64_get((const unsigned char *)k.mv_data + 8);
		rc = read_record(s, txn, id, &r, e);
		if (rc == OP_FAILED) {
			mrc = e->kind;
			break;
		}
		if (rc == 0 && r.ev.start != start) {
			char why[96];

			event_free(&r.ev);
			snprintf(why, sizeof why, "by_start disagrees with conference %lld",
			    (long long)id);
			mrc = damaged(s, e, why);
			break;
		}
		if (rc == MDB_NOTFOUND) {
			char why[96];

			snprintf(why, sizeof why, "by_start names conference %lld, which is not stored",
			    (long long)id);
			mrc = damaged(s, e, why);
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
		mrc = lmdb_err(s, rc, "read it", e);
	if (mrc != MC_OK) {
		while (out->n > first)
			event_free(&out->v[--out->n].ev);
	}
	return mrc;
}

enum mc_err
store_get(struct store *s, int64_t id, struct record *out, struct err *e)
{
	MDB_txn *txn;
	int rc;

	memset(out, 0, sizeof *out);
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	rc = read_record(s, txn, id, out, e);
	mdb_txn_abort(txn);
	if (rc == OP_FAILED)
		return e->kind;
	if (rc == MDB_NOTFOUND)
		return err_set(e, MC_ERR_NOTFOUND, "conference %lld is not in the state",
		    (long long)id);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	return MC_OK;
}

enum mc_err
store_meta_get(struct store *s, const char *key, char **val, struct err *e)
{
	MDB_txn *txn;
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	*val = NULL;
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err(s, rc, "read it", e);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0)
		*val = xstrndup(v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_err(s, rc, "read it", e);
	return MC_OK;
}

/* ---- writing ----------------------------------------------------------- */

typedef int (*write_op)(struct store *s, MDB_txn *txn, void *arg, struct err *e);

/* Run op in a write transaction and commit it.  op returns 0 (commit),
 * OP_NOCHANGE (abort, success), OP_FAILED (abort, e filled) or an LMDB
 * code.  A full map is doubled and op run again from the start, so op
 * must not keep anything from a failed attempt. */
static enum mc_err
run_write(struct store *s, write_op op, void *arg, struct err *e)
{
	MDB_txn *txn;
	MDB_envinfo info;
	int rc, grown;

	if (s->rdonly)
		return err_set(e, MC_ERR_IO, "state file %s is open read-only", s->path);
	for (grown = 0; ; grown++) {
		rc = txn_begin(s, 0, &txn);
		if (rc != 0)
			return lmdb_err(s, rc, "write it", e);
		rc = op(s, txn, arg, e);
		if (rc == 0) {
			rc = mdb_txn_commit(txn);
		} else {
			mdb_txn_abort(txn);
			if (rc == OP_NOCHANGE)
				return MC_OK;
			if (rc == OP_FAILED)
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
	return lmdb_err(s, rc, "write it", e);
}

/* The start stored for key, or -1 when id is not stored; OP_FAILED when
 * its record is unreadable. */
static int
stored_start(struct store *s, MDB_txn *txn, int64_t id, int64_t *start, struct err *e)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	struct event ev;
	int rc;

	*start = -1;
	key_id(kb, id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (event_read(v.mv_data, v.mv_size, &ev) != 0) {
		unreadable(s, id, "record", e);
		return OP_FAILED;
	}
	*start = ev.start;
	event_free(&ev);
	return 0;
}

static int
put_record(struct store *s, MDB_txn *txn, const struct record *r, int keep_ping, struct err *e)
{
	unsigned char kb[8], sb[16];
	MDB_val k = { 8, kb }, sk = { 16, sb }, v, empty = { 0, NULL };
	struct message m = r->msg;
	int64_t old_start;
	char *json;
	int rc;

	rc = stored_start(s, txn, r->ev.id, &old_start, e);
	if (rc != 0)
		return rc;
	key_id(kb, r->ev.id);
	if (keep_ping && old_start >= 0) {
		struct message old;

		rc = mdb_get(txn, s->messages, &k, &v);
		if (rc == 0) {
			if (message_from_json(v.mv_data, v.mv_size, &old) != 0) {
				unreadable(s, r->ev.id, "message data", e);
				return OP_FAILED;
			}
			m.ping = old.ping;
			memcpy(m.ping_id, old.ping_id, sizeof m.ping_id);
			m.ping_at = old.ping_at;
		} else if (rc != MDB_NOTFOUND) {
			return rc;
		}
	}
	json = event_to_json(&r->ev);
	v.mv_size = strlen(json);
	v.mv_data = json;
	rc = mdb_put(txn, s->events, &k, &v, 0);
	free(json);
	if (rc != 0)
		return rc;
	json = message_to_json(&m);
	v.mv_size = strlen(json);
	v.mv_data = json;
	rc = mdb_put(txn, s->messages, &k, &v, 0);
	free(json);
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
	int keep_ping;
};

static int
op_put(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct put_arg *a = arg;
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++) {
		rc = put_record(s, txn, &a->r[i], a->keep_ping, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static enum mc_err
check_keys(const struct record *r, size_t n, struct err *e)
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
	struct put_arg a = { r, n, 0 };

	if (check_keys(r, n, e) != MC_OK)
		return e->kind;
	if (n == 0)
		return MC_OK;
	return run_write(s, op_put, &a, e);
}

enum mc_err
store_put(struct store *s, const struct record *r, struct err *e)
{
	return store_put_many(s, r, 1, e);
}

enum mc_err
store_put_keep_ping(struct store *s, const struct record *r, struct err *e)
{
	struct put_arg a = { r, 1, 1 };

	if (check_keys(r, 1, e) != MC_OK)
		return e->kind;
	return run_write(s, op_put, &a, e);
}

static int
op_remove(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	int64_t id = *(const int64_t *)arg, start;
	unsigned char kb[8], sb[16];
	MDB_val k = { 8, kb }, sk = { 16, sb };
	int rc;

	rc = stored_start(s, txn, id, &start, e);
	if (rc != 0)
		return rc;
	if (start < 0)
		return OP_NOCHANGE;
	key_id(kb, id);
	rc = mdb_del(txn, s->events, &k, NULL);
	if (rc == 0)
		rc = mdb_del(txn, s->messages, &k, NULL);
	if (rc == 0 || rc == MDB_NOTFOUND) {
		key_start(sb, start, id);
		rc = mdb_del(txn, s->by_start, &sk, NULL);
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

enum mc_err
store_remove(struct store *s, int64_t id, struct err *e)
{
	return run_write(s, op_remove, &id, e);
}

struct remove_arg {
	int64_t id, now, stale_after;
	const char *ping_deleted;
	int *removed;
};

static int
op_remove_unless_pinging(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	struct remove_arg *a = arg;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	struct message m;
	char *json;
	int rc, pinging;

	*a->removed = 0;
	key_id(kb, a->id);
	rc = mdb_get(txn, s->messages, &k, &v);
	if (rc == MDB_NOTFOUND) {
		*a->removed = 1;
		return op_remove(s, txn, &a->id, e);
	}
	if (rc != 0)
		return rc;
	if (message_from_json(v.mv_data, v.mv_size, &m) != 0) {
		unreadable(s, a->id, "message data", e);
		return OP_FAILED;
	}
	/* a claim is fresh as in store_ping_claim; no arithmetic on ping_at,
	 * whatever the file holds */
	pinging = (m.ping == PING_CLAIMED && m.ping_at >= a->now - a->stale_after) ||
	    (m.ping_id[0] != '\0' && strcmp(m.ping_id, a->ping_deleted) != 0);
	if (!pinging) {
		*a->removed = 1;
		return op_remove(s, txn, &a->id, e);
	}
	if (m.msg_id[0] == '\0' && m.hash[0] == '\0')
		return OP_NOCHANGE;
	m.msg_id[0] = '\0';
	m.hash[0] = '\0';
	json = message_to_json(&m);
	v.mv_size = strlen(json);
	v.mv_data = json;
	rc = mdb_put(txn, s->messages, &k, &v, 0);
	free(json);
	return rc;
}

enum mc_err
store_remove_unless_pinging(struct store *s, int64_t id, const char *ping_deleted,
    int64_t now, int64_t stale_after, int *removed, struct err *e)
{
	struct remove_arg a = { id, now, stale_after, ping_deleted ? ping_deleted : "", removed };

	return run_write(s, op_remove_unless_pinging, &a, e);
}

struct meta_arg {
	const char *key, *val;
};

static int
op_meta_put(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct meta_arg *a = arg;
	MDB_val k = { strlen(a->key), (void *)a->key }, v = { strlen(a->val), (void *)a->val };

	(void)e;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

enum mc_err
store_meta_put(struct store *s, const char *key, const char *val, struct err *e)
{
	struct meta_arg a = { key, val };

	if (*key == '\0')
		return err_set(e, MC_ERR_DATA, "an empty meta key cannot be stored");
	return run_write(s, op_meta_put, &a, e);
}

static enum mc_err
site_differs(struct store *s, const char *stored, size_t n, const char *site, struct err *e)
{
	return err_set(e, MC_ERR_CONFIG, "state file %s belongs to %.*s, not %s: set [state] path "
	    "to a new file, or remove %s to start afresh", s->path, (int)n, stored, site, s->path);
}

static int
op_check_site(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct meta_arg *a = arg;
	MDB_val k = { 4, "site" }, v;
	int rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size == strlen(a->val) && memcmp(v.mv_data, a->val, v.mv_size) == 0)
			return OP_NOCHANGE;
		site_differs(s, v.mv_data, v.mv_size, a->val, e);
		return OP_FAILED;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	v.mv_size = strlen(a->val);
	v.mv_data = (void *)a->val;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

enum mc_err
store_check_site(struct store *s, const char *site_url, struct err *e)
{
	struct meta_arg a = { "site", site_url };
	char *stored;
	enum mc_err rc;

	rc = store_meta_get(s, "site", &stored, e);
	if (rc != MC_OK)
		return rc;
	if (stored != NULL) {
		if (strcmp(stored, site_url) != 0)
			rc = site_differs(s, stored, strlen(stored), site_url, e);
		free(stored);
		return rc;
	}
	if (s->rdonly)
		return MC_OK;
	return run_write(s, op_check_site, &a, e);
}

struct ping_arg {
	int64_t id, now, stale_after;
	enum ping_state ping;
	const char *ping_id;
	int claim;
	int *won;
};

static int
op_ping(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	struct ping_arg *a = arg;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	struct message m;
	char *json;
	int rc;

	if (a->won != NULL)
		*a->won = 0;
	key_id(kb, a->id);
	rc = mdb_get(txn, s->events, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, MC_ERR_NOTFOUND, "conference %lld is not in the state", (long long)a->id);
		return OP_FAILED;
	}
	if (rc != 0)
		return rc;
	rc = mdb_get(txn, s->messages, &k, &v);
	if (rc == MDB_NOTFOUND)
		memset(&m, 0, sizeof m);
	else if (rc != 0)
		return rc;
	else if (message_from_json(v.mv_data, v.mv_size, &m) != 0) {
		unreadable(s, a->id, "message data", e);
		return OP_FAILED;
	}
	if (a->claim) {
		if (!(m.ping == PING_NONE ||
		    (m.ping == PING_CLAIMED && a->now - m.ping_at > a->stale_after)))
			return OP_NOCHANGE;
		m.ping = PING_CLAIMED;
		m.ping_at = a->now;
	} else {
		m.ping = a->ping;
		m.ping_at = a->now;
		m.ping_id[0] = '\0';
		if (a->ping_id != NULL)
			snprintf(m.ping_id, sizeof m.ping_id, "%s", a->ping_id);
	}
	json = message_to_json(&m);
	v.mv_size = strlen(json);
	v.mv_data = json;
	rc = mdb_put(txn, s->messages, &k, &v, 0);
	free(json);
	if (rc == 0 && a->won != NULL)
		*a->won = 1;
	return rc;
}

enum mc_err
store_ping_claim(struct store *s, int64_t id, int64_t now, int64_t stale_after, int *won,
    struct err *e)
{
	struct ping_arg a = { id, now, stale_after, PING_CLAIMED, NULL, 1, won };
	enum mc_err rc;

	*won = 0;
	rc = run_write(s, op_ping, &a, e);
	if (rc != MC_OK)
		*won = 0;
	return rc;
}

enum mc_err
store_set_ping(struct store *s, int64_t id, enum ping_state ping, const char *ping_id,
    int64_t ping_at, struct err *e)
{
	struct ping_arg a = { id, ping_at, 0, ping, ping_id, 0, NULL };

	return run_write(s, op_ping, &a, e);
}
