#!/usr/bin/env bash
# signerd.sh: a real signerd on a SoftHSM2 token.  Sign path, idempotency,
# limits across restarts and under concurrent clients, bad frames, unknown
# peers, the sandbox as seen in /proc, and journal tampering.
# Invariants 1, 2, 3, 5 (request ids) and 6 of ARCHITECTURE.md.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }
ok "signerd starts" signerd_start
SOCK="ipc://$SD_SOCK"

status_json=$("$SIGNERCTL" status --socket "$SOCK" --json)
check "status names the payout key and its address" \
	[ "$(jq -r '.keys[0].address' <<<"$status_json")" = "$PAYOUT_ADDR" ]
check "status shows the policy hash of the genesis file" \
	[ "$(jq -r .policy_hash <<<"$status_json")" = "$(sha256sum "$WORK/policy.json" | cut -d' ' -f1)" ]

# --- the sign path -----------------------------------------------------
out=$(sd_sign pay-1 ETH 1000 0)
check "a payout within policy is signed" grep -q '^SIGNED pay-1-0 0x' <<<"$out"
hash1=$(awk '{print $3}' <<<"$out")
out=$(sd_sign pay-1 ETH 1000 0)
check "the same request again returns the same transaction" \
	[ "$(awk '{print $3}' <<<"$out")" = "$hash1" ]
exp=$("$SIGNERCTL" exposure --socket "$SOCK" --asset ETH --json)
check "an idempotent re-sign is counted once" [ "$(jq -r .signed <<<"$exp")" = 1000 ]
check "the same request id with other content is refused" \
	grep -q 'REFUSED pay-1-0 REQUEST_ID_CONFLICT' <<<"$(sd_sign pay-1 ETH 1001 0)"
check "over the per-transaction limit is refused" \
	grep -q 'PER_TX_LIMIT' <<<"$(sd_sign big ETH 300001 1)"
check "a stated amount that differs from the transaction is refused" \
	grep -q 'INTENT_MISMATCH' <<<"$(sd_load --threads 1 --count 1 --asset ETH \
		--amount 500 --stated-amount 400 --id-prefix lie1 --nonce-base 2)"
check "a stated recipient that differs from the transaction is refused" \
	grep -q 'INTENT_MISMATCH' <<<"$(sd_load --threads 1 --count 1 --asset ETH \
		--amount 500 --stated-to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \
		--id-prefix lie2 --nonce-base 2)"
check "a stated asset that differs from the transaction is refused" \
	grep -q 'INTENT_MISMATCH\|UNKNOWN_ASSET' <<<"$(sd_load --threads 1 --count 1 \
		--asset TUSD --amount 500 --id-prefix lie3 --nonce-base 2)"
check "a token transfer to an unregistered contract is refused" \
	grep -q 'UNKNOWN_TOKEN_CONTRACT' <<<"$(sd_load --threads 1 --count 1 \
		--asset TUSD --amount 5 --gas 60000 \
		--token 0x90F79bf6EB2c4f870365E785982E1f101E93b906 --id-prefix rogue)"
check "an ERC-20 transfer to the registered contract is signed" \
	grep -q '^SIGNED tok-1-0' <<<"$(sd_sign tok-1 TUSD 500 3)"
jq -c 'select(.type=="refused")' "$SD_JOURNAL"/seg-*.jsonl >"$WORK/refused.jsonl"
check "every refusal is journaled with its reason" \
	[ "$(jq -r .reason "$WORK/refused.jsonl" | sort -u | tr '\n' ' ')" = \
	  "INTENT_MISMATCH PER_TX_LIMIT REQUEST_ID_CONFLICT UNKNOWN_TOKEN_CONTRACT " ]

# --- the daily limit, across a restart -----------------------------------
# ETH: 1000 signed so far; three more of 300000 reach 901000, a fourth
# would pass 1000000.
sd_load --threads 1 --count 3 --asset ETH --amount 300000 --id-prefix day \
	--nonce-base 10 >"$WORK/day.out"
check "payouts up to the daily limit are signed" [ "$(grep -c ^SIGNED "$WORK/day.out")" = 3 ]
check "the payout that would pass the daily limit is refused" \
	grep -q 'DAILY_LIMIT' <<<"$(sd_sign over ETH 100000 20)"
ok "signerd stops cleanly on SIGTERM" signerd_stop
check "the journal records the stop and a final checkpoint" \
	[ "$(tail -n 2 "$SD_JOURNAL"/seg-*.jsonl | jq -r .type | tr '\n' ' ')" = "stopped checkpoint " ]
ok "signerd restarts on the same journal" signerd_start
exp=$("$SIGNERCTL" exposure --socket "$SOCK" --asset ETH --json)
check "a restart does not reset exposure" [ "$(jq -r .signed <<<"$exp")" = 901000 ]
check "the limit still holds after the restart" \
	grep -q 'DAILY_LIMIT' <<<"$(sd_sign over2 ETH 100000 21)"
check "an idempotent re-sign still works after the restart" \
	[ "$(sd_sign pay-1 ETH 1000 0 | awk '{print $3}')" = "$hash1" ]

# --- concurrent clients racing for the last of a limit --------------------
# TUSD: 500 signed; 4500 left; 24 clients ask 1000 each at once: exactly
# 4 may win.
sd_load --threads 8 --count 24 --asset TUSD --amount 1000 --gas 60000 \
	--token "$TUSD_CONTRACT" --id-prefix race --nonce-base 100 >"$WORK/race.out"
check "exactly four of 24 racing requests fit under the limit" \
	[ "$(grep -c ^SIGNED "$WORK/race.out")" = 4 ]
check "the other 20 are refused for the daily limit" \
	[ "$(grep -c 'REFUSED .* DAILY_LIMIT' "$WORK/race.out")" = 20 ]
exp=$("$SIGNERCTL" exposure --socket "$SOCK" --asset TUSD --json)
check "TUSD exposure is 4500, not more" [ "$(jq -r .signed <<<"$exp")" = 4500 ]

# --- bad frames: each refused, the daemon stays up -------------------------
raw() { "$SDCLIENT" raw --socket "$SOCK" "$1" 2>&1; }
check "garbage is refused as malformed" grep -q 'MALFORMED_REQUEST' <<<"$(raw deadbeef)"
check "a wrong magic is refused" grep -q 'MALFORMED_REQUEST' <<<"$(raw 58585858000100030000)"
check "another protocol version is refused" grep -q 'BAD_VERSION' <<<"$(raw 53474e5200070003)"
check "the previous version (3, SIGN_REQ without created_day) is refused" \
	grep -q 'BAD_VERSION' <<<"$(raw 53474e5200030001000000)"
check "an unknown message type is refused" grep -q 'MALFORMED_REQUEST' <<<"$(raw ${SD_FRAME_HEAD}00ff)"
check "a truncated sign request is refused" grep -q 'MALFORMED_REQUEST' <<<"$(raw ${SD_FRAME_HEAD}0001000000)"
check "a status request with trailing bytes is refused" \
	grep -q 'MALFORMED_REQUEST' <<<"$(raw ${SD_FRAME_HEAD}000300)"
{ printf ${SD_FRAME_HEAD}0001; head -c 70000 /dev/zero | od -An -tx1 -v | tr -d ' \n'; } >"$WORK/big.hex"
fails "an oversized frame gets no answer" "$SDCLIENT" raw --socket "$SOCK" "@$WORK/big.hex"
check "signerd answers the next good request" \
	grep -q '^SIGNED after-junk-0' <<<"$(sd_sign after-junk ETH 10 30)"

# --- a peer whose uid is not allowed -----------------------------------------
# uid 65534 with gid 0: the socket's group (0660 root:root) lets it
# connect, so the peer-uid check itself is what must refuse it.
out=$(setpriv --reuid=65534 --regid=0 --clear-groups "$SDCLIENT" raw --socket "$SOCK" 53474e5200030003 2>&1)
check "a connection from a uid not in the list is refused" grep -q 'PEER_NOT_ALLOWED' <<<"$out"
check "the refusal names the uid in the log" grep -q 'PEER_NOT_ALLOWED.*65534' "$WORK/signerd.log"

# --- the sandbox, as the kernel sees it ---------------------------------------
threads=$(ls /proc/"$SD_PID"/task | wc -l)
seccomp=$(grep -h '^Seccomp:' /proc/"$SD_PID"/task/*/status | grep -c $'\t2$')
nnp=$(grep -h '^NoNewPrivs:' /proc/"$SD_PID"/task/*/status | grep -c $'\t1$')
check "signerd runs several threads" [ "$threads" -ge 3 ]
check "every thread has the seccomp filter (Seccomp: 2)" \
	[ "$threads" -ge 3 ] && [ "$seccomp" = "$threads" ]
check "every thread has NoNewPrivs: 1" [ "$threads" -ge 3 ] && [ "$nnp" = "$threads" ]
check "signerd does not run as root" \
	[ "$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/"$SD_PID"/status)" = 65534655346553465534 ]
check "signerd is not dumpable (no core, no ptrace by its user)" \
	[ "$(stat -c %U /proc/"$SD_PID"/mem)" = root ]
ok "signerd stops cleanly again" signerd_stop
check "the journal counts the refused uid in a refusals record" \
	[ "$(jq -r 'select(.type=="refusals") | .counts[] | select(.reason=="PEER_NOT_ALLOWED") | .peer_uid' "$SD_JOURNAL"/seg-*.jsonl | tail -1)" = 65534 ]

# --- audit and tampering ---------------------------------------------------------
ok "audit verify accepts the untouched journal" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"

# Invariant 8: a snapshot restores exactly what a full replay rebuilds.
# The clean stop wrote a signed snapshot of the head; the auditor's replay
# of every record writes the same state.  snap layout: "JNLSNAP2" | u64 seq |
# hash | u64 keep_from | u64 len | blob | sha256; blob: payload | DER sig |
# u16 sig length.
snap_payload() {
	local f=$1 len siglen
	len=$((16#$(xxd -p -s 56 -l 8 "$f")))
	tail -c +65 "$f" | head -c "$len" >"$WORK/blob"
	siglen=$((16#$(tail -c 2 "$WORK/blob" | xxd -p)))
	head -c $((len - 2 - siglen)) "$WORK/blob"
}
newest_snap=$(ls "$SD_JOURNAL"/snap-*.bin | sort | tail -1)
snap_payload "$newest_snap" >"$WORK/snap.state"
ok "audit verify writes the state a full replay rebuilds" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" \
	--state-out "$WORK/replay.state"
check "the snapshot signerd wrote equals the full replay, byte for byte" \
	cmp -s "$WORK/snap.state" "$WORK/replay.state"
# D55: 32 bytes per signed request inside the window, nothing more.
n_signed=$(jq -r 'select(.type=="signed" and (.fee_bump | not)) | .seq' \
	"$SD_JOURNAL"/seg-*.jsonl | wc -l)
check "the snapshot holds the signed requests (not an empty state)" \
	[ "$(stat -c %s "$WORK/replay.state")" -gt $((n_signed * 32)) ]
signed_total=$(jq -r 'select(.type=="signed" and .asset=="ETH") | .amount' \
	"$SD_JOURNAL"/seg-*.jsonl | paste -sd+ | bc)
check "the journal's signed ETH adds up to what exposure reported" \
	[ "$signed_total" = 901010 ]
cp -a "$SD_JOURNAL" "$WORK/journal.orig"
seg=$(ls "$SD_JOURNAL"/seg-*.jsonl | head -1)
# Lower the amount of one signed record in the middle: a forger's edit.
line=$(grep -n '"type":"signed"' "$seg" | sed -n 2p | cut -d: -f1)
sed -i "${line}s/\"amount\":\"[0-9]*\"/\"amount\":\"1\"/" "$seg"
fails "the forger's edit changed the file" cmp -s "$seg" "$WORK/journal.orig/$(basename "$seg")"
fails "audit verify rejects an altered record" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
out=$("$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM" 2>&1)
check "audit verify names the segment and offset" grep -q 'seg-00000001.jsonl offset [0-9]' <<<"$out"
# Start-up reads only what follows its snapshot (issue 12; the audit above
# reads it all): without the snapshot it verifies from seq 1.
rm -f "$SD_JOURNAL"/snap-*.bin
fails "signerd refuses to start on a tampered journal" signerd_start
check "signerd's error names the segment and offset" \
	grep -q 'seg-00000001.jsonl offset [0-9]' "$WORK/signerd.log"
rm -rf "$SD_JOURNAL" && cp -a "$WORK/journal.orig" "$SD_JOURNAL"
sed -i "${line}d" "$seg"
fails "audit verify rejects a removed record" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
rm -rf "$SD_JOURNAL" && cp -a "$WORK/journal.orig" "$SD_JOURNAL"
ok "the restored journal starts again" signerd_start
ok "and stops" signerd_stop

tap_done
