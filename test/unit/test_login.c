/* login: the pasted-link decoder as a table, the public config read from
 * the real Moodle 4.5 answers, the url/wwwroot comparison, the launch URL
 * and the passport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "login.h"
#include "md5.h"
#include "tokenfile.h"
#include "util.h"

#define F45 "test/fixtures/moodle-4.5/"

static const char TOKEN[] = "0123456789abcdef0123456789abcdef";
static const char PRIV[] =
	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ01";

/* ---- links made the way launch.php makes them ----------------------- */

static char *
b64(const char *s, int pad)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf b = { 0 };
	size_t n = strlen(s), i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)s[i + 2];
		buf_addf(&b, "%c%c", a[v >> 18 & 63], a[v >> 12 & 63]);
		if (left > 1)
			buf_addf(&b, "%c", a[v >> 6 & 63]);
		else if (pad)
			buf_adds(&b, "=");
		if (left > 2)
			buf_addf(&b, "%c", a[v & 63]);
		else if (pad)
			buf_adds(&b, "=");
	}
	return buf_take(&b);
}

/* Percent-encode every byte that is not a letter or digit. */
static char *
urlencode(const char *s)
{
	struct buf b = { 0 };

	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
			buf_add(&b, s, 1);
		else
			buf_addf(&b, "%%%02X", (unsigned char)*s);
	}
	return buf_take(&b);
}

enum shape {
	S_LINK,          /* moodlemobile://token=B                         */
	S_OTHER_SCHEME,  /* a forced scheme: mycampus://token=B            */
	S_URLENCODED,    /* moodlemobile%3A%2F%2Ftoken%3DB%3D%3D           */
	S_TOKEN_PART,    /* token=B                                        */
	S_BARE,          /* B                                              */
	S_SLASH,         /* moodlemobile://token=B/ (as some browsers show) */
	S_DECORATED,     /* spaces, quotes, "Location: " and a newline     */
};

static char *
shape_link(const char *b, enum shape shape)
{
	char *s, *t;

	switch (shape) {
	case S_LINK:
		return xasprintf("moodlemobile://token=%s", b);
	case S_OTHER_SCHEME:
		return xasprintf("mycampus-app://token=%s", b);
	case S_URLENCODED:
		t = xasprintf("moodlemobile://token=%s", b);
		s = urlencode(t);
		free(t);
		return s;
	case S_TOKEN_PART:
		return xasprintf("token=%s", b);
	case S_BARE:
		return xstrdup(b);
	case S_SLASH:
		return xasprintf("moodlemobile://token=%s/", b);
	case S_DECORATED:
		return xasprintf("  Location: \"moodlemobile://token=%s\"\r\n", b);
	}
	return NULL;
}

static const struct row {
	const char *name;
	const char *signed_root;  /* the wwwroot launch.php signed with   */
	const char *signed_pass;  /* the passport it was given            */
	int with_private;
	int pad;                  /* base64 with its '=' padding          */
	enum shape shape;
	const char *our_root;     /* what the decoder checks against      */
	enum mc_err want;
} rows[] = {
	{ "plain link", "https://m.example.edu", "p1", 0, 1, S_LINK, "https://m.example.edu", MC_OK },
	{ "plain link, no padding", "https://m.example.edu", "p1", 0, 0, S_LINK,
	  "https://m.example.edu", MC_OK },
	{ "with private token", "https://m.example.edu", "p1", 1, 1, S_LINK,
	  "https://m.example.edu", MC_OK },
	{ "private token, no padding", "https://m.example.edu", "p1", 1, 0, S_LINK,
	  "https://m.example.edu", MC_OK },
	{ "forced scheme", "https://m.example.edu", "p1", 0, 1, S_OTHER_SCHEME,
	  "https://m.example.edu", MC_OK },
	{ "URL-encoded", "https://m.example.edu", "p1", 0, 1, S_URLENCODED,
	  "https://m.example.edu", MC_OK },
	{ "URL-encoded with private token", "https://m.example.edu", "p1", 1, 1, S_URLENCODED,
	  "https://m.example.edu", MC_OK },
	{ "token= part alone", "https://m.example.edu", "p1", 0, 1, S_TOKEN_PART,
	  "https://m.example.edu", MC_OK },
	{ "token= part alone, no padding", "https://m.example.edu", "p1", 1, 0, S_TOKEN_PART,
	  "https://m.example.edu", MC_OK },
	{ "bare base64", "https://m.example.edu", "p1", 0, 1, S_BARE, "https://m.example.edu", MC_OK },
	{ "bare base64, no padding", "https://m.example.edu", "p1", 0, 0, S_BARE,
	  "https://m.example.edu", MC_OK },
	{ "bare base64 with private token", "https://m.example.edu", "p1", 1, 1, S_BARE,
	  "https://m.example.edu", MC_OK },
	{ "trailing slash after the link", "https://m.example.edu", "p1", 0, 1, S_SLASH,
	  "https://m.example.edu", MC_OK },
	{ "trailing slash, no padding", "https://m.example.edu", "p1", 0, 0, S_SLASH,
	  "https://m.example.edu", MC_OK },
	{ "spaces, quotes, header name", "https://m.example.edu", "p1", 1, 1, S_DECORATED,
	  "https://m.example.edu", MC_OK },
	{ "site signed http, we know https", "http://m.example.edu", "p1", 0, 1, S_LINK,
	  "https://m.example.edu", MC_OK },
	{ "site signed https, we know http", "https://m.example.edu", "p1", 0, 1, S_LINK,
	  "http://m.example.edu", MC_OK },
	{ "trailing slash on our wwwroot", "https://m.example.edu/moodle", "p1", 0, 1, S_LINK,
	  "https://m.example.edu/moodle/", MC_OK },
	{ "trailing slashes, swapped scheme", "http://m.example.edu/moodle", "p1", 0, 1, S_LINK,
	  "https://m.example.edu/moodle//", MC_OK },
	{ "wrong passport", "https://m.example.edu", "another", 0, 1, S_LINK,
	  "https://m.example.edu", MC_ERR_AUTH },
	{ "wrong site", "https://other.example.edu", "p1", 0, 1, S_LINK,
	  "https://m.example.edu", MC_ERR_AUTH },
	{ "wrong path", "https://m.example.edu/moodle", "p1", 0, 1, S_LINK,
	  "https://m.example.edu", MC_ERR_AUTH },
	{ "wrong site, bare", "https://other.example.edu", "p1", 1, 0, S_BARE,
	  "https://m.example.edu", MC_ERR_AUTH },
	{ "wrong site, URL-encoded", "https://other.example.edu", "p1", 0, 1, S_URLENCODED,
	  "https://m.example.edu", MC_ERR_AUTH },
};

static void
test_decoder_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		char sig[33], *plain, *enc, *line;
		struct login_link link;
		struct err e = { 0 };
		enum mc_err rc;

		plain = xasprintf("%s%s", r->signed_root, r->signed_pass);
		md5_hex(plain, strlen(plain), sig);
		free(plain);
		plain = r->with_private ? xasprintf("%s:::%s:::%s", sig, TOKEN, PRIV) :
		    xasprintf("%s:::%s", sig, TOKEN);
		enc = b64(plain, r->pad);
		line = shape_link(enc, r->shape);
		rc = login_link_decode(line, r->our_root, "p1", &link, &e);
		if (rc != r->want)
			fail_msg("%s: got %d (%s), want %d; line %s", r->name, rc, e.msg, r->want, line);
		if (rc == MC_OK) {
			assert_string_equal(link.token, TOKEN);
			if (r->with_private)
				assert_string_equal(link.privatetoken, PRIV);
			else
				assert_null(link.privatetoken);
			login_link_free(&link);
			assert_null(link.token);
		} else {
			assert_null(link.token);
			assert_null(link.privatetoken);
			assert_int_equal(e.kind, r->want);
			/* the message never quotes what was pasted */
			assert_null(strstr(e.msg, TOKEN));
			assert_null(strstr(e.msg, enc));
			assert_null(strstr(e.msg, "0123456789"));
		}
		free(line);
		free(enc);
		free(plain);
	}
}

/* The link a real Moodle 4.5 sent (test/fixtures/moodle-4.5/headers/
 * launch_sso_redirect.txt), verbatim, for passport 12345. */
static void
test_decoder_captured(void **state)
{
	static const char link[] = "moodlemobile://token=ODk1OTEwNGQ4OWMwZWQ0OWI5NzViYTM3ZWMzNmNi"
	    "ODA6OjoxYTk2MmU0MTIwYjlkM2NhZTk5MzMwNjA4YTFmNTUzYg==";
	static const char encoded[] = "moodlemobile%3A%2F%2Ftoken%3DODk1OTEwNGQ4OWMwZWQ0OWI5NzViYT"
	    "M3ZWMzNmNiODA6OjoxYTk2MmU0MTIwYjlkM2NhZTk5MzMwNjA4YTFmNTUzYg%3D%3D";
	struct login_link l;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(login_link_decode(link, "http://127.0.0.1:8765", "12345", &l, &e), MC_OK);
	assert_string_equal(l.token, "1a962e4120b9d3cae99330608a1f553b");
	assert_null(l.privatetoken);
	login_link_free(&l);
	assert_int_equal(login_link_decode(encoded, "https://127.0.0.1:8765/", "12345", &l, &e), MC_OK);
	assert_string_equal(l.token, "1a962e4120b9d3cae99330608a1f553b");
	login_link_free(&l);
	assert_int_equal(login_link_decode(link, "http://127.0.0.1:8765", "12346", &l, &e),
	    MC_ERR_AUTH);
	assert_null(strstr(e.msg, "1a962e41"));
	assert_int_equal(login_link_decode(link, "http://127.0.0.1:8766", "12345", &l, &e),
	    MC_ERR_AUTH);
}

/* Lines that are no link at all: MC_ERR_DATA, never a token. */
static void
test_decoder_not_links(void **state)
{
	char sig[33], *plain, *enc, *bad[8];
	struct login_link l;
	struct err e = { 0 };
	size_t i, n = 0;

	(void)state;
	md5_hex("https://m.example.edup1", strlen("https://m.example.edup1"), sig);
	bad[n++] = xstrdup("");
	bad[n++] = xstrdup("hello, I signed in");
	bad[n++] = xstrdup("moodlemobile://token=");
	bad[n++] = xstrdup("https://m.example.edu/my/");
	plain = xasprintf("%s:::%s", sig, "short");             /* token too short */
	enc = b64(plain, 1);
	bad[n++] = xasprintf("moodlemobile://token=%s", enc);
	free(enc);
	free(plain);
	plain = xasprintf("%.31s:::%s", sig, TOKEN);            /* signature cut   */
	enc = b64(plain, 1);
	bad[n++] = xasprintf("moodlemobile://token=%s", enc);
	free(enc);
	free(plain);
	plain = xasprintf("%s:::%.16s-%.15s", sig, TOKEN, TOKEN); /* not alnum      */
	enc = b64(plain, 0);
	bad[n++] = xasprintf("token=%s", enc);
	free(enc);
	free(plain);
	bad[n] = xmalloc(5000);                                 /* far too long    */
	memset(bad[n], 'A', 4999);
	bad[n++][4999] = '\0';
	for (i = 0; i < n; i++) {
		enum mc_err rc = login_link_decode(bad[i], "https://m.example.edu", "p1", &l, &e);

		if (rc != MC_ERR_DATA)
			fail_msg("line %zu: got %d (%s)", i, rc, e.msg);
		assert_null(l.token);
		assert_null(strstr(e.msg, "short"));
		free(bad[i]);
	}
}

/* ---- the public config -------------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_take(&b);
}

static void
test_public_config_fixtures(void **state)
{
	struct login_site s;
	struct err e = { 0 };
	size_t len;
	char *body;

	(void)state;
	body = slurp(F45 "tool_mobile_get_public_config.json", &len);
	assert_int_equal(login_site_parse(body, len, &s, &e), MC_OK);
	assert_string_equal(s.wwwroot, "http://127.0.0.1:8765");
	assert_string_equal(s.sitename, "Real Moodle");
	assert_string_equal(s.launchurl, "http://127.0.0.1:8765/admin/tool/mobile/launch.php");
	assert_int_equal(s.typeoflogin, LOGIN_IN_APP);
	assert_int_equal(s.webservices, 1);
	assert_int_equal(s.mobileservice, 1);
	assert_int_equal(s.maintenance, 0);
	assert_string_equal(s.maintenance_msg, "");
	assert_int_equal(s.nproviders, 0);
	assert_false(login_site_wants_browser(&s));
	assert_int_equal(login_site_allows(&s, &e), MC_OK);
	login_site_free(&s);
	free(body);

	body = slurp(F45 "tool_mobile_get_public_config_browser.json", &len);
	assert_int_equal(login_site_parse(body, len, &s, &e), MC_OK);
	assert_int_equal(s.typeoflogin, LOGIN_BROWSER);
	assert_true(login_site_wants_browser(&s));
	login_site_free(&s);
	free(body);
}

static void
test_public_config_variants(void **state)
{
	static const char providers[] =
	    "[{\"error\":false,\"data\":{\"wwwroot\":\"https:\\/\\/m.example.edu\\/\","
	    "\"sitename\":\"Uni &amp; Co\",\"enablewebservices\":\"1\",\"enablemobilewebservice\":true,"
	    "\"maintenanceenabled\":1,\"maintenancemessage\":\"<p>Back at\\n <b>10:00<\\/b><\\/p>\","
	    "\"typeoflogin\":\"3\",\"identityproviders\":["
	    "{\"name\":\"Microsoft\",\"iconurl\":\"x\",\"url\":\"https:\\/\\/m.example.edu\\/auth\\/oauth2"
	    "\\/login.php?wantsurl=%2F&sesskey=abc&id=7\"},"
	    "{\"name\":\"Campus SSO\",\"iconurl\":\"x\",\"url\":\"https:\\/\\/m.example.edu\\/auth"
	    "\\/saml2\\/login.php?wants&idp=1\"}]}}]";
	static const char refused[] =
	    "[{\"error\":true,\"exception\":{\"message\":\"Can't find data record in database table "
	    "external_functions.\",\"errorcode\":\"invalidrecord\",\"link\":\"\",\"moreinfourl\":\"\"}}]";
	static const char *const broken[] = {
		"", "[]", "{}", "[1]", "[{\"error\":false}]", "<html>",
		"[{\"error\":false,\"data\":{\"sitename\":\"no wwwroot\"}}]",
		"[{\"error\":false,\"data\":{\"wwwroot\":\"ftp://x\"}}]",
		"[{\"error\":false,\"data\":{\"wwwroot\":\"https:\\/\\/\"}}]",
		"[{\"error\":false,\"data\":{\"wwwroot\":\"https://x\"}}] trailing",
	};
	struct login_site s;
	struct err e = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(login_site_parse(providers, strlen(providers), &s, &e), MC_OK);
	assert_string_equal(s.wwwroot, "https://m.example.edu");
	assert_string_equal(s.sitename, "Uni & Co");
	assert_null(s.launchurl);
	assert_int_equal(s.typeoflogin, LOGIN_EMBEDDED);
	assert_true(login_site_wants_browser(&s));
	assert_int_equal(s.maintenance, 1);
	assert_string_equal(s.maintenance_msg, "Back at 10:00");
	assert_int_equal(s.nproviders, 2);
	assert_string_equal(s.providers[0].name, "Microsoft");
	assert_int_equal(s.providers[0].oauthsso, 7);
	assert_string_equal(s.providers[1].name, "Campus SSO");
	assert_int_equal(s.providers[1].oauthsso, 0);
	assert_int_equal(login_site_allows(&s, &e), MC_ERR_TEMP);
	assert_non_null(strstr(e.msg, "maintenance: Back at 10:00"));
	s.webservices = 0;
	assert_int_equal(login_site_allows(&s, &e), MC_ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "does not allow the Moodle app"));
	assert_non_null(strstr(e.msg, "Enable web services"));
	s.webservices = 1;
	s.mobileservice = 0;
	assert_int_equal(login_site_allows(&s, &e), MC_ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "mobile devices"));
	login_site_free(&s);

	assert_int_equal(login_site_parse(refused, strlen(refused), &s, &e), MC_ERR_UNAVAILABLE);
	assert_non_null(strstr(e.msg, "invalidrecord"));
	login_site_free(&s);
	for (i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		if (login_site_parse(broken[i], strlen(broken[i]), &s, &e) != MC_ERR_DATA)
			fail_msg("broken answer %zu accepted (%s)", i, e.msg);
		login_site_free(&s);
	}
}

/* ---- the rest ----------------------------------------------------------- */

static void
test_url_mismatch(void **state)
{
	static const struct {
		const char *url, *www, *want;   /* want NULL: the same site */
	} v[] = {
		{ "https://m.example.edu", "https://m.example.edu", NULL },
		{ "https://m.example.edu/", "https://m.example.edu", NULL },
		{ "https://M.Example.edu//", "https://m.example.edu", NULL },
		{ "https://m.example.edu/moodle/", "https://m.example.edu/moodle", NULL },
		{ "http://m.example.edu", "https://m.example.edu", "(https, not http): set [moodle] url = "
		  "https://m.example.edu" },
		{ "https://example.edu", "https://www.example.edu", "(with www.): set" },
		{ "https://www.example.edu", "https://example.edu", "(without www.): set" },
		{ "https://m.example.edu", "https://m.example.edu/moodle", "(the path /moodle, not /)" },
		{ "https://m.example.edu/moodle/login", "https://m.example.edu/moodle",
		  "(the path /moodle, not /moodle/login)" },
		{ "http://example.edu/m", "https://www.example.edu",
		  "(https, not http; with www.; the path /, not /m): set [moodle] url = "
		  "https://www.example.edu" },
		{ "https://a.example.edu", "https://b.example.edu", "the host b.example.edu, not a.example.edu" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *m = login_url_mismatch(v[i].url, v[i].www);

		if (v[i].want == NULL && m != NULL)
			fail_msg("%s vs %s: %s", v[i].url, v[i].www, m);
		if (v[i].want != NULL && (m == NULL || strstr(m, v[i].want) == NULL))
			fail_msg("%s vs %s: got %s, want ...%s...", v[i].url, v[i].www, m ? m : "NULL",
			    v[i].want);
		free(m);
	}
}

static void
test_launch_url(void **state)
{
	struct login_site s = { 0 };
	char *u;

	(void)state;
	u = login_launch_url(NULL, "https://m.example.edu/", "abc", 0);
	assert_string_equal(u, "https://m.example.edu/admin/tool/mobile/launch.php?"
	    "service=moodle_mobile_app&passport=abc&urlscheme=moodlemobile");
	free(u);
	s.launchurl = (char *)"https://m.example.edu/moodle/admin/tool/mobile/launch.php";
	u = login_launch_url(&s, "https://m.example.edu", "abc", 7);
	assert_string_equal(u, "https://m.example.edu/moodle/admin/tool/mobile/launch.php?"
	    "service=moodle_mobile_app&passport=abc&urlscheme=moodlemobile&oauthsso=7");
	free(u);
}

static void
test_passport(void **state)
{
	char a[LOGIN_PASSPORT_LEN + 1], b[LOGIN_PASSPORT_LEN + 1];
	struct err e = { 0 };

	(void)state;
	assert_int_equal(login_passport(a, &e), MC_OK);
	assert_int_equal(login_passport(b, &e), MC_OK);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	/* 128 random bits twice alike would be a broken random source */
	assert_string_not_equal(a, b);
}

/* The token file: 0600 whatever the umask, replaced whole, nothing left
 * behind; an impossible path fails cleanly and keeps the old file. */
static void
test_tokenfile(void **state)
{
	char dir[] = "/tmp/test_login.XXXXXX", *path, *def, buf[256];
	struct stat st;
	struct err e = { 0 };
	mode_t old;
	FILE *f;
	DIR *d;
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/config.token", dir);
	def = tokenfile_default_path(path);
	assert_string_equal(def + strlen(dir), "/config.token.token");
	free(def);
	old = umask(0);
	assert_int_equal(tokenfile_save(path, TOKEN, NULL, &e), MC_OK);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(tokenfile_save(path, "ffffffffffffffffffffffffffffffff", PRIV, &e), MC_OK);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 32 + 1 + 64 + 1);
	fclose(f);
	assert_memory_equal(buf, "ffffffffffffffffffffffffffffffff\n", 33);
	assert_memory_equal(buf + 33, PRIV, 64);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);
	free(path);
	path = xasprintf("%s/no/such/dir/token", dir);
	assert_int_equal(tokenfile_save(path, TOKEN, NULL, &e), MC_ERR_IO);
	assert_non_null(strstr(e.msg, "no/such/dir/token"));
	assert_null(strstr(e.msg, TOKEN));
	free(path);
	path = xasprintf("%s/config.token", dir);
	unlink(path);
	free(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_table),
		cmocka_unit_test(test_decoder_captured),
		cmocka_unit_test(test_decoder_not_links),
		cmocka_unit_test(test_public_config_fixtures),
		cmocka_unit_test(test_public_config_variants),
		cmocka_unit_test(test_url_mismatch),
		cmocka_unit_test(test_launch_url),
		cmocka_unit_test(test_passport),
		cmocka_unit_test(test_tokenfile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
