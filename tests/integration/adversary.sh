#!/usr/bin/env bash
# adversary.sh: a compromised orchestrator against a real, sandboxed signerd
# on SoftHSM2 under the governed policy.  It holds no approver key, only
# what passes through it: requests, approvals it relayed, the socket.  It
# tries to get money out beyond policy in every way below; each attempt
# must be refused with its reason in the reply AND journaled with that
# reason, and in the end the journal holds only the legitimate payouts
# (invariants 2-5 of ARCHITECTURE.md).  Attack ids start with "atk-".
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
SD_TIMELOCK_DELAY=12	# long enough for the attacks made while it runs, even under ASan
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

SD_POLICY=governed signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts under the governed policy" signerd_start
R=$RECIPIENT
EVIL=0xdD2FD4581271e230360230F9337D5c0430Bf44C0	# the attacker's account
ROGUE_TOKEN=0x8464135c8F25Da09e49BC8782676a84730C318bC
W="$WORK/adv"
mkdir -p "$W"
ATTACKS=0

# attack ID CMD WANT DESCRIPTION: sends $W/ID.json with signerctl CMD and
# checks both the reply and the journal say WANT.
attack() {
	local id=$1 cmd=$2 want=$3 desc=$4 got
	ATTACKS=$((ATTACKS + 1))
	got=$(sd_reason "$cmd" "$W/$id.json")
	check "$desc: refused, $want" [ "$got" = "$want" ]
	check "$desc: journaled as $want" [ "$(sd_journal_reason "$id")" = "$want" ]
}
req() { local id=$1; shift; sd_request "$id" "$@" >"$W/$id.json"; }

# --- what the orchestrator legitimately relayed before turning ------------
ok_legit() { [ "$(sd_reason sign "$W/$1.json")" = OK ]; }
la=$(sd_approve alice legit-1 1337 ETH "$R" 150000)
lb=$(sd_approve bob legit-1 1337 ETH "$R" 150000)
req legit-1 ETH "$R" 150000 1 "[$la, $lb]"
ok "legit: an approved payout of 150000 is signed" ok_legit legit-1
req legit-2 ETH "$R" 20000 2 "[]"
ok "legit: a small payout is signed" ok_legit legit-2

# --- limits -----------------------------------------------------------------
req atk-1 ETH "$EVIL" 300001 100 "[]"
attack atk-1 sign PER_TX_LIMIT "1. one payout over the per-transaction limit"
# TUSD: 5000 a day; 1000 each needs no approval.  Split across ids.
for i in 1 2 3 4 5; do
	req "split-$i" TUSD "$ACCT2" 1000 $((110 + i)) "[]"
	sd_reason sign "$W/split-$i.json" >/dev/null
done
req atk-2 TUSD "$ACCT2" 1000 116 "[]"
attack atk-2 sign DAILY_LIMIT "2. the daily limit split across request ids"

# --- what the transaction really does ------------------------------------------
req atk-3 ETH "$R" 250000 120 "[]"
jq '.amount = "100"' "$W/atk-3.json" >"$W/x" && mv "$W/x" "$W/atk-3.json"
attack atk-3 sign INTENT_MISMATCH "3. a stated amount (100) that lies about the tx (250000)"
req atk-4 TUSD "$EVIL" 10 121 "[]" --token "$ROGUE_TOKEN"
attack atk-4 sign UNKNOWN_TOKEN_CONTRACT "4. a transfer() on a token contract not in the policy"
req atk-5 ETH "$R" 1000 122 "[]" --create
attack atk-5 sign NOT_A_TRANSFER "5. a contract creation"
req atk-6 ETH "$R" 1000 123 "[]" --data "deadbeef"
attack atk-6 sign NOT_A_TRANSFER "6. calldata on a native payout"
# approve(EVIL, 2^255) on the registered token: not a transfer.
approve_data=095ea7b3000000000000000000000000${EVIL#0x}8000000000000000000000000000000000000000000000000000000000000000
req atk-7 TUSD "$R" 500 124 "[]" --data "$approve_data"
attack atk-7 sign NOT_A_TRANSFER "7. approve() instead of transfer() on the token"
req atk-8 ETH "$R" 1000 125 "[]" --access-list "$EVIL"
attack atk-8 sign ACCESS_LIST_NOT_EMPTY "8. a transaction with an access list"
req atk-9 ETH "$R" 1000 126 "[]"
tx=$("$SDCLIENT" mktx --chain-id 1 --nonce 126 --to "$R" --value 1000)
jq --arg tx "$tx" '.tx = $tx' "$W/atk-9.json" >"$W/x" && mv "$W/x" "$W/atk-9.json"
attack atk-9 sign CHAIN_MISMATCH "9. the right asset on the wrong chain id"
req atk-10 ETH "$R" 1000 127 "[]" --signed
attack atk-10 sign MALFORMED_REQUEST "10. a signed transaction submitted as unsigned"
req atk-11 TUSD "$EVIL" 500 128 "[]"
attack atk-11 sign RECIPIENT_NOT_ALLOWED "11. a token payout to an account off the allowlist"
req atk-12 TUSD "$TUSD_CONTRACT" 500 129 "[]"
attack atk-12 sign RECIPIENT_NOT_ALLOWED "12. tokens sent to the token contract itself"
req atk-13 TUSD "$R" 500 130 "[]" --value 1000000
attack atk-13 sign VALUE_ON_TOKEN_TRANSFER "13. ETH riding along on a token transfer"
req atk-14 ETH "$R" 0 131 "[]"
attack atk-14 sign ZERO_AMOUNT "14. a zero-value payout (nonce burning)"
jq --arg tx "0xf84b808504a817c80082520894${R#0x}880de0b6b3a764000080" \
	'.tx = $tx | .request_id = "atk-15" | .amount = "1000"' "$W/atk-14.json" >"$W/atk-15.json"
attack atk-15 sign MALFORMED_REQUEST "15. a legacy (pre-EIP-1559) transaction"

# --- approvals --------------------------------------------------------------------
A=150000
req atk-16 ETH "$EVIL" $A 140 "[$la, $lb]"
attack atk-16 sign APPROVAL_WRONG_INTENT "16. approvals of another payout replayed for a new one"
req atk-17 ETH "$EVIL" $A 141 "[$(sd_approve mallory atk-17 1337 ETH "$EVIL" $A), $(sd_approve mallory atk-17 1337 ETH "$EVIL" $A)]"
jq '.approvals[1].approver = "zed"' "$W/atk-17.json" >"$W/x" && mv "$W/x" "$W/atk-17.json"
attack atk-17 sign APPROVAL_UNKNOWN_APPROVER "17. approvals by keys the policy does not name"
a1=$(sd_approve alice atk-18 1337 ETH "$R" $A)
a2=$(sd_approve alice atk-18 1337 ETH "$R" $A $(($(date +%s) + 7000)))
req atk-18 ETH "$R" $A 142 "[$a1, $a2]"
attack atk-18 sign APPROVAL_DUPLICATE "18. one approver's two genuine approvals counted as two"
old=$(sd_approve bob atk-19 1337 ETH "$R" $A $(($(date +%s) - 60)))
req atk-19 ETH "$R" $A 143 "[$(sd_approve alice atk-19 1337 ETH "$R" $A), $old]"
attack atk-19 sign APPROVAL_EXPIRED "19. an expired approval"
forged=$(sd_approve mallory atk-20 1337 ETH "$EVIL" $A | jq -c '.approver = "bob"')
req atk-20 ETH "$EVIL" $A 144 "[$(sd_approve alice atk-20 1337 ETH "$EVIL" $A), $forged]"
attack atk-20 sign APPROVAL_BAD_SIGNATURE "20. a forged approval under a real approver's name"
req atk-21 ETH "$EVIL" $A 145 "[$(sd_approve alice atk-21 1337 ETH "$EVIL" $A)]"
attack atk-21 sign APPROVALS_MISSING "21. one approval where two are needed"
# An approval for 150000 to R, used for 150000 to EVIL under its id.
req atk-22 ETH "$EVIL" $A 146 "[$(sd_approve alice atk-22 1337 ETH "$R" $A), $(sd_approve bob atk-22 1337 ETH "$R" $A)]"
attack atk-22 sign APPROVAL_BAD_SIGNATURE "22. approvals for the same id but another recipient"

# --- the timelock -------------------------------------------------------------------
tl_aps() { echo "[$(sd_approve alice "$1" 1337 ETH "$R" 250000), $(sd_approve bob "$1" 1337 ETH "$R" 250000)]"; }
req tl-legit ETH "$R" 250000 3 "$(tl_aps tl-legit)"
earliest=$(sd_ctl queue --request "$W/tl-legit.json" | jq -r .earliest)
check "legit: a timelocked payout is queued" [ "$earliest" -gt 0 ]
req tl-stop ETH "$R" 250000 4 "$(tl_aps tl-stop)"
check "legit: another is queued" [ "$(sd_reason queue "$W/tl-stop.json")" = OK ]
sd_approve_op carol cancel tl-stop >"$W/cancel.json"
check "legit: an approver cancels it" \
	[ "$(sd_ctl cancel --request-id tl-stop --approval "$W/cancel.json" | jq -r .reason)" = OK ]
req atk-23 ETH "$R" 250000 150 "$(tl_aps atk-23)"
attack atk-23 sign TIMELOCK_NOT_QUEUED "23. skipping the timelock (approved, never queued)"
req tl-legit ETH "$R" 250000 3 "[]"
cp "$W/tl-legit.json" "$W/atk-24.json"
r=$(sd_reason sign "$W/atk-24.json")
ATTACKS=$((ATTACKS + 1))
check "24. signing a queued payout before its delay: refused, TIMELOCK_PENDING" [ "$r" = TIMELOCK_PENDING ]
check "24. ... journaled as TIMELOCK_PENDING" [ "$(sd_journal_reason tl-legit)" = TIMELOCK_PENDING ]
req tl-legit ETH "$EVIL" 250000 3 "[]"
r=$(sd_reason sign "$W/tl-legit.json")
ATTACKS=$((ATTACKS + 1))
check "25. a queued id used for another recipient: refused, REQUEST_ID_CONFLICT" [ "$r" = REQUEST_ID_CONFLICT ]
check "25. ... journaled as REQUEST_ID_CONFLICT" [ "$(sd_journal_reason tl-legit)" = REQUEST_ID_CONFLICT ]
while [ "$(date +%s)" -le "$earliest" ]; do sleep 0.5; done
req tl-stop ETH "$R" 250000 4 "[]"
r=$(sd_reason sign "$W/tl-stop.json")
ATTACKS=$((ATTACKS + 1))
check "26. signing a cancelled payout after its delay: refused, TIMELOCK_CANCELLED" [ "$r" = TIMELOCK_CANCELLED ]
check "26. ... journaled as TIMELOCK_CANCELLED" [ "$(sd_journal_reason tl-stop)" = TIMELOCK_CANCELLED ]
check "legit: the queued payout signs after its delay" \
	[ "$(sd_reason sign "$W/atk-24.json")" = OK ]

# --- nonces and fee bumps -------------------------------------------------------------
req atk-27 ETH "$EVIL" 20000 2 "[]"
attack atk-27 sign NONCE_REUSED "27. a signed nonce reused to pay someone else"
req legit-2 ETH "$EVIL" 20000 2 "[]" --max-fee 3000000000 --prio-fee 2000000000
cp "$W/legit-2.json" "$W/atk-28.json"
r=$(sd_reason sign "$W/atk-28.json")
ATTACKS=$((ATTACKS + 1))
check "28. a 'fee bump' that changes the recipient: refused, REQUEST_ID_CONFLICT" [ "$r" = REQUEST_ID_CONFLICT ]
check "28. ... journaled as REQUEST_ID_CONFLICT" [ "$(sd_journal_reason legit-2)" = REQUEST_ID_CONFLICT ]
req legit-2 ETH "$R" 20000 2 "[]" --max-fee 3000000000 --prio-fee 1000000000
r=$(sd_reason sign "$W/legit-2.json")
ATTACKS=$((ATTACKS + 1))
check "29. a 'fee bump' that does not raise both fees: refused, FEE_BUMP_INVALID" [ "$r" = FEE_BUMP_INVALID ]
check "29. ... journaled as FEE_BUMP_INVALID" [ "$(sd_journal_reason legit-2)" = FEE_BUMP_INVALID ]
req atk-30 ETH "$R" 1000 160 "[]" --max-fee 900000000000
attack atk-30 sign FEE_CAP_MAX_FEE "30. a fee above the cap (paying a colluding block builder)"
req atk-31 ETH "$R" 1000 161 "[]" --gas 5000000
attack atk-31 sign FEE_CAP_GAS_LIMIT "31. a gas limit above the cap"

# --- queue abuse ----------------------------------------------------------------------------
r=$(sd_reason queue "$W/legit-1.json")
ATTACKS=$((ATTACKS + 1))
check "32. queueing an id that was already signed: refused, REQUEST_ID_CONFLICT" [ "$r" = REQUEST_ID_CONFLICT ]
check "32. ... journaled as REQUEST_ID_CONFLICT" [ "$(sd_journal_reason legit-1)" = REQUEST_ID_CONFLICT ]

# --- pause --------------------------------------------------------------------------------------
sd_approve_op erin pause inc-1 >"$W/pause.json"
check "legit: an approver pauses signerd" \
	[ "$(sd_ctl pause --pause-id inc-1 --approval "$W/pause.json" | jq -r .reason)" = OK ]
req atk-33 ETH "$R" 1000 170 "[]"
attack atk-33 sign PAUSED "33. a payout while paused"
sd_approve_op mallory unpause inc-1 >"$W/un-m.json"
r=$(sd_ctl unpause --pause-id inc-1 --approval "$W/un-m.json" | jq -r .reason)
ATTACKS=$((ATTACKS + 1))
check "34. an unpause signed by the attacker's key: refused, APPROVAL_UNKNOWN_APPROVER" \
	[ "$r" = APPROVAL_UNKNOWN_APPROVER ]
check "34. ... journaled as APPROVAL_UNKNOWN_APPROVER" [ "$(sd_journal_reason inc-1)" = APPROVAL_UNKNOWN_APPROVER ]
r=$(sd_ctl unpause --pause-id inc-1 --approval "$W/pause.json" | jq -r .reason)
ATTACKS=$((ATTACKS + 1))
check "35. the pauser's own approval replayed as an unpause: refused, APPROVAL_WRONG_INTENT" \
	[ "$r" = APPROVAL_WRONG_INTENT ]
check "35. ... journaled as APPROVAL_WRONG_INTENT" [ "$(sd_journal_reason inc-1)" = APPROVAL_WRONG_INTENT ]
sd_approve_op alice pause inc-1 >"$W/al.json"
r=$(sd_ctl unpause --pause-id inc-1 --approval "$W/al.json" --approval "$W/pause.json" | jq -r .reason)
ATTACKS=$((ATTACKS + 1))
check "36. a governance approver's pause approval relabelled as unpause: refused, APPROVAL_BAD_SIGNATURE" \
	[ "$r" = APPROVAL_BAD_SIGNATURE ]
check "36. ... journaled as APPROVAL_BAD_SIGNATURE" [ "$(sd_journal_reason inc-1)" = APPROVAL_BAD_SIGNATURE ]
check "still paused after every attempt" [ "$(sd_ctl status --json | jq -r .paused)" = true ]

# --- frames that are not requests at all -----------------------------------------------------
records_before=$(cat "$SD_JOURNAL"/seg-*.jsonl | wc -l)
out=$("$SDCLIENT" raw --socket "ipc://$SD_SOCK" ${SD_FRAME_HEAD}0005deadbeef 2>&1)
ATTACKS=$((ATTACKS + 1))
check "37. a truncated QUEUE_REQ: refused, MALFORMED_REQUEST" grep -q 'MALFORMED_REQUEST' <<<"$out"
# A frame that does not decode costs no fdatasync: it is counted for the
# next "refusals" record (D45), not journaled one by one.
check "37. ... counted, not journaled one by one" \
	[ "$(cat "$SD_JOURNAL"/seg-*.jsonl | wc -l)" = "$records_before" ]

# --- what got out -----------------------------------------------------------------------------
echo "# $ATTACKS attacks" >&2
check "at least fifteen different attacks were tried" [ "$ATTACKS" -ge 15 ]
check "no attack signed anything" \
	[ -z "$(jq -r 'select(.type=="signed" and (.request_id | startswith("atk-"))) | .request_id' \
		"$SD_JOURNAL"/seg-*.jsonl)" ]
check "the signed records are exactly the legitimate payouts" \
	[ "$(jq -r 'select(.type=="signed") | .request_id' "$SD_JOURNAL"/seg-*.jsonl | sort | tr '\n' ' ')" = \
	  "legit-1 legit-2 split-1 split-2 split-3 split-4 split-5 tl-legit " ]
check "no signed record goes to the attacker" \
	[ -z "$(jq -r --arg e "$EVIL" 'select(.type=="signed" and .to == $e) | .request_id' "$SD_JOURNAL"/seg-*.jsonl)" ]
check "ETH exposure is the legitimate payouts only" \
	[ "$(sd_ctl exposure --asset ETH --json | jq -r .signed)" = 420000 ]
check "every refusal in the journal has a reason code" \
	[ -z "$(jq -c 'select(.type=="refused" and ((.reason_code | type) != "number" or .reason_code == 0))' \
		"$SD_JOURNAL"/seg-*.jsonl)" ]
ok "signerd stops" signerd_stop
ok "the journal of the attack verifies" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
