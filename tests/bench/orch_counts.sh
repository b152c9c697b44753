#!/usr/bin/env bash
# orch_counts.sh: what one payout costs in round trips, from creation to
# CONFIRMED: statements and commits in PostgreSQL, JSON-RPC calls to the
# EVM node and requests to signerd.  Runs N small native payouts (no
# approvals, no timelock) through one real orchestratord with K workers,
# real PostgreSQL (pg_stat_statements loaded), signerd and the test node,
# and prints per-payout figures as "name value" lines (scripts/bench.sh
# turns them into rows; run alone it prints them).  Counts, not times:
# they do not depend on the machine's load.
#   ORCH_COUNTS_N (default 200) payouts, ORCH_COUNTS_K (default 4) workers.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${ORCH_COUNTS_N:-200}
K=${ORCH_COUNTS_K:-4}
. tests/lib/tap.sh >/dev/null
. tests/lib/signerd.sh
EVMNODE_INSTAMINE=strict
. tests/lib/evmnode.sh
PG_EXTRA_CONF="shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.max = 1000"
. tests/lib/pg.sh
. tests/lib/orch.sh

die() { echo "orch_counts: $*" >&2; exit 1; }
evmnode_start >/dev/null || die "EVM node did not start"
signerd_provision >/dev/null || die "signerd provisioning failed"
signerd_start >/dev/null || die "signerd did not start"
fund "$PAYOUT_ADDR" 1000000000000000000 || die "funding failed"
pg_start || die "PostgreSQL did not start"
pgsu() { timeout 60 "$PG_BINDIR/psql" -X -q -At -h "$PG_DIR" -p "$PG_PORT" \
	-U postgres -d payouts -c "$1"; }
pgsu "CREATE EXTENSION pg_stat_statements" >/dev/null || die "no pg_stat_statements"
# orchestratord's own defaults for its polling (orch.sh's are faster).
ORCH_WORKERS=$K
ORCH_EVM_POLL_MS=500
orch_provision || die "orchestratord migrate failed"
orch_config 1 worker.poll_ms=100
orch_start 1 || die "orchestratord did not start"

metric() {	# metric NAME: the sum of a counter's samples in /metrics
	curl -sS --max-time 10 -H "Authorization: Bearer $TOK_ADMIN" \
		"$ORCH_URL/metrics" | awk -v n="$1" '
		$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
rpc_of() {	# rpc_of METHOD
	curl -sS --max-time 10 -H "Authorization: Bearer $TOK_ADMIN" \
		"$ORCH_URL/metrics" | awk -v m="orchestratord_rpc_calls_total{method=\"$1\"}" '
		$1 == m { s += $2 } END { printf "%d\n", s }'
}
commits() { pgsu "SELECT xact_commit FROM pg_stat_database WHERE datname = 'payouts'"; }

# Everything in the window counts, the polling of idle workers and the
# tracker included (a cost of the design); the idle rates are printed too.
sleep 1
pgsu "SELECT pg_stat_statements_reset()" >/dev/null
pgsu "SELECT pg_stat_reset()" >/dev/null
db0=$(metric orchestratord_db_statements_total)
rpc0=$(metric orchestratord_rpc_calls_total)
sign0=$(metric orchestratord_sign_seconds_count)
c0=$(commits)
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do
	api POST /v1/payouts "{\"request_id\":\"c$i\",\"asset\":\"ETH\",\"to\":\"$RECIPIENT\",\"amount\":\"1000\"}" \
		"$TOK_SUBMIT" >/dev/null
done
deadline=$((SECONDS + 120 + N / 5))
while :; do
	done_n=$(pgsql "SELECT count(*) FROM payouts WHERE status = 'CONFIRMED'")
	[ "$done_n" -ge "$N" ] && break
	[ "$SECONDS" -lt "$deadline" ] || die "only $done_n of $N CONFIRMED"
	# A block now and then for chains that mine only on transactions.
	rpc evm_mine '[]' >/dev/null 2>&1
	sleep 0.5
done
t1=$(date +%s.%N)
sleep 0.5
c1=$(commits)
db1=$(metric orchestratord_db_statements_total)
rpc1=$(metric orchestratord_rpc_calls_total)
sign1=$(metric orchestratord_sign_seconds_count)
# Idle rate: the same span with nothing to do.
i0=$(metric orchestratord_db_statements_total); ir0=$(metric orchestratord_rpc_calls_total); ic0=$(commits)
ts=$(date +%s.%N); sleep 3; te=$(date +%s.%N)
i1=$(metric orchestratord_db_statements_total); ir1=$(metric orchestratord_rpc_calls_total); ic1=$(commits)
per() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.2f\n", (b - a) / n }'; }
span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
idle_s=$(awk -v a="$ts" -v b="$te" 'BEGIN { print b - a }')
idle_db=$(awk -v a="$i0" -v b="$i1" -v s="$idle_s" 'BEGIN { print (b - a) / s }')
idle_rpc=$(awk -v a="$ir0" -v b="$ir1" -v s="$idle_s" 'BEGIN { print (b - a) / s }')
idle_c=$(awk -v a="$ic0" -v b="$ic1" -v s="$idle_s" 'BEGIN { print (b - a) / s }')
echo "payouts $N"
echo "workers $K"
echo "seconds $span"
echo "db_statements_per_payout $(per "$db0" "$db1")"
echo "db_commits_per_payout $(per "$c0" "$c1")"
echo "pg_top_statements_per_payout $(awk -v n="$N" -v s="$(pgsu "SELECT coalesce(sum(calls),0) FROM pg_stat_statements WHERE toplevel AND query !~* 'pg_stat'")" 'BEGIN { printf "%.2f\n", s / n }')"
echo "pg_all_statements_per_payout $(awk -v n="$N" -v s="$(pgsu "SELECT coalesce(sum(calls),0) FROM pg_stat_statements WHERE query !~* 'pg_stat'")" 'BEGIN { printf "%.2f\n", s / n }')"
echo "rpc_calls_per_payout $(per "$rpc0" "$rpc1")"
for m in eth_estimateGas eth_getBlockByNumber eth_maxPriorityFeePerGas eth_sendRawTransaction \
	eth_getTransactionReceipt eth_getTransactionByHash eth_getBlockReceipts eth_getTransactionCount batch; do
	echo "rpc_${m}_total $(rpc_of "$m")"
done
echo "signerd_sign_per_payout $(per "$sign0" "$sign1")"
echo "idle_db_statements_per_s $idle_db"
echo "idle_rpc_calls_per_s $idle_rpc"
echo "idle_commits_per_s $idle_c"
pgsu "SELECT calls, rows, toplevel, left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements WHERE query !~* 'pg_stat' ORDER BY calls DESC LIMIT 25" >"$WORK/pg_statements.txt"
if [ -n "${ORCH_COUNTS_DETAIL:-}" ]; then cat "$WORK/pg_statements.txt"; fi
