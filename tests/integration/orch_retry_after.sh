#!/usr/bin/env bash
# orch_retry_after.sh: retries are data (issue 13, protocol 5).  signerd
# answers a timelock that is still running with TIMELOCK_PENDING and the
# seconds left in the reply header (retry_after_s); orchestratord retries
# the payout then, not on a fixed timer: over a 20 s timelock signerd
# journals at most 2 TIMELOCK_PENDING refusals for it (a 5 s timer gives
# about 4), and orchestratord's log shows the wait it took from signerd.
# A request id signerd saw with other content (REQUEST_ID_CONFLICT) is
# final: the payout fails at once, asked once.
#
# The early sign request is provoked as a clock disagreement would: the
# payout's not_before (signerd's earliest, as orchestratord stored it) is
# moved to now in PostgreSQL, so a worker claims it while signerd's clock
# still says 20 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
SD_POLICY=governed
SD_TIMELOCK_DELAY=20
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "EVM node starts" evmnode_start
check "signerd provisioned (governed policy, 20 s timelock)" signerd_provision
check "signerd starts" signerd_start
check "payout key funded with 1 ETH" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
check "orchestratord serve starts" orch_start 1

R=$RECIPIENT
create() { api POST /v1/payouts "$(jq -cn --arg id "$1" --arg a "$2" --arg to "$3" --arg amt "$4" \
	'{request_id: $id, asset: $a, to: $to, amount: $amt}')" "$TOK_SUBMIT"; }
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
approve() { api POST "/v1/payouts/$2/approvals" "$(sd_approve "$1" "$2" 1337 "$3" "$4" "$5")" "$TOK_APPROVE" >/dev/null; }
# refusals ID ACTION REASON: how many signerd journaled.
refusals() {
	jq -r --arg id "$1" --arg act "$2" --arg why "$3" \
		'select(.type == "refused" and .request_id == $id and .action == $act and .reason == $why) | .seq' \
		"$SD_JOURNAL"/seg-*.jsonl | wc -l
}

# --- a timelocked payout asked too early: retried when signerd says ------------------------
create tl1 ETH "$R" 250000 >/dev/null
approve alice tl1 ETH "$R" 250000
approve bob tl1 ETH "$R" 250000
check "tl1 QUEUED in signerd" wait_status tl1 QUEUED 30
check "orchestratord's clock runs ahead: not_before moved to now" \
	pgsql "UPDATE payouts SET not_before = now() WHERE request_id = 'tl1'"
check "tl1 CONFIRMED after its timelock" wait_status tl1 CONFIRMED $((SD_TIMELOCK_DELAY + 60))
n=$(refusals tl1 sign TIMELOCK_PENDING)
check "signerd refused tl1 early at least once (TIMELOCK_PENDING)" [ "$n" -ge 1 ]
check "and at most twice over 20 s: retried when signerd said, not every 5 s (got $n)" [ "$n" -le 2 ]
wait_ms=$(grep -o '"msg":"payout tl1: retry in [0-9]* ms: signerd sign: TIMELOCK_PENDING[^"]*after signerd' \
	"$WORK/orch-1.log" | head -1 | sed -E 's/.*retry in ([0-9]+) ms.*/\1/')
check "orchestratord's log shows the wait it took from signerd (${wait_ms:-none} ms)" \
	[ -n "$wait_ms" ] && [ "$wait_ms" -ge 10000 ] && [ "$wait_ms" -le $((SD_TIMELOCK_DELAY * 1000)) ]

# --- a conflict is final: failed at once, asked once ---------------------------------------------
# signerd signs cf1 for another amount (a nonce orchestratord never uses),
# then orchestratord brings a payout of its own under the same id.
sd_request cf1 ETH "$R" 777 900 '[]' >"$WORK/cf1.json"
check "signerd signed cf1 (777 wei) for someone else" \
	[ "$(sd_reason sign "$WORK/cf1.json")" = OK ]
create cf1 ETH "$R" 1000 >/dev/null
check "orchestratord's cf1 (1000 wei) ends FAILED" wait_status cf1 FAILED 30
check "with REQUEST_ID_CONFLICT" [ "$(field cf1 .reason_code)" = REQUEST_ID_CONFLICT ]
sleep 3
check "asked once: signerd journaled one conflict, no retries" \
	[ "$(refusals cf1 sign REQUEST_ID_CONFLICT)" = 1 ]

tap_done
