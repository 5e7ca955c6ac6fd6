/* tokenfile: write the token file whole and private (see tokenfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "tokenfile.h"

char *
tokenfile_default_path(const char *config_file)
{
	return xasprintf("%s.token", config_file);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Flush the directory that holds path, so the rename itself survives a
 * crash. */
static int
sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;

	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

enum mc_err
tokenfile_save(const char *path, const char *token, const char *privatetoken, struct err *e)
{
	struct buf text = { 0 };
	char *tmp = xasprintf("%s.XXXXXX", path);
	enum mc_err rc = MC_OK;
	int fd, saved;

	buf_adds(&text, token);
	buf_adds(&text, "\n");
	if (privatetoken != NULL) {
		buf_adds(&text, privatetoken);
		buf_adds(&text, "\n");
	}
	/* mkstemp makes the file 0600 whatever the umask. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write the token file %s: %s", path, strerror(errno));
		goto wipe_text;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || write_all(fd, text.data, text.len) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		rc = err_set(e, MC_ERR_IO, "cannot write the token file %s: %s", path, strerror(saved));
		goto unlink_tmp;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		rc = err_set(e, MC_ERR_IO, "cannot write the token file %s: %s", path, strerror(errno));
		goto unlink_tmp;
	}
	if (sync_dir(path) != 0)
		rc = err_set(e, MC_ERR_IO, "cannot flush the directory of %s: %s", path, strerror(errno));
	goto wipe_text;
unlink_tmp:
	unlink(tmp);
wipe_text:
	secret_buf_free(&text);
	free(tmp);
	return rc;
}
