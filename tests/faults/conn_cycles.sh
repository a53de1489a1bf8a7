# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# conn_cycles (fault suite): 1000 connect/disconnect cycles through a
# LocalForward must leave the daemon as it found it: the same number of open
# file descriptors (±2) and less than 2 MiB more resident memory, read from
# /proc/PID of tunsupd before and after.
: "${TLIB_TIMEOUT:=150}"
. "$TESTLIB"
set -eu -o pipefail
tlib_init

CYCLES=1000
start_sshd srv
LP=$(free_port)
TP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf cyc srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
# Under ASan, freed memory sits in its quarantine and counts as resident: keep
# none, so that an ASan build measures the same thing (no effect otherwise).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
start_tunsupd "$T/tunsupd.conf"
wait_state cyc up 20
wait_for 10 "[ \"\$(fwd_field cyc 0 state)\" = up ]"

# cycles N: N times connect, send 1 byte, read the echo, close; one at a time
cycles() {
	timeout 120 python3 - "$LP" "$1" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(10)
    b = bytes([i % 256])
    s.sendall(b)
    got = s.recv(1)
    if got != b:
        sys.exit("cycle %d: sent %r, got %r" % (i, b, got))
    s.close()
print("%d cycles in %.1f s" % (n, time.time() - t0))
PY
}
nfds() { ls "/proc/$TUNSUPD_PID/fd" | wc -l; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$TUNSUPD_PID/status"; }
idle() {
	wait_for 10 "[ \"\$(fwd_field cyc 0 connections_active)\" = 0 ]"
}

# a warm-up, so that buffers and allocator arenas exist before the baseline
cycles 50 >/dev/null || fail "warm-up cycles failed"
idle
fd0=$(nfds)
rss0=$(rss_kib)
total0=$(fwd_field cyc 0 connections_total)

out=$(cycles "$CYCLES") || fail "connect/disconnect cycles failed"
log "$out"
idle
fd1=$(nfds)
rss1=$(rss_kib)
total1=$(fwd_field cyc 0 connections_total)

log "fds $fd0 -> $fd1, VmRSS $rss0 -> $rss1 KiB, connections_total $total0 -> $total1"
[ $((total1 - total0)) -eq "$CYCLES" ] ||
    fail "connections_total grew by $((total1 - total0)), expected $CYCLES"
[ "$fd1" -le $((fd0 + 2)) ] && [ "$fd1" -ge $((fd0 - 2)) ] ||
    fail "fd count $fd0 -> $fd1 after $CYCLES cycles"
[ $((rss1 - rss0)) -lt 2048 ] ||
    fail "VmRSS grew by $((rss1 - rss0)) KiB after $CYCLES cycles"
pass "$CYCLES cycles ($out): fds $fd0 -> $fd1, VmRSS +$((rss1 - rss0)) KiB"
[ "$(tstate cyc)" = up ] || fail "tunnel not up after the cycles"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
