/* flips: the damaged-state corpus.  A good state made by a real sync
 * against the fakes, then every single-bit flip of the header of every
 * page past the two meta pages, the file cut at each page boundary and
 * inside the first pages, a 0-byte file and another program's LMDB file;
 * each given to `dump --json` and to `sync`.
 *
 *   flips --moodlecord BIN --fakes DIR --libfaketime SO [--stride N]
 *         [--offset K] [--conferences N]
 *
 * Each case passes when neither run crashes (signal, sanitizer report,
 * hang) and each run either refuses the file (exit 74, the file named in
 * its line, no Discord call, the file left byte for byte as it was) or
 * takes it (exit 0) without a Discord call that changes the channel:
 * the good state's channel is in step, so any POST, PATCH or DELETE
 * comes from damage read as data.  --stride N runs every N-th case only
 * (from --offset K).  Prints the figures; exit 1 on any failure. */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soak.h"

#define PAGE 4096
#define T_NOW 1788253200   /* 2026-09-01 09:00 UTC */

struct tally {
	long cases, runs, refused, taken, failed;
	long crash, exit, unnamed, calls, changed, writes, sanitizer, hang;
};

static void
scenario(struct world *w, int n)
{
	struct sbuf b = { 0 };
	int i;

	sbuf_addf(&b, "{\"base\": %d, \"site\": {\"sitename\": \"Flip Moodle\", \"release\": "
	    "\"4.5 (Build: 20241007)\", \"version\": \"2024100700\"},\n\"users\": [{\"id\": 7, "
	    "\"username\": \"alice\", \"password\": ", T_NOW);
	/* the password holds a quote: JSON-escape it */
	sbuf_add(&b, "\"", 1);
	for (i = 0; w->password[i]; i++) {
		if (w->password[i] == '"' || w->password[i] == '\\')
			sbuf_add(&b, "\\", 1);
		sbuf_add(&b, &w->password[i], 1);
	}
	sbuf_addf(&b, "\", \"firstname\": \"A\", \"lastname\": \"L\", \"token\": \"%s\"}],\n"
	    "\"courses\": [{\"id\": 10, \"shortname\": \"C1\", \"fullname\": \"Course 1\", "
	    "\"users\": [7]}, {\"id\": 11, \"shortname\": \"C2\", \"fullname\": \"Course 2\", "
	    "\"users\": [7]}],\n\"activities\": [", w->moodle_token);
	for (i = 0; i < n; i++)
		sbuf_addf(&b, "%s{\"module\": \"bigbluebuttonbn\", \"instance\": %d, \"cmid\": %d, "
		    "\"course\": %d, \"name\": \"Conference %d of the flip corpus\", \"event\": %d, "
		    "\"start\": %d}\n", i ? "," : "", 100 + i, 1000 + i, 10 + i % 2, i, 5000 + i,
		    600 + i * 3700);
	sbuf_add(&b, "]}\n", 3);
	if (file_write(w->scenario, b.p, b.n) != 0)
		die("%s: %s", w->scenario, strerror(errno));
	sbuf_free(&b);
}

/* Discord calls that change the channel among the last n of the log. */
static long
write_calls(struct world *w, long n)
{
	json_object *log = discord_admin(w, "GET", "log");
	size_t len = log ? json_object_array_length(log) : 0, i;
	long writes = 0;

	for (i = len > (size_t)n ? len - (size_t)n : 0; i < len; i++) {
		json_object *m;

		if (json_object_object_get_ex(json_object_array_get_idx(log, i), "method", &m) &&
		    strcmp(json_object_get_string(m), "GET") != 0)
			writes++;
	}
	json_object_put(log);
	return writes;
}

static void
fail(struct tally *t, const char *what, const char *verb, const struct run *r)
{
	t->failed++;
	if (t->failed <= 25)
		printf("flips: %s: %s: exit %d signal %d: %.240s\n", what, verb, r->status, r->sig,
		    r->out.p);
}

/* One damaged file: dump, then sync, each on the file as damaged. */
static void
one_case(struct world *w, struct tally *t, const char *what, const struct sbuf *bad)
{
	static const char *const dump[] = { "dump", "--json", NULL };
	static const char *const sync[] = { "sync", NULL };
	const char *const *verbs[] = { dump, sync };
	size_t v;
	int bad_case = 0;

	t->cases++;
	for (v = 0; v < 2; v++) {
		struct run r;
		struct sbuf after = { 0 };
		char *san;
		long before = t->failed;

		if (file_write(w->state, bad->p, bad->n) != 0)
			die("%s: %s", w->state, strerror(errno));
		world_run(w, T_NOW, verbs[v], KILL_NONE, 0, &r);
		t->runs++;
		san = sanitizer_reports(w);
		if (san != NULL) {
			t->sanitizer++;
			fail(t, what, verbs[v][0], &r);
			printf("%.800s\n", san);
			free(san);
		} else if (r.hung) {
			t->hang++;
			fail(t, what, verbs[v][0], &r);
		} else if (r.sig != 0) {
			t->crash++;
			fail(t, what, verbs[v][0], &r);
		} else if (r.status == 74) {
			t->refused++;
			file_read(w->state, &after);
			if (strstr(r.out.p, w->state) == NULL) {
				t->unnamed++;
				fail(t, what, verbs[v][0], &r);
			} else if (r.calls != 0) {
				t->calls++;
				fail(t, what, verbs[v][0], &r);
			} else if (after.n != bad->n || memcmp(after.p, bad->p, bad->n) != 0) {
				t->changed++;
				fail(t, what, verbs[v][0], &r);
			}
		} else if (r.status == 0) {
			t->taken++;
			if (r.calls > 0 && write_calls(w, r.calls) > 0) {
				t->writes++;
				fail(t, what, verbs[v][0], &r);
			}
		} else {
			t->exit++;
			fail(t, what, verbs[v][0], &r);
		}
		if (t->failed != before)
			bad_case = 1;
		sbuf_free(&after);
		run_free(&r);
	}
	/* a case that changed the channel: put it back in step for the next */
	if (bad_case) {
		json_object_put(discord_admin(w, "POST", "reset"));
		w->calls_known = -1;
	}
}

static int
foreign(struct world *w, struct sbuf *out)
{
	char in[400], db[400], cmd[1024];
	const char *text = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
	    " 6b6579\n 76616c7565\n 6f74686572\n 70726f6772616d\nDATA=END\n";

	snprintf(in, sizeof in, "%s/foreign.txt", w->tmp);
	snprintf(db, sizeof db, "%s/foreign.mdb", w->tmp);
	if (file_write(in, text, strlen(text)) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "mdb_load -n -f '%s' '%s'", in, db);
	if (system(cmd) != 0)
		return -1;
	return file_read(db, out);
}

static void
usage(const char *why)
{
	fprintf(stderr, "flips: %s\nusage: flips --moodlecord BIN --fakes DIR --libfaketime SO "
	    "[--stride N] [--offset K] [--conferences N]\n", why);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct world w;
	struct tally t = { 0 };
	struct sbuf good = { 0 }, bad = { 0 };
	const char *bin = NULL, *fakes = NULL, *lft = NULL;
	long stride = 1, offset = 0, n = 0;
	int nconf = 60, i;
	size_t pages, pg, byte, bit, cut;
	struct run r;
	static const char *const sync[] = { "sync", NULL };
	char what[96];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--moodlecord") == 0 && i + 1 < argc)
			bin = argv[++i];
		else if (strcmp(argv[i], "--fakes") == 0 && i + 1 < argc)
			fakes = argv[++i];
		else if (strcmp(argv[i], "--libfaketime") == 0 && i + 1 < argc)
			lft = argv[++i];
		else if (strcmp(argv[i], "--stride") == 0 && i + 1 < argc)
			stride = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc)
			offset = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--conferences") == 0 && i + 1 < argc)
			nconf = (int)strtol(argv[++i], NULL, 10);
		else
			usage("unknown argument");
	}
	if (bin == NULL || fakes == NULL || lft == NULL)
		usage("--moodlecord, --fakes and --libfaketime are needed");
	if (stride < 1 || nconf < 1 || nconf > 2000)
		usage("--stride at least 1, --conferences 1 to 2000");
	setvbuf(stdout, NULL, _IOLBF, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	world_init(&w, bin, fakes, lft, 16, 0);
	scenario(&w, nconf);
	world_start(&w);

	world_run(&w, T_NOW, sync, KILL_NONE, 0, &r);
	if (r.status != 0 || file_read(w.state, &good) != 0 || good.n < 3 * PAGE)
		die("the good state was not made (sync exited %d): %s", r.status, r.out.p);
	run_free(&r);
	pages = good.n / PAGE;

#define CASE(desc_fmt, ...) do { \
		if (n++ % stride == offset % stride) { \
			snprintf(what, sizeof what, desc_fmt, __VA_ARGS__); \
			one_case(&w, &t, what, &bad); \
		} \
	} while (0)

	for (pg = 2; pg < pages; pg++)
		for (byte = 0; byte < 16; byte++)
			for (bit = 0; bit < 8; bit++) {
				sbuf_free(&bad);
				sbuf_add(&bad, good.p, good.n);
				bad.p[pg * PAGE + byte] ^= (char)(1u << bit);
				CASE("page %zu header byte %zu bit %zu", pg, byte, bit);
			}
	for (cut = 0; cut < good.n; cut += PAGE) {
		size_t sizes[3] = { cut, cut + 16, cut + PAGE / 2 }, k;

		for (k = 0; k < 3; k++) {
			if (sizes[k] >= good.n)
				continue;
			sbuf_free(&bad);
			sbuf_add(&bad, good.p, sizes[k]);
			CASE("cut to %zu bytes", sizes[k]);
		}
	}
	sbuf_free(&bad);
	if (foreign(&w, &bad) == 0)
		CASE("%s", "another program's LMDB file");
	else
		printf("flips: mdb_load failed: no foreign LMDB case\n");

	printf("flips: %zu pages, %ld cases (%ld runs): %ld refused (74), %ld taken (0), "
	    "%ld failed\n", pages, t.cases, t.runs, t.refused, t.taken, t.failed);
	printf("flips: crashes %ld, sanitizer reports %ld, hangs %ld, other exits %ld, "
	    "refusals without the file's name %ld, with Discord calls %ld, that changed the file "
	    "%ld; taken with channel changes %ld\n", t.crash, t.sanitizer, t.hang, t.exit,
	    t.unnamed, t.calls, t.changed, t.writes);
	sbuf_free(&good);
	sbuf_free(&bad);
	world_stop(&w);
	curl_global_cleanup();
	return t.failed ? 1 : 0;
}
