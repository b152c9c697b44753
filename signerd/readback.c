/*
 * readback.c: a signed request's record read back from the journal by its
 * position (D55).  Memory keeps 32 bytes per request; a retry or a fee
 * bump reads the rest here.  The bytes are checked again as they are read:
 * the journal may have changed since it was verified, and whatever this
 * returns may leave signerd, so it must be a transaction signed by the
 * sender the record names, for the request and day asked for.
 */
#include "signerd/signerd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "evm/addr.h"
#include "evm/ecsig.h"
#include "evm/keccak.h"
#include "signerd/readback.h"

/* Days of the verifier's largest time, 2^40 s (replay.c). */
#define DAY_MAX (((int64_t)1 << 40) / 86400)

static const char *
str_field(const json_t *rec, const char *name)
{
	return json_string_value(json_object_get(rec, name));
}

/* "content" is bare hex; tx_hash and raw carry 0x (sign.c). */
static int
hex_field(const json_t *rec, const char *name, uint8_t *out, size_t cap,
    size_t *len)
{
	const char *s = str_field(rec, name);
	size_t n = 0;

	if (s != NULL && strcmp(name, "content") != 0) {
		if (strncmp(s, "0x", 2) != 0)
			return ERR_MALFORMED;
		s += 2;
	}
	if (s == NULL || util_hex_decode_var(out, cap, &n, s) != 0 ||
	    (len == NULL && n != cap))
		return ERR_MALFORMED;
	if (len != NULL)
		*len = n;
	return 0;
}

/* The record's claims about its transaction, checked on its bytes. */
static int
check_tx(struct sd_signed_back *b, char *why, size_t cap)
{
	uint8_t digest[32], pub[65], addr[EVM_ADDR_LEN], h[32];

	if (evm_tx_decode(&b->tx, b->raw, b->raw_len) != 0 || !b->tx.is_signed) {
		snprintf(why, cap, "raw is not a signed transaction");
		return ERR_MALFORMED;
	}
	evm_keccak256(h, b->raw, b->raw_len);
	if (memcmp(h, b->tx_hash, 32) != 0) {
		snprintf(why, cap, "tx_hash is not the hash of raw");
		return ERR_MALFORMED;
	}
	if (evm_tx_signing_hash(digest, &b->tx) != 0 ||
	    evm_sig_recover(pub, digest, b->tx.r, b->tx.s,
	    b->tx.y_parity) != 0 || evm_addr_from_pubkey(addr, pub) != 0 ||
	    memcmp(addr, b->from, EVM_ADDR_LEN) != 0) {
		snprintf(why, cap, "the signature does not recover to from");
		return ERR_MALFORMED;
	}
	return 0;
}

int
sd_read_signed(struct sd_ctx *sd, const struct sd_req_found *found,
    const char *request_id, uint32_t created, struct sd_signed_back *b,
    char *why, size_t cap)
{
	uint8_t tag[SD_CONTENT_TAG_LEN];
	json_error_t jerr;
	json_t *rec = NULL, *v;
	const char *s;
	char *line;
	size_t len, i;
	const struct jnl_pos *pos = &found->pos;
	int r = ERR_NOT_FOUND;

	memset(b, 0, sizeof(*b));
	why[0] = '\0';
	if ((line = malloc(JNL_LINE_MAX + 1)) == NULL)
		return ERR_NOMEM;
	/* The live directory, then the archive (an auditor's); a line of
	 * the journal's own form, starting where a line starts. */
	for (i = 0; i < 2 && r == ERR_NOT_FOUND; i++)
		if (sd->read_dirfd[i] > 0) {
			b->seq = 0;
			r = jnl_read_at(sd->read_dirfd[i], pos, &b->seq, line,
			    JNL_LINE_MAX + 1, &len, b->hash);
		}
	if (r != 0) {
		snprintf(why, cap, "segment %u offset %u: %s", pos->seg,
		    pos->off, err_str(r));
		goto out;
	}
	r = ERR_MALFORMED;
	if ((rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(rec)) {
		snprintf(why, cap, "segment %u offset %u is not a record",
		    pos->seg, pos->off);
		goto out;
	}
	/* The record this request was remembered by, and no other. */
	v = json_object_get(rec, "created");
	if ((s = str_field(rec, "type")) == NULL || strcmp(s, "signed") != 0 ||
	    (s = str_field(rec, "request_id")) == NULL ||
	    strcmp(s, request_id) != 0 || !json_is_integer(v) ||
	    json_integer_value(v) != (json_int_t)created) {
		snprintf(why, cap, "segment %u offset %u is not request %s's "
		    "signed record", pos->seg, pos->off, request_id);
		goto out;
	}
	v = json_object_get(rec, "day");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > DAY_MAX ||
	    hex_field(rec, "content", b->content, 32, NULL) != 0 ||
	    hex_field(rec, "tx_hash", b->tx_hash, 32, NULL) != 0 ||
	    hex_field(rec, "raw", b->raw, sizeof(b->raw), &b->raw_len) != 0 ||
	    (s = str_field(rec, "from")) == NULL ||
	    evm_addr_from_str(b->from, s, 1) != 0) {
		snprintf(why, cap, "request %s's record has a malformed field",
		    request_id);
		goto out;
	}
	b->day = json_integer_value(v);
	/* signerd accepted it signed by a key it holds; an auditor learns
	 * the keys from the records themselves. */
	if (!sd->auditing && sd_key_by_address(sd, b->from) < 0) {
		snprintf(why, cap, "request %s's record names a sender signerd "
		    "does not hold", request_id);
		goto out;
	}
	sd_content_tag(tag, b->content);
	if (memcmp(tag, found->content_tag, SD_CONTENT_TAG_LEN) != 0) {
		snprintf(why, cap, "request %s's record holds other content "
		    "than memory says", request_id);
		goto out;
	}
	if ((r = check_tx(b, why, cap)) != 0)
		goto out;
	r = 0;
 out:
	json_decref(rec);
	free(line);
	return r;
}

/* A directory opened for reading back; never fd 0, which means none. */
static int
open_dir(const char *path)
{
	int fd, hi;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != 0)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return hi;
}

int
sd_read_dirs_open(struct sd_ctx *sd, const char *live, const char *archive)
{
	sd_read_dirs_close(sd);
	if (live != NULL && (sd->read_dirfd[0] = open_dir(live)) < 0 &&
	    errno != ENOENT)
		return ERR_IO;
	if (archive != NULL && (sd->read_dirfd[1] = open_dir(archive)) < 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	return 0;
}

void
sd_read_dirs_close(struct sd_ctx *sd)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (sd->read_dirfd[i] > 0)
			close(sd->read_dirfd[i]);
		sd->read_dirfd[i] = 0;
	}
}
