/* secret: wiping, and hiding secrets whole and by pieces in every
 * encoding a message may carry them in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "secret.h"

#define TOKEN "9d3878163d51641479a5bf6acff30bad"
#define PASSWORD "p@ss w\xc3\xb6rd/!"

/* No run of 4 bytes of secret is in text. */
static void
assert_no_piece(const char *text, const char *secret)
{
	size_t i, n = strlen(secret);
	char piece[5];

	for (i = 0; i + 4 <= n; i++) {
		memcpy(piece, secret + i, 4);
		piece[4] = '\0';
		if (strstr(text, piece) != NULL)
			fail_msg("\"%s\" holds \"%s\" of the secret", text, piece);
	}
}

static void
test_wipe(void **state)
{
	char buf[16] = "secret-secret";
	struct buf b = { 0 };
	size_t i;

	(void)state;
	secret_wipe(buf, sizeof buf);
	for (i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], 0);
	buf_adds(&b, "password");
	secret_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	secret_free(NULL);
	secret_free(xstrdup("x"));
}

static void
test_redact_whole(void **state)
{
	struct secrets s = { 0 };
	char *r;

	(void)state;
	secrets_add(&s, "hunter2");
	secrets_add(&s, "abcdef0123456789");
	secrets_add(&s, "ab");  /* too short to redact */
	secrets_add(&s, NULL);
	r = secrets_redact(&s, "login hunter2 with token=abcdef0123456789&x=hunter2 ab");
	assert_string_equal(r, "login *** with token=***&x=*** ab");
	free(r);
	r = secrets_redact(NULL, "plain");
	assert_string_equal(r, "plain");
	free(r);
	r = secrets_redact(&s, NULL);
	assert_string_equal(r, "");
	free(r);
	/* whole only: our own words survive a piece that is also a secret's */
	r = secrets_redact(&s, "hunter is abcdef01");
	assert_string_equal(r, "hunter is abcdef01");
	free(r);
	secrets_free(&s);
	assert_int_equal(s.n, 0);
}

static void
test_redact_encodings(void **state)
{
	static const char *const texts[][2] = {
		{ "password=p%40ss+w%C3%B6rd%2F%21&x=1", "password=***&x=1" },    /* form */
		{ "password=p%40ss%20w%c3%b6rd%2f%21&x=1", "password=***&x=1" },  /* lower hex */
		{ "{\"password\":\"p@ss w\\u00f6rd\\/!\",\"x\":1}",         /* PHP's JSON */
		  "{\"password\":\"***\",\"x\":1}" },
		{ "<p>p&#64;ss w&#xf6;rd/&#33;</p>", "<p>***</p>" },             /* HTML */
		{ "<pre>password=p%40ss%20w%C3%B6rd%2F%21&amp;x=1</pre>",        /* HTML around % */
		  "<pre>password=***&amp;x=1</pre>" },
		{ "password=" PASSWORD "&x=1", "password=***&x=1" },              /* raw */
	};
	struct secrets s = { 0 };
	size_t i;

	(void)state;
	secrets_add(&s, PASSWORD);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *r = secrets_redact(&s, texts[i][0]);

		if (strcmp(r, texts[i][1]) != 0)
			fail_msg("%s -> %s (want %s)", texts[i][0], r, texts[i][1]);
		free(r);
	}
	secrets_free(&s);
}

static void
test_quote_pieces(void **state)
{
	struct secrets s = { 0 };
	char *q, *text;

	(void)state;
	secrets_add(&s, TOKEN);
	secrets_add(&s, PASSWORD);
	secrets_add_whole(&s, "https://discord.com/api/webhooks/123456789012345678/Hook-tok");

	/* a token cut short, at the end of the quoted text */
	q = secrets_quote(&s, "{\"token\":\"9d3878163d51641479a5", 29, 60);
	assert_string_equal(q, "{\"token\":\"***");
	free(q);

	/* hidden before the cut: the token straddles character 60 */
	text = xasprintf("%-40s wstoken=%s more", "An error page", TOKEN);
	q = secrets_quote(&s, text, strlen(text), 60);
	assert_no_piece(q, TOKEN);
	/* without hiding first, the cut would have left 11 of its characters */
	assert_non_null(strstr(q, "wstoken=*** more"));
	free(q);
	free(text);

	/* a piece of the password, percent-encoded in an echoed form */
	text = xstrdup("<pre>username=alice&amp;password=p%40ss+w%C3%B6</pre>");
	q = secrets_quote(&s, text, strlen(text), 200);
	assert_string_equal(q, "<pre>username=alice&amp;password=***</pre>");
	free(q);
	free(text);

	/* a piece in JSON's \uXXXX form */
	q = secrets_quote(&s, "\"ss w\\u00f6rd\"", 14, 60);
	assert_string_equal(q, "\"***\"");
	free(q);

	/* a whole-only secret leaves its pieces ("https") alone; 3 bytes of
	 * a secret are not a piece */
	q = secrets_quote(&s, "see https://moodle.example.edu 9d3", 34, 60);
	assert_string_equal(q, "see https://moodle.example.edu 9d3");
	free(q);

	/* control characters as spaces, invalid UTF-8 repaired, NUL kept out */
	q = secrets_quote(&s, "a\nb\xff" "c\0d", 7, 60);
	assert_string_equal(q, "a b\xef\xbf\xbd" "c\xef\xbf\xbd" "d");
	free(q);
	secrets_free(&s);
}

static void
test_quote_window(void **state)
{
	struct secrets s = { 0 };
	size_t n = 100000;
	char *big = xmalloc(n), *q;

	(void)state;
	memset(big, 'x', n);
	secrets_add(&s, TOKEN);
	q = secrets_quote(&s, big, n, 60);
	assert_int_equal(strlen(q), 63);
	assert_string_equal(q + 60, "...");
	free(q);
	q = secrets_quote(NULL, "short", 5, 60);
	assert_string_equal(q, "short");
	free(q);
	free(big);
	secrets_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_redact_whole),
		cmocka_unit_test(test_redact_encodings),
		cmocka_unit_test(test_quote_pieces),
		cmocka_unit_test(test_quote_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
