# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The receive path (doc/design.md, "The receive path"): the bundled libssh
# reads 256 KiB at a time and hands channel data to the pump from the packet;
# the pump collects what a poll round brings and writes it once; channels the
# server opens get a 4 MiB window. Every byte must still arrive once and in
# order:
# - full duplex through a LocalForward and a RemoteForward (4 connections at
#   once on one session, 16 MiB each way each, checked byte for byte);
# - a reader that stalls and resumes, again and again, so that data piles up
#   in libssh behind the socket and later packets queue behind it, then flow
#   straight again (checked with sha256), downloading through -L and through
#   -R to a target that reads the same way;
# - a reader that stops for 3 s: with recv-window-held.patch what waits for
#   it stays in the pump's ring, never in libssh's channel buffer (a uprobe
#   counts libssh's copies into it; root and perf), and all of it arrives;
# - 64 MiB each way leave tunsupd in writes larger than a packet (both
#   builds: a poll round's data is collected by tunsupd itself); with
#   recv-read-nowait.patch the session socket is read without a poll()
#   first (MSG_DONTWAIT reads that find data; without it every read follows
#   a poll, on a blocking socket).
. "$TESTLIB"
set -eu -o pipefail
need_tool strace
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

# A reader that stops for 3 s with 24 MiB on the way, then reads on. With
# recv-window-held.patch the pump takes what its full socket leaves into its
# ring, and the window counts the ring: libssh's channel buffer stays unused.
# channel_default_bufferize() is where libssh copies a channel's data into
# it; a uprobe counts its calls for packets of 16 KiB or more from the
# moment the channel is attached (a probe's short replies, and what arrives
# while tunsupd connects its end, go there by design). Before, every packet
# after the first 256 KiB of a stall went into it and out again (hundreds
# of calls here), and so did every packet the pump's own reads brought
# after it. Once the reader is back, the ring empties and the window
# adjusts must reach the server although no data comes to wake tunsupd:
# the data arrives intact.
held_count=
case " ${TUNSUP_LIBSSH_PATCHES:-none} " in
*" recv-window-held.patch "*) held_count=1 ;;
esac
# a uprobe needs root and perf: without them (never under CI) not counted
if [ -n "$held_count" ] && { [ "$(id -u)" != 0 ] || ! command -v perf >/dev/null; }; then
	[ -z "${CI:-}" ] || fail "counting libssh's buffering needs root and perf (linux-perf)"
	log "libssh's buffering not counted: needs root and perf (linux-perf)"
	held_count=
fi
case $held_count in
1)
	ev="tunsup$$:bufferize"
	perf probe -q -x "$TUNSUPD" -a "$ev=channel_default_bufferize len" ||
		fail "perf probe on channel_default_bufferize in $TUNSUPD"
	TLIB_AT_EXIT="perf probe -q -d '$ev' >/dev/null 2>&1"
	# stopping.py PORT OUT GO: connect, wait for the file GO, read 64 KiB,
	# stop for 3 s, read to EOF into OUT; prints how long the rest took
	cat >"$T/stopping.py" <<'EOF'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.settimeout(60)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
got = bytearray(s.recv(65536))
time.sleep(3)
t = time.monotonic()
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    got += b
open(sys.argv[2], "wb").write(got)
print("%.2f" % (time.monotonic() - t))
EOF
	mkdata "$T/blob.stop" 24
	start_source "$TP_SRC" "$T/blob.stop"
	attached=$(($(fwd_field rx 1 connections_total) + 1))
	python3 "$T/stopping.py" "$LP_SRC" "$T/got.stop" "$T/go" >"$T/stop.secs" &
	rpid=$!
	track "$rpid"
	# Counted once the channel is attached (data that comes before, while
	# tunsupd connects its end, waits in libssh by design), until the
	# reader is done: perf stat -p PID -- CMD counts in tunsupd while CMD
	# runs.
	wait_for 20 '[ "$(fwd_field rx 1 connections_total)" = "$attached" ]'
	timeout 120 perf stat -x, -o "$T/bufferize.stat" -e "$ev" \
	    --filter 'len >= 16384' -p "$TUNSUPD_PID" -- \
	    sh -c 'touch "$1" && exec tail --pid="$2" -f /dev/null' sh "$T/go" "$rpid" ||
		fail "counting with perf stat"
	wait_pid "$rpid" 10 || fail "download through -L to a reader that stops for 3 s"
	wait_pid "$SOURCE_PID" 30 || fail "the source behind -L exited with an error"
	secs=$(cat "$T/stop.secs")
	calls=$(awk -F, '$3 ~ /bufferize/ { print $1 }' "$T/bufferize.stat")
	case "$calls" in
	'' | *[!0-9]*) fail "no count from perf stat: $(cat "$T/bufferize.stat")" ;;
	esac
	log "after the stop: the rest in $secs s; libssh buffered $calls packets of 16 KiB or more"
	_tlib_same "$T/blob.stop" "$T/got.stop" $((24 * 1048576)) "24 MiB through -L to a reader that stops"
	[ "$calls" -le 4 ] ||
		fail "libssh buffered $calls packets of 16 KiB or more for a reader that stopped for 3 s"
	pass "LocalForward: 24 MiB to a reader that stops for 3 s, intact, libssh's channel buffer unused ($calls packets)"
	perf probe -q -d "$ev" >/dev/null 2>&1
	TLIB_AT_EXIT=
	;;
esac

# What one poll round brings for a socket leaves tunsupd in one write() of up
# to 256 KiB. Without that, no write is larger than one packet's data (32 KiB)
# or a pump's pull from libssh (64 KiB); how many writes a transfer takes
# depends on how fast the reader is, so the test watches the largest one.
# through64 DIR FORWARD ROLE PID TMO WHY CMD...: CMD moves 64 MiB from
# $T/blob64.DIR to $T/got64.DIR through the -DIR (a FORWARD; WHY says what
# failed if CMD fails) while strace records the daemon's write() and
# recvfrom() calls (and writev()) in $T/DIR.writes; the ROLE behind the forward (PID) must
# exit within TMO s, the largest write() exceed 64 KiB, the data be intact.
through64() {
	local dir=$1 fwd=$2 role=$3 pid=$4 tmo=$5 why=$6 spid n
	shift 6
	strace -f -e trace=write,writev,recvfrom -e signal=none -s 0 -o "$T/$dir.writes" \
	    -p "$TUNSUPD_PID" 2>"$T/$dir.strace" &
	spid=$!
	track "$spid"
	wait_for 10 "grep -q attached '$T/$dir.strace'"
	"$@" || fail "$why"
	wait_pid "$pid" "$tmo" || fail "the $role behind -$dir exited with an error"
	kill -INT "$spid"
	wait_pid "$spid" 10 || true
	n=$(awk '/writev?\(/ && $(NF - 1) == "=" && $NF + 0 > m { m = $NF + 0 }
	    END { print m + 0 }' "$T/$dir.writes")
	[ "$n" -gt 65536 ] || fail "-$dir: no write() larger than 64 KiB (largest: $n)"
	_tlib_same "$T/blob64.$dir" "$T/got64.$dir" $((64 * 1048576)) "64 MiB through -$dir"
	pass "$fwd: 64 MiB intact, written in up to $n bytes at once"
}
mkdata "$T/blob64.L" 64
cp "$T/blob64.L" "$T/blob64.R"
start_source "$TP_SRC" "$T/blob64.L"
through64 L LocalForward source "$SOURCE_PID" 30 "64 MiB download through -L" \
    tcp_recv "$LP_SRC" "$T/got64.L" 120
case " ${TUNSUP_LIBSSH_PATCHES:-none} " in
*" recv-read-nowait.patch "*)
	# reads; those with MSG_DONTWAIT (never without the patch: libssh's
	# socket is blocking and read after a poll), and of those the ones
	# that found data and the ones that found nothing (EAGAIN)
	read -r reads nowait gotdata eagain < <(awk '$2 ~ /^recvfrom\(/ {
	    r++; if (!/MSG_DONTWAIT/) next; n++
	    if ($NF + 0 > 0) d++; else if (/EAGAIN/) e++ }
	    END { print r + 0, n + 0, d + 0, e + 0 }' "$T/L.writes")
	log "-L: $reads recvfrom, $nowait with MSG_DONTWAIT: $gotdata found data, $eagain EAGAIN"
	[ "$gotdata" -gt 0 ] ||
		fail "-L: no read of the session socket without a poll() first ($reads recvfrom, $nowait MSG_DONTWAIT)"
	pass "the session socket is read without a poll() first ($gotdata of $reads reads, $eagain found nothing instead of a poll)"
	;;
esac
start_sink "$TP_SLOW" "$T/got64.R"
through64 R RemoteForward sink "$SINK_PID" 60 "sending 64 MiB into the -R" \
    tcp_send "$RP_SLOW" "$T/blob64.R" 120

[ "$(tstate rx)" = up ] || fail "tunnel rx is $(tstate rx) after the transfers"
stop_tunsupd
