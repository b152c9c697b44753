/* txbuild.c: a payout's unsigned EIP-1559 transaction, its gas and fees (pure). */
#include "orchestratord/txbuild.h"

#include <string.h>

#include "evm/addr.h"
#include "evm/erc20.h"
#include "evm/keccak.h"
#include "proto/buf.h"

static const u256 u256_max = { { UINT64_MAX, UINT64_MAX, UINT64_MAX,
    UINT64_MAX } };

/* q = a / d for a small divisor (d > 0). */
static void
div_small(u256 *q, const u256 *a, uint32_t d)
{
	unsigned __int128 cur, rem = 0;
	int i;

	for (i = 3; i >= 0; i--) {
		cur = rem << 64 | a->w[i];
		q->w[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
}

/*
 * a * (100 + percent) / 100, saturating at 2^256-1: every result is capped
 * by a policy cap far below that, so saturation never reaches a tx.
 */
static void
scale_percent(u256 *out, const u256 *a, unsigned percent)
{
	u256 t;

	if (u256_mul_u64(&t, a, 100u + percent) != 0) {
		*out = u256_max;
		return;
	}
	div_small(out, &t, 100);
}

static void
add_sat(u256 *out, const u256 *a, const u256 *b)
{
	if (u256_add(out, a, b) != 0)
		*out = u256_max;
}

static void
min_into(u256 *v, const u256 *cap)
{
	if (u256_cmp(v, cap) > 0)
		*v = *cap;
}

int
txb_build(struct evm_tx *tx, const struct pol_asset *a,
    const struct payout *p, uint64_t nonce, uint64_t gas_limit,
    const u256 *max_fee, const u256 *prio_fee)
{
	memset(tx, 0, sizeof(*tx));
	if (strcmp(a->name, p->asset) != 0 || a->chain_id != p->chain_id)
		return ERR_INVALID_ARG;
	tx->chain_id = a->chain_id;
	tx->nonce = nonce;
	tx->max_fee_per_gas = *max_fee;
	tx->max_priority_fee_per_gas = *prio_fee;
	tx->gas_limit = gas_limit;
	tx->has_to = 1;
	if (a->kind == POL_KIND_ERC20) {
		/* The token moves; the transaction carries no ether. */
		memcpy(tx->to, a->contract, EVM_ADDR_LEN);
		erc20_transfer_encode(tx->data, p->recipient, &p->amount);
		tx->data_len = ERC20_TRANSFER_LEN;
	} else {
		memcpy(tx->to, p->recipient, EVM_ADDR_LEN);
		tx->value = p->amount;
	}
	return 0;
}

int
txb_encode(uint8_t *out, size_t cap, size_t *len, const struct evm_tx *tx)
{
	struct prt_writer w;
	int r;

	*len = 0;
	prt_writer_init(&w, cap);
	if ((r = evm_tx_encode(&w, tx)) == 0 &&
	    (r = prt_writer_error(&w)) == 0) {
		memcpy(out, w.p, w.len);
		*len = w.len;
	}
	prt_writer_free(&w);
	return r;
}

int
txb_gas_limit(uint64_t *out, uint64_t estimate, int margin_percent,
    uint64_t cap)
{
	unsigned __int128 g;

	*out = 0;
	if (margin_percent < 0)
		return ERR_INVALID_ARG;
	if (estimate < POL_MIN_GAS_LIMIT)
		return ERR_MALFORMED;
	if (estimate > cap)
		return ERR_TOO_LARGE;
	g = (unsigned __int128)estimate * (100u + (unsigned)margin_percent) /
	    100u;
	*out = g > cap ? cap : (uint64_t)g;
	return 0;
}

void
txb_fees(u256 *max_fee, u256 *prio_fee, const u256 *base_fee,
    const u256 *suggested_prio, const struct pol_asset *a)
{
	u256 twice;

	*prio_fee = *suggested_prio;
	min_into(prio_fee, &a->max_priority_fee_per_gas);
	add_sat(&twice, base_fee, base_fee);
	add_sat(max_fee, &twice, prio_fee);
	min_into(max_fee, &a->max_fee_per_gas);
	/* A node refuses priority above max; the policy keeps prio cap <= max cap. */
	if (u256_cmp(max_fee, prio_fee) < 0)
		*max_fee = *prio_fee;
}

/* prev * (100 + percent) / 100, at least prev + 1 (saturating). */
static void
bump_one(u256 *out, const u256 *prev, unsigned percent)
{
	u256 one, plus1;

	scale_percent(out, prev, percent);
	u256_from_u64(&one, 1);
	add_sat(&plus1, prev, &one);
	if (u256_cmp(out, &plus1) < 0)
		*out = plus1;
}

int
txb_bump(u256 *max_fee, u256 *prio_fee, const u256 *prev_max,
    const u256 *prev_prio, int bump_percent, const struct pol_asset *a)
{
	u256 m, p;

	*max_fee = *prev_max;
	*prio_fee = *prev_prio;
	if (bump_percent < 0)
		return ERR_INVALID_ARG;
	bump_one(&m, prev_max, (unsigned)bump_percent);
	bump_one(&p, prev_prio, (unsigned)bump_percent);
	min_into(&m, &a->max_fee_per_gas);
	min_into(&p, &a->max_priority_fee_per_gas);
	if (u256_cmp(&p, &m) > 0)
		p = m;
	/* D22: both strictly higher, or it is no bump. */
	if (u256_cmp(&m, prev_max) <= 0 || u256_cmp(&p, prev_prio) <= 0)
		return TXB_NO_ROOM;
	*max_fee = m;
	*prio_fee = p;
	return 0;
}

int
txb_unsigned_of(struct evm_tx *tx, const uint8_t *raw, size_t raw_len)
{
	int r;

	if ((r = evm_tx_decode(tx, raw, raw_len)) != 0)
		return r;
	if (!tx->is_signed) {
		memset(tx, 0, sizeof(*tx));
		return ERR_MALFORMED;
	}
	tx->is_signed = 0;
	tx->y_parity = 0;
	memset(tx->r, 0, sizeof(tx->r));
	memset(tx->s, 0, sizeof(tx->s));
	return 0;
}

int
txb_check_signed(const uint8_t *raw, size_t raw_len, const uint8_t hash[32],
    const uint8_t *unsigned_tx, size_t unsigned_len)
{
	uint8_t enc[EVM_TX_MAX_ENCODED], h[32];
	struct evm_tx tx;
	size_t len;
	int r = ERR_MALFORMED;

	evm_keccak256(h, raw, raw_len);
	if (memcmp(h, hash, 32) != 0)
		goto out;
	if (txb_unsigned_of(&tx, raw, raw_len) != 0 ||
	    txb_encode(enc, sizeof(enc), &len, &tx) != 0)
		goto out;
	if (len != unsigned_len || memcmp(enc, unsigned_tx, len) != 0)
		goto out;
	r = 0;
out:
	memset(&tx, 0, sizeof(tx));
	return r;
}
