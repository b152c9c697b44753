/*
 * test_store.c: store.c and the schema's SQL functions against a real
 * PostgreSQL (tests/integration/orch_store.sh starts one and sets
 * PG_CONNINFO; without it every test is skipped).  Each test works on
 * request ids of its own, so the order of tests does not matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/db.h"
#include "orchestratord/migrate.h"
#include "orchestratord/store.h"

static const char *conninfo;
static int test_round;		/* makes ids unique across runs of one db */

static struct db *
open_db(void)
{
	struct db *d = NULL;

	assert_int_equal(db_open(&d, conninfo, store_stmts, store_nstmts), 0);
	return d;
}

/* One SQL statement's first value (for checks the store has no call for). */
static long long
sql_value(struct db *d, const char *sql)
{
	PGresult *res;
	long long v;

	assert_int_equal(db_exec_sql(d, &res, sql), 0);
	assert_int_equal(PQntuples(res), 1);
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static void
make_new(struct payout_new *n, const char *id, const char *sender,
    enum payout_status st, int required, int timelock)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->request_id, sizeof(n->request_id), "r%d-%s", test_round,
	    id);
	snprintf(n->asset, sizeof(n->asset), "ETH");
	n->chain_id = 1337;
	assert_int_equal(evm_addr_from_str(n->sender, sender, 1), 0);
	assert_int_equal(evm_addr_from_str(n->recipient,
	    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0), 0);
	u256_from_u64(&n->amount, 1000);
	n->status = st;
	n->approvals_required = required;
	n->needs_timelock = timelock;
}

/*
 * The tests name addresses as text (they go into SQL checks too); the
 * store takes and gives bytes.
 */
static void
addr_of(uint8_t out[EVM_ADDR_LEN], const char *s)
{
	assert_int_equal(evm_addr_from_str(out, s, 1), 0);
}

static int
is_sender(const struct payout *p, const char *s)
{
	uint8_t a[EVM_ADDR_LEN];

	addr_of(a, s);
	return memcmp(p->sender, a, EVM_ADDR_LEN) == 0;
}

static int
seed_nonce(struct db *d, const char *sender, uint64_t chain, uint64_t nonce)
{
	uint8_t a[EVM_ADDR_LEN];

	addr_of(a, sender);
	return store_seed_nonce(d, a, chain, nonce);
}

static int
move_sender(struct db *d, struct payout *p, const char *sender,
    int fill_after_ms, int *gap)
{
	uint8_t a[EVM_ADDR_LEN];

	addr_of(a, sender);
	return store_move_sender(d, p, a, fill_after_ms, gap);
}

static void
assert_amount(const struct payout *p, uint64_t want)
{
	u256 w;

	u256_from_u64(&w, want);
	assert_int_equal(u256_cmp(&p->amount, &w), 0);
}

/* A sender address of this test's own, so nonce counters do not mix. */
static void
sender_for(char out[EVM_ADDR_STR], int k)
{
	snprintf(out, EVM_ADDR_STR, "0x%08d%032d", test_round, k);
}

static int
setup(void **state)
{
	(void)state;
	if (conninfo == NULL)
		skip();
	return 0;
}

static void
test_migrate_idempotent(void **state)
{
	struct db *d = NULL;
	char err[512], saved[65], sql[200];
	PGresult *res;

	(void)state;
	if (conninfo == NULL)
		skip();
	assert_int_equal(db_open(&d, conninfo, NULL, 0), 0);
	assert_int_equal(orch_migrate(d, err, sizeof(err)), 0);
	assert_int_equal(orch_migrate(d, err, sizeof(err)), 0);
	assert_int_equal(orch_schema_current(d, err, sizeof(err)), 0);
	/* An edited applied migration is refused, naming it. */
	assert_int_equal(db_exec_sql(d, &res, "SELECT sha256 FROM "
	    "schema_migrations WHERE name = '001_payouts.sql'"), 0);
	snprintf(saved, sizeof(saved), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	assert_int_equal(sql_value(d, "UPDATE schema_migrations SET sha256 = "
	    "'00' WHERE name = '001_payouts.sql' RETURNING 1"), 1);
	assert_int_not_equal(orch_migrate(d, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "001_payouts.sql"));
	assert_int_not_equal(orch_schema_current(d, err, sizeof(err)), 0);
	snprintf(sql, sizeof(sql), "UPDATE schema_migrations SET sha256 = "
	    "'%s' WHERE name = '001_payouts.sql' RETURNING 1", saved);
	assert_int_equal(sql_value(d, sql), 1);
	assert_int_equal(orch_schema_current(d, err, sizeof(err)), 0);
	db_close(d);
}

static void
test_create_idempotent_and_conflict(void **state)
{
	struct payout_new n;
	struct payout p, q;
	struct db *d = open_db();
	char sql[256], sender[EVM_ADDR_STR];
	int created;

	(void)state;
	sender_for(sender, 1);
	make_new(&n, "create-1", sender, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(p.status, PS_APPROVED);
	assert_amount(&p, 1000);
	assert_int_equal(p.nonce, -1);
	/* The same body again: the same payout, not created again. */
	assert_int_equal(store_create(d, &n, &q, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(q.id, p.id);
	/* Another body under the id: a conflict, nothing written. */
	u256_from_u64(&n.amount, 1001);
	assert_int_equal(store_create(d, &n, &q, &created), STORE_CONFLICT);
	assert_int_equal(created, 0);
	assert_amount(&q, 1000);
	/* Created + Approved, in that order, exactly once. */
	snprintf(sql, sizeof(sql), "SELECT string_agg(event, ',' ORDER BY id) "
	    "= 'PayoutRequestCreated,PayoutRequestApproved' FROM outbox "
	    "WHERE payout_id = %lld", (long long)p.id);
	{
		PGresult *res;

		assert_int_equal(db_exec_sql(d, &res, sql), 0);
		assert_string_equal(PQgetvalue(res, 0, 0), "t");
		PQclear(res);
	}
	/* A risk-check refusal is stored with its event. */
	make_new(&n, "create-2", sender, PS_REJECTED, 0, 0);
	snprintf(n.reason_code, sizeof(n.reason_code), "PER_TX_LIMIT");
	snprintf(n.reason, sizeof(n.reason), "above the per-tx limit");
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(p.status, PS_REJECTED);
	assert_string_equal(p.reason_code, "PER_TX_LIMIT");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE "
	    "payout_id = %lld AND event = 'RiskCheckRejected'",
	    (long long)p.id);
	assert_int_equal(sql_value(d, sql), 1);
	assert_int_equal(store_get(d, "no-such-id", &q), ERR_NOT_FOUND);
	db_close(d);
}

/*
 * The binary model's SQL edge: addresses and amounts go in as bytes and
 * u256, are stored as EIP-55 and decimal text, and come back equal; a
 * stored value that does not parse is ERR_INTERNAL, never a payout.
 */
static void
test_bad_stored_row(void **state)
{
	static const char *const bad[] = {
		"0x70997970c51812dc3A010C7d01b50e0d17dc79C8",	/* checksum */
		"0x7099",
		"",
		"0x70997970C51812dc3A010C7d01b50e0d17dc79C8'",
	};
	const char *cols[] = { "sender", "recipient" };
	struct payout_new n;
	struct payout p, q;
	struct db *d = open_db();
	char sql[400], sender[EVM_ADDR_STR], want[EVM_ADDR_STR];
	PGresult *res;
	size_t i, c;
	int created;

	(void)state;
	sender_for(sender, 44);
	/* REJECTED: no claim of another test takes it. */
	make_new(&n, "bin-edge", sender, PS_REJECTED, 0, 0);
	assert_int_equal(u256_from_dec(&n.amount, "11579208923731619542357098"
	    "5008687907853269984665640564039457584007913129639935"), 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(created, 1);
	assert_memory_equal(p.recipient, n.recipient, EVM_ADDR_LEN);
	assert_memory_equal(p.sender, n.sender, EVM_ADDR_LEN);
	assert_int_equal(u256_cmp(&p.amount, &n.amount), 0);
	/* Stored as text, EIP-55 and decimal, as before the binary model. */
	snprintf(sql, sizeof(sql), "SELECT recipient, amount::text FROM "
	    "payouts WHERE id = %lld", (long long)p.id);
	assert_int_equal(db_exec_sql(d, &res, sql), 0);
	evm_addr_to_str(want, n.recipient);
	assert_string_equal(PQgetvalue(res, 0, 0), want);
	assert_string_equal(PQgetvalue(res, 0, 1), "11579208923731619542357098"
	    "5008687907853269984665640564039457584007913129639935");
	PQclear(res);
	for (c = 0; c < 2; c++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(sql, sizeof(sql), "UPDATE payouts SET %s = "
			    "$q$%s$q$ WHERE id = %lld RETURNING 1", cols[c],
			    bad[i], (long long)p.id);
			assert_int_equal(sql_value(d, sql), 1);
			assert_int_equal(store_get(d, n.request_id, &q),
			    ERR_INTERNAL);
		}
		/* Put it back: other tests list every payout. */
		evm_addr_to_str(want, c == 0 ? n.sender : n.recipient);
		snprintf(sql, sizeof(sql), "UPDATE payouts SET %s = '%s' "
		    "WHERE id = %lld RETURNING 1", cols[c], want,
		    (long long)p.id);
		assert_int_equal(sql_value(d, sql), 1);
		assert_int_equal(store_get(d, n.request_id, &q), 0);
	}
	/* A lowercase address (no checksum) is still the same address. */
	snprintf(sql, sizeof(sql), "UPDATE payouts SET recipient = "
	    "lower(recipient) WHERE id = %lld RETURNING 1", (long long)p.id);
	assert_int_equal(sql_value(d, sql), 1);
	assert_int_equal(store_get(d, n.request_id, &q), 0);
	assert_memory_equal(q.recipient, n.recipient, EVM_ADDR_LEN);
	db_close(d);
}

static void
test_approvals_threshold(void **state)
{
	struct payout_new n;
	struct pol_approval a;
	struct payout p;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR];
	int created;

	(void)state;
	sender_for(sender, 2);
	make_new(&n, "appr-1", sender, PS_PENDING_APPROVAL, 2, 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	memset(&a, 0, sizeof(a));
	snprintf(a.approver, sizeof(a.approver), "alice");
	a.expiry = 4000000000u;
	a.sig_len = 3;
	memcpy(a.sig, "\x01\x02\x03", 3);
	assert_int_equal(store_add_approval(d, n.request_id, &a, &p), 0);
	assert_int_equal(p.status, PS_PENDING_APPROVAL);
	assert_int_equal(p.approvals, 1);
	/* One vote per approver. */
	assert_int_equal(store_add_approval(d, n.request_id, &a, &p),
	    STORE_CONFLICT);
	snprintf(a.approver, sizeof(a.approver), "bob");
	assert_int_equal(store_add_approval(d, n.request_id, &a, &p), 0);
	assert_int_equal(p.status, PS_APPROVED);
	assert_int_equal(p.approvals, 2);
	/* Approved: no more votes. */
	snprintf(a.approver, sizeof(a.approver), "carol");
	assert_int_equal(store_add_approval(d, n.request_id, &a, &p),
	    STORE_CONFLICT);
	{
		struct pol_approval got[4];
		int64_t id = p.id;
		size_t k;

		assert_int_equal(store_add_approval(d, "nope", &a, &p),
		    ERR_NOT_FOUND);
		assert_int_equal(store_approvals(d, id, got, 4, &k), 0);
		assert_int_equal(k, 2);
		assert_int_equal(got[0].sig_len, 3);
		assert_memory_equal(got[0].sig, "\x01\x02\x03", 3);
	}
	db_close(d);
}

/* Two approvers voting at the same moment must both count. */
struct vote_arg {
	int who;
	int n;
};

static void *
vote_thread(void *p)
{
	struct vote_arg *va = p;
	struct pol_approval a;
	struct payout out;
	struct db *d = NULL;
	char id[64];
	int i, r;

	if (db_open(&d, conninfo, store_stmts, store_nstmts) != 0)
		return (void *)1;
	memset(&a, 0, sizeof(a));
	snprintf(a.approver, sizeof(a.approver), "%s", va->who ? "bob" :
	    "alice");
	a.expiry = 4000000000u;
	a.sig_len = 1;
	for (i = 0; i < va->n; i++) {
		snprintf(id, sizeof(id), "r%d-race-%d", test_round, i);
		if ((r = store_add_approval(d, id, &a, &out)) != 0) {
			db_close(d);
			return (void *)2;
		}
	}
	db_close(d);
	return NULL;
}

static void
test_concurrent_approvals(void **state)
{
	struct vote_arg va[2] = { { 0, 40 }, { 1, 40 } };
	struct payout_new n;
	struct payout p;
	pthread_t t[2];
	struct db *d = open_db();
	char sender[EVM_ADDR_STR], id[32], sql[160];
	void *rv;
	int i, created;

	(void)state;
	sender_for(sender, 3);
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "race-%d", i);
		make_new(&n, id, sender, PS_PENDING_APPROVAL, 2, 0);
		assert_int_equal(store_create(d, &n, &p, &created), 0);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, vote_thread,
		    &va[i]), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM payouts WHERE "
	    "request_id LIKE 'r%d-race-%%' AND status = 'APPROVED'",
	    test_round);
	assert_int_equal(sql_value(d, sql), 40);
	db_close(d);
}

static void
test_claim_nonces_and_handback(void **state)
{
	struct payout_new n;
	struct payout p, c[4];
	struct db *d = open_db();
	char sender[EVM_ADDR_STR], id[32], sql[200];
	int i, created;

	(void)state;
	sender_for(sender, 4);
	assert_int_equal(seed_nonce(d, sender, 1337, 7), 0);
	/* Seeding lower never lowers the counter. */
	assert_int_equal(seed_nonce(d, sender, 1337, 3), 0);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "claim-%d", i);
		make_new(&n, id, sender, PS_APPROVED, 0, 0);
		assert_int_equal(store_create(d, &n, &p, &created), 0);
	}
	/* Other tests' rows may be claimable too: claim until ours are. */
	for (i = 0; i < 3;) {
		assert_int_equal(store_claim(d, "w1", 60000, NULL, 0, &p), 0);
		if (!is_sender(&p, sender))
			continue;
		assert_int_equal(p.status, PS_SIGNING);
		assert_int_equal(p.nonce, 7 + i);
		assert_true(p.lease_epoch >= 1);
		c[i++] = p;
	}
	/* The newest refused: the counter goes back. */
	assert_int_equal(store_fail(d, &c[2], "DAILY_LIMIT", "over"), 0);
	snprintf(sql, sizeof(sql), "SELECT next_nonce FROM sender_nonces "
	    "WHERE sender = '%s'", sender);
	assert_int_equal(sql_value(d, sql), 9);
	/* An older one refused: its nonce waits for the next claim. */
	assert_int_equal(store_fail(d, &c[0], "DAILY_LIMIT", "over"), 0);
	assert_int_equal(sql_value(d, sql), 9);
	assert_int_equal(store_get(d, c[0].request_id, &p), 0);
	assert_int_equal(p.status, PS_FAILED);
	assert_int_equal(p.nonce, -1);
	assert_string_equal(p.reason_code, "DAILY_LIMIT");
	/* Failing twice, or under an old epoch, changes nothing. */
	assert_int_equal(store_fail(d, &c[0], "X", "y"), STORE_CONFLICT);
	make_new(&n, "claim-next", sender, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	for (;;) {
		assert_int_equal(store_claim(d, "w1", 60000, NULL, 0, &p), 0);
		if (is_sender(&p, sender))
			break;
	}
	assert_int_equal(p.nonce, 7);
	/* Then 8 is still c[1]'s: failing it now is not the newest (9 is
	 * free again).  8 is the newest used: the counter drops to 8 and
	 * past nothing else. */
	assert_int_equal(store_fail(d, &c[1], "X", "y"), 0);
	assert_int_equal(sql_value(d, sql), 8);
	db_close(d);
}

static void
test_epoch_fences_stale_worker(void **state)
{
	struct payout_new n;
	struct payout p, old, again;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR];
	uint8_t tx[3] = { 2, 1, 0 }, hash[32];
	u256 fee;
	int created;

	(void)state;
	sender_for(sender, 5);
	assert_int_equal(seed_nonce(d, sender, 1337, 0), 0);
	make_new(&n, "fence", sender, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	for (;;) {
		assert_int_equal(store_claim(d, "slow", 1, NULL, 0, &old), 0);
		if (is_sender(&old, sender))
			break;
	}
	u256_from_u64(&fee, 10);
	/* The unsigned transaction stored sets the sign day with it. */
	assert_int_equal(old.sign_day, 0);
	assert_int_equal(store_set_unsigned(d, &old, tx, sizeof(tx), 21000,
	    &fee, &fee), 0);
	assert_int_equal(old.sign_day, (uint32_t)sql_value(d, "SELECT (now() "
	    "AT TIME ZONE 'utc')::date - date '1970-01-01'"));
	usleep(20000);		/* the 1 ms lease has expired */
	for (;;) {
		assert_int_equal(store_claim(d, "fast", 60000, NULL, 0,
		    &again), 0);
		if (is_sender(&again, sender))
			break;
	}
	assert_int_equal(again.status, PS_SIGNING);
	assert_int_equal(again.nonce, old.nonce);	/* keeps its nonce */
	assert_int_equal(again.unsigned_len, sizeof(tx));	/* and its tx */
	assert_memory_equal(again.unsigned_tx, tx, sizeof(tx));
	assert_true(again.lease_epoch > old.lease_epoch);
	memset(hash, 0xab, sizeof(hash));
	hash[0] = (uint8_t)test_round;
	/* The stale worker can no longer move it. */
	assert_int_equal(store_signed(d, &old, tx, sizeof(tx), hash, &fee,
	    &fee, NULL), STORE_CONFLICT);
	assert_int_equal(store_release(d, &old, 10, "x"), STORE_CONFLICT);
	assert_int_equal(store_signed(d, &again, tx, sizeof(tx), hash, &fee,
	    &fee, NULL), 0);
	assert_int_equal(store_get(d, n.request_id, &p), 0);
	assert_int_equal(p.status, PS_SUBMITTED);
	db_close(d);
}

/*
 * The tracker's lease on request_id's SUBMITTED row into *out, giving
 * every other row it leased back in one statement.
 */
static void
lease_submitted(struct db *d, const char *request_id,
    struct store_submitted *out)
{
	static struct store_submitted got[64];
	int64_t ids[64], epochs[64];
	size_t i, k, m;
	int found = 0;

	do {
		assert_int_equal(store_claim_submitted(d, "t", 60000, got, 64,
		    &k), 0);
		for (i = m = 0; i < k; i++) {
			if (strcmp(got[i].p.request_id, request_id) == 0) {
				*out = got[i];
				found = 1;
			} else {
				ids[m] = got[i].p.id;
				epochs[m++] = got[i].p.lease_epoch;
			}
		}
		assert_int_equal(store_unlease(d, ids, epochs, m), 0);
	} while (!found && k > 0);
	assert_true(found);
}

static void
test_submitted_to_confirmed(void **state)
{
	static struct store_submitted row;
	struct payout_new n;
	struct payout p;
	struct store_receipt rc;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR], hs[STORE_HASH_STR], sql[200];
	uint8_t tx[4] = { 2, 9, 9, 9 }, hash[32];
	u256 fee;
	int created;

	(void)state;
	sender_for(sender, 6);
	assert_int_equal(seed_nonce(d, sender, 1337, 0), 0);
	make_new(&n, "track", sender, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	for (;;) {
		assert_int_equal(store_claim(d, "w", 60000, NULL, 0, &p), 0);
		if (is_sender(&p, sender))
			break;
	}
	memset(hash, 0xcd, sizeof(hash));
	hash[0] = (uint8_t)test_round;
	u256_from_u64(&fee, 5);
	/* signerd's receipt is kept with the version and shown with it. */
	rc.seq = 4242;
	memset(rc.hash, 0x5a, sizeof(rc.hash));
	rc.hash[31] = (uint8_t)test_round;
	assert_int_equal(store_signed(d, &p, tx, sizeof(tx), hash, &fee,
	    &fee, &rc), 0);
	hs[0] = '0';
	hs[1] = 'x';
	util_hex_encode(hs + 2, hash, 32);
	/* The tracker's lease, with the versions' hashes. */
	lease_submitted(d, n.request_id, &row);
	p = row.p;
	assert_int_equal(p.raw_len, sizeof(tx));
	assert_string_equal(p.tx_hash, hs);
	assert_int_equal(p.receipt.seq, 4242);
	assert_memory_equal(p.receipt.hash, rc.hash, sizeof(rc.hash));
	assert_int_equal(row.nversions, 1);
	assert_string_equal(row.versions[0], hs);
	assert_int_equal(store_broadcast(d, &p), 0);
	assert_int_equal(store_mined(d, &p, hs, 10, "0xbb", 1), 0);
	assert_int_equal(store_reorged(d, &p), 0);
	assert_int_equal(store_mined(d, &p, hs, 11, "0xcc", 2), 0);
	/* A hash that is not one of this payout's versions is refused. */
	assert_int_equal(store_mined(d, &p, "0x00", 11, "0xcc", 2),
	    STORE_CONFLICT);
	/* Not a version of this payout: nothing changes. */
	assert_int_equal(store_confirmed(d, &p, "0x00", 12, "0xdd", 3),
	    STORE_CONFLICT);
	assert_int_equal(store_confirmed(d, &p, hs, 12, "0xdd", 3), 0);
	assert_int_equal(store_confirmed(d, &p, hs, 12, "0xdd", 3),
	    STORE_CONFLICT);
	assert_int_equal(store_get(d, n.request_id, &p), 0);
	assert_int_equal(p.status, PS_CONFIRMED);
	assert_int_equal(p.block_number, 12);
	assert_string_equal(p.block_hash, "0xdd");
	assert_int_equal(p.confirmations, 3);
	snprintf(sql, sizeof(sql), "SELECT string_agg(event, ',' ORDER BY id) "
	    "= 'PayoutRequestCreated,PayoutRequestApproved,PayoutSubmitted,"
	    "PayoutReorged,PayoutConfirmed' FROM outbox WHERE payout_id = %lld",
	    (long long)p.id);
	{
		PGresult *res;

		assert_int_equal(db_exec_sql(d, &res, sql), 0);
		assert_string_equal(PQgetvalue(res, 0, 0), "t");
		PQclear(res);
	}
	db_close(d);
}

static void
test_timelock_queue_then_sign(void **state)
{
	struct payout_new n;
	struct payout p;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR];
	int created;

	(void)state;
	sender_for(sender, 7);
	assert_int_equal(seed_nonce(d, sender, 1337, 3), 0);
	make_new(&n, "tl", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	for (;;) {
		assert_int_equal(store_claim(d, "w", 60000, NULL, 0, &p), 0);
		if (is_sender(&p, sender))
			break;
	}
	/* Needs the timelock: leased, still APPROVED, no nonce yet. */
	assert_int_equal(p.status, PS_APPROVED);
	assert_int_equal(p.nonce, -1);
	assert_int_equal(store_queued(d, &p, 1), 0);	/* due long ago */
	assert_int_equal(store_get(d, n.request_id, &p), 0);
	assert_int_equal(p.status, PS_QUEUED);
	for (;;) {
		assert_int_equal(store_claim(d, "w", 60000, NULL, 0, &p), 0);
		if (is_sender(&p, sender))
			break;
	}
	assert_int_equal(p.status, PS_SIGNING);
	assert_int_equal(p.nonce, 3);
	/* Cancel is only before signing. */
	{
		enum payout_status from[] = { PS_PENDING_APPROVAL, PS_APPROVED,
		    PS_QUEUED };

		enum store_end_refusal why;

		assert_int_equal(store_end(d, n.request_id, from, 3,
		    PS_CANCELLED, 1, "CANCELLED", "by alice", &why, &p),
		    STORE_CONFLICT);
		assert_int_equal(why, STORE_END_STATE);
		assert_int_equal(p.status, PS_SIGNING);
		make_new(&n, "tl-cancel", sender, PS_PENDING_APPROVAL, 1, 1);
		assert_int_equal(store_create(d, &n, &p, &created), 0);
		assert_int_equal(store_end(d, n.request_id, from, 3,
		    PS_CANCELLED, 0, "CANCELLED", "by alice", &why, &p), 0);
		assert_int_equal(p.status, PS_CANCELLED);
		assert_int_equal(store_end(d, "none", from, 3, PS_CANCELLED, 0,
		    "C", "r", &why, &p), ERR_NOT_FOUND);
	}
	db_close(d);
}

/* Claims until one of sender's rows comes (other tests' rows may too). */
static void
claim_own(struct db *d, const char *sender, int lease_ms, struct payout *p)
{
	for (;;) {
		assert_int_equal(store_claim(d, "w", lease_ms, NULL, 0, p), 0);
		if (is_sender(p, sender))
			return;
	}
}

/*
 * Issue 13: one statement claims several payouts, each as a claim of one
 * would (SIGNING, the sender's next nonces in order, its own lease); a
 * batch never takes more than asked, and asking for 0 or more than
 * STORE_CLAIM_MAX is refused before PostgreSQL sees it.
 */
static void
test_claim_many(void **state)
{
	static struct payout got[STORE_CLAIM_MAX];
	struct payout_new n;
	struct payout p;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR], id[16];
	int64_t nonces[3];
	size_t k, i, mine = 0;
	int created, largest = 0;

	(void)state;
	sender_for(sender, 43);
	assert_int_equal(seed_nonce(d, sender, 1337, 7), 0);
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "batch-%zu", i);
		make_new(&n, id, sender, PS_APPROVED, 0, 0);
		assert_int_equal(store_create(d, &n, &p, &created), 0);
	}
	assert_int_equal(store_claim_many(d, "b", 60000, NULL, 0, got, 0, &k),
	    ERR_INVALID_ARG);
	assert_int_equal(store_claim_many(d, "b", 60000, NULL, 0, got,
	    STORE_CLAIM_MAX + 1, &k), ERR_INVALID_ARG);
	while (mine < 3) {
		assert_int_equal(store_claim_many(d, "b", 60000, NULL, 0, got,
		    3, &k), 0);
		assert_true(k >= 1 && k <= 3);
		if ((int)k > largest)
			largest = (int)k;
		for (i = 0; i < k; i++) {
			if (!is_sender(&got[i], sender))
				continue;
			assert_int_equal(got[i].status, PS_SIGNING);
			nonces[mine++] = got[i].nonce;
		}
	}
	assert_int_equal(largest, 3);
	/* The counter's next three, in claim order. */
	assert_int_equal(nonces[0], 7);
	assert_int_equal(nonces[1], 8);
	assert_int_equal(nonces[2], 9);
	db_close(d);
}

/*
 * Issue 12: a payout's signerd requests all name one created day.  The
 * first store_sign_day sets PostgreSQL's UTC day; a retry, a claim by
 * another worker after the queue, and the tracker's fee bump read that
 * day back, never today's.  A stale lease cannot set it; 0 is no day.
 */
static void
test_sign_day_set_once(void **state)
{
	static struct store_submitted row;
	struct payout_new n;
	struct payout p, stale;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR], sql[200];
	uint8_t tx[3] = { 2, 4, 0 }, hash[32];
	long long today;
	u256 fee;
	int created;

	(void)state;
	sender_for(sender, 41);
	assert_int_equal(seed_nonce(d, sender, 1337, 0), 0);
	make_new(&n, "sign-day", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(p.sign_day, 0);	/* the API row: none yet */
	claim_own(d, sender, 60000, &p);
	assert_int_equal(p.status, PS_APPROVED);
	assert_int_equal(p.sign_day, 0);
	stale = p;
	today = sql_value(d, "SELECT (now() AT TIME ZONE 'utc')::date - "
	    "date '1970-01-01'");
	assert_int_equal(store_sign_day(d, &p), 0);
	assert_int_equal(p.sign_day, (uint32_t)today);
	/* A day from before (as if created long ago): kept from now on. */
	snprintf(sql, sizeof(sql), "UPDATE payouts SET sign_day = 20000 WHERE "
	    "id = %lld RETURNING 1", (long long)p.id);
	assert_int_equal(sql_value(d, sql), 1);
	assert_int_equal(store_sign_day(d, &p), 0);
	assert_int_equal(p.sign_day, 20000);
	/* The CHECK: no row holds day 0. */
	snprintf(sql, sizeof(sql), "UPDATE payouts SET sign_day = 0 WHERE "
	    "id = %lld", (long long)p.id);
	{
		PGresult *res = NULL;

		assert_int_not_equal(db_exec_sql(d, &res, sql), 0);
		PQclear(res);
	}
	/* Queued, then claimed again: the claim carries the day. */
	assert_int_equal(store_queued(d, &p, 1), 0);
	claim_own(d, sender, 60000, &p);
	assert_int_equal(p.status, PS_SIGNING);
	assert_int_equal(p.sign_day, 20000);
	/* An old lease neither sets nor reads it. */
	stale.sign_day = 0;
	assert_int_equal(store_sign_day(d, &stale), STORE_CONFLICT);
	assert_int_equal(stale.sign_day, 0);
	/* Signed, then the tracker's lease: the bump names the same day. */
	memset(hash, 0x4d, sizeof(hash));
	hash[0] = (uint8_t)test_round;
	u256_from_u64(&fee, 5);
	assert_int_equal(store_signed(d, &p, tx, sizeof(tx), hash, &fee, &fee,
	    NULL), 0);
	lease_submitted(d, n.request_id, &row);
	p = row.p;
	assert_int_equal(p.sign_day, 20000);
	assert_int_equal(store_sign_day(d, &p), 0);
	assert_int_equal(p.sign_day, 20000);
	assert_int_equal(store_get(d, n.request_id, &p), 0);
	assert_int_equal(p.sign_day, 20000);
	db_close(d);
}

/*
 * Issue 15: an approver's reject or cancel never ends a payout that
 * signerd may hold queued, unless signerd has cancelled it; and a worker
 * whose QUEUE_REQ signerd answered after its lease passed on records what
 * signerd holds instead of dropping it.
 */
static void
test_end_fenced_by_queue(void **state)
{
	static const enum payout_status open[] = { PS_PENDING_APPROVAL,
	    PS_APPROVED };
	static const enum payout_status in_signerd[] = { PS_APPROVED,
	    PS_QUEUED };
	enum store_end_refusal why;
	struct payout_new n;
	struct payout p, w, w2;
	struct db *d = open_db();
	char sender[EVM_ADDR_STR];
	int created;

	(void)state;
	sender_for(sender, 9);
	assert_int_equal(seed_nonce(d, sender, 1337, 0), 0);

	/* Leased by a worker, not yet sent: BUSY, the worker goes on. */
	make_new(&n, "fq-busy", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	claim_own(d, sender, 60000, &w);
	assert_int_equal(w.status, PS_APPROVED);
	assert_int_equal(w.queue_sent, 0);
	assert_int_equal(store_end(d, n.request_id, open, 2, PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", "no", &why, &p), STORE_CONFLICT);
	assert_int_equal(why, STORE_END_BUSY);
	assert_int_equal(p.status, PS_APPROVED);
	/* Sent: refused as IN_SIGNERD, also once the lease is given up. */
	assert_int_equal(store_queue_sent(d, &w), 0);
	assert_int_equal(store_release(d, &w, 0, "signerd down"), 0);
	assert_int_equal(store_end(d, n.request_id, open, 2, PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", "no", &why, &p), STORE_CONFLICT);
	assert_int_equal(why, STORE_END_IN_SIGNERD);
	assert_int_equal(p.queue_sent, 1);
	assert_int_equal(store_end(d, n.request_id, open, 2, PS_CANCELLED, 0,
	    "CANCELLED_BY_APPROVER", "no", &why, &p), STORE_CONFLICT);
	assert_int_equal(why, STORE_END_IN_SIGNERD);
	/* Once signerd cancelled it, the cancel is stored; the worker is out. */
	claim_own(d, sender, 60000, &w);
	assert_int_equal(store_end(d, n.request_id, in_signerd, 2,
	    PS_CANCELLED, 1, "CANCELLED_BY_APPROVER", "by carol", &why, &p), 0);
	assert_int_equal(p.status, PS_CANCELLED);
	assert_int_equal(store_queued(d, &w, 1), STORE_CONFLICT);
	assert_int_equal(store_queued_late(d, &w, 1), STORE_CONFLICT);
	assert_int_equal(store_release(d, &w, 0, "x"), STORE_CONFLICT);

	/* Not yet leased and never sent: ends here alone. */
	make_new(&n, "fq-free", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(store_end(d, n.request_id, open, 2, PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", "no", &why, &p), 0);
	assert_int_equal(p.status, PS_REJECTED);

	/* signerd refused the queue (it answered): the mark is undone. */
	make_new(&n, "fq-unsent", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	claim_own(d, sender, 60000, &w);
	assert_int_equal(store_queue_sent(d, &w), 0);
	assert_int_equal(store_queue_unsent(d, &w), 0);
	assert_int_equal(store_release(d, &w, 0, "signerd paused"), 0);
	assert_int_equal(store_end(d, n.request_id, open, 2, PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", "no", &why, &p), 0);
	/* And a worker whose row was ended first sends nothing. */
	assert_int_equal(store_queue_sent(d, &w), STORE_CONFLICT);

	/* Queued in signerd after the lease passed on: recorded anyway. */
	make_new(&n, "fq-late", sender, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	claim_own(d, sender, 1, &w);
	assert_int_equal(store_queue_sent(d, &w), 0);
	usleep(20000);		/* the 1 ms lease has expired */
	claim_own(d, sender, 60000, &w2);
	assert_true(w2.lease_epoch > w.lease_epoch);
	assert_int_equal(w2.queue_sent, 1);
	assert_int_equal(store_queued(d, &w, 1), STORE_CONFLICT);
	assert_int_equal(store_queued_late(d, &w, 1), 0);
	assert_int_equal(store_get(d, n.request_id, &p), 0);
	assert_int_equal(p.status, PS_QUEUED);
	/* The holder of the new lease finds it done. */
	assert_int_equal(store_queued(d, &w2, 1), STORE_CONFLICT);
	assert_int_equal(store_queued_late(d, &w2, 1), STORE_CONFLICT);
	/* A QUEUED payout is ended only through signerd. */
	assert_int_equal(store_end(d, n.request_id, in_signerd, 2,
	    PS_CANCELLED, 0, "CANCELLED_BY_APPROVER", "no", &why, &p),
	    STORE_CONFLICT);
	assert_int_equal(why, STORE_END_IN_SIGNERD);
	db_close(d);
}

/* Many workers, many payouts: each claimed once, nonces contiguous. */
#define RACE_PAYOUTS 200
#define RACE_WORKERS 4
static char race_sender[EVM_ADDR_STR];
static int claimed_by[RACE_PAYOUTS];
static pthread_mutex_t claimed_mu = PTHREAD_MUTEX_INITIALIZER;

static void *
claim_thread(void *arg)
{
	struct payout p;
	struct db *d = NULL;
	char worker[16];
	uint8_t tx[2] = { 2, 0 }, hash[32];
	u256 fee;
	int idle = 0, r;

	snprintf(worker, sizeof(worker), "w%d", (int)(intptr_t)arg);
	if (db_open(&d, conninfo, store_stmts, store_nstmts) != 0)
		return (void *)1;
	u256_from_u64(&fee, 1);
	while (idle < 3) {
		r = store_claim(d, worker, 60000, NULL, 0, &p);
		if (r == ERR_NOT_FOUND) {
			idle++;
			usleep(10000);
			continue;
		}
		if (r != 0 || p.status != PS_SIGNING) {
			db_close(d);
			return (void *)2;
		}
		if (!is_sender(&p, race_sender)) {
			if (store_release(d, &p, 0, "not ours") != 0)
				break;
			continue;
		}
		idle = 0;
		pthread_mutex_lock(&claimed_mu);
		if (p.nonce >= 0 && p.nonce < RACE_PAYOUTS)
			claimed_by[p.nonce]++;
		pthread_mutex_unlock(&claimed_mu);
		memset(hash, 0, sizeof(hash));
		hash[0] = (uint8_t)test_round;
		hash[1] = (uint8_t)(p.nonce >> 8);
		hash[2] = (uint8_t)p.nonce;
		hash[3] = 0x77;
		if (store_signed(d, &p, tx, sizeof(tx), hash, &fee, &fee,
		    NULL) != 0) {
			db_close(d);
			return (void *)3;
		}
	}
	db_close(d);
	return NULL;
}

/*
 * Key rotation (D54): a payout not signed moves to the new key's address
 * in one statement: its old nonce handed back (the counter goes back,
 * past handed-back nonces just below; or a gap when later nonces exist),
 * the new sender's next nonce taken (a handed-back one first), the
 * unsigned transaction dropped; nothing moves to an address without a
 * counter, under an old epoch, or once signed.
 */
static void
test_move_sender(void **state)
{
	struct payout_new n;
	struct payout a, b, c, t, p, stale;
	struct db *d = open_db();
	char old[EVM_ADDR_STR], new[EVM_ADDR_STR], sql[300];
	uint8_t tx[4] = { 2, 1, 2, 3 }, hash[32];
	u256 fee;
	int created, gap;

	(void)state;
	u256_from_u64(&fee, 5);
	sender_for(old, 11);
	sender_for(new, 12);
	assert_int_equal(seed_nonce(d, old, 1337, 10), 0);
	make_new(&n, "mv-a", old, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &a, &created), 0);
	claim_own(d, old, 60000, &a);
	assert_int_equal(a.nonce, 10);
	assert_int_equal(store_set_unsigned(d, &a, tx, sizeof(tx), 21000, &fee,
	    &fee), 0);
	/* The new address has no counter yet: nothing changes. */
	stale = a;
	stale.lease_epoch--;
	assert_int_equal(move_sender(d, &a, new, 0, &gap), ERR_NOT_FOUND);
	assert_true(is_sender(&a, old));
	assert_int_equal(a.nonce, 10);
	snprintf(sql, sizeof(sql), "SELECT next_nonce FROM sender_nonces "
	    "WHERE sender = '%s'", old);
	assert_int_equal(sql_value(d, sql), 11);

	/* Seeded: a moves, nonce 10 goes back (it was the newest). */
	assert_int_equal(seed_nonce(d, new, 1337, 3), 0);
	assert_int_equal(move_sender(d, &a, new, 0, &gap), 0);
	assert_int_equal(gap, 0);
	assert_true(is_sender(&a, new));
	assert_int_equal(a.nonce, 3);
	assert_int_equal(a.unsigned_len, 0);
	assert_int_equal(sql_value(d, sql), 10);
	assert_int_equal(store_get(d, a.request_id, &p), 0);
	assert_true(is_sender(&p, new));
	assert_int_equal(p.nonce, 3);
	assert_int_equal(p.status, PS_SIGNING);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM payouts WHERE id = "
	    "%lld AND unsigned_tx IS NULL AND gas_limit IS NULL",
	    (long long)a.id);
	assert_int_equal(sql_value(d, sql), 1);
	/* Again, or with the same sender: nothing to do. */
	assert_int_equal(move_sender(d, &a, new, 0, &gap),
	    STORE_CONFLICT);

	/* b (10) and c (11): moving b leaves a gap below c. */
	make_new(&n, "mv-b", old, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &b, &created), 0);
	make_new(&n, "mv-c", old, PS_APPROVED, 0, 0);
	assert_int_equal(store_create(d, &n, &c, &created), 0);
	claim_own(d, old, 60000, &b);
	claim_own(d, old, 60000, &c);
	assert_int_equal(b.nonce, 10);
	assert_int_equal(c.nonce, 11);
	assert_int_equal(move_sender(d, &b, new, 0, &gap), 0);
	assert_int_equal(gap, 1);
	assert_int_equal(b.nonce, 4);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM nonce_gaps WHERE "
	    "sender = '%s' AND nonce = 10", old);
	assert_int_equal(sql_value(d, sql), 1);
	/* A nonce handed back on the new sender is taken first. */
	snprintf(sql, sizeof(sql), "INSERT INTO nonce_gaps VALUES ('%s', 1337, "
	    "1) RETURNING 1", new);
	assert_int_equal(sql_value(d, sql), 1);
	assert_int_equal(move_sender(d, &c, new, 0, &gap), 0);
	assert_int_equal(gap, 0);
	assert_int_equal(c.nonce, 1);
	/* 11 was the newest: the counter goes back past 10 too. */
	snprintf(sql, sizeof(sql), "SELECT next_nonce FROM sender_nonces "
	    "WHERE sender = '%s'", old);
	assert_int_equal(sql_value(d, sql), 10);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM nonce_gaps WHERE "
	    "sender = '%s'", old);
	assert_int_equal(sql_value(d, sql), 0);
	snprintf(sql, sizeof(sql), "SELECT next_nonce FROM sender_nonces "
	    "WHERE sender = '%s'", new);
	assert_int_equal(sql_value(d, sql), 5);

	/* Under an old epoch, or once signed: never. */
	assert_int_equal(move_sender(d, &stale, old, 0, &gap),
	    STORE_CONFLICT);
	memset(hash, 0xe1, sizeof(hash));
	hash[0] = (uint8_t)test_round;
	assert_int_equal(store_signed(d, &a, tx, sizeof(tx), hash, &fee, &fee,
	    NULL), 0);
	assert_int_equal(move_sender(d, &a, old, 0, &gap),
	    STORE_CONFLICT);

	/* Timelocked and APPROVED: no nonce to hand back or take. */
	make_new(&n, "mv-t", old, PS_APPROVED, 0, 1);
	assert_int_equal(store_create(d, &n, &t, &created), 0);
	claim_own(d, old, 60000, &t);
	assert_int_equal(t.status, PS_APPROVED);
	assert_int_equal(move_sender(d, &t, new, 0, &gap), 0);
	assert_int_equal(t.nonce, -1);
	assert_true(is_sender(&t, new));
	assert_int_equal(sql_value(d, sql), 5);
	db_close(d);
}

/*
 * Claims until one of chain's payouts comes (rows of other tests are
 * given back for a minute), with the retired senders given.
 */
static void
claim_chain(struct db *d, uint64_t chain, const char (*retired)[EVM_ADDR_STR],
    size_t nretired, struct payout *p)
{
	uint8_t bin[STORE_RETIRED_MAX][EVM_ADDR_LEN];
	size_t i;

	assert_true(nretired <= STORE_RETIRED_MAX);
	for (i = 0; i < nretired; i++)
		addr_of(bin[i], retired[i]);
	for (;;) {
		assert_int_equal(store_claim(d, "w", 60000, bin, nretired,
		    p), 0);
		if (p->chain_id == chain)
			return;
		assert_int_equal(store_release(d, p, 60000, "not ours"), 0);
	}
}

/* A payout of sender on chain, created APPROVED. */
static void
make_on(struct db *d, const char *id, const char *sender, uint64_t chain)
{
	struct payout_new n;
	struct payout p;
	int created;

	make_new(&n, id, sender, PS_APPROVED, 0, 0);
	n.chain_id = chain;
	assert_int_equal(store_create(d, &n, &p, &created), 0);
	assert_int_equal(created, 1);
}

/* Signs p (SIGNING, under its epoch) with a transaction of its own. */
static void
sign_it(struct db *d, const struct payout *p, int k)
{
	uint8_t tx[4] = { 2, 7, 7, 7 }, hash[32];
	u256 fee;

	u256_from_u64(&fee, 5);
	memset(hash, 0x5a, sizeof(hash));
	hash[0] = (uint8_t)(test_round >> 8);
	hash[1] = (uint8_t)test_round;
	hash[2] = (uint8_t)k;
	assert_int_equal(store_signed(d, p, tx, sizeof(tx), hash, &fee, &fee,
	    NULL), 0);
}

/*
 * Key rotation (D54): holes of a retired sender are filled with it.  The
 * old sender signed 0 and 3, handed 2 and 4 back (failed), and holds 1
 * and 5 unsigned.  Once it is retired, a claim gives a payout of the new
 * sender the hole 2 (below 3) with the old sender, never 4 (above every
 * signed nonce: harmless); a payout holding 1 is a gap fill, one holding
 * 5 is not.  Not retired, no hole is taken for another sender.  A hole a
 * refused gap fill handed back waits its fill_after; a hole becomes one
 * to fill when a higher nonce gets signed.
 */
static void
test_claim_fills_retired_gap(void **state)
{
	struct payout o[6], p, z;
	struct db *d = open_db();
	char old[1][EVM_ADDR_STR], new[EVM_ADDR_STR], sql[300], gaps[300];
	char id[32];
	static const uint8_t many[STORE_RETIRED_MAX + 1][EVM_ADDR_LEN];
	uint64_t chain = 5000000 + (uint64_t)test_round;
	int i, gap;

	(void)state;
	sender_for(old[0], 21);
	sender_for(new, 22);
	assert_int_equal(seed_nonce(d, old[0], chain, 0), 0);
	assert_int_equal(seed_nonce(d, new, chain, 0), 0);
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "rg-o%d", i);
		make_on(d, id, old[0], chain);
	}
	for (i = 0; i < 6; i++) {
		claim_chain(d, chain, NULL, 0, &o[i]);
		assert_int_equal(o[i].nonce, i);
		assert_int_equal(o[i].gap_fill, 0);
	}
	sign_it(d, &o[0], 0);
	sign_it(d, &o[3], 3);
	assert_int_equal(store_fail(d, &o[2], "DAILY_LIMIT", "over"), 0);
	assert_int_equal(store_fail(d, &o[4], "DAILY_LIMIT", "over"), 0);
	/* The old sender's holes as a bit mask: 2 and 4 are 0x14. */
	snprintf(gaps, sizeof(gaps), "SELECT coalesce(sum(1::bigint << "
	    "nonce::int), 0) FROM nonce_gaps WHERE sender = '%s' AND "
	    "chain_id = %llu",
	    old[0], (unsigned long long)chain);
	assert_int_equal(sql_value(d, gaps), 0x14);
	assert_int_equal(store_claim(d, "w", 1, many, STORE_RETIRED_MAX + 1,
	    &p), ERR_INVALID_ARG);

	/* The old key still named: a new sender's payout takes its own. */
	make_on(d, "rg-n0", new, chain);
	claim_chain(d, chain, NULL, 0, &z);
	assert_true(is_sender(&z, new));
	assert_int_equal(z.nonce, 0);
	assert_int_equal(z.gap_fill, 0);

	/* Retired: 1 is a hole below 3, 5 is above every signed nonce. */
	assert_int_equal(store_release(d, &o[1], 0, "retry"), 0);
	assert_int_equal(store_release(d, &o[5], 0, "retry"), 0);
	usleep(5000);
	claim_chain(d, chain, old, 1, &p);
	assert_string_equal(p.request_id, o[1].request_id);
	assert_int_equal(p.nonce, 1);
	assert_true(is_sender(&p, old[0]));
	assert_int_equal(p.gap_fill, 1);
	claim_chain(d, chain, old, 1, &o[5]);
	snprintf(id, sizeof(id), "r%d-rg-o5", test_round);
	assert_string_equal(o[5].request_id, id);
	assert_int_equal(o[5].nonce, 5);
	assert_int_equal(o[5].gap_fill, 0);

	/* A new payout takes hole 2 with the old sender, not 4. */
	make_on(d, "rg-n1", new, chain);
	claim_chain(d, chain, old, 1, &z);
	assert_int_equal(z.status, PS_SIGNING);
	assert_true(is_sender(&z, old[0]));
	assert_int_equal(z.nonce, 2);
	assert_int_equal(z.gap_fill, 1);
	assert_int_equal(store_get(d, z.request_id, &p), 0);
	assert_true(is_sender(&p, old[0]));
	assert_int_equal(p.nonce, 2);
	assert_int_equal(p.gap_fill, 1);
	assert_int_equal(sql_value(d, gaps), 0x10);
	make_on(d, "rg-n2", new, chain);
	claim_chain(d, chain, old, 1, &p);
	assert_true(is_sender(&p, new));
	assert_int_equal(p.nonce, 1);
	assert_int_equal(p.gap_fill, 0);
	assert_int_equal(sql_value(d, gaps), 0x10);

	/* signerd refused z's fill: it moves, and hole 2 waits. */
	assert_int_equal(move_sender(d, &z, new, 60000, &gap), 0);
	assert_int_equal(gap, 1);
	assert_true(is_sender(&z, new));
	assert_int_equal(z.nonce, 2);
	assert_int_equal(z.gap_fill, 0);
	assert_int_equal(store_get(d, z.request_id, &p), 0);
	assert_int_equal(p.gap_fill, 0);
	assert_int_equal(sql_value(d, gaps), 0x14);
	make_on(d, "rg-n3", new, chain);
	claim_chain(d, chain, old, 1, &p);
	assert_true(is_sender(&p, new));
	assert_int_equal(p.nonce, 3);
	snprintf(sql, sizeof(sql), "UPDATE nonce_gaps SET fill_after = now() - "
	    "interval '1 s' WHERE sender = '%s' AND chain_id = %llu AND "
	    "nonce = 2 RETURNING 1", old[0], (unsigned long long)chain);
	assert_int_equal(sql_value(d, sql), 1);
	make_on(d, "rg-n4", new, chain);
	claim_chain(d, chain, old, 1, &p);
	assert_true(is_sender(&p, old[0]));
	assert_int_equal(p.nonce, 2);
	assert_int_equal(p.gap_fill, 1);

	/* 5 signed: 4 is a hole below it now, and the next payout fills it. */
	sign_it(d, &o[5], 5);
	make_on(d, "rg-n5", new, chain);
	claim_chain(d, chain, old, 1, &p);
	assert_true(is_sender(&p, old[0]));
	assert_int_equal(p.nonce, 4);
	assert_int_equal(p.gap_fill, 1);
	assert_int_equal(sql_value(d, gaps), 0);
	/* None left: the new sender's next nonce. */
	make_on(d, "rg-n6", new, chain);
	claim_chain(d, chain, old, 1, &p);
	assert_true(is_sender(&p, new));
	assert_int_equal(p.nonce, 4);
	assert_int_equal(p.gap_fill, 0);
	db_close(d);
}

/* Workers claiming with a retired sender: its holes taken once each. */
#define HOLE_PAYOUTS 50
static uint64_t hole_chain;
static char hole_retired[1][EVM_ADDR_STR];

static void *
hole_thread(void *arg)
{
	uint8_t retired[1][EVM_ADDR_LEN];
	struct payout p;
	struct db *d = NULL;
	int idle = 0, r;

	(void)arg;
	if (evm_addr_from_str(retired[0], hole_retired[0], 1) != 0 ||
	    db_open(&d, conninfo, store_stmts, store_nstmts) != 0)
		return (void *)1;
	while (idle < 3) {
		r = store_claim(d, "hw", 60000, retired, 1, &p);
		if (r == ERR_NOT_FOUND) {
			idle++;
			usleep(10000);
			continue;
		}
		if (r != 0)
			break;
		idle = 0;
		if (p.chain_id != hole_chain &&
		    store_release(d, &p, 60000, "not ours") != 0)
			break;
	}
	db_close(d);
	return r == ERR_NOT_FOUND ? NULL : (void *)2;
}

/*
 * The old sender signed every odd nonce up to 39 and handed the even ones
 * back; retired, its 20 holes go to 20 of 50 new payouts claimed by 4
 * workers at once, each exactly once, and the other 30 take the new
 * sender's nonces 0..29.
 */
static void
test_concurrent_hole_claims(void **state)
{
	struct payout o[40];
	pthread_t t[RACE_WORKERS];
	struct db *d = open_db();
	char new[EVM_ADDR_STR], id[32], sql[400];
	void *rv;
	int i;

	(void)state;
	hole_chain = 6000000 + (uint64_t)test_round;
	sender_for(hole_retired[0], 31);
	sender_for(new, 32);
	assert_int_equal(seed_nonce(d, hole_retired[0], hole_chain, 0),
	    0);
	assert_int_equal(seed_nonce(d, new, hole_chain, 0), 0);
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "hole-o%d", i);
		make_on(d, id, hole_retired[0], hole_chain);
	}
	for (i = 0; i < 40; i++) {
		claim_chain(d, hole_chain, NULL, 0, &o[i]);
		assert_int_equal(o[i].nonce, i);
	}
	for (i = 0; i < 40; i++) {
		if (i % 2)
			sign_it(d, &o[i], 100 + i);
		else
			assert_int_equal(store_fail(d, &o[i], "X", "y"), 0);
	}
	for (i = 0; i < HOLE_PAYOUTS; i++) {
		snprintf(id, sizeof(id), "hole-n%d", i);
		make_on(d, id, new, hole_chain);
	}
	for (i = 0; i < RACE_WORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hole_thread, NULL),
		    0);
	for (i = 0; i < RACE_WORKERS; i++) {
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	/* Per sender: claimed, distinct nonces, lowest, highest, gap fills. */
	snprintf(sql, sizeof(sql), "SELECT count(*) * 1000000 + "
	    "count(DISTINCT nonce) * 10000 + min(nonce) * 100 + max(nonce) "
	    "FROM payouts WHERE chain_id = %llu AND status = 'SIGNING' AND "
	    "sender = '%s' AND gap_fill", (unsigned long long)hole_chain,
	    hole_retired[0]);
	assert_int_equal(sql_value(d, sql), 20 * 1000000 + 20 * 10000 + 38);
	snprintf(sql, sizeof(sql), "SELECT count(*) * 1000000 + "
	    "count(DISTINCT nonce) * 10000 + min(nonce) * 100 + max(nonce) "
	    "FROM payouts WHERE chain_id = %llu AND status = 'SIGNING' AND "
	    "sender = '%s' AND NOT gap_fill", (unsigned long long)hole_chain,
	    new);
	assert_int_equal(sql_value(d, sql), 30 * 1000000 + 30 * 10000 + 29);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM payouts WHERE "
	    "chain_id = %llu AND status = 'SIGNING' AND sender = '%s' AND "
	    "nonce %% 2 = 0",
	    (unsigned long long)hole_chain, hole_retired[0]);
	assert_int_equal(sql_value(d, sql), 20);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM nonce_gaps WHERE "
	    "chain_id = %llu", (unsigned long long)hole_chain);
	assert_int_equal(sql_value(d, sql), 0);
	db_close(d);
}

static void
test_concurrent_claims(void **state)
{
	struct payout_new n;
	struct payout p;
	pthread_t t[RACE_WORKERS];
	struct db *d = open_db();
	char id[32], sql[200];
	void *rv;
	int i, created;

	(void)state;
	sender_for(race_sender, 8);
	assert_int_equal(seed_nonce(d, race_sender, 1337, 0), 0);
	for (i = 0; i < RACE_PAYOUTS; i++) {
		snprintf(id, sizeof(id), "many-%d", i);
		make_new(&n, id, race_sender, PS_APPROVED, 0, 0);
		assert_int_equal(store_create(d, &n, &p, &created), 0);
	}
	for (i = 0; i < RACE_WORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claim_thread,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < RACE_WORKERS; i++) {
		assert_int_equal(pthread_join(t[i], &rv), 0);
		assert_null(rv);
	}
	/* Nonces 0..199 each used exactly once: none twice, none skipped. */
	for (i = 0; i < RACE_PAYOUTS; i++)
		assert_int_equal(claimed_by[i], 1);
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT nonce) FROM payouts "
	    "WHERE sender = '%s' AND status = 'SUBMITTED'", race_sender);
	assert_int_equal(sql_value(d, sql), RACE_PAYOUTS);
	db_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_idempotent),
		cmocka_unit_test_setup(test_create_idempotent_and_conflict,
		    setup),
		cmocka_unit_test_setup(test_bad_stored_row, setup),
		cmocka_unit_test_setup(test_approvals_threshold, setup),
		cmocka_unit_test_setup(test_concurrent_approvals, setup),
		cmocka_unit_test_setup(test_claim_nonces_and_handback, setup),
		cmocka_unit_test_setup(test_epoch_fences_stale_worker, setup),
		cmocka_unit_test_setup(test_submitted_to_confirmed, setup),
		cmocka_unit_test_setup(test_timelock_queue_then_sign, setup),
		cmocka_unit_test_setup(test_sign_day_set_once, setup),
		cmocka_unit_test_setup(test_claim_many, setup),
		cmocka_unit_test_setup(test_concurrent_claims, setup),
		cmocka_unit_test_setup(test_end_fenced_by_queue, setup),
		cmocka_unit_test_setup(test_move_sender, setup),
		cmocka_unit_test_setup(test_claim_fills_retired_gap, setup),
		cmocka_unit_test_setup(test_concurrent_hole_claims, setup),
	};

	conninfo = getenv("PG_CONNINFO");
	test_round = (int)(getpid() % 100000);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
