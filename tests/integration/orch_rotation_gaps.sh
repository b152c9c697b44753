#!/usr/bin/env bash
# orch_rotation_gaps.sh: holes in a rotated-out key's nonce sequence are
# filled with that key (docs/decisions.md D53, D54).  signerd (SoftHSM2,
# the governed test policy, keys payout and payout2 both loaded, one
# journal throughout), PostgreSQL, anvil and one orchestratord replica
# that is never restarted.
#
# With signerd down, the old key's payouts X (nonce 1, approvals about to
# expire), P (2), Y (3) and V (4) are built.  P and V are set aside (as a
# long retry would).  signerd back: X is refused APPROVAL_EXPIRED and its
# nonce 1 is handed back, below Y's 3, which is signed and cannot be mined:
# a hole.  Then a governed change (signerctl key rotate, propose, text,
# two approvals, approve) gives ETH and TUSD to key payout2, so that no
# asset names key payout: it is retired.  After it takes effect:
#   - V (4, above every signed nonce of the old key) is refused
#     KEY_MISMATCH and moves to the new key, its nonce handed back;
#   - P (2, below the signed 3) does not move: it is signed by the old key
#     as a gap fill;
#   - a new payout Z takes the hole 1 with the old key's address: signed
#     by the old key as a gap fill;
#   - then the hole is gone, and a new payout N goes to the new key.
# Every payout but X is CONFIRMED, Y (above the holes) included.  Last, a
# hole signerd does not know as one (the database holds a higher nonce of
# the old key signed that its journal never saw, as after a journal reset)
# is tried once by a new payout W: refused KEY_MISMATCH, W moves to the
# new key and is CONFIRMED, and the hole is not offered again for a while
# (W2 goes straight to the new key).  The journal shows the two gap fills
# and verifies.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
SD_GOV_DELAY=${SD_GOV_DELAY:-5}
SD_POLICY=governed
. tests/lib/signerd.sh
# anvil's automine answers once a transaction is pooled: one behind a
# hole is accepted and waits in the pool.
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

T_START=$SECONDS
check "signerd provisioned (governed policy, governance delay ${SD_GOV_DELAY}s)" signerd_provision
PAYOUT2_ADDR=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
	--label payout2 --type secp256k1 --json | jq -r .address)
chown -R "$SD_USER" "$WORK/tokens"
check "a second key on the token ($PAYOUT2_ADDR)" grep -Eqx '0x[0-9a-fA-F]{40}' <<<"$PAYOUT2_ADDR"
sed -i 's|^payout = .*|&\npayout2 = pkcs11:token=signer;object=payout2|' "$SD_CONF"
check "signerd starts (version 1: ETH and TUSD by key payout)" signerd_start
check "EVM node starts" evmnode_start
check "key payout funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "key payout2 funded" fund "$PAYOUT2_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
# A request to signerd while it is down waits this long for it (then it
# is never delivered): short, so that a payout set aside is not sent late.
SIGNER_TIMEOUT_MS=2000
orch_config 1 signer.timeout_ms=$SIGNER_TIMEOUT_MS
check "orchestratord starts" orch_start 1
ORCH1=${ORCH_PID[1]}

R=$RECIPIENT
OLD=${PAYOUT_ADDR,,}
NEW=${PAYOUT2_ADDR,,}
G="$WORK/gaps"
mkdir -p "$G"
create() {
	api POST /v1/payouts "{\"request_id\":\"$1\",\"asset\":\"ETH\",\"to\":\"$R\",\"amount\":\"$2\"}" \
		"$TOK_SUBMIT" >"$G/create-$1.json"
}
approve() {
	api POST "/v1/payouts/$2/approvals" "$(sd_approve "$1" "$2" 1337 ETH "$R" "$3" "$4")" \
		"$TOK_APPROVE" >/dev/null
}
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
row() { pgsql "SELECT $2 FROM payouts WHERE request_id = '$1'"; }
pol() { api GET /v1/policy "" "$TOK_VIEW"; }
mine() { evmnode_mine "${1:-1}"; }
poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.25
	done
}
built() { [ "$(row "$1" 'unsigned_tx IS NOT NULL')" = t ]; }
has_nonce() { [ -n "$(row "$1" nonce)" ]; }
from_nonce() { field "$1" '.from + " " + (.nonce | tostring)'; }
status_is() { [ "$(field "$1" .status)" = "$2" ]; }
submitted() { [ "$(field "$1" .tx_hash)" != null ]; }
# confirm ID [SECONDS]: one block on top whenever ID is mined and not
# final, until it is CONFIRMED.
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
tx_from() { rpc eth_getTransactionByHash "[\"$(field "$1" .tx_hash)\"]" | jq -r '.from // empty'; }
# A payout set aside, as a long retry would: no worker claims it until
# let_go (the epoch moves on, so a worker still holding it is fenced).
park() {
	pgsql "UPDATE payouts SET lease_owner = 'test-parked', lease_expiry = now() + interval '1 hour',
		lease_epoch = lease_epoch + 1 WHERE request_id = '$1'" >/dev/null
}
let_go() { pgsql "UPDATE payouts SET lease_owner = NULL, lease_expiry = NULL WHERE request_id = '$1'" >/dev/null; }
holes() {
	pgsql "SELECT coalesce(string_agg(nonce::text, ' ' ORDER BY nonce), '-') FROM nonce_gaps
		WHERE lower(sender) = '$OLD'"
}
jnl() { jq -s "$@" "$SD_JOURNAL"/seg-*.jsonl; }
ctl() { "$SIGNERCTL" "$@" --socket "ipc://$SD_SOCK" 2>>"$G/signerctl.err"; }

# --- version 1: the old key's sequence, with a hole below a signed nonce --------------------
create a0 1000
check "a0 CONFIRMED" confirm a0
check "a0 from the old key, nonce 0" [ "$(from_nonce a0)" = "$PAYOUT_ADDR 0" ]

check "signerd stops" signerd_stop
mv "$WORK/signerd.log" "$WORK/signerd-1.log"
# X needs two approvals (150000 > 100000); they expire in 12 s.
XEXP=$(($(date +%s) + 12))
create X 150000
approve alice X 150000 "$XEXP"
approve bob X 150000 "$XEXP"
check "X approved, claimed and built (signerd down)" poll 20 built X
park X
# Each set aside once built, so that the workers go on to the next.
for id in P Y V; do
	create $id 1000
	check "$id built (signerd down)" poll 20 built $id
	park $id
done
check "X, P, Y, V hold nonces 1, 2, 3, 4 of the old key" \
	[ "$(pgsql "SELECT string_agg(request_id || ':' || nonce || ':' || lower(sender), ' ' ORDER BY nonce)
		FROM payouts WHERE request_id IN ('X', 'P', 'Y', 'V')")" = "X:1:$OLD P:2:$OLD Y:3:$OLD V:4:$OLD" ]
# Any request still waiting for signerd gives up; X's approvals expire.
sleep $((SIGNER_TIMEOUT_MS / 1000 + 1))
while [ "$(date +%s)" -le "$XEXP" ]; do sleep 0.5; done
let_go X
let_go Y

check "signerd starts again (same journal, version 1)" signerd_start
check "X FAILED" poll 30 status_is X FAILED
check "signerd refused X's expired approvals: APPROVAL_EXPIRED" [ "$(field X .reason_code)" = APPROVAL_EXPIRED ]
check "Y signed and sent" poll 30 submitted Y
check "Y from the old key at nonce 3" [ "$(from_nonce Y)" = "$PAYOUT_ADDR 3" ]
check "X's nonce 1 handed back below Y's: a hole of the old key" [ "$(holes)" = 1 ]
sleep 1
check "Y is not mined: it waits for nonces 1 and 2" [ "$(field Y .block_number)" = null ]
check "P and V still hold nonces 2 and 4 of the old key, unsigned" \
	[ "$(pgsql "SELECT string_agg(request_id || ':' || status || ':' || nonce, ' ' ORDER BY nonce)
		FROM payouts WHERE request_id IN ('P', 'V') AND raw_tx IS NULL")" = "P:SIGNING:2 V:SIGNING:4" ]

# --- the governed change: ETH and TUSD to key payout2; key payout retired ----------------
ctl key rotate --asset ETH --key payout2 --policy-id test-governed-2 |
	jq '.assets.TUSD.key = "payout2"' >"$G/v2.json"
check "version 2 names key payout2 for ETH and TUSD, key payout for nothing" \
	[ "$(jq -r '[.assets[].key] | unique | join(",")' "$G/v2.json")" = payout2 ]
ok "signerctl policy propose v2.json" ctl policy propose "$G/v2.json"
ctl policy text >"$G/t.txt"
for n in alice bob; do
	"$SIGNERCTL" approve --key "$APPROVERS/$n.key" --intent "$G/t.txt" --approver $n \
		>"$G/$n.json" 2>>"$G/signerctl.err"
done
ok "signerctl policy approve (alice, bob)" \
	ctl policy approve --approval "$G/alice.json" --approval "$G/bob.json"
version2() { [ "$(pol | jq -r .version)" = 2 ]; }
check "version 2 in force after the ${SD_GOV_DELAY} s delay (GET /v1/policy)" \
	poll $((SD_GOV_DELAY + 30)) version2
ACT=$(jnl -r '[.[] | select(.type == "policy_activated")][0].seq // empty')
retired() { grep -q "\"msg\":\"sender $PAYOUT_ADDR is retired" "$WORK/orch-1.log"; }
check "orchestratord logged the old sender as retired" poll 15 retired
check "the hole is still there" [ "$(holes)" = 1 ]

# --- V: above every signed nonce of the old key, it moves ------------------------------------
let_go V
check "V CONFIRMED" confirm V
check "V moved to the new key's address (API and chain), its nonce 0" \
	[ "$(from_nonce V)/$(tx_from V)" = "$PAYOUT2_ADDR 0/$NEW" ]
check "signerd refused V's old-key request: KEY_MISMATCH" [ "$(sd_journal_reason V)" = KEY_MISMATCH ]
check "V's nonce 4 went back to the old key's counter; the hole 1 stays" \
	[ "$(pgsql "SELECT next_nonce FROM sender_nonces WHERE lower(sender) = '$OLD'")/$(holes)" = "4/1" ]

# --- P: below the old key's signed 3, it does not move: a gap fill ------------------------
let_go P
check "P signed and sent" poll 30 submitted P
check "P kept the old key's address and nonce 2 (API and chain)" \
	[ "$(from_nonce P)/$(tx_from P)" = "$PAYOUT_ADDR 2/$OLD" ]
check "orchestratord logged P's gap fill" \
	grep -q "\"msg\":\"payout P: fills nonce 2 of retired sender $PAYOUT_ADDR" "$WORK/orch-1.log"

# --- Z: a new payout fills the hole 1 with the old key ------------------------------------
create Z 1000
check "Z created for the new key's address" [ "$(jq -r .from "$G/create-Z.json")" = "$PAYOUT2_ADDR" ]
check "Z signed and sent" poll 30 submitted Z
check "Z took the hole: the old key's address, nonce 1 (API and chain)" \
	[ "$(from_nonce Z)/$(tx_from Z)" = "$PAYOUT_ADDR 1/$OLD" ]
check "no hole of the old key left" [ "$(holes)" = - ]

# --- every payout CONFIRMED, the one above the holes too ------------------------------------
for id in Z P Y; do
	check "$id CONFIRMED" confirm $id
	check "$id mined from the old key's address" [ "$(tx_from $id)" = "$OLD" ]
done
create N 1000
check "N CONFIRMED" confirm N
check "N from the new key's address, nonce 1 (API and chain)" \
	[ "$(from_nonce N)/$(tx_from N)" = "$PAYOUT2_ADDR 1/$NEW" ]
check "X stays FAILED" [ "$(field X .status)" = FAILED ]
n_old=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")
n_new=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT2_ADDR\", \"latest\"]")")
check "on chain: nonces 0-3 used by the old key, 0-1 by the new ($n_old, $n_new)" \
	[ "$n_old:$n_new" = "4:2" ]

# --- a gap fill signerd refuses: the payout moves, the hole waits -----------------------------
# The database holds nonce 10 of the old key signed (a payout signerd's
# journal never saw) and 5 handed back below it.
pgsql "INSERT INTO payouts (request_id, asset, chain_id, sender, recipient, amount, status, nonce, raw_tx)
	VALUES ('ghost', 'ETH', 1337, '$PAYOUT_ADDR', '$R', 1, 'FAILED', 10, '\\x00');
	UPDATE sender_nonces SET next_nonce = 11 WHERE lower(sender) = '$OLD';
	INSERT INTO nonce_gaps (sender, chain_id, nonce) VALUES ('$PAYOUT_ADDR', 1337, 5)" >/dev/null
create W 1000
check "W CONFIRMED" confirm W
check "W tried the hole 5 with the old key: signerd refused KEY_MISMATCH" \
	[ "$(sd_journal_reason W)" = KEY_MISMATCH ]
check "orchestratord logged the refused gap fill" \
	grep -q "\"msg\":\"payout W: nonce 5 of retired sender $PAYOUT_ADDR not filled: signerd sign: KEY_MISMATCH" "$WORK/orch-1.log"
check "W moved to the new key's address, nonce 2 (API and chain)" \
	[ "$(from_nonce W)/$(tx_from W)" = "$PAYOUT2_ADDR 2/$NEW" ]
check "the hole 5 is back, not offered again for minutes" \
	[ "$(pgsql "SELECT nonce || ' ' || (fill_after > now() + interval '200 s') FROM nonce_gaps
		WHERE lower(sender) = '$OLD'")" = "5 true" ]
create W2 1000
check "W2 CONFIRMED" confirm W2
check "W2 went straight to the new key, nonce 3 (API and chain)" \
	[ "$(from_nonce W2)/$(tx_from W2)" = "$PAYOUT2_ADDR 3/$NEW" ]
check "signerd saw no request from W2 but its signature" [ -z "$(sd_journal_reason W2)" ]

# --- the journal -----------------------------------------------------------------------------
jnl -c --argjson a "${ACT:-0}" '.[] | select(.type == "signed" and .seq > $a) |
	{seq, request_id, key, from, nonce, fee_bump, gap_fill}' >"$G/signed-after.txt"
sed 's/^/# signed after the activation: /' "$G/signed-after.txt"
check "journal: after the activation the old key signed P and Z only, as gap fills" \
	[ "$(jq -r --arg o "$OLD" 'select((.from | ascii_downcase) == $o) |
		"\(.request_id):\(.key):\(.gap_fill)"' "$G/signed-after.txt" | LC_ALL=C sort | tr '\n' ' ')" = \
	  "P:payout:true Z:payout:true " ]
check "journal: V, N, W, W2 signed by key payout2, no gap fill" \
	[ "$(jq -r --arg n "$NEW" 'select((.from | ascii_downcase) == $n) |
		"\(.request_id):\(.key):\(.gap_fill // false)"' "$G/signed-after.txt" | LC_ALL=C sort | tr '\n' ' ')" = \
	  "N:payout2:false V:payout2:false W2:payout2:false W:payout2:false " ]

check "orchestratord was never restarted" [ "${ORCH_PID[1]}" = "$ORCH1" ]
pgsql "SELECT receipt_seq || ' ' || receipt_hash FROM payout_txs WHERE receipt_seq IS NOT NULL" >"$G/receipts.txt"
check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
ok "signerctl audit verify: the journal verifies (gap fills included), with every receipt" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" --receipts "$G/receipts.txt"
echo "# run time: $((SECONDS - T_START)) s"
tap_done
