# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The receive path (doc/design.md, "The receive path"): the bundled libssh
# reads 256 KiB at a time and hands channel data to the pump from the packet;
# the pump collects what a poll round brings and writes it once; channels the
# server opens get a 2 MiB window. Every byte must still arrive once and in
# order:
# - full duplex through a LocalForward and a RemoteForward (4 connections at
#   once on one session, 16 MiB each way each, checked byte for byte);
# - a reader that stalls and resumes, again and again, so that data piles up
#   in libssh behind the socket and later packets queue behind it, then flow
#   straight again (checked with sha256), downloading through -L and through
#   -R to a target that reads the same way;
# - 64 MiB each way leave tunsupd in at most half as many write() calls as
#   packets (both builds: the collecting is tunsupd's own).
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv
LP_ECHO=$(free_port)
LP_SRC=$(free_port)
RP_ECHO=$(free_port)
RP_SLOW=$(free_port)
TP_ECHO=$(free_port)
TP_SRC=$(free_port)
TP_SLOW=$(free_port)
start_echo "$TP_ECHO"
{
	conf_header
	tunnel_conf rx srv
	echo "    LocalForward 127.0.0.1:$LP_ECHO 127.0.0.1:$TP_ECHO"
	echo "    LocalForward 127.0.0.1:$LP_SRC 127.0.0.1:$TP_SRC"
	echo "    RemoteForward 127.0.0.1:$RP_ECHO 127.0.0.1:$TP_ECHO"
	echo "    RemoteForward 127.0.0.1:$RP_SLOW 127.0.0.1:$TP_SLOW"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state rx up 20

r=$(echo_check "$LP_ECHO" 4 $((16 * 1048576)) 180) || fail "LocalForward full duplex: $r"
pass "LocalForward: 4 connections at once, 16 MiB each way each, intact ($r)"
r=$(echo_check "$RP_ECHO" 4 $((16 * 1048576)) 180) || fail "RemoteForward full duplex: $r"
pass "RemoteForward: 4 connections at once, 16 MiB each way each, intact ($r)"

# stalling.py MODE PORT FILE: "read": connect to PORT and read to EOF;
# "serve": accept one connection on PORT and read it to EOF. Either way it
# stops for 50 ms after every 256 KiB for the first 8 MiB (data piles up in
# the tunnel), then reads at full speed, and writes what came to FILE.
cat >"$T/stalling.py" <<'EOF'
import socket, sys, time
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "read":
    s = socket.create_connection(("127.0.0.1", port), 10)
else:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    s, _ = ls.accept()
s.settimeout(60)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
got, mark = bytearray(), 0
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
    if len(got) < 8 << 20 and len(got) - mark >= 256 << 10:
        mark = len(got)
        time.sleep(0.05)
open(out, "wb").write(got)
EOF
mkdata "$T/blob" 48
cp "$T/blob" "$T/blob.R"

# download through -L from a source behind the server, the reader stalling
start_source "$TP_SRC" "$T/blob"
timeout 120 python3 "$T/stalling.py" read "$LP_SRC" "$T/got.L" || fail "download through -L"
wait_pid "$SOURCE_PID" 30 || fail "the source behind -L exited with an error"
_tlib_same "$T/blob" "$T/got.L" $((48 * 1048576)) "48 MiB through -L to a stalling reader"
pass "LocalForward: 48 MiB to a reader that stalls 32 times, intact"

# through -R to a local target that stalls
python3 "$T/stalling.py" serve "$TP_SLOW" "$T/got.R" </dev/null 2>>"$T/stalling.log" &
spid=$!
track "$spid"
wait_for 10 port_listening "$TP_SLOW"
tcp_send "$RP_SLOW" "$T/blob.R" 120 || fail "sending 48 MiB into the -R"
wait_pid "$spid" 60 || fail "the stalling target exited with an error"
_tlib_same "$T/blob.R" "$T/got.R" $((48 * 1048576)) "48 MiB through -R to a stalling target"
pass "RemoteForward: 48 MiB to a target that stalls 32 times, intact"

# What one poll round brings for a socket leaves tunsupd in one write(): 64 MiB
# (2048 packets of 32 KiB) take at most half as many writes, each direction.
# /proc/PID/io counts the daemon's write() calls (libssh's send() is not one).
syscw() { awk '$1 == "syscw:" { print $2 }' "/proc/$TUNSUPD_PID/io"; }
writes_ok() {
	local n=$(($2 - $1)) most=$((64 * 1048576 / 32768 / 2))
	[ "$n" -lt "$most" ] || fail "$3: $n write() calls for 2048 packets (at most $most)"
	echo "$n"
}
mkdata "$T/blob64" 64
cp "$T/blob64" "$T/blob64.R"
start_source "$TP_SRC" "$T/blob64"
w0=$(syscw)
tcp_recv "$LP_SRC" "$T/got64.L" 120 || fail "64 MiB download through -L"
wait_pid "$SOURCE_PID" 30 || fail "the source behind -L exited with an error"
n=$(writes_ok "$w0" "$(syscw)" "-L")
_tlib_same "$T/blob64" "$T/got64.L" $((64 * 1048576)) "64 MiB through -L"
pass "LocalForward: 64 MiB in $n write() calls, intact"
start_sink "$TP_SLOW" "$T/got64.R"
w0=$(syscw)
tcp_send "$RP_SLOW" "$T/blob64.R" 120 || fail "sending 64 MiB into the -R"
wait_pid "$SINK_PID" 60 || fail "the sink behind -R exited with an error"
n=$(writes_ok "$w0" "$(syscw)" "-R")
_tlib_same "$T/blob64.R" "$T/got64.R" $((64 * 1048576)) "64 MiB through -R"
pass "RemoteForward: 64 MiB in $n write() calls, intact"

[ "$(tstate rx)" = up ] || fail "tunnel rx is $(tstate rx) after the transfers"
stop_tunsupd
