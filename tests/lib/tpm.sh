# tpm.sh: a throwaway software TPM 2.0 (swtpm) behind tpm2-pkcs11, the
# second PKCS#11 module of the tests (source it after softhsm.sh, which
# sets WORK and on_exit).
#   tpm_start      starts swtpm on unix sockets in $WORK/tpm; sets and
#                  exports TPM_MODULE, TPM2_PKCS11_TCTI, TPM2TOOLS_TCTI
#                  and TPM2_PKCS11_STORE; returns 1 if swtpm cannot run
#                  (TPM_ERR says why), 2 if a package is missing
#   tpm_stop       SIGTERM, waits (bounded); never kills anything else
#   tpm_transient  the TPM's loaded transient objects, one handle a line
#   tpm_ctl ARGS   $SIGNERCTL ARGS, at most 60 s; under a sanitizer with
#                  LeakSanitizer told about tpm2-pkcs11's own leak (below)
# Quirks that shape this:
# - No resource manager sits between the module and swtpm, so whatever a
#   process leaves loaded in the TPM stays there after it exits, and the
#   TPM holds only 3 transient objects.  tpm2_ptool runs one tpm2-tools
#   process per step and leaves objects behind, so tokens and keys are
#   made through PKCS#11 itself (signerctl token init / key generate);
#   the module's C_InitToken leaves a copy of the storage key loaded.
# - A wrong PIN is a TPM authorisation failure: it counts towards the
#   TPM's dictionary-attack lockout (3 failures, then 1000 s) for every
#   key on that TPM.
# - tpm2-pkcs11 1.9.0's C_SignInit leaks the ASN1 octet string of the
#   public point (ssl_util.c frees the struct, not its data; fixed
#   upstream in 54baed3).  LeakSanitizer sees it only in libcrypto unless
#   it unwinds slowly, so tpm_ctl does that and suppresses the module.
# Debian's multiarch directory: x86_64-linux-gnu on amd64.
TPM_MODULE=${TPM_MODULE:-$(ls /usr/lib/*/pkcs11/libtpm2_pkcs11.so 2>/dev/null | head -1)}
TPM_PID=
TPM_ERR=
TPM_LSAN_SUPP="$(dirname "${BASH_SOURCE[0]}")/../lsan.supp"

tpm_start() {
	local dir="$WORK/tpm" i
	TPM_ERR=
	if ! command -v swtpm >/dev/null || ! command -v tpm2_getcap >/dev/null ||
	    [ ! -e "${TPM_MODULE:-/nonexistent}" ]; then
		TPM_ERR="swtpm, tpm2-tools or libtpm2_pkcs11.so is missing (scripts/deps)"
		return 2
	fi
	mkdir -p "$dir/state" "$dir/store" || return 1
	# tcti-swtpm talks to SOCK and its control channel SOCK.ctrl.
	export TPM2_PKCS11_TCTI="swtpm:path=$dir/swtpm.sock"
	export TPM2TOOLS_TCTI="$TPM2_PKCS11_TCTI"
	export TPM2_PKCS11_STORE="$dir/store"
	export TPM_MODULE
	# A fresh state directory is manufactured on first start (new EPS,
	# no EK certificate: nothing here needs one); startup-clear runs
	# TPM2_Startup so that the first client need not.
	swtpm socket --tpm2 --tpmstate dir="$dir/state" \
		--server type=unixio,path="$dir/swtpm.sock" \
		--ctrl type=unixio,path="$dir/swtpm.sock.ctrl" \
		--flags not-need-init,startup-clear \
		--log file="$dir/swtpm.log",level=1 >>"$dir/swtpm.log" 2>&1 &
	TPM_PID=$!
	for i in $(seq 1 100); do
		if ! kill -0 "$TPM_PID" 2>/dev/null; then
			wait "$TPM_PID" 2>/dev/null
			TPM_PID=
			TPM_ERR="swtpm exited: $(tail -n 3 "$dir/swtpm.log" | tr '\n' ' ')"
			return 1
		fi
		[ -S "$dir/swtpm.sock" ] && tpm2_getcap handles-transient \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	TPM_ERR="swtpm did not answer within 10 s"
	tpm_stop
	return 1
}

tpm_stop() {
	local i st
	[ -n "$TPM_PID" ] || return 0
	kill -TERM "$TPM_PID" 2>/dev/null
	# Polled, not a "( sleep; kill ) &" guard: swtpm leaves at once, and
	# a guard subshell signalled before it has reset the traps it
	# inherited runs on_exit's whole cleanup stack itself.
	for i in $(seq 1 100); do
		# Gone (bash reaped it) or a zombie: it has stopped.
		st=Z
		read -r _ _ st _ 2>/dev/null <"/proc/$TPM_PID/stat"
		[ "$st" = Z ] && break
		sleep 0.1
	done
	[ "$st" = Z ] || kill -KILL "$TPM_PID" 2>/dev/null
	wait "$TPM_PID" 2>/dev/null
	TPM_PID=
}

tpm_ctl() {
	if [ -z "${ASAN_OPTIONS:-}${LSAN_OPTIONS:-}" ]; then
		timeout 60 "$SIGNERCTL" "$@"
		return
	fi
	if [ ! -e "$WORK/tpm/lsan.supp" ]; then
		{ cat "$TPM_LSAN_SUPP"; echo 'leak:libtpm2_pkcs11.so'; } \
			>"$WORK/tpm/lsan.supp" || return 1
	fi
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$WORK/tpm/lsan.supp" \
		timeout 60 "$SIGNERCTL" "$@"
}

tpm_transient() {
	tpm2_getcap handles-transient | sed -n 's/^- //p'
}

# Before softhsm.sh removes $WORK (handlers run last-registered first).
on_exit 'tpm_stop'
