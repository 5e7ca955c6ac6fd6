#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

#define HTTP_MAX_BODY_DEFAULT ((size_t)16 * 1024 * 1024)
#define HTTP_MAX_HOSTS 8

/* One easy handle per scheme://host:port: curl keeps that host's
 * connection (and TLS session) alive between requests on the handle. */
struct conn {
	char *key;
	CURL *curl;
	unsigned long last_used;
};

struct http {
	long connect_timeout, timeout;
	size_t max_body;
	struct conn conns[HTTP_MAX_HOSTS];
	unsigned long clock;
};

/* What the callbacks of one transfer fill. */
struct xfer {
	struct http_response *resp;
	struct buf body;
	size_t max_body;
	int toobig;
};

enum mc_err
http_global_init(struct err *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, MC_ERR_UNAVAILABLE, "cannot initialise libcurl");
	return MC_OK;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

struct http *
http_new(long connect_timeout, long timeout, size_t max_body)
{
	struct http *h = xcalloc(1, sizeof *h);

	h->connect_timeout = connect_timeout;
	h->timeout = timeout;
	h->max_body = max_body ? max_body : HTTP_MAX_BODY_DEFAULT;
	return h;
}

void
http_free(struct http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < HTTP_MAX_HOSTS; i++) {
		if (h->conns[i].curl)
			curl_easy_cleanup(h->conns[i].curl);
		free(h->conns[i].key);
	}
	free(h);
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->retry_after);
	free(r->rl_limit);
	free(r->rl_remaining);
	free(r->rl_reset);
	free(r->rl_reset_after);
	free(r->rl_bucket);
	free(r->rl_global);
	free(r->rl_scope);
	memset(r, 0, sizeof *r);
}

static void
headers_reset(struct http_response *r)
{
	char *body = r->body;
	size_t len = r->len;

	r->body = NULL;
	http_response_free(r);
	r->body = body;
	r->len = len;
}

/* The key of a URL's connection: "scheme://host:port", or NULL when the
 * URL cannot be parsed. */
static char *
host_key(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *key = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto url_cleanup;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto parts_free;
	key = xasprintf("%s://%s:%s", scheme, host, port);
parts_free:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
url_cleanup:
	curl_url_cleanup(u);
	return key;
}

/* The handle for key: the one already made, else a new one (replacing the
 * least recently used when the table is full).  NULL when curl fails. */
static CURL *
conn_get(struct http *h, const char *key)
{
	struct conn *slot = NULL;
	size_t i;

	h->clock++;
	for (i = 0; i < HTTP_MAX_HOSTS; i++) {
		if (h->conns[i].key && strcmp(h->conns[i].key, key) == 0) {
			h->conns[i].last_used = h->clock;
			return h->conns[i].curl;
		}
	}
	for (i = 0; i < HTTP_MAX_HOSTS; i++) {
		if (h->conns[i].key == NULL) {
			slot = &h->conns[i];
			break;
		}
		if (slot == NULL || h->conns[i].last_used < slot->last_used)
			slot = &h->conns[i];
	}
	if (slot->curl)
		curl_easy_cleanup(slot->curl);
	free(slot->key);
	slot->key = NULL;
	slot->curl = curl_easy_init();
	if (slot->curl == NULL)
		return NULL;
	slot->key = xstrdup(key);
	slot->last_used = h->clock;
	return slot->curl;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	/* A chunked answer has no length for MAXFILESIZE to refuse up front:
	 * stop reading as soon as it outgrows the limit. */
	if (len > x->max_body - x->body.len) {
		x->toobig = 1;
		return 0;
	}
	buf_add(&x->body, p, len);
	return len;
}

static char **
header_slot(struct http_response *r, const char *name, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "content-type",            offsetof(struct http_response, content_type) },
		{ "location",                offsetof(struct http_response, location) },
		{ "retry-after",             offsetof(struct http_response, retry_after) },
		{ "x-ratelimit-limit",       offsetof(struct http_response, rl_limit) },
		{ "x-ratelimit-remaining",   offsetof(struct http_response, rl_remaining) },
		{ "x-ratelimit-reset",       offsetof(struct http_response, rl_reset) },
		{ "x-ratelimit-reset-after", offsetof(struct http_response, rl_reset_after) },
		{ "x-ratelimit-bucket",      offsetof(struct http_response, rl_bucket) },
		{ "x-ratelimit-global",      offsetof(struct http_response, rl_global) },
		{ "x-ratelimit-scope",       offsetof(struct http_response, rl_scope) },
	};
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i].name) == n && strncasecmp(known[i].name, name, n) == 0)
			return (char **)((char *)r + known[i].off);
	return NULL;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, nlen, vstart, vend;
	char *colon, **slot;

	/* A new status line (after a 100 Continue, say) starts a new set:
	 * keep only the last answer's headers. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		headers_reset(x->resp);
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
	nlen = (size_t)(colon - p);
	slot = header_slot(x->resp, p, nlen);
	if (slot == NULL)
		return len;
	vstart = nlen + 1;
	vend = len;
	while (vstart < vend && (p[vstart] == ' ' || p[vstart] == '\t'))
		vstart++;
	while (vend > vstart && (p[vend - 1] == '\r' || p[vend - 1] == '\n' ||
	    p[vend - 1] == ' ' || p[vend - 1] == '\t'))
		vend--;
	free(*slot);
	*slot = xstrndup(p + vstart, vend - vstart);
	return len;
}

static int
is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* Classify a failed transfer into *fail and e. */
static enum mc_err
fail_set(CURL *curl, CURLcode rc, int toobig, const char *what, const char *why,
    size_t max_body, enum http_fail *fail, struct err *e)
{
	curl_off_t pre = 0;

	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && toobig)) {
		*fail = HTTP_FAIL_TOOBIG;
		return err_set(e, MC_ERR_DATA, "%s: the answer is over %zu bytes; refused",
		    what, max_body);
	}
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		*fail = HTTP_FAIL_CONNECT;
		return err_set(e, MC_ERR_TEMP, "%s: cannot connect: %s", what, why);
	case CURLE_OPERATION_TIMEDOUT:
		/* Timed out before the request went out (connect or TLS
		 * handshake): nothing was sent, which callers may retry. */
		if (curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK &&
		    pre == 0) {
			*fail = HTTP_FAIL_CONNECT;
			return err_set(e, MC_ERR_TEMP, "%s: cannot connect (timed out): %s", what, why);
		}
		*fail = HTTP_FAIL_TIMEOUT;
		return err_set(e, MC_ERR_TEMP, "%s: no answer in time: %s", what, why);
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		*fail = HTTP_FAIL_LOST;
		return err_set(e, MC_ERR_TEMP, "%s: connection lost: %s", what, why);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		*fail = HTTP_FAIL_OTHER;
		return err_set(e, MC_ERR_CONFIG, "%s: not a usable http or https URL", what);
	default:
		break;
	}
	if (is_tls_error(rc)) {
		*fail = HTTP_FAIL_TLS;
		return err_set(e, MC_ERR_TEMP, "%s: TLS failed: %s", what, why);
	}
	*fail = HTTP_FAIL_OTHER;
	return err_set(e, MC_ERR_TEMP, "%s: %s", what, why);
}

/* The header list may hold a secret (Authorization): wipe before free. */
static void
headers_wipe(struct curl_slist *l)
{
	for (; l != NULL; l = l->next)
		if (l->data != NULL)
			secret_wipe(l->data, strlen(l->data));
}

#define SETOPT(curl, opt, val) do { \
	if (curl_easy_setopt((curl), (opt), (val)) != CURLE_OK) \
		goto setopt_failed; \
} while (0)

enum mc_err
http_send(struct http *h, const struct http_request *req,
    struct http_response *resp, enum http_fail *fail, struct err *e)
{
	struct xfer x = { 0 };
	struct curl_slist *hdrs = NULL, *tmp;
	char errbuf[CURL_ERROR_SIZE], *key = NULL, *human, *ctype = NULL;
	const char *method = req->method ? req->method : "GET";
	enum mc_err rc = MC_OK;
	enum http_fail dummy;
	CURLcode crc;
	CURL *curl;
	long status = 0;

	if (fail == NULL)
		fail = &dummy;
	*fail = HTTP_FAIL_NONE;
	memset(resp, 0, sizeof *resp);
	errbuf[0] = '\0';
	human = http_url_for_humans(req->url);

	key = host_key(req->url);
	if (key == NULL) {
		*fail = HTTP_FAIL_OTHER;
		rc = err_set(e, MC_ERR_CONFIG, "%s %s: not a usable http or https URL", method, human);
		goto human_free;
	}
	curl = conn_get(h, key);
	if (curl == NULL) {
		*fail = HTTP_FAIL_OTHER;
		rc = err_set(e, MC_ERR_UNAVAILABLE, "%s %s: cannot make a libcurl handle", method, human);
		goto key_free;
	}
	/* Reset drops the last request's options but keeps the live
	 * connection, the DNS cache and the TLS session. */
	curl_easy_reset(curl);

	x.resp = resp;
	x.max_body = req->max_body ? req->max_body : h->max_body;

	SETOPT(curl, CURLOPT_URL, req->url);
	SETOPT(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(curl, CURLOPT_NOSIGNAL, 1L);
	SETOPT(curl, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
	SETOPT(curl, CURLOPT_TIMEOUT, h->timeout);
	SETOPT(curl, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max_body);
	SETOPT(curl, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(curl, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(curl, CURLOPT_WRITEDATA, &x);
	SETOPT(curl, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(curl, CURLOPT_HEADERDATA, &x);
	if (req->fresh) {
		SETOPT(curl, CURLOPT_FRESH_CONNECT, 1L);
		SETOPT(curl, CURLOPT_FORBID_REUSE, 1L);
	}
	SETOPT(curl, CURLOPT_USERAGENT,
	    req->user_agent ? req->user_agent : "moodlecord/" MOODLECORD_VERSION);

	if (strcmp(method, "GET") == 0) {
		SETOPT(curl, CURLOPT_HTTPGET, 1L);
	} else {
		if (req->body != NULL || strcmp(method, "POST") == 0) {
			SETOPT(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
			SETOPT(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		}
		if (strcmp(method, "POST") != 0)
			SETOPT(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	/* No "Expect: 100-continue" round trip on larger bodies. */
	tmp = curl_slist_append(hdrs, "Expect:");
	if (tmp == NULL)
		goto setopt_failed;
	hdrs = tmp;
	if (req->content_type) {
		ctype = xasprintf("Content-Type: %s", req->content_type);
		tmp = curl_slist_append(hdrs, ctype);
		if (tmp == NULL)
			goto setopt_failed;
		hdrs = tmp;
	}
	if (req->authorization) {
		char *auth = xasprintf("Authorization: %s", req->authorization);

		tmp = curl_slist_append(hdrs, auth);
		secret_free(auth);
		if (tmp == NULL)
			goto setopt_failed;
		hdrs = tmp;
	}
	SETOPT(curl, CURLOPT_HTTPHEADER, hdrs);

	crc = curl_easy_perform(curl);
	if (crc != CURLE_OK) {
		char *what = xasprintf("%s %s", method, human);

		rc = fail_set(curl, crc, x.toobig, what,
		    errbuf[0] ? errbuf : curl_easy_strerror(crc), x.max_body, fail, e);
		free(what);
		http_response_free(resp);
		goto body_free;
	}
	if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	resp->status = status;
	buf_add(&x.body, "", 0);
	resp->len = x.body.len;
	resp->body = buf_take(&x.body);
	goto body_free;

setopt_failed:
	*fail = HTTP_FAIL_OTHER;
	rc = err_set(e, MC_ERR_UNAVAILABLE, "%s %s: libcurl refused an option (too old?)", method, human);
	http_response_free(resp);
body_free:
	buf_free(&x.body);
	/* The handle must not keep pointers to this call's stack and lists. */
	curl_easy_reset(curl);
	headers_wipe(hdrs);
	curl_slist_free_all(hdrs);
	free(ctype);
key_free:
	free(key);
human_free:
	free(human);
	return rc;
}

/* Append s percent-encoded: libcurl's escaping, or the same rule (all but
 * ALPHA DIGIT - . _ ~) should libcurl be out of memory. */
static void
form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *esc = curl_easy_escape(NULL, s, 0);

	if (esc) {
		buf_adds(b, esc);
		curl_free(esc);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			buf_add(b, s, 1);
		} else {
			char pct[3] = { '%', hex[c >> 4], hex[c & 15] };

			buf_add(b, pct, 3);
		}
	}
}

void
http_form_add(struct buf *b, const char *name, const char *value)
{
	if (b->len)
		buf_add(b, "&", 1);
	form_escape(b, name);
	buf_add(b, "=", 1);
	form_escape(b, value ? value : "");
}

char *
http_url_for_humans(const char *url)
{
	struct buf b = { 0 };
	const char *p, *auth, *end, *at, *q;

	if (url == NULL)
		return xstrdup("(no URL)");
	p = strstr(url, "://");
	auth = p ? p + 3 : url;
	end = auth + strcspn(auth, "/?#");
	buf_add(&b, url, (size_t)(auth - url));
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at) {
		buf_adds(&b, "***@");
		auth = at + 1;
	}
	q = auth + strcspn(auth, "?#");
	buf_add(&b, auth, (size_t)(q - auth));
	if (*q == '?')
		buf_adds(&b, "?***");
	return buf_take(&b);
}
