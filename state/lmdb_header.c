/* lmdb_header: LMDB's meta pages checked before LMDB maps the file, so a
 * file that is not a sound LMDB file is refused with a reason instead of
 * crashing the run. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* SHAKY: the figures a writer updates do not add up, which a meta page
 * read while another process commits may show. */
enum lmdb_header
lmdb_header_check(const char *path, char *why, size_t whylen, int *err)
{
	struct lmdb_meta_page m0, m1;
	const struct lmdb_meta_page *m;
	struct stat st;
	size_t psize;
	enum lmdb_header h = LMDB_HEADER_BAD;
	int fd;

	*err = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return errno == ENOENT ? LMDB_HEADER_ABSENT : LMDB_HEADER_BAD;
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
		h = LMDB_HEADER_EMPTY;
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
	h = LMDB_HEADER_SHAKY;
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
	h = LMDB_HEADER_OK;
close_fd:
	close(fd);
	return h;
}
