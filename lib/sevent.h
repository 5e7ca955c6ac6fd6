/* sevent: what a conference's Discord scheduled event shows, and the JSON
 * bodies that make and change it.
 *
 * Discord's rules for an external event (entity_type 3), which every body
 * here keeps: channel_id null; entity_metadata.location 1 to 100
 * characters; scheduled_end_time required (after the start);
 * privacy_level 2 (members of the server only; the only level there is);
 * name 1 to 100 and description at most 1000 characters, counted in code
 * points.  Times are ISO 8601.  Text from Moodle is made safe as for
 * messages (render_text): valid UTF-8, white space collapsed, mentions
 * broken; Markdown renders in the description, so the course name there
 * is escaped, and links stay whole or are left out, never cut. */
#ifndef MC_SEVENT_H
#define MC_SEVENT_H

#include <stdint.h>

#include "event.h"

enum {
	SEVENT_NAME_MAX = 100,
	SEVENT_LOCATION_MAX = 100,
	SEVENT_DESCRIPTION_MAX = 1000
};

/* What one event shows.  Strings owned (sevent_free). */
struct sevent {
	char *name;          /* 1..100 code points                              */
	char *location;      /* 1..100: the conference's link when it fits,
	                        else the course page, else the site, else the
	                        site's name                                     */
	char *description;   /* <= 1000: course, time (UTC), link, site         */
	int64_t start, end;  /* end = start + the conference's length          */
};

/* The event of conference ev on the Moodle site site_url (its root, no
 * trailing slash; may be NULL); a conference without a length lasts
 * meeting_minutes.  Fills s (sevent_free). */
void sevent_make(const struct event *ev, const char *site_url, int64_t meeting_minutes,
    struct sevent *s);

void sevent_free(struct sevent *s);

/* The JSON body of POST .../scheduled-events for s: a new string, caller
 * frees. */
char *sevent_body_create(const struct sevent *s);

/* The JSON body of PATCH .../scheduled-events/ID: name, description,
 * location, times, entity_type 3 and privacy_level 2; with_start = 0
 * leaves scheduled_start_time out (an active event's start cannot
 * change).  A new string, caller frees. */
char *sevent_body_patch(const struct sevent *s, int with_start);

/* 16 hex digits and a NUL: the hash of everything s shows, so a change of
 * name, time, link or course is seen as a change of hash. */
void sevent_hash(const struct sevent *s, char out[17]);

/* t as "2026-11-30T14:00:00+00:00" into out; "" when t is outside years
 * 1970 to 9999. */
void sevent_iso(int64_t t, char out[32]);

#endif
