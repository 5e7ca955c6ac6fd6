/* closed_port: hold a loopback port that refuses connections, for tests.
 *
 *   closed_port --port-file FILE
 *
 * Binds a TCP socket to 127.0.0.1 on a free port and does not listen: a
 * connection to it is refused (RST), and no other process can take the
 * port while this one runs.  Writes the port to FILE (atomically,
 * by rename) and waits for SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof a;
	char tmp[4096];
	sigset_t set;
	FILE *f;
	int fd, sig;

	if (argc != 3 || strcmp(argv[1], "--port-file") != 0) {
		fputs("usage: closed_port --port-file FILE\n", stderr);
		return 64;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		perror("closed_port: bind");
		return 1;
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]) >= sizeof tmp) {
		fputs("closed_port: FILE too long\n", stderr);
		return 64;
	}
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
	    rename(tmp, argv[2]) != 0) {
		perror("closed_port: port file");
		return 1;
	}
	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	close(fd);
	return 0;
}
