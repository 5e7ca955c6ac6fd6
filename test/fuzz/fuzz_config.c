/* fuzz_config: config_load on a hostile config file.
 *
 * The input is written to a file (mode 600) and loaded with no
 * MOODLECORD_* variable set and need CONFIG_NEED_STATE, which reads no
 * secret file and runs no command; inputs that mention a command are
 * skipped all the same, so no fuzzed text ever reaches a shell.
 *
 * Properties: MC_OK with sane values, or MC_ERR_CONFIG with one clean
 * line. */
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

extern char **environ;

static char *path;

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char *name;
	size_t i, n;
	int fd;

	/* Drop every MOODLECORD_* override, and pin the directories. */
	for (;;) {
		for (i = 0; environ[i] != NULL; i++)
			if (strncmp(environ[i], "MOODLECORD_", 11) == 0)
				break;
		if (environ[i] == NULL)
			break;
		n = strcspn(environ[i], "=");
		name = xstrndup(environ[i], n);
		unsetenv(name);
		free(name);
	}
	setenv("HOME", "/nonexistent-moodlecord-fuzz", 1);
	setenv("XDG_STATE_HOME", "/nonexistent-moodlecord-fuzz/state", 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent-moodlecord-fuzz/config", 1);
	path = xasprintf("%s/moodlecord-fuzz-config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	close(fd);
}

static void
cleanup(void)
{
	if (path != NULL)
		unlink(path);
}

static int
mentions_command(const uint8_t *data, size_t size)
{
	static const char word[] = "command";
	size_t i, k = sizeof word - 1;

	for (i = 0; i + k <= size; i++)
		if (strncasecmp((const char *)data + i, word, k) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct err e = { 0 };
	enum mc_err rc;
	size_t off = 0;
	ssize_t w;
	int fd;

	if (path == NULL) {
		setup();
		atexit(cleanup);
	}
	if (mentions_command(data, size))
		return 0;
	fd = open(path, O_WRONLY | O_TRUNC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(fchmod(fd, 0600) == 0);
	while (off < size) {
		w = write(fd, data + off, size - off);
		FUZZ_CHECK(w > 0);
		off += (size_t)w;
	}
	close(fd);

	rc = config_load(&cfg, path, CONFIG_NEED_STATE, &e);
	if (rc != MC_OK) {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_CONFIG);
		return 0;
	}
	FUZZ_CHECK(cfg.file != NULL && strcmp(cfg.file, path) == 0);
	FUZZ_CHECK(cfg.state_path != NULL && *cfg.state_path);
	FUZZ_CHECK(cfg.nmodules >= 1 && cfg.modules != NULL);
	FUZZ_CHECK(cfg.moodle_url == NULL ||
	    (*cfg.moodle_url && cfg.moodle_url[strlen(cfg.moodle_url) - 1] != '/'));
	FUZZ_CHECK(cfg.lookahead_days >= 1 && cfg.lookahead_days <= 366);
	FUZZ_CHECK(cfg.ping_minutes >= 1 && cfg.ping_minutes <= 1440);
	FUZZ_CHECK(cfg.meeting_minutes >= 1 && cfg.meeting_minutes <= 1440);
	FUZZ_CHECK(cfg.connect_timeout >= 1 && cfg.timeout >= 1 && cfg.deadline >= 1);
	config_free(&cfg);
	return 0;
}
