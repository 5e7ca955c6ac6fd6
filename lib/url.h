/* url: the rules about URLs and Discord ids that the config checks, the
 * Discord client and the renderer share, each written once. */
#ifndef MC_URL_H
#define MC_URL_H

#include <stddef.h>

/* Is host[0..n) a loopback host: localhost, [::1], or a dotted IPv4
 * address 127.a.b.c with every part at most 255 (no leading sign, at most
 * 3 digits a part)?  http:// (and any port) is allowed only for these:
 * they are the test servers. */
int url_is_loopback(const char *host, size_t n);

/* The length of s[0..n) without its trailing slashes. */
size_t url_trim_slashes(const char *s, size_t n);

/* What is wrong with the http(s) URL u, NULL when nothing: no spaces or
 * control characters, https:// (http:// for a loopback host), no user
 * name or password, a host, a port of 1 to 65535 when given; site_root: no
 * ?query or #fragment either.  The answer never quotes u, which may hold
 * a secret. */
const char *url_problem(const char *u, int site_root);

/* The problem url_problem returns for a URL without http(s)://, so a
 * caller can add an example. */
extern const char url_no_scheme[];

/* Is s a Discord id (a snowflake: a message, channel, thread, role or
 * webhook id)?  17 to 20 decimal digits: ids are 64-bit numbers that
 * carry the time since 2015 in their high bits, so every id made since
 * Discord's first year has at least 17 digits. */
int snowflake_valid(const char *s);

#endif
