/* util: code points, buffers, integer parsing, big-endian keys, UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void
test_utf8_count(void **state)
{
	(void)state;
	assert_int_equal(utf8_count(""), 0);
	assert_int_equal(utf8_count("abc"), 3);
	assert_int_equal(utf8_count("w\xc3\xb6rd \xe2\x80\xa6 \xf0\x9f\x98\x80"), 8);
	/* a stray byte counts as one character, as it is shown as one */
	assert_int_equal(utf8_count("a\xff" "b"), 3);
}

static void
test_buf(void **state)
{
	struct buf b = { 0 };
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
	assert_int_equal(b.len, strlen(b.data));
	s = buf_take(&b);
	assert_null(b.data);
	free(s);
	s = buf_take(&b);
	assert_string_equal(s, "");
	free(s);
}

static void
test_parse_int64(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int64("-1", 0, 100, &v), -1);
	assert_int_equal(parse_int64("101", 0, 100, &v), -1);
	assert_int_equal(parse_int64("4x", 0, 100, &v), -1);
	assert_int_equal(parse_int64("", 0, 100, &v), -1);
	assert_int_equal(parse_int64("99999999999999999999", 0, INT64_MAX, &v), -1);
}

static void
test_be64(void **state)
{
	unsigned char k[8], k2[8];

	(void)state;
	be64_put(k, 0x0102030405060708ULL);
	assert_int_equal(k[0], 1);
	assert_int_equal(k[7], 8);
	assert_true(be64_get(k) == 0x0102030405060708ULL);
	be64_put(k2, 0x0102030405060709ULL);
	assert_true(memcmp(k, k2, 8) < 0);  /* order of keys = order of numbers */
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("caf\xc3\xa9 \xf0\x9f\x8e\x93", 10));
	assert_false(utf8_valid("\xc3", 1));            /* cut */
	assert_false(utf8_valid("\xc0\xaf", 2));        /* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3));    /* surrogate */
	assert_false(utf8_valid("\xff", 1));
}

static void
test_utf8_repair(void **state)
{
	char *r;
	struct buf b = { 0 };
	size_t i = 0;
	const char in[] = "a\xff\xc3\xa9\xed\xa0\x80z";

	(void)state;
	assert_int_equal(utf8_next(in, sizeof in - 1, &i), 'a');
	assert_int_equal(utf8_next(in, sizeof in - 1, &i), 0xfffd);  /* lone 0xff */
	assert_int_equal(i, 2);
	assert_int_equal(utf8_next(in, sizeof in - 1, &i), 0xe9);
	r = utf8_repair(in, sizeof in - 1);
	assert_true(utf8_valid(r, strlen(r)));
	/* a, U+FFFD, é, three U+FFFD for the surrogate's bytes, z */
	assert_string_equal(r, "a\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
	free(r);
	r = utf8_repair("x\0y", 3);  /* a NUL would cut the string later */
	assert_string_equal(r, "x\xef\xbf\xbdy");
	free(r);
	buf_add_cp(&b, 0x1f393);
	buf_add_cp(&b, 0xd800);
	buf_add_cp(&b, 0x110000);
	assert_string_equal(b.data, "\xf0\x9f\x8e\x93\xef\xbf\xbd\xef\xbf\xbd");
	buf_free(&b);
}

/* Whatever a message quotes, it stays one line of valid UTF-8. */
static void
test_err_one_line(void **state)
{
	struct err e = { 0 };
	char big[2000];

	(void)state;
	assert_int_equal(err_set(&e, MC_ERR_DATA, "code (%s)", "weird\ncode\a\x7f"), MC_ERR_DATA);
	assert_string_equal(e.msg, "code (weird code  )");
	err_set(&e, MC_ERR_CONFIG, "unknown section [%s]", "\xc3-\xff\xe2\x82");
	assert_string_equal(e.msg, "unknown section [?-???]");
	err_set(&e, MC_ERR_CONFIG, "kept: %s", "\xc3\xa9 \xf0\x9f\x98\x80");
	assert_string_equal(e.msg, "kept: \xc3\xa9 \xf0\x9f\x98\x80");
	/* A code point cut by the end of the buffer. */
	memset(big, 'a', sizeof big);
	memcpy(big + sizeof e.msg - 3, "\xe2\x82\xac", 3);
	big[sizeof big - 1] = '\0';
	err_set(&e, MC_ERR_DATA, "%s", big);
	assert_true(utf8_valid(e.msg, strlen(e.msg)));
	err_set(&e, MC_ERR_DATA, "tab\there");
	err_prefix(&e, "pre\r: ");
	assert_string_equal(e.msg, "pre : tab here");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_count),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_parse_int64),
		cmocka_unit_test(test_be64),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_err_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
