/* signerd.h: the daemon's shared context, seen by its handlers and setup. */
#ifndef SIGNERD_SIGNERD_H
#define SIGNERD_SIGNERD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "hsm/hsm.h"
#include "journal/journal.h"
#include "policy/policy.h"
#include "proto/buf.h"
#include "signerd/state.h"

#define SD_VERSION "signerd 0.1"
#define SD_MAX_KEYS 16
#define SD_MAX_UIDS 16

/* A named signing key from the config, loaded and checked at start-up. */
struct sd_key {
	char name[65];
	struct hsm_key key;
	uint8_t address[20];
};

struct sd_ctx {
	struct hsm *hsm;
	struct sd_key keys[SD_MAX_KEYS];
	size_t nkeys;
	struct hsm_key audit_key;

	struct pol_policy *policy;
	char policy_hex[65];
	uint8_t *policy_text;	/* the genesis file, served by POLICY_REQ */
	size_t policy_len;

	struct jnl *journal;
	struct sd_state *state;
	/*
	 * Sign handlers hold it shared from journal append to state commit;
	 * the snapshot writer takes it exclusively, so a snapshot never
	 * misses a record that is durable but not yet in the state.
	 */
	pthread_rwlock_t commit_lock;
	atomic_uint_fast64_t appended_since_snapshot;
	uint64_t snapshot_interval;

	unsigned allowed_uids[SD_MAX_UIDS];
	size_t nallowed;
	atomic_int stopping;
};

/* Called by the server for each request after the peer check. */
int sd_handle_sign(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *req,
    size_t len, struct prt_writer *rep);
int sd_handle_exposure(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_status(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_policy(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);

/*
 * Journals a refusal ({"type":"refused",...}) with its reason and the
 * request id when known; failures to journal are logged (the refusal
 * itself stands: refusing never needs durability).
 */
void sd_journal_refusal(struct sd_ctx *sd, const char *request_id,
    unsigned peer_uid, int reason, const char *detail);

/*
 * Starts a record body {"type":type,"ts":now,"policy":hash}; the caller adds
 * fields and json_decref()s it.  NULL when out of memory.
 */
json_t *sd_record_new(struct sd_ctx *sd, const char *type);

/* Writes a snapshot if enough records were appended since the last one. */
void sd_maybe_snapshot(struct sd_ctx *sd, int force);

/* Index of the key called name, or -1. */
int sd_key_index(const struct sd_ctx *sd, const char *name);

#endif
