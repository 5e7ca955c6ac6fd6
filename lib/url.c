#include "url.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int
url_is_loopback(const char *host, size_t len)
{
	unsigned part[4];
	size_t i = 0;
	int nparts = 0;

	if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0))
		return 1;
	while (nparts < 4) {
		size_t digits = 0;

		part[nparts] = 0;
		while (i < len && isdigit((unsigned char)host[i]) && digits < 4) {
			part[nparts] = part[nparts] * 10 + (unsigned)(host[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || part[nparts] > 255)
			return 0;
		nparts++;
		if (nparts < 4) {
			if (i >= len || host[i] != '.')
				return 0;
			i++;
		}
	}
	return i == len && part[0] == 127;
}

size_t
url_trim_slashes(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

/* The port after ':' at q, ending at end: 1 to 65535. */
static int
port_ok(const char *q, const char *end)
{
	size_t digits = strspn(q, "0123456789");
	int64_t port;
	char tmp[8];

	if (digits == 0 || digits > 5 || q + digits != end)
		return 0;
	memcpy(tmp, q, digits);
	tmp[digits] = '\0';
	return parse_int64(tmp, 1, 65535, &port) == 0;
}

const char url_no_scheme[] = "must start with https://";

const char *
url_problem(const char *u, int site_root)
{
	const char *p, *host, *hend;
	size_t alen;
	int https;

	for (p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "must not contain spaces or control characters";
	if (strncasecmp(u, "https://", 8) == 0)
		https = 1;
	else if (strncasecmp(u, "http://", 7) == 0)
		https = 0;
	else
		return url_no_scheme;
	host = u + (https ? 8 : 7);
	alen = strcspn(host, "/?#");
	if (memchr(host, '@', alen) != NULL)
		return "must not hold a user name or password; use the other keys";
	if (host[0] == '[') {
		hend = memchr(host, ']', alen);
		if (hend == NULL)
			return "has a bad host";
		hend++;
	} else {
		hend = host + strcspn(host, ":/?#");
	}
	if (hend == host)
		return "has no host";
	if (*hend == ':') {
		if (!port_ok(hend + 1, host + alen))
			return "has a bad port";
	} else if (hend != host + alen) {
		return "has a bad host";
	}
	if (!https && !url_is_loopback(host, (size_t)(hend - host)))
		return "http:// is only allowed for loopback hosts; use https://";
	if (site_root && strpbrk(host, "?#") != NULL)
		return "must be the site root, without ?query or #fragment";
	return NULL;
}

int
snowflake_valid(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return s[n] == '\0' && n >= 17 && n <= 20;
}
