/* fixture.h: a throwaway SoftHSM2 token store for the hsm/ unit tests (header-only; each test binary is one .c). */
#ifndef TESTS_HSM_FIXTURE_H
#define TESTS_HSM_FIXTURE_H

#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <p11-kit/pkcs11.h>

#include "common/err.h"
#include "hsm/hsm.h"

#define FX_UNUSED __attribute__((unused))

/* Test PINs; never printed, only written to 0600 files. */
#define FX_PIN "246810"
#define FX_SO_PIN "13579135"

struct fx {
	char dir[256];		/* short, so every path below it fits */
	char pin_file[PATH_MAX];
	char so_pin_file[PATH_MAX];
	char bad_pin_file[PATH_MAX];
	const char *module;
};

static FX_UNUSED struct fx fx;

static FX_UNUSED int
fx_write(const char *path, const void *data, size_t n, mode_t mode)
{
	int fd, r = -1;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, n) == (ssize_t)n && fchmod(fd, mode) == 0)
		r = 0;
	close(fd);
	return r;
}

static FX_UNUSED void
fx_path(char out[PATH_MAX], const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", fx.dir, name);
}

/* Creates the store: DIR/softhsm2.conf, DIR/tokens and three PIN files. */
static FX_UNUSED int
fx_setup(void **state)
{
	char conf[PATH_MAX], tokens[PATH_MAX], text[PATH_MAX + 128];
	const char *tmp = getenv("TMPDIR");
	int n;

	snprintf(fx.dir, sizeof(fx.dir), "%s/hsm-test.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	fx_path(conf, "softhsm2.conf");
	fx_path(tokens, "tokens");
	if (mkdir(tokens, 0700) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "directories.tokendir = %s\n"
	    "objectstore.backend = file\nlog.level = ERROR\n"
	    "slots.removable = false\n", tokens);
	if (fx_write(conf, text, (size_t)n, 0600) != 0)
		return -1;
	/* SoftHSM reads this at C_Initialize, so before any module load. */
	setenv("SOFTHSM2_CONF", conf, 1);
	fx.module = getenv("SOFTHSM_MODULE");
	if (fx.module == NULL)
		fx.module = HSM_DEFAULT_MODULE;
	fx_path(fx.pin_file, "user.pin");
	fx_path(fx.so_pin_file, "so.pin");
	fx_path(fx.bad_pin_file, "bad.pin");
	if (fx_write(fx.pin_file, FX_PIN "\n", strlen(FX_PIN) + 1, 0600) ||
	    fx_write(fx.so_pin_file, FX_SO_PIN, strlen(FX_SO_PIN), 0600) ||
	    fx_write(fx.bad_pin_file, "000000", 6, 0600))
		return -1;
	return 0;
}

static FX_UNUSED int
fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static FX_UNUSED int
fx_teardown(void **state)
{
	if (fx.dir[0] != '\0')
		nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A token labelled label with the fixture's PINs. */
static FX_UNUSED int
fx_token(const char *label)
{
	unsigned long slot;

	return hsm_token_init(&slot, fx.module, label, fx.so_pin_file,
	    fx.pin_file);
}

static FX_UNUSED void
fx_token_uri(char *out, size_t cap, const char *label)
{
	snprintf(out, cap, "pkcs11:token=%s", label);
}

/* Opens the token labelled label with n sessions and logs in. */
static FX_UNUSED int
fx_open(struct hsm **h, const char *label, size_t n)
{
	char uri[128];
	int r;

	fx_token_uri(uri, sizeof(uri), label);
	if ((r = hsm_open(h, fx.module, uri, n)) != 0)
		return r;
	if ((r = hsm_login(*h, fx.pin_file, NULL)) != 0) {
		hsm_close(*h);
		*h = NULL;
	}
	return r;
}

/*
 * The module's raw function list, for what the hsm API must not offer
 * (making weak keys, reading CKA_VALUE).  dlopen returns the library hsm/
 * already loaded, so this is only valid while an hsm is open.
 */
static FX_UNUSED CK_FUNCTION_LIST *
fx_raw(void)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *f = NULL;
	void *dl;

	if ((dl = dlopen(fx.module, RTLD_NOW | RTLD_NOLOAD)) == NULL)
		return NULL;
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&f) != CKR_OK)
		f = NULL;
	dlclose(dl);
	return f;
}

/* A session on the token labelled label, through the raw function list. */
static FX_UNUSED CK_SESSION_HANDLE
fx_raw_session(CK_FUNCTION_LIST *f, const char *label)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE s;
	size_t len = strlen(label);

	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return CK_INVALID_HANDLE;
	for (i = 0; i < n; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (memcmp(ti.label, label, len) != 0 ||
		    (len < 32 && ti.label[len] != ' '))
			continue;
		if (f->C_OpenSession(slots[i], CKF_SERIAL_SESSION |
		    CKF_RW_SESSION, NULL, NULL, &s) == CKR_OK)
			return s;
	}
	return CK_INVALID_HANDLE;
}

/* Verifies r||s over digest with OpenSSL: 1 valid, 0 not. */
static FX_UNUSED int
fx_verify(enum hsm_key_type type, const uint8_t pub[65],
    const uint8_t digest[32], const uint8_t sig[64])
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int derlen, ok = 0;

	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || !OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, type == HSM_KEY_SECP256K1 ?
	    "secp256k1" : "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, 65) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	if ((vctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL ||
	    EVP_PKEY_verify_init(vctx) != 1)
		goto out;
	ok = EVP_PKEY_verify(vctx, der, (size_t)derlen, digest, 32) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ok;
}

#endif
