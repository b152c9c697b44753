# orch_bench.sh: the orchestrator's figures for scripts/bench.sh (source it
# after tests/lib/{signerd,evmnode,pg,orch}.sh, with signerd running and
# bench.sh's die, say, calc and now_ms defined).  Payouts go from APPROVED
# to SUBMITTED (store_signed stores the signature and moves the payout to
# SUBMITTED in one statement) through one real orchestratord with real
# PostgreSQL (fsync on), the real signerd and a local anvil; and each
# baseline those rates are divided by is measured alone, on the same
# servers, in the same run:
#   ob_setup               anvil (automine: eth_sendRawTransaction answers
#                          once the transaction is pooled, a block per
#                          transaction), the payout key funded, PostgreSQL,
#                          `orchestratord migrate`, the sender's nonce
#                          counter
#   ob_orch_run K N TAG    one orchestratord with K workers, idle until N
#                          APPROVED payouts of 1 wei (request ids TAG-i) are
#                          inserted by one INSERT; returns once all N are
#                          SUBMITTED and, bounded, CONFIRMED (so that the next
#                          run starts clean), and stops it.  The window runs
#                          from the INSERT's created_at to the last
#                          submitted_at (PostgreSQL's clock on both ends).
#                          Sets OB_RATE (OB_COUNT payouts SUBMITTED in the
#                          window / its length),
#                          OB_HWM0 / OB_HWM1 (orchestratord's VmHWM, MiB,
#                          right after start / after the load), OB_SIGN_MS
#                          (mean signerd round trip per payout, from its
#                          /metrics), OB_LOST (workers' node calls that timed
#                          out), OB_CPU_US (host CPU per payout over the
#                          window, every process on the host),
#                          OB_CPU_{NODE,PG,SD,ORCH}_US (anvil's, all its
#                          threads,
#                          PostgreSQL's, signerd's and orchestratord's part)
#                          and OB_BUSY (the host's CPU use, 0..1 of all cores)
#                          up to the last SUBMITTED; OB_CONF_RATE (payouts
#                          CONFIRMED / creation to the last confirmation)
#                          and OB_CPU_CONF_US (host CPU per payout up to
#                          that confirmation: creation to CONFIRMED)
#   ob_claim_run C N       claim_payout() alone: pgbench runs the statement
#                          with C clients on N pre-inserted APPROVED rows of
#                          a seeded sender (in batches: see OB_CLAIM_BATCH);
#                          sets OB_CLAIM_RATE and OB_CLAIM_MS (pgbench's mean
#                          latency)
#   ob_node_fresh          anvil restarted on an empty chain, the payout key
#                          funded again: the chain the runs above began with
#   ob_node_replay K TAG   the node's part of TAG's payouts alone: per payout
#                          the four calls a worker makes (eth_estimateGas
#                          at latest, eth_getBlockByNumber latest,
#                          eth_maxPriorityFeePer
#                          Gas, eth_sendRawTransaction of the transaction
#                          signerd signed for it), from K curl clients each
#                          keeping its connection, the payouts dealt out in
#                          nonce order, until all are mined.  Sets
#                          OB_NODE_RATE (payouts/s, first call to the last
#                          one mined), OB_NODE_LOST (calls that timed out)
#                          and OB_NODE_CPU_US (anvil's CPU per payout)
#   ob_teardown            orchestratord, PostgreSQL and anvil stopped
# Every wait is bounded; every process is stopped by its pid (orch.sh,
# pg.sh, evmnode.sh), also at exit.
#
# orchestratord's EVM timeout is OB_EVM_TIMEOUT_MS (its calls take
# < 50 ms), the replay uses the same, and both count the calls that timed
# out (OB_LOST, OB_NODE_LOST).  anvil runs several threads: its CPU is
# read for the whole process (/proc/PID/stat counts every thread).

OB_EVM_TIMEOUT_MS=${OB_EVM_TIMEOUT_MS:-500}
# A sender of their own for pgbench's rows.
OB_SENDER_CLAIMS=0x000000000000000000000000000000000000c1a1
# Claimed rows stay SIGNING under their lease, and claim_payout() walks the
# claimable index past every leased row: N claims in a row on N rows would
# cost O(N^2) and time that walk, not a claim.  An orchestrator moves each
# row on within its payout (K rows leased at a time); here the claimed
# rows are moved on between pgbench runs of this many claims, untimed.
OB_CLAIM_BATCH=${OB_CLAIM_BATCH:-100}
# Base of every wait's bound, plus N / 10 seconds for N payouts.
OB_TIMEOUT_MIN=60

_ob_hwm() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
_ob_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

_ob_insert() {
	pgsql "INSERT INTO payouts (request_id, asset, chain_id, sender,
		recipient, amount, status) SELECT '$1-' || g, 'ETH', 1337, '$2',
		'$RECIPIENT', 1, 'APPROVED' FROM generate_series(1, $3) g" >/dev/null
}

ob_setup() {
	evmnode_start || die "anvil did not start"
	fund "$PAYOUT_ADDR" 100000000000000000000 ||
		die "funding $PAYOUT_ADDR failed"
	pg_start || die "PostgreSQL did not start"
	orch_provision ||
		die "orchestratord migrate failed: $(tail -3 "$WORK/orch-migrate.log")"
	[ "$(pgsql "SHOW fsync")" = on ] || die "PostgreSQL runs with fsync off"
	pgsql "INSERT INTO sender_nonces VALUES ('$PAYOUT_ADDR', 1337, 0),
		('$OB_SENDER_CLAIMS', 1337, 0)" >/dev/null
}

ob_teardown() {
	orch_stop 1 || :
	pg_stop
	evmnode_stop
}

# _ob_metric NAME: one value of orchestratord's /metrics (0 if absent).
_ob_metric() {
	awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' \
		"$WORK/orch.metrics"
}

# _ob_snap PID: one line: the time (ms), the host's busy and total
# jiffies, and the CPU ticks of orchestratord PID, signerd, anvil and
# PostgreSQL (the postmaster with its reaped children, and every live
# child), read in one pass over /proc.
_ob_snap() {
	# (A process may end between the glob and cat.)
	{ cat /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || :; } |
		awk -v ms="$(now_ms)" -v o="$1" -v s="$SD_PID" \
			-v g="$EVMNODE_PID" -v pg="$PG_PID" '
		$1 == "cpu" { b = $2 + $3 + $4 + $7 + $8 + $9; h = b + $5 + $6 }
		$1 ~ /^[0-9]+$/ {
			pid = $1
			sub(/^.*\) /, "")	# after comm: $1 is the state
			t = $12 + $13
			if (pid == o) to = t
			if (pid == s) ts = t
			if (pid == g) tg = t
			if (pid == pg) tp += t + $14 + $15
			else if ($2 == pg) tp += t
		}
		END { print ms, b, h, to + 0, ts + 0, tg + 0, tp + 0 }'
}

ob_orch_run() {
	local k=$1 n=$2 tag=$3 pid i c st ndone bad limit deadline clk
	local w0 w1 w2 cnt ms0 b0 h0 o0 s0 g0 p0 ms1 b1 h1 o1 s1 g1 p1
	clk=$(getconf CLK_TCK)
	limit=$((OB_TIMEOUT_MIN + n / 10))
	ORCH_WORKERS=$k orch_config 1 "evm.timeout_ms=$OB_EVM_TIMEOUT_MS"
	orch_start 1 ||
		die "orchestratord did not start: $(tail -3 "$WORK/orch-1.log")"
	pid=${ORCH_PID[1]}
	# Ready once every worker has seeded the nonces and claims.
	for ((i = 0; i < 500; i++)); do
		[ "$(grep -c ': claiming' "$WORK/orch-1.log")" -ge "$k" ] && break
		sleep 0.02
	done
	[ "$i" -lt 500 ] || die "orchestratord's $k workers are not claiming"
	[ "$(pgsql "SELECT count(*) FROM sender_nonces")" = 2 ] ||
		die "orchestratord seeded a sender other than $PAYOUT_ADDR"
	OB_HWM0=$(_ob_hwm "$pid")
	# An earlier run's payouts still SUBMITTED: this tracker confirms
	# them before the clock starts.
	deadline=$((SECONDS + limit))
	while [ "$(pgsql "SELECT count(*) FROM payouts
		WHERE status = 'SUBMITTED'")" != 0 ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "orchestratord left an" \
			"earlier run's payouts SUBMITTED for $limit s"
		sleep 0.25
	done
	pgsql "VACUUM ANALYZE payouts" >/dev/null
	# CPU at every poll: the figures end where the run's window ends.
	_ob_snap "$pid" >"$WORK/snap.txt"
	_ob_insert "$tag" "$PAYOUT_ADDR" "$n"
	deadline=$((SECONDS + limit))
	while :; do
		c=$(pgsql "SELECT
			count(*) FILTER (WHERE status IN ('SUBMITTED', 'CONFIRMED')),
			count(*) FILTER (WHERE status IN ('FAILED', 'REJECTED',
			'CANCELLED')) FROM payouts WHERE request_id LIKE '$tag-%'")
		_ob_snap "$pid" >>"$WORK/snap.txt"
		ndone=${c%%|*} bad=${c#*|}
		[ "$bad" = 0 ] || die "$bad payouts ended unsigned: $(pgsql "SELECT
			reason_code, reason FROM payouts WHERE request_id LIKE
			'$tag-%' AND reason IS NOT NULL LIMIT 1")"
		[ "$ndone" = "$n" ] && break
		[ "$SECONDS" -lt "$deadline" ] || die "orchestratord, $k" \
			"workers: $ndone of $n payouts SUBMITTED after $limit s"
		kill -0 "$pid" 2>/dev/null || die "orchestratord exited"
		sleep 0.25
	done
	OB_HWM1=$(_ob_hwm "$pid")
	# Every nonce once, none skipped.
	st=$(pgsql "SELECT count(DISTINCT nonce) = $n AND
		max(nonce) - min(nonce) = $n - 1
		FROM payouts WHERE request_id LIKE '$tag-%'")
	[ "$st" = t ] || die "the $n payouts' nonces are not $n consecutive ones"
	api GET /metrics "" "$TOK_VIEW" >"$WORK/orch.metrics"
	[ "$(api_status)" = 200 ] || die "GET /metrics: HTTP $(api_status)"
	OB_SIGN_MS=$(calc "$(_ob_metric orchestratord_sign_seconds_sum) * 1000 / $(
		_ob_metric orchestratord_sign_seconds_count)" 2)
	# Each is logged twice: node_trouble's warning and the retry.
	OB_LOST=$(grep -c '"func":"node_trouble".*timed out' \
		"$WORK/orch-1.log") || :
	# The tracker confirms them (a block each, mined at once); the next
	# run should not share the node and the database with this one's tail.
	deadline=$((SECONDS + 10 + n / 100))
	while [ "$(pgsql "SELECT count(*) FROM payouts
		WHERE request_id LIKE '$tag-%' AND status = 'CONFIRMED'")" != "$n" ]
	do
		if [ "$SECONDS" -ge "$deadline" ]; then
			say "$tag: $(pgsql "SELECT count(*) FROM payouts WHERE
				request_id LIKE '$tag-%' AND status <> 'CONFIRMED'")" \
				"payouts not CONFIRMED $((10 + n / 100)) s after" \
				"the last SUBMITTED (the node's nonce: $(_ob_nonce));" \
				"the next run confirms them before its clock starts"
			break
		fi
		_ob_snap "$pid" >>"$WORK/snap.txt"
		sleep 0.25
	done
	_ob_snap "$pid" >>"$WORK/snap.txt"
	# The window: from the INSERT (its created_at) to the last SUBMITTED.
	read -r w0 w1 < <(pgsql "SELECT
		floor(extract(epoch FROM min(created_at)) * 1000)::bigint,
		ceil(extract(epoch FROM max(submitted_at)) * 1000)::bigint
		FROM payouts WHERE request_id LIKE '$tag-%'" | tr '|' ' ')
	OB_COUNT=$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE
		'$tag-%' AND submitted_at <= to_timestamp($w1 / 1000.0)")
	OB_RATE=$(calc "$OB_COUNT * 1000 / ($w1 - $w0)" 1)
	# CPU from the first snapshot to the first one at or after the
	# window's end, per payout SUBMITTED by then.
	read -r ms0 b0 h0 o0 s0 g0 p0 <"$WORK/snap.txt"
	read -r ms1 b1 h1 o1 s1 g1 p1 < <(awk -v w="$w1" '
		$1 >= w { print; f = 1; exit } { l = $0 }
		END { if (!f) print l }' "$WORK/snap.txt")
	cnt=$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE
		'$tag-%' AND submitted_at <= to_timestamp($ms1 / 1000.0)")
	OB_CPU_US=$(calc "($b1 - $b0) / $clk * 1e6 / $cnt" 0)
	OB_CPU_ORCH_US=$(calc "($o1 - $o0) / $clk * 1e6 / $cnt" 0)
	OB_CPU_SD_US=$(calc "($s1 - $s0) / $clk * 1e6 / $cnt" 0)
	OB_CPU_NODE_US=$(calc "($g1 - $g0) / $clk * 1e6 / $cnt" 0)
	OB_CPU_PG_US=$(calc "($p1 - $p0) / $clk * 1e6 / $cnt" 0)
	OB_BUSY=$(calc "($b1 - $b0) / ($h1 - $h0)" 2)
	# Creation to CONFIRMED: the rate, and the host's CPU per payout up to
	# the first snapshot at or after the last confirmation (the tracker's
	# work included).
	read -r w2 cnt < <(pgsql "SELECT
		ceil(extract(epoch FROM max(confirmed_at)) * 1000)::bigint,
		count(*) FROM payouts WHERE request_id LIKE '$tag-%' AND
		status = 'CONFIRMED'" | tr '|' ' ')
	if [ "$cnt" -gt 0 ]; then
		OB_CONF_RATE=$(calc "$cnt * 1000 / ($w2 - $w0)" 1)
		read -r ms1 b1 h1 o1 s1 g1 p1 < <(awk -v w="$w2" '
			$1 >= w { print; f = 1; exit } { l = $0 }
			END { if (!f) print l }' "$WORK/snap.txt")
		OB_CPU_CONF_US=$(calc "($b1 - $b0) / $clk * 1e6 / $cnt" 0)
	else
		OB_CONF_RATE=0 OB_CPU_CONF_US=0
	fi
	orch_stop 1 || die "orchestratord did not stop cleanly"
}

ob_claim_run() {
	local c=$1 n=$2 per b line tps lat sum_s=0 lat_sum=0
	per=$((OB_CLAIM_BATCH / c))
	[ $((per * c)) = "$OB_CLAIM_BATCH" ] ||
		die "OB_CLAIM_BATCH ($OB_CLAIM_BATCH) is not a multiple of $c"
	# Whole batches only.
	n=$(((n + OB_CLAIM_BATCH - 1) / OB_CLAIM_BATCH * OB_CLAIM_BATCH))
	printf "SELECT * FROM claim_payout('bench', 60000);\n" >"$WORK/claim.sql"
	_ob_insert "claim$c" "$OB_SENDER_CLAIMS" "$n"
	pgsql "VACUUM ANALYZE payouts" >/dev/null
	for ((b = 0; b < n / OB_CLAIM_BATCH; b++)); do
		line=$(timeout "$STEP_TIMEOUT" "$PG_BINDIR/pgbench" -n -M prepared \
			-f "$WORK/claim.sql" -c "$c" -j "$c" -t "$per" \
			-d "$PG_CONNINFO" 2>&1) || die "pgbench failed: $line"
		tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$line")
		lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$line")
		[ -n "$tps" ] && [ -n "$lat" ] || die "pgbench printed no tps: $line"
		sum_s=$(calc "$sum_s + $OB_CLAIM_BATCH / $tps" 6)
		lat_sum=$(calc "$lat_sum + $lat" 6)
		# What a worker does next, untimed: the rows leave the claim.
		pgsql "UPDATE payouts SET status = 'CONFIRMED', lease_owner = NULL,
			lease_expiry = NULL WHERE lease_owner = 'bench'
			AND status = 'SIGNING'" >/dev/null
	done
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE
		'claim$c-%' AND status = 'CONFIRMED' AND nonce IS NOT NULL")" = "$n" ] ||
		die "pgbench, $c clients: not every row was claimed once"
	OB_CLAIM_RATE=$(calc "$n / $sum_s" 1)
	OB_CLAIM_MS=$(calc "$lat_sum / ($n / $OB_CLAIM_BATCH)" 3)
}

ob_node_fresh() {
	evmnode_stop
	evmnode_start || die "anvil did not start again"
	fund "$PAYOUT_ADDR" 100000000000000000000 ||
		die "funding $PAYOUT_ADDR failed"
}

# _ob_nonce: the payout key's mined transaction count, as 0x hex.
_ob_nonce() {
	curl -sS --noproxy '*' --max-time 10 -H 'Content-Type: application/json' \
		--data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":
		\"eth_getTransactionCount\",\"params\":[\"$PAYOUT_ADDR\",
		\"latest\"]}" "$EVM_RPC" | jq -r .result
}

ob_node_replay() {
	local k=$1 tag=$2 n want t0 t1 g0 g1 clk i j limit pids=()
	clk=$(getconf CLK_TCK)
	rm -f "$WORK"/replay-*
	# A curl config per connection, the payouts dealt out in nonce order:
	# url, header, timeout and body per call, the bodies (hex and names
	# only, no blanks) unquoted.
	pgsql "SELECT encode(raw_tx, 'hex') FROM payouts
		WHERE request_id LIKE '$tag-%' ORDER BY nonce" |
		awk -v k="$k" -v dir="$WORK" -v url="$EVM_RPC" -v from="$PAYOUT_ADDR" \
			-v to="$RECIPIENT" -v tmo="$(calc "$OB_EVM_TIMEOUT_MS / 1000")" '
		function call(f, body) {
			if (calls[f]++) print "next" >f
			print "url = \"" url "\"" >f
			print "header = \"Content-Type: application/json\"" >f
			print "max-time = " tmo >f
			print "data-binary = {\"jsonrpc\":\"2.0\",\"id\":1," body "}" >f
		}
		{
			f = dir "/replay-" (NR - 1) % k ".cfg"
			call(f, "\"method\":\"eth_estimateGas\",\"params\":[{\"from\":\"" \
				from "\",\"to\":\"" to "\",\"value\":\"0x1\",\"data\":\"0x\"}," \
				"\"latest\"]")
			call(f, "\"method\":\"eth_getBlockByNumber\",\"params\":[\"latest\",false]")
			call(f, "\"method\":\"eth_maxPriorityFeePerGas\",\"params\":[]")
			call(f, "\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x" $1 "\"]")
		}'
	n=$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE '$tag-%'")
	want=$(pgsql "SELECT to_hex(max(nonce) + 1) FROM payouts
		WHERE request_id LIKE '$tag-%'")
	limit=$((OB_TIMEOUT_MIN + n / 10))
	g0=$(_ob_ticks "$EVMNODE_PID")
	t0=$(now_ms)
	# A timed-out call is counted below, not fatal: curl goes on.
	for ((j = 0; j < k; j++)); do
		timeout "$limit" curl -sS --noproxy '*' -K "$WORK/replay-$j.cfg" \
			>"$WORK/replay-$j.out" 2>"$WORK/replay-$j.err" &
		pids+=($!)
	done
	for j in "${pids[@]}"; do wait "$j" || :; done
	OB_NODE_LOST=$(cat "$WORK"/replay-*.err | grep -c 'timed out') || :
	[ "$(cat "$WORK"/replay-*.out | grep -o '"result"' | wc -l)" = \
		$((4 * n - OB_NODE_LOST)) ] &&
		! grep -q '"error"' "$WORK"/replay-*.out ||
		die "replaying $tag's calls to the node failed: $(cat \
		"$WORK"/replay-*.err | head -c 300) $(cat "$WORK"/replay-*.out |
		grep -o '"error":{[^}]*}' | head -1)"
	# Until the last one is mined.
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(_ob_nonce)" = "0x$want" ] && break
		sleep 0.05
	done
	[ "$i" -lt $((limit * 20)) ] || die "the replayed transactions of $tag" \
		"were not all mined within $limit s"
	t1=$(now_ms)
	g1=$(_ob_ticks "$EVMNODE_PID")
	OB_NODE_RATE=$(calc "$n * 1000 / ($t1 - $t0)" 1)
	OB_NODE_CPU_US=$(calc "($g1 - $g0) / $clk * 1e6 / $n" 0)
}
