/* anchor.c: the journal's rollback anchor, a private data object on the token, and its v1 text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

static const CK_BBOOL yes = CK_TRUE;
static const CK_OBJECT_CLASS data_class = CKO_DATA;

#define APP HSM_ANCHOR_APPLICATION
#define APP_LEN (sizeof(APP) - 1)

/*
 * What makes an object the anchor.  CKA_PRIVATE is part of the search:
 * without the PIN nobody can create, see or change a private object, but
 * anyone with a R/W session can create a public one with our label.
 */
#define ANCHOR_TEMPLATE(label)						\
	{ CKA_CLASS, (void *)&data_class, sizeof(data_class) },		\
	{ CKA_TOKEN, (void *)&yes, sizeof(yes) },			\
	{ CKA_PRIVATE, (void *)&yes, sizeof(yes) },			\
	{ CKA_APPLICATION, (void *)APP, APP_LEN },			\
	{ CKA_LABEL, (void *)(label), strlen(label) }

/*
 * Takes a session and the anchor lock, after checking the label; the
 * session must be logged in as the user (a private object is invisible
 * otherwise, and "not found" would then be a lie).
 */
static int
anchor_begin(struct hsm *h, const char *label, CK_SESSION_HANDLE *s)
{
	int r;

	*s = CK_INVALID_HANDLE;
	if (!hsm_label_ok(label)) {
		hsm_error_set("an anchor label has 1 to %d printable "
		    "characters", HSM_LABEL_MAX);
		return ERR_INVALID_ARG;
	}
	/* Lock order: anchor_mu, then the pool's mu inside take/give. */
	pthread_mutex_lock(&h->anchor_mu);
	*s = hsm_pool_take(h);
	if ((r = hsm_session_check(h, *s, 1)) != 0) {
		if (r == ERR_HSM_NOT_LOGGED_IN)
			hsm_error_set("the journal anchor is a private object: "
			    "log in to the token first");
		hsm_pool_give(h, *s);
		pthread_mutex_unlock(&h->anchor_mu);
		*s = CK_INVALID_HANDLE;
	}
	return r;
}

static void
anchor_end(struct hsm *h, CK_SESSION_HANDLE s)
{
	hsm_pool_give(h, s);
	pthread_mutex_unlock(&h->anchor_mu);
}

/* Every anchor object labelled label (at most max; 0: all). */
static int
anchor_find(struct hsm *h, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_HANDLE **objs, size_t *n, size_t max)
{
	CK_ATTRIBUTE t[] = { ANCHOR_TEMPLATE(label) };

	return hsm_find_objects(h, s, objs, n, t, ARRAY_LEN(t), max);
}

/*
 * PKCS#11 makes a data object's CKA_VALUE read-only once created (SoftHSM:
 * CKR_ATTRIBUTE_READ_ONLY), so a write creates the new anchor and then
 * destroys the old one.  Each object carries a generation in CKA_OBJECT_ID
 * so that the two left by a crash between those steps can be told apart:
 * the higher generation is the newer value.  Nothing is ever rewritten in
 * place, so there is no moment at which a crash leaves no anchor or half
 * of one.  The generation is spelled as a DER OID under 2.25 (the arc of
 * integers anyone may use), since CKA_OBJECT_ID is meant to hold one:
 * 06 len 69 <gen in base 128>.
 */
#define GEN_ARC 0x69		/* 2.25: 2 * 40 + 25 */
#define GEN_DER_MAX (3 + 10)	/* a uint64_t takes at most 10 base-128 bytes */
/* More objects than this under one label are an error, not a crash. */
#define ANCHOR_SCAN_MAX 8

static size_t
gen_encode(uint8_t out[GEN_DER_MAX], uint64_t gen)
{
	uint8_t groups[10];
	size_t n = 0, i;

	do {
		groups[n++] = gen & 0x7f;
		gen >>= 7;
	} while (gen != 0);
	out[0] = 0x06;
	out[1] = (uint8_t)(n + 1);
	out[2] = GEN_ARC;
	for (i = 0; i < n; i++)
		out[3 + i] = groups[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
	return 3 + n;
}

/* 0 and *gen, or ERR_MALFORMED for anything but gen_encode's output. */
static int
gen_decode(uint64_t *gen, const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	*gen = 0;
	if (n < 4 || n > GEN_DER_MAX || p[0] != 0x06 || p[1] != n - 2 ||
	    p[2] != GEN_ARC || p[3] == 0x80)
		return ERR_MALFORMED;
	for (i = 3; i < n; i++) {
		if ((i + 1 < n) != ((p[i] & 0x80) != 0))
			return ERR_MALFORMED;
		if (v > (UINT64_MAX >> 7))
			return ERR_MALFORMED;
		v = (v << 7) | (p[i] & 0x7f);
	}
	*gen = v;
	return 0;
}

/* The object's generation: 0 and *has = 1, or *has = 0 if it carries none. */
static int
gen_read(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
    uint64_t *gen, int *has)
{
	uint8_t der[GEN_DER_MAX];
	CK_ATTRIBUTE a = { CKA_OBJECT_ID, der, sizeof(der) };
	CK_RV rv;

	*gen = 0;
	*has = 0;
	rv = h->f->C_GetAttributeValue(s, obj, &a, 1);
	/* Too long or absent: not one of ours, so no generation. */
	if (rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return 0;
	if (rv != CKR_OK)
		return hsm_fail("C_GetAttributeValue(CKA_OBJECT_ID)", rv);
	if (a.ulValueLen != CK_UNAVAILABLE_INFORMATION &&
	    gen_decode(gen, der, a.ulValueLen) == 0)
		*has = 1;
	return 0;
}

/*
 * Which of the n (>= 1) objects is the anchor: the only one, or the one
 * with the highest generation when every one has a generation and the
 * highest is unique (a write that crashed before destroying the old
 * object).  Anything else is ERR_EXISTS: which one is the anchor is not
 * ours to guess.  *gen is the anchor's generation (0 if it has none).
 */
static int
anchor_pick(struct hsm *h, CK_SESSION_HANDLE s, const char *label,
    const CK_OBJECT_HANDLE *objs, size_t n, size_t *pick, uint64_t *gen)
{
	uint64_t g, best = 0;
	size_t i, nbest = 0;
	int has, r;

	*pick = 0;
	*gen = 0;
	if (n >= ANCHOR_SCAN_MAX)
		goto ambiguous;
	for (i = 0; i < n; i++) {
		if ((r = gen_read(h, s, objs[i], &g, &has)) != 0)
			return r;
		if (!has && n > 1)
			goto ambiguous;
		if (i == 0 || g > best) {
			best = g;
			*pick = i;
			nbest = 1;
		} else if (g == best) {
			nbest++;
		}
	}
	if (nbest != 1)
		goto ambiguous;
	*gen = best;
	return 0;
ambiguous:
	*pick = 0;
	hsm_error_set("%s%zu journal anchors labelled \"%s\" on the token and "
	    "none is clearly the newest; delete them all and re-anchor",
	    n >= ANCHOR_SCAN_MAX ? "at least " : "", n, label);
	return ERR_EXISTS;
}

static int
not_found(const char *label)
{
	hsm_error_set("no journal anchor labelled \"%s\" on the token", label);
	return ERR_NOT_FOUND;
}

int
hsm_anchor_read(struct hsm *h, const char *label, uint8_t *buf, size_t cap,
    size_t *len)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE s;
	CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
	uint64_t gen;
	size_t n, i;
	CK_RV rv;
	int locked = 0, r;

	*len = 0;
	hsm_error_clear();
	if ((r = anchor_begin(h, label, &s)) != 0)
		goto out;
	locked = 1;
	if ((r = anchor_find(h, s, label, &objs, &n, ANCHOR_SCAN_MAX)) != 0)
		goto out;
	if (n == 0) {
		r = not_found(label);
		goto out;
	}
	if ((r = anchor_pick(h, s, label, objs, n, &i, &gen)) != 0)
		goto out;
	/* The length first, so a value that does not fit leaves buf alone. */
	if ((rv = h->f->C_GetAttributeValue(s, objs[i], &v, 1)) != CKR_OK) {
		r = hsm_fail("C_GetAttributeValue(CKA_VALUE)", rv);
		goto out;
	}
	if (v.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		hsm_error_set("the journal anchor's CKA_VALUE is unreadable");
		r = ERR_HSM;
		goto out;
	}
	if (v.ulValueLen > cap) {
		hsm_error_set("the journal anchor has %lu bytes; room for %zu",
		    v.ulValueLen, cap);
		*len = v.ulValueLen;
		r = ERR_TOO_LARGE;
		goto out;
	}
	v.pValue = buf;
	if ((rv = h->f->C_GetAttributeValue(s, objs[i], &v, 1)) != CKR_OK) {
		r = hsm_fail("C_GetAttributeValue(CKA_VALUE)", rv);
		goto out;
	}
	*len = v.ulValueLen;
	r = 0;
out:
	if (locked)
		anchor_end(h, s);
	free(objs);
	return r;
}

int
hsm_anchor_write(struct hsm *h, const char *label, const uint8_t *buf,
    size_t len)
{
	CK_OBJECT_HANDLE *objs = NULL, obj;
	CK_SESSION_HANDLE s;
	uint8_t der[GEN_DER_MAX];
	uint64_t gen = 0;
	size_t n, i;
	CK_RV rv;
	int locked = 0, r;

	hsm_error_clear();
	if (len == 0 || len > HSM_ANCHOR_MAX) {
		hsm_error_set("a journal anchor has 1 to %d bytes, not %zu",
		    HSM_ANCHOR_MAX, len);
		r = len == 0 ? ERR_INVALID_ARG : ERR_TOO_LARGE;
		goto out;
	}
	if ((r = anchor_begin(h, label, &s)) != 0)
		goto out;
	locked = 1;
	if ((r = anchor_find(h, s, label, &objs, &n, ANCHOR_SCAN_MAX)) != 0)
		goto out;
	if (n > 0 && (r = anchor_pick(h, s, label, objs, n, &i, &gen)) != 0)
		goto out;
	if (gen == UINT64_MAX) {
		hsm_error_set("the journal anchor's generation is exhausted");
		r = ERR_OVERFLOW;
		goto out;
	}
	{
		CK_ATTRIBUTE t[] = {
			ANCHOR_TEMPLATE(label),
			{ CKA_MODIFIABLE, (void *)&yes, sizeof(yes) },
			{ CKA_OBJECT_ID, der, gen_encode(der, gen + 1) },
			{ CKA_VALUE, (void *)buf, len },
		};

		rv = h->f->C_CreateObject(s, t, ARRAY_LEN(t), &obj);
	}
	if (rv != CKR_OK) {
		r = hsm_fail("C_CreateObject", rv);
		goto out;
	}
	/*
	 * The new value is the anchor from here on (highest generation); a
	 * crash before the old objects are gone leaves a state read and the
	 * next write both resolve.
	 */
	for (i = 0; i < n; i++) {
		if ((rv = h->f->C_DestroyObject(s, objs[i])) != CKR_OK) {
			r = hsm_fail("C_DestroyObject", rv);
			hsm_error_append(" (the new anchor is written; an old "
			    "one is left)");
			goto out;
		}
	}
	r = 0;
out:
	if (locked)
		anchor_end(h, s);
	free(objs);
	return r;
}

int
hsm_anchor_delete(struct hsm *h, const char *label)
{
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE s;
	size_t n, i;
	CK_RV rv;
	int locked = 0, r;

	hsm_error_clear();
	if ((r = anchor_begin(h, label, &s)) != 0)
		goto out;
	locked = 1;
	if ((r = anchor_find(h, s, label, &objs, &n, 0)) != 0)
		goto out;
	if (n == 0) {
		r = not_found(label);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rv = h->f->C_DestroyObject(s, objs[i])) != CKR_OK) {
			r = hsm_fail("C_DestroyObject", rv);
			goto out;
		}
	}
	r = 0;
out:
	if (locked)
		anchor_end(h, s);
	free(objs);
	return r;
}

#define TEXT_PREFIX APP " "
#define TEXT_VERSION "v1 "

size_t
hsm_anchor_text(char out[HSM_ANCHOR_TEXT_MAX], uint64_t seq,
    const uint8_t hash[32])
{
	char text[HSM_ANCHOR_TEXT_MAX + 1], hex[65];
	int n;

	util_hex_encode(hex, hash, 32);
	n = snprintf(text, sizeof(text), TEXT_PREFIX TEXT_VERSION "%" PRIu64
	    " %s\n", seq, hex);
	/* 25 + 20 digits + 1 + 64 + 1 = 111: it always fits. */
	memcpy(out, text, (size_t)n);
	return (size_t)n;
}

static int
lower_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

int
hsm_anchor_text_parse(uint64_t *seq, uint8_t hash[32], const uint8_t *buf,
    size_t len)
{
	static const char prefix[] = TEXT_PREFIX;
	static const char version[] = TEXT_VERSION;
	char hex[65];
	uint64_t v = 0;
	size_t i = 0, start;
	int r = ERR_MALFORMED;

	*seq = 0;
	memset(hash, 0, 32);
	if (len < sizeof(prefix) - 1 ||
	    memcmp(buf, prefix, sizeof(prefix) - 1) != 0)
		goto out;
	i = sizeof(prefix) - 1;
	if (len - i < sizeof(version) - 1 ||
	    memcmp(buf + i, version, sizeof(version) - 1) != 0) {
		/* Ours, but another version: say so rather than "garbage". */
		if (len - i >= 2 && buf[i] == 'v' && buf[i + 1] >= '0' &&
		    buf[i + 1] <= '9')
			r = ERR_BAD_VERSION;
		goto out;
	}
	i += sizeof(version) - 1;
	start = i;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
			goto out;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	/*
	 * One spelling per number: no empty seq, no leading zeros.  Seq 0
	 * names no record (journal seqs start at 1; 0 is "none" there).
	 */
	if (i == start || buf[start] == '0')
		goto out;
	if (len - i != 1 + 64 + 1 || buf[i] != ' ' ||
	    !lower_hex(buf + i + 1, 64) || buf[len - 1] != '\n')
		goto out;
	memcpy(hex, buf + i + 1, 64);
	hex[64] = '\0';
	if ((r = util_hex_decode(hash, 32, hex)) != 0)
		goto out;
	*seq = v;
	r = 0;
out:
	if (r != 0)
		memset(hash, 0, 32);
	return r;
}
