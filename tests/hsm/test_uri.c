/* test_uri.c: which PKCS#11 URIs are accepted, what key template they give, and formatted token URIs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "hsm/internal.h"

static int
parse(const char *text)
{
	P11KitUri *u = NULL;
	int r;

	r = hsm_uri_parse(&u, text);
	if (u != NULL)
		p11_kit_uri_free(u);
	return r;
}

static void
test_parse_accepts(void **state)
{
	assert_int_equal(parse("pkcs11:"), 0);
	assert_int_equal(parse("pkcs11:token=signer"), 0);
	assert_int_equal(parse("pkcs11:token=a%20b;object=hot-1;type=private"),
	    0);
	assert_int_equal(parse("pkcs11:model=SoftHSM%20v2;serial=1234;"
	    "id=%01%02"), 0);
	assert_int_equal(parse("pkcs11:library-manufacturer=SoftHSM;token=x"),
	    0);
}

static void
test_parse_refuses(void **state)
{
	assert_int_equal(parse(""), ERR_HSM_URI);
	assert_int_equal(parse("signer"), ERR_HSM_URI);
	assert_int_equal(parse("pkcs12:token=x"), ERR_HSM_URI);
	assert_int_equal(parse("pkcs11:token=%zz"), ERR_HSM_URI);
	assert_int_equal(parse("pkcs11:type=nonsense"), ERR_HSM_URI);
	/* A typo must not quietly match nothing or everything. */
	assert_int_equal(parse("pkcs11:tokn=signer"), ERR_HSM_URI);
	assert_non_null(strstr(hsm_last_error(), "does not know"));
	/* PINs never ride in a URI. */
	assert_int_equal(parse("pkcs11:token=x?pin-value=1234"), ERR_HSM_URI);
	assert_null(strstr(hsm_last_error(), "1234"));
	assert_int_equal(parse("pkcs11:token=x?pin-source=file:/tmp/pin"),
	    ERR_HSM_URI);
}

static int
template_of(const char *text, CK_ATTRIBUTE *t, size_t cap, size_t *n,
    P11KitUri **u)
{
	assert_int_equal(hsm_uri_parse(u, text), 0);
	return hsm_uri_key_template(t, cap, n, *u);
}

static void
test_key_template(void **state)
{
	CK_ATTRIBUTE t[8];
	P11KitUri *u = NULL;
	size_t n, i;
	int label = 0, cls = 0, id = 0;

	assert_int_equal(template_of("pkcs11:token=x;object=hot;id=%01%02;"
	    "type=private", t, 8, &n, &u), 0);
	for (i = 0; i < n; i++) {
		if (t[i].type == CKA_LABEL) {
			label = 1;
			assert_int_equal(t[i].ulValueLen, 3);
			assert_memory_equal(t[i].pValue, "hot", 3);
		} else if (t[i].type == CKA_ID) {
			id = 1;
			assert_int_equal(t[i].ulValueLen, 2);
		} else if (t[i].type == CKA_CLASS) {
			cls++;
			assert_int_equal(*(CK_OBJECT_CLASS *)t[i].pValue,
			    CKO_PRIVATE_KEY);
		}
	}
	assert_true(label && id && cls == 1);
	p11_kit_uri_free(u);
}

static void
test_key_template_refuses(void **state)
{
	CK_ATTRIBUTE t[8];
	P11KitUri *u = NULL;
	size_t n;

	assert_int_equal(template_of("pkcs11:token=x", t, 8, &n, &u),
	    ERR_HSM_URI);
	assert_int_equal(n, 0);
	p11_kit_uri_free(u);
	assert_int_equal(template_of("pkcs11:object=a;type=cert", t, 8, &n,
	    &u), ERR_HSM_URI);
	p11_kit_uri_free(u);
	assert_int_equal(template_of("pkcs11:object=a;type=public", t, 8, &n,
	    &u), ERR_HSM_URI);
	p11_kit_uri_free(u);
	assert_int_equal(template_of("pkcs11:object=a;id=%01", t, 2, &n, &u),
	    ERR_HSM_URI);
	p11_kit_uri_free(u);
}

static void
test_token_uri(void **state)
{
	char out[HSM_URI_MAX];

	assert_int_equal(hsm_token_uri(out, sizeof(out), "signer"), 0);
	assert_string_equal(out, "pkcs11:token=signer");
	assert_int_equal(hsm_token_uri(out, sizeof(out), "a b;c"), 0);
	assert_string_equal(out, "pkcs11:token=a%20b%3Bc");
	assert_int_equal(parse(out), 0);
	assert_int_equal(hsm_token_uri(out, 10, "signer"), ERR_TOO_LARGE);
	assert_int_equal(hsm_token_uri(out, sizeof(out),
	    "0123456789012345678901234567890123"), ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_key_template),
		cmocka_unit_test(test_key_template_refuses),
		cmocka_unit_test(test_token_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
