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

/* Sees each record that verified, in seq order (a receipts check). */
typedef void (*sd_audit_each_fn)(void *ctx, uint64_t seq,
    const uint8_t hash[32]);

/* What sd_audit_run() verifies, and how. */
struct sd_audit_opts {
	const char *archive;	/* archived segments, or NULL */
	const char *journal;	/* the live directory: snapshots are here */
	EVP_PKEY *audit_pub;
	const char *state_out;	/* as sd_audit_verify(); may be NULL */
	unsigned threads;	/* 0: JNL_VERIFY_THREADS_DEFAULT */
	int chain_only;		/* the journal layer's checks alone */
	sd_audit_each_fn each;	/* optional */
	void *each_ctx;
};

/*
 * sd_audit_verify() (or jnl_verify() with chain_only) over the archive
 * and the live directory as one chain (jnl_verify_replay2()), with the
 * stateless part of each signed record's check on the worker threads
 * (threads 1: every check in replay order, as at start-up, the reference).
 * The verdict does not depend on threads.  Returns as jnl_verify_replay2().
 */
int sd_audit_run(const struct sd_audit_opts *o, struct jnl_verify_result *res);

/*
 * `signerctl journal archive`: jnl_archive() from journal to archive,
 * believing a snapshot only as signerd does (signed by audit_pub).
 */
int sd_audit_archive(const char *journal, const char *archive,
    EVP_PKEY *audit_pub, struct jnl_archive_result *res,
    struct jnl_error *err) WARN_UNUSED;

#endif
