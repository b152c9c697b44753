#!/usr/bin/env bash
# evm_interop.sh: HSM-signed EIP-1559 transactions are accepted by a real EVM node (anvil) and recover to the key's address.
#   BUILD=build bash tests/integration/evm_interop.sh      (TAP on stdout)
# Half of raw HSM ECDSA signatures are high-S, which mainnet nodes refuse
# (EIP-2); several transactions in a row make it near certain
# (1 - 2^-NTX) that evm_sig_finish's normalisation was exercised.  anvil
# accepts high-S, so the test reads s from the signed bytes itself: at
# most n/2 in what is sent, above it in the tool's high-S twin (the
# same r), which is never sent.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
NTX=${NTX:-8}
# Run by hand against a sanitizer build: SoftHSM's own leaks are not ours.
if [[ $BUILD == *san* ]]; then
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
fi
. tests/lib/tap.sh
. tests/lib/softhsm.sh
. tests/lib/evmnode.sh
# Command output goes to stderr, which tests/run.sh keeps in the suite log.
TAP_LOG=/dev/stderr

SIGNERCTL=$BUILD/signerctl
TXSIGN=$BUILD/tools/hsm_txsign
TOKEN_LABEL=interop
KEY_LABEL=payout-eth
CHAIN_ID=1337
FUND_WEI=10000000000000000000		# 10 ETH
VALUE_WEI=1000000000000000		# 0.001 ETH per transfer
MAX_FEE=50000000000			# 50 gwei
PRIO_FEE=1000000000			# 1 gwei
GAS=21000

diag() { printf '# %s\n' "$*"; }
bail() { echo "Bail out! $*"; tap_done; exit 1; }
sctl() { timeout 60 "$SIGNERCTL" "$@"; }
txsign() { timeout 60 "$TXSIGN" "$@"; }
not() { ! "$@"; }
is_json() { jq -e 'type == "object"' >/dev/null 2>&1 <<<"$1"; }

# tx_rs RAW: "r s" (hex, no 0x) of a signed type-2 transaction, decoded
# here with a minimal RLP reader, independently of the C code under test.
tx_rs() {
	node -e '
const b = Buffer.from(process.argv[1].replace(/^0x/, ""), "hex");
if (b[0] !== 2) throw new Error("not a type-2 transaction");
function item(p) {	// [start of payload, end]
	const t = b[p];
	if (t < 0x80) return [p, p + 1];
	if (t <= 0xb7) return [p + 1, p + 1 + t - 0x80];
	if (t < 0xc0) { const l = t - 0xb7; return [p + 1 + l, p + 1 + l + b.readUIntBE(p + 1, l)]; }
	if (t <= 0xf7) return [p + 1, p + 1 + t - 0xc0];
	const l = t - 0xf7; return [p + 1 + l, p + 1 + l + b.readUIntBE(p + 1, l)];
}
const [s0, end] = item(1), f = [];
for (let p = s0; p < end; ) { const [a, z] = item(p); f.push(b.subarray(a, z)); p = z; }
if (end !== b.length || f.length !== 12) throw new Error("malformed transaction");
process.stdout.write(f[10].toString("hex") + " " + f[11].toString("hex"));' "$1"
}
# low_s HEX: 0 < s <= n/2 of secp256k1 (EIP-2).
low_s() {
	[ -n "$1" ] && node -e 'const n2 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const s = BigInt("0x" + process.argv[1]); process.exit(s > 0n && s <= n2 ? 0 : 1)' "$1"
}
# high_twin R_LO R_HI S_HI: the same r, and n/2 < s.
high_twin() {
	[ -n "$1" ] && [ "$1" = "$2" ] && [ -n "$3" ] && ! low_s "$3"
}

# EIP-55 computed here from the node's keccak (web3_sha3), independently of
# the C code under test: letter i is upper case iff hash nibble i >= 8.
eip55_ok() {
	local a=$1 lower h want="" i c
	[[ $a =~ ^0x[0-9a-fA-F]{40}$ ]] || return 1
	lower=${a,,}
	lower=${lower#0x}
	h=$(rpc web3_sha3 "[\"0x$(printf '%s' "$lower" | od -An -tx1 | tr -d ' \n')\"]") ||
		return 1
	h=${h#0x}
	for ((i = 0; i < 40; i++)); do
		c=${lower:i:1}
		if [[ $c == [a-f] ]] && ((16#${h:i:1} >= 8)); then
			c=${c^^}
		fi
		want+=$c
	done
	[ "0x$want" = "$a" ]
}

# --- binaries, token, key ------------------------------------------------
check "signerctl is built ($SIGNERCTL)" [ -x "$SIGNERCTL" ]
check "hsm_txsign is built ($TXSIGN)" [ -x "$TXSIGN" ]
[ -x "$SIGNERCTL" ] && [ -x "$TXSIGN" ] || bail "build $SIGNERCTL and $TXSIGN first"

make_random_pin "$WORK/so.pin"
make_random_pin "$WORK/user.pin"
ok "signerctl token init" sctl token init --module "$SOFTHSM_MODULE" \
	--label "$TOKEN_LABEL" --so-pin-file "$WORK/so.pin" \
	--pin-file "$WORK/user.pin"
TOKEN_URI="pkcs11:token=$TOKEN_LABEL"

keyjson=$(sctl key generate --module "$SOFTHSM_MODULE" --token "$TOKEN_URI" \
	--pin-file "$WORK/user.pin" --label "$KEY_LABEL" --type secp256k1 \
	--json 2>>"$TAP_LOG")
check "signerctl key generate --json prints JSON" is_json "$keyjson"
ADDR=$(jq -r '.address // empty' <<<"$keyjson" 2>/dev/null)
KEY_URI=$(jq -r '.uri // empty' <<<"$keyjson" 2>/dev/null)
[ -n "$KEY_URI" ] || KEY_URI="$TOKEN_URI;object=$KEY_LABEL;type=private"
diag "key $KEY_URI address $ADDR"
check "signerctl printed an address" [ -n "$ADDR" ]
[ -n "$ADDR" ] || bail "no address from signerctl key generate: $keyjson"

# --- node ----------------------------------------------------------------
ok "anvil starts on 127.0.0.1" evmnode_start
[ -n "$EVMNODE_PID" ] || bail "no EVM node"
diag "node $EVM_RPC (pid $EVMNODE_PID)"
check "node reports chain id $CHAIN_ID" [ "$(rpc eth_chainId)" = "$(printf '0x%x' $CHAIN_ID)" ]
check "eip55_ok accepts the EIP-55 spec vector" \
	eip55_ok 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
check "eip55_ok refuses a mangled checksum" \
	not eip55_ok 0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed
check "signerctl's address is EIP-55 checksummed ($ADDR)" eip55_ok "$ADDR"

ok "fund the HSM address with 10 ETH" fund "$ADDR" "$FUND_WEI"
check "HSM address balance is 10 ETH" [ "$(balance "$ADDR")" = "$FUND_WEI" ]

TO=0x$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
check "recipient $TO starts empty" [ "$(balance "$TO")" = 0 ]

# --- sign, send, verify ----------------------------------------------------
# sign_tx NONCE: sets OUT (JSON) and ERRLOG; returns hsm_txsign's status.
sign_tx() {
	ERRLOG=$WORK/txsign.$1.err
	OUT=$(txsign --module "$SOFTHSM_MODULE" --token "$TOKEN_URI" \
		--key "$KEY_URI" --pin-file "$WORK/user.pin" \
		--chain-id "$CHAIN_ID" --nonce "$1" --to "$TO" \
		--value "$VALUE_WEI" --max-fee "$MAX_FEE" \
		--max-priority-fee "$PRIO_FEE" --gas "$GAS" \
		--verbose --high-s-variant 2>"$ERRLOG")
}

high=0
fees=0
for ((n = 0; n < NTX; n++)); do
	sign_tx "$n"
	rc=$?
	check "tx $n: hsm_txsign signs (exit $rc)" [ "$rc" -eq 0 ]
	if [ "$rc" -ne 0 ]; then cat "$ERRLOG" >&2; continue; fi
	raw=$(jq -r .raw <<<"$OUT")
	hash=$(jq -r .hash <<<"$OUT")
	from=$(jq -r .from <<<"$OUT")
	if grep -q 'hsm s was high' "$ERRLOG"; then
		high=$((high + 1))
		diag "tx $n: HSM returned high-S; normalized"
	fi
	check "tx $n: hsm_txsign's from equals signerctl's address" [ "$from" = "$ADDR" ]
	# The same signature as (n - s, flipped parity) is valid ECDSA but
	# not EIP-2: what is sent must be the low one of the two.
	hi=$(jq -r '.raw_high_s // empty' <<<"$OUT")
	if [[ $hi == 0x02* && $hi != "$raw" ]]; then
		read -r r_lo s_lo <<<"$(tx_rs "$raw" 2>>"$TAP_LOG")"
		read -r r_hi s_hi <<<"$(tx_rs "$hi" 2>>"$TAP_LOG")"
		check "tx $n: the signed tx has a low s (EIP-2)" low_s "${s_lo:-}"
		check "tx $n: its high-S twin has the same r and a high s" \
			high_twin "${r_lo:-}" "${r_hi:-}" "${s_hi:-}"
	else
		check "tx $n: hsm_txsign printed a high-S variant" false
	fi
	node_hash=$(rpc eth_sendRawTransaction "[\"$raw\"]" 2>>"$TAP_LOG")
	check "tx $n: node accepts it and reports hsm_txsign's hash" \
		[ "${node_hash,,}" = "${hash,,}" ]
	receipt=$(wait_receipt "$hash" 30 2>>"$TAP_LOG")
	check "tx $n: mined with status 0x1" \
		[ "$(jq -r .status <<<"${receipt:-null}" 2>/dev/null)" = 0x1 ]
	# Both the tx the node recovered and its receipt name the sender.
	nfrom=$(rpc eth_getTransactionByHash "[\"$hash\"]" | jq -r .from)
	rfrom=$(jq -r .from <<<"${receipt:-null}")
	check "tx $n: node recovers the sender as signerctl's address" \
		[ "${nfrom,,} ${rfrom,,}" = "${ADDR,,} ${ADDR,,}" ]
	if [ -n "$receipt" ]; then
		fees=$(node -e 'const [f, g, p] = process.argv.slice(1).map(BigInt);
			process.stdout.write((f + g * p).toString())' \
			"$fees" "$(jq -r .gasUsed <<<"$receipt")" \
			"$(jq -r .effectiveGasPrice <<<"$receipt")")
	fi
done
diag "$high of $NTX HSM signatures were high-S before normalization"

# --- a corrupted signature ------------------------------------------------
# The last byte of a signed type-2 tx is the last byte of s.
n=$NTX
sign_tx "$n"
check "tx $n: hsm_txsign signs" [ $? -eq 0 ]
raw=$(jq -r .raw <<<"$OUT")
hash=$(jq -r .hash <<<"$OUT")
last=$((16#${raw: -2}))
bad=${raw:0:${#raw}-2}$(printf '%02x' $((last ^ 0x01)))
check "corrupted copy differs from the original in its last byte only" \
	[ "${bad:0:${#bad}-2} ${bad: -2}" = "${raw:0:${#raw}-2} $(printf '%02x' $((last ^ 1)))" ]
bad_hash=$(rpc eth_sendRawTransaction "[\"$bad\"]" 2>>"$TAP_LOG")
if [ -z "$bad_hash" ]; then
	check "tx with one byte of s flipped is refused by the node" true
else
	# Accepted into the pool: then it must not be from the HSM key.
	bfrom=$(rpc eth_getTransactionByHash "[\"$bad_hash\"]" | jq -r .from)
	check "tx with one byte of s flipped recovers another sender ($bfrom)" \
		[ "${bfrom,,}" != "${ADDR,,}" ]
fi
node_hash=$(rpc eth_sendRawTransaction "[\"$raw\"]" 2>>"$TAP_LOG")
check "tx $n: the uncorrupted original is then accepted" \
	[ "${node_hash,,}" = "${hash,,}" ]
receipt=$(wait_receipt "$hash" 30 2>>"$TAP_LOG")
check "tx $n: mined with status 0x1" \
	[ "$(jq -r .status <<<"${receipt:-null}" 2>/dev/null)" = 0x1 ]
if [ -n "$receipt" ]; then
	fees=$(node -e 'const [f, g, p] = process.argv.slice(1).map(BigInt);
		process.stdout.write((f + g * p).toString())' \
		"$fees" "$(jq -r .gasUsed <<<"$receipt")" \
		"$(jq -r .effectiveGasPrice <<<"$receipt")")
fi

# --- totals ---------------------------------------------------------------
sent=$((NTX + 1))
check "recipient balance grew by exactly $sent x value" \
	[ "$(balance "$TO")" = "$(node -e 'process.stdout.write((BigInt(process.argv[1]) * BigInt(process.argv[2])).toString())' "$VALUE_WEI" "$sent")" ]
check "sender balance = funding - values - fees" \
	[ "$(balance "$ADDR")" = "$(node -e 'const [f, v, n, g] = process.argv.slice(1).map(BigInt);
		process.stdout.write((f - v * n - g).toString())' "$FUND_WEI" "$VALUE_WEI" "$sent" "$fees")" ]
check "sender nonce is $sent" \
	[ "$(rpc eth_getTransactionCount "[\"$ADDR\",\"latest\"]")" = "$(printf '0x%x' $sent)" ]

# --- refusals by the tool itself ------------------------------------------
make_pin "$WORK/wrong.pin" "not-the-pin"
fails "hsm_txsign refuses a wrong PIN" txsign --module "$SOFTHSM_MODULE" \
	--token "$TOKEN_URI" --key "$KEY_URI" --pin-file "$WORK/wrong.pin" \
	--chain-id "$CHAIN_ID" --nonce "$sent" --to "$TO" --value 1 \
	--max-fee "$MAX_FEE" --max-priority-fee "$PRIO_FEE" --gas "$GAS"
cp "$WORK/user.pin" "$WORK/open.pin"
chmod 0644 "$WORK/open.pin"
fails "hsm_txsign refuses a group/world-readable PIN file" txsign \
	--module "$SOFTHSM_MODULE" --token "$TOKEN_URI" --key "$KEY_URI" \
	--pin-file "$WORK/open.pin" --chain-id "$CHAIN_ID" --nonce "$sent" \
	--to "$TO" --value 1 --max-fee "$MAX_FEE" \
	--max-priority-fee "$PRIO_FEE" --gas "$GAS"
fails "hsm_txsign refuses a bad --to checksum" txsign \
	--module "$SOFTHSM_MODULE" --token "$TOKEN_URI" --key "$KEY_URI" \
	--pin-file "$WORK/user.pin" --chain-id "$CHAIN_ID" --nonce "$sent" \
	--to 0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed --value 1 \
	--max-fee "$MAX_FEE" --max-priority-fee "$PRIO_FEE" --gas "$GAS"

tap_done
