/* signerd.h: the daemon's shared context, seen by its handlers and setup. */
#ifndef SIGNERD_SIGNERD_H
#define SIGNERD_SIGNERD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "hsm/hsm.h"
#include "journal/journal.h"
#include "policy/policy.h"
#include "proto/buf.h"
#include "proto/msg.h"
#include "signerd/metrics.h"
#include "signerd/state.h"
#include "signerd/versions.h"

#define SD_VERSION "signerd 0.1"
#define SD_MAX_KEYS 16
#define SD_MAX_UIDS 16

/* A named signing key from the config, loaded and checked at start-up. */
struct sd_key {
	char name[65];
	struct hsm_key key;
	uint8_t address[20];
};

/* --- issue 12: a leaner sign path (helper C) ----------------------------- */
/*
 * A shared/exclusive gate that, unlike a pthread rwlock, may be left by
 * another thread than the one that entered it.  Writer-preferring: once
 * sd_gate_close() waits, sd_gate_enter() waits too, so a pause cannot be
 * starved by a stream of sign requests (server.c).
 */
struct sd_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned holders;	/* entered, not yet left */
	unsigned closers;	/* waiting in or holding sd_gate_close() */
	int closed;
};
void sd_gate_init(struct sd_gate *g);
void sd_gate_enter(struct sd_gate *g);	/* shared */
void sd_gate_leave(struct sd_gate *g);	/* from any thread */
void sd_gate_close(struct sd_gate *g);	/* exclusive: no holder left */
void sd_gate_open(struct sd_gate *g);
/* --- end of issue 12 (helper C) ------------------------------------------ */

struct sd_ctx {
	struct hsm *hsm;
	struct sd_key keys[SD_MAX_KEYS];
	size_t nkeys;
	struct hsm_key audit_key;

	/*
	 * The genesis file, parsed (setup.c): the journal's first version.
	 * The version in force is the state's (sd_version_now); an auditor
	 * takes the genesis from the journal instead.
	 */
	struct sd_version *genesis;

	struct jnl *journal;
	struct sd_state *state;
	/*
	 * The retention window (D55): requests created more than this many
	 * UTC days before signerd's day are refused and forgotten.  The
	 * signed records of those inside it are read back through
	 * read_dirfd: the journal directory, then an auditor's archive
	 * (0: none; readback.h).
	 */
	uint32_t retention_days;
	int read_dirfd[2];
	int64_t pruned_before;	/* sd_prune_tick's last oldest day */
	/*
	 * sd_commit holds it shared from queueing a record to applying it;
	 * the snapshot writer takes it exclusively, so a snapshot never
	 * misses a record that is durable but not yet in the state.
	 */
	pthread_rwlock_t commit_lock;
	atomic_uint_fast64_t appended_since_snapshot;
	/* sd_commit: stamps and queues records one at a time (commit.c). */
	pthread_mutex_t order_mu;
	/*
	 * Invariant 9, the pause barrier: a sign request holds it shared from
	 * dispatch until its reply is sent; a pause takes it exclusively once
	 * durable, so every OK sent before it was decided before it.  A
	 * gate, not a rwlock: the reply may be sent by another thread
	 * (sd_commit_async) than the one that entered it.
	 */
	struct sd_gate reply_gate;
	atomic_int journal_failed;	/* an append failed: nothing can sign */
	/* An HSM call failed: the main thread probes the token and leaves
	 * (exit 69) if it no longer works (health.c, D63). */
	atomic_int hsm_failed;
	time_t hsm_probed;	/* the last probe; main thread */
	uint64_t anchor_seq;	/* the HSM's anchor (anchor.c); main thread */
	uint64_t snapshot_interval;

	/*
	 * The verifier (replay.c) run by signerctl: no HSM, no keys; the
	 * policy comes from the journal's genesis record.
	 */
	int auditing;
	int64_t replay_unix;	/* time of the last record replayed */
	uint32_t replay_retention;	/* the window of the last "started" */
	char replay_why[256];	/* why the last record did not replay */
	EVP_PKEY *audit_pub;	/* checks snapshot signatures */

	unsigned allowed_uids[SD_MAX_UIDS];
	size_t nallowed;
	atomic_int stopping;
	struct sd_badpeer *badpeer;	/* refusals journaled in aggregate */

	/* --- issue 12 (helper C) --- */
	/*
	 * Records sd_commit_async queued since the group-commit leader last
	 * took the queue: it waits, up to one flush's time, for as many as
	 * the last batch had, so a batch is not one record ahead of the
	 * rest (commit.c).  Set up by sd_server_listen.
	 */
	pthread_mutex_t batch_mu;
	pthread_cond_t batch_cv;
	unsigned batch_queued;
	unsigned batch_target;	/* wake the leader when queued reaches it */
	/* --- end of issue 12 (helper C) --- */

	/* Counters for METRICS_REQ (metrics.h); valid zeroed. */
	struct sd_metrics metrics;
};

/* Called by the server for each request after the peer check. */
int sd_handle_exposure(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_status(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_policy(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_queue(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_cancel(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_pause(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_unpause(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);

/*
 * Journals a refusal ({"type":"refused",...}) with its reason, the action
 * refused ("sign", "queue", "cancel", "pause", "unpause"; NULL when the
 * frame had none) and the request id when known; failures to journal are
 * logged (the refusal itself stands: refusing never needs durability).
 */
void sd_journal_refusal(struct sd_ctx *sd, const char *action,
    const char *request_id, unsigned peer_uid, int reason,
    const char *detail);

/*
 * Logs, journals (sd_journal_refusal) and encodes into rep the refusal of
 * a request: the reply of reply_type (SIGN_REP, QUEUE_REP, CANCEL_REP,
 * PAUSE_REP, UNPAUSE_REP) with result reason and message "REASON: detail".
 * Returns the encoder's result.
 */
int sd_refuse(struct sd_ctx *sd, struct prt_writer *rep, uint16_t reply_type,
    const char *action, const char *request_id, unsigned peer_uid,
    int reason, const char *detail);

/*
 * sd_refuse() with the reply header's retry advice (protocol 5): seconds
 * until the same request may pass, 0 for none.  sd_refuse() gives
 * sd_retry_after_default(reason); a decision that knows the wait (a
 * timelock's remaining seconds) passes it here.  The frozen ERROR_REP
 * carries no advice: for the types it answers, retry_after_s is dropped.
 * asset: the asset the request named, for the refusal counters
 * (metrics.h); NULL when it named none (sd_refuse() passes NULL).
 */
int sd_refuse_after(struct sd_ctx *sd, struct prt_writer *rep,
    uint16_t reply_type, const char *action, const char *request_id,
    const char *asset, unsigned peer_uid, int reason, const char *detail,
    uint32_t retry_after_s);

/*
 * The advice a refusal carries when its decision knows no better: 1 s
 * for IN_FLIGHT (the other request with that id ends within an HSM
 * signature and a journal commit), none (0) for every other reason: a
 * pause or a broken HSM lasts as long as people take to mend it.
 */
uint32_t sd_retry_after_default(int reason);

/* seconds as retry advice: at least 1, at most PRT_RETRY_AFTER_MAX. */
uint32_t sd_retry_after_of(int64_t seconds);

/*
 * signerd's one clock (invariant 10): the later of the system clock and
 * the newest record's time, so it never goes back, across restarts too.
 * Exposure days, approval expiry and timelocks are all judged by it.
 */
int64_t sd_now(struct sd_ctx *sd);

/*
 * One record on its way to the journal (commit.c).  body is from
 * sd_record_new(); sd_commit adds its time.  Each callback is optional and
 * runs under the state lock:
 *   stamp  under the order lock too, with the record's time t, before it
 *          is queued: the last check of what a concurrent request or the
 *          clock may have changed, and the fields that depend on t.
 *          Returns POL_OK or a refusal (then nothing is written).
 *   apply  once the record is durable: its effect on the state.
 *   undo   when the record could not be made durable: gives back what
 *          stamp took.
 */
struct sd_commit {
	json_t *body;
	/*
	 * The policy version the request was decided under, or NULL: when
	 * another is in force by the time the record is stamped, nothing is
	 * written and sd_commit returns RETRY (D52).
	 */
	const struct sd_version *v;
	enum pol_reason (*stamp)(struct sd_ctx *sd, void *arg, json_t *body,
	    int64_t t, char *detail, size_t cap);
	int (*apply)(struct sd_ctx *sd, void *arg, uint64_t seq,
	    const uint8_t hash[32]);
	void (*undo)(struct sd_ctx *sd, void *arg);
	void *arg;
	/* Optional: where the record's line went, set before apply runs
	 * (a signed request is remembered by it, D55). */
	struct jnl_pos *pos;
};

/*
 * The one commit path (invariant 1): stamp, queue, wait until durable,
 * apply.  Out: the record's seq and hash (each may be NULL).  Returns
 * POL_OK, stamp's refusal, POL_JOURNAL_ERROR (undo was run) or
 * POL_INTERNAL (durable, but apply failed), with a sentence in detail.
 */
enum pol_reason sd_commit(struct sd_ctx *sd, const struct sd_commit *c,
    uint64_t *seq, uint8_t hash[32], char *detail, size_t cap);

/*
 * The approvals as journaled: [{"approver","expiry","sig":hex}, ...];
 * NULL when out of memory.
 */
json_t *sd_approvals_json(const struct prt_approval *ap, size_t n);

/*
 * Remembers accepted approvals' signatures for the replay diagnosis
 * (seen.h) under label ("sign payout-42").  State lock held.
 */
void sd_remember_approvals(struct sd_ctx *sd, const struct prt_approval *ap,
    size_t n, const char *label);

/*
 * Starts a record body {"type":type}; the caller adds fields, sd_commit()
 * adds the policy in force and the time, the caller json_decref()s it.
 * NULL when out of memory.
 */
json_t *sd_record_new(struct sd_ctx *sd, const char *type);

/* Copies wire approvals into policy/'s form (verify.h); returns n. */
size_t sd_pol_approvals(struct pol_approval *out,
    const struct prt_approval *in, size_t n);

/*
 * POL_OK when every approval of ap[0..n) is still valid at time t, else
 * APPROVAL_EXPIRED naming the first that is not (sd_commit's stamps: an
 * approval checked a moment ago may have expired since).
 */
enum pol_reason sd_approvals_unexpired(const struct prt_approval *ap,
    size_t n, int64_t t, char *detail, size_t cap);

/*
 * Record fields, each 0 or -1 (no memory): v as a decimal string (lossless
 * past 2^53, D4); n bytes at p as lowercase hex ("0x"-prefixed when
 * prefix); and "unix" and "ts" (RFC 3339 UTC) for time t, as sd_commit
 * stamps every record.
 */
int sd_json_set_u64(json_t *o, const char *key, uint64_t v);
int sd_json_set_u256(json_t *o, const char *key, const u256 *v);
int sd_json_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n,
    int prefix);
int sd_json_set_time(json_t *o, int64_t t);

/* Commits body with no checks or effects (lifecycle records, refusals):
 * 0 once durable, else ERR_IO. */
int sd_journal_record(struct sd_ctx *sd, json_t *body, uint64_t *seq,
    uint8_t hash[32]) WARN_UNUSED;

/*
 * Snapshot signatures (snapshot.c): the blob is signerd's payload followed
 * by a DER ECDSA signature of the audit key over "signer-snapshot v1 <seq>
 * <record hash> <sha256 of the payload>" and its u16 length.
 * sd_snapshot_verify checks it against sd->audit_pub and sets *len to the
 * payload's length: 0 or ERR_BAD_SIGNATURE.
 */
int sd_snapshot_verify(struct sd_ctx *sd, uint64_t seq,
    const uint8_t hash[32], const void *blob, size_t *len) WARN_UNUSED;

/* Writes a snapshot if enough records were appended since the last one. */
void sd_maybe_snapshot(struct sd_ctx *sd, int force);

/*
 * The payload a snapshot signs (and `audit verify --state-out` writes):
 * the policy hash, the newest time and the state, after forgetting what
 * that time puts out of reach.  State lock held.  0 or the writer's error.
 */
int sd_snapshot_payload(struct sd_ctx *sd, struct prt_writer *w) WARN_UNUSED;

/*
 * The retention window the journal is at (D55): the last start's, as
 * replayed or journaled (a snapshot holds it too); the default before any.
 */
uint32_t sd_replay_window(const struct sd_ctx *sd);

/* The oldest created day still inside the retention window on day (D55). */
int64_t sd_oldest_day(const struct sd_ctx *sd, int64_t day);

/* Main loop: forgets what the window left behind, once a day (D55). */
void sd_prune_tick(struct sd_ctx *sd);

/*
 * The policy version in force (lock-free; policy_change.c), NULL before
 * the genesis: read once per request and used throughout (D52).
 */
const struct sd_version *sd_version_now(struct sd_ctx *sd);

/* Index of the key called name, or -1. */
int sd_key_index(const struct sd_ctx *sd, const char *name);

/* Index of the key with that address, or -1. */
int sd_key_by_address(const struct sd_ctx *sd, const uint8_t addr[20]);

/* --- issue 12: a leaner sign path (helper C) ----------------------------- */
/*
 * One request in flight, owned by the server (server.c): its NNG context
 * and its place in the bound on outstanding requests ([server] contexts).
 */
struct sd_rpc;

/*
 * A handler's return when it keeps the request: it will answer later,
 * exactly once, with sd_rpc_reply() (from any thread).
 */
#define SD_REPLY_LATER 1

/*
 * sd_refuse_after()'s reply alone: encoded, neither logged nor journaled.
 */
int sd_refusal_encode(struct prt_writer *rep, uint16_t reply_type,
    int reason, const char *detail, uint32_t retry_after_s);

/* Sends rep's bytes as req's reply and ends req (rep is not kept). */
void sd_rpc_reply(struct sd_rpc *req, const struct prt_writer *rep);

/* The sign handler, which answers later once the record is durable. */
int sd_handle_sign(struct sd_ctx *sd, struct sd_rpc *req,
    unsigned peer_uid, const uint8_t *buf, size_t len,
    struct prt_writer *rep);

/*
 * How sd_commit_async() ends: why is POL_OK (durable and applied; seq and
 * hash are the record's), POL_JOURNAL_ERROR (not durable; undo was run)
 * or POL_INTERNAL (durable, apply failed), with a sentence in detail.  It
 * runs once, in the thread that led the record's batch, which holds
 * commit_lock's read side: it must not sd_commit() or journal anything
 * (a refusal here is logged, not journaled: the journal failed, or the
 * record that says what happened is already in it).
 */
typedef void (*sd_commit_done_fn)(struct sd_ctx *sd, void *arg,
    enum pol_reason why, uint64_t seq, const uint8_t hash[32],
    const char *detail);

/*
 * sd_commit() without waiting for durability (invariant 1 still holds: the
 * caller answers from done, which runs only after the record's
 * fdatasync).  Stamps and queues c's record like sd_commit(); c is copied
 * (body is serialised at once, so the caller may json_decref it; arg and
 * pos must live until done).  Returns POL_OK: queued, done will run; or,
 * with nothing queued and done never called, stamp's refusal, POL_RETRY,
 * POL_INTERNAL or POL_JOURNAL_ERROR (undo was run), with detail.
 * The batch is led by the thread sd_commit_leader_main() runs.
 */
enum pol_reason sd_commit_async(struct sd_ctx *sd, const struct sd_commit *c,
    sd_commit_done_fn done, char *detail, size_t cap);

/*
 * The group-commit leader (a thread of its own, started by the server):
 * writes and fdatasyncs whatever sd_commit_async() queued meanwhile as one
 * batch, runs the completions, until jnl_lead_stop().  arg: the sd_ctx.
 */
void *sd_commit_leader_main(void *arg);

/* --- end of issue 12 (helper C) ------------------------------------------ */

#endif
