/* keys.c: find a signing key by URI, generate one on the token, list them all. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

/* Random, so two keys with one label (on two tokens) never share an id. */
#define KEY_ID_LEN 16

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

int
hsm_key_find(struct hsm *h, struct hsm_key *out, const char *key_uri)
{
	P11KitUri *uri = NULL;
	CK_ATTRIBUTE tmpl[8];
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	size_t ntmpl, n;
	int taken = 0, r;

	memset(out, 0, sizeof(*out));
	hsm_error_clear();
	if ((r = hsm_uri_parse(&uri, key_uri)) != 0)
		goto out;
	/* A URI that names another token must not find a key on this one. */
	if (!p11_kit_uri_match_token_info(uri, &h->token)) {
		hsm_error_set("the key URI names a different token");
		r = ERR_HSM_NO_TOKEN;
		goto out;
	}
	if ((r = hsm_uri_key_template(tmpl, ARRAY_LEN(tmpl), &ntmpl, uri)) != 0)
		goto out;
	s = hsm_pool_take(h);
	taken = 1;
	if ((r = hsm_find_objects(h, s, &objs, &n, tmpl, ntmpl, 2)) != 0)
		goto out;
	if (n == 0) {
		hsm_error_set("no private key matches%s", h->logged_in ? "" :
		    " (not logged in: private keys are hidden)");
		r = ERR_HSM_NO_KEY;
		goto out;
	}
	if (n > 1) {
		hsm_error_set("more than one private key matches; add id= to "
		    "the URI");
		r = ERR_HSM_AMBIGUOUS;
		goto out;
	}
	if ((r = hsm_key_load(h, s, objs[0], out, 1)) != 0)
		goto out;
	/* out stays filled in so the caller can show what is wrong with it. */
	if (out->weak) {
		hsm_key_weak_error(out);
		r = ERR_HSM_KEY_WEAK;
		goto out;
	}
	r = 0;
out:
	if (taken)
		hsm_pool_give(h, s);
	free(objs);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return r;
}

/* Labels end up in URIs, listings and logs: printable ASCII and UTF-8 only. */
int
hsm_label_ok(const char *label)
{
	size_t n = strlen(label), i;

	if (n == 0 || n > HSM_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return 0;
	return 1;
}

/* ERR_EXISTS if a private key with this label is on the token. */
static int
label_free(struct hsm *h, CK_SESSION_HANDLE s, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE *objs = NULL;
	size_t n;
	int r;

	if ((r = hsm_find_objects(h, s, &objs, &n, t, ARRAY_LEN(t), 1)) != 0)
		goto out;
	if (n > 0) {
		hsm_error_set("a private key labelled \"%s\" exists", label);
		r = ERR_EXISTS;
		goto out;
	}
	r = 0;
out:
	free(objs);
	return r;
}

int
hsm_key_generate(struct hsm *h, struct hsm_key *out, const char *label,
    enum hsm_key_type type)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BYTE id[KEY_ID_LEN];
	const uint8_t *params;
	size_t nparams;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv;
	int taken = 0, r;

	memset(out, 0, sizeof(*out));
	hsm_error_clear();
	if (!hsm_label_ok(label)) {
		hsm_error_set("a key label has 1 to %d printable characters",
		    HSM_LABEL_MAX);
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((params = hsm_ec_params_der(type, &nparams)) == NULL) {
		r = ERR_HSM_KEY_TYPE;
		goto out;
	}
	s = hsm_pool_take(h);
	taken = 1;
	if ((r = label_free(h, s, label)) != 0)
		goto out;
	if ((rv = h->f->C_GenerateRandom(s, id, sizeof(id))) != CKR_OK) {
		r = hsm_fail("C_GenerateRandom", rv);
		goto out;
	}
	{
		/*
		 * Every usage of the private key is spelled out: SoftHSM turns
		 * DECRYPT, UNWRAP and DERIVE on when the template is silent.
		 * MODIFIABLE false keeps anyone from turning them on later.
		 * The public key's VERIFY and ENCRYPT are left to the token:
		 * tpm2-pkcs11 derives them from the one TPM key (VERIFY is its
		 * DECRYPT bit, ENCRYPT its SIGN bit) and fails
		 * C_GenerateKeyPair when a template says otherwise.  They grant
		 * only what anyone holding the public key can do anyway.
		 */
		CK_ATTRIBUTE pub_t[] = {
			{ CKA_TOKEN, (void *)&yes, sizeof(yes) },
			{ CKA_PRIVATE, (void *)&no, sizeof(no) },
			{ CKA_WRAP, (void *)&no, sizeof(no) },
			{ CKA_DERIVE, (void *)&no, sizeof(no) },
			{ CKA_EC_PARAMS, (void *)params, nparams },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
		};
		CK_ATTRIBUTE priv_t[] = {
			{ CKA_TOKEN, (void *)&yes, sizeof(yes) },
			{ CKA_PRIVATE, (void *)&yes, sizeof(yes) },
			{ CKA_SENSITIVE, (void *)&yes, sizeof(yes) },
			{ CKA_EXTRACTABLE, (void *)&no, sizeof(no) },
			{ CKA_MODIFIABLE, (void *)&no, sizeof(no) },
			{ CKA_SIGN, (void *)&yes, sizeof(yes) },
			{ CKA_DECRYPT, (void *)&no, sizeof(no) },
			{ CKA_UNWRAP, (void *)&no, sizeof(no) },
			{ CKA_DERIVE, (void *)&no, sizeof(no) },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
		};

		rv = h->f->C_GenerateKeyPair(s, &mech, pub_t, ARRAY_LEN(pub_t),
		    priv_t, ARRAY_LEN(priv_t), &pub, &priv);
	}
	if (rv != CKR_OK) {
		r = hsm_fail("C_GenerateKeyPair", rv);
		goto out;
	}
	if ((r = hsm_key_load(h, s, priv, out, 1)) != 0)
		goto out;
	/* A token that ignored the template made a key we will never use. */
	if (out->weak) {
		hsm_key_weak_error(out);
		r = ERR_HSM_KEY_WEAK;
		goto out;
	}
	r = 0;
out:
	if (r != 0 && priv != CK_INVALID_HANDLE) {
		(void)h->f->C_DestroyObject(s, priv);
		(void)h->f->C_DestroyObject(s, pub);
	}
	if (taken)
		hsm_pool_give(h, s);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int
hsm_key_list(struct hsm *h, struct hsm_key **keys, size_t *nkeys)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	struct hsm_key *list = NULL;
	size_t n, i, count = 0;
	int taken = 0, r;

	*keys = NULL;
	*nkeys = 0;
	hsm_error_clear();
	s = hsm_pool_take(h);
	taken = 1;
	if ((r = hsm_find_objects(h, s, &objs, &n, t, ARRAY_LEN(t), 0)) != 0)
		goto out;
	if ((list = calloc(n > 0 ? n : 1, sizeof(*list))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = hsm_key_load(h, s, objs[i], &list[count], 0);
		/* Curves and ids we cannot use are not ours to list. */
		if (r == ERR_HSM_KEY_TYPE || r == ERR_UNSUPPORTED)
			continue;
		if (r != 0)
			goto out;
		count++;
	}
	hsm_error_clear();
	*keys = list;
	*nkeys = count;
	list = NULL;
	r = 0;
out:
	if (taken)
		hsm_pool_give(h, s);
	free(objs);
	free(list);
	return r;
}
