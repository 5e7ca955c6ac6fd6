#include "render.h"
#include "route.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "url.h"

/* Discord's limits, in code points: it refuses a body with a longer
 * field (400, "Must be 2000 or fewer in length"). */
enum {
	LIM_CONTENT = 2000,
	LIM_TITLE = 256,
	LIM_DESCRIPTION = 4096,
	LIM_FOOTER = 2048,
	LIM_EMBED_TOTAL = 6000,
	LIM_USERNAME = 80,
	/* Ping parts: role, name, course and link always fit in 2000. */
	PING_NAME = 600,
	PING_COURSE = 600,
	PING_URL = 512,
	EMBED_URL = 2048
};

#define ZWSP 0x200bu
#define ELLIPSIS 0x2026u

struct cps {
	uint32_t *v;
	size_t n, cap;
};

static void
cps_push(struct cps *c, uint32_t cp)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = cp;
}


static int
is_space(uint32_t cp)
{
	/* C0 and C1 controls, DEL, the Unicode line and paragraph separators. */
	return cp <= 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    cp == 0x2028 || cp == 0x2029;
}

/* Unicode's invisible format characters (category Cf): bidi embeddings,
 * overrides, isolates and marks, zero-width spaces and joiners, the BOM,
 * the soft hyphen, tags and the like.  Shown nowhere, they let a name
 * read as something else (U+202E turns "gnp.exe" around): dropped. */
static int
is_format(uint32_t cp)
{
	return cp == 0xad || (cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd ||
	    cp == 0x70f || cp == 0x890 || cp == 0x891 || cp == 0x8e2 || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206f) || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0x110bd || cp == 0x110cd ||
	    (cp >= 0x13430 && cp <= 0x1343f) || (cp >= 0x1bca0 && cp <= 0x1bca3) ||
	    (cp >= 0x1d173 && cp <= 0x1d17a) || cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f);
}

/* text as code points: repaired, format characters dropped, white space
 * collapsed and trimmed. */
static void
normalize(const char *text, struct cps *out)
{
	size_t n = text ? strlen(text) : 0, i = 0;

	while (i < n) {
		uint32_t cp = utf8_next(text, n, &i);

		if (is_format(cp))
			continue;
		if (is_space(cp)) {
			if (out->n == 0 || out->v[out->n - 1] == ' ')
				continue;
			cp = ' ';
		}
		cps_push(out, cp);
	}
	while (out->n > 0 && out->v[out->n - 1] == ' ')
		out->n--;
}

static int
word_at(const struct cps *c, size_t k, const char *w)
{
	size_t j;

	for (j = 0; w[j]; j++) {
		uint32_t cp;

		if (k + j >= c->n)
			return 0;
		cp = c->v[k + j];
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (cp != (unsigned char)w[j])
			return 0;
	}
	return 1;
}

/* What code point k becomes: up to two code points in piece[], returns
 * how many. */
static size_t
piece_of(const struct cps *c, size_t k, int markdown, uint32_t piece[2])
{
	uint32_t cp = c->v[k];

	piece[0] = cp;
	if (markdown && cp < 0x80 && strchr("\\*_~|`>#[]()", (int)cp) != NULL) {
		piece[0] = '\\';
		piece[1] = cp;
		return 2;
	}
	if (cp == '@' && (word_at(c, k + 1, "everyone") || word_at(c, k + 1, "here"))) {
		piece[1] = ZWSP;
		return 2;
	}
	if (cp == '<' && k + 1 < c->n && (c->v[k + 1] == '@' || c->v[k + 1] == '#')) {
		piece[1] = ZWSP;
		return 2;
	}
	return 1;
}

/* Append the safe form of text to b, at most max code points; returns the
 * number of code points appended. */
static size_t
add_text(struct buf *b, const char *text, int markdown, size_t max)
{
	struct cps c = { 0 };
	uint32_t piece[2];
	size_t k, total = 0, used = 0, budget, j, np;

	if (max == 0)
		return 0;
	normalize(text, &c);
	for (k = 0; k < c.n; k++)
		total += piece_of(&c, k, markdown, piece);
	budget = total <= max ? total : max - 1;
	for (k = 0; k < c.n; k++) {
		np = piece_of(&c, k, markdown, piece);
		if (used + np > budget)
			break;
		for (j = 0; j < np; j++)
			buf_add_cp(b, piece[j]);
		used += np;
	}
	if (total > max) {
		/* Cut: no space left dangling before the mark. */
		while (used > 0 && b->len > 0 && b->data[b->len - 1] == ' ') {
			b->data[--b->len] = '\0';
			used--;
		}
		buf_add_cp(b, ELLIPSIS);
		used++;
	}
	free(c.v);
	return used;
}

char *
render_text(const char *text, int markdown, size_t max)
{
	struct buf b = { 0 };

	add_text(&b, text, markdown, max);
	return buf_take(&b);
}

/* A link Discord accepts as is: http(s), printable ASCII, no characters
 * that end a <link> or need quoting. */
static int
url_ok(const char *u, size_t max)
{
	size_t n;

	if (u == NULL)
		return 0;
	n = strlen(u);
	if (n > max)
		return 0;
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	if (n <= 8)
		return 0;
	for (; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || strchr("<>\"\\`", *u) != NULL)
			return 0;
	return 1;
}

/* A role to mention: a Discord id, else none. */
static int
role_ok(const char *r)
{
	return r != NULL && snowflake_valid(r);
}

static void
add_string(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void
add_username(json_object *root, const struct render_opts *o)
{
	char *u;

	if (o == NULL || o->username == NULL || *o->username == '\0')
		return;
	u = render_text(o->username, 0, LIM_USERNAME);
	if (*u != '\0')
		add_string(root, "username", u);
	free(u);
}

static json_object *
mentions(const char *role)
{
	json_object *am = json_object_new_object();

	json_object_object_add(am, "parse", json_object_new_array());
	if (role != NULL) {
		json_object *roles = json_object_new_array();

		json_object_array_add(roles, json_object_new_string(role));
		json_object_object_add(am, "roles", roles);
	}
	return am;
}

static char *
finish(json_object *root)
{
	char *s = xstrdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(root);
	return s;
}

/* The conference message as a JSON object; closed: a word that opens
 * its description (NULL = none). */
static json_object *
conference(const struct event *ev, const struct render_opts *o, const char *closed)
{
	json_object *root = json_object_new_object();
	json_object *embeds = json_object_new_array();
	json_object *embed = json_object_new_object();
	struct buf title = { 0 }, desc = { 0 }, footer = { 0 };
	char when[64], iso[40];
	size_t ntitle, ndesc, nfooter, fixed;
	time_t t = (time_t)ev->start;
	struct tm tm;

	ntitle = add_text(&title, ev->name, 0, LIM_TITLE);
	if (ntitle == 0)
		ntitle = add_text(&title, "Conference", 0, LIM_TITLE);

	snprintf(when, sizeof when, "<t:%" PRId64 ":F> (<t:%" PRId64 ":R>)", ev->start, ev->start);
	fixed = strlen(when);
	if (closed != NULL) {
		buf_addf(&desc, "**%s**\n", closed);
		fixed += strlen(closed) + 5;
	}
	buf_adds(&desc, "**");
	if (add_text(&desc, ev->course_name, 1, LIM_DESCRIPTION - fixed - 5) == 0)
		desc.len = closed != NULL ? strlen(closed) + 5 : 0;
	else
		buf_adds(&desc, "**\n");
	buf_adds(&desc, when);
	ndesc = utf8_count(desc.data);

	/* The footer gets what the 6000 of the whole embed leaves. */
	nfooter = LIM_EMBED_TOTAL - ntitle - ndesc;
	if (nfooter > LIM_FOOTER)
		nfooter = LIM_FOOTER;
	add_text(&footer, ev->site_name, 0, nfooter);

	add_string(embed, "title", title.data);
	if (url_ok(ev->url, EMBED_URL))
		add_string(embed, "url", ev->url);
	add_string(embed, "description", desc.data);
	if (footer.len > 0) {
		json_object *f = json_object_new_object();

		add_string(f, "text", footer.data);
		json_object_object_add(embed, "footer", f);
	}
	/* Years 1970 to 9999: what ISO 8601 in four digits can say. */
	if (ev->start >= 0 && ev->start <= INT64_C(253402300799) && gmtime_r(&t, &tm) != NULL &&
	    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S+00:00", &tm) > 0)
		add_string(embed, "timestamp", iso);
	json_object_array_add(embeds, embed);

	add_username(root, o);
	json_object_object_add(root, "embeds", embeds);
	json_object_object_add(root, "allowed_mentions", mentions(NULL));
	buf_free(&title);
	buf_free(&desc);
	buf_free(&footer);
	return root;
}

char *
render_conference(const struct event *ev, const struct render_opts *o)
{
	return finish(conference(ev, o, NULL));
}

char *
render_conference_closed(const struct event *ev, const struct render_opts *o, const char *word)
{
	return finish(conference(ev, o, word));
}

char *
render_conference_post(const struct event *ev, const struct render_opts *o)
{
	json_object *root = conference(ev, o, NULL);
	size_t i;

	if (o != NULL && o->silent)
		json_object_object_add(root, "flags", json_object_new_int(RENDER_FLAG_SILENT));
	if (o != NULL && o->forum) {
		char *name = route_thread_name(ev->course_short, ev->name);

		add_string(root, "thread_name", name);
		free(name);
		if (o->ntags > 0) {
			json_object *tags = json_object_new_array();

			for (i = 0; i < o->ntags; i++)
				json_object_array_add(tags, json_object_new_string(o->tags[i]));
			json_object_object_add(root, "applied_tags", tags);
		}
	}
	return finish(root);
}

char *
render_ping(const struct event *ev, const struct render_opts *o, int64_t now)
{
	json_object *root = json_object_new_object();
	const char *role = o != NULL && role_ok(o->role_id) ? o->role_id : NULL;
	struct buf c = { 0 };
	size_t mark;

	if (role != NULL)
		buf_addf(&c, "<@&%s> ", role);
	buf_adds(&c, "**");
	mark = c.len;
	add_text(&c, ev->name, 1, PING_NAME);
	if (c.len == mark)
		buf_adds(&c, "Conference");
	buf_adds(&c, "**");
	mark = c.len;
	buf_adds(&c, " (");
	if (add_text(&c, ev->course_name, 1, PING_COURSE) == 0) {
		c.len = mark;
		c.data[c.len] = '\0';
	} else {
		buf_adds(&c, ")");
	}
	buf_addf(&c, " %s <t:%" PRId64 ":R>", now >= ev->start ? "started" : "starts", ev->start);
	if (url_ok(ev->url, PING_URL))
		buf_addf(&c, ": <%s>", ev->url);

	add_username(root, o);
	add_string(root, "content", c.data);
	json_object_object_add(root, "allowed_mentions", mentions(role));
	buf_free(&c);
	return finish(root);
}

void
render_hash(const char *body, char out[17])
{
	uint64_t h = 0xcbf29ce484222325u;
	const unsigned char *p;

	for (p = (const unsigned char *)body; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3u;
	}
	snprintf(out, 17, "%016" PRIx64, h);
}
