#!/usr/bin/env bash
# testlibs.sh: the test libraries later suites and the demo build on work as
# documented: tests/lib/pg.sh (a throwaway PostgreSQL cluster that survives
# restarts and kill -9), tests/lib/erc20.sh (a token on the local EVM node)
# and evmnode_restart (the chain survives a node restart); and each cleans
# up after itself when its script is killed.
#   BUILD=build bash tests/integration/testlibs.sh      (TAP on stdout)
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/pg.sh
source tests/lib/erc20.sh
export TAP_LOG=/dev/stderr

not() { ! "$@"; }
# A process that exists and is not a zombie (orphans may stay zombies where
# pid 1 does not reap).
running() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
pg_fails() { ! pgsql "$@" >/dev/null 2>&1; }

# --- pg.sh ----------------------------------------------------------------
ok "PostgreSQL starts" pg_start
env_ok() {
	[ "$PGHOST" = "$PG_DIR" ] && [ -S "$PGHOST/.s.PGSQL.$PGPORT" ] &&
		[ "$PG_CONNINFO" = "host=$PGHOST port=$PGPORT dbname=payouts user=orchestrator" ] &&
		[ "$(stat -c %a "$PGHOST")" = 755 ]
}
ok "PGHOST is the socket directory (0755), PG_CONNINFO names it" env_ok
check "it does not listen on TCP" [ "$(pgsql "SHOW listen_addresses")" = "" ]
check "fsync is on" [ "$(pgsql "SHOW fsync")" = on ]
check "connected as orchestrator to payouts" \
	[ "$(pgsql "SELECT current_user || '/' || current_database()")" = orchestrator/payouts ]
check "orchestrator owns payouts" \
	[ "$(pgsql "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'payouts'")" = orchestrator ]
ok "orchestrator creates a table and writes to it" pgsql \
	"CREATE TABLE payout (id text PRIMARY KEY, amount numeric(78,0) NOT NULL)" \
	"INSERT INTO payout VALUES ('p1', 1000000000000000000000000), ('p2', 5)"
check "pgsql prints rows, '|' between fields" \
	[ "$(pgsql "SELECT id, amount FROM payout ORDER BY id")" = $'p1|1000000000000000000000000\np2|5' ]
check "pgsql reads SQL from stdin" [ "$(pgsql <<<"SELECT count(*) FROM payout")" = 2 ]
ok "a SQL error fails pgsql" pg_fails "SELECT no_such_column FROM payout"
ok "an unprivileged user connects through the socket" \
	runuser -u nobody -- sh -c 'cd / && psql -X -At -d "$1" -c "SELECT 1"' sh "$PG_CONNINFO"

sock="$PGHOST/.s.PGSQL.$PGPORT"
old_pid=$PG_PID
ok "PostgreSQL restarts" pg_restart
same_socket() {
	[ -S "$sock" ] && [ "$PGHOST/.s.PGSQL.$PGPORT" = "$sock" ] && [ "$PG_PID" != "$old_pid" ]
}
ok "same socket, a new postmaster" same_socket
check "the rows survive the restart" [ "$(pgsql "SELECT count(*) FROM payout")" = 2 ]
ok "a committed row" pgsql "INSERT INTO payout VALUES ('p3', 7)"
ok "kill -9 of the server" pg_kill9
check "no postmaster is left" not running "${old_pid:-0}"
ok "pgsql fails while it is down" pg_fails "SELECT 1"
ok "it starts again after the crash (recovery)" pg_start
check "the committed row survives kill -9" \
	[ "$(pgsql "SELECT amount FROM payout WHERE id = 'p3'")" = 7 ]
pid=$PG_PID
ok "PostgreSQL stops" pg_stop
check "its postmaster is gone" not running "$pid"
ok "pg_stop again is a no-op" pg_stop
ok "pgsql fails once it is stopped" pg_fails "SELECT 1"

# --- erc20.sh ----------------------------------------------------------------
ok "the EVM node starts" evmnode_start
ok "the token is compiled and deployed" erc20_deploy
eip55_ok() {
	[[ $TOKEN_ADDR =~ ^0x[0-9a-fA-F]{40}$ ]] && [ "$TOKEN_ADDR" != "${TOKEN_ADDR,,}" ] &&
		[ "$(evm_checksum "${TOKEN_ADDR,,}")" = "$TOKEN_ADDR" ]
}
ok "TOKEN_ADDR is EIP-55" eip55_ok
check "evm_checksum gives the EIP-55 test vector" \
	[ "$(evm_checksum 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed)" = 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed ]
check "decimals() is 6" \
	[ "$(evm_dec "$(rpc eth_call "[{\"to\":\"$TOKEN_ADDR\",\"data\":\"0x313ce567\"},\"latest\"]")")" = 6 ]
check "the deployer holds the whole supply" [ "$(erc20_balance "$TOKEN_DEPLOYER")" = "$ERC20_SUPPLY" ]
RCPT=0x00000000000000000000000000000000000000Ee
BIG=1180591620717411303424		# 2^70 base units: past 64 bits
ok "erc20_mint_to sends 2^70 base units" erc20_mint_to "$RCPT" "$BIG"
mint_tx=$ERC20_LAST_TX
check "erc20_balance reads them back" [ "$(erc20_balance "$RCPT")" = "$BIG" ]
left=$(node -e 'process.stdout.write((BigInt(process.argv[1]) - BigInt(process.argv[2])).toString())' "$ERC20_SUPPLY" "$BIG")
check "the deployer's balance went down by as much" [ "$(erc20_balance "$TOKEN_DEPLOYER")" = "$left" ]
poor=$(rpc eth_accounts | jq -r '.[1]')
out=$(rpc eth_call "[{\"from\":\"$poor\",\"to\":\"$TOKEN_ADDR\",\"data\":\"$(erc20_transfer_data "$RCPT" 1)\"},\"latest\"]" 2>&1)
check "transfer beyond the balance reverts with its message" \
	grep -q 'transfer amount exceeds balance' <<<"$out"
ok "erc20_mint_to refuses a non-address" not erc20_mint_to 0x1234 1
ok "erc20_mint_to refuses a negative amount" not erc20_mint_to "$RCPT" -1

# --- evmnode_restart ---------------------------------------------------------
block=$(rpc eth_blockNumber)
rpc_before=$EVM_RPC
ok "the EVM node restarts" evmnode_restart
check "on the same endpoint" [ "$EVM_RPC" = "$rpc_before" ]
check "the block number survives the restart" [ "$(rpc eth_blockNumber)" = "$block" ]
check "an earlier receipt survives the restart" \
	[ "$(wait_receipt "$mint_tx" 5 | jq -r .status)" = 0x1 ]
check "token balances survive the restart" [ "$(erc20_balance "$RCPT")" = "$BIG" ]
ok "new transactions are mined after the restart" erc20_mint_to "$RCPT" 1
check "and counted" [ "$(erc20_balance "$RCPT")" = 1180591620717411303425 ]
ok "a second restart" evmnode_restart
check "still the same chain" [ "$(erc20_balance "$RCPT")" = 1180591620717411303425 ]

# --- cleanup when a script using them is killed --------------------------------
# A separate bash (its own EXIT trap) starts both, reports, and waits to be
# killed; its cleanups must stop both servers and remove both directories.
info=$(mktemp "${TMPDIR:-/tmp}/signer-testlibs.XXXXXX")
on_exit "rm -f $(printf '%q' "$info")"
bash -c '
	. tests/lib/pg.sh; . tests/lib/evmnode.sh
	pg_start && evmnode_start || exit 1
	echo "$PG_DIR $PG_PID $EVMNODE_DIR $EVMNODE_PID" >"$1.tmp"
	mv "$1.tmp" "$1"
	sleep 120 & s=$!
	on_exit "kill $s 2>/dev/null"
	wait $s' sh "$info" >&2 &
child=$!
for ((i = 0; i < 300; i++)); do
	[ -s "$info" ] && break
	running "$child" || break
	sleep 0.1
done
c_pgdir="" c_pgpid="" c_evmdir="" c_evmpid=""
read -r c_pgdir c_pgpid c_evmdir c_evmpid <"$info"
child_up() {
	[ -d "${c_pgdir:-/nonexistent}" ] && [ -d "${c_evmdir:-/nonexistent}" ] &&
		running "${c_pgpid:-0}" && running "${c_evmpid:-0}"
}
ok "a child script started PostgreSQL and the EVM node" child_up
kill -TERM "$child" 2>/dev/null
for ((i = 0; i < 600; i++)); do
	running "$child" || break
	sleep 0.1
done
wait "$child" 2>/dev/null
check "SIGTERM to it stops its postmaster" not running "${c_pgpid:-0}"
check "and its EVM node" not running "${c_evmpid:-0}"
dirs_gone() {
	[ -n "${c_pgdir:-}" ] && [ ! -e "$c_pgdir" ] && [ -n "${c_evmdir:-}" ] && [ ! -e "$c_evmdir" ]
}
ok "and removes both directories" dirs_gone
tap_done
