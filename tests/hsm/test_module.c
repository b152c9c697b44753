/* test_module.c: loading modules by path, refusing non-modules, and sharing one initialised module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"
#include "hsm/internal.h"

static int
setup(void **state)
{
	if (fx_setup(state) != 0)
		return -1;
	return fx_token("mod");
}

static void
test_bad_paths(void **state)
{
	struct hsm_module *m = NULL;
	char missing[PATH_MAX];
	Dl_info info;

	/* No '/': dlopen would go searching the library path. */
	assert_int_equal(hsm_module_get(&m, "libsofthsm2.so"), ERR_HSM_MODULE);
	assert_non_null(strstr(hsm_last_error(), "must contain a '/'"));
	fx_path(missing, "missing.so");
	assert_int_equal(hsm_module_get(&m, missing), ERR_HSM_MODULE);
	assert_non_null(strstr(hsm_last_error(), "No such file"));
	/* A file that is not a shared library at all. */
	assert_int_equal(hsm_module_get(&m, fx.pin_file), ERR_HSM_MODULE);
	assert_non_null(strstr(hsm_last_error(), "dlopen"));
	/* A real library that is not a PKCS#11 module (cmocka's own). */
	assert_int_not_equal(dladdr((void *)_cmocka_run_group_tests, &info), 0);
	assert_int_equal(hsm_module_get(&m, info.dli_fname), ERR_HSM_MODULE);
	assert_non_null(strstr(hsm_last_error(), "C_GetFunctionList"));
	assert_null(m);
}

/* Two users of one library share one C_Initialize; the last one out finalises. */
static void
test_shared(void **state)
{
	struct hsm_module *a = NULL, *b = NULL;
	char link[PATH_MAX];
	CK_INFO info;

	assert_int_equal(hsm_module_get(&a, fx.module), 0);
	/* Another spelling of the same file is the same module. */
	fx_path(link, "softhsm-link.so");
	unlink(link);
	assert_int_equal(symlink(fx.module, link), 0);
	assert_int_equal(hsm_module_get(&b, link), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 2);
	hsm_module_put(b);
	assert_int_equal(a->f->C_GetInfo(&info), CKR_OK);
	hsm_module_put(a);
	/* Finalised now; loading again initialises again. */
	assert_int_equal(hsm_module_get(&a, fx.module), 0);
	assert_int_equal(a->refs, 1);
	assert_int_equal(a->f->C_GetInfo(&info), CKR_OK);
	hsm_module_put(a);
	hsm_module_put(NULL);
}

static void
test_two_handles(void **state)
{
	struct hsm *x = NULL, *y = NULL;
	struct hsm_key k;
	uint8_t sig[64], digest[32] = { 7 };

	assert_int_equal(fx_open(&x, "mod", 1), 0);
	assert_int_equal(fx_open(&y, "mod", 1), 0);
	assert_int_equal(hsm_key_generate(x, &k, "shared", HSM_KEY_P256), 0);
	/* Closing x must not finalise the module under y. */
	hsm_close(x);
	assert_int_equal(hsm_key_find(y, &k, "pkcs11:object=shared"), 0);
	assert_int_equal(hsm_sign(y, sig, &k, digest), 0);
	assert_true(fx_verify(k.type, k.pub, digest, sig));
	hsm_close(y);
	/* And the whole thing comes back after everything was closed. */
	assert_int_equal(fx_open(&x, "mod", 1), 0);
	assert_int_equal(hsm_key_find(x, &k, "pkcs11:object=shared"), 0);
	hsm_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_two_handles),
	};

	return cmocka_run_group_tests(tests, setup, fx_teardown);
}
