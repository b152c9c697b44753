#!/usr/bin/env bash
# signerd_groupcommit.sh: group commit groups (issue 12 item 7).  With
# every fdatasync made 50 ms slower (tests/tools/slowsync.so) and 8
# clients signing at once against 2 worker threads, the records of the
# clients waiting share a flush: more records per fdatasync than there are
# workers, so the batch is bounded by the clients waiting, not by a thread
# count.  Counts only (the shim's fdatasync count, journal lines, signerd's
# "at most N in one" line at stop), never a timing.  Invariant 1 is kept:
# every signature a client got is in the journal, which verifies; and
# when fdatasync starts failing, the queued records' clients are refused
# and nothing signs after.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

WORKERS=2
CLIENTS=8
COUNT=240
SHIM=$(realpath "$BUILD")/tools/slowsync.so

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
check "the slowsync shim is built" [ -f "$SHIM" ]
sed -i "s/^workers = .*/workers = $WORKERS/" "$SD_CONF"
# ASan's runtime must come first in a sanitizer build; the shim is not
# sanitized, so order does not matter to it.
SD_WRAP="env LD_PRELOAD=$SHIM SLOWSYNC_MS=50 ASAN_OPTIONS=verify_asan_link_order=0:${ASAN_OPTIONS:-}" \
	ok "signerd starts with every fdatasync 50 ms slower" signerd_start
lines0=$(cat "$SD_JOURNAL"/seg-*.jsonl | wc -l)

timeout 120 "$SDCLIENT" load --socket "ipc://$SD_SOCK" --chain-id 1337 \
	--to "$RECIPIENT" --asset ETH --amount 1 --threads "$CLIENTS" \
	--count "$COUNT" --id-prefix gc --nonce-base 0 --timeout-ms 60000 \
	>"$WORK/load.out" 2>&1
check "all $COUNT requests of $CLIENTS clients are signed" \
	[ "$(grep -c '^SIGNED ' "$WORK/load.out")" -eq "$COUNT" ]
ok "signerd stops cleanly" signerd_stop

lines=$(cat "$SD_JOURNAL"/seg-*.jsonl | wc -l)
syncs=$(grep -o 'slowsync: fdatasync=[0-9]*' "$WORK/signerd.log" | tail -1 | cut -d= -f2)
maxb=$(grep -o 'at most [0-9]* in one' "$WORK/signerd.log" | tail -1 | awk '{print $3}')
echo "# journal lines $lines0 -> $lines, fdatasyncs ${syncs:-?}, most in one batch ${maxb:-?}" >&2
check "the shim counted signerd's fdatasyncs" [ "${syncs:-0}" -gt 0 ]
# The run's records over the run's flushes, lifecycle records (one per
# flush) included: above the worker count only if batches outgrow it.
more_than_workers() {
	[ "${syncs:-0}" -gt 0 ] && [ "$lines" -gt $((WORKERS * syncs)) ]
}
check "more records per fdatasync than worker threads ($WORKERS)" \
	more_than_workers
check "signerd reports its largest batch, above the worker count" \
	[ "${maxb:-0}" -gt "$WORKERS" ]

# Invariant 1: each signature handed out is in the journal.
missing=0
while read -r _ id hash; do
	grep -q "\"tx_hash\":\"$hash\"" "$SD_JOURNAL"/seg-*.jsonl || missing=$((missing + 1))
done < <(grep '^SIGNED ' "$WORK/load.out")
check "every signature a client received is journaled" [ "$missing" -eq 0 ]
ok "the journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"

# --- the disk stops flushing: records queued for the leader fail together --
# While $FAIL exists every fdatasync fails (EIO): the records already
# queued or written are never acknowledged, each waiting client is
# refused, and nothing signs after (invariant 1; the journal is read-only
# until reopened).
FAIL=$WORK/fail-sync
SD_WRAP="env LD_PRELOAD=$SHIM SLOWSYNC_MS=20 SLOWSYNC_FAIL_FILE=$FAIL ASAN_OPTIONS=verify_asan_link_order=0:${ASAN_OPTIONS:-}" \
	ok "signerd restarts with the shim" signerd_start
check "a payout signs while the disk flushes" \
	grep -q '^SIGNED ok-0 ' <<<"$(sd_sign ok ETH 1 1000)"
touch "$FAIL"
timeout 120 "$SDCLIENT" load --socket "ipc://$SD_SOCK" --chain-id 1337 \
	--to "$RECIPIENT" --asset ETH --amount 1 --threads "$CLIENTS" \
	--count 32 --id-prefix dead --nonce-base 2000 --timeout-ms 30000 \
	>"$WORK/dead.out" 2>&1
check "no client gets a signature once fdatasync fails" \
	[ "$(grep -c '^SIGNED ' "$WORK/dead.out")" -eq 0 ]
check "each of the 32 requests is answered with a refusal" \
	[ "$(grep -c '^REFUSED dead-' "$WORK/dead.out")" -eq 32 ]
check "the refusals name the journal" \
	grep -q 'REFUSED dead-[0-9]* JOURNAL_ERROR' "$WORK/dead.out"
rm -f "$FAIL"
check "and nothing signs after, flushing or not" \
	grep -q '^REFUSED late-0 ' <<<"$(sd_sign late ETH 1 3000)"
check "signerd still answers STATUS" \
	"$SIGNERCTL" status --socket "ipc://$SD_SOCK" --json
signerd_stop >/dev/null 2>&1
check "signerd has stopped" [ -z "$SD_PID" ]

tap_done
