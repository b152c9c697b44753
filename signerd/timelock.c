/* timelock.c: the queue of timelocked payouts and the rule that decides when one may be signed. */
#include "signerd/timelock.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/table.h"

struct sd_queue {
	struct sd_table *entries;	/* key of id -> struct sd_queued */
};

int
sd_queue_new(struct sd_queue **out)
{
	struct sd_queue *q;
	int r;

	*out = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_new(&q->entries)) != 0) {
		free(q);
		return r;
	}
	*out = q;
	return 0;
}

void
sd_queue_free(struct sd_queue *q)
{
	if (q == NULL)
		return;
	sd_table_free(q->entries, free);
	free(q);
}

void
sd_intent_hash(uint8_t out[32], const struct pol_intent *in)
{
	uint8_t buf[POL_ASSET_NAME_MAX + 1 + 8 + EVM_ADDR_LEN + 32];
	size_t n = strlen(in->asset_name) + 1;
	int i;

	/* The asset name with its NUL, so "A" + chain never reads as "A1". */
	memcpy(buf, in->asset_name, n);
	for (i = 0; i < 8; i++)
		buf[n + (size_t)i] = (uint8_t)(in->chain_id >> (56 - 8 * i));
	n += 8;
	memcpy(buf + n, in->recipient, EVM_ADDR_LEN);
	n += EVM_ADDR_LEN;
	u256_to_be32(buf + n, &in->amount);
	n += 32;
	sd_table_key(out, "intent", buf, n);
}

static void
id_key(uint8_t key[SD_TABLE_KEY_LEN], const char *id)
{
	sd_table_key(key, "queue", id, strlen(id));
}

static struct sd_queued *
lookup(const struct sd_queue *q, const char *id)
{
	uint8_t key[SD_TABLE_KEY_LEN];

	id_key(key, id);
	return sd_table_get(q->entries, key);
}

const struct sd_queued *
sd_queue_find(const struct sd_queue *q, const char *id)
{
	return lookup(q, id);
}

int
sd_queue_begin(struct sd_queue *q, const char *id, const uint8_t intent[32],
    int64_t queued_at, int64_t earliest)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	struct sd_queued *e;
	int r;

	if (id[0] == '\0' || strlen(id) > POL_REQUEST_ID_MAX ||
	    earliest < queued_at)
		return ERR_INVALID_ARG;
	id_key(key, id);
	if ((e = sd_table_get(q->entries, key)) != NULL) {
		if (!sd_queue_expired(e, queued_at))
			return ERR_EXISTS;
		free(sd_table_remove(q->entries, key));
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ERR_NOMEM;
	memcpy(e->id, id, strlen(id) + 1);
	memcpy(e->intent, intent, 32);
	e->queued_at = queued_at;
	e->earliest = earliest;
	e->status = SD_Q_PENDING;
	if ((r = sd_table_put(q->entries, key, e)) != 0)
		free(e);
	return r;
}

int
sd_queue_commit(struct sd_queue *q, const char *id)
{
	struct sd_queued *e = lookup(q, id);

	if (e == NULL || e->status != SD_Q_PENDING)
		return ERR_NOT_FOUND;
	e->status = SD_Q_QUEUED;
	return 0;
}

void
sd_queue_abort(struct sd_queue *q, const char *id)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	struct sd_queued *e = lookup(q, id);

	if (e == NULL || e->status != SD_Q_PENDING)
		return;
	id_key(key, id);
	free(sd_table_remove(q->entries, key));
}

int
sd_queue_cancel(struct sd_queue *q, const char *id)
{
	struct sd_queued *e = lookup(q, id);

	if (e == NULL || e->status != SD_Q_QUEUED)
		return ERR_NOT_FOUND;
	e->status = SD_Q_CANCELLED;
	return 0;
}

int
sd_queue_uncancel(struct sd_queue *q, const char *id)
{
	struct sd_queued *e = lookup(q, id);

	if (e == NULL || e->status != SD_Q_CANCELLED)
		return ERR_NOT_FOUND;
	e->status = SD_Q_QUEUED;
	return 0;
}

int
sd_queue_expired(const struct sd_queued *e, int64_t now)
{
	/* A cancel is for good: its entry never expires. */
	return e->status == SD_Q_QUEUED && now > e->earliest + SD_QUEUE_TTL;
}

int
sd_queue_cancel_at(struct sd_queue *q, const char *id, int64_t now,
    int *forbade)
{
	static const uint8_t none[32];
	struct sd_queued *e = lookup(q, id);
	int r;

	*forbade = 0;
	if (e != NULL && e->status == SD_Q_PENDING)
		return ERR_EXISTS;
	if (e != NULL && e->status == SD_Q_CANCELLED)
		return 1;
	if (e != NULL && !sd_queue_expired(e, now)) {
		e->status = SD_Q_CANCELLED;
		return 0;
	}
	/* Never queued (or its entry expired): an entry that forbids it. */
	if ((r = sd_queue_begin(q, id, none, now, now)) != 0)
		return r;
	if ((e = lookup(q, id)) == NULL)
		return ERR_INTERNAL;
	e->status = SD_Q_CANCELLED;
	*forbade = 1;
	return 0;
}

void
sd_queue_unforbid(struct sd_queue *q, const char *id)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	struct sd_queued *e = lookup(q, id);

	if (e == NULL || e->status != SD_Q_CANCELLED)
		return;
	id_key(key, id);
	free(sd_table_remove(q->entries, key));
}

size_t
sd_queue_live(const struct sd_queue *q, int64_t now)
{
	const uint8_t *key;
	size_t pos = 0, n = 0;
	void *v;

	/* Cancelled entries are bounded by approvers' cancels, not here. */
	while (sd_table_next(q->entries, &pos, &key, &v))
		n += ((const struct sd_queued *)v)->status != SD_Q_CANCELLED &&
		    !sd_queue_expired(v, now);
	return n;
}

void
sd_queue_prune(struct sd_queue *q, int64_t now)
{
	uint8_t k[SD_TABLE_KEY_LEN];
	const uint8_t *key;
	size_t pos = 0;
	void *v;

	while (sd_table_next(q->entries, &pos, &key, &v)) {
		if (!sd_queue_expired(v, now))
			continue;
		memcpy(k, key, sizeof(k));
		free(sd_table_remove(q->entries, k));
		pos = 0;	/* removal moves entries: start over */
	}
}

size_t
sd_queue_count(const struct sd_queue *q)
{
	return sd_table_count(q->entries);
}

enum pol_reason
sd_timelock_check(const struct sd_queued *e, int64_t now, int64_t *remaining)
{
	*remaining = 0;
	if (e == NULL || e->status == SD_Q_PENDING || sd_queue_expired(e, now))
		return POL_TIMELOCK_NOT_QUEUED;
	if (e->status == SD_Q_CANCELLED)
		return POL_TIMELOCK_CANCELLED;
	if (now < e->earliest) {
		*remaining = e->earliest - now;
		return POL_TIMELOCK_PENDING;
	}
	return POL_OK;
}

int
sd_queue_serialize(const struct sd_queue *q, struct prt_writer *w)
{
	const struct sd_queued *e;
	const uint8_t **keys;
	void **v;
	size_t i, n, durable = 0;

	if (sd_table_sorted(q->entries, &keys, &v, &n) != 0)
		return ERR_NOMEM;
	for (i = 0; i < n; i++)
		durable += ((const struct sd_queued *)v[i])->status !=
		    SD_Q_PENDING;
	(void)prt_put_u64(w, durable);
	for (i = 0; i < n; i++) {
		e = v[i];
		/* Pending entries are not durable: a restart forgets them. */
		if (e->status == SD_Q_PENDING)
			continue;
		(void)prt_put_string(w, e->id);
		(void)prt_put_bytes(w, e->intent, 32);
		(void)prt_put_u64(w, (uint64_t)e->queued_at);
		(void)prt_put_u64(w, (uint64_t)e->earliest);
		(void)prt_put_u8(w, (uint8_t)e->status);
		(void)prt_put_u32(w, e->version);
	}
	free(keys);
	free(v);
	return prt_writer_error(w);
}

int
sd_queue_deserialize(struct sd_queue *q, struct prt_reader *rd)
{
	char id[POL_REQUEST_ID_MAX + 1];
	uint8_t intent[32], status;
	uint64_t n, k, at, earliest;
	uint32_t version;
	int r;

	if (sd_queue_count(q) != 0)
		return ERR_INVALID_ARG;
	if ((r = prt_get_u64(rd, &n)) != 0)
		return r;
	for (k = 0; k < n; k++) {
		if ((r = prt_get_string(rd, id, sizeof(id))) != 0 ||
		    (r = prt_get_bytes(rd, intent, 32)) != 0 ||
		    (r = prt_get_u64(rd, &at)) != 0 ||
		    (r = prt_get_u64(rd, &earliest)) != 0 ||
		    (r = prt_get_u8(rd, &status)) != 0 ||
		    (r = prt_get_u32(rd, &version)) != 0)
			return r;
		if (status != SD_Q_QUEUED && status != SD_Q_CANCELLED)
			return ERR_MALFORMED;
		if ((r = sd_queue_begin(q, id, intent, (int64_t)at,
		    (int64_t)earliest)) != 0 ||
		    (r = sd_queue_commit(q, id)) != 0)
			return r == ERR_INVALID_ARG || r == ERR_EXISTS ?
			    ERR_MALFORMED : r;
		if (status == SD_Q_CANCELLED && (r = sd_queue_cancel(q, id)) != 0)
			return r;
		sd_queue_set_version(q, id, version);
	}
	return 0;
}

void
sd_queue_set_version(struct sd_queue *q, const char *id, uint32_t version)
{
	struct sd_queued *e = (struct sd_queued *)lookup(q, id);

	if (e != NULL)
		e->version = version;
}

int64_t
sd_queue_earliest(const struct sd_queued *e, const struct pol_policy *p,
    const struct pol_intent *in)
{
	const struct pol_asset *a = pol_asset(p, in->asset);
	int64_t t = e->queued_at + (int64_t)a->timelock_delay;

	if (!a->has_timelock || t <= e->earliest)
		return e->earliest;
	return t;
}
