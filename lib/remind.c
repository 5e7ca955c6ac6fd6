/* remind: which reminder of a conference is due; the rule is in remind.h. */
#include "remind.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum mc_err
remind_offsets_parse(const char *text, struct remind_offsets *out, struct err *e)
{
	const char *p = text;
	size_t i, j;

	memset(out, 0, sizeof *out);
	for (;;) {
		char num[16];
		size_t n;
		int64_t v;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return err_set(e, MC_ERR_CONFIG, "a list of minutes is expected, e.g. 1440, 60, 5");
		if (n >= sizeof num)
			return err_set(e, MC_ERR_CONFIG, "'%.8s...' is not a number of minutes in 1-%d",
			    p, REMIND_MINUTES_MAX);
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_int64(num, 1, REMIND_MINUTES_MAX, &v) != 0)
			return err_set(e, MC_ERR_CONFIG, "'%s' is not a number of minutes in 1-%d",
			    num, REMIND_MINUTES_MAX);
		if (out->n == REMIND_MAX)
			return err_set(e, MC_ERR_CONFIG, "at most %d reminders", REMIND_MAX);
		for (i = 0; i < out->n; i++)
			if (out->m[i] == v)
				return err_set(e, MC_ERR_CONFIG, "%s minutes is given twice", num);
		/* Insert, keeping the list decreasing. */
		for (i = 0; i < out->n && out->m[i] > v; i++)
			;
		for (j = out->n; j > i; j--)
			out->m[j] = out->m[j - 1];
		out->m[i] = v;
		out->n++;
		p = strchr(p, ',');
		if (p == NULL)
			return MC_OK;
		p++;
	}
}

void
remind_offsets_format(const struct remind_offsets *o, char *buf, size_t size)
{
	size_t i, len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < o->n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)o->m[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

int64_t
remind_offset_due(const struct remind_offsets *o, int64_t start, int64_t end, int64_t now,
    int *started)
{
	size_t i;

	*started = 0;
	if (now >= end)
		return 0;
	for (i = 0; i < o->n; i++) {
		int64_t from = start - o->m[i] * 60;
		int64_t until = i + 1 < o->n ? start - o->m[i + 1] * 60 : start + o->m[i] * 60;

		if (from <= now && now < until) {
			*started = now >= start;
			return o->m[i];
		}
	}
	return 0;
}

int
remind_moved(const struct remind_state *r, int64_t start)
{
	return r->sent != 0 && r->sent_at < start - r->sent * 60;
}

int
remind_claimable(const struct remind_state *r, int64_t now)
{
	return r->claim == 0 || now - r->claim_at > REMIND_STALE_CLAIM;
}

int64_t
remind_sent_offset(int64_t start, int64_t sent_at)
{
	int64_t before = start - sent_at;

	if (before <= 60)
		return 1;
	if (before >= (int64_t)REMIND_MINUTES_MAX * 60)
		return REMIND_MINUTES_MAX;
	return (before + 59) / 60;
}

int
remind_plan(const struct remind_state *r, const struct remind_offsets *o, int64_t start,
    int64_t end, int64_t now, struct remind_due *out)
{
	int started, moved;
	int64_t m;

	memset(out, 0, sizeof *out);
	out->unpost_old = r->old_id[0] != '\0';
	if (r->done)
		return out->unpost_old;
	if (now >= end) {
		out->unpost = r->id[0] != '\0';
		return out->unpost_old || out->unpost;
	}
	if (!remind_claimable(r, now))
		return out->unpost_old;
	m = remind_offset_due(o, start, end, now, &started);
	moved = remind_moved(r, start);
	if (m != 0 && (moved || r->sent == 0 || m < r->sent)) {
		out->post = 1;
		out->offset = m;
		out->started = started;
		out->moved = moved;
	}
	return out->unpost_old || out->post;
}

void
remind_window(const struct remind_offsets *o, int64_t meeting_minutes, int64_t now,
    int64_t *from, int64_t *to)
{
	int64_t smallest = o->n ? o->m[o->n - 1] : 0, largest = o->n ? o->m[0] : 0;
	int64_t back = (meeting_minutes + smallest) * 60;

	if (back < 24 * 3600)
		back = 24 * 3600;
	*from = now - back;
	*to = now + largest * 60 + 1;
}
