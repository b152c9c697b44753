#!/usr/bin/env bash
# orch_http_edge.sh: orchestratord's HTTP edge under slow peers (issue 15).
# Slow clients: 300 connections that send the start of a request and never
# its end, from one loopback address and then from 300, cannot lock other
# clients out (a per-client connection limit, a deadline for headers).  A
# slow signerd (a relay holding its replies 4 s): /readyz answers from
# what a background poller found, so eight probes at once do not hold the
# HTTP threads, and /healthz and ordinary GETs stay fast; readiness turns
# 503 naming signerd, and back.  Every socket the test opens, it closes;
# every wait is bounded.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

HEADER_MS=3000
check "signerd provisioned" signerd_provision
check "signerd starts" signerd_start
check "EVM node starts" evmnode_start
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
echo 0 >"$WORK/proxy.delay"
check "a relay in front of signerd" orch_proxy_start "$WORK/run/relay.sock" "$SD_SOCK"
orch_config 1 worker.count=0 signer.socket="ipc://$WORK/run/relay.sock" \
	http.header_timeout_ms=$HEADER_MS http.max_connections_per_client=32
check "orchestratord starts (signerd behind the relay)" orch_start 1
P=${ORCH_PORT[1]}

# timed CURL-ARGS...: one request; prints "<status> <seconds>".
timed() {
	local out
	out=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code} %{time_total}' "$@" 2>/dev/null)
	[ "${out%% *}" = 000 ] && out="000 -"
	echo "${out:-000 -}"
}
# under SECONDS "STATUS SECS": the status is 200 and SECS below SECONDS.
under() {
	[ "${2%% *}" = 200 ] && awk -v t="${2#* }" -v m="$1" 'BEGIN { exit !(t != "-" && t < m) }'
}
wait_file() {
	local i
	for i in $(seq 1 $((${2:-10} * 10))); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
closed_count() { cut -d' ' -f2 "$WORK/slow.closed" 2>/dev/null || echo 0; }

# --- 300 half-sent connections from one client --------------------------------------
orch_slow_start 300 one "$P"
check "300 half-sent connections from 127.0.0.1 opened" wait_file "$WORK/slow.open" 20
# Refused at once past the per-client limit; the kept ones wait for the
# header deadline (3 s).
for i in $(seq 1 15); do
	[ "$(closed_count)" -ge 268 ] && break
	sleep 0.1
done
kept=$((300 - $(closed_count)))
check "the slow client kept at most 32 of its 300 ($kept)" [ "$kept" -le 32 ]
got=$(timed --interface 127.0.0.2 --max-time 3 "$ORCH_URL/healthz")
check "a request from another client is answered at once ($got)" under 2 "$got"
got=$(timed --interface 127.0.0.2 --max-time 3 -H "Authorization: Bearer $TOK_VIEW" \
	"$ORCH_URL/v1/payouts?first=1")
check "an authenticated GET too ($got)" under 2 "$got"
start=$SECONDS
for i in $(seq 1 40); do
	[ "$(closed_count)" = 300 ] && break
	sleep 0.2
done
check "its held connections are closed by the header deadline ($((SECONDS - start)) s)" [ "$(closed_count)" = 300 ]
got=$(timed --max-time 3 "$ORCH_URL/healthz")
check "then 127.0.0.1 itself is served again ($got)" under 2 "$got"
orch_slow_stop

# --- 300 half-sent connections from 300 clients: the connection limit --------------------
orch_slow_start 300 many "$P"
check "300 half-sent connections from 300 addresses opened" wait_file "$WORK/slow.open" 20
sleep 0.3
got=$(timed --interface 127.0.0.3 --max-time 8 "$ORCH_URL/healthz")
check "a fresh request is answered within the header deadline ($got)" under $((HEADER_MS / 1000 + 2)) "$got"
for i in $(seq 1 60); do
	[ "$(closed_count)" = 300 ] && break
	sleep 0.2
done
check "all 300 closed by orchestratord ($(closed_count))" [ "$(closed_count)" = 300 ]
orch_slow_stop
check "orchestratord is still up" kill -0 "${ORCH_PID[1]}"

# --- a slow signerd: readiness from a cache ------------------------------------------------
check "readyz 200" wait_readyz 200
echo 4000 >"$WORK/proxy.delay"
sleep 0.5
pids=()
for i in $(seq 1 8); do
	timed --max-time 15 "$ORCH_URL/readyz" >"$WORK/probe.$i" &
	pids+=($!)
done
sleep 0.2
got=$(timed --max-time 5 "$ORCH_URL/healthz")
check "with 8 probes in flight and signerd answering in 4 s, healthz is fast ($got)" under 2 "$got"
got=$(timed --max-time 5 -H "Authorization: Bearer $TOK_VIEW" "$ORCH_URL/v1/payouts?first=1")
check "and so is an ordinary GET ($got)" under 2 "$got"
wait "${pids[@]}"
slow=$(awk '$2 == "-" || $2 >= 1 { n++ } END { print n + 0 }' "$WORK"/probe.*)
check "no probe waited on signerd ($slow of 8 took 1 s or more)" [ "$slow" = 0 ]
check "readyz turns 503 once the poller gives up on signerd" wait_readyz 503 10
check "naming signerd unreachable" [ "$(jq -r .reason "$WORK/readyz.json")" = SIGNERD_UNREACHABLE ]
got=$(timed --max-time 5 "$ORCH_URL/healthz")
check "healthz still fast ($got)" under 2 "$got"
echo 0 >"$WORK/proxy.delay"
check "readyz 200 once signerd answers again" wait_readyz 200 15
check "SIGTERM: clean exit 0" orch_stop 1
orch_proxy_stop
check "signerd stops cleanly" signerd_stop
tap_done
