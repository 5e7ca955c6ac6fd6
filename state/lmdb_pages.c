/* lmdb_pages: every page LMDB can reach, checked before LMDB reads it.
 *
 * LMDB 0.9 has no page checksums and trusts what it finds: one bit
 * flipped in a page header makes it read or write past the page (SIGSEGV,
 * SIGBUS, a corrupted heap) or stop on an assertion (SIGABRT).  So the
 * file is read (page by page: a run's memory stays small whatever the
 * file's size) and walked from the meta page LMDB will use:
 * the free list, the main database and each named database in it, every
 * branch, leaf and overflow page, checked for what LMDB relies on.  A
 * file that passes can be read and written by LMDB without running off a
 * page; what it holds is checked again as it is decoded.
 *
 * The page format (mdb.c of LMDB 0.9, data format 1, native byte order):
 * a 16-byte header (pgno, pad, flags, lower, upper; an overflow page keeps
 * its page count where lower and upper are), then lower - 16 bytes of
 * 2-byte node offsets; nodes (lo, hi, flags, ksize, key, data) lie between
 * upper and the page's end.  A branch node's child page number is lo |
 * hi << 16 | flags << 32; a leaf node's data size is lo | hi << 16, its
 * data an 8-byte overflow page number when F_BIGDATA, a 48-byte MDB_db
 * when F_SUBDATA.  Keys ascend by LMDB's default order (memcmp, then the
 * shorter first); a branch page's first key is empty. */
#include "lmdb_pages.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGEHDRSZ   16
#define NODESIZE    8
#define P_BRANCH    0x01
#define P_LEAF      0x02
#define P_OVERFLOW  0x04
#define P_META      0x08
#define F_BIGDATA   0x01
#define F_SUBDATA   0x02
#define DB_INTKEY   0x08      /* MDB_INTEGERKEY: the free db's txn ids */
#define DB_SIZE     48
#define P_INVALID   UINT64_MAX
#define MAX_DEPTH   32

struct db {                 /* MDB_db as it lies in a meta page or leaf */
	uint16_t flags, depth;
	uint64_t branch, leaf, overflow, entries, root;
};

struct walk {
	int fd;
	size_t psize;
	uint64_t last_pg;
	unsigned char *seen;    /* one bit per page: reached already */
	char *why;
	size_t whylen;
	/* of the database being walked */
	int intkey, is_free, is_main;
	uint64_t branch, leaf, overflow, entries;
};

static int
bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint16_t
u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint32_t
u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t
u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static void
db_read(const unsigned char *p, struct db *d)
{
	d->flags = u16(p + 4);
	d->depth = u16(p + 6);
	d->branch = u64(p + 8);
	d->leaf = u64(p + 16);
	d->overflow = u64(p + 24);
	d->entries = u64(p + 32);
	d->root = u64(p + 40);
}

/* Mark page pgno (and n - 1 more) reached; a page reached twice, or one
 * past the data, is damage. */
static int
reach(struct walk *w, uint64_t pgno, uint64_t n)
{
	uint64_t i;

	if (pgno < 2 || n == 0 || pgno > w->last_pg || n - 1 > w->last_pg - pgno)
		return bad(w, "page %llu beyond the data", (unsigned long long)pgno);
	for (i = pgno; i < pgno + n; i++) {
		if (w->seen[i / 8] & (1u << (i % 8)))
			return bad(w, "page %llu reached twice", (unsigned long long)i);
		w->seen[i / 8] |= (unsigned char)(1u << (i % 8));
	}
	return 0;
}

/* Read n pages from pgno into buf. */
static int
page_read(struct walk *w, uint64_t pgno, uint64_t n, unsigned char *buf)
{
	size_t len = (size_t)n * w->psize;

	if (pread(w->fd, buf, len, (off_t)(pgno * w->psize)) != (ssize_t)len)
		return bad(w, "page %llu cannot be read", (unsigned long long)pgno);
	return 0;
}

static int
key_cmp(const struct walk *w, const unsigned char *a, size_t na, const unsigned char *b,
    size_t nb)
{
	int c;

	if (w->intkey && na == 8 && nb == 8)
		return u64(a) < u64(b) ? -1 : u64(a) > u64(b);
	if (w->intkey)
		return na == nb ? 0 : -1;  /* only 8-byte txn ids are read */
	c = memcmp(a, b, na < nb ? na : nb);

	if (c != 0)
		return c;
	return na < nb ? -1 : na > nb;
}

static int walk_db(struct walk *w, const struct db *d, const char *name, int is_main,
    int is_free);

/* A free-list record: a count, then that many page numbers; LMDB copies
 * it by its count. */
static int
idl_check(struct walk *w, uint64_t pgno, const unsigned char *data, uint64_t dsize)
{
	uint64_t n, i;

	if (dsize < 8 || dsize % 8 != 0)
		return bad(w, "page %llu: a free list of %llu bytes", (unsigned long long)pgno,
		    (unsigned long long)dsize);
	n = u64(data);
	if (n != dsize / 8 - 1)
		return bad(w, "page %llu: a free list of %llu pages in %llu bytes",
		    (unsigned long long)pgno, (unsigned long long)n, (unsigned long long)dsize);
	for (i = 1; i <= n; i++)
		if (u64(data + 8 * i) < 2 || u64(data + 8 * i) > w->last_pg)
			return bad(w, "page %llu: a free page beyond the data", (unsigned long long)pgno);
	return 0;
}

/* An overflow value: its first page's header, and for the free list
 * the page numbers it holds. */
static int
overflow_check(struct walk *w, uint64_t pgno, uint64_t dsize)
{
	unsigned char *p;
	uint32_t pages;
	int rc;

	if (pgno < 2 || pgno > w->last_pg)
		return bad(w, "overflow page %llu beyond the data", (unsigned long long)pgno);
	p = malloc(w->psize);
	if (p == NULL)
		return bad(w, "out of memory");
	rc = page_read(w, pgno, 1, p);
	pages = rc == 0 ? u32(p + 12) : 0;
	if (rc == 0 && (u64(p) != pgno || u16(p + 10) != P_OVERFLOW))
		rc = bad(w, "page %llu is not the overflow page it should be",
		    (unsigned long long)pgno);
	else if (rc == 0 && (pages == 0 || (uint64_t)pages * w->psize - PAGEHDRSZ < dsize))
		rc = bad(w, "overflow page %llu: %u pages for %llu bytes", (unsigned long long)pgno,
		    (unsigned)pages, (unsigned long long)dsize);
	if (rc == 0)
		rc = reach(w, pgno, pages);
	free(p);
	if (rc != 0)
		return rc;
	w->overflow += pages;
	if (!w->is_free)
		return 0;
	p = malloc((size_t)pages * w->psize);
	if (p == NULL)
		return bad(w, "out of memory");
	rc = page_read(w, pgno, pages, p);
	if (rc == 0)
		rc = idl_check(w, pgno, p + PAGEHDRSZ, dsize);
	free(p);
	return rc;
}

/* A leaf node's data: in place, on overflow pages, or a named database. */
static int
leaf_data(struct walk *w, const unsigned char *p, uint64_t pgno, const unsigned char *node)
{
	uint16_t flags = u16(node + 4), ksize = u16(node + 6);
	uint64_t dsize = (uint64_t)u16(node) | (uint64_t)u16(node + 2) << 16;
	const unsigned char *data = node + NODESIZE + ksize;
	struct db sub;
	char name[64];

	if (flags & ~(F_BIGDATA | F_SUBDATA))
		return bad(w, "page %llu: node flags 0x%x", (unsigned long long)pgno, flags);
	if (flags & F_BIGDATA) {
		if (data + 8 > p + w->psize)
			return bad(w, "page %llu: a node runs off the page", (unsigned long long)pgno);
		return overflow_check(w, u64(data), dsize);
	}
	if (data + dsize > p + w->psize)
		return bad(w, "page %llu: a node runs off the page", (unsigned long long)pgno);
	if (w->is_free)
		return idl_check(w, pgno, data, dsize);
	if (!(flags & F_SUBDATA))
		return 0;
	if (!w->is_main || dsize != DB_SIZE)
		return bad(w, "page %llu: a database record where none can be",
		    (unsigned long long)pgno);
	db_read(data, &sub);
	snprintf(name, sizeof name, "%.*s", ksize < 40 ? (int)ksize : 40, (const char *)node + NODESIZE);
	return walk_db(w, &sub, name, 0, 0);
}

/* The nodes of a branch or leaf page: offsets inside the page, keys in
 * order; children pushed on the stack. */
static int
page_nodes(struct walk *w, const unsigned char *p, uint64_t pgno, int depth, uint64_t *stack,
    int *sdepth, size_t *sn, size_t cap)
{
	const unsigned char *prev = NULL;
	uint16_t flags = u16(p + 10), lower = u16(p + 12), upper = u16(p + 14);
	size_t n = (size_t)(lower - PAGEHDRSZ) / 2, i, nprev = 0;

	for (i = 0; i < n; i++) {
		uint16_t off = u16(p + PAGEHDRSZ + 2 * i);
		const unsigned char *node = p + off;
		uint16_t ksize;

		if (off < upper || off % 2 != 0 || (size_t)off + NODESIZE > w->psize)
			return bad(w, "page %llu: node %zu at offset %u", (unsigned long long)pgno, i,
			    (unsigned)off);
		ksize = u16(node + 6);
		if ((size_t)off + NODESIZE + ksize > w->psize)
			return bad(w, "page %llu: a key runs off the page", (unsigned long long)pgno);
		if (!(flags & P_BRANCH) || i > 0) {
			if (prev != NULL && key_cmp(w, prev, nprev, node + NODESIZE, ksize) >= 0)
				return bad(w, "page %llu: keys out of order", (unsigned long long)pgno);
			prev = node + NODESIZE;
			nprev = ksize;
		}
		if (flags & P_BRANCH) {
			uint64_t child = (uint64_t)u16(node) | (uint64_t)u16(node + 2) << 16 |
			    (uint64_t)u16(node + 4) << 32;

			if (*sn == cap)
				return bad(w, "page %llu: too many pages below", (unsigned long long)pgno);
			stack[*sn] = child;
			sdepth[*sn] = depth - 1;
			(*sn)++;
		} else {
			w->entries++;
			if (leaf_data(w, p, pgno, node) != 0)
				return -1;
		}
	}
	return 0;
}

/* One database: every page from its root, the depth and the counts its
 * record states. */
static int
walk_db(struct walk *w, const struct db *d, const char *name, int is_main, int is_free)
{
	uint64_t branch = w->branch, leaf = w->leaf, overflow = w->overflow, entries = w->entries;
	int intkey = w->intkey, was_free = w->is_free, was_main = w->is_main;
	size_t cap = 4096, sn = 0;
	uint64_t *stack;
	unsigned char *p;
	int *sdepth, rc = 0;

	if (d->root == P_INVALID) {
		if (d->depth != 0 || d->entries != 0 || d->branch + d->leaf + d->overflow != 0)
			return bad(w, "database %s: empty with %llu entries", name,
			    (unsigned long long)d->entries);
		return 0;
	}
	/* the free db's flags hold the environment's flags (mm_flags) */
	if ((!is_free && (d->flags & ~DB_INTKEY) != 0) || d->depth == 0 || d->depth > MAX_DEPTH)
		return bad(w, "database %s: flags 0x%x, depth %u", name, d->flags, d->depth);
	w->branch = w->leaf = w->overflow = w->entries = 0;
	w->intkey = is_free || (d->flags & DB_INTKEY) != 0;
	w->is_free = is_free;
	w->is_main = is_main;
	stack = malloc(cap * sizeof *stack);
	sdepth = malloc(cap * sizeof *sdepth);
	p = malloc(w->psize);
	if (stack == NULL || sdepth == NULL || p == NULL) {
		rc = bad(w, "out of memory");
		goto stack_free;
	}
	stack[sn] = d->root;
	sdepth[sn++] = d->depth;
	while (sn > 0 && rc == 0) {
		uint64_t pgno = stack[--sn];
		int depth = sdepth[sn];
		uint16_t flags, lower, upper;

		if (reach(w, pgno, 1) != 0 || page_read(w, pgno, 1, p) != 0) {
			rc = -1;
			break;
		}
		flags = u16(p + 10);
		lower = u16(p + 12);
		upper = u16(p + 14);
		if (u64(p) != pgno)
			rc = bad(w, "page %llu says it is page %llu", (unsigned long long)pgno,
			    (unsigned long long)u64(p));
		else if (flags != (depth > 1 ? P_BRANCH : P_LEAF))
			rc = bad(w, "page %llu: flags 0x%x at depth %d of %s", (unsigned long long)pgno,
			    flags, depth, name);
		else if (lower < PAGEHDRSZ + 2 || lower % 2 != 0 || upper > w->psize || lower > upper)
			rc = bad(w, "page %llu: lower %u, upper %u", (unsigned long long)pgno,
			    (unsigned)lower, (unsigned)upper);
		else
			rc = page_nodes(w, p, pgno, depth, stack, sdepth, &sn, cap);
		if (rc == 0 && flags == P_BRANCH)
			w->branch++;
		else if (rc == 0)
			w->leaf++;
	}
	if (rc == 0 && (w->branch != d->branch || w->leaf != d->leaf ||
	    w->overflow != d->overflow || w->entries != d->entries))
		rc = bad(w, "database %s: %llu entries in %llu+%llu+%llu pages, its record says "
		    "%llu in %llu+%llu+%llu", name, (unsigned long long)w->entries,
		    (unsigned long long)w->branch, (unsigned long long)w->leaf,
		    (unsigned long long)w->overflow, (unsigned long long)d->entries,
		    (unsigned long long)d->branch, (unsigned long long)d->leaf,
		    (unsigned long long)d->overflow);
stack_free:
	free(stack);
	free(sdepth);
	free(p);
	w->branch = branch;
	w->leaf = leaf;
	w->overflow = overflow;
	w->entries = entries;
	w->intkey = intkey;
	w->is_free = was_free;
	w->is_main = was_main;
	return rc;
}

/* The meta page LMDB will use: the one of the later transaction. */
static const unsigned char *
meta_of(const unsigned char *map, size_t psize)
{
	const unsigned char *m0 = map + PAGEHDRSZ, *m1 = map + psize + PAGEHDRSZ;
	/* MDB_meta: magic, version, address, mapsize, 2 MDB_db, last_pg, txnid */
	size_t txn = 4 + 4 + 8 + 8 + 2 * DB_SIZE + 8;

	return u64(m1 + txn) > u64(m0 + txn) ? m1 : m0;
}

/* The transaction id of the meta page LMDB would use now, read afresh;
 * 0 when unreadable. */
static uint64_t
txn_now(const char *path)
{
	unsigned char head[2 * 65536];
	ssize_t n;
	size_t psize;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = pread(fd, head, PAGEHDRSZ + 4 + 4 + 8 + 8 + 4, 0);
	psize = n > 0 ? u32(head + PAGEHDRSZ + 4 + 4 + 8 + 8) : 0;
	if (psize < 512 || psize > 65536 ||
	    pread(fd, head, 2 * psize, 0) != (ssize_t)(2 * psize)) {
		close(fd);
		return 0;
	}
	close(fd);
	return u64(meta_of(head, psize) + 4 + 4 + 8 + 8 + 2 * DB_SIZE + 8);
}

int
lmdb_pages_check(const char *path, char *why, size_t whylen, int *err)
{
	struct walk w = { .why = why, .whylen = whylen };
	struct stat st;
	struct db freedb, maindb;
	unsigned char head[PAGEHDRSZ + 40], *metas = NULL;
	const unsigned char *meta;
	uint64_t txnid;
	int rc = -1;

	*err = 0;
	w.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w.fd < 0 || fstat(w.fd, &st) != 0) {
		*err = errno;
		goto close_fd;
	}
	/* the page size is the free db's pad in the meta page; lmdb_header
	 * checked both meta pages and the length against it */
	if (pread(w.fd, head, sizeof head, 0) != (ssize_t)sizeof head) {
		rc = bad(&w, "too short to be an LMDB file");
		goto close_fd;
	}
	w.psize = u32(head + PAGEHDRSZ + 4 + 4 + 8 + 8);
	if (w.psize < 512 || w.psize > 65536 || (w.psize & (w.psize - 1)) != 0 ||
	    (uint64_t)st.st_size < 2 * (uint64_t)w.psize) {
		rc = bad(&w, "page size %zu", w.psize);
		goto close_fd;
	}
	metas = malloc(2 * w.psize);
	if (metas == NULL) {
		rc = bad(&w, "out of memory");
		goto close_fd;
	}
	if (pread(w.fd, metas, 2 * w.psize, 0) != (ssize_t)(2 * w.psize)) {
		rc = bad(&w, "too short to be an LMDB file");
		goto close_fd;
	}
	meta = meta_of(metas, w.psize);
	if (!(u16(meta - PAGEHDRSZ + 10) & P_META)) {
		rc = bad(&w, "no meta page");
		goto close_fd;
	}
	w.last_pg = u64(meta + 4 + 4 + 8 + 8 + 2 * DB_SIZE);
	if (w.last_pg < 1 || w.last_pg >= (uint64_t)st.st_size / w.psize) {
		rc = bad(&w, "truncated: the data needs page %llu", (unsigned long long)w.last_pg);
		goto close_fd;
	}
	w.seen = calloc((size_t)(w.last_pg / 8 + 1), 1);
	if (w.seen == NULL) {
		rc = bad(&w, "out of memory");
		goto close_fd;
	}
	db_read(meta + 4 + 4 + 8 + 8, &freedb);
	db_read(meta + 4 + 4 + 8 + 8 + DB_SIZE, &maindb);
	txnid = u64(meta + 4 + 4 + 8 + 8 + 2 * DB_SIZE + 8);
	rc = walk_db(&w, &freedb, "of free pages", 0, 1);
	if (rc == 0)
		rc = walk_db(&w, &maindb, "main", 1, 0);
	/* A writer that committed twice meanwhile may have reused pages of
	 * the snapshot walked (this walk is no LMDB reader): not damage. */
	if (rc != 0 && txn_now(path) != txnid)
		rc = -2;
	free(w.seen);
close_fd:
	free(metas);
	if (w.fd >= 0)
		close(w.fd);
	return rc;
}
