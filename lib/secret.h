/* secret: the one place that knows the run's secrets (passwords, Moodle
 * tokens, webhook tokens and URLs) and how to hide them.
 *
 * Wiping: every buffer that held a secret is cleared with explicit_bzero
 * before it is freed, through the helpers below, so the compiler cannot
 * drop the clearing as a dead store.
 *
 * Hiding: a secret is found in every form it takes in text that reaches a
 * person: as written, percent-encoded (either case of hex digits, '+' for
 * a space: form bodies and query strings), JSON-escaped (PHP writes "\/"
 * and "\uXXXX" for every non-ASCII character), HTML-escaped (&amp;, &#64;,
 * &#x40;, ...) and HTML-escaped around percent-encoded (a page that
 * echoes the request it got).  Two strengths:
 *  - secrets_redact hides whole secrets: for lines moodlecord writes
 *    itself, which must keep their words (a webhook token "Hook-token"
 *    must not eat the word "token" in a message);
 *  - secrets_quote is for text a server sent: it hides every piece of 4 or
 *    more characters of a secret, and only then cuts the quote, so neither
 *    a secret cut at the end of the quote nor a piece of one is shown. */
#ifndef MC_SECRET_H
#define MC_SECRET_H

#include <stddef.h>

#include "util.h"

/* Clear n bytes at p in a way the compiler keeps (explicit_bzero). */
void secret_wipe(void *p, size_t n);

/* Wipe the string s (its length) and free it; NULL is fine. */
void secret_free(char *s);

/* Wipe all b->cap bytes of b, then buf_free it. */
void secret_buf_free(struct buf *b);

/* The secrets of a run.  Owned by whoever fills it; free with
 * secrets_free (which wipes every copy). */
struct secret {
	char *v;
	int whole;   /* hidden only whole, never by pieces (a webhook URL) */
};
struct secrets {
	struct secret *v;
	size_t n;
};

/* Add a copy of secret; NULL and "" are ignored.  Every piece of 4 or
 * more characters is hidden by secrets_quote; one of fewer than 4
 * characters only whole (and one of fewer than 3 not at all: it would
 * turn every message into stars). */
void secrets_add(struct secrets *s, const char *secret);

/* Add a copy of secret that is hidden only whole (in every encoding): a
 * webhook URL, whose pieces ("https", "/api/") are everywhere, while its
 * token is added alone with secrets_add. */
void secrets_add_whole(struct secrets *s, const char *secret);

/* text with every whole secret, in every encoding, replaced by "***".  s
 * may be NULL, text NULL gives "".  A new string, caller frees. */
char *secrets_redact(const struct secrets *s, const char *text);

/* A quote of what a server sent, for a message: the first max_chars
 * characters of text[0..len) after every piece of 4 or more characters of
 * a secret (every encoding) became "***"; invalid UTF-8 and NULs repaired,
 * control characters as spaces, "..." when cut.  Only the first 4 KiB of
 * text are looked at.  A new string, caller frees. */
char *secrets_quote(const struct secrets *s, const char *text, size_t len, size_t max_chars);

/* Wipe and free every secret; s is left empty and reusable. */
void secrets_free(struct secrets *s);

#endif
