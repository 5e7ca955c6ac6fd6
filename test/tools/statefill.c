/* statefill: build and read a state file for the ping tests and the
 * benchmark, through state/store (so the file is what moodlecord writes).
 *
 *   statefill STATE put          records from stdin, one per line, fields
 *                                separated by tabs:
 *                                ID START DURATION PING PING_ID PING_AT COURSE NAME URL
 *                                START and PING_AT: "now", "now+N", "now-N"
 *                                (seconds) or Unix seconds; PING: none,
 *                                claimed, sent or done; "-" = empty string.
 *   statefill STATE show ID      prints "PING PING_ID AGE" of ID: AGE =
 *                                now - PING_AT in seconds ("-" for an
 *                                empty id or a PING_AT of 0), or "absent".
 *   statefill STATE bench N      N conferences, none due for ping now: two
 *                                running and pinged (started 30 minutes
 *                                ago, 90 minutes long), the rest starting
 *                                every 4 minutes from an hour from now.
 *
 * Exit 0, or 1 with one line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "store.h"
#include "store_internal.h"

static int
parse_time(const char *s, int64_t now, int64_t *out)
{
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (strncmp(s, "now+", 4) == 0 || strncmp(s, "now-", 4) == 0) {
		if (parse_int64(s + 4, 0, INT64_C(1) << 40, &d) != 0)
			return -1;
		*out = s[3] == '+' ? now + d : now - d;
		return 0;
	}
	return parse_int64(s, 0, INT64_MAX, out);
}

static int
parse_ping(const char *s, enum ping_state *out)
{
	enum ping_state p;

	for (p = PING_NONE; p <= PING_DONE; p++) {
		if (strcmp(s, ping_state_name(p)) == 0) {
			*out = p;
			return 0;
		}
	}
	return -1;
}

static char *
field(const char *s)
{
	return xstrdup(strcmp(s, "-") == 0 ? "" : s);
}

/* One input line into r; -1 when it is not one. */
static int
parse_line(char *line, int64_t now, struct record *r)
{
	char *f[9], *p = line;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	while (n < 9) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 9 || p != NULL)
		return -1;
	memset(r, 0, sizeof *r);
	if (parse_int64(f[0], 1, INT64_MAX, &r->ev.id) != 0 ||
	    parse_time(f[1], now, &r->ev.start) != 0 ||
	    parse_int64(f[2], 0, INT64_MAX, &r->ev.duration) != 0 ||
	    parse_ping(f[3], &r->msg.ping) != 0 ||
	    parse_time(f[5], now, &r->msg.ping_at) != 0 ||
	    strlen(f[4]) >= sizeof r->msg.ping_id)
		return -1;
	if (strcmp(f[4], "-") != 0)
		memcpy(r->msg.ping_id, f[4], strlen(f[4]) + 1);
	r->ev.course_id = 7;
	r->ev.course_short = field(f[6]);
	r->ev.course_name = field(f[6]);
	r->ev.name = field(f[7]);
	r->ev.module = xstrdup("bigbluebuttonbn");
	r->ev.cmid = r->ev.id + 1000;
	r->ev.url = field(f[8]);
	r->ev.site_name = xstrdup("Fake Moodle");
	memcpy(r->msg.msg_id, "1100000000000000000", 20);
	memcpy(r->msg.hash, "0123456789abcdef", 17);
	return 0;
}

static enum mc_err
put(struct store *s, int64_t now, struct err *e)
{
	struct record_list l = { 0 };
	struct record r;
	char line[4096];
	size_t lineno = 0;
	enum mc_err rc;

	while (fgets(line, sizeof line, stdin) != NULL) {
		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (parse_line(line, now, &r) != 0) {
			record_list_free(&l);
			return err_set(e, MC_ERR_USAGE, "stdin line %zu: not 9 fields "
			    "ID START DURATION PING PING_ID PING_AT COURSE NAME URL", lineno);
		}
		record_list_push(&l, &r);
	}
	rc = store_put_many(s, l.v, l.n, e);
	record_list_free(&l);
	return rc;
}

static enum mc_err
show(struct store *s, const char *arg, int64_t now, struct err *e)
{
	struct record r;
	int64_t id;
	enum mc_err rc;

	if (parse_int64(arg, 1, INT64_MAX, &id) != 0)
		return err_set(e, MC_ERR_USAGE, "show: not an id: %s", arg);
	rc = store_get(s, id, &r, e);
	if (rc == MC_ERR_NOTFOUND) {
		puts("absent");
		return MC_OK;
	}
	if (rc != MC_OK)
		return rc;
	printf("%s %s ", ping_state_name(r.msg.ping), r.msg.ping_id[0] ? r.msg.ping_id : "-");
	if (r.msg.ping_at == 0)
		puts("-");
	else
		printf("%lld\n", (long long)(now - r.msg.ping_at));
	event_free(&r.ev);
	return MC_OK;
}

static enum mc_err
bench(struct store *s, const char *arg, int64_t now, struct err *e)
{
	struct record_list l = { 0 };
	int64_t n, i;
	enum mc_err rc;

	if (parse_int64(arg, 2, 10000000, &n) != 0)
		return err_set(e, MC_ERR_USAGE, "bench: N must be at least 2: %s", arg);
	for (i = 0; i < n; i++) {
		struct record r = { 0 };

		r.ev.id = 100000 + i;
		r.ev.course_id = 1 + i % 40;
		r.ev.course_short = xasprintf("C%02lld", (long long)(1 + i % 40));
		r.ev.course_name = xasprintf("Course number %lld", (long long)(1 + i % 40));
		r.ev.name = xasprintf("Weekly session %lld", (long long)i);
		r.ev.module = xstrdup("bigbluebuttonbn");
		r.ev.cmid = 500000 + i;
		r.ev.url = xasprintf("https://moodle.example.edu/mod/bigbluebuttonbn/view.php?id=%lld",
		    (long long)r.ev.cmid);
		r.ev.site_name = xstrdup("Example University");
		r.ev.duration = 5400;
		snprintf(r.msg.msg_id, sizeof r.msg.msg_id, "%lld", 1200000000000000000LL + i);
		memcpy(r.msg.hash, "0123456789abcdef", 17);
		if (i < 2) {
			r.ev.start = now - 1800;
			r.msg.ping = PING_SENT;
			r.msg.ping_at = now - 2100;
			snprintf(r.msg.ping_id, sizeof r.msg.ping_id, "%lld",
			    1300000000000000000LL + i);
		} else {
			r.ev.start = now + 3600 + (i - 2) * 240;
		}
		record_list_push(&l, &r);
	}
	rc = store_put_many(s, l.v, l.n, e);
	record_list_free(&l);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct store *s = NULL;
	struct err e = { 0 };
	int64_t now = (int64_t)time(NULL);
	enum mc_err rc;
	int rdonly;

	if (argc < 3 || (strcmp(argv[2], "put") == 0 && argc != 3) ||
	    (strcmp(argv[2], "put") != 0 && argc != 4)) {
		fputs("usage: statefill STATE put | show ID | bench N\n", stderr);
		return 1;
	}
	rdonly = strcmp(argv[2], "show") == 0;
	rc = store_open(argv[1], rdonly ? STORE_RDONLY : STORE_CREATE, &s, &e);
	if (rc == MC_OK) {
		if (strcmp(argv[2], "put") == 0)
			rc = put(s, now, &e);
		else if (rdonly)
			rc = show(s, argv[3], now, &e);
		else if (strcmp(argv[2], "bench") == 0)
			rc = bench(s, argv[3], now, &e);
		else
			rc = err_set(&e, MC_ERR_USAGE, "unknown command %s", argv[2]);
		store_close(s);
	}
	if (rc != MC_OK) {
		fprintf(stderr, "statefill: %s\n", e.msg);
		return 1;
	}
	return 0;
}
