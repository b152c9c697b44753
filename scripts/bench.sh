#!/usr/bin/env bash
# bench.sh: `make bench`: times signerd's sign path, raw C_Sign, the same token remoted by `p11-kit server`, the journal, start-up's verifier and start-up on one SoftHSM token, and orchestratord's payouts through PostgreSQL, signerd and anvil, each figure as a ratio to a baseline from the same run.
# These machines are noisy and have 2 cores, so no figure stands alone:
# each signerd load is bracketed by raw C_Sign runs and divided by their
# mean, and CPU per signature (which noise barely moves) is printed beside
# the rates.  What a user might run instead of signerd, the token's PKCS#11
# forwarded over a unix socket by `p11-kit server` and signed through
# p11-kit-client.so, is timed the same way: p11bench, bracketed by raw
# runs.  Every step is bounded in count and by a timeout; everything is
# on unix sockets in a temp dir; only processes started here are stopped,
# by pid (tests/lib/signerd.sh, onexit.sh).  Timing is never a
# pass/fail test: the exit status says only whether every step ran.
# orchestratord (tests/bench/orch_bench.sh) moves payouts from APPROVED to
# SUBMITTED with 2 and 4 workers, against a throwaway PostgreSQL (fsync
# on, unix socket only), the running signerd and the EVM node, Foundry's
# anvil, on 127.0.0.1 (automine: a block per transaction).  Its rates are
# divided
# by claim_payout() alone (pgbench, same database), signerd alone
# (sdclient, same number of clients) and the node's calls alone (the same
# calls replayed on a fresh chain, after an untimed warm-up of 200
# payouts), and its CPU is split by process.  The node is in the loop:
# every payout costs an eth_estimateGas, the fees and a broadcast (and the
# tracker's receipts after).
# Start-up's cost (D50): signerd re-verifies every record after its
# snapshot with signerd/replay.c, the function `signerctl audit verify`
# runs on a whole journal; --chain-only runs the journal-layer checks
# alone, all that start-up and audit did before.  Both are timed on one
# large journal of real signed transfers (tests/tools/jnlfill), and their
# ratio is start-up's cost of verification.  jnlfill signs with a software
# test key that signerd does not hold (its keys live in the HSM), so
# signerd cannot start on that journal; it is timed starting on (b)'s own
# journal instead, with and without a snapshot.
#   BENCH_RECORDS       large-journal size for the journal and start-up
#                       figures (default 1000000)
#   BENCH_STATE_RECORDS requests of history for the request-state rows
#                       (default 10000000), BENCH_STATE_PER_DAY a day
#                       (default 125000: 1M inside a 7-day window)
#   BENCH_ONLY          "verify": only the setup and (e), start-up's
#                       verifier on BENCH_RECORDS records (a few minutes
#                       at 1M instead of the whole bench)
#   BENCH_RAW_SECONDS   length of each raw C_Sign run (default 5)
#   BENCH_COUNT_1       requests of the 1-client signerd run (default 5000)
#   BENCH_COUNT_N       requests of the 2-, 4- and 8-client runs (default
#                       10000)
#   BENCH_ORCH_PAYOUTS  payouts of each orchestratord run, and claims of
#                       each pgbench run (default 2000)
#   BENCH_P11KIT_CLIENT p11-kit's client module (default: p11-kit-1's
#                       p11_module_path/p11-kit-client.so)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RECORDS=${BENCH_RECORDS:-1000000}
RAW_SECONDS=${BENCH_RAW_SECONDS:-5}
COUNT_1=${BENCH_COUNT_1:-5000}
COUNT_N=${BENCH_COUNT_N:-10000}
ORCH_PAYOUTS=${BENCH_ORCH_PAYOUTS:-2000}
ONLY=${BENCH_ONLY:-}
ORCH_WARM=200
# Upper bounds per step, far above what a healthy run needs.
STEP_TIMEOUT=120
LONG_TIMEOUT=600
P11BENCH=$BUILD/tools/p11bench
JNLFILL=$BUILD/tools/jnlfill
STATEMEM=$BUILD/tools/statemem
STATE_RECORDS=${BENCH_STATE_RECORDS:-10000000}
STATE_PER_DAY=${BENCH_STATE_PER_DAY:-125000}
BENCH_JOURNAL=$BUILD/bench_journal
OUT_JSON=$BUILD/bench.json
P11KIT_CLIENT=${BENCH_P11KIT_CLIENT:-$(pkg-config --variable p11_module_path \
	p11-kit-1 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/pkcs11)/p11-kit-client.so}

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench: %s\n' "$*" >&2; }

case $ONLY in "" | verify) ;; *) die "BENCH_ONLY=$ONLY: expected verify or nothing" ;; esac
for b in "$BUILD/signerd" "$BUILD/signerctl" "$BUILD/tools/sdclient" \
	"$P11BENCH" "$JNLFILL" "$STATEMEM" "$BUILD/orchestratord"; do
	[ -x "$b" ] || die "$b is not built: run make (or make bench)"
done
for c in jq timeout cc sha256sum p11-kit curl; do
	command -v "$c" >/dev/null || die "$c not found: run scripts/deps"
done
[ -f "$P11KIT_CLIENT" ] ||
	die "$P11KIT_CLIENT not found: run scripts/deps or set BENCH_P11KIT_CLIENT"

. tests/lib/tap.sh
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh
. tests/bench/orch_bench.sh

# --- helpers ----------------------------------------------------------------
ROWS="$WORK/rows.tsv"
: >"$ROWS"

# field LINE KEY: the value of KEY=value in a "RAW ..." or "SUMMARY ..." line.
field() {
	local kv
	for kv in $1; do
		case $kv in "$2"=*) printf '%s' "${kv#*=}"; return 0 ;; esac
	done
	die "no $2= in: $1"
}

# calc EXPR [DECIMALS]: floating point, which bash lacks.
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'
}

# row FIGURE VALUE UNIT BASELINE_NAME BASELINE_VALUE [P50 P99 [NOTE]]
# NOTE: what a reader must know to read the figure (printed under it).
row() {
	local r=-
	[ "$5" = - ] || r=$(ratio "$2" "$5")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
		"$5" "$r" "${6:--}" "${7:--}" "${8:--}" >>"$ROWS"
}

now_ms() { date +%s%3N; }

# raw_sign SESSIONS THREADS [--evm-finish]: one bounded p11bench run; prints
# its RAW line.  Counted high and cut by time, so a fast or a slow machine
# both get RAW_SECONDS of signing.
raw_sign() {
	local s=$1 t=$2
	shift 2
	timeout "$STEP_TIMEOUT" "$P11BENCH" --module "$SOFTHSM_MODULE" \
		--token pkcs11:token=signer \
		--key 'pkcs11:token=signer;object=payout' \
		--pin-file "$WORK/user.pin" --sessions "$s" --threads "$t" \
		--count 200000 --max-seconds "$RAW_SECONDS" "$@" ||
		die "p11bench failed"
}

# p11kit_start: `p11-kit server` for token "signer", in the foreground
# under a timeout, on a unix socket in $WORK (its only listener).  Sets
# P11KIT_PID (the timeout's pid) and P11KIT_SRV (the server's own pid,
# the timeout's child); p11kit_stop, also run at exit, ends it by pid.
P11KIT_SOCK=$WORK/p11kit.sock
P11KIT_PID=
P11KIT_SRV=
p11kit_start() {
	local i
	rm -f "$P11KIT_SOCK"
	# Bounded like the five p11bench runs it lives through, and then some.
	timeout "$((6 * STEP_TIMEOUT))" p11-kit server -f \
		--provider "$SOFTHSM_MODULE" -n "$P11KIT_SOCK" \
		pkcs11:token=signer >"$WORK/p11kit.out" 2>"$WORK/p11kit.err" &
	P11KIT_PID=$!
	for ((i = 0; i < 500; i++)); do
		P11KIT_SRV=$(cat "/proc/$P11KIT_PID/task/$P11KIT_PID/children" \
			2>/dev/null) || P11KIT_SRV=
		P11KIT_SRV=${P11KIT_SRV%% *}
		[ -S "$P11KIT_SOCK" ] && [ -n "$P11KIT_SRV" ] && return 0
		kill -0 "$P11KIT_PID" 2>/dev/null || {
			wait "$P11KIT_PID" 2>/dev/null || :
			P11KIT_PID= P11KIT_SRV=
			die "p11-kit server exited: $(cat "$WORK/p11kit.err")"
		}
		sleep 0.02
	done
	die "p11-kit server made no socket in 10 s"
}

# p11kit_stop: SIGTERM to the server (the timeout around it then exits),
# SIGKILL if it has not gone in 10 s; a no-op when none runs.
p11kit_stop() {
	local i
	[ -n "$P11KIT_PID" ] || return 0
	# Without the server's pid yet, the timeout forwards the signal.
	kill -TERM "${P11KIT_SRV:-$P11KIT_PID}" 2>/dev/null || :
	for ((i = 0; i < 500; i++)); do
		kill -0 "$P11KIT_PID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$P11KIT_PID" 2>/dev/null; then
		kill -KILL "${P11KIT_SRV:-$P11KIT_PID}" 2>/dev/null || :
		kill -KILL "$P11KIT_PID" 2>/dev/null || :
	fi
	# Its exit status after SIGTERM says nothing about the figures.
	wait "$P11KIT_PID" 2>/dev/null || :
	P11KIT_PID= P11KIT_SRV=
}
on_exit 'p11kit_stop'

# p11kit_idle: waits (10 s at most) until the server has no child: the
# p11-kit-remote that served the last client has exited and been reaped,
# so its CPU time is in the server's cutime/cstime.
p11kit_idle() {
	local i
	for ((i = 0; i < 500; i++)); do
		kill -0 "$P11KIT_SRV" 2>/dev/null ||
			die "p11-kit server exited: $(cat "$WORK/p11kit.err")"
		[ -z "$(cat "/proc/$P11KIT_SRV/task/$P11KIT_SRV/children")" ] &&
			return 0
		sleep 0.02
	done
	die "p11-kit server still has a child 10 s after its client ended"
}

# p11kit_sign SESSIONS THREADS: raw_sign's run through p11-kit-client.so
# and the server; prints its RAW line plus host_cpu_us=, the CPU per
# signature of p11bench and the server with its p11-kit-remote together
# (the token's signing runs in p11-kit-remote).
p11kit_sign() {
	local clk s0 s1 line ok cu
	clk=$(getconf CLK_TCK)
	p11kit_idle
	s0=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$P11KIT_SRV/stat")
	line=$(P11_KIT_SERVER_ADDRESS="unix:path=$P11KIT_SOCK" \
		timeout "$STEP_TIMEOUT" "$P11BENCH" --module "$P11KIT_CLIENT" \
		--token pkcs11:token=signer \
		--key 'pkcs11:token=signer;object=payout' \
		--pin-file "$WORK/user.pin" --sessions "$1" --threads "$2" \
		--count 200000 --max-seconds "$RAW_SECONDS") ||
		die "p11bench through p11-kit server failed: $(cat "$WORK/p11kit.err")"
	p11kit_idle
	s1=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$P11KIT_SRV/stat")
	ok=$(field "$line" ok)
	cu=$(field "$line" cpu_us)
	printf '%s host_cpu_us=%s\n' "$line" \
		"$(calc "($s1 - $s0) / $clk * 1e6 / $ok + $cu" 1)"
}

# load CLIENTS COUNT PREFIX NONCE_BASE: sdclient load against the running signerd;
# prints its SUMMARY line plus cpu_us=, the host CPU per request of signerd
# and sdclient together (the token's signing runs inside signerd).
load() {
	local clk s0 s1 line cu cs tf="$WORK/load.time" TIMEFORMAT='%U %S'
	clk=$(getconf CLK_TCK)
	s0=$(awk '{ print $14 + $15 }' "/proc/$SD_PID/stat")
	# sd_load's arguments, called directly so timeout signals sdclient
	# itself rather than a shell around it.
	{ time timeout "$STEP_TIMEOUT" "$SDCLIENT" load \
		--socket "ipc://$SD_SOCK" --chain-id 1337 --to "$RECIPIENT" \
		--asset ETH --amount 1 --threads "$1" --count "$2" \
		--id-prefix "$3" --nonce-base "$4" --timeout-ms 30000 \
		>"$WORK/load.out" ; } \
		2>"$tf" || die "sdclient load ($1 clients) failed; see $WORK/load.out"
	s1=$(awk '{ print $14 + $15 }' "/proc/$SD_PID/stat")
	line=$(grep '^SUMMARY' "$WORK/load.out") || die "sdclient printed no SUMMARY"
	[ "$(field "$line" ok)" = "$2" ] || die "not every request was signed: $line"
	read -r cu cs < <(tail -1 "$tf")
	printf '%s cpu_us=%s\n' "$line" \
		"$(calc "(($s1 - $s0) / $clk + $cu + $cs) * 1e6 / $2" 1)"
}

# start_signerd LIMIT: starts signerd -f like signerd_start, but waits up to
# LIMIT seconds (a large journal replays for a while) and sets START_S to
# the time from exec to its "ready" log line, read from the line's own
# millisecond timestamp rather than from a poll.
start_signerd() {
	local limit=$1 t0 n0 i ts
	signerd_kill9
	rm -f "$SD_SOCK"
	n0=$(grep -c '"ready' "$WORK/signerd.log" 2>/dev/null) || n0=0
	t0=$(now_ms)
	"$SIGNERD" -c "$SD_CONF" -f 2>>"$WORK/signerd.log" &
	SD_PID=$!
	for ((i = 0; i < limit * 50; i++)); do
		if [ -S "$SD_SOCK" ] &&
			[ "$(grep -c '"ready' "$WORK/signerd.log")" -gt "$n0" ]; then
			ts=$(grep '"ready' "$WORK/signerd.log" | tail -1 |
				sed 's/.*"ts":"\([^"]*\)".*/\1/')
			START_S=$(calc "($(date -d "$ts" +%s%3N) - $t0) / 1000")
			return 0
		fi
		kill -0 "$SD_PID" 2>/dev/null ||
			{ SD_PID=; tail -5 "$WORK/signerd.log" >&2; die "signerd exited"; }
		sleep 0.02
	done
	die "signerd not ready after ${limit}s"
}

stop_signerd() {
	local t0
	t0=$(now_ms)
	signerd_stop || die "signerd did not stop cleanly"
	STOP_S=$(calc "($(now_ms) - $t0) / 1000")
}

hwm_mib() {
	awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SD_PID/status"
}

# verify_run ARGS...: one bounded `signerctl audit verify ARGS`; prints
# "WALL_S CPU_S RECORDS", the CPU being signerctl's user plus system time.
verify_run() {
	local tf="$WORK/verify.time" out="$WORK/verify.json" w u s
	local TIMEFORMAT='%R %U %S'
	{ time timeout "$LONG_TIMEOUT" "$SIGNERCTL" audit verify "$@" \
		--pubkey "$AUDIT_PEM" --json >"$out" ; } 2>"$tf" ||
		die "signerctl audit verify $* failed: $(head -c 800 "$out")"
	read -r w u s < <(tail -1 "$tf")
	printf '%s %s %s\n' "$w" "$(calc "$u + $s")" "$(jq -r .records "$out")"
}

# verify_section: (e).  jnlfill writes BENCH_RECORDS records (the genesis
# of signerd's journal from (b), then signed transfers that pass the
# verifier), and `signerctl audit verify` reads them three times: the
# journal layer alone (--chain-only: start-up and audit before D50), the
# full verifier (signerd/replay.c, what start-up runs now), the journal
# layer again; the two --chain-only runs are the baseline.  signerd
# itself cannot start on this journal (its records are signed by
# jnlfill's software test key; signerd's keys live in the HSM).
verify_section() {
	local big=$WORK/big-journal c1 f c2 w1 u1 n1 wf uf nf w2 u2 n2 l
	local f1 wf1 uf1 nf1
	local chain_s chain_cpu sha_s t0 note
	say "start-up's verifier: jnlfill writes $RECORDS records; signerctl" \
		"audit verify --chain-only, in full, --chain-only again"
	mkdir "$big"
	timeout "$LONG_TIMEOUT" "$JNLFILL" --from "$SD_JOURNAL" --to "$big" \
		--records "$RECORDS" >"$WORK/jnlfill.out" || die "jnlfill failed"
	c1=$(verify_run --chain-only --journal "$big")
	f=$(verify_run --journal "$big")
	f1=$(verify_run --threads 1 --journal "$big")
	c2=$(verify_run --chain-only --journal "$big")
	read -r w1 u1 n1 <<<"$c1"
	read -r wf uf nf <<<"$f"
	read -r wf1 uf1 nf1 <<<"$f1"
	read -r w2 u2 n2 <<<"$c2"
	for l in "$n1" "$nf" "$nf1" "$n2"; do
		[ "$l" = "$RECORDS" ] ||
			die "audit verify counted $l records of $RECORDS"
	done
	chain_s=$(calc "($w1 + $w2) / 2")
	chain_cpu=$(calc "($u1 + $u2) / 2")
	# The least any verifier does: hash every byte once.
	t0=$(now_ms)
	timeout "$LONG_TIMEOUT" sha256sum "$big"/seg-*.jsonl >/dev/null
	sha_s=$(calc "($(now_ms) - $t0) / 1000")
	note="signerd cannot start on this journal: jnlfill signs with a"
	note="$note software test key and signerd's keys live in the HSM; audit"
	note="$note verify runs start-up's own function (sd_replay_record) on"
	note="$note every record"
	row "audit verify --chain-only, $RECORDS records (mean of 2)" \
		"$(calc "$RECORDS / $chain_s" 0)" records/s \
		"sha256sum of the same segments" "$(calc "$RECORDS / $sha_s" 0)" \
		- - "the journal layer alone (chain, checkpoints, snapshots): what start-up and audit verified before D50"
	row "audit verify in full, $RECORDS records (start-up's verifier)" \
		"$(calc "$RECORDS / $wf" 0)" records/s \
		"audit verify --chain-only, runs before+after" \
		"$(calc "$RECORDS / $chain_s" 0)" - - "$note"
	row "audit verify in full, 2 threads, against sha256sum" \
		"$(calc "$RECORDS / $wf" 0)" records/s \
		"sha256sum of the same segments" "$(calc "$RECORDS / $sha_s" 0)" \
		- - "issue 12 goal: 0.5; bound by secp256k1 sender recovery, ~46 us per signed record on each core"
	row "audit verify in full, 2 threads (segments in parallel)" \
		"$(calc "$RECORDS / $wf" 0)" records/s "the same, --threads 1" \
		"$(calc "$RECORDS / $wf1" 0)" - - "same verdict and first bad record (tests/integration/audit_parallel.sh)"
	row "start-up cost of full verification, $RECORDS records, wall" \
		"$wf" s "--chain-only (start-up before), before+after" \
		"$chain_s" - - "$note"
	row "start-up cost of full verification, $RECORDS records, CPU" \
		"$uf" s "--chain-only (start-up before), before+after" \
		"$chain_cpu" - - "signerctl's user+system time"
}

# state_section: (h) signerd's request state under a long history (D55):
# tests/tools/statemem replays STATE_RECORDS requests, STATE_PER_DAY a UTC
# day, through signerd/state.c with a 7-day window, forgetting daily as
# signerd does.  The baseline is what each request cost before D55: its
# signed record's bytes (the raw transaction signerd kept, and more).
state_section() {
	local line rec_bytes
	say "request state: $STATE_RECORDS requests of history, $STATE_PER_DAY a day, 7-day window"
	line=$(timeout "$LONG_TIMEOUT" "$STATEMEM" --records "$STATE_RECORDS" \
		--per-day "$STATE_PER_DAY" --window 7) || die "statemem failed"
	rec_bytes=$(jq -s 'map(select(.type == "signed") | tostring | length) |
		(add / length) | floor' "$SD_JOURNAL"/seg-*.jsonl)
	row "state bytes per request inside the window ($(field "$line" live) live of $STATE_RECORDS)" \
		"$(field "$line" bytes_per_live)" B "a signed record's bytes" \
		"$rec_bytes" - - "issue 12 goal: at most 64 B (table slots of 32 B, grown by half when 7/8 full)"
	row "state RSS, $(field "$line" live) live requests after $STATE_RECORDS" \
		"$(field "$line" rss_mib)" MiB "RSS before the history" \
		"$(field "$line" rss_before_mib)" - - \
		"signerd adds its libraries (see the idle RSS row); goal: signerd at most 128 MiB; with a snapshot's buffers $(field "$line" rss_snapshot_mib) MiB, peak $(field "$line" hwm_mib) MiB"
	row "snapshot of $(field "$line" live) requests: state lock held" \
		"$(field "$line" snapshot_lock_ms)" ms "the snapshot's state, written in all" \
		"$(field "$line" snapshot_ms)" - - "signing goes on while the copy is sorted and written ($(field "$line" snapshot_bytes) bytes)"
}

# groupcommit_section: (i) group commit with every fdatasync 10 ms slower
# (tests/tools/slowsync.so), 8 clients against 1, from
# tests/bench/bench_sign.sh on a token and journal of its own.
groupcommit_section() {
	local f v u bn bv
	say "group commit: every fdatasync 10 ms slower, 1 and 8 clients"
	BENCH_SIGN_SLOW_ONLY=1 BUILD=$BUILD timeout "$LONG_TIMEOUT" \
		tests/bench/bench_sign.sh >"$WORK/groupcommit.tsv" ||
		die "tests/bench/bench_sign.sh failed"
	while IFS=$'\t' read -r f v u bn bv; do
		row "$f" "$v" "$u" "$bn" "$bv" - - \
			"issue 12 goal: 640/s; the batch is bounded by the clients waiting, not by a thread count"
	done <"$WORK/groupcommit.tsv"
}

# report_table: the rows as a table, and what they add up to.
report_table() {
	local f v u bn bv r p50 p99 note l k CPU8 BEST
	LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
	{
		printf '\n%-64s %14s   %-44s %12s %6s %8s %8s\n' figure value baseline \
			"" ratio p50_ms p99_ms
		printf '%.0s-' {1..158}
		printf '\n'
		while IFS=$'\t' read -r f v u bn bv r p50 p99 note; do
			[ "$bv" = - ] && bv= || bv="$bv $u"
			printf '%-64s %14s | %-44s %12s %6s %8s %8s\n' "$f" "$v $u" \
				"$bn" "$bv" "$r" "$p50" "$p99"
			[ "$note" = - ] || printf '    note: %s\n' "$note"
		done <"$ROWS"
		printf '\n%s CPUs; load average %s before, %s after.\n' "$(nproc)" \
			"$LOAD0" "$LOAD1"
		# BENCH_ONLY=verify: no signing runs, no orchestrator.
		[ -z "$ONLY" ] || return 0
		printf 'raw C_Sign 2-session runs, in order (/s):'
		for l in "${RAW22[@]}"; do printf ' %s' "$(field "$l" rate)"; done
		printf '\n'
		# Where a worker's time goes, and which baseline is the ceiling.
		for k in 2 4; do
			printf 'orchestratord, %s workers, %s payouts: %s ms per payout and worker;' \
				"$k" "$ORCH_PAYOUTS" "$(calc "$k * 1000 / ${OR[rate$k]}" 1)"
			printf ' alone, the node'"'"'s 4 calls take %s ms, one claim %s ms (%s clients);' \
				"$(calc "1000 / ${OR[node$k]}" 1)" "${OR[claim_ms$k]}" "$k"
			printf ' signerd'"'"'s round trip %s ms (mean, /metrics)\n' "${OR[sign$k]}"
			printf '  the node (anvil): %s calls timed out (%s ms each), replayed alone: %s; its CPU per payout %s us replayed alone\n' \
				"${OR[lost$k]}" "$OB_EVM_TIMEOUT_MS" \
				"${OR[node_lost$k]}" "${OR[node_cpu$k]}"
			printf '  host CPU per payout %s us (host %s busy, the node %s of one core, all its threads): the node %s, PostgreSQL %s, signerd %s, orchestratord %s, other processes %s\n' \
				"${OR[cpu$k]}" "$(calc "${OR[busy$k]} * 100" 0)%" \
				"$(calc "${OR[node_core$k]} * 100" 0)%" \
				"${OR[cpu_node$k]}" "${OR[cpu_pg$k]}" "${OR[cpu_sd$k]}" \
				"${OR[cpu_orch$k]}" "$(calc "${OR[cpu$k]} - ${OR[cpu_node$k]} - ${OR[cpu_pg$k]} - ${OR[cpu_sd$k]} - ${OR[cpu_orch$k]}" 0)"
			printf '%s\t%s\n' "${OR[claim$k]}" "claim_payout() alone, $k clients" \
				"$(field "${SD[$k]}" rate)" "signerd sign, $k clients" \
				"${OR[node$k]}" "the node alone, the same calls" |
				sort -g | head -1 | {
				IFS=$'\t' read -r v name
				printf '  slowest baseline: %s, %s/s; orchestratord reaches %s of it\n' \
					"$name" "$v" "$(ratio "${OR[rate$k]}" "$v")"
			}
		done
	}
	# SoftHSM signs on the same cores as everything else, so when the raw
	# loop keeps both cores busy, signerd's rate is capped by its CPU per
	# signature relative to a bare C_Sign's.
	CPU8=$(awk -F'\t' '$1 ~ /^host CPU per signature.*, 8 client/ { print $6 }' "$ROWS")
	printf 'CPU-bound ceiling for signerd on this box: 1 / %s = %s of raw\n' \
		"$CPU8" "$(calc "1 / $CPU8" 2)"
	BEST=$(awk -F'\t' '$1 ~ /^signerd sign/ && $6 > b { b = $6; f = $1 } END { print b "\t" f }' "$ROWS")
	printf 'goal: signerd sign >= 0.85 x raw C_Sign (same token, 2 sessions): best %s (%s): %s\n' \
		"${BEST%%$'\t'*}" "${BEST#*$'\t'}" \
		"$(awk -v b="${BEST%%$'\t'*}" 'BEGIN { print (b >= 0.85) ? "met" : "not met" }')"
}

# report_json: every row and the run's circumstances in $OUT_JSON.
report_json() {
	local RAW_RATES ORCH_JSON key l
	RAW_RATES=$(for l in "${RAW22[@]}"; do field "$l" rate; printf ' '; done)
	# (g)'s figures by name (rate2, claim1, cpu_node4, ...), as numbers.
	ORCH_JSON=$(for key in "${!OR[@]}"; do printf '%s\t%s\n' "$key" "${OR[$key]}"; done |
		jq -R -s --arg n "$ORCH_PAYOUTS" --arg t "$OB_EVM_TIMEOUT_MS" '
		split("\n") | map(select(length > 0) | split("\t") |
		  { (.[0]): (.[1] | tonumber) }) | add +
		{ payouts: ($n | tonumber), evm_timeout_ms: ($t | tonumber) }')
	jq -R -s --arg cpus "$(nproc)" --arg load0 "$LOAD0" --arg load1 "$LOAD1" \
		--arg raw "$RAW_RATES" --argjson orch "$ORCH_JSON" \
		--arg records "$RECORDS" --arg only "$ONLY" --arg commit "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--arg signerd "$(sha256sum "$SIGNERD" | cut -c1-16) $(date -u -r "$SIGNERD" +%Y-%m-%dT%H:%M:%SZ)" '
		def num: if . == "-" or . == "" then null else tonumber end;
		{ date: $date, commit: $commit, signerd_binary: $signerd,
		  cpus: ($cpus | tonumber),
		  loadavg_before: $load0, loadavg_after: $load1,
		  large_journal_records: ($records | tonumber),
		  bench_only: (if $only == "" then null else $only end),
		  raw_2session_rates_in_order: ($raw | split(" ") |
		    map(select(length > 0) | tonumber)),
		  orchestrator: $orch,
		  rows: (split("\n") | map(select(length > 0) | split("\t") |
		    { figure: .[0], value: (.[1] | num), unit: .[2],
		      baseline: .[3], baseline_value: (.[4] | num),
		      ratio: (.[5] | num), p50_ms: (.[6] | num),
		      p99_ms: (.[7] | num),
		      note: (.[8] | if . == "-" then null else . end) })) }' \
		"$ROWS" >"$OUT_JSON"
	printf 'bench: wrote %s\n' "$OUT_JSON"
}

# --- setup ------------------------------------------------------------------
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "$(nproc) CPUs, load average $LOAD0; work dir $WORK"
signerd_provision >/dev/null || die "provisioning the token failed"
# The test policy's daily limit would refuse a benchmark's worth of
# payouts; the same policy with a limit that never bites keeps every other
# rule (and follows the test policy when it changes).
jq '.policy_id = "bench-policy-1" |
	.assets.ETH.daily_limit = "1000000000000000000000000000"' \
	"$WORK/policy.json" >"$WORK/bench-policy.json" ||
	die "cannot derive the bench policy from $WORK/policy.json"
sed -i "s|^genesis = .*|genesis = $WORK/bench-policy.json|" "$SD_CONF"
grep -q '^sessions = 2$' "$SD_CONF" && grep -q '^workers = 4$' "$SD_CONF" ||
	die "expected sessions = 2 and workers = 4 in $SD_CONF"

if [ "$ONLY" = verify ]; then
	# jnlfill takes its genesis record from a journal signerd began.
	start_signerd 60
	stop_signerd
	RAW22=()
	declare -A OR=()
	verify_section
	report_table
	report_json
	exit 0
fi

# --- (a) raw C_Sign and (b) signerd's full path, interleaved ----------------
# signerd stays up, idle, during the raw runs (it wakes once a second), so
# every figure below has a raw 2-session run right before and after it.
start_signerd 60
START_EMPTY=$START_S
HWM_IDLE=$(hwm_mib)
RAW22=()
say "raw C_Sign: 2 sessions x 2 threads; 1 x 1; 2 x 2 with evm_sig_finish"
RAW22+=("$(raw_sign 2 2)")
RAW11=$(raw_sign 1 1)
RAWF=$(raw_sign 2 2 --evm-finish)
RAW22+=("$(raw_sign 2 2)")
declare -A SD
for c in 1 2 4 8; do
	say "signerd with $c client(s), then raw C_Sign 2 sessions"
	[ "$c" = 1 ] && n=$COUNT_1 || n=$COUNT_N
	# Each payout needs its own nonce (invariant 5).
	SD[$c]=$(load "$c" "$n" "bench-c$c" $((c * 1000000)))
	RAW22+=("$(raw_sign 2 2)")
done
HWM_LOAD=$(hwm_mib)
# --- (f) the same token through `p11-kit server`, with signerd idle too -----
# One client process holds one connection, served by one p11-kit-remote.
say "p11-kit server remoting 2 sessions x 2 threads, raw C_Sign 2 x 2;" \
	"raw 1 x 1, remoting 1 x 1, raw 1 x 1"
p11kit_start
P11K_RAW=$((${#RAW22[@]} - 1))
P11K22=$(p11kit_sign 2 2)
RAW22+=("$(raw_sign 2 2)")
RAW11P=("$(raw_sign 1 1)")
P11K11=$(p11kit_sign 1 1)
RAW11P+=("$(raw_sign 1 1)")
p11kit_stop

# --- (g) orchestratord: payouts APPROVED -> SUBMITTED, and its baselines -----
# signerd from (b) signs; the baselines run after, each alone.
say "orchestratord: $ORCH_PAYOUTS payouts with 2 and with 4 workers;" \
	"the node's calls alone; claim_payout() alone (pgbench, 1, 2, 4 clients)"
ob_setup
# Untimed: the node, PostgreSQL's caches and signerd's journal warm up
# on these, so that the first timed run is not the cold one.
ob_orch_run 2 "$ORCH_WARM" warm
declare -A OR
for k in 2 4; do
	ob_orch_run "$k" "$ORCH_PAYOUTS" "orch$k"
	OR[rate$k]=$OB_RATE OR[lost$k]=$OB_LOST OR[sign$k]=$OB_SIGN_MS
	OR[hwm0_$k]=$OB_HWM0 OR[hwm1_$k]=$OB_HWM1 OR[busy$k]=$OB_BUSY
	OR[cpu$k]=$OB_CPU_US OR[cpu_node$k]=$OB_CPU_NODE_US
	OR[cpu_pg$k]=$OB_CPU_PG_US OR[cpu_sd$k]=$OB_CPU_SD_US
	OR[cpu_orch$k]=$OB_CPU_ORCH_US OR[count$k]=$OB_COUNT
	OR[conf$k]=$OB_CONF_RATE OR[cpu_conf$k]=$OB_CPU_CONF_US
	# anvil runs several threads: its CPU in cores (1.00 is one core's
	# worth, over 1 when its threads run on both), from the ticks of all.
	OR[node_core$k]=$(calc "$OB_CPU_NODE_US * $OB_RATE / 1e6" 2)
done
# The same chain again, from its first block: the warm-up's calls (untimed)
# and then each run's.
ob_node_fresh
ob_node_replay 2 warm
for k in 2 4; do
	ob_node_replay "$k" "orch$k"
	OR[node$k]=$OB_NODE_RATE
	OR[node_lost$k]=$OB_NODE_LOST OR[node_cpu$k]=$OB_NODE_CPU_US
done
for c in 1 2 4; do
	ob_claim_run "$c" "$ORCH_PAYOUTS"
	OR[claim$c]=$OB_CLAIM_RATE OR[claim_ms$c]=$OB_CLAIM_MS
done
ob_teardown
# Round trips per payout, creation (POST) to CONFIRMED, 4 workers: counts,
# not times (tests/bench/orch_counts.sh, servers of its own).
say "orchestratord: statements, commits and calls per payout (orch_counts.sh)"
BUILD=$BUILD timeout "$LONG_TIMEOUT" bash tests/bench/orch_counts.sh \
	>"$WORK/counts.txt" 2>"$WORK/counts.err" ||
	die "orch_counts.sh failed: $(tail -3 "$WORK/counts.err")"
count_of() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/counts.txt"; }

stop_signerd
STOP_B=$STOP_S
JOURNAL_B=$(cat "$SD_JOURNAL"/seg-*.jsonl | wc -l)
# A restart on (b)'s journal: signerd wrote a snapshot at its head on stop.
start_signerd 60
START_B=$START_S
stop_signerd
# The same journal without its snapshots: signerd verifies every record
# (D50), as after a lost or unreadable snapshot; then audit verify, the
# same function without HSM and sandbox, on the same records.
rm -f "$SD_JOURNAL"/snap-*.bin
start_signerd "$LONG_TIMEOUT"
START_B_FULL=$START_S
stop_signerd
read -r VB_S VB_CPU VB_N <<<"$(verify_run --journal "$SD_JOURNAL")"

# raw_mean KEY I J: mean of KEY over raw 2-session runs I..J.
raw_mean() {
	local k sum=0 n=0
	for ((k = $2; k <= $3; k++)); do
		sum=$(calc "$sum + $(field "${RAW22[k]}" "$1")" 1)
		n=$((n + 1))
	done
	calc "$sum / $n" 1
}
LAST=$((${#RAW22[@]} - 1))
R22=$(raw_mean rate 0 $LAST)
row "raw C_Sign, 2 sessions x 2 threads (mean of $((LAST + 1)))" "$R22" /s \
	"(baseline)" "$R22" "$(field "${RAW22[0]}" p50_ms)" \
	"$(field "${RAW22[0]}" p99_ms)"
row "raw C_Sign, 1 session x 1 thread" "$(field "$RAW11" rate)" /s \
	"raw C_Sign 2 sessions, runs before+after" "$(raw_mean rate 0 1)" \
	"$(field "$RAW11" p50_ms)" "$(field "$RAW11" p99_ms)"
row "raw C_Sign + evm_sig_finish, 2 sessions" "$(field "$RAWF" rate)" /s \
	"raw C_Sign 2 sessions, runs before+after" "$(raw_mean rate 0 1)" \
	"$(field "$RAWF" p50_ms)" "$(field "$RAWF" p99_ms)"
row "evm_sig_finish alone, per signature" "$(field "$RAWF" finish_us)" us \
	"raw C_Sign CPU per signature" "$(raw_mean cpu_us 0 1)"
i=1
for c in 1 2 4 8; do
	l=${SD[$c]}
	row "signerd sign, $c client(s), workers 4" "$(field "$l" rate)" /s \
		"raw C_Sign 2 sessions, runs before+after" \
		"$(raw_mean rate $i $((i + 1)))" "$(field "$l" p50_ms)" \
		"$(field "$l" p99_ms)"
	row "host CPU per signature, signerd+client, $c client(s)" \
		"$(field "$l" cpu_us)" us "raw C_Sign CPU per signature" \
		"$(raw_mean cpu_us $i $((i + 1)))"
	i=$((i + 1))
done
row "host CPU signerd+client add beyond raw C_Sign, 4 clients" \
	"$(calc "$(field "${SD[4]}" cpu_us) - $(raw_mean cpu_us 3 4)" 1)" us \
	"raw C_Sign CPU per signature" "$(raw_mean cpu_us 3 4)" - - \
	"issue 12 goal: at most 150 us; p99 at 4 clients $(field "${SD[4]}" p99_ms) ms (goal 5 ms)"
row "signerd peak RSS (VmHWM) under load" "$HWM_LOAD" MiB \
	"VmHWM right after start-up" "$HWM_IDLE"
row "p11-kit server remoting, 2 sessions x 2 threads" "$(field "$P11K22" rate)" \
	/s "raw C_Sign 2 sessions, runs before+after" \
	"$(raw_mean rate $P11K_RAW $((P11K_RAW + 1)))" "$(field "$P11K22" p50_ms)" \
	"$(field "$P11K22" p99_ms)"
row "p11-kit server remoting, 1 session x 1 thread" "$(field "$P11K11" rate)" \
	/s "raw C_Sign 1 session, runs before+after" \
	"$(calc "($(field "${RAW11P[0]}" rate) + $(field "${RAW11P[1]}" rate)) / 2" 1)" \
	"$(field "$P11K11" p50_ms)" "$(field "$P11K11" p99_ms)"
row "host CPU per signature, p11-kit server+client, 2 sessions" \
	"$(field "$P11K22" host_cpu_us)" us "raw C_Sign CPU per signature" \
	"$(raw_mean cpu_us $P11K_RAW $((P11K_RAW + 1)))"
# The orchestrator's (g), baselines first.
row "claim_payout() alone (pgbench), 1 client" "${OR[claim1]}" /s \
	"(baseline)" "${OR[claim1]}"
for c in 2 4; do
	row "claim_payout() alone (pgbench), $c clients" "${OR[claim$c]}" /s \
		"claim_payout() alone, 1 client" "${OR[claim1]}"
done
for k in 2 4; do
	row "the node (anvil) alone: the $k-worker run's calls, $k connections" \
		"${OR[node$k]}" /s "-" -
done
for k in 2 4; do
	f="orchestratord APPROVED->SUBMITTED, $k workers (${OR[lost$k]} lost)"
	row "$f" "${OR[rate$k]}" /s "claim_payout() alone, $k clients" \
		"${OR[claim$k]}"
	row "$f" "${OR[rate$k]}" /s "signerd sign, $k clients" \
		"$(field "${SD[$k]}" rate)"
	row "$f" "${OR[rate$k]}" /s "the node alone, the same calls" \
		"${OR[node$k]}"
	row "orchestratord peak RSS (VmHWM), $k workers" "${OR[hwm1_$k]}" MiB \
		"VmHWM right after start-up" "${OR[hwm0_$k]}"
	row "CPU per payout, $k workers, the node's part" \
		"${OR[cpu_node$k]}" us "node+PostgreSQL+signerd+orchestratord" \
		"$((${OR[cpu_node$k]} + ${OR[cpu_pg$k]} + ${OR[cpu_sd$k]} + ${OR[cpu_orch$k]}))"
	row "host CPU per payout, creation to CONFIRMED, $k workers" \
		"${OR[cpu_conf$k]}" us "host CPU per payout to SUBMITTED" \
		"${OR[cpu$k]}" - - "issue 13 goal: at most 4000 us (4 workers)"
	row "orchestratord payouts CONFIRMED, $k workers" "${OR[conf$k]}" /s \
		"APPROVED->SUBMITTED, $k workers" "${OR[rate$k]}" - - \
		"issue 13 goal: CONFIRMED as fast as SUBMITTED (ratio 1)"
	printf '%s\t%s\n' "${OR[claim$k]}" "claim_payout() alone, $k clients" \
		"$(field "${SD[$k]}" rate)" "signerd sign, $k clients" \
		"${OR[node$k]}" "the node alone, the same calls" | sort -g | head -1 | {
		IFS=$'\t' read -r v name
		row "orchestratord APPROVED->SUBMITTED, $k workers, vs its slowest baseline" \
			"${OR[rate$k]}" /s "$name" "$v" - - \
			"issue 13 goal: at least 0.8 (4 workers)"
	}
done
row "PostgreSQL top-level statements (commits) per payout, to CONFIRMED" \
	"$(count_of pg_top_statements_per_payout)" /payout "-" - - - \
	"and $(count_of pg_all_statements_per_payout) with nested ones; 4 workers, $(count_of payouts) payouts, idle workers' claims included"
row "JSON-RPC calls per payout, to CONFIRMED" \
	"$(count_of rpc_calls_per_payout)" /payout "-" - - - \
	"a batch counts once ($(count_of rpc_batch_total) batches in all)"
row "signerd requests per payout" "$(count_of signerd_sign_per_payout)" \
	/payout "-" -

# --- (c) journal appends and open time --------------------------------------
say "journal: appends with 1 and 8 threads, open of $RECORDS records"
# The command from tests/bench/bench_journal.c's header comment.
timeout "$STEP_TIMEOUT" cc -I. -D_GNU_SOURCE -std=c11 -O2 -o "$BENCH_JOURNAL" \
	tests/bench/bench_journal.c "$BUILD/libjournal.a" "$BUILD/libproto.a" \
	"$BUILD/libcommon.a" -ljansson -lcrypto -lpthread
timeout "$LONG_TIMEOUT" "$BENCH_JOURNAL" "$WORK" "$RECORDS" >"$WORK/journal.out" ||
	die "bench_journal failed: $(cat "$WORK/journal.out")"
jline() { grep "^$1" "$WORK/journal.out" || die "bench_journal printed no '$1'"; }
appends() { jline "$1" | sed 's/.* = \([0-9.]*\) appends\/s.*/\1/'; }
open_s() { jline "$1" | sed 's/.*: \([0-9.]*\) s$/\1/'; }
A1=$(appends "append 1 thread")
A8=$(appends "append 8 thread")
O_CHAIN=$(open_s "open, hash chain only")
O_NOSNAP=$(open_s "open, no snapshot")
O_SNAP=$(open_s "open, snapshot at the head")
row "journal append, 8 threads (group commit)" "$A8" /s \
	"journal append, 1 thread" "$A1"
row "jnl_open $RECORDS records, no snapshot (replay)" "$O_NOSNAP" s \
	"jnl_open, hash chain only" "$O_CHAIN"
row "jnl_open $RECORDS records, snapshot at head" "$O_SNAP" s \
	"jnl_open, no snapshot" "$O_NOSNAP"

# --- (e) start-up's verifier on a large journal (verify_section) ------------
row "signerd start-up, (b) journal ($JOURNAL_B records, snapshot)" \
	"$START_B" s "signerd start-up, new journal" "$START_EMPTY"
row "signerd start-up, (b) journal, no snapshot (all verified)" \
	"$START_B_FULL" s "signerd start-up, (b) journal, snapshot" "$START_B"
row "signerd clean stop after (b) (drain, checkpoint, snapshot)" \
	"$STOP_B" s "signerd start-up, (b) journal, snapshot" "$START_B" - - \
	"issue 12 goal: at most 1 s; the snapshot holds the state lock only to copy the request table"
row "audit verify in full, (b) journal ($VB_N records)" "$VB_S" s \
	"signerd start-up, (b) journal, no snapshot" "$START_B_FULL" - - \
	"the verifier alone, without HSM login, sandbox and listener ($VB_CPU s CPU): how well (e)'s figures stand for signerd's start-up"
verify_section
state_section
groupcommit_section

# --- the table and the JSON -------------------------------------------------
report_table
report_json
