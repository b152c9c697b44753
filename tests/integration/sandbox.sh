#!/usr/bin/env bash
# sandbox.sh: signerd's sandbox (privilege drop + seccomp) around real SoftHSM signing, NNG and journal I/O (TAP).
# tests/tools/sandboxed_signer does what signerd does after its sandbox is
# up; it must run clean, and each forbidden call must die of SIGSYS.
# Then a real signerd is stopped and continued under signing load, as a
# debugger, a cgroup freeze or a container pause would (issue 15 item 6).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source tests/lib/tap.sh
source tests/lib/signerd.sh	# and softhsm.sh

CTL=$BUILD/signerctl
TOOL=$BUILD/tools/sandboxed_signer
SIGSYS_STATUS=$((128 + 31))	# how a shell reports death by SIGSYS

check "signerctl and sandboxed_signer were built" [ -x "$CTL" ] && [ -x "$TOOL" ]

make_random_pin "$WORK/so.pin"
make_random_pin "$WORK/user.pin"
ok "token init" "$CTL" token init --module "$SOFTHSM_MODULE" --label signer \
	--so-pin-file "$WORK/so.pin" --pin-file "$WORK/user.pin"
ok "payout key (secp256k1)" "$CTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" --label payout \
	--type secp256k1
AUDIT_PUB=$("$CTL" key generate --module "$SOFTHSM_MODULE" \
	--token pkcs11:token=signer --pin-file "$WORK/user.pin" --label audit \
	--type p256 --json | jq -r .public_key)
check "audit key (P-256)" [ -n "$AUDIT_PUB" ]
# SubjectPublicKeyInfo DER prefix for a P-256 point, then the point.
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200${AUDIT_PUB#0x}" |
	xxd -r -p | openssl pkey -pubin -inform DER -out "$WORK/audit.pem" 2>/dev/null
check "audit public key as PEM" [ -s "$WORK/audit.pem" ]

# As root the tool drops to nobody, like signerd to its user: the token and
# journal files it touches after the drop must be nobody's.
RUN="$WORK/run"
mkdir -p "$RUN/journal"
if [ "$(id -u)" -eq 0 ]; then
	chown -R nobody "$WORK/tokens" "$RUN"
	chmod 0755 "$WORK"
	EXPECT_UID=$(id -u nobody)
else
	EXPECT_UID=$(id -u)
fi

# sandboxed ARGS...: the tool on this token; stdout in $OUT, status in $RC.
sandboxed() {
	OUT=$("$TOOL" --module "$SOFTHSM_MODULE" --token pkcs11:token=signer \
		--key "pkcs11:token=signer;object=payout" \
		--pin-file "$WORK/user.pin" --dir "$RUN" "$@" 2>>"$WORK/tool.log")
	RC=$?
}

sandboxed --audit-key "pkcs11:token=signer;object=audit"
check "100 signatures from 2 threads under the sandbox: exit 0 (got $RC)" \
	[ "$RC" -eq 0 ]
check "every signature was made and answered" \
	grep -q '^signed 100 digests' <<<"$OUT"
check "the filter was on: Seccomp 2 (filter mode)" \
	grep -qP '^Seccomp:\t2$' <<<"$OUT"
check "no_new_privs was set" grep -qP '^NoNewPrivs:\t1$' <<<"$OUT"
check "it ran as uid $EXPECT_UID, all four ids" \
	grep -qP "^Uid:\t$EXPECT_UID\t$EXPECT_UID\t$EXPECT_UID\t$EXPECT_UID\$" <<<"$OUT"
check "the journal rotated segments under the sandbox" \
	[ -e "$RUN/journal/seg-00000002.jsonl" ]
check "two snapshots kept, the oldest pruned" \
	[ "$(ls "$RUN"/journal/snap-*.bin 2>/dev/null | wc -l)" -eq 2 ]
check "a checkpoint was signed under the sandbox" \
	grep -q '"type":"checkpoint"' "$RUN"/journal/seg-*.jsonl
# The tool writes synthetic records, not signerd's: the chain, checkpoint
# and file layer is what is under test here.
ok "the journal written under the sandbox verifies, checkpoint included" \
	"$CTL" audit verify --chain-only --journal "$RUN/journal" --pubkey "$WORK/audit.pem"
check "100 signature records in the journal" [ "$(cat "$RUN"/journal/seg-*.jsonl |
	grep -c '"type":"test-signed"')" -eq 100 ]

# A character device on stdout: glibc asks isatty() before buffering.
rm -rf "$RUN/journal" && mkdir "$RUN/journal"
[ "$(id -u)" -eq 0 ] && chown nobody "$RUN/journal"
( "$TOOL" --module "$SOFTHSM_MODULE" --token pkcs11:token=signer \
	--key "pkcs11:token=signer;object=payout" --pin-file "$WORK/user.pin" \
	--dir "$RUN" --count 10 >/dev/null 2>>"$WORK/tool.log" )
RC=$?
check "stdout on /dev/null: exit 0 (got $RC)" [ "$RC" -eq 0 ]

# The tcp loopback listener the config allows must survive the filter too.
rm -rf "$RUN/journal" && mkdir "$RUN/journal"
[ "$(id -u)" -eq 0 ] && chown nobody "$RUN/journal"
PORT=$((20000 + RANDOM % 20000))
sandboxed --count 20 --listen "tcp://127.0.0.1:$PORT"
check "tcp://127.0.0.1 listener under the sandbox: exit 0 (got $RC)" \
	[ "$RC" -eq 0 ]

# Each forbidden call kills the whole process with SIGSYS.
for call in execve socket ptrace fork connect; do
	rm -rf "$RUN/journal" && mkdir "$RUN/journal"
	[ "$(id -u)" -eq 0 ] && chown nobody "$RUN/journal"
	( sandboxed --forbidden "$call"; exit "$RC" ) 2>/dev/null
	RC=$?
	check "forbidden $call: killed by SIGSYS (status $RC)" \
		[ "$RC" -eq "$SIGSYS_STATUS" ]
done

# --- SIGSTOP and SIGCONT: a real signerd, under load ---------------------
# A stop interrupts every thread's blocking call; on SIGCONT the kernel
# resumes a futex wait with a timeout through restart_syscall, which the
# filter must allow.  Each round stops signerd while a load is in flight
# (six in all, the last one idle), continues it, and the load must finish
# with every request signed.  Its own token: the tool's is removed first.
rm -rf "$WORK/tokens"/* "$RUN"
STOP_ROUNDS=5
STOP_COUNT=1000	# requests per round; amount 1 keeps far below the limits
LOAD_PID=
on_exit '[ -n "$LOAD_PID" ] && kill -KILL "$LOAD_PID" 2>/dev/null'
ok "signerd provisioned" signerd_provision
ok "signerd starts under its sandbox" signerd_start
sd_alive() { [ -n "$SD_PID" ] && kill -0 "$SD_PID" 2>/dev/null; }
for round in $(seq 1 $STOP_ROUNDS); do
	# sdclient itself in the background, so a kill reaches it.
	"$SDCLIENT" load --socket "ipc://$SD_SOCK" --chain-id 1337 \
		--to "$RECIPIENT" --threads 2 --count $STOP_COUNT --asset ETH --amount 1 \
		--timeout-ms 10000 --id-prefix "stop$round" \
		--nonce-base $((round * 10000)) >"$WORK/stop$round.out" 2>&1 &
	LOAD_PID=$!
	sleep "0.$((1 + RANDOM % 3))"
	inflight=0
	kill -0 "$LOAD_PID" 2>/dev/null && inflight=1
	kill -STOP "$SD_PID"
	sleep 0.3
	kill -CONT "$SD_PID"
	# A dead signerd would leave the load retrying until its timeouts.
	while kill -0 "$LOAD_PID" 2>/dev/null && sd_alive; do
		sleep 0.1
	done
	sd_alive || kill -KILL "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID"; load_rc=$?
	LOAD_PID=
	check "round $round: the load was in flight when signerd was stopped" \
		[ "$inflight" -eq 1 ]
	check "round $round: signerd survives SIGSTOP then SIGCONT" sd_alive
	check "round $round: all $STOP_COUNT requests signed (load exit $load_rc)" \
		grep -q "^SUMMARY ok=$STOP_COUNT refused=0 errors=0" "$WORK/stop$round.out"
	sd_alive || break
done
kill -STOP "$SD_PID" 2>/dev/null
sleep 0.5
kill -CONT "$SD_PID" 2>/dev/null
sleep 0.3
check "idle: signerd survives SIGSTOP then SIGCONT" sd_alive
check "and still signs" grep -q '^SIGNED stopidle-0 ' <(sd_sign stopidle ETH 1 99999)
check "signed records: $((STOP_ROUNDS * STOP_COUNT + 1))" [ "$(jq -c \
	'select(.type == "signed")' "$SD_JOURNAL"/seg-*.jsonl | wc -l)" -eq \
	$((STOP_ROUNDS * STOP_COUNT + 1)) ]
ok "signerd stops cleanly" signerd_stop
ok "its journal verifies" "$CTL" audit verify --journal "$SD_JOURNAL" \
	--pubkey "$AUDIT_PEM"

if [ "$TAP_FAILED" -ne 0 ]; then
	echo "# tool log:"
	sed 's/^/# /' "$WORK/tool.log" | tail -40
	echo "# signerd log:"
	grep -v '"request .* signed' "$WORK/signerd.log" 2>/dev/null |
		sed 's/^/# /' | tail -20
fi
tap_done
