/* uri.c: RFC 7512 PKCS#11 URIs, parsed, matched and formatted by p11-kit only. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

static const CK_OBJECT_CLASS class_private = CKO_PRIVATE_KEY;

int
hsm_uri_parse(P11KitUri **out, const char *text)
{
	P11KitUri *u = NULL;
	int pr, r = ERR_HSM_URI;

	*out = NULL;
	if ((u = p11_kit_uri_new()) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/* FOR_ANY: a key URI names its token too and opens the same token. */
	pr = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, u);
	if (pr != P11_KIT_URI_OK) {
		hsm_error_set("p11_kit_uri_parse: %s", p11_kit_uri_message(pr));
		goto out;
	}
	/* An unknown attribute (a typo) would otherwise match nothing, silently. */
	if (p11_kit_uri_any_unrecognized(u)) {
		hsm_error_set("the URI has an attribute p11-kit does not know");
		goto out;
	}
	/* PINs never travel on a command line or in a config URI. */
	if (p11_kit_uri_get_pin_value(u) != NULL ||
	    p11_kit_uri_get_pin_source(u) != NULL) {
		hsm_error_set("pin-value and pin-source are not accepted in a "
		    "URI; use a PIN file or environment variable");
		goto out;
	}
	*out = u;
	u = NULL;
	r = 0;
out:
	if (u != NULL)
		p11_kit_uri_free(u);
	return r;
}

int
hsm_uri_match_module(P11KitUri *uri, CK_FUNCTION_LIST *f)
{
	CK_INFO info;
	CK_RV rv;

	if ((rv = f->C_GetInfo(&info)) != CKR_OK)
		return hsm_fail("C_GetInfo", rv);
	return p11_kit_uri_match_module_info(uri, &info) ? 1 : 0;
}

int
hsm_uri_match_slot(P11KitUri *uri, CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
    CK_TOKEN_INFO *token)
{
	CK_SLOT_INFO si;
	CK_SLOT_ID want;
	CK_RV rv;

	memset(token, 0, sizeof(*token));
	want = p11_kit_uri_get_slot_id(uri);
	if (want != (CK_SLOT_ID)-1 && want != slot)
		return 0;
	if ((rv = f->C_GetSlotInfo(slot, &si)) != CKR_OK)
		return hsm_fail("C_GetSlotInfo", rv);
	if (!p11_kit_uri_match_slot_info(uri, &si))
		return 0;
	rv = f->C_GetTokenInfo(slot, token);
	/* A slot emptied since C_GetSlotList is simply not a match. */
	if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED)
		return 0;
	if (rv != CKR_OK)
		return hsm_fail("C_GetTokenInfo", rv);
	/* SoftHSM always offers one blank token; it is never the one meant. */
	if (!(token->flags & CKF_TOKEN_INITIALIZED))
		return 0;
	return p11_kit_uri_match_token_info(uri, token) ? 1 : 0;
}

int
hsm_uri_key_template(CK_ATTRIBUTE *tmpl, size_t cap, size_t *n,
    P11KitUri *uri)
{
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs, i;
	int named = 0, r = ERR_HSM_URI;

	*n = 0;
	attrs = p11_kit_uri_get_attributes(uri, &nattrs);
	if (nattrs + 1 > cap) {
		hsm_error_set("the URI has too many object attributes");
		goto out;
	}
	for (i = 0; i < nattrs; i++) {
		if (attrs[i].type == CKA_CLASS) {
			if (attrs[i].ulValueLen != sizeof(CK_OBJECT_CLASS) ||
			    *(CK_OBJECT_CLASS *)attrs[i].pValue != CKO_PRIVATE_KEY) {
				hsm_error_set("a signing key URI names "
				    "type=private (or no type)");
				goto out;
			}
			continue;
		}
		if (attrs[i].type == CKA_LABEL || attrs[i].type == CKA_ID)
			named = 1;
		tmpl[(*n)++] = attrs[i];
	}
	/* Refuse "any key on the token": the caller must say which. */
	if (!named) {
		hsm_error_set("the URI names no key; add object=LABEL or id=");
		*n = 0;
		goto out;
	}
	tmpl[*n].type = CKA_CLASS;
	tmpl[*n].pValue = (void *)&class_private;
	tmpl[*n].ulValueLen = sizeof(class_private);
	(*n)++;
	r = 0;
out:
	return r;
}

/* Fills a CK_TOKEN_INFO-style field: the text, padded with spaces. */
static void
pad_field(unsigned char *field, size_t size, const char *text)
{
	size_t n = strlen(text);

	memset(field, ' ', size);
	memcpy(field, text, n < size ? n : size);
}

/* Formats u into out (cap bytes); ERR_TOO_LARGE if it does not fit. */
static int
uri_format(char *out, size_t cap, P11KitUri *u, P11KitUriType type)
{
	char *s = NULL;
	int pr, r = ERR_INTERNAL;

	if (cap > 0)
		out[0] = '\0';
	pr = p11_kit_uri_format(u, type, &s);
	if (pr != P11_KIT_URI_OK) {
		hsm_error_set("p11_kit_uri_format: %s", p11_kit_uri_message(pr));
		r = pr == P11_KIT_URI_NO_MEMORY ? ERR_NOMEM : ERR_INTERNAL;
		goto out;
	}
	if (strlen(s) >= cap) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	memcpy(out, s, strlen(s) + 1);
	r = 0;
out:
	free(s);
	return r;
}

int
hsm_token_uri(char *out, size_t cap, const char *label)
{
	CK_TOKEN_INFO *ti;
	P11KitUri *u = NULL;
	int r = ERR_NOMEM;

	if (cap > 0)
		out[0] = '\0';
	if (strlen(label) > sizeof(ti->label)) {
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((u = p11_kit_uri_new()) == NULL)
		goto out;
	ti = p11_kit_uri_get_token_info(u);
	pad_field(ti->label, sizeof(ti->label), label);
	r = uri_format(out, cap, u, P11_KIT_URI_FOR_TOKEN);
out:
	if (u != NULL)
		p11_kit_uri_free(u);
	return r;
}

int
hsm_key_uri(struct hsm *h, char *out, size_t cap, const struct hsm_key *key)
{
	CK_TOKEN_INFO *ti;
	CK_ATTRIBUTE a;
	P11KitUri *u = NULL;
	int r = ERR_NOMEM;

	if (cap > 0)
		out[0] = '\0';
	if ((u = p11_kit_uri_new()) == NULL)
		goto out;
	/* The token label alone: hsm_token_init keeps labels unique. */
	ti = p11_kit_uri_get_token_info(u);
	memcpy(ti->label, h->token.label, sizeof(ti->label));
	a.type = CKA_CLASS;
	a.pValue = (void *)&class_private;
	a.ulValueLen = sizeof(class_private);
	if (p11_kit_uri_set_attribute(u, &a) != P11_KIT_URI_OK)
		goto out;
	if (key->label[0] != '\0') {
		a.type = CKA_LABEL;
		a.pValue = (void *)key->label;
		a.ulValueLen = strlen(key->label);
		if (p11_kit_uri_set_attribute(u, &a) != P11_KIT_URI_OK)
			goto out;
	}
	if (key->id_len > 0) {
		a.type = CKA_ID;
		a.pValue = (void *)key->id;
		a.ulValueLen = key->id_len;
		if (p11_kit_uri_set_attribute(u, &a) != P11_KIT_URI_OK)
			goto out;
	}
	r = uri_format(out, cap, u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN);
out:
	if (u != NULL)
		p11_kit_uri_free(u);
	return r;
}
