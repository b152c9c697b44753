/* util.h: small helpers every layer needs: wiping, constant-time compare, hex. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define WARN_UNUSED __attribute__((warn_unused_result))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Overwrites n bytes at p with zeros in a way the compiler cannot elide. */
void util_wipe(void *p, size_t n);

/* Returns 0 when a and b are equal, in time that depends only on n. */
int util_ct_compare(const void *a, const void *b, size_t n);

/* Writes 2*n lowercase hex digits and a NUL to out (out must hold 2*n+1). */
void util_hex_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decodes exactly 2*outlen hex digits (either case, optional "0x" prefix)
 * from the NUL-terminated hex into out.  Returns 0, ERR_BAD_DIGIT or
 * ERR_MALFORMED (wrong length).
 */
int util_hex_decode(uint8_t *out, size_t outlen, const char *hex) WARN_UNUSED;

/* "0x" + 2*n lowercase hex digits + NUL: out holds 2*n + 3 bytes. */
void util_hex_encode_0x(char *out, const uint8_t *in, size_t n);

/*
 * Decodes a hex string of any even length (optional "0x") into out, which
 * holds cap bytes; *outlen receives the byte count.  Returns 0,
 * ERR_BAD_DIGIT, ERR_MALFORMED (odd length) or ERR_TOO_LARGE.
 */
int util_hex_decode_var(uint8_t *out, size_t cap, size_t *outlen,
    const char *hex) WARN_UNUSED;

/* CLOCK_MONOTONIC in nanoseconds: durations, never dates. */
uint64_t util_mono_ns(void);

/* Copies s into out (cap bytes, always NUL-terminated) escaped for JSON. */
void util_json_escape(char *out, size_t cap, const char *s);

/*
 * Reads a whole config file that decides what a daemon trusts (which
 * module to load, which tokens may move money): it must be a regular file
 * owned by root or the effective uid, not writable by group or others, and
 * at most max bytes.  Returns 0 with *buf (malloc'd, NUL-terminated; free
 * it) and *len; else ERR_IO, ERR_PERMISSION, ERR_TOO_LARGE or ERR_NOMEM
 * with the reason in why ("not a regular file", "writable by group or
 * others (mode 0664)", strerror text).
 */
int util_read_trusted_file(const char *path, size_t max, char **buf,
    size_t *len, char *why, size_t whylen) WARN_UNUSED;

#endif
