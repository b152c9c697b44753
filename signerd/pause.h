/*
 * pause.h: the break-glass pause.  Any one approver pauses, at once; m of
 * the governance set lift that pause, naming it by its id, so approvals
 * for an old unpause can never lift a newer pause.  A pause id is used
 * once, ever.  Called with the state locked (see state.h); rebuilt from
 * "paused" and "unpaused" journal records and from snapshots.
 */
#ifndef SIGNERD_PAUSE_H
#define SIGNERD_PAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/policy.h"
#include "proto/buf.h"

/* The id of the pause a genesis file with "paused": true starts in. */
#define SD_PAUSE_GENESIS "genesis"

struct sd_pause_state {
	int paused;
	char id[POL_REQUEST_ID_MAX + 1];	/* the current pause; "" if none */
	char by[POL_APPROVER_NAME_MAX + 1];	/* who paused; "" for genesis */
};

struct sd_pause;

/*
 * A pause state that starts paused (as SD_PAUSE_GENESIS) when
 * genesis_paused.  ERR_NOMEM.
 */
int sd_pause_new(struct sd_pause **out, int genesis_paused) WARN_UNUSED;
void sd_pause_free(struct sd_pause *p);

/* Copies the current state into *out. */
void sd_pause_get(const struct sd_pause *p, struct sd_pause_state *out);

/* 1 when signing is paused. */
int sd_pause_active(const struct sd_pause *p);

/* 1 when id was ever used by a pause (SD_PAUSE_GENESIS always is). */
int sd_pause_id_used(const struct sd_pause *p, const char *id);

/*
 * Pauses under a new id, by approver (also while paused: the newer pause
 * is the one to lift).  ERR_EXISTS for an id used before,
 * ERR_INVALID_ARG for a bad id, ERR_NOMEM.
 */
int sd_pause_set(struct sd_pause *p, const char *id, const char *by)
    WARN_UNUSED;

/*
 * Lifts the pause named id.  ERR_NOT_FOUND when not paused or id is not
 * the current pause.
 */
int sd_pause_clear(struct sd_pause *p, const char *id) WARN_UNUSED;

/*
 * Puts back a state saved with sd_pause_get (undo after a failed journal
 * write); the used ids stay used.
 */
void sd_pause_restore(struct sd_pause *p, const struct sd_pause_state *s);

int sd_pause_serialize(const struct sd_pause *p, struct prt_writer *w)
    WARN_UNUSED;
/* Replaces p's state with the serialized one (used ids are added). */
int sd_pause_deserialize(struct sd_pause *p, struct prt_reader *rd)
    WARN_UNUSED;

#endif
