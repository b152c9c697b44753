/* payout.c: a payout request from frame to checked intent, shared by the sign and queue paths. */
#include "signerd/payout.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "signerd/policy_change.h"
#include "signerd/sha256.h"

/*
 * What "the same request" means for idempotency: everything the client
 * asked for.  The same id with any other content is a conflict or a fee
 * bump (invariant 5).
 */
int
sd_payout_content(uint8_t out[32], const struct prt_sign_req *req)
{
	uint8_t chain[8], amount[32];
	EVP_MD_CTX *md;
	int i, ok;

	for (i = 0; i < 8; i++)
		chain[i] = (uint8_t)(req->chain_id >> (56 - 8 * i));
	u256_to_be32(amount, &req->amount);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return ERR_NOMEM;
	ok = EVP_DigestInit_ex(md, sd_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, req->asset, strlen(req->asset) + 1) == 1 &&
	    EVP_DigestUpdate(md, chain, sizeof(chain)) == 1 &&
	    EVP_DigestUpdate(md, req->to, sizeof(req->to)) == 1 &&
	    EVP_DigestUpdate(md, amount, sizeof(amount)) == 1 &&
	    EVP_DigestUpdate(md, req->tx, req->tx_len) == 1 &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : ERR_INTERNAL;
}

enum pol_reason
sd_payout_decode(struct sd_ctx *sd, struct sd_payout *p, uint16_t type,
    const uint8_t *buf, size_t len, char *detail, size_t cap)
{
	int r;

	memset(p, 0, sizeof(*p));
	r = type == PRT_QUEUE_REQ ? prt_decode_queue_req(&p->req, buf, len) :
	    prt_decode_sign_req(&p->req, buf, len);
	if (r != 0) {
		snprintf(detail, cap, "request does not decode: %s",
		    err_str(r));
		return POL_MALFORMED_REQUEST;
	}
	return sd_payout_prepare(sd, p, detail, cap);
}

enum pol_reason
sd_payout_prepare(struct sd_ctx *sd, struct sd_payout *p, char *detail,
    size_t cap)
{
	const struct pol_asset *asset;
	enum pol_reason why = POL_OK;
	int r;

	if (p->v == NULL)
		p->v = sd_version_now(sd);
	/* Invariant 3: never an opaque digest; what we sign is what we
	 * decoded, and what it does comes from the bytes, not the client. */
	if ((r = evm_tx_decode(&p->tx, p->req.tx, p->req.tx_len)) != 0 ||
	    p->tx.is_signed) {
		snprintf(detail, cap, "transaction is not an unsigned EIP-1559 "
		    "transaction: %s", r != 0 ? err_str(r) :
		    "it is already signed");
		return POL_MALFORMED_REQUEST;
	}
	if (pol_derive_intent(&p->intent, &why, p->v->policy, &p->tx) != 0 ||
	    why != POL_OK) {
		why = why != POL_OK ? why : POL_INTERNAL;
		snprintf(detail, cap, "%s", pol_reason_text(why));
		return why;
	}
	asset = pol_asset(p->v->policy, p->intent.asset);
	/* An auditor holds no keys: the verifier recovers the sender. */
	if (sd->auditing)
		p->key = -1;
	else if ((p->key = sd_key_index(sd, asset->key)) < 0) {
		snprintf(detail, cap, "asset %s names key %s, which signerd "
		    "does not hold", asset->name, asset->key);
		return POL_INTERNAL;
	}
	if (sd_payout_content(p->content, &p->req) != 0) {
		snprintf(detail, cap, "content hash failed");
		return POL_INTERNAL;
	}
	sd_intent_hash(p->intent_hash, &p->intent);
	if (p->key >= 0)
		memcpy(p->ref.from, sd->keys[p->key].address, EVM_ADDR_LEN);
	p->ref.chain_id = p->tx.chain_id;
	p->ref.nonce = p->tx.nonce;
	snprintf(p->stated.asset, sizeof(p->stated.asset), "%s", p->req.asset);
	p->stated.chain_id = p->req.chain_id;
	memcpy(p->stated.to, p->req.to, EVM_ADDR_LEN);
	p->stated.amount = p->req.amount;
	p->needs_approval = pol_needs_approval(p->v->policy, &p->intent);
	p->needs_timelock = pol_needs_timelock(p->v->policy, &p->intent);
	return POL_OK;
}

enum pol_reason
sd_payout_check_rules(struct sd_ctx *sd, const struct sd_payout *p,
    char *detail, size_t cap)
{
	enum pol_reason why;
	u256 zero, after;

	/* The pause is signerd's state and checked by the caller. */
	u256_from_u64(&zero, 0);
	why = pol_check_sign(p->v->policy, 0, &p->intent, &p->stated, &zero,
	    &after);
	if (why != POL_OK)
		snprintf(detail, cap, "%s", pol_reason_text(why));
	return why;
}

enum pol_reason
sd_check_approvals(struct sd_ctx *sd, const struct sd_version *v,
    const struct pol_approval_set *set, const struct pol_approval_msg *msg,
    const struct prt_approval *ap, size_t n, int64_t now, char *detail,
    size_t cap)
{
	struct pol_approval pa[PRT_APPROVALS_MAX];
	enum pol_reason why;
	const char *label;
	size_t bad;

	if (n > PRT_APPROVALS_MAX) {
		snprintf(detail, cap, "at most %d approvals", PRT_APPROVALS_MAX);
		return POL_MALFORMED_REQUEST;
	}
	why = pol_approvals_check(v->verifier, set, msg, pa,
	    sd_pol_approvals(pa, ap, n), now < 0 ? 0 : (uint64_t)now, &bad,
	    detail, cap);
	if (why != POL_APPROVAL_BAD_SIGNATURE || bad >= n)
		return why;
	/* Diagnosis only: a replayed approval names what it was for. */
	sd_state_lock(sd->state);
	label = sd_seen_find(sd_state_seen(sd->state), ap[bad].sig,
	    ap[bad].sig_len);
	if (label != NULL) {
		snprintf(detail, cap, "approval %zu by %s was given for %s, "
		    "not for this %s", bad, ap[bad].approver, label,
		    pol_action_name(msg->action));
		why = POL_APPROVAL_WRONG_INTENT;
	}
	sd_state_unlock(sd->state);
	return why;
}

enum pol_reason
sd_payout_check_approvals(struct sd_ctx *sd, const struct sd_payout *p,
    int64_t now, char *detail, size_t cap)
{
	const struct pol_asset *a = pol_asset(p->v->policy, p->intent.asset);
	struct pol_approval_msg msg;
	struct pol_approval_set set;
	char name[32];

	/* Invariant 4: the text is built from the derived intent. */
	if (pol_approval_msg_sign(&msg, p->v->policy, p->req.request_id,
	    &p->intent, 0) != 0) {
		snprintf(detail, cap, "approval text cannot be built");
		return POL_INTERNAL;
	}
	pol_set_asset(&set, p->v->policy, p->intent.asset);
	snprintf(name, sizeof(name), "asset %s", a->name);
	set.name = name;
	return sd_check_approvals(sd, p->v, &set, &msg, p->req.approvals,
	    p->req.napprovals, now, detail, cap);
}
