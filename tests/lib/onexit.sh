# onexit.sh: one EXIT trap that runs a stack of cleanup commands (source it).
#   on_exit CMD   registers CMD (a string, eval'd at exit); the last one
#                 registered runs first, so a node started inside a temp dir
#                 is stopped before the dir is removed.  CMD can read
#                 $ON_EXIT_STATUS, the status the script is exiting with.
# Several libraries each need cleanup, and a plain `trap ... EXIT` in one
# would silently replace another's; this keeps them all.  INT, TERM and HUP
# become an exit, so Ctrl-C and `timeout` run the same cleanup.  The
# script's exit status is kept.
if [ -z "${_ON_EXIT_LOADED:-}" ]; then
_ON_EXIT_LOADED=1
_ON_EXIT_CMDS=()

on_exit() {
	_ON_EXIT_CMDS+=("$*")
}

_on_exit_run() {
	# The script's status, for handlers that report success or failure.
	ON_EXIT_STATUS=$?
	local i
	# A failing or interrupted cleanup step must not skip the others.
	set +e
	trap '' INT TERM HUP
	for ((i = ${#_ON_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${_ON_EXIT_CMDS[i]}"
	done
	_ON_EXIT_CMDS=()
}

trap _on_exit_run EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
fi
