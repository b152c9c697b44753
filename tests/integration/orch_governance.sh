#!/usr/bin/env bash
# orch_governance.sh: a key rotation through governance (docs/governance.md)
# while orchestratord keeps running (D51-D54).  signerd (SoftHSM2, the
# governed test policy, keys payout and payout2 both loaded from the
# start), PostgreSQL, anvil and one orchestratord replica that is never
# restarted.  Payouts go out before the change, while the loosening waits
# its governance delay (still from the old key's address), and after it
# took effect (from the new key's address).  The change is made the way
# the worked example does it: signerctl key rotate, policy propose,
# policy text, two governance approvers' signerctl approve, policy
# approve; GET /v1/policy shows it pending, then version 2.  A payout the
# old key signed just before the activation, stuck with mining paused, is
# fee-bumped after it: the bump is signed by the old key and confirms.
# Every payout is CONFIRMED once and the recipient's balance adds up; the
# journal shows the old key signed nothing new after the activation (fee
# bumps only); it verifies (with every receipt orchestratord holds) and its
# policy history shows versions 1 and 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
# The delay must leave time for the payouts made during it (and for the
# fee-bump payout to be signed) on a slow machine.
SD_GOV_DELAY=${SD_GOV_DELAY:-12}
SD_POLICY=governed
. tests/lib/signerd.sh
# anvil answers a send once the transaction is pooled, so it returns with
# mining paused (evmnode_automine off) too.
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh
# A failing run shows orchestratord's last words too.
on_exit '[ "$ON_EXIT_STATUS" -eq 0 ] || tail -n 30 "$WORK/orch-1.log" >&2 2>/dev/null'

T_START=$SECONDS
check "signerd provisioned (governed policy, governance delay ${SD_GOV_DELAY}s)" signerd_provision
# Two confirmations: a payout can be mined and not final yet.
jq '.assets.ETH.confirmations = 2' "$WORK/policy.json" >"$WORK/p.json" &&
	mv "$WORK/p.json" "$WORK/policy.json"
# The second key, on the same token, in [keys] from the start: keys are
# loaded at start-up only (D53), and a proposal may only name loaded keys.
PAYOUT2_ADDR=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
	--label payout2 --type secp256k1 --json | jq -r .address)
chown -R "$SD_USER" "$WORK/tokens"
check "a second key on the token ($PAYOUT2_ADDR)" grep -Eqx '0x[0-9a-fA-F]{40}' <<<"$PAYOUT2_ADDR"
sed -i 's|^payout = .*|&\npayout2 = pkcs11:token=signer;object=payout2|' "$SD_CONF"
check "signerd.conf lists keys payout and payout2" \
	[ "$(sed -n '/^\[keys\]/,/^\[/p' "$SD_CONF" | grep -c '^payout2* = ')" = 2 ]
check "signerd starts (version 1: ETH by key payout)" signerd_start
check "EVM node starts" evmnode_start
check "key payout funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "key payout2 funded" fund "$PAYOUT2_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
# Fee bumps after 3 s unmined, and enough of them to outlast the delay.
ORCH_BUMP_AFTER=3
orch_config 1 evm.max_bumps=12
check "orchestratord starts" orch_start 1
ORCH1=${ORCH_PID[1]}
echo "# setup: $((SECONDS - T_START)) s"

R=$RECIPIENT
OLD=${PAYOUT_ADDR,,}
NEW=${PAYOUT2_ADDR,,}
G="$WORK/gov"
mkdir -p "$G"
create() {
	api POST /v1/payouts "{\"request_id\":\"$1\",\"asset\":\"ETH\",\"to\":\"$R\",\"amount\":\"$2\"}" \
		"$TOK_SUBMIT" >"$G/create-$1.json"
	echo "$(api_status)" >"$G/create-$1.status"
	AMOUNTS+=("$2")
	IDS+=("$1")
}
AMOUNTS=()
IDS=()
created() { [ "$(cat "$G/create-$1.status")" = 201 ] && [ "$(jq -r .status "$G/create-$1.json")" = APPROVED ]; }
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
pol() { api GET /v1/policy "" "$TOK_VIEW"; }
mine() { evmnode_mine "${1:-1}"; }
# poll SECONDS CMD...: CMD until it succeeds, at most SECONDS.
poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.25
	done
}
mined() { [ "$(field "$1" .block_number)" != null ]; }
submitted() { [ "$(field "$1" .tx_hash)" != null ]; }
# confirm ID [SECONDS]: one block on top of ID's whenever it is mined and
# not final yet, until it is CONFIRMED.
confirm() {
	local id=$1 deadline=$((SECONDS + ${2:-60})) st bn
	while :; do
		read -r st bn <<<"$(field "$id" '.status + " " + (.block_number | tostring)')"
		[ "$st" = CONFIRMED ] && return 0
		case $st in FAILED | REJECTED | CANCELLED)
			echo "# $id ended $st: $(field "$id" '.reason_code + " " + .reason')" >&2
			return 1 ;;
		esac
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "# $id still $st (block $bn) after ${2:-60} s" >&2
			return 1
		fi
		[ "$bn" != null ] && mine 1
		sleep 0.3
	done
}
tx_from() { rpc eth_getTransactionByHash "[\"$1\"]" | jq -r '.from // empty'; }
version_is() { [ "$(pol | jq -r .version)" = "$1" ]; }
epoch() { date -ud "$1" +%s; }
sha() { sha256sum "$1" | cut -c1-64; }
# Journal helpers: the records signerd wrote, as one array.
jnl() { jq -s "$@" "$SD_JOURNAL"/seg-*.jsonl; }
# signed_seq ID: the seq of ID's first (not a fee bump) signed record.
signed_seq() {
	jnl -r --arg id "$1" '[.[] | select(.type == "signed" and .request_id == $id and
		(.fee_bump | not))][0].seq // empty'
}
HASH1=$(sha "$WORK/policy.json")
ctl() { "$SIGNERCTL" "$@" --socket "ipc://$SD_SOCK" 2>>"$G/signerctl.err"; }

# --- version 1 -----------------------------------------------------------------------------
p=$(pol)
echo "# GET /v1/policy: $p"
check "GET /v1/policy: version 1, the genesis file, nothing pending" \
	[ "$(jq -c '[.version, .policy_id, .policy_hash, .pending]' <<<"$p")" = "[1,\"$SD_POLICY_ID\",\"$HASH1\",null]" ]
bal0=$(balance "$R")

# --- payouts before --------------------------------------------------------------------------
T=$SECONDS
for i in 1 2 3; do create before$i $((1000 + i)); done
for i in 1 2 3; do
	check "before$i created APPROVED (under the approval threshold)" created before$i
done
for i in 1 2 3; do
	check "before$i CONFIRMED" confirm before$i
	h=$(field before$i .tx_hash)
	check "before$i sent from the old key's address (API and chain)" \
		[ "$(field before$i .from)/$(tx_from "$h")" = "$PAYOUT_ADDR/$OLD" ]
done
echo "# payouts before: $((SECONDS - T)) s"

# --- the governed change: rotate ETH to key payout2 -------------------------------------------
ctl key rotate --asset ETH --key payout2 --policy-id test-governed-2 >"$G/v2.json"
check "signerctl key rotate writes version 2: ETH by payout2, id test-governed-2" \
	[ "$(jq -r '.assets.ETH.key + " " + .policy_id' "$G/v2.json")" = "payout2 test-governed-2" ]
check "and nothing else changed" \
	[ "$(jq -cS 'del(.policy_id, .assets.ETH.key)' "$G/v2.json")" = \
	  "$(jq -cS 'del(.policy_id, .assets.ETH.key)' "$WORK/policy.json")" ]
HASH2=$(sha "$G/v2.json")
"$SIGNERCTL" policy diff "$WORK/policy.json" "$G/v2.json" >"$G/diff.txt" 2>&1
check "policy diff: a key change is a loosening" grep -q '^loosen' "$G/diff.txt"
ok "signerctl policy propose v2.json" ctl policy propose "$G/v2.json"
p=$(pol)
echo "# GET /v1/policy: $p"
check "GET /v1/policy: version 1 in force, version 2 pending: loosen, 0 of 2, no effective time" \
	[ "$(jq -c '[.version, .pending.policy_id, .pending.policy_hash, .pending.change,
		.pending.approvals, .pending.needed, .pending.effective_at]' <<<"$p")" = \
	  "[1,\"test-governed-2\",\"$HASH2\",\"loosen\",[],2,null]" ]
ctl policy text >"$G/t.txt"
check "signerctl policy text: the policy text naming the version in force and the proposal" \
	[ "$(grep -E '^(action|policy|replaces|proposed): ' "$G/t.txt" | tr '\n' ' ')" = \
	  "action: policy policy: $SD_POLICY_ID replaces: $HASH1 proposed: $HASH2 " ]
for n in alice bob; do
	"$SIGNERCTL" approve --key "$APPROVERS/$n.key" --intent "$G/t.txt" --approver $n \
		>"$G/$n.json" 2>>"$G/signerctl.err"
	check "$n (governance) signs it with signerctl approve" [ "$(jq -r .approver "$G/$n.json")" = $n ]
done
t0=$(date +%s)
ok "signerctl policy approve --approval alice.json --approval bob.json" \
	ctl policy approve --approval "$G/alice.json" --approval "$G/bob.json"
t1=$(date +%s)
T_APPROVED=$(date +%s%N)
# mark WHAT: how long after the approval WHAT happened (how much of the
# delay the payouts made during it took).
mark() { echo "# $(( ($(date +%s%N) - T_APPROVED) / 1000000 )) ms after the approval: $*"; }
p=$(pol)
echo "# GET /v1/policy: $p"
check "GET /v1/policy: still version 1; pending loosen approved by alice and bob" \
	[ "$(jq -c '[.version, .pending.change, (.pending.approvals | sort), .pending.needed]' <<<"$p")" = \
	  '[1,"loosen",["alice","bob"],2]' ]
eff=$(jq -r '.pending.effective_at // empty' <<<"$p")
eff_s=$(epoch "$eff" 2>/dev/null || echo 0)
check "effective_at ($eff) is the governance delay after the approval" \
	[ $((eff_s >= t0 + SD_GOV_DELAY && eff_s <= t1 + SD_GOV_DELAY + 1)) = 1 ]
ctl policy status --json >"$G/status.json"
check "signerctl policy status agrees" \
	[ "$(jq -r '.pending.policy_hash' "$G/status.json")" = "$HASH2" ]

# --- payouts during the delay ------------------------------------------------------------------
# One at a time: each is mined before the next is created.
for i in 1 2; do
	create during$i $((2000 + i))
	check "during$i created APPROVED" created during$i
	check "during$i signed and mined" poll 30 mined during$i
	h=$(field during$i .tx_hash)
	check "during$i sent from the old key's address (API and chain)" \
		[ "$(field during$i .from)/$(tx_from "$h")" = "$PAYOUT_ADDR/$OLD" ]
done
mark "during1, during2 mined"
check "the delay is not over yet: GET /v1/policy still version 1" version_is 1

# One more, signed by the old key just before the activation, that the
# chain does not mine: mining paused, it waits for a fee bump.
evmnode_automine off
create fb 3001
mark "fb created"
check "fb created APPROVED" created fb
check "fb signed and sent (mining paused)" poll 30 submitted fb
H0=$(field fb .tx_hash)
st=$(field fb '.from + " " + .status + " " + (.block_number | tostring)')
check "fb sent from the old key's address, not mined ($st)" \
	[ "${st,,}" = "$OLD submitted null" ]
check "and the node holds it, from the old address" [ "$(tx_from "$H0")" = "$OLD" ]
check "fb was signed before the activation: GET /v1/policy still version 1" version_is 1
mark "fb sent and checked (the delay is ${SD_GOV_DELAY} s)"

# --- the activation ------------------------------------------------------------------------
# fresh waits for approvals across the activation (above ETH's approval
# threshold; it is rejected below, so it is in no sum).
api POST /v1/payouts '{"request_id":"fresh","asset":"ETH","to":"'"$R"'","amount":"150000"}' \
	"$TOK_SUBMIT" >/dev/null
check "fresh created PENDING_APPROVAL" [ "$(field fresh .status)" = PENDING_APPROVAL ]
check "version 2 takes effect after the delay (GET /v1/policy)" poll $((SD_GOV_DELAY + 30)) version_is 2
seen=$(date +%s)
# An approval over the version GET /v1/policy (signerd, asked live) just
# named is taken at once, though orchestratord's poller (once a second)
# may not have loaded it yet: a refusal that may be the old version's is
# checked again under signerd's version.  (Before that, this approval was
# refused APPROVAL_BAD_SIGNATURE whenever it beat the poller.)
ap=$(SD_POLICY_ID=test-governed-2 sd_approve alice fresh 1337 ETH "$R" 150000)
api POST /v1/payouts/fresh/approvals "$ap" "$TOK_APPROVE" >"$G/fresh.ap"
check "an approval over version 2, sent as soon as GET /v1/policy names it, is taken ($(api_status))" \
	[ "$(api_status)" = 200 ] && [ "$(jq -r .approvals "$G/fresh.ap")" = 1 ]
mark "version 2 seen"
check "not before effective_at" [ "$seen" -ge "$eff_s" ]
p=$(pol)
echo "# GET /v1/policy: $p"
check "GET /v1/policy: version 2 is test-governed-2 with the proposed file's hash, nothing pending" \
	[ "$(jq -c '[.version, .policy_id, .policy_hash, .pending]' <<<"$p")" = "[2,\"test-governed-2\",\"$HASH2\",null]" ]
since=$(jq -r '.since // empty' <<<"$p")
check "since ($since) is not before effective_at ($eff)" [ "$(epoch "$since" 2>/dev/null || echo 0)" -ge "$eff_s" ]
act=$(jnl -c '[.[] | select(.type == "policy_activated")]')
ACT=$(jq -r '.[0].seq // empty' <<<"$act")
check "signerd journaled one policy_activated, version 2" \
	[ "$(jq -r 'length, .[0].version' <<<"$act" | tr '\n' ' ')" = "1 2 " ]
check "it carries the whole file" \
	[ "$(jq -j '.[0].policy_text' <<<"$act" | sha256sum | cut -c1-64)" = "$HASH2" ]
appr_ts=$(jnl -r '[.[] | select(.type == "policy_approved")] | last | .ts')
act_ts=$(jq -r '.[0].ts' <<<"$act")
check "the activation ($act_ts) came the delay after the last approval ($appr_ts)" \
	[ $(($(epoch "$act_ts") - $(epoch "$appr_ts"))) -ge "$SD_GOV_DELAY" ]
api POST /v1/payouts/fresh/reject '{"reason":"only here to be approved"}' "$TOK_APPROVE" >/dev/null
check "fresh rejected (it was only there to be approved)" [ "$(field fresh .status)" = REJECTED ]
s1=$(signed_seq during1) s2=$(signed_seq during2) s3=$(signed_seq fb)
check "during1, during2 and fb were signed before the activation (seq $s1, $s2, $s3 < $ACT)" \
	[ $((${s1:-1000000} < ACT && ${s2:-1000000} < ACT && ${s3:-1000000} < ACT)) = 1 ]
switched() {
	grep -q "\"msg\":\"signerd.s policy switched: $SD_POLICY_ID .*-> test-governed-2 ($HASH2), version 2" "$WORK/orch-1.log"
}
check "orchestratord followed the switch (logged, no restart)" poll 15 switched
check "and ETH's new sender" \
	grep -q "asset ETH: sender $PAYOUT_ADDR -> $PAYOUT2_ADDR (key payout2)" "$WORK/orch-1.log"

# --- the fee bump of the old key's payout, after the activation ----------------------------
# bumped_after: fb's current version (the API's) is a fee bump signerd
# signed after the activation, and the node holds it.
bumped_after() {
	local h
	h=$(field fb .tx_hash)
	[ "$(jnl -r --arg h "$h" --argjson a "$ACT" '[.[] | select(.type == "signed" and .request_id == "fb"
		and (.tx_hash | ascii_downcase) == ($h | ascii_downcase) and .fee_bump == true and .seq > $a)] | length')" = 1 ] &&
		[ -n "$(tx_from "$h")" ]
}
check "fb fee-bumped after the activation (mining still paused)" poll 60 bumped_after
evmnode_automine on
check "fb CONFIRMED" confirm fb
H=$(field fb .tx_hash)
echo "# fb: $(field fb .bumps) bump(s); $H0 -> $H"
check "fb was mined in a fee-bumped version, not the first" [ "$H" != "$H0" ]
check "the mined version is from the old key's address" [ "$(tx_from "$H")" = "$OLD" ]
check "and succeeded on chain" [ "$(rpc eth_getTransactionReceipt "[\"$H\"]" | jq -r .status)" = 0x1 ]
rec=$(jnl -c --arg h "$H" '[.[] | select(.type == "signed" and (.tx_hash | ascii_downcase) == ($h | ascii_downcase))]')
check "signerd journaled it as a fee bump by key payout after the activation" \
	[ "$(jq -r --argjson a "$ACT" '.[] | "\(.fee_bump) \(.key) \(.from | ascii_downcase) \(.seq > $a)"' <<<"$rec")" = \
	  "true payout $OLD true" ]
check "payout_txs holds fb's versions (at least 2)" \
	[ "$(pgsql "SELECT count(*) FROM payout_txs t JOIN payouts p ON p.id = t.payout_id WHERE p.request_id = 'fb'")" -ge 2 ]
check "the mined version pays both fees higher than the first" \
	[ "$(pgsql "SELECT b.max_fee_per_gas > a.max_fee_per_gas AND b.max_priority_fee_per_gas > a.max_priority_fee_per_gas
		FROM payout_txs a, payout_txs b WHERE lower(a.tx_hash) = lower('$H0') AND lower(b.tx_hash) = lower('$H')")" = t ]
check "fb still shows the old sender" [ "$(field fb .from)" = "$PAYOUT_ADDR" ]
n_api=$(field fb .bumps)
n_db=$(pgsql "SELECT count(*) - 1 FROM payout_txs t JOIN payouts p ON p.id = t.payout_id WHERE p.request_id = 'fb'")
n_jnl=$(jnl -r '[.[] | select(.type == "signed" and .request_id == "fb" and .fee_bump == true)] | length')
check "every fee bump signerd signed is one fb shows (API $n_api, payout_txs $n_db, journal $n_jnl)" \
	[ "$n_api:$n_db" = "$n_jnl:$n_jnl" ]

# --- payouts after ---------------------------------------------------------------------------
for i in 1 2 3; do create after$i $((4000 + i)); done
for i in 1 2 3; do check "after$i created APPROVED" created after$i; done
for i in 1 2 3; do
	check "after$i CONFIRMED" confirm after$i
	h=$(field after$i .tx_hash)
	check "after$i sent from the new key's address (API and chain)" \
		[ "$(field after$i .from)/$(tx_from "$h")" = "$PAYOUT2_ADDR/$NEW" ]
done
check "the new address's nonces: 0, 1, 2" \
	[ "$(pgsql "SELECT string_agg(nonce::text, ' ' ORDER BY nonce) FROM payouts WHERE request_id LIKE 'after%'")" = "0 1 2" ]

# --- everything CONFIRMED, once; balances -------------------------------------------------------
for id in "${IDS[@]}"; do
	check "$id CONFIRMED (again, at the end)" [ "$(field "$id" .status)" = CONFIRMED ]
done
sum=0
for a in "${AMOUNTS[@]}"; do sum=$((sum + a)); done
got=$(node -e "console.log((BigInt('$(balance "$R")') - BigInt('$bal0')).toString())")
check "the recipient got exactly the ${#IDS[@]} payouts' amounts ($got = $sum wei)" [ "$got" = "$sum" ]
n_old=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")
n_new=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT2_ADDR\", \"latest\"]")")
check "on chain: 6 transactions from the old address, 3 from the new ($n_old, $n_new)" [ "$n_old:$n_new" = "6:3" ]
check "PostgreSQL: 6 payouts from the old sender, 3 from the new, all CONFIRMED" \
	[ "$(pgsql "SELECT string_agg(lower(sender) || ' ' || n, ',' ORDER BY n DESC) FROM
		(SELECT sender, count(*) AS n FROM payouts WHERE status = 'CONFIRMED' GROUP BY sender) s")" = "$OLD 6,$NEW 3" ]

# --- the old key signs nothing new ----------------------------------------------------------
jnl -c --argjson a "$ACT" '.[] | select(.type == "signed" and .seq > $a) |
	{seq, request_id, key, from, fee_bump, gap_fill}' >"$G/signed-after.txt"
sed 's/^/# after the activation: /' "$G/signed-after.txt"
check "journal: no signed record from the old address after the activation but fee bumps" \
	[ "$(jq -r --arg o "$OLD" 'select((.from | ascii_downcase) == $o and .fee_bump != true) | .seq' "$G/signed-after.txt" | wc -l)" = 0 ]
check "journal: the old address's records after it are fb's fee bumps (at least 1)" \
	[ "$(jq -r --arg o "$OLD" 'select((.from | ascii_downcase) == $o) | .request_id' "$G/signed-after.txt" | sort -u | tr '\n' ' ')" = "fb " ]
# (A fee bump of theirs may show too, should one wait for a block longer
# than bump_after.)
check "journal: after1..3 signed by key payout2, once each (fee bumps aside), after the activation" \
	[ "$(jq -r --arg n "$NEW" 'select((.from | ascii_downcase) == $n and .key == "payout2" and .fee_bump != true) |
		.request_id' "$G/signed-after.txt" | sort | tr '\n' ' ')" = "after1 after2 after3 " ]
check "journal: key payout2 signed nothing before the activation" \
	[ "$(jnl -r --argjson a "$ACT" --arg n "$NEW" '[.[] | select(.type == "signed" and .seq < $a and (.from | ascii_downcase) == $n)] | length')" = 0 ]

# --- the end: stop, verify the journal and its history ---------------------------------------
check "orchestratord was never restarted (same pid, one ready line)" \
	[ "${ORCH_PID[1]}:$(grep -c '"msg":"ready' "$WORK/orch-1.log")" = "$ORCH1:1" ]
pgsql "SELECT receipt_seq || ' ' || receipt_hash FROM payout_txs WHERE receipt_seq IS NOT NULL" >"$G/receipts.txt"
check "orchestratord holds a receipt for every signed version ($(wc -l <"$G/receipts.txt"))" \
	[ "$(wc -l <"$G/receipts.txt")" = "$(pgsql "SELECT count(*) FROM payout_txs")" ]
check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
ok "signerctl audit verify: the journal verifies, with every receipt" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" --receipts "$G/receipts.txt"
"$SIGNERCTL" policy history --journal "$SD_JOURNAL" --json >"$G/history.json" 2>>"$G/signerctl.err"
sed 's/^/# history: /' "$G/history.json" | cut -c1-200
check "policy history: versions 1 and 2" \
	[ "$(jq -r 'select(.event == "genesis" or .event == "activated") | .version' "$G/history.json" | tr '\n' ,)" = 1,2, ]
check "policy history: then proposed, approved, activated" \
	[ "$(jq -r 'select(.event != "genesis") | .event' "$G/history.json" | uniq | tr '\n' ,)" = proposed,approved,activated, ]
check "policy history: approved by alice and bob" \
	[ "$(jq -sc '[.[] | select(.event == "approved") | .approvers[]] | sort' "$G/history.json")" = '["alice","bob"]' ]
echo "# run time: $((SECONDS - T_START)) s"
tap_done
