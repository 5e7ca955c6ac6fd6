/* check_site: what check says about a site before signing in (its public
 * config, lib/login.h) and about the token it signs in with. */
#include <stdlib.h>

#include "cmd.h"
#include "login.h"
#include "secret.h"
#include "store.h"

#define DAY 86400

enum mc_err
check_site(struct ctx *c, struct http *h, int *browser, struct err *e)
{
	struct login_site site = { 0 };
	char *mismatch;
	enum mc_err rc;

	*browser = 0;
	rc = login_site_fetch(h, c->cfg.moodle_url, &site, e);
	if (rc != MC_OK) {
		/* a site too old for the call, down, or a wrong url: the
		 * sign-in below says what is wrong, in its own words */
		info(c, "%s", e->msg);
		rc = MC_OK;
		goto site_free;
	}
	rc = login_site_allows(&site, e);
	if (rc != MC_OK)
		goto site_free;
	mismatch = login_url_mismatch(c->cfg.moodle_url, site.wwwroot);
	if (mismatch != NULL) {
		warn(c, "%s", mismatch);
		free(mismatch);
	}
	*browser = login_site_wants_browser(&site);
	if (*browser && c->cfg.password != NULL)
		warn(c, "%s signs in through a browser (single sign-on): a password may be "
		    "refused there; run moodlecord login", site.wwwroot);
site_free:
	login_site_free(&site);
	return rc;
}

void
check_token_age(struct ctx *c)
{
	struct store *st = NULL;
	struct err e = { 0 };
	char *token = NULL;
	int64_t got = 0, now = (int64_t)c->started;
	char when[32];

	if (c->cfg.token != NULL && c->cfg.token_time > 0) {
		out(c, "token: got %s (%lld days ago), in %s", fmt_local_time((time_t)c->cfg.token_time,
		    when), (long long)((now - c->cfg.token_time) / DAY), c->cfg.token_file);
		return;
	}
	if (c->cfg.token != NULL)
		return;
	if (store_open(c->cfg.state_path, STORE_RDONLY, &st, &e) != MC_OK)
		return;
	if (store_token_get(st, &token, &got, &e) == MC_OK && token != NULL)
		out(c, "token: kept from a sign-in on %s (%lld days ago)",
		    fmt_local_time((time_t)got, when), (long long)((now - got) / DAY));
	secret_free(token);
	store_close(st);
}
