#!/usr/bin/env bash
# demo.sh (`make demo`): the whole appliance on one machine, every part
# real and throwaway.  A SoftHSM2 token holds the payout and audit keys;
# three approvers hold P-256 keys; a genesis policy covers ETH and an
# ERC-20 deployed for the demo, with 2-of-3 approvals and a timelock;
# PostgreSQL, a local EVM node, a sandboxed signerd and orchestratord run
# on unix sockets and 127.0.0.1.  Payouts go in through the HTTP API and
# the run ends with a table and the auditor's verification of the log.
# Everything it starts is stopped by pid, and its temp dir removed, on
# exit, Ctrl-C or failure; runs are independent.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIGNERCTL=$BUILD/signerctl
SIGNERD=$BUILD/signerd
CHAIN_ID=1337
DELAY=10			# the demo's timelock, seconds
GOV_DELAY=8			# the demo's governance delay, seconds
POLICY_ID=demo-genesis		# the policy id approvals name (changes in step 12)
STEP=0
NSTEPS=14
SD_PID=

step() { STEP=$((STEP + 1)); printf '\n[%d/%d] %s\n' "$STEP" "$NSTEPS" "$*"; }
say() { printf '      %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }
# units AMOUNT DECIMALS SYMBOL: base units for people.
units() {
	node -e 'const [a, d, s] = process.argv.slice(1); const v = BigInt(a), e = 10n ** BigInt(d);
		let f = (v % e).toString().padStart(Number(d), "0").replace(/0+$/, "");
		process.stdout.write((v / e).toString() + (f ? "." + f : "") + " " + s)' -- "$1" "$2" "$3"
}

. tests/lib/onexit.sh
finish() {
	[ "$ON_EXIT_STATUS" -ne 0 ] || return 0
	printf '\ndemo: stopped at step %d/%d (exit %d); everything it started was stopped' \
		"$STEP" "$NSTEPS" "$ON_EXIT_STATUS" >&2
	if [ -n "${WORK:-}" ] && [ -e "$WORK" ]; then
		printf ' but %s could NOT be removed' "$WORK" >&2
	fi
	printf '.\n' >&2
}
on_exit finish

for b in "$SIGNERCTL" "$SIGNERD" "$BUILD/orchestratord"; do
	[ -x "$b" ] || die "$b is not built: run make demo"
done
[ -x tests/evmnode/node_modules/.bin/anvil ] || die "anvil is missing: run make demo"

. tests/lib/softhsm.sh
# TUSD waits for "finalized": anvil's finalized block trails latest by two
# epochs, here of two slots, so 4 blocks rather than its default 64.
EVMNODE_SLOTS=2
. tests/lib/evmnode.sh
. tests/lib/erc20.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

# -----------------------------------------------------------------------------
step "A throwaway SoftHSM2 token in $WORK with the payout key and the audit key"
make_random_pin "$WORK/so.pin"
make_random_pin "$WORK/user.pin"
say "random PINs in 0600 files (never on a command line)"
timeout 60 "$SIGNERCTL" token init --module "$SOFTHSM_MODULE" --label demo \
	--so-pin-file "$WORK/so.pin" --pin-file "$WORK/user.pin" >/dev/null
TOKEN=pkcs11:token=demo
PAYOUT_ADDR=$(timeout 60 "$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" --token "$TOKEN" \
	--pin-file "$WORK/user.pin" --label payout --type secp256k1 --json | jq -r .address)
audit_pub=$(timeout 60 "$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" --token "$TOKEN" \
	--pin-file "$WORK/user.pin" --label audit --type p256 --json | jq -r .public_key)
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200${audit_pub#0x}" |
	xxd -r -p | openssl pkey -pubin -inform DER -out "$WORK/audit.pem"
say "payout key (secp256k1): $PAYOUT_ADDR; audit key (P-256) signs log checkpoints"
timeout 60 "$SIGNERCTL" key list --module "$SOFTHSM_MODULE" --token "$TOKEN" \
	--pin-file "$WORK/user.pin" | sed 's/^/        /'

# -----------------------------------------------------------------------------
step "Three approvers make their own P-256 keys (openssl); mallory makes one too"
mkdir -p "$WORK/approvers"
for n in alice bob carol mallory; do
	( umask 077; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$WORK/approvers/$n.key" 2>/dev/null )
	openssl pkey -in "$WORK/approvers/$n.key" -pubout -out "$WORK/approvers/$n.pem"
done
say "alice, bob and carol go into the policy; mallory does not"

# -----------------------------------------------------------------------------
step "A local EVM node (anvil, chain $CHAIN_ID, 127.0.0.1) and an ERC-20 deployed for the demo"
evmnode_start || die "the EVM node did not start"
erc20_deploy || die "the token did not deploy"
fund "$PAYOUT_ADDR" 10000000000000000000 || die "funding failed"
erc20_mint_to "$PAYOUT_ADDR" 100000000000 || die "minting failed"
say "node $EVM_RPC (pid $EVMNODE_PID); token TUSD at $TOKEN_ADDR (6 decimals)"
say "payout address holds $(units "$(balance "$PAYOUT_ADDR")" 18 ETH) and $(units "$(erc20_balance "$PAYOUT_ADDR")" 6 TUSD)"

# -----------------------------------------------------------------------------
step "The genesis policy: limits, 2-of-3 approvals, a ${DELAY} s timelock"
pem() { jq -Rs . <"$WORK/approvers/$1.pem"; }
cat >"$WORK/policy.json" <<JSON
{
  "policy_id": "demo-genesis",
  "approvers": {
    "alice": {"public_key_pem": $(pem alice)},
    "bob": {"public_key_pem": $(pem bob)},
    "carol": {"public_key_pem": $(pem carol)}
  },
  "governance": {"m": 2, "approvers": ["alice", "bob", "carol"], "delay": $GOV_DELAY},
  "assets": {
    "ETH": {
      "chain_id": $CHAIN_ID, "kind": "native", "decimals": 18, "key": "payout",
      "daily_limit": "3000000000000000000", "per_tx_limit": "2000000000000000000",
      "approval": {"threshold": "500000000000000000", "m": 2, "approvers": ["alice", "bob", "carol"]},
      "timelock": {"threshold": "1000000000000000000", "delay_seconds": $DELAY},
      "fee_caps": {"max_fee_per_gas": "200000000000", "max_priority_fee_per_gas": "5000000000", "gas_limit": 100000},
      "confirmations": 2
    },
    "TUSD": {
      "chain_id": $CHAIN_ID, "kind": "erc20", "contract": "$TOKEN_ADDR", "decimals": 6, "key": "payout",
      "daily_limit": "50000000000", "per_tx_limit": "20000000000",
      "approval": {"threshold": "10000000000", "m": 2, "approvers": ["alice", "bob", "carol"]},
      "fee_caps": {"max_fee_per_gas": "200000000000", "max_priority_fee_per_gas": "5000000000", "gas_limit": 100000},
      "confirmations": "finalized"
    }
  }
}
JSON
say "ETH: up to 0.5 signed on policy alone; above it 2 of alice/bob/carol; above 1 also waits ${DELAY} s;"
say "     at most 2 per payout and 3 per UTC day.  TUSD: approvals above 10,000; 50,000 a day."
say "policy hash (journaled first): $(sha256sum "$WORK/policy.json" | cut -c1-16)..."

# -----------------------------------------------------------------------------
step "signerd: PIN used and wiped, keys checked, then sandboxed as user nobody"
SD_SOCK="$WORK/run/signerd.sock"
SD_JOURNAL="$WORK/journal"
mkdir -p "$SD_JOURNAL" "$WORK/run"
chown -R nobody "$WORK/tokens" "$SD_JOURNAL" "$WORK/run"
chmod 0755 "$WORK"
( umask 077; cat >"$WORK/signerd.conf" <<CONF
[hsm]
module = $SOFTHSM_MODULE
token = $TOKEN
pin_file = $WORK/user.pin
sessions = 2
audit_key = $TOKEN;object=audit
[keys]
payout = $TOKEN;object=payout
[journal]
dir = $SD_JOURNAL
checkpoint_interval = 60
[policy]
genesis = $WORK/policy.json
[server]
listen = ipc://$SD_SOCK
socket_mode = 0660
allowed_uids = 0
user = nobody
workers = 4
CONF
)
"$SIGNERD" -c "$WORK/signerd.conf" -f 2>"$WORK/signerd.log" &
SD_PID=$!
on_exit '[ -n "$SD_PID" ] && kill -KILL "$SD_PID" 2>/dev/null; wait "$SD_PID" 2>/dev/null'
for _ in $(seq 1 100); do
	grep -q '"ready' "$WORK/signerd.log" 2>/dev/null && break
	kill -0 "$SD_PID" 2>/dev/null || { cat "$WORK/signerd.log" >&2; die "signerd did not start"; }
	sleep 0.1
done
grep -q '"ready' "$WORK/signerd.log" || die "signerd did not become ready"
say "signerd pid $SD_PID: uid $(awk '/^Uid:/ {print $2}' /proc/$SD_PID/status), Seccomp $(awk '/^Seccomp:/ {print $2}' /proc/$SD_PID/status) (filter), NoNewPrivs $(awk '/^NoNewPrivs:/ {print $2}' /proc/$SD_PID/status)"

# -----------------------------------------------------------------------------
step "PostgreSQL (throwaway cluster, unix socket only) and orchestratord"
pg_start || die "PostgreSQL did not start"
orch_provision || { cat "$WORK/orch-migrate.log" >&2; die "orchestratord migrate failed"; }
sed 's/^/      /' "$WORK/orch-migrate.log"
orch_start 1 || { tail -5 "$WORK/orch-1.log" >&2; die "orchestratord did not start"; }
say "orchestratord pid ${ORCH_PID[1]} on $ORCH_URL (holds no keys; bearer tokens per role)"

R1=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
R2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
ROWS=()
create() {
	api POST /v1/payouts "$(jq -cn --arg id "$1" --arg a "$2" --arg to "$3" --arg amt "$4" \
		'{request_id: $id, asset: $a, to: $to, amount: $amt}')" "$TOK_SUBMIT" >"$WORK/$1.json"
	[ "$(api_status)" = 201 ] || die "$1 was not accepted: $(cat "$WORK/$1.json")"
	say "$1: $(units "$4" "$( [ "$2" = ETH ] && echo 18 || echo 6)" "$2") to ${3:0:10}...: $(jq -r .status "$WORK/$1.json")"
}
# approve NAME ID: NAME signs the payout's approval text with signerctl.
approve() {
	local p text
	p=$(api GET "/v1/payouts/$2" "" "$TOK_VIEW")
	text="$WORK/approvers/$2.$1.txt"
	printf 'signer-approval v1\naction: sign\npolicy: %s\nrequest: %s\nchain: %s\nasset: %s\nto: %s\namount: %s\nexpires: %s\n' \
		"$POLICY_ID" "$2" "$(jq -r .chain_id <<<"$p")" "$(jq -r .asset <<<"$p")" "$(jq -r .to <<<"$p")" \
		"$(jq -r .amount <<<"$p")" $(( $(date +%s) + 3600 )) >"$text"
	"$SIGNERCTL" approve --key "$WORK/approvers/$1.key" --intent "$text" --approver "$1" \
		2>/dev/null >"$text.json"
	api POST "/v1/payouts/$2/approvals" "$(cat "$text.json")" "$TOK_APPROVE" >"$WORK/$2.ap"
	say "$1 approves $2 (signerctl approve): HTTP $(api_status), $(jq -r '.status // .error' "$WORK/$2.ap")"
}
status_of() { api GET "/v1/payouts/$1" "" "$TOK_VIEW" | jq -r .status; }
# wait_for ID STATUS SECONDS, printing the status as it changes.
wait_for() {
	local id=$1 want=$2 deadline=$((SECONDS + $3)) st last=""
	while :; do
		st=$(status_of "$id")
		[ "$st" = "$last" ] || { say "  $id: $st"; last=$st; }
		[ "$st" = "$want" ] && return 0
		case $st in CONFIRMED|FAILED|REJECTED|CANCELLED) return 1 ;; esac
		[ $SECONDS -lt $deadline ] || return 1
		# Blocks keep coming so payouts gather their confirmations.
		evmnode_mine 1
		sleep 0.5
	done
}

# -----------------------------------------------------------------------------
step "Small payouts: approved automatically, signed in the HSM, mined, confirmed"
create small-eth ETH "$R1" 100000000000000000
create small-tusd TUSD "$R2" 2500000000
wait_for small-eth CONFIRMED 60 || die "small-eth did not confirm"
wait_for small-tusd CONFIRMED 60 || die "small-tusd did not confirm"

# -----------------------------------------------------------------------------
step "A large payout (0.8 ETH): two of the three approvers sign it"
create large ETH "$R1" 800000000000000000
approve alice large
approve bob large
wait_for large CONFIRMED 60 || die "large did not confirm"

# -----------------------------------------------------------------------------
step "A forged approval: mallory signs in carol's name"
create forged ETH "$R2" 700000000000000000
approve mallory forged
p=$(jq -c '.approver = "carol"' "$WORK/approvers/forged.mallory.txt.json")
api POST /v1/payouts/forged/approvals "$p" "$TOK_APPROVE" >"$WORK/forged.ap"
say "as carol: HTTP $(api_status) $(jq -r '.error + ": " + .message' "$WORK/forged.ap")"
say "and straight to signerd, as a compromised orchestrator would send it:"
"$SIGNERCTL" sign --socket "ipc://$SD_SOCK" --request <(jq -n --argjson ap "$p" --arg to "$R2" \
	--arg tx "$("$BUILD/tools/sdclient" mktx --chain-id $CHAIN_ID --nonce 999 --to "$R2" --value 700000000000000000)" \
	'{request_id: "forged", asset: "ETH", chain_id: 1337, to: $to, amount: "700000000000000000", tx: $tx, approvals: [$ap]}') 2>/dev/null |
	jq -r '"      signerd: " + .reason + " (" + .message + ")"' || true
api POST /v1/payouts/forged/reject '{"reason":"forged approval presented"}' "$TOK_APPROVE" >/dev/null
say "an approver rejects it: $(status_of forged)"

# -----------------------------------------------------------------------------
step "Timelocked payouts (1.5 and 1.2 ETH): approved, queued in signerd, one cancelled"
create timelocked ETH "$R1" 1500000000000000000
create cancelled ETH "$R2" 1200000000000000000
for id in timelocked cancelled; do approve alice $id; approve carol $id; done
wait_for timelocked QUEUED 30 || die "timelocked was not queued"
wait_for cancelled QUEUED 30 || die "cancelled was not queued"
say "signable from $(api GET /v1/payouts/timelocked "" "$TOK_VIEW" | jq -r .not_before) (signer's clock)"
printf 'signer-approval v1\naction: cancel\npolicy: demo-genesis\nrequest: cancelled\nexpires: %s\n' \
	$(( $(date +%s) + 3600 )) >"$WORK/approvers/cancel.txt"
"$SIGNERCTL" approve --key "$WORK/approvers/bob.key" --intent "$WORK/approvers/cancel.txt" \
	--approver bob 2>/dev/null >"$WORK/approvers/cancel.json"
api POST /v1/payouts/cancelled/cancel "$(cat "$WORK/approvers/cancel.json")" "$TOK_APPROVE" >/dev/null
say "bob cancels 'cancelled': $(status_of cancelled) (signerd journaled the cancel)"
wait_for timelocked CONFIRMED $((DELAY + 60)) || die "timelocked did not confirm"

# -----------------------------------------------------------------------------
step "Over the daily limit: 0.1 + 0.8 + 1.5 ETH signed today; 0.7 more would pass 3 ETH"
create over-limit ETH "$R2" 700000000000000000
approve alice over-limit
approve bob over-limit
wait_for over-limit FAILED 60 || die "over-limit was not refused"
api GET "/v1/exposure?asset=ETH" "" "$TOK_VIEW" |
	jq -r '"      signerd exposure today: " + .signed_total + " of " + .limit + " wei"'

# -----------------------------------------------------------------------------
step "A governed change: the ETH daily limit raised to 4 ETH (a loosening: waits ${GOV_DELAY} s)"
jq '.policy_id = "demo-v2" | .assets.ETH.daily_limit = "4000000000000000000"' \
	"$WORK/policy.json" >"$WORK/policy-v2.json"
"$SIGNERCTL" policy diff "$WORK/policy.json" "$WORK/policy-v2.json" | sed 's/^/      /'
"$SIGNERCTL" policy propose "$WORK/policy-v2.json" --socket "ipc://$SD_SOCK" >/dev/null ||
	die "the proposal was refused"
"$SIGNERCTL" policy text --socket "ipc://$SD_SOCK" >"$WORK/approvers/policy-v2.txt"
for n in alice carol; do
	"$SIGNERCTL" approve --key "$WORK/approvers/$n.key" --intent "$WORK/approvers/policy-v2.txt" \
		--approver "$n" 2>/dev/null >"$WORK/approvers/policy-v2.$n.json"
done
"$SIGNERCTL" policy approve --socket "ipc://$SD_SOCK" --approval "$WORK/approvers/policy-v2.alice.json" \
	--approval "$WORK/approvers/policy-v2.carol.json" --json >"$WORK/policy-v2.state" ||
	die "the approvals were refused"
say "alice and carol approve (governance, 2 of 3); in force from $(jq -r .pending.effective_at "$WORK/policy-v2.state")"
say "meanwhile any one of them could cancel it (signerctl policy cancel)"
for i in $(seq 1 $((GOV_DELAY * 4 + 40))); do
	v=$(api GET /v1/policy "" "$TOK_VIEW" | jq -r '.version // empty')
	[ "$v" = 2 ] && break
	sleep 0.5
done
[ "$v" = 2 ] || die "the new version did not take effect"
POLICY_ID=demo-v2
say "orchestratord follows: GET /v1/policy says version $v ($POLICY_ID), no restart"
create after-change ETH "$R2" 700000000000000000
approve alice after-change
approve bob after-change
wait_for after-change CONFIRMED 60 || die "after-change did not confirm"
api GET "/v1/exposure?asset=ETH" "" "$TOK_VIEW" |
	jq -r '"      signerd exposure today: " + .signed_total + " of " + .limit + " wei (carried over)"'
# signerd has no network socket: its counters reach Prometheus through
# orchestratord's /metrics, or signerctl metrics for a textfile collector.
say "signerd's counters, as orchestratord's GET /metrics shows them (signerctl metrics prints the same):"
api GET /metrics "" "$TOK_VIEW" | grep -E '^signerd_(signatures|refusals)_total' | sed 's/^/        /'

# -----------------------------------------------------------------------------
step "Stopping orchestratord and signerd (signerd signs a final checkpoint)"
orch_stop 1 || die "orchestratord did not stop cleanly"
kill -TERM "$SD_PID"
wait "$SD_PID" || die "signerd exited with an error"
SD_PID=
say "both stopped cleanly"

# -----------------------------------------------------------------------------
step "The auditor verifies the signed-action log with the audit public key"
timeout 60 "$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$WORK/audit.pem" | sed 's/^/      /'
say "the policy history, from the journal alone:"
"$SIGNERCTL" policy history --journal "$SD_JOURNAL" 2>/dev/null | sed 's/^/      /'

printf '\n%-12s %-5s %-10s %-10s %-20s %-5s %s\n' payout asset amount status "tx hash" conf reason
pgsql "SELECT request_id, asset, amount::text, status, coalesce(tx_hash, '-'), confirmations, coalesce(reason_code, '-') FROM payouts ORDER BY id" |
while IFS='|' read -r id asset amount st hash conf reason; do
	d=18; [ "$asset" = TUSD ] && d=6
	printf '%-12s %-5s %-10s %-10s %-20s %-5s %s\n' "$id" "$asset" "$(units "$amount" $d "" | sed 's/ $//')" \
		"$st" "$( [ "$hash" = - ] && echo - || echo "${hash:0:18}..")" "$conf" "$reason"
done
printf '\nCleaning up: stopping PostgreSQL and the node, removing %s.\n' "$WORK"
