/* msg.h: the versioned binary wire protocol between signerd and its clients. */
#ifndef PROTO_MSG_H
#define PROTO_MSG_H

/*
 * Every frame is  "SGNR" | u16 version | u16 type | fields of that type,
 * all integers big-endian, every string and byte run a u32 length then the
 * bytes (prt_put_lv / prt_get_lv), never NUL-terminated on the wire.
 * docs/protocol.md describes each message field by field.
 *
 * Decoders read only through the proto/buf.h cursor.  Each decoder:
 *   - refuses len > PRT_MAX_MESSAGE (ERR_TOO_LARGE) before looking at bytes;
 *   - clears its outputs first, and again on failure, so a caller never
 *     sees half a message;
 *   - returns ERR_MALFORMED for a wrong magic, a wrong type or a field that
 *     breaks its rule (charset, empty where 1.. is required, flag not 0/1),
 *     ERR_BAD_VERSION for a version other than PRT_VERSION, ERR_TRUNCATED,
 *     ERR_TOO_LARGE for a length or count above its maximum,
 *     ERR_EMBEDDED_NUL for a NUL in a string, ERR_TRAILING for extra bytes.
 * Encoders apply the same rules to what they are given (and return the same
 * codes), so nothing is sent that the peer would refuse, and an accepted
 * frame re-encodes to exactly its own bytes (fuzz/fuzz_wire.c checks this).
 * Encoders append to the writer; initialise it with PRT_MAX_MESSAGE.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "evm/u256.h"
#include "proto/buf.h"

/*
 * Bump on any change a peer of the previous version would misread.
 * 3: SIGN_REQ and QUEUE_REQ carry from (docs/protocol.md, Versioning).
 * 4: SIGN_REQ and QUEUE_REQ carry created_day (the retention window).
 * 5: every typed reply header carries retry_after_s (issue 13).
 */
#define PRT_VERSION 5

#define PRT_MAGIC "SGNR"
#define PRT_MAGIC_LEN 4
#define PRT_HEADER_LEN 8	/* magic, u16 version, u16 type */

/* No frame is larger, in either direction; checked before any allocation. */
#define PRT_MAX_MESSAGE 65536

/* Field limits: text lengths exclude the NUL the structs add. */
#define PRT_REQUEST_ID_MAX 64	/* 1..64 of [A-Za-z0-9._:-] */
#define PRT_ASSET_MAX 16	/* 1..16 of [A-Z0-9] */
#define PRT_TX_MAX 8192		/* unsigned and signed transaction bytes */
#define PRT_APPROVALS_MAX 16
#define PRT_APPROVER_MAX 32	/* 1..32 of [A-Za-z0-9._:-] */
#define PRT_APPROVAL_SIG_MAX 128
#define PRT_MESSAGE_MAX 256	/* 0..256 printable ASCII */
#define PRT_VERSION_STR_MAX 64	/* 1..64 printable ASCII */
#define PRT_POLICY_ID_MAX 64	/* 1..64 of [A-Za-z0-9._:-] */
#define PRT_KEY_NAME_MAX 64	/* 1..64 of [A-Za-z0-9._:-] */
#define PRT_KEYS_MAX 64
#define PRT_POLICY_JSON_MAX 60000
#define PRT_HASH_LEN 32

/* EXPOSURE_REQ date meaning "the signer's current UTC day". */
#define PRT_DATE_TODAY 0xFFFFFFFFu

/*
 * Message types.  A reply's type is its request's type with PRT_REPLY_BIT
 * set.  Numbers are part of the protocol: never reuse or renumber one.
 */
#define PRT_REPLY_BIT 0x8000u
enum prt_msg_type {
	PRT_SIGN_REQ = 0x0001,
	PRT_EXPOSURE_REQ = 0x0002,
	PRT_STATUS_REQ = 0x0003,
	PRT_POLICY_REQ = 0x0004,
	/* Timelock queue, cancel, break-glass pause, governance unpause. */
	PRT_QUEUE_REQ = 0x0005,
	PRT_CANCEL_REQ = 0x0006,
	PRT_PAUSE_REQ = 0x0007,
	PRT_UNPAUSE_REQ = 0x0008,
	/* Governance: policy versions (docs/governance.md). */
	PRT_GOV_PROPOSE_REQ = 0x0009,
	PRT_GOV_APPROVE_REQ = 0x000A,
	PRT_GOV_CANCEL_REQ = 0x000B,
	PRT_GOV_STATUS_REQ = 0x000C,
	/* signerd's counters for monitoring (docs/metrics.md). */
	PRT_METRICS_REQ = 0x000D,

	/*
	 * The answer to a frame the server cannot attribute to a request type
	 * of its version: bad magic, other version, unknown type.  Its layout
	 * (header, i32 result, message) is frozen across versions so that a
	 * client of any version can read why it was refused.
	 */
	PRT_ERROR_REP = 0x8000,
	PRT_SIGN_REP = 0x8001,
	PRT_EXPOSURE_REP = 0x8002,
	PRT_STATUS_REP = 0x8003,
	PRT_POLICY_REP = 0x8004,
	PRT_QUEUE_REP = 0x8005,
	PRT_CANCEL_REP = 0x8006,
	PRT_PAUSE_REP = 0x8007,
	PRT_UNPAUSE_REP = 0x8008,
	PRT_GOV_PROPOSE_REP = 0x8009,
	PRT_GOV_APPROVE_REP = 0x800A,
	PRT_GOV_CANCEL_REP = 0x800B,
	PRT_GOV_STATUS_REP = 0x800C,
	PRT_METRICS_REP = 0x800D,
};

/* The reply type answering request type t. */
#define PRT_REPLY_TYPE(t) ((uint16_t)((t) | PRT_REPLY_BIT))

/*
 * Every reply carries this right after its frame header.  result is 0 for
 * success, else a negative ERR_* or a signer refusal reason (policy/'s
 * codes, opaque here); the type's payload follows only when result is 0.
 *
 * retry_after_s is the server's advice, as data, on when the same request
 * may pass: 0 means none (the client picks its own backoff), else seconds
 * from now, 1..PRT_RETRY_AFTER_MAX (above: ERR_TOO_LARGE).  Only a
 * refusal carries advice (a result of 0 with advice is ERR_MALFORMED).  message is for people: no
 * client reads a retry time, or anything else, out of its words.
 * ERROR_REP's frozen layout has no room for it: there it is always 0.
 */
#define PRT_RETRY_AFTER_MAX (366u * 86400u)	/* the longest timelock */
struct prt_reply_hdr {
	int32_t result;
	uint32_t retry_after_s;
	char message[PRT_MESSAGE_MAX + 1];
};

/*
 * An approver's signature over the approval text of policy/policy.h
 * (pol_approval_text) with this expiry; signerd builds the text itself
 * from what it decoded and checks the signature against it.
 */
struct prt_approval {
	char approver[PRT_APPROVER_MAX + 1];
	uint64_t expiry;	/* unix seconds */
	uint8_t sig[PRT_APPROVAL_SIG_MAX];
	size_t sig_len;
};

/*
 * SIGN_REQ: the caller's stated intent and the unsigned EIP-1559
 * transaction.  signerd decodes tx itself and signs only if it matches
 * the intent (invariant 3); the intent is what approvers signed.
 */
struct prt_sign_req {
	char request_id[PRT_REQUEST_ID_MAX + 1];
	char asset[PRT_ASSET_MAX + 1];
	uint64_t chain_id;
	/*
	 * The address the client expects to sign: the asset's key in the
	 * policy version the client knows (for a fee bump, the address that
	 * signed the payout first).  signerd refuses with KEY_MISMATCH when
	 * its key for the payout has another address, so that a payout built
	 * for one sender's nonce sequence is never signed by another key
	 * (key rotation, docs/governance.md).
	 */
	uint8_t from[EVM_ADDR_LEN];
	/*
	 * The UTC day (days since 1970-01-01, as pol_utc_day) on which the
	 * client first asked for this request id, the same on every retry
	 * and fee bump.  signerd keeps idempotency per (request id, created
	 * day) and refuses REQUEST_EXPIRED a request created more than its
	 * retention window before its own day, so that it can forget what
	 * is older (issue 12).  1..UINT32_MAX: 0 is ERR_MALFORMED, so a
	 * client that forgot to set it is refused, never taken as 1970.
	 */
	uint32_t created_day;
	uint8_t to[EVM_ADDR_LEN];
	u256 amount;
	uint8_t tx[PRT_TX_MAX];
	size_t tx_len;
	uint16_t napprovals;
	struct prt_approval approvals[PRT_APPROVALS_MAX];
};

/*
 * QUEUE_REQ carries exactly the fields of a SIGN_REQ (struct prt_sign_req):
 * the payout is decoded and checked as for signing, then waits out its
 * timelock.  QUEUE_REP's payload is the earliest time it may be signed.
 */
struct prt_queue_rep {
	uint64_t earliest;	/* unix seconds, signer's clock */
};

/* CANCEL_REQ: one approver makes a queued payout unsignable for good. */
struct prt_cancel_req {
	char request_id[PRT_REQUEST_ID_MAX + 1];
	struct prt_approval approval;
};

/* PAUSE_REQ: one approver stops every payout (break-glass). */
struct prt_pause_req {
	char pause_id[PRT_REQUEST_ID_MAX + 1];	/* names this pause */
	struct prt_approval approval;
};

/* UNPAUSE_REQ: m of the governance set lift the pause named pause_id. */
struct prt_unpause_req {
	char pause_id[PRT_REQUEST_ID_MAX + 1];
	uint16_t napprovals;
	struct prt_approval approvals[PRT_APPROVALS_MAX];
};

/*
 * SIGN_REP payload: the raw signed transaction and its hash, and the
 * receipt: the seq and SHA-256 of the journal record that authorized it,
 * so a client can later prove the journal still holds that record
 * (`signerctl audit verify --receipts`), even between checkpoints.
 */
struct prt_sign_rep {
	uint8_t raw[PRT_TX_MAX];
	size_t raw_len;
	uint8_t tx_hash[PRT_HASH_LEN];
	uint64_t receipt_seq;	/* >= 1 */
	uint8_t receipt_hash[PRT_HASH_LEN];
};

/* EXPOSURE_REQ: the day's exposure of one asset. */
struct prt_exposure_req {
	char asset[PRT_ASSET_MAX + 1];
	uint32_t date;		/* days since 1970-01-01 UTC, or PRT_DATE_TODAY */
};

/* EXPOSURE_REP payload; date is always an actual day, never TODAY. */
struct prt_exposure_rep {
	char asset[PRT_ASSET_MAX + 1];
	uint32_t date;
	u256 signed_total;
	u256 limit;
	u256 remaining;
};

struct prt_key_info {
	char name[PRT_KEY_NAME_MAX + 1];
	uint8_t address[EVM_ADDR_LEN];
};

/* STATUS_REP payload. */
struct prt_status_rep {
	char version[PRT_VERSION_STR_MAX + 1];
	char policy_id[PRT_POLICY_ID_MAX + 1];
	uint8_t policy_hash[PRT_HASH_LEN];
	uint64_t head_seq;
	uint8_t head_hash[PRT_HASH_LEN];
	uint8_t paused;		/* 0 or 1 */
	/*
	 * 1 when a sign request could succeed right now: not paused, the
	 * journal writable, the HSM sessions usable.  Otherwise blocked names
	 * the first reason (a policy/ reason code: PAUSED, JOURNAL_ERROR,
	 * HSM_ERROR) and the reply header's message says why in words.
	 */
	uint8_t can_sign;	/* 0 or 1; 0 whenever paused */
	int32_t blocked;	/* 0 exactly when can_sign */
	uint16_t nkeys;
	struct prt_key_info keys[PRT_KEYS_MAX];
};

/*
 * POLICY_REP payload: the policy JSON, not NUL-terminated.  Decoding makes
 * json a view into the decoded buffer: valid only while that buffer is.
 * It holds no NUL byte.
 */
struct prt_policy_rep {
	const uint8_t *json;
	size_t json_len;
};

/*
 * GOV_PROPOSE_REQ: a new policy version, the whole file in the genesis
 * format, and the hash of the version in force it replaces.  Decoding
 * makes policy a view into the decoded buffer, like POLICY_REP's json.
 */
struct prt_gov_propose_req {
	const uint8_t *policy;	/* 1..PRT_POLICY_JSON_MAX bytes, no NUL */
	size_t policy_len;
	uint8_t replaces[PRT_HASH_LEN];
};

/*
 * GOV_APPROVE_REQ (1..PRT_APPROVALS_MAX approvals of the governance set
 * in force) and GOV_CANCEL_REQ (exactly one approval) name the pending
 * proposal by the SHA-256 of its file.
 */
struct prt_gov_approve_req {
	uint8_t proposed[PRT_HASH_LEN];
	uint16_t napprovals;
	struct prt_approval approvals[PRT_APPROVALS_MAX];
};

struct prt_gov_cancel_req {
	uint8_t proposed[PRT_HASH_LEN];
	struct prt_approval approval;
};

/* How a pending proposal would change the policy (policy/diff.h). */
enum prt_gov_change {
	PRT_GOV_TIGHTEN = 1,	/* takes effect once approved */
	PRT_GOV_LOOSEN = 2,	/* waits the governance delay, cancellable */
};

#define PRT_GOV_APPROVED_MAX 32	/* POL_MAX_APPROVERS */

/*
 * The payload of every governance reply (GOV_*_REP) and of
 * GOV_STATUS_REP: the version in force and the pending proposal, if any.
 * When pending is 0 every field after it (pending_id to approved) is zero
 * and absent on the wire.  version is never 0.
 */
struct prt_gov_state {
	char policy_id[PRT_POLICY_ID_MAX + 1];	/* in force */
	uint8_t policy_hash[PRT_HASH_LEN];
	uint32_t version;	/* 1 for genesis, +1 per activation */
	uint64_t since;		/* unix time it took effect */
	uint8_t pending;	/* 0 or 1 */
	char pending_id[PRT_POLICY_ID_MAX + 1];
	uint8_t pending_hash[PRT_HASH_LEN];
	uint8_t change;		/* enum prt_gov_change */
	uint64_t proposed_at;
	uint16_t needed;	/* governance m of the version in force */
	/*
	 * 0 until needed approvals are in; then when the change takes or
	 * took effect (a tightening: the time of its last approval).
	 */
	uint64_t effective_at;
	uint16_t napproved;	/* approvers whose approval counts, in order */
	char approved[PRT_GOV_APPROVED_MAX][PRT_APPROVER_MAX + 1];
};

/*
 * Reads the frame header without judging the version, so a server can
 * answer a peer of another version.  Returns 0, ERR_TOO_LARGE (len above
 * PRT_MAX_MESSAGE), ERR_TRUNCATED (shorter than a header) or ERR_MALFORMED
 * (wrong magic); outputs are 0 on failure.
 */
int prt_peek_header(uint16_t *version, uint16_t *type, const uint8_t *buf,
    size_t len) WARN_UNUSED;

/*
 * Encoders append one whole frame to w and return 0 or an error (the
 * writer's sticky error, or the rule the input broke).  Reply encoders
 * write rep's payload only when hdr->result is 0; rep may be NULL
 * otherwise.  Decoders fill their outputs from exactly len bytes at buf.
 */
int prt_encode_sign_req(struct prt_writer *w, const struct prt_sign_req *req)
    WARN_UNUSED;
int prt_decode_sign_req(struct prt_sign_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;
int prt_encode_sign_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    const struct prt_sign_rep *rep) WARN_UNUSED;
int prt_decode_sign_rep(struct prt_reply_hdr *hdr, struct prt_sign_rep *rep,
    const uint8_t *buf, size_t len) WARN_UNUSED;

int prt_encode_exposure_req(struct prt_writer *w,
    const struct prt_exposure_req *req) WARN_UNUSED;
int prt_decode_exposure_req(struct prt_exposure_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;
int prt_encode_exposure_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_exposure_rep *rep)
    WARN_UNUSED;
int prt_decode_exposure_rep(struct prt_reply_hdr *hdr,
    struct prt_exposure_rep *rep, const uint8_t *buf, size_t len) WARN_UNUSED;

/* STATUS_REQ and POLICY_REQ carry nothing after the header. */
int prt_encode_status_req(struct prt_writer *w) WARN_UNUSED;
int prt_decode_status_req(const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_status_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_status_rep *rep)
    WARN_UNUSED;
int prt_decode_status_rep(struct prt_reply_hdr *hdr,
    struct prt_status_rep *rep, const uint8_t *buf, size_t len) WARN_UNUSED;

int prt_encode_policy_req(struct prt_writer *w) WARN_UNUSED;
int prt_decode_policy_req(const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_policy_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_policy_rep *rep)
    WARN_UNUSED;
/* rep->json points into buf: see struct prt_policy_rep. */
int prt_decode_policy_rep(struct prt_reply_hdr *hdr,
    struct prt_policy_rep *rep, const uint8_t *buf, size_t len) WARN_UNUSED;

/* QUEUE: the request is a SIGN_REQ's fields under another type. */
int prt_encode_queue_req(struct prt_writer *w, const struct prt_sign_req *req)
    WARN_UNUSED;
int prt_decode_queue_req(struct prt_sign_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;
int prt_encode_queue_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    const struct prt_queue_rep *rep) WARN_UNUSED;
int prt_decode_queue_rep(struct prt_reply_hdr *hdr, struct prt_queue_rep *rep,
    const uint8_t *buf, size_t len) WARN_UNUSED;

int prt_encode_cancel_req(struct prt_writer *w,
    const struct prt_cancel_req *req) WARN_UNUSED;
int prt_decode_cancel_req(struct prt_cancel_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;
int prt_encode_pause_req(struct prt_writer *w,
    const struct prt_pause_req *req) WARN_UNUSED;
int prt_decode_pause_req(struct prt_pause_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;
int prt_encode_unpause_req(struct prt_writer *w,
    const struct prt_unpause_req *req) WARN_UNUSED;
int prt_decode_unpause_req(struct prt_unpause_req *req, const uint8_t *buf,
    size_t len) WARN_UNUSED;

int prt_encode_gov_propose_req(struct prt_writer *w,
    const struct prt_gov_propose_req *req) WARN_UNUSED;
int prt_decode_gov_propose_req(struct prt_gov_propose_req *req,
    const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_gov_approve_req(struct prt_writer *w,
    const struct prt_gov_approve_req *req) WARN_UNUSED;
int prt_decode_gov_approve_req(struct prt_gov_approve_req *req,
    const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_gov_cancel_req(struct prt_writer *w,
    const struct prt_gov_cancel_req *req) WARN_UNUSED;
int prt_decode_gov_cancel_req(struct prt_gov_cancel_req *req,
    const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_gov_status_req(struct prt_writer *w) WARN_UNUSED;
int prt_decode_gov_status_req(const uint8_t *buf, size_t len) WARN_UNUSED;

/*
 * The four governance replies share one layout: the header, then on
 * success struct prt_gov_state.  type is GOV_PROPOSE_REP, GOV_APPROVE_REP,
 * GOV_CANCEL_REP or GOV_STATUS_REP (else ERR_INVALID_ARG from the encoder,
 * ERR_MALFORMED from the decoder).  version, pending, change and the zero
 * fields follow their rules above (else ERR_MALFORMED); napproved above
 * PRT_GOV_APPROVED_MAX is ERR_TOO_LARGE.
 */
int prt_encode_gov_rep(struct prt_writer *w, uint16_t type,
    const struct prt_reply_hdr *hdr, const struct prt_gov_state *st)
    WARN_UNUSED;
int prt_decode_gov_rep(struct prt_reply_hdr *hdr, uint16_t type,
    struct prt_gov_state *st, const uint8_t *buf, size_t len) WARN_UNUSED;

/*
 * CANCEL_REP, PAUSE_REP and UNPAUSE_REP are the reply header alone, on
 * success too: type is one of those three (else ERR_INVALID_ARG from the
 * encoder, ERR_MALFORMED from the decoder).
 */
int prt_encode_ack_rep(struct prt_writer *w, uint16_t type,
    const struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_decode_ack_rep(struct prt_reply_hdr *hdr, uint16_t type,
    const uint8_t *buf, size_t len) WARN_UNUSED;

/*
 * ERROR_REP: hdr->result must be non-zero and hdr->retry_after_s 0 (the
 * frozen layout cannot carry it: else ERR_INVALID_ARG).  The encoder writes
 * PRT_VERSION; the decoder accepts any version (the layout is frozen) and
 * returns it in *version so the caller can tell a version refusal apart.
 */
int prt_encode_error_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr)
    WARN_UNUSED;
int prt_decode_error_rep(struct prt_reply_hdr *hdr, uint16_t *version,
    const uint8_t *buf, size_t len) WARN_UNUSED;

/*
 * Fills hdr for an error reply: result, and message truncated to
 * PRT_MESSAGE_MAX with any byte outside printable ASCII replaced by '?',
 * so a server can always build a reply that encodes.  retry_after_s is 0:
 * a server that has advice sets it afterwards.
 */
void prt_reply_hdr_set(struct prt_reply_hdr *hdr, int32_t result,
    const char *message);

/*
 * METRICS_REP payload: signerd's counters, gauges and latency histograms,
 * typed and without loss; proto/metrics.h renders them as Prometheus
 * text (docs/metrics.md).  Names are label values there, so every list
 * is bounded, sorted and free of duplicates (one meaning, one encoding):
 *
 * - assets: names strictly ascending (byte order).  in_policy is 0 or 1;
 *   exposure_used and exposure_limit (today's, the signer's UTC day) are
 *   on the wire only when it is 1, and zero when it is 0.
 * - refusals: (asset, reason) strictly ascending; asset "" means the
 *   request named no asset of the policy in force (a pause, a governance
 *   request, an unknown asset, a frame that did not decode).
 * - hsm_errors: kinds strictly ascending.
 * - histograms: nbounds 1..PRT_METRICS_BOUNDS_MAX upper bounds in
 *   nanoseconds, strictly ascending and non-zero; count[i] is the number
 *   of observations in bucket i alone (not cumulative), count[nbounds]
 *   those above the last bound; their total must fit a u64.
 * - started and last_checkpoint are at most now; paused is 0 or 1.
 * Names of reasons and error kinds are 1..PRT_METRICS_NAME_MAX of
 * [A-Z0-9_] (policy/ reason names, common/err.h names).
 */
#define PRT_METRICS_NAME_MAX 32
#define PRT_METRICS_ASSETS_MAX 128	/* twice POL_MAX_ASSETS: renames */
#define PRT_METRICS_REFUSALS_MAX 640
#define PRT_METRICS_HSM_ERRORS_MAX 32
#define PRT_METRICS_BOUNDS_MAX 24

/* The histograms, in wire order. */
enum prt_mh_kind {
	PRT_MH_SIGN = 0,	/* a sign request, taken to answered */
	PRT_MH_HSM_SIGN,	/* one C_Sign */
	PRT_MH_FSYNC,		/* one journal fdatasync */
	PRT_MH_COUNT
};

struct prt_metrics_hist {
	uint8_t nbounds;
	uint64_t bound_ns[PRT_METRICS_BOUNDS_MAX];
	uint64_t count[PRT_METRICS_BOUNDS_MAX + 1];
	uint64_t sum_ns;
};

struct prt_metrics_asset {
	char asset[PRT_ASSET_MAX + 1];
	uint64_t signatures;	/* made and answered since signerd started */
	uint8_t in_policy;	/* an asset of the policy in force */
	u256 exposure_used;	/* base units, today (sign path's reckoning) */
	u256 exposure_limit;	/* the policy's daily limit */
};

struct prt_metrics_refusal {
	char asset[PRT_ASSET_MAX + 1];
	char reason[PRT_METRICS_NAME_MAX + 1];
	uint64_t count;
};

struct prt_metrics_hsm_error {
	char kind[PRT_METRICS_NAME_MAX + 1];
	uint64_t count;
};

struct prt_metrics {
	uint64_t now;		/* signer's clock, unix seconds */
	uint64_t started;	/* when this signerd began serving */
	uint8_t paused;
	uint64_t head_seq;	/* the journal's newest durable record */
	uint64_t checkpoints;	/* signed checkpoints made since started */
	uint64_t checkpoint_failures;
	uint64_t last_checkpoint;	/* unix s; 0: none since started */
	uint16_t nassets;
	struct prt_metrics_asset assets[PRT_METRICS_ASSETS_MAX];
	uint16_t nrefusals;
	struct prt_metrics_refusal refusals[PRT_METRICS_REFUSALS_MAX];
	uint16_t nhsm_errors;
	struct prt_metrics_hsm_error hsm_errors[PRT_METRICS_HSM_ERRORS_MAX];
	struct prt_metrics_hist hist[PRT_MH_COUNT];
};

/*
 * METRICS_REQ carries nothing after the header.  The reply decoder and
 * encoder apply the rules above: a rule broken is ERR_MALFORMED, a count
 * above its maximum ERR_TOO_LARGE (before any entry is read), histogram
 * counts whose total overflows ERR_OVERFLOW.
 */
int prt_encode_metrics_req(struct prt_writer *w) WARN_UNUSED;
int prt_decode_metrics_req(const uint8_t *buf, size_t len) WARN_UNUSED;
int prt_encode_metrics_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_metrics *m)
    WARN_UNUSED;
int prt_decode_metrics_rep(struct prt_reply_hdr *hdr, struct prt_metrics *m,
    const uint8_t *buf, size_t len) WARN_UNUSED;

/*
 * Server dispatch (OpenSSH monitor.c mon_table): one row per request type.
 * fn gets the whole request frame (header checked by prt_peek_header, type
 * matching the row) and appends the whole reply frame to rep, a writer
 * initialised with PRT_MAX_MESSAGE.  A request that does not decode still
 * gets a reply: the typed reply carrying the decoder's code.  fn returns 0
 * when rep holds a reply to send, else an error meaning no reply could be
 * built (the server then drops the connection).  flags are the server's
 * to interpret (PRT_HF_*).
 */
struct prt_handler {
	uint16_t type;
	int (*fn)(void *ctx, const uint8_t *req, size_t len,
	    struct prt_writer *rep);
	unsigned flags;
};

#define PRT_HF_ADMIN 0x1u	/* only the operator's peer uid may send it */
#define PRT_HF_WRITES 0x2u	/* changes state: journaled before replying */

/* Returns the row for type, or NULL when the table has none. */
const struct prt_handler *prt_find_handler(const struct prt_handler *table,
    size_t n, uint16_t type);

#endif
