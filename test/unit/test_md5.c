/* md5: the test suite of RFC 1321 (appendix A.5), input fed in every
 * split, and the signature Moodle made in a captured launch redirect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "md5.h"

static const struct {
	const char *in, *hex;
} rfc[] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	  "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "1234567890123456789012345678901234567890"
	  "1234567890123456789012345678901234567890",
	  "57edf4a22be3c955ac49da2e2107b67a" },
};

static void
test_rfc_suite(void **state)
{
	char hex[33];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		md5_hex(rfc[i].in, strlen(rfc[i].in), hex);
		assert_string_equal(hex, rfc[i].hex);
	}
}

/* The same digests whatever pieces the input comes in: the block
 * buffering must not depend on where the caller cuts. */
static void
test_rfc_suite_in_pieces(void **state)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, cut, j;

	(void)state;
	for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		size_t n = strlen(rfc[i].in);

		for (cut = 0; cut <= n; cut++) {
			unsigned char d[16];
			char hex[33];
			struct md5 m;

			md5_init(&m);
			md5_update(&m, rfc[i].in, cut);
			md5_update(&m, rfc[i].in + cut, 0);
			md5_update(&m, rfc[i].in + cut, n - cut);
			md5_final(&m, d);
			for (j = 0; j < 16; j++) {
				hex[2 * j] = digits[d[j] >> 4];
				hex[2 * j + 1] = digits[d[j] & 15];
			}
			hex[32] = '\0';
			assert_string_equal(hex, rfc[i].hex);
		}
	}
}

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) against
 * digests computed by md5sum(1) when the test was written. */
static void
test_padding_boundaries(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{ 55, "ef1772b6dff9a122358552954ad0df65" },
		{ 56, "3b0c8ac703f828b04c6c197006d17218" },
		{ 63, "b06521f39153d618550606be297466d5" },
		{ 64, "014842d480b571495a4a0363793f7367" },
		{ 65, "c743a45e0d2e6a95cb859adae0248435" },
		{ 1000, "cabe45dcc9ae5b66ba86600cca6b8ba8" },
	};
	char buf[1000], hex[33];
	size_t i;

	(void)state;
	memset(buf, 'a', sizeof buf);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		md5_hex(buf, v[i].n, hex);
		assert_string_equal(hex, v[i].hex);
	}
}

/* A real Moodle 4.5 redirect (test/fixtures/moodle-4.5/headers/
 * launch_sso_redirect.txt) signed wwwroot "http://127.0.0.1:8765" and
 * passport "12345" with this. */
static void
test_moodle_signature(void **state)
{
	static const char in[] = "http://127.0.0.1:876512345";
	char hex[33];

	(void)state;
	md5_hex(in, strlen(in), hex);
	assert_string_equal(hex, "8959104d89c0ed49b975ba37ec36cb80");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_suite),
		cmocka_unit_test(test_rfc_suite_in_pieces),
		cmocka_unit_test(test_padding_boundaries),
		cmocka_unit_test(test_moodle_signature),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
