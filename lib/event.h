/* event: the conference model shared by the Moodle client, the diff, the
 * renderer and the state store. */
#ifndef MC_EVENT_H
#define MC_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One conference: a Moodle calendar event of a conference module.  Its
 * identity is the Moodle event id.  Every string is valid UTF-8, HTML
 * entities already decoded, owned by the struct (event_free). */
struct event {
	int64_t id;           /* Moodle calendar event id                    */
	int64_t course_id;
	char *course_short;   /* course short name, e.g. "RM101"             */
	char *course_name;    /* course full name                            */
	char *name;           /* activity name (not "... is scheduled for")  */
	char *module;         /* "bigbluebuttonbn", "zoom", ...              */
	int64_t cmid;         /* course module id, 0 when unknown            */
	char *url;            /* the page to link                            */
	char *site_name;      /* the Moodle site's name (footer)             */
	int64_t start;        /* Unix seconds                                */
	int64_t duration;     /* seconds; 0 = not given by Moodle            */
	int64_t missing;      /* syncs in a row Moodle did not return it     */
};

/* What we know of the Discord side of one conference. */
enum ping_state {
	PING_NONE = 0,     /* not pinged                                       */
	PING_CLAIMED,      /* a ping run claimed it and is posting             */
	PING_SENT,         /* ping message posted (ping_id holds its id)       */
	PING_DONE          /* ping message deleted after the end, or skipped   */
};

/* The ping fields describe the conference's reminders (lib/remind.h):
 * ping_id is the reminder message standing now, ping_offset and
 * ping_sent_at the latest reminder posted, ping_old one it replaced and
 * that is not deleted yet.  PING_SENT: a reminder stands (or the latest
 * was sent); PING_CLAIMED: a run is posting the next one (ping_id, when
 * set, still stands); PING_DONE: over, its last reminder deleted. */
struct message {
	char msg_id[32];        /* conference message snowflake, "" = none   */
	char hash[17];          /* hex hash of the body sent, "" = none      */
	char ping_id[32];       /* reminder message snowflake, "" = none     */
	enum ping_state ping;
	int64_t ping_at;        /* when the ping was claimed or sent          */
	int64_t ping_offset;    /* minutes before the start of the latest
	                           reminder posted; 0 = none yet              */
	int64_t ping_sent_at;   /* when that reminder was posted              */
	char ping_old[32];      /* a replaced reminder not yet deleted, or "" */
	char route[33];         /* the route msg_id was posted through
	                           ([route NAME]); "" = [discord]             */
	char thread_id[32];     /* forum: the post (thread) holding msg_id and
	                           the reminders; "" = none                   */
	/* The Discord scheduled event (sync with a bot token; optional keys
	 * of the stored form): */
	char sevent_id[32];     /* its snowflake, "" = none                  */
	char sevent_hash[17];   /* hex hash of what it shows                  */
	int64_t sevent_start;   /* the start it has                           */
	char sevent_guild[32];  /* the server holding it; "" = [discord]'s
	                           guild_id (records of before routes could
	                           name a server)                             */
};

/* A conference as stored: the snapshot entry and its message data. */
struct record {
	struct event ev;
	struct message msg;
};

/* Strings kept together for the life of a list: a big site's 100,000
 * conferences name the same few courses, modules and site over and over,
 * and a malloc'd string of 20 bytes costs twice that.  Strings are copied
 * into large blocks; an interned string is kept once however often it is
 * given. */
struct strpool {
	struct strpool_block *blocks;
	const char **slots;      /* the interned strings, open addressing */
	size_t nslots, used;
};

/* A copy of s (NULL: NULL) in pool p, kept until strpool_free. */
char *strpool_add(struct strpool *p, const char *s);
/* The same, kept once: the copy made for an equal string given before. */
char *strpool_intern(struct strpool *p, const char *s);
/* Free every string of p and zero it. */
void strpool_free(struct strpool *p);

/* A list of events.  With pool NULL each event owns its strings; else
 * every string of every event lives in *pool (event_list_free frees it,
 * not them one by one). */
struct event_list {
	struct event *v;
	size_t n, cap;
	struct strpool *pool;
};

struct record_list {
	struct record *v;
	size_t n, cap;
};

/* Free what ev owns and zero it. */
void event_free(struct event *ev);
/* Deep copy src into dst (dst's old contents are not freed). */
void event_copy(struct event *dst, const struct event *src);

/* Append a copy-free move of ev (the list takes ownership of its strings;
 * ev is zeroed); the same for a record. */
void event_list_push(struct event_list *l, struct event *ev);
void record_list_push(struct record_list *l, struct record *r);
/* Free every element (its strings, or the list's pool) and the list,
 * and zero it. */
void event_list_free(struct event_list *l);
void record_list_free(struct record_list *l);

/* The stored form (the state file's values and `dump --json`): each
 * struct is a flat JSON object whose keys are named in one table per
 * struct in event.c, and nowhere else. */
struct json_object;
/* Add the fields of ev (of r: its event's and its message's) to the JSON
 * object o under their stored keys. */
void event_add_json(const struct event *ev, struct json_object *o);
void record_add_json(const struct record *r, struct json_object *o);

/* The stored JSON form of an event (the `events` value) or of its message
 * data (the `messages` value): a new string, caller frees. */
char *event_to_json(const struct event *ev);
char *message_to_json(const struct message *m);

/* Parse a stored form (json need not be NUL-terminated) into ev or m,
 * zeroed first.  MC_OK, or MC_ERR_DATA with e filled (e may be NULL) and
 * nothing left allocated when the text is not the object we write: every
 * key present with its type, strings within their field's size. */
enum mc_err event_from_json(const char *json, size_t len, struct event *ev, struct err *e);
enum mc_err message_from_json(const char *json, size_t len, struct message *m, struct err *e);

/* The end of a conference: start + duration, or start + meeting_minutes
 * when Moodle gave no duration; INT64_MAX when that sum would overflow.
 * meeting_minutes must be in the config's range (1-1440). */
int64_t event_end(const struct event *ev, int64_t meeting_minutes);

/* "none", "claimed", "sent", "done" (the stored names); "?" otherwise. */
const char *ping_state_name(enum ping_state s);

/* The hash of a record whose conference is gone (its messages deleted)
 * but kept until sync deletes its scheduled event: never a hash of a
 * body, which is hex.  Such a record gets no reminder. */
#define MESSAGE_GONE_HASH "-"

/* Is m kept only for its scheduled event (hash MESSAGE_GONE_HASH)? */
int message_gone(const struct message *m);

#endif
