/*
 * validate.h: the API's request bodies and query values, checked before
 * anything is stored.  Pure: no I/O, no clock, no globals (jansson and the
 * policy are the only things it touches), so every rule is a unit test and
 * fuzz/fuzz_api.c runs it on any bytes.  Never links libpq, microhttpd or
 * curl.
 *
 * Every check fills a struct val_err on failure with the HTTP status (400
 * for a body that is not the expected shape: bad JSON, a missing or unknown
 * field, a wrong JSON type; 422 for a well-formed field with a bad value),
 * a stable error code the API returns ("BAD_AMOUNT") and a message naming
 * the field.  Messages may quote input, always cut to printable ASCII.
 */
#ifndef ORCH_VALIDATE_H
#define ORCH_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "evm/u256.h"
#include "orchestratord/fsm.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "proto/msg.h"

#define VAL_MESSAGE_MAX 200
#define VAL_CODE_MAX 40		/* reason codes, as store.h's STORE_CODE_MAX */
#define VAL_REASON_MAX 256	/* reject reasons and pre-check reasons */
#define VAL_CURSOR_MAX 48	/* an encoded cursor plus its NUL */
#define VAL_DATE_STR 11		/* "YYYY-MM-DD" plus its NUL */
#define VAL_LIST_DEFAULT 50	/* ?first= when absent */

struct val_err {
	int status;		/* 400 or 422 */
	const char *code;	/* static: "BAD_JSON", "BAD_AMOUNT", ... */
	char message[VAL_MESSAGE_MAX];
};


/* --- POST /v1/payouts ---------------------------------------------------- */

/*
 * A payout request that passed validation.  intent is what the payout
 * would be once signerd decodes its transaction (asset index and name,
 * chain, recipient, amount; fee fields zero): the pre-check and the
 * approval text are built from it.
 */
struct val_payout {
	char request_id[PRT_REQUEST_ID_MAX + 1];
	const struct pol_asset *asset;
	struct pol_intent intent;
	char to[EVM_ADDR_STR];		/* EIP-55 */
	char amount[U256_DEC_MAX];	/* canonical decimal */
};

/*
 * Parses body (len bytes) as {"request_id", "asset", "to", "amount"},
 * exactly those four members, checked against policy p:
 *   400 BAD_JSON       not JSON (duplicate keys refused too), or not an
 *                      object
 *   400 BAD_REQUEST    a member missing or unknown, or of the wrong JSON
 *                      type
 *   422 BAD_REQUEST_ID request_id not 1..64 of [A-Za-z0-9._:-]
 *   422 UNKNOWN_ASSET  asset not in the policy
 *   422 BAD_ADDRESS    to not "0x" + 40 hex in EIP-55 mixed case (all-lower
 *                      or all-upper is refused as the policy file refuses
 *                      it), the zero address, or a registered token
 *                      contract (tokens sent there are lost)
 *   422 BAD_AMOUNT     amount not a JSON string of decimal digits
 *                      1..2^256-1 without sign or leading zeros (a JSON
 *                      number is refused: it loses precision past 2^53)
 * Returns 0 and *out, or ERR_MALFORMED with *e filled (*out zeroed).
 */
int val_payout_body(struct val_payout *out, struct val_err *e,
    const struct pol_policy *p, const uint8_t *body, size_t len) WARN_UNUSED;

/*
 * The advisory pre-check of a validated payout with the same policy/ code
 * signerd runs (pol_check_sign with nothing signed today and no fees yet,
 * pol_needs_approval, pol_needs_timelock).  signerd decides; this only
 * gives the client early feedback and picks the first status.
 */
struct val_decision {
	enum payout_status status;	/* APPROVED, PENDING_APPROVAL, REJECTED */
	int approvals_required;		/* the asset's m when approvals needed */
	int needs_timelock;
	char reason_code[VAL_CODE_MAX];	/* REJECTED: "PER_TX_LIMIT", ... */
	char reason[VAL_REASON_MAX + 1];
};

void val_precheck(struct val_decision *out, const struct pol_policy *p,
    const struct val_payout *in);

/* --- approvals, cancels, rejects ----------------------------------------- */

/*
 * Parses an approval or a cancel, {"approver", "expiry", "signature"},
 * into policy's own type (D60): exactly those three members.  400 BAD_JSON /
 * BAD_REQUEST as for payouts (expiry must be a JSON integer, approver and
 * signature strings); 422 BAD_APPROVER for a name that is not 1..32 of
 * [A-Za-z0-9._:-]; 422 APPROVAL_EXPIRED for an expiry <= 0 (whether it is
 * in the past is the caller's check: it owns the clock); 422
 * BAD_SIGNATURE unless signature is hex (optional 0x) of 1..128 bytes.
 * Returns 0 and *out, or ERR_MALFORMED with *e filled (*out zeroed).
 */
int val_approval_body(struct pol_approval *out, struct val_err *e,
    const uint8_t *body, size_t len) WARN_UNUSED;

/*
 * An approval's expiry at most max_seconds after now (unix seconds): 422
 * APPROVAL_EXPIRY_TOO_FAR otherwise.  signerd accepts any expiry; a
 * signed approval that counts for years is a standing order, so the API
 * stores none that lives longer than the operator allows.  An expiry in
 * the past is for the approval check to refuse.  Returns 0 or
 * ERR_TOO_LARGE.
 */
int val_approval_lifetime(struct val_err *e, uint64_t expiry, uint64_t now,
    uint64_t max_seconds) WARN_UNUSED;

/*
 * Parses {"reason": text}: 1..256 printable ASCII characters (422
 * BAD_REASON otherwise).  Returns 0 and reason, or ERR_MALFORMED.
 */
int val_reject_body(char reason[VAL_REASON_MAX + 1], struct val_err *e,
    const uint8_t *body, size_t len) WARN_UNUSED;

/* --- query values ---------------------------------------------------------- */

/*
 * ?first=: NULL gives def; else a canonical decimal 1..max (400
 * BAD_REQUEST otherwise).
 */
int val_first(int *out, struct val_err *e, const char *s, int def, int max)
    WARN_UNUSED;

/*
 * ?after= of /v1/events: NULL gives 0; else a canonical decimal
 * 0..INT64_MAX (400 BAD_REQUEST otherwise).
 */
int val_event_after(int64_t *out, struct val_err *e, const char *s)
    WARN_UNUSED;

/*
 * ?date=YYYY-MM-DD (UTC, 1970-01-01..9999-12-31, a real calendar day):
 * *day is days since 1970-01-01; NULL gives PRT_DATE_TODAY.  400 BAD_DATE
 * otherwise.
 */
int val_date(uint32_t *day, struct val_err *e, const char *s) WARN_UNUSED;

/* Writes "YYYY-MM-DD" of a day number (days since 1970-01-01). */
void val_day_str(char out[VAL_DATE_STR], uint32_t day);

/* ?asset=: 422 UNKNOWN_ASSET unless p names it; *idx its index. */
int val_asset(size_t *idx, struct val_err *e, const struct pol_policy *p,
    const char *s) WARN_UNUSED;

/*
 * List cursors are opaque to clients: base64url without padding of
 * "c1:" + the decimal internal id (0..INT64_MAX).  Decoding accepts only
 * the one text encode writes for an id, so a decoded cursor re-encodes to
 * the same text.  encode returns 0, or ERR_INVALID_ARG for a negative id
 * or a cap below VAL_CURSOR_MAX; decode returns 0 and *id, or
 * ERR_MALFORMED (*id = 0) for anything else (the API's 400 BAD_CURSOR).
 */
int val_cursor_encode(char *out, size_t cap, int64_t id) WARN_UNUSED;
int val_cursor_decode(int64_t *id, const char *s) WARN_UNUSED;

#endif
