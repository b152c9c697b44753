/* policy.h: the pure policy engine: genesis policy, intents from decoded txs, signing rules. */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

/*
 * Pure: nothing here does I/O, reads a clock or keeps global state.  Time,
 * today's exposure and every other piece of state are arguments, so each
 * rule is a unit test and orchestratord can pre-check with the same code
 * signerd enforces (invariant 3: signerd derives the intent itself).
 *
 * Error returns are the negative ERR_* codes of common/err.h; refusals are
 * the positive pol_reason codes below.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "evm/u256.h"

struct evm_tx;

/*
 * Why a request was refused (or POL_OK).  Journaled and sent on the wire:
 * the numbers are stable.  Never renumber or reuse one; add new codes just
 * before POL_REASON_COUNT.
 */
enum pol_reason {
	POL_OK = 0,
	POL_MALFORMED_REQUEST = 1,	/* the request itself does not parse */
	POL_UNKNOWN_ASSET = 2,		/* no such asset in the policy */
	POL_CHAIN_MISMATCH = 3,		/* tx chain id is not the asset's */
	POL_NOT_A_TRANSFER = 4,		/* creation, other calldata, data on native */
	POL_UNKNOWN_TOKEN_CONTRACT = 5,	/* ERC-20 transfer to an unlisted contract */
	POL_VALUE_ON_TOKEN_TRANSFER = 6,	/* ERC-20 transfer carrying ETH */
	POL_INTENT_MISMATCH = 7,	/* stated intent differs from the decoded tx */
	POL_ACCESS_LIST_NOT_EMPTY = 8,
	POL_PER_TX_LIMIT = 9,
	POL_DAILY_LIMIT = 10,
	POL_ZERO_AMOUNT = 11,
	POL_REQUEST_ID_CONFLICT = 12,	/* request id seen with other content */
	POL_PEER_NOT_ALLOWED = 13,
	POL_BAD_VERSION = 14,
	POL_HSM_ERROR = 15,
	POL_JOURNAL_ERROR = 16,
	POL_INTERNAL = 17,
	POL_RECIPIENT_NOT_ALLOWED = 18,
	POL_FEE_CAP_MAX_FEE = 19,
	POL_FEE_CAP_PRIORITY_FEE = 20,
	POL_FEE_CAP_GAS_LIMIT = 21,
	POL_APPROVALS_MISSING = 22,
	POL_APPROVAL_UNKNOWN_APPROVER = 23,
	POL_APPROVAL_DUPLICATE = 24,
	POL_APPROVAL_BAD_SIGNATURE = 25,
	POL_APPROVAL_EXPIRED = 26,
	POL_APPROVAL_WRONG_INTENT = 27,
	POL_TIMELOCK_NOT_QUEUED = 28,
	POL_TIMELOCK_PENDING = 29,
	POL_TIMELOCK_CANCELLED = 30,
	POL_CLOCK_BEHIND_JOURNAL = 31,
	POL_NONCE_REUSED = 32,
	POL_FEE_BUMP_INVALID = 33,
	POL_PAUSED = 34,
	/*
	 * Transactions no node includes: signing one would spend exposure
	 * and a nonce for nothing.  Checked by pol_derive_intent, so every
	 * path that signs or queues a transaction refuses them.
	 */
	POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE = 35,	/* EIP-1559 */
	POL_TX_GAS_LIMIT_TOO_LOW = 36,	/* below POL_MIN_GAS_LIMIT */
	POL_TX_NONCE_TOO_HIGH = 37,	/* above POL_MAX_NONCE (EIP-2681) */
	/*
	 * Transient: signerd's state changed while it decided (the policy
	 * version in force, or the UTC day while the HSM signed); the same
	 * request may succeed if sent again at once.  A request id that is
	 * busy elsewhere is POL_IN_FLIGHT instead.
	 */
	POL_RETRY = 38,
	POL_QUEUE_FULL = 39,		/* the timelock queue is at its limit */
	POL_TIMELOCK_NOT_NEEDED = 40,	/* QUEUE of a payout that need not wait */
	/*
	 * The request's from is not the address of the key signerd would
	 * sign the payout with (a key rotation took effect, or a fee bump
	 * names another sender): never sign another key's nonce sequence.
	 */
	POL_KEY_MISMATCH = 41,
	/* Governed policy changes (docs/governance.md). */
	POL_POLICY_INVALID = 42,	/* the proposed file is not acceptable */
	POL_POLICY_STALE = 43,		/* it replaces another version */
	POL_POLICY_PENDING = 44,	/* another proposal is pending */
	POL_POLICY_NO_PROPOSAL = 45,	/* no such proposal is pending */
	POL_POLICY_NO_GOVERNANCE = 46,	/* the version in force cannot change */
	/*
	 * The request was created (its created_day) more days before
	 * signerd's day than the retention window: signerd no longer holds
	 * what it would need to tell a retry from a new payout (issue 12).
	 */
	POL_REQUEST_EXPIRED = 47,
	/*
	 * Transient: this request id is being signed, queued or re-signed
	 * right now (by another request, e.g. an earlier attempt still in
	 * flight after a lease takeover); the same request may pass once
	 * that ends.  Never a conflict: REQUEST_ID_CONFLICT is final.
	 */
	POL_IN_FLIGHT = 48,
	POL_REASON_COUNT		/* not a reason: one past the last */
};

/* "DAILY_LIMIT" for POL_DAILY_LIMIT; "UNKNOWN" for a value not in the enum. */
const char *pol_reason_name(int reason);

/* A short English sentence for operators and clients; never NULL. */
const char *pol_reason_text(int reason);

/*
 * Looks up a reason by its name ("DAILY_LIMIT"), e.g. when replaying the
 * journal.  Returns 0 and *out, or ERR_NOT_FOUND (*out = POL_INTERNAL).
 */
int pol_reason_from_name(enum pol_reason *out, const char *name) WARN_UNUSED;

/* ---------------------------------------------------------------------- */
/* The policy model (read-only once parsed).                              */

#define POL_MAX_FILE (1024 * 1024)	/* larger policy files are refused */
#define POL_MAX_ASSETS 64
#define POL_MAX_APPROVERS 32
#define POL_MAX_ALLOWLIST 4096	/* recipients per asset */
#define POL_MAX_PEM 4096
#define POL_ASSET_NAME_MAX 16	/* [A-Z0-9]{1,16} */
#define POL_APPROVER_NAME_MAX 32	/* [A-Za-z0-9_.-]{1,32} */
#define POL_KEY_NAME_MAX 64	/* [A-Za-z0-9_.-]{1,64} */
#define POL_ID_MAX 64		/* [A-Za-z0-9_.:-]{1,64} */
#define POL_MAX_DECIMALS 77	/* 10^77 < 2^256 < 10^78 */
#define POL_MAX_CONFIRMATIONS 10000
#define POL_MAX_DELAY_SECONDS (366 * 86400)
#define POL_MIN_GAS_LIMIT 21000	/* the cost of a plain transfer */
#define POL_MAX_NONCE (UINT64_MAX - 1)	/* EIP-2681: nonce < 2^64-1 */
#define POL_MAX_GAS_LIMIT 30000000

enum pol_kind { POL_KIND_NATIVE = 1, POL_KIND_ERC20 = 2 };

enum pol_key_alg { POL_KEY_P256 = 1, POL_KEY_ED25519 = 2 };

/* An approver: its signatures are verified by policy/verify.h. */
struct pol_approver {
	char name[POL_APPROVER_NAME_MAX + 1];
	enum pol_key_alg alg;
	const char *public_key_pem;	/* exactly as in the file */
	const uint8_t *spki_der;	/* the key as DER SubjectPublicKeyInfo */
	size_t spki_der_len;
};

/* One asset's rules.  Fields are read-only for callers. */
struct pol_asset {
	char name[POL_ASSET_NAME_MAX + 1];
	uint64_t chain_id;
	enum pol_kind kind;
	uint8_t contract[EVM_ADDR_LEN];	/* POL_KIND_ERC20 only; else zero */
	unsigned decimals;
	char key[POL_KEY_NAME_MAX + 1];	/* signing key name in signerd */
	u256 daily_limit;		/* per UTC day, in base units */
	u256 per_tx_limit;		/* <= daily_limit */

	int has_approval;		/* 0: no approvals ever needed */
	u256 approval_threshold;	/* amounts above it need approvals */
	unsigned approval_m;		/* 1 <= m <= approval_n */
	size_t approval_n;
	size_t approval_approvers[POL_MAX_APPROVERS];	/* indexes, see pol_approver() */

	int has_timelock;		/* 0: never queued */
	u256 timelock_threshold;	/* amounts above it wait delay seconds */
	uint32_t timelock_delay;

	int has_allowlist;		/* 0: any recipient */
	size_t allowlist_len;		/* >= 1 when has_allowlist */
	uint8_t (*allowlist)[EVM_ADDR_LEN];	/* sorted ascending */

	u256 max_fee_per_gas;		/* fee caps on the transaction */
	u256 max_priority_fee_per_gas;
	uint64_t gas_limit;

	int finalized;			/* 1: wait for the node's finalized tag */
	uint32_t confirmations;		/* else this many blocks; >= 1 */
};

struct pol_policy;

/*
 * Parses and validates a genesis policy from the file's bytes (the caller
 * reads the file).  The format is docs/policy-format.md.  On success *out
 * owns a new policy (free it with pol_free) and its hash is the SHA-256 of
 * exactly these bytes.  On failure *out is NULL and err (errlen bytes,
 * always NUL-terminated when errlen > 0) names the JSON path of the first
 * bad field, e.g. "assets.ETH.daily_limit: not a decimal amount".
 * Returns 0, ERR_MALFORMED (any validation error), ERR_TOO_LARGE (over
 * POL_MAX_FILE) or ERR_NOMEM.
 *
 * This code does no I/O, but the libraries do on their first use in a
 * process: jansson reads /dev/urandom to seed its hash tables and OpenSSL
 * reads openssl.cnf.  A sandboxed caller parses before its seccomp filter.
 */
int pol_parse(struct pol_policy **out, const uint8_t *json, size_t len,
    char *err, size_t errlen) WARN_UNUSED;

/* Frees a policy from pol_parse; NULL is a no-op. */
void pol_free(struct pol_policy *p);

/* SHA-256 of the file bytes, as `sha256sum` prints it (in binary here). */
const uint8_t *pol_hash(const struct pol_policy *p);

/* The file's "policy_id". */
const char *pol_policy_id(const struct pol_policy *p);

/*
 * 1 when the genesis file says "paused": true.  This is only where signerd
 * starts: a pause or unpause later is signerd's state, passed to
 * pol_check_sign() as an argument.
 */
int pol_paused(const struct pol_policy *p);

/*
 * Who may lift a pause and approve a new policy version: m of the named
 * approvers (indexes, see pol_approver()).  Any approver may pause;
 * governance unpauses.  A version that loosens anything (policy/diff.h)
 * takes effect delay seconds after its last approval; one that only
 * tightens takes effect at once (docs/governance.md).
 */
struct pol_governance {
	unsigned m;			/* 1 <= m <= n */
	size_t n;
	size_t approvers[POL_MAX_APPROVERS];
	uint32_t delay;			/* 1..POL_MAX_DELAY_SECONDS */
};

/*
 * The policy's governance set, or NULL when it has none (then it has no
 * approvers either: the parser requires governance whenever approvers are
 * listed, because any of them can pause).
 */
const struct pol_governance *pol_governance(const struct pol_policy *p);

/* Assets in file order; index < pol_asset_count() or the call aborts. */
size_t pol_asset_count(const struct pol_policy *p);
const struct pol_asset *pol_asset(const struct pol_policy *p, size_t index);

/* Returns 0 and the asset's index, or ERR_NOT_FOUND (*index = SIZE_MAX). */
int pol_asset_by_name(const struct pol_policy *p, const char *name,
    size_t *index) WARN_UNUSED;

/* Approvers in file order; index < pol_approver_count() or the call aborts. */
size_t pol_approver_count(const struct pol_policy *p);
const struct pol_approver *pol_approver(const struct pol_policy *p,
    size_t index);

/* Returns 0 and the approver's index, or ERR_NOT_FOUND (*index = SIZE_MAX). */
int pol_approver_by_name(const struct pol_policy *p, const char *name,
    size_t *index) WARN_UNUSED;

/* 1 when addr is on the asset's allowlist or the asset has none. */
int pol_recipient_allowed(const struct pol_asset *a,
    const uint8_t addr[EVM_ADDR_LEN]);

/* ---------------------------------------------------------------------- */
/* Intents: what a transaction does, derived from its decoded bytes.      */

struct pol_intent {
	size_t asset;			/* index into the policy's assets */
	char asset_name[POL_ASSET_NAME_MAX + 1];
	uint64_t chain_id;
	uint8_t recipient[EVM_ADDR_LEN];	/* tx.to, or the ERC-20 "to" */
	u256 amount;			/* tx.value, or the ERC-20 amount */
	u256 max_fee_per_gas;
	u256 max_priority_fee_per_gas;
	uint64_t gas_limit;
	uint64_t nonce;
};

/* What the requester says the transaction does; checked against the intent. */
struct pol_stated {
	char asset[POL_ASSET_NAME_MAX + 1];
	uint64_t chain_id;
	uint8_t to[EVM_ADDR_LEN];
	u256 amount;
};

/*
 * Derives the intent from a decoded transaction, never from what a client
 * states (invariant 3).  Native: tx.to is no registered token contract, the
 * data is empty, value is the amount.  ERC-20: tx.to is an asset's contract
 * on tx.chain_id, the data is transfer(address,uint256), value is zero.
 * Then the transaction must be one a node would include, whatever the
 * asset (ERC-20 too has the floor POL_MIN_GAS_LIMIT), checked in this
 * order: TX_PRIORITY_FEE_ABOVE_MAX_FEE (max priority fee above max fee;
 * equal is allowed), TX_GAS_LIMIT_TOO_LOW (below POL_MIN_GAS_LIMIT),
 * TX_NONCE_TOO_HIGH (above POL_MAX_NONCE).
 * Returns 0 with *why = POL_OK and *out filled, or ERR_UNSUPPORTED with
 * *why = NOT_A_TRANSFER, UNKNOWN_TOKEN_CONTRACT, VALUE_ON_TOKEN_TRANSFER,
 * CHAIN_MISMATCH, ACCESS_LIST_NOT_EMPTY, UNKNOWN_ASSET or one of the three
 * TX_ reasons (*out zeroed).
 */
int pol_derive_intent(struct pol_intent *out, enum pol_reason *why,
    const struct pol_policy *p, const struct evm_tx *tx) WARN_UNUSED;

/* ---------------------------------------------------------------------- */
/* Rules.                                                                 */

/*
 * The per-request signing rules, in this order: PAUSED (paused is the
 * caller's current pause state, not the file's flag), UNKNOWN_ASSET (the
 * stated asset is not in the policy), INTENT_MISMATCH (stated asset, chain,
 * recipient or amount differ from the derived intent), ZERO_AMOUNT,
 * PER_TX_LIMIT, RECIPIENT_NOT_ALLOWED (not on the allowlist, the zero
 * address, or a registered token contract), FEE_CAP_MAX_FEE,
 * FEE_CAP_PRIORITY_FEE, FEE_CAP_GAS_LIMIT, DAILY_LIMIT (signed_today +
 * amount above the asset's daily limit; an overflowing sum is over it).
 * signed_today is what this asset has signed in the current UTC day (see
 * pol_utc_day).  Returns POL_OK and *new_total = signed_today + amount, or
 * the refusal and *new_total = *signed_today.  An intent whose asset index
 * is not in p gives POL_INTERNAL.  Approvals and timelocks are checked by
 * the caller with pol_needs_approval() and pol_needs_timelock().  Whether
 * the transaction is includable at all (the TX_ reasons) is decided by
 * pol_derive_intent, not here: orchestratord pre-checks intents that have
 * no transaction, fees or gas yet.
 */
enum pol_reason pol_check_sign(const struct pol_policy *p, int paused,
    const struct pol_intent *in, const struct pol_stated *stated,
    const u256 *signed_today, u256 *new_total) WARN_UNUSED;

/*
 * 1 when the intent's amount is strictly above its asset's approval
 * threshold, 0 when not or when the asset has no approval rule.  in must
 * come from pol_derive_intent on p (an unknown asset index aborts).
 */
int pol_needs_approval(const struct pol_policy *p, const struct pol_intent *in);

/* Likewise for the timelock threshold. */
int pol_needs_timelock(const struct pol_policy *p, const struct pol_intent *in);

/* ---------------------------------------------------------------------- */
/* Approval messages (docs/approvals.md).                                 */

/*
 * An approval is an approver's signature over a short ASCII text naming
 * what is approved.  The text is canonical: one text per message and one
 * message per text, so an approver (with openssl alone), signerd and an
 * auditor all sign and check the same bytes.  For a payout:
 *
 *   signer-approval v1\n
 *   action: sign\n
 *   policy: <policy id>\n
 *   request: <request id>\n
 *   chain: <chain id, decimal>\n
 *   asset: <asset name>\n
 *   to: <recipient, EIP-55>\n
 *   amount: <base units, decimal>\n
 *   expires: <unix seconds, decimal>\n
 *
 * For cancel, pause and unpause only the header, action, policy, request
 * and expires lines.  For a policy version (action "policy", or
 * "policy-cancel" to cancel it) the header, action and policy lines (the
 * id in force), then "replaces: <hex>" (SHA-256 of the file in force)
 * and "proposed: <hex>" (of the proposed file), 64 lowercase hex digits
 * each, then expires.  Decimals have no sign and no leading zero; ids are
 * 1..64 of [A-Za-z0-9._:-].  P-256 approvers sign SHA-256 of the text
 * (ECDSA, DER signature); Ed25519 approvers sign the text itself.
 */
enum pol_action {
	POL_ACTION_SIGN = 1,	/* a payout, with its intent */
	POL_ACTION_CANCEL = 2,	/* a queued payout, by request id */
	POL_ACTION_PAUSE = 3,	/* refuse every payout; id names the pause */
	POL_ACTION_UNPAUSE = 4,	/* lift the pause with that id */
	POL_ACTION_POLICY = 5,	/* a proposed policy version (governance) */
	POL_ACTION_POLICY_CANCEL = 6,	/* cancel that pending proposal */
};

#define POL_REQUEST_ID_MAX 64	/* 1..64 of [A-Za-z0-9._:-], as on the wire */
#define POL_APPROVAL_TEXT_MAX 512	/* the longest text fits with room */

struct pol_approval_msg {
	enum pol_action action;
	char policy_id[POL_ID_MAX + 1];
	char request_id[POL_REQUEST_ID_MAX + 1];
	/* POL_ACTION_SIGN only; zero otherwise. */
	uint64_t chain_id;
	char asset[POL_ASSET_NAME_MAX + 1];
	uint8_t to[EVM_ADDR_LEN];
	u256 amount;
	/* POL_ACTION_POLICY and _CANCEL only; zero otherwise. */
	uint8_t replaces[32];	/* SHA-256 of the policy file in force */
	uint8_t proposed[32];	/* SHA-256 of the proposed file */
	uint64_t expires;	/* valid up to and including this second */
};

/*
 * "sign", "cancel", "pause", "unpause", "policy", "policy-cancel"; "?"
 * for anything else.
 */
const char *pol_action_name(int action);

/*
 * Fills *out for approving the payout request_id whose intent in was
 * derived from its transaction on p (invariant 4: approvals are checked
 * against what signerd decoded, never what a client states).  Returns 0,
 * or ERR_MALFORMED when request_id is not 1..64 of the id charset (*out
 * zeroed).
 */
int pol_approval_msg_sign(struct pol_approval_msg *out,
    const struct pol_policy *p, const char *request_id,
    const struct pol_intent *in, uint64_t expires) WARN_UNUSED;

/*
 * Fills *out for a cancel, pause or unpause of id under p.  Returns 0,
 * ERR_INVALID_ARG for another action, or ERR_MALFORMED for a bad id.
 */
int pol_approval_msg_op(struct pol_approval_msg *out,
    const struct pol_policy *p, enum pol_action action, const char *id,
    uint64_t expires) WARN_UNUSED;

/*
 * Fills *out for approving (POL_ACTION_POLICY) or cancelling
 * (POL_ACTION_POLICY_CANCEL) the proposed file whose SHA-256 is proposed,
 * as a replacement of in_force (its id and hash).  Returns 0 or
 * ERR_INVALID_ARG for another action (*out zeroed).
 */
int pol_approval_msg_policy(struct pol_approval_msg *out,
    const struct pol_policy *in_force, enum pol_action action,
    const uint8_t proposed[32], uint64_t expires) WARN_UNUSED;

/*
 * Writes the canonical text of m into out (cap bytes; the text plus a NUL
 * always fit in POL_APPROVAL_TEXT_MAX) and its length, without the NUL,
 * into *len.  Returns 0, ERR_MALFORMED for a field that breaks its rule
 * (then *len = 0 and out is ""), or ERR_TOO_LARGE when cap is too small.
 */
int pol_approval_text(char *out, size_t cap, size_t *len,
    const struct pol_approval_msg *m) WARN_UNUSED;

/*
 * Parses exactly len bytes of approval text, accepting only the canonical
 * form pol_approval_text() writes (so a parsed text re-encodes to the same
 * bytes).  Returns 0, ERR_TOO_LARGE above POL_APPROVAL_TEXT_MAX,
 * ERR_MALFORMED (wrong header, line, order, charset, an address without
 * its EIP-55 checksum, a hash not in 64 lowercase hex digits, a missing
 * final newline or anything after it), or
 * ERR_NONCANONICAL (a number with a leading zero); *out is zeroed on error.
 */
int pol_approval_parse(struct pol_approval_msg *out, const uint8_t *text,
    size_t len) WARN_UNUSED;

/*
 * The UTC day a time falls in: days since 1970-01-01, rounded toward minus
 * infinity (-1 is day -1).  Limits reset at each UTC midnight.
 */
int64_t pol_utc_day(int64_t unix_seconds);

/*
 * 1 when s is 1..max bytes of [A-Za-z0-9._:-]: the id class of policy
 * ids, request ids and approver names on the wire, in approval texts and
 * in the HTTP API (no escaping needed anywhere).
 */
int pol_id_ok(const char *s, size_t max);

#endif
