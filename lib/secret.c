#include "secret.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A quote looks at no more of an answer than this. */
#define QUOTE_WINDOW 4096
/* The shortest piece of a secret that is hidden on its own. */
#define PIECE_MIN 4

void
secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
secret_free(char *s)
{
	if (s != NULL) {
		secret_wipe(s, strlen(s));
		free(s);
	}
}

void
secret_buf_free(struct buf *b)
{
	secret_wipe(b->data, b->cap);
	buf_free(b);
}

static void
add(struct secrets *s, const char *secret, int whole)
{
	if (secret == NULL || *secret == '\0')
		return;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n].v = xstrdup(secret);
	s->v[s->n].whole = whole;
	s->n++;
}

void
secrets_add(struct secrets *s, const char *secret)
{
	add(s, secret, 0);
}

void
secrets_add_whole(struct secrets *s, const char *secret)
{
	add(s, secret, 1);
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		secret_free(s->v[i].v);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* ---- views: the text decoded one way, each byte knowing its source ---- */

/* A decoded byte and the span [from, to) of the original text it came
 * from: hiding it hides that span. */
struct unit {
	unsigned char c;
	size_t from, to;
};

struct view {
	struct unit *u;
	size_t n, cap;
};

static void
put(struct view *v, unsigned char c, size_t from, size_t to)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->u = xrealloc(v->u, v->cap * sizeof *v->u);
	}
	v->u[v->n].c = c;
	v->u[v->n].from = from;
	v->u[v->n].to = to;
	v->n++;
}

/* Code point cp as UTF-8 units, all from the span of in[a..b). */
static void
put_cp(struct view *out, const struct view *in, size_t a, size_t b, uint32_t cp)
{
	struct buf tmp = { 0 };
	size_t i;

	buf_add_cp(&tmp, cp);
	for (i = 0; i < tmp.len; i++)
		put(out, (unsigned char)tmp.data[i], in->u[a].from, in->u[b - 1].to);
	buf_free(&tmp);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The hex number of in[at..at+n), -1 when not one. */
static long
hexnum(const struct view *in, size_t at, size_t n)
{
	long v = 0;
	size_t i;

	if (at + n > in->n)
		return -1;
	for (i = 0; i < n; i++) {
		int d = hexval(in->u[at + i].c);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static void
view_raw(const char *t, size_t n, struct view *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		put(out, (unsigned char)t[i], i, i + 1);
}

/* %XX (either case) and '+' for a space. */
static void
view_percent(const struct view *in, struct view *out)
{
	size_t i = 0;

	while (i < in->n) {
		long v = in->u[i].c == '%' ? hexnum(in, i + 1, 2) : -1;

		if (v >= 0) {
			put(out, (unsigned char)v, in->u[i].from, in->u[i + 2].to);
			i += 3;
		} else {
			put(out, in->u[i].c == '+' ? ' ' : in->u[i].c, in->u[i].from, in->u[i].to);
			i++;
		}
	}
}

/* JSON string escapes: \" \\ \/ \b \f \n \r \t and \uXXXX (a surrogate
 * pair as one code point). */
static void
view_json(const struct view *in, struct view *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t i = 0;

	while (i < in->n) {
		const char *k;
		long cp, lo;

		if (in->u[i].c != '\\' || i + 1 >= in->n) {
			put(out, in->u[i].c, in->u[i].from, in->u[i].to);
			i++;
			continue;
		}
		k = in->u[i + 1].c ? strchr(from, in->u[i + 1].c) : NULL;
		if (k != NULL) {
			put(out, (unsigned char)to[k - from], in->u[i].from, in->u[i + 1].to);
			i += 2;
			continue;
		}
		cp = in->u[i + 1].c == 'u' ? hexnum(in, i + 2, 4) : -1;
		if (cp < 0) {
			put(out, in->u[i].c, in->u[i].from, in->u[i].to);
			i++;
			continue;
		}
		lo = -1;
		if (cp >= 0xd800 && cp <= 0xdbff && i + 12 <= in->n &&
		    in->u[i + 6].c == '\\' && in->u[i + 7].c == 'u')
			lo = hexnum(in, i + 8, 4);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			put_cp(out, in, i, i + 12,
			    (uint32_t)(0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00)));
			i += 12;
			continue;
		}
		put_cp(out, in, i, i + 6, (uint32_t)cp);
		i += 6;
	}
}

/* HTML character references: the five named ones PHP's htmlspecialchars
 * writes, &#NNN; and &#xHH;. */
static void
view_html(const struct view *in, struct view *out)
{
	static const struct { const char *name; unsigned char c; } named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		{ "apos;", '\'' }, { "#39;", '\'' },
	};
	size_t i = 0, k, j, len;

	while (i < in->n) {
		uint32_t cp = 0;

		if (in->u[i].c != '&')
			goto plain;
		for (k = 0; k < sizeof named / sizeof named[0]; k++) {
			len = strlen(named[k].name);
			for (j = 0; j < len && i + 1 + j < in->n; j++)
				if (in->u[i + 1 + j].c != (unsigned char)named[k].name[j])
					break;
			if (j == len) {
				put(out, named[k].c, in->u[i].from, in->u[i + len].to);
				i += 1 + len;
				break;
			}
		}
		if (k < sizeof named / sizeof named[0])
			continue;
		if (i + 3 >= in->n || in->u[i + 1].c != '#')
			goto plain;
		j = i + 2;
		if (in->u[j].c == 'x' || in->u[j].c == 'X') {
			for (j++; j < in->n && j < i + 11 && hexval(in->u[j].c) >= 0; j++)
				cp = cp * 16 + (uint32_t)hexval(in->u[j].c);
			if (j == i + 3)
				goto plain;
		} else {
			for (; j < in->n && j < i + 10 && in->u[j].c >= '0' && in->u[j].c <= '9'; j++)
				cp = cp * 10 + (uint32_t)(in->u[j].c - '0');
			if (j == i + 2)
				goto plain;
		}
		if (j >= in->n || in->u[j].c != ';')
			goto plain;
		put_cp(out, in, i, j + 1, cp);
		i = j + 1;
		continue;
plain:
		put(out, in->u[i].c, in->u[i].from, in->u[i].to);
		i++;
	}
}

/* ---- finding ---------------------------------------------------------- */

static void
hide_units(const struct view *v, size_t at, size_t n, unsigned char *hide)
{
	size_t k, o;

	for (k = at; k < at + n; k++)
		for (o = v->u[k].from; o < v->u[k].to; o++)
			hide[o] = 1;
}

/* Mark in hide[] the source of every whole occurrence of sec in v, or
 * (pieces) of every run of PIECE_MIN or more bytes that sec also holds. */
static void
find(const struct view *v, const char *sec, int pieces, unsigned char *hide)
{
	size_t n = strlen(sec), i, j, l;

	if (n < 3)
		return;
	if (!pieces || n < PIECE_MIN) {
		for (i = 0; i + n <= v->n; i++) {
			for (l = 0; l < n && v->u[i + l].c == (unsigned char)sec[l]; l++)
				;
			if (l == n)
				hide_units(v, i, n, hide);
		}
		return;
	}
	for (i = 0; i + PIECE_MIN <= v->n; i++) {
		size_t best = 0;

		for (j = 0; j + PIECE_MIN <= n; j++) {
			if (v->u[i].c != (unsigned char)sec[j])
				continue;
			for (l = 1; j + l < n && i + l < v->n && v->u[i + l].c == (unsigned char)sec[j + l]; l++)
				;
			if (l > best)
				best = l;
		}
		if (best >= PIECE_MIN)
			hide_units(v, i, best, hide);
	}
}

/* text[0..n) with what the secrets hold replaced by "***" (NULs kept). */
static void
hide_in(const struct secrets *s, const char *text, size_t n, int pieces, struct buf *out)
{
	struct view v[5] = { { 0 } };
	unsigned char *hide;
	size_t i, k;

	if (s == NULL || s->n == 0) {
		buf_add(out, text, n);
		return;
	}
	hide = xcalloc(n + 1, 1);
	view_raw(text, n, &v[0]);
	view_percent(&v[0], &v[1]);
	view_json(&v[0], &v[2]);
	view_html(&v[0], &v[3]);
	view_percent(&v[3], &v[4]);
	for (i = 0; i < s->n; i++)
		for (k = 0; k < 5; k++)
			find(&v[k], s->v[i].v, pieces && !s->v[i].whole, hide);
	for (i = 0; i < n; ) {
		if (!hide[i]) {
			buf_add(out, text + i, 1);
			i++;
			continue;
		}
		buf_adds(out, "***");
		while (i < n && hide[i])
			i++;
	}
	for (k = 0; k < 5; k++) {
		/* decoded copies of the text hold the secrets too */
		secret_wipe(v[k].u, v[k].cap * sizeof *v[k].u);
		free(v[k].u);
	}
	free(hide);
}

char *
secrets_redact(const struct secrets *s, const char *text)
{
	struct buf b = { 0 };

	if (text == NULL)
		return xstrdup("");
	hide_in(s, text, strlen(text), 0, &b);
	return buf_take(&b);
}

char *
secrets_quote(const struct secrets *s, const char *text, size_t len, size_t max_chars)
{
	struct buf hidden = { 0 }, b = { 0 };
	size_t window = len < QUOTE_WINDOW ? len : QUOTE_WINDOW, i = 0, chars = 0, n;
	char *clean;

	if (text == NULL)
		return xstrdup("");
	/* Hide first, then cut: a cut secret is no longer a whole one. */
	hide_in(s, text, window, 1, &hidden);
	clean = utf8_repair(hidden.data ? hidden.data : "", hidden.len);
	secret_buf_free(&hidden);
	n = strlen(clean);
	while (clean[i] != '\0' && chars < max_chars) {
		size_t at = i;

		utf8_next(clean, n, &i);
		if ((unsigned char)clean[at] < 0x20 || clean[at] == 0x7f)
			buf_add(&b, " ", 1);
		else
			buf_add(&b, clean + at, i - at);
		chars++;
	}
	if (clean[i] != '\0' || window < len)
		buf_adds(&b, "...");
	free(clean);
	return buf_take(&b);
}
