# pg.sh: a throwaway PostgreSQL cluster reachable only through a unix socket
# in a temporary directory (source it; run as root: the server runs as the
# `postgres` OS user, since initdb and postgres refuse root).
#   pg_start     first call: initdb into a fresh temp dir, start the server,
#                create role `orchestrator` (LOGIN) and database `payouts`
#                owned by it; later calls (after pg_stop/pg_kill9) start the
#                same cluster again.  Exports PGHOST (the socket directory),
#                PGPORT and PG_CONNINFO; stops the server and removes the
#                directory on exit, Ctrl-C or failure (tests/lib/onexit.sh).
#   pg_stop      pg_ctl stop -m fast (then immediate, then SIGKILL by pid if
#                it hangs); idempotent
#   pg_restart   pg_stop then pg_start: the same data, socket and port
#   pg_kill9     SIGKILL the postmaster and its children by pid (a crash: the
#                next pg_start runs crash recovery)
#   pgsql SQL... run each argument (or stdin if none) with psql -X -q -At
#                -v ON_ERROR_STOP=1 as orchestrator on payouts; prints rows,
#                fields separated by '|'
# Variables: PG_DIR (the temp dir, mode 0755, owned by postgres; also the
# socket directory), PG_DATA ($PG_DIR/data), PG_LOG (the server log),
# PG_BINDIR, PG_PORT (= PGPORT), PG_PID (the postmaster while running).
# PG_EXTRA_CONF, set before pg_start, is appended to postgresql.conf (e.g.
# shared_preload_libraries for the bench's statement counts).
# No TCP at all (listen_addresses = ''), trust authentication on the socket
# only, fsync on.  Nothing is printed on success; a failure says why on
# stderr with the end of the server log.
. "$(dirname "${BASH_SOURCE[0]}")/onexit.sh"

PG_START_TIMEOUT=${PG_START_TIMEOUT:-60}
PG_STOP_TIMEOUT=${PG_STOP_TIMEOUT:-30}
PG_SQL_TIMEOUT=${PG_SQL_TIMEOUT:-60}
PG_OS_USER=${PG_OS_USER:-postgres}
PG_DIR=""
PG_DATA=""
PG_LOG=""
PG_PORT=""
PG_PID=""
PG_BINDIR=${PG_BINDIR:-}
_PG_RUNNING=""

# The newest installed server (Debian keeps each major version in
# /usr/lib/postgresql/N/bin), else whatever pg_config names.
_pg_find_bindir() {
	local d best=""
	[ -n "$PG_BINDIR" ] && [ -x "$PG_BINDIR/initdb" ] && return 0
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
	done
	if [ -z "$best" ] && command -v pg_config >/dev/null; then
		d=$(pg_config --bindir 2>/dev/null)
		[ -x "$d/initdb" ] && best=$d
	fi
	if [ -z "$best" ]; then
		echo "pg: no PostgreSQL server binaries (initdb) found; run scripts/deps" >&2
		return 1
	fi
	PG_BINDIR=$best
}

# As the postgres user, from a directory it can enter (root's cwd may be
# closed to it); bounded, with room for pg_ctl's own -t to expire first.
_pg_as() {
	(cd "$PG_DIR" && timeout $((PG_START_TIMEOUT + PG_STOP_TIMEOUT + 15)) \
		runuser -u "$PG_OS_USER" -- "$@")
}

_pg_fail() {
	echo "pg: $*" >&2
	if [ -n "$PG_LOG" ] && [ -s "$PG_LOG" ]; then
		echo "pg: last lines of $PG_LOG:" >&2
		tail -n 15 "$PG_LOG" >&2
	fi
	return 1
}

# A live, non-zombie process.
_pg_alive() {
	local st
	[ -n "$1" ] && read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# The postmaster's pid from postmaster.pid, if that process is alive.
_pg_postmaster_pid() {
	local pid
	[ -r "$PG_DATA/postmaster.pid" ] || return 1
	read -r pid <"$PG_DATA/postmaster.pid" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && _pg_alive "$pid" || return 1
	printf '%s\n' "$pid"
}

# Direct children of PID (the server's backends and auxiliary processes).
_pg_children() {
	local f st
	for f in /proc/[0-9]*/stat; do
		read -r st 2>/dev/null <"$f" || continue
		st=${st##*) }
		set -- $st
		[ "$2" = "$PG_CHILDREN_OF" ] && { f=${f#/proc/}; printf '%s\n' "${f%/stat}"; }
	done
}

_pg_init() {
	_pg_find_bindir || return 1
	command -v runuser >/dev/null || { echo "pg: runuser not found" >&2; return 1; }
	id -u "$PG_OS_USER" >/dev/null 2>&1 ||
		{ echo "pg: no OS user $PG_OS_USER; run scripts/deps (package postgresql)" >&2; return 1; }
	if [ "$(id -u)" -ne 0 ]; then
		echo "pg: must run as root (it runs the server as $PG_OS_USER)" >&2
		return 1
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/signer-pg.XXXXXX") || return 1
	# Stopped before the directory goes (on_exit runs last-registered first).
	on_exit "rm -rf $(printf '%q' "$PG_DIR")"
	on_exit pg_stop
	PG_DATA=$PG_DIR/data
	PG_LOG=$PG_DIR/postgres.log
	# The socket lives here: other users (an unprivileged daemon) must be
	# able to reach it, while only postgres writes here.
	chown "$PG_OS_USER:" "$PG_DIR" && chmod 0755 "$PG_DIR" || return 1
	if ! runuser -u "$PG_OS_USER" -- test -w "$PG_DIR"; then
		echo "pg: $PG_OS_USER cannot reach $PG_DIR (a parent directory" \
			"is closed to it); set TMPDIR to a directory like /tmp" >&2
		return 1
	fi
	# Only in the socket's name (no TCP), so any number will do.
	PG_PORT=$((20000 + RANDOM % 40000))
	if ! _pg_as "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres \
		--auth-local=trust --auth-host=reject -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$PG_DIR/initdb.log" 2>&1; then
		tail -n 15 "$PG_DIR/initdb.log" >&2
		echo "pg: initdb failed" >&2
		return 1
	fi
	# Trust on the unix socket only: nothing listens on TCP.
	printf 'local all all trust\n' >"$PG_DATA/pg_hba.conf"
	cat >>"$PG_DATA/postgresql.conf" <<CONF

# tests/lib/pg.sh
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
unix_socket_permissions = 0777
fsync = on
synchronous_commit = on
logging_collector = off
log_min_messages = warning
${PG_EXTRA_CONF:-}
CONF
	_pg_server_start || return 1
	if ! timeout "$PG_SQL_TIMEOUT" "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
		-c "CREATE ROLE orchestrator LOGIN" \
		-c "CREATE DATABASE payouts OWNER orchestrator" >/dev/null; then
		_pg_fail "creating role orchestrator and database payouts failed"
		return 1
	fi
}

# Lock files left by a server that died without cleaning up (pg_kill9) whose
# pid is gone or a zombie.  postgres itself ignores a stale lock only when
# kill(pid, 0) fails, which it does not for a zombie: where pid 1 does not
# reap orphans (some containers), the killed postmaster stays one.
_pg_clear_stale_locks() {
	local f pid
	for f in "$PG_DATA/postmaster.pid" "$PG_DIR/.s.PGSQL.$PG_PORT.lock"; do
		[ -e "$f" ] || continue
		read -r pid <"$f" 2>/dev/null || pid=""
		[[ $pid =~ ^[0-9]+$ ]] && _pg_alive "$pid" && continue
		rm -f "$f"
	done
}

_pg_server_start() {
	_pg_clear_stale_locks
	if ! _pg_as "$PG_BINDIR/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w \
		-t "$PG_START_TIMEOUT" -s >/dev/null 2>"$PG_DIR/pg_ctl.err"; then
		cat "$PG_DIR/pg_ctl.err" >&2
		_pg_fail "the server did not start within ${PG_START_TIMEOUT}s"
		pg_stop
		return 1
	fi
	PG_PID=$(_pg_postmaster_pid) ||
		{ _pg_fail "the server started but postmaster.pid names no live process"; return 1; }
	_PG_RUNNING=1
	export PGHOST=$PG_DIR PGPORT=$PG_PORT
	export PG_CONNINFO="host=$PGHOST port=$PGPORT dbname=payouts user=orchestrator"
}

pg_start() {
	if [ -n "$_PG_RUNNING" ]; then
		echo "pg: already running (pid $PG_PID)" >&2
		return 1
	fi
	if [ -z "$PG_DIR" ]; then
		_pg_init
	else
		_pg_server_start
	fi
}

# Waits for every process in "$@" to be gone, at most $PG_STOP_TIMEOUT s.
_pg_wait_gone() {
	local deadline=$((SECONDS + PG_STOP_TIMEOUT)) p left
	while :; do
		left=0
		for p in "$@"; do _pg_alive "$p" && left=1; done
		[ "$left" -eq 0 ] && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

pg_kill9() {
	local pid kids
	[ -n "$PG_DATA" ] || return 0
	pid=$(_pg_postmaster_pid) || { _PG_RUNNING=""; PG_PID=""; return 0; }
	# The children too, as a machine crash would: otherwise they linger
	# attached to the old shared memory and the next start refuses.
	kids=$(PG_CHILDREN_OF=$pid _pg_children)
	kill -KILL "$pid" $kids 2>/dev/null
	_pg_wait_gone "$pid" $kids ||
		echo "pg: postgres processes $pid $kids survived SIGKILL" >&2
	_PG_RUNNING=""
	PG_PID=""
	return 0
}

pg_stop() {
	local pid
	[ -n "$PG_DATA" ] || return 0
	pid=$(_pg_postmaster_pid) || { _PG_RUNNING=""; PG_PID=""; return 0; }
	if ! _pg_as "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m fast -w \
		-t "$PG_STOP_TIMEOUT" -s >/dev/null 2>&1; then
		echo "pg: fast shutdown of pid $pid took over ${PG_STOP_TIMEOUT}s;" \
			"trying immediate" >&2
		_pg_as "$PG_BINDIR/pg_ctl" stop -D "$PG_DATA" -m immediate -w \
			-t "$PG_STOP_TIMEOUT" -s >/dev/null 2>&1 || pg_kill9
	fi
	_pg_wait_gone "$pid" || echo "pg: postmaster $pid still alive" >&2
	_PG_RUNNING=""
	PG_PID=""
	return 0
}

pg_restart() {
	if [ -z "$PG_DIR" ]; then
		echo "pg: pg_restart before pg_start" >&2
		return 1
	fi
	pg_stop
	pg_start
}

pgsql() {
	local a args=()
	if [ -z "${PG_CONNINFO:-}" ]; then
		echo "pg: no cluster (pg_start)" >&2
		return 1
	fi
	for a in "$@"; do args+=(-c "$a"); done
	timeout --foreground "$PG_SQL_TIMEOUT" "$PG_BINDIR/psql" -X -q -At \
		-v ON_ERROR_STOP=1 -d "$PG_CONNINFO" "${args[@]}"
}
