/*
 * cmd_approve.c: signerctl approve: an approver signs an approval text
 * (docs/approvals.md) with a P-256 or Ed25519 private key in a PEM file,
 * or with a P-256 key on a PKCS#11 token, and prints the approval as JSON
 * for a sign, queue, cancel, pause or unpause request or a policy change.
 */
#include "signerctl/cmd_approve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "hsm/hsm.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "signerctl/ctl.h"

#define SIG_MAX 128	/* PRT_APPROVAL_SIG_MAX: a DER P-256 sig is <= 72 */

struct aopts {
	const char *key;	/* PEM file or pkcs11: URI */
	const char *intent;
	const char *approver;
	const char *pin_file;
	const char *pin_env;
	const char *module;
};

static void
help(void)
{
	printf("usage: signerctl approve --key PEM-FILE|PKCS11-URI --intent "
	    "FILE [--approver NAME]\n"
	    "                        [--pin-file F | --pin-env NAME] "
	    "[--module PATH]\n\n"
	    "Signs the approval text in FILE (docs/approvals.md; it is "
	    "shown on stderr\nfirst) and prints the approval as JSON: "
	    "{\"approver\", \"expiry\", \"signature\"}.\nThe text must be "
	    "in its one canonical form, or nothing is signed.\n\n"
	    "  --key        a P-256 or Ed25519 private key in PEM (mode 0600), "
	    "or a\n               P-256 key on a token: "
	    "pkcs11:token=T;object=LABEL\n"
	    "  --approver   your name in the policy, copied into the JSON\n"
	    "  --pin-file, --pin-env   the token's user PIN (PKCS#11 keys "
	    "only)\n  --module     PKCS#11 module (default %s)\n"
	    "Exit status: 0 signed, 1 failed, 2 usage.\n", HSM_DEFAULT_MODULE);
}

static int
usage(const char *msg)
{
	fprintf(stderr, "signerctl approve: %s\nTry 'signerctl approve "
	    "--help'.\n", msg);
	return CTL_EXIT_USAGE;
}

static int
failed(const char *msg)
{
	fprintf(stderr, "signerctl approve: %s\n", msg);
	return CTL_EXIT_FAIL;
}

static int
parse(struct aopts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "intent", required_argument, NULL, 'i' },
		{ "approver", required_argument, NULL, 'a' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "pin-env", required_argument, NULL, 'e' },
		{ "module", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k': o->key = optarg; break;
		case 'i': o->intent = optarg; break;
		case 'a': o->approver = optarg; break;
		case 'p': o->pin_file = optarg; break;
		case 'e': o->pin_env = optarg; break;
		case 'm': o->module = optarg; break;
		case 'h': help(); return -1;
		case ':': return usage("an option needs a value");
		default: return usage("unknown option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	if (o->key == NULL || o->intent == NULL)
		return usage("needs --key and --intent");
	if (strncmp(o->key, "pkcs11:", 7) != 0 &&
	    (o->pin_file != NULL || o->pin_env != NULL || o->module != NULL))
		return usage("--pin-file, --pin-env and --module are for "
		    "PKCS#11 keys");
	if (strncmp(o->key, "pkcs11:", 7) == 0 && o->pin_file == NULL &&
	    o->pin_env == NULL)
		return usage("a PKCS#11 key needs --pin-file or --pin-env");
	return 0;
}

/* Reads the text; only its canonical form is ever signed. */
static int
read_intent(char *text, size_t cap, size_t *len, struct pol_approval_msg *m,
    const char *path)
{
	char msg[600];
	FILE *f;
	int r;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		return failed(msg);
	}
	*len = fread(text, 1, cap, f);
	fclose(f);
	if (*len >= cap) {
		snprintf(msg, sizeof(msg), "%s: longer than any approval text",
		    path);
		return failed(msg);
	}
	text[*len] = '\0';
	if ((r = pol_approval_parse(m, (const uint8_t *)text, *len)) != 0) {
		snprintf(msg, sizeof(msg), "%s is not an approval text in its "
		    "canonical form (%s); see docs/approvals.md", path,
		    err_str(r));
		return failed(msg);
	}
	return 0;
}

/* PEM passwords: an approver key file is not encrypted; never prompt. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static int
is_p256(EVP_PKEY *k)
{
	char group[64];
	size_t glen;

	return EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "prime256v1") == 0;
}

/* signerd's check (policy/verify.h), made before anything is printed. */
static int
verify(EVP_PKEY *k, const char *text, size_t len, const uint8_t *sig,
    size_t siglen)
{
	unsigned char *spki = NULL;
	int n, ok;

	ok = (n = i2d_PUBKEY(k, &spki)) > 0 && pol_verify_spki(spki,
	    (size_t)n, text, len, sig, siglen) == 1;
	OPENSSL_free(spki);
	return ok;
}

/* P-256: ECDSA over SHA-256, DER; Ed25519: pure, over the text. */
static int
sign_pem(uint8_t *sig, size_t *siglen, const char *path, const char *text,
    size_t len)
{
	char msg[600];
	struct stat st;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	FILE *f = NULL;
	int fd = -1, r = CTL_EXIT_FAIL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    fstat(fd, &st) != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		r = failed(msg);
		goto out;
	}
	/* A signing key others can read is anyone's vote. */
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(msg, sizeof(msg), "%s: a private key file must be a "
		    "regular file of mode 0600 or stricter (it is %04o)", path,
		    (unsigned)(st.st_mode & 07777));
		r = failed(msg);
		goto out;
	}
	if ((f = fdopen(fd, "rb")) == NULL)
		goto out;
	fd = -1;
	if ((k = PEM_read_PrivateKey(f, NULL, no_password, NULL)) == NULL) {
		snprintf(msg, sizeof(msg), "%s: not an unencrypted PEM private "
		    "key", path);
		r = failed(msg);
		goto out;
	}
	if (!EVP_PKEY_is_a(k, "ED25519") && !is_p256(k)) {
		r = failed("the key must be P-256 or Ed25519");
		goto out;
	}
	*siglen = SIG_MAX;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_PKEY_is_a(k, "ED25519") ? NULL :
	    EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, sig, siglen, (const uint8_t *)text, len) != 1 ||
	    !verify(k, text, len, sig, *siglen)) {
		r = failed("signing failed");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The token's key as an OpenSSL public key, to check its own signature. */
static EVP_PKEY *
p256_public(const uint8_t pub[65])
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *k = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, 65) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return k;
}

/* The HSM signs SHA-256(text) and gives r||s; approvals carry DER. */
static int
sign_token(uint8_t *sig, size_t *siglen, const struct aopts *o,
    const char *text, size_t len)
{
	uint8_t digest[32], rs[64], *p;
	struct hsm *h = NULL;
	struct hsm_key key;
	ECDSA_SIG *es = NULL;
	BIGNUM *r_bn = NULL, *s_bn = NULL;
	EVP_PKEY *pub = NULL;
	int n, r = CTL_EXIT_FAIL;

	if ((r = hsm_open(&h, o->module, o->key, 1)) != 0) {
		r = ctl_fail("opening the token", r);
		goto out;
	}
	if ((r = hsm_login(h, o->pin_file, o->pin_env)) != 0) {
		r = ctl_fail("logging in to the token", r);
		goto out;
	}
	if ((r = hsm_key_find(h, &key, o->key)) != 0) {
		r = ctl_fail("finding the key", r);
		goto out;
	}
	if (key.type != HSM_KEY_P256) {
		r = failed("a token key must be P-256 (Ed25519 approvers sign "
		    "with a PEM key or openssl)");
		goto out;
	}
	r = CTL_EXIT_FAIL;
	if (EVP_Digest(text, len, digest, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	if ((n = hsm_sign(h, rs, &key, digest)) != 0) {
		r = ctl_fail("signing on the token", n);
		goto out;
	}
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r_bn = BN_bin2bn(rs, 32, NULL)) == NULL ||
	    (s_bn = BN_bin2bn(rs + 32, 32, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r_bn, s_bn) != 1)
		goto out;
	r_bn = s_bn = NULL;	/* owned by es now */
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || n > SIG_MAX)
		goto out;
	p = sig;
	*siglen = (size_t)i2d_ECDSA_SIG(es, &p);
	/* What signerd will check, checked here first. */
	if ((pub = p256_public(key.pub)) == NULL ||
	    !verify(pub, text, len, sig, *siglen)) {
		r = failed("the token's signature does not verify with its "
		    "public key");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pub);
	BN_free(r_bn);
	BN_free(s_bn);
	ECDSA_SIG_free(es);
	hsm_close(h);
	return r;
}

int
cmd_approve(int argc, char **argv)
{
	char text[POL_APPROVAL_TEXT_MAX + 1], hex[2 * SIG_MAX + 1];
	struct pol_approval_msg m;
	uint8_t sig[SIG_MAX];
	size_t len, siglen = 0;
	struct aopts o;
	json_t *out;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	if ((r = read_intent(text, sizeof(text), &len, &m, o.intent)) != 0)
		return r;
	/* The JSON carries it as an integer: 2^63-1 is the last second. */
	if (m.expires > INT64_MAX)
		return failed("expires is past 2^63-1");
	/* The approver sees exactly the bytes being signed. */
	fprintf(stderr, "signerctl approve: signing this %s approval:\n%s",
	    pol_action_name(m.action), text);
	r = strncmp(o.key, "pkcs11:", 7) == 0 ?
	    sign_token(sig, &siglen, &o, text, len) :
	    sign_pem(sig, &siglen, o.key, text, len);
	if (r != 0)
		return r;
	util_hex_encode(hex, sig, siglen);
	if ((out = json_object()) == NULL ||
	    (o.approver != NULL && json_object_set_new(out, "approver",
	    json_string(o.approver)) != 0) ||
	    json_object_set_new(out, "expiry",
	    json_integer((json_int_t)m.expires)) != 0 ||
	    json_object_set_new(out, "signature", json_string(hex)) != 0) {
		json_decref(out);
		return failed("out of memory");
	}
	json_dumpf(out, stdout, JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(out);
	return CTL_EXIT_OK;
}
