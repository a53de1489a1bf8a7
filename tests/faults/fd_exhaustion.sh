# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# fd_exhaustion (fault suite): out of descriptors, the daemon rests instead of
# spinning. tunsupd runs with an open files limit of 64 (soft and hard: it
# raises its soft limit to the hard one); 200 clients connect to its
# listeners and hold: a TCP LocalForward, a unix socket LocalForward and a
# DynamicForward (whose clients go on to a SOCKS5 CONNECT). Over a fixed observation window the daemon must use
# little CPU (read from /proc/PID/stat), its log must grow by a handful of
# lines (one warning for the episode, not one per accept), and
# `tunsupctl status` must answer. Once the clients are gone the episode ends
# with one line, and new connections carry data intact.
: "${TLIB_TIMEOUT:=180}"
. "$TESTLIB"
set -eu -o pipefail
tlib_init

CLIENTS=200
WINDOW=5		# seconds of observation
start_sshd srv
LP=$(free_port)
TP=$(free_port)
DP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf fd srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
	echo "    LocalForward $T/fwd.sock 127.0.0.1:$TP"
	echo "    DynamicForward 127.0.0.1:$DP"
} >"$T/tunsupd.conf"

# The daemon under a limit of 64 descriptors, soft and hard (exec keeps the pid).
cat >"$T/tunsupd-64" <<EOF
#!/bin/bash
ulimit -n 64 || exit 1
exec "$TUNSUPD" "\$@"
EOF
chmod +x "$T/tunsupd-64"
TUNSUPD=$T/tunsupd-64 start_tunsupd "$T/tunsupd.conf"
grep -q "^Max open files *64 *64 " "/proc/$TUNSUPD_PID/limits" ||
	fail "tunsupd limits: $(grep 'open files' "/proc/$TUNSUPD_PID/limits")"
wait_state fd up 20
wait_for 10 "[ \"\$(fwd_field fd 0 state)\" = up ] && [ \"\$(fwd_field fd 2 state)\" = up ]"
echo_check "$LP" 3 10000 >/dev/null || fail "the forward does not work before the test"

# CLIENTS connections, held open until this script kills them: half to the
# TCP forward, a quarter each to the unix one and the SOCKS one (these send a
# SOCKS5 CONNECT to the echo service once accepted). $T/held says how many
# connected.
python3 - "$LP" "$T/fwd.sock" "$DP" "$TP" "$CLIENTS" "$T/held" <<'PY' >>"$T/clients.log" 2>&1 &
import os, socket, struct, sys, threading, time
lp, path, dp, tp, n, out = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                            int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
held, tried, cv = [], [0], threading.Condition()
def one(i):
    s = None
    try:
        if i % 4 == 2:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(path)
        else:
            s = socket.create_connection(("127.0.0.1", dp if i % 4 == 3 else lp), 10)
    except OSError as e:
        print("connect %d: %s" % (i, e))
        s = None
    with cv:
        tried[0] += 1
        if s is not None:
            held.append(s)
        cv.notify_all()
    if s is None or i % 4 != 3:
        return
    try:
        s.settimeout(None)
        s.sendall(b"\x05\x01\x00")
        s.recv(2)
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", tp))
        s.recv(10)
    except OSError:
        pass
ts = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
for t in ts:
    t.start()
with cv:
    cv.wait_for(lambda: tried[0] == n)
    with open(out + ".tmp", "w") as f:
        f.write("%d\n" % len(held))
os.rename(out + ".tmp", out)
while True:
    time.sleep(60)
PY
CLIENTS_PID=$!
track "$CLIENTS_PID"
wait_for 60 test -s "$T/held"
log "$(cat "$T/held") of $CLIENTS clients connected"
# the daemon has used up its descriptors
wait_for 20 '[ "$(ls "/proc/$TUNSUPD_PID/fd" | wc -l)" -ge 60 ]'

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$TUNSUPD_PID/stat"; }
hz=$(getconf CLK_TCK)
lines0=$(wc -l <"$T/tunsupd.log")
cpu0=$(ticks)
t0=$(date +%s.%N)
sleep "$WINDOW"		# the observation window itself, not a synchronisation
cpu1=$(ticks)
t1=$(date +%s.%N)
lines1=$(wc -l <"$T/tunsupd.log")
pct=$(awk -v c=$((cpu1 - cpu0)) -v hz="$hz" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "%d", 100 * c / hz / (b - a) }')
log "over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: CPU $pct %, $((lines1 - lines0)) log lines"
[ "$pct" -lt 30 ] || fail "tunsupd used $pct % CPU while out of descriptors"
pass "tunsupd rests while out of descriptors: $pct % CPU over the window"
[ $((lines1 - lines0)) -lt 40 ] ||
	fail "the log grew by $((lines1 - lines0)) lines in the window"
grep -q "not accepting on any listener" "$T/tunsupd.log" ||
	fail "no warning about the shortage"
pass "the shortage is noticed: $(grep -m1 'not accepting on any listener' "$T/tunsupd.log" | sed 's/^.*accept: //')"
n=$(grep -c "not accepting on any listener" "$T/tunsupd.log")
[ "$n" -eq 1 ] || fail "$n shortage warnings for one episode"
n=$(grep -c "accept:" "$T/tunsupd.log")
[ "$n" -eq 1 ] || fail "$n lines about accept for one episode"
pass "one warning for the episode, $((lines1 - lines0)) log lines in the window"
# A status request during the episode: it must be answered (however slowly).
s0=$(date +%s%N)
timeout 60 "$TUNSUPCTL" -S "$SOCK" --json status >"$T/status.json" ||
	fail "tunsupctl status did not answer during the episode"
log "status answered in $((($(date +%s%N) - s0) / 1000000)) ms"
jget "tunnels[name=fd].state" <"$T/status.json" >/dev/null ||
	fail "status reply: $(cat "$T/status.json")"
pass "tunsupctl status answered during the episode"
log "connections carried at the limit: $(python3 -c 'import json,sys; print(sum(f["connections_active"] for t in json.load(sys.stdin)["tunnels"] for f in t["forwards"]))' <"$T/status.json"), descriptors open: $(ls "/proc/$TUNSUPD_PID/fd" | wc -l)"

# The clients go away: accepting resumes, and the forward carries data.
kill_pid "$CLIENTS_PID" 5
wait_for 30 grep -q "accepting again after" "$T/tunsupd.log"
pass "the episode ends with one line: $(grep 'accepting again after' "$T/tunsupd.log" | sed 's/^.*accepting/accepting/')"
out=$(echo_check "$LP" 20 200000 60) || fail "connections after the episode: $out"
pass "after the episode the forward carries data intact ($out)"
[ "$(grep -c 'not accepting on any listener' "$T/tunsupd.log")" -eq 1 ] ||
	fail "a second episode after the clients left"
[ "$(tstate fd)" = up ] || fail "tunnel not up after the episode"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
