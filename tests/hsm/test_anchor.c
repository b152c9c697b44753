/* test_anchor.c: the journal anchor data object on a real SoftHSM2 token, and its v1 text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"
#include "hsm/internal.h"

#define SIGNERS 3
#define SIGNS_EACH 30
#define WRITES_EACH 25

static struct hsm *h;
static struct hsm_key key;

static int
setup(void **state)
{
	if (fx_setup(state) != 0 || fx_token("anchor") != 0 ||
	    fx_token("nolog") != 0 || fx_open(&h, "anchor", 2) != 0)
		return -1;
	if (hsm_key_generate(h, &key, "signing", HSM_KEY_SECP256K1) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	hsm_close(h);
	return fx_teardown(state);
}

/* The v1 text for (seq, a hash made of one byte). */
static size_t
text_of(char out[HSM_ANCHOR_TEXT_MAX], uint64_t seq, uint8_t fill)
{
	uint8_t hash[32];

	memset(hash, fill, sizeof(hash));
	return hsm_anchor_text(out, seq, hash);
}

/* Writes the v1 text for (seq, fill) under label. */
static int
write_seq(struct hsm *hh, const char *label, uint64_t seq, uint8_t fill)
{
	char text[HSM_ANCHOR_TEXT_MAX];
	size_t n = text_of(text, seq, fill);

	return hsm_anchor_write(hh, label, (const uint8_t *)text, n);
}

/* Reads label's anchor and parses it; the read's or the parse's error. */
static int
read_seq(struct hsm *hh, const char *label, uint64_t *seq, uint8_t hash[32])
{
	uint8_t buf[HSM_ANCHOR_MAX];
	size_t len;
	int r;

	if ((r = hsm_anchor_read(hh, label, buf, sizeof(buf), &len)) != 0)
		return r;
	return hsm_anchor_text_parse(seq, hash, buf, len);
}

/* Every data object labelled label (public ones too), through the raw API. */
static size_t
raw_count(const char *label)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE objs[16];
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;

	assert_non_null(f);
	s = fx_raw_session(f, "anchor");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(f->C_FindObjectsInit(s, t, ARRAY_LEN(t)), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, objs, ARRAY_LEN(objs), &n),
	    CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	f->C_CloseSession(s);
	return n;
}

/*
 * Creates a data object labelled label with the anchor's application
 * behind hsm/'s back; oid (NULL: none) is its CKA_OBJECT_ID.
 */
static void
raw_create(const char *label, CK_BBOOL priv, const uint8_t *oid,
    size_t oidlen, const char *value)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &priv, sizeof(priv) },
		{ CKA_APPLICATION, HSM_ANCHOR_APPLICATION,
		    strlen(HSM_ANCHOR_APPLICATION) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_VALUE, (void *)value, strlen(value) },
		{ CKA_OBJECT_ID, (void *)oid, oidlen },
	};
	CK_OBJECT_HANDLE o;
	CK_SESSION_HANDLE s;

	assert_non_null(f);
	s = fx_raw_session(f, "anchor");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(f->C_CreateObject(s, t, ARRAY_LEN(t) - (oid == NULL),
	    &o), CKR_OK);
	f->C_CloseSession(s);
}

/* The CKA_OBJECT_ID of the one private anchor object labelled label. */
static size_t
raw_oid(const char *label, uint8_t *out, size_t cap)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE a = { CKA_OBJECT_ID, out, cap };
	CK_OBJECT_HANDLE o;
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;

	s = fx_raw_session(f, "anchor");
	assert_int_equal(f->C_FindObjectsInit(s, t, ARRAY_LEN(t)), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &o, 1, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(f->C_GetAttributeValue(s, o, &a, 1), CKR_OK);
	f->C_CloseSession(s);
	return a.ulValueLen;
}

static void
test_absent(void **state)
{
	uint8_t buf[16];
	size_t len = 99;

	assert_int_equal(hsm_anchor_read(h, "absent", buf, sizeof(buf), &len),
	    ERR_NOT_FOUND);
	assert_int_equal(len, 0);
	assert_non_null(strstr(hsm_last_error(), "\"absent\""));
	assert_int_equal(hsm_last_rv(), CKR_OK);
	assert_int_equal(hsm_anchor_delete(h, "absent"), ERR_NOT_FOUND);
}

static void
test_round_trip(void **state)
{
	char text[HSM_ANCHOR_TEXT_MAX];
	uint8_t buf[HSM_ANCHOR_MAX], hash[32], want[32];
	uint64_t seq;
	size_t n, len;

	n = text_of(text, 41, 0x5c);
	assert_int_equal(hsm_anchor_write(h, "rt", (uint8_t *)text, n), 0);
	assert_int_equal(hsm_anchor_read(h, "rt", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, text, n);
	assert_int_equal(hsm_anchor_text_parse(&seq, hash, buf, len), 0);
	memset(want, 0x5c, sizeof(want));
	assert_int_equal(seq, 41);
	assert_memory_equal(hash, want, 32);
	/* Arbitrary bytes too: hsm/ does not read the value. */
	assert_int_equal(hsm_anchor_write(h, "bytes", (uint8_t *)"\0\1\2", 3),
	    0);
	assert_int_equal(hsm_anchor_read(h, "bytes", buf, sizeof(buf), &len),
	    0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "\0\1\2", 3);
}

/* The object is what the contract says, and exactly one stays per label. */
static void
test_object_attributes(void **state)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, "attrs", 5 },
	};
	CK_BBOOL tok = 0, priv = 0, mod = 0;
	char app[64];
	CK_ATTRIBUTE get[] = {
		{ CKA_TOKEN, &tok, sizeof(tok) },
		{ CKA_PRIVATE, &priv, sizeof(priv) },
		{ CKA_MODIFIABLE, &mod, sizeof(mod) },
		{ CKA_APPLICATION, app, sizeof(app) },
	};
	CK_OBJECT_HANDLE o;
	CK_SESSION_HANDLE s;
	CK_ULONG n = 0;

	assert_int_equal(write_seq(h, "attrs", 1, 1), 0);
	s = fx_raw_session(f, "anchor");
	assert_int_equal(f->C_FindObjectsInit(s, find, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &o, 1, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(f->C_GetAttributeValue(s, o, get, 4), CKR_OK);
	f->C_CloseSession(s);
	assert_true(tok);
	assert_true(priv);
	assert_true(mod);
	assert_int_equal(get[3].ulValueLen, strlen(HSM_ANCHOR_APPLICATION));
	assert_memory_equal(app, HSM_ANCHOR_APPLICATION, get[3].ulValueLen);
}

static void
test_overwrite(void **state)
{
	uint8_t hash[32];
	uint64_t seq, i;

	for (i = 1; i <= 5; i++) {
		assert_int_equal(write_seq(h, "ow", i * 1000, (uint8_t)i), 0);
		assert_int_equal(read_seq(h, "ow", &seq, hash), 0);
		assert_int_equal(seq, i * 1000);
		assert_int_equal(hash[0], (uint8_t)i);
		/* Replaced, not added to: one object per label. */
		assert_int_equal(raw_count("ow"), 1);
	}
	/* A shorter value after a longer one is not padded with the old. */
	assert_int_equal(hsm_anchor_write(h, "ow", (uint8_t *)"x", 1), 0);
	{
		uint8_t buf[HSM_ANCHOR_MAX];
		size_t len;

		assert_int_equal(hsm_anchor_read(h, "ow", buf, sizeof(buf),
		    &len), 0);
		assert_int_equal(len, 1);
		assert_int_equal(buf[0], 'x');
	}
}

/* A token object: a new hsm_open and login finds it again. */
static void
test_survives_reopen(void **state)
{
	uint8_t hash[32];
	uint64_t seq;

	assert_int_equal(write_seq(h, "persist", 777, 0x77), 0);
	hsm_close(h);
	h = NULL;
	assert_int_equal(fx_open(&h, "anchor", 2), 0);
	assert_int_equal(read_seq(h, "persist", &seq, hash), 0);
	assert_int_equal(seq, 777);
	assert_int_equal(hash[31], 0x77);
	/* The signing key handle is re-found for the tests after this one. */
	assert_int_equal(hsm_key_find(h, &key, "pkcs11:object=signing"), 0);
}

/* Two objects hsm/ cannot order: read, write and delete say so or clear them. */
static void
test_two_objects(void **state)
{
	uint8_t buf[HSM_ANCHOR_MAX];
	size_t len = 5;

	assert_int_equal(write_seq(h, "dup", 1, 1), 0);
	raw_create("dup", CK_TRUE, NULL, 0, "signer-journal-anchor v1 9 x\n");
	assert_int_equal(raw_count("dup"), 2);
	assert_int_equal(hsm_anchor_read(h, "dup", buf, sizeof(buf), &len),
	    ERR_EXISTS);
	assert_int_equal(len, 0);
	assert_non_null(strstr(hsm_last_error(), "\"dup\""));
	/* Nothing is written on top of an ambiguous anchor. */
	assert_int_equal(write_seq(h, "dup", 2, 2), ERR_EXISTS);
	assert_int_equal(raw_count("dup"), 2);
	/* The operator's way out: delete them all, then re-anchor. */
	assert_int_equal(hsm_anchor_delete(h, "dup"), 0);
	assert_int_equal(raw_count("dup"), 0);
	assert_int_equal(hsm_anchor_read(h, "dup", buf, sizeof(buf), &len),
	    ERR_NOT_FOUND);
	assert_int_equal(write_seq(h, "dup", 3, 3), 0);
	assert_int_equal(raw_count("dup"), 1);

	/* Two with one generation are as ambiguous as two with none. */
	{
		uint8_t oid[16];
		size_t n = raw_oid("dup", oid, sizeof(oid));

		raw_create("dup", CK_TRUE, oid, n, "same generation\n");
		assert_int_equal(hsm_anchor_read(h, "dup", buf, sizeof(buf),
		    &len), ERR_EXISTS);
		assert_int_equal(hsm_anchor_delete(h, "dup"), 0);
	}
}

/*
 * A write that died between creating the new object and destroying the
 * old leaves both: the newer generation is the anchor, and the next write
 * leaves one object again.
 */
static void
test_crashed_write(void **state)
{
	char text[HSM_ANCHOR_TEXT_MAX + 1];
	uint8_t oid[16], hash[32];
	uint64_t seq;
	size_t n;

	assert_int_equal(write_seq(h, "crash", 10, 1), 0);
	assert_int_equal(write_seq(h, "crash", 11, 1), 0);
	n = raw_oid("crash", oid, sizeof(oid));
	/* Generation 2 is 06 02 69 02 (2.25.2); the crashed write made 3. */
	assert_int_equal(n, 4);
	assert_memory_equal(oid, "\x06\x02\x69\x02", 4);
	oid[3] = 3;
	text[text_of(text, 12, 2)] = '\0';
	raw_create("crash", CK_TRUE, oid, n, text);
	assert_int_equal(raw_count("crash"), 2);
	assert_int_equal(read_seq(h, "crash", &seq, hash), 0);
	assert_int_equal(seq, 12);
	assert_int_equal(write_seq(h, "crash", 13, 3), 0);
	assert_int_equal(raw_count("crash"), 1);
	assert_int_equal(read_seq(h, "crash", &seq, hash), 0);
	assert_int_equal(seq, 13);
	n = raw_oid("crash", oid, sizeof(oid));
	assert_memory_equal(oid, "\x06\x02\x69\x04", 4);
}

/* Without the PIN anyone can make a public object; it is never the anchor. */
static void
test_public_lookalike(void **state)
{
	uint8_t hash[32];
	uint64_t seq;

	raw_create("pub", CK_FALSE, NULL, 0, "signer-journal-anchor v1 1 x\n");
	assert_int_equal(read_seq(h, "pub", &seq, hash), ERR_NOT_FOUND);
	assert_int_equal(write_seq(h, "pub", 500, 5), 0);
	assert_int_equal(read_seq(h, "pub", &seq, hash), 0);
	assert_int_equal(seq, 500);
	assert_int_equal(hsm_anchor_delete(h, "pub"), 0);
	/* Ours went; the public one is not ours to delete. */
	assert_int_equal(raw_count("pub"), 1);
	assert_int_equal(read_seq(h, "pub", &seq, hash), ERR_NOT_FOUND);
}

static void
test_delete(void **state)
{
	uint8_t hash[32];
	uint64_t seq;

	assert_int_equal(write_seq(h, "del", 5, 5), 0);
	assert_int_equal(write_seq(h, "keep", 6, 6), 0);
	assert_int_equal(hsm_anchor_delete(h, "del"), 0);
	assert_int_equal(read_seq(h, "del", &seq, hash), ERR_NOT_FOUND);
	assert_int_equal(hsm_anchor_delete(h, "del"), ERR_NOT_FOUND);
	/* Only that label. */
	assert_int_equal(read_seq(h, "keep", &seq, hash), 0);
	assert_int_equal(seq, 6);
	/* A deliberate re-anchor starts again from whatever the caller says. */
	assert_int_equal(write_seq(h, "del", 1, 1), 0);
	assert_int_equal(read_seq(h, "del", &seq, hash), 0);
	assert_int_equal(seq, 1);
}

static void
test_sizes_and_labels(void **state)
{
	uint8_t big[HSM_ANCHOR_MAX + 1], buf[8];
	char longlabel[HSM_LABEL_MAX + 2];
	size_t len = 1;

	memset(big, 'a', sizeof(big));
	assert_int_equal(hsm_anchor_write(h, "size", big, sizeof(big)),
	    ERR_TOO_LARGE);
	assert_int_equal(hsm_anchor_write(h, "size", big, 0), ERR_INVALID_ARG);
	assert_int_equal(hsm_anchor_write(h, "size", big, HSM_ANCHOR_MAX), 0);
	/* Too small a buffer: the size is told and buf left alone. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(hsm_anchor_read(h, "size", buf, sizeof(buf), &len),
	    ERR_TOO_LARGE);
	assert_int_equal(len, HSM_ANCHOR_MAX);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);

	memset(longlabel, 'l', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';
	assert_int_equal(hsm_anchor_write(h, longlabel, big, 1),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_anchor_write(h, "", big, 1), ERR_INVALID_ARG);
	assert_int_equal(hsm_anchor_read(h, "new\nline", buf, sizeof(buf),
	    &len), ERR_INVALID_ARG);
	assert_int_equal(hsm_anchor_delete(h, ""), ERR_INVALID_ARG);
	longlabel[HSM_LABEL_MAX] = '\0';
	assert_int_equal(hsm_anchor_write(h, longlabel, big, 1), 0);
	assert_int_equal(hsm_anchor_delete(h, longlabel), 0);
}

/* Before login a private object is invisible: that is not "no anchor". */
static void
test_not_logged_in(void **state)
{
	struct hsm *o = NULL;
	uint8_t buf[8];
	size_t len;

	assert_int_equal(hsm_open(&o, fx.module, "pkcs11:token=nolog", 1), 0);
	assert_int_equal(hsm_anchor_read(o, "x", buf, sizeof(buf), &len),
	    ERR_HSM_NOT_LOGGED_IN);
	assert_non_null(strstr(hsm_last_error(), "log in"));
	assert_int_equal(hsm_anchor_write(o, "x", buf, 1),
	    ERR_HSM_NOT_LOGGED_IN);
	assert_int_equal(hsm_anchor_delete(o, "x"), ERR_HSM_NOT_LOGGED_IN);
	/* Every session went back to the pool. */
	assert_int_equal(o->nidle, 1);
	hsm_close(o);
}

struct worker {
	int id;
	const char *label;	/* NULL: a signer */
	int done;
	int err;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t digest[32], sig[64];
	int i, r = 0;

	for (i = 0; i < (w->label ? WRITES_EACH : SIGNS_EACH); i++) {
		if (w->label != NULL) {
			/* Two writers share "race": seq tells them apart. */
			r = write_seq(h, w->label, (uint64_t)w->id * 1000 +
			    (uint64_t)i, (uint8_t)w->id);
		} else {
			memset(digest, w->id, sizeof(digest));
			digest[0] = (uint8_t)i;
			r = hsm_sign(h, sig, &key, digest);
			if (r == 0 && !fx_verify(key.type, key.pub, digest,
			    sig))
				r = ERR_BAD_SIGNATURE;
		}
		if (r != 0)
			break;
		w->done++;
	}
	w->err = r;
	return NULL;
}

/* Anchor writers beside signers on a 2-session pool: nothing fails or leaks. */
static void
test_concurrent(void **state)
{
	static const char *labels[] = { "race", "race", "solo" };
	struct worker w[SIGNERS + ARRAY_LEN(labels)];
	pthread_t t[ARRAY_LEN(w)];
	uint8_t hash[32];
	uint64_t seq;
	size_t i;

	for (i = 0; i < ARRAY_LEN(w); i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = (int)i + 1;
		w[i].label = i < SIGNERS ? NULL : labels[i - SIGNERS];
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < ARRAY_LEN(w); i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < ARRAY_LEN(w); i++) {
		assert_int_equal(w[i].err, 0);
		assert_int_equal(w[i].done,
		    w[i].label ? WRITES_EACH : SIGNS_EACH);
	}
	assert_int_equal(h->nidle, h->nsessions);
	/* One object per label, holding one writer's last value. */
	assert_int_equal(raw_count("race"), 1);
	assert_int_equal(raw_count("solo"), 1);
	assert_int_equal(read_seq(h, "race", &seq, hash), 0);
	assert_true(seq == (SIGNERS + 1) * 1000 + WRITES_EACH - 1 ||
	    seq == (SIGNERS + 2) * 1000 + WRITES_EACH - 1);
	assert_int_equal(hash[0], seq / 1000);
	assert_int_equal(read_seq(h, "solo", &seq, hash), 0);
	assert_int_equal(seq, (SIGNERS + 3) * 1000 + WRITES_EACH - 1);
}

static int
parse_str(uint64_t *seq, uint8_t hash[32], const char *s)
{
	return hsm_anchor_text_parse(seq, hash, (const uint8_t *)s, strlen(s));
}

#define H64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
test_text(void **state)
{
	static const char *bad[] = {
		"",
		"signer-journal-anchor",
		"signer-journal-anchor v1 ",
		"signer-journal-anchor v1 7 " H64,		/* no newline */
		"signer-journal-anchor v1 7 " H64 "\n\n",	/* trailing */
		"signer-journal-anchor v1 07 " H64 "\n",	/* leading 0 */
		"signer-journal-anchor v1 0 " H64 "\n",	/* no record */
		"signer-journal-anchor v1 -7 " H64 "\n",
		"signer-journal-anchor v1 +7 " H64 "\n",
		"signer-journal-anchor v1  7 " H64 "\n",
		"signer-journal-anchor v1 18446744073709551616 " H64 "\n",
		"signer-journal-anchor v1 7 " H64 "0\n",		/* 65 digits */
		"signer-journal-anchor v1 7 0x" H64 "\n",
		"signer-journal-anchor v1 7 "
		    "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n",
		"signer-journal-anchor v1 7 "
		    "0011223344556677889900112233445566778899aabbccddeeff00112233g\n",
		"signer-journal-anchor v1 7 " H64 "\r\n",
		"signer-journal-anchor vx 7 " H64 "\n",
		"Signer-journal-anchor v1 7 " H64 "\n",
	};
	char text[HSM_ANCHOR_TEXT_MAX];
	uint8_t hash[32], got[32];
	uint64_t seq;
	size_t n, i;

	for (i = 0; i < 32; i++)
		hash[i] = (uint8_t)(i * 9);
	n = hsm_anchor_text(text, UINT64_MAX, hash);
	assert_int_equal(n, HSM_ANCHOR_TEXT_MAX);
	assert_memory_equal(text, "signer-journal-anchor v1 "
	    "18446744073709551615 ", 46);
	assert_int_equal(text[n - 1], '\n');
	assert_int_equal(hsm_anchor_text_parse(&seq, got, (uint8_t *)text,
	    n), 0);
	assert_true(seq == UINT64_MAX);
	assert_memory_equal(got, hash, 32);
	n = hsm_anchor_text(text, 1, hash);
	assert_int_equal(hsm_anchor_text_parse(&seq, got, (uint8_t *)text,
	    n), 0);
	assert_int_equal(seq, 1);
	/* Seq 0 names no record: signerd never anchors it. */
	n = hsm_anchor_text(text, 0, hash);
	assert_int_equal(hsm_anchor_text_parse(&seq, got, (uint8_t *)text,
	    n), ERR_MALFORMED);

	assert_int_equal(parse_str(&seq, got,
	    "signer-journal-anchor v1 7 " H64 "\n"), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(got[1], 0x11);
	assert_int_equal(parse_str(&seq, got,
	    "signer-journal-anchor v2 7 " H64 "\n"), ERR_BAD_VERSION);
	assert_int_equal(seq, 0);
	assert_memory_equal(got, (uint8_t[32]){ 0 }, 32);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		seq = 1;
		assert_int_equal(parse_str(&seq, got, bad[i]), ERR_MALFORMED);
		assert_int_equal(seq, 0);
	}
	/* An embedded NUL is a byte like any other: not a v1 anchor. */
	assert_int_equal(hsm_anchor_text_parse(&seq, got,
	    (const uint8_t *)"signer-journal-anchor v1 7\0 " H64 "\n",
	    28 + 64 + 1), ERR_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_object_attributes),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_survives_reopen),
		cmocka_unit_test(test_two_objects),
		cmocka_unit_test(test_crashed_write),
		cmocka_unit_test(test_public_lookalike),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_sizes_and_labels),
		cmocka_unit_test(test_not_logged_in),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
