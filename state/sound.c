/* sound: see sound.h. */
#include "sound.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What identifies one version of the file: st_ctim changes with every
 * write and cannot be set back by a program (unlike st_mtim). */
static int
fingerprint(const char *path, char *out, size_t n)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	snprintf(out, n, "moodlecord sound %ju %ju %jd %jd.%09ld\n", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_ctim.tv_sec,
	    (long)st.st_ctim.tv_nsec);
	return 0;
}

int
sound_check(const char *path)
{
	char want[160], have[160], *note = xasprintf("%s-sound", path);
	ssize_t n = -1;
	int fd;

	fd = open(note, O_RDONLY | O_CLOEXEC);
	free(note);
	if (fd < 0)
		return 0;
	n = read(fd, have, sizeof have - 1);
	close(fd);
	if (n <= 0 || fingerprint(path, want, sizeof want) != 0)
		return 0;
	have[n] = '\0';
	return strcmp(have, want) == 0;
}

enum mc_err
sound_mark(const char *path, struct err *e)
{
	char text[160], *note = xasprintf("%s-sound", path), *tmp = xasprintf("%s-sound.tmp", path);
	enum mc_err rc = MC_OK;
	size_t len;
	int fd;

	if (fingerprint(path, text, sizeof text) != 0) {
		rc = err_set(e, MC_ERR_IO, "state file %s: %s", path, strerror(errno));
		goto names_free;
	}
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		goto names_free;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto names_free;
	}
	if (close(fd) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto names_free;
	}
	if (rename(tmp, note) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write %s: %s", note, strerror(errno));
		unlink(tmp);
	}
names_free:
	free(note);
	free(tmp);
	return rc;
}

void
sound_forget(const char *path)
{
	char *note = xasprintf("%s-sound", path);

	unlink(note);
	free(note);
}
