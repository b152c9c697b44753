#!/usr/bin/env bash
# journal_archive.sh: a real signerd with small segments journals refusals
# and signs payouts, and stops (a clean stop writes a snapshot at the
# head); `signerctl journal archive` moves the segments the snapshot, its
# keep_from (the oldest live request's record) and a signed checkpoint
# cover; signerd restarts on the live directory alone and signs; a signed
# request's retry gets the same transaction; a rerun moves nothing
# (issue 12 item 4).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

REFUSED=800	# over the per-tx limit: journaled, never live requests
COUNT=20	# signed: live requests, kept readable (keep_from)
ARCH="$WORK/archive"

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
# The smallest segment signerd accepts, so segments rotate quickly.
sed -i "s|^dir = .*|&\nsegment_size = 65536|" "$SD_CONF"
ok "signerd starts" signerd_start
sd_load --threads 4 --count $REFUSED --asset ETH --amount 400000 \
	--id-prefix big --nonce-base 100000 --timeout-ms 5000 >"$WORK/refused.out" 2>/dev/null
check "$REFUSED payouts over the limit are refused" \
	[ "$(grep -c '^REFUSED ' "$WORK/refused.out")" -eq $REFUSED ]
sd_load --threads 4 --count $COUNT --asset ETH --amount 100 \
	--id-prefix arch --nonce-base 0 --timeout-ms 5000 >"$WORK/load.out" 2>/dev/null
check "$COUNT payouts sign" [ "$(grep -c '^SIGNED ' "$WORK/load.out")" -eq $COUNT ]
ok "signerd stops cleanly (snapshot at the head)" signerd_stop
nsegs=$(ls "$SD_JOURNAL" | grep -c '^seg-')
check "the journal has several segments ($nsegs)" [ "$nsegs" -ge 3 ]

# Command line.
ok "journal archive --help" "$SIGNERCTL" journal archive --help
"$SIGNERCTL" journal archive --journal "$SD_JOURNAL" >/dev/null 2>&1
check "journal archive without --archive/--pubkey is a usage error" [ $? -eq 2 ]
"$SIGNERCTL" journal archive --journal "$SD_JOURNAL" --archive "$ARCH" \
	--pubkey "$AUDIT_PEM" --bogus x >/dev/null 2>&1
check "an unknown option is a usage error" [ $? -eq 2 ]

ok "journal archive moves the covered segments" \
	"$SIGNERCTL" journal archive --journal "$SD_JOURNAL" --archive "$ARCH" \
	--pubkey "$AUDIT_PEM" --json
"$SIGNERCTL" journal archive --journal "$SD_JOURNAL" --archive "$ARCH" \
	--pubkey "$AUDIT_PEM" --json >"$WORK/rerun0.json" 2>&1
moved=$(ls "$ARCH" | grep -c '^seg-')
left=$(ls "$SD_JOURNAL" | grep -c '^seg-')
echo "# moved $moved of $nsegs segments" >&2
check "segments moved to the archive ($moved)" [ "$moved" -ge 1 ]
check "the newest segment stayed live" [ "$left" -ge 1 ]
check "seg-00000001.jsonl is in the archive, not live" \
	[ -f "$ARCH/seg-00000001.jsonl" ] && [ ! -e "$SD_JOURNAL/seg-00000001.jsonl" ]
check "archive and live are one consecutive run" \
	[ "$((moved + left))" -eq "$nsegs" ]
check "the archive directory is 0700" [ "$(stat -c %a "$ARCH")" = 700 ]
check "an immediate rerun moves nothing" \
	[ "$(jq -r .segments_moved "$WORK/rerun0.json")" = 0 ]

ok "signerd restarts on the live segments alone" signerd_start
check "it started from its snapshot" \
	grep -q 'snapshot' "$WORK/signerd.log"
new=$(sd_sign after1 ETH 100 $((COUNT + 10)))
check "it signs a new payout" grep -q '^SIGNED ' <<<"$new"
# An earlier request again: same id, same content: the transaction signed
# before, read back from a live segment.
first=$(grep '^SIGNED arch-5 ' "$WORK/load.out" | awk '{print $3}')
again=$(sd_load --threads 1 --count 1 --asset ETH --amount 100 \
	--id-prefix arch --first-id 5 --nonce-base 5 --timeout-ms 5000 2>/dev/null |
	grep -v '^SUMMARY')
echo "# retry of arch-5: $again (first: $first)" >&2
check "a retry of a request signed before the archive is the same transaction" \
	[ -n "$first" ] && [ "$(awk '{print $3}' <<<"$again")" = "$first" ]

# While signerd runs (it holds the directory's lock): a no-op, not a wait.
"$SIGNERCTL" journal archive --journal "$SD_JOURNAL" --archive "$ARCH" \
	--pubkey "$AUDIT_PEM" --json >"$WORK/rerun.json" 2>>"$WORK/rerun.err"
check "a rerun beside a running signerd succeeds" [ $? -eq 0 ]
check "and moves nothing" [ "$(jq -r .segments_moved "$WORK/rerun.json")" = 0 ]
check "the archive is unchanged" [ "$(ls "$ARCH" | grep -c '^seg-')" -eq "$moved" ]
ok "signerd stops cleanly" signerd_stop

# The auditor's side: the archive and the live directory are one chain,
# checked in full; the live directory alone cannot be, and says why.
ok "audit verify takes the archive and the live directory together" \
	"$SIGNERCTL" audit verify --archive "$ARCH" --journal "$SD_JOURNAL" \
	--pubkey "$AUDIT_PEM"
out=$("$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" 2>&1)
check "the live directory alone fails, pointing at --archive" \
	grep -q 'seg-00000001.jsonl is missing.*--archive' <<<"$out"
# The newest archived segment: the live run follows it.
gone=$(ls "$ARCH" | grep '^seg-' | sort | tail -1)
mv "$ARCH/$gone" "$WORK/gone.aside"
out=$("$SIGNERCTL" audit verify --archive "$ARCH" --journal "$SD_JOURNAL" \
	--pubkey "$AUDIT_PEM" 2>&1)
check "a segment missing from the archive is named ($gone)" \
	grep -q "$gone is in neither" <<<"$out"
mv "$WORK/gone.aside" "$ARCH/$gone"

tap_done
