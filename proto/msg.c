/* msg.c: encoders and decoders of the signerd wire protocol (see msg.h). */
#include "proto/msg.h"

#include <limits.h>
#include <string.h>

#include "common/err.h"

/*
 * Largest frame of each type, so that PRT_MAX_MESSAGE provably admits every
 * valid message: a field limit raised past it fails the build here.
 */
#define LV(n) (4 + (size_t)(n))
#define REPLY_HDR_MAX (4 + LV(PRT_MESSAGE_MAX) + 4)
#define SIGN_REQ_MAX (PRT_HEADER_LEN + LV(PRT_REQUEST_ID_MAX) + \
	LV(PRT_ASSET_MAX) + 8 + 2 * EVM_ADDR_LEN + 4 + 32 + LV(PRT_TX_MAX) + \
	2 + PRT_APPROVALS_MAX * \
	(LV(PRT_APPROVER_MAX) + 8 + LV(PRT_APPROVAL_SIG_MAX)))
#define APPROVAL_MAX (LV(PRT_APPROVER_MAX) + 8 + LV(PRT_APPROVAL_SIG_MAX))
#define CANCEL_REQ_MAX (PRT_HEADER_LEN + LV(PRT_REQUEST_ID_MAX) + APPROVAL_MAX)
#define UNPAUSE_REQ_MAX (PRT_HEADER_LEN + LV(PRT_REQUEST_ID_MAX) + 2 + \
	PRT_APPROVALS_MAX * APPROVAL_MAX)
#define SIGN_REP_MAX (PRT_HEADER_LEN + REPLY_HDR_MAX + LV(PRT_TX_MAX) + \
	PRT_HASH_LEN + 8 + PRT_HASH_LEN)
#define STATUS_REP_MAX (PRT_HEADER_LEN + REPLY_HDR_MAX + \
	LV(PRT_VERSION_STR_MAX) + LV(PRT_POLICY_ID_MAX) + 2 * PRT_HASH_LEN + \
	8 + 1 + 1 + 4 + 2 + PRT_KEYS_MAX * (LV(PRT_KEY_NAME_MAX) + EVM_ADDR_LEN))
#define POLICY_REP_MAX (PRT_HEADER_LEN + REPLY_HDR_MAX + \
	LV(PRT_POLICY_JSON_MAX))
#define GOV_PROPOSE_REQ_MAX (PRT_HEADER_LEN + LV(PRT_POLICY_JSON_MAX) + \
	PRT_HASH_LEN)
#define GOV_APPROVE_REQ_MAX (PRT_HEADER_LEN + PRT_HASH_LEN + 2 + \
	PRT_APPROVALS_MAX * APPROVAL_MAX)
#define GOV_REP_MAX (PRT_HEADER_LEN + REPLY_HDR_MAX + \
	2 * (LV(PRT_POLICY_ID_MAX) + PRT_HASH_LEN) + 4 + 8 + 1 + 1 + 8 + 2 + \
	8 + 2 + PRT_GOV_APPROVED_MAX * LV(PRT_APPROVER_MAX))
_Static_assert(SIGN_REQ_MAX <= PRT_MAX_MESSAGE, "SIGN_REQ can exceed a frame");
_Static_assert(SIGN_REP_MAX <= PRT_MAX_MESSAGE, "SIGN_REP can exceed a frame");
_Static_assert(STATUS_REP_MAX <= PRT_MAX_MESSAGE,
    "STATUS_REP can exceed a frame");
_Static_assert(POLICY_REP_MAX <= PRT_MAX_MESSAGE,
    "POLICY_REP can exceed a frame");
_Static_assert(CANCEL_REQ_MAX <= PRT_MAX_MESSAGE,
    "CANCEL_REQ can exceed a frame");
_Static_assert(UNPAUSE_REQ_MAX <= PRT_MAX_MESSAGE,
    "UNPAUSE_REQ can exceed a frame");
_Static_assert(GOV_PROPOSE_REQ_MAX <= PRT_MAX_MESSAGE,
    "GOV_PROPOSE_REQ can exceed a frame");
_Static_assert(GOV_APPROVE_REQ_MAX <= PRT_MAX_MESSAGE,
    "GOV_APPROVE_REQ can exceed a frame");
_Static_assert(GOV_REP_MAX <= PRT_MAX_MESSAGE, "GOV_*_REP can exceed a frame");
/* The lv readers take a u32 length: every maximum must fit one. */
_Static_assert(PRT_MAX_MESSAGE <= UINT32_MAX, "frame limit above u32");

/* --- field rules, shared by encoders and decoders ------------------- */

/*
 * Identifiers (request ids, approver, key and policy names) are restricted
 * so that they can be journaled, logged and shown on a terminal without
 * escaping, and compared byte for byte.
 */
static int
is_id_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-';
}

/* Asset symbols are upper-case so that "usdc" cannot alias "USDC". */
static int
is_asset_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Free text (reply messages, version) must not carry terminal controls. */
static int
is_text_char(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/*
 * Checks a NUL-terminated string held in cap bytes: length min..cap-1 and
 * every byte accepted by ok.  The length test comes first so that an
 * unterminated array is never read past cap.
 */
static int
check_str(const char *s, size_t cap, size_t min, int (*ok)(unsigned char))
{
	size_t n = strnlen(s, cap), i;

	if (n == cap)
		return ERR_TOO_LARGE;
	if (n < min)
		return ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return ERR_MALFORMED;
	return 0;
}

/*
 * STATUS_REP's flags: each 0 or 1, blocked non-zero exactly when signing
 * is not possible, and a pause always blocks signing.  One meaning per
 * value keeps re-encoding canonical and a client's reading unambiguous.
 */
static int
check_status_flags(const struct prt_status_rep *rep)
{
	if (rep->paused > 1 || rep->can_sign > 1 ||
	    (rep->can_sign == 1) != (rep->blocked == 0) ||
	    (rep->paused == 1 && rep->can_sign == 1))
		return ERR_MALFORMED;
	return 0;
}

/* Reads a string into out[cap] and applies check_str's rule. */
static int
get_str(struct prt_reader *r, char *out, size_t cap, size_t min,
    int (*ok)(unsigned char))
{
	size_t start = r->off;
	int ret;

	if ((ret = prt_get_string(r, out, cap)) != 0)
		return ret;
	if ((ret = check_str(out, cap, min, ok)) != 0) {
		memset(out, 0, cap);
		r->off = start;
	}
	return ret;
}

static int
put_str(struct prt_writer *w, const char *s, size_t cap, size_t min,
    int (*ok)(unsigned char))
{
	int ret;

	if ((ret = check_str(s, cap, min, ok)) != 0)
		return ret;
	return prt_put_string(w, s);
}

/* Byte runs copied out of the frame, so results outlive the input. */
static int
get_lv_copy(struct prt_reader *r, uint8_t *out, size_t *outlen, size_t max)
{
	const uint8_t *v;
	int ret;

	*outlen = 0;
	if ((ret = prt_get_lv(r, &v, outlen, max)) != 0)
		return ret;
	if (*outlen > 0)
		memcpy(out, v, *outlen);
	return 0;
}

static int
put_lv_checked(struct prt_writer *w, const uint8_t *p, size_t n, size_t max)
{
	if (n > max)
		return ERR_TOO_LARGE;
	return prt_put_lv(w, p, n);
}

/*
 * A list's u16 count, refused above max before any entry is read: no
 * loop ever runs on an unchecked count.
 */
static int
get_count(struct prt_reader *r, uint16_t *n, uint16_t max)
{
	int ret;

	if ((ret = prt_get_u16(r, n)) != 0)
		return ret;
	return *n > max ? ERR_TOO_LARGE : 0;
}

/* u256 travels as 32 big-endian bytes; u256 limbs are little-endian. */
static int
get_u256(struct prt_reader *r, u256 *v)
{
	int i, ret;

	memset(v, 0, sizeof(*v));
	for (i = 3; i >= 0; i--) {
		if ((ret = prt_get_u64(r, &v->w[i])) != 0) {
			memset(v, 0, sizeof(*v));
			return ret;
		}
	}
	return 0;
}

static int
put_u256(struct prt_writer *w, const u256 *v)
{
	int i;

	for (i = 3; i >= 0; i--)
		(void)prt_put_u64(w, v->w[i]);
	return prt_writer_error(w);
}

/* Two's complement without relying on implementation-defined casts. */
static int
get_i32(struct prt_reader *r, int32_t *v)
{
	uint32_t u;
	int ret;

	*v = 0;
	if ((ret = prt_get_u32(r, &u)) != 0)
		return ret;
	*v = u <= INT32_MAX ? (int32_t)u : -(int32_t)(UINT32_MAX - u) - 1;
	return 0;
}

static int
put_i32(struct prt_writer *w, int32_t v)
{
	return prt_put_u32(w, (uint32_t)v);
}

/* --- frame header --------------------------------------------------- */

/* Reads magic, version and type; the size limit comes before anything. */
static int
get_header(struct prt_reader *r, uint16_t *version, uint16_t *type,
    const uint8_t *buf, size_t len)
{
	const uint8_t *magic;
	int ret;

	*version = 0;
	*type = 0;
	prt_reader_init(r, NULL, 0);
	if (len > PRT_MAX_MESSAGE)
		return ERR_TOO_LARGE;
	prt_reader_init(r, buf, len);
	if ((ret = prt_get_view(r, &magic, PRT_MAGIC_LEN)) != 0)
		return ret;
	if (memcmp(magic, PRT_MAGIC, PRT_MAGIC_LEN) != 0)
		return ERR_MALFORMED;
	if ((ret = prt_get_u16(r, version)) != 0 ||
	    (ret = prt_get_u16(r, type)) != 0) {
		*version = 0;
		*type = 0;
		return ret;
	}
	return 0;
}

/* Opens a frame that must be of this version and this type. */
static int
open_frame(struct prt_reader *r, uint16_t want, const uint8_t *buf,
    size_t len)
{
	uint16_t version, type;
	int ret;

	if ((ret = get_header(r, &version, &type, buf, len)) != 0)
		return ret;
	if (version != PRT_VERSION)
		return ERR_BAD_VERSION;
	if (type != want)
		return ERR_MALFORMED;
	return 0;
}

static int
put_header(struct prt_writer *w, uint16_t type)
{
	(void)prt_put_bytes(w, PRT_MAGIC, PRT_MAGIC_LEN);
	(void)prt_put_u16(w, PRT_VERSION);
	return prt_put_u16(w, type);
}

/*
 * An encoder that fails takes back what it appended, so the writer never
 * holds half a frame that a caller might send.
 */
static int
finish(struct prt_writer *w, size_t start, int ret)
{
	if (ret == 0)
		ret = prt_writer_error(w);
	if (ret != 0 && w->len > start)
		w->len = start;
	return ret;
}

int
prt_peek_header(uint16_t *version, uint16_t *type, const uint8_t *buf,
    size_t len)
{
	struct prt_reader r;

	return get_header(&r, version, type, buf, len);
}

/* --- reply header --------------------------------------------------- */

/*
 * The reply header is i32 result, lv message, then (typed replies, from
 * version 5) u32 retry_after_s.  ERROR_REP keeps the first two alone: its
 * layout is frozen so that a client of any version can read it.
 */
enum hdr_layout { HDR_TYPED, HDR_FROZEN };

/* Advice only on a refusal, and never beyond the longest timelock. */
static int
check_retry_after(int32_t result, uint32_t retry_after_s)
{
	if (retry_after_s > PRT_RETRY_AFTER_MAX)
		return ERR_TOO_LARGE;
	if (result == 0 && retry_after_s != 0)
		return ERR_MALFORMED;
	return 0;
}

static int
get_reply_hdr(struct prt_reader *r, struct prt_reply_hdr *hdr,
    enum hdr_layout layout)
{
	int ret;

	if ((ret = get_i32(r, &hdr->result)) != 0 ||
	    (ret = get_str(r, hdr->message, sizeof(hdr->message), 0,
	    is_text_char)) != 0 || layout == HDR_FROZEN)
		return ret;
	if ((ret = prt_get_u32(r, &hdr->retry_after_s)) != 0)
		return ret;
	if ((ret = check_retry_after(hdr->result, hdr->retry_after_s)) != 0)
		hdr->retry_after_s = 0;
	return ret;
}

static int
put_reply_hdr(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    enum hdr_layout layout)
{
	int ret;

	if ((ret = check_str(hdr->message, sizeof(hdr->message), 0,
	    is_text_char)) != 0)
		return ret;
	/* Encoded without loss: the frozen layout has no room for advice. */
	if (layout == HDR_FROZEN && hdr->retry_after_s != 0)
		return ERR_INVALID_ARG;
	if (layout == HDR_TYPED &&
	    (ret = check_retry_after(hdr->result, hdr->retry_after_s)) != 0)
		return ret;
	(void)put_i32(w, hdr->result);
	ret = prt_put_string(w, hdr->message);
	if (layout == HDR_TYPED)
		ret = prt_put_u32(w, hdr->retry_after_s);
	return ret;
}

/*
 * Opens a reply frame and reads its header.  *payload is set when the
 * result is 0, i.e. when the type's fields follow.
 */
static int
open_reply(struct prt_reader *r, uint16_t want, struct prt_reply_hdr *hdr,
    int *payload, const uint8_t *buf, size_t len)
{
	int ret;

	*payload = 0;
	if ((ret = open_frame(r, want, buf, len)) != 0 ||
	    (ret = get_reply_hdr(r, hdr, HDR_TYPED)) != 0)
		return ret;
	*payload = hdr->result == 0;
	return 0;
}

void
prt_reply_hdr_set(struct prt_reply_hdr *hdr, int32_t result,
    const char *message)
{
	size_t i;

	memset(hdr, 0, sizeof(*hdr));
	hdr->result = result;
	if (message == NULL)
		return;
	for (i = 0; i < PRT_MESSAGE_MAX && message[i] != '\0'; i++)
		hdr->message[i] = is_text_char((unsigned char)message[i]) ?
		    message[i] : '?';
}

/* --- approvals -------------------------------------------------------- */

static int
put_approval(struct prt_writer *w, const struct prt_approval *a)
{
	int ret;

	if ((ret = put_str(w, a->approver, sizeof(a->approver), 1,
	    is_id_char)) != 0)
		return ret;
	(void)prt_put_u64(w, a->expiry);
	return put_lv_checked(w, a->sig, a->sig_len, PRT_APPROVAL_SIG_MAX);
}

static int
get_approval(struct prt_reader *r, struct prt_approval *a)
{
	int ret;

	if ((ret = get_str(r, a->approver, sizeof(a->approver), 1,
	    is_id_char)) != 0 ||
	    (ret = prt_get_u64(r, &a->expiry)) != 0)
		return ret;
	return get_lv_copy(r, a->sig, &a->sig_len, PRT_APPROVAL_SIG_MAX);
}

/* A u16 count (0..PRT_APPROVALS_MAX), then the entries. */
static int
put_approvals(struct prt_writer *w, const struct prt_approval *ap,
    uint16_t n)
{
	uint16_t i;
	int ret;

	if (n > PRT_APPROVALS_MAX)
		return ERR_TOO_LARGE;
	(void)prt_put_u16(w, n);
	for (i = 0; i < n; i++)
		if ((ret = put_approval(w, &ap[i])) != 0)
			return ret;
	return 0;
}

static int
get_approvals(struct prt_reader *r, struct prt_approval *ap, uint16_t *n)
{
	uint16_t i;
	int ret;

	if ((ret = prt_get_u16(r, n)) != 0)
		return ret;
	/* Count before entries: no loop runs on an unchecked count. */
	if (*n > PRT_APPROVALS_MAX)
		return ERR_TOO_LARGE;
	for (i = 0; i < *n; i++)
		if ((ret = get_approval(r, &ap[i])) != 0)
			return ret;
	return 0;
}

/* --- SIGN and QUEUE requests (one layout) ----------------------------- */

/*
 * created_day 0 ("created day 0") is refused both ways: it is what a
 * zeroed struct holds, and taking it as 1970-01-01 would make a client
 * that forgot the field look like one from outside any window.
 */
static int
check_created_day(uint32_t day)
{
	return day == 0 ? ERR_MALFORMED : 0;
}

static int
get_created_day(struct prt_reader *r, uint32_t *day)
{
	size_t start = r->off;
	int ret;

	if ((ret = prt_get_u32(r, day)) != 0)
		return ret;
	if ((ret = check_created_day(*day)) != 0) {
		*day = 0;
		r->off = start;
	}
	return ret;
}

static int
encode_payout_req(struct prt_writer *w, uint16_t type,
    const struct prt_sign_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, type)) != 0 ||
	    (ret = put_str(w, req->request_id, sizeof(req->request_id), 1,
	    is_id_char)) != 0 ||
	    (ret = put_str(w, req->asset, sizeof(req->asset), 1,
	    is_asset_char)) != 0)
		goto out;
	if ((ret = check_created_day(req->created_day)) != 0)
		goto out;
	(void)prt_put_u64(w, req->chain_id);
	(void)prt_put_bytes(w, req->from, sizeof(req->from));
	(void)prt_put_u32(w, req->created_day);
	(void)prt_put_bytes(w, req->to, sizeof(req->to));
	(void)put_u256(w, &req->amount);
	if ((ret = put_lv_checked(w, req->tx, req->tx_len, PRT_TX_MAX)) != 0)
		goto out;
	ret = put_approvals(w, req->approvals, req->napprovals);
out:
	return finish(w, start, ret);
}

static int
decode_payout_req(struct prt_sign_req *req, uint16_t type,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, type, buf, len)) != 0 ||
	    (ret = get_str(&r, req->request_id, sizeof(req->request_id), 1,
	    is_id_char)) != 0 ||
	    (ret = get_str(&r, req->asset, sizeof(req->asset), 1,
	    is_asset_char)) != 0 ||
	    (ret = prt_get_u64(&r, &req->chain_id)) != 0 ||
	    (ret = prt_get_bytes(&r, req->from, sizeof(req->from))) != 0 ||
	    (ret = get_created_day(&r, &req->created_day)) != 0 ||
	    (ret = prt_get_bytes(&r, req->to, sizeof(req->to))) != 0 ||
	    (ret = get_u256(&r, &req->amount)) != 0 ||
	    (ret = get_lv_copy(&r, req->tx, &req->tx_len, PRT_TX_MAX)) != 0 ||
	    (ret = get_approvals(&r, req->approvals, &req->napprovals)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_sign_req(struct prt_writer *w, const struct prt_sign_req *req)
{
	return encode_payout_req(w, PRT_SIGN_REQ, req);
}

int
prt_decode_sign_req(struct prt_sign_req *req, const uint8_t *buf, size_t len)
{
	return decode_payout_req(req, PRT_SIGN_REQ, buf, len);
}

int
prt_encode_queue_req(struct prt_writer *w, const struct prt_sign_req *req)
{
	return encode_payout_req(w, PRT_QUEUE_REQ, req);
}

int
prt_decode_queue_req(struct prt_sign_req *req, const uint8_t *buf,
    size_t len)
{
	return decode_payout_req(req, PRT_QUEUE_REQ, buf, len);
}

int
prt_encode_sign_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    const struct prt_sign_rep *rep)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_SIGN_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	if ((ret = put_lv_checked(w, rep->raw, rep->raw_len, PRT_TX_MAX)) != 0)
		goto out;
	if (rep->receipt_seq == 0) {
		ret = ERR_MALFORMED;
		goto out;
	}
	(void)prt_put_bytes(w, rep->tx_hash, sizeof(rep->tx_hash));
	(void)prt_put_u64(w, rep->receipt_seq);
	ret = prt_put_bytes(w, rep->receipt_hash, sizeof(rep->receipt_hash));
out:
	return finish(w, start, ret);
}

int
prt_decode_sign_rep(struct prt_reply_hdr *hdr, struct prt_sign_rep *rep,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(rep, 0, sizeof(*rep));
	if ((ret = open_reply(&r, PRT_SIGN_REP, hdr, &payload, buf, len)) != 0)
		goto out;
	if (payload &&
	    ((ret = get_lv_copy(&r, rep->raw, &rep->raw_len, PRT_TX_MAX)) != 0 ||
	    (ret = prt_get_bytes(&r, rep->tx_hash, sizeof(rep->tx_hash))) != 0 ||
	    (ret = prt_get_u64(&r, &rep->receipt_seq)) != 0 ||
	    (ret = prt_get_bytes(&r, rep->receipt_hash,
	    sizeof(rep->receipt_hash))) != 0))
		goto out;
	/* A journal's first record is seq 1: 0 is no receipt at all. */
	if (payload && rep->receipt_seq == 0) {
		ret = ERR_MALFORMED;
		goto out;
	}
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(rep, 0, sizeof(*rep));
	}
	return ret;
}

/* --- EXPOSURE -------------------------------------------------------- */

int
prt_encode_exposure_req(struct prt_writer *w,
    const struct prt_exposure_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_EXPOSURE_REQ)) != 0 ||
	    (ret = put_str(w, req->asset, sizeof(req->asset), 1,
	    is_asset_char)) != 0)
		goto out;
	ret = prt_put_u32(w, req->date);
out:
	return finish(w, start, ret);
}

int
prt_decode_exposure_req(struct prt_exposure_req *req, const uint8_t *buf,
    size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, PRT_EXPOSURE_REQ, buf, len)) != 0 ||
	    (ret = get_str(&r, req->asset, sizeof(req->asset), 1,
	    is_asset_char)) != 0 ||
	    (ret = prt_get_u32(&r, &req->date)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_exposure_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_exposure_rep *rep)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_EXPOSURE_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	/* The server resolves "today"; the answer names the day it used. */
	if (rep->date == PRT_DATE_TODAY) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if ((ret = put_str(w, rep->asset, sizeof(rep->asset), 1,
	    is_asset_char)) != 0)
		goto out;
	(void)prt_put_u32(w, rep->date);
	(void)put_u256(w, &rep->signed_total);
	(void)put_u256(w, &rep->limit);
	ret = put_u256(w, &rep->remaining);
out:
	return finish(w, start, ret);
}

int
prt_decode_exposure_rep(struct prt_reply_hdr *hdr,
    struct prt_exposure_rep *rep, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(rep, 0, sizeof(*rep));
	if ((ret = open_reply(&r, PRT_EXPOSURE_REP, hdr, &payload, buf,
	    len)) != 0)
		goto out;
	if (payload) {
		if ((ret = get_str(&r, rep->asset, sizeof(rep->asset), 1,
		    is_asset_char)) != 0 ||
		    (ret = prt_get_u32(&r, &rep->date)) != 0)
			goto out;
		if (rep->date == PRT_DATE_TODAY) {
			ret = ERR_MALFORMED;
			goto out;
		}
		if ((ret = get_u256(&r, &rep->signed_total)) != 0 ||
		    (ret = get_u256(&r, &rep->limit)) != 0 ||
		    (ret = get_u256(&r, &rep->remaining)) != 0)
			goto out;
	}
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(rep, 0, sizeof(*rep));
	}
	return ret;
}

/* --- STATUS and POLICY requests (header only) ------------------------ */

static int
encode_empty(struct prt_writer *w, uint16_t type)
{
	size_t start = w->len;

	return finish(w, start, put_header(w, type));
}

static int
decode_empty(uint16_t type, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	if ((ret = open_frame(&r, type, buf, len)) != 0)
		return ret;
	return prt_end(&r);
}

int
prt_encode_status_req(struct prt_writer *w)
{
	return encode_empty(w, PRT_STATUS_REQ);
}

int
prt_decode_status_req(const uint8_t *buf, size_t len)
{
	return decode_empty(PRT_STATUS_REQ, buf, len);
}

int
prt_encode_policy_req(struct prt_writer *w)
{
	return encode_empty(w, PRT_POLICY_REQ);
}

int
prt_decode_policy_req(const uint8_t *buf, size_t len)
{
	return decode_empty(PRT_POLICY_REQ, buf, len);
}

/* --- STATUS reply ---------------------------------------------------- */

int
prt_encode_status_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_status_rep *rep)
{
	size_t start = w->len;
	const struct prt_key_info *k;
	uint16_t i;
	int ret;

	if ((ret = put_header(w, PRT_STATUS_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	if ((ret = put_str(w, rep->version, sizeof(rep->version), 1,
	    is_text_char)) != 0 ||
	    (ret = put_str(w, rep->policy_id, sizeof(rep->policy_id), 1,
	    is_id_char)) != 0)
		goto out;
	if ((ret = check_status_flags(rep)) != 0)
		goto out;
	if (rep->nkeys > PRT_KEYS_MAX) {
		ret = ERR_TOO_LARGE;
		goto out;
	}
	(void)prt_put_bytes(w, rep->policy_hash, sizeof(rep->policy_hash));
	(void)prt_put_u64(w, rep->head_seq);
	(void)prt_put_bytes(w, rep->head_hash, sizeof(rep->head_hash));
	(void)prt_put_u8(w, rep->paused);
	(void)prt_put_u8(w, rep->can_sign);
	(void)prt_put_u32(w, (uint32_t)rep->blocked);
	(void)prt_put_u16(w, rep->nkeys);
	for (i = 0; i < rep->nkeys; i++) {
		k = &rep->keys[i];
		if ((ret = put_str(w, k->name, sizeof(k->name), 1,
		    is_id_char)) != 0)
			goto out;
		(void)prt_put_bytes(w, k->address, sizeof(k->address));
	}
	ret = 0;
out:
	return finish(w, start, ret);
}

int
prt_decode_status_rep(struct prt_reply_hdr *hdr,
    struct prt_status_rep *rep, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	struct prt_key_info *k;
	uint16_t i;
	uint32_t blocked;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(rep, 0, sizeof(*rep));
	if ((ret = open_reply(&r, PRT_STATUS_REP, hdr, &payload, buf,
	    len)) != 0)
		goto out;
	if (!payload)
		goto end;
	if ((ret = get_str(&r, rep->version, sizeof(rep->version), 1,
	    is_text_char)) != 0 ||
	    (ret = get_str(&r, rep->policy_id, sizeof(rep->policy_id), 1,
	    is_id_char)) != 0 ||
	    (ret = prt_get_bytes(&r, rep->policy_hash,
	    sizeof(rep->policy_hash))) != 0 ||
	    (ret = prt_get_u64(&r, &rep->head_seq)) != 0 ||
	    (ret = prt_get_bytes(&r, rep->head_hash,
	    sizeof(rep->head_hash))) != 0 ||
	    (ret = prt_get_u8(&r, &rep->paused)) != 0 ||
	    (ret = prt_get_u8(&r, &rep->can_sign)) != 0 ||
	    (ret = prt_get_u32(&r, &blocked)) != 0)
		goto out;
	rep->blocked = (int32_t)blocked;
	if ((ret = check_status_flags(rep)) != 0)
		goto out;
	if ((ret = get_count(&r, &rep->nkeys, PRT_KEYS_MAX)) != 0)
		goto out;
	for (i = 0; i < rep->nkeys; i++) {
		k = &rep->keys[i];
		if ((ret = get_str(&r, k->name, sizeof(k->name), 1,
		    is_id_char)) != 0 ||
		    (ret = prt_get_bytes(&r, k->address,
		    sizeof(k->address))) != 0)
			goto out;
	}
end:
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(rep, 0, sizeof(*rep));
	}
	return ret;
}

/* --- POLICY reply ---------------------------------------------------- */

int
prt_encode_policy_rep(struct prt_writer *w,
    const struct prt_reply_hdr *hdr, const struct prt_policy_rep *rep)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_POLICY_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	if (rep->json == NULL && rep->json_len > 0) {
		ret = ERR_INVALID_ARG;
		goto out;
	}
	if (rep->json_len > PRT_POLICY_JSON_MAX) {
		ret = ERR_TOO_LARGE;
		goto out;
	}
	if (rep->json_len > 0 && memchr(rep->json, '\0', rep->json_len)) {
		ret = ERR_EMBEDDED_NUL;
		goto out;
	}
	ret = prt_put_lv(w, rep->json, rep->json_len);
out:
	return finish(w, start, ret);
}

int
prt_decode_policy_rep(struct prt_reply_hdr *hdr,
    struct prt_policy_rep *rep, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(rep, 0, sizeof(*rep));
	if ((ret = open_reply(&r, PRT_POLICY_REP, hdr, &payload, buf,
	    len)) != 0)
		goto out;
	if (payload) {
		if ((ret = prt_get_lv(&r, &rep->json, &rep->json_len,
		    PRT_POLICY_JSON_MAX)) != 0)
			goto out;
		/* JSON text has no NUL; one would cut it short in C. */
		if (rep->json_len > 0 &&
		    memchr(rep->json, '\0', rep->json_len) != NULL) {
			ret = ERR_EMBEDDED_NUL;
			goto out;
		}
	}
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(rep, 0, sizeof(*rep));
	}
	return ret;
}

/* --- QUEUE reply ------------------------------------------------------ */

int
prt_encode_queue_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    const struct prt_queue_rep *rep)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_QUEUE_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	ret = prt_put_u64(w, rep->earliest);
out:
	return finish(w, start, ret);
}

int
prt_decode_queue_rep(struct prt_reply_hdr *hdr, struct prt_queue_rep *rep,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(rep, 0, sizeof(*rep));
	if ((ret = open_reply(&r, PRT_QUEUE_REP, hdr, &payload, buf,
	    len)) != 0)
		goto out;
	if (payload && (ret = prt_get_u64(&r, &rep->earliest)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(rep, 0, sizeof(*rep));
	}
	return ret;
}

/* --- CANCEL and PAUSE requests (an id and one approval) ---------------- */

static int
encode_one_approval(struct prt_writer *w, uint16_t type, const char *id,
    size_t idcap, const struct prt_approval *a)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, type)) != 0 ||
	    (ret = put_str(w, id, idcap, 1, is_id_char)) != 0)
		goto out;
	ret = put_approval(w, a);
out:
	return finish(w, start, ret);
}

static int
decode_one_approval(uint16_t type, char *id, size_t idcap,
    struct prt_approval *a, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	if ((ret = open_frame(&r, type, buf, len)) != 0 ||
	    (ret = get_str(&r, id, idcap, 1, is_id_char)) != 0 ||
	    (ret = get_approval(&r, a)) != 0)
		return ret;
	return prt_end(&r);
}

int
prt_encode_cancel_req(struct prt_writer *w, const struct prt_cancel_req *req)
{
	return encode_one_approval(w, PRT_CANCEL_REQ, req->request_id,
	    sizeof(req->request_id), &req->approval);
}

int
prt_decode_cancel_req(struct prt_cancel_req *req, const uint8_t *buf,
    size_t len)
{
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = decode_one_approval(PRT_CANCEL_REQ, req->request_id,
	    sizeof(req->request_id), &req->approval, buf, len)) != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_pause_req(struct prt_writer *w, const struct prt_pause_req *req)
{
	return encode_one_approval(w, PRT_PAUSE_REQ, req->pause_id,
	    sizeof(req->pause_id), &req->approval);
}

int
prt_decode_pause_req(struct prt_pause_req *req, const uint8_t *buf,
    size_t len)
{
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = decode_one_approval(PRT_PAUSE_REQ, req->pause_id,
	    sizeof(req->pause_id), &req->approval, buf, len)) != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

/* --- UNPAUSE request --------------------------------------------------- */

int
prt_encode_unpause_req(struct prt_writer *w,
    const struct prt_unpause_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_UNPAUSE_REQ)) != 0 ||
	    (ret = put_str(w, req->pause_id, sizeof(req->pause_id), 1,
	    is_id_char)) != 0)
		goto out;
	ret = put_approvals(w, req->approvals, req->napprovals);
out:
	return finish(w, start, ret);
}

int
prt_decode_unpause_req(struct prt_unpause_req *req, const uint8_t *buf,
    size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, PRT_UNPAUSE_REQ, buf, len)) != 0 ||
	    (ret = get_str(&r, req->pause_id, sizeof(req->pause_id), 1,
	    is_id_char)) != 0 ||
	    (ret = get_approvals(&r, req->approvals, &req->napprovals)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

/* --- CANCEL, PAUSE and UNPAUSE replies (header only) ------------------- */

static int
is_ack_type(uint16_t type)
{
	return type == PRT_CANCEL_REP || type == PRT_PAUSE_REP ||
	    type == PRT_UNPAUSE_REP;
}

int
prt_encode_ack_rep(struct prt_writer *w, uint16_t type,
    const struct prt_reply_hdr *hdr)
{
	size_t start = w->len;
	int ret;

	if (!is_ack_type(type))
		return ERR_INVALID_ARG;
	if ((ret = put_header(w, type)) == 0)
		ret = put_reply_hdr(w, hdr, HDR_TYPED);
	return finish(w, start, ret);
}

int
prt_decode_ack_rep(struct prt_reply_hdr *hdr, uint16_t type,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	if (!is_ack_type(type)) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if ((ret = open_reply(&r, type, hdr, &payload, buf, len)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(hdr, 0, sizeof(*hdr));
	return ret;
}

/* --- ERROR reply ----------------------------------------------------- */

int
prt_encode_error_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr)
{
	size_t start = w->len;
	int ret;

	/* A success needs a typed reply: ERROR_REP has no payload. */
	if (hdr->result == 0)
		return ERR_INVALID_ARG;
	if ((ret = put_header(w, PRT_ERROR_REP)) == 0)
		ret = put_reply_hdr(w, hdr, HDR_FROZEN);
	return finish(w, start, ret);
}

int
prt_decode_error_rep(struct prt_reply_hdr *hdr, uint16_t *version,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	uint16_t type;
	int ret;

	memset(hdr, 0, sizeof(*hdr));
	if ((ret = get_header(&r, version, &type, buf, len)) != 0)
		goto out;
	/* Any version: this layout is frozen (see PRT_ERROR_REP). */
	if (type != PRT_ERROR_REP) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if ((ret = get_reply_hdr(&r, hdr, HDR_FROZEN)) != 0)
		goto out;
	if (hdr->result == 0) {
		ret = ERR_MALFORMED;
		goto out;
	}
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		*version = 0;
	}
	return ret;
}

/* --- dispatch -------------------------------------------------------- */

const struct prt_handler *
prt_find_handler(const struct prt_handler *table, size_t n, uint16_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].type == type)
			return &table[i];
	return NULL;
}

/* --- governance requests --------------------------------------------- */

/* A policy file travels whole: 1..PRT_POLICY_JSON_MAX bytes, no NUL. */
static int
check_policy_doc(const uint8_t *doc, size_t len)
{
	if (len == 0 || doc == NULL)
		return ERR_MALFORMED;
	if (len > PRT_POLICY_JSON_MAX)
		return ERR_TOO_LARGE;
	if (memchr(doc, '\0', len) != NULL)
		return ERR_EMBEDDED_NUL;
	return 0;
}

int
prt_encode_gov_propose_req(struct prt_writer *w,
    const struct prt_gov_propose_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_GOV_PROPOSE_REQ)) != 0 ||
	    (ret = check_policy_doc(req->policy, req->policy_len)) != 0)
		goto out;
	(void)prt_put_lv(w, req->policy, req->policy_len);
	ret = prt_put_bytes(w, req->replaces, sizeof(req->replaces));
out:
	return finish(w, start, ret);
}

int
prt_decode_gov_propose_req(struct prt_gov_propose_req *req,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, PRT_GOV_PROPOSE_REQ, buf, len)) != 0 ||
	    (ret = prt_get_lv(&r, &req->policy, &req->policy_len,
	    PRT_POLICY_JSON_MAX)) != 0 ||
	    (ret = check_policy_doc(req->policy, req->policy_len)) != 0 ||
	    (ret = prt_get_bytes(&r, req->replaces,
	    sizeof(req->replaces))) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_gov_approve_req(struct prt_writer *w,
    const struct prt_gov_approve_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_GOV_APPROVE_REQ)) != 0)
		goto out;
	if (req->napprovals == 0) {
		ret = ERR_MALFORMED;
		goto out;
	}
	(void)prt_put_bytes(w, req->proposed, sizeof(req->proposed));
	ret = put_approvals(w, req->approvals, req->napprovals);
out:
	return finish(w, start, ret);
}

int
prt_decode_gov_approve_req(struct prt_gov_approve_req *req,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, PRT_GOV_APPROVE_REQ, buf, len)) != 0 ||
	    (ret = prt_get_bytes(&r, req->proposed,
	    sizeof(req->proposed))) != 0 ||
	    (ret = get_approvals(&r, req->approvals, &req->napprovals)) != 0)
		goto out;
	/* An approval request without an approval asks for nothing. */
	ret = req->napprovals == 0 ? ERR_MALFORMED : prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_gov_cancel_req(struct prt_writer *w,
    const struct prt_gov_cancel_req *req)
{
	size_t start = w->len;
	int ret;

	if ((ret = put_header(w, PRT_GOV_CANCEL_REQ)) != 0)
		goto out;
	(void)prt_put_bytes(w, req->proposed, sizeof(req->proposed));
	ret = put_approval(w, &req->approval);
out:
	return finish(w, start, ret);
}

int
prt_decode_gov_cancel_req(struct prt_gov_cancel_req *req,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = open_frame(&r, PRT_GOV_CANCEL_REQ, buf, len)) != 0 ||
	    (ret = prt_get_bytes(&r, req->proposed,
	    sizeof(req->proposed))) != 0 ||
	    (ret = get_approval(&r, &req->approval)) != 0)
		goto out;
	ret = prt_end(&r);
out:
	if (ret != 0)
		memset(req, 0, sizeof(*req));
	return ret;
}

int
prt_encode_gov_status_req(struct prt_writer *w)
{
	size_t start = w->len;

	return finish(w, start, put_header(w, PRT_GOV_STATUS_REQ));
}

int
prt_decode_gov_status_req(const uint8_t *buf, size_t len)
{
	return decode_empty(PRT_GOV_STATUS_REQ, buf, len);
}

/* --- governance replies ---------------------------------------------- */

static int
is_gov_rep_type(uint16_t type)
{
	return type == PRT_GOV_PROPOSE_REP || type == PRT_GOV_APPROVE_REP ||
	    type == PRT_GOV_CANCEL_REP || type == PRT_GOV_STATUS_REP;
}

/*
 * One meaning per value: pending 0 or 1; with nothing pending every
 * pending field is zero; a pending change is a tightening or a loosening
 * with at most PRT_GOV_APPROVED_MAX approvers named.
 */
static int
check_gov_state(const struct prt_gov_state *st)
{
	struct prt_gov_state zero;

	if (st->pending > 1 || st->version == 0)
		return ERR_MALFORMED;
	if (st->napproved > PRT_GOV_APPROVED_MAX)
		return ERR_TOO_LARGE;
	if (st->pending == 0) {
		memset(&zero, 0, sizeof(zero));
		if (memcmp(st->pending_id, zero.pending_id,
		    sizeof(zero.pending_id)) != 0 ||
		    memcmp(st->pending_hash, zero.pending_hash,
		    sizeof(zero.pending_hash)) != 0 || st->change != 0 ||
		    st->proposed_at != 0 || st->needed != 0 ||
		    st->effective_at != 0 || st->napproved != 0)
			return ERR_MALFORMED;
		return 0;
	}
	if (st->change != PRT_GOV_TIGHTEN && st->change != PRT_GOV_LOOSEN)
		return ERR_MALFORMED;
	return 0;
}

int
prt_encode_gov_rep(struct prt_writer *w, uint16_t type,
    const struct prt_reply_hdr *hdr, const struct prt_gov_state *st)
{
	size_t start = w->len;
	uint16_t i;
	int ret;

	if (!is_gov_rep_type(type))
		return ERR_INVALID_ARG;
	if ((ret = put_header(w, type)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	if ((ret = check_gov_state(st)) != 0 ||
	    (ret = put_str(w, st->policy_id, sizeof(st->policy_id), 1,
	    is_id_char)) != 0)
		goto out;
	(void)prt_put_bytes(w, st->policy_hash, sizeof(st->policy_hash));
	(void)prt_put_u32(w, st->version);
	(void)prt_put_u64(w, st->since);
	(void)prt_put_u8(w, st->pending);
	if (!st->pending)
		goto out;
	if ((ret = put_str(w, st->pending_id, sizeof(st->pending_id), 1,
	    is_id_char)) != 0)
		goto out;
	(void)prt_put_bytes(w, st->pending_hash, sizeof(st->pending_hash));
	(void)prt_put_u8(w, st->change);
	(void)prt_put_u64(w, st->proposed_at);
	(void)prt_put_u16(w, st->needed);
	(void)prt_put_u64(w, st->effective_at);
	(void)prt_put_u16(w, st->napproved);
	for (i = 0; i < st->napproved; i++)
		if ((ret = put_str(w, st->approved[i],
		    sizeof(st->approved[i]), 1, is_id_char)) != 0)
			goto out;
	ret = 0;
out:
	return finish(w, start, ret);
}

int
prt_decode_gov_rep(struct prt_reply_hdr *hdr, uint16_t type,
    struct prt_gov_state *st, const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	uint16_t i;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(st, 0, sizeof(*st));
	if (!is_gov_rep_type(type)) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if ((ret = open_reply(&r, type, hdr, &payload, buf, len)) != 0)
		goto out;
	if (!payload)
		goto end;
	if ((ret = get_str(&r, st->policy_id, sizeof(st->policy_id), 1,
	    is_id_char)) != 0 ||
	    (ret = prt_get_bytes(&r, st->policy_hash,
	    sizeof(st->policy_hash))) != 0 ||
	    (ret = prt_get_u32(&r, &st->version)) != 0 ||
	    (ret = prt_get_u64(&r, &st->since)) != 0 ||
	    (ret = prt_get_u8(&r, &st->pending)) != 0)
		goto out;
	if (st->pending != 1)
		goto check;
	if ((ret = get_str(&r, st->pending_id, sizeof(st->pending_id), 1,
	    is_id_char)) != 0 ||
	    (ret = prt_get_bytes(&r, st->pending_hash,
	    sizeof(st->pending_hash))) != 0 ||
	    (ret = prt_get_u8(&r, &st->change)) != 0 ||
	    (ret = prt_get_u64(&r, &st->proposed_at)) != 0 ||
	    (ret = prt_get_u16(&r, &st->needed)) != 0 ||
	    (ret = prt_get_u64(&r, &st->effective_at)) != 0 ||
	    (ret = get_count(&r, &st->napproved, PRT_GOV_APPROVED_MAX)) != 0)
		goto out;
	for (i = 0; i < st->napproved; i++)
		if ((ret = get_str(&r, st->approved[i],
		    sizeof(st->approved[i]), 1, is_id_char)) != 0)
			goto out;
check:
	if ((ret = check_gov_state(st)) != 0)
		goto out;
end:
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(st, 0, sizeof(*st));
	}
	return ret;
}

/* --- METRICS ------------------------------------------------------------ */

#define METRICS_REP_MAX (PRT_HEADER_LEN + REPLY_HDR_MAX + 6 * 8 + 1 + \
	2 + PRT_METRICS_ASSETS_MAX * (LV(PRT_ASSET_MAX) + 8 + 1 + 2 * 32) + \
	2 + PRT_METRICS_REFUSALS_MAX * (LV(PRT_ASSET_MAX) + \
	LV(PRT_METRICS_NAME_MAX) + 8) + \
	2 + PRT_METRICS_HSM_ERRORS_MAX * (LV(PRT_METRICS_NAME_MAX) + 8) + \
	PRT_MH_COUNT * (1 + PRT_METRICS_BOUNDS_MAX * 8 + \
	(PRT_METRICS_BOUNDS_MAX + 1) * 8 + 8))
_Static_assert(METRICS_REP_MAX <= PRT_MAX_MESSAGE,
    "METRICS_REP can exceed a frame");
/* Counts travel as u16 and nbounds as u8. */
_Static_assert(PRT_METRICS_REFUSALS_MAX <= UINT16_MAX &&
    PRT_METRICS_BOUNDS_MAX <= UINT8_MAX, "metrics counts above their type");

/* Reason and error names, the Prometheus label values of those kinds. */
static int
is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* proto/ sits below evm/: the u256 type only, none of its functions. */
static int
zero256(const u256 *v)
{
	return (v->w[0] | v->w[1] | v->w[2] | v->w[3]) == 0;
}

/*
 * The rules of struct prt_metrics that are not about one field's bytes:
 * order (so that no label set repeats), zero fields off the wire,
 * histogram shape.  Encoder and decoder run the same checks.
 */
static int
check_metrics_asset(const struct prt_metrics_asset *a,
    const struct prt_metrics_asset *prev)
{
	if (a->in_policy > 1 || (a->in_policy == 0 &&
	    (!zero256(&a->exposure_used) ||
	    !zero256(&a->exposure_limit))))
		return ERR_MALFORMED;
	if (prev != NULL && strcmp(prev->asset, a->asset) >= 0)
		return ERR_MALFORMED;
	return 0;
}

static int
check_metrics_refusal(const struct prt_metrics_refusal *f,
    const struct prt_metrics_refusal *prev)
{
	int c;

	if (prev == NULL)
		return 0;
	c = strcmp(prev->asset, f->asset);
	if (c > 0 || (c == 0 && strcmp(prev->reason, f->reason) >= 0))
		return ERR_MALFORMED;
	return 0;
}

static int
check_metrics_hist(const struct prt_metrics_hist *h)
{
	uint64_t total = 0;
	uint8_t i;

	if (h->nbounds == 0)
		return ERR_MALFORMED;
	if (h->nbounds > PRT_METRICS_BOUNDS_MAX)
		return ERR_TOO_LARGE;
	for (i = 0; i < h->nbounds; i++)
		if (h->bound_ns[i] == 0 ||
		    (i > 0 && h->bound_ns[i - 1] >= h->bound_ns[i]))
			return ERR_MALFORMED;
	/* Rendered cumulatively: every partial sum must fit. */
	for (i = 0; i <= h->nbounds; i++) {
		if (h->count[i] > UINT64_MAX - total)
			return ERR_OVERFLOW;
		total += h->count[i];
	}
	return 0;
}

static int
check_metrics_head(const struct prt_metrics *m)
{
	if (m->paused > 1 || m->started > m->now ||
	    m->last_checkpoint > m->now)
		return ERR_MALFORMED;
	return 0;
}

int
prt_encode_metrics_req(struct prt_writer *w)
{
	return encode_empty(w, PRT_METRICS_REQ);
}

int
prt_decode_metrics_req(const uint8_t *buf, size_t len)
{
	return decode_empty(PRT_METRICS_REQ, buf, len);
}

static int
put_metrics_hist(struct prt_writer *w, const struct prt_metrics_hist *h)
{
	uint8_t i;
	int ret;

	if ((ret = check_metrics_hist(h)) != 0)
		return ret;
	(void)prt_put_u8(w, h->nbounds);
	for (i = 0; i < h->nbounds; i++)
		(void)prt_put_u64(w, h->bound_ns[i]);
	for (i = 0; i <= h->nbounds; i++)
		(void)prt_put_u64(w, h->count[i]);
	return prt_put_u64(w, h->sum_ns);
}

int
prt_encode_metrics_rep(struct prt_writer *w, const struct prt_reply_hdr *hdr,
    const struct prt_metrics *m)
{
	size_t start = w->len;
	const struct prt_metrics_asset *a;
	const struct prt_metrics_refusal *f;
	const struct prt_metrics_hsm_error *e;
	uint16_t i;
	int ret;

	if ((ret = put_header(w, PRT_METRICS_REP)) != 0 ||
	    (ret = put_reply_hdr(w, hdr, HDR_TYPED)) != 0 || hdr->result != 0)
		goto out;
	if ((ret = check_metrics_head(m)) != 0)
		goto out;
	if (m->nassets > PRT_METRICS_ASSETS_MAX ||
	    m->nrefusals > PRT_METRICS_REFUSALS_MAX ||
	    m->nhsm_errors > PRT_METRICS_HSM_ERRORS_MAX) {
		ret = ERR_TOO_LARGE;
		goto out;
	}
	(void)prt_put_u64(w, m->now);
	(void)prt_put_u64(w, m->started);
	(void)prt_put_u8(w, m->paused);
	(void)prt_put_u64(w, m->head_seq);
	(void)prt_put_u64(w, m->checkpoints);
	(void)prt_put_u64(w, m->checkpoint_failures);
	(void)prt_put_u64(w, m->last_checkpoint);
	(void)prt_put_u16(w, m->nassets);
	for (i = 0; i < m->nassets; i++) {
		a = &m->assets[i];
		if ((ret = put_str(w, a->asset, sizeof(a->asset), 1,
		    is_asset_char)) != 0 || (ret = check_metrics_asset(a,
		    i > 0 ? &m->assets[i - 1] : NULL)) != 0)
			goto out;
		(void)prt_put_u64(w, a->signatures);
		(void)prt_put_u8(w, a->in_policy);
		if (a->in_policy) {
			(void)put_u256(w, &a->exposure_used);
			(void)put_u256(w, &a->exposure_limit);
		}
	}
	(void)prt_put_u16(w, m->nrefusals);
	for (i = 0; i < m->nrefusals; i++) {
		f = &m->refusals[i];
		if ((ret = put_str(w, f->asset, sizeof(f->asset), 0,
		    is_asset_char)) != 0 ||
		    (ret = put_str(w, f->reason, sizeof(f->reason), 1,
		    is_name_char)) != 0 || (ret = check_metrics_refusal(f,
		    i > 0 ? &m->refusals[i - 1] : NULL)) != 0)
			goto out;
		(void)prt_put_u64(w, f->count);
	}
	(void)prt_put_u16(w, m->nhsm_errors);
	for (i = 0; i < m->nhsm_errors; i++) {
		e = &m->hsm_errors[i];
		if ((ret = put_str(w, e->kind, sizeof(e->kind), 1,
		    is_name_char)) != 0)
			goto out;
		if (i > 0 && strcmp(m->hsm_errors[i - 1].kind, e->kind) >= 0) {
			ret = ERR_MALFORMED;
			goto out;
		}
		(void)prt_put_u64(w, e->count);
	}
	for (i = 0; i < PRT_MH_COUNT; i++)
		if ((ret = put_metrics_hist(w, &m->hist[i])) != 0)
			goto out;
	ret = 0;
out:
	return finish(w, start, ret);
}

static int
get_metrics_hist(struct prt_reader *r, struct prt_metrics_hist *h)
{
	uint8_t i;
	int ret;

	if ((ret = prt_get_u8(r, &h->nbounds)) != 0)
		return ret;
	/* Shape before entries: no loop runs on an unchecked count. */
	if (h->nbounds == 0)
		return ERR_MALFORMED;
	if (h->nbounds > PRT_METRICS_BOUNDS_MAX)
		return ERR_TOO_LARGE;
	for (i = 0; i < h->nbounds; i++)
		if ((ret = prt_get_u64(r, &h->bound_ns[i])) != 0)
			return ret;
	for (i = 0; i <= h->nbounds; i++)
		if ((ret = prt_get_u64(r, &h->count[i])) != 0)
			return ret;
	if ((ret = prt_get_u64(r, &h->sum_ns)) != 0)
		return ret;
	return check_metrics_hist(h);
}

int
prt_decode_metrics_rep(struct prt_reply_hdr *hdr, struct prt_metrics *m,
    const uint8_t *buf, size_t len)
{
	struct prt_reader r;
	struct prt_metrics_asset *a;
	struct prt_metrics_refusal *f;
	struct prt_metrics_hsm_error *e;
	uint16_t i;
	int payload, ret;

	memset(hdr, 0, sizeof(*hdr));
	memset(m, 0, sizeof(*m));
	if ((ret = open_reply(&r, PRT_METRICS_REP, hdr, &payload, buf,
	    len)) != 0)
		goto out;
	if (!payload)
		goto end;
	if ((ret = prt_get_u64(&r, &m->now)) != 0 ||
	    (ret = prt_get_u64(&r, &m->started)) != 0 ||
	    (ret = prt_get_u8(&r, &m->paused)) != 0 ||
	    (ret = prt_get_u64(&r, &m->head_seq)) != 0 ||
	    (ret = prt_get_u64(&r, &m->checkpoints)) != 0 ||
	    (ret = prt_get_u64(&r, &m->checkpoint_failures)) != 0 ||
	    (ret = prt_get_u64(&r, &m->last_checkpoint)) != 0 ||
	    (ret = check_metrics_head(m)) != 0)
		goto out;
	if ((ret = get_count(&r, &m->nassets, PRT_METRICS_ASSETS_MAX)) != 0)
		goto out;
	for (i = 0; i < m->nassets; i++) {
		a = &m->assets[i];
		if ((ret = get_str(&r, a->asset, sizeof(a->asset), 1,
		    is_asset_char)) != 0 ||
		    (ret = prt_get_u64(&r, &a->signatures)) != 0 ||
		    (ret = prt_get_u8(&r, &a->in_policy)) != 0)
			goto out;
		if (a->in_policy == 1 &&
		    ((ret = get_u256(&r, &a->exposure_used)) != 0 ||
		    (ret = get_u256(&r, &a->exposure_limit)) != 0))
			goto out;
		if ((ret = check_metrics_asset(a,
		    i > 0 ? &m->assets[i - 1] : NULL)) != 0)
			goto out;
	}
	if ((ret = get_count(&r, &m->nrefusals, PRT_METRICS_REFUSALS_MAX)) !=
	    0)
		goto out;
	for (i = 0; i < m->nrefusals; i++) {
		f = &m->refusals[i];
		if ((ret = get_str(&r, f->asset, sizeof(f->asset), 0,
		    is_asset_char)) != 0 ||
		    (ret = get_str(&r, f->reason, sizeof(f->reason), 1,
		    is_name_char)) != 0 ||
		    (ret = prt_get_u64(&r, &f->count)) != 0 ||
		    (ret = check_metrics_refusal(f,
		    i > 0 ? &m->refusals[i - 1] : NULL)) != 0)
			goto out;
	}
	if ((ret = get_count(&r, &m->nhsm_errors,
	    PRT_METRICS_HSM_ERRORS_MAX)) != 0)
		goto out;
	for (i = 0; i < m->nhsm_errors; i++) {
		e = &m->hsm_errors[i];
		if ((ret = get_str(&r, e->kind, sizeof(e->kind), 1,
		    is_name_char)) != 0 ||
		    (ret = prt_get_u64(&r, &e->count)) != 0)
			goto out;
		if (i > 0 && strcmp(m->hsm_errors[i - 1].kind, e->kind) >= 0) {
			ret = ERR_MALFORMED;
			goto out;
		}
	}
	for (i = 0; i < PRT_MH_COUNT; i++)
		if ((ret = get_metrics_hist(&r, &m->hist[i])) != 0)
			goto out;
end:
	ret = prt_end(&r);
out:
	if (ret != 0) {
		memset(hdr, 0, sizeof(*hdr));
		memset(m, 0, sizeof(*m));
	}
	return ret;
}
