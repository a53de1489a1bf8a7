# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Unix domain sockets: LocalForward from a local socket (created 0600,
# StreamLocalBindUnlink honoured, removed on stop), LocalForward to a socket
# on the server (direct-streamlocal@openssh.com), RemoteForward to a local
# socket. StreamLocalBindUnlink removes an old socket only: a regular file or
# a symlink at the path stays byte for byte and the forward fails naming it;
# a socket that another process put in place of ours is not removed when the
# forward stops.
. "$TESTLIB"
tlib_init

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
# A unix echo server standing for a service on the server side.
socat UNIX-LISTEN:"$T/remote.sock",fork EXEC:cat </dev/null >>"$T/socat.log" 2>&1 &
track $!
# And one on our side, the target of a remote forward.
socat UNIX-LISTEN:"$T/target.sock",fork EXEC:cat </dev/null >>"$T/socat.log" 2>&1 &
track $!
wait_for 5 test -S "$T/remote.sock"
wait_for 5 test -S "$T/target.sock"
L=$(free_port)
R=$(free_port)
# A stale socket file where the stale-unlink forward will listen.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale2.sock"
# Not sockets: a regular file and a symlink, where StreamLocalBindUnlink must
# not remove them.
printf 'precious\n\000data\n' >"$T/file.sock"
chmod 640 "$T/file.sock"
file_sum=$(sha "$T/file.sock")
echo target >"$T/link-target"
ln -s "$T/link-target" "$T/link.sock"

{
	conf_header
	tunnel_conf u bridge
	echo "    LocalForward $T/local.sock 127.0.0.1:$ECHO"
	echo "    LocalForward $L $T/remote.sock"
	echo "    RemoteForward $R $T/target.sock"
	tunnel_conf unlink bridge
	echo "    StreamLocalBindUnlink yes"
	echo "    LocalForward $T/stale.sock 127.0.0.1:$ECHO"
	tunnel_conf nounlink bridge
	echo "    LocalForward $T/stale2.sock 127.0.0.1:$ECHO"
	tunnel_conf notsock bridge
	echo "    StreamLocalBindUnlink yes"
	echo "    LocalForward $T/file.sock 127.0.0.1:$ECHO"
	echo "    LocalForward $T/link.sock 127.0.0.1:$ECHO"
	tunnel_conf swap bridge
	echo "    LocalForward $T/swap.sock 127.0.0.1:$ECHO"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state u up 15

[ "$(stat -c %a "$T/local.sock")" = 600 ] || fail "local socket mode $(stat -c %a "$T/local.sock")"
uecho "$T/local.sock" || fail "echo through the local unix socket"
pass "LocalForward from a unix socket (mode 0600) carries data"
uecho "$L" || fail "echo to the server's unix socket"
pass "LocalForward to a unix socket on the server (direct-streamlocal)"
uecho "$R" || fail "echo through the remote forward to a local unix socket"
pass "RemoteForward to a local unix socket"

wait_state unlink up 15
uecho "$T/stale.sock" || fail "echo through the replaced socket"
pass "StreamLocalBindUnlink yes replaces a stale socket file"
wait_state nounlink degraded 15
tfield nounlink forwards | grep -q "Address already in use" ||
	fail "nounlink error: $(tfield nounlink forwards)"
pass "without StreamLocalBindUnlink a stale socket file is an error naming the fix"

wait_for 15 '[ "$(fwd_field notsock 0 state)" = failed ] && [ "$(fwd_field notsock 1 state)" = failed ]'
err=$(fwd_field notsock 0 error)
[ "$err" = "$T/file.sock exists and is not a socket: not removed" ] ||
	fail "regular file: forward error '$err'"
err=$(fwd_field notsock 1 error)
[ "$err" = "$T/link.sock exists and is not a socket: not removed" ] ||
	fail "symlink: forward error '$err'"
[ -f "$T/file.sock" ] && [ ! -L "$T/file.sock" ] && [ "$(sha "$T/file.sock")" = "$file_sum" ] &&
	[ "$(stat -c %a "$T/file.sock")" = 640 ] || fail "the regular file was touched"
[ -L "$T/link.sock" ] && [ "$(readlink "$T/link.sock")" = "$T/link-target" ] ||
	fail "the symlink was touched"
pass "StreamLocalBindUnlink yes leaves a regular file and a symlink alone; the forward fails naming them"
ctl stop notsock >/dev/null || fail "stop notsock"
wait_state notsock stopped 10
[ "$(sha "$T/file.sock")" = "$file_sum" ] && [ -L "$T/link.sock" ] ||
	fail "a path that was never our socket was removed on stop"
pass "nor are they removed when the tunnel stops"

# Someone replaces our socket file while the forward runs: theirs stays.
wait_state swap up 15
rm -f "$T/swap.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/swap.sock"
swap_ino=$(stat -c %i "$T/swap.sock")
ctl stop swap >/dev/null || fail "stop swap"
wait_state swap stopped 10
[ -S "$T/swap.sock" ] && [ "$(stat -c %i "$T/swap.sock")" = "$swap_ino" ] ||
	fail "the socket that replaced ours was removed on stop"
grep -q "swap.sock is no longer the socket we made: left in place" "$T/tunsupd.log" ||
	fail "no log line about the replaced socket"
pass "a socket that replaced ours is not removed when the forward stops"

ctl stop u >/dev/null || fail "stop u"
wait_state u stopped 10
[ -e "$T/local.sock" ] && fail "local socket file left behind after stop"
pass "the local socket file is removed on stop"

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
