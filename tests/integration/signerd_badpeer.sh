#!/usr/bin/env bash
# signerd_badpeer.sh: refusals that cost the sender nothing are counted and
# journaled in aggregate, not one fdatasync'd record each (issue 10 item 7).
# A flood of sign requests from a uid that is not allowed and a flood of
# garbage frames from an allowed peer grow the journal by a handful of
# records at most; signerd signs throughout and afterwards; a clean stop
# journals one "refusals" record with the exact counts; a refusal of a
# well-formed request from an allowed peer keeps its own record.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

FLOOD=2000	# sign requests from a uid that is not allowed
EACH=500	# garbage frames of each of four kinds, from root (allowed)
STRANGER=4242	# neither signerd's uid (SD_USER) nor in allowed_uids
SOCK_URL=

check "running as root (the flood runs as uid $STRANGER)" [ "$(id -u)" -eq 0 ]
signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts" signerd_start
SOCK_URL="ipc://$SD_SOCK"

records() { cat "$SD_JOURNAL"/seg-*.jsonl | wc -l; }
# journal_lines TYPE: how many records of TYPE the journal holds.
journal_lines() {
	jq -c --arg t "$1" 'select(.type == $t)' "$SD_JOURNAL"/seg-*.jsonl | wc -l
}

ok "signs before the flood" grep -q '^SIGNED pre-0 ' <(sd_sign pre ETH 1 1)
before=$(records)

# --- a uid that is not allowed, while an allowed client signs -----------
sd_load --threads 1 --count 300 --asset ETH --amount 1 --id-prefix during \
	--nonce-base 1000 >"$WORK/during.out" 2>&1 &
DURING=$!
on_exit '[ -n "${DURING:-}" ] && kill -KILL "$DURING" 2>/dev/null'
t0=$(date +%s%N)
# Group root may open the socket (mode 0660, made by root): the peer uid
# check, not the file mode, is what refuses this client.  --from, so that
# sdclient asks nothing before the flood: exactly $FLOOD frames.
setpriv --reuid=$STRANGER --regid=0 --clear-groups \
	"$SDCLIENT" load --socket "$SOCK_URL" --chain-id 1337 --to "$RECIPIENT" \
	--threads 4 --count $FLOOD --asset ETH --amount 1 --id-prefix stranger \
	--from "$RECIPIENT" --timeout-ms 10000 >"$WORK/stranger.out" 2>&1
wait "$DURING"; DURING=
t1=$(date +%s%N)
echo "# $FLOOD frames from uid $STRANGER in $(( (t1 - t0) / 1000000 )) ms" >&2
check "all $FLOOD requests of uid $STRANGER refused" \
	grep -q "^SUMMARY ok=0 refused=$FLOOD errors=0" "$WORK/stranger.out"
check "each as PEER_NOT_ALLOWED" [ "$(grep -c '^REFUSED .* PEER_NOT_ALLOWED' \
	"$WORK/stranger.out")" -eq $FLOOD ]
check "the allowed client signed all 300 meanwhile" \
	grep -q '^SUMMARY ok=300 refused=0 errors=0' "$WORK/during.out"

# --- garbage from an allowed peer (root) ---------------------------------
# raw KIND HEX: EACH frames of HEX, four clients at a time; tallies the
# reasons of the replies into $WORK/garbage.KIND.
raw() {
	seq 1 $EACH | xargs -P 4 -I{} "$SDCLIENT" raw --socket "$SOCK_URL" "$2" \
		2>>"$WORK/raw.err" | sed -n 's/^result=.* reason=\([A-Z_]*\) .*/\1/p' |
		sort | uniq -c | awk '{print $2, $1}' >"$WORK/garbage.$1"
}
raw magic 58585858000300030000	# no "SGNR"
raw version 53474e5200010003	# a STATUS_REQ of protocol version 1
raw type ${SD_FRAME_HEAD}7777	# this version, a type nobody defined
raw trailing ${SD_FRAME_HEAD}000300	# a STATUS_REQ with a byte after it
check "bad magic: $EACH x MALFORMED_REQUEST" \
	[ "$(cat "$WORK/garbage.magic")" = "MALFORMED_REQUEST $EACH" ]
check "version 1: $EACH x BAD_VERSION" \
	[ "$(cat "$WORK/garbage.version")" = "BAD_VERSION $EACH" ]
check "unknown type: $EACH x MALFORMED_REQUEST" \
	[ "$(cat "$WORK/garbage.type")" = "MALFORMED_REQUEST $EACH" ]
check "STATUS_REQ with a trailing byte: $EACH x MALFORMED_REQUEST" \
	[ "$(cat "$WORK/garbage.trailing")" = "MALFORMED_REQUEST $EACH" ]

after=$(records)
echo "# journal: $before records before the floods, $after after" >&2
# The 300 signatures of the allowed client, and at most a handful more.
check "the journal grew by the 300 signatures and at most 3 other records" \
	[ $((after - before)) -le 303 ]
check "no per-frame refused record" [ "$(journal_lines refused)" -eq 0 ]
ok "signerd still signs after the floods" \
	grep -q '^SIGNED post-0 ' <(sd_sign post ETH 1 2)
# A real refusal (over the per-tx limit) keeps its own record.
sd_sign big ETH 300001 3 >/dev/null
check "a refusal by policy is still journaled on its own" \
	[ "$(sd_journal_reason big-0)" = PER_TX_LIMIT ]
ok "status answers" sd_ctl status

ok "signerd stops cleanly" signerd_stop
check "one refusals record after the stop" [ "$(journal_lines refusals)" -eq 1 ]
# count REASON UID: the count the refusals records give (uid null: other).
count() {
	jq -r --arg r "$1" --argjson u "$2" 'select(.type == "refusals") |
		.counts[] | select(.reason == $r and .peer_uid == $u) | .count' \
		"$SD_JOURNAL"/seg-*.jsonl | paste -sd+ | bc
}
check "PEER_NOT_ALLOWED from uid $STRANGER: $FLOOD" \
	[ "$(count PEER_NOT_ALLOWED $STRANGER)" = "$FLOOD" ]
check "MALFORMED_REQUEST from uid 0: $((3 * EACH))" \
	[ "$(count MALFORMED_REQUEST 0)" = "$((3 * EACH))" ]
check "BAD_VERSION from uid 0: $EACH" [ "$(count BAD_VERSION 0)" = "$EACH" ]
check "counts are decimal strings, since is a time" jq -e -s '
	map(select(.type == "refusals")) | all(.[];
	  (.since | type) == "number" and .since <= .unix and
	  all(.counts[]; (.count | type) == "string"))' \
	"$SD_JOURNAL"/seg-*.jsonl
check "nothing else was counted" [ "$(jq -s '[.[] | select(.type ==
	"refusals") | .counts[] | .count | tonumber] | add' \
	"$SD_JOURNAL"/seg-*.jsonl)" -eq $((FLOOD + 4 * EACH)) ]
ok "the journal verifies" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
check "signerd logged the flood at a bounded rate (< 50 refusal lines)" \
	[ "$(grep -c 'not allowed\|frame refused\|unknown request type\|refusals of peers' \
	"$WORK/signerd.log")" -lt 50 ]
ok "signerd restarts on that journal" signerd_start
ok "and stops again" signerd_stop
tap_done
