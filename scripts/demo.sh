#!/usr/bin/env bash
# demo.sh: payouts signed by a sandboxed signerd through a throwaway SoftHSM2
# token, under a genesis policy, sent to a local EVM node, and an audit log
# that verifies (`make demo`).
# Everything it starts (token store, ganache, signerd) lives in temp dirs and
# is stopped by pid and removed on exit, Ctrl-C or failure; runs are
# independent.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIGNERCTL=$BUILD/signerctl
SIGNERD=$BUILD/signerd
SDCLIENT=$BUILD/tools/sdclient
CHAIN_ID=1337
FUND_WEI=1000000000000000000		# 1 ETH
MAX_FEE=50000000000			# 50 gwei
PRIO_FEE=1000000000			# 1 gwei
GAS=21000
TOKEN_LABEL=demo
KEY_LABEL=payout
SD_PID=
STEP=0
NSTEPS=9

step() {
	STEP=$((STEP + 1))
	printf '\n[%d/%d] %s\n' "$STEP" "$NSTEPS" "$*"
}
say() { printf '      %s\n' "$*"; }
die() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }
eth() {
	node -e 'const w = BigInt(process.argv[1]), e = 10n ** 18n;
		let f = (w % e).toString().padStart(18, "0").replace(/0+$/, "");
		process.stdout.write((w / e).toString() + (f ? "." + f : "") + " ETH")' "$1"
}

# Registered before the libraries' own cleanups, so it runs after them and
# can say that everything is gone.
. tests/lib/onexit.sh
finish() {
	[ "$ON_EXIT_STATUS" -ne 0 ] || return 0
	printf '\ndemo: stopped at step %d/%d (exit %d).' "$STEP" "$NSTEPS" \
		"$ON_EXIT_STATUS" >&2
	if [ -n "${EVMNODE_PORT:-}" ]; then
		printf ' The EVM node it started was stopped.' >&2
	fi
	if [ -n "${WORK:-}" ] && [ ! -e "$WORK" ]; then
		printf ' %s was removed.' "$WORK" >&2
	elif [ -n "${WORK:-}" ]; then
		printf ' %s could NOT be removed.' "$WORK" >&2
	fi
	printf '\n' >&2
}
on_exit finish

for b in "$SIGNERCTL" "$SIGNERD" "$SDCLIENT"; do
	[ -x "$b" ] || die "$b is not built: run make (or make demo)"
done
[ -x tests/evmnode/node_modules/.bin/ganache ] ||
	die "ganache is not installed: run scripts/deps (or make demo)"

. tests/lib/softhsm.sh
. tests/lib/evmnode.sh

# -------------------------------------------------------------------------
step "Creating a throwaway SoftHSM2 token in $WORK"
make_random_pin "$WORK/so.pin"
make_random_pin "$WORK/user.pin"
say "random SO and user PINs: $WORK/so.pin, $WORK/user.pin (mode 0$(stat -c %a "$WORK/user.pin"); never on a command line)"
timeout 60 "$SIGNERCTL" token init --module "$SOFTHSM_MODULE" \
	--label "$TOKEN_LABEL" --so-pin-file "$WORK/so.pin" \
	--pin-file "$WORK/user.pin" | sed 's/^/      /'
TOKEN_URI="pkcs11:token=$TOKEN_LABEL"

# -------------------------------------------------------------------------
step "Generating the payout key (secp256k1) and the audit key (P-256) inside the token"
keyjson=$(timeout 60 "$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token "$TOKEN_URI" --pin-file "$WORK/user.pin" --label "$KEY_LABEL" \
	--type secp256k1 --json)
ADDR=$(jq -r '.address // empty' <<<"$keyjson")
[ -n "$ADDR" ] || die "signerctl printed no address: $keyjson"
auditjson=$(timeout 60 "$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token "$TOKEN_URI" --pin-file "$WORK/user.pin" --label audit \
	--type p256 --json)
# The auditor's copy of the audit public key, as PEM (SPKI prefix + point).
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200$(jq -r .public_key <<<"$auditjson" | sed 's/^0x//')" |
	xxd -r -p | openssl pkey -pubin -inform DER -out "$WORK/audit.pem"
say "payout address: $ADDR (EIP-55)"
say "the keys are sensitive, non-extractable and sign-only:"
timeout 60 "$SIGNERCTL" key list --module "$SOFTHSM_MODULE" --token "$TOKEN_URI" \
	--pin-file "$WORK/user.pin" | sed 's/^/        /'

# -------------------------------------------------------------------------
step "Starting a local EVM node (ganache, chain id $CHAIN_ID) on 127.0.0.1 and funding the payout address"
evmnode_start || die "the EVM node did not start"
fund "$ADDR" "$FUND_WEI" || die "funding failed"
say "node: $EVM_RPC (pid $EVMNODE_PID); balance of $ADDR: $(eth "$(balance "$ADDR")")"

# -------------------------------------------------------------------------
step "Writing the genesis policy and starting signerd (sandboxed, as user nobody)"
cat >"$WORK/policy.json" <<JSON
{
  "policy_id": "demo-genesis",
  "assets": {
    "ETH": {
      "chain_id": $CHAIN_ID, "kind": "native", "decimals": 18, "key": "$KEY_LABEL",
      "daily_limit": "50000000000000000", "per_tx_limit": "20000000000000000",
      "fee_caps": {"max_fee_per_gas": "$MAX_FEE", "max_priority_fee_per_gas": "$PRIO_FEE",
                   "gas_limit": 100000},
      "confirmations": 1
    }
  }
}
JSON
say "ETH: at most 0.02 ETH per payout, 0.05 ETH per UTC day; fees capped"
mkdir -p "$WORK/journal" "$WORK/run"
chown -R nobody "$WORK/tokens" "$WORK/journal" "$WORK/run"
chmod 0755 "$WORK"
cat >"$WORK/signerd.conf" <<CONF
[hsm]
module = $SOFTHSM_MODULE
token = $TOKEN_URI
pin_file = $WORK/user.pin
sessions = 2
audit_key = $TOKEN_URI;object=audit
[keys]
$KEY_LABEL = $TOKEN_URI;object=$KEY_LABEL
[journal]
dir = $WORK/journal
checkpoint_interval = 60
[policy]
genesis = $WORK/policy.json
[server]
listen = ipc://$WORK/run/signerd.sock
socket_mode = 0660
allowed_uids = 0
user = nobody
workers = 4
CONF
chmod 0600 "$WORK/signerd.conf"
SOCK="ipc://$WORK/run/signerd.sock"
"$SIGNERD" -c "$WORK/signerd.conf" -f 2>"$WORK/signerd.log" &
SD_PID=$!
on_exit '[ -n "$SD_PID" ] && kill -KILL "$SD_PID" 2>/dev/null'
for _ in $(seq 1 100); do
	grep -q '"ready' "$WORK/signerd.log" 2>/dev/null && break
	kill -0 "$SD_PID" 2>/dev/null || { cat "$WORK/signerd.log" >&2; die "signerd did not start"; }
	sleep 0.1
done
grep -q '"ready' "$WORK/signerd.log" || die "signerd did not become ready"
say "signerd pid $SD_PID: uid $(awk '/^Uid:/ {print $2}' /proc/$SD_PID/status), \
Seccomp $(awk '/^Seccomp:/ {print $2}' /proc/$SD_PID/status), NoNewPrivs $(awk '/^NoNewPrivs:/ {print $2}' /proc/$SD_PID/status)"
timeout 30 "$SIGNERCTL" status --socket "$SOCK" | sed 's/^/      /'

# -------------------------------------------------------------------------
# payout ID AMOUNT_WEI [TO] [STATED_AMOUNT]: ask signerd; on success send it.
ROWS=()
NONCE=$(evm_dec "$(rpc eth_getTransactionCount "[\"$ADDR\",\"latest\"]")")
payout() {
	local id=$1 amount=$2 to=${3:-$RECIPIENT} stated=${4:-$2} tx reason hash
	tx=$("$SDCLIENT" mktx --chain-id $CHAIN_ID --nonce "$NONCE" --to "$to" \
		--value "$amount" --max-fee "$MAX_FEE" --prio-fee "$PRIO_FEE" --gas $GAS)
	jq -n --arg id "$id" --arg to "$to" --arg amount "$stated" --arg tx "$tx" \
		--argjson chain $CHAIN_ID \
		'{request_id:$id, asset:"ETH", chain_id:$chain, to:$to, amount:$amount, tx:$tx}' \
		>"$WORK/$id.json"
	timeout 30 "$SIGNERCTL" sign --socket "$SOCK" --request "$WORK/$id.json" \
		>"$WORK/$id.reply" || true
	reason=$(jq -r .reason "$WORK/$id.reply")
	if [ "$reason" != OK ]; then
		say "$id: $(eth "$amount") REFUSED by signerd: $(jq -r .message "$WORK/$id.reply")"
		ROWS+=("$id|$(eth "$amount")|refused|-|$reason")
		return 0
	fi
	hash=$(rpc eth_sendRawTransaction "[\"$(jq -r .raw "$WORK/$id.reply")\"]") ||
		die "the node refused $id"
	receipt=$(wait_receipt "$hash" 30) || die "no receipt for $id"
	[ "$(jq -r .status <<<"$receipt")" = 0x1 ] || die "$id failed on chain"
	[ "$(jq -r .from <<<"$receipt")" = "${ADDR,,}" ] || die "$id: wrong sender"
	say "$id: $(eth "$amount") signed (nonce $NONCE) and mined in block $(evm_dec "$(jq -r .blockNumber <<<"$receipt")")"
	ROWS+=("$id|$(eth "$amount")|confirmed|${hash:0:18}...|-")
	NONCE=$((NONCE + 1))
}
RECIPIENT=0x70997970C51812dc3A010C7d01b50e0d17dc79C8

step "Paying out through signerd: each payout decoded, checked, signed in the HSM, journaled"
payout payout-1 10000000000000000
payout payout-2 15000000000000000
payout payout-3 20000000000000000

# -------------------------------------------------------------------------
step "Trying payouts the policy forbids"
payout too-big 30000000000000000
payout over-day 10000000000000000
payout lie-1 1000000000000000 "$RECIPIENT" 1
say "and the same request again: signerd returns the same signature, counted once"
again=$(timeout 30 "$SIGNERCTL" sign --socket "$SOCK" --request "$WORK/payout-1.json" | jq -r .tx_hash)
say "payout-1 again -> ${again:0:18}... (same transaction, not re-signed)"

# -------------------------------------------------------------------------
step "Today's exposure, as signerd counts it"
timeout 30 "$SIGNERCTL" exposure --socket "$SOCK" --asset ETH | sed 's/^/      /'

# -------------------------------------------------------------------------
step "Stopping signerd (SIGTERM: final checkpoint signed by the audit key)"
kill -TERM "$SD_PID"
wait "$SD_PID" || die "signerd exited with an error"
SD_PID=
say "signerd stopped cleanly"

# -------------------------------------------------------------------------
step "Verifying the signed-action log as an auditor would"
timeout 60 "$SIGNERCTL" audit verify --journal "$WORK/journal" --pubkey "$WORK/audit.pem" |
	sed 's/^/      /'
timeout 60 "$SIGNERCTL" audit show --journal "$WORK/journal" | sed 's/^/      /' | tail -15

printf '\n%-10s  %-12s  %-10s  %-22s  %s\n' payout amount status "tx hash" reason
for row in "${ROWS[@]}"; do
	IFS='|' read -r a b c d e <<<"$row"
	printf '%-10s  %-12s  %-10s  %-22s  %s\n' "$a" "$b" "$c" "$d" "$e"
done
printf '\nCleaning up: stopping the node (pid %s) and removing %s.\n' "$EVMNODE_PID" "$WORK"
