#!/usr/bin/env bash
# signerd_retention.sh: the retention window (issue 12, D55).  A request
# names the UTC day it was created; signerd signs, retries and bumps it
# while that day is inside the window, refuses it REQUEST_EXPIRED after,
# and forgets it.  Idempotency holds across a restart from a snapshot and
# a replay; a nonce stays taken for good, whatever was forgotten.  The
# days pass under libfaketime.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

WINDOW=2
TODAY=$(($(date +%s) / 86400))

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
sed -i "/^\[journal\]/a retention_days = $WINDOW" "$SD_CONF"
J=$SD_JOURNAL

# req PREFIX NONCE CREATED_DAY [AMOUNT]: one request "PREFIX-0"; prints
# "SIGNED id hash" or "REFUSED id REASON ...".
req() {
	sd_load --threads 1 --count 1 --asset ETH --amount "${4:-1000}" \
		--id-prefix "$1" --nonce-base "$2" --created-day "$3" |
		grep -v '^SUMMARY'
}
reason_of() { awk '/^(SIGNED|REFUSED|ERROR)/ {print ($1 == "SIGNED" ? "OK" : $3)}' <<<"$1" | head -1; }
hash_of() { awk '/^SIGNED/ {print $3}' <<<"$1"; }
show_log() { grep -h '"level":"\(error\|fatal\|warn\)"' "$WORK/signerd.log" | tail -n 3 | sed 's/^/#   /' >&2; }

ok "signerd starts with a $WINDOW-day window" signerd_start
out=$(req r1 0 "$TODAY")
check "a request created today is signed" [ "$(reason_of "$out")" = OK ]
h1=$(hash_of "$out")
check "the window is journaled in the started record" \
	[ "$(jq -s -r '[.[] | select(.type == "started")] | last | .retention_days' "$J"/seg-*.jsonl)" = "$WINDOW" ]
check "the signed record names its created day" \
	[ "$(jq -r 'select(.type == "signed" and .request_id == "r1-0") | .created' "$J"/seg-*.jsonl)" = "$TODAY" ]
out=$(req old 1 $((TODAY - WINDOW - 1)))
check "created $((WINDOW + 1)) days ago: refused REQUEST_EXPIRED" \
	[ "$(reason_of "$out")" = REQUEST_EXPIRED ]
check "and the journaled refusal says why" \
	grep -q 'outside the retention window' <<<"$(jq -r 'select(.type == "refused" and .request_id == "old-0") | .detail' "$J"/seg-*.jsonl)"
check "created two days ahead: refused REQUEST_EXPIRED" \
	[ "$(reason_of "$(req ahead 1 $((TODAY + 2)))")" = REQUEST_EXPIRED ]
check "created on the window's first day: signed" \
	[ "$(reason_of "$(req edge 1 $((TODAY - WINDOW)))")" = OK ]
check "the same request again: the same transaction" \
	[ "$(hash_of "$(req r1 0 "$TODAY")")" = "$h1" ]
check "the same id and transaction under another day: a new request, its nonce taken" \
	[ "$(reason_of "$(req r1 0 $((TODAY - 1)))")" = NONCE_REUSED ]
check "the same id and day with other content: REQUEST_ID_CONFLICT" \
	[ "$(reason_of "$(req r1 0 "$TODAY" 1001)")" = REQUEST_ID_CONFLICT ]
ok "signerd stops (a snapshot at the head)" signerd_stop
check "the stop wrote a snapshot" [ -n "$(ls "$J"/snap-*.bin 2>/dev/null)" ]

ok "signerd starts from the snapshot" signerd_start
check "it restored the state from the snapshot (2 requests)" \
	grep -q 'state restored from the snapshot at record [0-9]*: 2 requests' "$WORK/signerd.log"
check "after a restart from the snapshot: the same transaction" \
	[ "$(hash_of "$(req r1 0 "$TODAY")")" = "$h1" ]
out=$(sd_load --threads 1 --count 1 --asset ETH --amount 1000 --id-prefix r1 \
	--nonce-base 0 --created-day "$TODAY" --max-fee 3000000000 \
	--prio-fee 1500000000 | grep -v '^SUMMARY')
check "a fee bump of it is signed (the first record read back)" \
	[ "$(reason_of "$out")" = OK ]
hb=$(hash_of "$out")
check "the bump is another transaction" [ "${hb:-$h1}" != "$h1" ]
check "the request again now returns the bump" \
	[ "$(hash_of "$(sd_load --threads 1 --count 1 --asset ETH --amount 1000 \
		--id-prefix r1 --nonce-base 0 --created-day "$TODAY" \
		--max-fee 3000000000 --prio-fee 1500000000 | grep -v '^SUMMARY')")" = "$hb" ]
signerd_kill9
rm -f "$J"/snap-*.bin
ok "after kill -9 and without a snapshot, signerd replays the journal" signerd_start
check "after a full replay: the bump, read back" \
	[ "$(hash_of "$(sd_load --threads 1 --count 1 --asset ETH --amount 1000 \
		--id-prefix r1 --nonce-base 0 --created-day "$TODAY" \
		--max-fee 3000000000 --prio-fee 1500000000 | grep -v '^SUMMARY')")" = "$hb" ]
ok "signerd stops" signerd_stop

FT_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
if [ -z "$FT_LIB" ]; then
	echo "ok $((TAP_N + 1)) - # SKIP libfaketime is not installed (scripts/deps)"
	TAP_N=$((TAP_N + 1))
else
	# Three days on: today's requests are outside the window.
	LATER=$((TODAY + WINDOW + 1))
	export SD_WRAP="env LD_PRELOAD=$FT_LIB FAKETIME=+$((WINDOW + 1))d ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	ok "signerd starts $((WINDOW + 1)) days later" signerd_start
	check "the request of $((WINDOW + 1)) days ago: REQUEST_EXPIRED" \
		[ "$(reason_of "$(req r1 0 "$TODAY")")" = REQUEST_EXPIRED ]
	check "its transaction under a new id and day: NONCE_REUSED (the nonce stays taken)" \
		[ "$(reason_of "$(req r1-again 0 "$LATER")")" = NONCE_REUSED ]
	check "a new payout on the next nonce: signed" \
		[ "$(reason_of "$(req fresh 2 "$LATER")")" = OK ]
	for i in $(seq 1 50); do
		grep -q "requests created before day $((LATER - WINDOW)) forgotten" \
			"$WORK/signerd.log" && break
		sleep 0.1
	done
	check "the old requests were forgotten" \
		grep -q "requests created before day $((LATER - WINDOW)) forgotten: [01] remain" "$WORK/signerd.log"
	ok "signerd stops" signerd_stop
	ok "signerd starts again from the snapshot" signerd_start
	check "the snapshot held only the request inside the window" \
		grep -q 'state restored from the snapshot at record [0-9]*: 1 requests' \
		<(tail -n 40 "$WORK/signerd.log")
	ok "signerd stops" signerd_stop
	unset SD_WRAP
fi
ok "the journal verifies (created days judged by the journaled window)" \
	"$SIGNERCTL" audit verify --journal "$J" --pubkey "$AUDIT_PEM"

# The verifier refuses a signed record whose created day is outside the
# window of its time: a copy of the journal up to r1's record (before any
# checkpoint covers it), that record's day edited, the chain redone.
mkdir "$WORK/forged"
n=$(grep -n '"request_id":"r1-0"' "$J"/seg-00000001.jsonl | head -1 | cut -d: -f1)
head -n "$n" "$J"/seg-00000001.jsonl |
	sed "\$s/\"created\":$TODAY,/\"created\":$((TODAY - WINDOW - 1)),/" \
	>"$WORK/forged/seg-00000001.jsonl"
sd_rechain "$WORK/forged"
out=$("$SIGNERCTL" audit verify --journal "$WORK/forged" --pubkey "$AUDIT_PEM" 2>&1)
check "audit verify refuses a signed record created outside the window" \
	grep -q "seq $n: record does not replay: .*outside the retention window" <<<"$out"
head -n "$n" "$J"/seg-00000001.jsonl >"$WORK/forged/seg-00000001.jsonl"
check "the same prefix unedited verifies" \
	"$SIGNERCTL" audit verify --journal "$WORK/forged" --pubkey "$AUDIT_PEM"
tap_done
