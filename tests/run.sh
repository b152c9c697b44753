#!/usr/bin/env bash
# run.sh: run every suite against one or more build trees and end with one
# summary line "N passed, N failed".  Unit tests are cmocka binaries under
# BUILD/tests/; integration tests are tests/integration/*.sh, which start
# real processes (SoftHSM2 tokens, EVM node, daemons) and speak TAP.
#   tests/run.sh build [build-san ...]
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- build

passed=0
failed=0
skipped=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/signer-tests.XXXXXX")

# Counts TAP lines of one suite's output; a suite that exits non-zero with
# no "not ok" line still counts as one failure (a crash, a sanitizer report).
count() {
	local name=$1 log=$2 rc=$3 ok notok skip
	ok=$(grep -E '^ok ' "$log" | grep -cv '# SKIP' || true)
	# cmocka reports a skipped test as "not ok N - name # SKIP".
	skip=$(grep -cE '^(not )?ok .*# SKIP' "$log" || true)
	notok=$(grep -E '^not ok ' "$log" | grep -cv '# SKIP' || true)
	skipped=$((skipped + skip))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
	fi
	passed=$((passed + ok))
	failed=$((failed + notok))
	if [ "$notok" -ne 0 ]; then
		failures+=("$name")
		echo "FAIL $name ($ok ok, $notok failed, exit $rc); log: $log"
		grep -E '^not ok |ERROR|Sanitizer|runtime error' "$log" | head -20
	else
		echo "ok   $name ($ok checks)"
	fi
}

for build in "$@"; do
	if [[ "$build" == *san* ]]; then
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
		export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	fi
	echo "== suites against $build/"
	for t in $(find "$build/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
		# Needs a PostgreSQL cluster: tests/integration/orch_store.sh
		# starts one and runs it.
		[[ "$t" == */orchestratord/test_store ]] && continue
		name="$build:${t#"$build"/}"
		log="$logdir/$(echo "$name" | tr '/:' '__').log"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
		count "$name" "$log" $?
	done
	for s in tests/integration/*.sh; do
		[ -e "$s" ] || continue
		name="$build:$s"
		log="$logdir/$(echo "$name" | tr '/:' '__').log"
		BUILD="$build" timeout 900 bash "$s" >"$log" 2>&1
		count "$name" "$log" $?
	done
	unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
done

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed suites: ${failures[*]}"
fi
echo "make test: $passed passed, $failed failed, $skipped skipped"
# Logs are kept only when something failed; the FAIL lines name them.
[ "$failed" -eq 0 ] && rm -rf "$logdir"
[ "$failed" -eq 0 ]
