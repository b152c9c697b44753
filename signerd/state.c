/* state.c: exposure buckets, the requests inside the retention window, the parts composed with them, and their snapshot. */
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
 * STT3 each signed request's receipt; STT5 the retention window (D55):
 * requests by fingerprint and record position, nonces on their own. */
#define STATE_BLOB_MAGIC 0x53545435u	/* "STT5" */

#define KEY_LEN 12

struct bucket {
	char asset[SD_ASSET_MAX + 1];
	int64_t day;
	u256 signed_total;
	u256 reserved;
};

/*
 * One signed request: 32 bytes, whatever its transaction's size (D55).
 * The key is a hash of (created day, id); created 0 marks an empty slot
 * (the protocol refuses day 0).  Truncated hashes only ever err towards
 * refusing: a collision makes a new request look signed already, so
 * signerd hands back a stored transaction or refuses, never signs twice.
 */
struct live {
	uint8_t key[KEY_LEN];
	uint32_t created;
	uint8_t content[SD_CONTENT_TAG_LEN];
	struct jnl_pos pos;
};

/* A request being signed (or bumped): few at a time, kept whole. */
struct flight {
	char id[SD_REQUEST_ID_MAX + 1];
	uint32_t created;
	int bump;
	uint8_t content[SD_CONTENT_TAG_LEN];
	char asset[SD_ASSET_MAX + 1];
	int64_t day;
	u256 amount;
	struct sd_nonce_ref ref;
};

struct sd_state {
	pthread_mutex_t mu;
	struct live *slots;	/* open addressing, linear probing */
	size_t cap;
	size_t used;
	struct flight *flights;
	size_t nflights, flights_cap;
	struct bucket *buckets;
	size_t nbuckets;
	struct sd_nonces *nonces;
	struct sd_queue *queue;
	struct sd_pause *pause;
	struct sd_seen *seen;
	struct sd_gov *gov;
	_Atomic int64_t newest_unix;
};

/* Capacity: grows by half when 7/8 full, so a slot is 32 bytes and a
 * request costs 37 to 64 bytes of table. */
#define CAP_MIN 1024

/*
 * Request ids come from a possibly compromised client, so the table is
 * keyed by a cryptographic hash: nobody can aim ids at one probe run.
 */
static void
request_key(uint8_t key[KEY_LEN], const char *id, uint32_t created)
{
	uint8_t md[32], be[4];
	EVP_MD_CTX *c;

	be[0] = (uint8_t)(created >> 24);
	be[1] = (uint8_t)(created >> 16);
	be[2] = (uint8_t)(created >> 8);
	be[3] = (uint8_t)created;
	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, sd_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, "signerd-request", 16) != 1 ||
	    EVP_DigestUpdate(c, be, 4) != 1 ||
	    EVP_DigestUpdate(c, id, strlen(id)) != 1 ||
	    EVP_DigestFinal_ex(c, md, NULL) != 1)
		abort();	/* SHA-256 cannot fail short of a broken libcrypto */
	EVP_MD_CTX_free(c);
	memcpy(key, md, KEY_LEN);
}

void
sd_content_tag(uint8_t tag[SD_CONTENT_TAG_LEN], const uint8_t content[32])
{
	memcpy(tag, content, SD_CONTENT_TAG_LEN);
}

static size_t
home(size_t cap, const uint8_t key[KEY_LEN])
{
	uint64_t h = 0;
	int i;

	for (i = 0; i < 8; i++)
		h = h << 8 | key[i];
	/* Maps h onto [0, cap) without a division: cap is no power of 2. */
	return (size_t)(((unsigned __int128)h * cap) >> 64);
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t
slot_of(const struct sd_state *st, const uint8_t key[KEY_LEN],
    uint32_t created)
{
	size_t i = home(st->cap, key);

	while (st->slots[i].created != 0 &&
	    (st->slots[i].created != created ||
	    memcmp(st->slots[i].key, key, KEY_LEN) != 0))
		i = i + 1 == st->cap ? 0 : i + 1;
	return i;
}

int
sd_state_new(struct sd_state **out, int genesis_paused)
{
	struct sd_state *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ERR_NOMEM;
	pthread_mutex_init(&st->mu, NULL);
	st->cap = CAP_MIN;
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

void
sd_state_free(struct sd_state *st)
{
	if (st == NULL)
		return;
	free(st->slots);
	free(st->flights);
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

static int
resize(struct sd_state *st, size_t ncap)
{
	struct live *old = st->slots, *ns;
	size_t oldcap = st->cap, i, j;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return ERR_NOMEM;
	st->slots = ns;
	st->cap = ncap;
	for (i = 0; i < oldcap; i++) {
		if (old[i].created == 0)
			continue;
		j = home(ncap, old[i].key);
		while (ns[j].created != 0)
			j = j + 1 == ncap ? 0 : j + 1;
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

/* Removes slot i, moving later members of its probe run back. */
static void
slot_remove(struct sd_state *st, size_t i)
{
	size_t j = i, want;

	memset(&st->slots[i], 0, sizeof(st->slots[i]));
	st->used--;
	for (;;) {
		j = j + 1 == st->cap ? 0 : j + 1;
		if (st->slots[j].created == 0)
			return;
		want = home(st->cap, st->slots[j].key);
		/* j may fill the hole when its home is not in (i, j]. */
		if ((j + st->cap - want) % st->cap >= (j + st->cap - i) % st->cap) {
			st->slots[i] = st->slots[j];
			memset(&st->slots[j], 0, sizeof(st->slots[j]));
			i = j;
		}
	}
}

static struct flight *
flight_find(const struct sd_state *st, const char *id, uint32_t created)
{
	size_t i;

	for (i = 0; i < st->nflights; i++)
		if (st->flights[i].created == created &&
		    strcmp(st->flights[i].id, id) == 0)
			return &st->flights[i];
	return NULL;
}

static struct flight *
flight_add(struct sd_state *st, const char *id, uint32_t created)
{
	struct flight *nf;
	size_t ncap;

	if (st->nflights == st->flights_cap) {
		ncap = st->flights_cap != 0 ? st->flights_cap * 2 : 16;
		if ((nf = realloc(st->flights, ncap * sizeof(*nf))) == NULL)
			return NULL;
		st->flights = nf;
		st->flights_cap = ncap;
	}
	nf = &st->flights[st->nflights++];
	memset(nf, 0, sizeof(*nf));
	snprintf(nf->id, sizeof(nf->id), "%s", id);
	nf->created = created;
	return nf;
}

static void
flight_remove(struct sd_state *st, struct flight *f)
{
	*f = st->flights[--st->nflights];
}

enum sd_req_kind
sd_state_find(const struct sd_state *st, const char *request_id,
    uint32_t created, struct sd_req_found *out)
{
	const struct flight *f;
	const struct live *l;
	uint8_t key[KEY_LEN];

	memset(out, 0, sizeof(*out));
	if ((f = flight_find(st, request_id, created)) != NULL && !f->bump)
		return out->kind = SD_REQ_IN_FLIGHT;
	request_key(key, request_id, created);
	l = &st->slots[slot_of(st, key, created)];
	if (l->created == 0)
		return out->kind = SD_REQ_NONE;
	memcpy(out->content_tag, l->content, SD_CONTENT_TAG_LEN);
	out->pos = l->pos;
	return out->kind = f != NULL ? SD_REQ_BUMPING : SD_REQ_SIGNED;
}

enum sd_req_kind
sd_state_find_any(const struct sd_state *st, const char *request_id,
    int64_t oldest_day, int64_t newest_day, struct sd_req_found *out)
{
	int64_t d;

	memset(out, 0, sizeof(*out));
	for (d = newest_day; d >= oldest_day && d > 0; d--)
		if (d <= UINT32_MAX && sd_state_find(st, request_id,
		    (uint32_t)d, out) != SD_REQ_NONE)
			break;
	return out->kind;
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
sd_state_begin(struct sd_state *st, const char *request_id, uint32_t created,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const struct sd_nonce_ref *ref)
{
	struct sd_req_found found;
	struct flight *f;
	struct bucket *b;
	u256 total, reserved;
	int ret;

	if (strlen(request_id) > SD_REQUEST_ID_MAX ||
	    strlen(asset) > SD_ASSET_MAX || created == 0)
		return ERR_INVALID_ARG;
	if (sd_state_find(st, request_id, created, &found) != SD_REQ_NONE)
		return ERR_EXISTS;
	/* invariant 5: one payout per (key, chain, nonce). */
	if (sd_nonces_used(st->nonces, ref))
		return ERR_EXISTS;
	if ((b = bucket_get(st, asset, day, 1)) == NULL)
		return ERR_NOMEM;
	if ((ret = u256_add(&reserved, &b->reserved, amount)) != 0 ||
	    (ret = u256_add(&total, &b->signed_total, &reserved)) != 0)
		return ret;
	if ((ret = sd_nonces_claim(st->nonces, ref)) != 0)
		return ret;
	if ((f = flight_add(st, request_id, created)) == NULL) {
		sd_nonces_release(st->nonces, ref);
		return ERR_NOMEM;
	}
	sd_content_tag(f->content, content);
	snprintf(f->asset, sizeof(f->asset), "%s", asset);
	f->day = day;
	f->amount = *amount;
	f->ref = *ref;
	b->reserved = reserved;
	return 0;
}

/* Remembers a signed request (a slot for it, growing first if needed). */
static int
live_put(struct sd_state *st, const char *request_id, uint32_t created,
    const uint8_t tag[SD_CONTENT_TAG_LEN], const struct jnl_pos *pos)
{
	uint8_t key[KEY_LEN];
	size_t i;
	int ret;

	if ((st->used + 1) * 8 > st->cap * 7 &&
	    (ret = resize(st, st->cap + st->cap / 2)) != 0)
		return ret;
	request_key(key, request_id, created);
	i = slot_of(st, key, created);
	if (st->slots[i].created != 0)
		return ERR_EXISTS;
	memcpy(st->slots[i].key, key, KEY_LEN);
	st->slots[i].created = created;
	memcpy(st->slots[i].content, tag, SD_CONTENT_TAG_LEN);
	st->slots[i].pos = *pos;
	st->used++;
	return 0;
}

int
sd_state_commit(struct sd_state *st, const char *request_id, uint32_t created,
    const struct jnl_pos *pos)
{
	struct flight *f = flight_find(st, request_id, created);
	struct bucket *b;
	int ret;

	if (f == NULL || f->bump)
		return ERR_INVALID_ARG;
	if ((b = bucket_get(st, f->asset, f->day, 0)) == NULL)
		return ERR_INTERNAL;
	if ((ret = live_put(st, request_id, created, f->content, pos)) != 0)
		return ret;
	/* The reservation moves to the signed total; neither can overflow
	 * because begin() checked their sum. */
	if (u256_sub(&b->reserved, &b->reserved, &f->amount) != 0 ||
	    u256_add(&b->signed_total, &b->signed_total, &f->amount) != 0)
		abort();
	if (sd_nonces_signed(st->nonces, &f->ref) != 0)
		log_error("request %s: nonce %llu was not noted as signed",
		    request_id, (unsigned long long)f->ref.nonce);
	flight_remove(st, f);
	return 0;
}

void
sd_state_abort(struct sd_state *st, const char *request_id, uint32_t created)
{
	struct flight *f = flight_find(st, request_id, created);
	struct bucket *b;

	if (f == NULL || f->bump)
		return;
	if ((b = bucket_get(st, f->asset, f->day, 0)) != NULL &&
	    u256_sub(&b->reserved, &b->reserved, &f->amount) != 0)
		abort();
	sd_nonces_release(st->nonces, &f->ref);
	flight_remove(st, f);
}

int
sd_state_nonce_used(const struct sd_state *st, const struct sd_nonce_ref *ref)
{
	return sd_nonces_used(st->nonces, ref);
}

/* The slot of a signed request, or NULL. */
static struct live *
live_get(struct sd_state *st, const char *request_id, uint32_t created)
{
	uint8_t key[KEY_LEN];
	struct live *l;

	request_key(key, request_id, created);
	l = &st->slots[slot_of(st, key, created)];
	return l->created != 0 ? l : NULL;
}

int
sd_state_bump_begin(struct sd_state *st, const char *request_id,
    uint32_t created, const struct jnl_pos *pos)
{
	struct live *l = live_get(st, request_id, created);
	struct flight *f;

	if (l == NULL)
		return ERR_NOT_FOUND;
	/* Two bumps at once, or a bump of a transaction already replaced:
	 * the caller decided on stale data. */
	if (flight_find(st, request_id, created) != NULL ||
	    l->pos.seg != pos->seg || l->pos.off != pos->off)
		return ERR_EXISTS;
	if ((f = flight_add(st, request_id, created)) == NULL)
		return ERR_NOMEM;
	f->bump = 1;
	return 0;
}

int
sd_state_bump_commit(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const struct jnl_pos *pos)
{
	struct flight *f = flight_find(st, request_id, created);
	struct live *l = live_get(st, request_id, created);

	if (f == NULL || !f->bump || l == NULL)
		return ERR_INVALID_ARG;
	/* Exposure and nonce stay (invariant 2: a fee bump is the same
	 * payout, counted once); the newest transaction is what a retry
	 * gets back. */
	sd_content_tag(l->content, content);
	l->pos = *pos;
	flight_remove(st, f);
	return 0;
}

void
sd_state_bump_abort(struct sd_state *st, const char *request_id,
    uint32_t created)
{
	struct flight *f = flight_find(st, request_id, created);

	if (f != NULL && f->bump)
		flight_remove(st, f);
}

int
sd_state_replay_signed(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const char *asset,
    int64_t day, const u256 *amount, const struct sd_nonce_ref *ref,
    const struct jnl_pos *pos)
{
	int ret;

	if ((ret = sd_state_begin(st, request_id, created, content, asset,
	    day, amount, ref)) != 0)
		return ret;
	if ((ret = sd_state_commit(st, request_id, created, pos)) != 0)
		sd_state_abort(st, request_id, created);
	return ret;
}

int
sd_state_replay_bump(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const struct jnl_pos *pos)
{
	struct live *l = live_get(st, request_id, created);

	if (l == NULL)
		return ERR_NOT_FOUND;	/* a bump of nothing: corrupt */
	sd_content_tag(l->content, content);
	l->pos = *pos;
	return 0;
}

/* 1 when a fee bump of slot l is being signed: it stays until then. */
static int
bumping(const struct sd_state *st, const struct live *l)
{
	uint8_t key[KEY_LEN];
	size_t i;

	for (i = 0; i < st->nflights; i++) {
		if (!st->flights[i].bump || st->flights[i].created != l->created)
			continue;
		request_key(key, st->flights[i].id, st->flights[i].created);
		if (memcmp(key, l->key, KEY_LEN) == 0)
			return 1;
	}
	return 0;
}

void
sd_state_prune(struct sd_state *st, int64_t oldest_day)
{
	size_t i, n;

	/* Backward shifts may move a later slot into i: look at i again.
	 * A run that wraps past the end is finished by a second pass. */
	for (n = 0; n < 2; n++)
		for (i = 0; i < st->cap;) {
			if (st->slots[i].created != 0 &&
			    (int64_t)st->slots[i].created < oldest_day &&
			    !bumping(st, &st->slots[i]))
				slot_remove(st, i);
			else
				i++;
		}
	for (i = 0, n = 0; i < st->nbuckets; i++)
		if (st->buckets[i].day >= oldest_day ||
		    !u256_is_zero(&st->buckets[i].reserved))
			st->buckets[n++] = st->buckets[i];
	st->nbuckets = n;
	/* Shrink back when a busy week is over, keeping 7/8 free room. */
	if (st->cap > CAP_MIN && st->used * 4 < st->cap &&
	    resize(st, st->cap / 2 > CAP_MIN ? st->cap / 2 : CAP_MIN) != 0)
		log_warn("state: the request table could not shrink");
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
	    !sd_nonces_used(st->nonces, ref);
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

size_t
sd_state_count(const struct sd_state *st)
{
	return st->used;
}

size_t
sd_state_table_bytes(const struct sd_state *st)
{
	return st->cap * sizeof(*st->slots);
}

size_t
sd_state_nonce_count(const struct sd_state *st)
{
	return sd_nonces_count(st->nonces);
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
	const struct bucket *x = a, *y = b;
	int c = strcmp(x->asset, y->asset);

	return c != 0 ? c : (x->day > y->day) - (x->day < y->day);
}

static int
live_cmp(const void *a, const void *b)
{
	const struct live *const *x = a, *const *y = b;
	int c = memcmp((*x)->key, (*y)->key, KEY_LEN);

	return c != 0 ? c : ((*x)->created > (*y)->created) -
	    ((*x)->created < (*y)->created);
}

/* The request table as it stood, to be written outside the lock. */
struct sd_state_copy {
	struct live *slots;
	size_t n;
};

static int
live_entry_cmp(const void *a, const void *b)
{
	const struct live *x = a, *y = b;

	return live_cmp(&x, &y);
}

/*
 * Forgets what is older than the window first, then writes in sorted
 * order (asset and day; request key), so that a live signerd and a replay
 * of its journal write the same bytes whatever order requests arrived in
 * and whenever each last pruned.  The requests come last: under the lock
 * they are only copied (a memcpy), sorted and written after it.
 */
int
sd_state_serialize_head(struct sd_state *st, struct prt_writer *w,
    int64_t oldest_day, struct sd_state_copy **copy)
{
	struct sd_state_copy *c;
	size_t i, nb = 0;

	*copy = NULL;
	sd_state_prune(st, oldest_day);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->slots = malloc((st->used + 1) * sizeof(*c->slots))) == NULL) {
		free(c);
		return ERR_NOMEM;
	}
	/* Only the requests: 32 bytes each, the empty slots left behind. */
	for (i = 0; i < st->cap && c->n < st->used; i++)
		if (st->slots[i].created != 0)
			c->slots[c->n++] = st->slots[i];
	/* Buckets touched only by aborted requests hold nothing: skip them,
	 * since replaying the requests would not recreate them. */
	if (st->nbuckets > 1)
		qsort(st->buckets, st->nbuckets, sizeof(*st->buckets),
		    bucket_cmp);
	for (i = 0; i < st->nbuckets; i++)
		nb += !u256_is_zero(&st->buckets[i].signed_total);
	prt_put_u32(w, STATE_BLOB_MAGIC);
	prt_put_u32(w, (uint32_t)nb);
	for (i = 0; i < st->nbuckets; i++) {
		if (u256_is_zero(&st->buckets[i].signed_total))
			continue;
		prt_put_string(w, st->buckets[i].asset);
		prt_put_u64(w, (uint64_t)st->buckets[i].day);
		put_u256(w, &st->buckets[i].signed_total);
	}
	if (prt_writer_error(w) != 0 ||
	    sd_nonces_serialize(st->nonces, w) != 0 ||
	    sd_queue_serialize(st->queue, w) != 0 ||
	    sd_pause_serialize(st->pause, w) != 0 ||
	    sd_seen_serialize(st->seen, w) != 0 ||
	    sd_gov_serialize(st->gov, w) != 0) {
		sd_state_copy_free(c);
		return prt_writer_error(w) != 0 ? prt_writer_error(w) :
		    ERR_NOMEM;
	}
	prt_put_u64(w, (uint64_t)sd_state_newest_time(st));
	*copy = c;
	return prt_writer_error(w);
}

int
sd_state_serialize_tail(struct sd_state_copy *c, struct prt_writer *w,
    uint32_t *min_seg)
{
	size_t i, n = 0;

	*min_seg = 0;
	for (i = 0; i < c->n; i++) {
		if (*min_seg == 0 || c->slots[i].pos.seg < *min_seg)
			*min_seg = c->slots[i].pos.seg;
		c->slots[n++] = c->slots[i];
	}
	qsort(c->slots, n, sizeof(*c->slots), live_entry_cmp);
	prt_put_u64(w, n);
	for (i = 0; i < n; i++) {
		prt_put_bytes(w, c->slots[i].key, KEY_LEN);
		prt_put_u32(w, c->slots[i].created);
		prt_put_bytes(w, c->slots[i].content, SD_CONTENT_TAG_LEN);
		prt_put_u32(w, c->slots[i].pos.seg);
		prt_put_u32(w, c->slots[i].pos.off);
	}
	sd_state_copy_free(c);
	return prt_writer_error(w);
}

void
sd_state_copy_free(struct sd_state_copy *c)
{
	if (c == NULL)
		return;
	free(c->slots);
	free(c);
}

int
sd_state_serialize(struct sd_state *st, struct prt_writer *w,
    int64_t oldest_day)
{
	struct sd_state_copy *c;
	uint32_t min_seg;
	int ret;

	if ((ret = sd_state_serialize_head(st, w, oldest_day, &c)) != 0)
		return ret;
	return sd_state_serialize_tail(c, w, &min_seg);
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

/* The requests part: strictly ascending keys (so each once), no empty
 * day, a position in some segment. */
static int
get_requests(struct sd_state *st, struct prt_reader *rd)
{
	struct live l, prev;
	uint64_t n, k;
	size_t i, ncap;
	int ret;

	if ((ret = prt_get_u64(rd, &n)) != 0)
		return ret;
	/* Each takes 32 bytes: bound n before allocating. */
	if (n > prt_remaining(rd) / 32)
		return ERR_TOO_LARGE;
	for (ncap = st->cap; ncap * 7 < (n + 1) * 8;)
		ncap += ncap / 2;
	if (ncap != st->cap && (ret = resize(st, ncap)) != 0)
		return ret;
	memset(&prev, 0, sizeof(prev));
	for (k = 0; k < n; k++) {
		memset(&l, 0, sizeof(l));
		if ((ret = prt_get_bytes(rd, l.key, KEY_LEN)) != 0 ||
		    (ret = prt_get_u32(rd, &l.created)) != 0 ||
		    (ret = prt_get_bytes(rd, l.content,
		    SD_CONTENT_TAG_LEN)) != 0 ||
		    (ret = prt_get_u32(rd, &l.pos.seg)) != 0 ||
		    (ret = prt_get_u32(rd, &l.pos.off)) != 0)
			return ret;
		if (l.created == 0 || l.pos.seg == 0 ||
		    (k > 0 && live_cmp(&(const struct live *){ &prev },
		    &(const struct live *){ &l }) >= 0))
			return ERR_MALFORMED;
		i = slot_of(st, l.key, l.created);
		st->slots[i] = l;
		st->used++;
		prev = l;
	}
	return 0;
}

int
sd_state_deserialize(struct sd_state *st, const uint8_t *blob, size_t len)
{
	char gerr[240] = "";
	struct prt_reader rd;
	struct bucket *b, want;
	uint32_t magic, nb = 0, i;
	uint64_t day, newest;
	int ret;

	if (st->used != 0 || st->nbuckets != 0 || st->nflights != 0 ||
	    sd_queue_count(st->queue) != 0 || sd_seen_count(st->seen) != 0)
		return ERR_INVALID_ARG;
	prt_reader_init(&rd, blob, len);
	if ((ret = prt_get_u32(&rd, &magic)) != 0)
		return ret;
	if (magic != STATE_BLOB_MAGIC)
		return ERR_BAD_VERSION;
	if ((ret = prt_get_u32(&rd, &nb)) != 0)
		return ret;
	/* Each bucket takes at least 44 bytes. */
	if (nb > prt_remaining(&rd) / 44 + 1)
		return ERR_TOO_LARGE;
	for (i = 0; i < nb; i++) {
		memset(&want, 0, sizeof(want));
		if ((ret = prt_get_string(&rd, want.asset,
		    sizeof(want.asset))) != 0 ||
		    (ret = prt_get_u64(&rd, &day)) != 0 ||
		    (ret = get_u256(&rd, &want.signed_total)) != 0)
			return ret;
		/* Each (asset, day) once, and holding something. */
		if (day > INT64_MAX || u256_is_zero(&want.signed_total) ||
		    bucket_get(st, want.asset, (int64_t)day, 0) != NULL)
			return ERR_MALFORMED;
		if ((b = bucket_get(st, want.asset, (int64_t)day, 1)) == NULL)
			return ERR_NOMEM;
		b->signed_total = want.signed_total;
	}
	if ((ret = sd_nonces_deserialize(st->nonces, &rd)) != 0 ||
	    (ret = sd_queue_deserialize(st->queue, &rd)) != 0 ||
	    (ret = sd_pause_deserialize(st->pause, &rd)) != 0 ||
	    (ret = sd_seen_deserialize(st->seen, &rd)) != 0 ||
	    (ret = sd_gov_deserialize(st->gov, &rd, gerr, sizeof(gerr))) !=
	    0 || (ret = prt_get_u64(&rd, &newest)) != 0 ||
	    (ret = get_requests(st, &rd)) != 0) {
		if (gerr[0] != '\0')
			log_error("snapshot: policy versions: %s", gerr);
		return ret;
	}
	sd_state_note_time(st, (int64_t)newest);
	return prt_end(&rd);
}
