# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# forward_reload: a reload that only adds, removes or changes forwards keeps the
# session (tunsupd(8), SIGNALS; tunsupctl(1) reload): a transfer through an
# unchanged forward of the same tunnel runs on intact, the new forwards carry,
# the removed remote forward is cancelled on the server (its port is free again),
# the removed local listener and its connections close, a changed forward carries
# to its new target. A change to anything else still restarts the session.
. "$TESTLIB"
tlib_init

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
mkdir "$T/www"
echo "the new target" >"$T/www/tag"
HTTP=$(free_port)
start_http "$HTTP" "$T/www"
read -r LKEEP RELAY SINKP LGONE RGONE LCH LNEW RNEW <<<"$(free_ports 8 | tr '\n' ' ')"
# The long transfer: through LKEEP and a relay slowed to 1 MiB/s into a sink.
start_relay "$RELAY" "$SINKP" --rate 1048576

write_conf() {
	{
		conf_header
		tunnel_conf t bridge
		[ "${2:-}" = "" ] || echo "    ServerAliveInterval $2"
		# live: keywords a live session takes as they change
		[ "${3:-}" = "" ] || printf '    %s\n' "RetryMax 7s" \
		    "EventCommand echo \$TUNSUP_STATE >>$T/events" "EventCommandTimeout 9s" \
		    "ForwardProbeInterval 11s"
		echo "    LocalForward $LKEEP 127.0.0.1:$RELAY"
		if [ "$1" = old ]; then
			echo "    RemoteForward $RGONE 127.0.0.1:$ECHO"
			echo "    LocalForward $LGONE 127.0.0.1:$ECHO"
			echo "    LocalForward $LCH 127.0.0.1:$ECHO"
		else
			echo "    LocalForward $LCH 127.0.0.1:$HTTP"
			echo "    LocalForward $LNEW 127.0.0.1:$ECHO"
			echo "    RemoteForward $RNEW 127.0.0.1:$ECHO"
		fi
	} >"$T/t.conf"
}
write_conf old
start_tunsupd "$T/t.conf"
wait_state t up 15
port_listening "$RGONE" || fail "the server does not listen on $RGONE"
echo_check "$RGONE" 1 1000 >/dev/null || fail "the remote forward to be removed does not carry"

# A connection held open through the forward that goes: it must be closed.
python3 - "$LGONE" "$T/held.out" <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"ping\n")
s.settimeout(60)
got = b""
while not got.endswith(b"ping\n"):
    got += s.recv(100)
res = "echoed"
try:
    while s.recv(100):
        pass
    res += " closed"
except OSError as e:
    res += " " + str(e)
open(sys.argv[2], "w").write(res + "\n")
PY
HELD=$!
track "$HELD"
active_is() { [ "$(fwd_field t "$1" connections_active)" = "$2" ]; }
wait_for 10 active_is 2 1

# 8 MiB at 1 MiB/s: the reload happens in the middle of it.
mkdata "$T/big.in" 8
start_sink "$SINKP" "$T/big.out"
tcp_send "$LKEEP" "$T/big.in" 120 &
SENDER=$!
track "$SENDER"
moving() { [ "$(fwd_field t 0 bytes_out)" -gt 1048576 ] 2>/dev/null; }
wait_for 20 moving

write_conf new
out=$(ctl --json reload) || fail "reload: $out"
echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["forwards_changed"] == ["t"], r
assert r["restarted"] == [] and r["unchanged"] == [] and r["added"] == [], r
' || fail "reload reply: $out"
[ "$(tfield t connects)" = 1 ] || fail "the session was restarted: connects $(tfield t connects)"
[ "$(stat -c %s "$T/big.out")" -lt 8388608 ] || fail "the transfer was over before the reload"

# The removed forwards: the server's port is free, the local listener and its
# connection closed.
not_listening() { ! port_listening "$1"; }
wait_for 10 not_listening "$RGONE"
port_bindable "$RGONE" ||
	fail "port $RGONE cannot be bound again after the cancel"
grep -q "forward localhost:$RGONE to 127.0.0.1:$ECHO: removed" "$T/tunsupd.log" ||
	fail "no log line for the removed remote forward"
not_listening "$LGONE" || fail "the removed local forward still listens on $LGONE"
wait_pid "$HELD" 15 || fail "the held client failed"
[ "$(cat "$T/held.out")" = "echoed closed" ] ||
	fail "connection through the removed forward: $(cat "$T/held.out")"
pass "reload: the removed remote forward is cancelled on the server (its port binds again), the removed local listener and its connection are closed"

# The new ones carry, the changed one goes to its new target.
wait_state t up 15
echo_check "$LNEW" 2 100000 >/dev/null || fail "the new local forward does not carry"
port_listening "$RNEW" || fail "the server does not listen on the new remote forward"
echo_check "$RNEW" 2 100000 >/dev/null || fail "the new remote forward does not carry"
http_get "$LCH" tag "$T/tag.got" || fail "the changed forward does not reach its new target"
[ "$(cat "$T/tag.got")" = "the new target" ] || fail "changed forward: $(cat "$T/tag.got")"
pass "reload: the new local and remote forwards carry; the changed forward reaches its new target"

wait_pid "$SENDER" 60 || fail "the transfer through the unchanged forward failed"
wait_pid "$SINK_PID" 30 || fail "the sink failed"
_tlib_same "$T/big.in" "$T/big.out" 8388608 "8 MiB through the unchanged forward"
[ "$(tfield t connects)" = 1 ] || fail "connects $(tfield t connects)"
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "forwards_changed: -" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
pass "reload: a transfer through an unchanged forward of the same tunnel completes intact; the session stays (connects 1)"

# Only keywords a live session takes: updated, the session stays, and the
# new EventCommand is the one the next event runs.
write_conf new "" live
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "updated: t" "$T/reload.out" && grep -qx "restarted: -" "$T/reload.out" &&
    grep -qx "forwards_changed: -" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
"$TUNSUPD" -T -f "$T/t.conf" | grep -qx "retrymax 7" || fail "-T: no retrymax 7"
ctl restart t >/dev/null
wait_state t up 15
wait_for 10 'grep -qx up "$T/events" 2>/dev/null'
[ "$(tfield t connects)" = 2 ] || fail "connects $(tfield t connects): the reload restarted the session"
write_conf new
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "updated: t" "$T/reload.out" || fail "tunsupctl reload back: $(cat "$T/reload.out")"
[ "$(tfield t connects)" = 2 ] || fail "connects $(tfield t connects) after the reload back"
pass "reload: RetryMax, EventCommand, EventCommandTimeout, ForwardProbeInterval changed: updated in the session, the new command runs"

# Anything else changed: the session restarts as before.
write_conf new 2
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "restarted: t" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
grep -qx "forwards_changed: -" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
connected_twice() { [ "$(tfield t connects)" = 3 ]; }
wait_for 15 connected_twice
wait_state t up 15
pass "reload: a changed ServerAliveInterval still restarts the session"

# Forwards changed together with anything else: a restart too, reported so.
write_conf old
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "restarted: t" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
wait_state t up 15
pass "reload: forwards and ServerAliveInterval changed together restart the session"

stop_tunsupd || fail "tunsupd exit status $?"

# The session outlives the spec a forward-only reload replaced: through a
# jump host whose session then dies, the message names the hop from the
# session's own copy (the freed spec's strings before; ASan saw it).
start_sshd jmp
me=$(id -un)
jump_conf() {
	{
		conf_header
		tunnel_conf j bridge
		echo "    ProxyJump $me@127.0.0.1:$SSHD_PORT_JMP"
		echo "    LocalForward $LKEEP 127.0.0.1:$ECHO"
		[ -z "${1:-}" ] || echo "    LocalForward $LNEW 127.0.0.1:$ECHO"
	} >"$T/j.conf"
}
jump_conf
start_tunsupd "$T/j.conf"
wait_state j up 20
jump_conf more
ctl reload >"$T/reload.out" || fail "reload: $(cat "$T/reload.out")"
grep -qx "forwards_changed: j" "$T/reload.out" || fail "tunsupctl reload: $(cat "$T/reload.out")"
echo_check "$LNEW" 1 1000 >/dev/null || fail "no echo through the new forward"
stop_sshd jmp
wait_for 20 '[ "$(tfield j failures)" -ge 1 ]'
expect_error j "^jump host $me@127.0.0.1:$SSHD_PORT_JMP: " >/dev/null
stop_tunsupd || fail "tunsupd exit status $?"
pass "reload: a forward-only reload through a jump host; the jump host's end is named from the session's own copy"
