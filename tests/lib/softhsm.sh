# softhsm.sh: a throwaway SoftHSM2 token store in a temporary directory
# (source it).  Sets SOFTHSM2_CONF, SOFTHSM_MODULE and WORK; removes the
# directory on exit through on_exit (tests/lib/onexit.sh), so other
# libraries' cleanups run too.
. "$(dirname "${BASH_SOURCE[0]}")/onexit.sh"
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/signer-hsm.XXXXXX")
on_exit "rm -rf $(printf '%q' "$WORK")"
mkdir -p "$WORK/tokens"
cat >"$WORK/softhsm2.conf" <<CONF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
export SOFTHSM_MODULE

# make_pin FILE VALUE: writes a 0600 PIN file without putting it on argv
# (printf is a builtin: no process, nothing in /proc/*/cmdline).
make_pin() {
	( umask 077; printf '%s' "$2" >"$1" )
}

# make_random_pin FILE: a fresh 32-hex-digit PIN straight into a 0600 file;
# the value never passes through a variable or argv.
make_random_pin() {
	( umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$1" )
	[ -s "$1" ]
}
