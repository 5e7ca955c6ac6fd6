/* fuzz_render: the Discord bodies of a conference whose text is hostile.
 *
 * Input: 8 bytes start, 8 bytes now (little-endian), 1 byte of flags, then
 * NUL-separated strings: name, course name, site name, url, role id,
 * username (absent ones are NULL).  Flag bit 0: no render_opts.
 *
 * Properties: both bodies are JSON objects of valid UTF-8, within
 * Discord's limits in code points, carry allowed_mentions with an empty
 * parse list, mention nothing but the configured role, and are the same
 * on a second call. */
#include <json-c/json.h>

#include "fuzz.h"
#include "render.h"
#include "url.h"

static int64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static json_object *
member(json_object *o, const char *key)
{
	json_object *m = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &m))
		return NULL;
	return m;
}

/* A string member's length in code points; 0 when absent. */
static size_t
text_len(json_object *o, const char *key, size_t max)
{
	json_object *m = member(o, key);
	const char *s;
	size_t n;

	if (m == NULL)
		return 0;
	FUZZ_CHECK(json_object_is_type(m, json_type_string));
	s = json_object_get_string(m);
	FUZZ_CHECK(strlen(s) == (size_t)json_object_get_string_len(m));
	n = utf8_count(s);
	FUZZ_CHECK(n <= max);
	/* No mention survives in text (the role's own mention is checked by
	 * the caller before it looks here). */
	FUZZ_CHECK(strstr(s, "@everyone") == NULL);
	FUZZ_CHECK(strstr(s, "@here") == NULL);
	FUZZ_CHECK(strstr(s, "<@") == NULL);
	FUZZ_CHECK(strstr(s, "<#") == NULL);
	return n;
}

/* Parse body: valid UTF-8 JSON object with allowed_mentions.parse == []
 * and roles [role] or none. */
static json_object *
parse_body(const char *body, const char *role)
{
	json_tokener *tok = json_tokener_new();
	json_object *o, *am, *parse, *roles;
	size_t n = strlen(body);

	FUZZ_CHECK(utf8_valid(body, n));
	o = json_tokener_parse_ex(tok, body, (int)n);
	FUZZ_CHECK(o != NULL && json_tokener_get_error(tok) == json_tokener_success);
	FUZZ_CHECK(json_tokener_get_parse_end(tok) == n);
	json_tokener_free(tok);
	FUZZ_CHECK(json_object_is_type(o, json_type_object));
	am = member(o, "allowed_mentions");
	FUZZ_CHECK(am != NULL && json_object_is_type(am, json_type_object));
	parse = member(am, "parse");
	FUZZ_CHECK(parse != NULL && json_object_is_type(parse, json_type_array));
	FUZZ_CHECK(json_object_array_length(parse) == 0);
	roles = member(am, "roles");
	if (role == NULL) {
		FUZZ_CHECK(roles == NULL);
	} else {
		FUZZ_CHECK(roles != NULL && json_object_array_length(roles) == 1);
		FUZZ_CHECK(strcmp(json_object_get_string(json_object_array_get_idx(roles, 0)), role) == 0);
	}
	text_len(o, "username", 80);
	return o;
}

static int
role_usable(const char *r)
{
	return r != NULL && snowflake_valid(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[17] = { 0 };
	char *input, *text, *strs[6] = { NULL }, *p, *end;
	struct event ev = { 0 };
	struct render_opts opts, *o;
	json_object *body, *embeds, *embed, *content;
	const char *role;
	char *c1, *c2, *p1, *p2, hash[17];
	size_t ntitle, ndesc, nfooter, i, k;
	int64_t now;

	memcpy(head, data, size < sizeof head ? size : sizeof head);
	ev.start = le64(head);
	now = le64(head + 8);
	input = size > sizeof head ? fuzz_str(data + sizeof head, size - sizeof head) : NULL;
	if (input != NULL) {
		p = input;
		end = input + (size - sizeof head);
		for (k = 0; k < 6 && p <= end; k++) {
			strs[k] = p;
			p += strlen(p) + 1;
		}
	}
	ev.id = 1;
	ev.course_id = 2;
	ev.course_short = (char *)"RM101";
	ev.module = (char *)"bigbluebuttonbn";
	ev.name = strs[0];
	ev.course_name = strs[1];
	ev.site_name = strs[2];
	ev.url = strs[3];
	opts.role_id = strs[4];
	opts.username = strs[5];
	o = (head[16] & 1) ? NULL : &opts;
	role = o != NULL && role_usable(o->role_id) ? o->role_id : NULL;

	c1 = render_conference(&ev, o);
	c2 = render_conference(&ev, o);
	FUZZ_CHECK(strcmp(c1, c2) == 0);
	body = parse_body(c1, NULL);
	embeds = member(body, "embeds");
	FUZZ_CHECK(embeds != NULL && json_object_is_type(embeds, json_type_array));
	FUZZ_CHECK(json_object_array_length(embeds) == 1);
	embed = json_object_array_get_idx(embeds, 0);
	ntitle = text_len(embed, "title", 256);
	FUZZ_CHECK(ntitle > 0);
	ndesc = text_len(embed, "description", 4096);
	nfooter = text_len(member(embed, "footer"), "text", 2048);
	FUZZ_CHECK(ntitle + ndesc + nfooter <= 6000);
	FUZZ_CHECK(member(body, "content") == NULL);
	if (member(embed, "url") != NULL) {
		const char *u = json_object_get_string(member(embed, "url"));

		FUZZ_CHECK(strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0);
		for (i = 0; u[i]; i++)
			FUZZ_CHECK((unsigned char)u[i] > 0x20 && (unsigned char)u[i] < 0x7f);
	}
	render_hash(c1, hash);
	FUZZ_CHECK(strlen(hash) == 16 && strspn(hash, "0123456789abcdef") == 16);
	json_object_put(body);

	p1 = render_ping(&ev, o, now);
	p2 = render_ping(&ev, o, now);
	FUZZ_CHECK(strcmp(p1, p2) == 0);
	body = parse_body(p1, role);
	FUZZ_CHECK(member(body, "embeds") == NULL);
	content = member(body, "content");
	FUZZ_CHECK(content != NULL && json_object_is_type(content, json_type_string));
	{
		const char *s = json_object_get_string(content);
		size_t skip = 0;

		FUZZ_CHECK(utf8_count(s) <= 2000);
		if (role != NULL) {
			char *want = xasprintf("<@&%s> ", role);

			FUZZ_CHECK(strncmp(s, want, strlen(want)) == 0);
			skip = strlen(want);
			free(want);
		}
		/* The link is the site's own, not text from Moodle: left as is. */
		text = xstrdup(s + skip);
		if (ev.url != NULL) {
			char *link = xasprintf(": <%s>", ev.url);
			size_t tn = strlen(text), ln = strlen(link);

			if (tn >= ln && strcmp(text + tn - ln, link) == 0)
				text[tn - ln] = '\0';
			free(link);
		}
		FUZZ_CHECK(strstr(text, "@everyone") == NULL);
		FUZZ_CHECK(strstr(text, "@here") == NULL);
		FUZZ_CHECK(strstr(text, "<@") == NULL);
		FUZZ_CHECK(strstr(text, "<#") == NULL);
		free(text);
		FUZZ_CHECK(strstr(s, now >= ev.start ? " started <t:" : " starts <t:") != NULL);
	}
	json_object_put(body);

	free(c1);
	free(c2);
	free(p1);
	free(p2);
	free(input);
	return 0;
}
