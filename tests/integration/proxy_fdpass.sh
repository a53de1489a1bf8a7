# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ProxyUseFdpass (tunsupd.conf(5)): the ProxyCommand connects and passes the
# socket back on its standard output (one byte with SCM_RIGHTS), as ssh
# reads it, and exits; the session runs over that socket and outlives the
# command. A command that writes data instead, passes something that is not
# a stream socket, or never passes anything is named in last_error.
. "$TESTLIB"
tlib_init

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
L1=$(free_port)

# pass.py HOST PORT [pipe]: connect and pass the socket (or a pipe's end).
cat >"$T/pass.py" <<'PY'
import os, socket, sys
out = socket.socket(fileno=1)
if len(sys.argv) > 3:
    r, w = os.pipe()
    socket.send_fds(out, [b"\0"], [r])
else:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    socket.send_fds(out, [b"\0"], [s.fileno()])
PY
{
	conf_header
	tunnel_conf passed bridge
	echo "    ProxyCommand python3 $T/pass.py %h %p"
	echo "    ProxyUseFdpass yes"
	echo "    LocalForward $L1 127.0.0.1:$ECHO"
	tunnel_conf stream bridge
	echo "    ProxyCommand socat - TCP:%h:%p"
	echo "    ProxyUseFdpass yes"
	tunnel_conf pipe bridge
	echo "    ProxyCommand python3 $T/pass.py %h %p pipe"
	echo "    ProxyUseFdpass yes"
	tunnel_conf silent bridge
	echo "    ProxyCommand sleep 618"
	echo "    ProxyUseFdpass yes"
} >"$T/t.conf"
"$TUNSUPD" -t -f "$T/t.conf" >"$T/t.out" 2>&1 || fail "tunsupd -t: $(cat "$T/t.out")"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" 2>&1 || fail "tunsupd -T: $(cat "$T/dump")"
[ "$(grep -c "^proxyusefdpass yes$" "$T/dump")" = 4 ] ||
	fail "-T: $(grep -i fdpass "$T/dump")"
start_tunsupd "$T/t.conf"

wait_state passed up 20
[ "$(printf 'one\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L1")" = one ] ||
	fail "no echo through the forward of passed"
# The command is gone (it exits once the socket is passed); the session stays.
wait_for 10 '! pgrep -f "$T/pass.py 127.0.0.1 [0-9]*\$" >/dev/null'
[ "$(printf 'two\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L1")" = two ] ||
	fail "no echo after the command exited"
[ "$(tstate passed)" = up ] || fail "passed: $(tstate passed) after the command exited"
pass "ProxyUseFdpass: the socket the command passed carries the session after it exits"

wait_for 15 '[ "$(tfield stream failures)" -ge 1 ]'
expect_error stream "^ProxyUseFdpass: the ProxyCommand passed no socket \\(data without a descriptor\\)" >/dev/null
[ "$(tfield stream connects)" = 0 ] || fail "stream came up"
wait_for 15 '[ "$(tfield pipe failures)" -ge 1 ]'
expect_error pipe "^ProxyUseFdpass: the ProxyCommand passed a descriptor that is not a stream socket" >/dev/null
pass "a command that writes data, or passes a pipe: refused and named"

wait_for 15 '[ "$(tfield silent failures)" -ge 1 ]'
expect_error silent "^timeout after 3 s waiting for the ProxyCommand to pass a socket \\(ProxyUseFdpass\\)" >/dev/null
ctl stop stream pipe silent passed >/dev/null
wait_for 10 '[ -z "$(ps -o pid= --ppid "$TUNSUPD_PID")" ]'
pass "one that passes nothing: cut by ConnectTimeout; stop leaves no process"
stop_tunsupd || fail "tunsupd exit status $?"
