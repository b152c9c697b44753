/*
 * seen.h: the approval signatures signerd has accepted, and for what.  A
 * signature that does not verify over a request's intent but was accepted
 * before for another one is reported as APPROVAL_WRONG_INTENT (a replay),
 * naming what it approved; any other is APPROVAL_BAD_SIGNATURE.  Only a
 * diagnosis: both are refusals.  Called with the state locked; rebuilt
 * from the approvals in journal records and from snapshots.  An expired
 * approval is refused as expired before its signature is looked at, so
 * entries are kept only until their approval's expiry (sd_seen_prune).
 */
#ifndef SIGNERD_SEEN_H
#define SIGNERD_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "proto/buf.h"

#define SD_SEEN_LABEL_MAX 80	/* "<action> <id>" */

struct sd_seen;

int sd_seen_new(struct sd_seen **out) WARN_UNUSED;
void sd_seen_free(struct sd_seen *s);

/*
 * Remembers that sig (len bytes), an approval valid until expiry, was
 * accepted for label ("sign payout-42"); a signature seen before keeps
 * its first label.  ERR_NOMEM, ERR_INVALID_ARG for a label over
 * SD_SEEN_LABEL_MAX.
 */
int sd_seen_add(struct sd_seen *s, const uint8_t *sig, size_t len,
    const char *label, uint64_t expiry) WARN_UNUSED;

/* Forgets the signatures of approvals that expired before now. */
void sd_seen_prune(struct sd_seen *s, int64_t now);

/* The label sig was accepted for, or NULL. */
const char *sd_seen_find(const struct sd_seen *s, const uint8_t *sig,
    size_t len);

size_t sd_seen_count(const struct sd_seen *s);

int sd_seen_serialize(const struct sd_seen *s, struct prt_writer *w)
    WARN_UNUSED;
int sd_seen_deserialize(struct sd_seen *s, struct prt_reader *rd)
    WARN_UNUSED;

#endif
