/* route: the route of a conference and the name of its forum post; the
 * rules are in route.h. */
#include "route.h"

#include <stdlib.h>
#include <string.h>

enum mc_err
route_name_check(const char *name, struct err *e)
{
	size_t i, n = strlen(name);

	if (n == 0)
		return err_set(e, MC_ERR_CONFIG, "a route needs a name: [route NAME]");
	if (n > ROUTE_NAME_MAX)
		return err_set(e, MC_ERR_CONFIG, "a route's name is at most %d characters", ROUTE_NAME_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return err_set(e, MC_ERR_CONFIG,
			    "a route's name is made of letters, digits, '-', '_' and '.'");
	}
	return MC_OK;
}

void
route_courses_free(struct route_courses *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

enum mc_err
route_courses_parse(const char *text, struct route_courses *out, struct err *e)
{
	const char *p = text;
	size_t i;

	memset(out, 0, sizeof *out);
	for (;;) {
		size_t n = strcspn(p, ",");
		const char *q = p;
		char *entry;

		while (n > 0 && is_blank(*q)) {
			q++;
			n--;
		}
		while (n > 0 && is_blank(q[n - 1]))
			n--;
		if (n == 0) {
			route_courses_free(out);
			return err_set(e, MC_ERR_CONFIG,
			    "a list of course short names or ids is expected, e.g. RM101, NET210");
		}
		entry = xstrndup(q, n);
		for (i = 0; i < out->n; i++) {
			if (strcmp(out->v[i], entry) == 0) {
				err_set(e, MC_ERR_CONFIG, "course '%s' is given twice", entry);
				free(entry);
				route_courses_free(out);
				return MC_ERR_CONFIG;
			}
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = entry;
		p = strchr(p, ',');
		if (p == NULL)
			return MC_OK;
		p++;
	}
}

int
route_entry_matches(const char *entry, int64_t course_id, const char *course_short)
{
	int64_t id;

	if (course_short != NULL && strcmp(entry, course_short) == 0)
		return 1;
	return entry[strspn(entry, "0123456789")] == '\0' &&
	    parse_int64(entry, 1, INT64_MAX, &id) == 0 && id == course_id;
}

int
route_courses_hold(const struct route_courses *c, int64_t course_id, const char *course_short)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (route_entry_matches(c->v[i], course_id, course_short))
			return 1;
	return 0;
}

long
route_pick(const struct route_courses *const *routes, size_t n, int has_default,
    int64_t course_id, const char *course_short)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (route_courses_hold(routes[i], course_id, course_short))
			return (long)i;
	return has_default ? ROUTE_DEFAULT : ROUTE_NONE;
}

/* Append s with control characters as spaces, runs of spaces as one,
 * none at either end. */
static void
add_clean(struct buf *b, const char *s)
{
	int pending = 0, any = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7f) {
			pending = any;
			continue;
		}
		if (pending)
			buf_add(b, " ", 1);
		buf_add(b, s, 1);
		pending = 0;
		any = 1;
	}
}

char *
route_thread_name(const char *course_short, const char *name)
{
	static const char ellipsis[] = "\xe2\x80\xa6";  /* U+2026 */
	struct buf b = { 0 };
	size_t i = 0, cps = 0, cut = 0, space = 0, space_cps = 0, start, len;
	char *s;

	add_clean(&b, course_short != NULL ? course_short : "");
	if (b.len > 0) {
		start = b.len;
		buf_adds(&b, " \xc2\xb7 ");  /* " · " */
		add_clean(&b, name != NULL ? name : "");
		if (b.len == start + 4) {  /* no name: no separator */
			b.len = start;
			b.data[start] = '\0';
		}
	} else {
		add_clean(&b, name != NULL ? name : "");
	}
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup("?");
	}
	len = b.len;
	s = buf_take(&b);
	/* Walk the code points: where the 99th ends, and the last space
	 * before it. */
	while (i < len) {
		if (s[i] == ' ' && cps < ROUTE_THREAD_NAME_MAX) {
			space = i;
			space_cps = cps;
		}
		utf8_next(s, len, &i);
		cps++;
		if (cps == ROUTE_THREAD_NAME_MAX - 1)
			cut = i;
	}
	if (cps <= ROUTE_THREAD_NAME_MAX)
		return s;
	/* Cut at a word when that keeps at least half of the room; a
	 * single long word is cut inside. */
	if (space_cps >= ROUTE_THREAD_NAME_MAX / 2 && space < cut)
		cut = space;
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	/* Never end on the separator. */
	if (cut >= 3 && memcmp(s + cut - 2, "\xc2\xb7", 2) == 0 && s[cut - 3] == ' ')
		cut -= 3;
	s = xrealloc(s, cut + sizeof ellipsis);
	memcpy(s + cut, ellipsis, sizeof ellipsis);
	return s;
}
