#!/usr/bin/env bash
# signerctl.sh: the provisioning tool end to end against a real SoftHSM2 token store (TAP).
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/softhsm.sh

BUILD=${BUILD:-build}
CTL=${SIGNERCTL:-$BUILD/signerctl}
ALL="$WORK/all-output"		# everything signerctl printed, checked for PINs
: >"$ALL"

# ctl GROUP VERB ARGS...: signerctl on the throwaway store.
ctl() {
	local group=$1 verb=$2
	shift 2
	"$CTL" "$group" "$verb" --module "$SOFTHSM_MODULE" "$@"
}

# run CMD...: stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$@" 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}

is_address() { [[ $1 =~ ^0x[0-9a-fA-F]{40}$ ]]; }

# [[ test ]]; is DESC $?: reports the test just made (check takes commands
# only, and [[ ]] is syntax, not a command).
is() { check "$1" [ "$2" -eq 0 ]; }

make_random_pin "$WORK/so.pin"
make_random_pin "$WORK/user.pin"
make_pin "$WORK/wrong.pin" "00000000"
T="pkcs11:token=signer"
P=(--pin-file "$WORK/user.pin")

check "signerctl was built" [ -f "$CTL" -a -x "$CTL" ]
# Without the binary every check below would fail for the same reason.
[ -f "$CTL" ] || { tap_done; exit 1; }
run "$CTL" --help
[[ $RC -eq 0 && $OUT == *"key generate"* && $OUT == *"token init"* ]]
is "--help exits 0 and lists the commands" $?

# --- token init ----------------------------------------------------------
run ctl token init --label signer --so-pin-file "$WORK/so.pin" "${P[@]}"
[[ $RC -eq 0 && $OUT == *"pkcs11:token=signer"* ]]
is "token init, and it prints the token URI" $?
run ctl token init --label backup --so-pin-file "$WORK/so.pin" "${P[@]}" --json
[[ $RC -eq 0 ]]
is "token init --json" $?
ok "token init --json: label and URI" \
	jq -e '.label == "backup" and .uri == "pkcs11:token=backup"' <<<"$OUT"
run ctl token init --label signer --so-pin-file "$WORK/so.pin" "${P[@]}"
[[ $RC -eq 1 && $ERR == *"already exists"* ]]
is "token init twice with one label: exit 1, says so" $?

# --- key generate ---------------------------------------------------------
run ctl key generate --token "$T" "${P[@]}" --label hot-1
is "key generate secp256k1" "$RC"
ADDR1=$(awk '$1 == "address" { print $2 }' <<<"$OUT")
ok "key generate prints a 0x+40hex address" is_address "$ADDR1"
[[ $OUT =~ public\ key\ +04[0-9a-f]{128} ]]
is "key generate prints the public key" $?
[[ $OUT == *"safety       ok"* ]]
is "key generate reports a safe key" $?

run ctl key generate --token "$T" "${P[@]}" --label hot-2 --json
is "key generate --json" "$RC"
ok "key generate --json parses" jq -e . <<<"$OUT"
ADDR2=$(jq -r .address <<<"$OUT")
URI2=$(jq -r .uri <<<"$OUT")
ok "key generate --json has an address" is_address "$ADDR2"
ok "key generate --json: type, not weak, no weaknesses" \
	jq -e '.type == "secp256k1" and .weak == false and
	    (.weaknesses | length) == 0' <<<"$OUT"
ok "key generate --json: the safety attributes" \
	jq -e '.attributes | .sensitive and (.extractable | not) and .sign and
	    .never_extractable and .always_sensitive and
	    (.decrypt | not) and (.unwrap | not) and (.derive | not)' <<<"$OUT"
check "two keys, two addresses" [ "$ADDR1" != "$ADDR2" ]

run ctl key generate --token "$T" "${P[@]}" --label audit --type p256 --json
is "key generate p256" "$RC"
ok "key generate p256: no address" \
	jq -e '.type == "p256" and .address == null' <<<"$OUT"
run ctl key generate --token "$T" "${P[@]}" --label hot-1
[[ $RC -eq 1 && $ERR == *"already exists"* && $ERR == *hot-1* ]]
is "key generate with a taken label: exit 1, says so" $?

# --- key list -------------------------------------------------------------
run ctl key list --token "$T" "${P[@]}"
is "key list" "$RC"
[[ $OUT == *"hot-1 (secp256k1)"* && $OUT == *"hot-2 (secp256k1)"* &&
    $OUT == *"audit (p256)"* ]]
is "key list shows every key" $?
[[ $OUT == *"$ADDR1"* && $OUT == *"$ADDR2"* ]]
is "key list shows the addresses" $?
SAFE='sensitive=yes extractable=no always-sensitive=yes never-extractable=yes sign=yes decrypt=no unwrap=no derive=no'
check "key list shows the safety attributes of each key" \
	[ "$(grep -cF "$SAFE" <<<"$OUT")" -eq 3 ]
[[ $OUT != *WEAK* ]]
is "key list flags no key as weak" $?
run ctl key list --token "$T" "${P[@]}" --json
ok "key list --json: three keys, none weak" \
	jq -e '[.keys[] | select(.weak | not)] | length == 3' <<<"$OUT"
check "key list --json: hot-1's address is the one generate printed" \
	[ "$(jq -r '.keys[] | select(.label == "hot-1") | .address' <<<"$OUT")" = "$ADDR1" ]
run ctl key list --token "pkcs11:token=backup" "${P[@]}"
[[ $RC -eq 0 && $OUT == *"no keys"* ]]
is "key list on an empty token" $?

# --- key show -------------------------------------------------------------
run "$CTL" key show "$URI2" --module "$SOFTHSM_MODULE" "${P[@]}"
[[ $RC -eq 0 && $OUT == *"hot-2 (secp256k1)"* && $OUT == *"$ADDR2"* ]]
is "key show by the URI generate printed" $?
run ctl key show "$T;object=hot-1" "${P[@]}" --json
is "key show by label --json" "$RC"
check "key show --json: the same address" [ "$(jq -r .address <<<"$OUT")" = "$ADDR1" ]
run ctl key show "$T;object=nope" "${P[@]}"
[[ $RC -eq 1 && $ERR == "signerctl: finding the key: no key matches"* ]]
is "key show of a missing key: exit 1, says so" $?
run ctl key show "pkcs11:token=nope;object=hot-1" "${P[@]}"
[[ $RC -eq 1 && $ERR == *"no token matches"* ]]
is "key show on a missing token: exit 1" $?
run ctl key show "$T;object=hot-1?pin-value=4321" "${P[@]}"
[[ $RC -eq 1 && $ERR == *"invalid PKCS#11 URI"* && $ERR != *4321* ]]
is "a PIN inside the URI is refused, and not echoed" $?

# --- PINs -----------------------------------------------------------------
run ctl key list --token "$T" --pin-file "$WORK/wrong.pin"
[[ $RC -eq 1 && -z $OUT ]]
is "wrong PIN: exit 1, nothing on stdout" $?
[[ $ERR == "signerctl: logging in to the token: incorrect PIN (C_Login: CKR_PIN_INCORRECT)" ]]
is "wrong PIN: the message names the incorrect PIN" $?
cp "$WORK/user.pin" "$WORK/loose.pin"
chmod 0644 "$WORK/loose.pin"
run ctl key list --token "$T" --pin-file "$WORK/loose.pin"
[[ $RC -eq 1 && -z $OUT ]]
is "PIN file 0644: refused with exit 1" $?
[[ $ERR == *"mode 0644"* && $ERR == *"0600"* ]]
is "PIN file 0644: the message says why" $?
ln -s "$WORK/user.pin" "$WORK/link.pin"
run ctl key list --token "$T" --pin-file "$WORK/link.pin"
[[ $RC -eq 1 && $ERR == *"symbolic link"* ]]
is "symlinked PIN file: refused" $?
( umask 077; : >"$WORK/empty.pin" )
run ctl key list --token "$T" --pin-file "$WORK/empty.pin"
[[ $RC -eq 1 && $ERR == *"is empty"* ]]
is "empty PIN file: refused" $?
run ctl key list --token "$T" --pin-env SIGNER_TEST_PIN_UNSET
[[ $RC -eq 1 && $ERR == *"not set"* ]]
is "unset PIN variable: refused" $?
IFS= read -r SIGNER_TEST_PIN <"$WORK/user.pin"
export SIGNER_TEST_PIN
run ctl key list --token "$T" --pin-env SIGNER_TEST_PIN
unset SIGNER_TEST_PIN
[[ $RC -eq 0 && $OUT == *hot-1* ]]
is "PIN from the environment" $?

# --- the command line -----------------------------------------------------
run ctl key generate --token "$T" "${P[@]}"
[[ $RC -eq 2 && $ERR == *"missing --label"* ]]
is "missing --label: exit 2, says so" $?
run ctl key list "${P[@]}"
[[ $RC -eq 2 && $ERR == *"missing --token"* ]]
is "missing --token: exit 2" $?
run ctl key list --token "$T"
[[ $RC -eq 2 && $ERR == *"--pin-file or --pin-env"* ]]
is "missing PIN: exit 2" $?
run ctl key list --token "$T" "${P[@]}" --pin-env X
[[ $RC -eq 2 && $ERR == *"not both"* ]]
is "PIN file and PIN variable: exit 2" $?
run ctl key show "${P[@]}"
is "key show without a URI: exit 2" $((RC - 2))
run ctl token init --label x "${P[@]}"
is "token init without an SO PIN: exit 2" $((RC - 2))
run ctl key generate --token "$T" "${P[@]}" --label t --type rsa
is "unknown --type: exit 2" $((RC - 2))
run ctl key list --token "$T" "${P[@]}" --frobnicate
[[ $RC -eq 2 && $ERR == *"unknown option --frobnicate"* ]]
is "unknown option: exit 2" $?
run ctl key list --token "$T" "${P[@]}" stray
is "stray argument: exit 2" $((RC - 2))
run "$CTL" key destroy
is "unknown command: exit 2" $((RC - 2))
run "$CTL"
is "no command: exit 2" $((RC - 2))
run ctl key list --pin-file
is "option without its value: exit 2" $((RC - 2))
for c in "token init" "key generate" "key list" "key show"; do
	# Word splitting of $c is the point: group and verb.
	# shellcheck disable=SC2086
	run "$CTL" $c --help
	[[ $RC -eq 0 && $OUT == "usage: signerctl $c"* ]]
	is "$c --help" $?
done

# Nothing above may have printed a PIN (patterns come from the files).
fails "no user PIN in any output" grep -qF -f "$WORK/user.pin" "$ALL"
fails "no SO PIN in any output" grep -qF -f "$WORK/so.pin" "$ALL"


# --- anchor show / anchor reset -------------------------------------------
# signerctl never writes an anchor (signerd does); these checks put one on
# the token through the module's own C_CreateObject, from python3's ctypes
# (the PIN is read from its file there, never passed on argv).
# put_anchor LABEL VALUE [private]: one data object as signerd's hsm/ makes.
put_anchor() {
	python3 - "$SOFTHSM_MODULE" signer "$WORK/user.pin" "$1" "$2" \
		"${3:-1}" <<'PY'
import ctypes, sys
mod, token, pinfile, label, value, private = sys.argv[1:]
lib = ctypes.CDLL(mod)
UL = ctypes.c_ulong
def ck(rv, what):
    if rv != 0:
        sys.exit("%s: CK_RV 0x%x" % (what, rv))
class Attr(ctypes.Structure):
    _fields_ = [("type", UL), ("pValue", ctypes.c_void_p),
                ("ulValueLen", UL)]
ck(lib.C_Initialize(None), "C_Initialize")
n = UL(0)
ck(lib.C_GetSlotList(1, None, ctypes.byref(n)), "C_GetSlotList")
slots = (UL * n.value)()
ck(lib.C_GetSlotList(1, slots, ctypes.byref(n)), "C_GetSlotList")
slot = None
for s in slots:
    info = ctypes.create_string_buffer(1024)	# CK_TOKEN_INFO: label first
    ck(lib.C_GetTokenInfo(UL(s), info), "C_GetTokenInfo")
    if info.raw[:32].rstrip(b" ") == token.encode():
        slot = s
sess = UL(0)
ck(lib.C_OpenSession(UL(slot), UL(6), None, None, ctypes.byref(sess)),
   "C_OpenSession")		# CKF_SERIAL_SESSION | CKF_RW_SESSION
with open(pinfile, "rb") as f:
    pin = f.read().rstrip(b"\n")
ck(lib.C_Login(sess, UL(1), pin, UL(len(pin))), "C_Login")
keep = []
def attr(t, raw):
    b = ctypes.create_string_buffer(raw, len(raw))
    keep.append(b)
    return Attr(t, ctypes.cast(b, ctypes.c_void_p), len(raw))
ul0 = bytes(ctypes.sizeof(UL))			# CKO_DATA
t = (Attr * 7)(attr(0x0, ul0), attr(0x1, b"\x01"),
               attr(0x2, b"\x01" if private == "1" else b"\x00"),
               attr(0x10, b"signer-journal-anchor"), attr(0x3, label.encode()),
               attr(0x170, b"\x01"), attr(0x11, value.encode()))
h = UL(0)
ck(lib.C_CreateObject(sess, t, UL(7), ctypes.byref(h)), "C_CreateObject")
lib.C_CloseSession(sess)
lib.C_Finalize(None)
PY
}

AH=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
AP=(--token "$T" "${P[@]}")
run ctl anchor show "${AP[@]}"
[[ $RC -eq 0 && $OUT == *'no anchor "signerd-journal"'* ]]
is "anchor show without an anchor: exit 0, says there is none" $?
run ctl anchor show "${AP[@]}" --json
[[ $RC -eq 0 ]] && jq -e '.present == false and .label == "signerd-journal"' \
	<<<"$OUT" >/dev/null
is "anchor show --json without an anchor: present false" $?
run ctl anchor reset "${AP[@]}"
[[ $RC -eq 1 && $ERR == *"nothing to delete"* ]]
is "anchor reset without an anchor: exit 1, nothing to delete" $?
run ctl anchor reset "${AP[@]}" --yes
[[ $RC -eq 1 && $ERR == *"no journal anchor"* ]]
is "anchor reset --yes without an anchor: exit 1" $?

if command -v python3 >/dev/null; then
	ok "put an anchor on the token (seq 42)" \
		put_anchor signerd-journal "signer-journal-anchor v1 42 $AH"$'\n'
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 0 && $OUT == *"seq   42"* && $OUT == *"hash  $AH"* ]]
	is "anchor show: seq and hash" $?
	run ctl anchor show "${AP[@]}" --json
	[[ $RC -eq 0 ]] && jq -e --arg h "$AH" \
		'.present and .seq == 42 and .hash == $h' <<<"$OUT" >/dev/null
	is "anchor show --json: seq and hash" $?
	IFS= read -r SIGNER_TEST_PIN <"$WORK/user.pin"
	export SIGNER_TEST_PIN
	run ctl anchor show --token "$T" --pin-env SIGNER_TEST_PIN
	unset SIGNER_TEST_PIN
	[[ $RC -eq 0 && $OUT == *"seq   42"* ]]
	is "anchor show with the PIN from the environment" $?
	run ctl anchor show --token "$T" --pin-file "$WORK/wrong.pin"
	[[ $RC -eq 1 && $ERR == *"CKR_PIN_INCORRECT"* ]]
	is "anchor show with a wrong PIN: exit 1" $?
	run ctl anchor show "${AP[@]}" --label other
	[[ $RC -eq 0 && $OUT == *'no anchor "other"'* ]]
	is "anchor show --label: another label's anchor is separate" $?

	run ctl anchor reset "${AP[@]}"
	[[ $RC -eq 2 && $ERR == *"without --yes"* && $ERR == *"seq 42"* &&
	    $ERR == *"$AH"* ]]
	is "anchor reset without --yes: exit 2, says what it would delete" $?
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 0 && $OUT == *"seq   42"* ]]
	is "anchor reset without --yes deleted nothing" $?
	run ctl anchor reset "${AP[@]}" --yes --json
	[[ $RC -eq 0 ]] && jq -e '.deleted and .previous.seq == 42' \
		<<<"$OUT" >/dev/null
	is "anchor reset --yes: deleted, and says what it was" $?
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 0 && $OUT == *"no anchor"* ]]
	is "after anchor reset --yes: no anchor" $?

	ok "put an anchor under another label" \
		put_anchor other "signer-journal-anchor v1 7 $AH"$'\n'
	run ctl anchor show "${AP[@]}" --label other --json
	[[ $RC -eq 0 ]] && jq -e '.label == "other" and .seq == 7' \
		<<<"$OUT" >/dev/null
	is "anchor show --label other" $?
	run ctl anchor reset "${AP[@]}" --label other --yes
	[[ $RC -eq 0 && $OUT == *"was seq 7"* ]]
	is "anchor reset --label other --yes" $?

	put_anchor signerd-journal "not an anchor" &&
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 1 && $ERR == *"not a v1 anchor"* ]]
	is "anchor show of a value that is not a v1 anchor: exit 1" $?
	put_anchor signerd-journal "signer-journal-anchor v1 43 $AH"$'\n' &&
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 1 && $ERR == *"delete them all"* ]]
	is "anchor show with two anchor objects: exit 1, names the way out" $?
	run ctl anchor reset "${AP[@]}" --yes
	[[ $RC -eq 0 && $OUT == *"every journal anchor object"* ]]
	is "anchor reset --yes deletes every anchor object of the label" $?
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 0 && $OUT == *"no anchor"* ]]
	is "after that: no anchor" $?
	# Anyone with the token but not the PIN can make a public object.
	put_anchor signerd-journal "signer-journal-anchor v1 99 $AH"$'\n' 0 &&
	run ctl anchor show "${AP[@]}"
	[[ $RC -eq 0 && $OUT == *"no anchor"* ]]
	is "a public look-alike object is not the anchor" $?
else
	for d in "anchor show: seq and hash" "anchor reset: dry run, --yes"; do
		_tap_report 0 "$d # SKIP no python3 to put an anchor on the token"
	done
fi

run ctl anchor show "${AP[@]}" --yes
[[ $RC -eq 2 && $ERR == *"--yes is not an option"* ]]
is "anchor show --yes: exit 2" $?
run ctl anchor reset "${AP[@]}" --yes --yes
is "anchor reset --yes twice: exit 2" $((RC - 2))
run ctl anchor show --pin-file "$WORK/user.pin"
[[ $RC -eq 2 && $ERR == *"missing --token"* ]]
is "anchor show without --token: exit 2" $?
run ctl anchor show --token "$T"
[[ $RC -eq 2 && $ERR == *"--pin-file or --pin-env"* ]]
is "anchor show without a PIN: exit 2" $?
run "$CTL" anchor frob
is "unknown anchor command: exit 2" $((RC - 2))
run "$CTL" anchor --help
[[ $RC -eq 0 && $OUT == *"anchor show"* && $OUT == *"anchor reset"* ]]
is "anchor --help lists both" $?
run "$CTL" anchor reset --help
[[ $RC -eq 0 && $OUT == "usage: signerctl anchor reset"* && $OUT == *"--yes"* ]]
is "anchor reset --help names --yes" $?
run "$CTL" --help
[[ $OUT == *"anchor show|reset"* ]]
is "signerctl --help lists anchor" $?
fails "no user PIN in any anchor output" grep -qF -f "$WORK/user.pin" "$ALL"

tap_done
