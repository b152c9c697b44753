# evmnode.sh: a throwaway local EVM node (Foundry's anvil from tests/evmnode)
# on 127.0.0.1, plus JSON-RPC helpers (source it; needs curl, jq, node).
#   evmnode_start            start anvil on a free port, chain id 1337,
#                            anvil's dev accounts (eth_accounts: its default
#                            mnemonic, 10000 ETH each); wait until it
#                            answers; export EVM_RPC; stop it on exit
#   evmnode_stop             stop that one process (by pid), idempotent
#   evmnode_restart          stop it and start it again on the same port with
#                            the same chain (blocks, receipts, balances, nonces;
#                            not the pending pool): EVM_RPC does not change
#   evmnode_mine [N]         mine N (default 1) blocks at once (anvil_mine)
#   evmnode_automine on|off  pause or resume mining (evm_setAutomine; anvil
#                            has no miner_stop/miner_start)
#   rpc METHOD [PARAMS]      print .result (strings raw, the rest as JSON);
#                            non-zero and the error on stderr if it failed
#   fund ADDR WEI            send WEI (decimal) from the first dev account
#   balance ADDR             print ADDR's balance in wei (decimal)
#   wait_receipt HASH [S]    print the receipt once mined, at most S seconds
#   evm_hex DEC, evm_dec HEX arbitrary-size number conversions
# Mining, set before evmnode_start:
#   (default)                automine: one block per transaction.  anvil
#                            answers eth_sendRawTransaction once the
#                            transaction is pooled and mines it right after,
#                            so a client must not count on a receipt being
#                            there at once (EVMNODE_INSTAMINE=strict, the
#                            older name, means this too).  A nonce gap waits
#                            in the queue, mined when the gap is filled.
#   EVMNODE_BLOCKTIME=N      --block-time N: a block every N seconds with
#                            whatever is pending, like a real chain.
#   EVMNODE_INSTAMINE=off    --no-mining: blocks only on evmnode_mine.
# Finality: anvil's "safe" block is latest - EVMNODE_SLOTS and "finalized"
# latest - 2 x EVMNODE_SLOTS (--slots-in-an-epoch; default 32 as anvil's,
# so 32 and 64 blocks behind).  Tests that count confirmations by depth do
# not read those tags; a test of the "finalized" path sets EVMNODE_SLOTS.
# The chain is kept in EVMNODE_DB/state.json (anvil --state: loaded at start
# if present, written when anvil exits on SIGTERM) so that evmnode_restart
# keeps it.  By default EVMNODE_DB is $EVMNODE_DIR/chain, emptied by each
# evmnode_start (a fresh chain, as before) and removed on exit with the rest
# of EVMNODE_DIR.  Set EVMNODE_DB before sourcing or before evmnode_start to
# use your own directory: it is created if missing, an existing chain in it
# is continued, and it is never removed.
# EVMNODE_NOTES.md next to this file: how anvil 1.7.1 answers the calls the
# orchestrator relies on (and where it differs from a mainnet node).
. "$(dirname "${BASH_SOURCE[0]}")/onexit.sh"

EVMNODE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EVMNODE_BIN=${EVMNODE_BIN:-$EVMNODE_ROOT/tests/evmnode/node_modules/.bin/anvil}
EVMNODE_CHAIN_ID=1337
EVMNODE_SLOTS=${EVMNODE_SLOTS:-32}
EVMNODE_START_TIMEOUT=${EVMNODE_START_TIMEOUT:-30}
EVMNODE_PID=""
EVMNODE_PORT=""
EVMNODE_DIR=""
EVMNODE_LOG=""
EVMNODE_DB=${EVMNODE_DB:-}
_EVMNODE_DB_OWN=""
EVMNODE_RESTART_TIMEOUT=${EVMNODE_RESTART_TIMEOUT:-15}
# anvil writes the whole chain to EVMNODE_DB on SIGTERM: a long chain takes
# a while, and a node killed before it is done loses it.
EVMNODE_STOP_TIMEOUT=${EVMNODE_STOP_TIMEOUT:-60}
_EVMNODE_CLEANUP=""

# Alive and not a zombie: the node is our child, so after it dies it stays
# in the process table until reaped and `kill -0` alone would still succeed.
_evmnode_alive() {
	local st
	[ -n "$1" ] && read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# Something already accepts connections there (a bash /dev/tcp connect).
_evmnode_port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

evmnode_stop() {
	local pid=$EVMNODE_PID i
	[ -n "$pid" ] || return 0
	EVMNODE_PID=""
	kill -TERM "$pid" 2>/dev/null
	# anvil dumps its state and exits on TERM; give it time, then make sure.
	for ((i = 0; i < EVMNODE_STOP_TIMEOUT * 10; i++)); do
		_evmnode_alive "$pid" || break
		sleep 0.1
	done
	if _evmnode_alive "$pid"; then
		echo "evmnode: pid $pid ignored SIGTERM; sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# _evmnode_mining: anvil's mining flags for EVMNODE_BLOCKTIME and
# EVMNODE_INSTAMINE (see the top of this file), on stdout.
_evmnode_mining() {
	case ${EVMNODE_INSTAMINE:-strict} in
	strict) ;;
	off) echo --no-mining; return 0 ;;
	*)
		echo "evmnode: EVMNODE_INSTAMINE=$EVMNODE_INSTAMINE: anvil has" \
			"automine (strict) or none (off)" >&2
		return 1 ;;
	esac
	if [ -n "${EVMNODE_BLOCKTIME:-}" ] && [ "$EVMNODE_BLOCKTIME" != 0 ]; then
		echo --block-time "$EVMNODE_BLOCKTIME"
	fi
}

# _evmnode_launch PORT: start anvil on PORT with the chain in EVMNODE_DB and
# wait until it answers with our chain id.  0: running; 2: PORT was taken
# (address in use), nothing left running; 1: any other failure, said on
# stderr.
_evmnode_launch() {
	local port=$1 deadline got want mining
	want=$(printf '0x%x' "$EVMNODE_CHAIN_ID")
	mining=$(_evmnode_mining) || return 1
	# shellcheck disable=SC2086 # $mining: zero to two words
	"$EVMNODE_BIN" --host 127.0.0.1 --port "$port" \
		--chain-id "$EVMNODE_CHAIN_ID" --quiet $mining \
		--slots-in-an-epoch "$EVMNODE_SLOTS" \
		--state "$EVMNODE_DB/state.json" \
		</dev/null >"$EVMNODE_LOG" 2>&1 &
	EVMNODE_PID=$!
	EVMNODE_PORT=$port
	export EVM_RPC="http://127.0.0.1:$port"
	deadline=$((SECONDS + EVMNODE_START_TIMEOUT))
	while _evmnode_alive "$EVMNODE_PID"; do
		got=$(RPC_TIMEOUT=2 rpc eth_chainId '[]' 2>/dev/null) || got=""
		if [ "$got" = "$want" ] && _evmnode_alive "$EVMNODE_PID"; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "evmnode: no answer on $EVM_RPC within" \
				"${EVMNODE_START_TIMEOUT}s" >&2
			tail -5 "$EVMNODE_LOG" >&2
			evmnode_stop
			return 1
		fi
		sleep 0.2
	done
	wait "$EVMNODE_PID" 2>/dev/null
	EVMNODE_PID=""
	grep -q 'Address already in use' "$EVMNODE_LOG" && return 2
	echo "evmnode: anvil exited during start:" >&2
	tail -5 "$EVMNODE_LOG" >&2
	return 1
}

_evmnode_check() {
	local tool
	if [ ! -x "$EVMNODE_BIN" ]; then
		echo "evmnode: $EVMNODE_BIN not found; run scripts/deps" >&2
		return 1
	fi
	for tool in curl jq node; do
		command -v "$tool" >/dev/null ||
			{ echo "evmnode: $tool not found; run scripts/deps" >&2; return 1; }
	done
	if [ -n "$EVMNODE_PID" ]; then
		echo "evmnode: already running (pid $EVMNODE_PID)" >&2
		return 1
	fi
}

evmnode_start() {
	local attempt port rc
	_evmnode_check || return 1
	if [ -z "$_EVMNODE_CLEANUP" ]; then
		EVMNODE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/signer-evmnode.XXXXXX") || return 1
		EVMNODE_LOG=$EVMNODE_DIR/anvil.log
		# Registered in this order so the node stops before its dir goes.
		on_exit "rm -rf $(printf '%q' "$EVMNODE_DIR")"
		on_exit evmnode_stop
		_EVMNODE_CLEANUP=1
	fi
	if [ -z "$EVMNODE_DB" ] || [ -n "$_EVMNODE_DB_OWN" ]; then
		EVMNODE_DB=$EVMNODE_DIR/chain
		_EVMNODE_DB_OWN=1
		rm -rf "$EVMNODE_DB"
	fi
	mkdir -p "$EVMNODE_DB" || return 1
	# A random port, checked, and retried if anvil still cannot bind
	# (someone took it in between).
	for attempt in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 40000))
		_evmnode_port_busy "$port" && continue
		_evmnode_launch "$port"
		rc=$?
		[ "$rc" -eq 2 ] || return "$rc"
	done
	echo "evmnode: no free port found" >&2
	return 1
}

# Same port, same chain database: clients keep their EVM_RPC.  The pending
# pool (e.g. a transaction waiting behind a nonce gap) is not kept.  Retries
# for EVMNODE_RESTART_TIMEOUT seconds if the port is briefly unavailable.
evmnode_restart() {
	local port=$EVMNODE_PORT deadline rc
	if [ -z "$_EVMNODE_CLEANUP" ] || [ -z "$port" ]; then
		echo "evmnode: evmnode_restart before evmnode_start" >&2
		return 1
	fi
	evmnode_stop
	_evmnode_check || return 1
	deadline=$((SECONDS + EVMNODE_RESTART_TIMEOUT))
	while :; do
		if ! _evmnode_port_busy "$port"; then
			_evmnode_launch "$port"
			rc=$?
			[ "$rc" -eq 2 ] || return "$rc"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "evmnode: port $port still in use after" \
				"${EVMNODE_RESTART_TIMEOUT}s; cannot restart" >&2
			return 1
		fi
		sleep 0.2
	done
}

rpc() {
	local method=$1 params=${2:-[]} body out
	body=$(jq -cn --arg m "$method" --argjson p "$params" \
		'{jsonrpc: "2.0", id: 1, method: $m, params: $p}') || return 2
	out=$(curl -sS --noproxy '*' --max-time "${RPC_TIMEOUT:-10}" \
		-H 'Content-Type: application/json' --data-binary "$body" \
		"$EVM_RPC") || return 1
	if ! jq -e 'type == "object" and has("result")' >/dev/null 2>&1 <<<"$out"; then
		printf 'rpc %s: %s\n' "$method" \
			"$(jq -c '.error' 2>/dev/null <<<"$out" || printf '%s' "$out")" >&2
		return 1
	fi
	jq -r '.result | if type == "string" then . else tojson end' <<<"$out"
}

evmnode_mine() {
	rpc anvil_mine "[\"$(printf '0x%x' "${1:-1}")\"]" >/dev/null
}

evmnode_automine() {
	case $1 in
	on) rpc evm_setAutomine '[true]' >/dev/null ;;
	off) rpc evm_setAutomine '[false]' >/dev/null ;;
	*) echo "evmnode_automine: on or off, not $1" >&2; return 2 ;;
	esac
}

# Wei amounts exceed 64 bits (10 ETH > 2^63 wei), past bash arithmetic.
evm_hex() {
	node -e 'process.stdout.write("0x" + BigInt(process.argv[1]).toString(16))' "$1"
}
evm_dec() {
	node -e 'process.stdout.write(BigInt(process.argv[1]).toString())' "$1"
}

balance() {
	local b
	b=$(rpc eth_getBalance "$(jq -cn --arg a "$1" '[$a, "latest"]')") &&
		evm_dec "$b"
}

wait_receipt() {
	local hash=$1 deadline=$((SECONDS + ${2:-30})) out
	while :; do
		out=$(rpc eth_getTransactionReceipt "$(jq -cn --arg h "$hash" '[$h]')") ||
			return 1
		if [ "$out" != null ]; then
			printf '%s\n' "$out"
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_receipt $hash: not mined within ${2:-30}s" >&2
			return 1
		fi
		sleep 0.2
	done
}

fund() {
	local from value hash receipt
	from=$(rpc eth_accounts '[]' | jq -r '.[0]') || return 1
	value=$(evm_hex "$2") || return 1
	hash=$(rpc eth_sendTransaction "$(jq -cn --arg f "$from" --arg t "$1" \
		--arg v "$value" '[{from: $f, to: $t, value: $v}]')") || return 1
	receipt=$(wait_receipt "$hash" 30) || return 1
	[ "$(jq -r .status <<<"$receipt")" = 0x1 ]
}
