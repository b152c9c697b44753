#!/usr/bin/env bash
# audit_archive.sh: `signerctl audit verify --archive ADIR --journal DIR`
# checks the archived and the live segments as one chain (issue 12, item
# 4).  A real signerd writes a journal in 64 KiB segments, with snapshots
# and checkpoints; its first segments are moved to an archive by hand (mv,
# as `signerctl journal archive` would leave them); then: the same verdict
# and counts as the whole journal, receipts found across both, a segment in
# neither named, a crash's second copy accepted only when byte-identical,
# a record rewritten in the archive found, snapshots read from DIR only,
# and --threads 1 (the serial reference) reporting exactly what 2 do.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
SD_SNAPSHOT_INTERVAL=100
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
# Small segments, so 300 payouts rotate through several.
sed -i 's/^\[journal\]$/[journal]\nsegment_size = 65536/' "$SD_CONF"
ok "signerd starts with 64 KiB segments" signerd_start
sd_load --threads 2 --count 300 --asset ETH --amount 1000 --id-prefix ar \
	--nonce-base 0 --receipts >"$WORK/load.out"
awk '/^RECEIPT/ {print $2, $3}' "$WORK/load.out" >"$WORK/receipts"
check "300 payouts signed, each with a receipt" [ "$(wc -l <"$WORK/receipts")" -eq 300 ]
ok "signerd stops (a checkpoint and a snapshot)" signerd_stop
nsegs=$(ls "$SD_JOURNAL"/seg-*.jsonl | wc -l)
check "the journal rotated through at least 5 segments ($nsegs)" [ "$nsegs" -ge 5 ]
check "the live directory has a snapshot" [ -n "$(ls "$SD_JOURNAL"/snap-*.bin 2>/dev/null)" ]

# verify OUT [ARGS...]: audit verify --json into $WORK/OUT.json with
# --threads 1 and 2; fails unless both say exactly the same; returns
# signerctl's exit status.
verify() {
	local out=$1 rc1 rc2
	shift
	"$SIGNERCTL" audit verify --pubkey "$AUDIT_PEM" --json --threads 1 "$@" \
		>"$WORK/$out.json" 2>"$WORK/$out.err"
	rc1=$?
	"$SIGNERCTL" audit verify --pubkey "$AUDIT_PEM" --json --threads 2 "$@" \
		>"$WORK/$out.2.json" 2>"$WORK/$out.2.err"
	rc2=$?
	if [ $rc1 -ne $rc2 ] || ! cmp -s "$WORK/$out.json" "$WORK/$out.2.json"; then
		echo "# --threads 1 and 2 differ ($rc1, $rc2):" >&2
		diff "$WORK/$out.json" "$WORK/$out.2.json" | sed 's/^/#   /' >&2
		return 99
	fi
	return $rc1
}
# field OUT JQ: a field of a verify's JSON.
field() { jq -r "$2" "$WORK/$1.json"; }
# same_counts A B: the verdicts agree on everything but the directory.
same_counts() {
	[ "$(jq -c 'del(.journal)' "$WORK/$1.json")" = "$(jq -c 'del(.journal)' "$WORK/$2.json")" ]
}
reason() { field "$1" '"\(.error.segment) \(.error.reason)"'; }

ok "the whole live journal verifies" verify whole --journal "$SD_JOURNAL"
check "it holds checkpoints and snapshots" \
	[ "$(field whole .checkpoints)" -ge 1 -a "$(field whole .snapshots)" -ge 1 ]

# --- archive the first three segments by hand ----------------------------
L="$WORK/live"
A="$WORK/archive"
cp -a "$SD_JOURNAL" "$L"
mkdir "$A"
mv "$L"/seg-0000000[123].jsonl "$A"/
ok "archive + live verify as one chain" verify split --archive "$A" --journal "$L"
check "with the same counts, head and snapshots as the whole journal" same_counts whole split
check "receipts are found across archive and live" \
	grep -q "receipts: all 300 found" <<<"$("$SIGNERCTL" audit verify --pubkey "$AUDIT_PEM" \
		--archive "$A" --journal "$L" --receipts "$WORK/receipts")"
fails "the live directory alone does not verify" verify live --journal "$L"
check "... it names the first segment as missing" \
	grep -q "seg-00000001.jsonl is missing" <<<"$(reason live)"

# --- snapshots are the live directory's ----------------------------------
snap=$(ls "$L"/snap-*.bin | head -1)
head -c 100 /dev/urandom >"$A/$(basename "$snap")"
ok "a rotten snapshot in the archive is not looked at" verify snaparch --archive "$A" --journal "$L"
check "... the counts are unchanged" same_counts whole snaparch
rm -f "$A/$(basename "$snap")"

# --- a crash during archival: a segment in both --------------------------
cp "$A/seg-00000003.jsonl" "$L/"
ok "a segment in both directories, byte-identical, is accepted" \
	verify both --archive "$A" --journal "$L"
check "... and counted once" same_counts whole both
printf 'x' >>"$L/seg-00000003.jsonl"
fails "two copies that differ are refused" verify differ --archive "$A" --journal "$L"
check "... naming both directories" \
	grep -q "seg-00000003.jsonl the copies in $A and in $L differ" <<<"$(reason differ)"
rm -f "$L/seg-00000003.jsonl"

# --- a segment in neither ------------------------------------------------
mv "$A/seg-00000002.jsonl" "$WORK/seg2.aside"
fails "a segment missing from both is refused" verify neither --archive "$A" --journal "$L"
check "... and named: in neither ADIR nor DIR" \
	grep -q "seg-00000002.jsonl is in neither $A nor $L" <<<"$(reason neither)"
check "... after counting what came before it" \
	[ "$(field neither .records)" -gt 0 -a "$(field neither .segments)" -eq 1 ]
mv "$WORK/seg2.aside" "$A/seg-00000002.jsonl"

# --- tampering in the archive is found -----------------------------------
cp "$A/seg-00000002.jsonl" "$WORK/seg2.orig"
line=$(grep -n '"type":"signed"' "$A/seg-00000002.jsonl" | sed -n 5p | cut -d: -f1)
sed -i "${line}s/\"amount\":\"1000\"/\"amount\":\"1001\"/" "$A/seg-00000002.jsonl"
fails "a record rewritten in an archived segment is found" verify tamper --archive "$A" --journal "$L"
check "... in that segment" [ "$(field tamper .error.segment)" = seg-00000002.jsonl ]
sd_rechain "$A"
fails "... also when the archive alone is re-chained" verify tamper2 --archive "$A" --journal "$L"
cp "$WORK/seg2.orig" "$A/seg-00000002.jsonl"

fails "--threads 0 is a usage error" "$SIGNERCTL" audit verify --pubkey "$AUDIT_PEM" \
	--journal "$L" --threads 0
fails "--threads 17 is a usage error" "$SIGNERCTL" audit verify --pubkey "$AUDIT_PEM" \
	--journal "$L" --threads 17
tap_done
