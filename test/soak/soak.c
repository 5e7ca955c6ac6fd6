/* soak: moodlecord as cron runs it for simulated days, with faults.
 *
 *   soak --moodlecord BIN --fakes DIR --libfaketime SO [--days N] [--seed S]
 *        [--no-tmpfs] [--only EPISODE-KIND] [--verbose]
 *
 * A seeded, bounded driver: every minute of simulated time a `ping`, every
 * 30 minutes a `sync` before it, each run of the real binary under
 * libfaketime (FAKETIME set to the simulated minute), against the fake
 * Moodle (a scenario file this driver rewrites: conferences added each
 * day, renamed, moved, cancelled, short-notice ones, hostile names) and
 * the fake Discord.  Faults, one episode at a time: Discord 5xx, 429
 * storms, bans, lost answers, a wrong token, the webhook deleted (then a
 * new one, as a person would make), Moodle's faults (the fake's modes),
 * empty answers, a course that vanishes, a full disk and a read-only
 * state directory (a small tmpfs; skipped with a message when it cannot
 * be mounted); and at any time: kill -9 (at a random moment, or right
 * after Discord carried out a call), moderator deletions, damaged state
 * files (bit flips in page headers, bytes, truncation, another program's
 * LMDB file, 0 bytes), clock jumps either way.
 *
 * After each fault it lets things settle (two clean syncs in a row) and
 * checks what the fake Discord holds against what the scenario says:
 * one message per current conference and nothing else (messages the
 * state does not know are duplicates: counted, then deleted as a
 * moderator would); every run: exit status documented and fitting, no
 * secret (4+ characters of any, in any encoding) in its output, no
 * sanitizer report; at the end: no conference pinged more than once plus
 * once per disturbance near its ping, no missed ping in a clean window,
 * duplicates within kills + lost answers (+1 per full-disk episode).
 * Prints the figures; exit 1 on any violation, 2 when it cannot run. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400
#define LOOKAHEAD (7 * DAY)   /* lookahead_days in world_write_config */
#define MEETING 60            /* meeting_minutes                      */
#define PING_SECONDS 300      /* ping_minutes                         */
#define NCOURSES 3

/* Violations, by the problem of issue 16 each shows (0: none of them). */
enum vkind {
	V_SECRET, V_CRASH, V_DAMAGED, V_DUP, V_NOTRECORDED, V_EMPTYDEL, V_PINGS,
	V_ZERO, V_PINGDAMAGED, V_REDELETE, V_FORMAT, V_NORESTORE, V_EXIT,
	V_SANITIZER, V_STALE, V_MISSING, V_MISSEDPING, V_HANG, V_DUMP, V_NKINDS
};

static const struct {
	const char *name;
	int problem;
} vinfo[V_NKINDS] = {
	[V_SECRET] = { "secret in output", 1 },
	[V_CRASH] = { "crash on a damaged state", 2 },
	[V_DAMAGED] = { "damaged state: call made or file changed", 2 },
	[V_DUP] = { "duplicates over the allowance", 3 },
	[V_NOTRECORDED] = { "error line lost 'not recorded'", 3 },
	[V_EMPTYDEL] = { "one empty answer deleted a conference", 4 },
	[V_PINGS] = { "conference pinged too often", 4 },
	[V_ZERO] = { "0-byte state accepted", 5 },
	[V_PINGDAMAGED] = { "ping accepted a state sync refuses", 6 },
	[V_REDELETE] = { "DELETE of a message already deleted", 7 },
	[V_FORMAT] = { "invisible format character in a message", 8 },
	[V_NORESTORE] = { "deleted message not back within a day", 9 },
	[V_EXIT] = { "exit status not fitting", 0 },
	[V_SANITIZER] = { "sanitizer report", 0 },
	[V_STALE] = { "stale message in the channel", 0 },
	[V_MISSING] = { "conference without its message", 0 },
	[V_MISSEDPING] = { "missed ping in a clean window", 0 },
	[V_HANG] = { "run hung", 0 },
	[V_DUMP] = { "dump failed on a sound state", 0 },
};

enum ep {
	EP_NONE, EP_D5XX, EP_D429, EP_DBAN, EP_DDROP, EP_DTOKEN, EP_DGONE, EP_MFAULT,
	EP_MEMPTY, EP_MVANISH, EP_FULL, EP_RO, EP_NKINDS
};

static const char *const ep_name[EP_NKINDS] = {
	"none", "discord 5xx", "discord 429 storm", "discord ban", "lost answer",
	"wrong webhook token", "webhook deleted", "moodle fault", "empty answer",
	"course vanished", "full disk", "read-only state",
};

enum inst { IN_KILL, IN_MODDEL, IN_CORRUPT, IN_ZERO, IN_CLOCKFWD, IN_CLOCKBACK, IN_NKINDS };

static const char *const in_name[IN_NKINDS] = {
	"kill -9", "moderator deletion", "damaged state", "0-byte state",
	"clock jump forward", "clock jump back",
};

/* Moodle faults the fake knows, where they apply, and the exits that fit. */
static const struct {
	const char *mode;
	int login_only, rest_only;
	int exits[2];
} mfaults[] = {
	{ "wrong_password", 1, 0, { 77, 77 } },
	{ "maintenance", 0, 0, { 75, 75 } },
	{ "cli_maintenance", 0, 0, { 75, 75 } },
	{ "rest_disabled", 0, 1, { 78, 78 } },
	{ "ws_disabled", 0, 0, { 78, 78 } },
	{ "service_disabled", 1, 0, { 78, 78 } },
	{ "html_login", 0, 0, { 65, 65 } },
	{ "redirect", 0, 0, { 78, 78 } },
	{ "truncated", 0, 0, { 65, 65 } },
	{ "empty", 0, 0, { 65, 65 } },
	{ "server_error", 0, 0, { 69, 69 } },
};
#define NMFAULTS (sizeof mfaults / sizeof mfaults[0])

static const char *const mf_on[] = {
	"any", "login", "rest", "core_webservice_get_site_info",
	"core_enrol_get_users_courses", "core_calendar_get_calendar_events",
};

static const char *const names[] = {
	"Lecture %d", "Lab session %d", "Q&A <live> %d", "Tutorial \"%d\" & more",
	"\xE2\x80\xAEgnp.exe Lecture %d",                    /* U+202E */
	"Review \xE2\x81\xA6hidden\xE2\x81\xA9 %d",          /* U+2066, U+2069 */
	"Zero\xE2\x80\x8Bwidth\xE2\x80\x8D join %d",         /* U+200B, U+200D */
	"Mark\xE2\x80\x8F RTL %d",                           /* U+200F */
	"Arabic letter mark \xD8\x9C %d",                    /* U+061C */
	"BOM\xEF\xBB\xBF inside %d",                         /* U+FEFF */
	"Soft\xC2\xADhyphen %d",                             /* U+00AD */
	"Embedding \xE2\x80\xAA" "LTR\xE2\x80\xAC %d",       /* U+202A, U+202C */
	"@everyone come to %d", "**bold** __under__ ||spoiler|| `code` %d",
	"<@&123456789012345678> role %d", "\xC3\x9cnic\xC3\xB6" "de V\xC3\xB6rlesung %d",
	"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E %d", "\xF0\x9F\x8E\x93 Seminar %d",
	"Vorlesung \xC3\x9C" "ber die sehr lange Geschichte der Hochschuldidaktik im "
	"Wandel der Zeiten, mit besonderer Ber\xC3\xBC" "cksichtigung der Videokonferenzen, "
	"der Mikrofone, der Kameras, der Bandbreite und der Geduld aller Beteiligten, "
	"Teil %d von vielen, vielen weiteren Teilen dieser Reihe",
};
#define NNAMES (sizeof names / sizeof names[0])

struct conf {
	int cmid, event, instance, course;
	int assign;               /* an assignment: never posted            */
	int64_t start;
	int dur;                  /* minutes; 0: meeting_minutes            */
	char name[400];
	int cancelled;
	int in_prev, in_cur;      /* returned to the last two clean syncs   */
	int64_t synced_at;        /* first clean sync with this start       */
	int64_t mod_deleted_at;   /* a moderator deleted its message        */
	int pings, posts;
	int restore_flagged;
};

struct interval {
	int64_t a, b;
};

struct idset {                /* message ids (snowflakes), open addressing */
	uint64_t *v;
	int64_t *t;               /* when each was added                   */
	size_t cap, n;
};

struct soak {
	struct world w;
	uint64_t rs;
	int verbose;
	int64_t t0, t, tend, generated_to;
	struct conf *c;
	size_t nc, capc;
	int next_cmid;
	int enrolled[NCOURSES];
	int hide_all;
	int scenario_dirty;
	/* the episode in progress */
	enum ep ep;
	int ep_syncs;             /* syncs left in it                       */
	int64_t ep_from;
	int mf;                   /* mfaults index                          */
	const char *mf_on;
	int vanished;             /* course index                           */
	int empty_once;           /* an empty answer for exactly one sync   */
	/* settling */
	int clean_in_row;
	int need_check;
	int64_t last_check;
	/* figures */
	long runs_sync, runs_ping, runs_dump, kills, episodes[EP_NKINDS], instants[IN_NKINDS];
	long dups, dup_allow, dups_then, allow_then, lost, pings_sent, orphan_pings, del404;
	long clean_windows, missed, checks, concurrent;
	long violations[V_NKINDS], nviol;
	struct interval *dist;
	size_t ndist, capdist;
	size_t log_seen;
	long posted_last;         /* POSTs carried out in the last read     */
	struct idset deleted;     /* messages a DELETE removed            */
	struct idset reported;    /* messages with a format character     */
	int tmpfs_skipped;
	int only;                 /* --only K: episodes of kind K only      */
	/* a damaged file all three verbs took: the good copy, should the
	 * damage surface later */
	struct sbuf backup;
	int64_t backup_t;
	long backup_calls;
};

static void
violation(struct soak *S, enum vkind k, const char *fmt, ...)
{
	char when[32], msg[1024];
	time_t tt = (time_t)S->t;
	struct tm tm;
	va_list ap;

	S->violations[k]++;
	S->nviol++;
	if (S->violations[k] > 5)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gmtime_r(&tt, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	printf("violation [%s] %s: %s\n", when, vinfo[k].name, msg);
	fflush(stdout);
}

static void
disturb(struct soak *S, int64_t a, int64_t b)
{
	if (S->ndist == S->capdist) {
		S->capdist = S->capdist ? S->capdist * 2 : 64;
		S->dist = xrealloc(S->dist, S->capdist * sizeof *S->dist);
	}
	S->dist[S->ndist].a = a;
	S->dist[S->ndist].b = b;
	S->ndist++;
}

static size_t
disturbances(const struct soak *S, int64_t a, int64_t b)
{
	size_t i, n = 0;

	for (i = 0; i < S->ndist; i++)
		if (S->dist[i].a <= b && S->dist[i].b >= a)
			n++;
	return n;
}

/* 1 and *t = when it was added, or 0. */
static int
idset_when(const struct idset *s, uint64_t id, int64_t *t)
{
	size_t i;

	if (s->cap == 0)
		return 0;
	for (i = id % s->cap; s->v[i] != 0; i = (i + 1) % s->cap)
		if (s->v[i] == id) {
			*t = s->t[i];
			return 1;
		}
	return 0;
}

static int
idset_has(const struct idset *s, uint64_t id)
{
	int64_t t;

	return idset_when(s, id, &t);
}

static void
idset_add_at(struct idset *s, uint64_t id, int64_t t)
{
	size_t i;

	if (id == 0 || idset_has(s, id))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		struct idset big = { 0 };

		big.cap = s->cap ? s->cap * 2 : 1024;
		big.v = xmalloc(big.cap * sizeof *big.v);
		big.t = xmalloc(big.cap * sizeof *big.t);
		memset(big.v, 0, big.cap * sizeof *big.v);
		for (i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				idset_add_at(&big, s->v[i], s->t[i]);
		free(s->v);
		free(s->t);
		*s = big;
	}
	for (i = id % s->cap; s->v[i] != 0; i = (i + 1) % s->cap)
		;
	s->v[i] = id;
	s->t[i] = t;
	s->n++;
}

static void
idset_add(struct idset *s, uint64_t id)
{
	idset_add_at(s, id, 0);
}

static void
idset_free(struct idset *s)
{
	free(s->v);
	free(s->t);
	memset(s, 0, sizeof *s);
}

/* ---- the scenario ---------------------------------------------------- */

static int64_t
conf_end(const struct conf *c)
{
	return c->start + (int64_t)(c->dur ? c->dur : MEETING) * MIN;
}

/* Does Moodle return c to a sync at t (moodlecord asks for [t - 1 day,
 * t + lookahead])? */
static int
returned(const struct soak *S, const struct conf *c, int64_t t)
{
	if (c->cancelled || c->assign || S->hide_all || !S->enrolled[c->course])
		return 0;
	if (c->start > t + LOOKAHEAD)
		return 0;
	return c->start >= t - DAY || (c->dur > 0 && conf_end(c) > t - DAY);
}

static struct conf *
conf_by_cmid(struct soak *S, int cmid)
{
	size_t i;

	for (i = 0; i < S->nc; i++)
		if (S->c[i].cmid == cmid)
			return &S->c[i];
	return NULL;
}

static void
name_pick(struct soak *S, struct conf *c)
{
	snprintf(c->name, sizeof c->name, names[rnd_below(&S->rs, NNAMES)], c->cmid);
}

static struct conf *
conf_add(struct soak *S, int64_t start, int assign)
{
	struct conf *c;

	if (S->nc == S->capc) {
		S->capc = S->capc ? S->capc * 2 : 128;
		S->c = xrealloc(S->c, S->capc * sizeof *S->c);
	}
	c = &S->c[S->nc++];
	memset(c, 0, sizeof *c);
	c->cmid = S->next_cmid++;
	c->event = c->cmid + 40000;
	c->instance = c->cmid + 20000;
	c->course = (int)rnd_below(&S->rs, NCOURSES);
	c->assign = assign;
	c->start = start;
	c->dur = rnd_chance(&S->rs, 0.3) ? 30 * (1 + (int)rnd_below(&S->rs, 4)) : 0;
	name_pick(S, c);
	S->scenario_dirty = 1;
	return c;
}

/* Starts on 5-minute marks, never on :00 or :30 (nor, with durations in
 * half hours, ends there): no conference starts or ends at a sync. */
static void
generate_day(struct soak *S, int64_t day)
{
	int i;

	for (i = 0; i < 12; i++) {
		int64_t m = 7 * 60 + (int64_t)rnd_below(&S->rs, 14 * 60);

		m -= m % 5;
		if (m % 30 == 0)
			m += 5;
		conf_add(S, day + m * MIN, 0);
	}
	for (i = 0; i < 2; i++)
		conf_add(S, day + (8 * 60 + 5 + (int64_t)rnd_below(&S->rs, 10) * 60) * MIN, 1);
}

static void
json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void
json_add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void
scenario_write(struct soak *S)
{
	json_object *root = json_object_new_object(), *site = json_object_new_object();
	json_object *users = json_object_new_array(), *u = json_object_new_object();
	json_object *courses = json_object_new_array(), *acts = json_object_new_array();
	const char *text;
	char tmp[400];
	size_t i;

	json_add_int(root, "base", S->t0);
	json_add_str(site, "sitename", "Soak Moodle");
	json_add_str(site, "release", "4.5 (Build: 20241007)");
	json_add_str(site, "version", "2024100700");
	json_object_object_add(root, "site", site);
	json_add_int(u, "id", 7);
	json_add_str(u, "username", "alice");
	json_add_str(u, "password", S->w.password);
	json_add_str(u, "firstname", "Alice");
	json_add_str(u, "lastname", "Liddell");
	json_add_str(u, "token", S->w.moodle_token);
	json_object_array_add(users, u);
	json_object_object_add(root, "users", users);
	for (i = 0; i < NCOURSES; i++) {
		json_object *c = json_object_new_object(), *cu = json_object_new_array();
		char sn[16], fn[32];

		snprintf(sn, sizeof sn, "C%zu", i + 1);
		snprintf(fn, sizeof fn, "Course %zu", i + 1);
		json_add_int(c, "id", 10 + (int64_t)i);
		json_add_str(c, "shortname", sn);
		json_add_str(c, "fullname", fn);
		if (S->enrolled[i])
			json_object_array_add(cu, json_object_new_int(7));
		json_object_object_add(c, "users", cu);
		json_object_array_add(courses, c);
	}
	json_object_object_add(root, "courses", courses);
	for (i = 0; i < S->nc; i++) {
		const struct conf *c = &S->c[i];
		json_object *a;

		if (c->cancelled || conf_end(c) < S->t - 2 * DAY)
			continue;
		a = json_object_new_object();
		json_add_str(a, "module", c->assign ? "assign" : "bigbluebuttonbn");
		json_add_int(a, "instance", c->instance);
		json_add_int(a, "cmid", c->cmid);
		json_add_int(a, "course", 10 + c->course);
		json_add_str(a, "name", c->name);
		json_add_int(a, "event", c->event);
		json_add_int(a, "start", c->start - S->t0);
		json_add_int(a, "duration", (int64_t)c->dur * MIN);
		json_object_object_add(a, "visible", json_object_new_boolean(!S->hide_all));
		json_object_array_add(acts, a);
	}
	json_object_object_add(root, "activities", acts);
	if (S->ep == EP_MFAULT) {
		json_object *f = json_object_new_object();

		json_add_str(f, "mode", mfaults[S->mf].mode);
		json_add_str(f, "on", S->mf_on);
		json_object_object_add(root, "fault", f);
	}
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	snprintf(tmp, sizeof tmp, "%s.tmp", S->w.scenario);
	if (file_write(tmp, text, strlen(text)) != 0 || rename(tmp, S->w.scenario) != 0)
		die("%s: %s", S->w.scenario, strerror(errno));
	json_object_put(root);
	S->scenario_dirty = 0;
}

/* The hourly life of a site: a rename, a move, a cancellation, a
 * conference at short notice. */
static struct conf *
conf_pick(struct soak *S, int64_t after)
{
	int tries;

	for (tries = 0; tries < 30 && S->nc > 0; tries++) {
		struct conf *c = &S->c[rnd_below(&S->rs, S->nc)];

		if (!c->cancelled && !c->assign && c->start > after)
			return c;
	}
	return NULL;
}

static void
site_changes(struct soak *S)
{
	uint64_t r = rnd_below(&S->rs, 100);
	struct conf *c;

	if (r < 35) {
		c = conf_pick(S, S->t + 10 * MIN);
		if (c != NULL)
			name_pick(S, c);
	} else if (r < 60) {
		c = conf_pick(S, S->t + 3 * HOUR);
		if (c != NULL) {
			int64_t d = (1 + (int64_t)rnd_below(&S->rs, 6)) * 30 * MIN;

			c->start += rnd_chance(&S->rs, 0.5) && c->start - d > S->t + 2 * HOUR ? -d : d;
			c->synced_at = 0;
		}
	} else if (r < 75) {
		c = conf_pick(S, S->t + HOUR);
		if (c != NULL)
			c->cancelled = 1;
	} else {
		int64_t m = 15 + 5 * (int64_t)rnd_below(&S->rs, 9);

		if (m == 30)
			m = 35;
		conf_add(S, S->t + m * MIN, 0);
	}
	S->scenario_dirty = 1;
}

/* ---- runs ------------------------------------------------------------ */

static int
fits(int status, const int *allowed, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (allowed[i] == status)
			return 1;
	return 0;
}

/* dump shows each body's hash, 16 hex digits: not a secret, but hex like
 * the Moodle token; blanked before the search. */
static char *
hashes_blanked(const struct run *r)
{
	char *s = memcpy(xmalloc(r->out.n + 1), r->out.p, r->out.n + 1), *p = s;

	while ((p = strstr(p, "\"hash\": \"")) != NULL) {
		p += strlen("\"hash\": \"");
		while (*p != '\0' && *p != '"')
			*p++ = '-';
	}
	return s;
}

/* What every run must show, whatever its verb. */
static void
run_checks(struct soak *S, const char *verb, const struct run *r)
{
	char *text = hashes_blanked(r);
	const char *leak = secret_in(&S->w, text, r->out.n);
	char *san = sanitizer_reports(&S->w);

	if (leak != NULL)
		violation(S, V_SECRET, "%s printed a piece of a secret (\"%s\"): %.300s", verb, leak,
		    r->out.p);
	free(text);
	if (san != NULL) {
		violation(S, V_SANITIZER, "%s: %.600s", verb, san);
		free(san);
	}
	if (r->hung)
		violation(S, V_HANG, "%s ran over a minute", verb);
	if (r->sig != 0 && !r->killed && !r->hung)
		violation(S, V_CRASH, "%s died of signal %d: %.300s", verb, r->sig, r->out.p);
}

/* The exits that fit `verb` in the episode now. */
static size_t
allowed_exits(const struct soak *S, int is_sync, int *v)
{
	size_t n = 0;

	v[n++] = 0;
	switch (S->ep) {
	case EP_D5XX: case EP_DBAN: case EP_DDROP:
		v[n++] = 69;
		v[n++] = 75;
		break;
	case EP_D429:
		v[n++] = 75;
		break;
	case EP_DTOKEN: case EP_DGONE:
		v[n++] = 78;
		break;
	case EP_MFAULT:
		if (is_sync) {   /* the fault applies: 0 does not fit */
			v[0] = mfaults[S->mf].exits[0];
			v[n++] = mfaults[S->mf].exits[1];
		}
		break;
	case EP_FULL: case EP_RO:
		v[n++] = 74;
		break;
	default:
		break;
	}
	return n;
}

/* A damaged file that dump, ping and sync all took, refused later: the
 * damage was read as data.  The person puts the good copy back. */
static int
damage_surfaced(struct soak *S, const char *verb, const struct run *r)
{
	if (r->status != 74 || S->backup.p == NULL || S->ep != EP_NONE)
		return 0;
	violation(S, V_DAMAGED, "damage all verbs took %" PRId64 " min ago surfaced in %s: %.200s",
	    (S->t - S->backup_t) / MIN, verb, r->out.p);
	if (file_write(S->w.state, S->backup.p, S->backup.n) != 0)
		die("%s: %s", S->w.state, strerror(errno));
	S->dup_allow += discord_calls(&S->w) - S->backup_calls;
	disturb(S, S->backup_t, S->t + HOUR);
	sbuf_free(&S->backup);
	S->need_check = 1;
	return 1;
}

static void
check_exit(struct soak *S, const char *verb, int is_sync, const struct run *r)
{
	int allowed[8];
	size_t n = allowed_exits(S, is_sync, allowed);

	if (r->sig != 0 || damage_surfaced(S, verb, r))
		return;
	if (!fits(r->status, allowed, n))
		violation(S, V_EXIT, "%s exited %d during '%s'%s%s: %.300s", verb, r->status,
		    ep_name[S->ep], S->ep == EP_MFAULT ? " " : "",
		    S->ep == EP_MFAULT ? mfaults[S->mf].mode : "", r->out.p);
}

/* In a full-disk or read-only episode: a sync that posted and could not
 * record says so, with the message id. */
static void
check_not_recorded(struct soak *S, const struct run *r)
{
	if (r->status != 0 && r->sig == 0 && S->posted_last > 0 &&
	    strstr(r->out.p, "not recorded") == NULL)
		violation(S, V_NOTRECORDED, "sync posted, exited %d, and said: %.400s", r->status,
		    r->out.p);
}

static void log_read(struct soak *S);

static void
mc_run(struct soak *S, const char *verb, enum kill_mode k, long delay_us, struct run *r)
{
	const char *args[3] = { verb, NULL, NULL };

	if (strcmp(verb, "dump") == 0)
		args[1] = "--json";
	world_run(&S->w, S->t, args, k, delay_us, r);
	run_checks(S, verb, r);
	if (r->killed) {
		S->kills++;
		S->instants[IN_KILL]++;
		S->dup_allow++;
		disturb(S, S->t, S->t);
		S->need_check = 1;
	}
	/* the calls of this run, read while the run is known */
	S->posted_last = 0;
	if (r->calls > 0)
		log_read(S);
}

/* Conference messages in the channel now, counted by cmid. */
static int
parse_cmid(const char *s)
{
	const char *p = s ? strstr(s, "view.php?id=") : NULL;

	return p ? atoi(p + strlen("view.php?id=")) : 0;
}

static const char *
jget_str(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static json_object *
jget(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The conference a channel message is about (0: none), and whether it is
 * a ping. */
static int
msg_cmid(json_object *m, int *is_ping)
{
	json_object *emb = jget(m, "embeds");
	const char *content = jget_str(m, "content");

	*is_ping = 0;
	if (emb != NULL && json_object_array_length(emb) > 0)
		return parse_cmid(jget_str(json_object_array_get_idx(emb, 0), "url"));
	*is_ping = 1;
	return parse_cmid(content);
}

static void
channel_counts(struct soak *S, int *count)
{
	json_object *ch = discord_admin(&S->w, "GET", "channel");
	size_t i, n = ch ? json_object_array_length(ch) : 0;

	memset(count, 0, sizeof(int) * (size_t)S->next_cmid);
	for (i = 0; i < n; i++) {
		int ping, cmid = msg_cmid(json_object_array_get_idx(ch, i), &ping);

		if (!ping && cmid > 0 && cmid < S->next_cmid)
			count[cmid]++;
	}
	json_object_put(ch);
}

/* A sync (with_ping: and a ping started with it). */
static void
do_sync(struct soak *S, int with_ping)
{
	struct run r;
	enum kill_mode k = KILL_NONE;
	long delay = 0;
	int *before = NULL, one_empty = S->ep == EP_MEMPTY && S->empty_once;
	size_t i;

	if (S->scenario_dirty)
		scenario_write(S);
	if (rnd_chance(&S->rs, 0.06)) {
		k = rnd_chance(&S->rs, 0.5) ? KILL_DELAY : KILL_HOLD_AFTER;
		delay = (long)rnd_below(&S->rs, 150000);
	}
	if (one_empty) {
		before = xmalloc(sizeof(int) * (size_t)S->next_cmid);
		channel_counts(S, before);
		k = KILL_NONE;
	}
	if (with_ping) {
		/* cron starts both at the same minute */
		static const char *const sync[] = { "sync", NULL }, *const ping[] = { "ping", NULL };
		struct run rp;

		world_run_two(&S->w, S->t, sync, ping, &r, &rp);
		run_checks(S, "sync", &r);
		run_checks(S, "ping", &rp);
		S->posted_last = 0;
		if (r.calls > 0)
			log_read(S);
		S->runs_ping++;
		S->concurrent++;
		check_exit(S, "ping", 0, &rp);
		run_free(&rp);
	} else {
		mc_run(S, "sync", k, delay, &r);
	}
	S->runs_sync++;
	check_exit(S, "sync", 1, &r);
	if (S->ep == EP_MFAULT && r.calls > 0 && !r.killed)
		violation(S, V_EXIT, "sync made %ld Discord calls after Moodle failed (%s)", r.calls,
		    mfaults[S->mf].mode);
	if (S->ep == EP_FULL || S->ep == EP_RO)
		check_not_recorded(S, &r);
	if (r.status == 0) {
		for (i = 0; i < S->nc; i++) {
			struct conf *c = &S->c[i];

			c->in_prev = c->in_cur;
			c->in_cur = returned(S, c, S->t);
			if (c->in_cur && c->synced_at == 0)
				c->synced_at = S->t;
		}
		S->clean_in_row = S->ep == EP_NONE ? S->clean_in_row + 1 : 0;
	} else {
		S->clean_in_row = 0;
	}
	if (one_empty && r.status == 0) {
		int *after = xmalloc(sizeof(int) * (size_t)S->next_cmid);

		channel_counts(S, after);
		for (i = 0; i < S->nc; i++) {
			struct conf *c = &S->c[i];

			if (before[c->cmid] > 0 && after[c->cmid] == 0 && S->t < conf_end(c))
				violation(S, V_EMPTYDEL, "message of '%s' (cmid %d, %s) deleted after one "
				    "empty answer", c->name, c->cmid,
				    c->start <= S->t ? "started" : "ahead");
		}
		free(after);
	}
	free(before);
	run_free(&r);
}

static void
do_ping(struct soak *S)
{
	struct run r;
	enum kill_mode k = KILL_NONE;
	long delay = 0;
	size_t i;
	int pending = 0;

	for (i = 0; i < S->nc && !pending; i++)
		pending = !S->c[i].cancelled && S->c[i].start - PING_SECONDS <= S->t &&
		    S->t < S->c[i].start;
	if (pending && rnd_chance(&S->rs, 0.08))
		k = KILL_HOLD_AFTER;
	else if (rnd_chance(&S->rs, 0.005)) {
		k = KILL_DELAY;
		delay = (long)rnd_below(&S->rs, 20000);
	}
	mc_run(S, "ping", k, delay, &r);
	S->runs_ping++;
	check_exit(S, "ping", 0, &r);
	run_free(&r);
}

/* ---- the check after things settled ---------------------------------- */

static uint64_t
id_of(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

/* New entries of the fake's log: pings and posts per conference, lost
 * answers, DELETEs of messages already deleted. */
static void
log_read(struct soak *S)
{
	json_object *log = discord_admin(&S->w, "GET", "log?from=%zu", S->log_seen);
	size_t n = log ? json_object_array_length(log) : 0, i;

	S->posted_last = 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(log, i);
		const char *method = jget_str(e, "method"), *path = jget_str(e, "path");
		int status = json_object_get_int(jget(e, "status"));
		int dropped = json_object_get_boolean(jget(e, "dropped"));
		const char *mid = path ? strstr(path, "/messages/") : NULL;

		if (method == NULL || path == NULL)
			continue;
		if (strcmp(method, "POST") == 0 && (status == 200 || dropped)) {
			json_object *b = json_tokener_parse(jget_str(e, "body") ? jget_str(e, "body") : "");
			int ping = 0, cmid = b ? msg_cmid(b, &ping) : 0;
			struct conf *c = cmid ? conf_by_cmid(S, cmid) : NULL;

			S->posted_last++;
			if (c != NULL && ping) {
				c->pings++;
				S->pings_sent++;
			} else if (c != NULL) {
				c->posts++;
			}
			json_object_put(b);
		}
		if (dropped) {
			S->lost++;
			S->dup_allow++;
			disturb(S, S->t, S->t);
		}
		if (strcmp(method, "DELETE") == 0 && mid != NULL) {
			uint64_t id = id_of(mid + strlen("/messages/"));

			int64_t when;

			/* known in advance, unless a run was killed (or lost
			 * an answer) since, before it could record the delete */
			if (idset_when(&S->deleted, id, &when) && disturbances(S, when, S->t) == 0)
				violation(S, V_REDELETE, "message %" PRIu64 " deleted again (answer %d)", id,
				    status);
			if (status == 204 && !dropped)
				idset_add_at(&S->deleted, id, S->t);
			if (status == 404)
				S->del404++;
		}
	}
	S->log_seen += n;
	json_object_put(log);
}

/* Is there an invisible format character (bidi controls and the like)
 * in s?  Returns its code point, 0 when none. */
static unsigned
format_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *prev = NULL;

	while (p && *p) {
		unsigned cp = *p;
		int len = 1;

		if (*p >= 0xF0 && p[1] && p[2] && p[3]) {
			cp = ((unsigned)(p[0] & 7) << 18) | ((unsigned)(p[1] & 63) << 12) |
			    ((unsigned)(p[2] & 63) << 6) | (p[3] & 63);
			len = 4;
		} else if (*p >= 0xE0 && p[1] && p[2]) {
			cp = ((unsigned)(p[0] & 15) << 12) | ((unsigned)(p[1] & 63) << 6) | (p[2] & 63);
			len = 3;
		} else if (*p >= 0xC0 && p[1]) {
			cp = ((unsigned)(p[0] & 31) << 6) | (p[1] & 63);
			len = 2;
		}
		/* the renderer's own zero-width space after '@' or '<' keeps
		 * "@everyone" and "<@&id>" in a name from mentioning */
		if (cp == 0x200B && prev != NULL && (*prev == '@' || *prev == '<'))
			cp = 0;
		if (cp == 0xAD || cp == 0x61C || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
		    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
		    (cp >= 0x2066 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB))
			return cp;
		prev = p;
		p += len;
	}
	return 0;
}

static void
check_format(struct soak *S, json_object *m)
{
	const char *id = jget_str(m, "id");
	const char *content = jget_str(m, "content");
	json_object *emb = jget(m, "embeds");
	const char *title = NULL, *desc = NULL;
	unsigned cp;

	if (emb != NULL && json_object_array_length(emb) > 0) {
		title = jget_str(json_object_array_get_idx(emb, 0), "title");
		desc = jget_str(json_object_array_get_idx(emb, 0), "description");
	}
	cp = format_char(content);
	if (cp == 0)
		cp = format_char(title);
	if (cp == 0)
		cp = format_char(desc);
	if (cp != 0 && !idset_has(&S->reported, id_of(id))) {
		violation(S, V_FORMAT, "message %s holds U+%04X: %.200s", id ? id : "?", cp,
		    title ? title : content ? content : "");
		idset_add(&S->reported, id_of(id));  /* each message once */
	}
}

/* The ids the state knows, from `dump --json`. */
static int
state_ids(struct soak *S, struct idset *ids)
{
	struct run r;
	json_object *arr;
	size_t i, n;

	mc_run(S, "dump", KILL_NONE, 0, &r);
	S->runs_dump++;
	if (r.status != 0) {
		violation(S, V_DUMP, "dump exited %d: %.300s", r.status, r.out.p);
		run_free(&r);
		return -1;
	}
	arr = json_tokener_parse(r.out.p);
	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(arr, i);

		idset_add(ids, id_of(jget_str(rec, "msg_id")));
		idset_add(ids, id_of(jget_str(rec, "ping_id")));
	}
	json_object_put(arr);
	run_free(&r);
	return 0;
}

static void
check_channel(struct soak *S)
{
	struct idset known = { 0 };
	json_object *ch;
	int *conf_n, *ping_n;
	size_t i, n;

	S->checks++;
	log_read(S);
	if (state_ids(S, &known) != 0)
		return;
	ch = discord_admin(&S->w, "GET", "channel");
	n = ch ? json_object_array_length(ch) : 0;
	conf_n = xmalloc(sizeof(int) * (size_t)S->next_cmid);
	ping_n = xmalloc(sizeof(int) * (size_t)S->next_cmid);
	memset(conf_n, 0, sizeof(int) * (size_t)S->next_cmid);
	memset(ping_n, 0, sizeof(int) * (size_t)S->next_cmid);
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ch, i);
		const char *id = jget_str(m, "id");
		int ping, cmid = msg_cmid(m, &ping);
		struct conf *c = cmid ? conf_by_cmid(S, cmid) : NULL;

		check_format(S, m);
		if (!idset_has(&known, id_of(id))) {
			/* a message the state does not know: a duplicate, which
			 * a moderator deletes */
			if (ping)
				S->orphan_pings++;
			else
				S->dups++;
			json_object_put(discord_admin(&S->w, "POST", "delete_message?id=%s", id));
			continue;
		}
		if (c == NULL) {
			violation(S, V_STALE, "message %s is about no known conference", id);
			continue;
		}
		if (ping) {
			ping_n[cmid]++;
		} else {
			char want[48];
			const char *desc = jget_str(json_object_array_get_idx(jget(m, "embeds"), 0),
			    "description");

			conf_n[cmid]++;
			snprintf(want, sizeof want, "<t:%" PRId64 ":F>", c->start);
			if (desc == NULL || strstr(desc, want) == NULL)
				violation(S, V_STALE, "message of cmid %d shows another start than %s", cmid,
				    want);
		}
	}
	for (i = 0; i < S->nc; i++) {
		struct conf *c = &S->c[i];
		int over = S->t >= conf_end(c);
		int expect = c->in_cur && !over, tolerate = c->in_prev && !over;

		if (expect && conf_n[c->cmid] == 0) {
			if (c->mod_deleted_at == 0)
				violation(S, V_MISSING, "no message for '%s' (cmid %d)", c->name, c->cmid);
			else if (S->t - c->mod_deleted_at > DAY && !c->restore_flagged) {
				violation(S, V_NORESTORE, "message of cmid %d deleted by a moderator %" PRId64
				    " h ago and not posted again", c->cmid, (S->t - c->mod_deleted_at) / HOUR);
				c->restore_flagged = 1;
			}
		}
		if (conf_n[c->cmid] > 0)
			c->mod_deleted_at = 0;
		if (conf_n[c->cmid] > 1)
			violation(S, V_STALE, "%d messages for cmid %d", conf_n[c->cmid], c->cmid);
		if (!expect && !tolerate && (conf_n[c->cmid] > 0 || ping_n[c->cmid] > 0))
			violation(S, V_STALE, "message for '%s' (cmid %d, %s) still there", c->name, c->cmid,
			    over ? "over" : c->cancelled ? "cancelled" : "not returned");
		if (ping_n[c->cmid] > 1)
			violation(S, V_STALE, "%d ping messages for cmid %d", ping_n[c->cmid], c->cmid);
		/* (a clock set back after the ping can put "now" before its
		 * window: the ping was on time when it was sent) */
		if (ping_n[c->cmid] > 0 && c->start - PING_SECONDS > S->t &&
		    disturbances(S, c->start - PING_SECONDS, c->start) == 0)
			violation(S, V_STALE, "cmid %d pinged before its window", c->cmid);
	}
	/* duplicates against what the faults since the last check allow */
	if (S->dups - S->dups_then > S->dup_allow - S->allow_then)
		violation(S, V_DUP, "%ld duplicates found since the last check, %ld allowed (kills"
		    " + lost answers + disk episodes)", S->dups - S->dups_then,
		    S->dup_allow - S->allow_then);
	S->dups_then = S->dups;
	S->allow_then = S->dup_allow;
	free(conf_n);
	free(ping_n);
	idset_free(&known);
	json_object_put(ch);
	S->need_check = 0;
	S->last_check = S->t;
}

/* ---- faults ---------------------------------------------------------- */

static void
disk_fill(struct soak *S)
{
	char p[400], chunk[65536];
	int fd;

	memset(chunk, 0x5a, sizeof chunk);
	snprintf(p, sizeof p, "%s/filler", S->w.statedir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("%s: %s", p, strerror(errno));
	while (write(fd, chunk, sizeof chunk) > 0)
		;
	while (write(fd, chunk, 512) > 0)
		;
	close(fd);
}

static void
disk_free(struct soak *S)
{
	char p[400];

	snprintf(p, sizeof p, "%s/filler", S->w.statedir);
	unlink(p);
}

static int
remount(struct soak *S, int ro)
{
	return mount("tmpfs", S->w.statedir, "tmpfs", MS_REMOUNT | (ro ? MS_RDONLY : 0),
	    "size=8m,mode=0700");
}

static void
episode_start(struct soak *S)
{
	/* Moodle's faults twice as often as the others: there are eleven */
	uint64_t r = rnd_below(&S->rs, EP_NKINDS + 1);
	enum ep k = r >= EP_NKINDS - 1 ? EP_MFAULT : (enum ep)(1 + r);
	struct world *w = &S->w;

	if (S->only > 0)
		k = (enum ep)S->only;
	if ((k == EP_FULL || k == EP_RO) && !w->mounted)
		k = EP_MEMPTY;
	if (k == EP_DGONE && w->hook + 1 >= w->nhooks)
		k = EP_D5XX;
	S->ep = k;
	S->ep_from = S->t;
	S->ep_syncs = 1;
	S->episodes[k]++;
	switch (k) {
	case EP_D5XX: {
		static const int st[] = { 500, 502, 503, 504 };

		json_object_put(discord_admin(w, "POST", "fail?n=%d&status=%d",
		    1 + (int)rnd_below(&S->rs, 4), st[rnd_below(&S->rs, 4)]));
		break;
	}
	case EP_D429:
		json_object_put(discord_admin(w, "POST", "ratelimit?n=%d&retry_after=0.%d&global=%d",
		    2 + (int)rnd_below(&S->rs, 7), 1 + (int)rnd_below(&S->rs, 5),
		    (int)rnd_below(&S->rs, 2)));
		break;
	case EP_DBAN:
		json_object_put(discord_admin(w, "POST", "ban?on=1"));
		break;
	case EP_DDROP:
		json_object_put(discord_admin(w, "POST", "drop?next=%d", 1 + (int)rnd_below(&S->rs, 3)));
		break;
	case EP_DTOKEN:
		json_object_put(discord_admin(w, "POST", "wrong_token?on=1"));
		break;
	case EP_DGONE:
		json_object_put(discord_admin(w, "POST", "delete_webhook?id=%s", w->webhook_id[w->hook]));
		S->ep_syncs = 1 + (int)rnd_below(&S->rs, 2);
		break;
	case EP_MFAULT:
		/* each mode in turn, so a week meets them all; but the sign-in
		 * faults: sync keeps the token of its first sign-in and signs
		 * in again only when Moodle rejects it, so they never bite
		 * here (login*.bats test them) */
		S->mf = (int)(S->episodes[EP_MFAULT] - 1) % (int)NMFAULTS;
		while (mfaults[S->mf].login_only)
			S->mf = (S->mf + 1) % (int)NMFAULTS;
		if (mfaults[S->mf].rest_only) {
			S->mf_on = mf_on[2 + rnd_below(&S->rs, 4)];
		} else {
			/* any endpoint but the sign-in alone, for the same reason */
			size_t k = rnd_below(&S->rs, sizeof mf_on / sizeof mf_on[0] - 1);

			S->mf_on = mf_on[k == 0 ? 0 : k + 1];
		}
		S->ep_syncs = 1 + (int)rnd_below(&S->rs, 3);
		S->scenario_dirty = 1;
		break;
	case EP_MEMPTY:
		S->hide_all = 1;
		S->empty_once = rnd_chance(&S->rs, 0.6);
		S->ep_syncs = S->empty_once ? 1 : 2 + (int)rnd_below(&S->rs, 2);
		S->scenario_dirty = 1;
		break;
	case EP_MVANISH:
		S->vanished = (int)rnd_below(&S->rs, NCOURSES);
		S->enrolled[S->vanished] = 0;
		S->ep_syncs = 1 + (int)rnd_below(&S->rs, 4);
		S->scenario_dirty = 1;
		break;
	case EP_FULL:
		/* new conferences need new pages, which a full disk refuses */
		conf_add(S, S->t + 65 * MIN, 0);
		conf_add(S, S->t + 95 * MIN, 0);
		disk_fill(S);
		S->ep_syncs = 2 + (int)rnd_below(&S->rs, 7);
		break;
	case EP_RO:
		if (remount(S, 1) != 0) {
			printf("soak: read-only remount failed (%s): episode skipped\n", strerror(errno));
			S->ep = EP_NONE;
			return;
		}
		S->ep_syncs = 1 + (int)rnd_below(&S->rs, 4);
		break;
	default:
		break;
	}
}

static void
channel_clear(struct soak *S)
{
	json_object *ch = discord_admin(&S->w, "GET", "channel");
	size_t i, n = ch ? json_object_array_length(ch) : 0;

	for (i = 0; i < n; i++)
		json_object_put(discord_admin(&S->w, "POST", "delete_message?id=%s",
		    jget_str(json_object_array_get_idx(ch, i), "id")));
	json_object_put(ch);
}

static void
episode_end(struct soak *S)
{
	struct world *w = &S->w;

	json_object_put(discord_admin(w, "POST", "fail?n=0"));
	json_object_put(discord_admin(w, "POST", "ratelimit?n=0"));
	json_object_put(discord_admin(w, "POST", "ban?on=0"));
	json_object_put(discord_admin(w, "POST", "drop?call=0"));
	json_object_put(discord_admin(w, "POST", "wrong_token?on=0"));
	switch (S->ep) {
	case EP_DGONE:
		/* a person makes a new webhook and clears the old messages */
		log_read(S);
		channel_clear(S);
		w->hook++;
		world_write_config(w);
		break;
	case EP_MEMPTY:
		S->hide_all = 0;
		S->scenario_dirty = 1;
		break;
	case EP_MVANISH:
		S->enrolled[S->vanished] = 1;
		S->scenario_dirty = 1;
		break;
	case EP_MFAULT:
		S->scenario_dirty = 1;
		break;
	case EP_FULL:
		disk_free(S);
		S->dup_allow++;
		break;
	case EP_RO:
		if (remount(S, 0) != 0)
			die("remount read-write: %s", strerror(errno));
		S->dup_allow++;
		break;
	default:
		break;
	}
	/* what an episode changed settles by the next syncs: a course back
	 * from vanishing is posted again at the next one, maybe after its
	 * ping window began */
	disturb(S, S->ep_from, S->t + HOUR);
	S->ep = EP_NONE;
	S->need_check = 1;
}

static void
moderator_delete(struct soak *S)
{
	json_object *ch = discord_admin(&S->w, "GET", "channel");
	size_t n = ch ? json_object_array_length(ch) : 0;

	if (n > 0) {
		json_object *m = json_object_array_get_idx(ch, rnd_below(&S->rs, n));
		int ping, cmid = msg_cmid(m, &ping);
		struct conf *c = conf_by_cmid(S, cmid);

		json_object_put(discord_admin(&S->w, "POST", "delete_message?id=%s", jget_str(m, "id")));
		if (c != NULL && !ping && c->mod_deleted_at == 0)
			c->mod_deleted_at = S->t;
		S->instants[IN_MODDEL]++;
		S->need_check = 1;
	}
	json_object_put(ch);
}

/* Another program's LMDB file, made by lmdb-utils' mdb_load. */
static int
foreign_lmdb(struct soak *S, struct sbuf *out)
{
	char in[400], db[400], cmd[1024];
	const char *text = "VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=1048576\n"
	    "maxreaders=126\ndb_pagesize=4096\nHEADER=END\n 6b6579\n 76616c7565\n"
	    " 6f74686572\n 70726f6772616d\nDATA=END\n";
	int rc;

	snprintf(in, sizeof in, "%s/foreign.txt", S->w.tmp);
	snprintf(db, sizeof db, "%s/foreign.mdb", S->w.tmp);
	unlink(db);
	if (file_write(in, text, strlen(text)) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "mdb_load -n -f '%s' '%s' 2>/dev/null", in, db);
	rc = system(cmd);
	if (rc != 0 || file_read(db, out) != 0)
		return -1;
	return 0;
}

/* Damage the state file, run dump, ping and sync on it, judge, and put
 * the good file back when all refused it. */
static void
damage(struct soak *S, int zero)
{
	struct sbuf good = { 0 }, bad = { 0 }, after = { 0 };
	static const char *const verbs[] = { "dump", "ping", "sync" };
	int status[3], refused = 0, accepted = 0;
	size_t v;
	long calls = 0;

	if (file_read(S->w.state, &good) != 0 || good.n < 3 * 4096) {
		sbuf_free(&good);
		return;
	}
	if (zero) {
		sbuf_add(&bad, "", 0);
	} else {
		uint64_t how = rnd_below(&S->rs, 10);
		size_t npages = good.n / 4096, pg = 2 + rnd_below(&S->rs, npages - 2);

		sbuf_add(&bad, good.p, good.n);
		if (how < 6) {             /* one bit of a page header */
			bad.p[pg * 4096 + rnd_below(&S->rs, 16)] ^= (char)(1u << rnd_below(&S->rs, 8));
		} else if (how < 8) {      /* one byte anywhere past the meta pages */
			bad.p[pg * 4096 + rnd_below(&S->rs, 4096)] = (char)rnd_below(&S->rs, 256);
		} else if (how < 9) {      /* cut */
			bad.n = rnd_below(&S->rs, good.n - 1) + 1;
		} else {
			sbuf_free(&bad);
			if (foreign_lmdb(S, &bad) != 0) {
				sbuf_free(&good);
				return;
			}
		}
	}
	if (file_write(S->w.state, bad.p, bad.n) != 0)
		die("%s: %s", S->w.state, strerror(errno));
	S->instants[zero ? IN_ZERO : IN_CORRUPT]++;
	for (v = 0; v < 3; v++) {
		struct run r;

		mc_run(S, verbs[v], KILL_NONE, 0, &r);
		status[v] = r.status;
		if (strcmp(verbs[v], "dump") == 0)
			S->runs_dump++;
		else if (strcmp(verbs[v], "ping") == 0)
			S->runs_ping++;
		else
			S->runs_sync++;
		if (r.status == 74) {
			refused++;
			if (strstr(r.out.p, S->w.state) == NULL)
				violation(S, V_DAMAGED, "%s refused without naming the file: %.200s", verbs[v],
				    r.out.p);
			if (r.calls != 0)
				violation(S, V_DAMAGED, "%s refused the state after %ld Discord calls",
				    verbs[v], r.calls);
			sbuf_free(&after);
			file_read(S->w.state, &after);
			if (after.n != bad.n || memcmp(after.p, bad.p, bad.n) != 0)
				violation(S, V_DAMAGED, "%s refused the state and changed it", verbs[v]);
		} else if (r.status == 0) {
			accepted++;
			calls += r.calls;
		} else if (r.sig == 0) {
			violation(S, V_EXIT, "%s exited %d on a damaged state: %.200s", verbs[v], r.status,
			    r.out.p);
		}
		if (zero && r.status == 0)
			violation(S, V_ZERO, "%s exited 0 on a 0-byte state (%ld calls)", verbs[v], r.calls);
		run_free(&r);
	}
	if (status[1] == 0 && (status[0] == 74 || status[2] == 74))
		violation(S, V_PINGDAMAGED, "ping exited 0, dump %d, sync %d", status[0], status[2]);
	sbuf_free(&S->backup);
	if (refused == 0 && !zero) {
		sbuf_add(&S->backup, good.p, good.n);
		S->backup_t = S->t;
		S->backup_calls = discord_calls(&S->w);
	}
	if (refused > 0) {
		/* the person restores the file; what was posted on the
		 * damaged one is then unknown to it */
		if (file_write(S->w.state, good.p, good.n) != 0)
			die("%s: %s", S->w.state, strerror(errno));
		S->dup_allow += calls;
	} else if (zero) {
		/* taken as a new state: every message anew; counted once
		 * above, not again as duplicates */
		json_object *ch = discord_admin(&S->w, "GET", "channel");

		S->dup_allow += ch ? (long)json_object_array_length(ch) : 0;
		json_object_put(ch);
	}
	disturb(S, S->t, S->t + HOUR);
	S->need_check = 1;
	S->clean_in_row = 0;
	sbuf_free(&good);
	sbuf_free(&bad);
	sbuf_free(&after);
}

static void
instant(struct soak *S)
{
	uint64_t r = rnd_below(&S->rs, 100);

	if (r < 40) {
		moderator_delete(S);
	} else if (r < 75) {
		damage(S, 0);
	} else if (r < 80) {
		damage(S, 1);
	} else if (r < 90) {
		int64_t d = (60 + (int64_t)rnd_below(&S->rs, 181)) * MIN;

		disturb(S, S->t, S->t + d + HOUR);
		S->t += d;
		S->instants[IN_CLOCKFWD]++;
		S->need_check = 1;
	} else {
		int64_t d = (10 + (int64_t)rnd_below(&S->rs, 31)) * MIN;

		disturb(S, S->t - d - HOUR, S->t + HOUR);
		S->t -= d;
		S->instants[IN_CLOCKBACK]++;
		S->need_check = 1;
	}
}

/* ---- the end --------------------------------------------------------- */

static void
judge_pings(struct soak *S)
{
	size_t i;

	for (i = 0; i < S->nc; i++) {
		struct conf *c = &S->c[i];
		size_t allow = 1 + disturbances(S, c->start - 15 * MIN, c->start + 15 * MIN);

		if (c->assign || c->start > S->t)
			continue;
		if ((size_t)c->pings > allow)
			violation(S, V_PINGS, "'%s' (cmid %d) pinged %d times, %zu allowed", c->name,
			    c->cmid, c->pings, allow);
		if (c->cancelled || c->synced_at == 0 || c->synced_at > c->start - PING_SECONDS ||
		    disturbances(S, c->start - 20 * MIN, c->start + 5 * MIN) > 0 ||
		    c->start < S->t0 + HOUR || c->start > S->t - 10 * MIN)
			continue;
		S->clean_windows++;
		if (c->pings == 0) {
			S->missed++;
			violation(S, V_MISSEDPING, "'%s' (cmid %d) never pinged", c->name, c->cmid);
		}
	}
}

static long
repeated_pings(const struct soak *S)
{
	size_t i;
	long n = 0;

	for (i = 0; i < S->nc; i++)
		if (S->c[i].pings > 1)
			n += S->c[i].pings - 1;
	return n;
}

static void
report(struct soak *S, uint64_t seed, double real)
{
	int k, first;

	printf("soak: seed %" PRIu64 ", %.2f simulated days in %.0f s\n", seed,
	    (double)(S->tend - S->t0) / DAY, real);
	printf("runs: %ld (sync %ld, ping %ld, dump %ld; %ld syncs with a ping started at once); "
	    "kills %ld; checks %ld\n", S->runs_sync + S->runs_ping + S->runs_dump, S->runs_sync,
	    S->runs_ping, S->runs_dump, S->concurrent, S->kills, S->checks);
	printf("fault episodes:");
	for (k = 1, first = 1; k < EP_NKINDS; k++) {
		printf("%s %s %ld", first ? "" : ",", ep_name[k], S->episodes[k]);
		first = 0;
	}
	printf("\ninstant faults:");
	for (k = 0; k < IN_NKINDS; k++)
		printf("%s %s %ld", k ? "," : "", in_name[k], S->instants[k]);
	printf("\n");
	if (S->tmpfs_skipped)
		printf("full disk and read-only state: skipped (no tmpfs could be mounted)\n");
	printf("conferences %zu; duplicates %ld, allowed %ld (lost answers %ld); "
	    "DELETEs answered 404: %ld\n", S->nc, S->dups, S->dup_allow, S->lost, S->del404);
	printf("pings sent %ld, repeated %ld, orphan ping messages %ld; clean ping windows %ld, "
	    "missed %ld\n", S->pings_sent, repeated_pings(S), S->orphan_pings, S->clean_windows,
	    S->missed);
	printf("violations: %ld\n", S->nviol);
	for (k = 0; k < V_NKINDS; k++) {
		if (S->violations[k] > 0 && vinfo[k].problem)
			printf("  %-45s %6ld  (issue 16 problem %d)\n", vinfo[k].name,
			    S->violations[k], vinfo[k].problem);
		else if (S->violations[k] > 0)
			printf("  %-45s %6ld\n", vinfo[k].name, S->violations[k]);
	}
	for (k = 0; k < V_NKINDS; k++)
		if (S->violations[k] > 0 && vinfo[k].problem) {
			printf("problems reproduced:");
			break;
		}
	{
		int seen[10] = { 0 };

		for (k = 0; k < V_NKINDS; k++)
			if (S->violations[k] > 0 && vinfo[k].problem && !seen[vinfo[k].problem]) {
				seen[vinfo[k].problem] = 1;
			}
		for (k = 1, first = 1; k < 10; k++)
			if (seen[k]) {
				printf(" %d", k);
				first = 0;
			}
		if (!first)
			printf("\n");
	}
}

static void
usage(const char *why)
{
	fprintf(stderr, "soak: %s\nusage: soak --moodlecord BIN --fakes DIR --libfaketime SO "
	    "[--days N] [--seed S] [--no-tmpfs] [--verbose]\n", why);
	exit(2);
}

static double
real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
settle_and_check(struct soak *S)
{
	if (S->ep == EP_NONE && S->clean_in_row >= 2 &&
	    (S->need_check || S->t - S->last_check >= 4 * HOUR))
		check_channel(S);
}

int
main(int argc, char **argv)
{
	static struct soak S;
	const char *bin = NULL, *fakes = NULL, *lft = NULL;
	double days = 1, real0;
	uint64_t seed = 1;
	int i, tmpfs = 1, day_printed = -1, both;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--moodlecord") == 0 && i + 1 < argc)
			bin = argv[++i];
		else if (strcmp(argv[i], "--fakes") == 0 && i + 1 < argc)
			fakes = argv[++i];
		else if (strcmp(argv[i], "--libfaketime") == 0 && i + 1 < argc)
			lft = argv[++i];
		else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc)
			days = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--no-tmpfs") == 0)
			tmpfs = 0;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			S.only = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--verbose") == 0)
			S.verbose = 1;
		else
			usage("unknown argument");
	}
	if (bin == NULL || fakes == NULL || lft == NULL)
		usage("--moodlecord, --fakes and --libfaketime are needed");
	if (days <= 0 || days > 60)
		usage("--days: 0 to 60");
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	S.rs = seed;
	/* a Monday at midnight, a year ahead of the code's own clock */
	S.t0 = 1788220800;   /* 2026-09-01 00:00 UTC */
	S.t = S.t0;
	S.tend = S.t0 + (int64_t)(days * DAY);
	S.next_cmid = 1000;
	for (i = 0; i < NCOURSES; i++)
		S.enrolled[i] = 1;
	for (S.generated_to = S.t0; S.generated_to < S.t0 + 9 * DAY; S.generated_to += DAY)
		generate_day(&S, S.generated_to);
	world_init(&S.w, bin, fakes, lft, seed, tmpfs);
	scenario_write(&S);
	world_start(&S.w);
	if (tmpfs && !S.w.mounted) {
		printf("soak: cannot mount a tmpfs for the state (%s): full disk and read-only "
		    "state skipped\n", strerror(errno));
		S.tmpfs_skipped = 1;
	}
	if (!tmpfs)
		S.tmpfs_skipped = 1;
	real0 = real_now();

	/* the first sync must work, or nothing below means anything */
	{
		struct run r;

		mc_run(&S, "sync", KILL_NONE, 0, &r);
		S.runs_sync++;
		if (r.status != 0) {
			fprintf(stderr, "soak: the first sync failed (%d): %s\n", r.status, r.out.p);
			world_stop(&S.w);
			return 2;
		}
		for (i = 0; i < (int)S.nc; i++) {
			S.c[i].in_cur = returned(&S, &S.c[i], S.t);
			if (S.c[i].in_cur)
				S.c[i].synced_at = S.t;
		}
		run_free(&r);
	}
	S.clean_in_row = 1;
	S.last_check = S.t;
	do_ping(&S);
	S.t += MIN;

	while (S.t < S.tend) {
		int day = (int)((S.t - S.t0) / DAY);

		if (day != day_printed && S.verbose) {
			fprintf(stderr, "soak: day %d, %.0f s, %ld violations\n", day,
			    real_now() - real0, S.nviol);
		}
		day_printed = day;
		while (S.generated_to < S.t + 9 * DAY) {
			generate_day(&S, S.generated_to);
			S.generated_to += DAY;
		}
		if (S.t % HOUR == 0 && rnd_chance(&S.rs, 0.6))
			site_changes(&S);
		if (S.ep == EP_NONE && !S.need_check && rnd_chance(&S.rs, 1.0 / 60))
			episode_start(&S);
		else if (S.ep == EP_NONE && !S.need_check && rnd_chance(&S.rs, 1.0 / 150)) {
			instant(&S);
			continue;   /* a clock jump moved t: start the minute again */
		}
		both = S.t % (30 * MIN) == 0 && S.ep == EP_NONE && rnd_chance(&S.rs, 0.3);
		if (S.t % (30 * MIN) == 0) {
			do_sync(&S, both);
			if (S.ep != EP_NONE && --S.ep_syncs <= 0)
				episode_end(&S);
		}
		if (!both)
			do_ping(&S);
		if (S.t % (30 * MIN) == 0)
			settle_and_check(&S);
		S.t += MIN;
	}
	/* settle: faults off, until two clean syncs and a check */
	if (S.ep != EP_NONE)
		episode_end(&S);
	S.need_check = 1;
	for (i = 0; i < 12 && S.need_check; i++) {
		S.t += 30 * MIN - S.t % (30 * MIN);
		do_sync(&S, 0);
		do_ping(&S);
		settle_and_check(&S);
	}
	if (S.need_check)
		violation(&S, V_MISSING, "no two clean syncs in a row after the faults stopped");
	log_read(&S);
	judge_pings(&S);
	S.tend = S.t;
	report(&S, seed, real_now() - real0);
	world_stop(&S.w);
	curl_global_cleanup();
	return S.nviol ? 1 : 0;
}
