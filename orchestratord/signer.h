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
	 * The addresses (EIP-55) of the keys signerd holds that no asset of
	 * this version names: retired keys, which signerd lets sign a new
	 * payout only into a hole below a nonce they signed (D53).  The
	 * workers' claims fill those holes first (D54, store_claim).
	 */
	size_t nretired;
	char retired[PRT_KEYS_MAX][EVM_ADDR_STR];
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
 * sender (EIP-55) is sender, under v:
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
    const struct pol_asset *a, const char *sender, int signed_, int built);

#endif
