#!/usr/bin/env bash
# install.sh: `make install` into a DESTDIR laid out as the Debian package
# lays it out (PREFIX=/usr SYSCONFDIR=/etc): every file where the units, the
# configs and the man pages expect the others, with safe modes; a second
# install keeps a config the operator edited; the units pass
# `systemd-analyze verify` and stay within the issue's exposure scores; the
# sysusers.d and tmpfiles.d entries make the users and directories they
# promise (in a scratch root); and signerd starts from the installed
# example config, SoftHSM2 config and policy, paths moved into a temp dir
# (TAP).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source tests/lib/tap.sh
source tests/lib/signerd.sh

D="$WORK/destdir"
ETC="$D/etc"
UNITS="$D/usr/lib/systemd/system"

# make install against the programs already built in BUILD: -o keeps make
# from rebuilding them (a sanitizer tree must not get plain objects).
install_into() {
	make -s --no-print-directory BUILD="$BUILD" \
		-o "$BUILD/signerctl" -o "$BUILD/signerd" \
		-o "$BUILD/orchestratord" \
		install DESTDIR="$1" PREFIX=/usr SYSCONFDIR=/etc
}

# install_log DESTDIR LOG: install_into, its output in LOG.
install_log() { install_into "$1" >"$2" 2>&1; }

# mode_is MODE PATH: the octal mode exactly.
mode_is() { [ "$(stat -c %a "$2" 2>/dev/null)" = "$1" ]; }

# --- layout and modes -----------------------------------------------------
ok "make install DESTDIR=... PREFIX=/usr SYSCONFDIR=/etc" \
	install_log "$D" "$WORK/install1.log"
for f in usr/bin/signerctl usr/sbin/signerd usr/sbin/orchestratord; do
	check "$f installed, mode 0755" mode_is 755 "$D/$f"
done
check "signerctl is the one built in $BUILD" cmp -s "$BUILD/signerctl" "$D/usr/bin/signerctl"
check "installed signerd says its version" \
	[ "$("$D/usr/sbin/signerd" --version 2>/dev/null)" = \
	  "signerd $(sed -n 's/^#define APP_VERSION "\(.*\)"/\1/p' common/version.h)" ]
nman=0
badman=0
for m in man/*.1 man/*.5 man/*.8; do
	[ -e "$m" ] || continue
	nman=$((nman + 1))
	mode_is 644 "$D/usr/share/man/man${m##*.}/${m#man/}" || badman=$((badman + 1))
done
check "every man page in man/ ($nman) installed in its section, mode 0644" \
	[ "$nman" -gt 0 -a "$badman" -eq 0 ]
for f in signerd.service orchestratord.service; do
	check "unit $f installed, mode 0644" mode_is 644 "$UNITS/$f"
done
for f in sysusers.d/signerd.conf sysusers.d/orchestratord.conf \
    tmpfiles.d/signerd.conf; do
	check "$f installed, mode 0644" mode_is 644 "$D/usr/lib/$f"
done
for f in signerd orchestratord; do
	check "$f's config directory is 0750" mode_is 750 "$ETC/$f"
done
for f in signerd/signerd.conf signerd/softhsm2.conf orchestratord/orchestratord.conf \
    signerd/signerd.conf.example signerd/policy.json.example; do
	check "$f installed, mode 0640" mode_is 640 "$ETC/$f"
done
check "no genesis policy installed (only its example: the security team writes it)" \
	[ ! -e "$ETC/signerd/policy.json" ]
check "no PIN or API token file installed" \
	[ ! -e "$ETC/signerd/pin" -a ! -e "$ETC/orchestratord/api-tokens" ]
check "no @PLACEHOLDER@ left in an installed unit, config or entry" \
	bash -c "! grep -rlE '@[A-Z]+@' $D/etc $D/usr/lib"
check "nothing of the tests installed" \
	[ -z "$(find "$D" -name 'test_*' -o -name sdclient -o -name '*.so')" ]

# --- the files agree with each other ----------------------------------------
SU="$UNITS/signerd.service"
OU="$UNITS/orchestratord.service"
# conf_val FILE KEY: the value of KEY in an INI file (first match).
conf_val() { sed -n "s/^$2 *= *//p" "$1" | head -1; }
check "signerd.service starts /usr/sbin/signerd on /etc/signerd/signerd.conf, in the foreground" \
	grep -qx 'ExecStart=/usr/sbin/signerd -c /etc/signerd/signerd.conf -f' "$SU"
check "the PIN credential is the file signerd.conf reads" \
	[ "$(conf_val "$ETC/signerd/signerd.conf" pin_file)" = \
	  "/run/credentials/signerd.service/$(sed -n 's/^LoadCredential=\([^:]*\):\/etc\/signerd\/pin$/\1/p' "$SU")" ]
check "the API tokens credential is the file orchestratord.conf reads" \
	[ "$(conf_val "$ETC/orchestratord/orchestratord.conf" tokens)" = \
	  "/run/credentials/orchestratord.service/$(sed -n 's/^LoadCredential=\([^:]*\):\/etc\/orchestratord\/api-tokens$/\1/p' "$OU")" ]
sock=$(conf_val "$ETC/signerd/signerd.conf" listen)
check "signerd's socket is in its RuntimeDirectory=, where orchestratord looks" \
	[ "$sock" = "ipc:///run/$(sed -n 's/^RuntimeDirectory=//p' "$SU")/signerd.sock" -a \
	  "$sock" = "$(conf_val "$ETC/orchestratord/orchestratord.conf" socket)" ]
rw=$(sed -n 's/^ReadWritePaths=//p' "$SU")
check "the unit may write the journal and the token directory, and only those" \
	[ "$rw" = "$(conf_val "$ETC/signerd/signerd.conf" dir) $(conf_val "$ETC/signerd/softhsm2.conf" directories.tokendir)" ]
check "signerd.service hands SoftHSM2 the installed softhsm2.conf" \
	grep -qx 'Environment=SOFTHSM2_CONF=/etc/signerd/softhsm2.conf' "$SU"
check "the socket's group is the sysusers.d group orchestrator joins" \
	grep -qx "m orchestrator $(conf_val "$ETC/signerd/signerd.conf" socket_group)" \
	"$D/usr/lib/sysusers.d/orchestratord.conf"
check "restart policy as signerd(8) documents its exit statuses" \
	grep -qx 'RestartPreventExitStatus=2 65 78' "$SU"
docs_ok=1
for u in "$SU" "$OU"; do
	for p in $(sed -n 's/^Documentation=//p' "$u"); do
		p=${p#man:}
		n=${p%(*}; s=${p#*(}; s=${s%)}
		[ -e "$D/usr/share/man/man$s/$n.$s" ] || { echo "# missing man page $n($s)"; docs_ok=0; }
	done
done
check "every man page a unit's Documentation= names is installed" [ "$docs_ok" -eq 1 ]

# --- a second install keeps the operator's config ---------------------------
echo "; edited by the operator" >>"$ETC/signerd/signerd.conf"
cp "$ETC/signerd/signerd.conf" "$WORK/edited.conf"
printf '{"edited": true}\n' >"$ETC/signerd/policy.json"
ok "a second make install into the same DESTDIR" \
	install_log "$D" "$WORK/install2.log"
check "the edited signerd.conf is kept" cmp -s "$WORK/edited.conf" "$ETC/signerd/signerd.conf"
check "the operator's policy.json is kept" grep -q edited "$ETC/signerd/policy.json"
check "install says it kept it" grep -q 'signerd.conf exists, kept' "$WORK/install2.log"
check "the new example is beside it" \
	bash -c "diff <(grep -v 'edited by the operator' '$ETC/signerd/signerd.conf') '$ETC/signerd/signerd.conf.example' >/dev/null"

# --- systemd-analyze ---------------------------------------------------------
# verify checks that ExecStart= binaries exist, so it gets copies whose
# paths point into the DESTDIR; --man=no because man(1) would look in
# the system's manual, not in the DESTDIR (checked above instead).
mkdir -p "$WORK/verify"
for u in signerd.service orchestratord.service; do
	sed -e "s|=/usr/sbin/|=$D/usr/sbin/|g" -e "s|:/etc/|:$ETC/|g" \
		-e "s|=/etc/|=$ETC/|g" "$UNITS/$u" >"$WORK/verify/$u"
done
systemd-analyze verify --man=no "$WORK/verify/signerd.service" \
	"$WORK/verify/orchestratord.service" >"$WORK/verify.log" 2>&1
vrc=$?
sed 's/^/# verify: /' "$WORK/verify.log"
check "systemd-analyze verify: both units clean (status 0, no message)" \
	[ "$vrc" -eq 0 -a ! -s "$WORK/verify.log" ]
check "verify would notice a wrong key (the check can fail)" bash -c \
	"echo 'ProtectSytem=strict' >>'$WORK/verify/signerd.service' &&
	 systemd-analyze verify --man=no '$WORK/verify/signerd.service' 2>&1 | grep -q ProtectSytem"

# exposure UNIT: systemd-analyze security's overall score, offline.
exposure() {
	systemd-analyze security --offline=true --no-pager "$UNITS/$1" \
		>"$WORK/$1.security" 2>&1
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
		"$WORK/$1.security"
}
for pair in signerd.service:1.5 orchestratord.service:2.5; do
	u=${pair%:*}
	max=${pair#*:}
	score=$(exposure "$u")
	echo "# $u: exposure $score (at most $max); what remains:"
	grep '✗' "$WORK/$u.security" | sed -E 's/  +/  /g; s/^/#   /'
	check "$u scores at most $max ($score)" \
		awk -v s="$score" -v m="$max" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'
done

# --- sysusers.d and tmpfiles.d, applied to a scratch root -------------------
R="$WORK/root"
mkdir -p "$R/etc" "$R/usr/lib"
cp -r "$D/usr/lib/sysusers.d" "$D/usr/lib/tmpfiles.d" "$R/usr/lib/"
ok "systemd-sysusers --root applies both entries" systemd-sysusers --root="$R"
# id_in NAME DB: the id of NAME in the scratch root's passwd or group.
id_in() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/$2"; }
check "users signer and orchestrator exist there" \
	[ -n "$(id_in signer passwd)" -a -n "$(id_in orchestrator passwd)" ]
check "signer and orchestrator are members of signer-clients" \
	bash -c "grep -Eq '^signer-clients:x:[0-9]+:(orchestrator,signer|signer,orchestrator)\$' '$R/etc/group'"
check "neither has a login shell" \
	bash -c "! grep -E '^(signer|orchestrator):' '$R/etc/passwd' | grep -v nologin"
ok "systemd-tmpfiles --root --create" systemd-tmpfiles --root="$R" --create signerd.conf
for d in /var/lib/signerd/journal:700 /var/lib/signerd/tokens:700 /run/signerd:711; do
	p=${d%:*}
	check "$p: mode ${d#*:}, owned by signer" \
		[ "$(stat -c '%a %u %g' "$R$p" 2>/dev/null)" = \
		  "${d#*:} $(id_in signer passwd) $(id_in signer group)" ]
done

# --- signerd starts from the installed examples -----------------------------
# The installed signerd.conf, softhsm2.conf and policy.json.example, with
# only their system paths moved into $WORK and the users swapped for ones
# this machine has: every other line is the example's own.
ok "provision a token with the example's key labels" signerd_provision
sed -e "s|^directories.tokendir = .*|directories.tokendir = $WORK/tokens|" \
	"$ETC/signerd/softhsm2.conf" >"$WORK/example-softhsm2.conf"
cp "$ETC/signerd/policy.json.example" "$WORK/example-policy.json"
sed -e "s|^pin_file = .*|pin_file = $WORK/user.pin|" \
	-e "s|^dir = /var/lib/signerd/journal|dir = $SD_JOURNAL|" \
	-e "s|^genesis = .*|genesis = $WORK/example-policy.json|" \
	-e "s|^listen = .*|listen = ipc://$SD_SOCK|" \
	-e "s|^socket_group = .*|socket_group = nogroup|" \
	-e "s|^user = .*|user = $SD_USER|" \
	"$ETC/signerd/signerd.conf.example" >"$WORK/example-signerd.conf"
check "the adapted example differs from the installed one in those lines only" \
	[ "$(diff "$ETC/signerd/signerd.conf.example" "$WORK/example-signerd.conf" | grep -c '^>')" -eq 6 ]
SD_CONF="$WORK/example-signerd.conf"
SIGNERD="$D/usr/sbin/signerd"
SOFTHSM2_CONF="$WORK/example-softhsm2.conf"
ok "the installed signerd starts on the example config and policy" signerd_start
check "its socket has the configured group and mode 0660" \
	[ "$(stat -c '%a %G' "$SD_SOCK" 2>/dev/null)" = "660 nogroup" ]
ok "the installed signerctl gets its status" \
	"$D/usr/bin/signerctl" status --socket "ipc://$SD_SOCK"
ok "it stops on SIGTERM with status 0" signerd_stop
# The example orchestratord.conf: it loads (a bad one exits 2 with the
# file and line) and gets as far as the database, which is not there.
sed -e "s|host=/run/postgresql|host=$WORK/no-postgres|" \
	"$ETC/orchestratord/orchestratord.conf" >"$WORK/example-orch.conf"
"$D/usr/sbin/orchestratord" migrate -c "$WORK/example-orch.conf" >"$WORK/orch.log" 2>&1
orc=$?
check "the example orchestratord.conf loads: migrate fails only at the database ($orc)" \
	[ "$orc" -eq 1 -a "$(grep -c 'no-postgres' "$WORK/orch.log")" -gt 0 ]

# --- uninstall ----------------------------------------------------------
ok "make uninstall from the DESTDIR" make -s --no-print-directory BUILD="$BUILD" \
	uninstall DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc
check "only the operator's configs are left" \
	[ "$(cd "$D" && find . -type f | sort | tr '\n' ' ')" = \
	  "./etc/orchestratord/orchestratord.conf ./etc/signerd/policy.json ./etc/signerd/signerd.conf ./etc/signerd/softhsm2.conf " ]

tap_done
