#!/usr/bin/env bash
# orch_cancel_race.sh: an approver's cancel or reject racing a worker that
# queues the payout in signerd (issue 15).  Timelocked payouts are approved
# and, while a worker's QUEUE_REQ crawls to signerd through a relay that
# holds every chunk (0.3 to 4 s, longer than the worker's lease in the
# later batches), an approver cancels or rejects them through another
# replica that talks to signerd directly.  Whatever the API answered, no
# payout it reported CANCELLED or REJECTED may be signed: signerd's
# journal has no `signed` record for it, a REJECTED one was never queued
# there, a CANCELLED one that was queued there has a `cancelled` record,
# and signerctl, with the approvals from the database, cannot sign it.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
SD_POLICY=governed
SD_TIMELOCK_DELAY=3
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

BATCH=5
DELAYS="300 1200 2500 4000"

check "signerd provisioned (governed policy, 3 s timelock)" signerd_provision
check "signerd starts" signerd_start
check "EVM node starts" evmnode_start
check "payout key funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
echo 0 >"$WORK/proxy.delay"
check "a slow relay in front of signerd" orch_proxy_start "$WORK/run/slow.sock" "$SD_SOCK"
# Replica 2 serves the approvers, straight to signerd; replica 1's workers
# reach signerd only through the relay, with a lease shorter than its delay.
orch_config 2 worker.count=0
check "API replica starts" orch_start 2
orch_config 1 signer.socket="ipc://$WORK/run/slow.sock" worker.lease_ms=1500 \
	worker.count=2
check "worker replica starts (signerd behind the relay)" orch_start 1

R=$RECIPIENT
AMOUNT=210000
journal() { jq -r "$1" "$SD_JOURNAL"/seg-*.jsonl; }

# race ID ACTION DELAY_MS: approve, wait a random part of the delay, then
# cancel (carol's signed cancel) or reject, again while refused with BUSY
# (a worker holds it; retry) or 503 (signerd: retry) for at most 30 s.  Writes "ID ACTION STATUS
# CODE BUSY_COUNT" to $WORK/race.ID.  Runs beside other races: api's
# files go to a directory of its own.
race() {
	local id=$1 action=$2 body code status busy=0 deadline=$((SECONDS + 30))
	local out="$WORK/race.$id" WORK="$WORK/r.$id"
	mkdir -p "$WORK"
	api POST "/v1/payouts/$id/approvals" "$(sd_approve alice "$id" 1337 ETH "$R" $AMOUNT)" "$TOK_APPROVE" >/dev/null
	api POST "/v1/payouts/$id/approvals" "$(sd_approve bob "$id" 1337 ETH "$R" $AMOUNT)" "$TOK_APPROVE" >/dev/null
	sleep "$(awk -v r=$RANDOM -v d="$3" 'BEGIN { printf "%.3f", r % d / 1000 }')"
	while :; do
		if [ "$action" = cancel ]; then
			body=$(api POST "/v1/payouts/$id/cancel" "$(sd_approve_op carol cancel "$id")" "$TOK_APPROVE")
		else
			body=$(api POST "/v1/payouts/$id/reject" '{"reason":"race"}' "$TOK_APPROVE")
		fi
		status=$(api_status)
		code=$(jq -r '.error // .status' <<<"$body" 2>/dev/null)
		# BUSY: a worker holds it.  503: signerd said to come back (the
		# id is being queued there right now: IN_FLIGHT, D58).
		{ { [ "$status" = 409 ] && [ "$code" = BUSY ]; } || [ "$status" = 503 ]; } &&
			[ "$SECONDS" -lt "$deadline" ] || break
		busy=$((busy + 1))
		sleep 0.3
	done
	echo "$id $action $status $code $busy" >"$out"
}

n=0
for d in $DELAYS; do
	echo "$d" >"$WORK/proxy.delay"
	pids=()
	for i in $(seq 1 $BATCH); do
		n=$((n + 1))
		id=cr-$n
		api POST /v1/payouts "$(jq -cn --arg id "$id" --arg to "$R" --arg a "$AMOUNT" \
			'{request_id: $id, asset: "ETH", to: $to, amount: $a}')" "$TOK_SUBMIT" >/dev/null
		action=cancel
		[ $((n % 3)) = 0 ] && action=reject
		race "$id" "$action" "$d" &
		pids+=($!)
	done
	wait "${pids[@]}"
done
echo 0 >"$WORK/proxy.delay"
cat "$WORK"/race.cr-* | sort -V | sed 's/^/# /'

# Everything not ended by an approver is signed after the timelock: wait
# until nothing is left in flight or unconfirmed, so that a late signature
# would show and every payout nobody ended is CONFIRMED.
settled() {
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE status IN ('APPROVED', 'QUEUED', 'SIGNING', 'SUBMITTED')")" = 0 ]
}
for i in $(seq 1 150); do settled && break; sleep 0.4; done
check "every payout settled" settled
check "orchestratord replicas stop" orch_stop 1
orch_stop 2

ended=$(awk '$3 == 200 { print $1 }' "$WORK"/race.cr-*)
cancelled=$(awk '$3 == 200 && $4 == "CANCELLED" { print $1 }' "$WORK"/race.cr-*)
rejected=$(awk '$3 == 200 && $4 == "REJECTED" { print $1 }' "$WORK"/race.cr-*)
answered=$(awk '$3 == 200 || ($3 == 409 && $4 != "BUSY") { print $1 }' "$WORK"/race.cr-* | wc -l)
check "every approver got a final answer (200, or a 409 other than BUSY): $answered of $n" [ "$answered" = "$n" ]
check "some were cancelled ($(wc -w <<<"$cancelled")) and some rejected ($(wc -w <<<"$rejected"))" \
	[ -n "$cancelled" ] && [ -n "$rejected" ]
bad=""
for id in $ended; do
	[ "$(journal "select(.type == \"signed\" and .request_id == \"$id\") | .seq" | wc -l)" = 0 ] || bad+="$id "
done
check "no payout the API reported CANCELLED or REJECTED was signed by signerd (${bad:-none})" [ -z "$bad" ]
bad=""
for id in $rejected; do
	[ "$(journal "select(.type == \"queued\" and .request_id == \"$id\") | .seq" | wc -l)" = 0 ] || bad+="$id "
done
check "no REJECTED payout was ever queued in signerd (${bad:-none})" [ -z "$bad" ]
# Every cancel goes to signerd first (D36, D50): queued or not, each
# CANCELLED payout has exactly one cancelled record there.
bad=""
in_signerd=0
for id in $cancelled; do
	[ "$(journal "select(.type == \"queued\" and .request_id == \"$id\") | .seq" | wc -l)" = 0 ] ||
		in_signerd=$((in_signerd + 1))
	[ "$(journal "select(.type == \"cancelled\" and .request_id == \"$id\") | .seq" | wc -l)" = 1 ] || bad+="$id "
done
check "every CANCELLED payout has its cancelled record in signerd (${bad:-none})" [ -z "$bad" ]
# The race was hit when a worker's request met a cancel in signerd (either
# order), or a reject met a payout signerd may hold.
late=0
for id in $cancelled; do
	late=$((late + $(journal "select(.type == \"refused\" and .request_id == \"$id\" and .reason == \"TIMELOCK_CANCELLED\") | .seq" | wc -l)))
done
held=$(awk '$2 == "reject" && $3 == 409 { n++ } END { print n + 0 }' "$WORK"/race.cr-*)
busy=$(awk '{ s += $5 } END { print s + 0 }' "$WORK"/race.cr-*)
check "the race was hit: $in_signerd cancel(s) of queued payouts, $late worker request(s) refused after a cancel, $held reject(s) refused, $busy BUSY" \
	[ $((in_signerd + late + held + busy)) -ge 1 ]
bad=""
for id in $ended; do
	st=$(pgsql "SELECT status FROM payouts WHERE request_id = '$id'")
	grep -q " $st\$" <<<"$(awk -v id="$id" '$1 == id { print $1, $4 }' "$WORK"/race.cr-*)" || bad+="$id:$st "
done
check "the database still says what the API said (${bad:-ok})" [ -z "$bad" ]
check "no worker found a payout ended here but queued in signerd" \
	bash -c "! grep -q 'QUEUED in signerd: an approver' '$WORK/orch-1.log'"

# The issue's last step: signerctl with the approvals from the database.
k=0
bad=""
for id in $cancelled; do
	[ "$(journal "select(.type == \"queued\" and .request_id == \"$id\") | .seq" | wc -l)" = 0 ] && continue
	aps=$(pgsql "SELECT json_agg(json_build_object('approver', a.approver, 'expiry', a.expiry,
		'signature', encode(a.signature, 'hex'))) FROM approvals a JOIN payouts p ON p.id = a.payout_id
		WHERE p.request_id = '$id'")
	sd_request "$id" ETH "$R" $AMOUNT $((900 + k)) "$aps" >"$WORK/sign.$id.json"
	reason=$(sd_reason sign "$WORK/sign.$id.json")
	[ "$reason" != OK ] || bad+="$id "
	k=$((k + 1))
done
check "signerctl cannot sign any of them with the stored approvals (${bad:-none} signed; $k tried)" \
	[ -z "$bad" ] && [ "$k" -ge 1 ]
pgsql "SELECT request_id, status, coalesce(reason_code, ''), coalesce(reason, '') FROM payouts
	WHERE request_id LIKE 'cr-%' ORDER BY id" | sed 's/^/# /'
not_ended=$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE 'cr-%' AND status = 'CONFIRMED'")
check "the others were paid ($not_ended CONFIRMED of $((n - $(wc -w <<<"$ended"))))" \
	[ "$not_ended" = $((n - $(wc -w <<<"$ended"))) ]
check "signerd stops cleanly" signerd_stop
check "the signer's journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
