/* config_secret: the secrets read from files and commands, after
 * config_open (so a run that finds its lock taken reads none).
 *
 * A secret file must be a regular file that group and others cannot
 * read; its first line is the secret.  password_command runs with
 * /bin/sh -c, its first output line is the password.  Every buffer that
 * held a secret is wiped (secret.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config_int.h"

extern char **environ;

/* The most read of a secret file or a command's output. */
#define SECRET_MAX (64 * 1024)

/* The first line of text, trailing blanks cut; NULL when it is empty. */
static char *
first_line(const char *text, size_t len)
{
	size_t n = 0;

	while (n < len && text[n] != '\n' && text[n] != '\0')
		n++;
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	return n > 0 ? xstrndup(text, n) : NULL;
}

static const char *
what_secret(enum key k)
{
	return keydefs[k].group == G_PASSWORD ? "password" :
	    keydefs[k].group == G_TOKEN ? "token" :
	    keydefs[k].group == G_BOT ? "bot token" : "webhook URL";
}

enum mc_err
config_secret_file(struct config_loader *ld, const char *path_value, const char *where,
    const char *what, char **out, struct err *e)
{
	struct buf b = { 0 };
	struct stat st;
	char chunk[4096], *path = NULL;
	ssize_t n;
	int fd = -1;
	enum mc_err rc;

	rc = config_expand(ld, path_value, where, &path, e);
	if (rc != MC_OK)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = err_set(e, MC_ERR_CONFIG, "%s: cannot open %s: %s", where, path, strerror(errno));
		goto free_path;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, MC_ERR_CONFIG, "%s: %s is not a regular file", where, path);
		goto close_fd;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		rc = err_set(e, MC_ERR_CONFIG, "%s: %s holds the %s and can be read by group or "
		    "others; run: chmod 600 %s", where, path, what, path);
		goto close_fd;
	}
	while (b.len < SECRET_MAX) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, MC_ERR_CONFIG, "%s: cannot read %s: %s", where, path,
			    strerror(errno));
			goto wipe_buf;
		}
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t)n);
		if (memchr(chunk, '\n', (size_t)n) != NULL)
			break;
	}
	*out = first_line(b.data != NULL ? b.data : "", b.len);
	if (*out == NULL)
		rc = err_set(e, MC_ERR_CONFIG, "%s: %s is empty; put the %s on its first line", where,
		    path, what);
wipe_buf:
	secret_buf_free(&b);
	secret_wipe(chunk, sizeof chunk);
close_fd:
	close(fd);
free_path:
	free(path);
	return rc;
}

static enum mc_err
secret_from_file(struct config_loader *ld, enum key k, char **out, struct err *e)
{
	char where[512];

	if (ld->raw[k].env != NULL)
		snprintf(where, sizeof where, "%s", ld->raw[k].env);
	else
		snprintf(where, sizeof where, "%s:%d: [%s] %s", ld->file, ld->raw[k].line,
		    section_names[keydefs[k].sec], keydefs[k].name);
	return config_secret_file(ld, ld->raw[k].val, where, what_secret(k), out, e);
}

/* Run password_command with /bin/sh -c; the first line it prints is the
 * password.  Its stderr goes to /dev/null: it could echo the secret.  A
 * command still running after `limit` seconds is killed: a cron run must
 * not hang on a password manager waiting for a person. */
/* Start /bin/sh -c cmd with its stdout into *out_fd, its stderr to
 * /dev/null and SIGPIPE at its default; 0 or an errno value. */
static int
spawn_sh(char *cmd, pid_t *pid, int *out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	char *argv[] = { "sh", "-c", cmd, NULL };
	int fd[2], err;

	if (pipe(fd) != 0)
		return errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, fd[0]);
	posix_spawn_file_actions_addclose(&fa, fd[1]);
	posix_spawnattr_init(&attr);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (err != 0) {
		close(fd[0]);
		return err;
	}
	*out_fd = fd[0];
	return 0;
}

/* Run password_command with /bin/sh -c; the first line it prints is the
 * password.  Its stderr goes to /dev/null: it could echo the secret.  A
 * command still running after `limit` seconds is killed: a cron run must
 * not hang on a password manager waiting for a person. */
static enum mc_err
secret_from_command(struct config_loader *ld, enum key k, int64_t limit, char **out, struct err *e)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	pid_t pid;
	int fd = -1, status, err;
	time_t end;
	enum mc_err rc = MC_OK;

	err = spawn_sh(ld->raw[k].val, &pid, &fd);
	if (err != 0)
		return config_bad(ld, k, e, "cannot run it: %s", strerror(err));
	end = time(NULL) + limit;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		time_t left = end - time(NULL);

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000)) == 0) {
			kill(pid, SIGKILL);
			close(fd);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			rc = config_bad(ld, k, e, "did not finish within %lld seconds ([http] timeout); "
			    "it must print the password without asking", (long long)limit);
			goto wipe_buf;
		}
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Keep reading past the limit so the command is never blocked. */
		if (b.len < SECRET_MAX)
			buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = config_bad(ld, k, e, "cannot wait for it: %s", strerror(errno));
			goto wipe_buf;
		}
	}
	if (WIFSIGNALED(status)) {
		rc = config_bad(ld, k, e, "was killed by signal %d; run it by hand to see why",
		    WTERMSIG(status));
		goto wipe_buf;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = config_bad(ld, k, e, "failed with status %d; run it by hand to see why",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto wipe_buf;
	}
	*out = first_line(b.data != NULL ? b.data : "", b.len);
	if (*out == NULL)
		rc = config_bad(ld, k, e, "printed nothing; it must print the password on its first line");
wipe_buf:
	secret_buf_free(&b);
	secret_wipe(chunk, sizeof chunk);
	return rc;
}

/* When the file at path (~ expanded already) was last written; 0 when
 * unknown. */
static int64_t
file_time(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0 ? (int64_t)st.st_mtime : 0;
}

/* Read a secret from its file or command; *dst keeps an inline one. */
static enum mc_err
resolve_secret(struct config_loader *ld, struct config *cfg, enum key file_key, enum key cmd_key,
    char **dst, struct err *e)
{
	char *v = NULL;
	enum mc_err rc;

	if (config_is_set(ld, file_key))
		rc = secret_from_file(ld, file_key, &v, e);
	else if (cmd_key != NKEYS && config_is_set(ld, cmd_key))
		rc = secret_from_command(ld, cmd_key, cfg->timeout, &v, e);
	else
		return MC_OK;
	if (rc != MC_OK)
		return rc;
	/* A webhook URL is listed whole and its token alone once checked. */
	if (keydefs[file_key].group != G_WEBHOOK)
		secrets_add(&cfg->secrets, v);
	secret_free(*dst);
	*dst = v;
	return MC_OK;
}

enum mc_err
config_read_secrets(struct config *cfg, struct err *e)
{
	struct config_loader *ld = cfg->pending;
	enum mc_err rc = MC_OK;

	if (ld == NULL)
		return MC_OK;
	if (ld->need & CONFIG_NEED_MOODLE) {
		if (!(ld->need & CONFIG_LATER_PASSWORD))
			rc = resolve_secret(ld, cfg, K_PASSWORD_FILE, K_PASSWORD_COMMAND,
			    &cfg->password, e);
		if (rc == MC_OK)
			rc = resolve_secret(ld, cfg, K_TOKEN_FILE, NKEYS, &cfg->token, e);
		if (rc == MC_OK && config_is_set(ld, K_TOKEN_FILE))
			cfg->token_time = file_time(cfg->token_file);
	}
	if (rc == MC_OK && (ld->need & CONFIG_NEED_DISCORD) &&
	    config_is_set(ld, K_WEBHOOK_URL_FILE)) {
		rc = resolve_secret(ld, cfg, K_WEBHOOK_URL_FILE, NKEYS, &cfg->webhook_url, e);
		if (rc == MC_OK)
			rc = config_check_webhook(ld, cfg, K_WEBHOOK_URL_FILE, cfg->webhook_url,
			    "the URL in the file ", e);
	}
	/* [discord]'s bot token before the routes', which may borrow it */
	if (rc == MC_OK)
		rc = resolve_secret(ld, cfg, K_BOT_TOKEN_FILE, NKEYS, &cfg->bot_token, e);
	if (rc == MC_OK && (ld->need & CONFIG_NEED_DISCORD))
		rc = config_routes_read_secrets(ld, cfg, e);
	/* kept for config_read_password */
	if (rc == MC_OK && !(ld->need & CONFIG_LATER_PASSWORD)) {
		config_loader_free(ld);
		cfg->pending = NULL;
	}
	return rc;
}

enum mc_err
config_read_password(struct config *cfg, struct err *e)
{
	struct config_loader *ld = cfg->pending;
	enum mc_err rc;

	if (ld == NULL || !(ld->need & CONFIG_LATER_PASSWORD) || cfg->password != NULL)
		return MC_OK;
	rc = resolve_secret(ld, cfg, K_PASSWORD_FILE, K_PASSWORD_COMMAND, &cfg->password, e);
	if (rc == MC_OK)
		ld->need &= ~(unsigned)CONFIG_LATER_PASSWORD;
	return rc;
}
