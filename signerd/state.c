/* state.c: exposure buckets and the request-id table, the parts composed with them, and their snapshot. */
#include "signerd/state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/sha256.h"

/* STT2 added nonces, the queue, the pause, seen approvals and time;
 * STT3 each signed request's receipt. */
#define STATE_BLOB_MAGIC 0x53545434u	/* "STT4" */

struct bucket {
	char asset[SD_ASSET_MAX + 1];
	int64_t day;
	u256 signed_total;
	u256 reserved;
};

struct slot {
	uint64_t h;		/* 0 marks an empty slot */
	struct sd_request *req;
};

struct sd_state {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t cap;		/* power of two */
	size_t used;
	size_t nsigned;
	struct bucket *buckets;
	size_t nbuckets;
	struct sd_nonces *nonces;
	struct sd_queue *queue;
	struct sd_pause *pause;
	struct sd_seen *seen;
	struct sd_gov *gov;
	_Atomic int64_t newest_unix;
};

/*
 * Request ids come from a possibly compromised client, so the table is keyed
 * by a cryptographic hash of the id: nobody can aim ids at one chain.
 */
static uint64_t
id_hash(const char *id)
{
	uint8_t md[32];
	uint64_t h = 0;
	size_t i;

	if (EVP_Digest(id, strlen(id), md, NULL, sd_sha256(), NULL) != 1)
		abort();	/* SHA-256 cannot fail short of a broken libcrypto */
	for (i = 0; i < 8; i++)
		h = h << 8 | md[i];
	return h != 0 ? h : 1;
}

int
sd_state_new(struct sd_state **out, int genesis_paused)
{
	struct sd_state *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ERR_NOMEM;
	pthread_mutex_init(&st->mu, NULL);
	st->cap = 1024;
	if ((st->slots = calloc(st->cap, sizeof(*st->slots))) == NULL ||
	    sd_nonces_new(&st->nonces) != 0 || sd_queue_new(&st->queue) != 0 ||
	    sd_pause_new(&st->pause, genesis_paused) != 0 ||
	    sd_seen_new(&st->seen) != 0 || sd_gov_new(&st->gov) != 0) {
		sd_state_free(st);
		return ERR_NOMEM;
	}
	atomic_init(&st->newest_unix, INT64_MIN);
	*out = st;
	return 0;
}

static void
request_free(struct sd_request *r)
{
	if (r == NULL)
		return;
	free(r->raw);
	free(r);
}

void
sd_state_free(struct sd_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; st->slots != NULL && i < st->cap; i++)
		request_free(st->slots[i].req);
	free(st->slots);
	free(st->buckets);
	sd_nonces_free(st->nonces);
	sd_queue_free(st->queue);
	sd_pause_free(st->pause);
	sd_seen_free(st->seen);
	sd_gov_free(st->gov);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

void sd_state_lock(struct sd_state *st) { pthread_mutex_lock(&st->mu); }
void sd_state_unlock(struct sd_state *st) { pthread_mutex_unlock(&st->mu); }

/* Index of id's slot, or of the empty slot where it would go. */
static size_t
slot_of(const struct sd_state *st, const char *id, uint64_t h)
{
	size_t i = h & (st->cap - 1);

	while (st->slots[i].h != 0 &&
	    (st->slots[i].h != h || strcmp(st->slots[i].req->id, id) != 0))
		i = (i + 1) & (st->cap - 1);
	return i;
}

const struct sd_request *
sd_state_find(const struct sd_state *st, const char *request_id)
{
	size_t i = slot_of(st, request_id, id_hash(request_id));

	return st->slots[i].req;
}

static int
grow(struct sd_state *st)
{
	struct slot *old = st->slots, *ns;
	size_t oldcap = st->cap, i, j;

	if ((ns = calloc(oldcap * 2, sizeof(*ns))) == NULL)
		return ERR_NOMEM;
	st->slots = ns;
	st->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (old[i].h == 0)
			continue;
		j = old[i].h & (st->cap - 1);
		while (ns[j].h != 0)
			j = (j + 1) & (st->cap - 1);
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

static struct bucket *
bucket_get(struct sd_state *st, const char *asset, int64_t day, int create)
{
	struct bucket *nb;
	size_t i;

	for (i = 0; i < st->nbuckets; i++)
		if (st->buckets[i].day == day &&
		    strcmp(st->buckets[i].asset, asset) == 0)
			return &st->buckets[i];
	if (!create)
		return NULL;
	nb = realloc(st->buckets, (st->nbuckets + 1) * sizeof(*nb));
	if (nb == NULL)
		return NULL;
	st->buckets = nb;
	nb = &st->buckets[st->nbuckets++];
	memset(nb, 0, sizeof(*nb));
	snprintf(nb->asset, sizeof(nb->asset), "%s", asset);
	nb->day = day;
	return nb;
}

void
sd_state_exposure(const struct sd_state *st, u256 *out, const char *asset,
    int64_t day)
{
	struct bucket *b;

	u256_from_u64(out, 0);
	b = bucket_get((struct sd_state *)st, asset, day, 0);
	/* Both fit: begin() refused any reservation that would overflow. */
	if (b != NULL && u256_add(out, &b->signed_total, &b->reserved) != 0)
		abort();
}

int
sd_state_begin(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const struct sd_nonce_ref *ref)
{
	struct sd_request *r = NULL;
	struct bucket *b;
	uint64_t h = id_hash(request_id);
	const char *owner;
	u256 total, reserved;
	size_t i;
	int ret;

	if (strlen(request_id) > SD_REQUEST_ID_MAX ||
	    strlen(asset) > SD_ASSET_MAX)
		return ERR_INVALID_ARG;
	i = slot_of(st, request_id, h);
	if (st->slots[i].h != 0)
		return ERR_EXISTS;
	/* invariant 5: one payout per (key, chain, nonce). */
	if ((owner = sd_nonces_owner(st->nonces, ref)) != NULL &&
	    strcmp(owner, request_id) != 0)
		return ERR_EXISTS;
	if ((b = bucket_get(st, asset, day, 1)) == NULL)
		return ERR_NOMEM;
	if ((ret = u256_add(&reserved, &b->reserved, amount)) != 0 ||
	    (ret = u256_add(&total, &b->signed_total, &reserved)) != 0)
		return ret;
	if ((st->used + 1) * 10 > st->cap * 7) {
		if ((ret = grow(st)) != 0)
			return ret;
		i = slot_of(st, request_id, h);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	if ((ret = sd_nonces_claim(st->nonces, ref, request_id)) != 0) {
		free(r);
		return ret;
	}
	r->ref = *ref;
	snprintf(r->id, sizeof(r->id), "%s", request_id);
	memcpy(r->content, content, 32);
	snprintf(r->asset, sizeof(r->asset), "%s", asset);
	r->day = day;
	r->amount = *amount;
	r->status = SD_REQ_IN_FLIGHT;
	st->slots[i].h = h;
	st->slots[i].req = r;
	st->used++;
	b->reserved = reserved;
	return 0;
}

int
sd_state_commit(struct sd_state *st, const char *request_id,
    const uint8_t tx_hash[32], const uint8_t *raw, size_t raw_len)
{
	size_t i = slot_of(st, request_id, id_hash(request_id));
	struct sd_request *r = st->slots[i].req;
	struct bucket *b;
	uint8_t *copy;

	if (r == NULL || r->status != SD_REQ_IN_FLIGHT || raw_len == 0 ||
	    raw_len > SD_RAW_TX_MAX)
		return ERR_INVALID_ARG;
	if ((b = bucket_get(st, r->asset, r->day, 0)) == NULL)
		return ERR_INTERNAL;
	if ((copy = malloc(raw_len)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, raw, raw_len);
	/* The reservation moves to the signed total; neither can overflow
	 * because begin() checked their sum. */
	if (u256_sub(&b->reserved, &b->reserved, &r->amount) != 0 ||
	    u256_add(&b->signed_total, &b->signed_total, &r->amount) != 0)
		abort();
	/* The sequence's top; no memory here only costs a gap fill later. */
	if (sd_nonces_signed(st->nonces, &r->ref) != 0)
		log_error("request %s: the sender's highest nonce was not noted",
		    request_id);
	r->raw = copy;
	r->raw_len = raw_len;
	memcpy(r->tx_hash, tx_hash, 32);
	r->status = SD_REQ_SIGNED;
	st->nsigned++;
	return 0;
}

/* Removes slot i, shifting later members of its probe run back. */
static void
slot_remove(struct sd_state *st, size_t i)
{
	size_t j = i, want;

	st->slots[i].h = 0;
	st->slots[i].req = NULL;
	st->used--;
	for (;;) {
		j = (j + 1) & (st->cap - 1);
		if (st->slots[j].h == 0)
			return;
		want = st->slots[j].h & (st->cap - 1);
		/* Move j into the hole unless its home lies in (i, j]. */
		if ((j > i && (want <= i || want > j)) ||
		    (j < i && (want <= i && want > j))) {
			st->slots[i] = st->slots[j];
			st->slots[j].h = 0;
			st->slots[j].req = NULL;
			i = j;
		}
	}
}

void
sd_state_abort(struct sd_state *st, const char *request_id)
{
	size_t i = slot_of(st, request_id, id_hash(request_id));
	struct sd_request *r = st->slots[i].req;
	struct bucket *b;

	if (r == NULL || r->status != SD_REQ_IN_FLIGHT)
		return;
	if ((b = bucket_get(st, r->asset, r->day, 0)) != NULL &&
	    u256_sub(&b->reserved, &b->reserved, &r->amount) != 0)
		abort();
	sd_nonces_release(st->nonces, &r->ref, r->id);
	slot_remove(st, i);
	request_free(r);
}

const char *
sd_state_nonce_owner(const struct sd_state *st, const struct sd_nonce_ref *ref)
{
	return sd_nonces_owner(st->nonces, ref);
}

/* The signed request with that id, for a fee bump; NULL if none. */
static struct sd_request *
signed_request(struct sd_state *st, const char *request_id)
{
	struct sd_request *r = st->slots[slot_of(st, request_id,
	    id_hash(request_id))].req;

	return r != NULL && r->status == SD_REQ_SIGNED ? r : NULL;
}

int
sd_state_bump_begin(struct sd_state *st, const char *request_id,
    const uint8_t old_content[32])
{
	struct sd_request *r = signed_request(st, request_id);

	if (r == NULL)
		return ERR_NOT_FOUND;
	/* Two bumps at once, or a bump of a transaction already replaced:
	 * the caller decided on stale data. */
	if (r->bumping || memcmp(r->content, old_content, 32) != 0)
		return ERR_EXISTS;
	r->bumping = 1;
	return 0;
}

/* Replaces r's signed transaction; exposure and nonce stay (invariant 2:
 * a fee bump is the same payout, counted once). */
static int
replace_signed(struct sd_request *r, const uint8_t content[32],
    const uint8_t tx_hash[32], const uint8_t *raw, size_t raw_len)
{
	uint8_t *copy;

	if (raw_len == 0 || raw_len > SD_RAW_TX_MAX)
		return ERR_INVALID_ARG;
	if ((copy = malloc(raw_len)) == NULL)
		return ERR_NOMEM;
	memcpy(copy, raw, raw_len);
	free(r->raw);
	r->raw = copy;
	r->raw_len = raw_len;
	memcpy(r->content, content, 32);
	memcpy(r->tx_hash, tx_hash, 32);
	return 0;
}

int
sd_state_bump_commit(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len)
{
	struct sd_request *r = signed_request(st, request_id);
	int ret;

	if (r == NULL || !r->bumping)
		return ERR_INVALID_ARG;
	ret = replace_signed(r, content, tx_hash, raw, raw_len);
	r->bumping = 0;
	return ret;
}

void
sd_state_bump_abort(struct sd_state *st, const char *request_id)
{
	struct sd_request *r = signed_request(st, request_id);

	if (r != NULL)
		r->bumping = 0;
}

int
sd_state_replay_bump(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len)
{
	struct sd_request *r = signed_request(st, request_id);

	if (r == NULL)
		return ERR_NOT_FOUND;	/* a bump of nothing: corrupt */
	return replace_signed(r, content, tx_hash, raw, raw_len);
}

struct sd_queue *
sd_state_queue(struct sd_state *st)
{
	return st->queue;
}

struct sd_pause *
sd_state_pause(struct sd_state *st)
{
	return st->pause;
}

struct sd_seen *
sd_state_seen(struct sd_state *st)
{
	return st->seen;
}

struct sd_gov *
sd_state_gov(struct sd_state *st)
{
	return st->gov;
}

int
sd_state_fills_gap(const struct sd_state *st, const struct sd_nonce_ref *ref)
{
	return sd_nonces_below_signed(st->nonces, ref) &&
	    sd_nonces_owner(st->nonces, ref) == NULL;
}

void
sd_state_note_time(struct sd_state *st, int64_t unix_seconds)
{
	int64_t cur = atomic_load(&st->newest_unix);

	while (cur < unix_seconds &&
	    !atomic_compare_exchange_weak(&st->newest_unix, &cur, unix_seconds))
		;
}

int64_t
sd_state_newest_time(const struct sd_state *st)
{
	return atomic_load(&((struct sd_state *)st)->newest_unix);
}

int
sd_state_replay_signed(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len, const struct sd_nonce_ref *ref)
{
	int ret;

	if ((ret = sd_state_begin(st, request_id, content, asset, day,
	    amount, ref)) != 0)
		return ret;
	if ((ret = sd_state_commit(st, request_id, tx_hash, raw,
	    raw_len)) != 0)
		sd_state_abort(st, request_id);
	return ret;
}

void
sd_state_set_receipt(struct sd_state *st, const char *request_id,
    uint64_t seq, const uint8_t hash[32])
{
	struct sd_request *r = signed_request(st, request_id);

	if (r == NULL)
		return;
	r->receipt_seq = seq;
	memcpy(r->receipt_hash, hash, 32);
}

size_t
sd_state_count(const struct sd_state *st)
{
	return st->nsigned;
}

static int
put_u256(struct prt_writer *w, const u256 *v)
{
	uint8_t be[32];

	u256_to_be32(be, v);
	return prt_put_bytes(w, be, sizeof(be));
}

static int
bucket_cmp(const void *a, const void *b)
{
	const struct bucket *const *x = a, *const *y = b;
	int c = strcmp((*x)->asset, (*y)->asset);

	return c != 0 ? c : ((*x)->day > (*y)->day) - ((*x)->day < (*y)->day);
}

static int
request_cmp(const void *a, const void *b)
{
	const struct sd_request *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/*
 * In sorted order (asset and day; request id), so that a live signerd and
 * a replay of its journal write the same bytes whatever order requests
 * arrived in.
 */
int
sd_state_serialize(const struct sd_state *st, struct prt_writer *w)
{
	const struct bucket **bs = NULL;
	const struct sd_request **rs = NULL, *r;
	size_t i, nb = 0, nr = 0;
	int ret = ERR_NOMEM;

	if ((bs = calloc(st->nbuckets + 1, sizeof(*bs))) == NULL ||
	    (rs = calloc(st->nsigned + 1, sizeof(*rs))) == NULL)
		goto out;
	/* Buckets touched only by aborted requests hold nothing: skip them,
	 * since replaying the requests would not recreate them. */
	for (i = 0; i < st->nbuckets; i++)
		if (!u256_is_zero(&st->buckets[i].signed_total))
			bs[nb++] = &st->buckets[i];
	for (i = 0; i < st->cap; i++)
		if ((r = st->slots[i].req) != NULL && r->status == SD_REQ_SIGNED &&
		    nr < st->nsigned)
			rs[nr++] = r;
	qsort(bs, nb, sizeof(*bs), bucket_cmp);
	qsort(rs, nr, sizeof(*rs), request_cmp);
	prt_put_u32(w, STATE_BLOB_MAGIC);
	prt_put_u32(w, (uint32_t)nb);
	for (i = 0; i < nb; i++) {
		prt_put_string(w, bs[i]->asset);
		prt_put_u64(w, (uint64_t)bs[i]->day);
		put_u256(w, &bs[i]->signed_total);
	}
	prt_put_u64(w, nr);
	for (i = 0; i < nr; i++) {
		r = rs[i];
		prt_put_string(w, r->id);
		prt_put_bytes(w, r->content, 32);
		prt_put_string(w, r->asset);
		prt_put_u64(w, (uint64_t)r->day);
		put_u256(w, &r->amount);
		prt_put_bytes(w, r->tx_hash, 32);
		prt_put_lv(w, r->raw, r->raw_len);
		prt_put_bytes(w, r->ref.from, sizeof(r->ref.from));
		prt_put_u64(w, r->ref.chain_id);
		prt_put_u64(w, r->ref.nonce);
		prt_put_u64(w, r->receipt_seq);
		prt_put_bytes(w, r->receipt_hash, 32);
	}
	if (prt_writer_error(w) != 0 ||
	    sd_queue_serialize(st->queue, w) != 0 ||
	    sd_pause_serialize(st->pause, w) != 0 ||
	    sd_seen_serialize(st->seen, w) != 0 ||
	    sd_gov_serialize(st->gov, w) != 0) {
		ret = prt_writer_error(w) != 0 ? prt_writer_error(w) :
		    ERR_NOMEM;
		goto out;
	}
	prt_put_u64(w, (uint64_t)sd_state_newest_time(st));
	ret = prt_writer_error(w);
out:
	free(bs);
	free(rs);
	return ret;
}

static int
get_u256(struct prt_reader *rd, u256 *v)
{
	uint8_t be[32];
	int ret;

	if ((ret = prt_get_bytes(rd, be, sizeof(be))) != 0)
		return ret;
	return u256_from_be(v, be, sizeof(be));
}

int
sd_state_deserialize(struct sd_state *st, const uint8_t *blob, size_t len)
{
	char id[SD_REQUEST_ID_MAX + 1], asset[SD_ASSET_MAX + 1], gerr[240] = "";
	uint8_t content[32], tx_hash[32], rhash[32];
	struct bucket *want = NULL, *b;
	struct prt_reader rd;
	const uint8_t *raw;
	struct sd_nonce_ref ref;
	uint32_t magic, nb = 0, i;
	uint64_t n, k, day, newest, rseq;
	size_t raw_len;
	u256 amount;
	int ret;

	if (st->used != 0 || st->nbuckets != 0 ||
	    sd_queue_count(st->queue) != 0 || sd_seen_count(st->seen) != 0)
		return ERR_INVALID_ARG;
	prt_reader_init(&rd, blob, len);
	if ((ret = prt_get_u32(&rd, &magic)) != 0)
		goto out;
	if (magic != STATE_BLOB_MAGIC) {
		ret = ERR_BAD_VERSION;
		goto out;
	}
	if ((ret = prt_get_u32(&rd, &nb)) != 0)
		goto out;
	/* Each bucket takes at least 44 bytes: bound nb before allocating. */
	if (nb > prt_remaining(&rd) / 44 + 1) {
		ret = ERR_TOO_LARGE;
		goto out;
	}
	if ((want = calloc(nb + 1, sizeof(*want))) == NULL) {
		ret = ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nb; i++) {
		if ((ret = prt_get_string(&rd, want[i].asset,
		    sizeof(want[i].asset))) != 0 ||
		    (ret = prt_get_u64(&rd, &day)) != 0 ||
		    (ret = get_u256(&rd, &want[i].signed_total)) != 0)
			goto out;
		want[i].day = (int64_t)day;
	}
	if ((ret = prt_get_u64(&rd, &n)) != 0)
		goto out;
	for (k = 0; k < n; k++) {
		if ((ret = prt_get_string(&rd, id, sizeof(id))) != 0 ||
		    (ret = prt_get_bytes(&rd, content, 32)) != 0 ||
		    (ret = prt_get_string(&rd, asset, sizeof(asset))) != 0 ||
		    (ret = prt_get_u64(&rd, &day)) != 0 ||
		    (ret = get_u256(&rd, &amount)) != 0 ||
		    (ret = prt_get_bytes(&rd, tx_hash, 32)) != 0 ||
		    (ret = prt_get_lv(&rd, &raw, &raw_len, SD_RAW_TX_MAX)) != 0 ||
		    (ret = prt_get_bytes(&rd, ref.from, sizeof(ref.from))) != 0 ||
		    (ret = prt_get_u64(&rd, &ref.chain_id)) != 0 ||
		    (ret = prt_get_u64(&rd, &ref.nonce)) != 0 ||
		    (ret = prt_get_u64(&rd, &rseq)) != 0 ||
		    (ret = prt_get_bytes(&rd, rhash, 32)) != 0)
			goto out;
		/* A snapshot holds each id and each nonce once. */
		if ((ret = sd_state_replay_signed(st, id, content, asset,
		    (int64_t)day, &amount, tx_hash, raw, raw_len,
		    &ref)) != 0) {
			ret = ret == ERR_EXISTS ? ERR_MALFORMED : ret;
			goto out;
		}
		sd_state_set_receipt(st, id, rseq, rhash);
	}
	if ((ret = sd_queue_deserialize(st->queue, &rd)) != 0 ||
	    (ret = sd_pause_deserialize(st->pause, &rd)) != 0 ||
	    (ret = sd_seen_deserialize(st->seen, &rd)) != 0 ||
	    (ret = sd_gov_deserialize(st->gov, &rd, gerr, sizeof(gerr))) !=
	    0 || (ret = prt_get_u64(&rd, &newest)) != 0) {
		if (gerr[0] != '\0')
			log_error("snapshot: policy versions: %s", gerr);
		goto out;
	}
	sd_state_note_time(st, (int64_t)newest);
	if ((ret = prt_end(&rd)) != 0)
		goto out;
	/* The stored totals must be exactly what the requests add up to: a
	 * blob cannot claim less exposure than its own requests. */
	ret = ERR_MALFORMED;
	for (i = 0; i < nb; i++) {
		b = bucket_get(st, want[i].asset, want[i].day, 0);
		if (b == NULL || u256_cmp(&b->signed_total,
		    &want[i].signed_total) != 0)
			goto out;
	}
	for (i = 0, k = 0; i < st->nbuckets; i++)
		k += !u256_is_zero(&st->buckets[i].signed_total);
	if (k != nb)
		goto out;
	ret = 0;
 out:
	free(want);
	return ret;
}
