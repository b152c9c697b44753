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

#define ANCHOR_FMT "signer-journal-anchor v1 %" PRIu64 " %s\n"

int
sd_anchor_read(struct sd_ctx *sd, uint64_t *seq, uint8_t hash[32], char *err,
    size_t errlen)
{
	char buf[HSM_ANCHOR_MAX + 1], hex[65], again[160];
	unsigned long long n;
	size_t len = 0;
	int r;

	*seq = 0;
	memset(hash, 0, 32);
	r = hsm_anchor_read(sd->hsm, HSM_ANCHOR_LABEL, (uint8_t *)buf,
	    sizeof(buf) - 1, &len);
	if (r == ERR_NOT_FOUND)
		return r;
	if (r != 0) {
		snprintf(err, errlen, "reading the journal anchor from the "
		    "HSM: %s (%s)", err_str(r), hsm_last_error());
		return r;
	}
	buf[len] = '\0';
	/* One canonical form: parse, then print it again and compare. */
	if (sscanf(buf, "signer-journal-anchor v1 %llu %64[0-9a-f]", &n,
	    hex) != 2 || n == 0 || util_hex_decode(hash, 32, hex) != 0 ||
	    snprintf(again, sizeof(again), ANCHOR_FMT, (uint64_t)n, hex) <= 0 ||
	    strcmp(again, buf) != 0) {
		snprintf(err, errlen, "the journal anchor in the HSM is not "
		    "\"signer-journal-anchor v1 <seq> <hash>\"");
		return ERR_MALFORMED;
	}
	*seq = n;
	return 0;
}

int
sd_anchor_advance(struct sd_ctx *sd)
{
	char text[160], hex[65];
	uint8_t hash[32];
	uint64_t seq;
	int r;

	jnl_head(sd->journal, &seq, hash);
	if (seq <= sd->anchor_seq)
		return 0;
	util_hex_encode(hex, hash, 32);
	snprintf(text, sizeof(text), ANCHOR_FMT, seq, hex);
	if ((r = hsm_anchor_write(sd->hsm, HSM_ANCHOR_LABEL,
	    (const uint8_t *)text, strlen(text))) != 0) {
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
	if (r == 0)
		log_warn("journal re-anchored on purpose (-A): the HSM's anchor "
		    "was %s%s%s; it now follows this journal",
		    had ? "seq " : "absent", had ? "" : "",
		    had ? hex : "");
	return r;
}
