# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Reload (tunsupd(8), SIGNALS): SIGHUP and the reload command diff the file by tunnel name.
# An unchanged tunnel keeps its session and the connections open through it;
# a changed one restarts; a removed one stops; a new one starts; a file with
# an error is rejected whole and the running set is kept.
. "$TESTLIB"
tlib_init

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
LA=$(free_port)
LB=$(free_port)
LB2=$(free_port)
LC=$(free_port)

write_conf() {
	{
		conf_header
		tunnel_conf keep bridge
		echo "    LocalForward $LA 127.0.0.1:$ECHO"
		tunnel_conf change bridge
		echo "    LocalForward $1 127.0.0.1:$ECHO"
		if [ "$2" = old ]; then
			tunnel_conf gone bridge
			echo "    LocalForward $LC 127.0.0.1:$ECHO"
		else
			tunnel_conf new bridge
			echo "    LocalForward $LC 127.0.0.1:$ECHO"
		fi
	} >"$T/t.conf"
}
write_conf "$LB" old
start_tunsupd "$T/t.conf"
wait_state keep up 15
wait_state change up 15
wait_state gone up 15

# A long-lived connection through "keep": a python client holding a socket.
mkfifo "$T/ctl.fifo"
python3 - "$LA" "$T/ctl.fifo" "$T/held.out" <<'PY' &
import socket, sys
port, fifo, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), 10)
s.settimeout(10)
res = []
def roundtrip(tag):
    msg = (tag + "\n").encode()
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    res.append("%s:%s" % (tag, "ok" if got == msg else "bad"))
roundtrip("before")
with open(fifo) as f:      # wait until the test has reloaded
    f.read()
roundtrip("after")
open(out, "w").write(" ".join(res) + "\n")
PY
HELD=$!
track "$HELD"
active_is() { [ "$(fwd_field "$1" 0 connections_active)" = "$2" ]; }
wait_for 10 active_is keep 1

# 1. A file with an error: rejected whole, nothing changes.
cp "$T/t.conf" "$T/good.conf"
printf 'Tunnel broken\n    HostNme x\n' >>"$T/t.conf"
out=$(ctl reload 2>&1) && fail "reload of a bad file succeeded: $out"
echo "$out" | grep -q "t.conf:[0-9]*: unknown keyword 'HostNme'" ||
	fail "reload error lacks file:line: $out"
[ "$(tfield keep connects)" = 1 ] || fail "bad reload touched keep"
[ "$(tstate gone)" = up ] || fail "bad reload touched gone"
pass "a file with an error is rejected with file:line and the running set is kept"

# 2. SIGHUP: change "change", remove "gone", add "new".
write_conf "$LB2" new
kill -HUP "$TUNSUPD_PID"
wait_state new up 15
wait_state change up 15
ctl --json status | jget 'tunnels[name=gone]' >/dev/null 2>&1 &&
	fail "removed tunnel still listed"
port_listening "$LC" || fail "new tunnel's listener missing"
port_listening "$LB" && fail "changed tunnel still listens on its old port"
port_listening "$LB2" || fail "changed tunnel does not listen on its new port"
[ "$(tfield keep connects)" = 1 ] || fail "unchanged tunnel reconnected"
echo go >"$T/ctl.fifo"
wait_pid "$HELD" 15 || fail "held client failed"
[ "$(cat "$T/held.out")" = "before:ok after:ok" ] ||
	fail "connection through the unchanged tunnel: $(cat "$T/held.out")"
pass "SIGHUP: changed restarted, removed stopped, new started; unchanged kept its session and open connection"

# 3. The reload command reports the diff.
out=$(ctl --json reload)
echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["ok"] is True, r
assert sorted(r["unchanged"]) == ["change", "keep", "new"], r
assert r["added"] == [] and r["removed"] == [] and r["restarted"] == [], r
' || fail "reload reply: $out"
pass "reload command: nothing changed, all unchanged"

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
