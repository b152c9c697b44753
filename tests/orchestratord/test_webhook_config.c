/* test_webhook_config.c: [webhooks] / [webhook:NAME]: URL checks, secret file checks, refusals, the replay body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/api_webhooks.h"
#include "orchestratord/webhook_config.h"

static char secret_path[64];

static void
write_secret(const char *text, mode_t mode)
{
	FILE *f;

	snprintf(secret_path, sizeof(secret_path), "/tmp/wh-secret-test.%ld",
	    (long)getpid());
	unlink(secret_path);
	f = fopen(secret_path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(secret_path, mode), 0);
}

static int
pair(struct wh_config *wc, const char *sec, const char *k, const char *v)
{
	char why[256];

	return wh_config_pair(wc, sec, k, v, 7, why, sizeof(why));
}

static void
test_url(void **state)
{
	static const char *good[] = {
		"http://127.0.0.1:9000/hook", "https://hooks.example.com/a?b=c",
		"http://[::1]:8080/", "https://example.com", "http://a-b.c:1",
	};
	static const char *bad[] = {
		"ftp://example.com/", "HTTP://example.com/", "file:///etc/passwd",
		"http://", "https:///path", "http://user:pw@example.com/",
		"http://user@example.com/", "http://example.com:0/",
		"http://example.com:65536/", "http://example.com:/",
		"http://exa mple.com/", "http://example.com/a b",
		"http://example.com/#frag", "http://[::1/", "http://[]/",
		"http://ex_ample.com/", "gopher://x", "http://example.com:80x/",
		"//example.com/", "http://example.com/\"x",
	};
	char why[160], big[WH_URL_MAX + 40];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(wh_url_check(good[i], why, sizeof(why)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (wh_url_check(bad[i], why, sizeof(why)) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_true(why[0] != '\0');
	}
	/* bounded length */
	memset(big, 'a', sizeof(big));
	memcpy(big, "http://x/", 9);
	big[WH_URL_MAX] = '\0';
	assert_int_equal(wh_url_check(big, why, sizeof(why)), 0);
	big[WH_URL_MAX] = 'a';
	big[WH_URL_MAX + 1] = '\0';
	assert_int_not_equal(wh_url_check(big, why, sizeof(why)), 0);
}

static void
test_good_and_defaults(void **state)
{
	struct wh_config wc;
	char why[256];

	memset(&wc, 0, sizeof(wc));
	write_secret("0123456789abcdef0123456789abcdef\n", 0600);
	assert_int_equal(pair(&wc, "database", "pool", "4"), ERR_NOT_FOUND);
	assert_int_equal(pair(&wc, "webhookx", "url", "http://a/"),
	    ERR_NOT_FOUND);
	assert_int_equal(pair(&wc, "webhook:rx", "url",
	    "http://127.0.0.1:9/hook"), 0);
	assert_int_equal(pair(&wc, "webhook:rx", "secret_file", secret_path),
	    0);
	assert_int_equal(pair(&wc, "webhook:rx", "events",
	    "PayoutConfirmed, PayoutFailed"), 0);
	assert_int_equal(pair(&wc, "webhooks", "max_attempts", "5"), 0);
	assert_int_equal(wh_config_check(&wc, why, sizeof(why)), 0);
	assert_int_equal(wc.nsubs, 1);
	assert_int_equal(wc.max_attempts, 5);
	assert_int_equal(wc.backoff_base_ms, 1000);
	assert_int_equal(wc.backoff_max_ms, 600000);
	assert_int_equal(wc.timeout_ms, 10000);
	assert_int_equal(wc.workers, 1);
	assert_int_equal(wc.subs[0].nevents, 2);
	assert_string_equal(wc.subs[0].events[1], "PayoutFailed");
	/* the newline is not part of the secret */
	assert_int_equal(wc.subs[0].secret_len, 32);
	assert_memory_equal(wc.subs[0].secret,
	    "0123456789abcdef0123456789abcdef", 32);
	wh_config_wipe(&wc);
	assert_int_equal(wc.subs[0].secret_len, 0);
	assert_int_equal(wc.subs[0].secret[0], 0);
	unlink(secret_path);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *sec, *key, *val;
	} bad[] = {
		{ "webhooks", "max_attempts", "0" },
		{ "webhooks", "max_attempts", "101" },
		{ "webhooks", "workers", "17" },
		{ "webhooks", "timeout_ms", "99" },
		{ "webhooks", "backoff_base_ms", "05" },
		{ "webhooks", "nosuch", "1" },
		{ "webhook:RX", "url", "http://a/" },
		{ "webhook:", "url", "http://a/" },
		{ "webhook:a.b", "url", "http://a/" },
		{ "webhook:rx", "nosuch", "x" },
		{ "webhook:rx", "url", "http://u:p@a/" },
		{ "webhook:rx", "secret_file", "relative/path" },
		{ "webhook:rx", "events", "PayoutConfirmd" },
		{ "webhook:rx", "events", "PayoutConfirmed," },
		{ "webhook:rx", "events", "PayoutConfirmed PayoutFailed" },
		{ "webhook:rx", "events", "PayoutFailed,PayoutFailed" },
		{ "webhook:rx", "events", "," },
	};
	struct wh_config wc;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&wc, 0, sizeof(wc));
		why[0] = '\0';
		if (wh_config_pair(&wc, bad[i].sec, bad[i].key, bad[i].val, 3,
		    why, sizeof(why)) != ERR_MALFORMED)
			fail_msg("accepted [%s] %s = %s", bad[i].sec,
			    bad[i].key, bad[i].val);
		assert_true(why[0] != '\0');
	}
	/* duplicates name the first line */
	memset(&wc, 0, sizeof(wc));
	assert_int_equal(pair(&wc, "webhooks", "workers", "2"), 0);
	assert_int_equal(wh_config_pair(&wc, "webhooks", "workers", "3", 9,
	    why, sizeof(why)), ERR_MALFORMED);
	assert_non_null(strstr(why, "line 7"));
	assert_int_equal(wc.workers, 2);
	assert_int_equal(pair(&wc, "webhook:a", "url", "http://a/"), 0);
	assert_int_equal(pair(&wc, "webhook:a", "url", "http://b/"),
	    ERR_MALFORMED);
	assert_string_equal(wc.subs[0].url, "http://a/");
	/* a subscriber without its secret file */
	assert_int_equal(wh_config_check(&wc, why, sizeof(why)),
	    ERR_MALFORMED);
	assert_non_null(strstr(why, "secret_file"));
	/* base above max */
	memset(&wc, 0, sizeof(wc));
	assert_int_equal(pair(&wc, "webhooks", "backoff_base_ms", "5000"), 0);
	assert_int_equal(pair(&wc, "webhooks", "backoff_max_ms", "4000"), 0);
	assert_int_equal(wh_config_check(&wc, why, sizeof(why)),
	    ERR_MALFORMED);
	/* at most WH_SUBS_MAX */
	memset(&wc, 0, sizeof(wc));
	for (i = 0; i < WH_SUBS_MAX; i++) {
		char sec[32];

		snprintf(sec, sizeof(sec), "webhook:s%zu", i);
		assert_int_equal(pair(&wc, sec, "url", "http://a/"), 0);
	}
	assert_int_equal(pair(&wc, "webhook:one-more", "url", "http://a/"),
	    ERR_MALFORMED);
}

/* The secret file gets the tokens file's checks, and its content a shape. */
static void
test_secret_file(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		int want;
	} cases[] = {
		{ "0123456789abcdef\n", 0600, 0 },
		{ "0123456789abcdef", 0400, 0 },
		{ "0123456789abcdef\r\n", 0600, 0 },
		{ "0123456789abcdef\n", 0640, ERR_PERMISSION },
		{ "0123456789abcdef\n", 0604, ERR_PERMISSION },
		{ "0123456789abcde\n", 0600, ERR_MALFORMED },	/* 15 bytes */
		{ "0123456789 abcdef\n", 0600, ERR_MALFORMED },
		{ "0123456789abcdef\nsecond\n", 0600, ERR_MALFORMED },
		{ "", 0600, ERR_MALFORMED },
	};
	struct wh_config wc;
	char why[256], big[WH_SECRET_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&wc, 0, sizeof(wc));
		write_secret(cases[i].text, cases[i].mode);
		assert_int_equal(pair(&wc, "webhook:rx", "url", "http://a/"),
		    0);
		assert_int_equal(pair(&wc, "webhook:rx", "secret_file",
		    secret_path), 0);
		if (wh_config_check(&wc, why, sizeof(why)) != cases[i].want)
			fail_msg("case %zu: %s", i, why);
		if (cases[i].want != 0)
			assert_int_equal(wc.subs[0].secret[0], 0);
	}
	/* too long */
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&wc, 0, sizeof(wc));
	write_secret(big, 0600);
	assert_int_equal(pair(&wc, "webhook:rx", "url", "http://a/"), 0);
	assert_int_equal(pair(&wc, "webhook:rx", "secret_file", secret_path),
	    0);
	assert_int_equal(wh_config_check(&wc, why, sizeof(why)),
	    ERR_TOO_LARGE);
	/* a symbolic link to a good file */
	write_secret("0123456789abcdef\n", 0600);
	{
		char link[80];

		snprintf(link, sizeof(link), "%s.lnk", secret_path);
		unlink(link);
		assert_int_equal(symlink(secret_path, link), 0);
		memset(&wc, 0, sizeof(wc));
		assert_int_equal(pair(&wc, "webhook:rx", "url", "http://a/"),
		    0);
		assert_int_equal(pair(&wc, "webhook:rx", "secret_file", link),
		    0);
		assert_int_equal(wh_config_check(&wc, why, sizeof(why)),
		    ERR_PERMISSION);
		assert_non_null(strstr(why, "symbolic link"));
		unlink(link);
	}
	/* missing */
	unlink(secret_path);
	memset(&wc, 0, sizeof(wc));
	assert_int_equal(pair(&wc, "webhook:rx", "url", "http://a/"), 0);
	assert_int_equal(pair(&wc, "webhook:rx", "secret_file", secret_path),
	    0);
	assert_int_equal(wh_config_check(&wc, why, sizeof(why)), ERR_IO);
}

/* The replay body is untrusted input: only the two shapes pass. */
static void
test_replay_body(void **state)
{
	static const char *bad[] = {
		"", "x", "[]", "1", "null", "{}", "{\"all\":false}",
		"{\"all\":1}", "{\"event_id\":0}", "{\"event_id\":-1}",
		"{\"event_id\":\"5\"}", "{\"event_id\":1.5}",
		"{\"event_id\":9007199254740992}", "{\"event_id\":1,\"all\":true}",
		"{\"event\":1}", "{\"event_id\":1,\"event_id\":2}",
		"{\"all\":true} x",
	};
	char why[160];
	int64_t ev;
	size_t i;

	assert_int_equal(api_webhooks_replay_body(&ev, why, sizeof(why),
	    (const uint8_t *)"{\"event_id\":42}", 15), 0);
	assert_int_equal(ev, 42);
	assert_int_equal(api_webhooks_replay_body(&ev, why, sizeof(why),
	    (const uint8_t *)"{\"all\":true}", 12), 0);
	assert_int_equal(ev, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ev = 7;
		if (api_webhooks_replay_body(&ev, why, sizeof(why),
		    (const uint8_t *)bad[i], strlen(bad[i])) != ERR_MALFORMED)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(ev, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_good_and_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_replay_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
