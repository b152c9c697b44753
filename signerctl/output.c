/* output.c: how signerctl reports keys (text or JSON) and failures. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "evm/addr.h"
#include "signerctl/ctl.h"

int
ctl_fail(const char *what, int r)
{
	const char *detail = hsm_last_error();

	if (detail[0] != '\0')
		fprintf(stderr, "signerctl: %s: %s (%s)\n", what, err_str(r),
		    detail);
	else
		fprintf(stderr, "signerctl: %s: %s\n", what, err_str(r));
	return CTL_EXIT_FAIL;
}

/* The EIP-55 address of a secp256k1 key; 0 when there is none to show. */
static int
key_address(char out[EVM_ADDR_STR], const struct hsm_key *k)
{
	uint8_t addr[EVM_ADDR_LEN];

	out[0] = '\0';
	if (k->type != HSM_KEY_SECP256K1 || k->pub[0] != 0x04)
		return 0;
	if (evm_addr_from_pubkey(addr, k->pub) != 0)
		return 0;
	evm_addr_to_str(out, addr);
	return 1;
}

/*
 * The attributes in the order a reviewer checks them: text names read
 * well, JSON names are jq identifiers (and match struct hsm_key_attrs).
 */
#define A(m) offsetof(struct hsm_key_attrs, m)
static const struct {
	const char *name;
	const char *json;
	size_t off;
} attr_names[] = {
	{ "sensitive", "sensitive", A(sensitive) },
	{ "extractable", "extractable", A(extractable) },
	{ "always-sensitive", "always_sensitive", A(always_sensitive) },
	{ "never-extractable", "never_extractable", A(never_extractable) },
	{ "sign", "sign", A(sign) },
	{ "decrypt", "decrypt", A(decrypt) },
	{ "unwrap", "unwrap", A(unwrap) },
	{ "derive", "derive", A(derive) },
};
#undef A

static int
attr_value(const struct hsm_key_attrs *a, size_t off)
{
	return *(const int *)(const void *)((const char *)a + off) != 0;
}

/* A label from the token, with control bytes made visible: other tools may have set it. */
static void
printable(char *out, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
}

void
ctl_key_print(struct hsm *h, const struct hsm_key *k)
{
	char id[2 * HSM_ID_MAX + 1], pub[131], uri[HSM_URI_MAX];
	char addr[EVM_ADDR_STR], why[128], label[HSM_LABEL_MAX + 1];
	size_t i;

	util_hex_encode(id, k->id, k->id_len);
	printable(label, sizeof(label), k->label);
	printf("%s (%s)\n", label, hsm_key_type_name(k->type));
	printf("  id           %s\n", k->id_len > 0 ? id : "(none)");
	if (key_address(addr, k))
		printf("  address      %s\n", addr);
	if (k->pub[0] == 0x04) {
		util_hex_encode(pub, k->pub, sizeof(k->pub));
		printf("  public key   %s\n", pub);
	} else {
		printf("  public key   (missing: no public key object with this "
		    "id)\n");
	}
	if (hsm_key_uri(h, uri, sizeof(uri), k) == 0)
		printf("  uri          %s\n", uri);
	printf("  attributes  ");
	for (i = 0; i < ARRAY_LEN(attr_names); i++)
		printf(" %s=%s", attr_names[i].name,
		    attr_value(&k->attrs, attr_names[i].off) ? "yes" : "no");
	printf("\n");
	if (hsm_key_weakness(why, sizeof(why), k) > 0)
		printf("  safety       WEAK: %s\n", why);
	else
		printf("  safety       ok (sensitive, never extractable, "
		    "sign only)\n");
}

json_t *
ctl_key_json(struct hsm *h, const struct hsm_key *k)
{
	char id[2 * HSM_ID_MAX + 1], pub[131], uri[HSM_URI_MAX];
	char addr[EVM_ADDR_STR], why[128], *p, *word;
	json_t *o = NULL, *attrs = NULL, *weak = NULL;
	size_t i;
	int fail = 0;

	util_hex_encode(id, k->id, k->id_len);
	util_hex_encode(pub, k->pub, sizeof(k->pub));
	if ((attrs = json_object()) == NULL || (weak = json_array()) == NULL)
		goto out;
	for (i = 0; i < ARRAY_LEN(attr_names); i++)
		fail |= json_object_set_new(attrs, attr_names[i].json,
		    json_boolean(attr_value(&k->attrs, attr_names[i].off)));
	/* The same words as the text form, one array element each. */
	hsm_key_weakness(why, sizeof(why), k);
	for (p = why; (word = strsep(&p, ",")) != NULL;) {
		word += strspn(word, " ");
		if (*word != '\0')
			fail |= json_array_append_new(weak, json_string(word));
	}
	if (hsm_key_uri(h, uri, sizeof(uri), k) != 0)
		uri[0] = '\0';
	o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:O, s:b, s:O}",
	    "label", k->label,
	    "type", hsm_key_type_name(k->type),
	    "id", id,
	    "uri", uri[0] != '\0' ? uri : NULL,
	    "public_key", k->pub[0] == 0x04 ? pub : NULL,
	    "address", key_address(addr, k) ? addr : NULL,
	    "attributes", attrs,
	    "weak", k->weak,
	    "weaknesses", weak);
	if (fail && o != NULL) {
		json_decref(o);
		o = NULL;
	}
out:
	json_decref(attrs);
	json_decref(weak);
	return o;
}

int
ctl_json_emit(json_t *v)
{
	int r = CTL_EXIT_FAIL;

	if (v == NULL) {
		fprintf(stderr, "signerctl: building JSON output: %s\n",
		    err_str(ERR_NOMEM));
		goto out;
	}
	if (json_dumpf(v, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF)
		goto out;
	r = CTL_EXIT_OK;
out:
	json_decref(v);
	return r;
}

int
ctl_open_token(struct hsm **h, const struct ctl_opts *o, const char *uri)
{
	int r;

	if ((r = hsm_open(h, o->module, uri, 1)) != 0) {
		r = ctl_fail("opening the token", r);
		goto out;
	}
	if ((r = hsm_login(*h, o->pin_file, o->pin_env)) != 0) {
		r = ctl_fail("logging in to the token", r);
		hsm_close(*h);
		*h = NULL;
		goto out;
	}
	r = CTL_EXIT_OK;
out:
	return r;
}

