/*
 * rlp.h: strict Recursive Length Prefix encoding.  The decoder accepts only
 * the canonical form: a single byte below 0x80 is never wrapped, short forms
 * are used whenever they fit, long lengths have no leading zeros, integers
 * have no leading zero bytes.  Decoding goes through the proto/ cursor.
 */
#ifndef EVM_RLP_H
#define EVM_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "evm/u256.h"
#include "proto/buf.h"

/* Largest item we accept anywhere: far above any transaction we sign. */
#define RLP_MAX_ITEM (1u << 20)

/* Appends a byte string item. */
int rlp_put_bytes(struct prt_writer *w, const uint8_t *p, size_t n);

/* Appends an integer as its minimal big-endian byte string. */
int rlp_put_u64(struct prt_writer *w, uint64_t v);
int rlp_put_u256(struct prt_writer *w, const u256 *v);

/*
 * Lists: remember the writer length, append the items, then close; the
 * header is inserted in front of the items.
 *   size_t at = w->len; rlp_put_...(w, ...); rlp_close_list(w, at);
 */
int rlp_close_list(struct prt_writer *w, size_t start);

/*
 * Reads one byte-string item; *out points into the input.  ERR_MALFORMED if
 * the next item is a list.
 */
int rlp_get_bytes(struct prt_reader *r, const uint8_t **out, size_t *outlen)
    WARN_UNUSED;

/*
 * Reads a byte-string item of exactly n bytes into out (addresses, storage
 * keys); ERR_MALFORMED for any other length.
 */
int rlp_get_fixed(struct prt_reader *r, uint8_t *out, size_t n) WARN_UNUSED;

/*
 * Reads an integer item: at most 8 (u64) or 32 (u256) bytes (ERR_OVERFLOW),
 * no leading zero byte (ERR_NONCANONICAL); zero is the empty string.
 */
int rlp_get_u64(struct prt_reader *r, uint64_t *out) WARN_UNUSED;
int rlp_get_u256(struct prt_reader *r, u256 *out) WARN_UNUSED;

/*
 * Reads a list header and splits its payload into *list, a reader of its
 * own; the caller reads the items and then checks prt_end(list).
 * ERR_MALFORMED if the next item is a byte string.
 */
int rlp_get_list(struct prt_reader *r, struct prt_reader *list) WARN_UNUSED;

/*
 * Reads the next item of either kind, whole (header included) as a view:
 * for skipping or copying items whose structure is checked elsewhere.
 */
int rlp_get_raw(struct prt_reader *r, const uint8_t **out, size_t *outlen,
    int *is_list) WARN_UNUSED;

#endif
