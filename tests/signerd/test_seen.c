/* test_seen.c: accepted approval signatures and what they were for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/seen.h"

static void
test_seen(void **unused)
{
	static const uint8_t s1[] = { 1, 2, 3 }, s2[] = { 1, 2, 4 };
	char longlabel[SD_SEEN_LABEL_MAX + 2];
	struct sd_seen *s, *s2set;
	struct prt_writer w;
	struct prt_reader rd;

	assert_int_equal(sd_seen_new(&s), 0);
	assert_null(sd_seen_find(s, s1, sizeof(s1)));
	assert_int_equal(sd_seen_add(s, s1, sizeof(s1), "sign a", 100), 0);
	assert_int_equal(sd_seen_add(s, s1, sizeof(s1), "sign b", 100), 0);
	assert_string_equal(sd_seen_find(s, s1, sizeof(s1)), "sign a");
	assert_null(sd_seen_find(s, s2, sizeof(s2)));
	memset(longlabel, 'x', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';
	assert_int_equal(sd_seen_add(s, s2, sizeof(s2), longlabel, 100),
	    ERR_INVALID_ARG);

	prt_writer_init(&w, 4096);
	assert_int_equal(sd_seen_serialize(s, &w), 0);
	assert_int_equal(sd_seen_new(&s2set), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_equal(sd_seen_deserialize(s2set, &rd), 0);
	assert_string_equal(sd_seen_find(s2set, s1, sizeof(s1)), "sign a");
	assert_int_equal(sd_seen_count(s2set), 1);
	prt_writer_free(&w);
	sd_seen_free(s2set);
	sd_seen_free(s);
}

/* Expired approvals are refused as expired: their signatures can go. */
static void
test_prune(void **unused)
{
	struct sd_seen *s;
	uint8_t sig[4];
	uint32_t i;

	assert_int_equal(sd_seen_new(&s), 0);
	for (i = 0; i < 1000; i++) {
		memcpy(sig, &i, sizeof(i));
		assert_int_equal(sd_seen_add(s, sig, sizeof(sig), "sign x",
		    i), 0);
	}
	sd_seen_prune(s, 0);		/* no time known yet: nothing */
	assert_int_equal(sd_seen_count(s), 1000);
	sd_seen_prune(s, 600);
	assert_int_equal(sd_seen_count(s), 400);
	i = 599;
	memcpy(sig, &i, sizeof(i));
	assert_null(sd_seen_find(s, sig, sizeof(sig)));
	i = 600;	/* valid through second 600 */
	memcpy(sig, &i, sizeof(i));
	assert_string_equal(sd_seen_find(s, sig, sizeof(sig)), "sign x");
	sd_seen_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
