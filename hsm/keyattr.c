/* keyattr.c: read a private key object and its public half, and judge whether it is safe. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "common/err.h"
#include "hsm/internal.h"
#include "proto/buf.h"

/* DER of the named-curve OIDs: secp256k1 1.3.132.0.10, P-256 1.2.840.10045.3.1.7. */
static const uint8_t oid_secp256k1[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a
};
static const uint8_t oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};

/*
 * The safety rules, one per attribute.  "bad" is the value that makes a key
 * weak; the ALWAYS/NEVER pair catches keys that were once exposed and were
 * locked down only afterwards (imported, or created extractable).
 */
struct weak_rule {
	CK_ATTRIBUTE_TYPE type;
	size_t off;		/* the int in struct hsm_key_attrs */
	int bad;
	const char *word;	/* for listings */
	const char *attr;	/* for error messages */
};

#define F(m) offsetof(struct hsm_key_attrs, m)
static const struct weak_rule weak_rules[] = {
	{ CKA_EXTRACTABLE, F(extractable), 1, "extractable", "CKA_EXTRACTABLE" },
	{ CKA_SENSITIVE, F(sensitive), 0, "not-sensitive", "CKA_SENSITIVE" },
	{ CKA_NEVER_EXTRACTABLE, F(never_extractable), 0, "was-extractable",
	    "CKA_NEVER_EXTRACTABLE" },
	{ CKA_ALWAYS_SENSITIVE, F(always_sensitive), 0, "was-not-sensitive",
	    "CKA_ALWAYS_SENSITIVE" },
	{ CKA_DECRYPT, F(decrypt), 1, "decrypt", "CKA_DECRYPT" },
	{ CKA_UNWRAP, F(unwrap), 1, "unwrap", "CKA_UNWRAP" },
	{ CKA_DERIVE, F(derive), 1, "derive", "CKA_DERIVE" },
};

/* Every boolean read, with the value assumed when the token will not say. */
static const struct {
	CK_ATTRIBUTE_TYPE type;
	size_t off;
	int unknown;
} bool_attrs[] = {
	{ CKA_SENSITIVE, F(sensitive), 0 },
	{ CKA_EXTRACTABLE, F(extractable), 1 },
	{ CKA_ALWAYS_SENSITIVE, F(always_sensitive), 0 },
	{ CKA_NEVER_EXTRACTABLE, F(never_extractable), 0 },
	{ CKA_SIGN, F(sign), 0 },
	{ CKA_DECRYPT, F(decrypt), 1 },
	{ CKA_UNWRAP, F(unwrap), 1 },
	{ CKA_DERIVE, F(derive), 1 },
};
#undef F

static int *
attr_field(struct hsm_key_attrs *a, size_t off)
{
	return (int *)(void *)((char *)a + off);
}

static int
rule_broken(const struct hsm_key_attrs *a, const struct weak_rule *w)
{
	int v = *attr_field((struct hsm_key_attrs *)a, w->off) != 0;

	return v == w->bad;
}

const char *
hsm_key_type_name(enum hsm_key_type type)
{
	switch (type) {
	case HSM_KEY_SECP256K1:
		return "secp256k1";
	case HSM_KEY_P256:
		return "p256";
	}
	return "unknown";
}

int
hsm_ec_params_type(enum hsm_key_type *type, const uint8_t *p, size_t n)
{
	*type = 0;
	if (n == sizeof(oid_secp256k1) &&
	    memcmp(p, oid_secp256k1, n) == 0)
		*type = HSM_KEY_SECP256K1;
	else if (n == sizeof(oid_p256) && memcmp(p, oid_p256, n) == 0)
		*type = HSM_KEY_P256;
	else
		return ERR_HSM_KEY_TYPE;
	return 0;
}

const uint8_t *
hsm_ec_params_der(enum hsm_key_type type, size_t *len)
{
	switch (type) {
	case HSM_KEY_SECP256K1:
		*len = sizeof(oid_secp256k1);
		return oid_secp256k1;
	case HSM_KEY_P256:
		*len = sizeof(oid_p256);
		return oid_p256;
	}
	*len = 0;
	return NULL;
}

int
hsm_ec_point_decode(uint8_t pub[65], const uint8_t *p, size_t n)
{
	struct prt_reader rd;
	uint8_t tag, len;
	int r;

	memset(pub, 0, 65);
	prt_reader_init(&rd, p, n);
	/*
	 * PKCS#11 says CKA_EC_POINT is DER: OCTET STRING (04 41) around the
	 * 65-byte point.  Some tokens return the bare point; its length alone
	 * tells them apart (65 vs 67 bytes).
	 */
	if (n != 65) {
		if ((r = prt_get_u8(&rd, &tag)) != 0 ||
		    (r = prt_get_u8(&rd, &len)) != 0)
			goto out;
		if (tag != 0x04 || len != 65) {
			r = ERR_MALFORMED;
			goto out;
		}
	}
	if ((r = prt_get_bytes(&rd, pub, 65)) != 0 || (r = prt_end(&rd)) != 0)
		goto out;
	/* Only the uncompressed form: addresses hash X||Y. */
	if (pub[0] != 0x04) {
		r = ERR_MALFORMED;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		memset(pub, 0, 65);
	return r;
}

int
hsm_pubkey_check(enum hsm_key_type type, const uint8_t pub[65])
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	int nid, r = ERR_NOMEM;

	nid = type == HSM_KEY_SECP256K1 ? NID_secp256k1 : NID_X9_62_prime256v1;
	if ((g = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL)
		goto out;
	/* oct2point rejects points that are not on the curve. */
	if (EC_POINT_oct2point(g, pt, pub, 65, NULL) != 1) {
		r = ERR_MALFORMED;
		goto out;
	}
	r = 0;
out:
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return r;
}

int
hsm_key_is_weak(const struct hsm_key_attrs *a)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(weak_rules); i++)
		if (rule_broken(a, &weak_rules[i]))
			return 1;
	return 0;
}

int
hsm_key_weakness(char *out, size_t cap, const struct hsm_key *key)
{
	size_t i, o = 0, w;
	int n = 0;

	if (cap > 0)
		out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(weak_rules); i++) {
		if (!rule_broken(&key->attrs, &weak_rules[i]))
			continue;
		n++;
		w = strlen(weak_rules[i].word);
		if (o + w + 3 > cap)
			continue;
		if (o > 0) {
			memcpy(out + o, ", ", 2);
			o += 2;
		}
		memcpy(out + o, weak_rules[i].word, w);
		o += w;
		out[o] = '\0';
	}
	return n;
}

/* Says in the thread's last error which attributes made key weak. */
void
hsm_key_weak_error(const struct hsm_key *key)
{
	char msg[256];
	size_t i, o = 0;
	int w;

	msg[0] = '\0';
	for (i = 0; i < ARRAY_LEN(weak_rules); i++) {
		if (!rule_broken(&key->attrs, &weak_rules[i]))
			continue;
		w = snprintf(msg + o, sizeof(msg) - o, "%s%s is %s",
		    o > 0 ? ", " : "", weak_rules[i].attr,
		    weak_rules[i].bad ? "true" : "false");
		if (w < 0 || (size_t)w >= sizeof(msg) - o)
			break;
		o += (size_t)w;
	}
	hsm_error_set("key \"%s\" is weak: %s", key->label, msg);
}

/* Finds the public key object with the private key's CKA_ID and reads its point. */
static int
load_pub(struct hsm *h, CK_SESSION_HANDLE s, struct hsm_key *k)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, k->id, k->id_len },
	};
	CK_BYTE point[80], params[32];
	CK_ATTRIBUTE get[] = {
		{ CKA_EC_POINT, point, sizeof(point) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
	};
	CK_OBJECT_HANDLE *objs = NULL;
	enum hsm_key_type t;
	size_t n;
	CK_RV rv;
	int r;

	memset(k->pub, 0, sizeof(k->pub));
	if (k->id_len == 0) {
		hsm_error_set("key \"%s\" has no CKA_ID to find its public key "
		    "by", k->label);
		r = ERR_HSM_NO_KEY;
		goto out;
	}
	if ((r = hsm_find_objects(h, s, &objs, &n, find, ARRAY_LEN(find),
	    2)) != 0)
		goto out;
	if (n != 1) {
		hsm_error_set("key \"%s\": %s public key object with its CKA_ID",
		    k->label, n == 0 ? "no" : "more than one");
		r = n == 0 ? ERR_HSM_NO_KEY : ERR_HSM_AMBIGUOUS;
		goto out;
	}
	rv = h->f->C_GetAttributeValue(s, objs[0], get, ARRAY_LEN(get));
	if (rv != CKR_OK) {
		r = hsm_fail("C_GetAttributeValue(CKA_EC_POINT)", rv);
		goto out;
	}
	if ((r = hsm_ec_params_type(&t, params, get[1].ulValueLen)) != 0 ||
	    t != k->type) {
		hsm_error_set("key \"%s\": public key is on another curve",
		    k->label);
		r = ERR_HSM_KEY_TYPE;
		goto out;
	}
	if ((r = hsm_ec_point_decode(k->pub, point, get[0].ulValueLen)) != 0 ||
	    (r = hsm_pubkey_check(k->type, k->pub)) != 0) {
		hsm_error_set("key \"%s\": CKA_EC_POINT is not a point on %s",
		    k->label, hsm_key_type_name(k->type));
		memset(k->pub, 0, sizeof(k->pub));
		goto out;
	}
	r = 0;
out:
	free(objs);
	return r;
}

int
hsm_key_load(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
    struct hsm_key *out, int need_pub)
{
	CK_KEY_TYPE kt = (CK_KEY_TYPE)-1;
	CK_BYTE params[32], label[256];
	CK_BBOOL b[ARRAY_LEN(bool_attrs)];
	CK_ATTRIBUTE t[4 + ARRAY_LEN(bool_attrs)] = {
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_ID, out->id, sizeof(out->id) },
	};
	size_t i, len;
	CK_RV rv;
	int r;

	memset(out, 0, sizeof(*out));
	out->priv = priv;
	for (i = 0; i < ARRAY_LEN(bool_attrs); i++) {
		t[4 + i].type = bool_attrs[i].type;
		t[4 + i].pValue = &b[i];
		t[4 + i].ulValueLen = sizeof(b[i]);
	}
	rv = h->f->C_GetAttributeValue(s, priv, t, ARRAY_LEN(t));
	/* These three still fill in every attribute they can (PKCS#11 5.7). */
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
	    rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_BUFFER_TOO_SMALL) {
		r = hsm_fail("C_GetAttributeValue", rv);
		goto out;
	}
	len = t[2].ulValueLen;
	if (len != CK_UNAVAILABLE_INFORMATION) {
		/* Longer labels (made by other tools) are shown cut short. */
		len = len < HSM_LABEL_MAX ? len : HSM_LABEL_MAX;
		memcpy(out->label, label, len);
		out->label[len] = '\0';
	}
	if (t[0].ulValueLen != sizeof(kt) || kt != CKK_EC ||
	    t[1].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    hsm_ec_params_type(&out->type, params, t[1].ulValueLen) != 0) {
		hsm_error_set("key \"%s\" is not on secp256k1 or P-256",
		    out->label);
		r = ERR_HSM_KEY_TYPE;
		goto out;
	}
	if (t[3].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		hsm_error_set("key \"%s\" has a CKA_ID longer than %d bytes",
		    out->label, HSM_ID_MAX);
		r = ERR_UNSUPPORTED;
		goto out;
	}
	out->id_len = t[3].ulValueLen;
	for (i = 0; i < ARRAY_LEN(bool_attrs); i++) {
		*attr_field(&out->attrs, bool_attrs[i].off) =
		    t[4 + i].ulValueLen == sizeof(b[i]) ? b[i] != CK_FALSE :
		    bool_attrs[i].unknown;
	}
	out->weak = hsm_key_is_weak(&out->attrs);
	if ((r = load_pub(h, s, out)) != 0 && need_pub)
		goto out;
	r = 0;
out:
	return r;
}
