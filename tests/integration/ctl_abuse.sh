# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ctl_abuse: the control socket under load and abuse (tunsupd(8), Control socket): hundreds of
# concurrent clients, slow clients holding half lines, junk, oversized lines
# and a subscriber that never reads. The daemon must answer throughout.
set -eu
. "$TESTLIB"
tlib_init

CTLCLIENT="python3 $TLIB_DIR/ctlclient.py"
DEAD_PORT=$(free_port)	# nothing listens there: start fails fast

{
	conf_header
	cat <<EOF2
Tunnel a
    HostName 127.0.0.1
    Port $DEAD_PORT
    Enabled no
EOF2
} >"$T/tunsupd.conf"

# run MODE ARGS...: a ctlclient.py mode; its "ok -" lines are our passes.
run() {
	if ! $CTLCLIENT "$SOCK" "$@" >"$T/client.out" 2>&1; then
		cat "$T/client.out" >&2
		fail "ctlclient $*"
	fi
	cat "$T/client.out"
	kill -0 "$TUNSUPD_PID" 2>/dev/null || fail "tunsupd died during $*"
}

start_tunsupd "$T/tunsupd.conf"

run concurrent 200 20
run slow
run pipeline
run junk
run flood a
grep -q "not reading" "$T/tunsupd.log" ||
    fail "the disconnect of a slow subscriber was not logged"
pass "the slow subscriber's disconnect is logged as a warning"
# After all that, still the same daemon, answering.
[ "$(ctl --json status | jget pid)" = "$TUNSUPD_PID" ] || fail "daemon changed"
run concurrent 50 4
rc=0
stop_tunsupd || rc=$?
[ "$rc" = 0 ] || fail "tunsupd exited $rc after the abuse"
pass "tunsupd exits 0 on SIGTERM after the abuse"
