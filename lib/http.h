/* http: one libcurl easy handle per host, reused; classified failures. */
#ifndef MC_HTTP_H
#define MC_HTTP_H

#include <stddef.h>

#include "util.h"

/* How a request failed, beyond the error kind. */
enum http_fail {
	HTTP_FAIL_NONE = 0,
	HTTP_FAIL_CONNECT,   /* could not connect: nothing was sent         */
	HTTP_FAIL_TIMEOUT,   /* timeout after the request may have been sent */
	HTTP_FAIL_LOST,      /* connection lost after sending, no answer     */
	HTTP_FAIL_TLS,       /* TLS handshake or certificate                 */
	HTTP_FAIL_TOOBIG,    /* answer over the size limit (not read whole)  */
	HTTP_FAIL_OTHER
};

struct http_response {
	long status;             /* HTTP status; 0 when no answer               */
	char *body;              /* NUL-terminated, may hold NULs before it     */
	size_t len;
	char *content_type;      /* NULL when absent */
	char *location;          /* NULL when absent */
	char *retry_after;       /* Retry-After */
	char *rl_limit;          /* X-RateLimit-Limit */
	char *rl_remaining;      /* X-RateLimit-Remaining */
	char *rl_reset;          /* X-RateLimit-Reset */
	char *rl_reset_after;    /* X-RateLimit-Reset-After */
	char *rl_bucket;         /* X-RateLimit-Bucket */
	char *rl_global;         /* X-RateLimit-Global */
	char *rl_scope;          /* X-RateLimit-Scope */
};

struct http_request {
	const char *method;       /* "GET", "POST", "PATCH", "DELETE"           */
	const char *url;          /* full URL                                   */
	const char *body;         /* NULL = no body                             */
	size_t body_len;
	const char *content_type; /* for the body                               */
	const char *user_agent;   /* NULL = "moodlecord/VERSION"                */
	const char *authorization;/* value of an Authorization header, NULL =
	                             none; a secret: its copy in the header list
	                             is wiped after the call                    */
	int fresh;                /* 1 = on a new connection, closed after: for
	                             a request that must not be sent twice
	                             (libcurl resends a request by itself when a
	                             reused connection closes before any answer) */
	size_t max_body;          /* answer size limit for this request; 0 = the
	                             client's */
};

struct http;  /* opaque: the handles of one run */

/* curl_global_init: call once from main before any http_new, and
 * http_global_cleanup at exit.  Returns MC_OK or MC_ERR_UNAVAILABLE. */
enum mc_err http_global_init(struct err *e);
void http_global_cleanup(void);

/* A client with the given timeouts in seconds and answer size limit in
 * bytes (0 = 16 MiB). */
struct http *http_new(long connect_timeout, long timeout, size_t max_body);
void http_free(struct http *h);

/* Send req and fill resp (the caller frees it with http_response_free).
 * Returns MC_OK whenever an HTTP answer of any status arrived (the caller
 * judges the status).  Otherwise returns MC_ERR_TEMP (connect, timeout,
 * lost, TLS), MC_ERR_DATA (too big) or MC_ERR_CONFIG (not an http or
 * https URL), sets *fail, and fills e with one line that never holds a
 * query string or form field.  A timeout before the request went out
 * (connect or TLS handshake) is HTTP_FAIL_CONNECT: nothing was sent. */
enum mc_err http_send(struct http *h, const struct http_request *req,
    struct http_response *resp, enum http_fail *fail, struct err *e);

void http_response_free(struct http_response *resp);

/* Form encoding with libcurl's escaping: append "name=value" (with '&'
 * before it when b is not empty). */
void http_form_add(struct buf *b, const char *name, const char *value);

/* A URL with its query string and userinfo replaced by "***", for
 * messages: a new string, caller frees. */
char *http_url_for_humans(const char *url);

#endif
