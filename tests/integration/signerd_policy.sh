#!/usr/bin/env bash
# signerd_policy.sh: a real, sandboxed signerd on SoftHSM2 under a policy
# with approvers (P-256 and Ed25519 keys made by openssl, and a P-256 key
# on a token), governance and a timelock: approvals at M and every way
# they fail, the timelock queue (before, after, cancelled, across
# restarts, the clock behind the journal), allowlist and fee caps, nonce
# discipline and fee bumps, pause and unpause, and policy files with
# errors.  Invariants 4 and 5 of ARCHITECTURE.md, and 2 for fee bumps.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

SD_POLICY=governed signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts under the governed policy" signerd_start
SOCK="ipc://$SD_SOCK"
R=$RECIPIENT
ACCT3=0x90F79bf6EB2c4f870365E785982E1f101E93b906
W="$WORK/req"
mkdir -p "$W"
jr() { sd_journal_reason "$1"; }
exposure() { sd_ctl exposure --asset "$1" --json | jq -r .signed; }

# --- approvals (ETH above 100000 needs 2) ----------------------------------
A=150000
ap_alice=$(sd_approve alice ap-1 1337 ETH "$R" $A)
ap_erin=$(sd_approve erin ap-1 1337 ETH "$R" $A)
sd_request ap-1 ETH "$R" $A 1 "[$ap_alice, $ap_erin]" >"$W/ap-1.json"
check "exactly M approvals (P-256 and Ed25519, made by openssl) sign" \
	[ "$(sd_reason sign "$W/ap-1.json")" = OK ]
check "the signed record names the approvals used" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="ap-1") | [.approvals[].approver] | join(",")' \
		"$SD_JOURNAL"/seg-*.jsonl)" = "alice,erin" ]
sd_request ap-2 ETH "$R" $A 2 "[$(sd_approve alice ap-2 1337 ETH "$R" $A)]" >"$W/ap-2.json"
check "one approval short is refused" [ "$(sd_reason sign "$W/ap-2.json")" = APPROVALS_MISSING ]
sd_request ap-2 ETH "$R" $A 2 "[]" >"$W/ap-2b.json"
check "no approvals at all is refused" [ "$(sd_reason sign "$W/ap-2b.json")" = APPROVALS_MISSING ]
sd_request ap-3 ETH "$R" $A 3 "[$(sd_approve alice ap-3 1337 ETH "$R" $A), $(sd_approve mallory ap-3 1337 ETH "$R" $A)]" >"$W/ap-3.json"
check "an approval by a key not in the policy is refused" \
	[ "$(sd_reason sign "$W/ap-3.json")" = APPROVAL_UNKNOWN_APPROVER ]
a1=$(sd_approve alice ap-4 1337 ETH "$R" $A)
a2=$(sd_approve alice ap-4 1337 ETH "$R" $A $(($(date +%s) + 7200)))
sd_request ap-4 ETH "$R" $A 4 "[$a1, $a2]" >"$W/ap-4.json"
check "one approver twice is refused" [ "$(sd_reason sign "$W/ap-4.json")" = APPROVAL_DUPLICATE ]
forged=$(sd_approve mallory ap-5 1337 ETH "$R" $A | jq -c '.approver = "bob"')
sd_request ap-5 ETH "$R" $A 5 "[$(sd_approve alice ap-5 1337 ETH "$R" $A), $forged]" >"$W/ap-5.json"
check "a forged approval (bob's name, another key) is refused" \
	[ "$(sd_reason sign "$W/ap-5.json")" = APPROVAL_BAD_SIGNATURE ]
sd_request ap-6 ETH "$R" $A 6 "[$(sd_approve alice ap-6 1337 ETH "$R" $A), $(sd_approve bob ap-6x 1337 ETH "$R" $A)]" >"$W/ap-6.json"
check "an approval over another request id is refused" \
	[ "$(sd_reason sign "$W/ap-6.json")" = APPROVAL_BAD_SIGNATURE ]
sd_request ap-6 ETH "$R" $A 6 "[$(sd_approve alice ap-6 1337 ETH "$R" $A), $(sd_approve bob ap-6 1337 ETH "$ACCT2" $A)]" >"$W/ap-6b.json"
check "an approval over another recipient is refused" \
	[ "$(sd_reason sign "$W/ap-6b.json")" = APPROVAL_BAD_SIGNATURE ]
sd_request ap-7 ETH "$R" $A 7 "[$ap_alice, $ap_erin]" >"$W/ap-7.json"
check "approvals accepted for another request are named a replay" \
	[ "$(sd_reason sign "$W/ap-7.json")" = APPROVAL_WRONG_INTENT ]
sd_request ap-8 ETH "$R" $A 8 "[$(sd_approve alice ap-8 1337 ETH "$R" $A), $(sd_approve bob ap-8 1337 ETH "$R" $A $(($(date +%s) - 5)))]" >"$W/ap-8.json"
check "an expired approval is refused" [ "$(sd_reason sign "$W/ap-8.json")" = APPROVAL_EXPIRED ]
for id in ap-2 ap-3 ap-4 ap-5 ap-6 ap-7 ap-8; do
	want=$(jq -r --arg id $id 'select(.type=="refused" and .request_id==$id) | .reason' \
		"$SD_JOURNAL"/seg-*.jsonl | wc -l)
	[ "$want" -ge 1 ] || echo "# $id not journaled" >&2
done
check "each refusal is journaled with its reason" \
	[ "$(jr ap-3),$(jr ap-4),$(jr ap-5),$(jr ap-7),$(jr ap-8)" = \
	  "APPROVAL_UNKNOWN_APPROVER,APPROVAL_DUPLICATE,APPROVAL_BAD_SIGNATURE,APPROVAL_WRONG_INTENT,APPROVAL_EXPIRED" ]

# signerctl approve: a PEM key (P-256, Ed25519) and a P-256 key on a token.
exp=$(($(date +%s) + 3600))
sd_text_sign ap-9 1337 ETH "$R" $A "$exp" >"$W/ap-9.txt"
"$SIGNERCTL" approve --key "$APPROVERS/carol.key" --intent "$W/ap-9.txt" \
	--approver carol >"$W/carol.json" 2>"$W/approve.err"
check "signerctl approve shows the text it signs" grep -q 'request: ap-9' "$W/approve.err"
"$SIGNERCTL" approve --key "$DAVE_URI" --module "$SOFTHSM_MODULE" \
	--pin-file "$WORK/dave.pin" --intent "$W/ap-9.txt" --approver dave >"$W/dave.json" 2>>"$W/approve.err"
check "signerctl approve signs with a P-256 key on a PKCS#11 token" \
	[ "$(jq -r .approver "$W/dave.json")" = dave ]
sd_request ap-9 ETH "$R" $A 9 "[$(cat "$W/carol.json"), $(cat "$W/dave.json")]" >"$W/ap-9.json"
check "approvals from signerctl approve (PEM and token) sign" \
	[ "$(sd_reason sign "$W/ap-9.json")" = OK ]
"$SIGNERCTL" approve --key "$APPROVERS/erin.key" --intent "$W/ap-9.txt" --approver erin >"$W/erin.json" 2>/dev/null
check "signerctl approve signs with an Ed25519 PEM key" \
	[ "$(jq -r '.signature | length' "$W/erin.json")" = 128 ]
sed 's/^amount: .*/amount: 0150000/' "$W/ap-9.txt" >"$W/bad.txt"
fails "signerctl approve refuses a text that is not canonical" \
	"$SIGNERCTL" approve --key "$APPROVERS/carol.key" --intent "$W/bad.txt"
cp "$APPROVERS/carol.key" "$W/open.key" && chmod 0644 "$W/open.key"
fails "signerctl approve refuses a key file others can read" \
	"$SIGNERCTL" approve --key "$W/open.key" --intent "$W/ap-9.txt"
sd_request small-1 ETH "$R" 90000 10 "[]" >"$W/small-1.json"
check "below the approval threshold no approval is needed" \
	[ "$(sd_reason sign "$W/small-1.json")" = OK ]

# --- the timelock (ETH above 200000 waits SD_TIMELOCK_DELAY s) ------------
T=250000
tl_aps() { echo "[$(sd_approve alice "$1" 1337 ETH "$R" $T), $(sd_approve bob "$1" 1337 ETH "$R" $T)]"; }
sd_request tl-1 ETH "$R" $T 20 "$(tl_aps tl-1)" >"$W/tl-1.json"
check "above the timelock threshold, signing unqueued is refused" \
	[ "$(sd_reason sign "$W/tl-1.json")" = TIMELOCK_NOT_QUEUED ]
sd_request tl-1 ETH "$R" $T 20 "[$(sd_approve alice tl-1 1337 ETH "$R" $T)]" >"$W/tl-1-short.json"
check "queueing checks approvals like signing" \
	[ "$(sd_reason queue "$W/tl-1-short.json")" = APPROVALS_MISSING ]
q=$(sd_ctl queue --request "$W/tl-1.json")
earliest=$(jq -r .earliest <<<"$q")
check "a payout with its approvals is queued, signable after the delay" \
	[ "$(jq -r .reason <<<"$q")" = OK ] && [ "$earliest" -ge $(($(date +%s) + SD_TIMELOCK_DELAY - 1)) ]
check "queueing the same payout again is idempotent" \
	[ "$(sd_ctl queue --request "$W/tl-1.json" | jq -r .earliest)" = "$earliest" ]
check "the queued record carries the earliest time and approvals" \
	[ "$(jq -r 'select(.type=="queued" and .request_id=="tl-1") | "\(.earliest) \(.approvals | length)"' \
		"$SD_JOURNAL"/seg-*.jsonl)" = "$earliest 2" ]
sd_request tl-1 ETH "$R" $T 20 "[]" >"$W/tl-1-sign.json"
out=$(sd_ctl sign --request "$W/tl-1-sign.json")
check "signing before the delay is refused with the time remaining" \
	[ "$(jq -r .reason <<<"$out")" = TIMELOCK_PENDING ] && grep -q 's remaining' <<<"$(jq -r .message <<<"$out")"
sd_request tl-1 ETH "$ACCT2" $T 21 "[]" >"$W/tl-1-other.json"
check "a queued id signs only the payout that was queued" \
	[ "$(sd_reason sign "$W/tl-1-other.json")" = REQUEST_ID_CONFLICT ]
sd_request tl-2 ETH "$R" $T 22 "$(tl_aps tl-2)" >"$W/tl-2.json"
sd_request tl-3 ETH "$R" $T 23 "$(tl_aps tl-3)" >"$W/tl-3.json"
check "a second and third payout are queued" \
	[ "$(sd_reason queue "$W/tl-2.json")$(sd_reason queue "$W/tl-3.json")" = OKOK ]
echo "$(sd_approve_op mallory cancel tl-2)" >"$W/cancel-mallory.json"
check "a cancel by a key not in the policy is refused" \
	[ "$(sd_ctl cancel --request-id tl-2 --approval "$W/cancel-mallory.json" | jq -r .reason)" = \
	  APPROVAL_UNKNOWN_APPROVER ]
echo "$(sd_approve_op carol cancel tl-2)" >"$W/cancel-carol.json"
check "any one approver cancels a queued payout" \
	[ "$(sd_ctl cancel --request-id tl-2 --approval "$W/cancel-carol.json" | jq -r .reason)" = OK ]
check "the cancel is journaled" \
	[ "$(jq -r 'select(.type=="cancelled") | "\(.request_id) \(.approvals[0].approver)"' \
		"$SD_JOURNAL"/seg-*.jsonl)" = "tl-2 carol" ]
sleep $((SD_TIMELOCK_DELAY + 1))
check "after the delay the queued payout signs (no approvals needed again)" \
	[ "$(sd_reason sign "$W/tl-1-sign.json")" = OK ]
check "the signed record says it was authorized by its queue entry" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="tl-1") | .queued' "$SD_JOURNAL"/seg-*.jsonl)" = true ]
sd_request tl-2 ETH "$R" $T 22 "[]" >"$W/tl-2-sign.json"
check "a cancelled payout never signs" [ "$(sd_reason sign "$W/tl-2-sign.json")" = TIMELOCK_CANCELLED ]
check "nor can it be queued again" [ "$(sd_reason queue "$W/tl-2.json")" = TIMELOCK_CANCELLED ]
check "a signed payout cannot be cancelled any more" \
	[ "$(sd_ctl cancel --request-id tl-1 --approval <(sd_approve_op alice cancel tl-1) | jq -r .reason)" = \
	  TIMELOCK_NOT_QUEUED ]
# Issue 15: a payout cancelled before it ever reached signerd can never be
# queued or signed afterwards, whatever approvals come with it.
check "a payout never queued can be cancelled" \
	[ "$(sd_ctl cancel --request-id tl-9 --approval <(sd_approve_op alice cancel tl-9) | jq -r .reason)" = OK ]
sd_request tl-9 ETH "$R" $T 29 "$(tl_aps tl-9)" >"$W/tl-9.json"
check "... and then it cannot be queued" [ "$(sd_reason queue "$W/tl-9.json")" = TIMELOCK_CANCELLED ]
sd_request small-9 ETH "$R" 1000 30 "[]" >"$W/small-9.json"
check "a small payout cancelled before signing never signs either" \
	[ "$(sd_ctl cancel --request-id small-9 --approval <(sd_approve_op alice cancel small-9) | jq -r .reason)" = OK ] &&
	[ "$(sd_reason sign "$W/small-9.json")" = TIMELOCK_CANCELLED ]
sd_request tl-4 ETH "$R" $T 24 "$(tl_aps tl-4)" >"$W/tl-4.json"
tl4_earliest=$(sd_ctl queue --request "$W/tl-4.json" | jq -r .earliest)
check "a fourth payout is queued before a restart" [ "$tl4_earliest" -gt 0 ]

ok "signerd stops (snapshot at shutdown)" signerd_stop
ok "signerd restarts from the snapshot" signerd_start
sd_request tl-2 ETH "$R" $T 22 "[]" >"$W/tl-2-sign.json"
check "after a restart the cancelled payout is still cancelled" \
	[ "$(sd_reason sign "$W/tl-2-sign.json")" = TIMELOCK_CANCELLED ]
sd_request tl-3 ETH "$R" $T 23 "[]" >"$W/tl-3-sign.json"
check "after a restart a queued payout signs" [ "$(sd_reason sign "$W/tl-3-sign.json")" = OK ]
ok "signerd stops again" signerd_stop
rm -f "$SD_JOURNAL"/snap-*.bin
ok "signerd restarts with no snapshot (journal replay alone)" signerd_start
sd_request tl-4 ETH "$R" $T 24 "[]" >"$W/tl-4-sign.json"
early=
while [ "$(date +%s)" -lt "$tl4_earliest" ]; do
	asked=$(date +%s)
	r4=$(sd_reason sign "$W/tl-4-sign.json")
	# Pending until the delay's last second; within it signerd's clock may
	# already have reached the earliest time by the time it looks.
	if [ "$r4" != TIMELOCK_PENDING ]; then
		[ $((asked + 1)) -ge "$tl4_earliest" ] || early="$r4 at $asked"
		break
	fi
	sleep 0.5
done
check "after a replay-only restart the queued payout waits out its delay" \
	[ -z "$early" ] && [ "$(sd_reason sign "$W/tl-4-sign.json")" = OK ]
check "and the cancelled one stays cancelled" \
	[ "$(sd_reason sign "$W/tl-2-sign.json")" = TIMELOCK_CANCELLED ]

# --- allowlist and fee caps -----------------------------------------------
check "TUSD (exposure ETH so far: $(exposure ETH)) to an allowed recipient signs" \
	[ "$(sd_request tok-1 TUSD "$R" 500 30 "[]" >"$W/tok-1.json"; sd_reason sign "$W/tok-1.json")" = OK ]
sd_request tok-2 TUSD "$ACCT3" 500 31 "[]" >"$W/tok-2.json"
check "TUSD to a recipient off the allowlist is refused" \
	[ "$(sd_reason sign "$W/tok-2.json")" = RECIPIENT_NOT_ALLOWED ]
sd_request fee-1 ETH "$R" 1000 32 "[]" --max-fee 200000000001 >"$W/fee-1.json"
check "max fee per gas above its cap is refused" [ "$(sd_reason sign "$W/fee-1.json")" = FEE_CAP_MAX_FEE ]
sd_request fee-2 ETH "$R" 1000 32 "[]" --max-fee 100000000000 --prio-fee 5000000001 >"$W/fee-2.json"
check "priority fee above its cap is refused" [ "$(sd_reason sign "$W/fee-2.json")" = FEE_CAP_PRIORITY_FEE ]
sd_request fee-3 ETH "$R" 1000 32 "[]" --gas 100001 >"$W/fee-3.json"
check "gas limit above its cap is refused" [ "$(sd_reason sign "$W/fee-3.json")" = FEE_CAP_GAS_LIMIT ]
sd_request fee-4 ETH "$R" 1000 32 "[]" --max-fee 200000000000 --prio-fee 5000000000 --gas 100000 >"$W/fee-4.json"
check "fees exactly at their caps sign" [ "$(sd_reason sign "$W/fee-4.json")" = OK ]

# --- nonces and fee bumps --------------------------------------------------
sd_request nb-1 ETH "$R" 50000 40 "[]" >"$W/nb-1.json"
h1=$(sd_ctl sign --request "$W/nb-1.json" | jq -r .tx_hash)
check "a payout on nonce 40 signs" [ "${#h1}" = 66 ]
sd_request nb-2 ETH "$ACCT2" 50000 40 "[]" >"$W/nb-2.json"
check "another payout on the same nonce is refused" [ "$(sd_reason sign "$W/nb-2.json")" = NONCE_REUSED ]
e0=$(exposure ETH)
sd_request nb-1 ETH "$R" 50000 40 "[]" --max-fee 3000000000 --prio-fee 2000000000 >"$W/nb-1-bump.json"
h2=$(sd_ctl sign --request "$W/nb-1-bump.json" | jq -r .tx_hash)
check "a fee bump (both fees higher) is signed" [ "${#h2}" = 66 ] && [ "$h2" != "$h1" ]
check "the fee bump is not counted again" [ "$(exposure ETH)" = "$e0" ]
check "the fee bump is journaled as one, naming what it replaces" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="nb-1" and .fee_bump) | .replaces' "$SD_JOURNAL"/seg-*.jsonl)" = "$h1" ]
check "the bump again returns the same transaction" \
	[ "$(sd_ctl sign --request "$W/nb-1-bump.json" | jq -r .tx_hash)" = "$h2" ]
check "a bump whose fees are not both higher is refused" \
	[ "$(sd_reason sign "$W/nb-1.json")" = FEE_BUMP_INVALID ]
sd_request nb-1 ETH "$R" 50000 40 "[]" --max-fee 200000000001 --prio-fee 3000000000 >"$W/nb-1-cap.json"
check "a bump above the fee cap is refused" [ "$(sd_reason sign "$W/nb-1-cap.json")" = FEE_BUMP_INVALID ]
sd_request nb-1 ETH "$ACCT2" 50000 40 "[]" --max-fee 4000000000 --prio-fee 3000000000 >"$W/nb-1-to.json"
check "a 'bump' that changes the recipient is refused" [ "$(sd_reason sign "$W/nb-1-to.json")" = REQUEST_ID_CONFLICT ]
sd_request nb-1 ETH "$R" 50001 40 "[]" --max-fee 4000000000 --prio-fee 3000000000 >"$W/nb-1-val.json"
check "a 'bump' that changes the amount is refused" [ "$(sd_reason sign "$W/nb-1-val.json")" = REQUEST_ID_CONFLICT ]

# --- pause and unpause -------------------------------------------------------
echo "$(sd_approve_op erin pause inc-1)" >"$W/pause-1.json"
check "one approver pauses signerd (break-glass)" \
	[ "$(sd_ctl pause --pause-id inc-1 --approval "$W/pause-1.json" | jq -r .reason)" = OK ]
st=$(sd_ctl status --json)
check "status shows the pause" [ "$(jq -r .paused <<<"$st")" = true ]
check "status names the pause and who paused" grep -q 'inc-1 by erin' <<<"$(sd_ctl status)"
sd_request pz-1 ETH "$R" 1000 50 "[]" >"$W/pz-1.json"
check "while paused a payout is refused" [ "$(sd_reason sign "$W/pz-1.json")" = PAUSED ]
check "while paused a queue request is refused" [ "$(sd_reason queue "$W/tl-4.json")" = PAUSED ]
check "while paused a fee bump is refused" [ "$(sd_reason sign "$W/nb-1.json")" = PAUSED ]
check "the pause is journaled" \
	[ "$(jq -r 'select(.type=="paused") | "\(.pause_id) \(.approvals[0].approver)"' "$SD_JOURNAL"/seg-*.jsonl)" = "inc-1 erin" ]
check "a pause id is used once" \
	[ "$(sd_ctl pause --pause-id inc-1 --approval "$W/pause-1.json" | jq -r .reason)" = REQUEST_ID_CONFLICT ]
ok "signerd stops while paused" signerd_stop
ok "and restarts" signerd_start
check "the pause survives the restart" [ "$(sd_ctl status --json | jq -r .paused)" = true ]
sd_approve_op alice unpause inc-1 >"$W/un-alice.json"
sd_approve_op bob unpause inc-1 >"$W/un-bob.json"
sd_approve_op carol unpause inc-1 >"$W/un-carol.json"
check "one governance approval does not unpause" \
	[ "$(sd_ctl unpause --pause-id inc-1 --approval "$W/un-alice.json" | jq -r .reason)" = APPROVALS_MISSING ]
check "an approver outside governance does not count" \
	[ "$(sd_ctl unpause --pause-id inc-1 --approval "$W/un-alice.json" --approval "$W/un-carol.json" | jq -r .reason)" = \
	  APPROVAL_UNKNOWN_APPROVER ]
check "an unpause must name the pause in force" \
	[ "$(sd_ctl unpause --pause-id inc-0 --approval "$W/un-alice.json" --approval "$W/un-bob.json" | jq -r .reason)" = \
	  REQUEST_ID_CONFLICT ]
check "still paused" [ "$(sd_reason sign "$W/pz-1.json")" = PAUSED ]
check "M of the governance set unpause" \
	[ "$(sd_ctl unpause --pause-id inc-1 --approval "$W/un-alice.json" --approval "$W/un-bob.json" | jq -r .reason)" = OK ]
check "status no longer shows a pause" [ "$(sd_ctl status --json | jq -r .paused)" = false ]
check "after the unpause a payout signs" [ "$(sd_reason sign "$W/pz-1.json")" = OK ]
sd_approve_op bob pause inc-2 >"$W/pause-2.json"
sd_ctl pause --pause-id inc-2 --approval "$W/pause-2.json" >/dev/null
check "the old unpause cannot lift a new pause" \
	[ "$(sd_ctl unpause --pause-id inc-1 --approval "$W/un-alice.json" --approval "$W/un-bob.json" | jq -r .reason)" = \
	  REQUEST_ID_CONFLICT ]
check "nor its approvals relabelled for the new pause" \
	[ "$(sd_ctl unpause --pause-id inc-2 --approval "$W/un-alice.json" --approval "$W/un-bob.json" | jq -r .reason)" = \
	  APPROVAL_WRONG_INTENT ]
sd_approve_op alice unpause inc-2 >"$W/un2-alice.json"
sd_approve_op erin unpause inc-2 >"$W/un2-erin.json"
check "two governance approvers (one Ed25519) lift the new pause" \
	[ "$(sd_ctl unpause --pause-id inc-2 --approval "$W/un2-alice.json" --approval "$W/un2-erin.json" | jq -r .reason)" = OK ]

# --- the sandbox held through all of it ---------------------------------------
check "signerd still runs, sandboxed, after P-256 and Ed25519 verifications" \
	[ "$(grep -h '^Seccomp:' /proc/"$SD_PID"/task/*/status | grep -vc $'\t2$')" = 0 ]
ok "signerd stops" signerd_stop
ok "the journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"

# --- the clock behind the journal ----------------------------------------------
# A record from a clock an hour ahead (as if the clock was then set back):
# chained onto the journal the way signerd writes them.  signerd's one
# clock (invariant 10) never goes back behind it: time stands at the
# journal's until the clock catches up, so delays cannot be shortened.
cp -a "$SD_JOURNAL" "$WORK/journal.before-clock"
seg=$(ls "$SD_JOURNAL"/seg-*.jsonl | tail -1)
last=$(tail -n 1 "$seg")
prev=$(printf '%s' "$last" | sha256sum | cut -d' ' -f1)
seq=$(($(jq -r .seq <<<"$last") + 1))
ahead=$(($(date +%s) + 3600))
printf '{"prev":"%s","seq":%d,"policy":"%s","ts":"%s","type":"started","unix":%d}\n' \
	"$prev" "$seq" "$(sha256sum "$WORK/policy.json" | cut -d' ' -f1)" \
	"$(date -u -d @$ahead +%Y-%m-%dT%H:%M:%SZ)" "$ahead" >>"$seg"
ok "signerd starts on a journal written an hour ahead of its clock" signerd_start
sd_request tl-5 ETH "$R" $T 60 "$(tl_aps tl-5)" >"$W/tl-5.json"
check "queueing while the clock is behind the journal is dated by the journal" \
	[ "$(sd_reason queue "$W/tl-5.json")" = OK ]
check "its delay runs from the journal's time, not the clock's" \
	[ "$(jq -s '[.[] | select(.type=="queued" and .request_id=="tl-5")][0].queued_at >= '"$ahead" "$SD_JOURNAL"/seg-*.jsonl)" = true ]
check "so signing it now waits for the delay" \
	[ "$(sd_reason sign "$W/tl-5.json")" = TIMELOCK_PENDING ]
sd_request small-2 ETH "$R" 1000 61 "[]" >"$W/small-2.json"
check "a payout below every threshold still signs" [ "$(sd_reason sign "$W/small-2.json")" = OK ]
check "no record's time goes back behind the journal's" \
	[ "$(jq -s '[.[] | select(.unix != null) | .unix] | . == sort' "$SD_JOURNAL"/seg-*.jsonl)" = true ]
ok "signerd stops" signerd_stop
rm -rf "$SD_JOURNAL" && cp -a "$WORK/journal.before-clock" "$SD_JOURNAL"

# --- policy files that signerd refuses to start with ------------------------------
cp "$WORK/policy.json" "$WORK/policy.good"
bad_policy() {	# bad_policy DESCRIPTION JQ-FILTER EXPECTED-PATH
	jq "$2" "$WORK/policy.good" >"$WORK/policy.json"
	: >"$WORK/signerd.log"
	fails "a policy with $1 stops start-up" signerd_start
	check "the error names $3" grep -qF "$3" "$WORK/signerd.log"
}
bad_policy "an unknown field" '.assets.ETH.dialy_limit = "5"' "assets.ETH: unknown field 'dialy_limit'"
bad_policy "a duplicate approver" '.assets.ETH.approval.approvers += ["alice"]' \
	"assets.ETH.approval.approvers[5]: duplicate approver 'alice'"
bad_policy "M greater than N" '.governance.m = 4' "governance.m: 4 exceeds the 3 approvers"
bad_policy "a limit that does not parse" '.assets.TUSD.per_tx_limit = "2e3"' \
	"assets.TUSD.per_tx_limit: not a decimal amount"
bad_policy "no governance" 'del(.governance)' "governance: missing"
bad_policy "no governance delay" 'del(.governance.delay)' "governance.delay: missing"
bad_policy "an unknown governance approver" '.governance.approvers = ["alice", "zed"]' \
	"governance.approvers[1]: unknown approver 'zed'"
bad_policy "the same key under two names" '.approvers.carol = .approvers.bob' \
	"approvers: duplicate public key for bob and carol"
jq -c . "$WORK/policy.good" | sed 's/^{/{"policy_id":"x",/' >"$WORK/policy.json"
: >"$WORK/signerd.log"
fails "a policy with a duplicate key stops start-up" signerd_start
check "the error says so" grep -q 'duplicate' "$WORK/signerd.log"
cp "$WORK/policy.good" "$WORK/policy.json"
# The journal was put back to an older copy above: the HSM's anchor knows.
: >"$WORK/signerd.log"
fails "an older copy of the journal does not start (the HSM's anchor)" signerd_start
check "the error says the journal is behind its anchor" grep -q "HSM's anchor" "$WORK/signerd.log"
SD_ARGS=-A ok "a deliberate re-anchor (-A) starts it" signerd_start
check "the re-anchor is journaled" \
	[ "$(jq -r 'select(.type=="reanchored") | .old_seq' "$SD_JOURNAL"/seg-*.jsonl | tail -1)" != "" ]
ok "signerd stops" signerd_stop
ok "the good policy starts again" signerd_start
ok "and stops" signerd_stop
tap_done
