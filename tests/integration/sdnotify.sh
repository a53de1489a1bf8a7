# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# systemd Type=notify: READY=1, STATUS= "N of M tunnels up" following the
# tunnels, WATCHDOG=1 from the loop when WATCHDOG_USEC is set and
# WATCHDOG_PID is unset or ours (never when it names another process),
# RELOADING=1 with MONOTONIC_USEC then READY=1 around a reload, a failed one
# too, STOPPING=1 on SIGTERM. A python listener stands in for systemd's
# notify socket.
. "$TESTLIB"
tlib_init

start_sshd bridge
L=$(free_port)
ECHO=$(free_port)
start_echo "$ECHO"
# listen NAME: a notify socket $T/NAME.sock logging each datagram to
# $T/NAME.log, a line "--" after each; with MONOTONIC_USEC the listener's
# own CLOCK_MONOTONIC when it got it, as "now=USEC".
listen() {
	python3 - "$T/$1.sock" "$T/$1.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        m = s.recv(4096).decode()
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        log.write(m + "\n" + ("now=%d\n" % now if "MONOTONIC_USEC" in m else "") + "--\n")
PY
	track $!
	wait_for 5 test -S "$T/$1.sock"
}
listen notify
{
	conf_header
	tunnel_conf n bridge
	echo "    LocalForward $L 127.0.0.1:$ECHO"
} >"$T/t.conf"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_tunsupd "$T/t.conf"
wait_state n up 15
wait_for 5 grep -qx "READY=1" "$T/notify.log"
wait_for 5 grep -qx "STATUS=1 of 1 tunnels up" "$T/notify.log"
pass "READY=1, then STATUS=1 of 1 tunnels up"
n1=$(grep -c "^WATCHDOG=1" "$T/notify.log" || true)
wait_for 5 sh -c "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge $((n1 + 3)) ]"
pass "WATCHDOG=1 keeps coming from the loop"
ctl stop n >/dev/null
wait_for 5 grep -qx "STATUS=0 of 0 tunnels up" "$T/notify.log"
pass "STATUS follows the tunnels"

# ---- reload --------------------------------------------------------------
ctl reload >/dev/null || fail "reload"
wait_for 5 sh -c "[ \$(grep -c '^READY=1' '$T/notify.log') -ge 2 ]"
# RELOADING=1 and MONOTONIC_USEC in one datagram, READY=1 after it
awk '/^RELOADING=1$/ { r = NR } /^READY=1$/ && r { ok = 1 } END { exit !ok }' "$T/notify.log" ||
	fail "no RELOADING=1 before the second READY=1: $(cat "$T/notify.log")"
grep -A1 -x "RELOADING=1" "$T/notify.log" | grep -q '^MONOTONIC_USEC=[0-9][0-9]*$' ||
	fail "RELOADING=1 without MONOTONIC_USEC: $(cat "$T/notify.log")"
sent=$(sed -n 's/^MONOTONIC_USEC=//p' "$T/notify.log" | tail -1)
got=$(sed -n 's/^now=//p' "$T/notify.log" | tail -1)
[ "$sent" -le "$got" ] && [ $((got - sent)) -lt 5000000 ] ||
	fail "MONOTONIC_USEC=$sent is not CLOCK_MONOTONIC (the listener's: $got)"
pass "a reload sends RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC), then READY=1"
cp "$T/t.conf" "$T/t.good"
echo "NoSuchKeyword yes" >>"$T/t.conf"
rc=0
ctl reload >"$T/reload.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a broken reload exited $rc: $(cat "$T/reload.out")"
wait_for 5 sh -c "[ \$(grep -c '^READY=1' '$T/notify.log') -ge 3 ]"
[ "$(grep -c '^RELOADING=1' "$T/notify.log")" = 2 ] || fail "no RELOADING=1 for the failed reload"
cp "$T/t.good" "$T/t.conf"
pass "a failed reload: tunsupctl reload exits 1; RELOADING=1, then READY=1 again"
stop_tunsupd || fail "tunsupd exit status $?"
wait_for 5 grep -qx "STOPPING=1" "$T/notify.log"
pass "STOPPING=1 on SIGTERM"

# ---- WATCHDOG_PID ---------------------------------------------------------
# One daemon whose WATCHDOG_PID is its own pid (a shell that execs it), one
# whose names another process: the first keeps sending WATCHDOG=1, the
# second never does, both READY=1.
listen own
listen other
printf '#!/bin/sh\nWATCHDOG_PID=$$ exec "$TUNSUPD_REAL" "$@"\n' >"$T/tunsupd-own"
chmod +x "$T/tunsupd-own"
conf_header >"$T/empty.conf"
NOTIFY_SOCKET=$T/other.sock WATCHDOG_USEC=400000 WATCHDOG_PID=1 \
    "$TUNSUPD" -f "$T/empty.conf" -S "$T/other.ctl" </dev/null >>"$T/tunsupd.log" 2>&1 &
track $!
wait_for 5 grep -qx "READY=1" "$T/other.log"
TUNSUPD_REAL=$TUNSUPD TUNSUPD=$T/tunsupd-own NOTIFY_SOCKET=$T/own.sock WATCHDOG_USEC=400000 \
    start_tunsupd "$T/empty.conf"
wait_for 5 grep -qx "READY=1" "$T/own.log"
wait_for 5 sh -c "[ \$(grep -c '^WATCHDOG=1' '$T/own.log') -ge 3 ]"
! grep -q '^WATCHDOG=1' "$T/other.log" || fail "WATCHDOG=1 sent although WATCHDOG_PID=1"
pass "WATCHDOG=1 when WATCHDOG_PID is ours, none when it names another process"
