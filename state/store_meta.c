/* store_meta: the state's meta database: the site the state belongs to,
 * the webhook each route's messages were posted with, the kept Moodle
 * token and its age, the day of the last token warning, and where the
 * look-ups of standing messages stopped.  Each value is a short string;
 * each write is one transaction (store_txn_write). */
#include "store_internal.h"
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meta_arg {
	const char *key, *val;
};

static int
op_meta_put(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct meta_arg *a = arg;
	MDB_val k = { strlen(a->key), (void *)a->key }, v = { strlen(a->val), (void *)a->val };

	(void)e;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

enum mc_err
store_meta_put(struct store *s, const char *key, const char *val, struct err *e)
{
	struct meta_arg a = { key, val };

	if (*key == '\0')
		return err_set(e, MC_ERR_DATA, "an empty meta key cannot be stored");
	return store_txn_write(s, op_meta_put, &a, e);
}

static enum mc_err
site_differs(struct store *s, const char *stored, size_t n, const char *site, struct err *e)
{
	return err_set(e, MC_ERR_CONFIG, "state file %s belongs to %.*s, not %s: set [state] path "
	    "to a new file, or remove %s to start afresh", s->path, (int)n, stored, site, s->path);
}

static int
op_check_site(struct store *s, MDB_txn *txn, void *arg, struct err *e)
{
	const struct meta_arg *a = arg;
	MDB_val k = { 4, "site" }, v;
	int rc;

	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size == strlen(a->val) && memcmp(v.mv_data, a->val, v.mv_size) == 0)
			return TXN_NOCHANGE;
		site_differs(s, v.mv_data, v.mv_size, a->val, e);
		return TXN_FAILED;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	v.mv_size = strlen(a->val);
	v.mv_data = (void *)a->val;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

enum mc_err
store_check_site(struct store *s, const char *site_url, struct err *e)
{
	struct meta_arg a = { "site", site_url };
	char *stored;
	enum mc_err rc;

	rc = store_meta_get(s, "site", &stored, e);
	if (rc != MC_OK)
		return rc;
	if (stored != NULL) {
		if (strcmp(stored, site_url) != 0)
			rc = site_differs(s, stored, strlen(stored), site_url, e);
		free(stored);
		return rc;
	}
	if (s->rdonly)
		return MC_OK;
	return store_txn_write(s, op_check_site, &a, e);
}


/* The meta key of the webhook the stored message ids belong to. */
static const char META_WEBHOOK[] = "webhook_id";

enum mc_err
store_webhook_get(struct store *s, char **id, struct err *e)
{
	return store_meta_get(s, META_WEBHOOK, id, e);
}

enum mc_err
store_webhook_put(struct store *s, const char *id, struct err *e)
{
	return store_meta_put(s, META_WEBHOOK, id, e);
}

/* The Moodle token kept from a password sign-in, as "GOT TOKEN" (GOT the
 * Unix time it was got).  The state file is the owner's alone (0600). */
static const char META_TOKEN[] = "moodle_token";
/* The day (Unix time / 86400) sync last said the token is getting old. */
static const char META_TOKEN_WARNED[] = "token_warned";

enum mc_err
store_token_get(struct store *s, char **token, int64_t *got, struct err *e)
{
	char *v = NULL, *sp;
	enum mc_err rc;

	*token = NULL;
	*got = 0;
	rc = store_meta_get(s, META_TOKEN, &v, e);
	if (rc != MC_OK || v == NULL)
		return rc;
	sp = strchr(v, ' ');
	if (sp != NULL && sp[1] != '\0') {
		*sp = '\0';
		if (parse_int64(v, 0, INT64_MAX, got) == 0)
			*token = xstrdup(sp + 1);
		else
			*got = 0;
		*sp = ' ';
	}
	secret_free(v);
	return MC_OK;
}

enum mc_err
store_token_put(struct store *s, const char *token, int64_t got, struct err *e)
{
	char *v = xasprintf("%lld %s", (long long)got, token);
	enum mc_err rc = store_meta_put(s, META_TOKEN, v, e);

	secret_free(v);
	return rc;
}

enum mc_err
store_token_warned_get(struct store *s, int64_t *day, struct err *e)
{
	char *v = NULL;
	enum mc_err rc = store_meta_get(s, META_TOKEN_WARNED, &v, e);

	*day = 0;
	if (rc == MC_OK && v != NULL && parse_int64(v, 0, INT64_MAX, day) != 0)
		*day = 0;
	free(v);
	return rc;
}

enum mc_err
store_token_warned_put(struct store *s, int64_t day, struct err *e)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", (long long)day);
	return store_meta_put(s, META_TOKEN_WARNED, v, e);
}

/* A route's: "webhook_id route NAME"; [discord]'s ("" or NULL) as above. */
static char *
route_key(const char *route)
{
	return route != NULL && *route != '\0' ? xasprintf("%s route %s", META_WEBHOOK, route) :
	    xstrdup(META_WEBHOOK);
}

enum mc_err
store_route_webhook_get(struct store *s, const char *route, char **id, struct err *e)
{
	char *k = route_key(route);
	enum mc_err rc = store_meta_get(s, k, id, e);

	free(k);
	return rc;
}

enum mc_err
store_route_webhook_put(struct store *s, const char *route, const char *id, struct err *e)
{
	char *k = route_key(route);
	enum mc_err rc = store_meta_put(s, k, id, e);

	free(k);
	return rc;
}

/* meta "checked": the id, in decimal, of the conference whose message
 * sync looked at last. */
enum mc_err
store_checked_get(struct store *s, int64_t *id, struct err *e)
{
	char *val = NULL, *end;
	enum mc_err rc = store_meta_get(s, "checked", &val, e);
	long long v;

	*id = 0;
	if (rc != MC_OK || val == NULL)
		return rc;
	errno = 0;
	v = strtoll(val, &end, 10);
	/* a value it cannot read only restarts the round */
	if (errno == 0 && end != val && *end == '\0' && v > 0)
		*id = (int64_t)v;
	free(val);
	return MC_OK;
}

enum mc_err
store_checked_put(struct store *s, int64_t id, struct err *e)
{
	char val[24];

	snprintf(val, sizeof val, "%lld", (long long)id);
	return store_meta_put(s, "checked", val, e);
}
