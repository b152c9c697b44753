/*
 * payout.h: what SIGN_REQ and QUEUE_REQ share: decoding the frame and the
 * transaction, deriving the intent from the bytes (invariant 3), the
 * policy's per-request rules, and the approvals over the derived intent
 * (invariant 4).  Exposure, nonces and timelocks are the callers'.
 */
#ifndef SIGNERD_PAYOUT_H
#define SIGNERD_PAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "evm/tx.h"
#include "policy/policy.h"
#include "proto/msg.h"
#include "signerd/nonces.h"
#include "signerd/signerd.h"

struct sd_payout {
	/* The version it is decided under: the one in force when it was
	 * decoded (the verifier: at its record). */
	const struct sd_version *v;
	struct prt_sign_req req;	/* as the client sent it */
	struct evm_tx tx;		/* decoded from req.tx */
	struct pol_intent intent;	/* derived from tx, never from req */
	struct pol_stated stated;	/* what req says; checked against intent */
	uint8_t content[32];	/* idempotency: the request's whole content */
	uint8_t intent_hash[32];	/* sd_intent_hash: what approvals name */
	int key;		/* index into sd->keys */
	struct sd_nonce_ref ref;	/* the key's address, chain, nonce */
	int needs_approval;	/* above the asset's approval threshold */
	int needs_timelock;	/* above the asset's timelock threshold */
};

/*
 * Decodes a frame of type (PRT_SIGN_REQ or PRT_QUEUE_REQ) into *p: the
 * request, then the transaction, which must be an unsigned EIP-1559
 * transaction, then its intent and the asset's key.  Returns POL_OK, or
 * MALFORMED_REQUEST, a pol_derive_intent reason, or INTERNAL, with a
 * sentence in detail (cap bytes).  p->req.request_id is set as soon as the
 * frame decodes, for the refusal's record.
 */
enum pol_reason sd_payout_decode(struct sd_ctx *sd, struct sd_payout *p,
    uint16_t type, const uint8_t *buf, size_t len, char *detail, size_t cap);

/*
 * sd_payout_decode after the frame: p->req is filled (by the decoder, or
 * by the verifier from a journal record); derives everything else the
 * same way for both.  When sd->auditing, p->key is -1 and p->ref.from is
 * left for the caller.
 */
enum pol_reason sd_payout_prepare(struct sd_ctx *sd, struct sd_payout *p,
    char *detail, size_t cap);

/* The idempotency content hash of a request (D9).  0 or ERR_*. */
int sd_payout_content(uint8_t out[32], const struct prt_sign_req *req);

/*
 * The policy's rules that need no state: intent mismatch, zero amount,
 * per-transaction limit, allowlist and sinks, fee caps (pol_check_sign
 * with nothing signed today; the daily limit is checked again with the
 * day's exposure under the state lock).
 */
enum pol_reason sd_payout_check_rules(struct sd_ctx *sd,
    const struct sd_payout *p, char *detail, size_t cap);

/*
 * The payout's approvals, checked against the approval text built from
 * the derived intent and the request id, at time now.  A signature that
 * fails but was accepted before for something else is reported as
 * APPROVAL_WRONG_INTENT (see seen.h).  Takes the state lock briefly.
 */
enum pol_reason sd_payout_check_approvals(struct sd_ctx *sd,
    const struct sd_payout *p, int64_t now, char *detail, size_t cap);

/*
 * Checks approvals ap[0..n) for msg against set with v's keys, as
 * pol_approvals_check, and says which other action a signature that does
 * not verify was accepted for (APPROVAL_WRONG_INTENT, seen.h); for
 * cancel, pause, unpause and policy changes too.
 */
enum pol_reason sd_check_approvals(struct sd_ctx *sd,
    const struct sd_version *v, const struct pol_approval_set *set,
    const struct pol_approval_msg *msg, const struct prt_approval *ap,
    size_t n, int64_t now, char *detail, size_t cap);

#endif
