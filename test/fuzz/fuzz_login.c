/* fuzz_login: what a person pastes back and what a site says about how it
 * signs in.  The first byte picks: 'L' the rest is a pasted line for
 * login_link_decode (site http://127.0.0.1:8765, passport 12345: the
 * captured link of the seeds verifies), anything else the rest is a
 * public config answer for login_site_parse.
 *
 * Properties: the link decoder gives MC_OK with a token (and a private
 * token or none) of 16 to 128 letters and digits that were inside the
 * line's base64, or MC_ERR_DATA / MC_ERR_AUTH with one of its two fixed
 * messages (it never quotes the line); the public config reader gives
 * MC_OK with an http(s) wwwroot without trailing slash and valid UTF-8
 * text, or MC_ERR_DATA / MC_ERR_UNAVAILABLE with one clean line. */
#include <ctype.h>

#include "fuzz.h"
#include "login.h"

#define WWWROOT "http://127.0.0.1:8765"
#define PASSPORT "12345"

static void
check_token(const char *t)
{
	size_t i, n;

	FUZZ_CHECK(t != NULL);
	n = strlen(t);
	FUZZ_CHECK(n >= 16 && n <= 128);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(isalnum((unsigned char)t[i]));
}

static void
fuzz_link(const char *line)
{
	static char *data_msg, *auth_msg;
	struct login_link l;
	struct err e = { 0 };
	enum mc_err rc;

	if (data_msg == NULL) {
		login_link_decode("x", WWWROOT, PASSPORT, &l, &e);
		data_msg = xstrdup(e.msg);
		/* md5("http://127.0.0.1:8765" "12345") signs it, for another passport */
		login_link_decode("ODk1OTEwNGQ4OWMwZWQ0OWI5NzViYTM3ZWMzNmNiODA6OjoxYTk2MmU0MTIwYjlk"
		    "M2NhZTk5MzMwNjA4YTFmNTUzYg", WWWROOT, "54321", &l, &e);
		auth_msg = xstrdup(e.msg);
		FUZZ_CHECK(e.kind == MC_ERR_AUTH);
	}
	rc = login_link_decode(line, WWWROOT, PASSPORT, &l, &e);
	if (rc == MC_OK) {
		check_token(l.token);
		if (l.privatetoken != NULL)
			check_token(l.privatetoken);
		login_link_free(&l);
		return;
	}
	fuzz_check_err(&e, rc);
	FUZZ_CHECK(l.token == NULL && l.privatetoken == NULL);
	FUZZ_CHECK((rc == MC_ERR_DATA && strcmp(e.msg, data_msg) == 0) ||
	    (rc == MC_ERR_AUTH && strcmp(e.msg, auth_msg) == 0));
}

static void
fuzz_config(const uint8_t *data, size_t size)
{
	struct login_site s;
	struct err e = { 0 };
	enum mc_err rc;
	size_t i, n;

	rc = login_site_parse((const char *)data, size, &s, &e);
	if (rc == MC_OK) {
		n = strlen(s.wwwroot);
		FUZZ_CHECK(strncmp(s.wwwroot, "http://", 7) == 0 || strncmp(s.wwwroot, "https://", 8) == 0);
		FUZZ_CHECK(s.wwwroot[n - 1] != '/');
		FUZZ_CHECK(utf8_valid(s.wwwroot, n));
		FUZZ_CHECK(utf8_valid(s.sitename, strlen(s.sitename)));
		FUZZ_CHECK(utf8_valid(s.maintenance_msg, strlen(s.maintenance_msg)));
		for (i = 0; i < s.nproviders; i++) {
			FUZZ_CHECK(utf8_valid(s.providers[i].name, strlen(s.providers[i].name)));
			FUZZ_CHECK(s.providers[i].oauthsso >= 0);
		}
		FUZZ_CHECK(login_site_allows(&s, &e) == MC_OK || e.kind != MC_OK);
	} else {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_DATA || rc == MC_ERR_UNAVAILABLE);
	}
	login_site_free(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;

	if (size == 0)
		return 0;
	if (data[0] != 'L') {
		fuzz_config(data + 1, size - 1);
		return 0;
	}
	line = fuzz_str(data + 1, size - 1);
	fuzz_link(line);
	free(line);
	return 0;
}
