#!/usr/bin/env bash
# orch_flow.sh: payouts through the whole system: orchestratord (HTTP,
# PostgreSQL, workers, tracker) -> signerd (SoftHSM2, governed policy) ->
# anvil.  Native and ERC-20 payouts to CONFIRMED with the balances on
# chain; 2-of-N approvals; a timelocked payout that waits its delay; one
# cancelled while queued; a signerd refusal (daily limit) ending FAILED
# with its reason, and the next payout reusing its nonce; an on-chain
# revert ending FAILED.  Every signed payout shows signerd's receipt (the
# seq and SHA-256 of the journal record that authorized it), and the
# receipts exported as docs/api.md says verify against the journal.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
SD_POLICY=governed
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/erc20.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "EVM node starts" evmnode_start
check "ERC-20 deployed" erc20_deploy
# The policy names the token the demo deployed.
TUSD_CONTRACT=$TOKEN_ADDR
check "signerd provisioned (governed policy)" signerd_provision
check "signerd starts" signerd_start
check "payout key funded with 1 ETH" fund "$PAYOUT_ADDR" 1000000000000000000
check "payout key holds 1200 TUSD" erc20_mint_to "$PAYOUT_ADDR" 1200
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
check "orchestratord serve starts" orch_start 1

R=$RECIPIENT
create() { api POST /v1/payouts "$(jq -cn --arg id "$1" --arg a "$2" --arg to "$3" --arg amt "$4" \
	'{request_id: $id, asset: $a, to: $to, amount: $amt}')" "$TOK_SUBMIT"; }
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
approve() { api POST "/v1/payouts/$2/approvals" "$(sd_approve "$1" "$2" 1337 "$3" "$4" "$5")" "$TOK_APPROVE" >/dev/null; }
signed_in_journal() { jq -r --arg id "$1" 'select(.type == "signed" and .request_id == $id) | .request_id' \
	"$SD_JOURNAL"/seg-*.jsonl | wc -l; }

# --- native and ERC-20 to CONFIRMED ----------------------------------------------------
eth0=$(balance "$R")
create f1 ETH "$R" 1000 >/dev/null
check "native payout created" [ "$(api_status)" = 201 ]
check "native payout CONFIRMED" wait_status f1 CONFIRMED 60
check "recipient got exactly 1000 wei" [ "$(node -e "console.log((BigInt('$(balance "$R")') - BigInt('$eth0')).toString())")" = 1000 ]
h=$(field f1 .tx_hash)
rc=$(rpc eth_getTransactionReceipt "[\"$h\"]")
check "its tx is on chain, from the HSM key" [ "$(jq -r .from <<<"$rc")" = "${PAYOUT_ADDR,,}" ]
check "confirmations recorded" [ "$(field f1 .confirmations)" -ge 1 ]
rc=$(field f1 '.receipt.seq + " " + .receipt.hash')
rseq=${rc%% *}
rhash=${rc#* }
is_receipt() { [[ "$1" =~ ^[1-9][0-9]*$ && "$2" =~ ^[0-9a-f]{64}$ ]]; }
check "f1 shows signerd's receipt: seq a decimal string, hash 64 lowercase hex ($rc)" \
	is_receipt "$rseq" "$rhash"
line=$(grep -h "^{\"prev\":\"[0-9a-f]*\",\"seq\":$rseq," "$SD_JOURNAL"/seg-*.jsonl)
check "the receipt's seq is f1's signed record in signerd's journal" \
	[ "$(jq -r '.type + " " + .request_id' <<<"$line")" = "signed f1" ]
check "and its hash is that record's SHA-256" [ "$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)" = "$rhash" ]
create f2 TUSD "$R" 500 >/dev/null
check "ERC-20 payout CONFIRMED" wait_status f2 CONFIRMED 60
check "recipient holds 500 TUSD" [ "$(erc20_balance "$R")" = 500 ]
ev=$(api GET "/v1/events?first=500" "" "$TOK_VIEW")
check "f1 events: Created, Approved, Submitted, Confirmed" \
	[ "$(jq -r '[.events[] | select(.request_id == "f1") | .event] | join(",")' <<<"$ev")" = \
	  "PayoutRequestCreated,PayoutRequestApproved,PayoutSubmitted,PayoutConfirmed" ]

# --- approvals ------------------------------------------------------------------------------
create a1 ETH "$R" 150000 >/dev/null
check "a1 waits for approvals" [ "$(field a1 .status)" = PENDING_APPROVAL ]
approve alice a1 ETH "$R" 150000
sleep 1
check "one approval is not enough" [ "$(field a1 .status)" = PENDING_APPROVAL ]
approve erin a1 ETH "$R" 150000
check "a second (erin, Ed25519) approves it; CONFIRMED" wait_status a1 CONFIRMED 60
check "signerd signed a1 once" [ "$(signed_in_journal a1)" = 1 ]
check "signerd journaled the approvals it checked" \
	[ "$(jq -r 'select(.type == "signed" and .request_id == "a1") | .approvals | length' "$SD_JOURNAL"/seg-*.jsonl)" = 2 ]

# --- reject ---------------------------------------------------------------------------------
create j1 ETH "$R" 150000 >/dev/null
api POST /v1/payouts/j1/reject '{"reason":"not our customer"}' "$TOK_APPROVE" >/dev/null
check "rejected payout is REJECTED" [ "$(field j1 .status)" = REJECTED ]
check "signerd never saw j1" [ "$(grep -c '"j1"' "$SD_JOURNAL"/seg-*.jsonl | awk -F: '{s+=$NF} END {print s+0}')" = 0 ]

# --- timelock, and cancel while queued --------------------------------------------------------
create t1 ETH "$R" 250000 >/dev/null
create t2 ETH "$R" 250000 >/dev/null
for id in t1 t2; do
	approve alice $id ETH "$R" 250000
	approve bob $id ETH "$R" 250000
done
check "t1 QUEUED in signerd" wait_status t1 QUEUED 30
check "t2 QUEUED in signerd" wait_status t2 QUEUED 30
check "t1 shows when it may be signed" [ "$(field t1 .not_before)" != null ]
body=$(api POST /v1/payouts/t2/cancel "$(sd_approve_op carol cancel t2)" "$TOK_APPROVE")
check "t2 cancelled by carol" [ "$(api_status)" = 200 ] && [ "$(jq -r .status <<<"$body")" = CANCELLED ]
check "signerd journaled the cancel" \
	[ "$(jq -r 'select(.type == "cancelled" and .request_id == "t2") | .request_id' "$SD_JOURNAL"/seg-*.jsonl)" = t2 ]
check "t1 waits its delay, then CONFIRMED" wait_status t1 CONFIRMED $((SD_TIMELOCK_DELAY + 60))
check "t2 stays CANCELLED, never signed" [ "$(field t2 .status)" = CANCELLED ] && [ "$(signed_in_journal t2)" = 0 ]

# --- an on-chain revert -----------------------------------------------------------------------
# 700 TUSD left.  With mining paused both 400 transfers estimate fine
# against the current state; mined in turn, the second runs out.
evmnode_automine off
create rv1 TUSD "$R" 400 >/dev/null
create rv2 TUSD "$ACCT2" 400 >/dev/null
check "rv1 signed and submitted" wait_status rv1 SUBMITTED 30
check "rv2 signed and submitted" wait_status rv2 SUBMITTED 30
evmnode_automine on
check "rv1 terminal" wait_status rv1 terminal 60
check "rv2 terminal" wait_status rv2 terminal 60
st="$(field rv1 .status) $(field rv2 .status)"
check "one CONFIRMED, one FAILED (got $st)" [ "$st" = "CONFIRMED FAILED" ] || [ "$st" = "FAILED CONFIRMED" ]
failed=rv2; [ "$(field rv1 .status)" = FAILED ] && failed=rv1
check "the reverted one says REVERTED" [ "$(field $failed .reason_code)" = REVERTED ]

# --- a signerd refusal: FAILED with its reason; the nonce is reused -----------------------------
check "payout key holds 5000 more TUSD" erc20_mint_to "$PAYOUT_ADDR" 5000
# TUSD signed today: 500 + 400 + 400 = 1300 of 5000.
for id in d1 d2 d3; do create $id TUSD "$R" 1000 >/dev/null; wait_status $id CONFIRMED 60; done
check "d1..d3 CONFIRMED (4300 of 5000 signed)" [ "$(field d3 .status)" = CONFIRMED ]
create d4 TUSD "$R" 1000 >/dev/null
check "d4 over the daily limit ends FAILED" wait_status d4 FAILED 60
check "with signerd's reason DAILY_LIMIT" [ "$(field d4 .reason_code)" = DAILY_LIMIT ]
check "signerd journaled the refusal" [ "$(sd_journal_reason d4)" = DAILY_LIMIT ]
create d5 TUSD "$R" 700 >/dev/null
check "d5 (exactly to the limit) CONFIRMED: d4's nonce was reused, no gap" wait_status d5 CONFIRMED 60
n_chain=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")
n_db=$(pgsql "SELECT count(*) FROM payouts WHERE nonce IS NOT NULL")
check "every assigned nonce is on chain ($n_db in db, $n_chain on chain)" [ "$n_db" = "$n_chain" ]
check "nonces distinct and contiguous from 0" \
	[ "$(pgsql "SELECT count(DISTINCT nonce) = max(nonce) + 1 FROM payouts WHERE nonce IS NOT NULL")" = t ]
ex=$(api GET "/v1/exposure?asset=TUSD" "" "$TOK_VIEW")
check "signerd's TUSD exposure is 5000 of 5000" [ "$(jq -r '.signed_total + "/" + .limit' <<<"$ex")" = "5000/5000" ]

# --- receipts, as an auditor exports them (docs/api.md) ---------------------------------------------
after=""
: >"$WORK/receipts.txt"
while :; do
	page=$(api GET "/v1/payouts?first=2${after:+&after=$after}" "" "$TOK_VIEW")
	jq -r '.payouts[] | select(.receipt != null) | "\(.receipt.seq) \(.receipt.hash)"' <<<"$page" >>"$WORK/receipts.txt"
	after=$(jq -r '.next // empty' <<<"$page")
	[ -n "$after" ] || break
done
n_signed=$(pgsql "SELECT count(*) FROM payouts WHERE tx_hash IS NOT NULL")
check "one receipt line per signed payout ($(wc -l <"$WORK/receipts.txt") of $n_signed)" \
	[ "$(wc -l <"$WORK/receipts.txt")" = "$n_signed" ] && [ "$n_signed" -ge 8 ]
check "every signed version in payout_txs has its receipt" \
	[ "$(pgsql "SELECT count(*) FROM payout_txs WHERE receipt_seq IS NULL")" = 0 ]

# --- shutdown and the log --------------------------------------------------------------------------
check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
check "the signer's journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
check "and holds every exported receipt" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" \
	--pubkey "$AUDIT_PEM" --receipts "$WORK/receipts.txt"
# Change the first hash digit to another one (a fixed '0' would change
# nothing one time in sixteen).
awk 'NR == 1 { $2 = (substr($2, 1, 1) == "0" ? "1" : "0") substr($2, 2) } { print }' \
	"$WORK/receipts.txt" >"$WORK/receipts.bad" && mv "$WORK/receipts.bad" "$WORK/receipts.txt"
fails "a receipt whose hash is not the record's is refused" "$SIGNERCTL" audit verify \
	--journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" --receipts "$WORK/receipts.txt"
tap_done
