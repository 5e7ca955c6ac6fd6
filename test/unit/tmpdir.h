/* tmpdir: a fresh temporary directory for each test (under $TMPDIR, else
 * /tmp), removed with all it holds after it.  Include after cmocka.h. */
#ifndef MC_TEST_TMPDIR_H
#define MC_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int
tmpdir_rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Make dir[n] a new directory named after prefix; 0, or -1. */
static int
tmpdir_make(char *dir, size_t n, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, n, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

/* Remove dir and everything in it. */
static void
tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
