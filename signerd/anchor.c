/*
 * anchor.c: the journal's rollback anchor in the HSM (invariant 8).  The
 * token keeps "signer-journal-anchor v1 <seq> <hash>\n", the newest record
 * signerd knows to be durable; at start-up the journal must still hold
 * that record, so whoever can write the journal directory cannot empty it,
 * cut its tail or put back an older copy unnoticed.  The anchor moves
 * forward only, after start-up, each checkpoint and the clean stop.  A
 * deliberate re-anchor (signerd -A) is journaled as "reanchored".
 */
#include "signerd/anchor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

int
sd_anchor_read(struct sd_ctx *sd, uint64_t *seq, uint8_t hash[32], char *err,
    size_t errlen)
{
	uint8_t buf[HSM_ANCHOR_MAX];
	size_t len = 0;
	int r;

	*seq = 0;
	memset(hash, 0, 32);
	r = hsm_anchor_read(sd->hsm, HSM_ANCHOR_LABEL, buf, sizeof(buf), &len);
	if (r == ERR_NOT_FOUND)
		return r;
	if (r != 0) {
		snprintf(err, errlen, "reading the journal anchor from the "
		    "HSM: %s (%s)", err_str(r), hsm_last_error());
		return r;
	}
	if ((r = hsm_anchor_text_parse(seq, hash, buf, len)) != 0) {
		snprintf(err, errlen, "the journal anchor in the HSM is not "
		    "\"signer-journal-anchor v1 <seq> <hash>\": %s",
		    err_str(r));
		return r;
	}
	return 0;
}

int
sd_anchor_advance(struct sd_ctx *sd)
{
	char text[HSM_ANCHOR_TEXT_MAX];
	uint8_t hash[32];
	uint64_t seq;
	size_t len;
	int r;

	jnl_head(sd->journal, &seq, hash);
	if (seq <= sd->anchor_seq)
		return 0;
	len = hsm_anchor_text(text, seq, hash);
	if ((r = hsm_anchor_write(sd->hsm, HSM_ANCHOR_LABEL,
	    (const uint8_t *)text, len)) != 0) {
		log_error("journal anchor not moved to seq %" PRIu64 ": %s "
		    "(%s)", seq, err_str(r), hsm_last_error());
		return r;
	}
	sd->anchor_seq = seq;
	return 0;
}

int
sd_anchor_reanchored(struct sd_ctx *sd, int had, uint64_t old_seq,
    const uint8_t old_hash[32])
{
	char hex[65];
	json_t *o;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "reanchored")) == NULL)
		return ERR_NOMEM;
	util_hex_encode(hex, old_hash, 32);
	if (had ? sd_json_set_u64(o, "old_seq", old_seq) == 0 &&
	    json_object_set_new(o, "old_hash", json_string(hex)) == 0 :
	    json_object_set_new(o, "old_seq", json_null()) == 0) {
		r = sd_journal_record(sd, o, NULL, NULL);
	}
	json_decref(o);
	if (r == 0 && had)
		log_warn("journal re-anchored on purpose (-A): the HSM's anchor "
		    "was seq %" PRIu64 " hash %s; it now follows this journal",
		    old_seq, hex);
	else if (r == 0)
		log_warn("journal anchored on purpose (-A): the HSM had no "
		    "anchor; it now follows this journal");
	return r;
}
