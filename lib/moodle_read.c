/* moodle_read: the answers of the Moodle web service taken apart, and
 * Moodle's text made fit to show. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "moodle_int.h"

/* ---- text ---- */


static const struct {
	const char *name;
	uint32_t cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xa0 }, { "iexcl", 0xa1 }, { "cent", 0xa2 }, { "pound", 0xa3 },
	{ "euro", 0x20ac }, { "yen", 0xa5 }, { "sect", 0xa7 }, { "copy", 0xa9 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "reg", 0xae }, { "deg", 0xb0 },
	{ "plusmn", 0xb1 }, { "middot", 0xb7 }, { "frac12", 0xbd }, { "iquest", 0xbf },
	{ "times", 0xd7 }, { "divide", 0xf7 }, { "szlig", 0xdf },
	{ "Agrave", 0xc0 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 }, { "Atilde", 0xc3 },
	{ "Auml", 0xc4 }, { "Aring", 0xc5 }, { "AElig", 0xc6 }, { "Ccedil", 0xc7 },
	{ "Egrave", 0xc8 }, { "Eacute", 0xc9 }, { "Ecirc", 0xca }, { "Euml", 0xcb },
	{ "Igrave", 0xcc }, { "Iacute", 0xcd }, { "Icirc", 0xce }, { "Iuml", 0xcf },
	{ "Ntilde", 0xd1 }, { "Ograve", 0xd2 }, { "Oacute", 0xd3 }, { "Ocirc", 0xd4 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "Oslash", 0xd8 }, { "Ugrave", 0xd9 },
	{ "Uacute", 0xda }, { "Ucirc", 0xdb }, { "Uuml", 0xdc }, { "Yacute", 0xdd },
	{ "agrave", 0xe0 }, { "aacute", 0xe1 }, { "acirc", 0xe2 }, { "atilde", 0xe3 },
	{ "auml", 0xe4 }, { "aring", 0xe5 }, { "aelig", 0xe6 }, { "ccedil", 0xe7 },
	{ "egrave", 0xe8 }, { "eacute", 0xe9 }, { "ecirc", 0xea }, { "euml", 0xeb },
	{ "igrave", 0xec }, { "iacute", 0xed }, { "icirc", 0xee }, { "iuml", 0xef },
	{ "ntilde", 0xf1 }, { "ograve", 0xf2 }, { "oacute", 0xf3 }, { "ocirc", 0xf4 },
	{ "otilde", 0xf5 }, { "ouml", 0xf6 }, { "oslash", 0xf8 }, { "ugrave", 0xf9 },
	{ "uacute", 0xfa }, { "ucirc", 0xfb }, { "uuml", 0xfc }, { "yacute", 0xfd },
	{ "yuml", 0xff }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "ldquo", 0x201c }, { "rdquo", 0x201d },
	{ "bdquo", 0x201e }, { "bull", 0x2022 }, { "hellip", 0x2026 }, { "trade", 0x2122 },
	{ "larr", 0x2190 }, { "rarr", 0x2192 },
};

/* Decode the entity at s (just after '&', n bytes left): its code point
 * and length up to and including ';', or 0 when it is not one. */
static size_t
entity(const char *s, size_t n, uint32_t *cp)
{
	size_t i, len;

	for (len = 0; len < n && len < 32 && s[len] != ';'; len++)
		if (!isalnum((unsigned char)s[len]) && !(len == 0 && s[len] == '#'))
			return 0;
	if (len == 0 || len >= n || s[len] != ';')
		return 0;
	if (s[0] == '#') {
		uint64_t v = 0;
		int hex = len > 1 && (s[1] == 'x' || s[1] == 'X');
		size_t k = hex ? 2 : 1;

		if (k >= len)
			return 0;
		for (; k < len; k++) {
			int c = (unsigned char)s[k], d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				return 0;
			v = v * (hex ? 16 : 10) + (uint64_t)d;
			if (v > 0x10ffff)
				v = 0x110000;   /* stays invalid, cannot overflow */
		}
		*cp = (uint32_t)v;  /* buf_add_cp turns invalid ones into U+FFFD */
		return len + 1;
	}
	for (i = 0; i < sizeof entities / sizeof entities[0]; i++) {
		if (strlen(entities[i].name) == len && strncmp(entities[i].name, s, len) == 0) {
			*cp = entities[i].cp;
			return len + 1;
		}
	}
	return 0;
}

char *
moodle_text(const char *s, size_t len)
{
	char *clean = utf8_repair(s ? s : "", s ? len : 0), *p;
	struct buf b = { 0 };

	for (p = clean; *p; ) {
		char *amp = strchr(p, '&');
		uint32_t cp;
		size_t n;

		if (amp == NULL) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(amp - p));
		n = entity(amp + 1, strlen(amp + 1), &cp);
		if (n == 0) {
			buf_add(&b, "&", 1);
			p = amp + 1;
		} else {
			buf_add_cp(&b, cp);
			p = amp + 1 + n;
		}
	}
	free(clean);
	return buf_take(&b);
}

/* ---- JSON helpers --------------------------------------------------- */

/* An integer member (a JSON number, or a string of digits as very old
 * sites send); 0 when absent or null, -1 when of another type. */
int
moodle_json_int(json_object *o, const char *key, int64_t *v)
{
	json_object *m;

	*v = 0;
	if (!json_object_object_get_ex(o, key, &m) || m == NULL)
		return 0;
	if (json_object_is_type(m, json_type_int)) {
		*v = json_object_get_int64(m);
		return 0;
	}
	if (json_object_is_type(m, json_type_string) &&
	    parse_int64(json_object_get_string(m), INT64_MIN, INT64_MAX, v) == 0)
		return 0;
	if (json_object_is_type(m, json_type_boolean)) {
		*v = json_object_get_boolean(m);
		return 0;
	}
	return -1;
}

/* A string member decoded for showing; "" when absent or null. */
char *
moodle_json_text(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || m == NULL)
		return xstrdup("");
	if (json_object_is_type(m, json_type_string))
		return moodle_text(json_object_get_string(m), (size_t)json_object_get_string_len(m));
	return moodle_text(json_object_get_string(m), strlen(json_object_get_string(m)));
}

/* A string member as sent (NULL when absent, null or not a string). */
const char *
moodle_json_str(json_object *o, const char *key)
{
	json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

json_object *
moodle_json_array(json_object *o, const char *key)
{
	json_object *m;

	if (o == NULL || !json_object_object_get_ex(o, key, &m) ||
	    !json_object_is_type(m, json_type_array))
		return NULL;
	return m;
}

void
moodle_courses_free(struct courses *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].shortname);
		free(c->v[i].fullname);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

static int
cmp_course(const void *a, const void *b)
{
	const struct course *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

const struct course *
moodle_course_find(const struct courses *c, int64_t id)
{
	struct course key = { .id = id };

	return bsearch(&key, c->v, c->n, sizeof *c->v, cmp_course);
}

static int
course_selected(const struct config *cfg, int64_t id, const char *rawshort, const char *shortname)
{
	size_t i;

	if (cfg->ncourses == 0)
		return 1;
	for (i = 0; i < cfg->ncourses; i++) {
		int64_t v;

		if (parse_int64(cfg->courses[i], 1, INT64_MAX, &v) == 0 && v == id)
			return 1;
		if (strcmp(cfg->courses[i], shortname) == 0 || (rawshort && strcmp(cfg->courses[i], rawshort) == 0))
			return 1;
	}
	return 0;
}

/* The enrolled courses, sorted by id, only those cfg selects. */
enum mc_err
moodle_read_courses(const struct config *cfg, json_object *j, struct moodle_site *site,
    struct courses *out, struct err *e)
{
	size_t i, n;

	if (!json_object_is_type(j, json_type_array))
		return err_set(e, MC_ERR_DATA, "Moodle " FN_COURSES ": the answer is not a list of courses");
	n = json_object_array_length(j);
	out->v = xcalloc(n, sizeof *out->v);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(j, i);
		struct course co = { 0 };

		if (!json_object_is_type(c, json_type_object) || moodle_json_int(c, "id", &co.id) != 0 || co.id <= 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_COURSES ": a course without an id");
		site->ncourses++;
		co.shortname = moodle_json_text(c, "shortname");
		if (!course_selected(cfg, co.id, moodle_json_str(c, "shortname"), co.shortname)) {
			free(co.shortname);
			continue;
		}
		co.fullname = moodle_json_text(c, "fullname");
		out->v[out->n++] = co;
	}
	qsort(out->v, out->n, sizeof *out->v, cmp_course);
	for (i = 0; site->selected != NULL && i < site->nselected; i++)
		free(site->selected[i].shortname);
	free(site->selected);
	site->nselected = out->n;
	site->selected = xcalloc(out->n ? out->n : 1, sizeof *site->selected);
	for (i = 0; i < out->n; i++) {
		site->selected[i].id = out->v[i].id;
		site->selected[i].shortname = xstrdup(out->v[i].shortname ? out->v[i].shortname : "");
	}
	return MC_OK;
}

void
moodle_found_clear(struct found *f)
{
	free(f->name);
	free(f->event_name);
	memset(f, 0, sizeof *f);
}

void
moodle_found_free(struct found_list *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		moodle_found_clear(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* The config's name of module when cfg wants it (BBB by default), else
 * NULL: a found conference points to it rather than holding a copy. */
static const char *
module_wanted(const struct config *cfg, const char *module)
{
	size_t i;

	if (cfg->nmodules == 0)
		return strcmp(module, BBB) == 0 ? BBB : NULL;
	for (i = 0; i < cfg->nmodules; i++)
		if (strcmp(cfg->modules[i], module) == 0)
			return cfg->modules[i];
	return NULL;
}

enum mc_err
moodle_read_events(const struct config *cfg, json_object *j, const struct courses *courses,
    struct found_list *out, struct err *e)
{
	json_object *evs = json_object_is_type(j, json_type_object) ? moodle_json_array(j, "events") : NULL;
	size_t i, n;

	if (evs == NULL)
		return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": the answer has no events list");
	n = json_object_array_length(evs);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(evs, i);
		const char *module = moodle_json_str(v, "modulename"), *wanted;
		const struct course *co;
		struct found c = { 0 };
		int64_t id, courseid, instance, start, duration;

		if (!json_object_is_type(v, json_type_object))
			return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": an event is not an object");
		if (moodle_json_int(v, "id", &id) != 0 || moodle_json_int(v, "courseid", &courseid) != 0 ||
		    moodle_json_int(v, "instance", &instance) != 0 || moodle_json_int(v, "timestart", &start) != 0 ||
		    moodle_json_int(v, "timeduration", &duration) != 0 || id <= 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": an event with a bad id or time");
		wanted = module != NULL ? module_wanted(cfg, module) : NULL;
		if (wanted == NULL)
			continue;
		co = moodle_course_find(courses, courseid);
		if (co == NULL)
			continue;
		/* Before 1970: the state could not key it, so it would be posted
		 * anew on every sync. */
		if (start <= 0)
			return err_set(e, MC_ERR_DATA, "Moodle " FN_EVENTS ": an event with a bad id or time");
		c.id = id;
		c.course_id = courseid;
		/* the course's names are the courses list's until the hand
		 * over; of the answer only what a message shows is kept */
		c.module = wanted;
		c.start = start;
		c.duration = duration > 0 ? duration : 0;
		c.instance = instance;
		c.event_name = moodle_json_text(v, "name");
		if (out->n == out->cap) {
			/* by half: at 100,000 conferences a doubled array's
			 * slack is megabytes */
			out->cap = out->cap ? out->cap + out->cap / 2 : 16;
			out->v = xrealloc(out->v, out->cap * sizeof *out->v);
		}
		out->v[out->n++] = c;
	}
	return MC_OK;
}

char *
moodle_name_unscheduled(const char *name)
{
	static const char suffix[] = " is scheduled for";
	size_t n = strlen(name), k = sizeof suffix - 1;

	if (n > k && strcmp(name + n - k, suffix) == 0)
		return xstrndup(name, n - k);
	return xstrdup(name);
}

int
moodle_found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return (x->id > y->id) - (x->id < y->id);
}

