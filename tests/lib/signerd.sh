# signerd.sh: provision a SoftHSM token, keys, a genesis policy and a config,
# and start/stop a real signerd (source it after tap.sh).  Needs BUILD.
#   signerd_provision        token "signer", keys payout (secp256k1) and
#                            audit (P-256), policy, config; sets PAYOUT_ADDR,
#                            AUDIT_PEM, SD_CONF, SD_SOCK, SD_JOURNAL
#   signerd_start            starts signerd -f, waits for its socket
#   signerd_stop             SIGTERM, waits; returns signerd's exit status
#   signerd_kill9            SIGKILL, waits
# Limits in the test policy (base units): ETH per tx 300000, per day
# 1000000; TUSD per tx 2000, per day 5000.
source "$(dirname "${BASH_SOURCE[0]}")/softhsm.sh"

SIGNERCTL="$BUILD/signerctl"
SIGNERD="$BUILD/signerd"
SDCLIENT="$BUILD/tools/sdclient"
TUSD_CONTRACT=0x5FbDB2315678afecb367f032d93F642f64180aa3
RECIPIENT=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
SD_PID=
# signerd drops to this user; its token and journal files must be its own.
SD_USER=${SD_USER:-nobody}

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
	${SD_WRAP:-} "$SIGNERD" -c "$SD_CONF" -f 2>>"$WORK/signerd.log" &
	SD_PID=$!
	for i in $(seq 1 100); do
		[ -S "$SD_SOCK" ] && grep -q '"ready' "$WORK/signerd.log" && return 0
		kill -0 "$SD_PID" 2>/dev/null || { SD_PID=; return 1; }
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
	kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
	SD_PID=
	return $rc
}

signerd_kill9() {
	[ -n "$SD_PID" ] || return 0
	kill -KILL "$SD_PID" 2>/dev/null
	wait "$SD_PID" 2>/dev/null
	SD_PID=
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
