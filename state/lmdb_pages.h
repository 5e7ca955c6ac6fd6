/* lmdb_pages: check every page of an LMDB file LMDB can reach, before
 * LMDB maps it (LMDB 0.9 has no checksums and trusts its pages). */
#ifndef MC_LMDB_PAGES_H
#define MC_LMDB_PAGES_H

#include <stddef.h>

/* Walk the file at path from the meta page LMDB will use (call it after
 * the meta pages were found sound): the free list, the main database,
 * each named database, each branch, leaf and overflow page.  0 when LMDB
 * can read every page without running off it and each database's record
 * matches what was found; -1 with why filled (damage) or *err set (the
 * file could not be read: an errno); -2 when it failed while a writer
 * committed meanwhile (worth walking again). */
int lmdb_pages_check(const char *path, char *why, size_t whylen, int *err);

#endif
