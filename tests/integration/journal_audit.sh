#!/usr/bin/env bash
# journal_audit.sh: the manual audit of docs/journal-format.md and `signerctl audit` agree with the journal library.
#   BUILD=build bash tests/integration/journal_audit.sh      (TAP on stdout)
# Runs the doc's own command blocks (extracted, not copied) on a journal
# the C library wrote, and builds a second journal with nothing but the
# documented format, sha256sum and openssl, which signerctl must accept;
# then tampers with both.  SIGNERCTL overrides $BUILD/signerctl.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SIGNERCTL=${SIGNERCTL:-$BUILD/signerctl}
FIXTURE=$BUILD/tests/journal/test_checkpoint
. tests/lib/tap.sh
. tests/lib/onexit.sh
TAP_LOG=/dev/stderr
export LC_ALL=C

diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
bail() { echo "Bail out! $*"; tap_done; exit 1; }
not() { ! "$@"; }
contains() { grep -qF -- "$2" <<<"$1"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/journal_audit.XXXXXX") || bail "mktemp"
on_exit "rm -rf '$work'"

# --- the doc's commands, as a script -------------------------------------
# Every ```sh block between the manual-audit markers, with the two paths
# pointed at $J and $KEY from the environment.
awk '/<!-- manual-audit:begin -->/ { on = 1; next }
     /<!-- manual-audit:end -->/ { on = 0 }
     on && /^```sh$/ { code = 1; next }
     on && /^```$/ { code = 0; next }
     on && code' docs/journal-format.md |
	sed -e 's|^J=/path/to/journal .*|J=$AUDIT_J|' \
	    -e 's|^KEY=/path/to/audit.pem .*|KEY=$AUDIT_KEY|' >"$work/manual.sh"
check "the doc's manual audit has runnable blocks" \
	[ "$(grep -c 'openssl dgst -sha256 -verify' "$work/manual.sh")" -eq 1 ]
manual() { AUDIT_J=$1 AUDIT_KEY=$2 bash "$work/manual.sh" 2>&1; }

# --- a journal written by the C library ----------------------------------
# test_checkpoint leaves 5 records, checkpoint 6, 2 records, checkpoint 9.
[ -x "$FIXTURE" ] || bail "$FIXTURE not built"
mkdir -p "$work/c"
JNL_KEEP_DIR=$work/c/journal "$FIXTURE" >/dev/null 2>&1 ||
	bail "$FIXTURE failed"
CJ=$work/c/journal
CKEY=$work/c/audit.pem
out=$(manual "$CJ" "$CKEY")
diag "manual audit of the library's journal:" "$out"
check "doc step 1: segments are numbered without a gap" \
	contains "$out" "segments 1..1 present"
check "doc step 2: sha256sum of record 5 equals record 6's prev" \
	contains "$out" "record 5 chains to record 6"
check "doc step 3: openssl verifies the checkpoint signature" \
	contains "$out" "Verified OK"
check "doc step 3: msg names head_seq and head" contains "$out" "true"
check "doc step 3: head is the sha256 of record head_seq" \
	contains "$out" "checkpoint 9 signs record 8"
head9=$(grep -ahE '^\{"prev":"[0-9a-f]{64}","seq":9,' "$CJ"/seg-*.jsonl |
	tr -d '\n' | sha256sum | cut -d' ' -f1)
check "doc step 4: the shell chain walk reaches the same head" \
	contains "$out" "chain OK: head seq 9 sha256 $head9"
check "doc step 4: every line parses with jq" \
	contains "$out" "every record is a JSON object with a type"

# Tampered copies: the same commands see it.
cp -r "$CJ" "$work/c/flip"
sed -i '3s/req-3/req-X/' "$work/c/flip/seg-00000001.jsonl"
out=$(manual "$work/c/flip" "$CKEY")
check "manual chain walk finds an altered record" \
	contains "$out" "chain breaks at seg-00000001.jsonl seq 4"
cp -r "$CJ" "$work/c/forged"
sed -i '9s/"head_seq":8/"head_seq":7/; 9s/checkpoint v1 8 /checkpoint v1 7 /' \
	"$work/c/forged/seg-00000001.jsonl"
out=$(manual "$work/c/forged" "$CKEY")
check "openssl rejects a checkpoint whose msg was edited" \
	contains "$out" "Verification failure"

# --- a journal built from the documented format alone --------------------
SJ=$work/sh/journal
mkdir -p "$SJ"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$work/sh/priv.pem" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$work/sh/priv.pem" -pubout -out "$work/sh/audit.pem" ||
	bail "openssl pkey"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$work/sh/other.pem" 2>/dev/null || bail "openssl genpkey"
prev=0000000000000000000000000000000000000000000000000000000000000000
seq=0
seg=1
# add BODY: append {"prev":..,"seq":..,BODY} to the current segment.
add() {
	local line
	seq=$((seq + 1))
	line="{\"prev\":\"$prev\",\"seq\":$seq,$1}"
	printf '%s\n' "$line" >>"$SJ/$(printf 'seg-%08d.jsonl' "$seg")"
	prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
}
# checkpoint KEYFILE: sign the head as signerd would.
checkpoint() {
	local msg sig
	msg="signer-journal-checkpoint v1 $seq $prev"
	sig=$(printf '%s' "$msg" | openssl dgst -sha256 -sign "$1" | xxd -p |
		tr -d '\n')
	add "\"head\":\"$prev\",\"head_seq\":$seq,\"msg\":\"$msg\",\"sig\":\"$sig\",\"ts\":\"2026-11-22T10:05:00Z\",\"type\":\"checkpoint\""
}
add '"amount":"1500000000000000000","request":"r1","ts":"2026-11-22T10:00:00Z","type":"signed"'
add '"reason":"over daily limit","request":"r2","ts":"2026-11-22T10:01:00Z","type":"refused"'
add '"amount":"7","request":"r3","ts":"2026-11-22T10:02:00Z","type":"signed"'
seg=2
add '"amount":"8","request":"r4","ts":"2026-11-22T10:03:00Z","type":"signed"'
checkpoint "$work/sh/priv.pem"
add '"amount":"9","request":"r6","ts":"2026-11-22T10:06:00Z","type":"signed"'
SKEY=$work/sh/audit.pem
out=$(manual "$SJ" "$SKEY")
check "the manual audit accepts the hand-built journal" \
	contains "$out" "chain OK: head seq 6 sha256 $prev"
check "the manual audit sees both segments" \
	contains "$out" "segments 1..2 present"

# --- signerctl audit -------------------------------------------------------
if ! "$SIGNERCTL" audit --help 2>/dev/null | grep -q 'audit verify'; then
	echo "ok $((TAP_N + 1)) - signerctl audit # SKIP $SIGNERCTL has no audit command yet"
	TAP_N=$((TAP_N + 1))
	tap_done
	exit
fi
# These journals are hand-built or written by the journal library, not by
# signerd: --chain-only checks the journal layer (chain, checkpoints,
# snapshots); signerd's own record checks are tested in signerd.sh and
# signerd_tamper.sh.
sctl() { timeout 60 "$SIGNERCTL" "$@"; }

out=$(sctl audit verify --chain-only --journal "$SJ" --pubkey "$SKEY")
check "audit verify accepts the hand-built journal" [ $? -eq 0 ]
diag "$out"
check "audit verify counts its records and checkpoint" \
	contains "$out" "records 6, checkpoint signatures 1"
check "audit verify reports the same head as sha256sum" \
	contains "$out" "head seq 6 sha256 $prev"
out=$(sctl audit verify --chain-only --journal "$CJ" --pubkey "$CKEY" --json)
check "audit verify --json on the library's journal" \
	[ "$(jq -r '"\(.ok) \(.records) \(.checkpoints) \(.head)"' <<<"$out")" = \
	"true 9 2 $head9" ]
out=$(sctl audit show --journal "$SJ")
check "audit show lists seq, ts, type and fields" \
	contains "$out" "reason=over daily limit request=r2"
out=$(sctl audit show --journal "$SJ" --since 2026-11-22T10:03:00Z --json)
check "audit show --since --json prints the raw lines from then on" \
	[ "$(jq -r .seq <<<"$out" | tr '\n' ' ')" = "4 5 6 " ]
fails "audit verify with the wrong key fails" \
	sctl audit verify --chain-only --journal "$SJ" --pubkey "$CKEY"

# Tampering, each named by segment, offset and seq.
tamper() {
	rm -rf "$work/t"
	cp -r "$SJ" "$work/t"
}
offset_of() {
	# byte offset of line $2 in file $1
	head -n "$(($2 - 1))" "$1" | wc -c | tr -d ' '
}
tamper
off=$(offset_of "$work/t/seg-00000001.jsonl" 3)
sed -i '3s/"amount":"7"/"amount":"8"/' "$work/t/seg-00000001.jsonl"
out=$(sctl audit verify --chain-only --journal "$work/t" --pubkey "$SKEY")
check "an altered amount fails verification" [ $? -ne 0 ]
diag "$out"
check "... naming seg-00000001.jsonl, its offset and seq 3" \
	contains "$out" "seg-00000001.jsonl offset $off seq 3"

tamper
off=$(offset_of "$work/t/seg-00000001.jsonl" 2)
sed -i '2d' "$work/t/seg-00000001.jsonl"
out=$(sctl audit verify --chain-only --journal "$work/t" --pubkey "$SKEY" --json)
check "a deleted record is named by segment, offset and seq" \
	[ "$(jq -r '.error | "\(.segment) \(.offset) \(.seq)"' <<<"$out")" = \
	"seg-00000001.jsonl $off 3" ]

tamper
rm "$work/t/seg-00000001.jsonl"
out=$(sctl audit verify --chain-only --journal "$work/t" --pubkey "$SKEY")
check "a missing segment is named" contains "$out" \
	"seg-00000002.jsonl offset 0"

# Rewrite the checkpoint with a forger's key, re-chaining after it.
tamper
line5=$(grep -ahE '^\{"prev":"[0-9a-f]{64}","seq":5,' "$work/t/seg-00000002.jsonl")
msg=$(jq -j .msg <<<"$line5")
sig=$(printf '%s' "$msg" | openssl dgst -sha256 -sign "$work/sh/other.pem" |
	xxd -p | tr -d '\n')
old=$(jq -r .sig <<<"$line5")
sed -i "s/$old/$sig/" "$work/t/seg-00000002.jsonl"
# The last record now has a stale prev: recompute it so only the
# signature is wrong.
new5=$(grep -ahE '^\{"prev":"[0-9a-f]{64}","seq":5,' "$work/t/seg-00000002.jsonl" |
	tr -d '\n' | sha256sum | cut -d' ' -f1)
sed -i "3s/^{\"prev\":\"[0-9a-f]*\"/{\"prev\":\"$new5\"/" "$work/t/seg-00000002.jsonl"
out=$(sctl audit verify --chain-only --journal "$work/t" --pubkey "$SKEY")
check "a checkpoint signed by another key fails" [ $? -ne 0 ]
check "... naming seq 5 and the signature" \
	contains "$out" "seq 5: checkpoint signature does not verify"

tamper
printf '{"prev":"00' >>"$work/t/seg-00000002.jsonl"
out=$(sctl audit verify --chain-only --journal "$work/t" --pubkey "$SKEY")
check "a torn final line is reported, not a failure" [ $? -eq 0 ]
check "... as bytes after the last complete line" \
	contains "$out" "11 byte(s) after the last complete line"

tap_done
