/* render: the JSON bodies of the Discord messages.
 *
 * Text from Moodle is untrusted: every string is made valid UTF-8 (bad
 * bytes become U+FFFD), control characters and runs of white space become
 * one space, @everyone/@here and <@...>/<@&...>/<#...> are broken with a
 * zero-width space so they neither ping nor show as mentions, and where
 * Discord renders Markdown (content, embed description) the characters
 * \ * _ ~ | ` > # [ ] ( ) are escaped with a backslash.  Every field is cut
 * to Discord's limits counted in code points (content 2000, title 256,
 * description 4096, footer 2048, embed text 6000 in all), at a code point
 * boundary, marked with "…".  Every body carries allowed_mentions.
 * The output of the same input is byte for byte the same (render_hash). */
#ifndef MC_RENDER_H
#define MC_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct render_opts {
	const char *role_id;   /* role to ping (digits), NULL or "" = none  */
	const char *username;  /* name shown on messages, NULL or "" = the webhook's */
};

/* The conference message: one embed whose title is ev->name linked to
 * ev->url, description "**course name**\n<t:START:F> (<t:START:R>)",
 * footer ev->site_name, timestamp the start in ISO 8601 UTC, and
 * allowed_mentions {"parse": []}.  A URL that is not plain http(s) is
 * left out.  o may be NULL.  Returns a new string; caller frees. */
char *render_conference(const struct event *ev, const struct render_opts *o);

/* The ping message: content "<@&ROLE> **name** (course) starts <t:START:R>
 * <url>" ("started" when now >= start), allowed_mentions
 * {"parse": [], "roles": ["ROLE"]} (no "roles" without a role; a role_id
 * that is not a Discord id (snowflake_valid) counts as none).  Returns a new string; caller
 * frees. */
char *render_ping(const struct event *ev, const struct render_opts *o, int64_t now);

/* FNV-1a 64 of body as 16 lowercase hex digits and a NUL. */
void render_hash(const char *body, char out[17]);

/* The safe form of text for one Discord field (exposed for tests):
 * markdown = 1 where Markdown renders; at most max code points (>= 1).
 * Returns a new string; caller frees. */
char *render_text(const char *text, int markdown, size_t max);

#endif
