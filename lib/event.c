#include "event.h"

#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
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

	if (l->pool != NULL) {
		strpool_free(l->pool);
		free(l->pool);
	} else {
		for (i = 0; i < l->n; i++)
			event_free(&l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- strpool ----------------------------------------------------------- */

/* Blocks of this many bytes (a longer string gets a block of its own). */
#define STRPOOL_BLOCK ((size_t)64 << 10)

struct strpool_block {
	struct strpool_block *next;
	size_t used, size;
	char data[];
};

char *
strpool_add(struct strpool *p, const char *s)
{
	struct strpool_block *b = p->blocks;
	size_t n;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if (b == NULL || b->size - b->used < n) {
		size_t size = n > STRPOOL_BLOCK ? n : STRPOOL_BLOCK;

		b = xmalloc(sizeof *b + size);
		b->size = size;
		b->used = 0;
		if (n > STRPOOL_BLOCK && p->blocks != NULL) {
			/* a big one goes behind the block being filled */
			b->next = p->blocks->next;
			p->blocks->next = b;
		} else {
			b->next = p->blocks;
			p->blocks = b;
		}
	}
	out = b->data + b->used;
	memcpy(out, s, n);
	b->used += n;
	return out;
}

/* FNV-1a: the strings are names, not chosen by an attacker to collide
 * (and a collision costs time, never a wrong answer). */
static size_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static void
strpool_grow(struct strpool *p)
{
	size_t n = p->nslots ? p->nslots * 2 : 64, i;
	const char **slots = xcalloc(n, sizeof *slots);

	for (i = 0; i < p->nslots; i++) {
		size_t k;

		if (p->slots[i] == NULL)
			continue;
		for (k = str_hash(p->slots[i]) & (n - 1); slots[k] != NULL; k = (k + 1) & (n - 1))
			;
		slots[k] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = n;
}

char *
strpool_intern(struct strpool *p, const char *s)
{
	size_t k;

	if (s == NULL)
		return NULL;
	if (2 * (p->used + 1) > p->nslots)
		strpool_grow(p);
	for (k = str_hash(s) & (p->nslots - 1); p->slots[k] != NULL; k = (k + 1) & (p->nslots - 1))
		if (strcmp(p->slots[k], s) == 0)
			return (char *)p->slots[k];
	p->slots[k] = strpool_add(p, s);
	p->used++;
	return (char *)p->slots[k];
}

void
strpool_free(struct strpool *p)
{
	while (p->blocks != NULL) {
		struct strpool_block *b = p->blocks;

		p->blocks = b->next;
		free(b);
	}
	free(p->slots);
	memset(p, 0, sizeof *p);
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

/* ---- the stored form: one key table per struct ------------------------ */

/* The state file keeps each struct as a flat JSON object, one key per
 * field.  These tables are the only place that names the keys: writing,
 * reading and `dump --json` all go through them, so a field added to a
 * struct (and to its table) is stored, read back and shown alike. */
enum field_type {
	FIELD_INT,      /* int64_t                                      */
	FIELD_STR,      /* char *, owned, valid UTF-8 once read          */
	FIELD_CHARS,    /* char[cap], NUL-terminated                     */
	FIELD_PING      /* enum ping_state, stored by ping_state_name    */
};

struct field {
	const char *key;
	enum field_type type;
	size_t off;
	size_t cap;     /* FIELD_CHARS only */
	int optional;   /* a later key: absent reads as empty or 0, and an
	                   empty or 0 value is not written, so a file stays as
	                   an older moodlecord wrote it until the key is used */
};

#define FIELD(type, st, member, key, cap) { key, type, offsetof(st, member), cap, 0 }
#define OPTIONAL(type, st, member, key, cap) { key, type, offsetof(st, member), cap, 1 }

static const struct field event_fields[] = {
	FIELD(FIELD_INT, struct event, id, "id", 0),
	FIELD(FIELD_INT, struct event, course_id, "course_id", 0),
	FIELD(FIELD_STR, struct event, course_short, "course_short", 0),
	FIELD(FIELD_STR, struct event, course_name, "course_name", 0),
	FIELD(FIELD_STR, struct event, name, "name", 0),
	FIELD(FIELD_STR, struct event, module, "module", 0),
	FIELD(FIELD_INT, struct event, cmid, "cmid", 0),
	FIELD(FIELD_STR, struct event, url, "url", 0),
	FIELD(FIELD_STR, struct event, site_name, "site_name", 0),
	FIELD(FIELD_INT, struct event, start, "start", 0),
	FIELD(FIELD_INT, struct event, duration, "duration", 0),
	FIELD(FIELD_INT, struct event, missing, "missing", 0),
};

static const struct field message_fields[] = {
	FIELD(FIELD_CHARS, struct message, msg_id, "msg_id", sizeof ((struct message *)0)->msg_id),
	FIELD(FIELD_CHARS, struct message, hash, "hash", sizeof ((struct message *)0)->hash),
	FIELD(FIELD_CHARS, struct message, ping_id, "ping_id", sizeof ((struct message *)0)->ping_id),
	FIELD(FIELD_PING, struct message, ping, "ping", 0),
	FIELD(FIELD_INT, struct message, ping_at, "ping_at", 0),
	FIELD(FIELD_INT, struct message, ping_offset, "ping_offset", 0),
	FIELD(FIELD_INT, struct message, ping_sent_at, "ping_sent_at", 0),
	FIELD(FIELD_CHARS, struct message, ping_old, "ping_old", sizeof ((struct message *)0)->ping_old),
	FIELD(FIELD_CHARS, struct message, route, "route", sizeof ((struct message *)0)->route),
	FIELD(FIELD_CHARS, struct message, thread_id, "thread_id", sizeof ((struct message *)0)->thread_id),
	OPTIONAL(FIELD_CHARS, struct message, sevent_id, "sevent_id",
	    sizeof ((struct message *)0)->sevent_id),
	OPTIONAL(FIELD_CHARS, struct message, sevent_hash, "sevent_hash",
	    sizeof ((struct message *)0)->sevent_hash),
	OPTIONAL(FIELD_INT, struct message, sevent_start, "sevent_start", 0),
	OPTIONAL(FIELD_CHARS, struct message, sevent_guild, "sevent_guild",
	    sizeof ((struct message *)0)->sevent_guild),
};

#define NFIELDS(t) (sizeof (t) / sizeof (t)[0])

static void
fields_add(const struct field *f, size_t n, const void *obj, json_object *o)
{
	const char *base = obj;
	size_t i;

	for (i = 0; i < n; i++) {
		const void *p = base + f[i].off;
		json_object *v = NULL;

		if (f[i].optional && (f[i].type == FIELD_INT ? *(const int64_t *)p == 0 :
		    *(const char *)p == '\0'))
			continue;

		switch (f[i].type) {
		case FIELD_INT:
			v = json_object_new_int64(*(const int64_t *)p);
			break;
		case FIELD_STR:
			v = json_object_new_string(*(char *const *)p ? *(char *const *)p : "");
			break;
		case FIELD_CHARS:
			v = json_object_new_string_len(p, (int)strnlen(p, f[i].cap - 1));
			break;
		case FIELD_PING:
			v = json_object_new_string(ping_state_name(*(const enum ping_state *)p));
			break;
		}
		json_object_object_add(o, f[i].key, v);
	}
}

static int
ping_state_parse(const char *name, enum ping_state *out)
{
	int i;

	for (i = PING_NONE; i <= PING_DONE; i++) {
		if (strcmp(name, ping_state_name((enum ping_state)i)) == 0) {
			*out = (enum ping_state)i;
			return 0;
		}
	}
	return -1;
}

/* Read one field of f from o into p: 0, or -1 when absent, of the wrong
 * type or too long. */
static int
field_read(const struct field *f, json_object *o, void *p)
{
	json_object *v;
	size_t len;

	if (!json_object_object_get_ex(o, f->key, &v))
		return f->optional ? 0 : -1;
	if (f->type == FIELD_INT) {
		if (!json_object_is_type(v, json_type_int))
			return -1;
		*(int64_t *)p = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	len = (size_t)json_object_get_string_len(v);
	switch (f->type) {
	case FIELD_STR:
		/* A stored string is text we wrote, unless the file was
		 * edited: struct event promises valid UTF-8 all the same. */
		*(char **)p = utf8_repair(json_object_get_string(v), len);
		return 0;
	case FIELD_CHARS:
		if (len >= f->cap)
			return -1;
		memcpy(p, json_object_get_string(v), len);
		((char *)p)[len] = '\0';
		return 0;
	case FIELD_PING:
		return ping_state_parse(json_object_get_string(v), p);
	case FIELD_INT:
		break;
	}
	return -1;
}

/* Parse the JSON object [json, json + len) into obj by the table: 0, or
 * -1 (what was read is the caller's to free). */
static int
fields_parse(const struct field *f, size_t n, const char *json, size_t len, void *obj)
{
	struct json_tokener *tok;
	json_object *o;
	size_t i;
	int bad = 0;

	if (len > INT_MAX)
		return -1;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))
		bad = 1;
	json_tokener_free(tok);
	for (i = 0; i < n && !bad; i++)
		bad = field_read(&f[i], o, (char *)obj + f[i].off) != 0;
	json_object_put(o);
	return bad ? -1 : 0;
}

/* The stored text of obj by the table: a new string. */
static char *
fields_to_json(const struct field *f, size_t n, const void *obj)
{
	json_object *o = json_object_new_object();
	char *s;

	fields_add(f, n, obj, o);
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

void
event_add_json(const struct event *ev, json_object *o)
{
	fields_add(event_fields, NFIELDS(event_fields), ev, o);
}

void
record_add_json(const struct record *r, json_object *o)
{
	fields_add(event_fields, NFIELDS(event_fields), &r->ev, o);
	fields_add(message_fields, NFIELDS(message_fields), &r->msg, o);
}

char *
event_to_json(const struct event *ev)
{
	return fields_to_json(event_fields, NFIELDS(event_fields), ev);
}

enum mc_err
event_from_json(const char *json, size_t len, struct event *ev, struct err *e)
{
	memset(ev, 0, sizeof *ev);
	if (fields_parse(event_fields, NFIELDS(event_fields), json, len, ev) == 0)
		return MC_OK;
	event_free(ev);
	return err_set(e, MC_ERR_DATA, "stored conference is not the JSON object moodlecord writes");
}

char *
message_to_json(const struct message *m)
{
	return fields_to_json(message_fields, NFIELDS(message_fields), m);
}

enum mc_err
message_from_json(const char *json, size_t len, struct message *m, struct err *e)
{
	memset(m, 0, sizeof *m);
	if (fields_parse(message_fields, NFIELDS(message_fields), json, len, m) == 0)
		return MC_OK;
	memset(m, 0, sizeof *m);
	return err_set(e, MC_ERR_DATA, "stored message data is not the JSON object moodlecord writes");
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

int
message_gone(const struct message *m)
{
	return strcmp(m->hash, MESSAGE_GONE_HASH) == 0;
}
