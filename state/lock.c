/* lock: the per-verb run lock (flock on a file beside the state). */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

struct lock {
	int fd;
	char *path;
};

/* Who holds the lock, as the holder wrote it; *pid = 0 when the file
 * does not say (the holder is between taking the lock and writing), and
 * *since is then the file's modification time. */
static void
holder(int fd, long long *pid, int64_t *since)
{
	char buf[64];
	struct stat st;
	ssize_t n;
	long long p, t;
	char extra;

	*pid = 0;
	*since = 0;
	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%lld %lld%c", &p, &t, &extra) >= 2 && p > 0 && t > 0) {
			*pid = p;
			*since = t;
			return;
		}
	}
	if (fstat(fd, &st) == 0)
		*since = st.st_mtime;
}

static const char *
fmt_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
	return buf;
}

static enum mc_err
busy(int fd, const char *verb, int64_t stale_after, struct err *e)
{
	long long pid;
	int64_t since, now = time(NULL);
	char when[32], who[32] = "pid unknown";

	holder(fd, &pid, &since);
	if (pid > 0)
		snprintf(who, sizeof who, "pid %lld", pid);
	if (since > 0 && now - since > stale_after)
		return err_set(e, MC_ERR_TEMP, "another %s has been running for %lld minutes "
		    "(%s since %s): if it hangs, stop it", verb, (long long)((now - since) / 60),
		    who, fmt_time(since, when));
	return err_set(e, MC_ERR_BUSY, "another %s is running (%s since %s)", verb, who,
	    since > 0 ? fmt_time(since, when) : "an unknown time");
}

static int
verb_ok(const char *verb)
{
	const char *p;

	if (*verb == '\0')
		return 0;
	for (p = verb; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z'))
			return 0;
	return 1;
}

enum mc_err
lock_take(const char *state_path, const char *verb, int64_t stale_after, struct lock **out,
    struct err *e)
{
	struct lock *l;
	enum mc_err rc;
	char line[64];
	int len, tries;

	*out = NULL;
	if (!verb_ok(verb))
		return err_set(e, MC_ERR_USAGE, "lock: bad verb name '%s'", verb);
	rc = store_make_dir(state_path, e);
	if (rc != MC_OK)
		return rc;
	l = xcalloc(1, sizeof *l);
	l->path = xasprintf("%s.%s.lock", state_path, verb);
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0) {
		rc = err_set(e, MC_ERR_IO, "cannot open lock file %s: %s", l->path, strerror(errno));
		goto free_lock;
	}
	for (tries = 0; flock(l->fd, LOCK_EX | LOCK_NB) != 0; tries++) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			rc = err_set(e, MC_ERR_IO, "cannot lock %s: %s", l->path, strerror(errno));
			goto close_fd;
		}
		rc = busy(l->fd, verb, stale_after, e);
		/* A "stale" lock may be a new holder that has not yet written
		 * its line over the old one: look again before saying so. */
		if (rc != MC_ERR_TEMP || tries == 1)
			goto close_fd;
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	len = snprintf(line, sizeof line, "%lld %lld\n", (long long)getpid(),
	    (long long)time(NULL));
	/* Write over the old line, then cut what is left of it: truncating to 0
	 * first frees the file's block and costs the per-minute ping run about
	 * a millisecond (measured by make bench). */
	if (pwrite(l->fd, line, (size_t)len, 0) != len || ftruncate(l->fd, len) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write lock file %s: %s", l->path,
		    strerror(errno));
		goto close_fd;
	}
	*out = l;
	return MC_OK;
close_fd:
	close(l->fd);
free_lock:
	free(l->path);
	free(l);
	return rc;
}

const char *
lock_path(const struct lock *l)
{
	return l->path;
}

void
lock_release(struct lock *l)
{
	if (l == NULL)
		return;
	close(l->fd);
	free(l->path);
	free(l);
}
