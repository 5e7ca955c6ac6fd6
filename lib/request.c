#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

enum {
	TRIES = 3,             /* tries of a call that may be sent again      */
	MAX_429 = 5,           /* 429s in a row for one call                  */
	BACKOFF_US = 500000    /* first backoff; doubles                      */
};

int64_t
request_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
request_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
request_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

int
request_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

int64_t
request_deadline_us(int64_t deadline)
{
	return deadline > 0 ? deadline * 1000000 : INT64_MAX;
}

enum mc_err
request_wait_until(int64_t deadline, int64_t until_us, const char *why, struct err *e)
{
	int64_t left = until_us - request_mono_us();
	struct timespec ts;

	if (left <= 0)
		return MC_OK;
	if (request_wall_us() + left > request_deadline_us(deadline))
		return err_set(e, MC_ERR_TEMP, "run deadline reached: %s would wait %.1f s more; "
		    "the next run carries on", why, (double)left / 1e6);
	while (left > 0) {
		ts.tv_sec = (time_t)(left / 1000000);
		ts.tv_nsec = (long)(left % 1000000) * 1000;
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
			break;
		left = until_us - request_mono_us();
	}
	return MC_OK;
}

/* A try that got no answer: MC_OK to try again (after the backoff), else
 * the error to return. */
static enum mc_err
no_answer(const struct request_call *c, enum mc_err rc, enum http_fail fail, int *tries,
    int64_t *backoff, struct err *e)
{
	char *safe = secrets_redact(c->secrets, e->msg);
	int lost = fail == HTTP_FAIL_TIMEOUT || fail == HTTP_FAIL_LOST;
	int retry = fail == HTTP_FAIL_CONNECT || (!c->once && lost);

	err_set(e, rc, "Discord %s: %s", c->what, safe);
	free(safe);
	if (retry && ++*tries < TRIES) {
		rc = request_wait_until(c->deadline, request_mono_us() + *backoff, "a retry", e);
		*backoff *= 2;
		return rc;
	}
	if (c->once && lost)
		err_prefix(e, "%s", c->maybe);
	return e->kind;
}

/* A 5xx answer (resp freed here): MC_OK to try again, else the error. */
static enum mc_err
server_error(const struct request_call *c, struct http_response *resp, int *tries,
    int64_t *backoff, struct err *e)
{
	long status = resp->status;
	int64_t ra = discord_parse_seconds(resp->retry_after);
	enum mc_err rc;

	http_response_free(resp);
	if (!c->once && ++*tries < TRIES) {
		rc = request_wait_until(c->deadline, request_mono_us() +
		    (ra > *backoff && ra < 60000000 ? ra : *backoff), "a retry", e);
		*backoff *= 2;
		return rc;
	}
	return err_set(e, MC_ERR_UNAVAILABLE, "Discord answered the %s with HTTP %ld%s; "
	    "try again later", c->what, status, c->once ? "" : " three times");
}

enum mc_err
request_send(const struct request_call *c, const struct http_request *req,
    struct http_response *resp, struct err *e)
{
	struct discord_limits l;
	enum http_fail fail;
	int tries = 0, n429 = 0;
	int64_t backoff = BACKOFF_US, wait;
	enum mc_err rc;

	for (;;) {
		rc = c->h.pace(c->h.arg, e);
		if (rc != MC_OK)
			return rc;
		if (request_wall_us() >= request_deadline_us(c->deadline))
			return err_set(e, MC_ERR_TEMP, "run deadline reached before the Discord %s; "
			    "the next run carries on", c->what);
		rc = http_send(c->http, req, resp, &fail, e);
		if (c->h.sent != NULL)
			c->h.sent(c->h.arg);
		if (rc != MC_OK) {
			rc = no_answer(c, rc, fail, &tries, &backoff, e);
			if (rc != MC_OK)
				return rc;
			continue;
		}
		discord_parse_limits(resp, &l);
		if (c->h.noted != NULL)
			c->h.noted(c->h.arg, resp, &l);
		if (resp->status == 429) {
			if (l.ban) {
				http_response_free(resp);
				return err_set(e, MC_ERR_TEMP, "Discord has blocked this address for a while "
				    "(a ban after too many refused calls); run again later, in an hour or more");
			}
			wait = l.retry_after_us >= 0 ? l.retry_after_us :
			    l.reset_after_us >= 0 ? l.reset_after_us : 1000000;
			if (c->h.limited != NULL)
				c->h.limited(c->h.arg, resp, &l, wait);
			http_response_free(resp);
			if (++n429 > MAX_429)
				return err_set(e, MC_ERR_TEMP, "Discord kept answering 429 (rate limited) to "
				    "the %s; the next run carries on", c->what);
			continue;
		}
		if (resp->status >= 500 && resp->status <= 599) {
			rc = server_error(c, resp, &tries, &backoff, e);
			if (rc != MC_OK)
				return rc;
			continue;
		}
		return MC_OK;
	}
}
