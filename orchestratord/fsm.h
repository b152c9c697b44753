/* fsm.h: the payout state machine: statuses, the one transition table, events. */
#ifndef ORCH_FSM_H
#define ORCH_FSM_H

#include "common/util.h"

/*
 * PENDING_APPROVAL -> APPROVED -> [QUEUED] -> SIGNING -> SUBMITTED ->
 * CONFIRMED; REJECTED, CANCELLED and FAILED are the other terminal
 * states.  Names are stored in PostgreSQL and shown by the API: never
 * rename one.
 */
enum payout_status {
	PS_NONE = 0,		/* "from" of a creation */
	PS_PENDING_APPROVAL,
	PS_APPROVED,
	PS_QUEUED,
	PS_SIGNING,
	PS_SUBMITTED,
	PS_CONFIRMED,
	PS_REJECTED,
	PS_CANCELLED,
	PS_FAILED,
	PS_COUNT
};

/* "PENDING_APPROVAL", ...; "NONE" for PS_NONE; NULL when out of range. */
const char *fsm_status_name(enum payout_status s);

/* Returns 0 and *out, or ERR_NOT_FOUND for a name that is no status. */
int fsm_status_from_name(enum payout_status *out, const char *name)
    WARN_UNUSED;

/* 1 for CONFIRMED, REJECTED, CANCELLED and FAILED. */
int fsm_is_terminal(enum payout_status s);

/*
 * The outbox event that a move from -> to writes, or NULL when the
 * transition is not in the table (the caller must not make it).  A move
 * with no event of its own (APPROVED -> SIGNING) returns "".  Creation is
 * a move from PS_NONE.  SUBMITTED -> SUBMITTED is the reorg path (the
 * receipt vanished; the same transaction is broadcast again).
 */
const char *fsm_event(enum payout_status from, enum payout_status to);

#endif
