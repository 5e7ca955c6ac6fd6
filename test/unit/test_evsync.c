/* evsync: the plan that keeps a server's events equal to the nearest
 * conferences, case by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evsync.h"

#define NOW INT64_C(1767258000)
#define H 3600
#define BOT "333333333333333333"

/* A conference starting at `at` (relative to NOW), an hour long. */
static struct evsync_conf
conf(int64_t key, int64_t at)
{
	struct evsync_conf c;

	memset(&c, 0, sizeof c);
	c.key = key;
	c.present = 1;
	c.start = NOW + at;
	c.end = c.start + H;
	snprintf(c.hash, sizeof c.hash, "%016llx", (unsigned long long)key);
	return c;
}

/* c has event id with the same look and start (as made). */
static void
has_event(struct evsync_conf *c, const char *id)
{
	snprintf(c->event_id, sizeof c->event_id, "%s", id);
	memcpy(c->event_hash, c->hash, sizeof c->hash);
	c->event_start = c->start;
}

static struct bot_event
listed(const char *id, int status, const char *creator)
{
	struct bot_event e;

	memset(&e, 0, sizeof e);
	snprintf(e.id, sizeof e.id, "%s", id);
	snprintf(e.creator_id, sizeof e.creator_id, "%s", creator);
	e.status = status;
	return e;
}

/* The plan as "op:key op:key ...". */
static char *
plan(const struct evsync_conf *c, size_t n, const struct bot_event *l, size_t nl, int64_t max,
    int (*shows)(size_t, const struct bot_event *, void *))
{
	struct evsync_action *a;
	struct buf b = { 0 };
	size_t na, i;

	evsync_plan(c, n, l, nl, BOT, shows, (void *)c, NOW, max, &a, &na);
	buf_adds(&b, "");
	for (i = 0; i < na; i++) {
		buf_addf(&b, "%s%s%s:%lld", i ? " " : "", evsync_op_name(a[i].op),
		    a[i].op == EVSYNC_EDIT_NO_START ? "-no-start" : "", (long long)c[a[i].conf].key);
		if (a[i].op == EVSYNC_ADOPT)
			buf_addf(&b, "=%s", a[i].adopt);
	}
	free(a);
	return buf_take(&b);
}

static void
expect(const struct evsync_conf *c, size_t n, const struct bot_event *l, size_t nl, int64_t max,
    const char *want)
{
	char *got = plan(c, n, l, nl, max, NULL);

	assert_string_equal(got, want);
	free(got);
}

static void
test_create_nearest_first(void **state)
{
	struct evsync_conf c[3] = { conf(3, 3 * H), conf(1, 1 * H), conf(2, 2 * H) };

	(void)state;
	expect(c, 3, NULL, 0, 50, "create:1 create:2 create:3");
	/* In step: nothing to do. */
	has_event(&c[0], "103");
	has_event(&c[1], "101");
	has_event(&c[2], "102");
	{
		struct bot_event l[3] = { listed("101", 1, BOT), listed("102", 1, BOT), listed("103", 1, BOT) };

		expect(c, 3, l, 3, 50, "");
	}
}

/* The window: only events_max have events; the farthest is deleted when a
 * nearer one comes; the next one gets its event when one ends. */
static void
test_window(void **state)
{
	struct evsync_conf c[3] = { conf(1, 1 * H), conf(2, 2 * H), conf(3, 3 * H) };
	struct bot_event l[2] = { listed("102", 1, BOT), listed("103", 1, BOT) };

	(void)state;
	expect(c, 3, NULL, 0, 2, "create:1 create:2");
	/* 2 and 3 had the events; 1 is new and nearer. */
	has_event(&c[1], "102");
	has_event(&c[2], "103");
	expect(c, 3, l, 2, 2, "delete:3 create:1");
	/* 1 is over (Discord completed it): 3 gets its event back. */
	c[0].start = NOW - 2 * H;
	c[0].end = NOW - H;
	has_event(&c[0], "101");
	c[2].event_id[0] = '\0';
	{
		struct bot_event l2[3] = { listed("101", 3, BOT), listed("102", 1, BOT) };

		expect(c, 3, l2, 2, 2, "forget:1 create:3");
	}
	/* Over but Discord still lists it active (its end not reached by
	 * Discord's clock yet): forgotten without a call all the same. */
	{
		struct bot_event l3[2] = { listed("101", 2, BOT), listed("102", 1, BOT) };

		expect(c, 3, l3, 2, 2, "forget:1 create:3");
	}
}

static void
test_edits(void **state)
{
	struct evsync_conf c[2] = { conf(1, 1 * H), conf(2, -10 * 60) };
	struct bot_event l[2] = { listed("101", 1, BOT), listed("102", 2, BOT) };

	(void)state;
	has_event(&c[0], "101");
	has_event(&c[1], "102");
	/* Renamed: the scheduled one gets the start too, the active one not. */
	c[0].hash[0] = 'x';
	c[1].hash[0] = 'x';
	expect(c, 2, l, 2, 50, "edit-no-start:2 edit:1");
	/* Moved later, still scheduled: an edit. */
	c[0].hash[0] = '0';
	c[0].start += H;
	c[0].end += H;
	expect(c, 2, l, 2, 50, "edit-no-start:2 edit:1");
}

/* An active event's start cannot change: moved to a time still ahead, it
 * is deleted and made again; moved to a time already passed, only
 * deleted (a conference that has started gets no event). */
static void
test_moved_active(void **state)
{
	struct evsync_conf c[2] = { conf(1, -10 * 60), conf(2, -20 * 60) };
	struct bot_event l[2] = { listed("101", 2, BOT), listed("102", 2, BOT) };

	(void)state;
	has_event(&c[0], "101");
	has_event(&c[1], "102");
	c[0].start = NOW + H;
	c[0].end = NOW + 2 * H;
	c[1].start = NOW - 5 * 60;
	expect(c, 2, l, 2, 50, "delete:2 delete:1 create:1");
}

/* Deleted or cancelled by a person: made again while ahead. */
static void
test_healed(void **state)
{
	struct evsync_conf c[3] = { conf(1, 1 * H), conf(2, 2 * H), conf(3, -10 * 60) };
	struct bot_event l[1] = { listed("102", 4, BOT) };

	(void)state;
	has_event(&c[0], "101");
	has_event(&c[1], "102");
	has_event(&c[2], "103");
	/* 101 gone from the list, 102 cancelled, 103 (started) gone: the
	 * first two are made again; 3 has started, so no new event. */
	expect(c, 3, l, 1, 50, "forget:1 forget:2 forget:3 create:1 create:2");
}

static void
test_removed_and_started(void **state)
{
	struct evsync_conf c[3] = { conf(1, 1 * H), conf(2, 2 * H), conf(3, -5 * 60) };
	struct bot_event l[1] = { listed("101", 1, BOT) };

	(void)state;
	has_event(&c[0], "101");
	has_event(&c[1], "102");
	c[0].present = 0;
	c[1].present = 0;
	/* 101 is deleted; 102 is already gone from Discord: forgotten.  3
	 * has started without an event: none made. */
	expect(c, 3, l, 1, 50, "forget:2 delete:1");
}

/* Running events count against events_max. */
static void
test_active_take_slots(void **state)
{
	struct evsync_conf c[3] = { conf(1, -10 * 60), conf(2, 1 * H), conf(3, 2 * H) };
	struct bot_event l[1] = { listed("101", 2, BOT) };

	(void)state;
	has_event(&c[0], "101");
	expect(c, 3, l, 1, 2, "create:2");
}

static int
shows_key2(size_t i, const struct bot_event *ev, void *arg)
{
	const struct evsync_conf *c = arg;

	return c[i].key == 2 && strcmp(ev->id, "902") == 0;
}

/* A bot event no conference holds (a run killed after the create) is
 * adopted by the conference it shows; one a person made is not. */
static void
test_adopt(void **state)
{
	struct evsync_conf c[2] = { conf(1, 1 * H), conf(2, 2 * H) };
	struct bot_event l[3] = { listed("901", 1, "444444444444444444"), listed("902", 1, BOT),
		listed("903", 1, BOT) };
	char *got;

	(void)state;
	got = plan(c, 2, l, 3, 50, shows_key2);
	assert_string_equal(got, "adopt:2=902 create:1");
	free(got);
}

static int
shows_any_for_1(size_t i, const struct bot_event *ev, void *arg)
{
	const struct evsync_conf *c = arg;

	(void)ev;
	return c[i].key == 1;
}

/* Without the bot's id, any creator's event that shows it exactly; one
 * that a conference holds never. */
static void
test_adopt_any_creator(void **state)
{
	struct evsync_conf c[2] = { conf(1, 1 * H), conf(2, 2 * H) };
	struct bot_event l[2] = { listed("902", 1, BOT), listed("901", 1, "444444444444444444") };
	struct evsync_action *a;
	size_t na;

	(void)state;
	has_event(&c[1], "902");
	evsync_plan(c, 2, l, 2, NULL, shows_any_for_1, c, NOW, 50, &a, &na);
	assert_int_equal(na, 1);
	assert_int_equal(a[0].op, EVSYNC_ADOPT);
	assert_int_equal(a[0].conf, 0);
	assert_string_equal(a[0].adopt, "901");
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_nearest_first),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_moved_active),
		cmocka_unit_test(test_healed),
		cmocka_unit_test(test_removed_and_started),
		cmocka_unit_test(test_active_take_slots),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_adopt_any_creator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
