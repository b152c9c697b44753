/*
 * test_tx.c: EIP-1559 transactions against published signed vectors (hash
 * and sender), canonical round trips, and every malformed field refused
 * with its own error code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/addr.h"
#include "evm/ecsig.h"
#include "evm/keccak.h"
#include "evm/rlp.h"
#include "evm/tx.h"

#define BUF_MAX 8192

/*
 * ethereumjs-monorepo packages/tx/test/json/eip1559.json, first case (the
 * file wraps it in an RLP string; this is the inner typed transaction).
 * Its hash is from MEW wallet kit's EIP1559Tests, which uses the same
 * vector; the key is Hyperledger Besu's documented dev account.
 */
static const char vec1_hex[] =
    "02f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000"
    "000000aaaa8402933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e9"
    "1e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701"
    "dcaaf484cd079e";
static const char vec1_hash[] =
    "a3bf78ff247cad934aa5fb13e05f11e59c93511523ff8a622e59c3a34700e5c8";
static const char vec1_key[] =
    "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63";
static const char vec1_sender[] = "0xFE3B557E8Fb62b89F4916B721be55cEb828dBd73";

/* MEW wallet kit EIP1559Tests "test real transaction": chain 123, y parity 1. */
static const char vec2_hex[] =
    "02f86a7b8007078252089461fac28c810253ea3a42ebbb1a5cf8687765e4ee8801634578"
    "5d8a000080c001a01f75fb4ae321bb55c0e7569d940ce133e775fb4494500ac6de9aeb16"
    "f45f20d1a05bf9b98c50422e3ada79a6920b1007bc36a1c36d178dbc1b44dfbd97fc56cf"
    "13";
static const char vec2_hash[] =
    "be76a9ae424fe7a42da7db0f42db0ced82929710d9c19cfdaa7e18c634e6ae54";
static const char vec2_key[] =
    "e3046226c9d5f6b7fda49b00123fe96ab2fac359315f27169b5c984059b3540f";

/* The same source, "with access list": one entry with one storage key. */
static const char vec3_hex[] =
    "02f8a37b0107078262d49461fac28c810253ea3a42ebbb1a5cf8687765e4ee8801634578"
    "5d8a000080f838f79461fac28c810253ea3a42ebbb1a5cf8687765e4eee1a00000000000"
    "00000000000000000000000000000000000000000000000000000001a0f76cef537ee6b5"
    "a2143e4ed62debc41c19e996365ceb8b7a9ec7d7db8f83c001a01fbe06e8a4e052015af1"
    "3b985047925b9f97bf145c7e7adb96f051af7c2551f0";
static const char vec3_hash[] =
    "c30b28761a4344c27f7ef7f5e3572c941111d32602a3c75e924f02fd6942bc04";

static secp256k1_context *ctx;
static struct evm_tx tx;	/* 4 KiB: keep it off the stack */

static int
setup(void **state)
{
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	return ctx == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	secp256k1_context_destroy(ctx);
	return 0;
}

static size_t
unhex(uint8_t *out, size_t cap, const char *h)
{
	size_t n;

	assert_int_equal(util_hex_decode_var(out, cap, &n, h), 0);
	return n;
}

static void
assert_dec(const u256 *v, const char *want)
{
	char buf[U256_DEC_MAX];

	u256_to_dec(buf, sizeof(buf), v);
	assert_string_equal(buf, want);
}

static void
assert_tx_zero(const struct evm_tx *t)
{
	static const struct evm_tx zero;

	assert_memory_equal(t, &zero, sizeof(zero));
}

/* Re-encodes tx and requires the original bytes back. */
static void
assert_round_trip(const struct evm_tx *t, const uint8_t *in, size_t len)
{
	struct prt_writer w;

	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	assert_int_equal(evm_tx_encode(&w, t), 0);
	assert_int_equal(w.len, len);
	assert_memory_equal(w.p, in, len);
	prt_writer_free(&w);
}

/* The sender from the signature over the signing hash, as a node finds it. */
static void
recover_sender(char out[EVM_ADDR_STR], uint8_t pub[65], const struct evm_tx *t)
{
	secp256k1_ecdsa_recoverable_signature sig;
	secp256k1_pubkey pk;
	uint8_t digest[32], rs[64], addr[EVM_ADDR_LEN];
	size_t len = 65;

	assert_int_equal(evm_tx_signing_hash(digest, t), 0);
	memcpy(rs, t->r, 32);
	memcpy(rs + 32, t->s, 32);
	assert_int_equal(secp256k1_ecdsa_recoverable_signature_parse_compact(ctx,
	    &sig, rs, t->y_parity), 1);
	assert_int_equal(secp256k1_ecdsa_recover(ctx, &pk, &sig, digest), 1);
	assert_int_equal(secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
	assert_int_equal(evm_addr_from_pubkey(addr, pub), 0);
	evm_addr_to_str(out, addr);
}

/*
 * Signs our signing hash with the vector's key (RFC 6979, as the vector's
 * author did) and requires the published signature: this pins the signing
 * hash itself, not only the encoding.  Then runs the HSM path on it.
 */
static void
check_signature(const struct evm_tx *t, const char *key_hex,
    const char *sender)
{
	secp256k1_ecdsa_recoverable_signature sig;
	secp256k1_pubkey pk;
	uint8_t priv[32], digest[32], rs[64], pub[65], rpub[65], r[32], s[32], y;
	char addr[EVM_ADDR_STR];
	size_t len = 65;
	int recid;

	recover_sender(addr, rpub, t);
	assert_string_equal(addr, sender);

	assert_int_equal(util_hex_decode(priv, 32, key_hex), 0);
	assert_int_equal(secp256k1_ec_pubkey_create(ctx, &pk, priv), 1);
	assert_int_equal(secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
	assert_memory_equal(pub, rpub, 65);

	assert_int_equal(evm_tx_signing_hash(digest, t), 0);
	assert_int_equal(secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest, priv,
	    NULL, NULL), 1);
	assert_int_equal(secp256k1_ecdsa_recoverable_signature_serialize_compact(
	    ctx, rs, &recid, &sig), 1);
	assert_memory_equal(rs, t->r, 32);
	assert_memory_equal(rs + 32, t->s, 32);
	assert_int_equal(recid, t->y_parity);

	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, pub), 0);
	assert_memory_equal(r, t->r, 32);
	assert_memory_equal(s, t->s, 32);
	assert_int_equal(y, t->y_parity);
}

static void
check_hash(const struct evm_tx *t, const uint8_t *in, size_t len,
    const char *hash_hex)
{
	uint8_t want[32], got[32];

	assert_int_equal(util_hex_decode(want, 32, hash_hex), 0);
	evm_keccak256(got, in, len);
	assert_memory_equal(got, want, 32);
	assert_int_equal(evm_tx_hash(got, t), 0);
	assert_memory_equal(got, want, 32);
}

static void
test_vector_ethereumjs(void **state)
{
	static uint8_t in[BUF_MAX];
	size_t n = unhex(in, sizeof(in), vec1_hex);
	uint8_t to[EVM_ADDR_LEN];

	assert_int_equal(evm_tx_decode(&tx, in, n), 0);
	assert_true(tx.chain_id == 7822);
	assert_true(tx.nonce == 819);
	assert_dec(&tx.max_priority_fee_per_gas, "75853");
	assert_dec(&tx.max_fee_per_gas, "121212");
	assert_true(tx.gas_limit == 35552);
	assert_int_equal(tx.has_to, 1);
	assert_int_equal(util_hex_decode(to, sizeof(to),
	    "0x000000000000000000000000000000000000aaaa"), 0);
	assert_memory_equal(tx.to, to, sizeof(to));
	assert_dec(&tx.value, "43203529");
	assert_int_equal(tx.data_len, 0);
	assert_int_equal(tx.access_list_items, 0);
	assert_int_equal(tx.is_signed, 1);
	assert_int_equal(tx.y_parity, 0);

	assert_round_trip(&tx, in, n);
	check_hash(&tx, in, n, vec1_hash);
	check_signature(&tx, vec1_key, vec1_sender);
}

static void
test_vector_mew(void **state)
{
	static uint8_t in[BUF_MAX];
	size_t n = unhex(in, sizeof(in), vec2_hex);
	char sender[EVM_ADDR_STR];

	assert_int_equal(evm_tx_decode(&tx, in, n), 0);
	assert_true(tx.chain_id == 123);
	assert_true(tx.nonce == 0);
	assert_dec(&tx.max_priority_fee_per_gas, "7");
	assert_dec(&tx.max_fee_per_gas, "7");
	assert_true(tx.gas_limit == 21000);
	assert_dec(&tx.value, "100000000000000000");
	assert_int_equal(tx.y_parity, 1);

	assert_round_trip(&tx, in, n);
	check_hash(&tx, in, n, vec2_hash);
	/* The vector sends to its own sender. */
	evm_addr_to_str(sender, tx.to);
	check_signature(&tx, vec2_key, sender);
}

static void
test_vector_access_list(void **state)
{
	static uint8_t in[BUF_MAX];
	struct prt_writer w;
	size_t n = unhex(in, sizeof(in), vec3_hex);
	uint8_t want[32], got[32];

	assert_int_equal(evm_tx_decode(&tx, in, n), 0);
	assert_int_equal(tx.access_list_items, 1);
	assert_true(tx.nonce == 1);
	assert_true(tx.gas_limit == 25300);
	assert_int_equal(tx.y_parity, 1);
	assert_int_equal(tx.is_signed, 1);
	assert_int_equal(util_hex_decode(want, 32, vec3_hash), 0);
	evm_keccak256(got, in, n);
	assert_memory_equal(got, want, 32);

	/* Decoded so policy can see it, but never encoded (nor so signed). */
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	assert_int_equal(evm_tx_encode(&w, &tx), ERR_UNSUPPORTED);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
	assert_int_equal(evm_tx_hash(got, &tx), ERR_UNSUPPORTED);
	assert_int_equal(evm_tx_signing_hash(got, &tx), ERR_UNSUPPORTED);
}

#define ADDR35 "3535353535353535353535353535353535353535"
#define R32 "1111111111111111111111111111111111111111111111111111111111111111"
#define S32 "2222222222222222222222222222222222222222222222222222222222222222"

/* A valid signed transaction, field by field, as raw RLP items. */
static const char *const base[12] = {
	"01", "80", "01", "02", "825208", "94" ADDR35, "80", "80", "c0",
	"01", "a0" R32, "a0" S32,
};

/* 0x02 || rlp([items...]) from raw item hex. */
static size_t
build(uint8_t *out, size_t cap, const char *const *items, size_t n)
{
	static uint8_t item[BUF_MAX];
	struct prt_writer w;
	size_t i, len;

	prt_writer_init(&w, cap);
	prt_put_u8(&w, EVM_TX_TYPE_1559);
	for (i = 0; i < n; i++) {
		len = unhex(item, sizeof(item), items[i]);
		prt_put_bytes(&w, item, len);
	}
	rlp_close_list(&w, 1);
	assert_int_equal(prt_writer_error(&w), 0);
	len = w.len;
	memcpy(out, w.p, len);
	prt_writer_free(&w);
	return len;
}

/* Decodes base with field i replaced (NULL: the first n fields as they are). */
static int
decode_with(size_t i, const char *field, size_t n)
{
	static uint8_t in[BUF_MAX];
	const char *items[13];
	size_t len;
	int ret;

	memcpy(items, base, sizeof(base));
	if (field != NULL)
		items[i] = field;
	len = build(in, sizeof(in), items, n);
	memset(&tx, 0xee, sizeof(tx));
	ret = evm_tx_decode(&tx, in, len);
	if (ret != 0)
		assert_tx_zero(&tx);
	return ret;
}

static void
test_base_is_valid(void **state)
{
	static uint8_t in[BUF_MAX];
	size_t n = build(in, sizeof(in), base, 12);

	assert_int_equal(decode_with(0, NULL, 12), 0);
	assert_int_equal(tx.r[0], 0x11);
	assert_int_equal(tx.s[31], 0x22);
	assert_round_trip(&tx, in, n);
	/* The unsigned nine fields are a valid transaction of their own. */
	assert_int_equal(decode_with(0, NULL, 9), 0);
	assert_int_equal(tx.is_signed, 0);
	n = build(in, sizeof(in), base, 9);
	assert_round_trip(&tx, in, n);
}

static void
test_bad_integers(void **state)
{
	assert_int_equal(decode_with(1, "00", 12), ERR_NONCANONICAL);
	assert_int_equal(decode_with(0, "89010000000000000000", 12), ERR_OVERFLOW);
	assert_int_equal(decode_with(2,
	    "a1010000000000000000000000000000000000000000000000000000000000000000", 12),
	    ERR_OVERFLOW);
	assert_int_equal(decode_with(3, "820001", 12), ERR_NONCANONICAL);
	assert_int_equal(decode_with(4, "8105", 12), ERR_NONCANONICAL);
	assert_int_equal(decode_with(6,
	    "a100ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 12),
	    ERR_NONCANONICAL);
	/* A list where an integer belongs. */
	assert_int_equal(decode_with(1, "c0", 12), ERR_MALFORMED);
}

static void
test_bad_to(void **state)
{
	assert_int_equal(decode_with(5, "93" "35353535353535353535353535353535353535", 12),
	    ERR_MALFORMED);
	assert_int_equal(decode_with(5, "95" ADDR35 "35", 12), ERR_MALFORMED);
	assert_int_equal(decode_with(5, "c0", 12), ERR_MALFORMED);
	/* Empty: contract creation, which decodes (policy refuses it). */
	assert_int_equal(decode_with(5, "80", 12), 0);
	assert_int_equal(tx.has_to, 0);
}

static void
test_data_limit(void **state)
{
	static uint8_t data[EVM_TX_MAX_DATA + 1];
	struct prt_writer w;
	size_t size;

	for (size = EVM_TX_MAX_DATA; size <= EVM_TX_MAX_DATA + 1; size++) {
		prt_writer_init(&w, BUF_MAX + 64);
		prt_put_u8(&w, EVM_TX_TYPE_1559);
		rlp_put_u64(&w, 1);
		rlp_put_u64(&w, 0);
		rlp_put_u64(&w, 1);
		rlp_put_u64(&w, 2);
		rlp_put_u64(&w, 21000);
		rlp_put_bytes(&w, data, 20);
		rlp_put_u64(&w, 0);
		rlp_put_bytes(&w, data, size);
		rlp_close_list(&w, w.len);
		rlp_close_list(&w, 1);
		assert_int_equal(prt_writer_error(&w), 0);
		if (size == EVM_TX_MAX_DATA) {
			assert_int_equal(evm_tx_decode(&tx, w.p, w.len), 0);
			assert_int_equal(tx.data_len, EVM_TX_MAX_DATA);
			assert_round_trip(&tx, w.p, w.len);
		} else {
			assert_int_equal(evm_tx_decode(&tx, w.p, w.len), ERR_TOO_LARGE);
			assert_tx_zero(&tx);
		}
		prt_writer_free(&w);
	}
}

static void
test_access_lists(void **state)
{
	/* Two entries, the second with two storage keys. */
	assert_int_equal(decode_with(8,
	    "f872"
	    "d694" ADDR35 "c0"
	    "f85994" ADDR35
	    "f842a0" R32 "a0" S32, 12), 0);
	assert_int_equal(tx.access_list_items, 2);
	/* Not a list at all. */
	assert_int_equal(decode_with(8, "80", 12), ERR_MALFORMED);
	/* A 19-byte address. */
	assert_int_equal(decode_with(8,
	    "d6d593" "35353535353535353535353535353535353535" "c0", 12),
	    ERR_MALFORMED);
	/* A 31-byte storage key. */
	assert_int_equal(decode_with(8,
	    "f7f694" ADDR35 "e09f"
	    "11111111111111111111111111111111111111111111111111111111111111", 12),
	    ERR_MALFORMED);
	/* An entry with a third item. */
	assert_int_equal(decode_with(8, "d8d794" ADDR35 "c080", 12), ERR_TRAILING);
	/* An entry without its key list. */
	assert_int_equal(decode_with(8, "d6d594" ADDR35, 12), ERR_TRUNCATED);
	/* Keys given as a string rather than a list. */
	assert_int_equal(decode_with(8, "d7d694" ADDR35 "80", 12), ERR_MALFORMED);
}

static void
test_bad_signature_fields(void **state)
{
	assert_int_equal(decode_with(9, "02", 12), ERR_MALFORMED);
	assert_int_equal(decode_with(9, "1b", 12), ERR_MALFORMED);
	assert_int_equal(decode_with(9, "00", 12), ERR_NONCANONICAL);
	assert_int_equal(decode_with(10, "a100" R32, 12), ERR_NONCANONICAL);
	assert_int_equal(decode_with(10, "a111" R32, 12), ERR_OVERFLOW);
	assert_int_equal(decode_with(11,
	    "a00011111111111111111111111111111111111111111111111111111111111111", 12),
	    ERR_NONCANONICAL);
	/* A short r is a smaller number, left-padded. */
	assert_int_equal(decode_with(10,
	    "9f11111111111111111111111111111111111111111111111111111111111111", 12), 0);
	assert_int_equal(tx.r[0], 0);
	assert_int_equal(tx.r[1], 0x11);
	assert_int_equal(tx.r[31], 0x11);
}

static void
test_field_count(void **state)
{
	const char *items[13];
	static uint8_t in[BUF_MAX];
	size_t n;

	assert_int_equal(decode_with(0, NULL, 8), ERR_TRUNCATED);
	assert_int_equal(decode_with(0, NULL, 10), ERR_TRUNCATED);
	assert_int_equal(decode_with(0, NULL, 11), ERR_TRUNCATED);
	memcpy(items, base, sizeof(base));
	items[12] = "80";
	n = build(in, sizeof(in), items, 13);
	memset(&tx, 0xee, sizeof(tx));
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_TRAILING);
	assert_tx_zero(&tx);
}

static void
test_envelope(void **state)
{
	static uint8_t in[BUF_MAX];
	size_t n = build(in, sizeof(in), base, 12);

	/* A byte after the list. */
	in[n] = 0x00;
	assert_int_equal(evm_tx_decode(&tx, in, n + 1), ERR_TRAILING);
	/* Cut short anywhere. */
	assert_int_equal(evm_tx_decode(&tx, in, n - 1), ERR_TRUNCATED);
	assert_int_equal(evm_tx_decode(&tx, in, 1), ERR_TRUNCATED);
	assert_int_equal(evm_tx_decode(&tx, in, 0), ERR_TRUNCATED);
	assert_int_equal(evm_tx_decode(&tx, NULL, 0), ERR_TRUNCATED);
	/* Other transaction types, and legacy (an RLP list first). */
	in[0] = 0x01;
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_UNSUPPORTED);
	in[0] = 0x03;
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_UNSUPPORTED);
	n = unhex(in, sizeof(in),
	    "f86c098504a817c800825208943535353535353535353535353535353535353535880d"
	    "e0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1"
	    "590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1"
	    "966a3b6d83");
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_UNSUPPORTED);
	/* The payload must be a list, in its short form when it fits. */
	n = unhex(in, sizeof(in), "0283010203");
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_MALFORMED);
	n = unhex(in, sizeof(in), "02f80d0180010282520894" ADDR35);
	assert_int_equal(evm_tx_decode(&tx, in, n), ERR_NONCANONICAL);
	assert_tx_zero(&tx);
}

static void
test_encoder(void **state)
{
	static struct evm_tx t, back;
	struct prt_writer w;
	uint8_t h1[32], h2[32];

	memset(&t, 0, sizeof(t));
	t.chain_id = 1;
	t.nonce = 5;
	u256_from_u64(&t.max_priority_fee_per_gas, 1000000000);
	u256_from_u64(&t.max_fee_per_gas, 30000000000ull);
	t.gas_limit = 65000;
	t.has_to = 1;
	memset(t.to, 0x35, sizeof(t.to));
	t.data_len = 3;
	memcpy(t.data, "\x01\x02\x03", 3);

	/* Unsigned: decodes back to the same transaction. */
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	assert_int_equal(evm_tx_encode(&w, &t), 0);
	assert_int_equal(evm_tx_decode(&back, w.p, w.len), 0);
	assert_memory_equal(&back, &t, sizeof(t));
	evm_keccak256(h1, w.p, w.len);
	assert_int_equal(evm_tx_signing_hash(h2, &t), 0);
	assert_memory_equal(h1, h2, 32);
	prt_writer_free(&w);
	assert_int_equal(evm_tx_hash(h2, &t), ERR_INVALID_ARG);

	/* Signing leaves the signing hash as it was. */
	t.is_signed = 1;
	t.y_parity = 1;
	memset(t.r, 0x11, 32);
	memset(t.s, 0x22, 32);
	assert_int_equal(evm_tx_signing_hash(h2, &t), 0);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(evm_tx_hash(h2, &t), 0);
	assert_memory_not_equal(h1, h2, 32);

	/* What the encoder refuses. */
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	t.y_parity = 2;
	assert_int_equal(evm_tx_encode(&w, &t), ERR_INVALID_ARG);
	t.y_parity = 0;
	t.data_len = EVM_TX_MAX_DATA + 1;
	assert_int_equal(evm_tx_encode(&w, &t), ERR_INVALID_ARG);
	t.data_len = 0;
	t.access_list_items = 1;
	assert_int_equal(evm_tx_encode(&w, &t), ERR_UNSUPPORTED);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);

	/* Contract creation encodes "to" as the empty string. */
	t.access_list_items = 0;
	t.has_to = 0;
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	assert_int_equal(evm_tx_encode(&w, &t), 0);
	assert_int_equal(evm_tx_decode(&back, w.p, w.len), 0);
	assert_int_equal(back.has_to, 0);
	prt_writer_free(&w);

	/* A writer too small for the transaction reports it. */
	prt_writer_init(&w, 16);
	assert_int_equal(evm_tx_encode(&w, &t), ERR_TOO_LARGE);
	prt_writer_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_ethereumjs),
		cmocka_unit_test(test_vector_mew),
		cmocka_unit_test(test_vector_access_list),
		cmocka_unit_test(test_base_is_valid),
		cmocka_unit_test(test_bad_integers),
		cmocka_unit_test(test_bad_to),
		cmocka_unit_test(test_data_limit),
		cmocka_unit_test(test_access_lists),
		cmocka_unit_test(test_bad_signature_fields),
		cmocka_unit_test(test_field_count),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_encoder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
