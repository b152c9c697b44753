#!/usr/bin/env bash
# signerd_governance.sh: governed policy versions on a real, sandboxed
# signerd and SoftHSM2 (issue 11, docs/governance.md): a tightening takes
# effect with its last approval, a loosening only after the governance
# delay, a cancelled one never; every way an approval fails; restarts and
# kill -9 while a change waits; exposure carried over a lowered daily
# limit; approvals of the old governance set after a governance change;
# key rotation; a forged activation; and the whole history verifying with
# `signerctl audit verify` after several changes in one journal.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
export SD_GOV_DELAY=${SD_GOV_DELAY:-5}
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

SD_POLICY=governed signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
# A second signing key for the rotation, on the same token, loaded from
# the start (keys load at start-up: docs/decisions.md D53).
PAYOUT2_ADDR=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
	--label payout2 --type secp256k1 --json | jq -r .address)
sed -i 's|^payout = .*|&\npayout2 = pkcs11:token=signer;object=payout2|' "$SD_CONF"
chown -R "$SD_USER" "$WORK/tokens"
ok "signerd starts under the governed policy" signerd_start
R=$RECIPIENT
W="$WORK/gov"
mkdir -p "$W"
V1="$WORK/policy.json"

# gov_text ACTION HASH EXPIRES: the six-line text (docs/approvals.md)
# naming the version in force ($SD_POLICY_ID, $IN_FORCE).
IN_FORCE=$(sha256sum "$V1" | cut -c1-64)
gov_text() {
	printf 'signer-approval v1\naction: %s\npolicy: %s\nreplaces: %s\nproposed: %s\nexpires: %s\n' \
		"$1" "$SD_POLICY_ID" "$IN_FORCE" "$2" "$3"
}
# gov_approval NAME ACTION FILE [EXPIRES]: NAME's approval with openssl.
gov_approval() {
	local exp=${4:-$(($(date +%s) + 3600))} f="$W/text.$RANDOM$RANDOM"
	gov_text "$2" "$(sha256sum "$3" | cut -c1-64)" "$exp" >"$f"
	sd_openssl_approval "$1" "$APPROVERS/$1.key" "$f" "$exp" >"$f.json" || return 1
	echo "$f.json"
}
pol() { "$SIGNERCTL" policy "$@" --socket "ipc://$SD_SOCK" 2>>"$WORK/signerctl.err"; }
status() { pol status --json; }
# version FILE ID JQ: a new version of the policy in force.
version() { jq --arg id "$2" ".policy_id = \$id | $3" "$CUR" >"$1"; }
# took_effect FILE: the version in force is now FILE.
took_effect() {
	[ "$(status | jq -r .policy_hash)" = "$(sha256sum "$1" | cut -c1-64)" ]
}
# now_in_force FILE: the test's view follows (texts name the new version).
now_in_force() {
	CUR=$1
	IN_FORCE=$(sha256sum "$1" | cut -c1-64)
	SD_POLICY_ID=$(jq -r .policy_id "$1")
}
CUR=$V1
echo 0 >"$W/nonce"
# pay ID AMOUNT [APPROVALS]: an ETH payout to R with the next nonce (kept
# in a file: pay runs in a subshell); prints signerd's reason.
pay() {
	local n=$(($(cat "$W/nonce") + 1))
	echo $n >"$W/nonce"
	sd_request "$1" ETH "$R" "$2" $n "${3:-[]}" >"$W/$1.json"
	sd_reason sign "$W/$1.json"
}


check "status: version 1 (the genesis), nothing pending" \
	[ "$(status | jq -c '[.version, .policy_id, .pending]')" = "[1,\"$SD_POLICY_ID\",null]" ]

# --- the command line refuses what it cannot send ------------------------
rc() { "$@" >/dev/null 2>&1; echo $?; }
check "policy propose without a file is a usage error" [ "$(rc pol propose)" = 2 ]
check "policy approve without an approval is a usage error" [ "$(rc pol approve)" = 2 ]
check "policy cancel with two approvals is a usage error" \
	[ "$(rc pol cancel --approval a --approval b)" = 2 ]
check "a --proposal that is not 64 lowercase hex is a usage error" \
	[ "$(rc pol approve --approval "$V1" --proposal ABCD)" = 2 ]
check "approving when nothing is pending fails, naming it" \
	[ "$(rc pol approve --approval "$V1")" = 1 ]
printf '{"policy_id": "x",' >"$W/broken.json"
check "a proposal that does not parse is refused by signerd, journaled" \
	[ "$(pol propose "$W/broken.json" --json | jq -r .reason)" = POLICY_INVALID ]
check "and no proposal is pending" [ "$(status | jq -r .pending)" = null ]

# --- a tightening: at once, with its last approval ------------------------
version "$W/v2.json" gov-v2 '.assets.ETH.per_tx_limit = "250000"'
"$SIGNERCTL" policy diff "$V1" "$W/v2.json" >"$W/v2.diff"
check "policy diff calls a lower per-tx limit a tightening" grep -q '^tighten' "$W/v2.diff"
out=$(pol propose "$W/v2.json" --json)
check "the proposal is pending, a tightening, 0 of 2 approvals" \
	[ "$(jq -c '.pending | [.change, (.approvals | length), .needed, .effective_at]' <<<"$out")" = \
	  '["tighten",0,2,null]' ]
check "proposing the same file again changes nothing" \
	[ "$(pol propose "$W/v2.json" --json | jq -r .pending.policy_hash)" = "$(sha256sum "$W/v2.json" | cut -c1-64)" ]
version "$W/other.json" gov-other '.assets.ETH.per_tx_limit = "240000"'
check "a second proposal while one is pending is refused" \
	[ "$(pol propose "$W/other.json" --json | jq -r .reason)" = POLICY_PENDING ]
a=$(gov_approval alice policy "$W/v2.json")
A2=$a
check "one governance approval is recorded" \
	[ "$(pol approve --approval "$a" --json | jq -c '[.version, (.pending.approvals | length)]')" = '[1,1]' ]
fails "one approval short, nothing changed" took_effect "$W/v2.json"
check "alice's approval twice is refused" \
	[ "$(pol approve --approval "$a" --json | jq -r .reason)" = APPROVAL_DUPLICATE ]
c=$(gov_approval carol policy "$W/v2.json")
check "an approver outside the governance set does not count" \
	[ "$(pol approve --approval "$c" --json | jq -r .reason)" = APPROVAL_UNKNOWN_APPROVER ]
x=$(gov_approval bob policy "$W/other.json")
check "an approval over another proposal's hash is refused" \
	[ "$(pol approve --approval "$x" --json | jq -r .reason)" = APPROVAL_BAD_SIGNATURE ]
x=$(gov_approval bob policy "$W/v2.json" $(($(date +%s) - 5)))
check "an expired approval is refused" \
	[ "$(pol approve --approval "$x" --json | jq -r .reason)" = APPROVAL_EXPIRED ]
x=$(gov_approval bob policy-cancel "$W/v2.json")
check "a cancel text does not approve" \
	[ "$(pol approve --approval "$x" --json | jq -r .reason)" = APPROVAL_BAD_SIGNATURE ]
check "a payout of 280000 still passes the old per-tx limit's check" \
	[ "$(pay pre-1 180000 "[$(sd_approve alice pre-1 1337 ETH "$R" 180000), $(sd_approve bob pre-1 1337 ETH "$R" 180000)]")" = OK ]
e=$(gov_approval erin policy "$W/v2.json")
out=$(pol approve --approval "$e" --json)
check "the second approval (Ed25519) makes the tightening take effect at once" \
	[ "$(jq -c '[.version, .policy_id, .pending]' <<<"$out")" = '[2,"gov-v2",null]' ]
check "the journal holds proposed, approved x2, activated" \
	[ "$(jq -r 'select(.type|startswith("policy_")) | .type' "$SD_JOURNAL"/seg-*.jsonl | tr '\n' ,)" = \
	  "policy_proposed,policy_approved,policy_approved,policy_activated," ]
check "the activation carries the whole file" \
	[ "$(jq -j 'select(.type=="policy_activated") | .policy_text' "$SD_JOURNAL"/seg-*.jsonl | sha256sum | cut -c1-64)" = \
	  "$(sha256sum "$W/v2.json" | cut -c1-64)" ]
old_id=$SD_POLICY_ID
now_in_force "$W/v2.json"
check "the new per-tx limit holds at once" [ "$(pay t-1 260000)" = PER_TX_LIMIT ]
check "records after the activation name the new version" \
	[ "$(jq -r 'select(.type=="refused" and .request_id=="t-1") | .policy' "$SD_JOURNAL"/seg-*.jsonl)" = "$IN_FORCE" ]
SD_POLICY_ID=$old_id
aold="[$(sd_approve alice t-2 1337 ETH "$R" 150000), $(sd_approve bob t-2 1337 ETH "$R" 150000)]"
SD_POLICY_ID=gov-v2
check "payout approvals naming the old policy id no longer count" \
	[ "$(pay t-2 150000 "$aold")" = APPROVAL_BAD_SIGNATURE ]
check "approvals naming the new id do" \
	[ "$(pay t-3 150000 "[$(sd_approve alice t-3 1337 ETH "$R" 150000), $(sd_approve erin t-3 1337 ETH "$R" 150000)]")" = OK ]
a=$(gov_approval alice policy "$W/other.json")
check "an approval of a file nobody proposed approves nothing" \
	[ "$(pol approve --approval "$a" --proposal "$(sha256sum "$W/other.json" | cut -c1-64)" --json | jq -r .reason)" = \
	  POLICY_NO_PROPOSAL ]
check "re-proposing a file whose id was in force is refused" \
	[ "$(pol propose "$V1" --json | jq -r .reason)" = POLICY_INVALID ]

# --- proposals signerd refuses ----------------------------------------------
version "$W/bad-m.json" gov-bad '.governance.m = 9'
check "a policy whose m exceeds its approvers is refused" \
	[ "$(pol propose "$W/bad-m.json" --json | jq -r .reason)" = POLICY_INVALID ]
version "$W/bad-key.json" gov-bad '.assets.ETH.key = "nokey"'
check "a key signerd does not hold is refused before any approval" \
	[ "$(pol propose "$W/bad-key.json" --json | jq -r .reason)" = POLICY_INVALID ]
version "$W/bad-paused.json" gov-bad '.paused = true'
check "\"paused\" in a proposal is refused" \
	[ "$(pol propose "$W/bad-paused.json" --json | jq -r .reason)" = POLICY_INVALID ]
check "a proposal replacing another hash is refused" \
	[ "$(pol propose "$W/other.json" --replaces "$(sha256sum "$V1" | cut -c1-64)" --json | jq -r .reason)" = POLICY_STALE ]
check "none of the refused proposals was journaled as one" \
	[ "$(jq -r 'select(.type=="policy_proposed")' "$SD_JOURNAL"/seg-*.jsonl | jq -s length)" = 1 ]

# --- a lowered daily limit applies to what was signed today --------------
signed=$(sd_ctl exposure --asset ETH --json | jq -r .signed)
limit=$((signed + 100000))
version "$W/v3.json" gov-v3 ".assets.ETH.daily_limit = \"$limit\""
pol propose "$W/v3.json" >/dev/null
check "alice's approval of version 2, replayed for this proposal, is named a replay" \
	[ "$(pol approve --approval "$A2" --json | jq -r .reason)" = APPROVAL_WRONG_INTENT ]
pol approve --approval "$(gov_approval alice policy "$W/v3.json")" \
	--approval "$(gov_approval bob policy "$W/v3.json")" >/dev/null
check "a lowered daily limit is a tightening: in force at once" took_effect "$W/v3.json"
now_in_force "$W/v3.json"
check "a payout within the lowered limit, given today's exposure, signs" \
	[ "$(pay d-1 90000)" = OK ]
check "the next one that would pass it is refused" [ "$(pay d-2 20000)" = DAILY_LIMIT ]

# --- a loosening: only after the delay; restarts keep it --------------------
version "$W/v4.json" gov-v4 '.assets.ETH.daily_limit = "5000000"'
"$SIGNERCTL" policy diff "$W/v3.json" "$W/v4.json" --json >"$W/v4.diff"
check "policy diff calls a raised limit a loosening, naming the field" \
	[ "$(jq -r '.class, (.changes[] | select(.path=="assets.ETH.daily_limit") | .class)' "$W/v4.diff" | tr '\n' ,)" = loosen,loosen, ]
pol propose "$W/v4.json" >/dev/null
out=$(pol approve --approval "$(gov_approval alice policy "$W/v4.json")" \
	--approval "$(gov_approval erin policy "$W/v4.json")" --json)
eff=$(jq -r .pending.effective_at <<<"$out")
check "an approved loosening waits: pending, with its effective time" \
	[ "$(jq -c '[.version, .pending.change, (.pending.effective_at != null)]' <<<"$out")" = '[3,"loosen",true]' ]
check "and the old limit still holds meanwhile" [ "$(pay l-1 20000)" = DAILY_LIMIT ]
before=$(sd_ctl exposure --asset ETH --json | jq -r .signed)
signerd_kill9
ok "signerd restarts after kill -9 during the delay" signerd_start
check "the pending change survived kill -9, approvals and all" \
	[ "$(status | jq -c '[.version, .pending.policy_id, (.pending.approvals | length), .pending.effective_at]')" = \
	  "[3,\"gov-v4\",2,\"$eff\"]" ]
signerd_stop
ok "signerd restarts after a clean stop (snapshot) during the delay" signerd_start
check "the pending change survived the snapshot" \
	[ "$(status | jq -r .pending.policy_id)" = gov-v4 ]
check "and so did the day's exposure" \
	[ "$(sd_ctl exposure --asset ETH --json | jq -r .signed)" = "$before" ]
for i in $(seq 1 $((SD_GOV_DELAY * 10 + 30))); do
	took_effect "$W/v4.json" && break
	sleep 0.2
done
check "after the delay the loosening takes effect by itself" took_effect "$W/v4.json"
now_in_force "$W/v4.json"
check "and the raised limit holds" [ "$(pay l-2 20000)" = OK ]
check "the exposure carried over every version" \
	[ "$(sd_ctl exposure --asset ETH --json | jq -r .signed)" = $((limit - 100000 + 90000 + 20000)) ]

# --- a cancelled loosening never takes effect ----------------------------
version "$W/v5.json" gov-v5 '.assets.ETH.per_tx_limit = "299000"'
pol propose "$W/v5.json" >/dev/null
pol approve --approval "$(gov_approval alice policy "$W/v5.json")" \
	--approval "$(gov_approval bob policy "$W/v5.json")" >/dev/null
c=$(gov_approval mallory policy-cancel "$W/v5.json")
check "a cancel by a key outside the governance set is refused" \
	[ "$(pol cancel --approval "$c" --json | jq -r .reason)" = APPROVAL_UNKNOWN_APPROVER ]
c=$(gov_approval erin policy-cancel "$W/v5.json")
check "one governance approver cancels the waiting loosening" \
	[ "$(pol cancel --approval "$c" --json | jq -c '[.version, .pending]')" = '[4,null]' ]
sleep $((SD_GOV_DELAY + 2))
check "after the delay it still is not in force" took_effect "$W/v4.json"
check "the cancelled file cannot be proposed again" \
	[ "$(pol propose "$W/v5.json" --json | jq -r .reason)" = POLICY_INVALID ]

# --- a governance change: the old set's approvals stop counting ----------
version "$W/v6.json" gov-v6 '.governance.approvers = ["alice", "bob", "carol"]'
check "policy diff calls a changed governance set a loosening" \
	grep -q '^loosen' <("$SIGNERCTL" policy diff "$W/v4.json" "$W/v6.json")
pol propose "$W/v6.json" >/dev/null
pol approve --approval "$(gov_approval alice policy "$W/v6.json")" \
	--approval "$(gov_approval erin policy "$W/v6.json")" >/dev/null
for i in $(seq 1 $((SD_GOV_DELAY * 10 + 30))); do
	took_effect "$W/v6.json" && break
	sleep 0.2
done
check "the new governance set is in force" took_effect "$W/v6.json"
now_in_force "$W/v6.json"
version "$W/v7.json" gov-v7 '.assets.ETH.per_tx_limit = "200000"'
pol propose "$W/v7.json" >/dev/null
check "erin (old governance set only) can no longer approve" \
	[ "$(pol approve --approval "$(gov_approval erin policy "$W/v7.json")" --json | jq -r .reason)" = \
	  APPROVAL_UNKNOWN_APPROVER ]
check "carol (new set) can" \
	[ "$(pol approve --approval "$(gov_approval carol policy "$W/v7.json")" --json | jq -r '.pending.approvals[0]')" = carol ]
pol cancel --approval "$(gov_approval bob policy-cancel "$W/v7.json")" >/dev/null

# --- key rotation --------------------------------------------------------
sd_request k-old ETH "$R" 50000 900 "[]" >"$W/k-old.json"
check "before the rotation the old key signs" [ "$(sd_reason sign "$W/k-old.json")" = OK ]
"$SIGNERCTL" key rotate --socket "ipc://$SD_SOCK" --asset ETH --key payout2 \
	--policy-id gov-v8 >"$W/v8.key" 2>"$W/rotate.err"
# TUSD moves to the new key too, so the old key is retired (no asset).
jq '.assets.TUSD.key = "payout2"' "$W/v8.key" >"$W/v8.json"
check "signerctl key rotate writes the next version" \
	[ "$(jq -r '.assets.ETH.key, .policy_id' "$W/v8.json" | tr '\n' ,)" = payout2,gov-v8, ]
ok "and says what is next" grep -q 'signerctl policy propose' "$W/rotate.err"
pol propose "$W/v8.json" >/dev/null
pol approve --approval "$(gov_approval alice policy "$W/v8.json")" \
	--approval "$(gov_approval carol policy "$W/v8.json")" >/dev/null
for i in $(seq 1 $((SD_GOV_DELAY * 10 + 30))); do
	took_effect "$W/v8.json" && break
	sleep 0.2
done
check "the rotation took effect after the delay" took_effect "$W/v8.json"
now_in_force "$W/v8.json"
sd_request k-new-1 ETH "$R" 50000 901 "[]" >"$W/k-new-1.json"
check "a payout built for the old sender is refused, never signed by the new key" \
	[ "$(sd_ctl sign --request "$W/k-new-1.json" --from "$PAYOUT_ADDR" | jq -r .reason)" = KEY_MISMATCH ]
sd_request k-gap ETH "$R" 50000 899 "[]" >"$W/k-gap.json"
check "the retired key may fill a hole below a nonce it signed (899 < 900)" \
	[ "$(sd_ctl sign --request "$W/k-gap.json" --from "$PAYOUT_ADDR" | jq -r .reason)" = OK ]
check "journaled as a gap fill, by the old key" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="k-gap") | "\(.from) \(.gap_fill)"' "$SD_JOURNAL"/seg-*.jsonl)" = \
	  "$PAYOUT_ADDR true" ]
sd_request k-new-2 ETH "$R" 50000 0 "[]" >"$W/k-new-2.json"
raw=$(sd_ctl sign --request "$W/k-new-2.json" --from "$PAYOUT2_ADDR" | jq -r .raw)
check "a new payout is signed by the new key" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="k-new-2") | .from' "$SD_JOURNAL"/seg-*.jsonl)" = "$PAYOUT2_ADDR" ]
check "and signerctl got its transaction back" [ "${#raw}" -gt 100 ]
sd_request k-old ETH "$R" 50000 900 "[]" --max-fee 150000000000 --prio-fee 3000000000 >"$W/k-bump.json"
check "a fee bump of the old key's payout is still signed" \
	[ "$(sd_ctl sign --request "$W/k-bump.json" --from "$PAYOUT_ADDR" | jq -r .reason)" = OK ]
check "by the old key" \
	[ "$(jq -r 'select(.type=="signed" and .request_id=="k-old") | "\(.from) \(.fee_bump // false)"' "$SD_JOURNAL"/seg-*.jsonl | tr '\n' ,)" = \
	  "$PAYOUT_ADDR false,$PAYOUT_ADDR true," ]

# --- a crash between the last approval and the activation ---------------
version "$W/v9.json" gov-v9 '.assets.ETH.per_tx_limit = "150000"'
pol propose "$W/v9.json" >/dev/null
pol approve --approval "$(gov_approval alice policy "$W/v9.json")" \
	--approval "$(gov_approval carol policy "$W/v9.json")" >/dev/null
check "a tightening under the new governance set takes effect" took_effect "$W/v9.json"
signerd_stop
# Cut the journal right after the approval, as if signerd had died before
# it wrote the activation (the re-anchor says the cut is deliberate).
cut=$(jq -r 'select(.type=="policy_approved") | .seq' "$SD_JOURNAL"/seg-*.jsonl | tail -1)
for f in "$SD_JOURNAL"/seg-*.jsonl; do
	awk -v cut="$cut" -F'"seq":' '{ split($2, a, ","); if (a[1] + 0 <= cut) print }' "$f" >"$f.cut"
	cat "$f.cut" >"$f" && rm -f "$f.cut"
done
rm -f "$SD_JOURNAL"/snap-*
check "the cut journal ends with the approval, no activation" \
	[ "$(sd_journal_last "$SD_JOURNAL" | jq -r .type)" = policy_approved ]
SD_ARGS=-A
ok "signerd restarts on it" signerd_start
SD_ARGS=
for i in $(seq 1 30); do took_effect "$W/v9.json" && break; sleep 0.2; done
check "the approved tightening takes effect after the restart" took_effect "$W/v9.json"
check "its activation is journaled after the restart" \
	[ "$(jq -r 'select(.type=="policy_activated") | .version' "$SD_JOURNAL"/seg-*.jsonl | tail -1)" = 7 ]
now_in_force "$W/v9.json"

# --- the history verifies; a forged activation does not -------------------
signerd_stop
ok "audit verify: the journal with six policy changes verifies" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
# The snapshot the clean stop wrote holds what a full replay rebuilds,
# versions, ids and all (layout: docs/journal-format.md, Snapshots).
snap=$(ls "$SD_JOURNAL"/snap-*.bin | sort | tail -1)
len=$((16#$(xxd -p -s 56 -l 8 "$snap")))
tail -c +65 "$snap" | head -c "$len" >"$W/blob"
siglen=$((16#$(tail -c 2 "$W/blob" | xxd -p)))
head -c $((len - 2 - siglen)) "$W/blob" >"$W/snap.state"
"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" \
	--state-out "$W/replay.state" >/dev/null 2>&1
ok "the snapshot of the head equals the full replay, byte for byte" \
	cmp "$W/snap.state" "$W/replay.state"
"$SIGNERCTL" policy history --journal "$SD_JOURNAL" --json >"$W/history.json"
check "policy history lists every version, 1 to 7, in order" \
	[ "$(jq -r 'select(.event=="genesis" or .event=="activated") | .version' "$W/history.json" | tr '\n' ,)" = 1,2,3,4,5,6,7, ]
check "and the cancellations" \
	[ "$(jq -r 'select(.event=="cancelled") | .hash' "$W/history.json" | wc -l)" = 2 ]
cp -a "$SD_JOURNAL" "$W/forged"
# A well-formed activation of a file nobody proposed or approved.
text=$(jq '.policy_id = "forged-1" | .assets.ETH.daily_limit = "999999999"' "$W/v9.json")
forged=$(jq -cn --arg p "$IN_FORCE" --arg text "$text" \
	--arg h "$(printf '%s' "$text" | sha256sum | cut -c1-64)" \
	'{type: "policy_activated", policy: $p, proposal: $h, replaces: $p, policy_id: "forged-1",
	  policy_text: $text, change: "loosen", version: "8", unix: 1900000000, ts: "2030-03-17T17:46:40Z"}')
sd_append_record "$W/forged" "$forged" >/dev/null
fails "audit verify rejects a forged activation appended to a copy" \
	"$SIGNERCTL" audit verify --journal "$W/forged" --pubkey "$AUDIT_PEM"
ok "naming why" grep -q 'no pending proposal' \
	<("$SIGNERCTL" audit verify --journal "$W/forged" --pubkey "$AUDIT_PEM" 2>&1)
mv "$SD_JOURNAL" "$W/real" && mv "$W/forged" "$SD_JOURNAL"
SD_ARGS=-A
fails "start-up rejects it too" signerd_start
SD_ARGS=
ok "naming why" grep -q 'no pending proposal' "$WORK/signerd.log"
rm -rf "$SD_JOURNAL" && mv "$W/real" "$SD_JOURNAL"
ok "the real journal starts again" signerd_start
check "in force after the restart: version 7" [ "$(status | jq -r .version)" = 7 ]
signerd_stop
tap_done
