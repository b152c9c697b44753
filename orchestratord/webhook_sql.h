/*
 * webhook_sql.h: the prepared statements of webhook delivery (webhook.c,
 * api_webhooks.c), listed in store.c's one statement table so every
 * connection prepares them.  Tables: migrations/005_webhooks.sql.
 */
#ifndef ORCH_WEBHOOK_SQL_H
#define ORCH_WEBHOOK_SQL_H

/* Unix milliseconds of a timestamptz column, 0 for NULL. */
#define WH_MS(c) "coalesce((extract(epoch FROM " c ") * 1000)::bigint, 0)"

/*
 * wh_claim($1 worker, $2 subscribers text[], $3 lease ms, $4 limit): due
 * pending deliveries no one holds, oldest due first, that no earlier
 * event of the same payout holds back: none of its earlier deliveries to
 * this subscriber is pending, and none of its earlier events is beyond
 * the subscriber's horizon (not fanned out yet).  Each claimed row starts
 * an attempt (attempts + 1, the fence of wh_finish).
 */
#define WH_SQL_CLAIM \
	"WITH c AS (SELECT d.subscriber, d.event_id FROM webhook_deliveries d " \
	"WHERE d.status = 'pending' AND d.subscriber = ANY ($2::text[]) " \
	"AND d.next_attempt_at <= now() AND (d.lease_expiry IS NULL OR " \
	"d.lease_expiry < now()) AND NOT EXISTS (SELECT 1 FROM " \
	"webhook_deliveries e WHERE e.subscriber = d.subscriber AND " \
	"e.payout_id = d.payout_id AND e.status = 'pending' AND " \
	"e.event_id < d.event_id) AND NOT EXISTS (SELECT 1 FROM outbox o " \
	"JOIN webhook_subscribers s ON s.name = d.subscriber WHERE " \
	"o.payout_id = d.payout_id AND o.id < d.event_id AND " \
	"o.xid >= s.horizon) ORDER BY d.next_attempt_at, d.event_id " \
	"LIMIT $4 FOR UPDATE OF d SKIP LOCKED) " \
	"UPDATE webhook_deliveries d SET attempts = d.attempts + 1, " \
	"last_attempt_at = now(), lease_owner = $1, lease_expiry = now() + " \
	"$3::int * interval '1 millisecond' FROM c, outbox o, payouts p " \
	"WHERE d.subscriber = c.subscriber AND d.event_id = c.event_id AND " \
	"o.id = d.event_id AND p.id = o.payout_id RETURNING d.subscriber, " \
	"d.event_id, d.attempts, o.event, p.request_id, o.payload::text, " \
	WH_MS("o.created_at")

/*
 * wh_finish($1 subscriber, $2 event id, $3 worker, $4 attempts claimed,
 * $5 outcome delivered|retry|dead, $6 HTTP status or NULL, $7 error or
 * NULL, $8 ms to the next attempt (retry)): ends the attempt and logs it.
 * No row: the lease was lost (another worker took the delivery over).
 */
#define WH_SQL_FINISH \
	"WITH u AS (UPDATE webhook_deliveries SET status = CASE $5::text " \
	"WHEN 'retry' THEN 'pending' ELSE $5::text END, next_attempt_at = " \
	"CASE WHEN $5::text = 'retry' THEN now() + $8::int * " \
	"interval '1 millisecond' ELSE next_attempt_at END, " \
	"last_http_status = $6::int, last_error = $7, lease_owner = NULL, " \
	"lease_expiry = NULL, delivered_at = CASE WHEN $5::text = " \
	"'delivered' THEN now() END, dead_at = CASE WHEN $5::text = 'dead' " \
	"THEN now() END WHERE subscriber = $1 AND event_id = $2 AND " \
	"lease_owner = $3 AND attempts = $4 AND status = 'pending' " \
	"RETURNING subscriber, event_id, attempts, last_attempt_at, " \
	"next_attempt_at) INSERT INTO webhook_attempts (subscriber, event_id, " \
	"attempt, started_at, http_status, error, outcome, next_attempt_at) " \
	"SELECT subscriber, event_id, attempts, last_attempt_at, $6::int, $7, " \
	"$5::text, CASE WHEN $5::text = 'retry' THEN next_attempt_at END " \
	"FROM u RETURNING 1"

/* wh_release($1 subscriber, $2 event id, $3 worker, $4 attempts): not sent. */
#define WH_SQL_RELEASE \
	"UPDATE webhook_deliveries SET attempts = attempts - 1, " \
	"lease_owner = NULL, lease_expiry = NULL WHERE subscriber = $1 AND " \
	"event_id = $2 AND lease_owner = $3 AND attempts = $4 AND " \
	"status = 'pending'"

/* wh_dead($1 subscriber, $2 after event id, $3 limit): the dead letters. */
#define WH_SQL_DEAD \
	"SELECT d.event_id, p.request_id, o.event, d.attempts, " \
	"coalesce(d.last_http_status, 0), coalesce(d.last_error, ''), " \
	WH_MS("d.last_attempt_at") ", " WH_MS("d.dead_at") ", d.replays " \
	"FROM webhook_deliveries d JOIN outbox o ON o.id = d.event_id " \
	"JOIN payouts p ON p.id = d.payout_id WHERE d.status = 'dead' AND " \
	"d.subscriber = $1 AND d.event_id > $2::bigint ORDER BY d.event_id " \
	"LIMIT $3"

/* wh_replay($1 subscriber, $2 event id or NULL for all): dead -> pending. */
#define WH_SQL_REPLAY \
	"WITH u AS (UPDATE webhook_deliveries SET status = 'pending', " \
	"attempts = 0, next_attempt_at = now(), replays = replays + 1, " \
	"dead_at = NULL, lease_owner = NULL, lease_expiry = NULL WHERE " \
	"subscriber = $1 AND status = 'dead' AND ($2::bigint IS NULL OR " \
	"event_id = $2::bigint) RETURNING 1) SELECT count(*) FROM u"

/* store.c's table lists these (name, SQL, parameter count). */
#define WEBHOOK_STMTS \
	{ "wh_register", "SELECT webhook_register($1)", 1 }, \
	{ "wh_fanout", "SELECT webhook_fanout($1, $2::text[])", 2 }, \
	{ "wh_claim", WH_SQL_CLAIM, 4 }, \
	{ "wh_finish", WH_SQL_FINISH, 8 }, \
	{ "wh_release", WH_SQL_RELEASE, 4 }, \
	{ "wh_dead", WH_SQL_DEAD, 3 }, \
	{ "wh_replay", WH_SQL_REPLAY, 2 },

#endif
