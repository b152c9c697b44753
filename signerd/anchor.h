/* anchor.h: the journal's rollback anchor in the HSM (anchor.c). */
#ifndef SIGNERD_ANCHOR_H
#define SIGNERD_ANCHOR_H

#include <stdint.h>

#include "signerd/signerd.h"

/*
 * Reads the anchor: *seq and hash of the newest record the HSM saw
 * durable.  Returns 0, ERR_NOT_FOUND (none), or another error with a
 * sentence in err.
 */
int sd_anchor_read(struct sd_ctx *sd, uint64_t *seq, uint8_t hash[32],
    char *err, size_t errlen) WARN_UNUSED;

/* Moves the anchor to the journal's head if that is past it.  0 or error. */
int sd_anchor_advance(struct sd_ctx *sd);

/* Journals a deliberate re-anchor, naming the old anchor if had. */
int sd_anchor_reanchored(struct sd_ctx *sd, int had, uint64_t old_seq,
    const uint8_t old_hash[32]) WARN_UNUSED;

#endif
