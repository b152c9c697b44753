/* checkpoint.c: signing the chain head with the audit key, and checking such signatures (D3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>

#include "common/err.h"
#include "journal/internal.h"

/* Longest DER ECDSA P-256 signature: SEQUENCE of two 33-byte INTEGERs. */
#define DER_SIG_MAX JNL_DER_SIG_MAX
#define CKPT_ATTEMPTS 3

int
jnl_ckpt_ring_init(struct jnl_ckpt_ring *ring)
{
	memset(ring, 0, sizeof(*ring));
	ring->hash = calloc(JNL_CHECKPOINT_WINDOW, sizeof(*ring->hash));
	return ring->hash != NULL ? 0 : ERR_NOMEM;
}

void
jnl_ckpt_ring_free(struct jnl_ckpt_ring *ring)
{
	free(ring->hash);
	memset(ring, 0, sizeof(*ring));
}

void
jnl_ckpt_ring_push(struct jnl_ckpt_ring *ring, uint64_t seq,
    const uint8_t hash[32])
{
	memcpy(ring->hash[seq % JNL_CHECKPOINT_WINDOW], hash, 32);
	ring->seq = seq;
}

int
jnl_ckpt_check_key(EVP_PKEY *pub)
{
	char group[32];
	size_t glen = 0;

	if (!EVP_PKEY_is_a(pub, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return ERR_UNSUPPORTED;
	return 0;
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ECDSA P-256 over SHA-256 of msg, DER signature: what openssl dgst does. */
static int
verify_sig(EVP_PKEY *pub, const uint8_t *der, size_t derlen, const char *msg)
{
	EVP_MD_CTX *ctx;
	int r = ERR_BAD_SIGNATURE;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_NOMEM;
	if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pub,
	    NULL) == 1 &&
	    EVP_DigestVerify(ctx, der, derlen, (const uint8_t *)msg,
	    strlen(msg)) == 1)
		r = 0;
	EVP_MD_CTX_free(ctx);
	return r;
}

int
jnl_ckpt_verify(uint64_t *head_seq, const char **reason,
    const struct jnl_ckpt_ring *ring, uint64_t seq, const json_t *rec,
    EVP_PKEY *pub)
{
	const char *head, *msg, *sig;
	char want[128];
	uint8_t hash[32], der[DER_SIG_MAX];
	json_t *hs;
	json_int_t n;
	size_t derlen;

	*head_seq = 0;
	*reason = NULL;
	hs = json_object_get(rec, "head_seq");
	head = json_string_value(json_object_get(rec, "head"));
	msg = json_string_value(json_object_get(rec, "msg"));
	sig = json_string_value(json_object_get(rec, "sig"));
	if (!json_is_integer(hs) || head == NULL || msg == NULL ||
	    sig == NULL) {
		*reason = "checkpoint lacks head_seq, head, msg or sig";
		return ERR_MALFORMED;
	}
	n = json_integer_value(hs);
	if (n < 1 || (uint64_t)n >= seq ||
	    seq - (uint64_t)n > JNL_CHECKPOINT_WINDOW) {
		*reason = "checkpoint head_seq is not within the "
		    "JNL_CHECKPOINT_WINDOW records before it";
		return ERR_MALFORMED;
	}
	if (strlen(head) != 64 || !is_lower_hex(head, 64) ||
	    util_hex_decode(hash, sizeof(hash), head) != 0) {
		*reason = "checkpoint head is not 64 lowercase hex digits";
		return ERR_MALFORMED;
	}
	/* The ring holds every hash since the window began (seq - 1 was the
	 * last pushed). */
	if (ring->seq + 1 != seq || memcmp(ring->hash[(uint64_t)n %
	    JNL_CHECKPOINT_WINDOW], hash, 32) != 0) {
		*reason = "checkpoint head is not the hash of record head_seq";
		return ERR_MALFORMED;
	}
	snprintf(want, sizeof(want), JNL_CHECKPOINT_MSG_FMT,
	    (unsigned long long)n, head);
	if (strcmp(msg, want) != 0) {
		*reason = "checkpoint msg is not \"signer-journal-checkpoint "
		    "v1 <head_seq> <head>\"";
		return ERR_MALFORMED;
	}
	if (strlen(sig) > 2 * DER_SIG_MAX || !is_lower_hex(sig, strlen(sig)) ||
	    util_hex_decode_var(der, sizeof(der), &derlen, sig) != 0) {
		*reason = "checkpoint sig is not lowercase hex of a DER "
		    "signature";
		return ERR_MALFORMED;
	}
	if (verify_sig(pub, der, derlen, msg) != 0) {
		*reason = "checkpoint signature does not verify with the "
		    "audit key";
		return ERR_BAD_SIGNATURE;
	}
	*head_seq = (uint64_t)n;
	return 0;
}

/* r||s (what PKCS#11 CKM_ECDSA returns) to the DER that openssl reads. */
static int
rs_to_der(uint8_t *der, size_t *derlen, const uint8_t rs[64])
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t *p = der;
	int n, ret = ERR_NOMEM;

	*derlen = 0;
	if ((sig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(rs, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(rs + 32, 32, NULL)) == NULL)
		goto out;
	if (BN_is_zero(r) || BN_is_zero(s)) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if (ECDSA_SIG_set0(sig, r, s) != 1)
		goto out;
	r = s = NULL;	/* sig owns them */
	if ((n = i2d_ECDSA_SIG(sig, NULL)) <= 0 || n > DER_SIG_MAX ||
	    i2d_ECDSA_SIG(sig, &p) != n) {
		ret = ERR_INTERNAL;
		goto out;
	}
	*derlen = (size_t)n;
	ret = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ret;
}

/* One attempt: sign the head as it is now and append the checkpoint. */
static int
checkpoint_once(struct jnl *j, struct jnl_hasher *h, jnl_signer_fn signer,
    void *ctx)
{
	char head_hex[65], msg[128], sig_hex[2 * DER_SIG_MAX + 1], ts[32];
	uint8_t head[32], digest[32], rs[64], der[DER_SIG_MAX];
	json_t *body = NULL;
	char *text = NULL;
	uint64_t head_seq;
	size_t derlen, len;
	struct tm tm;
	time_t now;
	int r;

	jnl_head(j, &head_seq, head);
	if (head_seq == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	util_hex_encode(head_hex, head, 32);
	snprintf(msg, sizeof(msg), JNL_CHECKPOINT_MSG_FMT,
	    (unsigned long long)head_seq, head_hex);
	if ((r = jnl_hash(h, digest, msg, strlen(msg))) != 0 ||
	    (r = signer(ctx, rs, digest)) != 0 ||
	    (r = rs_to_der(der, &derlen, rs)) != 0)
		goto out;
	if (jnl_audit_pub(j) != NULL &&
	    (r = verify_sig(jnl_audit_pub(j), der, derlen, msg)) != 0)
		goto out;
	util_hex_encode(sig_hex, der, derlen);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "type",
	    "checkpoint", "head_seq", (json_int_t)head_seq, "head", head_hex,
	    "msg", msg, "sig", sig_hex, "ts", ts);
	if (body == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = jnl_fmt_body(&text, &len, body, 1)) != 0)
		goto out;
	/* Verifiers keep only the last JNL_CHECKPOINT_WINDOW hashes. */
	r = jnl_append_text(j, NULL, NULL, text, len,
	    head_seq + JNL_CHECKPOINT_WINDOW);
out:
	util_wipe(rs, sizeof(rs));
	free(text);
	json_decref(body);
	return r;
}

int
jnl_checkpoint(struct jnl *j, jnl_signer_fn signer, void *ctx)
{
	struct jnl_hasher h;
	int i, r;

	if ((r = jnl_hasher_init(&h)) != 0)
		return r;
	for (i = 0; i < CKPT_ATTEMPTS; i++)
		if ((r = checkpoint_once(j, &h, signer, ctx)) != ERR_TIMEOUT)
			break;
	jnl_hasher_free(&h);
	return r;
}

int
jnl_sign_text(uint8_t *der, size_t *derlen, const char *msg,
    jnl_signer_fn signer, void *ctx)
{
	struct jnl_hasher h;
	uint8_t digest[32], rs[64];
	int r;

	*derlen = 0;
	if ((r = jnl_hasher_init(&h)) != 0)
		return r;
	if ((r = jnl_hash(&h, digest, msg, strlen(msg))) == 0 &&
	    (r = signer(ctx, rs, digest)) == 0)
		r = rs_to_der(der, derlen, rs);
	util_wipe(rs, sizeof(rs));
	jnl_hasher_free(&h);
	return r;
}

int
jnl_verify_text(EVP_PKEY *pub, const uint8_t *der, size_t derlen,
    const char *msg)
{
	if (pub == NULL || derlen > JNL_DER_SIG_MAX)
		return ERR_BAD_SIGNATURE;
	return verify_sig(pub, der, derlen, msg);
}
