/* store: a state file written by moodlecord 0.1.0 (schema 1; the fixture
 * test/fixtures/state-v1, made as its README says) is upgraded in place to
 * schema 2 by the first read-write open, or by a read-only one that asks
 * for it, losing nothing: every conference and message id as before, the
 * ping sent counted as the reminder of the offset it was sent at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store_internal.h"

#define FIXTURE "test/fixtures/state-v1/state.mdb"

struct fx {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *cmd;

	snprintf(f->dir, sizeof f->dir, "/tmp/mc-upgrade.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/state.mdb", f->dir);
	cmd = xasprintf("cp " FIXTURE " '%s'", f->path);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* What the fixture holds (its dump-v1.txt). */
static void
check_upgraded(struct store *s)
{
	static const struct {
		int64_t id, start;
		const char *course, *name, *msg_id;
	} want[] = {
		{ 101, 1796126640, "RM101", "Weekly seminar: reading group", "1576781712224944128" },
		{ 102, 1796135400, "NET210", "Lecture 4: TCP congestion control", "1576781712233332736" },
		{ 103, 1796216400, "RM101", "Office hours (Q&A)", "1576781712237527040" },
		{ 104, 1796389200, "NET210", "Lab 2: packet capture", "1576781712241721344" },
	};
	struct record_list l = { 0 };
	struct err e = { 0 };
	char *v = NULL;
	size_t i;

	assert_int_equal(store_schema(s), 2);
	assert_int_equal(store_load_all(s, &l, &e), MC_OK);
	assert_int_equal(l.n, 4);
	for (i = 0; i < 4; i++) {
		const struct record *r = &l.v[i];

		assert_int_equal(r->ev.id, want[i].id);
		assert_int_equal(r->ev.start, want[i].start);
		assert_string_equal(r->ev.course_short, want[i].course);
		assert_string_equal(r->ev.name, want[i].name);
		assert_string_equal(r->msg.msg_id, want[i].msg_id);
		assert_int_equal(strlen(r->msg.hash), 16);
		assert_string_equal(r->msg.route, "");
		assert_string_equal(r->msg.thread_id, "");
		assert_string_equal(r->msg.ping_old, "");
		if (i == 0) {
			/* pinged at 12:01:00 for a start at 12:04:00 */
			assert_int_equal(r->msg.ping, PING_SENT);
			assert_string_equal(r->msg.ping_id, "1576781712338190336");
			assert_int_equal(r->msg.ping_at, 1796126460);
			assert_int_equal(r->msg.ping_sent_at, 1796126460);
			assert_int_equal(r->msg.ping_offset, 3);
		} else {
			assert_int_equal(r->msg.ping, PING_NONE);
			assert_string_equal(r->msg.ping_id, "");
			assert_int_equal(r->msg.ping_offset, 0);
		}
	}
	record_list_free(&l);
	assert_int_equal(store_webhook_get(s, &v, &e), MC_OK);
	assert_string_equal(v, "123456789012345678");
	free(v);
}

static void
test_read_only_refuses(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = { 0 };

	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_IO);
	assert_null(s);
	assert_non_null(strstr(e.msg, "was written by an older moodlecord (schema 1)"));
	/* and the file is still schema 1 */
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_ERR_IO);
}

static void
test_read_write_upgrades(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = { 0 };

	assert_int_equal(store_open(f->path, 0, &s, &e), MC_OK);
	check_upgraded(s);
	store_close(s);
	/* Once upgraded, a read-only open reads it. */
	assert_int_equal(store_open(f->path, STORE_RDONLY, &s, &e), MC_OK);
	check_upgraded(s);
	store_close(s);
}

static void
test_read_only_asks_for_upgrade(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct err e = { 0 };

	assert_int_equal(store_open(f->path, STORE_RDONLY | STORE_UPGRADE, &s, &e), MC_OK);
	check_upgraded(s);
	store_close(s);
	/* The second time there is nothing to upgrade. */
	assert_int_equal(store_open(f->path, STORE_RDONLY | STORE_UPGRADE, &s, &e), MC_OK);
	check_upgraded(s);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_only_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_upgrades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_asks_for_upgrade, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
