#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A run touches a handful of routes; a table this size never fills, and
 * when it would, the least useful entry is reused. */
#define SLOTS 32

/* What one bucket allows, keyed by "BUCKET|GUILD" once Discord named the
 * bucket, by the route before. */
struct bucket {
	char *key;
	long remaining;         /* -1 = unknown               */
	int64_t reset_at;       /* when it refills            */
};

/* Which bucket a route is in, as the answers said. */
struct route {
	char *route;
	char *bucket;
};

struct ratelimit {
	int global_n;
	int64_t global_us;
	int64_t *sent;          /* the last global_n calls, oldest first */
	int nsent;
	int64_t global_until;   /* a global 429 holds every call until then */
	struct bucket buckets[SLOTS];
	struct route routes[SLOTS];
};

struct ratelimit *
ratelimit_new(int global_n, int64_t global_us)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);

	rl->global_n = global_n > 0 ? global_n : 1;
	rl->global_us = global_us;
	rl->sent = xcalloc((size_t)rl->global_n, sizeof *rl->sent);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i < SLOTS; i++) {
		free(rl->buckets[i].key);
		free(rl->routes[i].route);
		free(rl->routes[i].bucket);
	}
	free(rl->sent);
	free(rl);
}

static const char *
route_bucket(const struct ratelimit *rl, const char *route)
{
	size_t i;

	for (i = 0; i < SLOTS; i++)
		if (rl->routes[i].route != NULL && strcmp(rl->routes[i].route, route) == 0)
			return rl->routes[i].bucket;
	return NULL;
}

static void
route_learn(struct ratelimit *rl, const char *route, const char *bucket)
{
	size_t i;

	for (i = 0; i < SLOTS; i++) {
		if (rl->routes[i].route != NULL && strcmp(rl->routes[i].route, route) == 0) {
			if (strcmp(rl->routes[i].bucket, bucket) != 0) {
				free(rl->routes[i].bucket);
				rl->routes[i].bucket = xstrdup(bucket);
			}
			return;
		}
	}
	for (i = 0; i < SLOTS && rl->routes[i].route != NULL; i++)
		;
	if (i == SLOTS)
		return;  /* more routes than a run uses: paced by its route alone */
	rl->routes[i].route = xstrdup(route);
	rl->routes[i].bucket = xstrdup(bucket);
}

/* The key of route's bucket state in guild (its major parameter). */
static char *
bucket_key(const struct ratelimit *rl, const char *route, const char *guild)
{
	const char *hash = route_bucket(rl, route);

	if (hash == NULL)
		return xstrdup(route);
	return xasprintf("%s|%s", hash, guild ? guild : "");
}

/* The state for key: found, or (make) a new one, the one that refills
 * first reused when the table is full; NULL when absent and !make. */
static struct bucket *
bucket_get(struct ratelimit *rl, const char *key, int make)
{
	struct bucket *slot = NULL;
	size_t i;

	for (i = 0; i < SLOTS; i++) {
		if (rl->buckets[i].key != NULL && strcmp(rl->buckets[i].key, key) == 0)
			return &rl->buckets[i];
		if (slot == NULL && rl->buckets[i].key == NULL)
			slot = &rl->buckets[i];
	}
	if (!make)
		return NULL;
	if (slot == NULL) {
		slot = &rl->buckets[0];
		for (i = 1; i < SLOTS; i++)
			if (rl->buckets[i].reset_at < slot->reset_at)
				slot = &rl->buckets[i];
		free(slot->key);
	}
	slot->key = xstrdup(key);
	slot->remaining = -1;
	slot->reset_at = 0;
	return slot;
}

int64_t
ratelimit_ready_at(const struct ratelimit *rl, const char *route, const char *guild, int64_t now)
{
	char *key = bucket_key(rl, route, guild);
	const struct bucket *k = bucket_get((struct ratelimit *)rl, key, 0);
	int64_t at = now;

	free(key);
	if (rl->global_until > at)
		at = rl->global_until;
	if (k != NULL && k->remaining == 0 && k->reset_at > at)
		at = k->reset_at;
	if (rl->nsent == rl->global_n && rl->sent[0] + rl->global_us > at)
		at = rl->sent[0] + rl->global_us;
	return at;
}

void
ratelimit_sent(struct ratelimit *rl, int64_t now)
{
	if (rl->nsent == rl->global_n) {
		memmove(rl->sent, rl->sent + 1, (size_t)(rl->global_n - 1) * sizeof rl->sent[0]);
		rl->nsent--;
	}
	rl->sent[rl->nsent++] = now;
}

void
ratelimit_answered(struct ratelimit *rl, int64_t now)
{
	if (rl->nsent > 0)
		rl->sent[rl->nsent - 1] = now;
}

void
ratelimit_note(struct ratelimit *rl, const char *route, const char *guild, const char *bucket,
    long remaining, int64_t reset_after_us, int64_t now)
{
	struct bucket *k;
	char *key;

	if (bucket != NULL && *bucket != '\0')
		route_learn(rl, route, bucket);
	key = bucket_key(rl, route, guild);
	k = bucket_get(rl, key, 1);
	free(key);
	if (remaining >= 0)
		k->remaining = remaining;
	if (reset_after_us >= 0)
		k->reset_at = now + reset_after_us;
}

void
ratelimit_429(struct ratelimit *rl, const char *route, const char *guild, int global,
    int64_t wait_us, int64_t now)
{
	struct bucket *k;
	char *key;

	if (global) {
		if (now + wait_us > rl->global_until)
			rl->global_until = now + wait_us;
		return;
	}
	key = bucket_key(rl, route, guild);
	k = bucket_get(rl, key, 1);
	free(key);
	k->remaining = 0;
	if (now + wait_us > k->reset_at)
		k->reset_at = now + wait_us;
}
