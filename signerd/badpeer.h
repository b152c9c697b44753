/*
 * badpeer.h: refusals that cost the sender nothing to provoke (a peer uid
 * that is not allowed, a frame of no known type or version, a read-only
 * query that does not decode), counted per reason and peer uid, logged at
 * a bounded rate and journaled in aggregate, so that a flood of them costs
 * neither one fdatasync nor one log line each (issue 10 item 7).  A
 * refused sign, queue, cancel, pause or unpause that decoded is a decision
 * about a well-formed request and keeps its own "refused" record
 * (record.c).
 *
 * Bounds: the first refusal of each (reason, uid) in a journal interval is
 * logged with its detail; after that one summary line at most every
 * SD_BADPEER_LOG_SECONDS; one "refusals" record at most every
 * SD_BADPEER_JOURNAL_SECONDS while there is something to report, and one
 * at shutdown (docs/journal-format.md).  Memory: SD_BADPEER_SLOTS entries;
 * uids beyond them are counted per reason with peer_uid null.
 */
#ifndef SIGNERD_BADPEER_H
#define SIGNERD_BADPEER_H

#include "signerd/signerd.h"

#define SD_BADPEER_JOURNAL_SECONDS 60
#define SD_BADPEER_LOG_SECONDS 10
#define SD_BADPEER_SLOTS 64

struct sd_badpeer;

/*
 * Allocates an empty table into *out (sd_server_listen does, before any
 * request is served, and sets sd->badpeer).  Returns 0 or ERR_NOMEM.
 */
int sd_badpeer_new(struct sd_badpeer **out) WARN_UNUSED;

/*
 * Counts one refusal of a frame from peer_uid (-1 when the kernel did not
 * name the peer) with a policy/ reason code; detail is the sentence the
 * first such refusal of the interval logs.  Any thread; never blocks on
 * I/O.  With no table (sd->badpeer NULL: a handler run outside the
 * server) it only logs.
 */
void sd_badpeer_note(struct sd_ctx *sd, int peer_uid, int reason,
    const char *detail);

/*
 * The main loop's tick (about once a second): logs the summary line and
 * journals the "refusals" record when their intervals have passed.
 */
void sd_badpeer_tick(struct sd_ctx *sd);

/*
 * At shutdown, after the workers have stopped: journals whatever was
 * counted since the last record, then frees the table and sets
 * sd->badpeer to NULL.
 */
void sd_badpeer_finish(struct sd_ctx *sd);

#endif
