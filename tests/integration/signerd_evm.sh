#!/usr/bin/env bash
# signerd_evm.sh: transactions signed by a real signerd (through the HSM,
# normalised to low-S, recovery-checked) are accepted by a local EVM node,
# which recovers the sender signerd reported.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
source tests/lib/evmnode.sh
export TAP_LOG=/dev/stderr

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "the EVM node starts" evmnode_start
ok "signerd starts" signerd_start
ok "the payout key is funded" fund "$PAYOUT_ADDR" 1000000000000000000
before=$(balance "$RECIPIENT")

# Six payouts with successive nonces: about half of the raw HSM signatures
# are high-S, so some of these went through normalisation.
for nonce in 0 1 2 3 4 5; do
	tx=$("$SDCLIENT" mktx --chain-id 1337 --nonce $nonce --to "$RECIPIENT" \
		--value 1000 --max-fee 2000000000 --prio-fee 1000000000)
	jq -n --arg tx "$tx" --arg to "$RECIPIENT" --arg id "evm-$nonce" \
		'{request_id:$id, asset:"ETH", chain_id:1337, to:$to,
		  amount:"1000", tx:$tx}' >"$WORK/req$nonce.json"
	"$SIGNERCTL" sign --socket "ipc://$SD_SOCK" --request "$WORK/req$nonce.json" \
		>"$WORK/rep$nonce.json"
	check "nonce $nonce: signerd signs" [ "$(jq -r .reason "$WORK/rep$nonce.json")" = OK ]
	raw=$(jq -r .raw "$WORK/rep$nonce.json")
	hash=$(rpc eth_sendRawTransaction "[\"$raw\"]")
	check "nonce $nonce: the node accepts it with signerd's hash" \
		[ "$hash" = "$(jq -r .tx_hash "$WORK/rep$nonce.json")" ]
	receipt=$(wait_receipt "$hash" 30)
	check "nonce $nonce: mined with status 1" [ "$(jq -r .status <<<"$receipt")" = 0x1 ]
	from=$(jq -r .from <<<"$receipt")
	check "nonce $nonce: the node recovers the HSM key's address" \
		[ "${from,,}" = "${PAYOUT_ADDR,,}" ]
done
check "the recipient received exactly 6000 wei" \
	[ "$(balance "$RECIPIENT")" = "$(node -e "console.log((BigInt('$before') + 6000n).toString())")" ]
ok "signerd stops" signerd_stop
tap_done
