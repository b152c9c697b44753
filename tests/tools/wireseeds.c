/*
 * wireseeds.c: brings the fuzz_wire seed frames (fuzz/corpus/fuzz_wire) to
 * PRT_VERSION and checks that each then decodes, so the fuzzer starts from
 * frames the decoders accept rather than ones refused at the version
 * field (not shipped).
 *   wireseeds FILE...    rewrites each FILE in place
 * What each version changed in a request the seeds hold (docs/protocol.md,
 * Versioning); every other frame of an older version already has the
 * current layout, and only its version field changes:
 *   2 -> 3: SIGN_REQ and QUEUE_REQ gain from (20 bytes) after chain_id;
 *   3 -> 4: SIGN_REQ and QUEUE_REQ gain created_day (u32) after from;
 *   4 -> 5: every typed reply (not ERROR_REP, whose layout is frozen)
 *           gains retry_after_s (u32, 0: no advice) after its message.
 * Exits 1 naming the first file that is not a frame of version 2..5 or
 * does not decode with its type's decoder once upgraded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/msg.h"

/* What the inserted fields hold: any address, and 2026-01-01 (UTC). */
#define SEED_FROM_BYTE 0x5f
#define SEED_CREATED_DAY 20454u
#define OLDEST_VERSION 2

/* Large decoder outputs: one frame at a time. */
static struct prt_sign_req sign_req;
static struct prt_sign_rep sign_rep;
static struct prt_status_rep status_rep;
static struct prt_unpause_req unpause_req;
static struct prt_gov_approve_req gov_approve_req;
static struct prt_gov_state gov_state;

/* 0 when the frame decodes with the decoder of its type. */
static int
decode_as_typed(uint16_t type, const uint8_t *b, size_t n)
{
	struct prt_exposure_req exposure_req;
	struct prt_exposure_rep exposure_rep;
	struct prt_policy_rep policy_rep;
	struct prt_queue_rep queue_rep;
	struct prt_cancel_req cancel_req;
	struct prt_pause_req pause_req;
	struct prt_gov_propose_req gov_propose_req;
	struct prt_gov_cancel_req gov_cancel_req;
	struct prt_reply_hdr hdr;
	uint16_t version;

	switch (type) {
	case PRT_SIGN_REQ: return prt_decode_sign_req(&sign_req, b, n);
	case PRT_QUEUE_REQ: return prt_decode_queue_req(&sign_req, b, n);
	case PRT_EXPOSURE_REQ:
		return prt_decode_exposure_req(&exposure_req, b, n);
	case PRT_STATUS_REQ: return prt_decode_status_req(b, n);
	case PRT_POLICY_REQ: return prt_decode_policy_req(b, n);
	case PRT_CANCEL_REQ: return prt_decode_cancel_req(&cancel_req, b, n);
	case PRT_PAUSE_REQ: return prt_decode_pause_req(&pause_req, b, n);
	case PRT_UNPAUSE_REQ:
		return prt_decode_unpause_req(&unpause_req, b, n);
	case PRT_GOV_PROPOSE_REQ:
		return prt_decode_gov_propose_req(&gov_propose_req, b, n);
	case PRT_GOV_APPROVE_REQ:
		return prt_decode_gov_approve_req(&gov_approve_req, b, n);
	case PRT_GOV_CANCEL_REQ:
		return prt_decode_gov_cancel_req(&gov_cancel_req, b, n);
	case PRT_GOV_STATUS_REQ: return prt_decode_gov_status_req(b, n);
	case PRT_ERROR_REP: return prt_decode_error_rep(&hdr, &version, b, n);
	case PRT_SIGN_REP: return prt_decode_sign_rep(&hdr, &sign_rep, b, n);
	case PRT_EXPOSURE_REP:
		return prt_decode_exposure_rep(&hdr, &exposure_rep, b, n);
	case PRT_STATUS_REP:
		return prt_decode_status_rep(&hdr, &status_rep, b, n);
	case PRT_POLICY_REP:
		return prt_decode_policy_rep(&hdr, &policy_rep, b, n);
	case PRT_QUEUE_REP: return prt_decode_queue_rep(&hdr, &queue_rep, b, n);
	case PRT_CANCEL_REP:
	case PRT_PAUSE_REP:
	case PRT_UNPAUSE_REP: return prt_decode_ack_rep(&hdr, type, b, n);
	case PRT_GOV_PROPOSE_REP:
	case PRT_GOV_APPROVE_REP:
	case PRT_GOV_CANCEL_REP:
	case PRT_GOV_STATUS_REP:
		return prt_decode_gov_rep(&hdr, type, &gov_state, b, n);
	default: return ERR_UNSUPPORTED;
	}
}

/*
 * A typed reply before version 5: copies result and message (from the
 * frame's header on) to w and adds retry_after_s 0; *cut is where the
 * rest of the frame starts.
 */
static int
upgrade_reply_hdr(struct prt_writer *w, const uint8_t *b, size_t n,
    size_t *cut)
{
	struct prt_reader r;
	const uint8_t *skip;
	uint32_t result;
	size_t len;
	int ret;

	prt_reader_init(&r, b, n);
	if ((ret = prt_get_view(&r, &skip, PRT_HEADER_LEN)) != 0 ||
	    (ret = prt_get_u32(&r, &result)) != 0 ||
	    (ret = prt_get_lv(&r, &skip, &len, PRT_MESSAGE_MAX)) != 0)
		return ret;
	(void)prt_put_bytes(w, b + *cut, r.off - *cut);
	*cut = r.off;
	return prt_put_u32(w, 0);
}

/*
 * Appends the upgraded frame to w: the header with PRT_VERSION, for a
 * payout request the fields its version lacks, inserted after chain_id,
 * and for a typed reply the reply header's retry_after_s.
 */
static int
upgrade(struct prt_writer *w, const uint8_t *b, size_t n, uint16_t version,
    uint16_t type)
{
	uint8_t seed_from[EVM_ADDR_LEN];
	struct prt_reader r;
	const uint8_t *skip;
	size_t len, cut;
	uint64_t chain;
	int ret;

	(void)prt_put_bytes(w, b, PRT_MAGIC_LEN);
	(void)prt_put_u16(w, PRT_VERSION);
	(void)prt_put_u16(w, type);
	cut = PRT_HEADER_LEN;
	if (version < 4 && (type == PRT_SIGN_REQ ||
	    type == PRT_QUEUE_REQ)) {
		/* request_id, asset, chain_id: where version 3 put from. */
		prt_reader_init(&r, b, n);
		if ((ret = prt_get_view(&r, &skip, PRT_HEADER_LEN)) != 0 ||
		    (ret = prt_get_lv(&r, &skip, &len, PRT_REQUEST_ID_MAX)) !=
		    0 || (ret = prt_get_lv(&r, &skip, &len, PRT_ASSET_MAX)) !=
		    0 || (ret = prt_get_u64(&r, &chain)) != 0)
			return ret;
		(void)prt_put_bytes(w, b + cut, r.off - cut);
		cut = r.off;
		memset(seed_from, SEED_FROM_BYTE, sizeof(seed_from));
		if (version < 3)
			(void)prt_put_bytes(w, seed_from, sizeof(seed_from));
		else if ((ret = prt_get_view(&r, &skip, EVM_ADDR_LEN)) != 0)
			return ret;
		(void)prt_put_bytes(w, b + cut, r.off - cut);
		cut = r.off;
		(void)prt_put_u32(w, SEED_CREATED_DAY);
	}
	if (version < 5 && (type & PRT_REPLY_BIT) != 0 &&
	    type != PRT_ERROR_REP &&
	    (ret = upgrade_reply_hdr(w, b, n, &cut)) != 0)
		return ret;
	(void)prt_put_bytes(w, b + cut, n - cut);
	return prt_writer_error(w);
}

/* Reads path whole (at most PRT_MAX_MESSAGE bytes) into buf. */
static int
read_frame(const char *path, uint8_t *buf, size_t *n)
{
	FILE *f = fopen(path, "rb");
	int ret = 0;

	*n = 0;
	if (f == NULL)
		return ERR_IO;
	*n = fread(buf, 1, PRT_MAX_MESSAGE + 1, f);
	if (ferror(f))
		ret = ERR_IO;
	else if (*n > PRT_MAX_MESSAGE)
		ret = ERR_TOO_LARGE;
	fclose(f);
	return ret;
}

static int
write_frame(const char *path, const uint8_t *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (f == NULL)
		return ERR_IO;
	if (fwrite(buf, 1, n, f) != n)
		ret = ERR_IO;
	if (fclose(f) != 0)
		ret = ERR_IO;
	return ret;
}

static int
one_seed(const char *path)
{
	static uint8_t buf[PRT_MAX_MESSAGE + 1];
	struct prt_writer w;
	uint16_t version, type;
	size_t n;
	int ret;

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	if ((ret = read_frame(path, buf, &n)) != 0 ||
	    (ret = prt_peek_header(&version, &type, buf, n)) != 0)
		goto out;
	if (version < OLDEST_VERSION || version > PRT_VERSION) {
		ret = ERR_BAD_VERSION;
		goto out;
	}
	if ((ret = upgrade(&w, buf, n, version, type)) != 0 ||
	    (ret = decode_as_typed(type, w.p, w.len)) != 0)
		goto out;
	if (version != PRT_VERSION)
		ret = write_frame(path, w.p, w.len);
	printf("%s: version %u -> %u, %zu -> %zu bytes\n", path, version,
	    PRT_VERSION, n, w.len);
out:
	if (ret != 0)
		fprintf(stderr, "wireseeds: %s: %s\n", path, err_str(ret));
	prt_writer_free(&w);
	return ret;
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: wireseeds FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (one_seed(argv[i]) != 0)
			return 1;
	return 0;
}
