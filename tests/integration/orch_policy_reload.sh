#!/usr/bin/env bash
# orch_policy_reload.sh: orchestratord follows signerd's policy version in
# force without a restart (docs/decisions.md D54).  signerd is restarted
# on a new journal with another genesis policy (ETH's per-transaction
# limit lowered, and ETH signed by a second key made on the same token)
# while orchestratord keeps running.  Then: GET /v1/policy shows the new
# id and hash; the advisory pre-check applies the new limit; payouts that
# held a nonce of the old key but were never signed (one never built, one
# built and refused KEY_MISMATCH by signerd) move to the new key's address
# (their old nonces handed back) and are CONFIRMED from it; a
# payout signed by the old key before the switch (mined, not yet final)
# is tracked to CONFIRMED under the old sender; a new payout is sent from
# the new address.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "signerd provisioned" signerd_provision
# Three confirmations: a payout can be mined and still SUBMITTED.
jq '.assets.ETH.confirmations = 3' "$WORK/policy.json" >"$WORK/p.json" &&
	mv "$WORK/p.json" "$WORK/policy.json"
# The second key, made as signerd_provision made the first.
PAYOUT2_ADDR=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
	--label payout2 --type secp256k1 --json | jq -r .address)
chown -R "$SD_USER" "$WORK/tokens"
check "a second key on the token ($PAYOUT2_ADDR)" grep -Eqx '0x[0-9a-fA-F]{40}' <<<"$PAYOUT2_ADDR"
check "signerd starts (policy 1: ETH by key payout)" signerd_start
check "EVM node starts" evmnode_start
check "key payout funded" fund "$PAYOUT_ADDR" 1000000000000000000
check "key payout2 funded" fund "$PAYOUT2_ADDR" 1000000000000000000
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
check "orchestratord starts" orch_start 1

R=$RECIPIENT
create() { api POST /v1/payouts "{\"request_id\":\"$1\",\"asset\":\"ETH\",\"to\":\"$R\",\"amount\":\"$2\"}" "$TOK_SUBMIT"; }
field() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r "$2"; }
mine() { evmnode_mine "${1:-3}"; }
# confirm ID: mines blocks on top of ID's until it is CONFIRMED.
confirm() {
	local i
	for i in $(seq 1 120); do
		[ "$(field "$1" .status)" = CONFIRMED ] && return 0
		[ "$(field "$1" .block_number)" != null ] && mine 3
		sleep 0.25
	done
	return 1
}
tx_from() { rpc eth_getTransactionReceipt "[\"$(field "$1" .tx_hash)\"]" | jq -r .from; }
nonce_row() { pgsql "SELECT next_nonce FROM sender_nonces WHERE lower(sender) = lower('$1')"; }
hash1=$(sha256sum "$WORK/policy.json" | cut -d' ' -f1)

# --- policy 1 --------------------------------------------------------------------------------
pol=$(api GET /v1/policy "" "$TOK_VIEW")
echo "# GET /v1/policy: $pol"
check "GET /v1/policy: 200 ($(api_status))" [ "$(api_status)" = 200 ]
check "it names policy 1 and its SHA-256" \
	[ "$(jq -r '.policy_id + " " + .policy_hash' <<<"$pol")" = "test-policy-1 $hash1" ]
# since: an RFC 3339 time, or null when signerd does not say.
check "version 1, since a time or null, nothing pending" \
	jq -e '.version == 1 and (.since == null or (.since | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))) and .pending == null' <<<"$pol"
api GET /v1/policy "" "$TOK_SUBMIT" >/dev/null
check "GET /v1/policy with a submitter's token: 403" [ "$(api_status)" = 403 ]
api GET /v1/policy "" - >/dev/null
check "GET /v1/policy without a token: 401" [ "$(api_status)" = 401 ]

create old1 1000 >/dev/null
for i in $(seq 1 80); do [ "$(field old1 .block_number)" != null ] && break; sleep 0.25; done
check "old1 signed by key payout and mined, not final (SUBMITTED)" \
	[ "$(field old1 .status)" = SUBMITTED ] && [ "$(tx_from old1)" = "${PAYOUT_ADDR,,}" ]
body=$(create pc1 250000)
check "pre-check under policy 1: 250000 wei is under the 300000 limit" \
	[ "$(jq -r .status <<<"$body")" = APPROVED ]
for i in $(seq 1 80); do [ "$(field pc1 .block_number)" != null ] && break; sleep 0.25; done
check "pc1 signed by key payout and mined, not final" \
	[ "$(field pc1 .status)" = SUBMITTED ] && [ "$(tx_from pc1)" = "${PAYOUT_ADDR,,}" ]

# --- payouts holding an old-key nonce, never signed ---------------------------------------------
# signerd down: mid gets nonce 2 of key payout and its transaction is
# built for it, but signerd never signs it.  Then the node down too: pre
# gets nonce 3 and its transaction cannot be built.
check "signerd stops" signerd_stop
mv "$WORK/signerd.log" "$WORK/signerd-1.log"
body=$(api GET /v1/policy "" "$TOK_VIEW")
check "GET /v1/policy while signerd is down: 503 UNAVAILABLE" \
	[ "$(api_status) $(jq -r .error <<<"$body")" = "503 UNAVAILABLE" ]
built() { [ "$(pgsql "SELECT unsigned_tx IS NOT NULL FROM payouts WHERE request_id = '$1'")" = t ]; }
create mid 1000 >/dev/null
for i in $(seq 1 80); do built mid && break; sleep 0.25; done
check "mid holds nonce 2 of the old key, built for it, not signed" \
	[ "$(field mid '.status + " " + .from + " " + (.nonce | tostring)')" = "SIGNING $PAYOUT_ADDR 2" ] && built mid
evmnode_stop
create pre 1000 >/dev/null
for i in $(seq 1 80); do [ "$(field pre .nonce)" != null ] && break; sleep 0.25; done
check "pre holds nonce 3 of the old key, not built" \
	[ "$(field pre '.status + " " + .from + " " + (.nonce | tostring)')" = "SIGNING $PAYOUT_ADDR 3" ] &&
	! built pre

# --- signerd restarted: new journal, policy 2 --------------------------------------------------
check "the token's journal anchor reset for the new journal" \
	"$SIGNERCTL" anchor reset --module "$SOFTHSM_MODULE" --token pkcs11:token=signer \
	--pin-file "$WORK/user.pin" --yes
jq '.policy_id = "test-policy-2" | .assets.ETH.key = "payout2" |
	.assets.ETH.per_tx_limit = "200000"' "$WORK/policy.json" >"$WORK/policy2.json"
hash2=$(sha256sum "$WORK/policy2.json" | cut -d' ' -f1)
SD_JOURNAL="$WORK/journal2"
mkdir -p "$SD_JOURNAL" && chown "$SD_USER" "$SD_JOURNAL"
sed -e "s|^dir = .*|dir = $SD_JOURNAL|" -e "s|^genesis = .*|genesis = $WORK/policy2.json|" \
	-e "s|^payout = .*|&\npayout2 = pkcs11:token=signer;object=payout2|" \
	"$WORK/signerd.conf" >"$WORK/signerd2.conf"
SD_CONF="$WORK/signerd2.conf"
check "signerd starts again (policy 2: ETH by key payout2)" signerd_start
followed() { grep -q '"msg":"signerd.s policy switched: test-policy-1 .*-> test-policy-2' "$WORK/orch-1.log"; }
for i in $(seq 1 40); do followed && break; sleep 0.25; done
check "orchestratord logged the switch, old id and hash -> new" followed
check "and ETH's new sender" grep -q "asset ETH: sender $PAYOUT_ADDR -> $PAYOUT2_ADDR" "$WORK/orch-1.log"
# TUSD still names key payout: it is not retired, so its nonces handed
# back are its own payouts' to take, never a gap fill (D54); and this
# journal never saw its earlier nonces anyway (orch_rotation_gaps.sh
# fills holes of a retired key, in one journal).
check "key payout still signs TUSD: no sender retired" \
	bash -c "! grep -q 'is retired (no asset names its key)' '$WORK/orch-1.log'"
pol=$(api GET /v1/policy "" "$TOK_VIEW")
echo "# GET /v1/policy: $pol"
check "GET /v1/policy names policy 2 and its SHA-256" \
	[ "$(jq -r '.policy_id + " " + .policy_hash' <<<"$pol")" = "test-policy-2 $hash2" ]
body=$(create pc2 250000)
check "pre-check under policy 2 without a restart: 250000 wei REJECTED PER_TX_LIMIT" \
	[ "$(jq -r '.status + " " + .reason_code' <<<"$body")" = "REJECTED PER_TX_LIMIT" ]
check "orchestratord was not restarted" kill -0 "${ORCH_PID[1]}"

# --- the node back: mid and pre move to the new key; old1, pc1 finish under the old one ----------
# pre was never sent to signerd: it moves at its claim.  mid was built and
# might have been signed with the answer lost: it is sent as it is, naming
# the old key, and moves when signerd refuses KEY_MISMATCH.
check "EVM node back with its chain" evmnode_restart
for id in mid pre; do
	check "$id CONFIRMED" confirm $id
	check "$id sent from the new key's address" [ "$(tx_from $id)" = "${PAYOUT2_ADDR,,}" ]
	check "$id shows the new address" [ "$(field $id .from)" = "$PAYOUT2_ADDR" ]
	check "orchestratord logged $id's move" \
		grep -q "\"msg\":\"payout $id: asset ETH is signed by key payout2 now" "$WORK/orch-1.log"
done
check "signerd refused mid's old-key request: KEY_MISMATCH" [ "$(sd_journal_reason mid)" = KEY_MISMATCH ]
check "mid and pre took the new key's nonces 0 and 1" \
	[ "$(pgsql "SELECT string_agg(nonce::text, ' ' ORDER BY nonce) FROM payouts WHERE request_id IN ('mid', 'pre')")" = "0 1" ]
check "their old nonces handed back: key payout's counter is 2 again" [ "$(nonce_row "$PAYOUT_ADDR")" = 2 ]
check "no nonce of the old key left in a gap" \
	[ "$(pgsql "SELECT count(*) FROM nonce_gaps WHERE lower(sender) = lower('$PAYOUT_ADDR')")" = 0 ]
for id in old1 pc1; do
	check "$id (signed by the old key before the switch) CONFIRMED" confirm $id
	check "under the old sender and its own tx" [ "$(field $id .from)" = "$PAYOUT_ADDR" ] &&
		[ "$(tx_from $id)" = "${PAYOUT_ADDR,,}" ]
done
create new1 1000 >/dev/null
check "a new payout is created from the new address" [ "$(field new1 .from)" = "$PAYOUT2_ADDR" ]
check "new1 CONFIRMED" confirm new1
check "sent from the new key's address, nonce 2" [ "$(tx_from new1)" = "${PAYOUT2_ADDR,,}" ] &&
	[ "$(field new1 .nonce)" = 2 ]
n_old=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT_ADDR\", \"latest\"]")")
n_new=$(evm_dec "$(rpc eth_getTransactionCount "[\"$PAYOUT2_ADDR\", \"latest\"]")")
check "on chain: 2 transactions from the old key, 3 from the new ($n_old, $n_new)" \
	[ "$n_old:$n_new" = "2:3" ]

check "SIGTERM: orchestratord exits 0" orch_stop 1
check "signerd stops cleanly" signerd_stop
check "the new journal verifies" "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
tap_done
