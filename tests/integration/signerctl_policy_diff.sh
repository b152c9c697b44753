#!/usr/bin/env bash
# signerctl_policy_diff.sh: `signerctl policy diff OLD NEW [--json]` on real files (TAP): tighten, loosen, none, bad files, exit codes.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/tap.sh
source tests/lib/onexit.sh

BUILD=${BUILD:-build}
CTL=${SIGNERCTL:-$BUILD/signerctl}
W=$(mktemp -d "${TMPDIR:-/tmp}/signer-diff.XXXXXX")
on_exit "rm -rf $(printf '%q' "$W")"
G=policy/examples/genesis.json

# run CMD...: stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$@" 2>"$W/stderr")
	RC=$?
	ERR=$(cat "$W/stderr")
}
is() { check "$1" [ "$2" -eq 0 ]; }
# edit NAME JQ: a version of the example policy changed by a jq filter.
edit() { jq "$2" "$G" >"$W/$1.json"; }

check "signerctl was built" [ -f "$CTL" -a -x "$CTL" ]
[ -f "$CTL" ] || { tap_done; exit 1; }

# --- tighten ---------------------------------------------------------------
edit tight '.policy_id = "v2" | .assets.ETH.per_tx_limit = "1"
	| .governance.m = 3 | .governance.delay = 172800'
run "$CTL" policy diff "$G" "$W/tight.json"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == tighten ]]
is "a lower limit, a higher m and a longer delay: tighten, exit 0" $?
grep -Eq '^tighten +assets\.ETH\.per_tx_limit: [0-9]+ -> 1$' <<<"$OUT"
is "the field line names path, old and new" $?
grep -Eq '^tighten +governance\.delay: 86400 -> 172800$' <<<"$OUT"
is "governance.delay lengthened is a tightening" $?
grep -Eq '^none +policy_id: .* -> v2$' <<<"$OUT"
is "policy_id is listed, class none" $?
check "one line per changed field, after the class" [ "$(wc -l <<<"$OUT")" -eq 5 ]

# --- loosen ------------------------------------------------------------------
edit loose '.assets.ETH.per_tx_limit = "1"
	| .assets.ETH.daily_limit = "9000000000000000000"'
run "$CTL" policy diff "$G" "$W/loose.json"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == loosen ]]
is "one raised limit among tightenings: loosen, exit 0" $?
grep -Eq '^loosen +assets\.ETH\.daily_limit: 5000000000000000000 -> 9000000000000000000$' <<<"$OUT"
is "the loosened field is named" $?
edit gov '.governance.approvers = ["alice", "bob"]'
run "$CTL" policy diff "$G" "$W/gov.json"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == loosen && $OUT == *"governance.approvers[carol]: member -> (none)"* ]]
is "a smaller governance set is a loosening" $?
edit asset '.assets.NEW = .assets.ETH | .assets.NEW.chain_id = 5'
run "$CTL" policy diff "$G" "$W/asset.json"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == loosen && $OUT == *"assets.NEW: (none) -> native, chain 5"* ]]
is "an added asset is a loosening" $?
run "$CTL" policy diff "$W/asset.json" "$G"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == tighten ]]
is "removing it again is a tightening" $?

# --- none --------------------------------------------------------------------
run "$CTL" policy diff "$G" "$G"
[[ $RC -eq 0 && $OUT == none ]]
is "the same file: none and nothing else" $?
edit renamed '.policy_id = "genesis-2"'
jq . "$G" >"$W/reformatted.json"
run "$CTL" policy diff "$G" "$W/renamed.json"
[[ $RC -eq 0 && $(head -1 <<<"$OUT") == none ]]
is "only policy_id changed: none" $?
run "$CTL" policy diff "$G" "$W/reformatted.json"
[[ $RC -eq 0 && $OUT == none ]]
is "other whitespace, same rules: none" $?

# --- --json --------------------------------------------------------------------
run "$CTL" policy diff "$G" "$W/loose.json" --json
[[ $RC -eq 0 ]]
is "--json exits 0" $?
ok "--json: the class" jq -e '.class == "loosen"' <<<"$OUT"
ok "--json: old_hash and new_hash are sha256sum of the files" \
	jq -e --arg o "$(sha256sum "$G" | cut -d' ' -f1)" \
	--arg n "$(sha256sum "$W/loose.json" | cut -d' ' -f1)" \
	'.old_hash == $o and .new_hash == $n' <<<"$OUT"
ok "--json: every change has path, old, new, class" \
	jq -e '.changes | length == 2 and all(has("path") and has("old") and has("new") and has("class"))' <<<"$OUT"
ok "--json: the loosened field" \
	jq -e '.changes[] | select(.path == "assets.ETH.daily_limit")
		| .old == "5000000000000000000" and .new == "9000000000000000000" and .class == "loosen"' <<<"$OUT"
ok "--json: the tightened field" \
	jq -e '.changes[] | select(.path == "assets.ETH.per_tx_limit") | .class == "tighten"' <<<"$OUT"
run "$CTL" policy diff --json "$G" "$G"
ok "--json before the files, no change: none, empty list" \
	jq -e '.class == "none" and .changes == []' <<<"$OUT"

# --- bad files and usage -------------------------------------------------------
jq 'del(.governance.delay)' "$G" >"$W/nodelay.json"
run "$CTL" policy diff "$G" "$W/nodelay.json"
[[ $RC -eq 1 && -z $OUT && $ERR == *"$W/nodelay.json: governance.delay: missing"* ]]
is "a file that is no valid policy: exit 1, names the file and the field" $?
printf '{"policy_id": ' >"$W/broken.json"
run "$CTL" policy diff "$W/broken.json" "$G"
[[ $RC -eq 1 && $ERR == *"$W/broken.json: json: line"* ]]
is "broken JSON in OLD: exit 1, names the file" $?
run "$CTL" policy diff "$G" "$W/missing.json"
[[ $RC -eq 1 && $ERR == *"$W/missing.json: cannot open"* ]]
is "a missing file: exit 1" $?
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$W/huge.json"
run "$CTL" policy diff "$G" "$W/huge.json"
[[ $RC -eq 1 && $ERR == *"larger than"* ]]
is "a file over the policy size limit: exit 1" $?
run "$CTL" policy diff "$G"
[[ $RC -eq 2 ]]
is "one file: usage, exit 2" $?
run "$CTL" policy diff "$G" "$G" "$G"
[[ $RC -eq 2 ]]
is "three files: usage, exit 2" $?
run "$CTL" policy diff --yaml "$G" "$G"
[[ $RC -eq 2 ]]
is "an unknown option: usage, exit 2" $?
run "$CTL" policy diff --help
[[ $RC -eq 0 && $OUT == *"usage: signerctl policy diff OLD NEW"* ]]
is "--help prints the usage, exit 0" $?

tap_done
