#!/usr/bin/env bash
# audit_parallel.sh: the parallel `signerctl audit verify` reports exactly
# what the serial one (--threads 1) reports -- verdict, first bad record
# (segment, offset, seq, reason), counts, exit status -- on every journal
# the existing suites verify, tampered ones included (issue 12, item 5).
# Runs those suites with signerctl wrapped: each `audit verify` they make
# runs with --threads 1, 2 and 3, the outputs are compared, and the serial
# one is what the suite sees.  The suites' own checks must pass too.
#   BUILD=build bash tests/integration/audit_parallel.sh [SUITE...]
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/onexit.sh
export TAP_LOG=/dev/stderr

SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(journal_audit audit_archive signerd_tamper)
REAL=$(realpath "$BUILD/signerctl") || { echo "Bail out! no $BUILD/signerctl"; exit 1; }
SHADOW=$(mktemp -d "${TMPDIR:-/tmp}/audit_parallel.XXXXXX") || exit 1
on_exit "rm -rf '$SHADOW'"

# A build directory that is $BUILD but for signerctl.
mkdir "$SHADOW/build"
for f in "$BUILD"/*; do ln -s "$(realpath "$f")" "$SHADOW/build/"; done
rm -f "$SHADOW/build/signerctl"
cat >"$SHADOW/build/signerctl" <<WRAP
#!/usr/bin/env bash
# Every \`audit verify\` without --threads, run with 1, 2 and 3 of them.
real='$REAL' log="\$AUDIT_PARALLEL_LOG"
if [ "\${1:-}" != audit ] || [ "\${2:-}" != verify ] || [[ " \$* " == *" --threads"* ]] ||
	[[ " \$* " == *" --help "* ]] || [ -z "\$log" ]; then
	exec "\$real" "\$@"
fi
t=\$(mktemp -d) || exit 70
for n in 1 2 3; do
	"\$real" "\$@" --threads \$n >"\$t/out\$n" 2>"\$t/err\$n"
	echo \$? >"\$t/rc\$n"
done
same=1
for n in 2 3; do
	cmp -s "\$t/out1" "\$t/out\$n" && cmp -s "\$t/err1" "\$t/err\$n" &&
		cmp -s "\$t/rc1" "\$t/rc\$n" || same=0
done
if [ \$same = 1 ]; then
	echo "same rc=\$(cat "\$t/rc1") \$*" >>"\$log"
else
	{ echo "DIFFER \$*"; for n in 2 3; do diff "\$t/out1" "\$t/out\$n"; diff "\$t/err1" "\$t/err\$n"; done; } >>"\$log"
fi
cat "\$t/out1"
cat "\$t/err1" >&2
rc=\$(cat "\$t/rc1")
rm -rf "\$t"
exit \$rc
WRAP
chmod +x "$SHADOW/build/signerctl"

# --- signed records whose stateless check fails --------------------------
# The part of a signed record's check that the workers run ahead
# (sd_replay_prepare) must fail as the serial replay fails, in seq order.
J="$SHADOW/fill"
openssl ecparam -name prime256v1 -genkey -noout -out "$SHADOW/audit.key" 2>/dev/null &&
	openssl ec -in "$SHADOW/audit.key" -pubout -out "$SHADOW/audit.pem" 2>/dev/null
cat >"$SHADOW/policy.json" <<'JSON'
{"policy_id": "parallel-1", "assets": {"ETH": {"chain_id": 1337, "kind": "native",
 "decimals": 18, "key": "payout", "daily_limit": "100000000", "per_tx_limit": "300000",
 "fee_caps": {"max_fee_per_gas": "200000000000", "max_priority_fee_per_gas": "5000000000",
 "gas_limit": 100000}, "confirmations": 1}}}
JSON
mkdir "$J"
ok "jnlfill writes a 60-record journal" "$BUILD/tools/jnlfill" --policy "$SHADOW/policy.json" \
	--to "$J" --records 60
# Three segments, so that the records cross boundaries.
(cd "$J" && cat seg-00000001.jsonl >all && rm seg-00000001.jsonl &&
	split -l 25 -d -a 8 --numeric-suffixes=1 --additional-suffix=.jsonl all seg- && rm all)

# edit DIR SEQ JQ: rewrites record SEQ's body with the jq filter.
edit() {
	local f line body
	f=$(grep -l "\"seq\":$2," "$1"/seg-*.jsonl) || return 1
	line=$(grep "\"seq\":$2," "$f")
	body=$(jq -cS "del(.prev, .seq) | $3" <<<"$line") || return 1
	line="{\"prev\":\"$(jq -r .prev <<<"$line")\",\"seq\":$2,${body#\{}"
	awk -v s="\"seq\":$2," -v l="$line" 'index($0, s) { print l; next } { print }' "$f" >"$f.new" &&
		mv "$f.new" "$f"
}
# rechain DIR: every prev made the hash of the line before, as an attacker
# who rewrites the whole chain would.
rechain() {
	local f line prev=0000000000000000000000000000000000000000000000000000000000000000
	for f in "$1"/seg-*.jsonl; do
		while IFS= read -r line; do
			line="{\"prev\":\"$prev\",${line#*\",}"
			printf '%s\n' "$line"
			prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
		done <"$f" >"$f.new"
		mv "$f.new" "$f"
	done
}
# tamper NAME WANT SEQ JQ [SEQ JQ...]: a copy of the journal with those
# edits, re-chained; --threads 1 and 2 must agree and name WANT.
tamper() {
	local name=$1 want=$2 d="$SHADOW/$1" rc1 rc2
	shift 2
	cp -a "$J" "$d"
	while [ $# -ge 2 ]; do edit "$d" "$1" "$2" || return 1; shift 2; done
	rechain "$d"
	"$REAL" audit verify --journal "$d" --pubkey "$SHADOW/audit.pem" --json --threads 1 \
		>"$d.1" 2>&1
	rc1=$?
	"$REAL" audit verify --journal "$d" --pubkey "$SHADOW/audit.pem" --json --threads 2 \
		>"$d.2" 2>&1
	rc2=$?
	cmp -s "$d.1" "$d.2"
	check "$name: --threads 1 and 2 agree" [ $rc1 -eq $rc2 -a $? -eq 0 ]
	grep -qF -- "$want" <<<"$(jq -r '"seq \(.error.seq): \(.error.reason)"' "$d.1")"
	check "$name: fails naming $want" [ $rc1 -ne 0 -a $? -eq 0 ]
}
ok "the untouched journal verifies" "$REAL" audit verify --journal "$J" --pubkey "$SHADOW/audit.pem"
flipsig='.raw |= (.[0:-6] + (if .[-6:-4] == "11" then "22" else "11" end) + .[-4:])'
tamper sig 'seq 30: record does not replay: the transaction'"'"'s signature does not recover to "from"' \
	30 '.from = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"'
tamper rawsig 'seq 30: record does not replay: tx_hash is not the hash of raw' \
	30 "$flipsig"
tamper txhash 'seq 30: record does not replay: tx_hash is not the hash of raw' \
	30 '.tx_hash |= (.[0:-2] + (if .[-2:] == "00" then "01" else "00" end))'
tamper nonce 'seq 30: record does not replay: chain, nonce, gas or fees differ' \
	30 '.nonce = "999"'
tamper rawcut 'seq 30: record does not replay: raw is not a signed EIP-1559' \
	30 '.raw |= .[0:-8]'
tamper nofrom 'seq 30: record does not replay: a field of the signed record is missing' \
	30 'del(.from)'
tamper rawhex 'seq 30: record does not replay: a field of the signed record is missing' \
	30 '.raw |= (.[0:10] + "zz" + .[12:])'
# Two failures: the first in seq order wins, also when a worker met the
# later one first.
tamper order 'seq 27: record does not replay: a field' 27 'del(.to)' 52 "$flipsig"
# ... and when the earlier one is found by the stateful part, on the
# joining thread, while the later one was found ahead on a worker.
tamper order2 'seq 26: record does not replay: asset, key, recipient or amount differ' \
	26 '.amount = "7"' \
	51 "$flipsig"

for s in "${SUITES[@]}"; do
	log="$SHADOW/$s.log"
	: >"$log"
	AUDIT_PARALLEL_LOG=$log BUILD="$SHADOW/build" SIGNERCTL="$SHADOW/build/signerctl" \
		timeout 900 bash "tests/integration/$s.sh" >"$SHADOW/$s.tap" 2>>"${TAP_LOG:-/dev/null}"
	rc=$?
	check "$s passes with signerctl wrapped" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || grep '^not ok' "$SHADOW/$s.tap" | sed 's/^/#   /' >&2
	n=$(grep -c '^same ' "$log")
	bad=$(grep -c '^same rc=[^0]' "$log")
	check "$s: $n audit verify runs, $bad of them failing verification" [ "$n" -gt 0 ]
	check "$s: --threads 2 and 3 report exactly what --threads 1 does" \
		[ "$(grep -c '^DIFFER' "$log")" -eq 0 ]
	grep -A12 '^DIFFER' "$log" | sed 's/^/#   /' >&2
done
tap_done
