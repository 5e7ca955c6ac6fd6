/* runner: time commands, each run N times, the runs of the commands
 * interleaved (A B A B ...) so that a machine busy with something else
 * slows all of them alike.  Five untimed runs of each first warm the page
 * cache.  For each command prints one line
 *   MEDIAN_US MAX_RSS_KIB FAILURES
 * the median wall time in microseconds, the largest peak RSS of any run
 * (wait4's rusage of the child) and how many runs did not exit 0.  The
 * children's stdout and stderr go to /dev/null.
 * Usage: runner N COMMAND [ARGS...] [-- COMMAND [ARGS...]]... */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* wait4 */
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 5
#define MAXCMD 8

struct cmd {
	char **argv;
	int64_t *t;
	long maxrss, fails;
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Run c once; returns its wall time in microseconds, -1 when it could not
 * be started. */
static int64_t
run(struct cmd *c, int null)
{
	struct rusage ru;
	int64_t t0 = now_us();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(null, 1);
		dup2(null, 2);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	t0 = now_us() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		c->fails++;
	if (ru.ru_maxrss > c->maxrss)
		c->maxrss = ru.ru_maxrss;
	return t0;
}

int
main(int argc, char *argv[])
{
	struct cmd cmds[MAXCMD];
	long n, i;
	int ncmd = 0, j, k, null;
	char *end;

	if (argc < 3) {
		fputs("usage: runner N COMMAND [ARGS...] [-- COMMAND [ARGS...]]...\n", stderr);
		return 64;
	}
	n = strtol(argv[1], &end, 10);
	if (*end != '\0' || n < 1 || n > 1000000) {
		fputs("runner: N must be a positive number\n", stderr);
		return 64;
	}
	memset(cmds, 0, sizeof cmds);
	for (k = 2; k < argc; k++) {
		if (strcmp(argv[k], "--") == 0) {
			argv[k] = NULL;
			continue;
		}
		if (k == 2 || argv[k - 1] == NULL) {
			if (ncmd == MAXCMD) {
				fputs("runner: too many commands\n", stderr);
				return 64;
			}
			cmds[ncmd++].argv = argv + k;
		}
	}
	null = open("/dev/null", O_WRONLY);
	if (null < 0) {
		perror("runner: /dev/null");
		return 71;
	}
	for (j = 0; j < ncmd; j++) {
		cmds[j].t = calloc((size_t)n, sizeof *cmds[j].t);
		if (cmds[j].t == NULL) {
			perror("runner");
			return 71;
		}
		for (i = 0; i < WARMUP; i++)
			run(&cmds[j], null);
		cmds[j].fails = 0;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < ncmd; j++) {
			cmds[j].t[i] = run(&cmds[j], null);
			if (cmds[j].t[i] < 0) {
				perror("runner: fork or wait");
				return 71;
			}
		}
	}
	for (j = 0; j < ncmd; j++) {
		qsort(cmds[j].t, (size_t)n, sizeof *cmds[j].t, cmp_i64);
		printf("%lld %ld %ld\n", (long long)cmds[j].t[n / 2], cmds[j].maxrss,
		    cmds[j].fails);
		free(cmds[j].t);
	}
	return 0;
}
