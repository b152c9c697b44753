/* badpeer.c: refusals a peer provokes for free, counted and journaled in aggregate (badpeer.h). */
#include "signerd/badpeer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"

/* Reasons whose uids did not fit the table, each one entry (uid null). */
#define REST_SLOTS 16

struct bp_entry {
	int reason;
	int64_t uid;		/* -1: unknown, or one of the uids not kept */
	uint64_t count;
};

/* What one "refusals" record reports. */
struct bp_counts {
	struct bp_entry e[SD_BADPEER_SLOTS];	/* uid >= 0 */
	size_t n;
	struct bp_entry rest[REST_SLOTS];	/* uid -1 */
	size_t nrest;
	uint64_t lost;		/* no room at all: a bug, logged */
	uint64_t total;
	int64_t since;		/* signerd's time of the first; 0 when none */
};

struct sd_badpeer {
	pthread_mutex_t mu;
	struct bp_counts c;	/* mu */
	uint64_t unlogged;	/* mu: counted, in no log line yet */
	/* The main thread's alone. */
	int64_t last_journal;	/* monotonic seconds */
	int64_t last_log;
};

/* Whole monotonic seconds: the windows below are minutes. */
static int64_t
mono_now(void)
{
	return (int64_t)(util_mono_ns() / 1000000000u);
}

int
sd_badpeer_new(struct sd_badpeer **out)
{
	struct sd_badpeer *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return ERR_NOMEM;
	pthread_mutex_init(&b->mu, NULL);
	b->last_journal = b->last_log = mono_now();
	*out = b;
	return 0;
}

static struct bp_entry *
find(struct bp_entry *e, size_t n, int reason, int64_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].reason == reason && e[i].uid == uid)
			return &e[i];
	return NULL;
}

/*
 * Adds count refusals of (reason, uid) to c.  Returns 1 when that made a
 * new entry (the first of its kind since the last record), else 0.
 */
static int
add(struct bp_counts *c, int reason, int64_t uid, uint64_t count,
    int64_t since)
{
	struct bp_entry *x = NULL;
	int fresh = 0;

	if (c->since == 0 || (since != 0 && since < c->since))
		c->since = since;
	c->total += count;
	if (uid >= 0 && (x = find(c->e, c->n, reason, uid)) == NULL &&
	    c->n < SD_BADPEER_SLOTS) {
		x = &c->e[c->n++];
		*x = (struct bp_entry){ reason, uid, 0 };
		fresh = 1;
	}
	if (uid < 0 || x == NULL) {
		/* Unknown, or no room for this uid: counted per reason. */
		if ((x = find(c->rest, c->nrest, reason, -1)) == NULL &&
		    c->nrest < REST_SLOTS) {
			x = &c->rest[c->nrest++];
			*x = (struct bp_entry){ reason, -1, 0 };
			fresh = 1;
		}
	}
	if (x == NULL) {
		c->lost += count;
		return 0;
	}
	x->count += count;
	return fresh;
}

void
sd_badpeer_note(struct sd_ctx *sd, int peer_uid, int reason,
    const char *detail)
{
	struct sd_badpeer *b = sd->badpeer;
	uint64_t lost;
	int64_t now;
	int fresh;

	if (b == NULL) {
		log_warn("%s: %s", pol_reason_name(reason), detail);
		return;
	}
	now = sd_now(sd);
	pthread_mutex_lock(&b->mu);
	lost = b->c.lost;
	fresh = add(&b->c, reason, peer_uid < 0 ? -1 : peer_uid, 1, now);
	if (!fresh)
		b->unlogged++;
	lost = b->c.lost != lost && lost == 0;
	pthread_mutex_unlock(&b->mu);
	if (fresh)
		log_warn("%s: %s (refusals like it are counted, summed up in "
		    "the log every %d s and journaled together)",
		    pol_reason_name(reason), detail, SD_BADPEER_LOG_SECONDS);
	if (lost)
		log_error("more than %d kinds of refusal: the rest are counted "
		    "as \"lost\"", REST_SLOTS);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct bp_entry *x = a, *y = b;

	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	/* Specific uids first, the uids not kept (null) last. */
	if ((x->uid < 0) != (y->uid < 0))
		return x->uid < 0 ? 1 : -1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* c's entries, one list in record order, into out[SLOTS + REST_SLOTS]. */
static size_t
sorted(const struct bp_counts *c, struct bp_entry *out)
{
	memcpy(out, c->e, c->n * sizeof(*out));
	memcpy(out + c->n, c->rest, c->nrest * sizeof(*out));
	qsort(out, c->n + c->nrest, sizeof(*out), entry_cmp);
	return c->n + c->nrest;
}

/*
 * The one place a "refusals" record is written:
 * {"type":"refusals","since":unix,"counts":[{"reason","peer_uid","count"}]}
 * (docs/journal-format.md).  Returns 0 once durable.
 */
static int
journal_counts(struct sd_ctx *sd, const struct bp_counts *c)
{
	struct bp_entry all[SD_BADPEER_SLOTS + REST_SLOTS];
	json_t *o = NULL, *arr, *x;
	size_t i, n = sorted(c, all);
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "refusals")) == NULL ||
	    (arr = json_array()) == NULL ||
	    json_object_set_new(o, "counts", arr) != 0 ||
	    json_object_set_new(o, "since", json_integer(c->since)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		x = json_pack("{s:s, s:o, s:o}", "reason",
		    pol_reason_name(all[i].reason), "peer_uid",
		    all[i].uid >= 0 ? json_integer(all[i].uid) : json_null(),
		    "count", json_sprintf("%" PRIu64, all[i].count));
		if (x == NULL || json_array_append_new(arr, x) != 0)
			goto out;
	}
	if (c->lost > 0 && sd_json_set_u64(o, "lost", c->lost) != 0)
		goto out;
	r = sd_journal_record(sd, o, NULL, NULL);
out:
	json_decref(o);
	return r;
}

/* "PEER_NOT_ALLOWED uid 4242: 2000, ..." into buf, as far as it fits. */
static void
describe(const struct bp_counts *c, char *buf, size_t cap)
{
	struct bp_entry all[SD_BADPEER_SLOTS + REST_SLOTS];
	size_t i, n = sorted(c, all), len = 0;
	char uid[24];
	int w;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (all[i].uid >= 0)
			snprintf(uid, sizeof(uid), "%" PRId64, all[i].uid);
		else
			snprintf(uid, sizeof(uid), "other");
		w = snprintf(buf + len, cap - len, "%s%s uid %s: %" PRIu64,
		    i > 0 ? ", " : "", pol_reason_name(all[i].reason), uid,
		    all[i].count);
		if (w < 0 || (size_t)w >= cap - len) {
			/* Cut at the last whole entry. */
			buf[len] = '\0';
			snprintf(buf + len, cap - len, ", ...");
			return;
		}
		len += (size_t)w;
	}
}

/*
 * Takes the counts out of the table and journals them; when that fails
 * they go back, to be tried again at the next interval.
 */
static void
flush(struct sd_ctx *sd, struct sd_badpeer *b)
{
	struct bp_counts *c;
	char text[400];
	size_t i;

	if ((c = malloc(sizeof(*c))) == NULL) {
		log_error("refusal counts not journaled: out of memory");
		return;
	}
	pthread_mutex_lock(&b->mu);
	*c = b->c;
	memset(&b->c, 0, sizeof(b->c));
	pthread_mutex_unlock(&b->mu);
	if (c->total > 0 && journal_counts(sd, c) != 0) {
		describe(c, text, sizeof(text));
		log_error("refusal counts since %" PRId64 " not journaled (kept "
		    "for the next try): %s", c->since, text);
		pthread_mutex_lock(&b->mu);
		for (i = 0; i < c->n; i++)
			(void)add(&b->c, c->e[i].reason, c->e[i].uid,
			    c->e[i].count, c->since);
		for (i = 0; i < c->nrest; i++)
			(void)add(&b->c, c->rest[i].reason, -1,
			    c->rest[i].count, c->since);
		b->c.lost += c->lost;
		pthread_mutex_unlock(&b->mu);
	}
	free(c);
}

void
sd_badpeer_tick(struct sd_ctx *sd)
{
	struct sd_badpeer *b = sd->badpeer;
	struct bp_counts *c;
	uint64_t unlogged, total;
	int64_t now = mono_now();
	char text[400];

	if (b == NULL)
		return;
	if (now - b->last_log >= SD_BADPEER_LOG_SECONDS) {
		b->last_log = now;
		if ((c = malloc(sizeof(*c))) != NULL) {
			pthread_mutex_lock(&b->mu);
			unlogged = b->unlogged;
			b->unlogged = 0;
			*c = b->c;
			pthread_mutex_unlock(&b->mu);
			if (unlogged > 0) {
				describe(c, text, sizeof(text));
				log_warn("%" PRIu64 " more refusals of peers or "
				    "frames; counted since %" PRId64 ": %s",
				    unlogged, c->since, text);
			}
			free(c);
		}
	}
	if (now - b->last_journal >= SD_BADPEER_JOURNAL_SECONDS) {
		pthread_mutex_lock(&b->mu);
		total = b->c.total;
		pthread_mutex_unlock(&b->mu);
		/* Nothing counted: nothing written, and the next refusal
		 * may be journaled at the next tick. */
		if (total > 0) {
			b->last_journal = now;
			flush(sd, b);
		}
	}
}

void
sd_badpeer_finish(struct sd_ctx *sd)
{
	struct sd_badpeer *b = sd->badpeer;

	if (b == NULL)
		return;
	flush(sd, b);
	sd->badpeer = NULL;
	pthread_mutex_destroy(&b->mu);
	free(b);
}
