#!/usr/bin/env bash
# signerd_crash.sh: kill -9 signerd while clients sign concurrently, four
# times.  After each restart, every signature a client received must be in
# the journal (invariant 1), the journal must verify, and the ETH signed
# today must never pass the daily limit (invariant 2).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

LIMIT=1000000	# ETH daily limit of the test policy
AMOUNT=1500	# so at most 666 signatures fit in a day
ROUNDS=4
LOAD_PID=
on_exit '[ -n "$LOAD_PID" ] && kill -KILL "$LOAD_PID" 2>/dev/null'

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts" signerd_start

# A snapshot of many requests is sorted (glibc qsort probes sysinfo past
# 1 KiB: the sandbox must not kill signerd for it).
sd_load --threads 4 --count 200 --asset ETH --amount 100 --timeout-ms 3000 \
	--id-prefix many --nonce-base 50000 >"$WORK/many.out" 2>/dev/null
check "200 more payouts sign" [ "$(grep -c '^SIGNED ' "$WORK/many.out")" -eq 200 ]
ok "signerd stops cleanly, writing a snapshot of them all" signerd_stop
check "the snapshot holds at least 200 requests" \
	grep -qE 'snapshot written at record [0-9]+: [0-9]+ bytes, ([2-9][0-9]{2}|[0-9]{4,}) requests' "$WORK/signerd.log"
ok "signerd restarts from it" signerd_start


# received_in_journal FILE: every "SIGNED id hash" line of FILE is a signed
# record in the journal with that hash.
received_in_journal() {
	jq -r 'select(.type=="signed") | "\(.request_id) \(.tx_hash)"' \
		"$SD_JOURNAL"/seg-*.jsonl | sort >"$WORK/journaled"
	grep '^SIGNED ' "$1" | awk 'NF == 3 && length($3) == 66 {print $2, $3}' |
		sort >"$WORK/received"
	cat "$WORK/received" >>"$WORK/received.all"
	[ -z "$(comm -23 "$WORK/received" "$WORK/journaled")" ]
}

for round in $(seq 1 $ROUNDS); do
	# sdclient itself in the background, so the kill below reaches it
	# (a backgrounded function's subshell would leave it running).
	"$SDCLIENT" load --socket "ipc://$SD_SOCK" --chain-id 1337 \
		--to "$RECIPIENT" --threads 6 --count 400 --asset ETH --amount $AMOUNT \
		--timeout-ms 3000 --id-prefix "crash$round" \
		--nonce-base $((round * 1000)) >"$WORK/load$round.out" 2>/dev/null &
	LOAD_PID=$!
	# Kill at a different moment each round, mid-stream.
	sleep "0.$((3 + RANDOM % 7))"
	signerd_kill9
	kill -KILL "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
	ok "round $round: signerd restarts after kill -9" signerd_start
	check "round $round: every signature a client received is journaled" \
		received_in_journal "$WORK/load$round.out"
done

signed=$(jq -r 'select(.type=="signed" and .asset=="ETH") | .amount' \
	"$SD_JOURNAL"/seg-*.jsonl | paste -sd+ | bc)
echo "# signed in total: $signed (limit $LIMIT)" >&2
check "clients received signatures before the crashes" \
	[ "$(wc -l <"$WORK/received.all")" -gt 0 ]
check "some payouts were signed across the crashes" [ "${signed:-0}" -gt 0 ]
check "the ETH signed today never passed the daily limit" [ "$signed" -le $LIMIT ]
exp=$("$SIGNERCTL" exposure --socket "ipc://$SD_SOCK" --asset ETH --json)
check "exposure after the last restart equals the journal's total" \
	[ "$(jq -r .signed <<<"$exp")" = "$signed" ]
# A request that was signed before a crash gets the same transaction again.
first=$(grep -h '^SIGNED ' "$WORK"/load*.out | head -1)
id=$(awk '{print $2}' <<<"$first")	# crash<round>-<index>
idx=${id##*-}
round=${id%-*}; round=${round#crash}
again=$(sd_load --threads 1 --count 1 --asset ETH --amount $AMOUNT \
	--id-prefix "crash$round" --first-id "$idx" \
	--nonce-base $((round * 1000 + idx)) | grep '^SIGNED' | awk '{print $3}')
check "a request signed before a crash is answered with the same transaction" \
	[ "$again" = "$(awk '{print $3}' <<<"$first")" ]
ok "signerd stops cleanly" signerd_stop
ok "the journal verifies after four crashes" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
