#!/usr/bin/env bash
# orch_webhooks.sh: push delivery of the outbox (D59) against a real
# PostgreSQL, signerd, EVM node and orchestratord, with a scripted local
# receiver (tests/tools/webhook_rx.c).  The receiver first answers a 500,
# sleeps past the timeout, closes without answering and answers a 302,
# then accepts: every event arrives (at least once), in order per payout,
# signed as docs/api.md says (checked with openssl), the 302 is not
# followed, and the stored backoff stays within its bounds.  Then the
# receiver is down: payouts still reach CONFIRMED, their events go dead
# after max_attempts, the admin API lists them, and a replay delivers them.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/signerd.sh
EVMNODE_INSTAMINE=strict
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

RX="$BUILD/tools/webhook_rx"
RX_DIR=""
RX_RUN=0
RX_PID=""
MAX_ATTEMPTS=4
BASE_MS=200
CAP_MS=800

# rx_start [PORT]: a fresh receiver with its own log directory, RX_DIR.
rx_start() {
	RX_RUN=$((RX_RUN + 1))
	RX_DIR="$WORK/rx-$RX_RUN"
	mkdir -p "$RX_DIR"
	"$RX" "$RX_DIR" ${1:-} 2>>"$WORK/rx.err" &
	RX_PID=$!
	for _ in $(seq 1 50); do
		[ -s "$RX_DIR/port" ] && break
		sleep 0.1
	done
	RX_PORT=$(cat "$RX_DIR/port" 2>/dev/null)
	[ -n "$RX_PORT" ]
}
rx_stop() {
	[ -n "$RX_PID" ] || return 0
	kill "$RX_PID" 2>/dev/null
	wait "$RX_PID" 2>/dev/null
	RX_PID=""
}
on_exit rx_stop
rx_control() {
	curl -sS --noproxy '*' --max-time 5 --data-binary "$1" \
		"http://127.0.0.1:$RX_PORT/_control" >/dev/null
}

check "receiver starts" rx_start
( umask 077; openssl rand -hex 32 >"$WORK/wh-secret" )
SECRET=$(cat "$WORK/wh-secret")

check "EVM node starts" evmnode_start
check "signerd provisioned" signerd_provision
check "signerd starts" signerd_start
check "payout key funded with 1 ETH" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
cat >>"$WORK/orch-1.conf" <<CONF
[webhooks]
max_attempts = $MAX_ATTEMPTS
backoff_base_ms = $BASE_MS
backoff_max_ms = $CAP_MS
timeout_ms = 1000
poll_ms = 100
workers = 1
[webhook:rx]
url = http://127.0.0.1:$RX_PORT/hook
secret_file = $WORK/wh-secret
CONF
check "orchestratord serve starts with a webhook" orch_start 1

R=$RECIPIENT
create() { api POST /v1/payouts "$(jq -cn --arg id "$1" --arg to "$R" \
	'{request_id: $id, asset: "ETH", to: $to, amount: "1000"}')" "$TOK_SUBMIT" >/dev/null; }
# wait_sql SQL WANT [SECONDS]: polls until the query prints WANT.
wait_sql() {
	local deadline=$((SECONDS + ${3:-60})) got
	while :; do
		got=$(pgsql "$1" 2>/dev/null)
		[ "$got" = "$2" ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_sql: '$1' gave '$got', wanted '$2'" >&2
			return 1
		fi
		sleep 0.2
	done
}
# Events of the named payouts that have no delivered row.
undelivered() {
	pgsql "SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id
	        WHERE p.request_id = ANY ('{$1}') AND NOT EXISTS (SELECT 1 FROM
	        webhook_deliveries d WHERE d.event_id = o.id AND d.subscriber = 'rx'
	        AND d.status = 'delivered')"
}

# --- failures first, then accepted ---------------------------------------------------
check "receiver scripted: 500, sleep, close, 302, then ok" rx_control "500 sleep close 302"
create w1
create w2
check "w1 CONFIRMED" wait_status w1 CONFIRMED 60
check "w2 CONFIRMED" wait_status w2 CONFIRMED 60
wait_sql "SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id
	WHERE p.request_id IN ('w1', 'w2') AND NOT EXISTS (SELECT 1 FROM
	webhook_deliveries d WHERE d.event_id = o.id AND d.status = 'delivered')" 0 60
check "every event of w1 and w2 delivered" [ "$(undelivered w1,w2)" = 0 ]
n_events=$(pgsql "SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id WHERE p.request_id IN ('w1','w2')")
check "w1 and w2 wrote 8 events ($n_events)" [ "$n_events" = 8 ]

# Each event id the outbox has reached the receiver with an ok answer.
accepted_ids() { jq -r 'select(.action == "ok" and .path == "/hook") | .id' "$RX_DIR/log" | sort -u; }
outbox_ids() { pgsql "SELECT o.id FROM outbox o JOIN payouts p ON p.id = o.payout_id
	WHERE p.request_id IN ('w1','w2') ORDER BY 1" | sort -u; }
check "the receiver accepted every event id of the outbox" \
	[ -z "$(comm -23 <(outbox_ids) <(accepted_ids))" ]
check "the four scripted failures were answered" \
	[ "$(jq -r 'select(.path == "/hook") | .action' "$RX_DIR/log" | head -4 | tr '\n' ' ')" = "500 sleep close 302 " ]
check "the 302 was not followed (no request to /redirected)" \
	[ "$(jq -r 'select(.path != "/hook") | .path' "$RX_DIR/log" | wc -l)" = 0 ]
check "the 302 is stored as a failed attempt" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts WHERE http_status = 302 AND outcome = 'retry' AND error LIKE '%redirects are not followed%'")" = 1 ]
check "the timeout is stored as a failed attempt" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts WHERE http_status IS NULL AND error ILIKE '%timed out%'")" -ge 1 ]
check "the closed connection is stored as a failed attempt" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts WHERE http_status IS NULL AND (error ILIKE '%empty reply%' OR error ILIKE '%nothing%')")" -ge 1 ]

# Per payout: when an event reaches the receiver, every earlier event of
# that payout has already been accepted there (none went dead while the
# receiver was up).  From the receiver's own log, in arrival order.
order_ok() {
	local n id action rid e
	declare -A accepted=() earlier=()
	while IFS=$'\t' read -r n id action; do
		rid=$(jq -r .request_id "$RX_DIR/body-$n")
		[ -n "${earlier[$rid]+x}" ] || earlier[$rid]=$(pgsql "SELECT o.id FROM outbox o
			JOIN payouts p ON p.id = o.payout_id WHERE p.request_id = '$rid' ORDER BY o.id" | tr '\n' ' ')
		for e in ${earlier[$rid]}; do
			[ "$e" -lt "$id" ] || break
			[ -n "${accepted[$e]+x}" ] || { echo "event $id of $rid arrived (request $n) before $e was accepted" >&2; return 1; }
		done
		[ "$action" = ok ] && accepted[$id]=1
	done < <(jq -r 'select(.path == "/hook") | [.n, .id, .action] | @tsv' "$RX_DIR/log")
	return 0
}
check "per payout, no event arrived before an earlier one was delivered" order_ok

# Signatures: HMAC-SHA256(secret, timestamp "." body), as docs/api.md says.
sig_ok() {
	local n ts sig mine bad=0
	while IFS=$'\t' read -r n ts sig; do
		mine=$( { printf '%s.' "$ts"; cat "$RX_DIR/body-$n"; } |
			openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
		[ "sha256=$mine" = "$sig" ] || { echo "request $n: $sig, want sha256=$mine" >&2; bad=1; }
	done < <(jq -r 'select(.path == "/hook") | [.n, .ts, .sig] | @tsv' "$RX_DIR/log")
	return $bad
}
check "every request's signature verifies with openssl" sig_ok
n1=$(jq -r 'select(.path == "/hook") | .n' "$RX_DIR/log" | head -1)
cp "$RX_DIR/body-$n1" "$WORK/tampered"
sed -i 's/"id":/"id":1/' "$WORK/tampered"
ts1=$(jq -r "select(.n == $n1) | .ts" "$RX_DIR/log")
sig1=$(jq -r "select(.n == $n1) | .sig" "$RX_DIR/log")
check "a changed body does not verify" [ "sha256=$( { printf '%s.' "$ts1"; cat "$WORK/tampered"; } |
	openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)" != "$sig1" ]
check "the body is the event (id, event, request_id, payload.status)" \
	[ "$(jq -r '[(.id|type), .event, .request_id, (.payload.status|type)] | join(",")' "$RX_DIR/body-$n1")" = \
	  "number,$(jq -r "select(.n == $n1) | .event" "$RX_DIR/log"),$(jq -r .request_id "$RX_DIR/body-$n1"),string" ]

# Backoff, from what was stored: each retry's delay is within
# [0, min(cap, base * 2^(attempt-1))], and no attempt began before it was due.
check "every retry's delay is within its full-jitter bound" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts WHERE outcome = 'retry' AND
	  (next_attempt_at < finished_at OR next_attempt_at - finished_at >
	   least($CAP_MS, $BASE_MS * 2 ^ (attempt - 1)) * interval '1 ms')")" = 0 ]
check "no attempt began before the previous one's next_attempt_at" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts a JOIN webhook_attempts b ON
	  b.subscriber = a.subscriber AND b.event_id = a.event_id AND b.id > a.id
	  AND a.outcome = 'retry' WHERE b.started_at < a.next_attempt_at")" = 0 ]
check "the retries waited (some delay above zero)" \
	[ "$(pgsql "SELECT count(*) FROM webhook_attempts WHERE outcome = 'retry' AND next_attempt_at > finished_at")" -ge 1 ]

# --- receiver down: payouts go on, events go dead, replay delivers ---------------------
rx_stop
create d1
create d2
check "d1 CONFIRMED while the receiver is down" wait_status d1 CONFIRMED 60
check "d2 CONFIRMED while the receiver is down" wait_status d2 CONFIRMED 60
n_dead=$(pgsql "SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id WHERE p.request_id IN ('d1','d2')")
check "d1, d2 wrote 8 events ($n_dead)" [ "$n_dead" = 8 ]
ok "all 8 went dead" wait_sql "SELECT count(*) FROM webhook_deliveries d JOIN payouts p ON p.id = d.payout_id
	WHERE p.request_id IN ('d1','d2') AND d.status = 'dead'" 8 90
check "each dead letter after exactly $MAX_ATTEMPTS attempts" \
	[ "$(pgsql "SELECT count(*) FROM webhook_deliveries WHERE status = 'dead' AND attempts = $MAX_ATTEMPTS")" = 8 ]
check "and $MAX_ATTEMPTS attempts logged for each" \
	[ "$(pgsql "SELECT count(DISTINCT event_id) FROM (SELECT event_id FROM webhook_attempts a JOIN webhook_deliveries d
	  USING (subscriber, event_id) WHERE d.status = 'dead' GROUP BY event_id HAVING count(*) = $MAX_ATTEMPTS) x")" = 8 ]

dead=$(api GET /v1/webhooks/rx/dead "" "$TOK_ADMIN")
check "GET /v1/webhooks/rx/dead: 200" [ "$(api_status)" = 200 ]
check "it lists the 8 dead letters" [ "$(jq '.dead | length' <<<"$dead")" = 8 ]
check "with request ids, attempts and the last error" \
	[ "$(jq -r '[.dead[] | select(.attempts == 4 and .last_error != null and (.request_id == "d1" or .request_id == "d2"))] | length' <<<"$dead")" = 8 ]
page=$(api GET "/v1/webhooks/rx/dead?first=3" "" "$TOK_ADMIN")
nxt=$(jq .next <<<"$page")
page2=$(api GET "/v1/webhooks/rx/dead?first=50&after=$nxt" "" "$TOK_ADMIN")
check "pages of 3 then the rest: 3 + 5" [ "$(jq '.dead | length' <<<"$page")/$(jq '.dead | length' <<<"$page2")" = "3/5" ]
api GET /v1/webhooks/rx/dead "" "$TOK_VIEW" >/dev/null
check "a viewer may not list them (403)" [ "$(api_status)" = 403 ]
api POST /v1/webhooks/rx/replay '{"all":true}' "$TOK_APPROVE" >/dev/null
check "an approver may not replay (403)" [ "$(api_status)" = 403 ]
api GET /v1/webhooks/nosuch/dead "" "$TOK_ADMIN" >/dev/null
check "an unknown webhook is 404" [ "$(api_status)" = 404 ]
api GET "/v1/webhooks/rx/dead?frist=3" "" "$TOK_ADMIN" >/dev/null
check "an unknown query parameter is 400" [ "$(api_status)" = 400 ]
for b in '{}' '{"event_id":0}' '{"all":false}' '{"event_id":1,"all":true}' '[1]' 'x' '{"event_id":"1"}'; do
	api POST /v1/webhooks/rx/replay "$b" "$TOK_ADMIN" >/dev/null
	check "replay body $b is 400" [ "$(api_status)" = 400 ]
done
first_dead=$(jq '.dead[0].event_id' <<<"$dead")
api POST /v1/webhooks/rx/replay '{"event_id":1}' "$TOK_ADMIN" >/dev/null
check "replaying an event that is not a dead letter is 404" [ "$(api_status)" = 404 ]

check "receiver back (same port, accepting)" rx_start "$RX_PORT"
r=$(api POST /v1/webhooks/rx/replay "{\"event_id\":$first_dead}" "$TOK_ADMIN")
check "replay one: {\"replayed\":1}" [ "$(jq -c . <<<"$r")" = '{"replayed":1}' ]
r=$(api POST /v1/webhooks/rx/replay '{"all":true}' "$TOK_ADMIN")
check "replay all: the other 7" [ "$(jq -c . <<<"$r")" = '{"replayed":7}' ]
ok "all 8 delivered after the replay" wait_sql "SELECT count(*) FROM webhook_deliveries d JOIN payouts p ON p.id = d.payout_id
	WHERE p.request_id IN ('d1','d2') AND d.status = 'delivered'" 8 60
check "the receiver accepted every event of d1 and d2 after the replay" \
	[ "$(jq -r 'select(.action == "ok" and .path == "/hook") | .id' "$RX_DIR/log" | sort -u | wc -l)" = 8 ]
check "the dead-letter list is empty" [ "$(api GET /v1/webhooks/rx/dead "" "$TOK_ADMIN" | jq '.dead | length')" = 0 ]
check "replays counted" [ "$(pgsql "SELECT count(*) FROM webhook_deliveries WHERE replays = 1 AND status = 'delivered'")" = 8 ]
check "signatures of the replayed deliveries verify too" sig_ok
check "order per payout held after the replay" order_ok

m=$(api GET /metrics "" "$TOK_VIEW")
check "metrics: 8 dead letters" grep -q '^orchestratord_webhook_dead_letters_total{subscriber="rx"} 8$' <<<"$m"
check "metrics: failures counted (4 + 32)" grep -q '^orchestratord_webhook_failures_total{subscriber="rx"} 36$' <<<"$m"
check "metrics: deliveries counted (16)" grep -q '^orchestratord_webhook_deliveries_total{subscriber="rx"} 16$' <<<"$m"

check "orchestratord stops cleanly" orch_stop 1
tap_done
