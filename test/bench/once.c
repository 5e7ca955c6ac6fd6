/* once: run a command once and print
 *   WALL_US MAX_RSS_KIB EXIT_STATUS
 * its wall time in microseconds, its peak RSS (wait4's rusage of the
 * child) and its exit status (128 + N when killed by signal N).  The
 * command's stdout and stderr go to the file named by the first argument.
 * Unlike runner, for runs that cannot be repeated (a first sync).
 * Usage: once OUTPUT_FILE COMMAND [ARGS...] */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* wait4 */
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char *argv[])
{
	struct rusage ru;
	int64_t t0;
	int status, out;
	pid_t pid;

	if (argc < 3) {
		fputs("usage: once OUTPUT_FILE COMMAND [ARGS...]\n", stderr);
		return 64;
	}
	out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(argv[1]);
		return 73;
	}
	t0 = now_us();
	pid = fork();
	if (pid < 0) {
		perror("once: fork");
		return 71;
	}
	if (pid == 0) {
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("once: wait");
		return 71;
	}
	printf("%lld %ld %d\n", (long long)(now_us() - t0), ru.ru_maxrss,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
