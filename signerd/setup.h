/* setup.h: signerd's start-up steps, run before the sandbox. */
#ifndef SIGNERD_SETUP_H
#define SIGNERD_SETUP_H

#include <openssl/evp.h>

#include "signerd/signerd.h"

/*
 * Reads and parses the genesis policy file into sd->genesis, its
 * approver keys loaded (pol_verifier_new); err says what was wrong.
 */
int sd_setup_policy(struct sd_ctx *sd, const char *path, char *err,
    size_t errlen) WARN_UNUSED;

/* Loads one named secp256k1 signing key; refuses weak keys. */
int sd_setup_key(struct sd_ctx *sd, const char *name, const char *uri,
    char *err, size_t errlen) WARN_UNUSED;

/* Loads the P-256 audit key and makes an OpenSSL copy of its public key. */
int sd_setup_audit_key(struct sd_ctx *sd, const char *uri, EVP_PKEY **pub,
    char *err, size_t errlen) WARN_UNUSED;

/*
 * Opens the journal, verifying it against the HSM's anchor (unless
 * reanchor: a deliberate re-anchor, journaled) and rebuilding the state
 * from its newest signed snapshot and the records after it; a new
 * journal gets the genesis record.  sd->audit_pub becomes audit_pub.
 */
int sd_setup_journal(struct sd_ctx *sd, const char *dir, uint64_t segment_max,
    EVP_PKEY *audit_pub, int reanchor, char *err, size_t errlen)
    WARN_UNUSED;

/*
 * D8 for the files too: as root, hands every segment and snapshot in dir
 * to user, so that signerd can still read its records back after the drop
 * (a retry, D55), including the first segment it made as root.  A no-op
 * unless running as root.  0 or ERR_IO / ERR_NOT_FOUND with err set.
 */
int sd_setup_journal_owner(const char *dir, const char *user, char *err,
    size_t errlen) WARN_UNUSED;

/*
 * Journal replay callbacks (replay.c), ctx being the struct sd_ctx: the
 * newest snapshot's blob, then every record after it.  Every record must
 * name the genesis policy's hash.
 */
int sd_replay_snapshot(void *ctx, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t len);
int sd_replay_record(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap);

/*
 * The auditor's split of sd_replay_record (jnl_verify_hooks): prepare
 * runs the stateless part of a "signed" record's check (fields, tx_hash,
 * the sender's recovery) on a worker thread, reading only rec (ctx is not
 * used: it may run while the state changes); record_prepared is
 * sd_replay_record with that result (NULL: it runs the check itself), so
 * both report the same first failure; release frees the result.
 */
int sd_replay_prepare(void *ctx, uint64_t seq, const json_t *rec,
    void **prepared);
int sd_replay_record_prepared(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prepared, char *why,
    size_t cap);
void sd_replay_release(void *ctx, void *prepared);

/*
 * The verifier's readers, shared with policy_change.c: the approvals of a
 * record (into ap[0..*n)) and a decimal-string u64 field.  0 or
 * ERR_MALFORMED (with sd->replay_why).
 */
int sd_replay_approvals(struct sd_ctx *sd, const json_t *rec,
    struct prt_approval *ap, uint16_t *n) WARN_UNUSED;
int sd_replay_u64(const json_t *rec, const char *key, uint64_t *out)
    WARN_UNUSED;
/* A string field or NULL; a 32-byte hash as 64 lowercase hex digits. */
const char *sd_replay_str(const json_t *rec, const char *key);
int sd_replay_hash(const json_t *rec, const char *key, uint8_t out[32])
    WARN_UNUSED;

/* jnl_signer_fn for checkpoints: signs with the audit key in the HSM. */
int sd_audit_sign(void *ctx, uint8_t rs[64], const uint8_t digest[32]);

#endif
