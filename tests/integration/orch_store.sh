#!/usr/bin/env bash
# orch_store.sh: runs the store's cmocka suite (tests/orchestratord/
# test_store.c) against a throwaway PostgreSQL cluster: claims, nonces,
# approvals, lease fencing and events in real SQL, concurrency included.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib/tap.sh
. tests/lib/pg.sh

if ! pg_start; then
	echo "not ok 1 - PostgreSQL cluster starts"
	exit 1
fi
# The suite speaks TAP itself; its lines are counted by tests/run.sh.
PG_CONNINFO="$PG_CONNINFO" CMOCKA_MESSAGE_OUTPUT=TAP \
	timeout 300 "$BUILD/tests/orchestratord/test_store"
