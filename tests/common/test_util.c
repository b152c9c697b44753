/* test_util.c: hex, constant-time compare and JSON escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"

static void
test_hex_round_trip(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff };
	uint8_t out[4];
	char hex[9];

	util_hex_encode(hex, in, sizeof(in));
	assert_string_equal(hex, "007f80ff");
	assert_int_equal(util_hex_decode(out, sizeof(out), "0x007F80ff"), 0);
	assert_memory_equal(out, in, sizeof(in));
}

static void
test_hex_rejects_bad_input(void **state)
{
	uint8_t out[4];
	size_t n;

	assert_int_equal(util_hex_decode(out, 4, "007f80f"), ERR_MALFORMED);
	assert_int_equal(util_hex_decode(out, 4, "007f80fg"), ERR_BAD_DIGIT);
	assert_int_equal(util_hex_decode(out, 4, "007f80"), ERR_MALFORMED);
	assert_int_equal(util_hex_decode_var(out, 2, &n, "010203"), ERR_TOO_LARGE);
	assert_int_equal(n, 0);
}

static void
test_ct_compare(void **state)
{
	assert_int_equal(util_ct_compare("abcd", "abcd", 4), 0);
	assert_int_not_equal(util_ct_compare("abcd", "abce", 4), 0);
	assert_int_equal(util_ct_compare("a", "b", 0), 0);
}

static void
test_json_escape(void **state)
{
	char out[64];

	util_json_escape(out, sizeof(out), "a\"b\\c\n\x01");
	assert_string_equal(out, "a\\\"b\\\\c\\n\\u0001");
	util_json_escape(out, 4, "abcdef");
	assert_string_equal(out, "abc");
}

static void
test_err_names(void **state)
{
	assert_string_equal(err_name(ERR_TRAILING), "ERR_TRAILING");
	assert_string_equal(err_name(12345), "ERR_UNKNOWN");
	assert_string_equal(err_str(ERR_HSM_PIN_INCORRECT), "incorrect PIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_hex_rejects_bad_input),
		cmocka_unit_test(test_ct_compare),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_err_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
