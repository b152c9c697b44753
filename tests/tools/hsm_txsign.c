/* hsm_txsign.c: test/demo-only tool that signs an EIP-1559 tx straight through the HSM, bypassing signerd's policy. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "evm/addr.h"
#include "evm/ecsig.h"
#include "evm/tx.h"
#include "evm/u256.h"
#include "hsm/hsm.h"
#include "proto/buf.h"

/* The secp256k1 group order n. */
static const uint8_t order[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
	0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* n/2 of secp256k1: an s above it is "high" and EIP-2 nodes refuse it. */
static const uint8_t half_order[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d,
	0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

struct opts {
	const char *module;
	const char *token;
	const char *key;
	const char *pin_file;
	const char *chain_id;
	const char *nonce;
	const char *to;
	const char *value;
	const char *max_fee;
	const char *max_priority_fee;
	const char *gas;
	const char *data;
	int verbose;
	int high_s_variant;
};

static int verbose;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hsm_txsign [--module PATH] --token URI --key URI "
	    "--pin-file FILE\n"
	    "           --chain-id N --nonce N --to 0xADDR --value WEI\n"
	    "           --max-fee WEI --max-priority-fee WEI --gas N "
	    "[--data HEX] [--verbose]\n"
	    "           [--high-s-variant]\n"
	    "Signs one EIP-1559 transaction with an HSM key and prints\n"
	    "{\"raw\":\"0x02...\",\"hash\":\"0x...\",\"from\":\"0x...\"}.\n"
	    "--high-s-variant adds \"raw_high_s\": the same signature as\n"
	    "(n - s, 1 - y_parity), valid ECDSA that EIP-2 nodes must refuse.\n"
	    "TEST/DEMO ONLY: no policy, no journal, no limits.\n");
}

/* Steps go to stderr so stdout stays one JSON object for the scripts. */
static void
step_hex(const char *what, const uint8_t *p, size_t n)
{
	char *hex;

	if (!verbose)
		return;
	if ((hex = malloc(2 * n + 1)) == NULL)
		return;
	util_hex_encode(hex, p, n);
	fprintf(stderr, "hsm_txsign: %s: 0x%s\n", what, hex);
	free(hex);
}

static void
fail(const char *what, int r)
{
	const char *p11 = hsm_last_error();

	fprintf(stderr, "hsm_txsign: %s: %s (%s)%s%s\n", what, err_str(r),
	    err_name(r), p11[0] != '\0' ? ": " : "", p11);
}

/* Decimal through u256_from_dec, so "007" and "1e3" are refused here too. */
static int
parse_u64(uint64_t *out, const char *s, const char *name)
{
	u256 v;
	int r;

	*out = 0;
	if ((r = u256_from_dec(&v, s)) != 0 || (r = u256_to_u64(out, &v)) != 0) {
		fprintf(stderr, "hsm_txsign: --%s %s: %s\n", name, s, err_str(r));
		return r;
	}
	return 0;
}

static int
parse_u256(u256 *out, const char *s, const char *name)
{
	int r;

	if ((r = u256_from_dec(out, s)) != 0)
		fprintf(stderr, "hsm_txsign: --%s %s: %s\n", name, s, err_str(r));
	return r;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	enum { O_MODULE = 256, O_TOKEN, O_KEY, O_PIN_FILE, O_CHAIN_ID, O_NONCE,
		O_TO, O_VALUE, O_MAX_FEE, O_MAX_PRIO, O_GAS, O_DATA, O_VERBOSE,
		O_HIGH_S, O_HELP };
	static const struct option longopts[] = {
		{ "module", required_argument, NULL, O_MODULE },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "key", required_argument, NULL, O_KEY },
		{ "pin-file", required_argument, NULL, O_PIN_FILE },
		{ "chain-id", required_argument, NULL, O_CHAIN_ID },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "to", required_argument, NULL, O_TO },
		{ "value", required_argument, NULL, O_VALUE },
		{ "max-fee", required_argument, NULL, O_MAX_FEE },
		{ "max-priority-fee", required_argument, NULL, O_MAX_PRIO },
		{ "gas", required_argument, NULL, O_GAS },
		{ "data", required_argument, NULL, O_DATA },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "high-s-variant", no_argument, NULL, O_HIGH_S },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_MODULE: o->module = optarg; break;
		case O_TOKEN: o->token = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_PIN_FILE: o->pin_file = optarg; break;
		case O_CHAIN_ID: o->chain_id = optarg; break;
		case O_NONCE: o->nonce = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_VALUE: o->value = optarg; break;
		case O_MAX_FEE: o->max_fee = optarg; break;
		case O_MAX_PRIO: o->max_priority_fee = optarg; break;
		case O_GAS: o->gas = optarg; break;
		case O_DATA: o->data = optarg; break;
		case O_VERBOSE: o->verbose = 1; break;
		case O_HIGH_S: o->high_s_variant = 1; break;
		case O_HELP: usage(stdout); exit(0);
		default: return ERR_INVALID_ARG;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hsm_txsign: unexpected argument %s\n",
		    argv[optind]);
		return ERR_INVALID_ARG;
	}
	if (o->token == NULL || o->key == NULL || o->pin_file == NULL ||
	    o->chain_id == NULL || o->nonce == NULL || o->to == NULL ||
	    o->value == NULL || o->max_fee == NULL ||
	    o->max_priority_fee == NULL || o->gas == NULL) {
		fprintf(stderr, "hsm_txsign: missing a required option\n");
		return ERR_INVALID_ARG;
	}
	return 0;
}

static int
build_tx(struct evm_tx *tx, const struct opts *o)
{
	int r;

	memset(tx, 0, sizeof(*tx));
	if ((r = parse_u64(&tx->chain_id, o->chain_id, "chain-id")) != 0 ||
	    (r = parse_u64(&tx->nonce, o->nonce, "nonce")) != 0 ||
	    (r = parse_u64(&tx->gas_limit, o->gas, "gas")) != 0 ||
	    (r = parse_u256(&tx->value, o->value, "value")) != 0 ||
	    (r = parse_u256(&tx->max_fee_per_gas, o->max_fee, "max-fee")) != 0 ||
	    (r = parse_u256(&tx->max_priority_fee_per_gas, o->max_priority_fee,
	    "max-priority-fee")) != 0)
		return r;
	/* Nodes hand out lowercase addresses; accept them in a test tool. */
	if ((r = evm_addr_from_str(tx->to, o->to, 1)) != 0) {
		fprintf(stderr, "hsm_txsign: --to %s: %s\n", o->to, err_str(r));
		return r;
	}
	tx->has_to = 1;
	if (o->data != NULL && (r = util_hex_decode_var(tx->data,
	    sizeof(tx->data), &tx->data_len, o->data)) != 0) {
		fprintf(stderr, "hsm_txsign: --data: %s\n", err_str(r));
		return r;
	}
	return 0;
}

/*
 * The decoder is the code signerd trusts, so the signed bytes must decode
 * back to exactly what was meant, and re-encode to the same bytes.
 */
/* out = n - s: the other s that verifies, with the other y parity. */
static void
negate_s(uint8_t out[32], const uint8_t s[32])
{
	int i, d, borrow = 0;

	for (i = 31; i >= 0; i--) {
		d = order[i] - s[i] - borrow;
		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

/*
 * Hex of the signed tx with its signature flipped to high-S, so a test can
 * show the node enforces EIP-2 (which is why evm_sig_finish normalises).
 */
static int
high_s_hex(char **out, const struct evm_tx *tx)
{
	static struct evm_tx hi;
	struct prt_writer w;
	int r;

	*out = NULL;
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	hi = *tx;
	negate_s(hi.s, tx->s);
	hi.y_parity ^= 1;
	if ((r = evm_tx_encode(&w, &hi)) != 0 ||
	    (r = prt_writer_error(&w)) != 0) {
		fail("evm_tx_encode (high-S variant)", r);
		goto out;
	}
	if ((*out = malloc(2 * w.len + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	util_hex_encode(*out, w.p, w.len);
	r = 0;
out:
	prt_writer_free(&w);
	return r;
}

static int
self_check_decode(struct evm_tx *dec, const struct evm_tx *tx,
    const struct prt_writer *raw)
{
	struct prt_writer again;
	int r;

	prt_writer_init(&again, EVM_TX_MAX_ENCODED);
	if ((r = evm_tx_decode(dec, raw->p, raw->len)) != 0) {
		fail("self-check: evm_tx_decode of the signed tx", r);
		goto out;
	}
	r = ERR_INTERNAL;
	if (dec->chain_id != tx->chain_id || dec->nonce != tx->nonce ||
	    dec->gas_limit != tx->gas_limit ||
	    u256_cmp(&dec->max_fee_per_gas, &tx->max_fee_per_gas) != 0 ||
	    u256_cmp(&dec->max_priority_fee_per_gas,
	    &tx->max_priority_fee_per_gas) != 0 ||
	    u256_cmp(&dec->value, &tx->value) != 0 ||
	    dec->has_to != 1 || memcmp(dec->to, tx->to, EVM_ADDR_LEN) != 0 ||
	    dec->data_len != tx->data_len ||
	    (tx->data_len > 0 && memcmp(dec->data, tx->data, tx->data_len)) ||
	    dec->access_list_items != 0 || dec->is_signed != 1 ||
	    dec->y_parity != tx->y_parity ||
	    memcmp(dec->r, tx->r, 32) != 0 || memcmp(dec->s, tx->s, 32) != 0) {
		fprintf(stderr, "hsm_txsign: self-check: decoded fields differ "
		    "from the signed ones\n");
		goto out;
	}
	if ((r = evm_tx_encode(&again, dec)) != 0 ||
	    (r = prt_writer_error(&again)) != 0) {
		fail("self-check: re-encode", r);
		goto out;
	}
	if (again.len != raw->len || memcmp(again.p, raw->p, raw->len) != 0) {
		fprintf(stderr, "hsm_txsign: self-check: re-encoding differs\n");
		r = ERR_NONCANONICAL;
		goto out;
	}
	r = 0;
out:
	prt_writer_free(&again);
	return r;
}

/*
 * A second opinion on evm_sig_finish straight from libsecp256k1: the
 * decoded (y_parity, r, s) over the decoded tx's signing hash must recover
 * the HSM's public key, which is what the node will do.
 */
static int
self_check_recover(const struct evm_tx *dec, const uint8_t pub[65])
{
	secp256k1_context *ctx;
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_pubkey pk;
	struct evm_tx unsigned_tx;
	uint8_t digest[32], compact[64], out[65];
	size_t outlen = sizeof(out);
	int r = ERR_BAD_SIGNATURE;

	if ((ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE)) == NULL)
		return ERR_NOMEM;
	unsigned_tx = *dec;
	unsigned_tx.is_signed = 0;
	if ((r = evm_tx_signing_hash(digest, &unsigned_tx)) != 0) {
		fail("self-check: signing hash of the decoded tx", r);
		goto out;
	}
	r = ERR_BAD_SIGNATURE;
	memcpy(compact, dec->r, 32);
	memcpy(compact + 32, dec->s, 32);
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig,
	    compact, dec->y_parity) ||
	    !secp256k1_ecdsa_recover(ctx, &pk, &rsig, digest) ||
	    !secp256k1_ec_pubkey_serialize(ctx, out, &outlen, &pk,
	    SECP256K1_EC_UNCOMPRESSED) || outlen != 65 ||
	    memcmp(out, pub, 65) != 0) {
		fprintf(stderr, "hsm_txsign: self-check: libsecp256k1 does not "
		    "recover the HSM key from the signed tx\n");
		goto out;
	}
	r = 0;
out:
	secp256k1_context_destroy(ctx);
	return r;
}

int
main(int argc, char **argv)
{
	static struct evm_tx tx, dec;
	struct opts o;
	struct hsm *h = NULL;
	struct hsm_key key;
	struct prt_writer unsig, sig;
	uint8_t digest[32], rs[64], hash[32], from[EVM_ADDR_LEN];
	char from_str[EVM_ADDR_STR], hash_hex[65], *raw_hex = NULL;
	char *high_hex = NULL;
	int r, high_s;

	prt_writer_init(&unsig, EVM_TX_MAX_ENCODED);
	prt_writer_init(&sig, EVM_TX_MAX_ENCODED);
	memset(&key, 0, sizeof(key));
	if (parse_opts(&o, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	verbose = o.verbose;
	log_init("hsm_txsign", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
	if ((r = build_tx(&tx, &o)) != 0)
		goto out;

	if ((r = evm_tx_encode(&unsig, &tx)) != 0 ||
	    (r = prt_writer_error(&unsig)) != 0) {
		fail("evm_tx_encode (unsigned)", r);
		goto out;
	}
	step_hex("unsigned tx", unsig.p, unsig.len);
	if ((r = evm_tx_signing_hash(digest, &tx)) != 0) {
		fail("evm_tx_signing_hash", r);
		goto out;
	}
	step_hex("signing hash", digest, sizeof(digest));

	if ((r = hsm_open(&h, o.module, o.token, 1)) != 0) {
		fail("hsm_open", r);
		goto out;
	}
	if ((r = hsm_login(h, o.pin_file, NULL)) != 0) {
		fail("hsm_login", r);
		goto out;
	}
	if ((r = hsm_key_find(h, &key, o.key)) != 0) {
		fail("hsm_key_find", r);
		goto out;
	}
	if (key.type != HSM_KEY_SECP256K1) {
		r = ERR_HSM_KEY_TYPE;
		fail("key is not secp256k1", r);
		goto out;
	}
	if ((r = evm_addr_from_pubkey(from, key.pub)) != 0) {
		fail("evm_addr_from_pubkey", r);
		goto out;
	}
	evm_addr_to_str(from_str, from);
	if (verbose)
		fprintf(stderr, "hsm_txsign: key %s, address %s\n", key.label,
		    from_str);

	if ((r = hsm_sign(h, rs, &key, digest)) != 0) {
		fail("hsm_sign", r);
		goto out;
	}
	step_hex("hsm r||s", rs, sizeof(rs));
	high_s = memcmp(rs + 32, half_order, 32) > 0;
	if ((r = evm_sig_finish(tx.r, tx.s, &tx.y_parity, digest, rs,
	    key.pub)) != 0) {
		fail("evm_sig_finish", r);
		goto out;
	}
	/* The scripts count these lines to see normalisation happen. */
	if (verbose)
		fprintf(stderr, "hsm_txsign: hsm s was %s; y_parity %u\n",
		    high_s ? "high (normalized to n - s)" : "low (kept)",
		    tx.y_parity);
	r = ERR_INTERNAL;
	if (memcmp(tx.r, rs, 32) != 0 || memcmp(tx.s, half_order, 32) > 0 ||
	    (!high_s && memcmp(tx.s, rs + 32, 32) != 0) ||
	    (high_s && memcmp(tx.s, rs + 32, 32) == 0) || tx.y_parity > 1) {
		fprintf(stderr, "hsm_txsign: evm_sig_finish returned an "
		    "unexpected r/s/parity\n");
		goto out;
	}
	tx.is_signed = 1;

	if ((r = evm_tx_encode(&sig, &tx)) != 0 ||
	    (r = prt_writer_error(&sig)) != 0) {
		fail("evm_tx_encode (signed)", r);
		goto out;
	}
	if (sig.len < 1 || sig.p[0] != EVM_TX_TYPE_1559) {
		r = ERR_MALFORMED;
		fail("signed tx is not type 2", r);
		goto out;
	}
	step_hex("signed raw", sig.p, sig.len);
	if ((r = evm_tx_hash(hash, &tx)) != 0) {
		fail("evm_tx_hash", r);
		goto out;
	}
	step_hex("tx hash", hash, sizeof(hash));

	if ((r = self_check_decode(&dec, &tx, &sig)) != 0 ||
	    (r = self_check_recover(&dec, key.pub)) != 0)
		goto out;
	if (verbose)
		fprintf(stderr, "hsm_txsign: self-check ok: decodes, re-encodes "
		    "identically, recovers %s\n", from_str);

	if ((raw_hex = malloc(2 * sig.len + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	util_hex_encode(raw_hex, sig.p, sig.len);
	util_hex_encode(hash_hex, hash, sizeof(hash));
	if (o.high_s_variant && (r = high_s_hex(&high_hex, &tx)) != 0)
		goto out;
	printf("{\"raw\":\"0x%s\",\"hash\":\"0x%s\",\"from\":\"%s\"",
	    raw_hex, hash_hex, from_str);
	if (high_hex != NULL)
		printf(",\"raw_high_s\":\"0x%s\"", high_hex);
	printf("}\n");
	if (fflush(stdout) != 0) {
		r = ERR_IO;
		goto out;
	}
	r = 0;
out:
	free(raw_hex);
	free(high_hex);
	prt_writer_free(&unsig);
	prt_writer_free(&sig);
	hsm_close(h);
	return r == 0 ? 0 : 1;
}
