# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The receive window (doc/design.md, "The receive path"), read from sshd's
# own log (LogLevel DEBUG2): with the bundled libssh
# - the channel tunsupd opens for a LocalForward and the one it accepts for
#   a RemoteForward offer a 4 MiB window (recv-window-4m.patch; OpenSSH's
#   is 2 MiB);
# - window adjusts are sent once a wake-up for what all of its packets
#   brought (recv-window-batch.patch), not one for every few packets: tunsupd
#   is stopped in the middle of an endless download until what waits in its
#   socket (512 KiB or more) stops growing, and the wake-up after SIGCONT,
#   which reads it (1 MiB at most), answers with one adjust of at least half
#   of that (an adjust for each packet that crosses the threshold, 128 KiB,
#   adds a packet or so to it: 360-380 KiB of 1.3-1.6 MiB waiting, measured);
# and the 32 MiB arrive whole both ways.
. "$TESTLIB"
set -eu -o pipefail
tlib_init
[ "$TUNSUP_LIBSSH" = bundled ] || {
	pass "the distribution's libssh keeps its own window (2 MiB, adjusted after 1 MiB)"
	exit 0
}

MIB=32
start_sshd srv "LogLevel DEBUG2"
LP=$(free_port)
RP=$(free_port)
TP_SRC=$(free_port)
TP_SINK=$(free_port)
LP_ZERO=$(free_port)
TP_ZERO=$(free_port)
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$T/blob"
start_source "$TP_SRC" "$T/blob"
start_source "$TP_ZERO" /dev/zero
_tlib_server SINK_PID sink "$TP_SINK" "$T/sink.log" \
    socat -u "TCP-LISTEN:$TP_SINK,bind=127.0.0.1,reuseaddr" "CREATE:$T/got.R"
{
	conf_header
	tunnel_conf win srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP_SRC"
	echo "    RemoteForward 127.0.0.1:$RP 127.0.0.1:$TP_SINK"
	echo "    LocalForward 127.0.0.1:$LP_ZERO 127.0.0.1:$TP_ZERO"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state win up 20
wait_for 10 "[ \"\$(fwd_field win 2 state)\" = up ]"

# tunsupd receives: through -L from the source, through -R into the sink
timeout 60 socat -u "TCP:127.0.0.1:$LP" "CREATE:$T/got.L" ||
	fail "the download through -L failed"
timeout 60 socat -u "OPEN:$T/blob" "TCP:127.0.0.1:$RP" || fail "the upload into -R failed"
wait_for 20 "[ \"\$(stat -c %s '$T/got.R')\" = $((MIB * 1024 * 1024)) ]"
cmp -s "$T/blob" "$T/got.R" || fail "-R: the sink got other bytes than those sent"
pass "$MIB MiB whole through -L and through -R"

# an endless download, tunsupd stopped in its middle until what waits in its
# socket from sshd stops growing (its receive buffer or the window is full),
# then let go
# recvq: the bytes waiting in tunsupd's socket from sshd (its ss line on stderr)
recvq() {
	ss -Htn state established "( dport = :$SSHD_PORT_SRV )" | tee /dev/stderr |
	    awk '{ if ($1 > m) m = $1 } END { print m + 0 }'
}
# settled: recvq is 512 KiB or more and the same as at the last call
settled() {
	local q r=1
	q=$(recvq)
	[ "$q" -ge 524288 ] && [ "$q" = "$(cat "$T/recvq" 2>/dev/null)" ] && r=0
	echo "$q" >"$T/recvq"
	return "$r"
}
fwd_in() { fwd_field win 2 bytes_in; }
socat -u "TCP:127.0.0.1:$LP_ZERO" /dev/null &
DL=$!
track "$DL"
wait_for 20 "[ \"\$(fwd_in)\" -ge $((64 * 1024 * 1024)) ]"
kill -STOP "$TUNSUPD_PID"
wait_for 20 settled
waited=$(recvq 2>/dev/null)
log "stopped with $waited bytes waiting in its socket"
[ "$waited" -le 1048576 ] || waited=1048576	# what one wake-up reads
kill -CONT "$TUNSUPD_PID"
in0=$(fwd_in)
wait_for 20 "[ \"\$(fwd_in)\" -ge $((in0 + 64 * 1024 * 1024)) ]"
kill "$DL"

log=$T/srv/sshd.log
grep -q "ctype direct-tcpip rchan [0-9]* win 4194304 " "$log" ||
	fail "sshd saw no direct-tcpip open with a 4 MiB window: $(grep 'ctype direct-tcpip' "$log" | tail -1)"
pass "the LocalForward's channel offers 4 MiB"
grep -q "open confirm rwindow 4194304 " "$log" ||
	fail "no forwarded-tcpip channel confirmed with a 4 MiB window: $(grep 'open confirm' "$log" | tail -3)"
pass "the RemoteForward's channel is accepted with 4 MiB"
max=$(sed -n 's/.*: rcvd adjust \([0-9]*\).*/\1/p' "$log" | sort -n | tail -1)
n=$(grep -c ": rcvd adjust " "$log" || true)
log "sshd got $n window adjusts, the largest $max"
[ "${max:-0}" -ge $((waited / 2)) ] ||
	fail "no window adjust of half the $waited bytes a wake-up read in $n (largest ${max:-none}): one for every few packets"
pass "window adjusts cover a wake-up's packets: $n adjusts for $((2 * MIB)) MiB, the largest $max"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
