#!/bin/sh
# ganache.sh: the tests' ganache (tests/evmnode) with ganache_fixes.cjs
# preloaded; scripts/bench.sh runs it as EVMNODE_BIN.  exec: the pid
# evmnode.sh records is the node process itself.
here=$(cd "$(dirname "$0")" && pwd)
exec node --require "$here/ganache_fixes.cjs" \
	"$here/../evmnode/node_modules/ganache/dist/node/cli.js" "$@"
