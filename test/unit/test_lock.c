/* lock: the per-verb run lock between real processes. */
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

#include "lock.h"
#include "tmpdir.h"

struct fixture {
	char dir[256];
	char path[300];   /* the state file the locks sit beside */
	char sync[320];   /* its sync lock file */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || tmpdir_make(f->dir, sizeof f->dir, "mclock") != 0)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/st/state.mdb", f->dir);
	snprintf(f->sync, sizeof f->sync, "%s.sync.lock", f->path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

struct outcome {
	enum mc_err kind;
	char msg[1024];
};

/* lock_take in a child process (a real second run); returns its outcome. */
static struct outcome
take_elsewhere(const char *path, const char *verb, int64_t stale_after)
{
	struct outcome o;
	int p[2], st;
	pid_t pid;

	memset(&o, 0, sizeof o);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lock *l = NULL;
		struct err e = { 0 };

		close(p[0]);
		o.kind = lock_take(path, verb, stale_after, &l, &e);
		memcpy(o.msg, e.msg, sizeof o.msg);
		lock_release(l);
		if (write(p[1], &o, sizeof o) != sizeof o)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &o, sizeof o), sizeof o);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return o;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
test_take_busy_release(void **state)
{
	struct fixture *f = *state;
	struct lock *l = NULL;
	struct err e = { 0 };
	struct outcome o;
	struct stat st;
	char want[128], buf[64];
	long long pid, t;
	FILE *fp;

	assert_int_equal(lock_take(f->path, "sync", 3600, &l, &e), MC_OK);
	assert_string_equal(lock_path(l), f->sync);
	/* The directory is made (0700), the file is 0600 and says who holds it. */
	assert_int_equal(stat(f->sync, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	*strrchr(f->sync, '/') = '\0';
	assert_int_equal(stat(f->sync, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	f->sync[strlen(f->sync)] = '/';
	fp = fopen(f->sync, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_int_equal(sscanf(buf, "%lld %lld", &pid, &t), 2);
	assert_int_equal(pid, (long long)getpid());
	assert_true(t >= (long long)time(NULL) - 5 && t <= (long long)time(NULL));

	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_BUSY);
	snprintf(want, sizeof want, "another sync is running (pid %lld since ", (long long)getpid());
	if (strncmp(o.msg, want, strlen(want)) != 0)
		fail_msg("message: %s", o.msg);
	/* ping has its own lock. */
	o = take_elsewhere(f->path, "ping", 3600);
	assert_int_equal(o.kind, MC_OK);
	lock_release(l);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_OK);
	/* And again here, after the child's run. */
	assert_int_equal(lock_take(f->path, "sync", 3600, &l, &e), MC_OK);
	lock_release(l);
	lock_release(NULL);
}

/* The time shown is local time: TZ is respected. */
static void
test_busy_time(void **state)
{
	struct fixture *f = *state;
	struct lock *l = NULL;
	struct err e = { 0 };
	struct outcome o;

	assert_int_equal(lock_take(f->path, "sync", 3600, &l, &e), MC_OK);
	write_file(f->sync, "4242 1800000000\n");
	setenv("TZ", "UTC", 1);
	tzset();
	o = take_elsewhere(f->path, "sync", INT64_MAX / 2);
	assert_int_equal(o.kind, MC_ERR_BUSY);
	assert_string_equal(o.msg, "another sync is running (pid 4242 since 2027-01-15 08:00:00)");
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	o = take_elsewhere(f->path, "sync", INT64_MAX / 2);
	assert_string_equal(o.msg, "another sync is running (pid 4242 since 2027-01-15 17:00:00)");
	unsetenv("TZ");
	tzset();
	lock_release(l);
}

/* Held longer than stale_after: an error someone should see. */
static void
test_stale(void **state)
{
	struct fixture *f = *state;
	struct lock *l = NULL;
	struct err e = { 0 };
	struct outcome o;
	struct timespec old[2];
	char line[128];
	time_t now = time(NULL);

	assert_int_equal(lock_take(f->path, "sync", 3600, &l, &e), MC_OK);
	snprintf(line, sizeof line, "%lld %lld\n", (long long)getpid(), (long long)now - 3590);
	write_file(f->sync, line);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_BUSY);
	snprintf(line, sizeof line, "%lld %lld\n", (long long)getpid(), (long long)now - 7300);
	write_file(f->sync, line);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_TEMP);
	snprintf(line, sizeof line, "another sync has been running for 121 minutes (pid %lld since ",
	    (long long)getpid());
	if (strncmp(o.msg, line, strlen(line)) != 0 || strstr(o.msg, "): if it hangs, stop it") == NULL)
		fail_msg("message: %s", o.msg);
	/* A file that does not say: its modification time counts. */
	write_file(f->sync, "");
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_BUSY);
	assert_non_null(strstr(o.msg, "(pid unknown since "));
	old[0].tv_sec = old[1].tv_sec = now - 4000;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, f->sync, old, 0), 0);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_TEMP);
	assert_non_null(strstr(o.msg, "another sync has been running for 66 minutes (pid unknown since "));
	lock_release(l);
	/* Once free, an old line does not matter. */
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_OK);
}

/* The kernel drops the lock of a killed run. */
static void
test_killed_holder(void **state)
{
	struct fixture *f = *state;
	struct outcome o;
	int p[2], st;
	pid_t pid;
	char c;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lock *l;
		struct err e;

		close(p[0]);
		if (lock_take(f->path, "sync", 3600, &l, &e) != MC_OK)
			_exit(2);
		if (write(p[1], "x", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_ERR_BUSY);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(p[0]);
	o = take_elsewhere(f->path, "sync", 3600);
	assert_int_equal(o.kind, MC_OK);
}

static void
test_errors(void **state)
{
	struct fixture *f = *state;
	struct lock *l = (struct lock *)1;
	struct err e = { 0 };
	char path[400];

	assert_int_equal(lock_take(f->path, "../x", 3600, &l, &e), MC_ERR_USAGE);
	assert_null(l);
	/* The directory cannot be made: a file is in the way. */
	snprintf(path, sizeof path, "%s/file", f->dir);
	write_file(path, "x");
	snprintf(path, sizeof path, "%s/file/state.mdb", f->dir);
	assert_int_equal(lock_take(path, "sync", 3600, &l, &e), MC_ERR_IO);
	assert_null(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_busy_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
