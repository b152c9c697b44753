#!/usr/bin/env bash
# seccomp_trace.sh: the evidence behind sandbox/seccomp.c's allowlist.  Runs
# sandboxed_signer with --no-seccomp under strace -f and prints, per system
# call, how often the sandboxed process (its threads, not the forked client)
# made it after the "sandbox: up" marker.  Any call listed here must be in
# the allowlist (or knowingly answered with an errno there).
#   tests/tools/seccomp_trace.sh BUILD/tools/sandboxed_signer --token .. --key ..
#       --pin-file .. --dir ..      (SOFTHSM2_CONF set as for the tool)
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 TOOL [tool args]" >&2; exit 2; }
command -v strace >/dev/null || { echo "$0: needs strace" >&2; exit 2; }
tool=$1; shift
trace=$(mktemp "${TMPDIR:-/tmp}/seccomp-trace.XXXXXX")
trap 'rm -f "$trace"' EXIT
strace -f -qq -e signal=none -o "$trace" "$tool" --no-seccomp "$@" >&2

# Pass 1 finds the client's pids: the process a server pid forked (a clone
# without CLONE_THREAD) and every thread it or its threads made.  Pass 2
# counts the server's calls after the marker, each call once (its first
# line, not the "resumed" one).
awk '
function result(line) { sub(/.*= /, "", line); sub(/ .*/, "", line); return line }
FNR == NR {
	pid = $1
	if ($2 ~ /^clone3?\(/) {
		thread = ($0 ~ /CLONE_THREAD/)
		if ($0 ~ /unfinished \.\.\.>$/) { pending[pid] = thread; next }
		c = result($0)
	} else if ($2 == "<..." && $3 ~ /^clone3?$/) {
		thread = pending[pid]
		c = result($0)
	} else
		next
	if (c !~ /^[0-9]+$/) next
	if (pid in client || !thread) client[c] = 1
	next
}
!marked { if ($0 ~ /write\(2, "sandbox: up\\n"/) marked = 1; next }
{
	if ($1 in client || $2 == "<...") next
	name = $2; sub(/\(.*/, "", name)
	n[name]++
}
END { for (s in n) printf "%8d %s\n", n[s], s }
' "$trace" "$trace" | sort -rn
