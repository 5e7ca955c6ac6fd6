/* render: message bodies, hostile Moodle text, limits, the hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "render.h"

#define START INT64_C(1767258000) /* 2026-01-01T09:00:00Z */

static struct event
ev_with(const char *name, const char *course, const char *site)
{
	struct event ev = { 0 };

	ev.id = 42;
	ev.course_id = 7;
	ev.course_short = (char *)"RM101";
	ev.course_name = (char *)course;
	ev.name = (char *)name;
	ev.module = (char *)"bigbluebuttonbn";
	ev.cmid = 99;
	ev.url = (char *)"https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=99";
	ev.site_name = (char *)site;
	ev.start = START;
	return ev;
}

static const char *
sget(json_object *o, const char *path)
{
	char *dup = strdup(path), *p = dup, *dot;
	json_object *cur = o;

	while (p != NULL && cur != NULL) {
		dot = strchr(p, '.');
		if (dot != NULL)
			*dot = '\0';
		if (*p >= '0' && *p <= '9')
			cur = json_object_array_get_idx(cur, (size_t)strtoul(p, NULL, 10));
		else if (!json_object_object_get_ex(cur, p, &cur))
			cur = NULL;
		p = dot ? dot + 1 : NULL;
	}
	free(dup);
	return cur ? json_object_get_string(cur) : NULL;
}

static int
has(json_object *o, const char *path)
{
	return sget(o, path) != NULL;
}

/* Every body: valid UTF-8, JSON, allowed_mentions present, within every
 * limit; returns the parsed object (caller puts it). */
static json_object *
check_body(const char *body)
{
	json_object *o, *am, *parse;
	const char *s;
	size_t total = 0;

	assert_true(utf8_valid(body, strlen(body)));
	o = json_tokener_parse(body);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "allowed_mentions", &am));
	assert_true(json_object_object_get_ex(am, "parse", &parse));
	assert_int_equal(json_object_array_length(parse), 0);
	s = sget(o, "content");
	if (s != NULL) {
		assert_true(utf8_valid(s, strlen(s)));
		assert_true(utf8_count(s) <= 2000);
	}
	if ((s = sget(o, "embeds.0.title")) != NULL) {
		assert_true(utf8_count(s) <= 256);
		assert_true(utf8_count(s) >= 1);
		total += utf8_count(s);
	}
	if ((s = sget(o, "embeds.0.description")) != NULL) {
		assert_true(utf8_count(s) <= 4096);
		total += utf8_count(s);
	}
	if ((s = sget(o, "embeds.0.footer.text")) != NULL) {
		assert_true(utf8_count(s) <= 2048);
		assert_true(utf8_count(s) >= 1);
		total += utf8_count(s);
	}
	assert_true(total <= 6000);
	if ((s = sget(o, "username")) != NULL)
		assert_true(utf8_count(s) >= 1 && utf8_count(s) <= 80);
	return o;
}

static void
test_conference_plain(void **state)
{
	struct event ev = ev_with("Weekly seminar", "Research Methods", "Example University");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b), *am;

	(void)state;
	assert_string_equal(sget(o, "embeds.0.title"), "Weekly seminar");
	assert_string_equal(sget(o, "embeds.0.url"), ev.url);
	assert_string_equal(sget(o, "embeds.0.description"),
	    "**Research Methods**\n<t:1767258000:F> (<t:1767258000:R>)");
	assert_string_equal(sget(o, "embeds.0.footer.text"), "Example University");
	assert_string_equal(sget(o, "embeds.0.timestamp"), "2026-01-01T09:00:00+00:00");
	assert_false(has(o, "content"));
	assert_false(has(o, "username"));
	assert_int_equal(json_object_array_length(json_object_object_get(o, "embeds")), 1);
	json_object_object_get_ex(o, "allowed_mentions", &am);
	assert_false(has(am, "roles"));
	assert_string_equal(json_object_to_json_string_ext(am, JSON_C_TO_STRING_PLAIN), "{\"parse\":[]}");
	json_object_put(o);
	free(b);
}

static void
test_conference_username_and_role_ignored(void **state)
{
	struct event ev = ev_with("Seminar", "Course", "Site");
	struct render_opts ro = { .role_id = "123456789012345678", .username = "Course bot" };
	char *b = render_conference(&ev, &ro);
	json_object *o = check_body(b);

	(void)state;
	assert_string_equal(sget(o, "username"), "Course bot");
	/* A conference message never pings, role or not. */
	assert_false(has(o, "allowed_mentions.roles"));
	assert_null(strstr(b, "<@&"));
	json_object_put(o);
	free(b);
}

static void
test_conference_bad_url_left_out(void **state)
{
	struct event ev = ev_with("Seminar", "Course", "Site");
	const char *bad[] = { "javascript:alert(1)", "", "https://x.example/a b", "ftp://x/y",
		"https://x.example/<@&1>", "https://" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *b;
		json_object *o;

		ev.url = (char *)bad[i];
		b = render_conference(&ev, NULL);
		o = check_body(b);
		assert_false(has(o, "embeds.0.url"));
		json_object_put(o);
		free(b);
		b = render_ping(&ev, NULL, START - 60);
		assert_null(strstr(b, bad[i][0] ? bad[i] : "<>"));
		free(b);
	}
}

static void
test_ping_role_and_wording(void **state)
{
	struct event ev = ev_with("Seminar", "Research Methods", "Site");
	struct render_opts ro = { .role_id = "123456789012345678", .username = NULL };
	char *b = render_ping(&ev, &ro, START - 300);
	json_object *o = check_body(b), *am;

	(void)state;
	assert_string_equal(sget(o, "content"),
	    "<@&123456789012345678> **Seminar** (Research Methods) starts <t:1767258000:R>: "
	    "<https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=99>");
	json_object_object_get_ex(o, "allowed_mentions", &am);
	assert_string_equal(json_object_to_json_string_ext(am, JSON_C_TO_STRING_PLAIN),
	    "{\"parse\":[],\"roles\":[\"123456789012345678\"]}");
	assert_false(has(o, "embeds"));
	json_object_put(o);
	free(b);

	b = render_ping(&ev, &ro, START);
	assert_non_null(strstr(b, " started <t:1767258000:R>"));
	free(b);
	b = render_ping(&ev, &ro, START + 120);
	assert_non_null(strstr(b, " started <t:1767258000:R>"));
	assert_null(strstr(b, " starts "));
	free(b);
}

static void
test_ping_without_role(void **state)
{
	struct event ev = ev_with("Seminar", "", "Site");
	struct render_opts none = { 0 }, empty = { .role_id = "" }, junk = { .role_id = "12ab" };
	const struct render_opts *all[] = { NULL, &none, &empty, &junk };
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		char *b = render_ping(&ev, all[i], START - 1);
		json_object *o = check_body(b);

		assert_false(has(o, "allowed_mentions.roles"));
		assert_string_equal(sget(o, "content"), "**Seminar** starts <t:1767258000:R>: "
		    "<https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=99>");
		json_object_put(o);
		free(b);
	}
}

static void
test_hostile_mentions(void **state)
{
	struct event ev = ev_with("@everyone come <@&123> and @here <@456> <#789>",
	    "<@!55> @Everyone", "@here site");
	struct render_opts ro = { .role_id = "987654321098765432", .username = "bot" };
	char *b = render_conference(&ev, &ro);
	json_object *o = check_body(b);
	const char *t = sget(o, "embeds.0.title");

	(void)state;
	assert_string_equal(t, "@\u200beveryone come <\u200b@&123> and @\u200bhere <\u200b@456> <\u200b#789>");
	assert_string_equal(sget(o, "embeds.0.footer.text"), "@\u200bhere site");
	assert_non_null(strstr(sget(o, "embeds.0.description"), "<\u200b@!55\\> @\u200bEveryone"));
	json_object_put(o);
	free(b);

	b = render_ping(&ev, &ro, START - 10);
	o = check_body(b);
	t = sget(o, "content");
	/* Only our own role mention survives whole. */
	assert_null(strstr(t, "@everyone"));
	assert_null(strstr(t, "@here"));
	assert_null(strstr(t, "<@&123>"));
	assert_null(strstr(t, "<@456>"));
	assert_non_null(strstr(t, "<@&987654321098765432> "));
	assert_string_equal(sget(o, "allowed_mentions.roles.0"), "987654321098765432");
	json_object_put(o);
	free(b);
}

static void
test_hostile_markdown(void **state)
{
	struct event ev = ev_with("**bold** [click](https://evil.example) _i_ ~~s~~ `c` |x| > q # h \\",
	    "[free](https://evil.example) *Course* #1", "[Site](https://evil.example)");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b);

	(void)state;
	/* Titles and footers do not render Markdown: shown as written. */
	assert_string_equal(sget(o, "embeds.0.title"), ev.name);
	assert_string_equal(sget(o, "embeds.0.footer.text"), ev.site_name);
	assert_string_equal(sget(o, "embeds.0.description"),
	    "**\\[free\\]\\(https://evil.example\\) \\*Course\\* \\#1**\n<t:1767258000:F> (<t:1767258000:R>)");
	json_object_put(o);
	free(b);

	b = render_ping(&ev, NULL, START - 10);
	o = check_body(b);
	assert_string_equal(sget(o, "content"),
	    "**\\*\\*bold\\*\\* \\[click\\]\\(https://evil.example\\) \\_i\\_ \\~\\~s\\~\\~ \\`c\\` "
	    "\\|x\\| \\> q \\# h \\\\** (\\[free\\]\\(https://evil.example\\) \\*Course\\* \\#1) "
	    "starts <t:1767258000:R>: <https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=99>");
	assert_null(strstr(sget(o, "content"), "](http"));
	json_object_put(o);
	free(b);
}

static void
test_emoji_entities_whitespace(void **state)
{
	struct event ev = ev_with("  Café 🎉 &amp; «x»\n\tnext\r\n  ", "Ünïcødé 日本語 &lt;b&gt;", "Site\x01");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b);

	(void)state;
	/* Entities were decoded by the Moodle client: what is left is text. */
	assert_string_equal(sget(o, "embeds.0.title"), "Café 🎉 &amp; «x» next");
	assert_string_equal(sget(o, "embeds.0.description"),
	    "**Ünïcødé 日本語 &lt;b&gt;**\n<t:1767258000:F> (<t:1767258000:R>)");
	assert_string_equal(sget(o, "embeds.0.footer.text"), "Site");
	json_object_put(o);
	free(b);
}

/* Bidi controls and other invisible format characters never reach
 * Discord: in titles, descriptions, footers and pings alike. */
static void
test_format_characters(void **state)
{
	struct event ev = ev_with("\u202Egnp.exe\u202C Lecture \u2066x\u2069 \u200Bzw\u200D "
	    "\uFEFFbom \u061C\u00AD end \U000E0041tag", "Co\u200Eurse \u202Aone\u202C",
	    "Site\u2060\u200F");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b);
	const struct render_opts ro = { .role_id = "123456789012345678" };

	(void)state;
	assert_string_equal(sget(o, "embeds.0.title"), "gnp.exe Lecture x zw bom end tag");
	assert_string_equal(sget(o, "embeds.0.description"),
	    "**Course one**\n<t:1767258000:F> (<t:1767258000:R>)");
	assert_string_equal(sget(o, "embeds.0.footer.text"), "Site");
	json_object_put(o);
	free(b);
	b = render_ping(&ev, &ro, START - 60);
	o = check_body(b);
	assert_non_null(strstr(sget(o, "content"), "**gnp.exe Lecture x zw bom end tag** (Course one)"));
	json_object_put(o);
	free(b);
	/* only format characters: the name is empty, as if none were given */
	ev.name = "\u202E\u200B";
	b = render_conference(&ev, NULL);
	o = check_body(b);
	assert_string_equal(sget(o, "embeds.0.title"), "Conference");
	json_object_put(o);
	free(b);
}

static void
test_invalid_utf8(void **state)
{
	struct event ev = ev_with("bad \xff\xfe here \xc3", "\xe2\x82 course \xed\xa0\x80 x",
	    "\xf4\x90\x80\x80 site \xc0\xaf");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b);

	(void)state;
	assert_string_equal(sget(o, "embeds.0.title"), "bad \uFFFD\uFFFD here \uFFFD");
	assert_non_null(strstr(sget(o, "embeds.0.description"), "\uFFFD"));
	assert_non_null(strstr(sget(o, "embeds.0.footer.text"), "site \uFFFD\uFFFD"));
	json_object_put(o);
	free(b);
	b = render_ping(&ev, NULL, START - 1);
	json_object_put(check_body(b));
	free(b);
}

static char *
repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit), i;
	char *s = malloc(u * n + 1);

	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

/* No escape cut in half: a backslash before the mark is itself escaped. */
static void
assert_clean_cut(const char *s)
{
	size_t n = strlen(s), k = 0;
	const char *mark = strstr(s, "…");

	assert_non_null(mark);
	while (mark - k > s && mark[-(long)k - 1] == '\\')
		k++;
	assert_int_equal(k % 2, 0);
	assert_true(n >= 3);
}

static void
test_long_names(void **state)
{
	const char *units[] = { "a", "é", "🎉", "*", "@everyone ", "[x](y) ", "\xff" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		char *big = repeat(units[i], 5000);
		struct event ev = ev_with(big, big, big);
		struct render_opts ro = { .role_id = "123456789012345678", .username = big };
		char *b = render_conference(&ev, &ro);
		json_object *o = check_body(b);
		const char *t = sget(o, "embeds.0.title");
		size_t nt, nd, nf;

		nt = utf8_count(t);
		nd = utf8_count(sget(o, "embeds.0.description"));
		nf = utf8_count(sget(o, "embeds.0.footer.text"));
		/* Full to the limit, less at most one escape pair. */
		assert_true(nt >= 255 && nt <= 256);
		assert_true(nd >= 4095 && nd <= 4096);
		assert_true(nf >= 6000 - nt - nd - 1 && nf <= 6000 - nt - nd);
		assert_clean_cut(t);
		assert_clean_cut(sget(o, "embeds.0.description"));
		assert_clean_cut(sget(o, "embeds.0.footer.text"));
		assert_int_equal(utf8_count(sget(o, "username")), 80);
		json_object_put(o);
		free(b);

		b = render_ping(&ev, &ro, START - 1);
		o = check_body(b);
		assert_clean_cut(sget(o, "content"));
		assert_non_null(strstr(sget(o, "content"), "<@&123456789012345678> **"));
		assert_non_null(strstr(sget(o, "content"), "starts <t:1767258000:R>: <https://"));
		json_object_put(o);
		free(b);
		free(big);
	}
}

static void
test_render_text(void **state)
{
	char *s;

	(void)state;
	s = render_text("abcdef", 0, 4);
	assert_string_equal(s, "abc…");
	free(s);
	s = render_text("abcd", 0, 4);
	assert_string_equal(s, "abcd");
	free(s);
	s = render_text("ab cdef", 0, 4);
	assert_string_equal(s, "ab…");  /* no space before the mark */
	free(s);
	s = render_text("a*b*c", 1, 3);
	assert_string_equal(s, "a…");   /* "\*" is never cut in half */
	free(s);
	s = render_text("a*b*c", 1, 4);
	assert_string_equal(s, "a\\*…");
	free(s);
	s = render_text("a*b*c", 1, 5);
	assert_string_equal(s, "a\\*b…");
	free(s);
	s = render_text("xx@here", 0, 3);
	assert_string_equal(s, "xx…");
	free(s);
	s = render_text("🎉🎉🎉", 0, 2);
	assert_string_equal(s, "🎉…");
	free(s);
	s = render_text("abc", 0, 1);
	assert_string_equal(s, "…");
	free(s);
	s = render_text(NULL, 1, 10);
	assert_string_equal(s, "");
	free(s);
	s = render_text(" \t\n ", 1, 10);
	assert_string_equal(s, "");
	free(s);
	s = render_text("email@example.com here@here <x> <:e:1>", 1, 100);
	assert_string_equal(s, "email@example.com here@\u200bhere <x\\> <:e:1\\>");
	free(s);
}

static void
test_empty_fields(void **state)
{
	struct event ev = ev_with("", "", "");
	char *b = render_conference(&ev, NULL);
	json_object *o = check_body(b);

	(void)state;
	assert_string_equal(sget(o, "embeds.0.title"), "Conference");
	assert_string_equal(sget(o, "embeds.0.description"), "<t:1767258000:F> (<t:1767258000:R>)");
	assert_false(has(o, "embeds.0.footer"));
	json_object_put(o);
	free(b);
	ev.name = NULL;
	ev.course_name = NULL;
	ev.site_name = NULL;
	ev.url = NULL;
	b = render_ping(&ev, NULL, START);
	o = check_body(b);
	assert_string_equal(sget(o, "content"), "**Conference** started <t:1767258000:R>");
	json_object_put(o);
	free(b);
}

static void
test_hash(void **state)
{
	struct event ev = ev_with("Seminar", "Course", "Site");
	char h1[17], h2[17], h3[17];
	char *a, *b;

	(void)state;
	/* FNV-1a 64 reference values. */
	render_hash("", h1);
	assert_string_equal(h1, "cbf29ce484222325");
	render_hash("a", h1);
	assert_string_equal(h1, "af63dc4c8601ec8c");
	render_hash("foobar", h1);
	assert_string_equal(h1, "85944171f73967e8");

	a = render_conference(&ev, NULL);
	b = render_conference(&ev, NULL);
	assert_string_equal(a, b);
	render_hash(a, h1);
	render_hash(b, h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 16);
	free(b);
	ev.start += 60;
	b = render_conference(&ev, NULL);
	render_hash(b, h3);
	assert_string_not_equal(h1, h3);
	free(b);
	ev.start -= 60;
	ev.name = (char *)"Seminar!";
	b = render_conference(&ev, NULL);
	render_hash(b, h3);
	assert_string_not_equal(h1, h3);
	free(b);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conference_plain),
		cmocka_unit_test(test_conference_username_and_role_ignored),
		cmocka_unit_test(test_conference_bad_url_left_out),
		cmocka_unit_test(test_ping_role_and_wording),
		cmocka_unit_test(test_ping_without_role),
		cmocka_unit_test(test_hostile_mentions),
		cmocka_unit_test(test_hostile_markdown),
		cmocka_unit_test(test_emoji_entities_whitespace),
		cmocka_unit_test(test_format_characters),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
