#!/usr/bin/env bash
# bench_sign.sh: signerd's sign path against raw C_Sign on the same SoftHSM
# token and sessions, for one or two signerd builds in one run, so each
# figure has a baseline measured minutes apart on the same noisy machine
# (issue 12 items 6 and 7).
#
#   BUILD=build tests/bench/bench_sign.sh [BASE_BUILD_DIR]
#
# BUILD is the build measured (signerd, signerctl, tools); BASE_BUILD_DIR,
# optional, another build's directory (e.g. /tmp/base/build-base) whose
# signerd is measured the same way on a journal of its own: its figures
# are printed as "base ..." rows and used as the baselines of BUILD's.
# Rows on stdout, tab-separated:
#   figure  value  unit  baseline-name  baseline-value
# Figures: raw C_Sign (p11bench, 2 sessions x 2 threads) rate and CPU per
# signature; per signerd: signatures/s, p50 and p99 at 1, 4 and 8 clients,
# host CPU per signature at 4 clients (signerd's /proc/PID/stat plus
# sdclient's user+system time, as scripts/bench.sh's load()) and that
# minus raw C_Sign's; with build/tools/slowsync.so delaying every
# fdatasync by 10 ms: signatures/s at 8 clients and records per fdatasync
# (journal lines added / fdatasyncs the shim counted).
# Bounded: every step has a count and a timeout; only processes started
# here are stopped, by pid.  Timings are never pass/fail.
#   BENCH_RAW_SECONDS (5), BENCH_COUNT_1 (1500), BENCH_COUNT_N (6000),
#   BENCH_COUNT_SLOW (2000), BENCH_SLOWSYNC_MS (10)
#   BENCH_SIGN_SLOW_ONLY=1: only the slow-fsync runs (scripts/bench.sh
#   measures the rest itself), with a 1-client slow run as their baseline.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BASE=${1:-}
RAW_SECONDS=${BENCH_RAW_SECONDS:-5}
COUNT_1=${BENCH_COUNT_1:-1500}
COUNT_N=${BENCH_COUNT_N:-6000}
COUNT_SLOW=${BENCH_COUNT_SLOW:-2000}
SLOW_MS=${BENCH_SLOWSYNC_MS:-10}
STEP_TIMEOUT=180
SHIM=$(realpath "$BUILD")/tools/slowsync.so

die() { printf 'bench_sign: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench_sign: %s\n' "$*" >&2; }
for b in "$BUILD/signerd" "$BUILD/signerctl" "$BUILD/tools/sdclient" \
	"$BUILD/tools/p11bench" "$SHIM" ${BASE:+"$BASE/signerd" "$BASE/tools/sdclient"}; do
	[ -e "$b" ] || die "$b is not built"
done

. tests/lib/tap.sh
. tests/lib/signerd.sh

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
field() {
	local kv
	for kv in $1; do
		case $kv in "$2"=*) printf '%s' "${kv#*=}"; return 0 ;; esac
	done
	die "no $2= in: $1"
}
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"; }

signerd_provision || die "provisioning failed"

raw_sign() {
	timeout "$STEP_TIMEOUT" "$BUILD/tools/p11bench" --module "$SOFTHSM_MODULE" \
		--token pkcs11:token=signer \
		--key 'pkcs11:token=signer;object=payout' \
		--pin-file "$WORK/user.pin" --sessions 2 --threads 2 \
		--count 200000 --max-seconds "$RAW_SECONDS" || die "p11bench failed"
}

# start_variant NAME SIGNERD [ENV...]: signerd from SIGNERD on a fresh
# journal of its own ($WORK/j-NAME), the provisioned config otherwise.
start_variant() {
	local name=$1 bin=$2 conf="$WORK/signerd-$1.conf"
	shift 2
	mkdir -p "$WORK/j-$name"
	chown "$SD_USER" "$WORK/j-$name"
	sed "s|^dir = .*|dir = $WORK/j-$name|" "$SD_CONF" >"$conf"
	SD_JOURNAL_CUR="$WORK/j-$name"
	# Each signerd with its own build's client: the protocol may differ.
	SDCLIENT_CUR="$(dirname "$bin")/tools/sdclient"
	: >"$WORK/signerd.log"
	# -A: the token's anchor names the previous variant's journal.
	SIGNERD=$bin SD_CONF=$conf SD_ARGS=-A SD_WRAP="${*:+env $*}" signerd_start ||
		die "signerd ($name) did not start: $(tail -3 "$WORK/signerd.log")"
}

# load CLIENTS COUNT: prints "rate p50 p99 cpu_us" (cpu_us: signerd's and
# sdclient's CPU per request).  Run in a subshell ($(...)), so the ids and
# nonces come from a counter file: each request is new, never a repeat.
next_ids() {
	local n
	n=$(cat "$WORK/nonce" 2>/dev/null || echo 0)
	echo $((n + $1)) >"$WORK/nonce"
	echo "$n"
}
load() {
	local base
	base=$(next_ids "$2")
	local clk s0 s1 line cu cs tf="$WORK/load.time" TIMEFORMAT='%U %S'
	clk=$(getconf CLK_TCK)
	s0=$(awk '{ print $14 + $15 }' "/proc/$SD_PID/stat")
	{ time timeout "$STEP_TIMEOUT" "$SDCLIENT_CUR" load \
		--socket "ipc://$SD_SOCK" --chain-id 1337 --to "$RECIPIENT" \
		--asset ETH --amount 1 --threads "$1" --count "$2" \
		--id-prefix "b$base" --nonce-base "$base" --timeout-ms 60000 \
		>"$WORK/load.out" ; } 2>"$tf" || die "sdclient load ($1 clients) failed"
	s1=$(awk '{ print $14 + $15 }' "/proc/$SD_PID/stat")
	line=$(grep '^SUMMARY' "$WORK/load.out") || die "sdclient printed no SUMMARY"
	[ "$(field "$line" ok)" = "$2" ] || die "not every request was signed: $line"
	read -r cu cs < <(tail -1 "$tf")
	printf '%s %s %s %s\n' "$(field "$line" rate)" "$(field "$line" p50_ms)" \
		"$(field "$line" p99_ms)" \
		"$(calc "(($s1 - $s0) / $clk + $cu + $cs) * 1e6 / $2")"
}

journal_lines() { cat "$SD_JOURNAL_CUR"/seg-*.jsonl 2>/dev/null | wc -l; }

# measure NAME SIGNERD: sets R1 P1_50 ... for that signerd into M_<NAME>_*.
measure() {
	local name=$1 bin=$2 r p50 p99 cpu syncs
	if [ -z "${BENCH_SIGN_SLOW_ONLY:-}" ]; then
		say "$name: signerd at 1, 4 and 8 clients"
		start_variant "$name" "$bin"
		load 4 200 >/dev/null	# warm-up: sessions, caches, the first segment
		for c in 1 4 8; do
			read -r r p50 p99 cpu < <(load "$c" "$([ "$c" = 1 ] && echo "$COUNT_1" || echo "$COUNT_N")")
			printf -v "M_${name}_rate_$c" '%s' "$r"
			printf -v "M_${name}_p50_$c" '%s' "$p50"
			printf -v "M_${name}_p99_$c" '%s' "$p99"
			printf -v "M_${name}_cpu_$c" '%s' "$cpu"
		done
		signerd_stop || die "signerd ($name) did not stop cleanly"
	fi
	say "$name: signerd with every fdatasync $SLOW_MS ms slower, 1 client"
	start_variant "$name-slow1" "$bin" LD_PRELOAD="$SHIM" \
		SLOWSYNC_MS="$SLOW_MS" ASAN_OPTIONS=verify_asan_link_order=0
	read -r r p50 p99 cpu < <(load 1 200)
	printf -v "M_${name}_slowrate1" '%s' "$r"
	signerd_stop || die "signerd ($name, slowsync) did not stop cleanly"
	say "$name: signerd with every fdatasync $SLOW_MS ms slower, 8 clients"
	start_variant "$name-slow" "$bin" LD_PRELOAD="$SHIM" SLOWSYNC_MS="$SLOW_MS" \
		ASAN_OPTIONS=verify_asan_link_order=0
	load 8 200 >/dev/null
	read -r r p50 p99 cpu < <(load 8 "$COUNT_SLOW")
	printf -v "M_${name}_slowrate" '%s' "$r"
	signerd_stop || die "signerd ($name, slowsync) did not stop cleanly"
	# The shim's count covers the whole run: warm-up, lifecycle records
	# and checkpoints too, so records/fdatasync is of the whole run.
	syncs=$(grep -o 'slowsync: fdatasync=[0-9]*' "$WORK/signerd.log" | tail -1 | cut -d= -f2)
	[ -n "$syncs" ] && [ "$syncs" -gt 0 ] || die "slowsync counted no fdatasync"
	printf -v "M_${name}_perflush" '%s' "$(calc "$(journal_lines) / $syncs" 2)"
	printf -v "M_${name}_maxbatch" '%s' \
		"$(grep -o 'at most [0-9]* in one' "$WORK/signerd.log" | tail -1 | awk '{print $3}')"
}

if [ -n "${BENCH_SIGN_SLOW_ONLY:-}" ]; then
	measure new "$BUILD/signerd"
	row "slowsync ${SLOW_MS}ms, 8 clients, signatures/s" "$M_new_slowrate" /s \
		"the same, 1 client" "$M_new_slowrate1"
	row "slowsync ${SLOW_MS}ms, records per fdatasync (8 clients)" \
		"$M_new_perflush" records "clients waiting" 8
	row "slowsync ${SLOW_MS}ms, 8 clients, against the goal" "$M_new_slowrate" /s \
		"goal 0.8 x 8 / ${SLOW_MS} ms" "$(calc "0.8 * 8000 / $SLOW_MS" 0)"
	exit 0
fi
say "raw C_Sign, 2 sessions x 2 threads"
RAW1=$(raw_sign)
[ -n "$BASE" ] && measure base "$BASE/signerd"
measure new "$BUILD/signerd"
RAW2=$(raw_sign)
RAW_RATE=$(calc "($(field "$RAW1" rate) + $(field "$RAW2" rate)) / 2")
RAW_CPU=$(calc "($(field "$RAW1" cpu_us) + $(field "$RAW2" cpu_us)) / 2")

row "raw C_Sign 2 sessions, signatures/s (mean of 2)" "$RAW_RATE" sig/s - -
row "raw C_Sign 2 sessions, CPU per signature" "$RAW_CPU" us - -
emit() {
	local p=$1 label=$2 bn bv c
	for c in 1 4 8; do
		eval "v=\$M_${p}_rate_$c"
		row "$label signerd $c clients, signatures/s" "$v" sig/s "raw C_Sign" "$RAW_RATE"
		eval "v=\$M_${p}_p50_$c; w=\$M_${p}_p99_$c"
		if [ -n "$BASE" ] && [ "$p" = new ]; then
			eval "bn=\$M_base_p50_$c; bv=\$M_base_p99_$c"
			row "$label signerd $c clients, p50" "$v" ms "base p50" "$bn"
			row "$label signerd $c clients, p99" "$w" ms "base p99" "$bv"
		else
			row "$label signerd $c clients, p50" "$v" ms - -
			row "$label signerd $c clients, p99" "$w" ms - -
		fi
	done
	eval "v=\$M_${p}_cpu_4"
	row "$label host CPU per signature, 4 clients (signerd+sdclient)" "$v" us "raw C_Sign CPU" "$RAW_CPU"
	row "$label host CPU beyond raw C_Sign, 4 clients" "$(calc "$v - $RAW_CPU")" us "goal" 150
	eval "v=\$M_${p}_slowrate"
	row "$label slowsync ${SLOW_MS}ms, 8 clients, signatures/s" "$v" sig/s "goal 0.8*8/${SLOW_MS}ms" "$(calc "0.8 * 8000 / $SLOW_MS" 0)"
	eval "v=\$M_${p}_perflush; w=\$M_${p}_maxbatch"
	row "$label slowsync ${SLOW_MS}ms, records per fdatasync" "$v" records - -
	[ -n "$w" ] && row "$label slowsync ${SLOW_MS}ms, most records in one fdatasync" "$w" records - -
	return 0
}
[ -n "$BASE" ] && emit base base
emit new new
if [ -n "$BASE" ]; then
	for c in 1 4 8; do
		eval "a=\$M_new_rate_$c; b=\$M_base_rate_$c"
		row "new/base signerd $c clients, signatures/s" "$(calc "$a / $b" 2)" ratio "base sig/s" "$b"
	done
	row "new/base host CPU per signature, 4 clients" "$(calc "$M_new_cpu_4 / $M_base_cpu_4" 2)" ratio "base us" "$M_base_cpu_4"
	row "new/base slowsync 8 clients, signatures/s" "$(calc "$M_new_slowrate / $M_base_slowrate" 2)" ratio "base sig/s" "$M_base_slowrate"
fi
exit 0
