/*
 * readback.h: a signed request's newest record, read back from the journal
 * by the position memory keeps for it (D55), and checked as it is read.
 */
#ifndef SIGNERD_READBACK_H
#define SIGNERD_READBACK_H

#include <stddef.h>
#include <stdint.h>

#include "evm/tx.h"
#include "signerd/state.h"

struct sd_ctx;

struct sd_signed_back {
	uint64_t seq;		/* the receipt: the record's seq and hash */
	uint8_t hash[32];
	uint8_t content[32];
	uint8_t tx_hash[32];
	uint8_t raw[SD_RAW_TX_MAX];
	size_t raw_len;
	uint8_t from[EVM_ADDR_LEN];
	int64_t day;
	struct evm_tx tx;	/* raw, decoded */
};

/*
 * Reads the record at found->pos (the live journal, else the archive an
 * auditor opened: sd->read_dirfd) and checks that it is the "signed"
 * record of (request_id, created) with found's content tag, that tx_hash
 * is raw's hash and that raw's signature recovers to "from".  Returns 0,
 * ERR_NOT_FOUND (its segment is gone), ERR_MALFORMED, ERR_IO or
 * ERR_NOMEM, with a sentence in why (cap bytes).
 */
int sd_read_signed(struct sd_ctx *sd, const struct sd_req_found *found,
    const char *request_id, uint32_t created, struct sd_signed_back *b,
    char *why, size_t cap) WARN_UNUSED;

/*
 * Opens the directories records are read back from: the journal (which
 * may not exist yet: jnl_open makes it) and, for an auditor, the archive
 * (NULL: none).  0, ERR_NOT_FOUND or ERR_IO.  Close is idempotent.
 */
int sd_read_dirs_open(struct sd_ctx *sd, const char *live,
    const char *archive) WARN_UNUSED;
void sd_read_dirs_close(struct sd_ctx *sd);

#endif
