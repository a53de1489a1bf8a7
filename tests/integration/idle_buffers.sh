# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# idle_buffers: a connection that is not a bulk transfer keeps no pump buffers
# while it is quiet. 64 connections through a LocalForward to an echo server
# each exchange 100 bytes and stay open: tunsupd's VmData (/proc/PID/status)
# grows by less than 64 KiB a connection. A pump's buffers are 256 KiB each
# way; kept, they would be 512 KiB a connection, 32 MiB in all.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

N=64
start_sshd srv
LP=$(free_port)
TP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf idle srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
# Under ASan, freed memory waits in its quarantine: keep none.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
start_tunsupd "$T/tunsupd.conf"
wait_state idle up 20
wait_for 10 "[ \"\$(fwd_field idle 0 state)\" = up ]"

vmdata_kib() { awk '$1 == "VmData:" { print $2 }' "/proc/$TUNSUPD_PID/status"; }

# hold N: N connections, 100 bytes echoed on each, kept open until stdin closes
cat >"$T/hold.py" <<'PY'
import socket, sys
port, n, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(10)
    msg = bytes([i % 256]) * 100
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(len(msg) - len(got))
        if not b:
            sys.exit("connection %d closed after %d bytes" % (i, len(got)))
        got += b
    if got != msg:
        sys.exit("connection %d: the echo differs" % i)
    conns.append(s)
open(flag, "w").close()
sys.stdin.read()
PY
hold() { python3 "$T/hold.py" "$LP" "$1" "$T/held"; }

# a warm-up (allocator arenas, libssh's buffers), then the baseline
hold 4 </dev/null || fail "warm-up connections failed"
rm -f "$T/held"
wait_for 10 "[ \"\$(fwd_field idle 0 connections_active)\" = 0 ]"
d0=$(vmdata_kib)

mkfifo "$T/hold.in"
hold "$N" <"$T/hold.in" &
HOLD_PID=$!
track "$HOLD_PID"
exec 9>"$T/hold.in"
wait_for 30 "[ -e '$T/held' ]" || fail "the $N connections did not all echo"
wait_for 10 "[ \"\$(fwd_field idle 0 connections_active)\" = $N ]"
d1=$(vmdata_kib)
log "VmData $d0 -> $d1 KiB with $N quiet connections"
[ $(((d1 - d0) / N)) -lt 64 ] ||
    fail "VmData grew by $((d1 - d0)) KiB with $N quiet connections ($(((d1 - d0) / N)) KiB each)"
pass "$N quiet connections: VmData +$((d1 - d0)) KiB ($(((d1 - d0) / N)) KiB each)"

exec 9>&-
wait "$HOLD_PID" || fail "the holding client failed"
wait_for 10 "[ \"\$(fwd_field idle 0 connections_active)\" = 0 ]"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
