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
 * Where a record's line is: its segment's number and the line's byte
 * offset in it.  A segment passes segment_max by at most one batch, so it
 * is below 2 * JNL_SEGMENT_MAX_LIMIT bytes and the offset fits 32 bits.
 * Stable for as long as the segment exists (jnl_archive() moves whole
 * segments only, and only before a believed snapshot's keep_from).
 */
struct jnl_pos {
	uint32_t seg;
	uint32_t off;
};

/*
 * Open-time callbacks (both optional).  restore receives the newest
 * snapshot blob whose record the chain holds; replay then receives every
 * record after it, in seq order, as a parsed JSON object including "prev"
 * and "seq", with its hash and position.  Neither is called before the
 * chain and checkpoints jnl_open() relies on have verified (its comment
 * says which).  A non-zero return stops jnl_open(), which returns that
 * value, with replay's why (cap bytes) as the error's reason; except that
 * restore returning ERR_BAD_SIGNATURE (a snapshot it does not believe)
 * makes jnl_open() try the next older snapshot, and then replay every
 * record from seq 1.
 */
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
 * for appending, and takes an exclusive lock on it.  Start-up costs what
 * is after the newest believed snapshot, not the journal's history:
 *
 *  - the segment names must be one consecutive run (names only; the run
 *    may start after seg-00000001.jsonl when older segments were archived,
 *    jnl_archive());
 *  - for the newest snapshot whose checksum holds, record S (its seq) is
 *    found by reading each segment's first line and counting newlines, and
 *    must hash to the snapshot's record hash; then the whole chain
 *    (prefix, prev, seq continuity, every checkpoint with its signature by
 *    cfg->audit_pub) is verified from min(S, cfg->anchor_seq when
 *    non-zero) to the end; only then is cfg->restore called.  Nothing
 *    before that start is read beyond the first lines.  A checkpoint that
 *    signs a head before the start has its text and signature checked; its
 *    head is the one record it names that is not read;
 *  - if restore answers ERR_BAD_SIGNATURE, the next older snapshot is
 *    tried the same way; with none left (or none at all) the whole chain
 *    is verified from seq 1, which needs seg-00000001.jsonl.
 *
 * A torn final line (a crash mid-write: it was never acknowledged) is
 * truncated with a warning; the records after the snapshot are replayed
 * to cfg->replay.  cfg may be NULL.
 *
 * Out: *out the journal (NULL on failure); err (may be NULL) the segment,
 * offset, seq and reason of the first problem.
 * Returns 0; ERR_MALFORMED for tampering, a snapshot naming a position
 * the journal lacks (truncated journal), or an archived journal (first
 * segment after seg-00000001.jsonl) with no believed snapshot inside its
 * live segments; ERR_BAD_SIGNATURE for a checkpoint the audit key did not
 * sign; ERR_ROLLBACK for a journal that does not hold cfg's anchor
 * (including an anchor before the first live segment); ERR_TOO_LARGE for
 * an over-long line; ERR_EXISTS if another process holds the journal;
 * ERR_UNSUPPORTED if cfg->audit_pub is not a P-256 key; ERR_IO,
 * ERR_NOMEM; or a callback's non-zero return.
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

/* --- issue 12: group commit that groups (helper C) ----------------------- */
/*
 * jnl_append_begin() whose caller does not wait: done(arg, result, seq,
 * hash, pos) runs exactly once, after the batch holding the record was
 * written and fdatasync'ed (result 0, pos where it went) or failed
 * (result as jnl_append(), seq 0, pos NULL).  It runs in the thread that
 * led that batch, without the journal's lock, in seq order within the
 * batch: a thread that appends (jnl_append*, jnl_lead) may thus run other
 * records' callbacks before it returns.  Records queued under the
 * caller's lock reach the file in that order, as with begin.  Returns 0
 * (queued) or begin's errors (then done is never called).  Someone must
 * lead what nobody waits for: a thread looping jnl_lead_wait(), jnl_lead().
 */
typedef void (*jnl_done_fn)(void *arg, int result, uint64_t seq,
    const uint8_t hash[32], const struct jnl_pos *pos);
int jnl_append_async(struct jnl *j, const json_t *body, jnl_done_fn done,
    void *arg) WARN_UNUSED;

/*
 * Blocks until a record is queued and no batch is being written: 0, and
 * the caller should jnl_lead(); or ERR_NOT_FOUND once jnl_lead_stop() was
 * called and the queue is empty.  jnl_lead() writes the queued records as
 * one batch (if no other thread is) and runs its async callbacks.  So the
 * batch is every record queued during the previous one's fdatasync:
 * bounded by the appenders waiting, not by a thread count.
 */
int jnl_lead_wait(struct jnl *j) WARN_UNUSED;
void jnl_lead(struct jnl *j);
void jnl_lead_stop(struct jnl *j);
/* --- end of issue 12 (helper C) ------------------------------------------ */

/*
 * Reads back the record at pos (from jnl_append_end_pos() or the replay
 * callback) from the journal directory dirfd, opened read-only by the
 * caller (signerd's, or an auditor's archive): one openat and pread, no
 * cache; thread-safe, safe beside an appending jnl, and allowed by
 * signerd's sandbox.  *seq: in, the seq expected (0: any); out, the
 * line's.  Out: buf (cap bytes) the line without its '\n', NUL-terminated,
 * *len its length, hash its SHA-256 (each zeroed on failure).
 * Returns 0; ERR_NOT_FOUND when the segment is gone (archived);
 * ERR_MALFORMED when the bytes at pos are not one complete line of the
 * journal's form (carrying *seq); ERR_TOO_LARGE when the line does not
 * fit cap; ERR_INVALID_ARG for a pos no segment can have; ERR_IO.
 */
int jnl_read_at(int dirfd, const struct jnl_pos *pos, uint64_t *seq,
    char *buf, size_t cap, size_t *len, uint8_t hash[32]) WARN_UNUSED;

/*
 * The seq of the first complete line of segment seg_no in dirfd, from
 * that line's prefix alone (*seq 0: no complete line yet).  0,
 * ERR_MALFORMED, ERR_NOT_FOUND or ERR_IO (err may be NULL).
 */
int jnl_seg_first_seq(uint64_t *seq, struct jnl_error *err, int dirfd,
    uint32_t seg_no) WARN_UNUSED;
/* jnl_append_end() that also says where the line went (pos may be NULL). */
int jnl_append_end_pos(struct jnl *j, struct jnl_pending *p, uint64_t *seq,
    uint8_t hash[32], struct jnl_pos *pos) WARN_UNUSED;


/* The newest durable record: its seq (0 if none) and hash (zeros if none). */
void jnl_head(struct jnl *j, uint64_t *seq, uint8_t hash[32]);

/* Copies the counters into *st. */
void jnl_stats(struct jnl *j, struct jnl_stats *st);

/*
 * Optional: fn(arg, ns) after every fdatasync of a batch, failed or not,
 * with its duration on CLOCK_MONOTONIC, in the thread that led the batch
 * and without the journal's lock (signerd's fsync latency histogram).
 * fn must not block or call into the journal.  NULL fn: none.
 */
typedef void (*jnl_sync_fn)(void *arg, uint64_t ns);
void jnl_set_sync_observer(struct jnl *j, jnl_sync_fn fn, void *arg);

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

/*
 * Like jnl_snapshot_write() for a state that reflects records up to seq,
 * whose record hash is hash (from jnl_append()); seq must not be past the
 * head.  keep_from (1 <= keep_from <= seq + 1) is the oldest seq the
 * caller may still read back with jnl_read_at() once restored from this
 * snapshot: jnl_archive() never moves a segment holding it or anything
 * after it.  jnl_snapshot_write() stores keep_from 1 (keep everything).
 * Returns as jnl_snapshot_write(), or ERR_INVALID_ARG.
 */
int jnl_snapshot_write_at(struct jnl *j, uint64_t seq, const uint8_t hash[32],
    uint64_t keep_from, const void *blob, size_t len) WARN_UNUSED;

/* What a snapshot file says about itself (not its blob). */
struct jnl_snapshot_info {
	uint64_t seq;		/* the record it reflects */
	uint8_t hash[32];	/* that record's hash */
	uint64_t keep_from;	/* 1 for a snapshot of the first format */
	uint64_t len;		/* blob bytes */
};

/*
 * Reads snapshot seq of the journal in dir (seq 0: the newest whose
 * checksum holds) into *info, without a lock.  Returns 0, ERR_NOT_FOUND
 * (no such snapshot, or none intact), ERR_BAD_CHECKSUM, ERR_MALFORMED
 * (also an unknown magic, or a keep_from outside 1..seq + 1), ERR_IO or
 * ERR_NOMEM, with err (may be NULL) saying which file.
 */
int jnl_snapshot_stat(struct jnl_snapshot_info *info, struct jnl_error *err,
    const char *dir, uint64_t seq) WARN_UNUSED;

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

/* --- issue 12: the parallel auditor (helper B) ---------------------------- */

/* Worker threads jnl_verify_replay2() uses for threads 0, and at most. */
#define JNL_VERIFY_THREADS_DEFAULT 2
#define JNL_VERIFY_THREADS_MAX 16
/* An archive directory and the live one. */
#define JNL_VERIFY_DIRS_MAX 2

/*
 * The stateless part of a record's check, run on a worker thread, in any
 * order, concurrently with other records' and with replay: it may read
 * only what replay never changes.  record is the parsed line.  Out:
 * *prepared (NULL is fine) is handed to replay with the record and then
 * to release.  A record the check refuses is not an error here: its
 * result says so and replay reports it in seq order.  Returns 0, or
 * ERR_NOMEM, which stops the verification.
 */
typedef int (*jnl_prepare_fn)(void *ctx, uint64_t seq, const json_t *record,
    void **prepared);
/* jnl_replay_fn with prepare's result for this record (NULL: none). */
typedef int (*jnl_replay_prepared_fn)(void *ctx, uint64_t seq,
    const uint8_t hash[32], const struct jnl_pos *pos, const json_t *record,
    void *prepared, char *why, size_t cap);
/* Frees a non-NULL result of prepare, replayed or not. */
typedef void (*jnl_release_fn)(void *ctx, void *prepared);

struct jnl_verify_hooks {
	jnl_prepare_fn prepare;		/* optional; needs release */
	jnl_replay_prepared_fn replay;	/* optional */
	jnl_release_fn release;
	void *ctx;			/* passed to all three */
	/*
	 * Non-zero: name failures in jnl_open()'s order, for a replay that
	 * must agree with signerd's start-up: a chain failure (the chain, a
	 * checkpoint, or the JSON of a line that may be one) anywhere before
	 * a refusal of replay, JSON or a snapshot at an earlier seq.
	 */
	int chain_first;
};

/*
 * jnl_verify_replay() over dirs[0..ndirs) (1 or 2: an archive, then the
 * live directory), read once, by threads worker threads (0: the default;
 * 1: everything on the calling thread, the serial reference).  The
 * segments of all dirs form one chain; a segment in two dirs must have the
 * same bytes in both; a number missing from all is named; snapshots are
 * the last dir's.  Workers hash, chain-check, parse and prepare whole
 * runs of lines; the joins between runs and segments, checkpoints,
 * snapshots and replay are checked in seq order on the calling thread, so
 * the verdict, the first bad record and the counts are the same for any
 * threads.  hooks may be NULL (jnl_verify()).  The counts are those
 * before the first failure met in seq order, also when chain_first names
 * a later one.
 * Returns as jnl_verify(), or ERR_INVALID_ARG (threads above
 * JNL_VERIFY_THREADS_MAX, ndirs not 1..JNL_VERIFY_DIRS_MAX, prepare
 * without release).
 */
int jnl_verify_replay2(const char *const *dirs, size_t ndirs,
    EVP_PKEY *audit_pub, const struct jnl_verify_hooks *hooks,
    unsigned threads, struct jnl_verify_result *res) WARN_UNUSED;

/* --- end of issue 12 (helper B) ------------------------------------------- */

/*
 * Hands every snapshot in dir whose own checksum holds to fn (as the
 * restore callback: its seq, record hash and blob), for a check of the
 * caller's (signerd's audit checks each is signed by the audit key).
 * Returns 0, fn's error (err names the snapshot), ERR_IO or ERR_NOMEM.
 */
int jnl_snapshots_each(const char *dir, jnl_restore_fn fn, void *ctx,
    struct jnl_error *err) WARN_UNUSED;

/* What jnl_archive() did. */
struct jnl_archive_result {
	uint64_t snapshot_seq;	/* the believed snapshot (0: none) */
	uint64_t keep_from;	/* its keep_from */
	uint64_t signed_seq;	/* newest head a verified checkpoint signs */
	uint32_t first_moved;	/* segment numbers moved (0, 0: none) */
	uint32_t last_moved;
	uint64_t segments_moved;
	uint64_t records_moved;	/* seqs first_seq .. last_seq */
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t leftovers;	/* copies already in the archive (a rerun
				 * after a crash) just unlinked from live */
	uint32_t live_first;	/* first live segment afterwards */
	uint32_t archive_last;	/* last archived segment afterwards (0: none) */
};

/*
 * Moves the oldest segments of the journal in live to the directory
 * archive (which must exist), for segments that are all of: at or before
 * the newest snapshot believe() accepts (believe gets what restore gets
 * and returns 0 to accept; signerctl passes signerd's signature check),
 * before that snapshot's keep_from, and at or before the head of a
 * checkpoint whose signature verifies with audit_pub; never the newest
 * live segment.  Before moving it verifies the chain (prefix, prev, seq,
 * checkpoints) of the live segments and that it joins the archive's last
 * segment (an empty archive: the live run must start at segment 1), and
 * that record snapshot_seq has the snapshot's hash.  Each segment is
 * copied (temp file, fsync, rename, directory fsync) and then unlinked
 * from live (directory fsync), so a crash leaves it in one directory or
 * both; a rerun finds an identical copy in archive and only unlinks it.
 * Takes no lock: signerd may run (it never reads a segment before its
 * snapshot's keep_from).
 * Out: *res (zeroed first); err (may be NULL) the first problem.
 * Returns 0 (also when nothing could move); ERR_MALFORMED (a chain that
 * does not verify or join, or a file in archive of the same name with
 * other bytes, both paths named); ERR_BAD_SIGNATURE; ERR_UNSUPPORTED
 * (audit_pub not P-256); ERR_NOT_FOUND (a directory missing); ERR_IO;
 * ERR_NOMEM.
 */
int jnl_archive(const char *live, const char *archive, EVP_PKEY *audit_pub,
    jnl_restore_fn believe, void *ctx, struct jnl_archive_result *res,
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
