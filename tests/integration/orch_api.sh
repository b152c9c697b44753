#!/usr/bin/env bash
# orch_api.sh: orchestratord's HTTP API against a real PostgreSQL, signerd
# (SoftHSM2) and EVM node: every bad request is answered with the right
# status and code, and writes nothing; idempotency; roles; pagination;
# events; health, readiness (following signerd's can_sign) and metrics;
# request framing, control bytes and NULs (issue 15: refused with 400 and
# the connection closed); per-client limits on requests without a token;
# an upper bound on approval expiry.  Workers are off (count = 0), so the
# payouts created here stay where the API put them.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
SD_POLICY=governed
. tests/lib/signerd.sh
. tests/lib/evmnode.sh
. tests/lib/pg.sh
. tests/lib/orch.sh

check "signerd provisioned (governed policy)" signerd_provision
# A replica below runs as nobody: signerd admits that uid too, and the
# socket's group lets it connect (operators do the same with their
# orchestrator user).
NOBODY_UID=$(id -u nobody)
sed -i "s/^allowed_uids = 0$/allowed_uids = 0, $NOBODY_UID/" "$SD_CONF"
check "signerd starts" signerd_start
chgrp "$(id -gn nobody)" "$SD_SOCK"
check "EVM node starts" evmnode_start
check "PostgreSQL starts" pg_start
check "orchestratord migrate" orch_provision
check "migrate again is a no-op" "$ORCH" migrate -c "$WORK/orch-1.conf"
orch_config 1 worker.count=0
check "orchestratord serve starts" orch_start 1

# counts: payouts and events, to show a refusal wrote nothing.
counts() { pgsql "SELECT (SELECT count(*) FROM payouts) || ':' || (SELECT count(*) FROM outbox) || ':' || (SELECT count(*) FROM approvals)"; }

# expect STATUS CODE METHOD PATH [BODY] [TOKEN]: one call, its status and
# error code, and nothing written.
expect() {
	local want=$1 code=$2 before after body
	shift 2
	before=$(counts)
	body=$(api "$@")
	after=$(counts)
	if [ "$(api_status)" = "$want" ] && { [ "$code" = - ] ||
	    [ "$(jq -r .error <<<"$body" 2>/dev/null)" = "$code" ]; } &&
	    [ "$before" = "$after" ]; then
		_tap_report 0 "$1 $2 -> $want $code, nothing written"
	else
		_tap_report 1 "$1 $2 -> $want $code (got $(api_status): $body; rows $before -> $after)"
	fi
}

R=$RECIPIENT
good() { jq -cn --arg id "$1" --arg a "${2:-ETH}" --arg to "${3:-$R}" --arg amt "${4:-1000}" \
	'{request_id: $id, asset: $a, to: $to, amount: $amt}'; }

# --- health ------------------------------------------------------------------
api GET /healthz "" - >/dev/null
check "healthz 200 without a token" [ "$(api_status)" = 200 ]
# SIGHUP reloads nothing, so it must not stop the daemon either: under
# Restart=on-failure a stop with status 0 would leave it down.
kill -HUP "${ORCH_PID[1]}"
hup_logged() { grep -q '"SIGHUP ignored' "$WORK/orch-1.log"; }
for i in $(seq 1 50); do hup_logged && break; sleep 0.1; done
check "SIGHUP is logged and ignored: orchestratord stays up" \
	hup_logged && kill -0 "${ORCH_PID[1]}"
api GET /healthz "" - >/dev/null
check "and answers after it" [ "$(api_status)" = 200 ]
r=$(api GET /readyz "" -)
check "readyz 200 with PostgreSQL and signerd up" [ "$(api_status)" = 200 ]

# --- authentication and roles --------------------------------------------------
expect 401 UNAUTHENTICATED POST /v1/payouts "$(good a1)" -
expect 401 UNAUTHENTICATED POST /v1/payouts "$(good a1)" "not-a-token"
expect 403 FORBIDDEN POST /v1/payouts "$(good a1)" "$TOK_VIEW"
expect 403 FORBIDDEN POST /v1/payouts "$(good a1)" "$TOK_APPROVE"
expect 401 UNAUTHENTICATED GET /v1/payouts "" -
expect 403 FORBIDDEN GET /v1/payouts "" "$TOK_SUBMIT"
expect 401 UNAUTHENTICATED GET /metrics "" -

# --- bad bodies -------------------------------------------------------------------
expect 400 BAD_JSON POST /v1/payouts '{"request_id": "x",' "$TOK_SUBMIT"
expect 400 BAD_JSON POST /v1/payouts '[1,2]' "$TOK_SUBMIT"
expect 400 BAD_REQUEST POST /v1/payouts '{"request_id":"a2","asset":"ETH","to":"'$R'"}' "$TOK_SUBMIT"
expect 400 BAD_REQUEST POST /v1/payouts "$(good a3 | jq -c '. + {extra: 1}')" "$TOK_SUBMIT"
expect 400 - POST /v1/payouts '{"request_id":"a4","request_id":"a5","asset":"ETH","to":"'$R'","amount":"1"}' "$TOK_SUBMIT"
expect 422 - POST /v1/payouts "$(good 'bad id!')" "$TOK_SUBMIT"
expect 422 UNKNOWN_ASSET POST /v1/payouts "$(good a6 DOGE)" "$TOK_SUBMIT"
expect 422 BAD_ADDRESS POST /v1/payouts "$(good a7 ETH "${R,,}")" "$TOK_SUBMIT"
expect 422 BAD_ADDRESS POST /v1/payouts "$(good a8 ETH 0x70997970C51812dc3A010C7d01b50e0d17dc79C9)" "$TOK_SUBMIT"
expect 422 BAD_ADDRESS POST /v1/payouts "$(good a9 ETH 0x0000000000000000000000000000000000000000)" "$TOK_SUBMIT"
expect 422 BAD_ADDRESS POST /v1/payouts "$(good a10 ETH "$TUSD_CONTRACT")" "$TOK_SUBMIT"
expect 422 BAD_AMOUNT POST /v1/payouts "$(good a11 ETH "$R" -5)" "$TOK_SUBMIT"
expect 422 BAD_AMOUNT POST /v1/payouts "$(good a12 ETH "$R" 0)" "$TOK_SUBMIT"
expect 422 BAD_AMOUNT POST /v1/payouts "$(good a13 ETH "$R" 1e5)" "$TOK_SUBMIT"
expect 422 BAD_AMOUNT POST /v1/payouts "$(good a14 ETH "$R" 007)" "$TOK_SUBMIT"
# 2^256 is one too many; 2^256-1 is a valid (if unpayable) amount.
expect 422 BAD_AMOUNT POST /v1/payouts "$(good a15 ETH "$R" 115792089237316195423570985008687907853269984665640564039457584007913129639936)" "$TOK_SUBMIT"
expect 422 BAD_AMOUNT POST /v1/payouts '{"request_id":"a16","asset":"ETH","to":"'$R'","amount":1000}' "$TOK_SUBMIT"
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
expect 413 TOO_LARGE POST /v1/payouts "{\"request_id\":\"$big\"}" "$TOK_SUBMIT"
before=$(counts)
st=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK_SUBMIT" \
	-H 'Content-Type: text/plain' --data-binary "$(good a17)" "$ORCH_URL/v1/payouts")
check "text/plain body -> 415, nothing written" [ "$st" = 415 ] && [ "$(counts)" = "$before" ]
expect 404 NOT_FOUND GET /v1/nothing "" "$TOK_VIEW"
expect 405 - DELETE /v1/payouts "" "$TOK_ADMIN"

# --- create: idempotent by request id --------------------------------------------
body=$(api POST /v1/payouts "$(good c1 ETH "$R" 1000)" "$TOK_SUBMIT")
check "create -> 201" [ "$(api_status)" = 201 ]
check "small payout auto-approved" [ "$(jq -r .status <<<"$body")" = APPROVED ]
check "payout shows sender, chain, amount as a string" \
	[ "$(jq -r '.from + " " + (.chain_id|tostring) + " " + .amount' <<<"$body")" = "$PAYOUT_ADDR 1337 1000" ]
body2=$(api POST /v1/payouts "$(good c1 ETH "$R" 1000)" "$TOK_SUBMIT")
check "same request again -> 200, same payout" [ "$(api_status)" = 200 ] && [ "$(jq -r .created_at <<<"$body2")" = "$(jq -r .created_at <<<"$body")" ]
expect 409 CONFLICT POST /v1/payouts "$(good c1 ETH "$R" 1001)" "$TOK_SUBMIT"
body=$(api POST /v1/payouts "$(good c2 ETH "$R" 150000)" "$TOK_SUBMIT")
check "above the approval threshold -> PENDING_APPROVAL, 2 needed" \
	[ "$(jq -r '.status + " " + (.approvals_required|tostring)' <<<"$body")" = "PENDING_APPROVAL 2" ]
body=$(api POST /v1/payouts "$(good c3 ETH "$R" 300001)" "$TOK_SUBMIT")
check "above the per-tx limit -> 201 REJECTED PER_TX_LIMIT (risk check)" \
	[ "$(api_status)" = 201 ] && [ "$(jq -r '.status + " " + .reason_code' <<<"$body")" = "REJECTED PER_TX_LIMIT" ]
body=$(api POST /v1/payouts "$(good c4 TUSD "$PAYOUT_ADDR" 10)" "$TOK_SUBMIT")
check "TUSD to an address off its allowlist -> REJECTED RECIPIENT_NOT_ALLOWED" \
	[ "$(jq -r '.status + " " + .reason_code' <<<"$body")" = "REJECTED RECIPIENT_NOT_ALLOWED" ]
body=$(api POST /v1/payouts "$(good c5 ETH "$R" 250000)" "$TOK_SUBMIT")
check "above the timelock threshold -> timelock true" [ "$(jq -r .timelock <<<"$body")" = true ]

# --- approvals -----------------------------------------------------------------------
ap_alice=$(sd_approve alice c2 1337 ETH "$R" 150000)
expect 403 FORBIDDEN POST /v1/payouts/c2/approvals "$ap_alice" "$TOK_SUBMIT"
expect 422 BAD_APPROVER POST /v1/payouts/c2/approvals "$(sd_approve mallory c2 1337 ETH "$R" 150000)" "$TOK_APPROVE"
forged=$(sd_approve mallory c2 1337 ETH "$R" 150000 | jq -c '.approver = "carol"')
expect 422 APPROVAL_BAD_SIGNATURE POST /v1/payouts/c2/approvals "$forged" "$TOK_APPROVE"
other=$(sd_approve bob c1 1337 ETH "$R" 150000)
expect 422 APPROVAL_BAD_SIGNATURE POST /v1/payouts/c2/approvals "$other" "$TOK_APPROVE"
expired=$(sd_approve bob c2 1337 ETH "$R" 150000 $(( $(date +%s) - 10 )))
expect 422 APPROVAL_EXPIRED POST /v1/payouts/c2/approvals "$expired" "$TOK_APPROVE"
# A week is the default bound: a valid approval that lives longer is refused.
far=$(sd_approve bob c2 1337 ETH "$R" 150000 $(( $(date +%s) + 8 * 86400 )))
expect 422 APPROVAL_EXPIRY_TOO_FAR POST /v1/payouts/c2/approvals "$far" "$TOK_APPROVE"
expect 404 NOT_FOUND POST /v1/payouts/nope/approvals "$ap_alice" "$TOK_APPROVE"
body=$(api POST /v1/payouts/c2/approvals "$ap_alice" "$TOK_APPROVE")
check "alice's approval stored, still pending (1 of 2)" [ "$(api_status)" = 200 ] && \
	[ "$(jq -r '.status + " " + (.approvals|tostring)' <<<"$body")" = "PENDING_APPROVAL 1" ]
expect 409 CONFLICT POST /v1/payouts/c2/approvals "$ap_alice" "$TOK_APPROVE"
body=$(api POST /v1/payouts/c2/approvals "$(sd_approve erin c2 1337 ETH "$R" 150000)" "$TOK_APPROVE")
check "erin's (Ed25519) approval makes it APPROVED" [ "$(jq -r .status <<<"$body")" = APPROVED ]
expect 409 CONFLICT POST /v1/payouts/c2/approvals "$(sd_approve bob c2 1337 ETH "$R" 150000)" "$TOK_APPROVE"

# --- reject ----------------------------------------------------------------------------
api POST /v1/payouts "$(good j1 ETH "$R" 150000)" "$TOK_SUBMIT" >/dev/null
expect 400 - POST /v1/payouts/j1/reject '{}' "$TOK_APPROVE"
body=$(api POST /v1/payouts/j1/reject '{"reason":"unknown customer"}' "$TOK_APPROVE")
check "reject -> REJECTED with the reason" [ "$(jq -r '.status + ":" + .reason' <<<"$body")" = "REJECTED:unknown customer" ]
expect 409 CONFLICT POST /v1/payouts/j1/reject '{"reason":"again"}' "$TOK_APPROVE"
expect 409 CONFLICT POST /v1/payouts/j1/approvals "$(sd_approve bob j1 1337 ETH "$R" 150000)" "$TOK_APPROVE"

# --- cancel before anything reached signerd -----------------------------------------------
api POST /v1/payouts "$(good k1 ETH "$R" 150000)" "$TOK_SUBMIT" >/dev/null
expect 422 APPROVAL_BAD_SIGNATURE POST /v1/payouts/k1/cancel "$(sd_approve_op mallory cancel k1 | jq -c '.approver = "bob"')" "$TOK_APPROVE"
expect 422 APPROVAL_EXPIRY_TOO_FAR POST /v1/payouts/k1/cancel "$(sd_approve_op bob cancel k1 $(( $(date +%s) + 8 * 86400 )))" "$TOK_APPROVE"
body=$(api POST /v1/payouts/k1/cancel "$(sd_approve_op bob cancel k1)" "$TOK_APPROVE")
check "cancel while pending -> CANCELLED" [ "$(jq -r .status <<<"$body")" = CANCELLED ]
check "... after signerd journaled a cancel that forbids its id for good" \
	[ "$(jq -r 'select(.type=="cancelled" and .request_id=="k1") | .request_id' "$SD_JOURNAL"/seg-*.jsonl)" = k1 ]

# --- reads ---------------------------------------------------------------------------------
body=$(api GET /v1/payouts/c1 "" "$TOK_VIEW")
check "GET one payout" [ "$(api_status)" = 200 ] && [ "$(jq -r .request_id <<<"$body")" = c1 ]
check "no receipt before it is signed" [ "$(jq -c .receipt <<<"$body")" = null ]
expect 404 NOT_FOUND GET /v1/payouts/zzz "" "$TOK_VIEW"
page1=$(api GET "/v1/payouts?first=2" "" "$TOK_VIEW")
next=$(jq -r .next <<<"$page1")
page2=$(api GET "/v1/payouts?first=2&after=$next" "" "$TOK_VIEW")
check "pagination: two pages of 2, disjoint, in order" \
	[ "$(jq -r '[.payouts[].request_id] | join(",")' <<<"$page1"),$(jq -r '[.payouts[].request_id] | join(",")' <<<"$page2")" = "c1,c2,c3,c4" ]
all=$(api GET "/v1/payouts?status=REJECTED&first=50" "" "$TOK_VIEW")
check "status filter" [ "$(jq -r '[.payouts[].request_id] | join(",")' <<<"$all")" = "c3,c4,j1" ]
expect 400 - GET "/v1/payouts?status=BOGUS" "" "$TOK_VIEW"
expect 400 BAD_CURSOR GET "/v1/payouts?after=%%%%" "" "$TOK_VIEW"
expect 400 BAD_CURSOR GET "/v1/payouts?after=YWJj" "" "$TOK_VIEW"
expect 400 - GET "/v1/payouts?first=0" "" "$TOK_VIEW"
expect 400 - GET "/v1/payouts?first=501" "" "$TOK_VIEW"
ev=$(api GET "/v1/events?first=100" "" "$TOK_VIEW")
check "events feed: c2's Created then Approved" \
	[ "$(jq -r '[.events[] | select(.request_id == "c2") | .event] | join(",")' <<<"$ev")" = "PayoutRequestCreated,PayoutRequestApproved" ]
check "events feed: c3's RiskCheckRejected" \
	[ "$(jq -r '[.events[] | select(.request_id == "c3") | .event] | join(",")' <<<"$ev")" = "PayoutRequestCreated,RiskCheckRejected" ]
ex=$(api GET "/v1/exposure?asset=ETH" "" "$TOK_VIEW")
check "exposure from signerd" [ "$(api_status)" = 200 ] && [ "$(jq -r .limit <<<"$ex")" = 5000000 ]
expect 422 UNKNOWN_ASSET GET "/v1/exposure?asset=DOGE" "" "$TOK_VIEW"
m=$(api GET /metrics "" "$TOK_VIEW")
check "metrics: payouts by status" grep -q 'status="REJECTED"} 3' <<<"$m"
check "metrics: http responses by code" grep -q 'code="422"' <<<"$m"
check "metrics: signerd's families, fetched now (signerd_up 1)" \
	grep -q '^signerd_up 1$' <<<"$m"
check "metrics: signerd's counters by asset" \
	grep -q '^signerd_signatures_total{asset="ETH"} [0-9]' <<<"$m"
check "metrics: promtool check metrics accepts the page" promtool check metrics <<<"$m"

# --- framing, control bytes and NULs (issue 15) -------------------------------------
P=${ORCH_PORT[1]}
H="Host: 127.0.0.1\r\n"
# raw_expect DESC WANT FORMAT: one raw request; WANT is "<closed> <responses>
# <status>" as orch_raw prints it; nothing may be written.
raw_expect() {
	local before got
	before=$(counts)
	got=$(orch_raw "$P" "$3")
	check "$1 ($got)" [ "$got" = "$2" ] && [ "$(counts)" = "$before" ]
}
p1=$(good sm1)
p2=$(good sm2)
smuggled="POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nContent-Length: ${#p2}\r\n\r\n$p2"
chunk=$(printf '%x' ${#p1})
raw_expect "Content-Length and Transfer-Encoding: 400, closed, the bytes after it not run" "1 1 400" \
	"POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n$chunk\r\n$p1\r\n0\r\n\r\n$smuggled"
check "neither payout exists" [ "$(pgsql "SELECT count(*) FROM payouts WHERE request_id IN ('sm1', 'sm2')")" = 0 ]
raw_expect "two different Content-Lengths: 400, closed" "1 1 400" \
	"POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nContent-Length: ${#p1}\r\nContent-Length: 5\r\n\r\n$p1"
# MHD refuses this one itself (and writes its 400 twice); closed all the same.
got=$(orch_raw "$P" "POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nContent-Length: +${#p1}\r\n\r\n$p1")
check "a Content-Length that is not a number: 400, closed ($got)" [ "${got%% *} ${got##* }" = "1 400" ]
raw_expect "Transfer-Encoding: gzip answered at once: 400, closed" "1 1 400" \
	"POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n$p1"
raw_expect "Transfer-Encoding: gzip, chunked: 400, closed" "1 1 400" \
	"POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n$chunk\r\n$p1\r\n0\r\n\r\n"
raw_expect "two equal Content-Lengths are one length: the request runs" "0 1 200" \
	"GET /healthz HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 0\r\n\r\n"
got=$(orch_raw "$P" "POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n$chunk\r\n$p1\r\n0\r\n\r\n")
check "a chunked body within the limit: 201 ($got)" [ "$got" = "0 1 201" ]
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
raw_expect "a chunked body over the limit: 413, closed" "1 1 413" \
	"POST /v1/payouts HTTP/1.1\r\n${H}Authorization: Bearer $TOK_SUBMIT\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4e20\r\n$big\r\n0\r\n\r\n"
check "413 says TOO_LARGE" grep -q '"error":"TOO_LARGE"' "$WORK/raw.out"
raw_expect "a second Authorization header: 400, closed" "1 1 400" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\nAuthorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "the same request with one Authorization: 200" "0 1 200" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "a bearer token followed by NUL and junk does not authenticate: 400" "1 1 400" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\0junk\r\n\r\n"
raw_expect "a NUL after a header name's colon: 400" "1 1 400" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}X-Note:\0 x\r\nAuthorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "a control byte in a header value: 400" "1 1 400" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\nX-Note: a\001b\r\n\r\n"
raw_expect "a raw NUL in the path: 400" "1 1 400" \
	"GET /healthz\0zz HTTP/1.1\r\n${H}\r\n"
raw_expect "/v1/payouts/c1%00zz: 400, not c1" "1 1 400" \
	"GET /v1/payouts/c1%00zz HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "?first=5%00x: 400" "1 1 400" \
	"GET /v1/payouts?first=5%00x HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "?status=%0aAPPROVED: 400" "1 1 400" \
	"GET /v1/payouts?status=%0aAPPROVED HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "?first=5 is fine" "0 1 200" \
	"GET /v1/payouts?first=5 HTTP/1.1\r\n${H}Authorization: Bearer $TOK_VIEW\r\n\r\n"
raw_expect "a request with a tab and spaces in values is fine" "0 1 200" \
	"GET /v1/payouts/c1 HTTP/1.1\r\n${H}Authorization:   Bearer $TOK_VIEW \r\nX-Note: a\tb \r\nX-Empty:\r\n\r\n"

# --- an unprivileged replica -------------------------------------------------------
orch_config 2 worker.count=0 process.user=nobody
check "a replica with [process] user = nobody starts" orch_start 2
check "it runs as nobody, with no_new_privs" \
	[ "$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/${ORCH_PID[2]}/status)" = "$NOBODY_UID$NOBODY_UID$NOBODY_UID$NOBODY_UID" ] &&
	[ "$(awk '/^NoNewPrivs:/ {print $2}' /proc/${ORCH_PID[2]}/status)" = 1 ]
st=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ORCH_PORT[2]}/readyz")
check "and reaches PostgreSQL and signerd (readyz $st)" [ "$st" = 200 ]
check "it stops cleanly" orch_stop 2

# --- rate limit ----------------------------------------------------------------------------
orch_stop 1
orch_config 1 worker.count=0 http.rate_per_second=1 http.rate_burst=3 \
	http.anon_rate_per_second=1 http.anon_rate_burst=3
check "restarts with a tight rate limit" orch_start 1
codes=""
for i in 1 2 3 4 5; do api GET /v1/payouts/c1 "" "$TOK_VIEW" >/dev/null; codes+="$(api_status) "; done
check "burst 3 then 429 (codes: $codes)" [ "$codes" = "200 200 200 429 429 " ]
codes=""
for i in 1 2 3 4 5; do api GET /healthz "" - >/dev/null; codes+="$(api_status) "; done
check "without a token: burst 3 per client, then 429 (codes: $codes)" [ "$codes" = "200 200 200 429 429 " ]
api GET /v1/payouts/c1 "" "not-a-token" >/dev/null
check "a wrong token draws on the same budget: 429, not 401" [ "$(api_status)" = 429 ]
api GET /v1/nothing "" - >/dev/null
check "and so does a 404" [ "$(api_status)" = 429 ]
st=$(curl -sS --noproxy '*' --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$ORCH_URL/healthz")
check "another client (127.0.0.2) has its own budget ($st)" [ "$st" = 200 ]
sleep 1.1
api GET /v1/payouts/c1 "" "$TOK_ADMIN" >/dev/null
check "a valid token is not limited by it" [ "$(api_status)" = 200 ]

# --- readiness follows its dependencies, from a cache ------------------------------------------
orch_stop 1
orch_config 1 worker.count=0
check "restarts with the default limits" orch_start 1
check "readyz 200" wait_readyz 200
signerd_stop
check "readyz 503 while signerd is down" wait_readyz 503
check "naming signerd unreachable" [ "$(jq -r .reason "$WORK/readyz.json")" = SIGNERD_UNREACHABLE ]
m=$(api GET /metrics "" "$TOK_VIEW")
check "metrics while signerd is down: signerd_up 0 and no stale signerd family" \
	[ "$(grep '^signerd_' <<<"$m")" = "signerd_up 0" ]
check "... the rest of the page stays" grep -q '^orchestratord_database_up 1$' <<<"$m"
check "... and promtool check metrics accepts it" promtool check metrics <<<"$m"
api GET /healthz "" - >/dev/null
check "healthz still 200" [ "$(api_status)" = 200 ]
check "signerd back" signerd_start
check "readyz 200 again" wait_readyz 200
sd_approve_op erin pause rz-1 >"$WORK/pause-rz.json"
check "signerd paused by an approver" \
	[ "$(sd_ctl pause --pause-id rz-1 --approval "$WORK/pause-rz.json" | jq -r .reason)" = OK ]
check "readyz 503 while signerd cannot sign" wait_readyz 503
check "with signerd's reason PAUSED" [ "$(jq -r '.reason + " " + .signer' "$WORK/readyz.json")" = "PAUSED blocked" ]
sd_approve_op alice unpause rz-1 >"$WORK/un-a.json"
sd_approve_op bob unpause rz-1 >"$WORK/un-b.json"
check "governance unpauses" \
	[ "$(sd_ctl unpause --pause-id rz-1 --approval "$WORK/un-a.json" --approval "$WORK/un-b.json" | jq -r .reason)" = OK ]
check "readyz 200 once signerd can sign" wait_readyz 200
check "SIGTERM: clean exit 0" orch_stop 1
check "no secrets in the log (no bearer token)" bash -c "! grep -qF '$TOK_SUBMIT' '$WORK/orch-1.log'"
tap_done
