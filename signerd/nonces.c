/* nonces.c: which (key, chain, nonce) are taken, in memory that follows the holes, and what counts as a fee bump (invariant 5). */
#include "signerd/nonces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/*
 * One sender's sequence on one chain.  Nonces below floor are all signed;
 * the set holds the nonces at or above it that are signed or being signed
 * (claimed).  A sender that signs in order keeps the set as small as its
 * requests in flight: memory follows the holes, not the history.
 */
enum { N_EMPTY = 0, N_CLAIMED = 1, N_SIGNED = 2 };

struct sequence {
	uint8_t from[EVM_ADDR_LEN];
	uint64_t chain_id;
	uint64_t floor;
	int any;		/* a nonce was signed: highest is set */
	uint64_t highest;	/* highest signed nonce */
	uint64_t *nonce;	/* open addressing, cap a power of two */
	uint8_t *state;
	size_t cap, used, nsigned;
};

struct sd_nonces {
	struct sequence *seqs;
	size_t nseqs;
};

int
sd_nonces_new(struct sd_nonces **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : ERR_NOMEM;
}

void
sd_nonces_free(struct sd_nonces *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nseqs; i++) {
		free(n->seqs[i].nonce);
		free(n->seqs[i].state);
	}
	free(n->seqs);
	free(n);
}

static struct sequence *
seq_find(const struct sd_nonces *n, const uint8_t from[EVM_ADDR_LEN],
    uint64_t chain_id)
{
	size_t i;

	/* A handful of keys and chains: a list is enough. */
	for (i = 0; i < n->nseqs; i++)
		if (n->seqs[i].chain_id == chain_id &&
		    memcmp(n->seqs[i].from, from, EVM_ADDR_LEN) == 0)
			return &n->seqs[i];
	return NULL;
}

static struct sequence *
seq_get(struct sd_nonces *n, const uint8_t from[EVM_ADDR_LEN],
    uint64_t chain_id)
{
	struct sequence *s = seq_find(n, from, chain_id), *ns;

	if (s != NULL)
		return s;
	if ((ns = realloc(n->seqs, (n->nseqs + 1) * sizeof(*ns))) == NULL)
		return NULL;
	n->seqs = ns;
	s = &ns[n->nseqs++];
	memset(s, 0, sizeof(*s));
	memcpy(s->from, from, EVM_ADDR_LEN);
	s->chain_id = chain_id;
	return s;
}

/* splitmix64's finaliser: nonces in a run spread over the table. */
static size_t
home(const struct sequence *s, uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x & (s->cap - 1);
}

/* Index of nonce's slot, or of the empty slot where it would go. */
static size_t
slot(const struct sequence *s, uint64_t nonce)
{
	size_t i = home(s, nonce);

	while (s->state[i] != N_EMPTY && s->nonce[i] != nonce)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int
state_of(const struct sequence *s, uint64_t nonce)
{
	if (nonce < s->floor)
		return N_SIGNED;
	return s->cap == 0 ? N_EMPTY : s->state[slot(s, nonce)];
}

static int
grow(struct sequence *s)
{
	uint64_t *on = s->nonce;
	uint8_t *os = s->state;
	size_t ocap = s->cap, i, j;

	s->cap = ocap != 0 ? ocap * 2 : 16;
	s->nonce = calloc(s->cap, sizeof(*s->nonce));
	s->state = calloc(s->cap, 1);
	if (s->nonce == NULL || s->state == NULL) {
		free(s->nonce);
		free(s->state);
		s->nonce = on;
		s->state = os;
		s->cap = ocap;
		return ERR_NOMEM;
	}
	for (i = 0; i < ocap; i++) {
		if (os[i] == N_EMPTY)
			continue;
		j = slot(s, on[i]);
		s->nonce[j] = on[i];
		s->state[j] = os[i];
	}
	free(on);
	free(os);
	return 0;
}

static int
put(struct sequence *s, uint64_t nonce, int state)
{
	size_t i;
	int r;

	if ((s->used + 1) * 4 > s->cap * 3 && (r = grow(s)) != 0)
		return r;
	i = slot(s, nonce);
	if (s->state[i] == N_EMPTY)
		s->used++;
	s->nonce[i] = nonce;
	s->state[i] = (uint8_t)state;
	return 0;
}

/* Removes nonce, moving later members of its probe run back. */
static void
take(struct sequence *s, uint64_t nonce)
{
	size_t i, j, want;

	if (s->cap == 0 || s->state[i = slot(s, nonce)] == N_EMPTY)
		return;
	s->state[i] = N_EMPTY;
	s->used--;
	for (j = i;;) {
		j = (j + 1) & (s->cap - 1);
		if (s->state[j] == N_EMPTY)
			return;
		want = home(s, s->nonce[j]);
		/* Move j into the hole unless its home lies in (i, j]. */
		if ((j > i && (want <= i || want > j)) ||
		    (j < i && (want <= i && want > j))) {
			s->nonce[i] = s->nonce[j];
			s->state[i] = s->state[j];
			s->state[j] = N_EMPTY;
			i = j;
		}
	}
}

int
sd_nonces_used(const struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	const struct sequence *s = seq_find(n, ref->from, ref->chain_id);

	return s != NULL && state_of(s, ref->nonce) != N_EMPTY;
}

int
sd_nonces_claim(struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	struct sequence *s;

	if ((s = seq_get(n, ref->from, ref->chain_id)) == NULL)
		return ERR_NOMEM;
	if (state_of(s, ref->nonce) != N_EMPTY)
		return ERR_EXISTS;
	return put(s, ref->nonce, N_CLAIMED);
}

void
sd_nonces_release(struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	struct sequence *s = seq_find(n, ref->from, ref->chain_id);

	if (s != NULL && state_of(s, ref->nonce) == N_CLAIMED)
		take(s, ref->nonce);
}

int
sd_nonces_signed(struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	struct sequence *s;
	int r, st;

	if ((s = seq_get(n, ref->from, ref->chain_id)) == NULL)
		return ERR_NOMEM;
	if ((st = state_of(s, ref->nonce)) == N_SIGNED)
		return ERR_EXISTS;
	if ((r = put(s, ref->nonce, N_SIGNED)) != 0)
		return r;
	s->nsigned++;
	if (!s->any || ref->nonce > s->highest)
		s->highest = ref->nonce;
	s->any = 1;
	/* The floor closes over the run it reaches; 2^64-1 stays in the
	 * set, so the floor never wraps. */
	while (s->floor < UINT64_MAX && state_of(s, s->floor) == N_SIGNED) {
		take(s, s->floor);
		s->nsigned--;
		s->floor++;
	}
	return 0;
}

int
sd_nonces_below_signed(const struct sd_nonces *n,
    const struct sd_nonce_ref *ref)
{
	const struct sequence *s = seq_find(n, ref->from, ref->chain_id);

	return s != NULL && s->any && ref->nonce < s->highest;
}

size_t
sd_nonces_count(const struct sd_nonces *n)
{
	size_t i, k = 0;

	for (i = 0; i < n->nseqs; i++)
		k += n->seqs[i].used;
	return k;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct sequence *x = a, *y = b;
	int c = memcmp(x->from, y->from, EVM_ADDR_LEN);

	return c != 0 ? c : (x->chain_id > y->chain_id) -
	    (x->chain_id < y->chain_id);
}

int
sd_nonces_serialize(struct sd_nonces *n, struct prt_writer *w)
{
	struct sequence *s;
	uint64_t *sorted;
	size_t i, j, k;

	/* Sorted, so a live signerd and a replay write the same bytes. */
	if (n->nseqs > 1)
		qsort(n->seqs, n->nseqs, sizeof(*n->seqs), seq_cmp);
	prt_put_u32(w, (uint32_t)n->nseqs);
	for (i = 0; i < n->nseqs; i++) {
		s = &n->seqs[i];
		if ((sorted = calloc(s->nsigned + 1, sizeof(*sorted))) == NULL)
			return ERR_NOMEM;
		for (j = 0, k = 0; j < s->cap; j++)
			if (s->state[j] == N_SIGNED && k < s->nsigned)
				sorted[k++] = s->nonce[j];
		qsort(sorted, k, sizeof(*sorted), u64_cmp);
		prt_put_bytes(w, s->from, EVM_ADDR_LEN);
		prt_put_u64(w, s->chain_id);
		prt_put_u64(w, s->floor);
		prt_put_u8(w, (uint8_t)s->any);
		prt_put_u64(w, s->highest);
		prt_put_u64(w, k);
		for (j = 0; j < k; j++)
			prt_put_u64(w, sorted[j]);
		free(sorted);
	}
	return prt_writer_error(w);
}

int
sd_nonces_deserialize(struct sd_nonces *n, struct prt_reader *rd)
{
	struct sequence *s;
	uint8_t from[EVM_ADDR_LEN], any;
	uint64_t chain, floor, highest, count, k, x, prev = 0;
	uint32_t nseqs, i;
	int r;

	if (n->nseqs != 0)
		return ERR_INVALID_ARG;
	if ((r = prt_get_u32(rd, &nseqs)) != 0)
		return r;
	for (i = 0; i < nseqs; i++) {
		if ((r = prt_get_bytes(rd, from, EVM_ADDR_LEN)) != 0 ||
		    (r = prt_get_u64(rd, &chain)) != 0 ||
		    (r = prt_get_u64(rd, &floor)) != 0 ||
		    (r = prt_get_u8(rd, &any)) != 0 ||
		    (r = prt_get_u64(rd, &highest)) != 0 ||
		    (r = prt_get_u64(rd, &count)) != 0)
			return r;
		/* Each sequence once, the floor at most one past the top. */
		if (seq_find(n, from, chain) != NULL || any > 1 ||
		    (!any && (floor != 0 || highest != 0 || count != 0)) ||
		    (any && floor > highest && floor - highest != 1) ||
		    count > prt_remaining(rd) / 8)
			return ERR_MALFORMED;
		if ((s = seq_get(n, from, chain)) == NULL)
			return ERR_NOMEM;
		s->floor = floor;
		s->any = any;
		s->highest = highest;
		for (k = 0; k < count; k++) {
			if ((r = prt_get_u64(rd, &x)) != 0)
				return r;
			/* Ascending, above the floor (which would have closed
			 * over it; 2^64-1 alone stays), at most the top. */
			if ((x <= floor && !(x == floor && x == UINT64_MAX)) ||
			    x > highest || (k > 0 && x <= prev))
				return ERR_MALFORMED;
			if ((r = put(s, x, N_SIGNED)) != 0)
				return r;
			s->nsigned++;
			prev = x;
		}
		/* The top is signed: in the set, or the floor passed it. */
		if (any && (count > 0 ? prev != highest : floor - highest != 1))
			return ERR_MALFORMED;
	}
	return 0;
}

enum sd_bump
sd_bump_classify(const struct evm_tx *old, const struct evm_tx *new,
    char *detail, size_t cap)
{
	/* Anything but the fees changed: another payout under an old id. */
	if (old->chain_id != new->chain_id || old->nonce != new->nonce ||
	    old->has_to != new->has_to ||
	    memcmp(old->to, new->to, EVM_ADDR_LEN) != 0 ||
	    u256_cmp(&old->value, &new->value) != 0 ||
	    old->data_len != new->data_len ||
	    memcmp(old->data, new->data, old->data_len) != 0 ||
	    old->gas_limit != new->gas_limit ||
	    old->access_list_items != new->access_list_items) {
		snprintf(detail, cap, "request id was used for a different "
		    "transaction (only the fees may change, in a fee bump)");
		return SD_BUMP_NOT_A_BUMP;
	}
	/* Nodes replace a pending transaction only when both fees rise. */
	if (u256_cmp(&new->max_fee_per_gas, &old->max_fee_per_gas) <= 0 ||
	    u256_cmp(&new->max_priority_fee_per_gas,
	    &old->max_priority_fee_per_gas) <= 0) {
		snprintf(detail, cap, "a fee bump must raise both max fee "
		    "and priority fee above the signed transaction's");
		return SD_BUMP_FEES_NOT_HIGHER;
	}
	return SD_BUMP_OK;
}
