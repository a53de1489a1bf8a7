# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ProxyCommand (tunsupd.conf(5)): the session speaks through a command's
# standard input and output, as ssh does. The guides' line through an HTTP
# proxy (nc -X connect -x PROXY %h %p) reaches the bridge and carries a
# forward; the rest of the line goes to /bin/sh as written (quotes and
# all); a command that fails is named in last_error with its status and its
# last words, which the log has too; one that hangs is cut by
# ConnectTimeout; stop ends it and leaves no process behind; -t refuses an
# unknown token and ProxyCommand together with ProxyJump.
. "$TESTLIB"
tlib_init
need_tool nc

start_sshd bridge
SP=$(sshd_port bridge)
PP=$(free_port)
_tlib_server PROXY_PID "http proxy" "$PP" "$T/proxy.log" python3 "$TLIB_DIR/http_proxy.py" "$PP"
ECHO=$(free_port)
start_echo "$ECHO"
L1=$(free_port)
L2=$(free_port)
{
	conf_header
	tunnel_conf viaproxy bridge
	echo "    ProxyCommand nc -X connect -x 127.0.0.1:$PP %h %p"
	echo "    LocalForward $L1 127.0.0.1:$ECHO"
	tunnel_conf quoted bridge
	echo "    ProxyCommand=socat - \"PROXY:127.0.0.1:%h:%p,proxyport=$PP\""
	echo "    LocalForward $L2 127.0.0.1:$ECHO"
	tunnel_conf broken bridge
	echo "    ProxyCommand sh -c 'echo no way through %h %p %r %n 100%% >&2; exit 3'"
	tunnel_conf hangs bridge
	echo "    ProxyCommand sleep 617"
} >"$T/t.conf"
"$TUNSUPD" -t -f "$T/t.conf" >"$T/t.out" 2>&1 || fail "tunsupd -t: $(cat "$T/t.out")"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" 2>&1 || fail "tunsupd -T: $(cat "$T/dump")"
grep -qxF "proxycommand socat - \"PROXY:127.0.0.1:%h:%p,proxyport=$PP\"" "$T/dump" ||
	fail "-T does not print the command as written: $(grep -i proxycommand "$T/dump")"
start_tunsupd "$T/t.conf"

wait_state viaproxy up 20
wait_state quoted up 20
[ "$(printf 'one\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L1")" = one ] ||
	fail "no echo through the forward of viaproxy"
[ "$(printf 'two\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$L2")" = two ] ||
	fail "no echo through the forward of quoted"
[ "$(grep -c "^CONNECT 127.0.0.1:$SP " "$T/proxy.log")" -ge 2 ] ||
	fail "the proxy did not carry both sessions: $(cat "$T/proxy.log")"
pass "nc -X connect -x PROXY %h %p, and socat with a quoted argument: up through the HTTP proxy, forwards carry"

# The failing command: its status and its words, in last_error and the log.
wait_for 15 '[ "$(tfield broken failures)" -ge 1 ]'
words="no way through 127.0.0.1 $SP $(id -un) broken 100%"
expect_error broken "^SSH handshake with 127.0.0.1 through the ProxyCommand failed: .*; the command (exited with status 3: |said: )$words$" >/dev/null
grep -q "tunnel broken: proxy command: $words" "$T/tunsupd.log" ||
	fail "the command's stderr is not in the log under the tunnel's name"
pass "a failing ProxyCommand (tokens expanded): '$(tfield broken last_error)'"

# The hanging one: ConnectTimeout (3 s here) cuts it, naming the command.
wait_for 15 '[ "$(tfield hangs failures)" -ge 1 ]'
expect_error hangs "^timeout during SSH handshake with 127.0.0.1 through the ProxyCommand after 3 s" >/dev/null
wait_for 10 'pgrep -f "^sleep 617$" >/dev/null'
ctl stop hangs >/dev/null
wait_for 10 '! pgrep -f "^sleep 617" >/dev/null'
pass "a hanging ProxyCommand: cut by ConnectTimeout; stop ends the command"

# No child is left unreaped, and stop leaves nothing behind.
ctl stop viaproxy quoted broken >/dev/null
wait_for 10 '[ -z "$(ps -o pid= --ppid "$TUNSUPD_PID")" ]'
pass "stopped: no process of tunsupd's left, none a zombie"
stop_tunsupd || fail "tunsupd exit status $?"

# What -t refuses.
{
	conf_header
	tunnel_conf both bridge
	echo "    ProxyCommand nc %h %p"
	echo "    ProxyJump 127.0.0.1:$SP"
	tunnel_conf token bridge
	echo "    ProxyCommand nc %h %p %x"
} >"$T/bad.conf"
expect_rc 1 "$TUNSUPD" -t -f "$T/bad.conf"
grep -q "tunnel both: ProxyCommand and ProxyJump exclude each other" "$T/err" ||
	fail "-t: $(cat "$T/err")"
grep -q "bad.conf:[0-9]*: ProxyCommand: unknown token %x" "$T/err" ||
	fail "-t: $(cat "$T/err")"
pass "-t refuses ProxyCommand with ProxyJump, and an unknown token"
