/* fsm.c: the one transition table of the payout state machine (pure). */
#include "orchestratord/fsm.h"

#include <stddef.h>
#include <string.h>

#include "common/err.h"

static const char *const status_names[PS_COUNT] = {
	[PS_NONE] = "NONE",
	[PS_PENDING_APPROVAL] = "PENDING_APPROVAL",
	[PS_APPROVED] = "APPROVED",
	[PS_QUEUED] = "QUEUED",
	[PS_SIGNING] = "SIGNING",
	[PS_SUBMITTED] = "SUBMITTED",
	[PS_CONFIRMED] = "CONFIRMED",
	[PS_REJECTED] = "REJECTED",
	[PS_CANCELLED] = "CANCELLED",
	[PS_FAILED] = "FAILED",
};

/* Event names from the seed, plus the ones it left implicit. */
static const struct {
	enum payout_status from, to;
	const char *event;
} transitions[] = {
	{ PS_NONE, PS_PENDING_APPROVAL, "PayoutRequestCreated" },
	{ PS_NONE, PS_APPROVED, "PayoutRequestCreated" },
	{ PS_NONE, PS_REJECTED, "RiskCheckRejected" },
	{ PS_PENDING_APPROVAL, PS_APPROVED, "PayoutRequestApproved" },
	{ PS_PENDING_APPROVAL, PS_REJECTED, "PayoutRequestRejected" },
	{ PS_PENDING_APPROVAL, PS_CANCELLED, "PayoutCancelled" },
	{ PS_APPROVED, PS_QUEUED, "PayoutQueued" },
	{ PS_APPROVED, PS_SIGNING, "" },
	{ PS_APPROVED, PS_REJECTED, "PayoutRequestRejected" },
	{ PS_APPROVED, PS_CANCELLED, "PayoutCancelled" },
	{ PS_APPROVED, PS_FAILED, "PayoutFailed" },
	{ PS_QUEUED, PS_SIGNING, "" },
	{ PS_QUEUED, PS_CANCELLED, "PayoutCancelled" },
	{ PS_QUEUED, PS_FAILED, "PayoutFailed" },
	{ PS_SIGNING, PS_SUBMITTED, "PayoutSubmitted" },
	{ PS_SIGNING, PS_FAILED, "PayoutFailed" },
	{ PS_SUBMITTED, PS_SUBMITTED, "PayoutReorged" },
	{ PS_SUBMITTED, PS_CONFIRMED, "PayoutConfirmed" },
	{ PS_SUBMITTED, PS_FAILED, "PayoutFailed" },
};

const char *
fsm_status_name(enum payout_status s)
{
	if ((int)s < 0 || s >= PS_COUNT)
		return NULL;
	return status_names[s];
}

int
fsm_status_from_name(enum payout_status *out, const char *name)
{
	int i;

	*out = PS_NONE;
	for (i = PS_PENDING_APPROVAL; i < PS_COUNT; i++) {
		if (strcmp(status_names[i], name) == 0) {
			*out = (enum payout_status)i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

int
fsm_is_terminal(enum payout_status s)
{
	return s == PS_CONFIRMED || s == PS_REJECTED || s == PS_CANCELLED ||
	    s == PS_FAILED;
}

const char *
fsm_event(enum payout_status from, enum payout_status to)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(transitions); i++)
		if (transitions[i].from == from && transitions[i].to == to)
			return transitions[i].event;
	return NULL;
}
