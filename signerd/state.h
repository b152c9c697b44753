/*
 * state.h: what signerd must remember between requests and across restarts:
 * the amount signed per asset and UTC day, and every request id with the
 * transaction it signed.  Rebuilt from the journal (and its snapshots) at
 * start-up; never written anywhere else.
 */
#ifndef SIGNERD_STATE_H
#define SIGNERD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/u256.h"
#include "proto/buf.h"

#define SD_REQUEST_ID_MAX 64
#define SD_ASSET_MAX 16
#define SD_RAW_TX_MAX 8192

enum sd_request_status {
	SD_REQ_IN_FLIGHT = 1,	/* reserved, being signed and journaled */
	SD_REQ_SIGNED = 2,	/* durable in the journal */
};

struct sd_request {
	char id[SD_REQUEST_ID_MAX + 1];
	uint8_t content[32];	/* SHA-256 of what the request asked to sign */
	enum sd_request_status status;
	char asset[SD_ASSET_MAX + 1];
	int64_t day;
	u256 amount;
	uint8_t tx_hash[32];
	uint8_t *raw;		/* signed transaction, when SD_REQ_SIGNED */
	size_t raw_len;
};

struct sd_state;

/* Allocates an empty state.  ERR_NOMEM. */
int sd_state_new(struct sd_state **out) WARN_UNUSED;
void sd_state_free(struct sd_state *st);

/*
 * Every function below except the replay/snapshot ones must be called with
 * the state locked; a sign request holds the lock only to look up, reserve,
 * and later commit or abort, never across the HSM call or the fdatasync.
 */
void sd_state_lock(struct sd_state *st);
void sd_state_unlock(struct sd_state *st);

/* The request with that id, or NULL. */
const struct sd_request *sd_state_find(const struct sd_state *st,
    const char *request_id);

/*
 * Writes the exposure of asset on day: signed amounts plus amounts reserved
 * by requests still in flight, so that concurrent requests cannot both take
 * the last of a limit (invariant 2).
 */
void sd_state_exposure(const struct sd_state *st, u256 *out, const char *asset,
    int64_t day);

/*
 * Records an in-flight request and reserves amount against (asset, day).
 * ERR_EXISTS if the id is known, ERR_OVERFLOW if the total would overflow,
 * ERR_NOMEM.
 */
int sd_state_begin(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount) WARN_UNUSED;

/* Marks an in-flight request signed, keeping a copy of the raw transaction. */
int sd_state_commit(struct sd_state *st, const char *request_id,
    const uint8_t tx_hash[32], const uint8_t *raw, size_t raw_len) WARN_UNUSED;

/* Forgets an in-flight request and releases its reservation. */
void sd_state_abort(struct sd_state *st, const char *request_id);

/*
 * Replay of one durable "signed" record (start-up, single-threaded): begin
 * and commit in one step.  ERR_EXISTS for a request id seen twice, which
 * signerd never journals, so it means a corrupt journal.
 */
int sd_state_replay_signed(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len) WARN_UNUSED;

/* Number of signed requests remembered. */
size_t sd_state_count(const struct sd_state *st);

/*
 * Snapshot blob: versioned, every signed request and every exposure bucket.
 * In-flight requests are never in a snapshot (they are not durable).
 */
int sd_state_serialize(const struct sd_state *st, struct prt_writer *w)
    WARN_UNUSED;

/* Loads a blob into an empty state; any malformation is an error. */
int sd_state_deserialize(struct sd_state *st, const uint8_t *blob,
    size_t len) WARN_UNUSED;

#endif
