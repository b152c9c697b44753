/* signer.c: follows signerd's policy version in force, for advisory pre-checks and the sender. */
#include "orchestratord/signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"

int
signer_new(struct signer **out, struct prt_client *client)
{
	struct signer *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		prt_client_close(client);
		return ERR_NOMEM;
	}
	s->client = client;
	atomic_init(&s->cur, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->metrics_mu, NULL);
	*out = s;
	return 0;
}

/*
 * STATUS, then signer_follow, on the shared client: the version in force
 * now.  Returns 0, ERR_IO (no STATUS answer, logged) or signer_follow's
 * error.
 */
static int
follow_status(struct signer *s, struct prt_status_rep *st)
{
	struct prt_reply_hdr hdr;
	int r;

	if ((r = prt_client_status(s->client, st, &hdr)) != 0 ||
	    (r = hdr.result) != 0) {
		log_warn("signerd status: %s", r < 0 ? err_str(r) : hdr.message);
		return ERR_IO;
	}
	return signer_follow(s, s->client, st);
}

/* The first version: follow_status on a new client. */
int
signer_open(struct signer **out, const char *url, int timeout_ms)
{
	struct prt_status_rep *st = NULL;
	struct prt_client *c = NULL;
	struct signer *s = NULL;
	int r;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ERR_NOMEM;
	if ((r = prt_client_open(&c, url, timeout_ms)) != 0) {
		log_warn("signerd at %s: %s", url, prt_client_last_error());
		goto out;
	}
	if ((r = signer_new(&s, c)) != 0)
		goto out;
	/* A policy switched between STATUS and POLICY_REQ: the caller retries. */
	if ((r = follow_status(s, st)) != 0) {
		if (r == ERR_BAD_CHECKSUM)
			r = ERR_IO;
		goto out;
	}
	log_info("signerd: policy %s, %u key(s), %s",
	    pol_policy_id(signer_current(s)->policy), (unsigned)st->nkeys,
	    st->paused ? "paused" : "not paused");
	*out = s;
	s = NULL;
	r = 0;
out:
	free(st);
	signer_close(s);
	return r;
}

void
signer_close(struct signer *s)
{
	struct signer_version *v, *older;

	if (s == NULL)
		return;
	prt_client_close(s->client);
	prt_client_close(s->metrics_client);
	pthread_mutex_destroy(&s->metrics_mu);
	for (v = s->versions; v != NULL; v = older) {
		older = v->older;
		pol_verifier_free(v->verifier);
		pol_free(v->policy);
		free(v);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const struct signer_version *
signer_refresh(struct signer *s)
{
	const struct signer_version *before = signer_current(s);
	struct prt_status_rep *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	/* Failures leave the version as it is: the poller tries again. */
	if (follow_status(s, st) != 0)
		log_debug("policy not followed on a refusal's recheck");
	free(st);
	return signer_current(s) != before ? signer_current(s) : NULL;
}

const struct signer_version *
signer_current(struct signer *s)
{
	/* Pairs with the release store in publish: the version is whole. */
	return atomic_load_explicit(&s->cur, memory_order_acquire);
}

/* The same key names with the same addresses, in the same order. */
static int
same_keys(const struct prt_key_info *a, size_t na,
    const struct prt_key_info *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 ||
		    memcmp(a[i].address, b[i].address, EVM_ADDR_LEN) != 0)
			return 0;
	return 1;
}

int
signer_stale(struct signer *s, const struct prt_status_rep *st)
{
	const struct signer_version *v = signer_current(s);

	return v == NULL || memcmp(v->hash, st->policy_hash,
	    PRT_HASH_LEN) != 0 || !same_keys(v->keys, v->nkeys, st->keys,
	    st->nkeys);
}

int
signer_sender(const struct signer_version *v, const struct pol_asset *a,
    uint8_t addr[EVM_ADDR_LEN])
{
	size_t i;

	for (i = 0; i < v->nkeys; i++) {
		if (strcmp(v->keys[i].name, a->key) == 0) {
			memcpy(addr, v->keys[i].address, EVM_ADDR_LEN);
			return 0;
		}
	}
	memset(addr, 0, EVM_ADDR_LEN);
	return ERR_NOT_FOUND;
}

enum signer_move
signer_move_of(const struct signer_version *v, const struct pol_asset *a,
    const uint8_t sender[EVM_ADDR_LEN], int signed_, int built)
{
	uint8_t addr[EVM_ADDR_LEN];

	if (signed_ || signer_sender(v, a, addr) != 0)
		return SIGNER_KEEP;
	if (memcmp(addr, sender, EVM_ADDR_LEN) == 0)
		return SIGNER_KEEP;
	return built ? SIGNER_ASK : SIGNER_MOVE;
}

/* 1 when no asset of v names key: a retired key (D53). */
static int
key_retired(const struct signer_version *v, const char *key)
{
	size_t i;

	for (i = 0; i < pol_asset_count(v->policy); i++)
		if (strcmp(pol_asset(v->policy, i)->key, key) == 0)
			return 0;
	return 1;
}

/*
 * v->retired from v's keys and policy.  An address that some asset's key
 * has too (two names for one key) is not retired.
 */
static void
find_retired(struct signer_version *v)
{
	size_t i, j;
	int named;

	v->nretired = 0;
	for (i = 0; i < v->nkeys; i++) {
		if (!key_retired(v, v->keys[i].name))
			continue;
		for (named = 0, j = 0; j < v->nkeys && !named; j++)
			named = !key_retired(v, v->keys[j].name) &&
			    memcmp(v->keys[j].address, v->keys[i].address,
			    EVM_ADDR_LEN) == 0;
		if (named)
			continue;
		for (j = 0; j < v->nretired; j++)
			if (memcmp(v->retired[j], v->keys[i].address,
			    EVM_ADDR_LEN) == 0)
				break;
		if (j == v->nretired)
			memcpy(v->retired[v->nretired++], v->keys[i].address,
			    EVM_ADDR_LEN);
	}
}

/* The sender of asset name in v, as EIP-55, or "(no key)". */
static void
sender_str(char out[EVM_ADDR_STR], const struct signer_version *v,
    const char *asset)
{
	uint8_t addr[EVM_ADDR_LEN];
	size_t idx;

	if (v == NULL || pol_asset_by_name(v->policy, asset, &idx) != 0 ||
	    signer_sender(v, pol_asset(v->policy, idx), addr) != 0) {
		snprintf(out, EVM_ADDR_STR, "(no key)");
		return;
	}
	evm_addr_to_str(out, addr);
}

/* Says what the switch from old to v changes: ids, hashes, senders. */
static void
log_switch(const struct signer_version *old, const struct signer_version *v)
{
	char oh[2 * PRT_HASH_LEN + 1], nh[2 * PRT_HASH_LEN + 1];
	char was[EVM_ADDR_STR], now[EVM_ADDR_STR];
	const struct pol_asset *a;
	size_t i;

	util_hex_encode(nh, v->hash, PRT_HASH_LEN);
	if (old == NULL) {
		log_info("signerd's policy: %s (%s), version %u",
		    pol_policy_id(v->policy), nh, v->number);
	} else {
		util_hex_encode(oh, old->hash, PRT_HASH_LEN);
		log_info("signerd's policy switched: %s (%s) -> %s (%s), "
		    "version %u", pol_policy_id(old->policy), oh,
		    pol_policy_id(v->policy), nh, v->number);
	}
	for (i = 0; old != NULL && i < pol_asset_count(v->policy); i++) {
		a = pol_asset(v->policy, i);
		sender_str(was, old, a->name);
		sender_str(now, v, a->name);
		if (strcmp(was, now) != 0)
			log_info("asset %s: sender %s -> %s (key %s); payouts not "
			    "signed yet move to it at their next claim",
			    a->name, was, now, a->key);
	}
	for (i = 0; i < v->nretired; i++) {
		evm_addr_to_str(was, v->retired[i]);
		log_info("sender %s is retired (no asset names its key): holes "
		    "below its highest signed nonce are filled by new payouts "
		    "signed with it, and payouts holding such a nonce keep it",
		    was);
	}
}

/* An earlier version that is this one in every field: publish it again. */
static struct signer_version *
find_same(struct signer *s, const struct signer_version *v)
{
	struct signer_version *o;

	for (o = s->versions; o != NULL; o = o->older)
		if (memcmp(o->hash, v->hash, PRT_HASH_LEN) == 0 &&
		    o->number == v->number && o->since == v->since &&
		    same_keys(o->keys, o->nkeys, v->keys, v->nkeys))
			return o;
	return NULL;
}

int
signer_publish(struct signer *s, const uint8_t *json, size_t len,
    const struct prt_status_rep *st, const struct prt_gov_state *gov)
{
	struct signer_version *v = NULL, *same, *old;
	char why[256], want[2 * PRT_HASH_LEN + 1], got[2 * PRT_HASH_LEN + 1];
	uint8_t hash[PRT_HASH_LEN];
	unsigned int hlen = 0;
	int r;

	/*
	 * The text first: another hash is a newer version than STATUS named
	 * (the next poll loads it), never a reason to refuse that one.
	 */
	if (EVP_Digest(json, len, hash, &hlen, EVP_sha256(), NULL) != 1 ||
	    hlen != PRT_HASH_LEN)
		return ERR_NOMEM;
	if (memcmp(hash, st->policy_hash, PRT_HASH_LEN) != 0) {
		util_hex_encode(want, st->policy_hash, PRT_HASH_LEN);
		util_hex_encode(got, hash, PRT_HASH_LEN);
		log_info("signerd's policy is %s, not %s as STATUS said a moment "
		    "ago: it changed; loading it at the next poll", got, want);
		return ERR_BAD_CHECKSUM;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	/* The same parser and approval verifier signerd runs. */
	if ((r = pol_parse(&v->policy, json, len, why, sizeof(why))) != 0 ||
	    (r = pol_verifier_new(&v->verifier, v->policy, why,
	    sizeof(why))) != 0) {
		if (r == ERR_NOMEM)
			goto out;	/* not the policy's fault: try again */
		pthread_mutex_lock(&s->mu);
		if (memcmp(s->bad_hash, st->policy_hash, PRT_HASH_LEN) != 0) {
			memcpy(s->bad_hash, st->policy_hash, PRT_HASH_LEN);
			log_error("signerd's policy %s does not parse here: %s; "
			    "the advisory checks keep the version they have",
			    st->policy_id, why);
		}
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	/* pol_hash is the same SHA-256 of the same bytes. */
	memcpy(v->hash, pol_hash(v->policy), PRT_HASH_LEN);
	if (gov != NULL && memcmp(gov->policy_hash, v->hash, PRT_HASH_LEN) ==
	    0) {
		v->number = gov->version;
		v->since = gov->since;
	}
	v->nkeys = st->nkeys <= PRT_KEYS_MAX ? st->nkeys : PRT_KEYS_MAX;
	memcpy(v->keys, st->keys, sizeof(v->keys[0]) * v->nkeys);
	find_retired(v);

	pthread_mutex_lock(&s->mu);
	old = atomic_load_explicit(&s->cur, memory_order_relaxed);
	if ((same = find_same(s, v)) == NULL) {
		v->older = s->versions;
		s->versions = v;
		same = v;
		v = NULL;
	}
	if (same != old) {
		log_switch(old, same);
		/* Readers that load it see it whole (signer_current). */
		atomic_store_explicit(&s->cur, same, memory_order_release);
	}
	pthread_mutex_unlock(&s->mu);
	r = 0;
out:
	if (v != NULL) {
		pol_verifier_free(v->verifier);
		pol_free(v->policy);
		free(v);
	}
	return r;
}

int
signer_follow(struct signer *s, struct prt_client *c,
    const struct prt_status_rep *st)
{
	struct prt_gov_state *gov = NULL;
	struct prt_reply_hdr hdr;
	char *json = NULL;
	size_t json_len = 0;
	int r, have_gov = 0;

	if (!signer_stale(s, st))
		return 0;
	/* A hash refused before is not fetched again every poll. */
	pthread_mutex_lock(&s->mu);
	r = memcmp(s->bad_hash, st->policy_hash, PRT_HASH_LEN) == 0 &&
	    signer_current(s) != NULL;
	pthread_mutex_unlock(&s->mu);
	if (r)
		return ERR_MALFORMED;
	if ((gov = calloc(1, sizeof(*gov))) == NULL)
		return ERR_NOMEM;
	if ((r = prt_client_policy(c, &json, &json_len, &hdr)) != 0 ||
	    (r = hdr.result) != 0) {
		log_warn("signerd policy: %s", r < 0 ? err_str(r) : hdr.message);
		r = ERR_IO;
		goto out;
	}
	/* Optional: a signerd before governance has no version numbers. */
	if (prt_client_gov_status(c, gov, &hdr) == 0 && hdr.result == 0)
		have_gov = 1;
	r = signer_publish(s, (const uint8_t *)json, json_len, st,
	    have_gov ? gov : NULL);
out:
	free(json);
	free(gov);
	return r;
}

/* --- calls (issue 13): done, refused, or retry after ----------------- */

/*
 * Each retry of a refused request is journaled by signerd: the reasons
 * whose wait signerd cannot know (a pause lasts until people lift it)
 * wait long enough not to fill its journal.
 */
#define WAIT_PAUSED_MS 30000u
#define WAIT_CLOCK_MS 10000u
#define WAIT_TIMELOCK_MS 5000u	/* only a signerd before protocol 5 */

/* Transient reasons and their default wait (0: the caller's backoff). */
static const struct {
	int reason;
	uint32_t default_ms;
} transient[] = {
	{ POL_IN_FLIGHT, 0 },		/* signerd advises 1 s */
	{ POL_TIMELOCK_PENDING, WAIT_TIMELOCK_MS },	/* advises the rest */
	{ POL_PAUSED, WAIT_PAUSED_MS },
	{ POL_CLOCK_BEHIND_JOURNAL, WAIT_CLOCK_MS },
	{ POL_HSM_ERROR, 0 },
	{ POL_JOURNAL_ERROR, 0 },
	{ POL_INTERNAL, 0 },
	{ POL_RETRY, 0 },
};

enum signer_outcome
signer_outcome_of(int reason, uint32_t *default_ms)
{
	size_t i;

	if (default_ms != NULL)
		*default_ms = 0;
	if (reason == 0)
		return SIGNER_DONE;
	/* No reply, or signerd answered with an error of its own. */
	if (reason < 0)
		return SIGNER_RETRY;
	for (i = 0; i < ARRAY_LEN(transient); i++) {
		if (transient[i].reason == reason) {
			if (default_ms != NULL)
				*default_ms = transient[i].default_ms;
			return SIGNER_RETRY;
		}
	}
	/* Every other reason, and one newer than this build: final. */
	return SIGNER_REFUSED;
}

enum signer_outcome
signer_answer_of(struct signer_answer *ans, int r,
    const struct prt_reply_hdr *hdr)
{
	uint32_t def;
	uint64_t ms;

	memset(ans, 0, sizeof(*ans));
	if (r != 0) {
		ans->outcome = SIGNER_RETRY;
		ans->reason = r;
		snprintf(ans->message, sizeof(ans->message), "%s%s%s",
		    err_str(r), prt_client_last_error()[0] != '\0' ? ": " : "",
		    prt_client_last_error());
		return ans->outcome;
	}
	ans->reason = hdr->result;
	ans->outcome = signer_outcome_of(hdr->result, &def);
	if (hdr->message[0] != '\0')
		snprintf(ans->message, sizeof(ans->message), "%s",
		    hdr->message);
	else if (hdr->result != 0)
		snprintf(ans->message, sizeof(ans->message), "%s",
		    hdr->result < 0 ? err_str(hdr->result) :
		    pol_reason_text(hdr->result));
	if (ans->outcome != SIGNER_RETRY)
		return ans->outcome;
	/* signerd's advice first: it knows when a timelock ends. */
	ms = hdr->retry_after_s != 0 ? (uint64_t)hdr->retry_after_s * 1000u :
	    def;
	ans->retry_after_ms = ms > SIGNER_RETRY_MAX_MS ? SIGNER_RETRY_MAX_MS :
	    (uint32_t)ms;
	return ans->outcome;
}

int
signer_retry_after_s(const struct signer_answer *ans)
{
	return ans->retry_after_ms > 1000 ?
	    (int)((ans->retry_after_ms + 999) / 1000) : 1;
}

enum signer_outcome
signer_sign(struct signer *s, const struct prt_sign_req *req,
    struct prt_sign_rep *rep, struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	r = prt_client_sign(s->client, req, rep, &hdr);
	return signer_answer_of(ans, r, &hdr);
}

enum signer_outcome
signer_queue(struct signer *s, const struct prt_sign_req *req,
    uint64_t *earliest, struct signer_answer *ans)
{
	struct prt_queue_rep qrep;
	struct prt_reply_hdr hdr;
	int r;

	*earliest = 0;
	r = prt_client_queue(s->client, req, &qrep, &hdr);
	if (signer_answer_of(ans, r, &hdr) == SIGNER_DONE)
		*earliest = qrep.earliest;
	return ans->outcome;
}

enum signer_outcome
signer_cancel(struct signer *s, const struct prt_cancel_req *req,
    struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	r = prt_client_cancel(s->client, req, &hdr);
	return signer_answer_of(ans, r, &hdr);
}

enum signer_outcome
signer_exposure(struct signer *s, const struct prt_exposure_req *req,
    struct prt_exposure_rep *rep, struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	r = prt_client_exposure(s->client, req, rep, &hdr);
	return signer_answer_of(ans, r, &hdr);
}

enum signer_outcome
signer_gov_status(struct signer *s, struct prt_gov_state *st,
    struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	r = prt_client_gov_status(s->client, st, &hdr);
	return signer_answer_of(ans, r, &hdr);
}

enum signer_outcome
signer_probe_status(struct prt_client **c, const char *url, int timeout_ms,
    struct prt_status_rep *st, struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	/* The dial is synchronous: a signerd not listening fails here. */
	if (*c == NULL && (r = prt_client_open(c, url, timeout_ms)) != 0) {
		*c = NULL;
		return signer_answer_of(ans, r, NULL);
	}
	r = prt_client_status(*c, st, &hdr);
	return signer_answer_of(ans, r, &hdr);
}

void
signer_probe_close(struct prt_client *c)
{
	prt_client_close(c);
}

enum signer_outcome
signer_metrics(struct signer *s, const char *url, int timeout_ms,
    struct prt_metrics *m, struct signer_answer *ans)
{
	struct prt_reply_hdr hdr;
	int r;

	if (timeout_ms <= 0 || timeout_ms > SIGNER_METRICS_TIMEOUT_MS)
		timeout_ms = SIGNER_METRICS_TIMEOUT_MS;
	pthread_mutex_lock(&s->metrics_mu);
	/* The dial is synchronous: a signerd not listening fails here. */
	if (s->metrics_client == NULL && (r = prt_client_open(
	    &s->metrics_client, url, timeout_ms)) != 0) {
		s->metrics_client = NULL;
		pthread_mutex_unlock(&s->metrics_mu);
		memset(m, 0, sizeof(*m));
		return signer_answer_of(ans, r, NULL);
	}
	r = prt_client_metrics(s->metrics_client, m, &hdr);
	pthread_mutex_unlock(&s->metrics_mu);
	return signer_answer_of(ans, r, &hdr);
}
