/* fuzz_store_flat: the store's fast reader of its own flat JSON against
 * json-c, on values of a damaged or hostile state file.  The reader is
 * static in state/store.c, so this file includes that source whole (the
 * library's copy of store.o is then never linked).
 *
 * Input: byte 0 bit 0 picks the events value (0) or the messages value
 * (1); the rest is the value as LMDB hands it over.
 *
 * Properties: the fast path (flat_read, falling back to json-c) and json-c
 * alone accept the same values and read the same fields. */
#include "../../state/store.c"

#include "fuzz.h"

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check_event(const char *p, size_t n)
{
	struct event fast, slow;
	int rf, rs;

	rf = event_read(p, n, &fast);
	rs = event_from_json(p, n, &slow, NULL) == MC_OK ? 0 : -1;
	if (rf != rs)
		fprintf(stderr, "event: fast path %d, json-c %d\n", rf, rs);
	FUZZ_CHECK(rf == rs);
	if (rf == 0) {
		FUZZ_CHECK(fast.id == slow.id && fast.course_id == slow.course_id);
		FUZZ_CHECK(fast.cmid == slow.cmid && fast.start == slow.start);
		FUZZ_CHECK(fast.duration == slow.duration && fast.missing == slow.missing);
		FUZZ_CHECK(same_str(fast.course_short, slow.course_short));
		FUZZ_CHECK(same_str(fast.course_name, slow.course_name));
		FUZZ_CHECK(same_str(fast.name, slow.name));
		FUZZ_CHECK(same_str(fast.module, slow.module));
		FUZZ_CHECK(same_str(fast.url, slow.url));
		FUZZ_CHECK(same_str(fast.site_name, slow.site_name));
	} else {
		FUZZ_CHECK(fast.name == NULL && fast.url == NULL && fast.site_name == NULL);
	}
	event_free(&fast);
	event_free(&slow);
}

static void
check_message(const char *p, size_t n)
{
	struct message fast, slow;
	int rf, rs;

	rf = message_from_json(p, n, &fast);
	rs = message_from_json_c(p, n, &slow);
	if (rf != rs)
		fprintf(stderr, "message: fast path %d, json-c %d\n", rf, rs);
	FUZZ_CHECK(rf == rs);
	if (rf == 0) {
		FUZZ_CHECK(strcmp(fast.msg_id, slow.msg_id) == 0);
		FUZZ_CHECK(strcmp(fast.hash, slow.hash) == 0);
		FUZZ_CHECK(strcmp(fast.ping_id, slow.ping_id) == 0);
		FUZZ_CHECK(fast.ping == slow.ping && fast.ping_at == slow.ping_at);
	}
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
