#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* Keep a message one line of valid UTF-8 whatever it quotes (a Moodle
 * error code, a config file's section name) and wherever vsnprintf cut
 * it: control characters become spaces, bytes that are not UTF-8 '?'. */
static void
err_clean(char *msg)
{
	size_t n = strlen(msg), i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)msg[i];
		size_t k = i;

		if (c < 0x20 || c == 0x7f) {
			msg[i++] = ' ';
			continue;
		}
		utf8_next(msg, n, &k);
		if (k - i == 1 && c >= 0x80)
			msg[i] = '?';
		i = k;
	}
}

enum mc_err
err_set(struct err *e, enum mc_err kind, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return kind;
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	err_clean(e->msg);
	return kind;
}

enum mc_err
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof e->msg];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	n = strlen(pre);
	if (n >= sizeof e->msg)
		n = sizeof e->msg - 1;
	memcpy(e->msg, pre, n);
	/* Cut the old message to what still fits. */
	memcpy(e->msg + n, old, sizeof e->msg - n - 1);
	e->msg[sizeof e->msg - 1] = '\0';
	err_clean(e->msg);
	return e->kind;
}

/* The one exit outside cmd/ (STYLE: an allocator that cannot return
 * NULL).  write(2): no allocation, no stdio locks. */
static void
oom(void)
{
	static const char m[] = "moodlecord: out of memory\n";
	ssize_t unused = write(STDERR_FILENO, m, sizeof m - 1);

	(void)unused;
	_exit(EX_OSERR);  /* xmalloc & co. never return NULL */
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_adds(b, s);
	free(s);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_take(struct buf *b)
{
	char *s;

	if (b->data == NULL)
		buf_add(b, "", 0);
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

void
be64_put(unsigned char out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t
be64_get(const unsigned char in[8])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

/* The length of the valid UTF-8 sequence at s[i] (its code point in *cp),
 * or 0 when the bytes there are not one. */
static size_t
utf8_decode(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
	unsigned char c = s[i];
	size_t len, k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2;
		v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (i + len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i + k] & 0x3f);
	}
	if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

int
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = utf8_decode(s, n, i, &cp);
		if (len == 0)
			return 0;
		i += len;
	}
	return 1;
}

uint32_t
utf8_next(const char *str, size_t n, size_t *i)
{
	uint32_t cp;
	size_t len = utf8_decode((const unsigned char *)str, n, *i, &cp);

	if (len == 0) {
		(*i)++;
		return 0xfffd;
	}
	*i += len;
	return cp;
}

void
buf_add_cp(struct buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, u, n);
}

size_t
utf8_count(const char *s)
{
	size_t n = strlen(s), i = 0, count = 0;

	while (i < n) {
		utf8_next(s, n, &i);
		count++;
	}
	return count;
}

char *
utf8_repair(const char *s, size_t n)
{
	struct buf b = { 0 };
	size_t i = 0;

	while (i < n) {
		size_t at = i;
		uint32_t cp = utf8_next(s, n, &i);

		if (cp == 0xfffd || cp == 0)
			buf_add_cp(&b, 0xfffd);
		else
			buf_add(&b, s + at, i - at);
	}
	return buf_take(&b);
}
