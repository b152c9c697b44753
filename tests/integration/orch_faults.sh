#!/usr/bin/env bash
# orch_faults.sh: orchestratord when the world misbehaves.  The EVM node
# goes down and comes back; PostgreSQL restarts mid-run; a reorg removes a
# mined payout's block (anvil_reorg: the same height, other blocks, the
# transaction gone) and the same transaction is broadcast again; a transaction that is not mined in time
# is fee-bumped through signerd.  Every payout still ends CONFIRMED, once.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "signerd provisioned" signerd_provision
# Three confirmations for ETH, so a payout is mined but not yet final.
jq '.assets.ETH.confirmations = 3' "$WORK/policy.json" >"$WORK/p.json" &&
	mv "$WORK/p.json" "$WORK/policy.json"
check "signerd starts" signerd_start
check "EVM node starts" evmnode_start
check "payout key funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
ORCH_BUMP_AFTER=3
orch_config 1
check "orchestratord starts" orch_start 1

R=$RECIPIENT
create() { api POST /v1/payouts "{\"request_id\":\"$1\",\"asset\":\"ETH\",\"to\":\"$R\",\"amount\":\"${2:-1000}\"}" "$TOK_SUBMIT" >"$WORK/last.json"; }
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
# Blocks on top of a payout's, so it can reach 3 confirmations.
mine() { evmnode_mine "${1:-3}"; }
confirm() { local id=$1 i; for i in $(seq 1 60); do [ "$(field "$id" .status)" = SUBMITTED ] &&
	[ "$(field "$id" .block_number)" != null ] && mine 3; [ "$(field "$id" .status)" = CONFIRMED ] && return 0; sleep 0.5; done; return 1; }

create warm
check "a first payout (nonce 0) CONFIRMED after 3 blocks" confirm warm

# --- the EVM node down, then back ------------------------------------------------------
evmnode_stop
for i in 1 2 3; do create nd$i; done
sleep 3
check "node down: payouts wait, none failed" \
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE 'nd%' AND status IN ('APPROVED','SIGNING','SUBMITTED')")" = 3 ]
check "node back on the same port with its chain" evmnode_restart
for i in 1 2 3; do confirm nd$i; done
check "all three CONFIRMED after the node came back" \
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE 'nd%' AND status = 'CONFIRMED'")" = 3 ]

# --- PostgreSQL restarted mid-run ------------------------------------------------------------
for i in $(seq 1 10); do create pg$i; done
check "PostgreSQL restarts" pg_restart
codes=""
for i in $(seq 11 15); do
	create pg$i
	codes+="$(api_status) "
	[ "$(api_status)" = 201 ] || cat "$WORK/last.json" >&2
done
check "the API answers every request after the restart ($codes)" [ "$codes" = "201 201 201 201 201 " ]
for i in $(seq 1 15); do confirm pg$i; done
check "all 15 CONFIRMED across the restart" \
	[ "$(pgsql "SELECT count(*) FROM payouts WHERE request_id LIKE 'pg%' AND status = 'CONFIRMED'")" = 15 ]

# --- a reorg: the block goes, the same transaction comes back ------------------------------------
create rg1
for i in $(seq 1 60); do [ "$(field rg1 .block_number)" != null ] && break; sleep 0.25; done
h1=$(field rg1 .tx_hash)
b1=$(field rg1 .block_number)
check "rg1 mined in block $b1, not yet final" [ "$b1" != null ] && [ "$(field rg1 .status)" = SUBMITTED ]
# Every block from rg1's up is replaced by an empty one: the chain keeps
# its height, rg1's block hash changes and its transaction is gone.
top=$(evm_dec "$(rpc eth_blockNumber)")
check "anvil_reorg replaces blocks $b1..$top without rg1" \
	rpc anvil_reorg "[$((top - b1 + 1)), []]"
check "block $b1 no longer holds rg1's transaction" \
	[ "$(rpc eth_getBlockByNumber "[\"$(evm_hex "$b1")\", false]" | jq --arg h "$h1" '.transactions | index($h)')" = null ]
check "rg1 reorged: back to SUBMITTED, event written" \
	bash -c "for i in \$(seq 1 60); do [ \"\$(PGHOST='$PGHOST' PGPORT='$PGPORT' psql -X -At -U orchestrator payouts -c \"SELECT count(*) FROM outbox o JOIN payouts p ON p.id = o.payout_id WHERE p.request_id = 'rg1' AND o.event = 'PayoutReorged'\")\" -ge 1 ] && exit 0; sleep 0.25; done; exit 1"
check "rg1 CONFIRMED after the rebroadcast" confirm rg1
check "with the same transaction" [ "$(field rg1 .tx_hash)" = "$h1" ]
check "which is on the canonical chain" [ "$(rpc eth_getTransactionReceipt "[\"$h1\"]" | jq -r .status)" = 0x1 ]

# --- a fee bump: not mined in time ----------------------------------------------------------------
evmnode_automine off
create fb1
for i in $(seq 1 40); do [ "$(field fb1 .status)" = SUBMITTED ] && break; sleep 0.25; done
h0=$(field fb1 .tx_hash)
for i in $(seq 1 80); do [ "$(field fb1 .bumps)" -ge 1 ] && break; sleep 0.25; done
check "fb1 fee-bumped after 3 s unmined" [ "$(field fb1 .bumps)" -ge 1 ]
check "the bump is a new transaction" [ "$(field fb1 .tx_hash)" != "$h0" ]
check "signerd journaled a fee bump for fb1" \
	[ "$(jq -r 'select(.type == "signed" and .request_id == "fb1" and .fee_bump == true) | .request_id' "$SD_JOURNAL"/seg-*.jsonl | head -1)" = fb1 ]
evmnode_automine on
check "fb1 CONFIRMED" confirm fb1
check "fb1 counted once in signerd's exposure (journal: exposure rose by 1000 once)" \
	[ "$(jq -r 'select(.type == "signed" and .request_id == "fb1" and .fee_bump != true) | .request_id' "$SD_JOURNAL"/seg-*.jsonl | wc -l)" = 1 ]

n_chain=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")
check "nonces: one per payout, all on chain ($n_chain)" \
	[ "$(pgsql "SELECT count(DISTINCT nonce) || ':' || count(*) FROM payouts")" = "$n_chain:$n_chain" ]
check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
check "the signer's journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
