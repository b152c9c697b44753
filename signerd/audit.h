/* audit.h: the auditor's entry to signerd's verifier. */
#ifndef SIGNERD_AUDIT_H
#define SIGNERD_AUDIT_H

#include <openssl/evp.h>

#include "journal/journal.h"

/*
 * jnl_verify() of the journal in dir, plus every record re-checked as
 * signerd's start-up checks it (signerd/replay.c).  Returns and fills *res
 * as jnl_verify_replay().  state_out (may be NULL): after a successful
 * verification, the file gets the state the replay built, in the bytes a
 * signed snapshot of the head holds before its signature, so a test can
 * prove that a snapshot restores exactly what a full replay rebuilds.
 */
int sd_audit_verify(const char *dir, EVP_PKEY *audit_pub,
    const char *state_out, struct jnl_verify_result *res);

#endif
