/* token_init.c: put a new token, with SO and user PINs, into the first blank slot. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

/* Finds the first blank slot; ERR_HSM_TOKEN_EXISTS if label is taken. */
static int
pick_slot(CK_FUNCTION_LIST *f, CK_SLOT_ID *slot, CK_TOKEN_INFO *blank,
    const char *label, const unsigned char padded[32])
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_ULONG n = 0, i;
	CK_RV rv;
	int found = 0, r;

	if ((r = hsm_slot_list(f, &slots, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rv = f->C_GetTokenInfo(slots[i], &ti)) != CKR_OK) {
			r = hsm_fail("C_GetTokenInfo", rv);
			goto out;
		}
		if (!(ti.flags & CKF_TOKEN_INITIALIZED)) {
			if (!found) {
				*slot = slots[i];
				*blank = ti;
				found = 1;
			}
			continue;
		}
		/* Token URIs select by label: a second one would be ambiguous. */
		if (memcmp(ti.label, padded, sizeof(ti.label)) == 0) {
			hsm_error_set("a token labelled \"%s\" exists in slot "
			    "%lu", label, slots[i]);
			r = ERR_HSM_TOKEN_EXISTS;
			goto out;
		}
	}
	if (!found) {
		hsm_error_set("all %lu slot(s) hold an initialised token", n);
		r = ERR_HSM_NO_FREE_SLOT;
		goto out;
	}
	r = 0;
out:
	free(slots);
	return r;
}

/* ERR_INVALID_ARG unless the token takes a PIN of this length. */
static int
pin_fits(const CK_TOKEN_INFO *ti, const char *pin, const char *what)
{
	CK_ULONG lo = ti->ulMinPinLen, hi = ti->ulMaxPinLen;
	size_t n = strlen(pin);

	/* Tokens that do not say get no check here; C_InitToken decides. */
	if (lo == CK_UNAVAILABLE_INFORMATION)
		lo = 0;
	if (hi == CK_UNAVAILABLE_INFORMATION || hi == 0)
		hi = HSM_PIN_MAX;
	if (n < lo || n > hi) {
		hsm_error_set("the token wants a %s of %lu to %lu characters",
		    what, lo, hi);
		return ERR_INVALID_ARG;
	}
	return 0;
}

int
hsm_token_init_from(unsigned long *slot_out, const char *module_path,
    const char *label, const char *so_pin_file, const char *so_pin_env,
    const char *pin_file, const char *pin_env)
{
	char so_pin[HSM_PIN_MAX + 1], pin[HSM_PIN_MAX + 1];
	unsigned char padded[32];
	struct hsm_module *m = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_SLOT_ID slot = 0;
	CK_TOKEN_INFO blank;
	CK_RV rv;
	size_t i, n;
	int r;

	*slot_out = 0;
	so_pin[0] = pin[0] = '\0';
	memset(&blank, 0, sizeof(blank));
	hsm_error_clear();
	n = strlen(label);
	if (n == 0 || n > sizeof(padded)) {
		hsm_error_set("a token label has 1 to %zu characters",
		    sizeof(padded));
		r = ERR_INVALID_ARG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f) {
			hsm_error_set("a token label has printable characters "
			    "only");
			r = ERR_INVALID_ARG;
			goto out;
		}
	}
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, n);
	/* Both PINs first: a bad user PIN file must not leave a half-made token. */
	if ((r = hsm_pin_get(so_pin, sizeof(so_pin), so_pin_file,
	    so_pin_env)) != 0 ||
	    (r = hsm_pin_get(pin, sizeof(pin), pin_file, pin_env)) != 0)
		goto out;
	if ((r = hsm_module_get(&m, module_path)) != 0)
		goto out;
	if ((r = pick_slot(m->f, &slot, &blank, label, padded)) != 0)
		goto out;
	/* SoftHSM calls a PIN of the wrong length "incorrect"; say what is wrong. */
	if ((r = pin_fits(&blank, so_pin, "SO PIN")) != 0 ||
	    (r = pin_fits(&blank, pin, "user PIN")) != 0)
		goto out;
	rv = m->f->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, strlen(so_pin),
	    padded);
	if (rv != CKR_OK) {
		r = hsm_fail("C_InitToken", rv);
		goto out;
	}
	rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &s);
	if (rv != CKR_OK) {
		r = hsm_fail("C_OpenSession", rv);
		goto out;
	}
	rv = m->f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, strlen(so_pin));
	util_wipe(so_pin, sizeof(so_pin));
	if (rv != CKR_OK) {
		r = hsm_fail("C_Login(SO)", rv);
		goto out;
	}
	rv = m->f->C_InitPIN(s, (CK_UTF8CHAR *)pin, strlen(pin));
	util_wipe(pin, sizeof(pin));
	(void)m->f->C_Logout(s);
	if (rv != CKR_OK) {
		r = hsm_fail("C_InitPIN", rv);
		goto out;
	}
	*slot_out = slot;
	r = 0;
out:
	util_wipe(so_pin, sizeof(so_pin));
	util_wipe(pin, sizeof(pin));
	if (s != CK_INVALID_HANDLE)
		(void)m->f->C_CloseSession(s);
	hsm_module_put(m);
	return r;
}

int
hsm_token_init(unsigned long *slot_out, const char *module_path,
    const char *label, const char *so_pin_file, const char *pin_file)
{
	return hsm_token_init_from(slot_out, module_path, label, so_pin_file,
	    NULL, pin_file, NULL);
}
