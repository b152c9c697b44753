/*
 * internal.h: what the journal's files share with each other (and with the
 * fuzz harness and benchmark); not part of the public API in journal.h.
 */
#ifndef JOURNAL_INTERNAL_H
#define JOURNAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "journal/journal.h"
#include "proto/buf.h"

/* `{"prev":"` + 64 hex + `","seq":` + at most 20 digits + `,` */
#define JNL_PREFIX_MAX (9 + 64 + 8 + 20 + 1)
#define JNL_SEG_NAME_FMT "seg-%08u.jsonl"
#define JNL_SEG_NUM_MAX 99999999u
#define JNL_CHECKPOINT_MSG_FMT "signer-journal-checkpoint v1 %llu %s"

/* --- error.c ------------------------------------------------------------ */

/* Fills e (if not NULL) and returns code: `return jnl_err(e, ...)`. */
int jnl_err(struct jnl_error *e, int code, const char *segment,
    uint64_t offset, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* --- format.c: line build and parse ------------------------------------ */

/* SHA-256 with a digest fetched once; one per thread. */
struct jnl_hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

int jnl_hasher_init(struct jnl_hasher *h) WARN_UNUSED;
void jnl_hasher_free(struct jnl_hasher *h);
int jnl_hash(struct jnl_hasher *h, uint8_t out[32], const void *p, size_t n)
    WARN_UNUSED;

/*
 * Checks a caller's body and serialises it compactly with sorted keys.
 * checkpoint non-zero allows "type":"checkpoint" (jnl_checkpoint only).
 * Out: *text (free()) of *len bytes "{...}".  Returns 0, ERR_INVALID_ARG,
 * ERR_TOO_LARGE or ERR_NOMEM.
 */
int jnl_fmt_body(char **text, size_t *len, const json_t *body,
    int checkpoint) WARN_UNUSED;

/*
 * Appends the line {"prev":"<prev>","seq":<seq>,<body without its '{'>\n
 * to w and writes its hash (without the '\n') into hash.  body is the
 * "{...}" text from jnl_fmt_body().  Returns 0 or w's error.
 */
int jnl_fmt_line(struct prt_writer *w, uint8_t hash[32], struct jnl_hasher *h,
    uint64_t seq, const uint8_t prev[32], const char *body, size_t body_len)
    WARN_UNUSED;

/* The fixed prefix of one line, read without JSON parsing. */
struct jnl_prefix {
	uint8_t prev[32];
	uint64_t seq;
};

/*
 * Parses the prefix of line (len bytes, no '\n') and checks the line ends
 * with '}'.  Out: *reason a static text on failure.  Returns 0,
 * ERR_MALFORMED, ERR_BAD_DIGIT, ERR_NONCANONICAL or ERR_OVERFLOW.
 */
int jnl_fmt_prefix(struct jnl_prefix *out, const char **reason,
    const uint8_t *line, size_t len) WARN_UNUSED;

/* --- scan.c: hash-chain walk over segment bytes ------------------------- */

/* Chain state carried from line to line and segment to segment. */
struct jnl_scan {
	struct jnl_hasher h;
	uint64_t seq;		/* last good record, 0 before the first */
	uint8_t hash[32];	/* its hash, zeros before the first */
	uint32_t seg_no;	/* segment being read, 0 before the first */
	/* Where the last good record is, to name it when the next one's
	 * prev does not match its hash. */
	char last_segment[40];
	uint64_t last_offset;
};

/* One segment's bytes being walked. */
struct jnl_seg_cursor {
	struct prt_reader r;
	char name[40];
	int last;		/* newest segment: a torn tail is allowed */
	size_t torn;		/* at the end: bytes after the last '\n' */
};

/* A line that passed the chain checks. */
struct jnl_line {
	uint64_t seq;
	uint8_t hash[32];
	const uint8_t *p;	/* without the '\n' */
	size_t len;
	uint64_t offset;
};

int jnl_scan_init(struct jnl_scan *s) WARN_UNUSED;
void jnl_scan_free(struct jnl_scan *s);

/*
 * Starts walking segment number seg_no (buf, len bytes).  Fails with
 * ERR_MALFORMED naming the segment if its number does not follow the
 * previous segment's.
 */
int jnl_scan_segment(struct jnl_scan *s, struct jnl_seg_cursor *c,
    struct jnl_error *err, uint32_t seg_no, const uint8_t *buf, size_t len,
    int last) WARN_UNUSED;

/*
 * Reads and checks the next line.  Returns 1 with *out filled, 0 at the end
 * of the complete lines (c->torn set; a torn tail in a segment that is not
 * the last is ERR_MALFORMED), or a negative ERR_* with err filled.
 */
int jnl_scan_next(struct jnl_scan *s, struct jnl_seg_cursor *c,
    struct jnl_line *out, struct jnl_error *err) WARN_UNUSED;

/*
 * Walks a whole segment held in memory (fuzz harness, tests).  Out:
 * *complete bytes of good lines.  Returns 0 or as jnl_scan_next().
 */
int jnl_scan_buffer(struct jnl_scan *s, size_t *complete,
    struct jnl_error *err, uint32_t seg_no, const uint8_t *buf, size_t len,
    int last) WARN_UNUSED;

/* --- dir.c: the journal directory -------------------------------------- */

struct jnl_dir {
	uint32_t *segs;		/* segment numbers, ascending */
	size_t nsegs;
	uint64_t *snaps;	/* snapshot seqs, descending */
	size_t nsnaps;
};

/*
 * Lists segments and snapshots in the directory open as dirfd.  A name
 * that starts like ours but is not exactly ours is ERR_MALFORMED.
 */
int jnl_dir_list(struct jnl_dir *d, struct jnl_error *err, int dirfd)
    WARN_UNUSED;
void jnl_dir_free(struct jnl_dir *d);

/* Reads the whole file name in dirfd (at most max bytes) into *buf. */
int jnl_read_file(uint8_t **buf, size_t *len, struct jnl_error *err,
    int dirfd, const char *name, uint64_t max) WARN_UNUSED;

/* A read buffer reused from segment to segment. */
struct jnl_filebuf {
	uint8_t *p;
	size_t cap;
};

/* jnl_read_file() into fb, growing it when the file is larger. */
int jnl_read_into(struct jnl_filebuf *fb, size_t *len, struct jnl_error *err,
    int dirfd, const char *name, uint64_t max) WARN_UNUSED;
void jnl_filebuf_free(struct jnl_filebuf *fb);

/* fsync(2) of the directory, so created/renamed/removed names are durable. */
int jnl_sync_dir(int dirfd) WARN_UNUSED;
/* Writes all n bytes (EINTR retried): 0 or ERR_IO. */
int jnl_write_all(int fd, const uint8_t *p, size_t n) WARN_UNUSED;

/* Opens dir read-only as a directory.  ERR_NOT_FOUND or ERR_IO. */
int jnl_open_dir(int *dirfd, struct jnl_error *err, const char *dir)
    WARN_UNUSED;

/* --- snapshot.c ---------------------------------------------------------- */

#define JNL_SNAP_NAME_FMT "snap-%020llu.bin"

struct jnl_snapshot {
	uint64_t seq;
	uint8_t hash[32];
	uint64_t keep_from;	/* 1 in a snapshot of the first format */
	uint8_t *data;		/* the whole file; blob points into it */
	const uint8_t *blob;
	size_t len;
};

/*
 * Reads and checks snapshot seq from dirfd.  ERR_BAD_CHECKSUM (or
 * ERR_MALFORMED, ERR_TRUNCATED) for a damaged file, ERR_IO.
 */
int jnl_snapshot_read(struct jnl_snapshot *snap, struct jnl_error *err,
    int dirfd, uint64_t seq) WARN_UNUSED;
void jnl_snapshot_free(struct jnl_snapshot *snap);

/* Removes leftover snapshot temp files (a crash mid-write). */
/*
 * Removes PREFIX*.tmp from dirfd (files a crash left half written), each
 * logged as left by an interrupted what.
 */
void jnl_remove_tmp(int dirfd, const char *prefix, const char *what);
void jnl_snapshot_cleanup(int dirfd);

/* --- checkpoint.c ------------------------------------------------------- */

/* Remembers the last JNL_CHECKPOINT_WINDOW record hashes for a verifier. */
struct jnl_ckpt_ring {
	uint8_t (*hash)[32];
	uint64_t seq;		/* newest seq pushed */
};

int jnl_ckpt_ring_init(struct jnl_ckpt_ring *ring) WARN_UNUSED;
void jnl_ckpt_ring_free(struct jnl_ckpt_ring *ring);
void jnl_ckpt_ring_push(struct jnl_ckpt_ring *ring, uint64_t seq,
    const uint8_t hash[32]);

/*
 * Verifies the checkpoint record rec (seq) against the earlier hashes in
 * ring and pub.  Out: *head_seq the signed head; *reason a static text on
 * failure.  Returns 0, ERR_MALFORMED or ERR_BAD_SIGNATURE.
 */
int jnl_ckpt_verify(uint64_t *head_seq, const char **reason,
    const struct jnl_ckpt_ring *ring, uint64_t seq, const json_t *rec,
    EVP_PKEY *pub) WARN_UNUSED;

/* Checks that pub is an EC P-256 key.  Returns 0 or ERR_UNSUPPORTED. */
int jnl_ckpt_check_key(EVP_PKEY *pub) WARN_UNUSED;

/* --- open.c ---------------------------------------------------------------- */

/* What the hash-only pass learnt. */
struct jnl_scan_result {
	uint64_t seq;		/* head */
	uint8_t hash[32];
	uint64_t signed_seq;	/* newest head a checkpoint signed */
	size_t last_complete;	/* bytes of whole lines in the last seg. */
	size_t torn;		/* bytes after them */
	int replay_seg;		/* segment index and offset of the first */
	uint64_t replay_off;	/* record to replay; replay_seg -1: none */
};

/*
 * The first pass of jnl_open(), which the auditor's jnl_verify_replay()
 * runs too, so both name the same first failure: every segment's chain,
 * every checkpoint signature (cfg->audit_pub), cfg's anchor, and the
 * snapshot's position (when have_snap).
 */
int jnl_scan_all(struct jnl_scan_result *res, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct jnl_snapshot *snap, int have_snap,
    const struct jnl_config *cfg) WARN_UNUSED;

/* --- issue 12: start-up from a snapshot, archival (helper A) ------------ */

/* A segment may pass segment_max by one batch; read back at most this. */
#define JNL_SEG_READ_MAX (2 * JNL_SEGMENT_MAX_LIMIT)

/*
 * dir.c: checks that d's segment numbers are one consecutive run (names
 * only; it may start after 1).  ERR_MALFORMED naming the first missing.
 */
int jnl_dir_check_run(const struct jnl_dir *d, struct jnl_error *err)
    WARN_UNUSED;

/* readat.c: the raw line at pos, for jnl_read_at (journal.h). */
/*
 * The line at pos from the journal directory dirfd (opened
 * read-only by the caller; safe alongside an appending jnl): at most cap
 * bytes, NUL-terminated in place of its '\n', its length in *len and its
 * SHA-256 (the record hash) in hash.  The caller checks the line is the
 * record it expects.  Returns 0; ERR_NOT_FOUND (no such segment: archived
 * or never written), ERR_MALFORMED (no complete line there), ERR_TOO_LARGE
 * (longer than cap), ERR_INVALID_ARG or ERR_IO.
 */
int jnl_read_line(int dirfd, const struct jnl_pos *pos, char *buf, size_t cap,
    size_t *len, uint8_t hash[32]) WARN_UNUSED;

/*
 * open.c: the checkpoint check of the start-up pass, for a line that has
 * passed the chain checks.  A checkpoint whose head_seq is before
 * ring_first (the first record this walk hashed) has its text and
 * signature checked and its head taken as stated: that record is not
 * read.  Out: *signed_seq raised to the head a valid checkpoint signs.
 */
int jnl_check_line_checkpoint(struct jnl_error *err, const char *segname,
    const struct jnl_line *l, struct jnl_ckpt_ring *ring,
    uint64_t ring_first, EVP_PKEY *pub, uint64_t *signed_seq) WARN_UNUSED;

/* --- end of issue 12 (helper A) ------------------------------------------ */

/* --- verify.c ------------------------------------------------------------ */

/*
 * The per-record checks of jnl_verify() beyond the chain: parse line as a
 * JSON object without duplicate keys, "prev"/"seq" equal to the prefix,
 * string "type".  Out: *json (json_decref) and *reason.  Returns 0 or
 * ERR_MALFORMED.
 */
int jnl_parse_record(json_t **json, const char **reason,
    const struct jnl_line *l) WARN_UNUSED;

/* --- issue 12: the one-pass auditor, verify.c and pverify.c (helper B) --- */

/* One segment of the chain and which directories hold it. */
struct jnl_vseg {
	uint32_t no;
	unsigned in;		/* bit i: dirs[i] has it */
};

/* A snapshot whose own checksum holds, to hold against the chain. */
struct jnl_vsnap {
	uint64_t seq;
	uint8_t hash[32];
};

/*
 * What the in-order side of a verification knows: the chain as joined so
 * far, the checkpoint ring, the snapshots, and the result.  Both the
 * serial walk (verify.c) and the parallel one (pverify.c) feed it, so
 * their verdicts cannot drift apart.
 */
struct jnl_vstate {
	struct jnl_verify_result *res;
	struct jnl_verify_result before;	/* res before this record */
	EVP_PKEY *pub;
	const struct jnl_verify_hooks *hooks;	/* never NULL */
	const char *const *dirs;
	size_t ndirs;
	int dirfd[JNL_VERIFY_DIRS_MAX];
	struct jnl_vseg *segs;	/* ascending, every dir's merged */
	size_t nsegs;
	struct jnl_vsnap *snaps;
	size_t nsnaps;
	struct jnl_ckpt_ring ring;
	struct jnl_scan s;	/* the chain as joined */
	struct jnl_seg_cursor c;	/* over the segment being joined */
	/* A refusal of replay, JSON or snapshot is in res->err; with a
	 * replay hook, only chain failures (which win) are looked for. */
	int held;
};

/*
 * Reads segment i into fb (*len bytes).  When two directories hold it,
 * reads both and fails (ERR_MALFORMED, both named) unless they are equal.
 */
int jnl_vload(const struct jnl_vstate *v, size_t i, struct jnl_filebuf *fb,
    size_t *len, struct jnl_error *err) WARN_UNUSED;

/*
 * Joins segment i (buf, len bytes, or load_rc/load_err if it did not
 * load): its number follows the previous one's.  Returns 0 or the final
 * error (in v->res).
 */
int jnl_vstate_segment(struct jnl_vstate *v, size_t i, const uint8_t *buf,
    size_t len, int load_rc, const struct jnl_error *load_err) WARN_UNUSED;

/*
 * Checks one line that passed the chain checks (l, with rec its parsed
 * JSON or NULL and reason why not, prep_rc and prep the prepare hook's
 * return and result) and counts it.  rec and reason both NULL: the line
 * parsed and a worker dropped it, as nothing needs it here (no replay
 * hook, not a checkpoint).  Returns 0 (also when a refusal is held) or the final error.
 */
int jnl_vstate_record(struct jnl_vstate *v, const struct jnl_line *l,
    const json_t *rec, const char *reason, int prep_rc, void *prep)
    WARN_UNUSED;

/*
 * The per-line work that needs no order: parse l (*rec, or NULL and
 * *reason) and run h's prepare on it (*prep).  Returns prepare's error.
 */
int jnl_vprepare(const struct jnl_verify_hooks *h, const struct jnl_line *l,
    json_t **rec, const char **reason, void **prep) WARN_UNUSED;

/* A chain failure e (code r): final.  Returns r. */
int jnl_vstate_chain_fail(struct jnl_vstate *v, int r,
    const struct jnl_error *e);

/*
 * Runs the walk over v's segments with threads workers (pverify.c).
 * Returns 0 when every line was fed, or the final error.
 */
int jnl_pverify_run(struct jnl_vstate *v, unsigned threads) WARN_UNUSED;

/* Bytes per run (default 1 MiB); tests make it tiny so that joins fall
 * inside segments, between any two lines. */
extern size_t jnl_pverify_run_bytes;

/* --- end of issue 12 (helper B) ------------------------------------------- */

/* --- writer.c ------------------------------------------------------------ */

/* Where open left the chain and the newest segment. */
struct jnl_writer_init {
	int dirfd;		/* taken over by the journal */
	int segfd;		/* newest segment, for append; taken over */
	uint32_t seg_no;
	uint64_t seg_size;
	uint64_t seg_max;
	uint64_t seq;
	uint8_t hash[32];
	EVP_PKEY *audit_pub;	/* may be NULL; the journal takes a ref */
};

int jnl_writer_new(struct jnl **out, const struct jnl_writer_init *init)
    WARN_UNUSED;

/* The journal directory, for snapshot files. */
int jnl_dirfd(struct jnl *j);

/* jnl_config.audit_pub, or NULL. */
EVP_PKEY *jnl_audit_pub(struct jnl *j);

/*
 * jnl_append() for a body already serialised by jnl_fmt_body().  max_seq
 * non-zero: fail with ERR_TIMEOUT rather than take a seq above it.
 */
int jnl_append_text(struct jnl *j, uint64_t *seq, uint8_t hash[32],
    const char *text, size_t len, uint64_t max_seq) WARN_UNUSED;

#endif
