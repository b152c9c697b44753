#!/usr/bin/env bash
# approvals_doc.sh: the openssl commands of docs/approvals.md, run as
# written (only the variables set), make approvals a real signerd accepts,
# P-256 and Ed25519; the doc's auditor commands verify an approval from
# the journal; and its policy change commands make approvals policy/'s
# own checker (tools/approval_verify, what signerd runs) counts.  If the
# doc and signerd drift apart, this fails.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

# blocks MARKER: the ```sh blocks between the doc's markers, each into
# $WORK/doc-MARKER-N.sh.
blocks() {
	awk -v dir="$WORK" -v m="$1" '
	    $0 == "<!-- " m ":begin -->" { on = 1; next }
	    $0 == "<!-- " m ":end -->" { on = 0 }
	    on && /^```sh$/ { n++; out = dir "/doc-" m "-" n ".sh"; code = 1; next }
	    on && /^```$/ { code = 0; next }
	    on && code { print > out }' docs/approvals.md
}
blocks approval-openssl
blocks approval-audit
blocks approval-policy-openssl
check "the doc has its five openssl blocks" [ -s "$WORK/doc-approval-openssl-5.sh" ]
check "the doc has its auditor block" [ -s "$WORK/doc-approval-audit-1.sh" ]
check "the doc has its five policy change blocks" \
	[ -s "$WORK/doc-approval-policy-openssl-5.sh" ]

SD_POLICY=governed signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts under the governed policy" signerd_start

# doc_approval NAME SIGN-BLOCK: runs the variables block (values set for
# this payout), the text block, the signing block and the JSON block.
doc_approval() {
	local dir="$WORK/doc-$1"
	mkdir -p "$dir"
	sed -e "s|^POLICY=.*|POLICY=$SD_POLICY_ID|" -e "s|^REQUEST=.*|REQUEST=doc-1|" \
	    -e "s|^TO=.*|TO=$RECIPIENT|" -e "s|^AMOUNT=.*|AMOUNT=150000|" \
	    -e "s|^KEY=.*|KEY=$APPROVERS/$1.key|" -e "s|^NAME=.*|NAME=$1|" \
	    "$WORK/doc-approval-openssl-1.sh" >"$dir/run.sh"
	cat "$WORK/doc-approval-openssl-2.sh" "$WORK/doc-approval-openssl-$2.sh" \
	    "$WORK/doc-approval-openssl-5.sh" >>"$dir/run.sh"
	( cd "$dir" && bash "$dir/run.sh" >/dev/null ) && cat "$dir/approval.json"
}
alice=$(doc_approval alice 3)
erin=$(doc_approval erin 4)
check "the P-256 commands make an approval" [ "$(jq -r .approver <<<"$alice")" = alice ]
check "the Ed25519 commands make an approval" [ "$(jq -r '.signature | length' <<<"$erin")" = 128 ]
check "the text the doc writes is the one signerd builds" \
	cmp -s "$WORK/doc-alice/approval.txt" <(sd_text_sign doc-1 1337 ETH "$RECIPIENT" 150000 \
		"$(jq -r .expiry <<<"$alice")")
sd_request doc-1 ETH "$RECIPIENT" 150000 1 "[$alice, $erin]" >"$WORK/doc-1.json"
check "signerd signs with the two approvals made by the doc's commands" \
	[ "$(sd_reason sign "$WORK/doc-1.json")" = OK ]
sd_request doc-2 ETH "$RECIPIENT" 150001 2 "[$alice, $erin]" >"$WORK/doc-2.json"
check "and the same approvals sign nothing else" \
	[ "$(sd_reason sign "$WORK/doc-2.json")" = APPROVAL_WRONG_INTENT ]
ok "signerd stops" signerd_stop

mkdir -p "$WORK/audit"
sed -e 's/payout-42/doc-1/' "$WORK/doc-approval-audit-1.sh" >"$WORK/audit/run.sh"
out=$(cd "$WORK/audit" && J="$SD_JOURNAL" bash run.sh 2>&1)
check "the doc's auditor commands verify the journaled approval" grep -q '^Verified OK$' <<<"$out"

# A policy change: the governed policy in force (current.json) and a
# proposal (new.json), each approver's commands run in their own
# directory as an approver would, with only the variables set.
jq '.policy_id = "doc-2" | .assets.ETH.daily_limit = "1"' "$WORK/policy.json" \
	>"$WORK/new.json"
VERIFY="$BUILD/tools/approval_verify"
# doc_policy_approval NAME SIGN-BLOCK ACTION: the approval's directory.
doc_policy_approval() {
	local dir="$WORK/doc-policy-$1-$3"
	mkdir -p "$dir"
	cp "$WORK/policy.json" "$dir/current.json"
	cp "$WORK/new.json" "$dir/new.json"
	sed -e "s|^POLICY=.*|POLICY=$SD_POLICY_ID|" -e "s|^ACTION=.*|ACTION=$3|" \
	    -e "s|^KEY=.*|KEY=$APPROVERS/$1.key|" -e "s|^NAME=.*|NAME=$1|" \
	    "$WORK/doc-approval-policy-openssl-1.sh" >"$dir/run.sh"
	cat "$WORK/doc-approval-policy-openssl-2.sh" \
	    "$WORK/doc-approval-policy-openssl-$2.sh" \
	    "$WORK/doc-approval-policy-openssl-5.sh" >>"$dir/run.sh"
	( cd "$dir" && bash "$dir/run.sh" >/dev/null ) && echo "$dir"
}
pa=$(doc_policy_approval alice 3 policy)
pe=$(doc_policy_approval erin 4 policy)
pb=$(doc_policy_approval bob 3 policy-cancel)
check "the policy commands make approvals" \
	[ -s "$pa/approval.json" -a -s "$pe/approval.json" -a -s "$pb/approval.json" ]
ok "the policy text the doc writes is the one policy/ builds" \
	"$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" \
	--text "$pa/approval.txt" "$pa/approval.json" "$pe/approval.json"
ok "the cancel text the doc writes is the one policy/ builds" \
	"$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" --cancel \
	--text "$pb/approval.txt" "$pb/approval.json"
out=$("$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" \
	"$pa/approval.json" "$pe/approval.json")
check "a P-256 and an Ed25519 approval approve the proposal (2 of governance)" \
	[ "$out" = OK ]
out=$("$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" \
	"$pa/approval.json")
check "one alone is not enough" [ "${out%%:*}" = APPROVALS_MISSING ]
out=$("$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" --cancel \
	"$pb/approval.json")
check "one approval cancels it" [ "$out" = OK ]
out=$("$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/new.json" --cancel \
	"$pa/approval.json")
check "an approval of the proposal does not cancel it" \
	[ "${out%%:*}" = APPROVAL_BAD_SIGNATURE ]
jq '.policy_id = "doc-3"' "$WORK/new.json" >"$WORK/other.json"
out=$("$VERIFY" --policy "$WORK/policy.json" --proposed "$WORK/other.json" \
	"$pa/approval.json" "$pe/approval.json")
check "and the approvals approve no other file" [ "${out%%:*}" = APPROVAL_BAD_SIGNATURE ]
tap_done
