#!/bin/bash
# long.sh: `make fuzz-long`: each libFuzzer harness for RUNS executions or
# SECONDS, whichever comes first, JOBS harnesses at a time; then the inputs
# that add coverage are merged into fuzz/corpus/<harness> (D67).
#
# usage: fuzz/long.sh JOBS RUNS SECONDS HARNESS_BINARY...
# Run from the repository root.  Writes build-fuzz/long/ (work corpora,
# logs, crash artifacts) and build-fuzz/fuzz-long.tsv; exits 1 if any
# harness crashed, timed out or ran out of memory.
set -u

if [ $# -lt 4 ]; then
	echo "usage: fuzz/long.sh JOBS RUNS SECONDS HARNESS_BINARY..." >&2
	exit 2
fi
jobs=$1 runs=$2 secs=$3
shift 3
out=build-fuzz/long
tsv=build-fuzz/fuzz-long.tsv
# -max_len as in `make fuzz`; one input running longer than 25 s (OSS-Fuzz's
# bound, ample even under ASan on a busy machine) is reported as a timeout.
common=(-max_len=4096 -timeout=25)

rm -rf "$out"
mkdir -p "$out"

count() { find "$1" -maxdepth 1 -type f | wc -l; }

# one BINARY: fuzz, merge, and leave one TSV row in $out/NAME.row.
one() {
	local bin=$1 n work seeds log mlog before after t0 t1 rc
	local execs rate cov ft result art
	n=$(basename "$bin")
	work=$out/$n seeds=fuzz/corpus/$n log=$out/$n.log mlog=$out/$n.merge.log
	mkdir -p "$work" "$seeds"
	before=$(count "$seeds")
	t0=$(date +%s)
	# New inputs go to the first directory, the work corpus; the
	# checked-in corpus is only read here.
	"$bin" "${common[@]}" -runs="$runs" -max_total_time="$secs" \
	    -print_final_stats=1 -artifact_prefix="$out/$n-" \
	    "$work" "$seeds" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
	ft=${cov##* }
	cov=${cov#cov: }
	cov=${cov%% *}
	if [ "$rc" -eq 0 ]; then
		result=ok
	else
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		    tail -1)
		if grep -q 'libFuzzer: timeout' "$log"; then
			result=timeout
		elif grep -q 'libFuzzer: out-of-memory' "$log"; then
			result=oom
		else
			result=crash
		fi
		result="$result:${art:-see $log}"
	fi
	# -merge=1 adds to the first directory only the inputs of the others
	# that reach features it lacks, so no seed is ever dropped; with
	# -use_counters=0 a feature is an edge, not an edge's hit-count
	# bucket, which keeps the checked-in corpus about 3 times smaller
	# for the same edges.
	if ! "$bin" "${common[@]}" -merge=1 -use_counters=0 "$seeds" "$work" \
	    >"$mlog" 2>&1; then
		result="$result,merge-failed:$mlog"
	fi
	after=$(count "$seeds")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${execs:-0}" \
	    "${rate:-0}" "${cov:--}" "${ft:--}" "$before" "$after" \
	    "$((t1 - t0))" "$result" >"$out/$n.row"
	printf 'fuzz-long: %s: %s execs, %s/s, cov %s ft %s, corpus %s -> %s, %s s, %s\n' \
	    "$n" "${execs:-0}" "${rate:-0}" "${cov:--}" "${ft:--}" "$before" \
	    "$after" "$((t1 - t0))" "$result"
}

echo "fuzz-long: $# harnesses, $runs runs or ${secs}s each, $jobs at a time"
for bin in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	one "$bin" &
done
wait

{
	printf 'harness\texecs\texecs_per_s\tcov\tft\tcorpus_before\tcorpus_after\tseconds\tresult\n'
	for bin in "$@"; do
		n=$(basename "$bin")
		if [ -f "$out/$n.row" ]; then
			cat "$out/$n.row"
		else
			printf '%s\t0\t0\t-\t-\t-\t-\t0\tno-result\n' "$n"
		fi
	done
} >"$tsv"
awk -F '\t' '{ printf "%-14s %10s %11s %5s %5s %13s %12s %7s  %s\n",
    $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$tsv"
echo "fuzz-long: figures in $tsv, logs in $out/"
if awk -F '\t' 'NR > 1 && $9 != "ok" { bad = 1 } END { exit !bad }' "$tsv"; then
	echo "fuzz-long: FAILED: see the result column" >&2
	exit 1
fi
exit 0
