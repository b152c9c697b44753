/* audit.h: the auditor's entry to signerd's verifier. */
#ifndef SIGNERD_AUDIT_H
#define SIGNERD_AUDIT_H

#include <openssl/evp.h>

#include "journal/journal.h"

/*
 * jnl_verify() of the journal in dir, plus every record re-checked as
 * signerd's start-up checks it (signerd/replay.c).  Returns and fills *res
 * as jnl_verify_replay().
 */
int sd_audit_verify(const char *dir, EVP_PKEY *audit_pub,
    struct jnl_verify_result *res);

#endif
