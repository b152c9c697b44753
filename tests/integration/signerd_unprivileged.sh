#!/usr/bin/env bash
# signerd_unprivileged.sh: socket_group, user names in allowed_uids, and
# signerd started as its own user from the first instruction, as its
# systemd unit starts it (User=, no root phase, no capabilities: D63, D66).
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }

# as USER GROUP CMD...: CMD with that uid and gid and no other groups.
as() {
	local u=$1 g=$2
	shift 2
	setpriv --reuid "$u" --regid "$g" --clear-groups "$@"
}

# The orchestrator's side: a peer allowed by name, reaching the socket
# through its group, not through root.
sed -i -e 's/^allowed_uids = .*/allowed_uids = root, nobody/' \
	-e 's/^socket_mode = .*/socket_mode = 0660\nsocket_group = nogroup\nmax_message = 1024/' \
	"$SD_CONF"
ok "signerd (root, then its own drop) starts with socket_group = nogroup" signerd_start
check "the socket belongs to group nogroup" [ "$(stat -c %G "$SD_SOCK")" = nogroup ]
check "with mode 0660" [ "$(stat -c %a "$SD_SOCK")" = 660 ]
check "the log names the group" grep -q 'mode 0660, group 65534' "$WORK/signerd.log"
ok "nobody (allowed by name, in nogroup) asks for the status" \
	as nobody nogroup "$SIGNERCTL" status --socket "ipc://$SD_SOCK"
fails "daemon (in neither) cannot even connect" \
	as daemon daemon "$SIGNERCTL" status --socket "ipc://$SD_SOCK"
# A status request padded to 2000 bytes: refused as malformed when it is
# read, but above max_message = 1024 it is dropped before that.
{ printf '%s0003' "$SD_FRAME_HEAD"; head -c 2000 /dev/zero | od -An -tx1 -v | tr -d ' \n'; } >"$WORK/big.hex"
fails "a 2000-byte frame above max_message = 1024 gets no answer" \
	"$SDCLIENT" raw --socket "ipc://$SD_SOCK" --timeout-ms 1000 "@$WORK/big.hex"
check "a request below it is answered" \
	grep -q MALFORMED_REQUEST <<<"$("$SDCLIENT" raw --socket "ipc://$SD_SOCK" "${SD_FRAME_HEAD}000300" 2>&1)"
ok "signerd stops" signerd_stop

# The unit's way: the process is nobody from the start.  The PIN comes as
# a file of its own (systemd's LoadCredential= makes one, mode 0400).
install -m 0400 -o nobody "$WORK/user.pin" "$WORK/cred.pin"
sed -i "s|^pin_file = .*|pin_file = $WORK/cred.pin|" "$SD_CONF"
# setpriv execs signerd: SD_PID is signerd's own pid.
SD_WRAP="setpriv --reuid nobody --regid nogroup --clear-groups" signerd_start
check "signerd started as nobody is ready" [ -n "$SD_PID" ]
pid=$SD_PID
check "it runs as nobody" [ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = 65534 ]
check "with no capabilities" \
	[ "$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)" = 0000000000000000 ]
check "with no_new_privs and its seccomp filter" \
	[ "$(awk '/^NoNewPrivs:/ {print $2}' /proc/$pid/status)" = 1 ] &&
	[ "$(awk '/^Seccomp:/ {print $2}' /proc/$pid/status)" = 2 ]
check "the socket is its group's" [ "$(stat -c %G "$SD_SOCK")" = nogroup ]
check "and it signs" grep -q '^SIGNED ' <<<"$(sd_sign u1 ETH 1000 0)"
ok "it stops" signerd_stop

# A group it is not in: it cannot give the socket away, and says so.
sed -i 's/^socket_group = .*/socket_group = daemon/' "$SD_CONF"
as nobody nogroup "$SIGNERD" -c "$SD_CONF" -f 2>"$WORK/nogroup.err"
rc=$?
check "started as nobody with socket_group = daemon, it does not start (status $rc)" \
	[ "$rc" -eq 1 ]
check "and names the group" grep -q 'cannot give .* to group 1' "$WORK/nogroup.err"

# What a restart cannot mend is not restarted (RestartPreventExitStatus=).
sed -i 's/^socket_group = .*/socket_group = nogroup/' "$SD_CONF"
sed 's/^workers = .*/workers = 0/' "$SD_CONF" >"$WORK/bad.conf"
"$SIGNERD" -c "$WORK/bad.conf" -f 2>/dev/null
check "a config value out of range: status 78" [ $? -eq 78 ]
make_pin "$WORK/wrong.pin" "not-the-pin"
chown nobody "$WORK/wrong.pin"
sed "s|^pin_file = .*|pin_file = $WORK/wrong.pin|" "$SD_CONF" >"$WORK/bad.conf"
"$SIGNERD" -c "$WORK/bad.conf" -f 2>"$WORK/wrongpin.err"
check "a wrong PIN: status 78, not retried into a locked token" [ $? -eq 78 ]
check "named as such" grep -q 'PIN' "$WORK/wrongpin.err"
"$SIGNERD" -c "$SD_CONF" -f -x 2>/dev/null
check "a wrong command line: status 2" [ $? -eq 2 ]
tap_done
