/* evsync_run against the fake Discord (build/plain/fakes/fake_discord, on
 * loopback): the server's events end equal to the nearest conferences
 * through creates, edits, deletes, a person's delete, the window moving,
 * a run stopped after any call, and the server's limit.  The state is an
 * array here; the real store is exercised by the e2e tests. */
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bot.h"
#include "evsync.h"
#include "http.h"

#define FAKE "build/plain/fakes/fake_discord"
#define TOKEN "Unit.Bot_Token-0123456789abcdefghijklmnop"
#define GUILD "222222222222222222"
#define BOT_ID "333333333333333333"
#define N 4

static pid_t fake_pid;
static char portfile[] = "/tmp/mc_evsync_fake.XXXXXX";
static int port;

/* The conferences and what the "store" holds of their events. */
static struct event evs[N];
static struct evsync_conf confs[N];
static long commits, fail_at;   /* fail_at > 0: the commit number that fails */

static enum mc_err
commit(void *arg, size_t i, const char *event_id, const char *hash, int64_t start, struct err *e)
{
	(void)arg;
	if (++commits == fail_at)
		return err_set(e, MC_ERR_IO, "killed before the commit");
	snprintf(confs[i].event_id, sizeof confs[i].event_id, "%s", event_id);
	snprintf(confs[i].event_hash, sizeof confs[i].event_hash, "%s", hash);
	confs[i].event_start = start;
	return MC_OK;
}

static void
conference(size_t i, const char *name, int64_t in)
{
	event_free(&evs[i]);
	memset(&evs[i], 0, sizeof evs[i]);
	evs[i].id = 500 + (int64_t)i;
	evs[i].course_id = 10;
	evs[i].course_name = xstrdup("Maths");
	evs[i].name = xstrdup(name);
	evs[i].url = xasprintf("https://moodle.example/mod/bigbluebuttonbn/view.php?id=%zu", i);
	evs[i].site_name = xstrdup("Example");
	evs[i].start = (int64_t)time(NULL) + in;
	evs[i].duration = 3600;
	confs[i].key = evs[i].id;
	confs[i].present = 1;
}

/* POST or GET an admin path of the fake; the answer's body (caller
 * frees). */
static char *
admin(const char *method, const char *path)
{
	struct http *h = http_new(2, 5, 0);
	struct http_request rq = { 0 };
	struct http_response r;
	struct err e = { 0 };
	char *url = xasprintf("http://127.0.0.1:%d/_fake/%s", port, path), *out;

	rq.method = method;
	rq.url = url;
	assert_int_equal(http_send(h, &rq, &r, NULL, &e), MC_OK);
	if (r.status != 200)
		print_error("admin %s: %s\n", path, r.body);
	assert_int_equal(r.status, 200);
	out = xstrdup(r.body);
	http_response_free(&r);
	http_free(h);
	free(url);
	return out;
}

/* The events the fake holds that are scheduled or active, as
 * "NAME@START" sorted by start, and their count. */
static char *
live_events(void)
{
	char *body = admin("GET", "events");
	json_object *a = json_tokener_parse(body), *v;
	struct buf b = { 0 };
	size_t i, n = json_object_array_length(a);
	int64_t best;

	buf_adds(&b, "");
	for (;;) {
		json_object *pick = NULL;

		best = INT64_MAX;
		for (i = 0; i < n; i++) {
			json_object *ev = json_object_array_get_idx(a, i);
			int64_t t = bot_parse_time(json_object_get_string(json_object_object_get(ev,
			    "scheduled_start_time")));
			int st = json_object_get_int(json_object_object_get(ev, "status"));

			if (st <= 2 && t < best && !json_object_object_get_ex(ev, "_seen", &v)) {
				best = t;
				pick = ev;
			}
		}
		if (pick == NULL)
			break;
		json_object_object_add(pick, "_seen", json_object_new_boolean(1));
		buf_addf(&b, "%s%s@%lld", b.len ? " " : "",
		    json_object_get_string(json_object_object_get(pick, "name")), (long long)best);
	}
	json_object_put(a);
	free(body);
	return buf_take(&b);
}

static long
calls(void)
{
	char *body = admin("GET", "stats");
	json_object *o = json_tokener_parse(body);
	long n = (long)json_object_get_int64(json_object_object_get(o, "calls"));

	json_object_put(o);
	free(body);
	return n;
}

/* What the fake must hold: the nearest `max` conferences, ahead. */
static char *
wanted(int64_t max)
{
	struct buf b = { 0 };
	size_t i, order[N], k = 0, a, c;

	buf_adds(&b, "");
	for (i = 0; i < N; i++)
		if (confs[i].present && evs[i].start > time(NULL))
			order[k++] = i;
	for (a = 1; a < k; a++)
		for (c = a; c > 0 && evs[order[c - 1]].start > evs[order[c]].start; c--) {
			size_t t = order[c];

			order[c] = order[c - 1];
			order[c - 1] = t;
		}
	for (i = 0; i < k && (int64_t)i < max; i++)
		buf_addf(&b, "%s%s@%lld", i ? " " : "", evs[order[i]].name, (long long)evs[order[i]].start);
	return buf_take(&b);
}

static void
said(void *arg, const char *op, size_t i, const char *why)
{
	(void)arg;
	if (getenv("EVSYNC_DEBUG"))
		fprintf(stderr, "%s %zu %s -> %s\n", op, i, why, confs[i].event_id);
}

static enum mc_err
sync_events(int64_t max, struct err *e)
{
	struct err ne = { 0 };
	char *base = xasprintf("http://127.0.0.1:%d/api/v10", port);
	struct bot *b = bot_new(base, TOKEN, 2, 5, 0, &ne);
	struct evsync_job x = { 0 };
	const struct event *p[N];
	enum mc_err rc;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < N; i++)
		p[i] = &evs[i];
	x.bot = b;
	x.guild_id = GUILD;
	x.site_url = "https://moodle.example";
	x.meeting_minutes = 90;
	x.events_max = max;
	x.now = (int64_t)time(NULL);
	x.bot_id = BOT_ID;
	x.commit = commit;
	x.said = said;
	rc = evsync_run(&x, p, confs, N, e);
	assert_null(strstr(e->msg, TOKEN));
	bot_free(b);
	free(base);
	return rc;
}

static void
expect_in_step(int64_t max)
{
	char *got = live_events(), *want = wanted(max);

	assert_string_equal(got, want);
	free(got);
	free(want);
}

static int
setup(void **state)
{
	struct err e = { 0 };
	FILE *f;
	int fd, i;

	(void)state;
	memcpy(portfile + strlen(portfile) - 6, "XXXXXX", 6);
	fd = mkstemp(portfile);
	assert_true(fd >= 0);
	close(fd);
	unlink(portfile);
	fflush(stdout);
	fake_pid = fork();
	assert_true(fake_pid >= 0);
	if (fake_pid == 0) {
		execl(FAKE, FAKE, "--port-file", portfile, "--bot", TOKEN, "--bot-rate", "1000/1", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 250; i++) {
		f = fopen(portfile, "r");
		if (f != NULL && fscanf(f, "%d", &port) == 1) {
			fclose(f);
			break;
		}
		if (f != NULL)
			fclose(f);
		usleep(20000);
	}
	assert_true(port > 0);
	assert_int_equal(http_global_init(&e), MC_OK);
	memset(confs, 0, sizeof confs);
	conference(0, "Lecture 1", 3600);
	conference(1, "Lab 1", 2 * 3600);
	conference(2, "Lecture 2", 3 * 3600);
	conference(3, "Lab 2", 4 * 3600);
	commits = fail_at = 0;
	return 0;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
	fake_pid = 0;
	port = 0;
	unlink(portfile);
	for (i = 0; i < N; i++)
		event_free(&evs[i]);
	http_global_cleanup();
	return 0;
}

/* Create, nothing more on the next run, edit, a person's delete healed,
 * a removed conference deleted and the window moving on. */
static void
test_in_step(void **state)
{
	struct err e = { 0 };
	long n;
	char *s;

	(void)state;
	assert_int_equal(sync_events(3, &e), MC_OK);
	expect_in_step(3);
	n = calls();
	assert_int_equal(n, 4);   /* the list and three creates */
	assert_int_equal(sync_events(3, &e), MC_OK);
	assert_int_equal(calls(), n + 1);

	/* renamed and moved: one PATCH each */
	free(evs[0].name);
	evs[0].name = xstrdup("Lecture 1 (room B)");
	evs[1].start += 1800;
	n = calls();
	assert_int_equal(sync_events(3, &e), MC_OK);
	assert_int_equal(calls(), n + 3);
	expect_in_step(3);

	/* a person deletes one: made again */
	s = xasprintf("event_delete?id=%s", confs[1].event_id);
	free(admin("POST", s));
	free(s);
	assert_int_equal(sync_events(3, &e), MC_OK);
	expect_in_step(3);

	/* one gone from Moodle: deleted; the fourth moves into the window */
	confs[0].present = 0;
	assert_int_equal(sync_events(3, &e), MC_OK);
	expect_in_step(3);
	assert_string_equal(confs[0].event_id, "");
	assert_true(confs[3].event_id[0] != '\0');
}

/* A run stopped after its k-th call, before recording it, is finished by
 * the next run with no duplicate: the orphan is adopted. */
static void
test_stopped_after_each_call(void **state)
{
	struct err e = { 0 };
	long k;

	(void)state;
	for (k = 1; k <= 4; k++) {
		size_t i;

		free(admin("POST", "reset"));
		for (i = 0; i < N; i++) {
			confs[i].event_id[0] = confs[i].event_hash[0] = '\0';
			confs[i].present = 1;
		}
		commits = 0;
		fail_at = k;
		assert_int_equal(sync_events(4, &e), MC_ERR_IO);
		fail_at = 0;
		assert_int_equal(sync_events(4, &e), MC_OK);
		expect_in_step(4);
	}
}

/* A server full of other events: the creates stop with the limit named,
 * the rest goes on; a missing permission stops with its name. */
static void
test_full_and_forbidden(void **state)
{
	struct err e = { 0 };
	char *s;

	(void)state;
	assert_int_equal(sync_events(2, &e), MC_OK);
	free(admin("POST", "event_add?n=98"));
	free(evs[0].name);
	evs[0].name = xstrdup("Renamed");
	assert_int_equal(sync_events(4, &e), MC_ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "100"));
	s = live_events();
	assert_non_null(strstr(s, "Renamed@"));
	free(s);

	free(admin("POST", "bot_perms?perms=1024"));
	free(evs[1].name);
	evs[1].name = xstrdup("Renamed too");
	assert_int_equal(sync_events(2, &e), MC_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "Create Events"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_after_each_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_and_forbidden, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
