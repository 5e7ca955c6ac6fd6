/* fuzz_stored_json: the stored form of a conference (lib/event.c, the one
 * codec of the state file) read back from a damaged or hostile file.
 *
 * Input: byte 0 bit 0 picks the events value (0) or the messages value
 * (1); the rest is the value as LMDB hands it over (not NUL-terminated).
 *
 * Properties: the reader gives MC_OK, or MC_ERR_DATA with one clean line
 * and nothing left allocated; what it reads survives write -> read
 * unchanged, and writing it again gives the same text. */
#include "event.h"
#include "fuzz.h"

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
same_event(const struct event *a, const struct event *b)
{
	return a->id == b->id && a->course_id == b->course_id && a->cmid == b->cmid &&
	    a->start == b->start && a->duration == b->duration && a->missing == b->missing &&
	    same_str(a->course_short, b->course_short) && same_str(a->course_name, b->course_name) &&
	    same_str(a->name, b->name) && same_str(a->module, b->module) &&
	    same_str(a->url, b->url) && same_str(a->site_name, b->site_name);
}

static void
check_event(const char *p, size_t n)
{
	struct event ev, back;
	struct err e = { 0 };
	enum mc_err rc;
	char *json, *again;

	rc = event_from_json(p, n, &ev, &e);
	if (rc != MC_OK) {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_DATA);
		FUZZ_CHECK(ev.name == NULL && ev.url == NULL && ev.course_name == NULL);
		return;
	}
	FUZZ_CHECK(ev.course_short && ev.course_name && ev.name && ev.module && ev.url && ev.site_name);
	FUZZ_CHECK(utf8_valid(ev.name, strlen(ev.name)));
	json = event_to_json(&ev);
	rc = event_from_json(json, strlen(json), &back, &e);
	FUZZ_CHECK(rc == MC_OK);
	FUZZ_CHECK(same_event(&ev, &back));
	again = event_to_json(&back);
	FUZZ_CHECK(strcmp(json, again) == 0);
	free(again);
	free(json);
	event_free(&back);
	event_free(&ev);
}

static void
check_message(const char *p, size_t n)
{
	struct message m, back;
	struct err e = { 0 };
	enum mc_err rc;
	char *json, *again;

	rc = message_from_json(p, n, &m, &e);
	if (rc != MC_OK) {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_DATA);
		return;
	}
	FUZZ_CHECK(strlen(m.msg_id) < sizeof m.msg_id && strlen(m.ping_id) < sizeof m.ping_id);
	FUZZ_CHECK(m.ping >= PING_NONE && m.ping <= PING_DONE);
	json = message_to_json(&m);
	rc = message_from_json(json, strlen(json), &back, &e);
	FUZZ_CHECK(rc == MC_OK);
	FUZZ_CHECK(strcmp(m.msg_id, back.msg_id) == 0 && strcmp(m.hash, back.hash) == 0);
	FUZZ_CHECK(strcmp(m.ping_id, back.ping_id) == 0);
	FUZZ_CHECK(m.ping == back.ping && m.ping_at == back.ping_at);
	again = message_to_json(&back);
	FUZZ_CHECK(strcmp(json, again) == 0);
	free(again);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value;

	if (size == 0)
		return 0;
	/* Exactly the value's bytes, not NUL-terminated. */
	value = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(value, data + 1, size - 1);
	if (data[0] & 1)
		check_message(value, size - 1);
	else
		check_event(value, size - 1);
	free(value);
	return 0;
}
