/*
 * replay.c: the one verifier.  signerd's start-up and `signerctl audit
 * verify` both feed every record after the newest authenticated snapshot
 * (the auditor: every record) through sd_replay_record, which re-checks it
 * as the live path checked it before it applies it to the state: the
 * transaction decodes and says what the record says, approvals verify
 * against the policy at the record's time, a queued payout waited its
 * delay, the pause and every limit held, times never go back (invariant
 * 8).  The first record that fails stops the replay, naming why.
 */
#include "signerd/setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/addr.h"
#include "evm/ecsig.h"
#include "evm/keccak.h"
#include "signerd/payout.h"
#include "signerd/readback.h"
#include "signerd/policy_change.h"
#include "signerd/sign.h"

/* Largest "unix" accepted: far beyond any clock, and exact in a double. */
#define UNIX_MAX ((int64_t)1 << 40)

/* The reason a record failed, for the caller's error line. */
#define FAIL(...) do {						\
	snprintf(sd->replay_why, sizeof(sd->replay_why), __VA_ARGS__);	\
	return ERR_MALFORMED;						\
} while (0)
/* FAIL for a function with something to free at label. */
#define SAY(label, ...) do {						\
	snprintf(sd->replay_why, sizeof(sd->replay_why), __VA_ARGS__);	\
	goto label;							\
} while (0)

uint32_t
sd_replay_window(const struct sd_ctx *sd)
{
	return sd->replay_retention != 0 ? sd->replay_retention :
	    SD_RETENTION_DAYS_DEFAULT;
}

static const char *
str_of(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A canonical decimal string (no sign, no leading zero) up to max. */
static int
u64_of(const json_t *rec, const char *key, uint64_t max, uint64_t *out);

int
sd_replay_u64(const json_t *rec, const char *key, uint64_t *out)
{
	return u64_of(rec, key, UINT64_MAX, out);
}

const char *
sd_replay_str(const json_t *rec, const char *key)
{
	return str_of(rec, key);
}

static int
u64_of(const json_t *rec, const char *key, uint64_t max, uint64_t *out)
{
	const char *s = str_of(rec, key);
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0') ||
	    strlen(s) > 20)
		return ERR_MALFORMED;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return ERR_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return ERR_MALFORMED;
	*out = v;
	return 0;
}

/* A JSON integer in [min, max]. */
static int
int_of(const json_t *rec, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	const json_t *v = json_object_get(rec, key);

	*out = 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return ERR_MALFORMED;
	*out = json_integer_value(v);
	return 0;
}

static int
u256_of(const json_t *rec, const char *key, u256 *out)
{
	const char *s = str_of(rec, key);

	u256_from_u64(out, 0);
	return s != NULL ? u256_from_dec(out, s) : ERR_MALFORMED;
}

/* "0x"-prefixed lowercase hex of exactly n bytes, or of 1..cap bytes. */
static int
hex_of(const json_t *rec, const char *key, int prefix, uint8_t *out,
    size_t n, size_t *len)
{
	const char *s = str_of(rec, key);

	if (s == NULL)
		return ERR_MALFORMED;
	if (prefix) {
		if (strncmp(s, "0x", 2) != 0)
			return ERR_MALFORMED;
		s += 2;
	}
	if (len == NULL)
		return util_hex_decode(out, n, s);
	return util_hex_decode_var(out, n, len, s);
}

int
sd_replay_hash(const json_t *rec, const char *key, uint8_t out[32])
{
	return hex_of(rec, key, 0, out, 32, NULL);
}

/* The approvals as journaled (sd_approvals_json), into ap[0..*n). */
int
sd_replay_approvals(struct sd_ctx *sd, const json_t *rec,
    struct prt_approval *ap, uint16_t *n)
{
	const json_t *arr = json_object_get(rec, "approvals"), *e, *exp;
	const char *who, *sig;
	size_t i;

	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > PRT_APPROVALS_MAX)
		FAIL("\"approvals\" is not an array of at most %d",
		    PRT_APPROVALS_MAX);
	json_array_foreach(arr, i, e) {
		memset(&ap[i], 0, sizeof(ap[i]));
		who = str_of(e, "approver");
		sig = str_of(e, "sig");
		exp = json_object_get(e, "expiry");
		if (who == NULL || !pol_id_ok(who, PRT_APPROVER_MAX) ||
		    sig == NULL || util_hex_decode_var(ap[i].sig,
		    sizeof(ap[i].sig), &ap[i].sig_len, sig) != 0)
			FAIL("approval %zu is malformed", i);
		snprintf(ap[i].approver, sizeof(ap[i].approver), "%s", who);
		/* An integer, or a decimal string past 2^63-1 (record.c). */
		if (json_is_integer(exp) && json_integer_value(exp) >= 0)
			ap[i].expiry = (uint64_t)json_integer_value(exp);
		else if (!json_is_string(exp) ||
		    u64_of(e, "expiry", UINT64_MAX, &ap[i].expiry) != 0 ||
		    ap[i].expiry <= INT64_MAX)
			FAIL("approval %zu has a malformed expiry", i);
	}
	*n = (uint16_t)i;
	return 0;
}

/* The approvals' check, as sd_check_approvals did it live. */
static int
check_approvals(struct sd_ctx *sd, const struct pol_approval_set *set,
    const struct pol_approval_msg *msg, const struct prt_approval *ap,
    size_t n, int64_t t)
{
	char detail[240];
	enum pol_reason why;

	why = sd_check_approvals(sd, sd_version_now(sd), set, msg, ap, n, t,
	    detail, sizeof(detail));
	if (why != POL_OK)
		FAIL("approvals do not hold: %s: %.160s", pol_reason_name(why),
		    detail);
	return 0;
}

static void
remember(struct sd_ctx *sd, const struct prt_approval *ap, size_t n,
    const char *action, const char *id)
{
	char label[SD_SEEN_LABEL_MAX + 1];

	snprintf(label, sizeof(label), "%s %s", action, id);
	sd_remember_approvals(sd, ap, n, label);
}

/*
 * The key that signed is the asset's key: signerd knows its address; an
 * auditor learns it from the key's first record and holds it to that.
 */
static int
p_key_address(struct sd_ctx *sd, const char *name, const uint8_t from[20])
{
	int i = sd_key_index(sd, name);

	if (i >= 0)
		return memcmp(sd->keys[i].address, from, 20) == 0 ? 0 :
		    ERR_MALFORMED;
	if (!sd->auditing || sd->nkeys >= SD_MAX_KEYS ||
	    strlen(name) >= sizeof(sd->keys[0].name))
		return ERR_MALFORMED;
	snprintf(sd->keys[sd->nkeys].name, sizeof(sd->keys[0].name), "%s",
	    name);
	memcpy(sd->keys[sd->nkeys].address, from, 20);
	sd->nkeys++;
	return 0;
}

/* The payout a "signed" record describes, derived again from its raw tx. */
struct signed_rec {
	struct sd_payout p;
	const char *id, *asset, *key;
	uint64_t chain_id, nonce, gas_limit;
	int64_t day, earliest, created;
	u256 amount, exposure, max_fee, prio_fee;	/* exposure: as logged */
	uint8_t content[32], tx_hash[32], replaces[32], from[20], to[20];
	uint8_t raw[SD_RAW_TX_MAX];
	size_t raw_len;
	int queued, bump;
	/* The stateless check's verdict (check_signed): 0 or ERR_MALFORMED
	 * with why; held until the record's turn, so that the first
	 * failure named is the same with or without sd_replay_prepare. */
	int checked, check_rc;
	char why[sizeof(((struct sd_ctx *)0)->replay_why)];
};

/* The stateless check's failure: into s->why, not sd (no sd here). */
#define SFAIL(...) do {							\
	snprintf(s->why, sizeof(s->why), __VA_ARGS__);			\
	return ERR_MALFORMED;						\
} while (0)

/*
 * What a "signed" record says that needs no state: its fields, and that
 * the raw transaction is signed by "from" and says what the record says
 * (invariant 3).  The secp256k1 recovery here is most of an audit's
 * time, so sd_replay_prepare runs this on the auditor's worker threads;
 * it reads nothing but rec and writes nothing but s.
 */
static int
check_signed_fields(const json_t *rec, struct signed_rec *s)
{
	const char *from = str_of(rec, "from"), *to = str_of(rec, "to");
	uint8_t digest[32], pub[65], hash[32];
	struct prt_writer w;
	struct evm_tx tx;
	int r;

	s->id = str_of(rec, "request_id");
	s->asset = str_of(rec, "asset");
	s->key = str_of(rec, "key");
	if (s->id == NULL || !pol_id_ok(s->id, POL_REQUEST_ID_MAX) ||
	    s->asset == NULL || s->key == NULL || from == NULL || to == NULL ||
	    evm_addr_from_str(s->from, from, 1) != 0 ||
	    evm_addr_from_str(s->to, to, 1) != 0 ||
	    u64_of(rec, "chain_id", UINT64_MAX, &s->chain_id) != 0 ||
	    u64_of(rec, "nonce", UINT64_MAX, &s->nonce) != 0 ||
	    u64_of(rec, "gas_limit", UINT64_MAX, &s->gas_limit) != 0 ||
	    int_of(rec, "day", 0, UNIX_MAX / 86400, &s->day) != 0 ||
	    int_of(rec, "created", 1, UINT32_MAX, &s->created) != 0 ||
	    u256_of(rec, "amount", &s->amount) != 0 ||
	    u256_of(rec, "exposure", &s->exposure) != 0 ||
	    u256_of(rec, "max_fee_per_gas", &s->max_fee) != 0 ||
	    u256_of(rec, "max_priority_fee_per_gas", &s->prio_fee) != 0 ||
	    hex_of(rec, "content", 0, s->content, 32, NULL) != 0 ||
	    hex_of(rec, "tx_hash", 1, s->tx_hash, 32, NULL) != 0 ||
	    hex_of(rec, "raw", 1, s->raw, sizeof(s->raw), &s->raw_len) != 0)
		SFAIL("a field of the signed record is missing or malformed");
	s->queued = json_is_true(json_object_get(rec, "queued"));
	s->bump = json_is_true(json_object_get(rec, "fee_bump"));
	if (s->queued && int_of(rec, "earliest", 0, UNIX_MAX, &s->earliest) != 0)
		SFAIL("queued without a valid \"earliest\"");
	if (s->bump && hex_of(rec, "replaces", 1, s->replaces, 32, NULL) != 0)
		SFAIL("fee bump without a valid \"replaces\"");
	/* Invariant 3: what was signed is what the bytes say. */
	if (evm_tx_decode(&tx, s->raw, s->raw_len) != 0 || !tx.is_signed)
		SFAIL("raw is not a signed EIP-1559 transaction");
	evm_keccak256(hash, s->raw, s->raw_len);
	if (memcmp(hash, s->tx_hash, 32) != 0)
		SFAIL("tx_hash is not the hash of raw");
	if ((r = evm_tx_signing_hash(digest, &tx)) != 0 ||
	    evm_sig_recover(pub, digest, tx.r, tx.s, tx.y_parity) != 0 ||
	    evm_addr_from_pubkey(hash, pub) != 0 ||
	    memcmp(hash, s->from, 20) != 0)
		SFAIL("the transaction's signature does not recover to "
		    "\"from\"");
	if (tx.chain_id != s->chain_id || tx.nonce != s->nonce ||
	    tx.gas_limit != s->gas_limit ||
	    u256_cmp(&tx.max_fee_per_gas, &s->max_fee) != 0 ||
	    u256_cmp(&tx.max_priority_fee_per_gas, &s->prio_fee) != 0)
		SFAIL("chain, nonce, gas or fees differ from the transaction");
	/* The request as the client must have sent it: the unsigned form. */
	tx.is_signed = 0;
	prt_writer_init(&w, PRT_TX_MAX);
	r = evm_tx_encode(&w, &tx);
	if (r == 0 && w.len <= sizeof(s->p.req.tx)) {
		memcpy(s->p.req.tx, w.p, w.len);
		s->p.req.tx_len = w.len;
	} else if (r == 0) {
		r = ERR_TOO_LARGE;
	}
	prt_writer_free(&w);
	if (r != 0)
		SFAIL("the transaction does not re-encode: %s", err_str(r));
	snprintf(s->p.req.request_id, sizeof(s->p.req.request_id), "%s",
	    s->id);
	snprintf(s->p.req.asset, sizeof(s->p.req.asset), "%.16s", s->asset);
	s->p.req.chain_id = s->chain_id;
	memcpy(s->p.req.to, s->to, 20);
	s->p.req.amount = s->amount;
	return 0;
}

/* Runs the stateless check once: here, or ahead in sd_replay_prepare. */
static void
check_signed(const json_t *rec, struct signed_rec *s)
{
	if (!s->checked) {
		s->check_rc = check_signed_fields(rec, s);
		s->checked = 1;
	}
}

static int
parse_signed(struct sd_ctx *sd, const json_t *rec, struct signed_rec *s)
{
	const struct pol_asset *a;
	char detail[200];
	enum pol_reason why;

	check_signed(rec, s);
	if (s->check_rc != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "%s", s->why);
		return s->check_rc;
	}
	if (sd_replay_approvals(sd, rec, s->p.req.approvals,
	    &s->p.req.napprovals) != 0)
		return ERR_MALFORMED;
	if ((why = sd_payout_prepare(sd, &s->p, detail, sizeof(detail))) !=
	    POL_OK)
		FAIL("the transaction would be refused: %s: %s",
		    pol_reason_name(why), detail);
	a = pol_asset(s->p.v->policy, s->p.intent.asset);
	if (strcmp(a->name, s->asset) != 0 ||
	    memcmp(s->p.intent.recipient, s->to, 20) != 0 ||
	    u256_cmp(&s->p.intent.amount, &s->amount) != 0)
		FAIL("asset, key, recipient or amount differ from what the "
		    "transaction does");
	if (memcmp(s->p.content, s->content, 32) != 0)
		FAIL("content is not the hash of this request");
	/* The key that signed is the asset's key (signerd knows its
	 * address; an auditor learns it from the first record). */
	if (p_key_address(sd, s->key, s->from) != 0)
		FAIL("\"from\" is not the address of key %s", s->key);
	memcpy(s->p.ref.from, s->from, 20);
	/*
	 * D53: a new payout is signed by the asset's key in force, or by a
	 * retired key into a hole of its own sequence; a fee bump by the key
	 * that signed its payout (replay_bump).
	 */
	if (!s->bump && strcmp(a->key, s->key) != 0 &&
	    (!json_is_true(json_object_get(rec, "gap_fill")) ||
	    !sd_gap_fill_allowed(sd, s->p.v, sd_key_index(sd, s->key),
	    &s->p.ref)))
		FAIL("signed by key %s, not asset %s's key %s, and no gap "
		    "below a nonce it signed", s->key, a->name, a->key);
	return 0;
}

/* A fee bump, judged against the record it replaces, read back (D55). */
static int
replay_bump(struct sd_ctx *sd, const struct jnl_pos *pos, struct signed_rec *s)
{
	struct sd_signed_back *prev = NULL;
	struct sd_req_found found;
	char detail[200];
	enum pol_reason why;
	int r = ERR_MALFORMED;

	if (sd_state_find(sd->state, s->id, (uint32_t)s->created, &found) !=
	    SD_REQ_SIGNED)
		FAIL("fee bump of request %s, which was never signed (or "
		    "not on day %" PRId64 ")", s->id, s->created);
	if ((prev = calloc(1, sizeof(*prev))) == NULL)
		return ERR_NOMEM;
	if ((r = sd_read_signed(sd, &found, s->id, (uint32_t)s->created, prev,
	    detail, sizeof(detail))) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "the record "
		    "it bumps cannot be read back: %s", detail);
		r = r == ERR_NOMEM ? r : ERR_MALFORMED;
		goto out;
	}
	r = ERR_MALFORMED;
	if (memcmp(prev->from, s->from, 20) != 0)
		SAY(out, "a fee bump signed by another key than its payout");
	if (memcmp(prev->tx_hash, s->replaces, 32) != 0)
		SAY(out, "\"replaces\" is not the transaction signed before");
	/* Counted once, on the day of the payout it bumps. */
	if (s->day != prev->day)
		SAY(out, "a fee bump's day is not its payout's");
	if (sd_bump_classify(&prev->tx, &s->p.tx, detail, sizeof(detail)) !=
	    SD_BUMP_OK)
		SAY(out, "not a valid fee bump: %s", detail);
	if ((why = sd_payout_check_rules(sd, &s->p, detail, sizeof(detail))) !=
	    POL_OK)
		SAY(out, "the bump breaks the policy: %s",
		    pol_reason_name(why));
	r = sd_state_replay_bump(sd->state, s->id, (uint32_t)s->created,
	    s->content, pos) != 0 ? ERR_NOMEM : 0;
 out:
	free(prev);
	return r;
}

/*
 * prepared: sd_replay_prepare's result for rec (its stateless check done
 * on a worker thread), or NULL to run every check here (start-up).
 */
static int
replay_signed(struct sd_ctx *sd, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, int64_t t,
    struct signed_rec *prepared)
{
	struct signed_rec *s = prepared;
	struct sd_req_found found;
	const struct sd_queued *q;
	enum pol_reason why;
	char detail[200];
	u256 before, after;
	int r = ERR_MALFORMED;

	if (s == NULL && (s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	if (parse_signed(sd, rec, s) != 0)
		goto out;
	/* Invariant 9: nothing signs while paused. */
	if (sd_pause_active(sd_state_pause(sd->state))) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "signed "
		    "while paused");
		goto out;
	}
	/* D55: inside the retention window then in force. */
	if (sd_created_check(sd_replay_window(sd), (uint32_t)s->created,
	    s->day, detail, sizeof(detail)) != POL_OK) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "%s", detail);
		goto out;
	}
	if (s->bump) {
		r = replay_bump(sd, pos, s);
		goto out;
	}
	if (sd_state_find(sd->state, s->id, (uint32_t)s->created, &found) !=
	    SD_REQ_NONE) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "request %s "
		    "was signed before", s->id);
		goto out;
	}
	/* Invariant 10: the day is the record's own. */
	if (s->day != pol_utc_day(t)) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "day %" PRId64
		    " is not the UTC day of the record's time", s->day);
		goto out;
	}
	/* Invariant 4: the queue entry, or approvals at the record's time. */
	q = sd_queue_find(sd_state_queue(sd->state), s->id);
	if (q != NULL && sd_queue_expired(q, t))
		q = NULL;
	if (s->queued) {
		if (q == NULL || q->status != SD_Q_QUEUED ||
		    memcmp(q->intent, s->p.intent_hash, 32) != 0 ||
		    sd_queue_earliest(q, s->p.v->policy, &s->p.intent) !=
		    s->earliest || t < s->earliest) {
			snprintf(sd->replay_why, sizeof(sd->replay_why),
			    "no queue entry of this payout whose delay ended "
			    "by the record's time");
			goto out;
		}
		/* D52: queued under another version, approved under this. */
		if (s->p.needs_approval && q->version != s->p.v->number &&
		    sd_payout_check_approvals(sd, &s->p, t, detail,
		    sizeof(detail)) != POL_OK) {
			snprintf(sd->replay_why, sizeof(sd->replay_why),
			    "queued under version %u, but approvals under "
			    "version %u do not hold: %.140s", q->version,
			    s->p.v->number, detail);
			goto out;
		}
	} else if (q != NULL || s->p.needs_timelock) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "above the "
		    "timelock threshold (or queued) but signed without its "
		    "queue entry");
		goto out;
	} else if (s->p.needs_approval &&
	    sd_payout_check_approvals(sd, &s->p, t, detail, sizeof(detail)) !=
	    POL_OK) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "approvals do "
		    "not hold: %s", detail);
		goto out;
	}
	/* Invariant 5: one payout per (key, chain, nonce). */
	if (sd_state_nonce_used(sd->state, &s->p.ref)) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "nonce %"
		    PRIu64 " of this key and chain was signed before", s->nonce);
		goto out;
	}
	/* Invariant 2: every limit, with the day's exposure before it. */
	sd_state_exposure(sd->state, &before, s->asset, s->day);
	why = pol_check_sign(s->p.v->policy, 0, &s->p.intent, &s->p.stated,
	    &before, &after);
	if (why != POL_OK) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "the policy "
		    "refuses it: %s", pol_reason_name(why));
		goto out;
	}
	/* "exposure" is informational: live it also counted requests in
	 * flight, which concurrent signers may journal in either order. */
	if ((r = sd_state_replay_signed(sd->state, s->id, (uint32_t)s->created,
	    s->content, s->asset, s->day, &s->amount, &s->p.ref, pos)) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "state: %s",
		    err_str(r));
		r = r == ERR_NOMEM ? r : ERR_MALFORMED;
		goto out;
	}
	if (s->p.req.napprovals > 0)
		remember(sd, s->p.req.approvals, s->p.req.napprovals, "sign",
		    s->id);
	r = 0;
 out:
	if (prepared == NULL) {
		util_wipe(s, sizeof(*s));
		free(s);
	}
	return r;
}

int
sd_replay_prepare(void *ctx, uint64_t seq, const json_t *rec, void **prepared)
{
	const char *type = str_of(rec, "type");
	struct signed_rec *s;

	(void)ctx;
	(void)seq;
	*prepared = NULL;
	if (type == NULL || strcmp(type, "signed") != 0)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	check_signed(rec, s);
	*prepared = s;
	return 0;
}

void
sd_replay_release(void *ctx, void *prepared)
{
	(void)ctx;
	util_wipe(prepared, sizeof(struct signed_rec));
	free(prepared);
}

static int
replay_queued(struct sd_ctx *sd, const json_t *rec, int64_t t)
{
	const char *id = str_of(rec, "request_id"), *asset = str_of(rec, "asset");
	const char *to = str_of(rec, "to");
	const struct pol_asset *a;
	const struct sd_queued *q;
	struct sd_req_found found;
	struct sd_payout *p;
	uint8_t intent[32];
	int64_t at, earliest, created;
	size_t idx;
	u256 zero, after;
	char detail[200];
	enum pol_reason why;
	int r = ERR_MALFORMED;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	p->v = sd_version_now(sd);
	if (id == NULL || !pol_id_ok(id, POL_REQUEST_ID_MAX) || asset == NULL ||
	    to == NULL || pol_asset_by_name(p->v->policy, asset, &idx) != 0 ||
	    evm_addr_from_str(p->intent.recipient, to, 1) != 0 ||
	    u64_of(rec, "chain_id", UINT64_MAX, &p->intent.chain_id) != 0 ||
	    u256_of(rec, "amount", &p->intent.amount) != 0 ||
	    hex_of(rec, "intent", 0, intent, 32, NULL) != 0 ||
	    int_of(rec, "queued_at", 0, UNIX_MAX, &at) != 0 ||
	    int_of(rec, "created", 1, UINT32_MAX, &created) != 0 ||
	    int_of(rec, "earliest", 0, UNIX_MAX, &earliest) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "a field of "
		    "the queued record is missing or malformed");
		goto out;
	}
	a = pol_asset(p->v->policy, idx);
	p->intent.asset = idx;
	snprintf(p->intent.asset_name, sizeof(p->intent.asset_name), "%s",
	    a->name);
	snprintf(p->req.request_id, sizeof(p->req.request_id), "%s", id);
	snprintf(p->stated.asset, sizeof(p->stated.asset), "%s", a->name);
	p->stated.chain_id = p->intent.chain_id;
	memcpy(p->stated.to, p->intent.recipient, 20);
	p->stated.amount = p->intent.amount;
	/* A transaction is not journaled with a queue entry: only its
	 * intent, whose fees and gas are checked when it is signed. */
	p->intent.gas_limit = POL_MIN_GAS_LIMIT;
	sd_intent_hash(p->intent_hash, &p->intent);
	if (memcmp(p->intent_hash, intent, 32) != 0 ||
	    p->intent.chain_id != a->chain_id) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "\"intent\" "
		    "is not the hash of the payout the record names");
		goto out;
	}
	/* Invariants 4 and 10: queued now, waiting exactly the delay. */
	if (at != t || earliest != t + (int64_t)a->timelock_delay ||
	    !pol_needs_timelock(p->v->policy, &p->intent)) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "queued_at "
		    "and earliest must be the record's time and that plus the "
		    "delay, for a payout above the timelock threshold");
		goto out;
	}
	if (sd_pause_active(sd_state_pause(sd->state)) ||
	    sd_state_find(sd->state, id, (uint32_t)created, &found) !=
	    SD_REQ_NONE ||
	    ((q = sd_queue_find(sd_state_queue(sd->state), id)) != NULL &&
	    !sd_queue_expired(q, t)) ||
	    sd_queue_live(sd_state_queue(sd->state), t) >= SD_QUEUE_MAX) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "not "
		    "queueable then (paused, id in use, or the queue full)");
		goto out;
	}
	/* As the live path's sd_payout_check_rules: no exposure yet (it is
	 * counted when the payout is signed). */
	u256_from_u64(&zero, 0);
	why = pol_check_sign(p->v->policy, 0, &p->intent, &p->stated, &zero,
	    &after);
	if (why != POL_OK) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "the policy "
		    "refuses it: %s", pol_reason_name(why));
		goto out;
	}
	if (sd_replay_approvals(sd, rec, p->req.approvals,
	    &p->req.napprovals) != 0)
		goto out;
	if (pol_needs_approval(p->v->policy, &p->intent) &&
	    sd_payout_check_approvals(sd, p, t, detail, sizeof(detail)) !=
	    POL_OK) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "approvals do "
		    "not hold: %s", detail);
		goto out;
	}
	if ((r = sd_queue_begin(sd_state_queue(sd->state), id, intent, t,
	    earliest)) != 0 ||
	    (r = sd_queue_commit(sd_state_queue(sd->state), id)) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "queue: %s",
		    err_str(r));
		goto out;
	}
	sd_queue_set_version(sd_state_queue(sd->state), id, p->v->number);
	if (p->req.napprovals > 0)
		remember(sd, p->req.approvals, p->req.napprovals, "queue", id);
	r = 0;
 out:
	free(p);
	return r;
}

/* cancel, pause, unpause: who may, and their approvals at time t. */
static int
replay_op(struct sd_ctx *sd, const json_t *rec, int64_t t, const char *type)
{
	const struct sd_version *v = sd_version_now(sd);
	const struct pol_governance *g = pol_governance(v->policy);
	const char *id;
	struct prt_approval ap[PRT_APPROVALS_MAX];
	struct pol_approval_set set;
	struct pol_approval_msg msg;
	enum pol_action action;
	const char *name;
	struct sd_req_found found;
	uint16_t n;
	int r, forbade;

	if (strcmp(type, "cancelled") == 0) {
		id = str_of(rec, "request_id");
		action = POL_ACTION_CANCEL;
		name = "cancel";
	} else {
		id = str_of(rec, "pause_id");
		action = strcmp(type, "paused") == 0 ? POL_ACTION_PAUSE :
		    POL_ACTION_UNPAUSE;
		name = action == POL_ACTION_PAUSE ? "pause" : "unpause";
	}
	if (id == NULL || !pol_id_ok(id, POL_REQUEST_ID_MAX))
		FAIL("the %s record names no valid id", type);
	if ((r = sd_replay_approvals(sd, rec, ap, &n)) != 0)
		return r;
	pol_set_any(&set, v->policy, 1);
	if (action == POL_ACTION_UNPAUSE) {
		if (g == NULL)
			FAIL("unpause under a policy without governance");
		pol_set_governance(&set, v->policy);
	} else if (n != 1) {
		FAIL("a %s carries exactly one approval", name);
	}
	if (pol_approval_msg_op(&msg, v->policy, action, id, 0) != 0)
		FAIL("approval text cannot be built");
	if ((r = check_approvals(sd, &set, &msg, ap, n, t)) != 0)
		return r;
	switch (action) {
	case POL_ACTION_CANCEL:
		if (sd_state_find_any(sd->state, id, pol_utc_day(t) -
		    sd_replay_window(sd), pol_utc_day(t) + 1, &found) !=
		    SD_REQ_NONE)
			FAIL("cancel of %s, which was signed", id);
		r = sd_queue_cancel_at(sd_state_queue(sd->state), id, t, &forbade);
		if (r == 1)
			FAIL("cancel of %s, which was cancelled already", id);
		if (r != 0)
			FAIL("cancel of %s: %s", id, err_str(r));
		break;
	case POL_ACTION_PAUSE:
		if ((r = sd_pause_set(sd_state_pause(sd->state), id,
		    ap[0].approver)) != 0)
			FAIL("pause %s: %s", id, r == ERR_EXISTS ?
			    "the id was used before" : err_str(r));
		break;
	default:
		if (sd_pause_clear(sd_state_pause(sd->state), id) != 0)
			FAIL("unpause of %s, which is not the pause in force",
			    id);
		r = 0;
		break;
	}
	if (r == 0)
		remember(sd, ap, n, name, id);
	return r;
}

/* genesis: the policy in force, whole; an auditor takes it from here. */
static int
replay_genesis(struct sd_ctx *sd, uint64_t seq, const json_t *rec,
    const char *policy)
{
	const char *text = str_of(rec, "policy_text");
	struct sd_version *v = NULL;
	const struct sd_version *cur;
	char err[256];
	int64_t t;

	if (seq != 1 || text == NULL)
		FAIL("a genesis record must be the first and carry the policy");
	if (int_of(rec, "unix", 0, UNIX_MAX, &t) != 0)
		FAIL("no valid \"unix\" time");
	if (sd_version_parse(&v, (const uint8_t *)text, strlen(text), err,
	    sizeof(err)) != 0)
		FAIL("the genesis policy does not parse: %.180s", err);
	if (strcmp(v->hex, policy) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "the genesis "
		    "policy hashes to %s, not %.64s", v->hex, policy);
		goto fail;
	}
	/* An auditor takes the genesis from here; signerd has its own. */
	if (sd->state == NULL && sd_state_new(&sd->state,
	    pol_paused(v->policy)) != 0) {
		snprintf(sd->replay_why, sizeof(sd->replay_why), "out of memory");
		goto fail;
	}
	if ((cur = sd_version_now(sd)) == NULL) {
		sd_gov_genesis(sd_state_gov(sd->state), v, t);
		return 0;
	}
	if (cur->number == 1 && strcmp(cur->hex, v->hex) == 0)
		((struct sd_version *)cur)->since = t;
	sd_version_free(v);
	return 0;
fail:
	sd_version_free(v);
	return ERR_MALFORMED;
}

static int
replay_started(struct sd_ctx *sd, const json_t *rec)
{
	int64_t days;

	/* Starts before D55 journaled none: the default window. */
	if (json_object_get(rec, "retention_days") == NULL)
		return 0;
	if (int_of(rec, "retention_days", 1, SD_RETENTION_DAYS_MAX, &days) !=
	    0)
		FAIL("retention_days is not 1..%d", SD_RETENTION_DAYS_MAX);
	sd->replay_retention = (uint32_t)days;
	return 0;
}

static int
replay_record(struct sd_ctx *sd, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prepared)
{
	const char *type = str_of(rec, "type"), *policy = str_of(rec, "policy");
	int64_t t;
	int r;

	sd->replay_why[0] = '\0';
	if (type == NULL)
		FAIL("no type");
	/* Checkpoints are verified by the journal layer (signature, head). */
	if (strcmp(type, "checkpoint") == 0)
		return 0;
	if (policy == NULL)
		FAIL("no policy hash");
	if (strcmp(type, "genesis") == 0 &&
	    (r = replay_genesis(sd, seq, rec, policy)) != 0)
		return r;
	if (sd->state == NULL || sd_version_now(sd) == NULL)
		FAIL("the journal does not start with its genesis record");
	/* Every record names the version it was decided under (D12, D51). */
	if (strcmp(policy, sd_version_now(sd)->hex) != 0)
		FAIL("written under policy %s, but the policy in force is %s",
		    policy, sd_version_now(sd)->hex);
	/* Invariant 10: one clock, never going back. */
	if (int_of(rec, "unix", 0, UNIX_MAX, &t) != 0)
		FAIL("no valid \"unix\" time");
	if (t < sd->replay_unix)
		FAIL("time %" PRId64 " goes back behind the previous record's "
		    "%" PRId64, t, sd->replay_unix);
	sd->replay_unix = t;
	sd_state_note_time(sd->state, t);
	/* D55: memory follows the window through a long replay too; what
	 * is forgotten can no longer be asked for, so when is unseen. */
	if (pol_utc_day(t) - (int64_t)sd_replay_window(sd) > sd->pruned_before) {
		sd->pruned_before = pol_utc_day(t) - (int64_t)sd_replay_window(sd);
		sd_state_prune(sd->state, sd->pruned_before);
	}
	if (strcmp(type, "signed") == 0)
		return replay_signed(sd, seq, hash, pos, rec, t, prepared);
	if (strcmp(type, "queued") == 0)
		return replay_queued(sd, rec, t);
	if (strcmp(type, "cancelled") == 0 || strcmp(type, "paused") == 0 ||
	    strcmp(type, "unpaused") == 0)
		return replay_op(sd, rec, t, type);
	if (strcmp(type, "policy_proposed") == 0 ||
	    strcmp(type, "policy_approved") == 0 ||
	    strcmp(type, "policy_cancelled") == 0 ||
	    strcmp(type, "policy_activated") == 0)
		return sd_replay_policy(sd, rec, type, t);
	/* D55: the retention window a start journaled judges what follows. */
	if (strcmp(type, "started") == 0)
		return replay_started(sd, rec);
	/* Records that change no state; anything else is not ours. */
	if (strcmp(type, "genesis") == 0 || strcmp(type, "refused") == 0 ||
	    strcmp(type, "started") == 0 || strcmp(type, "stopped") == 0 ||
	    strcmp(type, "refusals") == 0 || strcmp(type, "reanchored") == 0)
		return 0;
	FAIL("unknown record type \"%.32s\"", type);
}

int
sd_replay_record_prepared(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prepared, char *why,
    size_t cap)
{
	struct sd_ctx *sd = ctx;
	int r;

	if ((r = replay_record(sd, seq, hash, pos, rec, prepared)) != 0)
		snprintf(why, cap, "%s", sd->replay_why[0] != '\0' ?
		    sd->replay_why : err_str(r));
	return r;
}

int
sd_replay_record(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	return sd_replay_record_prepared(ctx, seq, hash, pos, rec, NULL, why,
	    cap);
}

int
sd_replay_snapshot(void *ctx, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t len)
{
	struct sd_ctx *sd = ctx;
	char hex[65];
	int r;

	/* Invariant 8: only a snapshot the audit key signed is believed;
	 * any other is ignored and the journal replayed in full. */
	if ((r = sd_snapshot_verify(sd, seq, hash, blob, &len)) != 0) {
		log_warn("snapshot at record %llu is not signed by the audit "
		    "key: ignored, replaying the whole journal",
		    (unsigned long long)seq);
		return ERR_BAD_SIGNATURE;
	}
	if (len < 44)
		return ERR_MALFORMED;
	/* The time of the last record it reflects: later ones must not go
	 * back behind it. */
	sd->replay_unix = (int64_t)(((uint64_t)((const uint8_t *)blob)[32] << 56) |
	    ((uint64_t)((const uint8_t *)blob)[33] << 48) |
	    ((uint64_t)((const uint8_t *)blob)[34] << 40) |
	    ((uint64_t)((const uint8_t *)blob)[35] << 32) |
	    ((uint64_t)((const uint8_t *)blob)[36] << 24) |
	    ((uint64_t)((const uint8_t *)blob)[37] << 16) |
	    ((uint64_t)((const uint8_t *)blob)[38] << 8) |
	    (uint64_t)((const uint8_t *)blob)[39]);
	/* The window in force at that point: records after it are judged
	 * by it until the next start journals its own (D55). */
	sd->replay_retention = (uint32_t)((const uint8_t *)blob)[40] << 24 |
	    (uint32_t)((const uint8_t *)blob)[41] << 16 |
	    (uint32_t)((const uint8_t *)blob)[42] << 8 |
	    (uint32_t)((const uint8_t *)blob)[43];
	if (sd->replay_retention == 0 ||
	    sd->replay_retention > SD_RETENTION_DAYS_MAX) {
		log_error("snapshot at record %llu names a retention window of "
		    "%u days", (unsigned long long)seq, sd->replay_retention);
		return ERR_MALFORMED;
	}
	if ((r = sd_state_deserialize(sd->state, (const uint8_t *)blob + 44,
	    len - 44)) != 0) {
		log_error("snapshot at record %llu does not load: %s%s",
		    (unsigned long long)seq, err_str(r), r == ERR_BAD_VERSION ?
		    " (written by another signerd version: remove the snap-* "
		    "files to replay the whole journal)" : "");
		return r;
	}
	log_info("state restored from the snapshot at record %llu: %zu "
	    "requests inside the window", (unsigned long long)seq,
	    sd_state_count(sd->state));
	/* The version in force it holds is the one its header names. */
	util_hex_encode(hex, blob, 32);
	if (strcmp(hex, sd_version_now(sd)->hex) != 0) {
		log_error("snapshot at record %llu names policy %s but holds "
		    "%s", (unsigned long long)seq, hex,
		    sd_version_now(sd)->hex);
		return ERR_MALFORMED;
	}
	return 0;
}
