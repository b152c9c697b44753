# orch.sh: run real orchestratord replicas against a throwaway PostgreSQL
# (pg.sh), a real signerd (signerd.sh) and a local EVM node (evmnode.sh);
# source it after those three.  Needs BUILD.
#   orch_provision        bearer tokens (one per role), `orchestratord
#                         migrate`; sets ORCH_TOKENS, TOK_SUBMIT,
#                         TOK_APPROVE, TOK_ADMIN, TOK_VIEW
#   orch_config N [K=V..] writes $WORK/orch-N.conf (worker id replica-N,
#                         an HTTP port picked by the kernel); extra
#                         "section.key=value" pairs override defaults
#   orch_start N          starts replica N (config written if missing),
#                         waits for its "ready" line; sets ORCH_PID[N],
#                         ORCH_PORT[N], and ORCH_URL (replica 1's, or the
#                         first started)
#   orch_stop N           SIGTERM, waits (bounded); returns its status
#   orch_kill9 N          SIGKILL, waits
#   api METHOD PATH [BODY] [TOKEN]
#                         one HTTP call to ORCH_URL with TOKEN (default
#                         TOK_ADMIN; "-" for none); prints the body
#   api_status            the HTTP status of the last api call (kept in a
#                         file: callers run api inside $(...))
#   wait_status ID STATUS [SECONDS]
#                         polls GET /v1/payouts/ID until STATUS (or any
#                         terminal status when STATUS is "terminal")
ORCH="$BUILD/orchestratord"
declare -a ORCH_PID ORCH_PORT
ORCH_URL=""

# _orch_token NAME ROLE VAR: a random token into VAR, its hash into tokens.
_orch_token() {
	local tok
	tok=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s %s %s\n' "$1" "$2" "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" \
		>>"$ORCH_TOKENS"
	printf -v "$3" '%s' "$tok"
}

orch_provision() {
	ORCH_TOKENS="$WORK/api-tokens"
	( umask 077; : >"$ORCH_TOKENS" )
	_orch_token ops-submit submitter TOK_SUBMIT
	_orch_token ops-approve approver TOK_APPROVE
	_orch_token ops-admin admin TOK_ADMIN
	_orch_token ops-view viewer TOK_VIEW
	orch_config 1
	"$ORCH" migrate -c "$WORK/orch-1.conf" >>"$WORK/orch-migrate.log" 2>&1
}

orch_config() {
	local n=$1 kv
	shift
	(
		umask 077
		cat >"$WORK/orch-$n.conf" <<CONF
[database]
conninfo = $PG_CONNINFO
pool = 4
[signer]
socket = ipc://$SD_SOCK
timeout_ms = 10000
[evm]
rpc_url = $EVM_RPC
timeout_ms = 5000
poll_ms = ${ORCH_EVM_POLL_MS:-200}
bump_after_seconds = ${ORCH_BUMP_AFTER:-120}
[http]
listen = 127.0.0.1:0
tokens = $ORCH_TOKENS
rate_per_second = ${ORCH_RATE:-1000}
rate_burst = ${ORCH_BURST:-2000}
[worker]
id = replica-$n
count = ${ORCH_WORKERS:-2}
lease_ms = ${ORCH_LEASE_MS:-5000}
poll_ms = 20
shutdown_seconds = 10
CONF
	)
	# Overrides replace the key in its section (a key given twice is
	# refused by orchestratord, as it should be).
	for kv in "$@"; do
		local sec=${kv%%.*} rest=${kv#*.} key
		key=${rest%%=*}
		grep -q "^\[$sec\]" "$WORK/orch-$n.conf" ||
			echo "[$sec]" >>"$WORK/orch-$n.conf"
		sed -i -e "/^\[$sec\]/,/^\[/{/^$key = /d}" \
			-e "/^\[$sec\]/a $key = ${rest#*=}" "$WORK/orch-$n.conf"
	done
}

orch_start() {
	local n=$1 i log="$WORK/orch-$1.log" line
	[ -f "$WORK/orch-$n.conf" ] || orch_config "$n"
	: >"$log"
	"$ORCH" serve -c "$WORK/orch-$n.conf" 2>>"$log" &
	ORCH_PID[$n]=$!
	for i in $(seq 1 150); do
		line=$(grep -m1 '"msg":"ready' "$log" 2>/dev/null) && break
		if ! kill -0 "${ORCH_PID[$n]}" 2>/dev/null; then
			ORCH_PID[$n]=
			tail -5 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	[ -n "$line" ] || { tail -5 "$log" >&2; return 1; }
	ORCH_PORT[$n]=$(sed -E 's/.*http=127\.0\.0\.1:([0-9]+).*/\1/' <<<"$line")
	# api talks to the first replica started (again after a restart).
	if [ -z "$ORCH_URL" ] || [ "${ORCH_URL_OF:-$n}" = "$n" ]; then
		ORCH_URL="http://127.0.0.1:${ORCH_PORT[$n]}"
		ORCH_URL_OF=$n
	fi
}

orch_stop() {
	local n=$1 pid=${ORCH_PID[$1]:-} rc guard
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	( sleep 40; kill -KILL "$pid" 2>/dev/null ) &
	guard=$!
	wait "$pid"; rc=$?
	# SIGKILL: a TERM that reached the guard before it reset the traps
	# it inherited would run this script's whole on_exit list in it.
	kill -KILL "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
	ORCH_PID[$n]=
	return $rc
}

orch_kill9() {
	local pid=${ORCH_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ORCH_PID[$1]=
}

_orch_kill_all() {
	local n
	for n in "${!ORCH_PID[@]}"; do
		orch_kill9 "$n"
	done
}
on_exit _orch_kill_all

api() {
	local method=$1 path=$2 body=${3:-} tok=${4:-$TOK_ADMIN} out args=()
	out=$(mktemp "$WORK/api.XXXXXX")
	[ "$tok" = - ] || args+=(-H "Authorization: Bearer $tok")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	curl -sS --noproxy '*' --max-time 20 -o "$out" -w '%{http_code}' \
		-X "$method" "${args[@]}" "$ORCH_URL$path" >"$WORK/api.status" ||
		echo 000 >"$WORK/api.status"
	cat "$out"
	rm -f "$out"
}

api_status() {
	cat "$WORK/api.status"
}

wait_status() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-60})) st
	while :; do
		st=$(api GET "/v1/payouts/$id" "" "$TOK_VIEW" | jq -r .status 2>/dev/null)
		if [ "$st" = "$want" ]; then
			return 0
		fi
		if [ "$want" = terminal ]; then
			case $st in CONFIRMED|FAILED|REJECTED|CANCELLED) return 0 ;; esac
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_status $id: still $st after ${3:-60}s (wanted $want)" >&2
			return 1
		fi
		sleep 0.2
	done
}

# wait_readyz CODE [SECONDS]: polls GET /readyz (no token) until it
# answers CODE; readiness is polled by orchestratord once a second, so a
# change shows within about that.  The last body is in $WORK/readyz.json.
wait_readyz() {
	local want=$1 deadline=$((SECONDS + ${2:-10}))
	while :; do
		api GET /readyz "" - >"$WORK/readyz.json"
		[ "$(api_status)" = "$want" ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_readyz: $(api_status) $(cat "$WORK/readyz.json") after ${2:-10}s (wanted $want)" >&2
			return 1
		fi
		sleep 0.2
	done
}

# orch_raw PORT BYTES [WAIT_MS]: sends BYTES, with printf %b's escapes
# (\r, \n, \t, \0 and \0NNN for NULs and other control bytes; a % is a
# %) on one fresh TCP connection to 127.0.0.1:PORT and reads for
# WAIT_MS (default 1500).  Prints "<closed> <responses> <first status>":
# closed 1 when orchestratord closed the connection within WAIT_MS,
# responses the number of HTTP responses seen.  The bytes received are in
# $WORK/raw.out.
orch_raw() {
	local hex
	hex=$(printf '%b' "$2" | od -An -v -tx1 | tr -d ' \n')
	node -e '
const net = require("net");
const [port, hex, wait, out] = process.argv.slice(1);
let buf = Buffer.alloc(0), closed = 0, done = false;
const s = net.connect({ host: "127.0.0.1", port: +port });
const finish = () => {
	if (done) return;
	done = true;
	require("fs").writeFileSync(out, buf);
	const text = buf.toString("latin1");
	const n = (text.match(/HTTP\/1\.[01] \d{3}/g) || []).length;
	const m = text.match(/^HTTP\/1\.[01] (\d{3})/);
	console.log(`${closed} ${n} ${m ? m[1] : "000"}`);
	s.destroy();
	process.exit(0);
};
s.on("data", (d) => { buf = Buffer.concat([buf, d]); });
s.on("end", () => { closed = 1; finish(); });
s.on("error", () => { closed = 1; finish(); });
s.on("connect", () => s.write(Buffer.from(hex, "hex")));
setTimeout(finish, +wait);
' "$1" "$hex" "${3:-1500}" "$WORK/raw.out"
}

# orch_slow_start N FROM PORT: a slow client (node, pid in SLOW_PID)
# opening N connections to 127.0.0.1:PORT, each sending the start of a
# request and never its end.  FROM is "one" (all from 127.0.0.1) or
# "many" (each from its own address: 127.0.1.1 and on).  It holds
# them at most 60 s and closes them all when it ends or gets SIGTERM; it
# writes "open N" to $WORK/slow.open once the N connects finished, and
# "closed K" to $WORK/slow.closed each time orchestratord closes one (K so
# far).  orch_slow_stop ends it.
orch_slow_start() {
	rm -f "$WORK/slow.open" "$WORK/slow.closed"
	node -e '
const net = require("net"), fs = require("fs");
const [n, from, port, dir] = process.argv.slice(1);
const socks = [];
let settled = 0, closed = 0;
const bye = () => { for (const s of socks) s.destroy(); process.exit(0); };
process.on("SIGTERM", bye);
setTimeout(bye, 60000);
const settle = () => {
	if (++settled === +n)
		fs.writeFileSync(dir + "/slow.open", `open ${n}\n`);
};
for (let i = 0; i < +n; i++) {
	const opts = { host: "127.0.0.1", port: +port };
	if (from === "many")
		opts.localAddress = `127.0.${1 + Math.floor(i / 250)}.${1 + i % 250}`;
	const s = net.connect(opts);
	let gone = false;
	const lost = () => {
		if (gone) return;
		gone = true;
		fs.writeFileSync(dir + "/slow.closed", `closed ${++closed}\n`);
	};
	s.on("connect", () => {
		s.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
		settle();
	});
	s.on("error", () => { if (s.connecting) settle(); lost(); });
	s.on("end", lost);
	s.on("close", lost);
	socks.push(s);
}
' "$1" "$2" "$3" "$WORK" &
	SLOW_PID=$!
}

orch_slow_stop() {
	[ -n "${SLOW_PID:-}" ] || return 0
	kill -TERM "$SLOW_PID" 2>/dev/null
	wait "$SLOW_PID" 2>/dev/null
	SLOW_PID=
}
on_exit orch_slow_stop

# orch_proxy_start LISTEN TARGET: a relay (node, pid in PROXY_PID) from
# the unix socket LISTEN to TARGET (signerd's), holding every chunk in
# each direction for the milliseconds in $WORK/proxy.delay (0 if absent;
# read per chunk, so a test changes it while it runs), order kept.  Bytes
# are relayed untouched: NNG's ipc framing and signerd's uid check pass
# (the relay runs as the test's user).
orch_proxy_start() {
	rm -f "$1"
	node -e '
const net = require("net"), fs = require("fs");
const [listen, target, file] = process.argv.slice(1);
const delay = () => { try { return +fs.readFileSync(file, "utf8") || 0; } catch (e) { return 0; } };
const relay = (src, dst) => {
	const q = [];
	let timer = null, ended = false;
	const pump = () => {
		timer = null;
		while (q.length && q[0].t <= Date.now()) dst.write(q.shift().b);
		if (q.length) timer = setTimeout(pump, q[0].t - Date.now());
		else if (ended) dst.end();
	};
	src.on("data", (b) => { q.push({ t: Date.now() + delay(), b }); if (!timer) pump(); });
	src.on("end", () => { ended = true; if (!timer) pump(); });
};
net.createServer((c) => {
	const u = net.connect(target);
	c.on("error", () => u.destroy());
	u.on("error", () => c.destroy());
	relay(c, u);
	relay(u, c);
}).listen(listen, () => fs.writeFileSync(listen + ".ready", "1"));
' "$1" "$2" "$WORK/proxy.delay" &
	PROXY_PID=$!
	local i
	for i in $(seq 1 50); do
		[ -e "$1.ready" ] && return 0
		sleep 0.1
	done
	return 1
}

orch_proxy_stop() {
	[ -n "${PROXY_PID:-}" ] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=
}
on_exit orch_proxy_stop
