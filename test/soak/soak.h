/* soak: shared parts of the soak driver (soak.c: cron time and its
 * faults; flips.c: the damaged-state corpus).  Test code: it prints and
 * exits, unlike lib/. */
#ifndef MC_SOAK_H
#define MC_SOAK_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sbuf {
	char *p;
	size_t n, cap;
};

void sbuf_add(struct sbuf *b, const void *s, size_t n);
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_free(struct sbuf *b);

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* splitmix64: every random choice comes from the seed. */
uint64_t rnd_next(uint64_t *st);
uint64_t rnd_below(uint64_t *st, uint64_t n);  /* 0 .. n-1 */
int rnd_chance(uint64_t *st, double p);

/* The world a run of moodlecord sees: the fakes, the config, the
 * binary, the simulated clock, the sanitizer's report directory. */
struct world {
	char tmp[256];           /* everything lives here                   */
	char statedir[300];      /* the state's directory (maybe a tmpfs)   */
	char state[320];         /* the state file                          */
	char cfg[300];
	char scenario[300];
	char sanlog[300];
	const char *moodlecord;
	const char *fakes;
	const char *libfaketime;
	int mounted;             /* statedir is our tmpfs                    */
	pid_t moodle_pid, discord_pid;
	int moodle_port, discord_port;
	char webhook_id[8][32];
	char webhook_token[8][80];
	int nhooks, hook;        /* webhooks registered; the one in use      */
	char password[64];
	char moodle_token[40];
	char role[32];
	void *curl;
	long calls_known;        /* the fake's call count after the last run */
	/* secrets as 4-character needles in every encoding */
	char **needles;
	size_t nneedles;
};

/* A finished run of moodlecord. */
struct run {
	int status;              /* exit status, or -1 when signalled       */
	int sig;                 /* the signal that ended it, 0 if none     */
	int killed;              /* it was our SIGKILL                      */
	int hung;                /* killed because it ran over a minute     */
	long calls;              /* Discord calls made meanwhile            */
	struct sbuf out;         /* stdout and stderr together              */
};

enum kill_mode { KILL_NONE, KILL_DELAY, KILL_HOLD_BEFORE, KILL_HOLD_AFTER };

/* Make the temporary tree and the secrets (from seed).  tmpfs: try to
 * mount a small tmpfs for the state (full disk, read-only); w->mounted
 * says whether it worked. */
void world_init(struct world *w, const char *moodlecord, const char *fakes,
    const char *libfaketime, uint64_t seed, int tmpfs);

/* Start the fakes (w->scenario must exist) and write the config. */
void world_start(struct world *w);
void world_stop(struct world *w);
void world_write_config(struct world *w);

/* Run `moodlecord -c CFG args...` at simulated time t (libfaketime).
 * kill: how to end it early (delay_us for KILL_DELAY). */
void world_run(struct world *w, int64_t t, const char *const *args, enum kill_mode kill,
    long delay_us, struct run *r);
void run_free(struct run *r);

/* Two runs started together at t, as cron starts sync and ping at the
 * same minute (no kill); calls: the Discord calls of both. */
void world_run_two(struct world *w, int64_t t, const char *const *a1, const char *const *a2,
    struct run *r1, struct run *r2);

/* The fake Discord's admin API: GET or POST /_fake/<path>; the answer
 * parsed, NULL on any failure (the caller owns it). */
json_object *discord_admin(struct world *w, const char *method, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
long discord_calls(struct world *w);

/* The first secret needle found in s, or NULL. */
const char *secret_in(const struct world *w, const char *s, size_t n);

/* The sanitizer reports written since the last call, or NULL (caller
 * frees); the reports are removed. */
char *sanitizer_reports(struct world *w);

int file_read(const char *path, struct sbuf *b);   /* 0 ok, -1 errno */
int file_write(const char *path, const void *p, size_t n);

#endif
