/* test_table.c: the digest-keyed map: put, get, remove, growth, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/table.h"

static void
key_of(uint8_t k[SD_TABLE_KEY_LEN], int i)
{
	char name[16];

	snprintf(name, sizeof(name), "n%d", i);
	sd_table_key(k, "test", name, strlen(name));
}

static void
test_put_get_remove(void **unused)
{
	struct sd_table *t;
	uint8_t k[SD_TABLE_KEY_LEN], k2[SD_TABLE_KEY_LEN];
	int a = 1, b = 2;

	assert_int_equal(sd_table_new(&t), 0);
	key_of(k, 1);
	assert_null(sd_table_get(t, k));
	assert_int_equal(sd_table_put(t, k, &a), 0);
	assert_int_equal(sd_table_put(t, k, &b), ERR_EXISTS);
	assert_int_equal(sd_table_put(t, k, NULL), ERR_INVALID_ARG);
	assert_ptr_equal(sd_table_get(t, k), &a);
	/* Namespaces: the same bytes under another tag are another key. */
	sd_table_key(k2, "other", "n1", 2);
	assert_memory_not_equal(k, k2, SD_TABLE_KEY_LEN);
	assert_null(sd_table_get(t, k2));
	assert_ptr_equal(sd_table_remove(t, k), &a);
	assert_null(sd_table_remove(t, k));
	assert_int_equal(sd_table_count(t), 0);
	sd_table_free(t, NULL);
}

/* Growth, and removal of every third key in the middle of probe runs. */
static void
test_many(void **unused)
{
	struct sd_table *t;
	uint8_t k[SD_TABLE_KEY_LEN];
	const uint8_t *kp;
	void *v;
	size_t pos = 0, seen = 0;
	int i, *vals = calloc(20000, sizeof(int));

	assert_non_null(vals);
	assert_int_equal(sd_table_new(&t), 0);
	for (i = 0; i < 20000; i++) {
		vals[i] = i;
		key_of(k, i);
		assert_int_equal(sd_table_put(t, k, &vals[i]), 0);
	}
	for (i = 0; i < 20000; i += 3) {
		key_of(k, i);
		assert_ptr_equal(sd_table_remove(t, k), &vals[i]);
	}
	for (i = 0; i < 20000; i++) {
		key_of(k, i);
		if (i % 3 == 0)
			assert_null(sd_table_get(t, k));
		else
			assert_ptr_equal(sd_table_get(t, k), &vals[i]);
	}
	while (sd_table_next(t, &pos, &kp, &v)) {
		assert_int_not_equal(*(int *)v % 3, 0);
		seen++;
	}
	assert_int_equal(seen, sd_table_count(t));
	assert_int_equal(seen, 20000 - 6667);
	sd_table_free(t, NULL);
	free(vals);
}

static void
test_free_values(void **unused)
{
	struct sd_table *t;
	uint8_t k[SD_TABLE_KEY_LEN];

	assert_int_equal(sd_table_new(&t), 0);
	key_of(k, 9);
	assert_int_equal(sd_table_put(t, k, strdup("x")), 0);
	sd_table_free(t, free);	/* LeakSanitizer checks the value went */
	sd_table_free(NULL, free);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_remove),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_free_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
