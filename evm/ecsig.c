/* ecsig.c: low-S normalisation and recovery id for HSM ECDSA signatures. */
#include "evm/ecsig.h"

#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"

static int
is_zero32(const uint8_t *p)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < 32; i++)
		acc |= p[i];
	return acc == 0;
}

int
evm_sig_finish(uint8_t r[32], uint8_t s[32], uint8_t *y_parity,
    const uint8_t digest[32], const uint8_t rs[64], const uint8_t pub[65])
{
	/* Parsing and recovery need no precomputed tables or randomness. */
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_signature sig, low;
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_pubkey key;
	uint8_t norm[64], got[65];
	size_t gotlen;
	int recid, ret;

	memset(r, 0, 32);
	memset(s, 0, 32);
	*y_parity = 0;
	/* parse_compact rejects r, s >= n; zero parses but is never valid. */
	if (!secp256k1_ecdsa_signature_parse_compact(ctx, &sig, rs) ||
	    is_zero32(rs) || is_zero32(rs + 32)) {
		ret = ERR_BAD_SIGNATURE;
		goto out;
	}
	/* Nodes reject s > n/2 (EIP-2); (r, n-s) is the same signature. */
	secp256k1_ecdsa_signature_normalize(ctx, &low, &sig);
	secp256k1_ecdsa_signature_serialize_compact(ctx, norm, &low);
	/*
	 * Ids 2 and 3 (r's x-coordinate at or above n) occur with probability
	 * about 2^-128 and have no y_parity encoding in a type-2 transaction.
	 */
	for (recid = 0; recid <= 1; recid++) {
		if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx,
		    &rsig, norm, recid) ||
		    !secp256k1_ecdsa_recover(ctx, &key, &rsig, digest))
			continue;
		gotlen = sizeof(got);
		if (!secp256k1_ec_pubkey_serialize(ctx, got, &gotlen, &key,
		    SECP256K1_EC_UNCOMPRESSED) || gotlen != sizeof(got))
			continue;
		/* The key is public: an ordinary compare is fine. */
		if (memcmp(got, pub, sizeof(got)) == 0) {
			memcpy(r, norm, 32);
			memcpy(s, norm + 32, 32);
			*y_parity = (uint8_t)recid;
			ret = 0;
			goto out;
		}
	}
	/* invariant: never release a signature that does not recover to our key */
	ret = ERR_HSM_SIG_MISMATCH;
out:
	return ret;
}

int
evm_sig_recover(uint8_t pub[65], const uint8_t digest[32], const uint8_t r[32],
    const uint8_t s[32], uint8_t y_parity)
{
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_ecdsa_signature sig, low;
	secp256k1_pubkey key;
	uint8_t rs[64];
	size_t len = 65;

	memset(pub, 0, 65);
	memcpy(rs, r, 32);
	memcpy(rs + 32, s, 32);
	if (y_parity > 1 || is_zero32(r) || is_zero32(s) ||
	    !secp256k1_ecdsa_signature_parse_compact(ctx, &sig, rs))
		return ERR_BAD_SIGNATURE;
	/* EIP-2: what we sign is low-S; a high-S twin is not ours. */
	if (secp256k1_ecdsa_signature_normalize(ctx, &low, &sig))
		return ERR_BAD_SIGNATURE;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig,
	    rs, y_parity) ||
	    !secp256k1_ecdsa_recover(ctx, &key, &rsig, digest) ||
	    !secp256k1_ec_pubkey_serialize(ctx, pub, &len, &key,
	    SECP256K1_EC_UNCOMPRESSED) || len != 65) {
		memset(pub, 0, 65);
		return ERR_BAD_SIGNATURE;
	}
	return 0;
}
