#!/usr/bin/env bash
# signerd_metrics.sh: signerd's counters through METRICS_REQ, as
# `signerctl metrics` prints them for node_exporter's textfile collector
# (docs/metrics.md): a real signerd on SoftHSM2 under the governed
# policy signs payouts, refuses some for two reasons, is paused, and the
# exact counts, exposures, pause state, journal head and latency
# histograms come back; promtool check metrics accepts the text; the
# request is admitted like STATUS; an unreachable signerd is exit 1.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

SD_POLICY=governed signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts under the governed policy" signerd_start
SOCK="ipc://$SD_SOCK"
R=$RECIPIENT
W="$WORK/req"
mkdir -p "$W"

# metrics: one scrape into $WORK/m.prom; fails when signerctl does.
metrics() { "$SIGNERCTL" metrics --socket "$SOCK" >"$WORK/m.prom" 2>"$WORK/m.err"; }
# sample NAME{LABELS}: the value of that one sample in the last scrape.
sample() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/m.prom"; }
promtool_ok() { promtool check metrics <"$WORK/m.prom" >"$WORK/promtool.out" 2>&1; }

# --- usage ---------------------------------------------------------------
out=$("$SIGNERCTL" metrics --help)
check "signerctl metrics --help exits 0 with the usage line" \
	grep -qx 'usage: signerctl metrics \[--socket URL\]' <<<"$out"
check "--help names --socket" grep -q -- '--socket URL' <<<"$out"
fails "an unknown option is a usage error" "$SIGNERCTL" metrics --bogus
"$SIGNERCTL" metrics --bogus 2>/dev/null
check "... exit 2" [ $? = 2 ]

# --- a fresh signerd -------------------------------------------------------
ok "signerctl metrics answers" metrics
ok "promtool check metrics accepts it" promtool_ok
check "signerd_up 1" [ "$(sample signerd_up)" = 1 ]
check "every policy asset has a signature counter at 0" \
	[ "$(sample 'signerd_signatures_total{asset="ETH"}'),$(sample 'signerd_signatures_total{asset="TUSD"}')" = 0,0 ]
check "the daily limits are the policy's (base units)" \
	[ "$(sample 'signerd_exposure_limit{asset="ETH"}'),$(sample 'signerd_exposure_limit{asset="TUSD"}')" = 5000000,5000 ]
check "not paused" [ "$(sample signerd_paused)" = 0 ]
fails "no refusal yet" grep -q '^signerd_refusals_total{' "$WORK/m.prom"
check "the HSM error family exists before any error" \
	[ "$(sample 'signerd_hsm_errors_total{kind="ERR_HSM"}')" = 0 ]
started=$(sample signerd_start_time_seconds)
check "the start time is now (+-60 s)" \
	[ $((started - $(date +%s))) -le 60 -a $(($(date +%s) - started)) -le 60 ]

# --- signatures and refusals of two kinds ------------------------------------
# ETH below 100000 needs no approval; TUSD below 1000 neither.
for i in 1 2 3; do
	sd_sign "eth-$i" ETH $((1000 * i)) "$i" >>"$WORK/sign.out"
done
sd_sign tusd-1 TUSD 500 10 >>"$WORK/sign.out"
check "four payouts signed" [ "$(grep -c '^SIGNED' "$WORK/sign.out")" = 4 ]
# Kind 1: a request id reused with other content (twice).
sd_sign eth-1 ETH 1001 1 >>"$WORK/refused.out"
sd_sign eth-2 ETH 2001 2 >>"$WORK/refused.out"
# Kind 2: above the approval threshold without approvals.
sd_request big-1 ETH "$R" 150000 20 "[]" >"$W/big-1.json"
sd_reason sign "$W/big-1.json" >>"$WORK/refused.out"
# An asset the policy does not have: counted under asset="none".
sd_load --threads 1 --count 1 --asset DOGE --amount 5 --id-prefix doge \
	--nonce-base 30 | grep -v '^SUMMARY' >>"$WORK/refused.out"
check "the refusals are what the test expects" \
	[ "$(grep -o 'REQUEST_ID_CONFLICT\|APPROVALS_MISSING\|UNKNOWN_ASSET' "$WORK/refused.out" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = \
	  "APPROVALS_MISSING=1 REQUEST_ID_CONFLICT=2 UNKNOWN_ASSET=1 " ]
# A repeat of a signed request is neither a signature nor a refusal.
sd_sign eth-3 ETH 3000 3 >>"$WORK/sign.out"

# --- pause -------------------------------------------------------------------
sd_approve_op erin pause m-1 >"$W/pause.json"
check "an approver pauses signerd" \
	[ "$(sd_ctl pause --pause-id m-1 --approval "$W/pause.json" | jq -r .reason)" = OK ]
sd_request paused-1 ETH "$R" 1000 40 "[]" >"$W/paused-1.json"
check "a payout while paused is refused" [ "$(sd_reason sign "$W/paused-1.json")" = PAUSED ]

ok "signerctl metrics answers" metrics
ok "promtool check metrics accepts it" promtool_ok
status=$("$SIGNERCTL" status --socket "$SOCK" --json)
check "signatures by asset: ETH 3, TUSD 1" \
	[ "$(sample 'signerd_signatures_total{asset="ETH"}'),$(sample 'signerd_signatures_total{asset="TUSD"}')" = 3,1 ]
check "refusals: ETH REQUEST_ID_CONFLICT 2" \
	[ "$(sample 'signerd_refusals_total{asset="ETH",reason="REQUEST_ID_CONFLICT"}')" = 2 ]
check "refusals: ETH APPROVALS_MISSING 1" \
	[ "$(sample 'signerd_refusals_total{asset="ETH",reason="APPROVALS_MISSING"}')" = 1 ]
check "refusals: ETH PAUSED 1" \
	[ "$(sample 'signerd_refusals_total{asset="ETH",reason="PAUSED"}')" = 1 ]
check "refusals: an asset not in the policy is none, UNKNOWN_ASSET 1" \
	[ "$(sample 'signerd_refusals_total{asset="none",reason="UNKNOWN_ASSET"}')" = 1 ]
check "no other refusal" [ "$(grep -c '^signerd_refusals_total{' "$WORK/m.prom")" = 4 ]
fails "no DOGE label anywhere" grep -q DOGE "$WORK/m.prom"
check "exposure used today: ETH 6000, TUSD 500" \
	[ "$(sample 'signerd_exposure_used{asset="ETH"}'),$(sample 'signerd_exposure_used{asset="TUSD"}')" = 6000,500 ]
check "the exposure agrees with signerctl exposure" \
	[ "$(sample 'signerd_exposure_used{asset="ETH"}')" = "$(sd_ctl exposure --asset ETH --json | jq -r .signed)" ]
check "paused" [ "$(sample signerd_paused)" = 1 ]
head=$(sample signerd_journal_head_seq)
check "the journal head ($head) is status's" \
	[ "$head" -gt 5 -a "$head" = "$(jq -r .journal_seq <<<"$status")" ]
check "sign latencies: one per signature (4)" \
	[ "$(sample signerd_sign_duration_seconds_count),$(sample 'signerd_sign_duration_seconds_bucket{le="+Inf"}')" = 4,4 ]
check "C_Sign latencies: one per signature (4)" \
	[ "$(sample signerd_hsm_sign_duration_seconds_count)" = 4 ]
# Every record made durable here went through one fdatasync or shared
# one: at least one, at most one per record since the start.
fsyncs=$(sample signerd_journal_fsync_duration_seconds_count)
check "journal fdatasyncs timed ($fsyncs)" [ "$fsyncs" -ge 1 -a "$fsyncs" -le "$head" ]
check "the latency sums are positive" \
	awk '$1 ~ /_duration_seconds_sum$/ && !($2 > 0) { bad = 1 } END { exit bad }' "$WORK/m.prom"
check "no HSM error" [ "$(sample 'signerd_hsm_errors_total{kind="ERR_HSM"}')" = 0 ]

# --- admitted like STATUS; a bad frame is refused, signerd stays up -----------
raw() { "$SDCLIENT" raw --socket "$SOCK" "$1" 2>&1; }
check "a METRICS_REQ with a trailing byte is refused as malformed" \
	grep -q 'MALFORMED_REQUEST' <<<"$(raw ${SD_FRAME_HEAD}000d00)"
out=$(setpriv --reuid=65534 --regid=0 --clear-groups "$SDCLIENT" raw --socket "$SOCK" ${SD_FRAME_HEAD}000d 2>&1)
check "a uid not in allowed_uids is refused (PEER_NOT_ALLOWED)" grep -q 'PEER_NOT_ALLOWED' <<<"$out"
ok "and signerd still answers" metrics

# --- checkpoints, and counters that belong to one process ---------------------
ok "signerd stops" signerd_stop
sed -i 's/^checkpoint_interval = .*/checkpoint_interval = 1/' "$SD_CONF"
ok "signerd restarts checkpointing every second" signerd_start
sleep 2.5
ok "signerctl metrics answers" metrics
ok "promtool check metrics accepts it" promtool_ok
check "checkpoints made ($(sample signerd_checkpoints_total))" [ "$(sample signerd_checkpoints_total)" -ge 1 ]
check "no checkpoint failed" [ "$(sample signerd_checkpoint_failures_total)" = 0 ]
check "the last checkpoint is recent" \
	[ "$(sample signerd_last_checkpoint_timestamp_seconds)" -ge "$started" -a \
	  "$(sample signerd_checkpoint_age_seconds)" -le 2 ]
check "counters start again with the process" \
	[ "$(sample 'signerd_signatures_total{asset="ETH"}')" = 0 ]
check "the pause survives the restart" [ "$(sample signerd_paused)" = 1 ]
check "today's exposure comes from the journal: ETH still 6000" \
	[ "$(sample 'signerd_exposure_used{asset="ETH"}')" = 6000 ]

# --- signerd away ---------------------------------------------------------------
ok "signerd stops" signerd_stop
"$SIGNERCTL" metrics --socket "$SOCK" >"$WORK/down.out" 2>"$WORK/down.err"
check "signerctl metrics exits 1 when signerd is unreachable" [ $? = 1 ]
check "... printing nothing on stdout" [ ! -s "$WORK/down.out" ]
check "... and saying why on stderr" grep -q "signerctl metrics: ipc://.*Connection refused\|signerctl metrics: ipc://.*No such file" "$WORK/down.err"
tap_done
