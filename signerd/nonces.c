/* nonces.c: who owns each (key, chain, nonce), and what counts as a fee bump (invariant 5). */
#include "signerd/nonces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/table.h"

struct sd_nonces {
	struct sd_table *owners;	/* key of ref -> strdup'd request id */
	struct sd_table *highest;	/* key of (from, chain) -> uint64_t */
};

int
sd_nonces_new(struct sd_nonces **out)
{
	struct sd_nonces *n;
	int r;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_new(&n->owners)) != 0) {
		free(n);
		return r;
	}
	if ((r = sd_table_new(&n->highest)) != 0) {
		sd_table_free(n->owners, free);
		free(n);
		return r;
	}
	*out = n;
	return 0;
}

void
sd_nonces_free(struct sd_nonces *n)
{
	if (n == NULL)
		return;
	sd_table_free(n->owners, free);
	sd_table_free(n->highest, free);
	free(n);
}

/* The key of a sender's sequence on one chain. */
static void
seq_key(uint8_t key[SD_TABLE_KEY_LEN], const struct sd_nonce_ref *ref)
{
	uint8_t buf[EVM_ADDR_LEN + 8];
	int i;

	memcpy(buf, ref->from, EVM_ADDR_LEN);
	for (i = 0; i < 8; i++)
		buf[EVM_ADDR_LEN + i] = (uint8_t)(ref->chain_id >> (56 - 8 * i));
	sd_table_key(key, "sequence", buf, sizeof(buf));
}

int
sd_nonces_signed(struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	uint64_t *top;
	int r;

	seq_key(key, ref);
	if ((top = sd_table_get(n->highest, key)) != NULL) {
		if (ref->nonce > *top)
			*top = ref->nonce;
		return 0;
	}
	if ((top = malloc(sizeof(*top))) == NULL)
		return ERR_NOMEM;
	*top = ref->nonce;
	if ((r = sd_table_put(n->highest, key, top)) != 0)
		free(top);
	return r;
}

int
sd_nonces_below_signed(const struct sd_nonces *n,
    const struct sd_nonce_ref *ref)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	const uint64_t *top;

	seq_key(key, ref);
	top = sd_table_get(n->highest, key);
	return top != NULL && ref->nonce < *top;
}

static void
ref_key(uint8_t key[SD_TABLE_KEY_LEN], const struct sd_nonce_ref *ref)
{
	uint8_t buf[EVM_ADDR_LEN + 16];
	int i;

	memcpy(buf, ref->from, EVM_ADDR_LEN);
	for (i = 0; i < 8; i++) {
		buf[EVM_ADDR_LEN + i] = (uint8_t)(ref->chain_id >> (56 - 8 * i));
		buf[EVM_ADDR_LEN + 8 + i] = (uint8_t)(ref->nonce >> (56 - 8 * i));
	}
	sd_table_key(key, "nonce", buf, sizeof(buf));
}

const char *
sd_nonces_owner(const struct sd_nonces *n, const struct sd_nonce_ref *ref)
{
	uint8_t key[SD_TABLE_KEY_LEN];

	ref_key(key, ref);
	return sd_table_get(n->owners, key);
}

int
sd_nonces_claim(struct sd_nonces *n, const struct sd_nonce_ref *ref,
    const char *request_id)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	const char *owner;
	char *copy;
	int r;

	ref_key(key, ref);
	if ((owner = sd_table_get(n->owners, key)) != NULL)
		return strcmp(owner, request_id) == 0 ? 0 : ERR_EXISTS;
	if ((copy = strdup(request_id)) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_put(n->owners, key, copy)) != 0)
		free(copy);
	return r;
}

void
sd_nonces_release(struct sd_nonces *n, const struct sd_nonce_ref *ref,
    const char *request_id)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	const char *owner;

	ref_key(key, ref);
	if ((owner = sd_table_get(n->owners, key)) != NULL &&
	    strcmp(owner, request_id) == 0)
		free(sd_table_remove(n->owners, key));
}

size_t
sd_nonces_count(const struct sd_nonces *n)
{
	return sd_table_count(n->owners);
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
