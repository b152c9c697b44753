#!/usr/bin/env bash
# orch_finalized.sh: an asset whose policy says `"confirmations":
# "finalized"` is CONFIRMED when the node's finalized block reaches the
# payout's block, not at any depth before that (tracker.c finalized_at).
# signerd (SoftHSM2), PostgreSQL, anvil with three slots an epoch (its
# "finalized" block is latest - 6, "safe" latest - 3) and one orchestratord
# replica.  Blocks are mined one at a time; after each the test waits
# until the tracker has recorded the new depth, so "still SUBMITTED" is
# read after the tracker had its chance, not after a guessed delay.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/signerd.sh
EVMNODE_SLOTS=3
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

LAG=$((2 * EVMNODE_SLOTS))

check "signerd provisioned" signerd_provision
jq '.assets.ETH.confirmations = "finalized"' "$WORK/policy.json" >"$WORK/p.json" &&
	mv "$WORK/p.json" "$WORK/policy.json"
check "signerd starts (ETH: confirmations \"finalized\")" signerd_start
check "EVM node starts" evmnode_start
check "payout key funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
check "orchestratord starts" orch_start 1

R=$RECIPIENT
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
tag_block() { evm_dec "$(rpc eth_getBlockByNumber "[\"$1\", false]" | jq -r .number)"; }
latest() { evm_dec "$(rpc eth_blockNumber)"; }
# poll SECONDS CMD...: CMD until it succeeds, at most SECONDS.
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.2; done
}
mined() { [ "$(field "$1" .block_number)" != null ]; }
# depth_is ID N: the tracker has recorded N confirmations (or more) for ID,
# or ended it.
depth_is() {
	local c
	c=$(field "$1" .confirmations)
	[ "$c" != null ] && [ "$c" -ge "$2" ] || [ "$(field "$1" .status)" = CONFIRMED ]
}

check "the node's finalized block lags latest by $LAG" \
	[ "$(tag_block finalized)" = "$(($(latest) > LAG ? $(latest) - LAG : 0))" ]

api POST /v1/payouts "{\"request_id\":\"fin1\",\"asset\":\"ETH\",\"to\":\"$R\",\"amount\":\"1000\"}" \
	"$TOK_SUBMIT" >/dev/null
check "fin1 created" [ "$(api_status)" = 201 ]
check "fin1 mined" poll 60 mined fin1
B=$(field fin1 .block_number)
echo "# fin1 in block $B"

# Up to the last block that still leaves finalized below B: depth LAG.
for ((d = 2; d <= LAG; d++)); do
	evmnode_mine 1
	poll 30 depth_is fin1 "$d" || break
done
fin=$(tag_block finalized)
check "fin1 at depth $LAG, recorded by the tracker" [ "$(field fin1 .confirmations)" = "$LAG" ]
check "finalized ($fin) is still below fin1's block $B" [ "$fin" -lt "$B" ]
check "safe ($(tag_block safe)) already covers it" [ "$(tag_block safe)" -ge "$B" ]
check "fin1 still SUBMITTED: depth and safe do not count, finalized does" \
	[ "$(field fin1 .status)" = SUBMITTED ]

evmnode_mine 1
check "one more block: finalized ($(tag_block finalized)) reaches $B" \
	[ "$(tag_block finalized)" -ge "$B" ]
check "fin1 CONFIRMED" wait_status fin1 CONFIRMED 30
check "in the block it was mined in" [ "$(field fin1 .block_number)" = "$B" ]
check "an outbox event says so" \
	[ "$(pgsql "SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id WHERE p.request_id = 'fin1' AND o.event = 'PayoutConfirmed'")" = 1 ]

check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
tap_done
