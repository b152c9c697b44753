#!/usr/bin/env bash
# orch_replicas.sh: two orchestratord replicas on one PostgreSQL share 500
# payouts; one is killed with SIGKILL mid-run and the survivor finishes
# its work.  Afterwards: every payout CONFIRMED, signerd signed each
# request id exactly once, the key's nonces on chain are exactly 0..499
# (none used twice, none skipped), and the recipient got exactly the sum.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${ORCH_REPLICA_PAYOUTS:-500}
AMOUNT=1000
. tests/lib/tap.sh
. tests/lib/signerd.sh
# One-second blocks, as a real chain mines on a clock: a payout's
# transaction waits in the pool for the next block, and several payouts
# share one, so replicas race on the sender's nonces as they would live.
EVMNODE_BLOCKTIME=1
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "signerd provisioned" signerd_provision
check "signerd starts" signerd_start
check "EVM node starts" evmnode_start
check "payout key funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
# A short lease, so the survivor takes over the killed replica's rows soon.
ORCH_LEASE_MS=4000
orch_config 1
orch_config 2
check "replica 1 starts" orch_start 1
check "replica 2 starts" orch_start 2
before=$(balance "$RECIPIENT")

# Submit through both replicas' APIs, 4 at a time.  Once replica 2 is
# killed its share goes to replica 1, as a client would retry; the same
# request id again is 200 if replica 2 had stored it before it died.
submit() {
	local i=$1 port code
	port=${ORCH_PORT[$((i % 2 + 1))]}
	code=$(_post "$i" "$port")
	[ "$code" = 000 ] && code=$(_post "$i" "${ORCH_PORT[1]}")
	[ "$code" = 200 ] && code=201
	echo "$code"
}
_post() {
	curl -sS --noproxy '*' --max-time 30 -o /dev/null -w '%{http_code}\n' \
		-H "Authorization: Bearer $TOK_SUBMIT" -H 'Content-Type: application/json' \
		--data-binary "{\"request_id\":\"p-$1\",\"asset\":\"ETH\",\"to\":\"$RECIPIENT\",\"amount\":\"$AMOUNT\"}" \
		"http://127.0.0.1:$2/v1/payouts" 2>/dev/null
}
export -f submit _post
export TOK_SUBMIT RECIPIENT AMOUNT
declare -p ORCH_PORT >"$WORK/ports"
# In the background: replica 2 is killed while payouts still arrive.
seq 1 "$N" | xargs -P 4 -I{} bash -c ". '$WORK/ports'; submit {}" >"$WORK/codes" &
submitter=$!

# Kill replica 2 once a fifth of the payouts are through, while it holds
# leases: anvil confirms a payout within about a block, so waiting for
# the count alone could find it idle and test no takeover.  It is frozen
# (SIGSTOP) while its leases are counted, so they are still its own when
# SIGKILL lands; thawed and tried again if it held none.
held() { pgsql "SELECT count(*) FROM payouts WHERE lease_owner LIKE 'replica-2/%'
	AND status NOT IN ('CONFIRMED','FAILED','REJECTED','CANCELLED')"; }
deadline=$((SECONDS + 240))
inflight=0
while [ $SECONDS -lt $deadline ]; do
	if [ "$(pgsql "SELECT count(*) FROM payouts WHERE status = 'CONFIRMED'")" -ge $((N / 5)) ]; then
		kill -STOP "${ORCH_PID[2]}"
		inflight=$(held)
		[ "$inflight" -gt 0 ] && break
		kill -CONT "${ORCH_PID[2]}"
	fi
	sleep 0.05
done
orch_kill9 2
check "replica 2 killed with SIGKILL" [ -z "${ORCH_PID[2]}" ]
check "it held leases then ($inflight rows)" [ "$inflight" -gt 0 ]
wait "$submitter"
codes=$(sort "$WORK/codes" | uniq -c | tr -s ' ')
check "$N payouts accepted through both replicas (HTTP codes:$codes)" [ "$codes" = " $N 201" ]

deadline=$((SECONDS + 600))
until [ "$(pgsql "SELECT count(*) FROM payouts WHERE status IN ('CONFIRMED','FAILED','REJECTED','CANCELLED')")" -ge "$N" ] ||
	[ $SECONDS -ge $deadline ]; do
	sleep 1
done
check "every payout terminal" [ "$(pgsql "SELECT count(*) FROM payouts WHERE status NOT IN ('CONFIRMED','FAILED','REJECTED','CANCELLED')")" = 0 ]
check "every payout CONFIRMED" [ "$(pgsql "SELECT count(*) FROM payouts WHERE status = 'CONFIRMED'")" = "$N" ]
check "replica 2's leases were taken over" \
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE lease_owner LIKE 'replica-2/%' AND status NOT IN ('CONFIRMED','FAILED')")" = 0 ]
# Fee bumps re-sign a payout on purpose (same nonce, higher fees); every
# other signature is a payout's first and only.
signed=$(jq -r 'select(.type == "signed" and .fee_bump != true) | .request_id' "$SD_JOURNAL"/seg-*.jsonl | sort)
bumps=$(jq -r 'select(.type == "signed" and .fee_bump == true) | .request_id' "$SD_JOURNAL"/seg-*.jsonl | wc -l)
echo "# fee bumps: $bumps; stats: $(pgsql "SELECT 'attempts max ' || max(attempts) || ', bumps ' || sum(bumps) || ', seconds created->confirmed p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at))::numeric, 1) || ' max ' || round(max(extract(epoch FROM updated_at - created_at))::numeric, 1) FROM payouts")"
check "signerd signed $N distinct request ids" [ "$(sort -u <<<"$signed" | grep -c .)" = "$N" ]
check "and none of them twice" [ -z "$(uniq -d <<<"$signed")" ]
check "nonces in the db: $N distinct, 0..$((N - 1))" \
	[ "$(pgsql "SELECT count(DISTINCT nonce) || ':' || min(nonce) || ':' || max(nonce) FROM payouts")" = "$N:0:$((N - 1))" ]
check "the key's nonce on chain is $N" [ "$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")" = "$N" ]
check "each payout's tx mined with its own nonce" \
	[ "$(pgsql "SELECT count(DISTINCT tx_hash) FROM payouts")" = "$N" ]
after=$(balance "$RECIPIENT")
check "recipient received exactly $N x $AMOUNT wei" \
	[ "$(node -e "console.log((BigInt('$after') - BigInt('$before')).toString())")" = $((N * AMOUNT)) ]
check "one Confirmed event per payout" \
	[ "$(pgsql "SELECT count(*) FROM outbox WHERE event = 'PayoutConfirmed'")" = "$N" ]
check "survivor exits 0 on SIGTERM" orch_stop 1
check "signerd stops cleanly" signerd_stop
check "the signer's journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
