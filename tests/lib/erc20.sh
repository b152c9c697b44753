# erc20.sh: a minimal ERC-20 (tests/evmnode/Token.sol: "Test USD", TUSD, 6
# decimals) on the local EVM node of tests/lib/evmnode.sh (source it, then
# evmnode_start; needs node, jq, curl).
#   erc20_deploy [SUPPLY]      compile Token.sol with solc-js (cached in
#                              EVMNODE_DIR), deploy it from the first dev
#                              account, which holds all SUPPLY base units
#                              (decimal; default ERC20_SUPPLY, 10^27 > 2^64);
#                              wait for the receipt; export TOKEN_ADDR (EIP-55)
#                              TOKEN_DEPLOYER (EIP-55), TOKEN_DECIMALS (6)
#   erc20_mint_to ADDR AMOUNT  transfer AMOUNT base units (decimal) from the
#                              deployer to ADDR, wait until mined with status
#                              1; ERC20_LAST_TX is that transaction's hash
#   erc20_balance ADDR         print ADDR's token balance (decimal, base units)
#   erc20_transfer_data TO AMOUNT  print transfer(TO, AMOUNT) calldata (0x...)
#   evm_checksum ADDR          print ADDR in EIP-55 form (keccak from js-sha3)
# Every function acts on TOKEN_ADDR, so a second erc20_deploy replaces the
# token the others use.  Prints nothing else on success; errors on stderr.
. "$(dirname "${BASH_SOURCE[0]}")/evmnode.sh"

ERC20_SRC=$EVMNODE_ROOT/tests/evmnode/Token.sol
ERC20_COMPILE=$EVMNODE_ROOT/tests/evmnode/compile.js
ERC20_SUPPLY=${ERC20_SUPPLY:-1000000000000000000000000000}
ERC20_DEPLOY_GAS=${ERC20_DEPLOY_GAS:-3000000}
ERC20_TRANSFER_GAS=${ERC20_TRANSFER_GAS:-100000}
TOKEN_DECIMALS=6
ERC20_LAST_TX=""

_erc20_addr_ok() {
	[[ $1 =~ ^0x[0-9a-fA-F]{40}$ ]] ||
		{ echo "erc20: not an address: '$1'" >&2; return 1; }
}

# _erc20_word DEC: DEC as one 32-byte ABI word (64 hex digits, no 0x);
# refuses anything that is not a uint256.
_erc20_word() {
	node -e '
		const s = process.argv[1];
		if (!/^[0-9]+$/.test(s)) { console.error("erc20: not a decimal amount: \x27" + s + "\x27"); process.exit(1); }
		const v = BigInt(s);
		if (v >= 1n << 256n) { console.error("erc20: amount exceeds uint256: " + s); process.exit(1); }
		process.stdout.write(v.toString(16).padStart(64, "0"));' -- "$1"
}

evm_checksum() {
	_erc20_addr_ok "$1" || return 1
	node -e '
		const { keccak256 } = require(process.argv[1]);
		const a = process.argv[2].slice(2).toLowerCase(), h = keccak256(a);
		let out = "0x";
		for (let i = 0; i < 40; i++)
			out += parseInt(h[i], 16) >= 8 ? a[i].toUpperCase() : a[i];
		process.stdout.write(out);' \
		-- "$EVMNODE_ROOT/tests/evmnode/node_modules/js-sha3" "$1"
}

erc20_transfer_data() {
	local to amount
	_erc20_addr_ok "$1" || return 1
	amount=$(_erc20_word "$2") || return 1
	to=${1#0x}
	printf '0xa9059cbb%024d%s%s\n' 0 "${to,,}" "$amount"
}

# The artifact ({abi, bytecode}) is compiled once per EVM node directory.
_erc20_artifact() {
	ERC20_ARTIFACT=$EVMNODE_DIR/Token.json
	[ -s "$ERC20_ARTIFACT" ] && return 0
	if ! timeout 120 node "$ERC20_COMPILE" "$ERC20_SRC" Token \
		>"$ERC20_ARTIFACT.tmp"; then
		echo "erc20: compiling $ERC20_SRC failed" >&2
		rm -f "$ERC20_ARTIFACT.tmp"
		return 1
	fi
	mv "$ERC20_ARTIFACT.tmp" "$ERC20_ARTIFACT"
}

# _erc20_send FROM TO DATA GAS: eth_sendTransaction, wait for the receipt,
# print it; fails unless status is 1.
_erc20_send() {
	local params hash receipt
	if [ -n "$2" ]; then
		params=$(jq -cn --arg f "$1" --arg t "$2" --arg d "$3" --arg g "$(printf '0x%x' "$4")" \
			'[{from: $f, to: $t, data: $d, gas: $g}]')
	else
		params=$(jq -cn --arg f "$1" --arg d "$3" --arg g "$(printf '0x%x' "$4")" \
			'[{from: $f, data: $d, gas: $g}]')
	fi
	hash=$(rpc eth_sendTransaction "$params") || return 1
	ERC20_LAST_TX=$hash
	receipt=$(wait_receipt "$hash" 30) || return 1
	if [ "$(jq -r .status <<<"$receipt")" != 0x1 ]; then
		echo "erc20: transaction $hash failed (status $(jq -r .status <<<"$receipt"))" >&2
		return 1
	fi
	printf '%s\n' "$receipt"
}

erc20_deploy() {
	local supply=${1:-$ERC20_SUPPLY} word from bytecode receipt addr code
	if [ -z "${EVM_RPC:-}" ] || [ -z "$EVMNODE_DIR" ]; then
		echo "erc20: start the EVM node first (evmnode_start)" >&2
		return 1
	fi
	word=$(_erc20_word "$supply") || return 1
	_erc20_artifact || return 1
	bytecode=$(jq -er .bytecode "$ERC20_ARTIFACT") || return 1
	from=$(rpc eth_accounts '[]' | jq -er '.[0]') || return 1
	receipt=$(_erc20_send "$from" "" "$bytecode$word" "$ERC20_DEPLOY_GAS") ||
		{ echo "erc20: deploying Token failed" >&2; return 1; }
	addr=$(jq -er .contractAddress <<<"$receipt") || return 1
	code=$(rpc eth_getCode "$(jq -cn --arg a "$addr" '[$a, "latest"]')") || return 1
	if [ "${#code}" -le 2 ]; then
		echo "erc20: no code at $addr after deployment" >&2
		return 1
	fi
	TOKEN_ADDR=$(evm_checksum "$addr") || return 1
	TOKEN_DEPLOYER=$(evm_checksum "$from") || return 1
	export TOKEN_ADDR TOKEN_DEPLOYER TOKEN_DECIMALS
}

erc20_mint_to() {
	local data
	[ -n "${TOKEN_ADDR:-}" ] || { echo "erc20: no token (erc20_deploy)" >&2; return 1; }
	data=$(erc20_transfer_data "$1" "$2") || return 1
	_erc20_send "$TOKEN_DEPLOYER" "$TOKEN_ADDR" "$data" "$ERC20_TRANSFER_GAS" >/dev/null
}

erc20_balance() {
	local a out
	[ -n "${TOKEN_ADDR:-}" ] || { echo "erc20: no token (erc20_deploy)" >&2; return 1; }
	_erc20_addr_ok "$1" || return 1
	a=${1#0x}
	out=$(rpc eth_call "$(jq -cn --arg t "$TOKEN_ADDR" \
		--arg d "$(printf '0x70a08231%024d%s' 0 "${a,,}")" \
		'[{to: $t, data: $d}, "latest"]')") || return 1
	if ! [[ $out =~ ^0x[0-9a-fA-F]{64}$ ]]; then
		echo "erc20: balanceOf returned '$out'" >&2
		return 1
	fi
	evm_dec "$out"
	echo
}
