#!/usr/bin/env bash
# signerd_supervise.sh: a token that becomes unusable, and a journal disk
# that fills up, end in signerd leaving with a status that names the
# failure (69, 74); restarted the way its systemd unit restarts it
# (Restart=on-failure, RestartPreventExitStatus=2 65 78), it keeps
# leaving until the token or the disk is back, then signs again, with
# nothing lost and the journal verifying (D63).
#
# The token goes away for real: SoftHSM's token directory is moved aside,
# so every object handle signerd holds dies (C_SignInit answers
# CKR_OBJECT_HANDLE_INVALID, and keeps doing so once the directory is
# back: only a new login mends it).  The disk fills for real: the journal
# lives on a small tmpfs that a file fills.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/signerd.sh
export TAP_LOG=/dev/stderr

SUP_PID=
JFS="$WORK/jfs"
on_exit 'supervisor_kill'
on_exit 'mountpoint -q "$JFS" && umount "$JFS"'

signerd_provision || { echo "not ok - provisioning failed"; exit 1; }

# The journal on a 4 MiB tmpfs of its own, when the machine lets us mount
# one (it does as root here and in CI); else the disk-full half is skipped.
mkdir -p "$JFS"
HAVE_TMPFS=0
if mount -t tmpfs -o size=4m,mode=0755 tmpfs "$JFS" 2>/dev/null; then
	HAVE_TMPFS=1
	mkdir "$JFS/journal"
	chown "$SD_USER" "$JFS/journal"
	SD_JOURNAL="$JFS/journal"
	sed -i "s|^dir = .*|dir = $SD_JOURNAL|" "$SD_CONF"
fi

# supervise: signerd's unit's restart rules, as a loop: every exit status
# is appended to $WORK/exits; 0 (stopped), 2, 65 and 78 end the loop.
supervise() {
	local rc
	while :; do
		"$SIGNERD" -c "$SD_CONF" -f 2>>"$WORK/signerd.log" &
		echo $! >"$WORK/child.pid"
		wait $!
		rc=$?
		echo "$rc" >>"$WORK/exits"
		case $rc in 0 | 2 | 65 | 78) return 0 ;; esac
		sleep 0.3
	done
}

supervisor_kill() {
	[ -n "$SUP_PID" ] || return 0
	kill -KILL "$SUP_PID" 2>/dev/null
	kill -KILL "$(cat "$WORK/child.pid" 2>/dev/null)" 2>/dev/null
	wait "$SUP_PID" 2>/dev/null
	SUP_PID=
}

# ready_count: how many times a signerd said it was ready.
ready_count() {
	grep -c '"msg":"ready' "$WORK/signerd.log" 2>/dev/null || true
}

# wait_ready N: until the Nth start-up is ready (at most 30 s).
wait_ready() {
	local i
	for i in $(seq 1 300); do
		[ "$(ready_count)" -ge "$1" ] && [ -S "$SD_SOCK" ] && return 0
		sleep 0.1
	done
	return 1
}

# exits_of STATUS: how many times signerd left with STATUS.
exits_of() {
	grep -cx "$1" "$WORK/exits" 2>/dev/null || true
}

# wait_exits STATUS N: until signerd left with STATUS N times (at most 30 s).
wait_exits() {
	local i
	for i in $(seq 1 300); do
		[ "$(exits_of "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# sign ID NONCE: one 1000-wei ETH payout; prints "SIGNED|REFUSED ... ".
sign() {
	sd_sign "$1" ETH 1000 "$2" 2>/dev/null
}

# hash_of LINE: the tx hash of a "SIGNED id hash" line.
hash_of() {
	awk '$1 == "SIGNED" { print $3 }' <<<"$1"
}

: >"$WORK/exits"
supervise &
SUP_PID=$!
ok "signerd starts under the supervisor" wait_ready 1

first=$(sign p1 0)
second=$(sign p2 1)
check "two payouts sign" [ -n "$(hash_of "$first")" ] && [ -n "$(hash_of "$second")" ]

# --- the token goes away --------------------------------------------------
mv "$WORK/tokens" "$WORK/tokens.away"
lost=$(sign p3 2)
check "a payout asked for while the token is gone is not signed ($lost)" \
	[ -z "$(hash_of "$lost")" ]
check "signerd leaves with status 69 (the token is unusable)" wait_exits 69 1
check "and keeps leaving with 69 while the token is gone" wait_exits 69 3
check "it said why it left" \
	grep -q '"leaving: .*not usable' "$WORK/signerd.log"
check "a restart without the token names it" \
	grep -q 'no token matches the URI\|C_Initialize' "$WORK/signerd.log"
check "nothing serves requests meanwhile" \
	[ -z "$(hash_of "$(sign p3 2)")" ]
check "it never left with another status" \
	[ "$(grep -cvx 69 "$WORK/exits")" -eq 0 ]

mv "$WORK/tokens.away" "$WORK/tokens"
ok "with the token back, a restart is ready" wait_ready 2
again=$(sign p3 2)
check "the payout refused while the token was gone now signs" \
	[ -n "$(hash_of "$again")" ]
check "a retry of a payout signed before answers the same signature" \
	[ "$(hash_of "$(sign p1 0)")" = "$(hash_of "$first")" ]

# --- the journal's disk fills up --------------------------------------------
if [ "$HAVE_TMPFS" = 1 ]; then
	starts=$(ready_count)
	dd if=/dev/zero of="$JFS/filler" bs=4k 2>/dev/null
	# Appends may fill the segment's last page before one fails.
	n=10
	while [ $n -lt 40 ]; do
		out=$(sign "full$n" $n)
		[ -z "$(hash_of "$out")" ] && break
		echo "$out" >>"$WORK/full.signed"
		n=$((n + 1))
	done
	refused_id=full$n
	check "with the disk full a payout is refused ($out)" \
		[ -z "$(hash_of "$out")" ]
	check "signerd leaves with status 74 (the journal cannot be written)" \
		wait_exits 74 1
	check "and keeps leaving with 74 while the disk is full" wait_exits 74 3
	check "it said why it left" \
		grep -q '"leaving: the journal failed a write' "$WORK/signerd.log"
	rm -f "$JFS/filler"
	ok "with room again, a restart is ready" wait_ready $((starts + 1))
	check "the payout refused on the full disk now signs" \
		[ -n "$(hash_of "$(sign "$refused_id" $n)")" ]
	# Each line is "SIGNED fullN-0 HASH": payout fullN had nonce N.
	while read -r _ id hash; do
		id=${id%-0}
		[ "$(hash_of "$(sign "$id" "${id#full}")")" = "$hash" ] ||
			echo "$id" >>"$WORK/full.changed"
	done <"$WORK/full.signed"
	check "some payouts signed on the filling disk before one failed" \
		[ -s "$WORK/full.signed" ]
	check "every payout signed before the disk filled answers the same signature" \
		[ ! -s "$WORK/full.changed" ]
else
	_tap_report 0 "the disk-full half # SKIP no tmpfs mount here"
fi

# --- a clean stop, then the auditor's view ---------------------------------
kill -TERM "$(cat "$WORK/child.pid")"
wait "$SUP_PID"
SUP_PID=
check "a SIGTERM stops it with status 0 and the supervisor with it" \
	[ "$(tail -1 "$WORK/exits")" = 0 ]
check "the journal verifies" \
	"$SIGNERCTL" audit verify --journal "$SD_JOURNAL" --pubkey "$AUDIT_PEM"
jq -r 'select(.type == "signed") | .request_id' "$SD_JOURNAL"/seg-*.jsonl |
	sort >"$WORK/signed.ids"
check "each payout is signed once in the journal" \
	[ -z "$(uniq -d "$WORK/signed.ids")" ]
check "p1, p2 and p3 are all in it" \
	[ "$(grep -cx 'p[123]-0' "$WORK/signed.ids")" -eq 3 ]
tap_done
