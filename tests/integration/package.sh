#!/usr/bin/env bash
# package.sh: `make deb` builds the Debian packages signerd and
# orchestratord (objects reused from the last build in DEB_DIR); their
# contents, control fields and maintainer scripts are what debian/ says;
# lintian finds no error; and both install into a scratch root with dpkg
# --root (maintainer scripts run against that root through DPKG_ROOT),
# where the users, directories and modes appear, nothing is enabled or
# started, signerctl --version runs, a reinstall keeps an edited conffile,
# and a purge leaves the journal's directory and this machine's users
# alone (TAP).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source tests/lib/tap.sh
source tests/lib/onexit.sh

# build and build-san share one package build (it has its own objects).
DEB_DIR=${DEB_DIR:-${BUILD%-san}-deb}
ARCH=$(dpkg --print-architecture)
VERSION=$(sed -n 's/^#define APP_VERSION "\(.*\)"/\1/p' common/version.h)-1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/signer-pkg.XXXXXX")
on_exit "rm -rf $(printf '%q' "$WORK")"
t0=$(date +%s)

# --- build --------------------------------------------------------------
ok "make deb DEB_DIR=$DEB_DIR" bash -c "make -s --no-print-directory deb DEB_DIR='$DEB_DIR' >'$WORK/deb.log' 2>&1"
echo "# make deb took $(($(date +%s) - t0)) s"
SD="$DEB_DIR/signerd_${VERSION}_$ARCH.deb"
OD="$DEB_DIR/orchestratord_${VERSION}_$ARCH.deb"
check "signerd_${VERSION} and orchestratord_${VERSION} built (APP_VERSION-1)" [ -f "$SD" -a -f "$OD" ]
[ -f "$SD" ] && [ -f "$OD" ] || { tail -30 "$WORK/deb.log" | sed 's/^/# /'; tap_done; exit 1; }
check "the source tree got no build products (debian/ is built in a copy)" \
	[ ! -e debian/files -a ! -d debian/tmp -a ! -d debian/signerd ]

# --- contents -----------------------------------------------------------
dpkg-deb -c "$SD" | awk '{ print $1, $2, $NF }' >"$WORK/sd.list"
dpkg-deb -c "$OD" | awk '{ print $1, $2, $NF }' >"$WORK/od.list"
# has LIST MODE OWNER PATH: the package holds PATH with that mode and owner.
has() { grep -qx -- "$2 $3 ./$4" "$WORK/$1.list"; }
for f in usr/bin/signerctl usr/sbin/signerd; do
	check "signerd: $f, 0755 root" has sd -rwxr-xr-x root/root "$f"
done
for f in lib/systemd/system/signerd.service usr/lib/sysusers.d/signerd.conf \
    usr/lib/tmpfiles.d/signerd.conf etc/signerd/signerd.conf \
    etc/signerd/softhsm2.conf usr/share/man/man8/signerd.8.gz \
    usr/share/man/man5/signerd.conf.5.gz usr/share/man/man5/signer-policy.5.gz \
    usr/share/man/man1/signerctl.1.gz usr/share/doc/signerd/examples/policy.json \
    usr/share/doc/signerd/copyright; do
	check "signerd: $f" has sd -rw-r--r-- root/root "$f"
done
check "orchestratord: usr/sbin/orchestratord, 0755 root" \
	has od -rwxr-xr-x root/root usr/sbin/orchestratord
for f in lib/systemd/system/orchestratord.service \
    usr/lib/sysusers.d/orchestratord.conf etc/orchestratord/orchestratord.conf \
    usr/share/man/man8/orchestratord.8.gz usr/share/man/man5/orchestratord.conf.5.gz; do
	check "orchestratord: $f" has od -rw-r--r-- root/root "$f"
done
check "each daemon in its own package only" \
	[ "$(grep -c orchestratord "$WORK/sd.list")" -eq 0 -a \
	  "$(grep -cE 'sbin/signerd|bin/signerctl' "$WORK/od.list")" -eq 0 ]
check "no PIN, token, genesis policy or *.example under /etc" \
	[ "$(grep -cE '\./etc/.*(pin|tokens|policy\.json|\.example)' "$WORK/sd.list" "$WORK/od.list" | \
	    awk -F: '{ s += $2 } END { print s }')" -eq 0 ]

# --- control fields -----------------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
check "signerd: Version $VERSION, Architecture $ARCH" \
	[ "$(field "$SD" Version) $(field "$SD" Architecture)" = "$VERSION $ARCH" ]
sdep=$(field "$SD" Depends)
odep=$(field "$OD" Depends)
echo "# signerd Depends: $sdep"
echo "# orchestratord Depends: $odep"
check "signerd depends on its libraries (shlibs) and sysusers, not on libpq/curl/microhttpd" \
	bash -c "grep -q 'libc6' <<<'$sdep' && grep -q libseccomp2 <<<'$sdep' &&
		grep -q systemd-sysusers <<<'$sdep' && ! grep -qE 'libpq|libcurl|libmicrohttpd' <<<'$sdep'"
check "orchestratord depends on libpq, curl, microhttpd and this signerd" \
	bash -c "grep -q libpq5 <<<'$odep' && grep -q libcurl4 <<<'$odep' &&
		grep -q libmicrohttpd <<<'$odep' && grep -qF 'signerd (= $VERSION)' <<<'$odep'"
check "Recommends: softhsm2 (signerd), postgresql (orchestratord)" \
	[ "$(field "$SD" Recommends)/$(field "$OD" Recommends)" = "softhsm2/postgresql" ]
dpkg-deb -e "$SD" "$WORK/sd.ctl"
dpkg-deb -e "$OD" "$WORK/od.ctl"
check "conffiles: the configs under /etc" \
	[ "$(cat "$WORK/sd.ctl/conffiles" "$WORK/od.ctl/conffiles" | sort | tr '\n' ' ')" = \
	  "/etc/orchestratord/orchestratord.conf /etc/signerd/signerd.conf /etc/signerd/softhsm2.conf " ]

# --- maintainer scripts -------------------------------------------------
check "signerd postinst creates its users with systemd-sysusers" \
	grep -q '^ *systemd-sysusers .*signerd.conf' "$WORK/sd.ctl/postinst"
check "orchestratord postinst creates its user with systemd-sysusers" \
	grep -q '^ *systemd-sysusers .*orchestratord.conf' "$WORK/od.ctl/postinst"
check "signerd postinst creates its directories with systemd-tmpfiles" \
	grep -q 'systemd-tmpfiles .*--create signerd.conf' "$WORK/sd.ctl/postinst"
# The only service action in postinst: a try-restart on upgrade (a
# running daemon gets the new binary); never start, never enable.
name_of() { [ "$1" = sd ] && echo signerd || echo orchestratord; }
for p in sd od; do
	check "$(name_of $p) postinst never starts or enables a unit on install" bash -c \
		"! grep -E 'deb-systemd-invoke|systemctl' '$WORK/$p.ctl/postinst' |
			grep -vE 'try-restart|daemon-reload' | grep -q . &&
		 ! grep -q '_dh_action=start' '$WORK/$p.ctl/postinst' &&
		 grep -q 'was-enabled' '$WORK/$p.ctl/postinst'"
	check "$(name_of $p) prerm stops the unit on removal" \
		grep -q 'deb-systemd-invoke stop' "$WORK/$p.ctl/prerm"
done
check "no maintainer script removes /var/lib/signerd" \
	bash -c "! grep -l 'var/lib/signerd' '$WORK'/*.ctl/post* '$WORK'/*.ctl/pre* 2>/dev/null | grep -q ."

# --- lintian ------------------------------------------------------------
t1=$(date +%s)
lintian --fail-on none "$DEB_DIR/payout-signer_${VERSION}_$ARCH.changes" \
	>"$WORK/lintian.log" 2>&1
lrc=$?
sed 's/^/# lintian: /' "$WORK/lintian.log"
echo "# lintian took $(($(date +%s) - t1)) s"
check "lintian checked the .changes (status $lrc)" [ "$lrc" -eq 0 ]
check "lintian: no errors" bash -c "! grep -q '^E: ' '$WORK/lintian.log'"

# --- into a scratch root ------------------------------------------------
R="$WORK/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
host_ids=$(cat /etc/passwd /etc/group | sha256sum)
# rdpkg ARGS...: dpkg on the scratch root; the packages' libraries are this
# machine's, so their dependencies are not installed there.
rdpkg() {
	dpkg --root="$R" --log=/dev/null --force-depends \
		--force-script-chrootless "$@" >>"$WORK/dpkg.log" 2>&1
}
ok "dpkg --root installs both packages, maintainer scripts included" rdpkg -i "$SD" "$OD"
id_in() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/$2"; }
sgid=$(id_in signer group)
ogid=$(id_in orchestrator group)
check "postinst made users signer and orchestrator in the scratch root" \
	[ -n "$(id_in signer passwd)" -a -n "$(id_in orchestrator passwd)" ]
check "both are in signer-clients there" \
	bash -c "grep -Eq '^signer-clients:x:[0-9]+:(orchestrator,signer|signer,orchestrator)\$' '$R/etc/group'"
check "/var/lib/signerd/journal there: 0700, signer's" \
	[ "$(stat -c '%a %u' "$R/var/lib/signerd/journal" 2>/dev/null)" = "700 $(id_in signer passwd)" ]
check "/etc/signerd: 0750 root:signer; its configs 0640 root:signer" \
	[ "$(stat -c '%a %u:%g' "$R/etc/signerd" "$R/etc/signerd/signerd.conf" \
	    "$R/etc/signerd/softhsm2.conf" | tr '\n' ' ')" = \
	  "750 0:$sgid 640 0:$sgid 640 0:$sgid " ]
check "/etc/orchestratord/orchestratord.conf: 0640 root:orchestrator" \
	[ "$(stat -c '%a %u:%g' "$R/etc/orchestratord/orchestratord.conf")" = "640 0:$ogid" ]
check "neither unit is enabled" \
	[ -z "$(find "$R/etc/systemd" -name '*.service' 2>/dev/null)" ]
check "signerctl --version runs from the scratch root" \
	[ "$("$R/usr/bin/signerctl" --version 2>/dev/null)" = "signerctl ${VERSION%-1}" ]
check "this machine's users and groups are untouched" \
	[ "$(cat /etc/passwd /etc/group | sha256sum)" = "$host_ids" ]
echo "; edited" >>"$R/etc/signerd/signerd.conf"
cp "$R/etc/signerd/signerd.conf" "$WORK/edited.conf"
ok "reinstalling both (an upgrade to the same version)" rdpkg -i "$SD" "$OD"
check "the edited conffile is kept, still 0640 root:signer" \
	[ "$(cmp -s "$WORK/edited.conf" "$R/etc/signerd/signerd.conf" && stat -c '%a %u:%g' "$R/etc/signerd/signerd.conf")" = "640 0:$sgid" ]
echo 'the journal' >"$R/var/lib/signerd/journal/seg-00000001.jsonl"
ok "dpkg --purge removes both" rdpkg --purge orchestratord signerd
check "the programs are gone" [ ! -e "$R/usr/sbin/signerd" -a ! -e "$R/usr/bin/signerctl" ]
check "the journal stays (evidence, not a package file)" \
	[ -s "$R/var/lib/signerd/journal/seg-00000001.jsonl" ]
check "this machine's users and groups are still untouched" \
	[ "$(cat /etc/passwd /etc/group | sha256sum)" = "$host_ids" ]
[ "$TAP_FAILED" -eq 0 ] || sed 's/^/# dpkg: /' "$WORK/dpkg.log" | tail -30

echo "# package.sh took $(($(date +%s) - t0)) s"
tap_done
