/* fuzz_event_json: the stored form of a conference read back from a
 * damaged or hostile state file.  (The store's reader of the messages
 * value is static in state/store.c and so not reached here.)
 *
 * Properties: event_from_json gives MC_OK, or MC_ERR_DATA with one clean
 * line and nothing left allocated; what it reads survives
 * event_to_json -> event_from_json unchanged. */
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
same(const struct event *a, const struct event *b)
{
	return a->id == b->id && a->course_id == b->course_id && a->cmid == b->cmid &&
	    a->start == b->start && a->duration == b->duration && a->missing == b->missing &&
	    same_str(a->course_short, b->course_short) && same_str(a->course_name, b->course_name) &&
	    same_str(a->name, b->name) && same_str(a->module, b->module) &&
	    same_str(a->url, b->url) && same_str(a->site_name, b->site_name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev, back;
	struct err e = { 0 };
	enum mc_err rc;
	char *json, *again;

	/* The bytes alone, not NUL-terminated, as LMDB hands them over. */
	rc = event_from_json((const char *)data, size, &ev, &e);
	if (rc != MC_OK) {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_DATA);
		FUZZ_CHECK(ev.name == NULL && ev.url == NULL && ev.course_name == NULL);
		return 0;
	}
	FUZZ_CHECK(ev.course_short && ev.course_name && ev.name && ev.module && ev.url && ev.site_name);
	json = event_to_json(&ev);
	rc = event_from_json(json, strlen(json), &back, &e);
	FUZZ_CHECK(rc == MC_OK);
	FUZZ_CHECK(same(&ev, &back));
	again = event_to_json(&back);
	FUZZ_CHECK(strcmp(json, again) == 0);
	free(again);
	free(json);
	event_free(&back);
	event_free(&ev);
	return 0;
}
