# signerd.sh: provision a SoftHSM token, keys, a genesis policy and a config,
# and start/stop a real signerd (source it after tap.sh).  Needs BUILD.
#   signerd_provision        token "signer", keys payout (secp256k1) and
#                            audit (P-256), policy, config; sets PAYOUT_ADDR,
#                            AUDIT_PEM, SD_CONF, SD_SOCK, SD_JOURNAL
#   signerd_start            starts signerd -f, waits for its socket; when
#                            it leaves instead, SD_EXIT is its exit status
#   signerd_stop             SIGTERM, waits; returns signerd's exit status
#   signerd_kill9            SIGKILL, waits
# Limits in the test policy (base units): ETH per tx 300000, per day
# 1000000; TUSD per tx 2000, per day 5000.
#
# SD_POLICY=governed signerd_provision writes the governed policy instead:
# the same limits but 5000000 ETH a day, and approvers alice, bob, carol (P-256 keys made by
# openssl in $WORK/approvers), erin (Ed25519, openssl) and dave (P-256 on
# a second SoftHSM token "approvers", label "dave"); governance: 2 of
# alice, bob, erin; a loosening policy change waits SD_GOV_DELAY (3600)
# seconds.  ETH needs 2 approvals above 100000 and waits
# SD_TIMELOCK_DELAY (3) seconds in the queue above 200000; TUSD needs 2
# approvals above 1000 and pays only RECIPIENT and ACCT2.  mallory has a
# P-256 key too but is in no policy.
source "$(dirname "${BASH_SOURCE[0]}")/softhsm.sh"

# A failing suite shows signerd's last words (before $WORK goes).
on_exit '[ "$ON_EXIT_STATUS" -eq 0 ] || tail -n 15 "$WORK/signerd.log" >&2 2>/dev/null'

SIGNERCTL="$BUILD/signerctl"
SIGNERD="$BUILD/signerd"
SDCLIENT="$BUILD/tools/sdclient"
TUSD_CONTRACT=0x5FbDB2315678afecb367f032d93F642f64180aa3
RECIPIENT=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
SD_PID=
# signerd drops to this user; its token and journal files must be its own.
SD_USER=${SD_USER:-nobody}

# The wire's magic and this build's protocol version (proto/msg.h), as
# hex, for tests that write raw frames: "SGNR" then the u16 version.
SD_FRAME_HEAD=53474e52$(printf '%04x' "$(sed -n 's/^#define PRT_VERSION \([0-9]*\).*/\1/p' \
	"$(dirname "${BASH_SOURCE[0]}")/../../proto/msg.h")")

signerd_provision() {
	make_pin "$WORK/so.pin" "so-$RANDOM$RANDOM"
	make_pin "$WORK/user.pin" "pin-$RANDOM$RANDOM"
	"$SIGNERCTL" token init --module "$SOFTHSM_MODULE" --label signer \
		--so-pin-file "$WORK/so.pin" --pin-file "$WORK/user.pin" >/dev/null || return 1
	PAYOUT_ADDR=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
		--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
		--label payout --type secp256k1 --json | jq -r .address) || return 1
	local audit_pub
	audit_pub=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
		--token pkcs11:token=signer --pin-file "$WORK/user.pin" \
		--label audit --type p256 --json | jq -r .public_key) || return 1
	# SubjectPublicKeyInfo DER prefix for a P-256 point, then the point.
	AUDIT_PEM="$WORK/audit.pem"
	echo "3059301306072a8648ce3d020106082a8648ce3d030107034200${audit_pub#0x}" |
		xxd -r -p | openssl pkey -pubin -inform DER -out "$AUDIT_PEM" || return 1

	cat >"$WORK/policy.json" <<JSON
{
  "policy_id": "test-policy-1",
  "assets": {
    "ETH": {
      "chain_id": 1337, "kind": "native", "decimals": 18, "key": "payout",
      "daily_limit": "1000000", "per_tx_limit": "300000",
      "fee_caps": {"max_fee_per_gas": "200000000000",
                   "max_priority_fee_per_gas": "5000000000", "gas_limit": 100000},
      "confirmations": 1
    },
    "TUSD": {
      "chain_id": 1337, "kind": "erc20", "decimals": 6, "key": "payout",
      "contract": "$TUSD_CONTRACT",
      "daily_limit": "5000", "per_tx_limit": "2000",
      "fee_caps": {"max_fee_per_gas": "200000000000",
                   "max_priority_fee_per_gas": "5000000000", "gas_limit": 100000},
      "confirmations": 1
    }
  }
}
JSON
	if [ "${SD_POLICY:-}" = governed ]; then
		signerd_governed_policy >"$WORK/policy.json" || return 1
	fi
	SD_JOURNAL="$WORK/journal"
	SD_SOCK="$WORK/run/signerd.sock"
	mkdir -p "$SD_JOURNAL" "$WORK/run"
	chown -R "$SD_USER" "$WORK/tokens" "$SD_JOURNAL" "$WORK/run"
	chmod 0755 "$WORK"
	SD_CONF="$WORK/signerd.conf"
	cat >"$SD_CONF" <<CONF
[hsm]
module = $SOFTHSM_MODULE
token = pkcs11:token=signer
pin_file = $WORK/user.pin
sessions = 2
audit_key = pkcs11:token=signer;object=audit

[keys]
payout = pkcs11:token=signer;object=payout

[journal]
dir = $SD_JOURNAL
checkpoint_interval = 3600
snapshot_interval = ${SD_SNAPSHOT_INTERVAL:-100000}

[policy]
genesis = $WORK/policy.json

[server]
listen = ipc://$SD_SOCK
socket_mode = 0660
allowed_uids = 0
user = $SD_USER
workers = ${SD_WORKERS:-4}
CONF
}

signerd_start() {
	local i
	# Never lose track of a running daemon: only one per test at a time.
	signerd_kill9
	rm -f "$SD_SOCK"
	${SD_WRAP:-} "$SIGNERD" -c "$SD_CONF" -f ${SD_ARGS:-} 2>>"$WORK/signerd.log" &
	SD_PID=$!
	for i in $(seq 1 100); do
		[ -S "$SD_SOCK" ] && grep -q '"ready' "$WORK/signerd.log" && return 0
		# SD_EXIT: the status it left with (signerd(8), D63).
		kill -0 "$SD_PID" 2>/dev/null || {
			wait "$SD_PID"
			SD_EXIT=$?
			SD_PID=
			return 1
		}
		sleep 0.1
	done
	return 1
}

signerd_stop() {
	local rc
	[ -n "$SD_PID" ] || return 0
	kill -TERM "$SD_PID" 2>/dev/null
	( sleep 30; kill -KILL "$SD_PID" 2>/dev/null ) &
	local guard=$!
	wait "$SD_PID"; rc=$?
	# SIGKILL: a TERM that reached the guard before it reset the traps
	# it inherited would run this script's whole on_exit list in it.
	kill -KILL "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
	SD_PID=
	return $rc
}

signerd_kill9() {
	[ -n "$SD_PID" ] || return 0
	kill -KILL "$SD_PID" 2>/dev/null
	wait "$SD_PID" 2>/dev/null
	SD_PID=
}

# --- the governed policy: approvers, governance, timelock ---------------
ACCT2=0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC
SD_POLICY_ID=test-governed-1
SD_TIMELOCK_DELAY=${SD_TIMELOCK_DELAY:-8}
APPROVERS="$WORK/approvers"
DAVE_URI="pkcs11:token=approvers;object=dave"

# Approver keys the way an approver makes them: openssl, mode 0600.
signerd_make_approvers() {
	local n
	mkdir -p "$APPROVERS"
	for n in alice bob carol mallory; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out "$APPROVERS/$n.key" 2>/dev/null || return 1
		openssl pkey -in "$APPROVERS/$n.key" -pubout -out "$APPROVERS/$n.pem" || return 1
	done
	openssl genpkey -algorithm ED25519 -out "$APPROVERS/erin.key" || return 1
	openssl pkey -in "$APPROVERS/erin.key" -pubout -out "$APPROVERS/erin.pem" || return 1
	# dave's key never leaves its token: a second token, his own PIN.
	make_pin "$WORK/approvers-so.pin" "aso-$RANDOM$RANDOM"
	make_pin "$WORK/dave.pin" "dave-$RANDOM$RANDOM"
	"$SIGNERCTL" token init --module "$SOFTHSM_MODULE" --label approvers \
		--so-pin-file "$WORK/approvers-so.pin" --pin-file "$WORK/dave.pin" >/dev/null || return 1
	local pub
	pub=$("$SIGNERCTL" key generate --module "$SOFTHSM_MODULE" \
		--token pkcs11:token=approvers --pin-file "$WORK/dave.pin" \
		--label dave --type p256 --json | jq -r .public_key) || return 1
	echo "3059301306072a8648ce3d020106082a8648ce3d030107034200${pub#0x}" |
		xxd -r -p | openssl pkey -pubin -inform DER -out "$APPROVERS/dave.pem"
}

signerd_governed_policy() {
	signerd_make_approvers || return 1
	jq -n --arg a "$(cat "$APPROVERS/alice.pem")" --arg b "$(cat "$APPROVERS/bob.pem")" \
		--arg c "$(cat "$APPROVERS/carol.pem")" --arg e "$(cat "$APPROVERS/erin.pem")" \
		--arg d "$(cat "$APPROVERS/dave.pem")" --arg token "$TUSD_CONTRACT" \
		--arg r1 "$RECIPIENT" --arg r2 "$ACCT2" --arg id "$SD_POLICY_ID" \
		--argjson delay "$SD_TIMELOCK_DELAY" \
		--argjson gdelay "${SD_GOV_DELAY:-3600}" '
	def caps: {max_fee_per_gas: "200000000000",
		max_priority_fee_per_gas: "5000000000", gas_limit: 100000};
	def set: ["alice", "bob", "carol", "erin", "dave"];
	{policy_id: $id,
	 approvers: {alice: {public_key_pem: ($a + "\n")}, bob: {public_key_pem: ($b + "\n")},
		carol: {public_key_pem: ($c + "\n")}, erin: {public_key_pem: ($e + "\n")},
		dave: {public_key_pem: ($d + "\n")}},
	 governance: {m: 2, approvers: ["alice", "bob", "erin"], delay: $gdelay},
	 assets: {
	  ETH: {chain_id: 1337, kind: "native", decimals: 18, key: "payout",
		daily_limit: "5000000", per_tx_limit: "300000",
		approval: {threshold: "100000", m: 2, approvers: set},
		timelock: {threshold: "200000", delay_seconds: $delay},
		fee_caps: caps, confirmations: 1},
	  TUSD: {chain_id: 1337, kind: "erc20", decimals: 6, key: "payout",
		contract: $token, daily_limit: "5000", per_tx_limit: "2000",
		approval: {threshold: "1000", m: 2, approvers: set},
		allowlist: [$r1, $r2], fee_caps: caps, confirmations: 1}}}'
}

# sd_text_sign ID CHAIN ASSET TO AMOUNT EXPIRES: the exact approval text
# of a payout (docs/approvals.md), as an approver writes it with printf.
sd_text_sign() {
	printf 'signer-approval v1\naction: sign\npolicy: %s\nrequest: %s\nchain: %s\nasset: %s\nto: %s\namount: %s\nexpires: %s\n' \
		"$SD_POLICY_ID" "$1" "$2" "$3" "$4" "$5" "$6"
}

# sd_text_op ACTION ID EXPIRES: the text of a cancel, pause or unpause.
sd_text_op() {
	printf 'signer-approval v1\naction: %s\npolicy: %s\nrequest: %s\nexpires: %s\n' \
		"$1" "$SD_POLICY_ID" "$2" "$3"
}

# sd_openssl_approval NAME KEYFILE TEXTFILE EXPIRES: an approval made with
# openssl alone (the commands docs/approvals.md gives), as JSON.
sd_openssl_approval() {
	local name=$1 key=$2 text=$3 expires=$4
	if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^ED25519'; then
		openssl pkeyutl -sign -rawin -inkey "$key" -in "$text" -out "$text.sig" || return 1
	else
		openssl dgst -sha256 -sign "$key" -out "$text.sig" "$text" || return 1
	fi
	jq -cn --arg a "$name" --argjson e "$expires" \
		--arg s "$(xxd -p "$text.sig" | tr -d '\n')" \
		'{approver: $a, expiry: $e, signature: $s}'
}

# sd_approve NAME ID CHAIN ASSET TO AMOUNT [EXPIRES]: NAME's approval of a
# payout, made with openssl from NAME's key file.
sd_approve() {
	local exp=${7:-$(($(date +%s) + 3600))} f="$APPROVERS/text.$RANDOM$RANDOM"
	sd_text_sign "$2" "$3" "$4" "$5" "$6" "$exp" >"$f"
	sd_openssl_approval "$1" "$APPROVERS/$1.key" "$f" "$exp"
}

# sd_approve_op NAME ACTION ID [EXPIRES]: likewise for cancel/pause/unpause.
sd_approve_op() {
	local exp=${4:-$(($(date +%s) + 3600))} f="$APPROVERS/text.$RANDOM$RANDOM"
	sd_text_op "$2" "$3" "$exp" >"$f"
	sd_openssl_approval "$1" "$APPROVERS/$1.key" "$f" "$exp"
}

# sd_request ID ASSET TO AMOUNT NONCE APPROVALS_JSON [mktx args...]: a
# signerctl request file on stdout; the transaction pays TO AMOUNT (for
# TUSD through the token contract) unless mktx args say otherwise.
sd_request() {
	local id=$1 asset=$2 to=$3 amount=$4 nonce=$5 aps=$6 tx
	shift 6
	if [ "$asset" = TUSD ]; then
		tx=$("$SDCLIENT" mktx --chain-id 1337 --nonce "$nonce" --to "$to" \
			--token "$TUSD_CONTRACT" --token-amount "$amount" --gas 60000 "$@")
	else
		tx=$("$SDCLIENT" mktx --chain-id 1337 --nonce "$nonce" --to "$to" \
			--value "$amount" "$@")
	fi || return 1
	jq -n --arg id "$id" --arg asset "$asset" --arg to "$to" --arg amount "$amount" \
		--arg tx "$tx" --argjson aps "$aps" \
		'{request_id: $id, asset: $asset, chain_id: 1337, to: $to,
		  amount: $amount, tx: $tx, approvals: $aps}'
}

# sd_ctl CMD ARGS...: a signerctl command against this signerd; prints
# its JSON reply (reason OK when it went through).
sd_ctl() {
	local cmd=$1
	shift
	"$SIGNERCTL" "$cmd" --socket "ipc://$SD_SOCK" "$@" 2>>"$WORK/signerctl.err"
}

# sd_reason CMD REQUEST_FILE: the reason signerd gave for a sign or queue.
sd_reason() {
	sd_ctl "$1" --request "$2" | jq -r .reason
}

# sd_journal_reason ID: the reason of the newest refusal journaled for ID.
sd_journal_reason() {
	jq -r --arg id "$1" 'select(.type == "refused" and .request_id == $id) | .reason' \
		"$SD_JOURNAL"/seg-*.jsonl | tail -1
}

# Never leave a daemon behind, whatever happens to the test.
on_exit 'signerd_kill9'

# sd_load ARGS...: sdclient load against this signerd with ETH defaults.
sd_load() {
	"$SDCLIENT" load --socket "ipc://$SD_SOCK" --chain-id 1337 --to "$RECIPIENT" "$@"
}

# sd_sign ID ASSET AMOUNT [NONCE]: one request; prints the sdclient line.
sd_sign() {
	local extra=()
	[ "$2" = TUSD ] && extra=(--token "$TUSD_CONTRACT" --gas 60000)
	sd_load --threads 1 --count 1 --asset "$2" --amount "$3" \
		--id-prefix "$1" --nonce-base "${4:-0}" "${extra[@]}" | grep -v '^SUMMARY'
}

# --- forging journals, as an attacker who can write the journal directory --
# (signerd_tamper.sh).  Each keeps the files' owners: rewrites go through
# the existing inode.

# sd_rec_hash LINE: the hash of a record (its line without the newline).
sd_rec_hash() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# sd_rechain DIR: recomputes every record's prev (and keeps its seq) in the
# segments of DIR, in order, so that a record edited in place chains
# again.  Checkpoints are left as they are: only the HSM can sign.
sd_rechain() {
	local dir=$1 prev=0000000000000000000000000000000000000000000000000000000000000000
	local f line seq rest tmp="$1/.rechain.tmp"
	for f in "$dir"/seg-*.jsonl; do
		: >"$tmp"
		while IFS= read -r line; do
			[[ $line =~ ^\{\"prev\":\"[0-9a-f]{64}\",\"seq\":([0-9]+),(.*)$ ]] || return 1
			seq=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
			line="{\"prev\":\"$prev\",\"seq\":$seq,$rest"
			printf '%s\n' "$line" >>"$tmp"
			prev=$(sd_rec_hash "$line")
		done <"$f"
		cat "$tmp" >"$f" || return 1
	done
	rm -f "$tmp"
}

# sd_append_record DIR JSON: appends the record body JSON (an object
# without prev and seq) to the newest segment of DIR, chained onto its last
# record the way signerd writes them (keys sorted, compact).  Prints the
# new record's seq.
sd_append_record() {
	local seg last body seq
	seg=$(ls "$1"/seg-*.jsonl | sort | tail -1)
	last=$(tail -n 1 "$seg")
	seq=$(($(jq -r .seq <<<"$last") + 1))
	body=$(jq -cS . <<<"$2") || return 1
	printf '{"prev":"%s","seq":%d,%s\n' "$(sd_rec_hash "$last")" "$seq" "${body#\{}" >>"$seg"
	echo "$seq"
}

# sd_journal_last DIR: the newest record of DIR (its line).
sd_journal_last() {
	tail -n 1 "$(ls "$1"/seg-*.jsonl | sort | tail -1)"
}

# sd_snapshot_forge SNAP PAYLOAD OUT: a snapshot with SNAP's position (seq,
# record hash) and signature but PAYLOAD as its state, and its checksum
# recomputed: what someone who can write the journal directory, but not
# use the audit key, can make.  Layout in docs/journal-format.md.
sd_snapshot_forge() {
	local snap=$1 payload=$2 out=$3 len siglen
	# JNLSNAP2: u64 keep_from after the hash, so the length is at 56.
	len=$((16#$(xxd -p -s 56 -l 8 "$snap")))
	siglen=$((16#$(xxd -p -s $((64 + len - 2)) -l 2 "$snap")))
	{
		head -c 56 "$snap"
		printf '%016x' $(($(stat -c %s "$payload") + siglen + 2)) | xxd -r -p
		cat "$payload"
		tail -c +$((65 + len - 2 - siglen)) "$snap" | head -c $((siglen + 2))
	} >"$out.body" || return 1
	{ cat "$out.body"; sha256sum "$out.body" | cut -d' ' -f1 | xxd -r -p; } >"$out"
	rm -f "$out.body"
}

# sd_fail_seq TEXT: the seq named by the last journal error in
# the text ("seg-... offset N seq S: reason"), or nothing.
sd_fail_seq() {
	grep -o 'offset [0-9]* seq [0-9]*' <<<"$1" | tail -1 | awk '{print $4}'
}
