#!/usr/bin/env bash
# demo.sh: a key generated inside a throwaway SoftHSM2 token signs an EIP-1559 transfer that a local EVM node accepts (`make demo`).
# Everything it starts (token store, ganache) lives in temp dirs and is
# stopped by pid and removed on exit, Ctrl-C or failure; runs are
# independent.  The signing goes straight through the HSM with a test-only
# tool: this version of the demo shows HSM/EVM interop, not signerd policy.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SIGNERCTL=$BUILD/signerctl
TXSIGN=$BUILD/tools/hsm_txsign
CHAIN_ID=1337
FUND_WEI=1000000000000000000		# 1 ETH
VALUE_WEI=10000000000000000		# 0.01 ETH
MAX_FEE=50000000000			# 50 gwei
PRIO_FEE=1000000000			# 1 gwei
GAS=21000
TOKEN_LABEL=demo
KEY_LABEL=payout-eth
STEP=0
NSTEPS=6

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

for b in "$SIGNERCTL" "$TXSIGN"; do
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
say "token: $TOKEN_URI"

# -------------------------------------------------------------------------
step "Generating a secp256k1 signing key inside the token"
keyjson=$(timeout 60 "$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
	--token "$TOKEN_URI" --pin-file "$WORK/user.pin" --label "$KEY_LABEL" \
	--type secp256k1 --json)
ADDR=$(jq -r '.address // empty' <<<"$keyjson")
KEY_URI=$(jq -r '.uri // empty' <<<"$keyjson")
[ -n "$KEY_URI" ] || KEY_URI="$TOKEN_URI;object=$KEY_LABEL;type=private"
[ -n "$ADDR" ] || die "signerctl printed no address: $keyjson"
say "key:     $KEY_URI"
say "address: $ADDR (EIP-55)"
say "the private key was generated on the token and cannot be exported:"
timeout 60 "$SIGNERCTL" key show "$KEY_URI" --module "$SOFTHSM_MODULE" \
	--pin-file "$WORK/user.pin" | sed 's/^/        /'

# -------------------------------------------------------------------------
step "Starting a local EVM node (ganache, chain id $CHAIN_ID) on 127.0.0.1"
evmnode_start || die "the EVM node did not start"
say "node: $EVM_RPC (pid $EVMNODE_PID, $(rpc web3_clientVersion | cut -d/ -f1-2))"

# -------------------------------------------------------------------------
step "Funding the HSM key's address with $(eth "$FUND_WEI") from a node dev account"
fund "$ADDR" "$FUND_WEI" || die "funding failed"
say "balance of $ADDR: $(eth "$(balance "$ADDR")")"

# -------------------------------------------------------------------------
TO=0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
NONCE=$(evm_dec "$(rpc eth_getTransactionCount "[\"$ADDR\",\"latest\"]")")
step "Signing an EIP-1559 transfer of $(eth "$VALUE_WEI") through the HSM"
say "chain $CHAIN_ID, nonce $NONCE, to $TO (a fresh address),"
say "max fee $MAX_FEE wei/gas, priority fee $PRIO_FEE wei/gas, gas $GAS"
out=$(timeout 60 "$TXSIGN" --module "$SOFTHSM_MODULE" --token "$TOKEN_URI" \
	--key "$KEY_URI" --pin-file "$WORK/user.pin" --chain-id "$CHAIN_ID" \
	--nonce "$NONCE" --to "$TO" --value "$VALUE_WEI" --max-fee "$MAX_FEE" \
	--max-priority-fee "$PRIO_FEE" --gas "$GAS" --verbose \
	2>"$WORK/txsign.log") || { cat "$WORK/txsign.log" >&2; die "signing failed"; }
sed -n 's/^hsm_txsign: //p' "$WORK/txsign.log" |
	grep -E '^(signing hash|hsm s was|self-check)' | sed 's/^/      /'
RAW=$(jq -r .raw <<<"$out")
HASH=$(jq -r .hash <<<"$out")
FROM=$(jq -r .from <<<"$out")
say "signed tx (${#RAW} hex chars): ${RAW:0:42}..."
say "tx hash: $HASH"

# -------------------------------------------------------------------------
step "Sending it to the node and waiting for the receipt"
node_hash=$(rpc eth_sendRawTransaction "[\"$RAW\"]") || die "the node refused the transaction"
say "node accepted it as $node_hash"
[ "${node_hash,,}" = "${HASH,,}" ] || die "node's hash $node_hash differs from ours $HASH"
receipt=$(wait_receipt "$HASH" 30) || die "no receipt within 30 s"
status=$(jq -r .status <<<"$receipt")
block=$(evm_dec "$(jq -r .blockNumber <<<"$receipt")")
nfrom=$(jq -r .from <<<"$receipt")
say "mined in block $block, status $status, gas used $(evm_dec "$(jq -r .gasUsed <<<"$receipt")")"
say "sender recovered by the node: $nfrom"
say "HSM key's address:            $ADDR"
[ "$status" = 0x1 ] || die "transaction failed on chain (status $status)"
[ "${nfrom,,}" = "${ADDR,,}" ] || die "the node recovered a different sender"
[ "$FROM" = "$ADDR" ] || die "hsm_txsign's address $FROM differs from signerctl's $ADDR"
got=$(balance "$TO")
[ "$got" = "$VALUE_WEI" ] || die "recipient balance $got, expected $VALUE_WEI"

# -------------------------------------------------------------------------
cat <<SUMMARY

Summary
  token     $TOKEN_URI (SoftHSM2, in $WORK)
  key       secp256k1, generated on the token, address $ADDR
  node      ganache on $EVM_RPC, chain id $CHAIN_ID
  transfer  $(eth "$VALUE_WEI") to $TO, nonce $NONCE
  tx        $HASH, block $block, status $status
  check     the node recovered the sender as the HSM key's address: OK
            recipient balance is now $(eth "$got"): OK
Cleaning up: stopping the node (pid $EVMNODE_PID) and removing $WORK.
SUMMARY
