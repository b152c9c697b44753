# tap.sh: tiny TAP helpers for integration scripts (source it).
#   ok "description" command args...     passes if the command exits 0
#   fails "description" command args...  passes if the command exits non-zero
#   check "description" [ condition ]    same as ok, for test expressions
# Each prints "ok N - ..." or "not ok N - ..." and the script ends with
# tap_done, which exits non-zero if anything failed.
TAP_N=0
TAP_FAILED=0

_tap_report() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

ok() {
	local desc=$1; shift
	"$@" >>"${TAP_LOG:-/dev/null}" 2>&1
	_tap_report $? "$desc"
}

fails() {
	local desc=$1; shift
	"$@" >>"${TAP_LOG:-/dev/null}" 2>&1
	if [ $? -ne 0 ]; then _tap_report 0 "$desc"; else _tap_report 1 "$desc"; fi
}

check() {
	local desc=$1; shift
	"$@"
	_tap_report $? "$desc"
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
