#!/usr/bin/env bash
# manpages.sh: the man pages are lint-clean and true to the programs (TAP).
#  (a) mandoc -Tlint: no message at level warning, and none at level
#      style but "referenced manual not found" (which depends on the man
#      pages installed on the machine); every Xr to one of ours resolves.
#  (b) every option a program's --help lists is in its page, and every
#      option the page documents (.Fl) is in the --help: signerd -h and
#      orchestratord --help against their pages; for signerctl, each
#      command's --help against its item in signerctl.1 (groups that share
#      one --help, like audit, against the group's items together), and
#      the commands of `signerctl --help` against the page's items.
#  (c) every section and key the config loaders accept is in signerd.conf.5
#      or orchestratord.conf.5 and nothing else is, read from the loaders'
#      tables in the source; with each key's literal range, default and
#      whether it is required.
# Knobs for the test's own test: MANDIR (the pages) and SRC (the tree the
# loaders' sources are read from).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MANDIR=${MANDIR:-man}
SRC=${SRC:-.}
source tests/lib/tap.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/manpages.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# note LINES...: shows why a check failed, as TAP comments.
note() {
	local l
	for l in "$@"; do
		[ -n "$l" ] && echo "# $l"
	done
	return 0
}

# only_in A B: the lines of sorted file A that sorted file B lacks.
only_in() {
	comm -23 "$1" "$2"
}

# subset WHAT A B: checks that every line of A is in B, naming the rest.
subset() {
	local what=$1 missing
	missing=$(only_in "$2" "$3")
	[ -z "$missing" ] || note "$what: ${missing//$'\n'/ }"
	check "$what" [ -z "$missing" ]
}

# --- (a) lint ---------------------------------------------------------------
PAGES=(signerd.8 signerd.conf.5 signer-policy.5 orchestratord.8
	orchestratord.conf.5 signerctl.1)
for p in "${PAGES[@]}"; do
	check "man page $p exists" [ -s "$MANDIR/$p" ]
done
check "mandoc is installed (scripts/deps)" [ -n "$(command -v mandoc)" ]
for f in "$MANDIR"/*.[0-9]; do
	[ -e "$f" ] || continue
	p=$(basename "$f")
	out=$(mandoc -Tlint -Wwarning "$f" 2>&1)
	rc=$?
	note "$out"
	check "$p: mandoc -Tlint -Wwarning is clean" [ "$rc" -eq 0 -a -z "$out" ]
	out=$(mandoc -Tlint -Wstyle "$f" 2>&1 |
	    grep -v -e 'referenced manual not found' -e 'mandoc\.db')
	note "$out"
	check "$p: mandoc -Tlint -Wstyle says nothing else" [ -z "$out" ]
	bad=""
	while read -r name sec; do
		case $name in
		signer*|orchestrator*)
			[ -e "$MANDIR/$name.$sec" ] || bad="$bad $name($sec)" ;;
		esac
	done < <(awk '$1 == ".Xr" { print $2, $3 }' "$f")
	note "${bad:+$p refers to missing pages:$bad}"
	check "$p: its Xr to our pages resolve" [ -z "$bad" ]
	bad=""
	for d in $(awk '$1 == ".Pa" && $2 ~ /\.md$/ { sub(/^docs\//, "", $2)
	    print $2 }' "$f" | sort -u); do
		[ -e "$SRC/docs/$d" ] || bad="$bad $d"
	done
	note "${bad:+$p names documents docs/ lacks:$bad}"
	check "$p: the documents it names are in docs/" [ -z "$bad" ]
done

# --- (b) options ------------------------------------------------------------
CTL=$BUILD/signerctl
SD=$BUILD/signerd
ORCH=$BUILD/orchestratord
for b in "$CTL" "$SD" "$ORCH"; do
	check "$b was built" [ -x "$b" ]
done
VERSION=$(sed -n 's/^#define APP_VERSION "\(.*\)"$/\1/p' "$SRC/common/version.h")
check "common/version.h names the version" [ -n "$VERSION" ]

# help_opts KIND: the options a --help text on stdin lists, one a line,
# sorted: those of its usage lines (from "usage:" to the first blank line,
# and "  PROG ..." command lines) and of its option lines (first non-blank
# character '-'), not the ones its prose mentions.  KIND long: --name only
# (signerctl); all: -X too (the daemons).
help_opts() {
	awk '
	    /^usage:/ { u = 1 }
	    /^[ \t]*$/ { u = 0 }
	    u || /^[ \t]+(signerctl|signerd|orchestratord) / || /^[ \t]*-/' |
	    grep -oE '(^|[][[:space:]|,(])--?[A-Za-z][A-Za-z0-9-]*' |
	    sed 's/^[][[:space:]|,(]//' |
	    if [ "$1" = long ]; then grep -E '^--'; else
		grep -E '^(--[a-z][a-z0-9-]*|-[A-Za-z])$'; fi | sort -u
}

# man_opts PAGE: "ITEM<TAB>OPTION" for each .Fl of PAGE, ITEM being the
# command (the first .Cm of a top-level .It, "token init") whose list
# item holds it, or "-" outside every command's item.
man_opts() {
	awk '
	    function opt(line,   n, w, i) {
		n = split(line, w, /[ \t]+/)
		for (i = 1; i < n; i++)
			if ((w[i] == "Fl" || w[i] == ".Fl") && (w[i + 1] ~ /^-/ ||
			    length(w[i + 1]) == 1))
				print item "\t-" w[i + 1]
	    }
	    function cmd(line,   n, w, i, c) {
		n = split(line, w, /[ \t]+/)
		for (i = 1; i <= n && w[i] != "Cm" && w[i] != ".Cm"; i++)
			;
		c = ""
		for (i++; i <= n && w[i] ~ /^[a-z]+$/; i++)
			c = c (c == "" ? "" : " ") w[i]
		return c == "" ? "-" : c
	    }
	    /^\.\\"/ { next }
	    /^\.S[hs] / { item = "-"; pending = 0 }
	    /^\.Bl/ { depth++ }
	    /^\.El/ { if (depth == 1) item = "-"; depth-- }
	    /^\.It/ && depth == 1 {
		if ($0 ~ /[ \t]Xo$/) { pending = 1; item = "-" }
		else item = cmd($0)
	    }
	    pending && /^\.Cm / { item = cmd($0); pending = 0 }
	    pending && /^\.Xc/ { pending = 0 }
	    /^\./ { opt($0) }
	    BEGIN { item = "-" }' "$1"
}

# run_help NAME CMD...: CMD's standard output into $WORK/help-NAME;
# returns CMD's exit status.
run_help() {
	local name=$1
	shift
	"$@" >"$WORK/help-$name" 2>"$WORK/help-$name.err" </dev/null
}

# The daemons: the whole page against -h / --help.
daemon_opts() {
	local prog=$1 page=$2 helpflag=$3
	shift 3
	run_help "$prog" "$@" "$helpflag"
	check "$prog $helpflag exits 0" [ $? -eq 0 ]
	check "$prog $helpflag prints its usage on stdout" \
		grep -q "^usage: $prog" "$WORK/help-$prog"
	help_opts all <"$WORK/help-$prog" >"$WORK/$prog.help"
	man_opts "$MANDIR/$page" | cut -f2 | sort -u >"$WORK/$prog.man"
	check "$prog: --help lists options" [ -s "$WORK/$prog.help" ]
	subset "$prog: options of $helpflag missing from $page" \
		"$WORK/$prog.help" "$WORK/$prog.man"
	subset "$prog: options $page documents that $helpflag lacks" \
		"$WORK/$prog.man" "$WORK/$prog.help"
}
daemon_opts signerd signerd.8 -h "$SD"
daemon_opts orchestratord orchestratord.8 --help "$ORCH"

for v in --version -V; do
	check "signerd $v prints \"signerd $VERSION\"" \
		[ "$("$SD" $v 2>/dev/null)" = "signerd $VERSION" ]
	check "orchestratord $v prints \"orchestratord $VERSION\"" \
		[ "$("$ORCH" $v 2>/dev/null)" = "orchestratord $VERSION" ]
done
check "signerctl --version prints \"signerctl $VERSION\"" \
	[ "$("$CTL" --version 2>/dev/null)" = "signerctl $VERSION" ]
check "signerd --help is signerd -h" cmp -s <("$SD" --help) <("$SD" -h)
check "orchestratord -h is orchestratord --help" \
	cmp -s <("$ORCH" -h) <("$ORCH" --help)
"$ORCH" >/dev/null 2>&1
check "orchestratord without a command exits 2 (usage)" [ $? -eq 2 ]
"$SD" >/dev/null 2>&1
check "signerd without -c exits 2 (usage)" [ $? -eq 2 ]
"$CTL" --bogus >/dev/null 2>&1
check "signerctl with an unknown option exits 2 (usage)" [ $? -eq 2 ]

# signerctl: commands first.  `signerctl --help` lines "  signerctl GROUP
# [VERBS] ...", VERBS being "verb", "a|b" or "[a|b]".
run_help top "$CTL" --help
check "signerctl --help exits 0" [ $? -eq 0 ]
awk '$1 == "signerctl" && $2 ~ /^[a-z]+$/ {
	v = $3
	if (v ~ /^\[?[a-z]+(\|[a-z]+)*\]?$/) {
		gsub(/[][]/, "", v)
		n = split(v, w, "|")
		for (i = 1; i <= n; i++)
			print $2, w[i]
	} else
		print $2
    }' "$WORK/help-top" | sort -u >"$WORK/cmds.help"
man_opts "$MANDIR/signerctl.1" >"$WORK/ctl.man"
# Items without options would be missed by man_opts: take every item's name.
awk '
    /^\.S[hs] / { depth = 0 }
    /^\.Bl/ { depth++ }
    /^\.El/ { depth-- }
    /^\.It/ && depth == 1 && /[ \t]Xo$/ { pending = 1; next }
    /^\.It Cm / && depth == 1 { line = $0; pending = 0 }
    pending && /^\.Cm / { line = $0; pending = 0 }
    line != "" {
	n = split(line, w, /[ \t]+/)
	for (i = 1; i <= n && w[i] != "Cm" && w[i] != ".Cm"; i++)
		;
	c = ""
	for (i++; i <= n && w[i] ~ /^[a-z]+$/; i++)
		c = c (c == "" ? "" : " ") w[i]
	print c
	line = ""
    }' "$MANDIR/signerctl.1" | sort -u >"$WORK/cmds.man"
check "signerctl --help lists commands" [ "$(wc -l <"$WORK/cmds.help")" -gt 10 ]
subset "signerctl commands missing from signerctl.1" \
	"$WORK/cmds.help" "$WORK/cmds.man"
subset "signerctl.1 commands signerctl --help lacks" \
	"$WORK/cmds.man" "$WORK/cmds.help"

# Each command: its --help (exit 0) against its item.
: >"$WORK/help-all"
while read -r cmd; do
	key=${cmd// /_}
	# shellcheck disable=SC2086 # cmd is "group verb": two arguments
	run_help "$key" "$CTL" $cmd --help
	rc=$?
	check "signerctl $cmd --help exits 0 and prints something" \
		[ "$rc" -eq 0 -a -s "$WORK/help-$key" ]
	help_opts long <"$WORK/help-$key" | grep -vx -e --help -e --version \
		>"$WORK/$key.help"
	cat "$WORK/$key.help" >>"$WORK/help-all"
	awk -F'\t' -v c="$cmd" '$1 == c { print $2 }' "$WORK/ctl.man" |
		sort -u >"$WORK/$key.man"
	subset "signerctl.1 $cmd: options its --help lacks" \
		"$WORK/$key.man" "$WORK/$key.help"
	group=${cmd%% *}
	if [ "$group" != "$cmd" ]; then
		[ -e "$WORK/help-group-$group" ] ||
			run_help "group-$group" "$CTL" "$group" --help
		# One --help for all the group's verbs: checked as a group below.
		cmp -s "$WORK/help-$key" "$WORK/help-group-$group" && continue
	fi
	subset "signerctl $cmd: options of its --help missing from its item" \
		"$WORK/$key.help" "$WORK/$key.man"
done <"$WORK/cmds.man"

# Each group's --help against all its items, and --help and --version.
for group in $(cut -d' ' -f1 "$WORK/cmds.man" | sort -u); do
	run_help "group-$group" "$CTL" "$group" --help
	check "signerctl $group --help exits 0" [ $? -eq 0 ]
	help_opts long <"$WORK/help-group-$group" >"$WORK/g-$group.help"
	cat "$WORK/g-$group.help" >>"$WORK/help-all"
	awk -F'\t' -v g="$group" '$1 == g || index($1, g " ") == 1 ||
	    ($1 == "-" && ($2 == "--help" || $2 == "--version")) { print $2 }' \
		"$WORK/ctl.man" | sort -u >"$WORK/g-$group.man"
	subset "signerctl $group --help: options missing from its items" \
		"$WORK/g-$group.help" "$WORK/g-$group.man"
done

help_opts long <"$WORK/help-top" >"$WORK/top.help"
cat "$WORK/top.help" >>"$WORK/help-all"
sort -u -o "$WORK/help-all" "$WORK/help-all"
cut -f2 "$WORK/ctl.man" | sort -u >"$WORK/all.man"
subset "signerctl --help: options missing from signerctl.1" \
	"$WORK/top.help" "$WORK/all.man"
subset "signerctl.1: options no signerctl --help lists" \
	"$WORK/all.man" "$WORK/help-all"
sock=$(grep -oE 'default \$SIGNERD_SOCKET or [^ )]+' "$WORK/help-status" |
	head -1 | awk '{ print $NF }')
check "signerctl status --help names the default socket" [ -n "$sock" ]
check "signerctl.1 names the same default socket ($sock)" \
	grep -qF -- "$sock" "$MANDIR/signerctl.1"

# --- (c) config keys ----------------------------------------------------------
# uncomment FILE: FILE without /* */ comments, on one line, tabs as spaces.
uncomment() {
	tr '\n\t' '  ' <"$1" | sed -e 's,/\*\([^*]\|\*[^/]\)*\*/,,g'
}

# block FILE START: the text of FILE from the line matching START to "};",
# without comments, on one line.
block() {
	awk -v s="$2" 'index($0, s) == 1 { on = 1; next } on && /^};/ { on = 0 }
	    on' "$1" >"$WORK/block"
	uncomment "$WORK/block"
}

# value EXPR FILE: EXPR's value when it is arithmetic on numbers, or a
# symbol FILE or a header of the tree #defines to that; else nothing.  A
# number with a leading 0 (a mode) stays as it is written.
value() {
	local v=$1
	if [[ $v =~ ^[A-Z_][A-Z0-9_]*$ ]]; then
		v=$(grep -hE "^#define $v[[:space:]]" "$2" \
		    "$SRC"/{common,proto,journal,hsm,signerd,orchestratord,policy}/*.h \
		    2>/dev/null | head -1 |
		    sed -e "s/^#define $v[[:space:]]*//" -e 's,/\*.*,,')
	fi
	v=$(sed -E -e 's/([0-9]+)[uUlL]+/\1/g' -e 's/[[:space:]]+$//' <<<"$v")
	if [[ $v =~ ^0[0-7]+$ ]]; then
		echo "$v"
	elif [[ $v =~ ^[0-9\ \(\)\*+-]+$ ]]; then
		echo $(( v ))
	fi
}

# code_keys FILE: "section key lo hi default required" for each field of
# the loader's table (fields[] in FILE), "-" where it has none or not a
# number.
code_keys() {
	local file=$1 entry macro sec key member lo hi req dflt
	local -a a
	block "$file" "static const struct ini_field fields[] = {" |
	    grep -oE '[A-Z]+\("[a-z_]+", *"[a-z_]+"[^)]*\)' |
	    while read -r entry; do
		macro=${entry%%(*}
		entry=${entry#*(}
		entry=${entry%)}
		IFS=',' read -r -a a <<<"${entry// /}"
		sec=${a[0]//\"/}
		key=${a[1]//\"/}
		lo=-; hi=-; req=0
		case $macro in
		NUM|INT) member=${a[2]}; lo=${a[3]}; hi=${a[4]} ;;
		STR|CUSTOM) member=${a[2]}; req=${a[4]} ;;
		F)	member=${a[3]}; req=${a[7]}
			case ${a[2]} in INI_INT|INI_UINT) lo=${a[4]}; hi=${a[5]} ;; esac ;;
		*)	member=? ;;
		esac
		[ "$lo" = - ] || lo=$(value "$lo" "$file")
		[ "$hi" = - ] || hi=$(value "$hi" "$file")
		dflt=$(sed -n '/^defaults(/,/^}/p' "$file" |
			sed -n "s/^[ \t]*cfg->$member = \([^;]*\);.*/\1/p" | head -1)
		[ -n "$dflt" ] && dflt=$(value "$dflt" "$file")
		echo "$sec $key ${lo:--} ${hi:--} ${dflt:--} $req"
	    done
}

# man_keys PAGE: "section<TAB>key<TAB>the item's text" for each .It Ic of
# the page's .Ss [section] lists; and "section<TAB>" for each section.
man_keys() {
	awk '
	    function flush() {
		if (key != "") print sec "\t" key "\t" text
		key = ""; text = ""
	    }
	    /^\.Sh / { flush(); sec = "" }
	    /^\.Ss / { flush(); s = $0; sub(/^\.Ss[ \t]+/, "", s)
		gsub(/\\&/, "", s)
		if (s ~ /^\[.*\]$/) { sec = substr(s, 2, length(s) - 2)
			print sec "\t" } else sec = ""
		depth = 0; next }
	    /^\.Bl/ { depth++ }
	    /^\.El/ { if (depth == 1) flush(); depth-- }
	    /^\.It/ && depth == 1 { flush()
		if (sec != "" && $2 == "Ic") key = $3 }
	    key != "" { text = text " " $0 }
	    END { flush() }' "$1"
}

# conf_check PROG PAGE: PROG's keys (in $WORK/PROG.code, from code_keys
# and the rest) against PAGE.
conf_check() {
	local prog=$1 page=$2 sec key lo hi dflt req text n
	man_keys "$MANDIR/$page" >"$WORK/$prog.mankeys"
	awk -F'\t' '$2 != "" { print $1 " " $2 }' "$WORK/$prog.mankeys" |
		sort -u >"$WORK/$prog.man"
	awk '{ print $1 " " $2 }' "$WORK/$prog.code" | sort -u >"$WORK/$prog.keys"
	check "$prog: the loader's table was read ($(wc -l <"$WORK/$prog.keys") keys)" \
		[ "$(wc -l <"$WORK/$prog.keys")" -gt 5 ]
	subset "$prog: keys the loader accepts missing from $page" \
		"$WORK/$prog.keys" "$WORK/$prog.man"
	subset "$prog: keys $page documents that the loader refuses" \
		"$WORK/$prog.man" "$WORK/$prog.keys"
	awk -F'\t' '$2 == "" { print $1 }' "$WORK/$prog.mankeys" |
		sort -u >"$WORK/$prog.mansecs"
	subset "$prog: sections the loader accepts missing from $page" \
		"$WORK/$prog.secs" "$WORK/$prog.mansecs"
	subset "$prog: sections $page documents that the loader refuses" \
		"$WORK/$prog.mansecs" "$WORK/$prog.secs"
	# Ranges, defaults, required: each as the item says it.
	: >"$WORK/$prog.wrong"
	while read -r sec key lo hi dflt req; do
		text=$(awk -F'\t' -v s="$sec" -v k="$key" \
			'$1 == s && $2 == k { print $3 }' "$WORK/$prog.mankeys")
		[ -n "$text" ] || continue
		for n in "$lo" "$hi"; do
			[ "$n" = - ] || grep -qw -- "$n" <<<"$text" ||
				echo "[$sec] $key: range bound $n" >>"$WORK/$prog.wrong"
		done
		[ "$dflt" = - ] || grep -qw -- "$dflt" <<<"$text" ||
			echo "[$sec] $key: default $dflt" >>"$WORK/$prog.wrong"
		case $req in
		1) grep -q 'Sy Required' <<<"$text" ||
			echo "[$sec] $key: not marked Required" >>"$WORK/$prog.wrong" ;;
		0) grep -q 'Sy Required' <<<"$text" &&
			echo "[$sec] $key: marked Required" >>"$WORK/$prog.wrong" ;;
		esac
	done <"$WORK/$prog.code"
	note "$(cat "$WORK/$prog.wrong")"
	check "$prog: $page gives each key's range, default and whether it is required" \
		[ ! -s "$WORK/$prog.wrong" ]
}

# hook_sections FILE: the sections FILE's loader hook claims ("webhook:"
# for a prefix).
hook_sections() {
	grep -oE 'str(n)?cmp\(section, "[a-z:]+"' "$1" | sed 's/.*"\(.*\)"/\1/' |
		sort -u
}

# table_sections FILE: the loader's sections[] table.
table_sections() {
	block "$1" "static const char *const sections[] = {" |
		grep -oE '"[a-z_]+"' | tr -d '"'
}

# signerd: fields[], sections[] and [keys] (its hook).
SDC=$SRC/signerd/config.c
code_keys "$SDC" >"$WORK/signerd.code"
n_entries=$(block "$SDC" "static const struct ini_field fields[] = {" |
	grep -oE '\b[A-Z]+\(' | wc -l)
check "signerd: every entry of the loader's table was read" \
	[ "$n_entries" -eq "$(wc -l <"$WORK/signerd.code")" ]
{ table_sections "$SDC"; hook_sections "$SDC"; } | sort -u >"$WORK/signerd.secs"
check "signerd: [keys] is a hook section" grep -qx keys "$WORK/signerd.secs"
conf_check signerd signerd.conf.5

# orchestratord: fields[], sections[], and webhook_config.c's [webhooks]
# knobs and [webhook:NAME] keys.
OC=$SRC/orchestratord/config.c
WC=$SRC/orchestratord/webhook_config.c
code_keys "$OC" >"$WORK/orchestratord.code"
n_entries=$(block "$OC" "static const struct ini_field fields[] = {" |
	grep -oE '\b[A-Z]+\(' | wc -l)
check "orchestratord: every entry of the loader's table was read" \
	[ "$n_entries" -eq "$(wc -l <"$WORK/orchestratord.code")" ]
knobs=$(block "$WC" "} knobs[] = {")
grep -oE '\{ *"[a-z_]+", *offsetof\([^)]*\), *[0-9]+, *[0-9]+, *[0-9]+ *\}' \
	<<<"$knobs" | tr -d '{}",' |
	awk '{ print "webhooks", $1, $(NF - 2), $(NF - 1), $NF, 0 }' \
	>"$WORK/knobs"
check "orchestratord: every [webhooks] knob was read" \
	[ "$(grep -o '{ *"' <<<"$knobs" | wc -l)" -eq "$(wc -l <"$WORK/knobs")" ]
cat "$WORK/knobs" >>"$WORK/orchestratord.code"
sed -n '/^set_sub_key(/,/^}/p' "$WC" | grep -oE 'strcmp\(name, "[a-z_]+"\)' |
	sed 's/.*"\(.*\)".*/webhook:NAME \1 - - - -/' >>"$WORK/orchestratord.code"
check "orchestratord: the [webhook:NAME] keys were read" \
	grep -q '^webhook:NAME url ' "$WORK/orchestratord.code"
{ table_sections "$OC"; hook_sections "$OC" | sed 's/:$/:NAME/'; } |
	sort -u >"$WORK/orchestratord.secs"
check "orchestratord: [webhooks] and [webhook:NAME] are hook sections" \
	[ "$(grep -cx -e webhooks -e webhook:NAME "$WORK/orchestratord.secs")" -eq 2 ]
conf_check orchestratord orchestratord.conf.5

tap_done
