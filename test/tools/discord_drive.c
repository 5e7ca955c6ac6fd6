/* discord_drive: drive lib/discord (and lib/render) from e2e tests,
 * without the sync verb.
 *
 *   discord_drive [-t TIMEOUT] [-c CONNECT_TIMEOUT] [-d DEADLINE_SECONDS]
 *                 [-T THREAD_ID] WEBHOOK_URL < COMMANDS
 *
 * Commands, one a line, carried out in order until the first error:
 *   post FILE                   post the JSON body in FILE    -> "posted ID"
 *   edit ID FILE                replace message ID            -> "edited ID"
 *   delete ID                   delete message ID             -> "deleted ID"
 *   get                         the webhook                   -> "webhook NAME CHANNEL"
 *   conference FILE [USERNAME]  post render_conference of the event in FILE
 *                               (the stored JSON form)        -> "posted ID"
 *   ping FILE NOW [ROLE]        post render_ping of it at time NOW -> "posted ID"
 * An error prints "error KIND: MESSAGE" on stdout and exits with the
 * status moodlecord gives KIND (exit_status, cmd/status.c); the KIND
 * tells apart the kinds that share a status (notfound, unavailable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "discord.h"
#include "event.h"
#include "render.h"

static const char *
kind_name(enum mc_err k)
{
	switch (k) {
	case MC_OK:              return "ok";
	case MC_ERR_USAGE:       return "usage";
	case MC_ERR_DATA:        return "data";
	case MC_ERR_UNAVAILABLE: return "unavailable";
	case MC_ERR_IO:          return "io";
	case MC_ERR_TEMP:        return "temp";
	case MC_ERR_AUTH:        return "auth";
	case MC_ERR_CONFIG:      return "config";
	case MC_ERR_NOTFOUND:    return "notfound";
	case MC_ERR_BUSY:        return "busy";
	}
	return "?";
}

static char *
slurp(const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		err_set(e, MC_ERR_IO, "cannot read %s", path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

static enum mc_err
load_event(const char *path, struct event *ev, struct err *e)
{
	char *json = slurp(path, e);
	enum mc_err rc;

	if (json == NULL)
		return e->kind;
	rc = event_from_json(json, strlen(json), ev, e);
	free(json);
	return rc;
}

static enum mc_err
run(struct discord *d, char *line, struct err *e)
{
	char *w[4] = { 0 }, *save = NULL, *p;
	char id[32];
	size_t n = 0;
	enum mc_err rc;

	for (p = strtok_r(line, " \t\n", &save); p != NULL && n < 4; p = strtok_r(NULL, " \t\n", &save))
		w[n++] = p;
	if (n == 0)
		return MC_OK;
	if (strcmp(w[0], "post") == 0 && n == 2) {
		char *body = slurp(w[1], e);

		if (body == NULL)
			return e->kind;
		rc = discord_post(d, body, id, e);
		free(body);
		if (rc == MC_OK)
			printf("posted %s\n", id);
		return rc;
	}
	if (strcmp(w[0], "edit") == 0 && n == 3) {
		char *body = slurp(w[2], e);

		if (body == NULL)
			return e->kind;
		rc = discord_edit(d, w[1], body, e);
		free(body);
		if (rc == MC_OK)
			printf("edited %s\n", w[1]);
		return rc;
	}
	if (strcmp(w[0], "delete") == 0 && n == 2) {
		rc = discord_delete(d, w[1], e);
		if (rc == MC_OK)
			printf("deleted %s\n", w[1]);
		return rc;
	}
	if (strcmp(w[0], "get") == 0 && n == 1) {
		char *name, *channel;

		rc = discord_get_webhook(d, &name, &channel, e);
		if (rc == MC_OK)
			printf("webhook %s %s\n", name, channel);
		free(name);
		free(channel);
		return rc;
	}
	if ((strcmp(w[0], "conference") == 0 && (n == 2 || n == 3)) ||
	    (strcmp(w[0], "ping") == 0 && (n == 3 || n == 4))) {
		struct event ev;
		struct render_opts ro = { NULL, NULL };
		char *body;
		int64_t now = 0;

		if (load_event(w[1], &ev, e) != MC_OK)
			return e->kind;
		if (w[0][0] == 'c') {
			ro.username = w[2];
			body = render_conference(&ev, &ro);
		} else {
			ro.role_id = w[3];
			if (parse_int64(w[2], INT64_MIN, INT64_MAX, &now) != 0) {
				event_free(&ev);
				return err_set(e, MC_ERR_USAGE, "ping: NOW must be a Unix time");
			}
			body = render_ping(&ev, &ro, now);
		}
		event_free(&ev);
		rc = discord_post(d, body, id, e);
		free(body);
		if (rc == MC_OK)
			printf("posted %s\n", id);
		return rc;
	}
	return err_set(e, MC_ERR_USAGE, "unknown command '%s'", w[0]);
}

int
main(int argc, char *argv[])
{
	long timeout = 30, connect_timeout = 10;
	int64_t deadline = 0, v;
	const char *thread = NULL;
	struct discord *d;
	struct err e = { 0 };
	char line[4096];
	enum mc_err rc = MC_OK;
	int ch;

	while ((ch = getopt(argc, argv, "t:c:d:T:")) != -1) {
		switch (ch) {
		case 't':
		case 'c':
		case 'd':
			if (parse_int64(optarg, 0, 100000, &v) != 0) {
				fputs("discord_drive: bad number\n", stderr);
				return EX_USAGE;
			}
			if (ch == 't')
				timeout = (long)v;
			else if (ch == 'c')
				connect_timeout = (long)v;
			else
				deadline = (int64_t)time(NULL) + v;
			break;
		case 'T':
			thread = optarg;
			break;
		default:
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs("usage: discord_drive [-t S] [-c S] [-d S] [-T THREAD] URL < COMMANDS\n", stderr);
		return EX_USAGE;
	}
	if (http_global_init(&e) != MC_OK) {
		printf("error %s: %s\n", kind_name(e.kind), e.msg);
		return exit_status(e.kind);
	}
	d = discord_new(argv[optind], thread, connect_timeout, timeout, deadline, &e);
	if (d == NULL) {
		rc = e.kind;
		goto http_cleanup;
	}
	while (rc == MC_OK && fgets(line, sizeof line, stdin) != NULL) {
		rc = run(d, line, &e);
		fflush(stdout);
	}
	discord_free(d);
http_cleanup:
	http_global_cleanup();
	if (rc != MC_OK)
		printf("error %s: %s\n", kind_name(rc), e.msg);
	return exit_status(rc);
}
