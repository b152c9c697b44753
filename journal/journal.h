/*
 * journal.h: the durable, hash-chained, append-only record of every signer
 * decision (docs/journal-format.md has the exact bytes; decisions D1-D3).
 *
 * A journal is a directory of segments seg-00000001.jsonl, ... each holding
 * one record per line:
 *
 *   {"prev":"<sha256 hex of the previous line>","seq":N,<body fields>}\n
 *
 * plus up to two snapshot files (snap-<seq>.bin) that let start-up skip
 * JSON replay of old records.  One process (signerd) opens a journal for
 * appending; auditors read it with jnl_verify() and the jnl_reader_*
 * functions, which never modify it.
 */
#ifndef JOURNAL_JOURNAL_H
#define JOURNAL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"

/* A line (including its '\n') longer than this is refused on write and read. */
#define JNL_LINE_MAX 65536
/* Segments are rotated once a write would take them past this size. */
#define JNL_SEGMENT_MAX_DEFAULT (64ull * 1024 * 1024)
/* Largest segment_max accepted, and largest segment file read back. */
#define JNL_SEGMENT_MAX_LIMIT (1024ull * 1024 * 1024)
/* Largest snapshot blob accepted by jnl_snapshot_write(). */
#define JNL_SNAPSHOT_MAX (2048ull * 1024 * 1024)
/*
 * A checkpoint signs a head at most this many records before its own seq,
 * so a verifier needs to remember only that many hashes.
 */
#define JNL_CHECKPOINT_WINDOW 4096

/*
 * Where and why a journal failed to verify: the segment (or snapshot) file
 * name inside the journal directory, the byte offset of the offending line
 * in it, the seq it carries or should carry, and a one-line reason.
 */
struct jnl_error {
	int code;		/* the ERR_* also returned */
	char segment[40];	/* "seg-00000003.jsonl"; "" if not a file */
	uint64_t offset;	/* byte offset of the line in that file */
	uint64_t seq;		/* seq of the record, 0 if not known */
	char reason[224];
};

/*
 * Writes "seg-00000003.jsonl offset 1234 seq 57: <reason>" (or just the
 * reason when no file applies) into buf (cap bytes, NUL-terminated) and
 * returns buf.
 */
const char *jnl_error_format(char *buf, size_t cap, const struct jnl_error *e);

/*
 * Open-time callbacks (both optional).  restore receives the newest
 * snapshot blob that matches the hash chain; replay then receives every
 * record after it, in seq order, as a parsed JSON object including "prev"
 * and "seq", with its hash and position.  Neither is called before the entire chain and
 * every checkpoint signature (with jnl_config.audit_pub) have verified.  A
 * non-zero return stops jnl_open(), which returns that value, with replay's
 * why (cap bytes) as the error's reason; except that restore returning
 * ERR_BAD_SIGNATURE (a snapshot it does not believe) makes jnl_open()
 * ignore the snapshot and replay every record instead.
 */
/*
 * Where a record's line is: its segment's number and the line's byte
 * offset in it (segments are at most JNL_SEGMENT_MAX_LIMIT bytes, so the
 * offset fits).  Stable for as long as the segment exists.
 */
struct jnl_pos {
	uint32_t seg;
	uint32_t off;
};

typedef int (*jnl_restore_fn)(void *ctx, uint64_t seq,
    const uint8_t hash[32], const void *blob, size_t len);
typedef int (*jnl_replay_fn)(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *record, char *why, size_t cap);

struct jnl_config {
	uint64_t segment_max;	/* 0: JNL_SEGMENT_MAX_DEFAULT */
	jnl_restore_fn restore;
	jnl_replay_fn replay;
	void *ctx;		/* passed to both callbacks */
	/*
	 * Optional audit public key (P-256): jnl_checkpoint() verifies each
	 * signature with it before appending, so an HSM fault cannot put a
	 * checkpoint into the journal that every later audit would reject.
	 * The journal takes its own reference.
	 */
	EVP_PKEY *audit_pub;
	/*
	 * Optional rollback anchor (anchor_seq 0: none): the journal must
	 * hold record anchor_seq with hash anchor_hash, else jnl_open()
	 * fails with ERR_ROLLBACK, naming what it found: an emptied,
	 * truncated or older journal (invariant 8).
	 */
	uint64_t anchor_seq;
	uint8_t anchor_hash[32];
};

/* Counters since jnl_open(); fdatasyncs < appends shows group commit works. */
struct jnl_stats {
	uint64_t appends;	/* records made durable */
	uint64_t batches;	/* write(2) calls carrying a batch */
	uint64_t fdatasyncs;
	uint64_t max_batch;	/* most records in one batch */
	uint64_t bytes;		/* bytes appended */
	uint64_t rotations;	/* segments started after the first */
	int failed;		/* non-zero once a write or sync failed */
};

struct jnl;

/*
 * Opens (creating it with mode 0700 if missing) the journal directory dir
 * for appending, and takes an exclusive lock on it.  Verifies the whole
 * hash chain (prefix, prev, seq continuity, segment numbering) without
 * parsing JSON; truncates a torn final line (a crash mid-write: it was
 * never acknowledged) with a warning; picks the newest intact snapshot,
 * hands it to cfg->restore and replays the records after it to
 * cfg->replay.  cfg may be NULL.
 *
 * Out: *out the journal (NULL on failure); err (may be NULL) the segment,
 * offset, seq and reason of the first problem.
 * Returns 0; ERR_MALFORMED for tampering or a snapshot naming a position
 * the journal lacks (truncated journal); ERR_BAD_SIGNATURE for a
 * checkpoint the audit key did not sign; ERR_ROLLBACK for a journal that
 * does not hold cfg's anchor; ERR_TOO_LARGE for an over-long
 * line; ERR_EXISTS if another process holds the journal; ERR_UNSUPPORTED
 * if cfg->audit_pub is not a P-256 key; ERR_IO, ERR_NOMEM; or a callback's
 * non-zero return.
 */
int jnl_open(struct jnl **out, struct jnl_error *err, const char *dir,
    const struct jnl_config *cfg) WARN_UNUSED;

/*
 * Closes the journal.  No jnl_append() may be running.  NULL is ok.  Every
 * acknowledged record is already durable; nothing is flushed here.
 */
void jnl_close(struct jnl *j);

/*
 * Appends one record and returns once it is durable (written and
 * fdatasync'ed): invariant 1, no signature leaves signerd before its
 * record is durable.  Thread-safe; concurrent calls share one write and
 * one fdatasync (group commit).
 *
 * body: a JSON object with a string "type" other than "checkpoint", no
 * "prev" or "seq" key, serialised compactly with sorted keys into at most
 * JNL_LINE_MAX bytes including the prefix.
 * Out (each may be NULL): *seq the record's seq; hash its SHA-256.
 * Returns 0; ERR_INVALID_ARG (bad body); ERR_TOO_LARGE; ERR_NOMEM; or
 * ERR_IO when the write or sync failed, after which every later append on
 * this handle fails with ERR_IO too (durability is never assumed).
 */
int jnl_append(struct jnl *j, uint64_t *seq, uint8_t hash[32],
    const json_t *body) WARN_UNUSED;

/*
 * jnl_append() in two steps, for a caller that must order records by
 * something of its own (signerd's one clock): jnl_append_begin() checks
 * and queues body and returns at once, so records queued under the
 * caller's lock reach the file in that order; jnl_append_end() waits until
 * it is durable and frees *p.  Every begin needs exactly one end.  Returns
 * as jnl_append(); begin's failure queues nothing.
 */
struct jnl_pending;
int jnl_append_begin(struct jnl *j, struct jnl_pending **p,
    const json_t *body) WARN_UNUSED;
int jnl_append_end(struct jnl *j, struct jnl_pending *p, uint64_t *seq,
    uint8_t hash[32]) WARN_UNUSED;
/* jnl_append_end() that also says where the line went (pos may be NULL). */
int jnl_append_end_pos(struct jnl *j, struct jnl_pending *p, uint64_t *seq,
    uint8_t hash[32], struct jnl_pos *pos) WARN_UNUSED;

/*
 * Reads back the line at pos from the journal directory dirfd (opened
 * read-only by the caller; safe alongside an appending jnl): at most cap
 * bytes, NUL-terminated in place of its '\n', its length in *len and its
 * SHA-256 (the record hash) in hash.  The caller checks the line is the
 * record it expects.  Returns 0; ERR_NOT_FOUND (no such segment: archived
 * or never written), ERR_MALFORMED (no complete line there), ERR_TOO_LARGE
 * (longer than cap), ERR_INVALID_ARG or ERR_IO.
 */
int jnl_read_line(int dirfd, const struct jnl_pos *pos, char *buf, size_t cap,
    size_t *len, uint8_t hash[32]) WARN_UNUSED;

/* The newest durable record: its seq (0 if none) and hash (zeros if none). */
void jnl_head(struct jnl *j, uint64_t *seq, uint8_t hash[32]);

/* Copies the counters into *st. */
void jnl_stats(struct jnl *j, struct jnl_stats *st);

/*
 * Writes blob (len bytes, at most JNL_SNAPSHOT_MAX) as the state that
 * replaying every record up to the current head produces: the caller must
 * keep appends from running (or from changing the state it serialised)
 * between taking its state and this call.  Atomic (temp file, fsync,
 * rename, directory fsync); keeps the newest two snapshots.  Safe to run
 * while other threads append; not concurrently with itself.
 * Returns 0; ERR_NOT_FOUND if the journal has no record yet; ERR_TOO_LARGE;
 * ERR_IO; ERR_NOMEM.
 */
int jnl_snapshot_write(struct jnl *j, const void *blob, size_t len)
    WARN_UNUSED;

/* Like jnl_snapshot_write() for a state that reflects records up to seq,
 * whose record hash is hash (from jnl_append()); seq must not be past the
 * head.  Returns as jnl_snapshot_write(), or ERR_INVALID_ARG. */
int jnl_snapshot_write_at(struct jnl *j, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t len) WARN_UNUSED;

/*
 * Signs raw digest with the audit key (ECDSA P-256) and writes r||s (32
 * bytes each, big-endian) into rs.  Returns 0 or a negative ERR_*.
 */
typedef int (*jnl_signer_fn)(void *ctx, uint8_t rs[64],
    const uint8_t digest[32]);

/*
 * Signs the current head (seq N, hash H) and appends
 * {"type":"checkpoint","head_seq":N,"head":"H","msg":"signer-journal-
 * checkpoint v1 N H","sig":"<DER hex>","ts":"<UTC RFC 3339>"}; the
 * signature is over SHA-256 of msg (D3).  Appends that race with the HSM
 * call land between N and the checkpoint; if more than
 * JNL_CHECKPOINT_WINDOW do, the head is signed again.
 * Returns 0; ERR_NOT_FOUND on an empty journal; the signer's error;
 * ERR_MALFORMED if it returned a zero r or s; ERR_BAD_SIGNATURE if the
 * signature does not verify with jnl_config.audit_pub; ERR_TIMEOUT if the
 * window was overrun three times; or jnl_append()'s errors.
 */
int jnl_checkpoint(struct jnl *j, jnl_signer_fn signer, void *ctx)
    WARN_UNUSED;

/*
 * The audit key's signature over a text of the caller's, as checkpoints
 * are signed (D3): ECDSA P-256 over SHA-256(msg), DER (at most
 * JNL_DER_SIG_MAX bytes) into der.  jnl_sign_text returns 0 or the
 * signer's error; jnl_verify_text 0 or ERR_BAD_SIGNATURE.
 */
#define JNL_DER_SIG_MAX 72
int jnl_sign_text(uint8_t *der, size_t *derlen, const char *msg,
    jnl_signer_fn signer, void *ctx) WARN_UNUSED;
int jnl_verify_text(EVP_PKEY *pub, const uint8_t *der, size_t derlen,
    const char *msg) WARN_UNUSED;

/* What jnl_verify() found. */
struct jnl_verify_result {
	int ok;			/* 1 when everything verified */
	uint64_t segments;
	uint64_t records;	/* records verified before any error */
	uint64_t checkpoints;	/* checkpoint signatures that verified */
	uint64_t snapshots;	/* snapshots consistent with the chain */
	uint64_t snapshots_corrupt; /* snapshots failing their own checksum */
	uint64_t head_seq;	/* the last good record */
	uint8_t head[32];
	char head_hex[65];
	uint64_t signed_seq;	/* newest head_seq covered by a signature */
	uint64_t torn_bytes;	/* unterminated bytes after the last line */
	struct jnl_error err;	/* the first bad record, when !ok */
};

/*
 * Offline verification for auditors; never writes.  Checks every segment
 * (numbering, prefix, prev chain, seq continuity, line length), parses
 * every line as a JSON object with a string "type" and no duplicate keys,
 * verifies every checkpoint (msg text, head equals the hash of record
 * head_seq, ECDSA P-256 signature by audit_pub), and checks that each
 * intact snapshot names a record the journal has with the same hash.
 * A torn final line is counted in torn_bytes, not an error.
 * Returns 0 when all holds; else ERR_MALFORMED, ERR_BAD_SIGNATURE,
 * ERR_TOO_LARGE, ERR_IO, ERR_NOT_FOUND (no such directory), or
 * ERR_UNSUPPORTED (audit_pub is NULL or not a P-256 key), with res->err
 * naming the first bad record.
 */
int jnl_verify(const char *dir, EVP_PKEY *audit_pub,
    struct jnl_verify_result *res) WARN_UNUSED;

/*
 * jnl_verify() that also hands every record (checkpoints included) to
 * replay, as jnl_open() does, so the auditor runs signerd's own checks
 * (signerd/replay.c); a non-zero return fails the verification there.
 */
int jnl_verify_replay(const char *dir, EVP_PKEY *audit_pub,
    jnl_replay_fn replay, void *ctx, struct jnl_verify_result *res)
    WARN_UNUSED;

/*
 * Hands every snapshot in dir whose own checksum holds to fn (as the
 * restore callback: its seq, record hash and blob), for a check of the
 * caller's (signerd's audit checks each is signed by the audit key).
 * Returns 0, fn's error (err names the snapshot), ERR_IO or ERR_NOMEM.
 */
int jnl_snapshots_each(const char *dir, jnl_restore_fn fn, void *ctx,
    struct jnl_error *err) WARN_UNUSED;

/* One record handed out by jnl_reader_next(). */
struct jnl_record {
	uint64_t seq;
	uint8_t hash[32];
	const char *line;	/* the line without '\n', not NUL-terminated */
	size_t len;
	json_t *json;		/* parsed line; owned by the reader */
	const char *segment;	/* file name of its segment */
	uint64_t offset;	/* byte offset of the line in it */
};

struct jnl_reader;

/*
 * Starts reading the journal in dir from seq 1 (read-only, no lock).
 * Returns 0, ERR_NOT_FOUND, ERR_IO or ERR_NOMEM (details in err, may be
 * NULL).
 */
int jnl_reader_open(struct jnl_reader **out, struct jnl_error *err,
    const char *dir) WARN_UNUSED;

/*
 * Fills rec with the next record, checking the hash chain on the way;
 * rec's pointers stay valid until the next call or jnl_reader_close().
 * Returns 1 for a record, 0 at the end (a torn final line is skipped),
 * or a negative ERR_* with err (may be NULL) saying where.
 */
int jnl_reader_next(struct jnl_reader *r, struct jnl_record *rec,
    struct jnl_error *err) WARN_UNUSED;

/* Frees the reader.  NULL is ok. */
void jnl_reader_close(struct jnl_reader *r);

#endif
