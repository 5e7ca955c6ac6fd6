#include "event.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
event_free(struct event *ev)
{
	free(ev->course_short);
	free(ev->course_name);
	free(ev->name);
	free(ev->module);
	free(ev->url);
	free(ev->site_name);
	memset(ev, 0, sizeof *ev);
}

void
event_copy(struct event *dst, const struct event *src)
{
	*dst = *src;
	dst->course_short = xstrdup(src->course_short);
	dst->course_name = xstrdup(src->course_name);
	dst->name = xstrdup(src->name);
	dst->module = xstrdup(src->module);
	dst->url = xstrdup(src->url);
	dst->site_name = xstrdup(src->site_name);
}

void
event_list_push(struct event_list *l, struct event *ev)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = *ev;
	memset(ev, 0, sizeof *ev);
}

void
event_list_free(struct event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		event_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void
record_list_push(struct record_list *l, struct record *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = *r;
	memset(r, 0, sizeof *r);
}

void
record_list_free(struct record_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		event_free(&l->v[i].ev);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void
add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void
add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

void
event_add_json(const struct event *ev, json_object *o)
{
	add_int(o, "id", ev->id);
	add_int(o, "course_id", ev->course_id);
	add_str(o, "course_short", ev->course_short);
	add_str(o, "course_name", ev->course_name);
	add_str(o, "name", ev->name);
	add_str(o, "module", ev->module);
	add_int(o, "cmid", ev->cmid);
	add_str(o, "url", ev->url);
	add_str(o, "site_name", ev->site_name);
	add_int(o, "start", ev->start);
	add_int(o, "duration", ev->duration);
	add_int(o, "missing", ev->missing);
}

char *
event_to_json(const struct event *ev)
{
	json_object *o = json_object_new_object();
	char *s;

	event_add_json(ev, o);
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

static int
get_str(json_object *o, const char *k, char **out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	/* A stored string is text we wrote, unless the file was edited:
	 * struct event promises valid UTF-8 all the same. */
	*out = utf8_repair(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	return 0;
}

static int
get_int(json_object *o, const char *k, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

enum mc_err
event_from_json(const char *json, size_t len, struct event *ev, struct err *e)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	int bad = 0;

	memset(ev, 0, sizeof *ev);
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return err_set(e, MC_ERR_DATA, "stored conference is not JSON");
	}
	json_tokener_free(tok);
	bad |= get_int(o, "id", &ev->id);
	bad |= get_int(o, "course_id", &ev->course_id);
	bad |= get_str(o, "course_short", &ev->course_short);
	bad |= get_str(o, "course_name", &ev->course_name);
	bad |= get_str(o, "name", &ev->name);
	bad |= get_str(o, "module", &ev->module);
	bad |= get_int(o, "cmid", &ev->cmid);
	bad |= get_str(o, "url", &ev->url);
	bad |= get_str(o, "site_name", &ev->site_name);
	bad |= get_int(o, "start", &ev->start);
	bad |= get_int(o, "duration", &ev->duration);
	bad |= get_int(o, "missing", &ev->missing);
	json_object_put(o);
	if (bad) {
		event_free(ev);
		return err_set(e, MC_ERR_DATA, "stored conference lacks a field");
	}
	return MC_OK;
}

int64_t
event_end(const struct event *ev, int64_t meeting_minutes)
{
	int64_t len = ev->duration > 0 ? ev->duration : meeting_minutes * 60;

	/* Moodle's numbers are not trusted: a start or duration near the
	 * limits ends "never" rather than overflow. */
	if (len > 0 && ev->start > INT64_MAX - len)
		return INT64_MAX;
	return ev->start + len;
}

const char *
ping_state_name(enum ping_state s)
{
	switch (s) {
	case PING_NONE:    return "none";
	case PING_CLAIMED: return "claimed";
	case PING_SENT:    return "sent";
	case PING_DONE:    return "done";
	}
	return "?";
}
