/*
 * nonces.h: invariant 5 on the chain side: each (key address, chain id,
 * nonce) signs one payout, and the only second signature is a fee bump of
 * that same payout.  Per sender and chain: a floor below which every
 * nonce is signed, and the nonces above it one by one.  Nothing here
 * depends on how old a payout is, so the retention window (D55) never
 * frees a nonce: below the floor nothing signs again.
 */
#ifndef SIGNERD_NONCES_H
#define SIGNERD_NONCES_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/tx.h"
#include "proto/buf.h"

/* A payout's place on the chain: the signing key's address, chain, nonce. */
struct sd_nonce_ref {
	uint8_t from[EVM_ADDR_LEN];
	uint64_t chain_id;
	uint64_t nonce;
};

struct sd_nonces;

/* An empty map.  ERR_NOMEM. */
int sd_nonces_new(struct sd_nonces **out) WARN_UNUSED;
void sd_nonces_free(struct sd_nonces *n);

/* 1 when ref is signed, or claimed by a request being signed. */
int sd_nonces_used(const struct sd_nonces *n, const struct sd_nonce_ref *ref);

/* Claims ref for a request being signed.  ERR_EXISTS when it is used,
 * ERR_NOMEM. */
int sd_nonces_claim(struct sd_nonces *n, const struct sd_nonce_ref *ref)
    WARN_UNUSED;

/* Gives a claim back (an aborted signature); signed nonces stay. */
void sd_nonces_release(struct sd_nonces *n, const struct sd_nonce_ref *ref);

/*
 * Notes that ref was signed durably (claimed or not: replay): the sender's
 * highest signed nonce on that chain rises to ref->nonce, and the floor
 * below which every nonce is signed closes over the run it reaches.
 * 0, ERR_EXISTS if it was signed already, or ERR_NOMEM.
 */
int sd_nonces_signed(struct sd_nonces *n, const struct sd_nonce_ref *ref)
    WARN_UNUSED;

/*
 * 1 when the sender signed a higher nonce than ref->nonce on its chain:
 * ref is a hole below a transaction that cannot be mined until it is
 * filled (D53's one exception for a rotated key).
 */
int sd_nonces_below_signed(const struct sd_nonces *n,
    const struct sd_nonce_ref *ref);

/* Nonces held one by one (above their sequence's floor), for tests and
 * metrics: the holes and what is in flight, not the history. */
size_t sd_nonces_count(const struct sd_nonces *n);

/*
 * Snapshot part: every sequence (sender, chain, floor, top) with its
 * signed nonces above the floor, sorted.  Deserialize into an empty map;
 * anything inconsistent is ERR_MALFORMED.
 */
int sd_nonces_serialize(struct sd_nonces *n, struct prt_writer *w)
    WARN_UNUSED;
int sd_nonces_deserialize(struct sd_nonces *n, struct prt_reader *rd)
    WARN_UNUSED;

/* What a second transaction for an already signed request id is. */
enum sd_bump {
	SD_BUMP_OK = 0,		/* a valid fee bump: fees strictly higher */
	SD_BUMP_NOT_A_BUMP = 1,	/* another payout: REQUEST_ID_CONFLICT */
	SD_BUMP_FEES_NOT_HIGHER = 2,	/* a bump, but not both fees up */
};

/*
 * Compares the transaction signed before (old) with a new one for the same
 * request id.  A fee bump keeps chain id, nonce, recipient, value, data,
 * gas limit and (empty) access list, and raises both maxFeePerGas and
 * maxPriorityFeePerGas strictly.  Fee caps are the policy's business.
 * Writes a short reason into detail (cap bytes) unless SD_BUMP_OK.
 */
enum sd_bump sd_bump_classify(const struct evm_tx *old,
    const struct evm_tx *new, char *detail, size_t cap);

#endif
