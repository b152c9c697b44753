# softhsm.sh: a throwaway SoftHSM2 token store in a temporary directory
# (source it).  Sets SOFTHSM2_CONF, SOFTHSM_MODULE and WORK; registers a
# cleanup trap that removes the directory.
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/signer-hsm.XXXXXX")
mkdir -p "$WORK/tokens"
cat >"$WORK/softhsm2.conf" <<CONF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
export SOFTHSM_MODULE
trap 'rm -rf "$WORK"' EXIT

# make_pin FILE VALUE: writes a 0600 PIN file without putting it on argv.
make_pin() {
	( umask 077; printf '%s' "$2" >"$1" )
}
