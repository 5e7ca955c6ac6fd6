/* util: allocation that cannot fail, the error record every module fills,
 * a growable string, integers and UTF-8.  Secrets live in secret.h. */
#ifndef MC_UTIL_H
#define MC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong, as a kind.  Library code returns one of these; cmd/
 * alone maps a kind to an exit status (cmd/moodlecord.c: exit_status()). */
enum mc_err {
	MC_OK = 0,
	MC_ERR_USAGE,       /* bad command line                                 */
	MC_ERR_DATA,        /* an answer that cannot be read                     */
	MC_ERR_UNAVAILABLE, /* service down after retries, function missing     */
	MC_ERR_IO,          /* state file cannot be read or written              */
	MC_ERR_TEMP,        /* network, timeout, maintenance, deadline, ban      */
	MC_ERR_AUTH,        /* Moodle login or token refused                     */
	MC_ERR_CONFIG,      /* config invalid; webhook gone or token wrong       */
	MC_ERR_NOTFOUND,    /* the thing asked for does not exist (caller decides) */
	MC_ERR_BUSY         /* another run holds the lock (not a failure)        */
};

/* The error record: a kind and one line for the user, never holding a
 * secret.  Owned by the caller, usually on its stack. */
struct err {
	enum mc_err kind;
	char msg[1024];
};

/* Set e (when not NULL) to kind and the formatted message; returns kind so
 * callers can write `return err_set(e, MC_ERR_IO, "...")`. */
enum mc_err err_set(struct err *e, enum mc_err kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix e->msg with the formatted text (e.g. "state: "); returns e->kind. */
enum mc_err err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation: on failure these print one line and exit 71 (EX_OSERR); the
 * only place outside cmd/ allowed to do so. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* A growable NUL-terminated byte string. */
struct buf {
	char *data;        /* always NUL-terminated once anything is added */
	size_t len, cap;
};
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* Hand the string over to the caller (never NULL); b is left empty. */
char *buf_take(struct buf *b);

/* Parse a whole decimal integer in [min, max]; 0 on success, -1 otherwise. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Big-endian 8-byte encoding of LMDB keys. */
void be64_put(unsigned char out[8], uint64_t v);
uint64_t be64_get(const unsigned char in[8]);

/* Is s valid UTF-8 (no overlong forms, no surrogates)? */
int utf8_valid(const char *s, size_t n);
/* The code point at s[*i] (i < n), advancing *i past it; a byte that does
 * not start a valid sequence gives U+FFFD and is skipped alone. */
uint32_t utf8_next(const char *s, size_t n, size_t *i);
/* Append cp as UTF-8; NUL, surrogates and values past U+10FFFF become
 * U+FFFD. */
void buf_add_cp(struct buf *b, uint32_t cp);
/* The number of code points of the NUL-terminated UTF-8 string s (what
 * Discord counts its limits in); a byte that is not UTF-8 counts as one. */
size_t utf8_count(const char *s);
/* s[0..n) with every invalid byte and every NUL replaced by U+FFFD: a new
 * string, caller frees. */
char *utf8_repair(const char *s, size_t n);

#endif
