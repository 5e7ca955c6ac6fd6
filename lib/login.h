/* login: signing in to a Moodle site the way the official Moodle app does
 * when a password is not enough: ask the site how it signs in, send a
 * person's browser to the site's launch page, and take back the link the
 * site answers with.
 *
 * What Moodle does, as this module relies on it (Moodle 4.5, checked
 * against a real 4.5 site; test/fixtures/moodle-4.5 holds its answers):
 *
 * - Anyone may ask a site how it signs in: POST
 *   <site>/lib/ajax/service-nologin.php?info=tool_mobile_get_public_config
 *   with the JSON body [{"index":0,"methodname":
 *   "tool_mobile_get_public_config","args":{}}].  The answer is a JSON
 *   array with one element per call: {"error": false, "data": {...}} or
 *   {"error": true, "exception": {"message", "errorcode", ...}}.  In
 *   `data`: `wwwroot` (the address the site knows itself by, no trailing
 *   slash), `sitename`, `enablewebservices` and `enablemobilewebservice`
 *   (the app can only sign in when both are 1), `maintenanceenabled` and
 *   `maintenancemessage` (HTML), `typeoflogin` (1: the app asks for the
 *   password itself; 2: in a browser; 3: in a browser inside the app),
 *   `launchurl` (<wwwroot>/admin/tool/mobile/launch.php) and, on sites
 *   with single sign-on buttons, `identityproviders`: a list of {"name",
 *   "iconurl", "url"}.  An OAuth 2 provider's url is
 *   <wwwroot>/auth/oauth2/login.php?id=N&...; the app passes that N as
 *   `oauthsso` to the launch page to go straight to the provider.  Other
 *   providers (SAML, CAS, ...) are reached from the site's login page.
 *   Moodle writes booleans here as 0/1 or true/false depending on the
 *   setting, and a few numbers as strings.
 *
 * - A browser that is signed in to the site and opens
 *   <launchurl>?service=moodle_mobile_app&passport=P&urlscheme=S
 *   [&oauthsso=N] is redirected to S://token=B, where B is the base64 of
 *   md5(wwwroot . P) ":::" token, and, over https, right after the person
 *   signed in, for users who are not site admins, ":::" privatetoken
 *   after it.  The passport P is any text the app chose; the md5 proves
 *   the link was made for it and for this site.  Without a signed-in
 *   session the launch page sends the browser to the login page first,
 *   then back.  A site may force its own scheme instead of S.  The app
 *   accepts the signature made with http:// or https:// swapped in
 *   wwwroot (a site behind a proxy may not know which one people see).
 *   Browsers cannot open such a link: a person copies it from the address
 *   bar or from the network tab of the developer tools.
 *
 * - The token is 32 hex digits, the private token 64 letters and digits.
 *   Both are made for the moodle_mobile_app service and last as long as
 *   the site's `tokenduration` (12 weeks unless changed); until then every
 *   sign-in of that person hands out the same token.
 *
 * Nothing here prints or exits; secrets are wiped before they are freed. */
#ifndef MC_LOGIN_H
#define MC_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "util.h"

/* How the site wants the app to sign in (`typeoflogin`). */
enum login_type {
	LOGIN_IN_APP = 1,       /* the app takes the password                 */
	LOGIN_BROWSER = 2,      /* in a browser                               */
	LOGIN_EMBEDDED = 3      /* in a browser inside the app                */
};

/* One single sign-on button of the site. */
struct login_provider {
	char *name;             /* as shown to people: entities decoded       */
	int64_t oauthsso;       /* the OAuth 2 issuer id; 0 for other kinds   */
};

/* What the public config said.  Strings owned by the struct
 * (login_site_free), valid UTF-8. */
struct login_site {
	char *wwwroot;          /* no trailing slash                          */
	char *sitename;         /* entities decoded                           */
	char *launchurl;        /* NULL when the site named none              */
	int webservices;        /* enablewebservices                          */
	int mobileservice;      /* enablemobilewebservice                     */
	int maintenance;        /* maintenanceenabled                         */
	char *maintenance_msg;  /* text (tags dropped, entities decoded), ""  */
	int typeoflogin;        /* enum login_type; other values kept as sent */
	struct login_provider *providers;
	size_t nproviders;
};

/* Ask url's site (the configured root, trailing slashes allowed) for its
 * public config through h and read it into site (zeroed first; free it
 * with login_site_free, also after a failure).  Errors, one line in e:
 * MC_ERR_TEMP network or HTTP 503 (maintenance from the command line);
 * MC_ERR_UNAVAILABLE the site does not have the call (a Moodle before 3.2,
 * or an error answer) or other 5xx; MC_ERR_CONFIG a redirect, 404 or an
 * HTML page (check [moodle] url); MC_ERR_DATA an answer that is not the
 * expected JSON. */
enum mc_err login_site_fetch(struct http *h, const char *url, struct login_site *site,
    struct err *e);

/* The reading half of login_site_fetch: body[0..len) as the service
 * answered it.  Same contract for site; errors MC_ERR_UNAVAILABLE (an
 * error answer, its message quoted) or MC_ERR_DATA. */
enum mc_err login_site_parse(const char *body, size_t len, struct login_site *site,
    struct err *e);

void login_site_free(struct login_site *site);

/* Whether the site lets the app in at all: MC_OK, or MC_ERR_UNAVAILABLE
 * with a line saying web services or the app's service are off and what
 * to ask the site's administrators, or MC_ERR_TEMP with the site's
 * maintenance message. */
enum mc_err login_site_allows(const struct login_site *site, struct err *e);

/* Does the site sign the app in through a browser (typeoflogin 2 or 3)? */
int login_site_wants_browser(const struct login_site *site);

/* NULL when url and wwwroot name the same site root (trailing slashes and
 * letter case in the host aside); else a line saying how they differ
 * (http or https, "www.", the path) and which url to configure.  A new
 * string, caller frees. */
char *login_url_mismatch(const char *url, const char *wwwroot);

/* The passport: 32 hex digits from the system's random source
 * (getrandom, else /dev/urandom).  MC_OK, or MC_ERR_UNAVAILABLE when
 * neither gives random bytes. */
#define LOGIN_PASSPORT_LEN 32
enum mc_err login_passport(char out[LOGIN_PASSPORT_LEN + 1], struct err *e);

/* The launch page address to open in a browser: the site's launchurl (or
 * <url>/admin/tool/mobile/launch.php), with service moodle_mobile_app,
 * the passport, urlscheme moodlemobile and, when oauthsso > 0, that
 * OAuth 2 provider.  A new string, caller frees. */
char *login_launch_url(const struct login_site *site, const char *url, const char *passport,
    int64_t oauthsso);

/* What a pasted link carried; both secrets, wiped by login_link_free. */
struct login_link {
	char *token;
	char *privatetoken;     /* NULL when the link had none */
};

/* Read the line a person pasted: the link with any scheme
 * (moodlemobile://token=B), URL-encoded or not, B with or without its
 * '=' padding, the `token=B` part alone, or B alone; spaces, quotes and a
 * trailing slash around it are ignored.  The signature must be
 * md5(wwwroot . passport), wwwroot without its trailing slashes, with
 * http:// and https:// swapped also accepted.  On MC_OK out holds the
 * token (and private token); the caller frees it with login_link_free.
 * Errors, never quoting the line: MC_ERR_DATA when the line is not such a
 * link; MC_ERR_AUTH when the signature does not match (a link made for
 * another attempt or another site). */
enum mc_err login_link_decode(const char *line, const char *wwwroot, const char *passport,
    struct login_link *out, struct err *e);

void login_link_free(struct login_link *link);

#endif
