/* sign.h: the sign path's job and its decision (decide.c), for sign.c and tests. */
#ifndef SIGNERD_SIGN_H
#define SIGNERD_SIGN_H

#include <stdint.h>

#include "signerd/payout.h"
#include "signerd/signerd.h"

struct sd_sign_job {
	struct sd_payout p;
	int64_t now;		/* sd_now() when the request was decided */
	int64_t day;
	u256 exposure_after;
	int queued;		/* authorized by its queue entry */
	struct sd_queued q;	/* that entry, copied */
	int approvals_used;	/* its approvals were checked: journal them */
	struct sd_pause_state pause;
	/* What memory knows of the request (D55). */
	struct sd_req_found found;
	/* K_OTHER: the transaction signed before, for a fee bump. */
	uint8_t prev_hash[32];
	uint8_t prev_raw[SD_RAW_TX_MAX];
	size_t prev_raw_len;
	struct evm_tx prev_tx;
	int bump;
	int gap_fill;	/* a retired key fills a hole in its sequence (D53) */
	/*
	 * A refusal's retry advice for the reply header, when the decision
	 * knows better than the reason's default (sd_retry_after_default):
	 * TIMELOCK_PENDING sets the seconds until the payout's earliest.
	 */
	uint32_t retry_after_s;
	/* The result. */
	uint8_t raw[PRT_TX_MAX];
	size_t raw_len;
	uint8_t tx_hash[32];
	/* The receipt: the record that authorized it (seq and hash), and
	 * where its line is, which memory keeps. */
	uint64_t receipt_seq;
	uint8_t receipt_hash[32];
	struct jnl_pos pos;
};

/*
 * D55: a request created on day created may be signed, retried and
 * fee-bumped on day `day` while created is at most window_days before it
 * (and at most one day after: a client's clock a little ahead).  Else
 * POL_REQUEST_EXPIRED with a sentence in detail.  The verifier asks the
 * same of every signed record.
 */
enum pol_reason sd_created_check(uint32_t window_days, uint32_t created,
    int64_t day, char *detail, size_t cap);

/*
 * The decision on a decoded sign request (job->p from sd_payout_decode,
 * job->now from sd_now): POL_OK with *repeat 1 when the same request was
 * signed before (job->raw, tx_hash and the receipt are the stored ones,
 * nothing reserved); POL_OK with *repeat 0 when the request may be signed
 * (exposure, nonce and id reserved, or job->bump set and the bump begun:
 * the caller signs, commits, and on failure gives it back); else the
 * refusal, with a sentence in detail (cap bytes) and nothing reserved.
 */
enum pol_reason sd_sign_decide(struct sd_ctx *sd, struct sd_sign_job *job,
    int *repeat, char *detail, size_t cap);

/*
 * 1 when key (an index into sd->keys) may sign a new payout at ref under
 * v: no asset of v names it, and ref is a free nonce below the highest it
 * signed on that chain.  The verifier asks the same (replay.c).
 */
int sd_gap_fill_allowed(struct sd_ctx *sd, const struct sd_version *v,
    int key, const struct sd_nonce_ref *ref);

/* "signerd is paused (pause P by A); ..." into detail. */
void sd_paused_detail(char *detail, size_t cap,
    const struct sd_pause_state *s);

#endif
