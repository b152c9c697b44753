/* store.c: the prepared statements behind store.h, and row decoding. */
#include "orchestratord/store.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestratord/webhook_sql.h"

/* Columns of a payout, in the order row_to_payout() reads them. */
#define COLS_BASE \
	"p.id, p.request_id, p.asset, p.chain_id, p.sender, p.recipient, " \
	"p.amount::text, p.status, p.approvals_required, " \
	"(SELECT count(*) FROM approvals a WHERE a.payout_id = p.id), " \
	"p.needs_timelock, " \
	"coalesce(extract(epoch FROM p.not_before)::bigint, 0), " \
	"coalesce(p.nonce, -1), coalesce(p.tx_hash, ''), " \
	"coalesce(p.block_number, -1), coalesce(p.block_hash, ''), " \
	"p.confirmations, p.bumps, coalesce(p.reason_code, ''), " \
	"coalesce(p.reason, coalesce(p.last_error, '')), " \
	"(extract(epoch FROM p.created_at) * 1000)::bigint, " \
	"(extract(epoch FROM p.updated_at) * 1000)::bigint, " \
	"coalesce((extract(epoch FROM p.submitted_at) * 1000)::bigint, 0), " \
	"coalesce((extract(epoch FROM p.last_broadcast_at) * 1000)::bigint, 0), " \
	"p.lease_epoch, p.queue_sent, " \
	"coalesce((SELECT t.receipt_seq FROM payout_txs t " \
	"WHERE t.tx_hash = p.tx_hash), 0), " \
	"coalesce((SELECT t.receipt_hash FROM payout_txs t " \
	"WHERE t.tx_hash = p.tx_hash), ''), p.gap_fill, " \
	"coalesce(p.sign_day, 0), "
/* The API never needs the transactions' bytes. */
#define COLS_API COLS_BASE "NULL::bytea, NULL::bytea"
#define COLS_WORK COLS_BASE "p.unsigned_tx, p.raw_tx"
#define NCOLS 32

/* Guards for a worker's update: still this row, this epoch. */
#define MINE "id = $1 AND lease_epoch = $2"

const struct db_stmt store_stmts[] = {
	{ "create",
	  "WITH ins AS (INSERT INTO payouts (request_id, asset, chain_id, "
	  "sender, recipient, amount, status, approvals_required, "
	  "needs_timelock, reason_code, reason) VALUES ($1, $2, $3, $4, $5, "
	  "$6::numeric, $7, $8, $9, NULLIF($10, ''), NULLIF($11, '')) "
	  "ON CONFLICT (request_id) DO NOTHING RETURNING *), "
	  "ev AS (SELECT emit(ins.*, e.ev) FROM ins, "
	  "unnest($12::text[]) WITH ORDINALITY AS e(ev, n) ORDER BY e.n) "
	  "SELECT " COLS_API ", (SELECT count(*) FROM ev) FROM ins p", 12 },
	{ "get", "SELECT " COLS_API " FROM payouts p WHERE request_id = $1", 1 },
	{ "list",
	  "SELECT " COLS_API " FROM payouts p WHERE p.id > $1 AND "
	  "($2 = '' OR p.status = $2) ORDER BY p.id LIMIT $3", 3 },
	{ "add_approval", "SELECT add_approval($1, $2, $3, $4)", 4 },
	{ "approvals",
	  "SELECT approver, expiry, signature FROM approvals "
	  "WHERE payout_id = $1 ORDER BY created_at, approver", 1 },
	{ "end", "SELECT end_payout($1, $2::text[], $3, $4, $5, $6, $7)", 7 },
	{ "events",
	  "SELECT o.id, p.request_id, o.event, o.payload::text, "
	  "(extract(epoch FROM o.created_at) * 1000)::bigint FROM outbox o "
	  "JOIN payouts p ON p.id = o.payout_id WHERE o.id > $1 "
	  "ORDER BY o.id LIMIT $2", 2 },
	{ "count_by_status",
	  "SELECT status, count(*) FROM payouts GROUP BY status", 0 },
	{ "seed_nonce",
	  "INSERT INTO sender_nonces (sender, chain_id, next_nonce) "
	  "VALUES ($1, $2, $3) ON CONFLICT (sender, chain_id) DO UPDATE SET "
	  "next_nonce = GREATEST(sender_nonces.next_nonce, "
	  "EXCLUDED.next_nonce)", 3 },
	/*
	 * $3: the retired senders, a text[] literal (store_claim); $4: how
	 * many rows at most, claimed in order (006_claim_batch.sql).
	 */
	{ "claim",
	  "SELECT " COLS_WORK " FROM claim_payouts($1, $2, $3, $4) p", 4 },
	/* The sign day as "sign_day" sets it, in the same statement. */
	{ "set_unsigned",
	  "UPDATE payouts SET unsigned_tx = $3, gas_limit = $4, "
	  "max_fee_per_gas = $5::numeric, max_priority_fee_per_gas = "
	  "$6::numeric, sign_day = coalesce(sign_day, "
	  "(now() AT TIME ZONE 'utc')::date - date '1970-01-01'), "
	  "updated_at = now() WHERE " MINE
	  " AND status = 'SIGNING' RETURNING sign_day", 6 },
	{ "queue_sent",
	  "UPDATE payouts SET queue_sent = true, updated_at = now() WHERE "
	  MINE " AND status = 'APPROVED'", 2 },
	{ "queue_unsent",
	  "UPDATE payouts SET queue_sent = false, updated_at = now() WHERE "
	  MINE " AND status = 'APPROVED'", 2 },
	{ "queued",
	  "WITH u AS (UPDATE payouts SET status = 'QUEUED', not_before = "
	  "to_timestamp($3), lease_owner = NULL, lease_expiry = NULL, "
	  "last_error = NULL, updated_at = now() WHERE " MINE
	  " AND status = 'APPROVED' RETURNING *) "
	  "SELECT emit(u.*, 'PayoutQueued') FROM u", 3 },
	/* $2 (the epoch) is not checked: signerd's answer decides. */
	{ "queued_late",
	  "WITH u AS (UPDATE payouts SET status = 'QUEUED', not_before = "
	  "to_timestamp($3), queue_sent = true, lease_owner = NULL, "
	  "lease_expiry = NULL, lease_epoch = lease_epoch + 1, last_error = "
	  "NULL, updated_at = now() WHERE id = $1 AND $2::bigint >= 0 AND "
	  "status = 'APPROVED' RETURNING *) "
	  "SELECT emit(u.*, 'PayoutQueued') FROM u", 3 },
	{ "signed",
	  "WITH u AS (UPDATE payouts SET status = 'SUBMITTED', raw_tx = $3, "
	  "tx_hash = $4, max_fee_per_gas = $5::numeric, "
	  "max_priority_fee_per_gas = $6::numeric, submitted_at = now(), "
	  "lease_owner = NULL, lease_expiry = NULL, last_error = NULL, "
	  "updated_at = now() WHERE " MINE " AND status = 'SIGNING' "
	  "RETURNING *), t AS (INSERT INTO payout_txs (tx_hash, payout_id, "
	  "raw_tx, max_fee_per_gas, max_priority_fee_per_gas, receipt_seq, "
	  "receipt_hash) SELECT tx_hash, id, raw_tx, max_fee_per_gas, "
	  "max_priority_fee_per_gas, $7::bigint, $8 "
	  "FROM u ON CONFLICT DO NOTHING) "
	  "SELECT emit(u.*, 'PayoutSubmitted') FROM u", 8 },
	{ "fail", "SELECT fail_payout($1, $2, $3, $4)", 4 },
	{ "release",
	  "UPDATE payouts SET lease_owner = NULL, lease_expiry = now() + "
	  "$3 * interval '1 millisecond', last_error = $4, updated_at = now() "
	  "WHERE " MINE, 4 },
	{ "claim_submitted",
	  "UPDATE payouts p SET lease_owner = $1, lease_expiry = now() + "
	  "$2 * interval '1 millisecond', lease_epoch = p.lease_epoch + 1 "
	  "WHERE p.id IN (SELECT id FROM payouts WHERE status = 'SUBMITTED' "
	  "AND (lease_expiry IS NULL OR lease_expiry < now()) ORDER BY id "
	  "LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING " COLS_WORK ", "
	  "array_to_string(ARRAY(SELECT t.tx_hash FROM payout_txs t WHERE "
	  "t.payout_id = p.id ORDER BY t.created_at, t.tx_hash), ' ')", 3 },
	{ "mined",
	  "UPDATE payouts SET tx_hash = $3, raw_tx = (SELECT raw_tx FROM "
	  "payout_txs WHERE tx_hash = $3), block_number = $4, "
	  "block_hash = $5, confirmations = $6, updated_at = now() WHERE "
	  MINE " AND status = 'SUBMITTED' AND EXISTS (SELECT 1 FROM "
	  "payout_txs WHERE tx_hash = $3 AND payout_id = $1)", 6 },
	{ "broadcast",
	  "UPDATE payouts SET last_broadcast_at = now() WHERE " MINE
	  " AND status = 'SUBMITTED'", 2 },
	{ "reorged",
	  "WITH u AS (UPDATE payouts SET block_number = NULL, block_hash = "
	  "NULL, confirmations = 0, updated_at = now() WHERE " MINE
	  " AND status = 'SUBMITTED' RETURNING *) "
	  "SELECT emit(u.*, 'PayoutReorged') FROM u", 2 },
	/* As "mined" with the end: the receipt's data and CONFIRMED at once. */
	{ "confirmed",
	  "WITH u AS (UPDATE payouts SET status = 'CONFIRMED', confirmed_at = "
	  "now(), tx_hash = $3, raw_tx = (SELECT raw_tx FROM payout_txs "
	  "WHERE tx_hash = $3), block_number = $4, block_hash = $5, "
	  "confirmations = $6, lease_owner = NULL, lease_expiry = NULL, "
	  "updated_at = now() WHERE " MINE " AND status = 'SUBMITTED' AND "
	  "EXISTS (SELECT 1 FROM payout_txs WHERE tx_hash = $3 AND "
	  "payout_id = $1) RETURNING *) "
	  "SELECT emit(u.*, 'PayoutConfirmed') FROM u", 6 },
	{ "bumped",
	  "WITH u AS (UPDATE payouts SET raw_tx = $3, tx_hash = $4, "
	  "max_fee_per_gas = $5::numeric, max_priority_fee_per_gas = "
	  "$6::numeric, bumps = bumps + 1, last_broadcast_at = NULL, "
	  "updated_at = now() WHERE " MINE " AND status = 'SUBMITTED' "
	  "RETURNING *), t AS (INSERT INTO payout_txs (tx_hash, payout_id, "
	  "raw_tx, max_fee_per_gas, max_priority_fee_per_gas, receipt_seq, "
	  "receipt_hash) SELECT tx_hash, id, raw_tx, max_fee_per_gas, "
	  "max_priority_fee_per_gas, $7::bigint, $8 "
	  "FROM u ON CONFLICT DO NOTHING) SELECT count(*) FROM u", 8 },
	/*
	 * The UTC day by PostgreSQL's clock as signerd counts days
	 * (pol_utc_day), stored the first time and kept: coalesce.
	 */
	{ "sign_day",
	  "UPDATE payouts SET sign_day = coalesce(sign_day, "
	  "(now() AT TIME ZONE 'utc')::date - date '1970-01-01') WHERE "
	  MINE " RETURNING sign_day", 2 },
	/* $1, $2: ids and their epochs, as bigint[] literals of one length. */
	{ "unlease",
	  "UPDATE payouts x SET lease_owner = NULL, lease_expiry = NULL "
	  "FROM unnest($1::bigint[], $2::bigint[]) AS u(id, epoch) "
	  "WHERE x.id = u.id AND x.lease_epoch = u.epoch", 2 },
	/*
	 * Key rotation (D54), one statement under the lease.  p: the row, not
	 * signed, with another sender.  nc: the new sender's counter (nothing
	 * moves without it).  oc: the old sender's counter, locked, so that
	 * the hand-back sees its newest value.  As fail_payout does: when the
	 * nonce was the newest, the counter goes back past it and the run of
	 * handed-back nonces just below it (r: that run; down; run_gone),
	 * else the nonce waits in nonce_gaps (gap).  As claim_payout does: a
	 * SIGNING row takes the new sender's lowest handed-back nonce (g),
	 * else its counter (inc).  The unsigned transaction was built for the
	 * old sender: it goes, and so does a gap_fill mark.  $3: the new
	 * sender.  $4: ms before a claim may offer the nonce handed back as a
	 * hole again (fill_after; 0: at once), after a refused gap fill.
	 */
	{ "move_sender",
	  "WITH RECURSIVE p AS (SELECT id, sender, chain_id, nonce, status "
	  "FROM payouts WHERE " MINE " AND status IN ('APPROVED', 'SIGNING') "
	  "AND raw_tx IS NULL AND sender <> $3 FOR UPDATE), "
	  "nc AS (SELECT 1 FROM sender_nonces s, p WHERE s.sender = $3 AND "
	  "s.chain_id = p.chain_id), "
	  "oc AS (SELECT s.next_nonce FROM sender_nonces s, p WHERE "
	  "EXISTS (SELECT 1 FROM nc) AND p.nonce IS NOT NULL AND "
	  "s.sender = p.sender AND s.chain_id = p.chain_id FOR UPDATE OF s), "
	  "r(k) AS (SELECT p.nonce FROM p, oc WHERE oc.next_nonce = "
	  "p.nonce + 1 UNION ALL SELECT r.k - 1 FROM r, p, nonce_gaps x "
	  "WHERE x.sender = p.sender AND x.chain_id = p.chain_id AND "
	  "x.nonce = r.k - 1), "
	  "down AS (UPDATE sender_nonces s SET next_nonce = (SELECT min(k) "
	  "FROM r) FROM p WHERE EXISTS (SELECT 1 FROM r) AND "
	  "s.sender = p.sender AND s.chain_id = p.chain_id RETURNING 1), "
	  "run_gone AS (DELETE FROM nonce_gaps x USING p WHERE "
	  "x.sender = p.sender AND x.chain_id = p.chain_id AND "
	  "x.nonce >= (SELECT min(k) FROM r) AND x.nonce < p.nonce "
	  "RETURNING 1), "
	  "gap AS (INSERT INTO nonce_gaps (sender, chain_id, nonce, "
	  "fill_after) SELECT p.sender, p.chain_id, p.nonce, CASE WHEN "
	  "$4::int > 0 THEN now() + $4::int * interval '1 millisecond' END "
	  "FROM p, oc WHERE oc.next_nonce <> p.nonce + 1 "
	  "ON CONFLICT DO NOTHING RETURNING 1), "
	  "g AS (DELETE FROM nonce_gaps WHERE (sender, chain_id, nonce) IN "
	  "(SELECT x.sender, x.chain_id, x.nonce FROM nonce_gaps x, p WHERE "
	  "EXISTS (SELECT 1 FROM nc) AND p.status = 'SIGNING' AND "
	  "x.sender = $3 AND x.chain_id = p.chain_id AND (x.fill_after IS "
	  "NULL OR x.fill_after <= now()) ORDER BY x.nonce "
	  "LIMIT 1 FOR UPDATE OF x) RETURNING nonce), "
	  "inc AS (UPDATE sender_nonces s SET next_nonce = s.next_nonce + 1 "
	  "FROM p WHERE EXISTS (SELECT 1 FROM nc) AND p.status = 'SIGNING' "
	  "AND NOT EXISTS (SELECT 1 FROM g) AND s.sender = $3 AND "
	  "s.chain_id = p.chain_id RETURNING s.next_nonce - 1 AS nonce), "
	  "u AS (UPDATE payouts x SET sender = $3, nonce = (SELECT nonce "
	  "FROM g UNION ALL SELECT nonce FROM inc LIMIT 1), gap_fill = false, "
	  "unsigned_tx = NULL, gas_limit = NULL, max_fee_per_gas = NULL, "
	  "max_priority_fee_per_gas = NULL, updated_at = now() FROM p "
	  "WHERE x.id = p.id AND EXISTS (SELECT 1 FROM nc) RETURNING x.nonce) "
	  "SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM u), "
	  "coalesce((SELECT nonce FROM u), -1), (SELECT count(*) FROM gap)",
	  4 },
	WEBHOOK_STMTS		/* webhook_sql.h (D59) */
};
const size_t store_nstmts = ARRAY_LEN(store_stmts);

/* --- row decoding ----------------------------------------------------- */

static void
copy_text(char *dst, size_t cap, const PGresult *res, int row, int col)
{
	snprintf(dst, cap, "%s", PQgetvalue(res, row, col));
}

static int64_t
get_i64(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A bytea column in text format ("\x" + hex) into buf; 0 bytes for NULL. */
static int
get_bytea(uint8_t *buf, size_t cap, size_t *len, const PGresult *res,
    int row, int col)
{
	const char *v;

	*len = 0;
	if (PQgetisnull(res, row, col))
		return 0;
	v = PQgetvalue(res, row, col);
	if (strncmp(v, "\\x", 2) != 0)
		return ERR_MALFORMED;
	return util_hex_decode_var(buf, cap, len, v + 2);
}

/*
 * A stored sign_day (text of an integer column) into *day: 1..UINT32_MAX,
 * the wire's range, or 0 for "not set yet" when zero_ok (the rows'
 * coalesce).  ERR_INTERNAL otherwise: the CHECK keeps it >= 1, so anything
 * else is a schema we do not know.
 */
static int
sign_day_of(uint32_t *day, const char *text, int zero_ok)
{
	unsigned long long v;
	char *end;

	*day = 0;
	if (text[0] < '0' || text[0] > '9')
		return ERR_INTERNAL;
	v = strtoull(text, &end, 10);
	if (*end != '\0' || v > UINT32_MAX || (v == 0 && !zero_ok))
		return ERR_INTERNAL;
	*day = (uint32_t)v;
	return 0;
}

/*
 * The SQL edge of the binary model: sender, recipient and amount are
 * parsed once here.  A stored value that does not parse (the columns are
 * text; only orchestratord writes them) is a broken row, not bad input.
 */
static int
row_values(struct payout *p, const PGresult *res, int row)
{
	static const char *const names[] = { "sender", "recipient", "amount" };
	int col;

	if (evm_addr_from_str(p->sender, PQgetvalue(res, row, 4), 1) != 0)
		col = 4;
	else if (evm_addr_from_str(p->recipient, PQgetvalue(res, row, 5),
	    1) != 0)
		col = 5;
	else if (u256_from_dec(&p->amount, PQgetvalue(res, row, 6)) != 0)
		col = 6;
	else
		return 0;
	log_error("payout %s: stored %s does not parse: \"%.80s\"",
	    p->request_id, names[col - 4], PQgetvalue(res, row, col));
	return ERR_INTERNAL;
}

static int
row_to_payout(struct payout *p, const PGresult *res, int row)
{
	int r;

	/*
	 * Not the transactions' buffers (16 KB of the struct): get_bytea
	 * sets their lengths, and nothing reads past a length.
	 */
	memset(p, 0, offsetof(struct payout, unsigned_tx));
	p->unsigned_len = 0;
	p->raw_len = 0;
	if (PQnfields(res) < NCOLS)
		return ERR_INTERNAL;
	p->id = get_i64(res, row, 0);
	copy_text(p->request_id, sizeof(p->request_id), res, row, 1);
	copy_text(p->asset, sizeof(p->asset), res, row, 2);
	p->chain_id = (uint64_t)get_i64(res, row, 3);
	if ((r = row_values(p, res, row)) != 0)
		return r;
	if (fsm_status_from_name(&p->status, PQgetvalue(res, row, 7)) != 0)
		return ERR_INTERNAL;
	p->approvals_required = (int)get_i64(res, row, 8);
	p->approvals = (int)get_i64(res, row, 9);
	p->needs_timelock = PQgetvalue(res, row, 10)[0] == 't';
	p->not_before = get_i64(res, row, 11);
	p->nonce = get_i64(res, row, 12);
	copy_text(p->tx_hash, sizeof(p->tx_hash), res, row, 13);
	p->block_number = get_i64(res, row, 14);
	copy_text(p->block_hash, sizeof(p->block_hash), res, row, 15);
	p->confirmations = (int)get_i64(res, row, 16);
	p->bumps = (int)get_i64(res, row, 17);
	copy_text(p->reason_code, sizeof(p->reason_code), res, row, 18);
	copy_text(p->reason, sizeof(p->reason), res, row, 19);
	p->created_at = get_i64(res, row, 20);
	p->updated_at = get_i64(res, row, 21);
	p->submitted_at = get_i64(res, row, 22);
	p->last_broadcast_at = get_i64(res, row, 23);
	p->lease_epoch = get_i64(res, row, 24);
	p->queue_sent = PQgetvalue(res, row, 25)[0] == 't';
	p->gap_fill = PQgetvalue(res, row, 28)[0] == 't';
	if ((r = sign_day_of(&p->sign_day, PQgetvalue(res, row, 29), 1)) != 0)
		return r;
	p->receipt.seq = (uint64_t)strtoull(PQgetvalue(res, row, 26), NULL, 10);
	/* The column's CHECK allows only 64 lowercase hex digits. */
	if (p->receipt.seq != 0 && util_hex_decode(p->receipt.hash, 32,
	    PQgetvalue(res, row, 27)) != 0)
		return ERR_INTERNAL;
	if ((r = get_bytea(p->unsigned_tx, sizeof(p->unsigned_tx),
	    &p->unsigned_len, res, row, 30)) != 0)
		return ERR_INTERNAL;
	if ((r = get_bytea(p->raw_tx, sizeof(p->raw_tx), &p->raw_len, res,
	    row, 31)) != 0)
		return ERR_INTERNAL;
	return 0;
}

/*
 * The sign day a one-row result's first column returns ("RETURNING
 * sign_day") into p; res is cleared.  STORE_CONFLICT when no row moved.
 */
static int
sign_day_result(PGresult *res, struct payout *p)
{
	uint32_t day;
	int r;

	if (PQntuples(res) != 1)
		r = STORE_CONFLICT;
	else if ((r = sign_day_of(&day, PQgetvalue(res, 0, 0), 0)) == 0)
		p->sign_day = day;
	PQclear(res);
	return r;
}

/* "\x" + hex of n bytes, malloc'd: a bytea parameter in text format. */
static char *
bytea_param(const uint8_t *p, size_t n)
{
	char *s;

	if ((s = malloc(2 * n + 3)) == NULL)
		return NULL;
	s[0] = '\\';
	s[1] = 'x';
	util_hex_encode(s + 2, p, n);
	return s;
}

static void
hash_str(char out[STORE_HASH_STR], const uint8_t hash[32])
{
	util_hex_encode_0x(out, hash, 32);
}

/* Runs a statement that changes at most one row; STORE_CONFLICT if none. */
static int
exec_one(struct db *d, const char *name, int n, const char *const *params)
{
	PGresult *res;
	int r;

	if ((r = db_exec(d, &res, name, n, params)) != 0)
		return r;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "0") != 0
		    && strcmp(PQgetvalue(res, 0, 0), "f") != 0 ?
		    0 : STORE_CONFLICT;
	else
		r = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : STORE_CONFLICT;
	PQclear(res);
	return r;
}

void
store_receipt_of(struct store_receipt *out, const struct prt_sign_rep *rep)
{
	out->seq = rep->receipt_seq;
	memcpy(out->hash, rep->receipt_hash, sizeof(out->hash));
}

/* --- API ---------------------------------------------------------------- */

int
store_get(struct db *d, const char *request_id, struct payout *out)
{
	const char *params[1] = { request_id };
	PGresult *res;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = db_exec(d, &res, "get", 1, params)) != 0)
		return r;
	r = PQntuples(res) == 1 ? row_to_payout(out, res, 0) : ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

int
store_create(struct db *d, const struct payout_new *in, struct payout *out,
    int *created)
{
	char chain[24], needs[2], status_events[96];
	char sender[EVM_ADDR_STR], recipient[EVM_ADDR_STR];
	char amount[U256_DEC_MAX];
	const char *params[12];
	PGresult *res;
	char required[16];
	int r;

	*created = 0;
	snprintf(chain, sizeof(chain), "%" PRIu64, in->chain_id);
	snprintf(required, sizeof(required), "%d", in->approvals_required);
	snprintf(needs, sizeof(needs), "%s", in->needs_timelock ? "t" : "f");
	switch (in->status) {
	case PS_PENDING_APPROVAL:
		snprintf(status_events, sizeof(status_events),
		    "{PayoutRequestCreated}");
		break;
	case PS_APPROVED:
		snprintf(status_events, sizeof(status_events),
		    "{PayoutRequestCreated,PayoutRequestApproved}");
		break;
	case PS_REJECTED:
		snprintf(status_events, sizeof(status_events),
		    "{PayoutRequestCreated,RiskCheckRejected}");
		break;
	default:
		return ERR_INVALID_ARG;
	}
	params[0] = in->request_id;
	params[1] = in->asset;
	params[2] = chain;
	evm_addr_to_str(sender, in->sender);
	evm_addr_to_str(recipient, in->recipient);
	u256_to_dec(amount, sizeof(amount), &in->amount);
	params[3] = sender;
	params[4] = recipient;
	params[5] = amount;
	params[6] = fsm_status_name(in->status);
	params[7] = required;
	params[8] = needs;
	params[9] = in->reason_code;
	params[10] = in->reason;
	params[11] = status_events;
	if ((r = db_exec(d, &res, "create", 12, params)) != 0)
		return r;
	if (PQntuples(res) == 1) {
		r = row_to_payout(out, res, 0);
		*created = r == 0;
		PQclear(res);
		return r;
	}
	PQclear(res);
	/* The id exists: the same body is a repeat, another is a conflict. */
	if ((r = store_get(d, in->request_id, out)) != 0)
		return r;
	if (strcmp(out->asset, in->asset) != 0 ||
	    memcmp(out->recipient, in->recipient, EVM_ADDR_LEN) != 0 ||
	    u256_cmp(&out->amount, &in->amount) != 0)
		return STORE_CONFLICT;
	return 0;
}

int
store_list(struct db *d, enum payout_status status, int64_t after_id,
    int limit, struct payout *out, size_t *n)
{
	char after[24], lim[16];
	const char *params[3];
	PGresult *res;
	int i, r;

	*n = 0;
	if (limit < 1 || limit > STORE_LIST_MAX)
		return ERR_INVALID_ARG;
	snprintf(after, sizeof(after), "%" PRId64, after_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	params[0] = after;
	params[1] = status == PS_NONE ? "" : fsm_status_name(status);
	params[2] = lim;
	if ((r = db_exec(d, &res, "list", 3, params)) != 0)
		return r;
	for (i = 0; i < PQntuples(res) && i < limit; i++) {
		if ((r = row_to_payout(&out[i], res, i)) != 0)
			break;
		(*n)++;
	}
	PQclear(res);
	return r;
}

int
store_add_approval(struct db *d, const char *request_id,
    const struct pol_approval *a, struct payout *out)
{
	char expiry[24], *sig = NULL;
	const char *params[4];
	PGresult *res = NULL;
	const char *v;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(expiry, sizeof(expiry), "%" PRIu64, a->expiry);
	if ((sig = bytea_param(a->sig, a->sig_len)) == NULL)
		return ERR_NOMEM;
	params[0] = request_id;
	params[1] = a->approver;
	params[2] = expiry;
	params[3] = sig;
	if ((r = db_exec(d, &res, "add_approval", 4, params)) != 0)
		goto out;
	v = PQgetvalue(res, 0, 0);
	if (strcmp(v, "NOT_FOUND") == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	r = store_get(d, request_id, out);
	if (r == 0 && (strcmp(v, "STATE") == 0 || strcmp(v, "DUPLICATE") == 0))
		r = STORE_CONFLICT;
out:
	PQclear(res);
	free(sig);
	return r;
}

int
store_approvals(struct db *d, int64_t payout_id, struct pol_approval *out,
    size_t max, size_t *n)
{
	const char *params[1];
	char id[24];
	PGresult *res;
	int i, r;

	*n = 0;
	snprintf(id, sizeof(id), "%" PRId64, payout_id);
	params[0] = id;
	if ((r = db_exec(d, &res, "approvals", 1, params)) != 0)
		return r;
	for (i = 0; i < PQntuples(res) && (size_t)i < max; i++) {
		struct pol_approval *a = &out[i];

		memset(a, 0, sizeof(*a));
		copy_text(a->approver, sizeof(a->approver), res, i, 0);
		a->expiry = (uint64_t)get_i64(res, i, 1);
		if ((r = get_bytea(a->sig, sizeof(a->sig), &a->sig_len, res, i,
		    2)) != 0) {
			r = ERR_INTERNAL;
			break;
		}
		(*n)++;
	}
	PQclear(res);
	return r;
}

int
store_end(struct db *d, const char *request_id,
    const enum payout_status *from, size_t n, enum payout_status to,
    int signerd_cancelled, const char *reason_code, const char *reason,
    enum store_end_refusal *why, struct payout *out)
{
	char froms[256];
	const char *params[7], *event, *v;
	PGresult *res;
	size_t i, off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	*why = STORE_END_OK;
	if (to != PS_REJECTED && to != PS_CANCELLED)
		return ERR_INVALID_ARG;
	event = to == PS_REJECTED ? "PayoutRequestRejected" : "PayoutCancelled";
	froms[off++] = '{';
	for (i = 0; i < n; i++) {
		if (fsm_event(from[i], to) == NULL)
			return ERR_INVALID_ARG;	/* not in the table */
		off += (size_t)snprintf(froms + off, sizeof(froms) - off,
		    "%s%s", i ? "," : "", fsm_status_name(from[i]));
		if (off >= sizeof(froms) - 2)
			return ERR_INVALID_ARG;
	}
	froms[off++] = '}';
	froms[off] = '\0';
	params[0] = request_id;
	params[1] = froms;
	params[2] = fsm_status_name(to);
	params[3] = reason_code;
	params[4] = reason;
	params[5] = event;
	params[6] = signerd_cancelled ? "t" : "f";
	if ((r = db_exec(d, &res, "end", 7, params)) != 0)
		return r;
	v = PQgetvalue(res, 0, 0);
	if (strcmp(v, "NOT_FOUND") == 0)
		r = ERR_NOT_FOUND;
	else if (strcmp(v, "OK") == 0)
		r = 0;
	else {
		r = STORE_CONFLICT;
		*why = strcmp(v, "BUSY") == 0 ? STORE_END_BUSY :
		    strcmp(v, "IN_SIGNERD") == 0 ? STORE_END_IN_SIGNERD :
		    STORE_END_STATE;
	}
	PQclear(res);
	if (r != ERR_NOT_FOUND) {
		int g = store_get(d, request_id, out);

		if (g != 0)
			return g;
	}
	return r;
}

int
store_events(struct db *d, int64_t after_id, int limit,
    struct outbox_event *out, size_t *n)
{
	char after[24], lim[16];
	const char *params[2];
	PGresult *res;
	int i, r;

	*n = 0;
	if (limit < 1 || limit > STORE_LIST_MAX)
		return ERR_INVALID_ARG;
	snprintf(after, sizeof(after), "%" PRId64, after_id);
	snprintf(lim, sizeof(lim), "%d", limit);
	params[0] = after;
	params[1] = lim;
	if ((r = db_exec(d, &res, "events", 2, params)) != 0)
		return r;
	for (i = 0; i < PQntuples(res) && i < limit; i++) {
		struct outbox_event *e = &out[i];

		memset(e, 0, sizeof(*e));
		e->id = get_i64(res, i, 0);
		copy_text(e->request_id, sizeof(e->request_id), res, i, 1);
		copy_text(e->event, sizeof(e->event), res, i, 2);
		copy_text(e->payload, sizeof(e->payload), res, i, 3);
		e->created_at = get_i64(res, i, 4);
		(*n)++;
	}
	PQclear(res);
	return 0;
}

int
store_count_by_status(struct db *d, int64_t counts[PS_COUNT])
{
	enum payout_status s;
	PGresult *res;
	int i, r;

	memset(counts, 0, sizeof(int64_t) * PS_COUNT);
	if ((r = db_exec(d, &res, "count_by_status", 0, NULL)) != 0)
		return r;
	for (i = 0; i < PQntuples(res); i++)
		if (fsm_status_from_name(&s, PQgetvalue(res, i, 0)) == 0)
			counts[s] = get_i64(res, i, 1);
	PQclear(res);
	return 0;
}

/* --- workers ------------------------------------------------------------ */

int
store_seed_nonce(struct db *d, const uint8_t sender[EVM_ADDR_LEN],
    uint64_t chain_id, uint64_t chain_nonce)
{
	char addr[EVM_ADDR_STR], chain[24], nonce[24];
	const char *params[3] = { addr, chain, nonce };
	PGresult *res;
	int r;

	evm_addr_to_str(addr, sender);
	snprintf(chain, sizeof(chain), "%" PRIu64, chain_id);
	snprintf(nonce, sizeof(nonce), "%" PRIu64, chain_nonce);
	if ((r = db_exec(d, &res, "seed_nonce", 3, params)) != 0)
		return r;
	PQclear(res);
	return 0;
}

int
store_claim(struct db *d, const char *worker, int lease_ms,
    const uint8_t (*retired)[EVM_ADDR_LEN], size_t nretired,
    struct payout *out)
{
	size_t n;

	return store_claim_many(d, worker, lease_ms, retired, nretired, out, 1,
	    &n);
}

int
store_claim_many(struct db *d, const char *worker, int lease_ms,
    const uint8_t (*retired)[EVM_ADDR_LEN], size_t nretired,
    struct payout *out, size_t max, size_t *n)
{
	char lease[16], lim[16], list[2 + STORE_RETIRED_MAX * EVM_ADDR_STR];
	char addr[EVM_ADDR_STR];
	const char *params[4];
	PGresult *res;
	size_t i, off = 0;
	int r;

	*n = 0;
	memset(out, 0, offsetof(struct payout, unsigned_tx));
	if (nretired > STORE_RETIRED_MAX || max < 1 ||
	    max > STORE_CLAIM_MAX)
		return ERR_INVALID_ARG;
	/*
	 * A text[] literal: "{0x..,0x..}", EIP-55 as every stored sender.
	 * Addresses are hex: no quoting.
	 */
	list[off++] = '{';
	for (i = 0; i < nretired; i++) {
		evm_addr_to_str(addr, retired[i]);
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? "," : "", addr);
	}
	list[off++] = '}';
	list[off] = '\0';
	snprintf(lease, sizeof(lease), "%d", lease_ms);
	snprintf(lim, sizeof(lim), "%zu", max);
	params[0] = worker;
	params[1] = lease;
	params[2] = list;
	params[3] = lim;
	if ((r = db_exec(d, &res, "claim", 4, params)) != 0)
		return r;
	r = PQntuples(res) == 0 ? ERR_NOT_FOUND : 0;
	for (i = 0; r == 0 && i < (size_t)PQntuples(res) && i < max; i++)
		if ((r = row_to_payout(&out[i], res, (int)i)) == 0)
			(*n)++;
	PQclear(res);
	return r;
}

/* id and epoch as text, the first two parameters of every worker update. */
struct mine {
	char id[24];
	char epoch[24];
};

static int store_simple(struct db *d, const char *stmt,
    const struct payout *p);

static void
mine_of(struct mine *m, const struct payout *p)
{
	snprintf(m->id, sizeof(m->id), "%" PRId64, p->id);
	snprintf(m->epoch, sizeof(m->epoch), "%" PRId64, p->lease_epoch);
}

int
store_set_unsigned(struct db *d, struct payout *p, const uint8_t *tx,
    size_t len, uint64_t gas_limit, const u256 *max_fee, const u256 *prio_fee)
{
	char gas[24], fee[U256_DEC_MAX], prio[U256_DEC_MAX], *txp;
	const char *params[6];
	struct mine m;
	PGresult *res;
	int r;

	mine_of(&m, p);
	if ((txp = bytea_param(tx, len)) == NULL)
		return ERR_NOMEM;
	snprintf(gas, sizeof(gas), "%" PRIu64, gas_limit);
	u256_to_dec(fee, sizeof(fee), max_fee);
	u256_to_dec(prio, sizeof(prio), prio_fee);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = txp;
	params[3] = gas;
	params[4] = fee;
	params[5] = prio;
	r = db_exec(d, &res, "set_unsigned", 6, params);
	free(txp);
	return r != 0 ? r : sign_day_result(res, p);
}

int
store_queue_sent(struct db *d, const struct payout *p)
{
	return store_simple(d, "queue_sent", p);
}

int
store_queue_unsent(struct db *d, const struct payout *p)
{
	return store_simple(d, "queue_unsent", p);
}

static int
queued(struct db *d, const char *stmt, const struct payout *p,
    int64_t not_before)
{
	const char *params[3];
	char nb[24];
	struct mine m;

	mine_of(&m, p);
	snprintf(nb, sizeof(nb), "%" PRId64, not_before);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = nb;
	return exec_one(d, stmt, 3, params);
}

int
store_queued(struct db *d, const struct payout *p, int64_t not_before)
{
	return queued(d, "queued", p, not_before);
}

int
store_queued_late(struct db *d, const struct payout *p, int64_t not_before)
{
	return queued(d, "queued_late", p, not_before);
}

/* signed and bumped share their parameters. */
static int
store_version(struct db *d, const char *stmt, const struct payout *p,
    const uint8_t *raw, size_t len, const uint8_t hash[32],
    const u256 *max_fee, const u256 *prio_fee,
    const struct store_receipt *receipt)
{
	char h[STORE_HASH_STR], fee[U256_DEC_MAX], prio[U256_DEC_MAX], *rawp;
	char rseq[24], rhash[65];
	const char *params[8];
	struct mine m;
	int r;

	mine_of(&m, p);
	/* Both NULL without a receipt (the table's CHECK wants both or none). */
	params[6] = NULL;
	params[7] = NULL;
	if (receipt != NULL && receipt->seq != 0) {
		snprintf(rseq, sizeof(rseq), "%" PRIu64, receipt->seq);
		util_hex_encode(rhash, receipt->hash, 32);
		params[6] = rseq;
		params[7] = rhash;
	}
	if ((rawp = bytea_param(raw, len)) == NULL)
		return ERR_NOMEM;
	hash_str(h, hash);
	u256_to_dec(fee, sizeof(fee), max_fee);
	u256_to_dec(prio, sizeof(prio), prio_fee);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = rawp;
	params[3] = h;
	params[4] = fee;
	params[5] = prio;
	r = exec_one(d, stmt, 8, params);
	free(rawp);
	return r;
}

int
store_signed(struct db *d, const struct payout *p, const uint8_t *raw,
    size_t len, const uint8_t hash[32], const u256 *max_fee,
    const u256 *prio_fee, const struct store_receipt *receipt)
{
	return store_version(d, "signed", p, raw, len, hash, max_fee, prio_fee,
	    receipt);
}

int
store_bumped(struct db *d, const struct payout *p, const uint8_t *raw,
    size_t len, const uint8_t hash[32], const u256 *max_fee,
    const u256 *prio_fee, const struct store_receipt *receipt)
{
	return store_version(d, "bumped", p, raw, len, hash, max_fee, prio_fee,
	    receipt);
}

int
store_fail(struct db *d, const struct payout *p, const char *code,
    const char *reason)
{
	const char *params[4];
	struct mine m;

	mine_of(&m, p);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = code;
	params[3] = reason;
	return exec_one(d, "fail", 4, params);
}

int
store_release(struct db *d, const struct payout *p, int retry_ms,
    const char *reason)
{
	const char *params[4];
	char retry[16];
	struct mine m;

	mine_of(&m, p);
	snprintf(retry, sizeof(retry), "%d", retry_ms);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = retry;
	params[3] = reason;
	return exec_one(d, "release", 4, params);
}

int
store_sign_day(struct db *d, struct payout *p)
{
	const char *params[2];
	struct mine m;
	PGresult *res;
	int r;

	mine_of(&m, p);
	params[0] = m.id;
	params[1] = m.epoch;
	if ((r = db_exec(d, &res, "sign_day", 2, params)) != 0)
		return r;
	return sign_day_result(res, p);
}

/* --- tracker ------------------------------------------------------------ */

/*
 * The hashes of a payout's signed versions, as claim_submitted lists them
 * (space-separated, oldest first) into out.
 */
static int
versions_of(struct store_submitted *out, const char *list)
{
	const char *sp;
	size_t len;

	out->nversions = 0;
	while (*list != '\0') {
		sp = strchr(list, ' ');
		len = sp != NULL ? (size_t)(sp - list) : strlen(list);
		if (out->nversions == STORE_VERSIONS_MAX ||
		    len >= STORE_HASH_STR)
			return ERR_INTERNAL;
		memcpy(out->versions[out->nversions], list, len);
		out->versions[out->nversions++][len] = '\0';
		list += len;
		if (*list == ' ')
			list++;
	}
	return 0;
}

int
store_claim_submitted(struct db *d, const char *worker, int lease_ms,
    struct store_submitted *out, size_t max, size_t *n)
{
	char lease[16], lim[16];
	const char *params[3];
	PGresult *res;
	int i, r;

	*n = 0;
	snprintf(lease, sizeof(lease), "%d", lease_ms);
	snprintf(lim, sizeof(lim), "%zu", max);
	params[0] = worker;
	params[1] = lease;
	params[2] = lim;
	if ((r = db_exec(d, &res, "claim_submitted", 3, params)) != 0)
		return r;
	for (i = 0; i < PQntuples(res) && (size_t)i < max; i++) {
		if ((r = row_to_payout(&out[*n].p, res, i)) != 0 ||
		    (r = versions_of(&out[*n], PQgetvalue(res, i, NCOLS))) != 0)
			break;
		(*n)++;
	}
	PQclear(res);
	return r;
}

/* "mined" and "confirmed": the row, the receipt's block and depth. */
static int
block_change(struct db *d, const char *stmt, const struct payout *p,
    const char *tx_hash, int64_t block_number, const char *block_hash,
    int confirmations)
{
	char num[24], conf[16];
	const char *params[6];
	struct mine m;

	mine_of(&m, p);
	snprintf(num, sizeof(num), "%" PRId64, block_number);
	snprintf(conf, sizeof(conf), "%d", confirmations);
	params[0] = m.id;
	params[1] = m.epoch;
	params[2] = tx_hash;
	params[3] = num;
	params[4] = block_hash;
	params[5] = conf;
	return exec_one(d, stmt, 6, params);
}

int
store_mined(struct db *d, const struct payout *p, const char *tx_hash,
    int64_t block_number, const char *block_hash, int confirmations)
{
	return block_change(d, "mined", p, tx_hash, block_number, block_hash,
	    confirmations);
}

/* Statements whose only parameters are the row's id and epoch. */
static int
store_simple(struct db *d, const char *stmt, const struct payout *p)
{
	const char *params[2];
	struct mine m;

	mine_of(&m, p);
	params[0] = m.id;
	params[1] = m.epoch;
	return exec_one(d, stmt, 2, params);
}

int
store_broadcast(struct db *d, const struct payout *p)
{
	return store_simple(d, "broadcast", p);
}

int
store_reorged(struct db *d, const struct payout *p)
{
	return store_simple(d, "reorged", p);
}

int
store_confirmed(struct db *d, const struct payout *p, const char *tx_hash,
    int64_t block_number, const char *block_hash, int confirmations)
{
	return block_change(d, "confirmed", p, tx_hash, block_number,
	    block_hash, confirmations);
}

/* v[0..n) as a bigint[] literal, "{1,2,3}", malloc'd. */
static char *
bigint_array(const int64_t *v, size_t n)
{
	char *out, *w;
	size_t i;

	if ((out = malloc(n * 21 + 3)) == NULL)
		return NULL;
	w = out;
	*w++ = '{';
	for (i = 0; i < n; i++)
		w += sprintf(w, "%s%" PRId64, i > 0 ? "," : "", v[i]);
	*w++ = '}';
	*w = '\0';
	return out;
}

int
store_unlease(struct db *d, const int64_t *ids, const int64_t *epochs,
    size_t n)
{
	const char *params[2];
	char *idl, *epl;
	PGresult *res;
	int r = ERR_NOMEM;

	if (n == 0)
		return 0;
	idl = bigint_array(ids, n);
	epl = bigint_array(epochs, n);
	if (idl != NULL && epl != NULL) {
		params[0] = idl;
		params[1] = epl;
		if ((r = db_exec(d, &res, "unlease", 2, params)) == 0)
			PQclear(res);
	}
	free(idl);
	free(epl);
	return r;
}

/* --- key rotation --------------------------------------------------------- */

int
store_move_sender(struct db *d, struct payout *p,
    const uint8_t sender[EVM_ADDR_LEN], int fill_after_ms, int *gap)
{
	char addr[EVM_ADDR_STR], after[16];
	const char *params[4];
	PGresult *res;
	struct mine m;
	int r;

	*gap = 0;
	mine_of(&m, p);
	snprintf(after, sizeof(after), "%d", fill_after_ms > 0 ?
	    fill_after_ms : 0);
	params[0] = m.id;
	params[1] = m.epoch;
	evm_addr_to_str(addr, sender);
	params[2] = addr;
	params[3] = after;
	if ((r = db_exec(d, &res, "move_sender", 4, params)) != 0)
		return r;
	if (PQntuples(res) != 1)
		r = ERR_INTERNAL;
	else if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		r = STORE_CONFLICT;
	else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
		r = ERR_NOT_FOUND;
	if (r == 0) {
		memcpy(p->sender, sender, EVM_ADDR_LEN);
		p->nonce = get_i64(res, 0, 2);
		p->unsigned_len = 0;
		p->gap_fill = 0;
		*gap = strcmp(PQgetvalue(res, 0, 3), "0") != 0;
	}
	PQclear(res);
	return r;
}
