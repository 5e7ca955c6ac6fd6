/* evsync: which calls make a server's scheduled events equal to the
 * nearest conferences.  A pure plan: no network, no state; the caller
 * carries the actions out one at a time, committing after each.
 *
 * The rules:
 * - Only the nearest events_max conferences have an event, counting the
 *   events already active; a conference that has started gets no new
 *   event; as conferences end, the next ones get theirs.
 * - An event whose conference Moodle no longer has, or that fell out of
 *   the window, is deleted.
 * - An event that changed (name, time, link: its hash) is edited; an
 *   active event's start cannot change, so one whose conference moved is
 *   deleted, and made again at the new time while that is still ahead.
 * - An event Discord no longer lists as scheduled or active (completed at
 *   its end, or deleted or cancelled by a person) is forgotten, without a
 *   call, and made again while its conference is still ahead and in the
 *   window.
 * - An event that no conference holds (its id was lost with a run killed
 *   after the create reached Discord) and that shows exactly what a
 *   conference needs (name, location, start and end) is adopted by it,
 *   instead of a second one being made. */
#ifndef MC_EVSYNC_H
#define MC_EVSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "bot.h"
#include "event.h"

/* One conference and what is stored of its event. */
struct evsync_conf {
	int64_t key;            /* Moodle event id (ties sort by it)          */
	int present;            /* Moodle still has it (0: to be removed)     */
	int elsewhere;          /* with present 0: Moodle has it, but its
	                           route keeps no event in this server        */
	int64_t start, end;     /* the conference now                         */
	char hash[17];          /* hash of the event it should show           */
	char event_id[32];      /* its Discord event, "" = none               */
	char event_hash[17];    /* hash of what that event shows              */
	int64_t event_start;    /* the start that event has                   */
};

enum evsync_op {
	EVSYNC_CREATE,          /* make its event                             */
	EVSYNC_EDIT,            /* PATCH with the start                       */
	EVSYNC_EDIT_NO_START,   /* PATCH leaving the start (active event)     */
	EVSYNC_DELETE,          /* delete its event                           */
	EVSYNC_FORGET,          /* Discord no longer has it: drop the id      */
	EVSYNC_ADOPT            /* take over Discord event `adopt` (no call)  */
};

struct evsync_action {
	enum evsync_op op;
	size_t conf;            /* index into the conferences                 */
	char adopt[32];         /* EVSYNC_ADOPT: the Discord event id         */
};

/* The actions, in the order to carry them out: forgets and adoptions
 * first, then deletes (they make room under the server's limit), edits,
 * and creates nearest first.  A conference may have a delete and then a
 * create (an active event moved).  listed: the server's events as Discord
 * listed them this run; bot_id: the bot's user id, to adopt only its
 * events ("" or NULL: any creator's); shows(i, ev) tells whether Discord
 * event ev shows what conference i should (NULL: adopt nothing).  *out (free) holds *n
 * actions. */
void evsync_plan(const struct evsync_conf *confs, size_t n, const struct bot_event *listed,
    size_t nlisted, const char *bot_id, int (*shows)(size_t i, const struct bot_event *ev, void *arg),
    void *arg, int64_t now, int64_t events_max, struct evsync_action **out, size_t *nout);

/* "create", "edit", ... for messages. */
const char *evsync_op_name(enum evsync_op op);

/* Carrying a plan out.  The caller fills the first part; the counts are
 * evsync_run's. */
struct evsync_job {
	struct bot *bot;
	const char *guild_id;
	const char *site_url;       /* the Moodle site, for the location       */
	int64_t meeting_minutes;    /* length of a conference without one      */
	int64_t events_max;
	int64_t now;
	const char *bot_id;         /* the bot's user id, NULL = not known     */
	/* Record conference i's event (event_id "" = none, hash, start) and
	 * commit it before the next call; MC_OK or an error that stops the
	 * run (e filled). */
	enum mc_err (*commit)(void *arg, size_t i, const char *event_id, const char *hash,
	    int64_t start, struct err *e);
	/* Tell what was done to conference i (op: "create", "edit", "delete",
	 * "forget"), why; may be NULL. */
	void (*said)(void *arg, const char *op, size_t i, const char *why);
	void *arg;
	int dry_run;                /* plan and tell (said), counting what would
	                               be done: no call but the list, no commit */
	size_t created, edited, deleted, forgotten;
};

/* Bring the guild's events in step with the n conferences: list the
 * server's events, plan (evsync_plan) and carry the plan out one call at a
 * time, each committed before the next.  confs[i] describes evs[i] (the
 * caller fills key, present and the stored event_id, event_hash and
 * event_start; start, end and hash are filled here from the event it
 * should show).  A refused body (MC_ERR_DATA) skips that conference; the
 * server's limit (30038) stops the creates; any other failure stops the
 * run.  Returns MC_OK, or the first failure with e filled (one line, no
 * secret). */
enum mc_err evsync_run(struct evsync_job *x, const struct event *const *evs,
    struct evsync_conf *confs, size_t n, struct err *e);

#endif
