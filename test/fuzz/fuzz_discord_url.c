/* fuzz_discord_url: the webhook URL from the config, as typed or pasted.
 *
 * Properties: MC_OK with an id of 17 to 20 digits, a token of token
 * characters that the base ends with, a thread_id of digits or none; or
 * MC_ERR_CONFIG with one clean line that never holds the token part of
 * the input (nor the whole input). */
#include <strings.h>

#include "discord.h"
#include "fuzz.h"

static char *baseline;   /* a message without any URL in it */

/* The last path segment after /webhooks/ID/ (without query, fragment and
 * trailing slashes): what a leaked token would be.  NULL when none. */
static char *
token_part(const char *url)
{
	const char *w = strstr(url, "/webhooks/"), *p, *end, *seg;

	if (w == NULL)
		return NULL;
	end = url + strcspn(url, "?#");
	while (end > url && (end[-1] == '/' || end[-1] == ' ' || end[-1] == '\n' ||
	    end[-1] == '\r' || end[-1] == '\t'))
		end--;
	for (seg = p = w; p < end; p++)
		if (*p == '/')
			seg = p + 1;
	if (seg >= end)
		return NULL;
	return xstrndup(seg, (size_t)(end - seg));
}

/* Could s appear in a message by chance?  Short, without a digit (every
 * token and ID has some), or part of the fixed help text. */
static int
innocent(const char *s)
{
	size_t n = strlen(s);

	return n < 6 || strpbrk(s, "0123456789") == NULL || strstr(baseline, s) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct discord_url u;
	struct err e = { 0 };
	char *url = fuzz_str(data, size), *tok;
	enum mc_err rc;
	size_t n, i;

	if (baseline == NULL) {
		discord_url_parse("", &u, &e);
		discord_url_free(&u);
		baseline = xstrdup(e.msg);
		memset(&e, 0, sizeof e);
	}
	rc = discord_url_parse(url, &u, &e);
	if (rc == MC_OK) {
		n = strlen(u.id);
		FUZZ_CHECK(n >= 17 && n <= 20 && strspn(u.id, "0123456789") == n);
		FUZZ_CHECK(u.token != NULL && u.base != NULL);
		n = strlen(u.token);
		FUZZ_CHECK(n > 0 && n <= 200);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    u.token[i]) != NULL);
		FUZZ_CHECK(strlen(u.base) >= n && strcmp(u.base + strlen(u.base) - n, u.token) == 0);
		/* A loopback URL is kept as typed: the scheme in any case. */
		FUZZ_CHECK(strncasecmp(u.base, "https://", 8) == 0 || strncasecmp(u.base, "http://", 7) == 0);
		if (u.thread_id != NULL)
			FUZZ_CHECK(*u.thread_id && strspn(u.thread_id, "0123456789") == strlen(u.thread_id));
	} else {
		fuzz_check_err(&e, rc);
		FUZZ_CHECK(rc == MC_ERR_CONFIG);
		FUZZ_CHECK(u.token == NULL && u.base == NULL && u.thread_id == NULL);
		tok = token_part(url);
		if (tok != NULL && !innocent(tok) && strstr(e.msg, tok) != NULL)
			fprintf(stderr, "token part %s in: %s\n", tok, e.msg);
		FUZZ_CHECK(tok == NULL || innocent(tok) || strstr(e.msg, tok) == NULL);
		free(tok);
		FUZZ_CHECK(innocent(url) || strstr(e.msg, url) == NULL);
	}
	discord_url_free(&u);
	free(url);
	return 0;
}
