/* moodlecord: keep a Discord channel in step with Moodle's conferences.
 * Options, verbs and the exit status; the only file that exits. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "http.h"

enum verb { VERB_NONE, VERB_SYNC, VERB_PING, VERB_DUMP, VERB_CHECK, VERB_LOGIN, VERB_INIT };

static const struct {
	const char *name;
	enum verb verb;
	enum mc_err (*run)(struct ctx *, struct err *);
	int network;   /* talks HTTP: libcurl is set up before it runs (ping
	                  asks with ctx_http_init when it has work) */
} verbs[] = {
	{ "sync",  VERB_SYNC,  verb_sync,  1 },
	{ "ping",  VERB_PING,  verb_ping,  0 },
	{ "dump",  VERB_DUMP,  verb_dump,  0 },
	{ "check", VERB_CHECK, verb_check, 1 },
	{ "login", VERB_LOGIN, verb_login, 1 },
	{ "init",  VERB_INIT,  verb_init,  1 },
};

static const char synopsis[] =
	"usage: moodlecord [-c FILE] [-v|-q] sync [--dry-run]\n"
	"       moodlecord [-c FILE] [-v|-q] ping [--dry-run]\n"
	"       moodlecord [-c FILE] dump [--json]\n"
	"       moodlecord [-c FILE] check\n"
	"       moodlecord [-c FILE] login [--sso [--provider N]]\n"
	"       moodlecord [-c FILE] init [--force]\n"
	"       moodlecord --help | --version\n";

static void
usage(const char *why, ...)
{
	va_list ap;

	fputs("moodlecord: ", stderr);
	va_start(ap, why);
	vfprintf(stderr, why, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(synopsis, stderr);
	exit(EX_USAGE);
}

static void
help(void)
{
	fputs(synopsis, stdout);
	fputs("\n"
	    "Keeps a Discord channel in step with the video conferences of a Moodle\n"
	    "account, and pings a role a few minutes before each one starts.\n"
	    "\n"
	    "verbs:\n"
	    "  sync     post, edit and delete conference messages (every 30 minutes)\n"
	    "  ping     ping the role before each conference (every minute)\n"
	    "  dump     show the state (--json for scripts)\n"
	    "  check    test the config, the Moodle login and the webhook; changes nothing\n"
	    "  login    sign in once (password, or --sso in a browser) and keep the token\n"
	    "  init     first run at a terminal: ask, sign in, write the config, check\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE  config file (default: $MOODLECORD_CONFIG, then\n"
	    "                     $XDG_CONFIG_HOME/moodlecord/config, then\n"
	    "                     ~/.config/moodlecord/config)\n"
	    "  -v, --verbose      say what was done\n"
	    "  -q, --quiet        print errors only\n"
	    "  -n, --dry-run      print the plan, change nothing (sync, ping)\n"
	    "  -j, --json         JSON output (dump)\n"
	    "      --sso          sign in in a browser (login)\n"
	    "      --provider N   the site's N-th sign-in button (login --sso)\n"
	    "  -f, --force        replace an existing config file (init)\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      the version\n"
	    "\n"
	    "See moodlecord(1).\n", stdout);
}

static const struct secrets *
secrets_of(struct ctx *c)
{
	return c->cfg_loaded ? &c->cfg.secrets : NULL;
}

static void
vprint(struct ctx *c, FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char *raw = xvasprintf(fmt, ap);
	char *safe = secrets_redact(secrets_of(c), raw);

	/* One whole line at a time: sync's routes run side by side, and a
	 * line of one must not be cut by a line of another. */
	flockfile(f);
	fprintf(f, "%s%s\n", prefix, safe);
	funlockfile(f);
	secret_free(safe);
	secret_free(raw);
}

void
out(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(c, stdout, "", fmt, ap);
	va_end(ap);
}

void
info(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->verbosity < 1)
		return;
	va_start(ap, fmt);
	vprint(c, stdout, "", fmt, ap);
	va_end(ap);
}

void
warn(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->verbosity < 0)
		return;
	va_start(ap, fmt);
	vprint(c, stderr, "moodlecord: ", fmt, ap);
	va_end(ap);
}

const char *
fmt_local_time(time_t t, char buf[32])
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, 32, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
	return buf;
}

enum mc_err
ctx_open_config(struct ctx *c, unsigned need, struct err *e)
{
	enum mc_err rc;

	if (c->cfg_loaded)
		return MC_OK;
	rc = config_open(&c->cfg, c->config_path, need, e);
	if (rc == MC_OK)
		c->cfg_loaded = 1;
	return rc;
}

enum mc_err
ctx_read_secrets(struct ctx *c, struct err *e)
{
	return config_read_secrets(&c->cfg, e);
}

enum mc_err
ctx_load_config(struct ctx *c, unsigned need, struct err *e)
{
	enum mc_err rc = ctx_open_config(c, need, e);

	if (rc == MC_OK)
		rc = ctx_read_secrets(c, e);
	return rc;
}

/* Standard output written whole: 0, or -1 when a write failed (a full
 * disk, a closed pipe). */
static int
stdout_flushed(void)
{
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

enum mc_err
ctx_http_init(struct ctx *c, struct err *e)
{
	enum mc_err rc;

	if (c->http_ready)
		return MC_OK;
	rc = http_global_init(e);
	if (rc == MC_OK)
		c->http_ready = 1;
	return rc;
}

/* A verb run with libcurl set up first when it talks HTTP, and cleaned
 * up after whenever it was set up. */
static enum mc_err
run_verb(size_t i, struct ctx *c, struct err *e)
{
	enum mc_err rc = MC_OK;

	if (verbs[i].network)
		rc = ctx_http_init(c, e);
	if (rc == MC_OK)
		rc = verbs[i].run(c, e);
	if (c->http_ready)
		http_global_cleanup();
	return rc;
}

/* The options and the verb: fills c, returns the verb's index in verbs[];
 * exits 64 on a usage error, or after --help or --version. */
static size_t
parse_args(int argc, char *argv[], struct ctx *c)
{
	static const struct option longopts[] = {
		{ "config",  required_argument, NULL, 'c' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "quiet",   no_argument,       NULL, 'q' },
		{ "dry-run", no_argument,       NULL, 'n' },
		{ "json",    no_argument,       NULL, 'j' },
		{ "sso",     no_argument,       NULL, 'S' },
		{ "provider", required_argument, NULL, 'P' },
		{ "force",   no_argument,       NULL, 'f' },
		{ "help",    no_argument,       NULL, 'h' },
		{ "version", no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	size_t i;
	int ch, verbose = 0, quiet = 0;
	int64_t provider;
	const char *vname;

	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, ":c:vqnjfhV", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			if (*optarg == '\0')
				usage("-c needs a file name");
			c->config_path = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'n':
			c->dry_run = 1;
			break;
		case 'j':
			c->json = 1;
			break;
		case 'f':
			c->force = 1;
			break;
		case 'S':
			c->sso = 1;
			break;
		case 'P':
			if (parse_int64(optarg, 1, 1000, &provider) != 0)
				usage("--provider needs a number from 1 (the site's sign-in buttons)");
			c->provider = (long long)provider;
			break;
		case 'h':
			help();
			exit(stdout_flushed() == 0 ? EX_OK : EX_IOERR);
		case 'V':
			printf("moodlecord %s\n", MOODLECORD_VERSION);
			exit(stdout_flushed() == 0 ? EX_OK : EX_IOERR);
		case ':':
			usage("option %s needs a value", argv[optind - 1]);
			break;
		default:
			if (optopt)
				usage("unknown option -%c", optopt);
			usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (verbose && quiet)
		usage("-v and -q cannot be used together");
	c->verbosity = verbose ? 1 : quiet ? -1 : 0;

	if (optind >= argc)
		usage("no verb given (sync, ping, dump, check, login or init)");
	vname = argv[optind];
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(vname, verbs[i].name) == 0)
			break;
	if (i == sizeof verbs / sizeof verbs[0])
		usage("unknown verb '%s' (sync, ping, dump, check, login or init)", vname);
	if (optind + 1 < argc)
		usage("unexpected argument '%s' after %s", argv[optind + 1], vname);
	if (c->dry_run && verbs[i].verb != VERB_SYNC && verbs[i].verb != VERB_PING)
		usage("--dry-run is for sync and ping, not %s", vname);
	if (c->json && verbs[i].verb != VERB_DUMP)
		usage("--json is for dump, not %s", vname);
	if ((c->sso || c->provider) && verbs[i].verb != VERB_LOGIN)
		usage("--sso and --provider are for login, not %s", vname);
	if (c->force && verbs[i].verb != VERB_INIT)
		usage("--force is for init, not %s", vname);
	if (c->provider && !c->sso)
		usage("--provider goes with --sso");
	return i;
}

int
main(int argc, char *argv[])
{
	struct ctx c = { 0 };
	struct err e = { 0 };
	enum mc_err rc;
	size_t i = parse_args(argc, argv, &c);
	const char *vname = verbs[i].name;
	int status;

	c.started = time(NULL);
	rc = run_verb(i, &c, &e);
	status = exit_status(rc);
	if (rc != MC_OK && rc != MC_ERR_BUSY) {
		char *safe = secrets_redact(secrets_of(&c), e.msg);

		fprintf(stderr, "moodlecord: %s: %s\n", vname, safe);
		secret_free(safe);
	} else if (rc == MC_ERR_BUSY && c.verbosity > 0) {
		printf("%s\n", e.msg);
	}
	if (c.cfg_loaded)
		config_free(&c.cfg);
	if (stdout_flushed() != 0 && status == EX_OK)
		status = EX_IOERR;
	return status;
}
