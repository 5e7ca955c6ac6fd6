/* dump: the state as a table sorted by start, or as JSON for scripts.
 * Opens the state read-only: never creates nor writes it. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "event.h"
#include "render.h"
#include "store.h"

/* A cell's text on one line: control characters become spaces. */
static char *
cell(const char *s)
{
	char *t = xstrdup(s != NULL && *s != '\0' ? s : "-"), *p;

	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

/* Columns are as wide as their text in code points (what a terminal shows
 * for most text). */
enum { COL_START, COL_COURSE, COL_NAME, COL_MESSAGE, COL_PING, NCOLS };

static const char *const heads[NCOLS] = { "START", "COURSE", "NAME", "MESSAGE", "PING" };

static void
print_row(struct ctx *c, char *const cols[NCOLS], const size_t w[NCOLS])
{
	struct buf b = { 0 };
	size_t i, n;

	for (i = 0; i < NCOLS; i++) {
		buf_adds(&b, cols[i]);
		if (i == NCOLS - 1)
			break;
		for (n = utf8_count(cols[i]); n < w[i] + 2; n++)
			buf_add(&b, " ", 1);
	}
	out(c, "%s", b.data);
	buf_free(&b);
}

static void
print_table(struct ctx *c, const struct record_list *l)
{
	char *(*rows)[NCOLS] = xcalloc(l->n ? l->n : 1, sizeof *rows);
	size_t w[NCOLS], i, j;
	char when[32];

	for (j = 0; j < NCOLS; j++)
		w[j] = utf8_count(heads[j]);
	for (i = 0; i < l->n; i++) {
		const struct record *r = &l->v[i];

		rows[i][COL_START] = xstrdup(fmt_local_time((time_t)r->ev.start, when));
		rows[i][COL_COURSE] = cell(r->ev.course_short);
		rows[i][COL_NAME] = cell(r->ev.name);
		rows[i][COL_MESSAGE] = cell(r->msg.msg_id);
		rows[i][COL_PING] = xstrdup(ping_state_name(r->msg.ping));
		for (j = 0; j < NCOLS; j++)
			if (utf8_count(rows[i][j]) > w[j])
				w[j] = utf8_count(rows[i][j]);
	}
	print_row(c, (char *const *)heads, w);
	for (i = 0; i < l->n; i++) {
		print_row(c, rows[i], w);
		for (j = 0; j < NCOLS; j++)
			free(rows[i][j]);
	}
	free(rows);
}

static void
print_json(struct ctx *c, const struct record_list *l)
{
	json_object *a;
	size_t i;

	if (l->n == 0) {
		out(c, "[]");
		return;
	}
	a = json_object_new_array();
	for (i = 0; i < l->n; i++) {
		json_object *o = json_object_new_object();

		record_add_json(&l->v[i], o);
		json_object_array_add(a, o);
	}
	out(c, "%s", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

enum mc_err
verb_dump(struct ctx *c, struct err *e)
{
	struct record_list l = { 0 };
	struct store *s;
	enum mc_err rc;

	rc = ctx_load_config(c, CONFIG_NEED_STATE, e);
	if (rc != MC_OK)
		return rc;
	rc = store_open(c->cfg.state_path, STORE_RDONLY, &s, e);
	if (rc == MC_ERR_NOTFOUND) {
		/* Scripts get an empty array: still JSON. */
		out(c, "%s", c->json ? "[]" : "no state yet");
		return MC_OK;
	}
	if (rc != MC_OK)
		return rc;
	rc = store_load_all(s, &l, e);
	store_close(s);
	if (rc == MC_OK) {
		if (c->json)
			print_json(c, &l);
		else
			print_table(c, &l);
	}
	record_list_free(&l);
	return rc;
}
