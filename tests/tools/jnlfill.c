/* jnlfill.c: writes a large journal that signerd's verifier (signerd/replay.c) accepts, a genesis record and then real signed transfers from a software test key, so `make bench` can time start-up's verification (not shipped). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/addr.h"
#include "evm/keccak.h"
#include "evm/tx.h"
#include "journal/internal.h"
#include "signerd/payout.h"
#include "signerd/signerd.h"
#include "policy/policy.h"

/* The genesis time with --policy: 2026-01-01T00:00:00Z. */
#define START_DEFAULT 1767225600
#define PER_DAY_DEFAULT 1000
/* Distinct recipients when the asset has no allowlist. */
#define RECIPIENTS 1024
/* Amounts vary by up to this much below the largest one allowed. */
#define AMOUNT_SPREAD 16

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: jnlfill (--from DIR | --policy FILE [--start UNIX]) --to DIR\n"
	    "               --records N [--asset NAME] [--per-day K]\n"
	    "Writes a journal in --to (an empty directory) that signerd's own\n"
	    "verifier accepts: a genesis record (the one at seq 1 of the\n"
	    "journal in --from, or one for the policy FILE at time --start,\n"
	    "default %d), then N-1 \"signed\" records: EIP-1559 transfers of\n"
	    "--asset (default: the policy's first native asset), signed with a\n"
	    "software secp256k1 key derived from a fixed string (so its\n"
	    "address, printed on stdout, is always the same), nonces 0, 1, ...,\n"
	    "request ids \"fill-<seq>\", amounts at or below the per-transaction\n"
	    "limit and the approval and timelock thresholds, K records a UTC\n"
	    "day (default %d) within the daily limit.  Hash-chained and cut\n"
	    "into segments as signerd would; no fdatasync, no checkpoints.\n"
	    "signerd itself cannot start on it: its keys are in the HSM and\n"
	    "the records' \"from\" is the test key.  TEST ONLY.\n",
	    START_DEFAULT, PER_DAY_DEFAULT);
}

struct filler {
	struct pol_policy *pol;
	const struct pol_asset *a;
	size_t asset;
	char policy_hex[65];
	secp256k1_context *ctx;
	uint8_t seckey[32];
	uint8_t from[EVM_ADDR_LEN];
	char from_str[EVM_ADDR_STR];
	int64_t t0;		/* the genesis record's time */
	uint64_t per_day;
	uint64_t amount;	/* the largest amount a record may have */
	int64_t day;		/* the day being filled, and its exposure */
	u256 exposure;
};

/* A record's body: the parsed line without the prefix's prev and seq. */
static json_t *
body_of(const struct jnl_record *rec)
{
	json_t *b = json_deep_copy(rec->json);

	if (b != NULL) {
		json_object_del(b, "prev");
		json_object_del(b, "seq");
	}
	return b;
}

/* The genesis record (seq 1) of the journal in dir. */
static int
read_genesis(json_t **genesis, const char *dir)
{
	struct jnl_reader *rd = NULL;
	struct jnl_record rec;
	struct jnl_error e;
	const char *type;
	char msg[512];
	int r;

	*genesis = NULL;
	if ((r = jnl_reader_open(&rd, &e, dir)) != 0 ||
	    (r = jnl_reader_next(rd, &rec, &e)) < 0) {
		fprintf(stderr, "jnlfill: %s: %s\n", dir,
		    jnl_error_format(msg, sizeof(msg), &e));
		jnl_reader_close(rd);
		return r < 0 ? r : ERR_MALFORMED;
	}
	type = r == 1 ? json_string_value(json_object_get(rec.json, "type")) :
	    NULL;
	if (type != NULL && rec.seq == 1 && strcmp(type, "genesis") == 0 &&
	    (*genesis = body_of(&rec)) == NULL)
		r = ERR_NOMEM;
	jnl_reader_close(rd);
	if (*genesis == NULL && r != ERR_NOMEM) {
		fprintf(stderr, "jnlfill: %s has no genesis record at seq 1\n",
		    dir);
		return ERR_NOT_FOUND;
	}
	return *genesis == NULL ? r : 0;
}

/* A genesis record for the policy file at path, at time t. */
static int
make_genesis(json_t **genesis, const char *path, int64_t t)
{
	struct pol_policy *p = NULL;
	char *text = NULL, err[256], hex[65];
	size_t len = 0;
	FILE *f;
	int r = ERR_IO;

	*genesis = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if ((text = malloc(POL_MAX_FILE + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	len = fread(text, 1, POL_MAX_FILE + 1, f);
	if (ferror(f))
		goto out;
	if (len > POL_MAX_FILE) {
		fprintf(stderr, "jnlfill: %s: larger than a policy may be\n",
		    path);
		r = ERR_TOO_LARGE;
		goto out;
	}
	text[len] = '\0';
	if (pol_parse(&p, (const uint8_t *)text, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "jnlfill: %s: %s\n", path, err);
		r = ERR_MALFORMED;
		goto out;
	}
	util_hex_encode(hex, pol_hash(p), 32);
	/* The fields of signerd's own genesis record (signerd/setup.c). */
	r = ERR_NOMEM;
	if ((*genesis = json_object()) == NULL ||
	    json_object_set_new(*genesis, "type", json_string("genesis")) != 0 ||
	    json_object_set_new(*genesis, "policy", json_string(hex)) != 0 ||
	    json_object_set_new(*genesis, "policy_id",
	    json_string(pol_policy_id(p))) != 0 ||
	    json_object_set_new(*genesis, "policy_text",
	    json_stringn(text, len)) != 0 ||
	    (r = sd_json_set_time(*genesis, t)) != 0)
		goto out;
	r = 0;
out:
	if (r == ERR_IO)
		fprintf(stderr, "jnlfill: cannot read %s\n", path);
	if (r != 0) {
		json_decref(*genesis);
		*genesis = NULL;
	}
	if (f != NULL)
		fclose(f);
	pol_free(p);
	free(text);
	return r;
}

/*
 * The policy in force (the genesis record's, checked against its hash as
 * the verifier checks it), the asset to pay out and its largest amount:
 * per_day of them must fit the daily limit, and none may need approvals
 * or wait in the queue.
 */
static int
load_policy(struct filler *f, const json_t *genesis, const char *asset)
{
	const char *text = json_string_value(json_object_get(genesis,
	    "policy_text"));
	const char *hash = json_string_value(json_object_get(genesis, "policy"));
	const json_t *t = json_object_get(genesis, "unix");
	const struct pol_asset *a;
	char err[256];
	u256 cap, day;
	uint64_t limit;
	size_t i;

	if (text == NULL || hash == NULL || !json_is_integer(t) ||
	    json_integer_value(t) < 0) {
		fprintf(stderr, "jnlfill: the genesis record lacks policy_text, "
		    "policy or unix\n");
		return ERR_MALFORMED;
	}
	f->t0 = json_integer_value(t);
	if (pol_parse(&f->pol, (const uint8_t *)text, strlen(text), err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "jnlfill: the genesis policy: %s\n", err);
		return ERR_MALFORMED;
	}
	util_hex_encode(f->policy_hex, pol_hash(f->pol), 32);
	if (strcmp(f->policy_hex, hash) != 0) {
		fprintf(stderr, "jnlfill: the genesis policy hashes to %s, not "
		    "%s\n", f->policy_hex, hash);
		return ERR_MALFORMED;
	}
	if (asset != NULL) {
		if (pol_asset_by_name(f->pol, asset, &f->asset) != 0 ||
		    pol_asset(f->pol, f->asset)->kind != POL_KIND_NATIVE) {
			fprintf(stderr, "jnlfill: the policy has no native asset "
			    "%s\n", asset);
			return ERR_NOT_FOUND;
		}
	} else {
		for (i = 0; i < pol_asset_count(f->pol) &&
		    pol_asset(f->pol, i)->kind != POL_KIND_NATIVE; i++)
			;
		if (i == pol_asset_count(f->pol)) {
			fprintf(stderr, "jnlfill: the policy has no native "
			    "asset\n");
			return ERR_NOT_FOUND;
		}
		f->asset = i;
	}
	f->a = a = pol_asset(f->pol, f->asset);
	if (a->gas_limit < POL_MIN_GAS_LIMIT) {
		fprintf(stderr, "jnlfill: asset %s caps gas below a transfer's "
		    "%d\n", a->name, POL_MIN_GAS_LIMIT);
		return ERR_UNSUPPORTED;
	}
	/* Amounts above a threshold need approvals or the queue. */
	cap = a->per_tx_limit;
	if (a->has_approval && u256_cmp(&a->approval_threshold, &cap) < 0)
		cap = a->approval_threshold;
	if (a->has_timelock && u256_cmp(&a->timelock_threshold, &cap) < 0)
		cap = a->timelock_threshold;
	if (u256_to_u64(&f->amount, &cap) != 0)
		f->amount = UINT64_MAX;
	if (u256_to_u64(&limit, &a->daily_limit) == 0 &&
	    limit / f->per_day < f->amount)
		f->amount = limit / f->per_day;
	/* A limit past 2^64: halving, for want of a u256 division. */
	for (; f->amount > 0; f->amount /= 2) {
		u256_from_u64(&cap, f->amount);
		if (u256_mul_u64(&day, &cap, f->per_day) == 0 &&
		    u256_cmp(&day, &a->daily_limit) <= 0)
			break;
	}
	if (f->amount == 0) {
		fprintf(stderr, "jnlfill: asset %s: %llu payouts a day without "
		    "approvals do not fit its limits\n", a->name,
		    (unsigned long long)f->per_day);
		return ERR_UNSUPPORTED;
	}
	return 0;
}

/* The test key: fixed, so every run writes the same "from". */
static int
make_key(struct filler *f)
{
	static const char seed[] = "jnlfill test-only secp256k1 key";
	secp256k1_pubkey pub;
	uint8_t buf[sizeof(seed) + 1], pk[65];
	size_t len = sizeof(pk);
	unsigned i;

	if ((f->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE)) ==
	    NULL)
		return ERR_NOMEM;
	memcpy(buf, seed, sizeof(seed));
	for (i = 0; i < 256; i++) {
		buf[sizeof(seed)] = (uint8_t)i;
		evm_keccak256(f->seckey, buf, sizeof(buf));
		if (secp256k1_ec_seckey_verify(f->ctx, f->seckey))
			break;
	}
	if (i == 256 || !secp256k1_ec_pubkey_create(f->ctx, &pub, f->seckey) ||
	    !secp256k1_ec_pubkey_serialize(f->ctx, pk, &len, &pub,
	    SECP256K1_EC_UNCOMPRESSED) || evm_addr_from_pubkey(f->from, pk) != 0)
		return ERR_INTERNAL;
	evm_addr_to_str(f->from_str, f->from);
	return 0;
}

/*
 * What the verifier recomputes as "content": signerd's own function, on
 * the request a client would have sent (from: the test key's address;
 * created that day, as a client that sends it at once would date it).
 */
static int
content_hash(uint8_t out[32], const char *asset, uint64_t chain_id,
    const uint8_t from[EVM_ADDR_LEN], uint32_t created_day,
    const uint8_t to[EVM_ADDR_LEN], const u256 *amount, const uint8_t *tx,
    size_t tx_len)
{
	struct prt_sign_req *req;
	int r;

	if (tx_len > sizeof(req->tx) || (req = calloc(1, sizeof(*req))) ==
	    NULL)
		return ERR_NOMEM;
	snprintf(req->asset, sizeof(req->asset), "%s", asset);
	req->chain_id = chain_id;
	memcpy(req->from, from, EVM_ADDR_LEN);
	req->created_day = created_day;
	memcpy(req->to, to, EVM_ADDR_LEN);
	req->amount = *amount;
	memcpy(req->tx, tx, tx_len);
	req->tx_len = tx_len;
	r = sd_payout_content(out, req);
	free(req);
	return r;
}

/* Record j's time: per_day records spread over each UTC day from t0 on. */
static int64_t
time_of(const struct filler *f, uint64_t j)
{
	int64_t day0 = pol_utc_day(f->t0), k = (int64_t)(j / f->per_day);
	int64_t base = k == 0 ? f->t0 : (day0 + k) * 86400;
	int64_t span = (day0 + k + 1) * 86400 - base;

	return base + (int64_t)((j % f->per_day) * (uint64_t)span / f->per_day);
}

/* Record j's recipient: the allowlist's, or one of RECIPIENTS made up. */
static void
recipient_of(const struct filler *f, uint64_t j, uint8_t to[EVM_ADDR_LEN])
{
	char seed[48];
	uint8_t h[32];

	if (f->a->has_allowlist) {
		memcpy(to, f->a->allowlist[j % f->a->allowlist_len],
		    EVM_ADDR_LEN);
		return;
	}
	snprintf(seed, sizeof(seed), "jnlfill recipient %llu",
	    (unsigned long long)(j % RECIPIENTS));
	evm_keccak256(h, seed, strlen(seed));
	memcpy(to, h + 12, EVM_ADDR_LEN);
}

/*
 * The j-th signed record (nonce j, journal seq seq): the transaction, its
 * signature, and the fields of signerd's build_signed() (signerd/sign.c).
 * The policy's own intent derivation and rules check it first, with the
 * day's exposure, so a record the verifier would refuse is never written.
 */
static int
signed_record(struct filler *f, json_t **out, uint64_t j, uint64_t seq)
{
	const struct pol_asset *a = f->a;
	secp256k1_ecdsa_recoverable_signature sig;
	struct pol_intent in;
	struct pol_stated st;
	struct prt_writer w;
	struct evm_tx tx;
	enum pol_reason why;
	uint8_t content[32], digest[32], rs[64], tx_hash[32];
	uint8_t raw[EVM_TX_MAX_ENCODED];
	char id[32], addr[EVM_ADDR_STR];
	size_t raw_len;
	int64_t t = time_of(f, j), day = pol_utc_day(t);
	u256 after;
	json_t *o = NULL;
	int recid, r;

	*out = NULL;
	/* Protocol 4 dates a request by a u32 day from 1 on ("created"). */
	if (day < 1 || day > (int64_t)UINT32_MAX) {
		fprintf(stderr, "jnlfill: record %llu: day %lld is no request's "
		    "created day\n", (unsigned long long)seq, (long long)day);
		return ERR_UNSUPPORTED;
	}
	if (day != f->day) {
		f->day = day;
		u256_from_u64(&f->exposure, 0);
	}
	memset(&tx, 0, sizeof(tx));
	tx.chain_id = a->chain_id;
	tx.nonce = j;
	tx.max_fee_per_gas = a->max_fee_per_gas;
	tx.max_priority_fee_per_gas = u256_cmp(&a->max_priority_fee_per_gas,
	    &a->max_fee_per_gas) <= 0 ? a->max_priority_fee_per_gas :
	    a->max_fee_per_gas;
	tx.gas_limit = POL_MIN_GAS_LIMIT;
	tx.has_to = 1;
	recipient_of(f, j, tx.to);
	u256_from_u64(&tx.value, f->amount > AMOUNT_SPREAD ?
	    f->amount - j % AMOUNT_SPREAD : f->amount);

	memset(&st, 0, sizeof(st));
	snprintf(st.asset, sizeof(st.asset), "%s", a->name);
	st.chain_id = a->chain_id;
	memcpy(st.to, tx.to, EVM_ADDR_LEN);
	st.amount = tx.value;
	if (pol_derive_intent(&in, &why, f->pol, &tx) != 0 || why != POL_OK ||
	    in.asset != f->asset ||
	    (why = pol_check_sign(f->pol, 0, &in, &st, &f->exposure,
	    &after)) != POL_OK ||
	    pol_needs_approval(f->pol, &in) || pol_needs_timelock(f->pol, &in)) {
		fprintf(stderr, "jnlfill: record %llu would be refused: %s\n",
		    (unsigned long long)seq, why != POL_OK ?
		    pol_reason_name(why) : "needs approvals or the queue");
		return ERR_UNSUPPORTED;
	}

	/* The request signerd got: the unsigned transaction. */
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	if ((r = evm_tx_encode(&w, &tx)) == 0)
		r = content_hash(content, a->name, a->chain_id, f->from,
		    (uint32_t)day, tx.to, &tx.value, w.p, w.len);
	prt_writer_free(&w);
	if (r != 0 || (r = evm_tx_signing_hash(digest, &tx)) != 0)
		return r;
	/* RFC 6979 nonces; libsecp256k1 signs low-S (EIP-2). */
	if (!secp256k1_ecdsa_sign_recoverable(f->ctx, &sig, digest, f->seckey,
	    NULL, NULL) ||
	    !secp256k1_ecdsa_recoverable_signature_serialize_compact(f->ctx,
	    rs, &recid, &sig) || recid < 0 || recid > 1)
		return ERR_INTERNAL;
	memcpy(tx.r, rs, 32);
	memcpy(tx.s, rs + 32, 32);
	tx.y_parity = (uint8_t)recid;
	tx.is_signed = 1;
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	if ((r = evm_tx_encode(&w, &tx)) == 0) {
		evm_keccak256(tx_hash, w.p, w.len);
		memcpy(raw, w.p, w.len);
		raw_len = w.len;
	}
	prt_writer_free(&w);
	if (r != 0)
		return r;

	snprintf(id, sizeof(id), "fill-%llu", (unsigned long long)seq);
	r = ERR_NOMEM;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "type", json_string("signed")) != 0 ||
	    json_object_set_new(o, "policy", json_string(f->policy_hex)) != 0 ||
	    json_object_set_new(o, "request_id", json_string(id)) != 0 ||
	    json_object_set_new(o, "asset", json_string(a->name)) != 0 ||
	    sd_json_set_u64(o, "chain_id", a->chain_id) != 0 ||
	    json_object_set_new(o, "key", json_string(a->key)) != 0 ||
	    sd_json_set_u64(o, "nonce", j) != 0 ||
	    json_object_set_new(o, "day", json_integer(day)) != 0 ||
	    json_object_set_new(o, "created", json_integer(day)) != 0 ||
	    sd_json_set_u256(o, "amount", &tx.value) != 0 ||
	    sd_json_set_u256(o, "exposure", &after) != 0 ||
	    sd_json_set_u256(o, "max_fee_per_gas", &tx.max_fee_per_gas) != 0 ||
	    sd_json_set_u256(o, "max_priority_fee_per_gas",
	    &tx.max_priority_fee_per_gas) != 0 ||
	    sd_json_set_u64(o, "gas_limit", tx.gas_limit) != 0 ||
	    sd_json_set_hex(o, "content", content, 32, 0) != 0 ||
	    sd_json_set_hex(o, "tx_hash", tx_hash, 32, 1) != 0 ||
	    sd_json_set_hex(o, "raw", raw, raw_len, 1) != 0 ||
	    json_object_set_new(o, "from", json_string(f->from_str)) != 0)
		goto out;
	evm_addr_to_str(addr, tx.to);
	if (json_object_set_new(o, "to", json_string(addr)) != 0 ||
	    (r = sd_json_set_time(o, t)) != 0)
		goto out;
	f->exposure = after;
	*out = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	return r;
}

/* Writes w's bytes as segment number seg of dir, and empties w. */
static int
flush_segment(struct prt_writer *w, const char *dir, unsigned seg)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" JNL_SEG_NAME_FMT, dir, seg);
	if ((f = fopen(path, "wx")) == NULL ||
	    fwrite(w->p, 1, w->len, f) != w->len) {
		if (f != NULL)
			fclose(f);
		fprintf(stderr, "jnlfill: cannot write %s\n", path);
		return ERR_IO;
	}
	if (fclose(f) != 0)
		return ERR_IO;
	prt_writer_free(w);
	prt_writer_init(w, JNL_SEGMENT_MAX_DEFAULT + JNL_LINE_MAX);
	return 0;
}

static int
fill(struct filler *f, const char *to, const json_t *genesis, uint64_t n)
{
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	char *text = NULL;
	unsigned seg = 1;
	size_t len;
	uint64_t seq;
	json_t *rec = NULL;
	int r;

	if ((r = jnl_hasher_init(&h)) != 0)
		return r;
	prt_writer_init(&w, JNL_SEGMENT_MAX_DEFAULT + JNL_LINE_MAX);
	for (seq = 1; seq <= n; seq++) {
		if (seq > 1 && (r = signed_record(f, &rec, seq - 2, seq)) != 0)
			goto out;
		/* jnl_fmt_body is the writer's own serialisation, so the
		 * lines are byte for byte what jnl_append would write. */
		if ((r = jnl_fmt_body(&text, &len, seq == 1 ? genesis : rec,
		    0)) != 0 ||
		    (r = jnl_fmt_line(&w, hash, &h, seq, prev, text, len)) != 0)
			goto out;
		free(text);
		text = NULL;
		json_decref(rec);
		rec = NULL;
		memcpy(prev, hash, 32);
		/* Segments never split a line and stay under the default
		 * limit, as rotation in writer.c keeps them. */
		if ((w.len + JNL_LINE_MAX > JNL_SEGMENT_MAX_DEFAULT || seq == n) &&
		    (r = flush_segment(&w, to, seg++)) != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(rec);
	free(text);
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	return r;
}

/* A decimal in [min, max], or fail. */
static int
number(unsigned long long *out, const char *s, unsigned long long min,
    unsigned long long max)
{
	char *end;

	*out = strtoull(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && *out >= min &&
	    *out <= max ? 0 : -1;
}

int
main(int argc, char **argv)
{
	enum { O_FROM = 256, O_POLICY, O_START, O_TO, O_RECORDS, O_ASSET,
	    O_PER_DAY, O_HELP };
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, O_FROM },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "start", required_argument, NULL, O_START },
		{ "to", required_argument, NULL, O_TO },
		{ "records", required_argument, NULL, O_RECORDS },
		{ "asset", required_argument, NULL, O_ASSET },
		{ "per-day", required_argument, NULL, O_PER_DAY },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct filler f;
	const char *from = NULL, *policy = NULL, *to = NULL, *asset = NULL;
	json_t *genesis = NULL;
	unsigned long long n = 0, start = START_DEFAULT, per_day = PER_DAY_DEFAULT;
	int c, r, bad = 0, has_start = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_FROM: from = optarg; break;
		case O_POLICY: policy = optarg; break;
		case O_TO: to = optarg; break;
		case O_ASSET: asset = optarg; break;
		/* Bounds, so a typo cannot fill the disk or pass 2^40 s. */
		case O_RECORDS: bad |= number(&n, optarg, 2, 10000000); break;
		case O_START:
			bad |= number(&start, optarg, 0, 1ull << 36);
			has_start = 1;
			break;
		case O_PER_DAY:
			bad |= number(&per_day, optarg, 1, 10000000);
			break;
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (bad || (from == NULL) == (policy == NULL) ||
	    (from != NULL && has_start) || to == NULL || n < 2 ||
	    optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("jnlfill", LOG_LEVEL_WARN);
	memset(&f, 0, sizeof(f));
	f.per_day = per_day;
	f.day = -1;
	r = from != NULL ? read_genesis(&genesis, from) :
	    make_genesis(&genesis, policy, (int64_t)start);
	if (r != 0 || (r = load_policy(&f, genesis, asset)) != 0)
		goto out;
	if ((r = make_key(&f)) != 0) {
		fprintf(stderr, "jnlfill: the test key: %s\n", err_str(r));
		goto out;
	}
	if ((r = fill(&f, to, genesis, n)) != 0) {
		fprintf(stderr, "jnlfill: %s: %s\n", to, err_str(r));
		goto out;
	}
	printf("jnlfill: %llu records in %s: key %s address %s, asset %s, "
	    "days %lld..%lld\n", n, to, f.a->key, f.from_str, f.a->name,
	    (long long)pol_utc_day(f.t0),
	    (long long)pol_utc_day(time_of(&f, n - 2)));
out:
	util_wipe(f.seckey, sizeof(f.seckey));
	if (f.ctx != NULL)
		secp256k1_context_destroy(f.ctx);
	pol_free(f.pol);
	json_decref(genesis);
	return r == 0 ? 0 : 1;
}
