/* config: the INI file, environment overrides and secrets. */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <stdint.h>

#include "secret.h"
#include "util.h"

struct config {
	char *file;              /* the file read, NULL when none was found   */

	/* [moodle] */
	char *moodle_url;        /* site root, no trailing slash              */
	char *username;
	char *password;          /* secret, from password/_file/_command      */
	char *token;             /* secret, from token/token_file             */
	char **modules;          /* default {"bigbluebuttonbn"}               */
	size_t nmodules;
	int64_t lookahead_days;  /* default 30                                */
	char **courses;          /* ids or short names; empty = all           */
	size_t ncourses;

	/* [discord] */
	char *webhook_url;       /* secret                                    */
	char *role_id;           /* NULL = no mention                         */
	int64_t ping_minutes;    /* default 5                                 */
	char *thread_id;         /* NULL = channel itself                     */
	char *discord_username;  /* NULL = webhook's own name                 */

	/* [schedule] */
	int64_t meeting_minutes; /* default 90                                */

	/* [state] */
	char *state_path;        /* default $XDG_STATE_HOME/moodlecord/state.mdb */

	/* [http]: limits, settable for tests */
	int64_t connect_timeout; /* seconds, default 10                       */
	int64_t timeout;         /* seconds for a whole request, default 30   */
	int64_t deadline;        /* seconds for a whole run, default 1200     */

	struct secrets secrets;  /* every secret value, for secrets_redact()  */

	struct config_loader *pending; /* between config_open and
	                             config_read_secrets: where each value
	                             came from (private to config*.c)         */
};

/* What a verb needs from the config file. */
enum config_need {
	CONFIG_NEED_MOODLE  = 1 << 0, /* url and credentials               */
	CONFIG_NEED_DISCORD = 1 << 1, /* webhook_url                       */
	CONFIG_NEED_STATE   = 1 << 2  /* nothing required beyond defaults  */
};

/* Open the config: the file named by `path` (from -c) or else the first
 * of $MOODLECORD_CONFIG, $XDG_CONFIG_HOME/moodlecord/config,
 * ~/.config/moodlecord/config; then MOODLECORD_<SECTION>_<KEY> overrides;
 * then defaults; then every value given is checked (whatever `need` says:
 * a webhook_url given inline is checked as the Discord client reads it),
 * and the keys `need` requires must be there.  Reads no secret file and
 * runs no password_command: config_read_secrets does, after the caller
 * took its lock.  Inline secrets (and a webhook URL's token alone) are in
 * cfg->secrets.  On failure returns MC_ERR_CONFIG (or MC_ERR_IO) with e
 * naming file, line and key and what would be right; cfg is then freed.
 * On success the caller frees cfg with config_free. */
enum mc_err config_open(struct config *cfg, const char *path, unsigned need, struct err *e);

/* Read the secrets of the sections config_open's `need` named from their
 * files (password_file, token_file, webhook_url_file) or command
 * (password_command, killed after [http] timeout), check what was read
 * (a webhook URL as the Discord client reads it) and add it to
 * cfg->secrets.  Once per cfg; a second call does nothing.  On failure
 * MC_ERR_CONFIG with e naming the key; cfg stays loaded (the caller frees
 * it). */
enum mc_err config_read_secrets(struct config *cfg, struct err *e);

/* config_open, then config_read_secrets; on failure cfg is freed. */
enum mc_err config_load(struct config *cfg, const char *path, unsigned need, struct err *e);

/* Free what cfg holds, secrets wiped first, and zero it (a zeroed cfg is
 * fine). */
void config_free(struct config *cfg);

#endif
