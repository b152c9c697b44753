/* signer.h: orchestratord's view of signerd: the policy version in force, its keys, and calls. */
#ifndef ORCH_SIGNER_H
#define ORCH_SIGNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "proto/client.h"

/*
 * One version of signerd's policy as orchestratord loaded it: the policy
 * in force (POLICY_REQ), parsed with the same policy/ code signerd runs,
 * the SHA-256 signerd's STATUS named for it, signerd's keys and their
 * addresses, the version number and start time GOV_STATUS gave (0 when
 * signerd did not say), and the policy's approval verifier (approver keys
 * loaded once per version).  Advisory: it lets the API pre-check a payout
 * and its approvals and the workers pick the sender; signerd decides.
 *
 * Lifetime (D54): a version is immutable once published and is freed only
 * by signer_close, so a reader takes signer_current() once per request,
 * claim or tracker round and uses that one pointer throughout, with no
 * lock and no reference count.  A version seen again (the same hash, keys
 * and number) is published again as the same object, so memory grows with
 * the distinct versions a process sees, not with switches.
 */
struct signer_version {
	struct pol_policy *policy;
	struct pol_verifier *verifier;	/* policy's approver keys */
	uint8_t hash[PRT_HASH_LEN];	/* pol_hash(policy), as STATUS said */
	uint32_t number;		/* signerd's version number; 0: unknown */
	uint64_t since;			/* unix s it took effect; 0: unknown */
	size_t nkeys;
	struct prt_key_info keys[PRT_KEYS_MAX];
	/*
	 * The addresses of the keys signerd holds that no asset of
	 * this version names: retired keys, which signerd lets sign a new
	 * payout only into a hole below a nonce they signed (D53).  The
	 * workers' claims fill those holes first (D54, store_claim).
	 */
	size_t nretired;
	uint8_t retired[PRT_KEYS_MAX][EVM_ADDR_LEN];
	struct signer_version *older;	/* every version loaded, newest first */
};

/*
 * The shared signerd client and the version in force.  Thread-safe: the
 * prt_client is, readers load cur atomically, and publishers (start-up,
 * then the readiness poller) take mu.
 */
struct signer {
	struct prt_client *client;
	_Atomic(struct signer_version *) cur;	/* NULL until the first load */
	pthread_mutex_t mu;
	struct signer_version *versions;	/* under mu */
	uint8_t bad_hash[PRT_HASH_LEN];	/* under mu: refused once, said once */
	/* signer_metrics's own client, dialled on first use; metrics_mu. */
	pthread_mutex_t metrics_mu;
	struct prt_client *metrics_client;
};

/*
 * Connects and loads the version in force (POLICY_REQ, STATUS and, when
 * signerd answers it, GOV_STATUS).  Returns 0 and *out; ERR_IO if signerd
 * is not there or does not answer; ERR_MALFORMED when its policy does not
 * parse here (fatal: the advisory checks would be wrong).
 */
int signer_open(struct signer **out, const char *url, int timeout_ms)
    WARN_UNUSED;

/*
 * A signer with no version yet around client (which it then owns; NULL:
 * none, for tests that publish by hand).  Returns 0 and *out or
 * ERR_NOMEM (client closed then).
 */
int signer_new(struct signer **out, struct prt_client *client) WARN_UNUSED;

/* Closes the client and frees every version.  NULL is a no-op. */
void signer_close(struct signer *s);

/* The version in force here: NULL only before the first load. */
const struct signer_version *signer_current(struct signer *s);

/*
 * Asks signerd (STATUS on the shared client) whether its policy moved past
 * the version in force here, and follows it now if so, instead of at the
 * poller's next tick.  For a refusal that may be the stale version's: an
 * approval over a version a client was just shown (GET /v1/policy asks
 * signerd live) is checked again under it.  Returns the new version, or
 * NULL when it did not change (or signerd did not answer).
 */
const struct signer_version *signer_refresh(struct signer *s);

/*
 * 1 when signerd's STATUS st names another policy hash, or other keys, than
 * the version in force here (or none is loaded yet), else 0.
 */
int signer_stale(struct signer *s, const struct prt_status_rep *st);

/*
 * Follows signerd (the readiness poller calls it with each STATUS, on its
 * own client c): when signer_stale(s, st), fetches the policy in force
 * (POLICY_REQ) and the governance state (GOV_STATUS, optional) on c and
 * publishes them with signer_publish.  Returns 0 (nothing to do, or
 * published), ERR_IO (signerd did not answer: the poller tries again),
 * ERR_BAD_CHECKSUM (the policy changed again between STATUS and
 * POLICY_REQ: the next poll loads it),
 * ERR_MALFORMED (the policy does not parse here; the old version stays in
 * force, and the error is logged once per hash).
 */
int signer_follow(struct signer *s, struct prt_client *c,
    const struct prt_status_rep *st) WARN_UNUSED;

/*
 * Parses the policy text json (len bytes, from POLICY_REQ) and makes it
 * the version in force with st's keys, after checking that its SHA-256 is
 * the hash st names; gov (NULL: signerd did not answer GOV_STATUS) gives
 * the version number and start time when it names the same hash.  Logs
 * the switch (old id and hash -> new) and every asset whose sender
 * changed.  No I/O.  Returns 0, ERR_BAD_CHECKSUM (another hash: nothing
 * published), ERR_MALFORMED (does not parse, or OpenSSL refuses an
 * approver's key), ERR_NOMEM.
 */
int signer_publish(struct signer *s, const uint8_t *json, size_t len,
    const struct prt_status_rep *st, const struct prt_gov_state *gov)
    WARN_UNUSED;

/*
 * The address of the key that signs asset a (its policy "key") in v.
 * Returns 0, or ERR_NOT_FOUND (addr zeroed) when signerd has no such key.
 */
int signer_sender(const struct signer_version *v, const struct pol_asset *a,
    uint8_t addr[EVM_ADDR_LEN]) WARN_UNUSED;

/*
 * What key rotation (D54) asks of a claimed payout of asset a whose stored
 * sender is sender, under v:
 *   SIGNER_KEEP   its sender is a's key in v, or it is signed already
 *                 (signed: the old key's payouts finish with it), or v
 *                 has no key for a (signerd says so when asked);
 *   SIGNER_MOVE   never sent to signerd for signing (built 0): move it to
 *                 the new key's address now;
 *   SIGNER_ASK    its transaction was built and may have been signed by
 *                 the old key with the answer lost: send it as it is;
 *                 signerd returns that signature, or refuses
 *                 POL_KEY_MISMATCH and then it moves.
 * signed_ and built are 1 when the payout has a signed / an unsigned
 * transaction stored.
 */
enum signer_move {
	SIGNER_KEEP = 0,
	SIGNER_MOVE,
	SIGNER_ASK,
};
enum signer_move signer_move_of(const struct signer_version *v,
    const struct pol_asset *a, const uint8_t sender[EVM_ADDR_LEN],
    int signed_, int built);

/* --- calls: the one place orchestratord talks to signerd (issue 13) --- */

/*
 * What one call to signerd came to, for the worker, the tracker and the
 * API alike.  Whether to send the same request again is decided here, in
 * one table (signer_outcome_of), from signerd's reason code and its retry
 * advice in the reply header (protocol 5); never from the reply's words.
 */
enum signer_outcome {
	SIGNER_DONE = 0,	/* signerd did it; the reply payload is filled */
	SIGNER_REFUSED,		/* final: the same request is refused again */
	SIGNER_RETRY,		/* transient: send the same request later */
};

/* Room for signerd's message, or a transport error and its detail. */
#define SIGNER_MESSAGE_MAX (PRT_MESSAGE_MAX + 128)
/*
 * The longest wait taken from signerd's advice: a policy version that
 * shortens a timelock, or a clock stepped forward, is seen within it.
 */
#define SIGNER_RETRY_MAX_MS 3600000u

struct signer_answer {
	enum signer_outcome outcome;
	/*
	 * 0 when done; else signerd's refusal reason (a policy/ code > 0),
	 * or a negative ERR_*: the call failed (ERR_TIMEOUT, ERR_IO, a reply
	 * that does not decode) or signerd answered with one.
	 */
	int reason;
	/*
	 * SIGNER_RETRY: wait this long before sending the same request:
	 * signerd's advice, else the reason's own default (the table);
	 * 0 when neither says: the caller's backoff.  0 otherwise.
	 */
	uint32_t retry_after_ms;
	/* For logs and people: signerd's message, or what failed. */
	char message[SIGNER_MESSAGE_MAX];
};

/*
 * The table: SIGNER_RETRY for a reason that may pass when sent again
 * (IN_FLIGHT, TIMELOCK_PENDING, PAUSED, CLOCK_BEHIND_JOURNAL, HSM_ERROR,
 * JOURNAL_ERROR, INTERNAL, RETRY) and for every negative ERR_*;
 * SIGNER_DONE for 0; SIGNER_REFUSED for every other reason, including
 * one this build does not know.  *default_ms (may be NULL) gets the
 * wait to use when signerd gives no advice (0: the caller's backoff).
 */
enum signer_outcome signer_outcome_of(int reason, uint32_t *default_ms);

/*
 * Fills ans from a call's return r (0: a reply arrived) and the reply
 * header hdr (read only when r is 0).  No I/O; the calls below use it.
 * Returns ans->outcome.
 */
enum signer_outcome signer_answer_of(struct signer_answer *ans, int r,
    const struct prt_reply_hdr *hdr);

/* An HTTP Retry-After for ans: its wait in whole seconds, at least 1. */
int signer_retry_after_s(const struct signer_answer *ans);

/*
 * The calls.  Each fills ans and returns ans->outcome; the payload
 * (rep, *earliest, xrep, st) only when that is SIGNER_DONE.  Each runs
 * on s's shared client, concurrently with any other.
 */
enum signer_outcome signer_sign(struct signer *s,
    const struct prt_sign_req *req, struct prt_sign_rep *rep,
    struct signer_answer *ans);
enum signer_outcome signer_queue(struct signer *s,
    const struct prt_sign_req *req, uint64_t *earliest,
    struct signer_answer *ans);
enum signer_outcome signer_cancel(struct signer *s,
    const struct prt_cancel_req *req, struct signer_answer *ans);
enum signer_outcome signer_exposure(struct signer *s,
    const struct prt_exposure_req *req, struct prt_exposure_rep *rep,
    struct signer_answer *ans);
enum signer_outcome signer_gov_status(struct signer *s,
    struct prt_gov_state *st, struct signer_answer *ans);

/*
 * STATUS on a client of the caller's own (the readiness poller's, so
 * that it never waits behind a signature): dials *c first when it is
 * NULL (a signerd not listening fails here: SIGNER_RETRY, ERR_IO).
 * On SIGNER_DONE, *st is filled and ans->message holds the reply's
 * words (why signerd cannot sign, when it cannot).  signer_probe_close
 * closes *c (NULL: nothing).
 */
enum signer_outcome signer_probe_status(struct prt_client **c,
    const char *url, int timeout_ms, struct prt_status_rep *st,
    struct signer_answer *ans);
void signer_probe_close(struct prt_client *c);

/*
 * METRICS_REQ, for GET /metrics (docs/metrics.md): on a client of its own
 * (dialled to url on first use, and again while that fails), with a
 * per-step timeout of SIGNER_METRICS_TIMEOUT_MS or timeout_ms if shorter,
 * so that a scrape never waits behind a signature and a signerd that
 * does not answer costs it at most two such steps.  Scrapes take turns.
 * On SIGNER_DONE, *m (about 60 KiB: the caller allocates it) is filled.
 */
#define SIGNER_METRICS_TIMEOUT_MS 1000
enum signer_outcome signer_metrics(struct signer *s, const char *url,
    int timeout_ms, struct prt_metrics *m, struct signer_answer *ans);

#endif
