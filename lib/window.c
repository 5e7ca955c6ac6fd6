#include "window.h"

/* A light answer says little about the stretch after it (a quiet week
 * before a busy one): grow by at most this factor per piece. */
#define GROWTH 4

static int64_t
span(int64_t from, int64_t to)
{
	return to - from + 1;
}

/* len points from next, capped by max_len and by the end of the range. */
static int64_t
clamp_len(const struct window_plan *p, int64_t len)
{
	int64_t left = span(p->next, p->hi);

	if (len < 1)
		len = 1;
	if (p->max_len > 0 && len > p->max_len)
		len = p->max_len;
	return len < left ? len : left;
}

void
window_plan_init(struct window_plan *p, int64_t lo, int64_t hi, int64_t max_len, size_t budget)
{
	p->lo = lo;
	p->hi = hi < lo ? lo : hi;
	p->next = lo;
	p->max_len = max_len;
	p->budget = budget ? budget : 1;
	p->taken = 0;
	p->refused = 0;
	p->len = clamp_len(p, span(p->lo, p->hi));
}

int
window_next(const struct window_plan *p, int64_t *from, int64_t *to)
{
	if (p->next > p->hi)
		return 0;
	*from = p->next;
	*to = p->next + p->len - 1;
	return 1;
}

void
window_taken(struct window_plan *p, size_t bytes)
{
	double target = (double)p->budget / 2, len = (double)p->len;
	double want = bytes > 0 ? len * target / (double)bytes : len * GROWTH;

	p->taken++;
	if (p->next > p->hi - p->len + 1) {
		p->next = p->hi + 1;
		return;
	}
	p->next += p->len;
	if (want > len * GROWTH)
		want = len * GROWTH;
	/* double holds 2^53 exactly: far beyond any range a plan sweeps */
	p->len = clamp_len(p, want >= 9e15 ? INT64_MAX : (int64_t)want);
}

int
window_refused(struct window_plan *p)
{
	if (p->len <= 1)
		return -1;
	p->refused++;
	p->len = p->len / 2;
	return 0;
}
