/* login: the public config, the passport, the launch URL and the pasted
 * link (the Moodle facts are in login.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "login.h"
#include "md5.h"
#include "moodle.h"
#include "secret.h"

#define MAX_LINE 4096     /* longer than any link Moodle makes            */
#define TOKEN_MIN 16      /* Moodle's are 32 (token) and 64 (private)     */
#define TOKEN_MAX 128

/* ---- the pasted link --------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo %XX in place; returns how many were undone.  '+' stays: base64
 * uses it, and a link is never form-encoded. */
static size_t
percent_decode(char *s)
{
	char *w = s;
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && hexval((unsigned char)s[1]) >= 0 && hexval((unsigned char)s[2]) >= 0) {
			*w++ = (char)(hexval((unsigned char)s[1]) * 16 + hexval((unsigned char)s[2]));
			s += 2;
			n++;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return n;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')   /* '-' and '_': the URL-safe alphabet */
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode s[0..n) (padding optional, nothing else allowed) into a new
 * NUL-terminated string at *out with its length in *outlen; -1 when s is
 * not base64 or decodes to a NUL. */
static int
base64_decode(const char *s, size_t n, char **out, size_t *outlen)
{
	unsigned char *o;
	uint32_t acc = 0;
	size_t i, bits = 0, len = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n == 0 || n % 4 == 1)
		return -1;
	o = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			goto wipe;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[len] = (unsigned char)(acc >> bits);
			if (o[len] == '\0')
				goto wipe;
			len++;
		}
	}
	o[len] = '\0';
	*out = (char *)o;
	*outlen = len;
	return 0;
wipe:
	secret_wipe(o, n / 4 * 3 + 3);
	free(o);
	return -1;
}

static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n < TOKEN_MIN || n > TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The md5 signatures a link for this site and passport may carry: with
 * wwwroot as it is, and with http:// and https:// swapped. */
static void
signatures(const char *wwwroot, const char *passport, char sig[2][33])
{
	struct buf b = { 0 };
	size_t n = strlen(wwwroot);
	const char *rest;

	while (n > 0 && wwwroot[n - 1] == '/')
		n--;
	buf_add(&b, wwwroot, n);
	buf_adds(&b, passport);
	md5_hex(b.data, b.len, sig[0]);
	b.len = 0;
	if (strncasecmp(wwwroot, "https://", 8) == 0) {
		buf_adds(&b, "http://");
		rest = wwwroot + 8;
	} else if (strncasecmp(wwwroot, "http://", 7) == 0) {
		buf_adds(&b, "https://");
		rest = wwwroot + 7;
	} else {
		rest = wwwroot;
	}
	buf_add(&b, rest, n - (size_t)(rest - wwwroot));
	buf_adds(&b, passport);
	md5_hex(b.data, b.len, sig[1]);
	secret_buf_free(&b);
}

/* One candidate base64 text: MC_OK and out filled; MC_ERR_AUTH when it
 * is a link with the wrong signature; MC_ERR_DATA when it is no link. */
static enum mc_err
decode_candidate(const char *b64, size_t n, char sig[2][33], struct login_link *out)
{
	char *plain = NULL, *tok, *priv, *end;
	size_t len;
	enum mc_err rc = MC_ERR_DATA;

	if (base64_decode(b64, n, &plain, &len) != 0)
		return MC_ERR_DATA;
	tok = strstr(plain, ":::");
	if (tok == NULL || tok - plain != 32)
		goto wipe_plain;
	tok += 3;
	priv = strstr(tok, ":::");
	end = priv != NULL ? priv : plain + len;
	if (!token_ok(tok, (size_t)(end - tok)))
		goto wipe_plain;
	if (priv != NULL) {
		priv += 3;
		if (!token_ok(priv, strlen(priv)))
			goto wipe_plain;
	}
	if (strncasecmp(plain, sig[0], 32) != 0 && strncasecmp(plain, sig[1], 32) != 0) {
		rc = MC_ERR_AUTH;
		goto wipe_plain;
	}
	out->token = xstrndup(tok, (size_t)(end - tok));
	out->privatetoken = priv != NULL ? xstrdup(priv) : NULL;
	rc = MC_OK;
wipe_plain:
	secret_wipe(plain, len);
	free(plain);
	return rc;
}

/* Cut line (a copy the caller owns) down to the base64 text: drop what
 * surrounds it, the URL encoding, the scheme and "token=". */
static char *
link_payload(char *line)
{
	char *s = line, *end;
	int pass;

	for (pass = 0; pass < 3 && percent_decode(line) > 0; pass++)
		;
	/* Base64 has no ':', so the last one ends a scheme (or a header name
	 * copied along from the developer tools: "Location: ..."). */
	end = strrchr(s, ':');
	if (end != NULL)
		s = end + 1;
	while (*s != '\0' && (isspace((unsigned char)*s) || *s == '"' || *s == '\'' || *s == '<'))
		s++;
	while (*s == '/' || *s == '?')
		s++;
	if (strncmp(s, "token=", 6) == 0)
		s += 6;
	end = s;
	while (*end != '\0' && (b64val((unsigned char)*end) >= 0 || *end == '='))
		end++;
	*end = '\0';
	return s;
}

enum mc_err
login_link_decode(const char *line, const char *wwwroot, const char *passport,
    struct login_link *out, struct err *e)
{
	char sig[2][33], *copy, *b64;
	size_t n;
	enum mc_err rc;

	out->token = out->privatetoken = NULL;
	if (strlen(line) > MAX_LINE)
		return err_set(e, MC_ERR_DATA, "the line pasted is too long to be the link "
		    "(it starts with the scheme, e.g. moodlemobile://token=)");
	signatures(wwwroot, passport, sig);
	copy = xstrdup(line);
	b64 = link_payload(copy);
	n = strlen(b64);
	rc = decode_candidate(b64, n, sig, out);
	/* A browser may show the link with a '/' after it, which base64
	 * also uses: try without it before refusing. */
	while (rc != MC_OK && n > 0 && b64[n - 1] == '/') {
		enum mc_err again;

		n--;
		again = decode_candidate(b64, n, sig, out);
		if (again == MC_OK || rc == MC_ERR_DATA)
			rc = again;
	}
	secret_wipe(copy, strlen(line));
	free(copy);
	secret_wipe(sig, sizeof sig);
	if (rc == MC_ERR_AUTH)
		return err_set(e, rc, "the link was not made for this sign-in: its signature does "
		    "not match %s and this attempt's passport (a link from an earlier attempt, "
		    "or from another site?); nothing was stored", wwwroot);
	if (rc != MC_OK)
		return err_set(e, rc, "that is not the link the site sent; it looks like "
		    "moodlemobile://token=... (copy it from the address bar, or from the "
		    "network tab of the browser's developer tools)");
	return MC_OK;
}

void
login_link_free(struct login_link *link)
{
	secret_free(link->token);
	secret_free(link->privatetoken);
	link->token = link->privatetoken = NULL;
}

/* ---- passport and launch URL ---------------------------------------------- */

static int
random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;
	int fd;

	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += (size_t)r;
	}
	if (got == n)
		return 0;
	/* A kernel without getrandom(2): the device gives the same bytes. */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return got == n ? 0 : -1;
}

enum mc_err
login_passport(char out[LOGIN_PASSPORT_LEN + 1], struct err *e)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[LOGIN_PASSPORT_LEN / 2];
	size_t i;

	if (random_bytes(r, sizeof r) != 0)
		return err_set(e, MC_ERR_UNAVAILABLE, "no random bytes from getrandom or "
		    "/dev/urandom: %s", strerror(errno));
	for (i = 0; i < sizeof r; i++) {
		out[2 * i] = digits[r[i] >> 4];
		out[2 * i + 1] = digits[r[i] & 15];
	}
	out[LOGIN_PASSPORT_LEN] = '\0';
	secret_wipe(r, sizeof r);
	return MC_OK;
}

char *
login_launch_url(const struct login_site *site, const char *url, const char *passport,
    int64_t oauthsso)
{
	struct buf b = { 0 };
	size_t n = strlen(url);

	if (site != NULL && site->launchurl != NULL && *site->launchurl != '\0') {
		buf_adds(&b, site->launchurl);
	} else {
		while (n > 0 && url[n - 1] == '/')
			n--;
		buf_add(&b, url, n);
		buf_adds(&b, "/admin/tool/mobile/launch.php");
	}
	buf_adds(&b, strchr(b.data, '?') != NULL ? "&" : "?");
	buf_addf(&b, "service=moodle_mobile_app&passport=%s&urlscheme=moodlemobile", passport);
	if (oauthsso > 0)
		buf_addf(&b, "&oauthsso=%lld", (long long)oauthsso);
	return buf_take(&b);
}

/* ---- the public config --------------------------------------------------- */

#define PUBLIC_CONFIG_CALL "[{\"index\":0,\"methodname\":\"tool_mobile_get_public_config\",\"args\":{}}]"

/* A member that Moodle writes as 0/1, true/false or "0"/"1"; def when
 * absent or null. */
static int
jflag(json_object *o, const char *key, int def)
{
	json_object *m;
	int64_t v;

	if (!json_object_object_get_ex(o, key, &m) || m == NULL)
		return def;
	if (json_object_is_type(m, json_type_boolean))
		return json_object_get_boolean(m);
	if (json_object_is_type(m, json_type_int))
		return (int)json_object_get_int64(m);
	if (json_object_is_type(m, json_type_string) &&
	    parse_int64(json_object_get_string(m), -1000, 1000, &v) == 0)
		return (int)v;
	return def;
}

static const char *
jstring(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

/* Text for a message: at most max characters of s, tags dropped and
 * runs of white space made one space, entities decoded.  A new string. */
static char *
plain_text(const char *s, size_t max)
{
	struct buf b = { 0 };
	char *text, *out;
	size_t i, n, chars = 0;
	int in_tag = 0, space = 1;

	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '<')
			in_tag = 1;
		if (in_tag || isspace((unsigned char)*s)) {
			if (*s == '>')
				in_tag = 0;
			if (!space)
				buf_add(&b, " ", 1);
			space = 1;
			continue;
		}
		buf_add(&b, s, 1);
		space = 0;
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	text = moodle_text(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	n = strlen(text);
	for (i = 0; i < n && chars < max; chars++)
		utf8_next(text, n, &i);
	if (i < n) {
		buf_add(&b, text, i);
		buf_adds(&b, "...");
		out = buf_take(&b);
		free(text);
		return out;
	}
	return text;
}

/* The OAuth 2 issuer id in a provider's url (auth/oauth2/login.php?id=N),
 * 0 when it is another kind of provider. */
static int64_t
oauth2_issuer(const char *url)
{
	const char *q, *p;
	int64_t id;
	char num[24];
	size_t n;

	if (url == NULL || strstr(url, "/auth/oauth2/login.php") == NULL)
		return 0;
	q = strchr(url, '?');
	for (p = q; p != NULL; p = strpbrk(p + 1, "?&;")) {
		if (strncmp(p + 1, "id=", 3) != 0)
			continue;
		n = strspn(p + 4, "0123456789");
		if (n == 0 || n >= sizeof num)
			return 0;
		memcpy(num, p + 4, n);
		num[n] = '\0';
		return parse_int64(num, 1, INT64_MAX, &id) == 0 ? id : 0;
	}
	return 0;
}

static void
read_providers(json_object *data, struct login_site *site)
{
	json_object *a, *p;
	size_t i, n;

	if (!json_object_object_get_ex(data, "identityproviders", &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	site->providers = xcalloc(n ? n : 1, sizeof *site->providers);
	for (i = 0; i < n; i++) {
		const char *name;

		p = json_object_array_get_idx(a, i);
		if (!json_object_is_type(p, json_type_object))
			continue;
		name = jstring(p, "name");
		site->providers[site->nproviders].name = plain_text(name ? name : "(no name)", 80);
		site->providers[site->nproviders].oauthsso = oauth2_issuer(jstring(p, "url"));
		site->nproviders++;
	}
}

static enum mc_err
read_data(json_object *data, struct login_site *site, struct err *e)
{
	const char *www = jstring(data, "wwwroot"), *s;
	size_t n;

	if (www == NULL || (strncmp(www, "http://", 7) != 0 && strncmp(www, "https://", 8) != 0) ||
	    strchr("/?#", strstr(www, "://")[3]) != NULL)
		return err_set(e, MC_ERR_DATA, "Moodle public config: no http or https wwwroot in "
		    "the answer");
	n = strlen(www);
	while (n > 0 && www[n - 1] == '/')
		n--;
	site->wwwroot = utf8_repair(www, n);
	s = jstring(data, "sitename");
	site->sitename = plain_text(s, 100);
	s = jstring(data, "launchurl");
	site->launchurl = s != NULL && *s != '\0' ? utf8_repair(s, strlen(s)) : NULL;
	site->webservices = jflag(data, "enablewebservices", 0);
	site->mobileservice = jflag(data, "enablemobilewebservice", 0);
	site->maintenance = jflag(data, "maintenanceenabled", 0);
	site->maintenance_msg = plain_text(jstring(data, "maintenancemessage"), 300);
	site->typeoflogin = jflag(data, "typeoflogin", LOGIN_IN_APP);
	read_providers(data, site);
	return MC_OK;
}

enum mc_err
login_site_parse(const char *body, size_t len, struct login_site *site, struct err *e)
{
	json_tokener *tok;
	json_object *j, *first, *m;
	size_t end = 0;
	enum mc_err rc;

	memset(site, 0, sizeof *site);
	tok = json_tokener_new();
	j = json_tokener_parse_ex(tok, body, (int)len);
	if (j != NULL)
		end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (j != NULL && end < len && isspace((unsigned char)body[end]))
		end++;
	if (j == NULL || end != len || !json_object_is_type(j, json_type_array) ||
	    json_object_array_length(j) < 1 ||
	    !json_object_is_type(json_object_array_get_idx(j, 0), json_type_object)) {
		rc = err_set(e, MC_ERR_DATA, "Moodle public config: the answer (%zu bytes) is not "
		    "the JSON array expected", len);
		goto json_put;
	}
	first = json_object_array_get_idx(j, 0);
	if (jflag(first, "error", 0)) {
		json_object *x = NULL;
		const char *code, *msg;
		char *q;

		json_object_object_get_ex(first, "exception", &x);
		code = jstring(x, "errorcode");
		msg = jstring(x, "message");
		q = plain_text(msg ? msg : "no message", 120);
		rc = err_set(e, MC_ERR_UNAVAILABLE, "Moodle public config: the site refused the call "
		    "(%s: %s)", code ? code : "no errorcode", q);
		free(q);
		goto json_put;
	}
	if (!json_object_object_get_ex(first, "data", &m) || !json_object_is_type(m, json_type_object)) {
		rc = err_set(e, MC_ERR_DATA, "Moodle public config: the answer has no data");
		goto json_put;
	}
	rc = read_data(m, site, e);
json_put:
	json_object_put(j);
	return rc;
}

/* The answer of the public config call judged by its HTTP status. */
static enum mc_err
judge_status(const struct http_response *r, const char *where, struct err *e)
{
	size_t i;

	if (r->status >= 300 && r->status < 400) {
		char *to = http_url_for_humans(r->location ? r->location : "(no Location)");

		err_set(e, MC_ERR_CONFIG, "Moodle public config: %s redirects (HTTP %ld) to %s: "
		    "check [moodle] url, it must be the site root", where, r->status, to);
		free(to);
		return MC_ERR_CONFIG;
	}
	if (r->status == 503)
		return err_set(e, MC_ERR_TEMP, "Moodle public config: the site is unavailable "
		    "(HTTP 503), probably in maintenance; try again later");
	if (r->status >= 500)
		return err_set(e, MC_ERR_UNAVAILABLE, "Moodle public config: the site failed "
		    "(HTTP %ld)", r->status);
	if (r->status == 404)
		return err_set(e, MC_ERR_CONFIG, "Moodle public config: %s not found (HTTP 404): "
		    "check [moodle] url, it must be the root of a Moodle 3.2 or later", where);
	if (r->status != 200)
		return err_set(e, MC_ERR_DATA, "Moodle public config: unexpected HTTP %ld from %s",
		    r->status, where);
	for (i = 0; i < r->len && isspace((unsigned char)r->body[i]); i++)
		;
	if (i < r->len && r->body[i] == '<')
		return err_set(e, MC_ERR_CONFIG, "Moodle public config: an HTML page instead of "
		    "JSON from %s: check [moodle] url, it must be the site root", where);
	return MC_OK;
}

enum mc_err
login_site_fetch(struct http *h, const char *url, struct login_site *site, struct err *e)
{
	struct http_request req = { 0 };
	struct http_response resp;
	enum http_fail fail;
	enum mc_err rc;
	char *full, *where;
	size_t n = strlen(url);

	memset(site, 0, sizeof *site);
	while (n > 0 && url[n - 1] == '/')
		n--;
	full = xasprintf("%.*s/lib/ajax/service-nologin.php?info=tool_mobile_get_public_config"
	    "&lang=en", (int)n, url);
	where = http_url_for_humans(full);
	req.method = "POST";
	req.url = full;
	req.body = PUBLIC_CONFIG_CALL;
	req.body_len = strlen(PUBLIC_CONFIG_CALL);
	req.content_type = "application/json";
	rc = http_send(h, &req, &resp, &fail, e);
	if (rc != MC_OK) {
		err_prefix(e, "Moodle public config: ");
		goto free_url;
	}
	rc = judge_status(&resp, where, e);
	if (rc == MC_OK)
		rc = login_site_parse(resp.body, resp.len, site, e);
	http_response_free(&resp);
free_url:
	free(where);
	free(full);
	return rc;
}

void
login_site_free(struct login_site *site)
{
	size_t i;

	free(site->wwwroot);
	free(site->sitename);
	free(site->launchurl);
	free(site->maintenance_msg);
	for (i = 0; i < site->nproviders; i++)
		free(site->providers[i].name);
	free(site->providers);
	memset(site, 0, sizeof *site);
}

enum mc_err
login_site_allows(const struct login_site *site, struct err *e)
{
	if (!site->webservices)
		return err_set(e, MC_ERR_UNAVAILABLE, "%s does not allow the Moodle app: web services "
		    "are off; ask its administrators to allow the Moodle app (Site administration > "
		    "Advanced features > Enable web services, and Enable web services for mobile "
		    "devices)", site->wwwroot);
	if (!site->mobileservice)
		return err_set(e, MC_ERR_UNAVAILABLE, "%s does not allow the Moodle app: its mobile "
		    "service is off; ask its administrators to allow the Moodle app (Site "
		    "administration > Advanced features > Enable web services for mobile devices)",
		    site->wwwroot);
	if (site->maintenance)
		return err_set(e, MC_ERR_TEMP, "%s is in maintenance%s%s; try again later",
		    site->wwwroot, *site->maintenance_msg ? ": " : "", site->maintenance_msg);
	return MC_OK;
}

int
login_site_wants_browser(const struct login_site *site)
{
	return site->typeoflogin == LOGIN_BROWSER || site->typeoflogin == LOGIN_EMBEDDED;
}

/* A URL cut into scheme, host (with port) and path (no trailing '/'). */
struct url_parts {
	const char *scheme, *host, *path;
	size_t nscheme, nhost, npath;
};

static void
url_split(const char *u, struct url_parts *p)
{
	const char *s = strstr(u, "://"), *h, *path;
	size_t n;

	p->scheme = u;
	p->nscheme = s != NULL ? (size_t)(s - u) : 0;
	h = s != NULL ? s + 3 : u;
	path = h + strcspn(h, "/?#");
	p->host = h;
	p->nhost = (size_t)(path - h);
	n = strcspn(path, "?#");
	while (n > 0 && path[n - 1] == '/')
		n--;
	p->path = path;
	p->npath = n;
}

static int
www_prefixed(const struct url_parts *p)
{
	return p->nhost > 4 && strncasecmp(p->host, "www.", 4) == 0;
}

char *
login_url_mismatch(const char *url, const char *wwwroot)
{
	struct url_parts a, b;
	struct buf why = { 0 };
	const char *sep = "";
	size_t n = strlen(wwwroot);
	char *msg;
	int same_host;

	url_split(url, &a);
	url_split(wwwroot, &b);
	same_host = a.nhost == b.nhost && strncasecmp(a.host, b.host, a.nhost) == 0;
	if (a.nscheme == b.nscheme && strncasecmp(a.scheme, b.scheme, a.nscheme) == 0 &&
	    same_host && a.npath == b.npath && memcmp(a.path, b.path, a.npath) == 0)
		return NULL;
	if (a.nscheme != b.nscheme || strncasecmp(a.scheme, b.scheme, a.nscheme) != 0) {
		buf_addf(&why, "%.*s, not %.*s", (int)b.nscheme, b.scheme, (int)a.nscheme, a.scheme);
		sep = "; ";
	}
	if (!same_host) {
		size_t wa = www_prefixed(&a) ? 4 : 0, wb = www_prefixed(&b) ? 4 : 0;

		if (wa != wb && a.nhost - wa == b.nhost - wb &&
		    strncasecmp(a.host + wa, b.host + wb, a.nhost - wa) == 0)
			buf_addf(&why, "%s%s www.", sep, wb ? "with" : "without");
		else
			buf_addf(&why, "%sthe host %.*s, not %.*s", sep, (int)b.nhost, b.host,
			    (int)a.nhost, a.host);
		sep = "; ";
	}
	if (a.npath != b.npath || memcmp(a.path, b.path, a.npath) != 0)
		buf_addf(&why, "%sthe path %s%.*s, not %s%.*s", sep, b.npath ? "" : "/",
		    (int)b.npath, b.path, a.npath ? "" : "/", (int)a.npath, a.path);
	while (n > 0 && wwwroot[n - 1] == '/')
		n--;
	buf_addf(&why, "): set [moodle] url = %.*s", (int)n, wwwroot);
	msg = xasprintf("[moodle] url is %s but the site calls itself %.*s (%s", url, (int)n,
	    wwwroot, why.data);
	buf_free(&why);
	return msg;
}
