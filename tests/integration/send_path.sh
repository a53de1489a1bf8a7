# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The send path (doc/design.md, "The send path"): the pump hands libssh a
# whole read (up to 256 KiB, eight packets) at a time when the window and
# the socket's room allow, and the bundled libssh sends the packets of one
# write with one send() (send-batch.patch); the distribution's sends the
# first at once and the rest together from its flush. 64 MiB sent through
# a LocalForward and through a RemoteForward arrive intact, and
# strace shows the session socket written in sends of more than one packet:
# with the bundled libssh, most of them.
. "$TESTLIB"
set -eu -o pipefail
need_tool strace
tlib_init

start_sshd srv
LP=$(free_port)
RP=$(free_port)
TP_L=$(free_port)
TP_R=$(free_port)
{
	conf_header
	tunnel_conf tx srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP_L"
	echo "    RemoteForward 127.0.0.1:$RP 127.0.0.1:$TP_R"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state tx up 20
mkdata "$T/blob.L" 64
cp "$T/blob.L" "$T/blob.R"

# upload DIR PID CMD...: CMD moves 64 MiB from $T/blob.DIR to $T/got.DIR
# through the -DIR, out of tunsupd's session socket, while strace records
# the daemon's sendto() calls in $T/DIR.sends; PID (the other end) must exit
upload() {
	local dir=$1 pid=$2 spid
	shift 2
	strace -f -e trace=sendto -e signal=none -s 0 -o "$T/$dir.sends" \
	    -p "$TUNSUPD_PID" 2>"$T/$dir.strace" &
	spid=$!
	track "$spid"
	wait_for 10 "grep -q attached '$T/$dir.strace'"
	"$@" || fail "moving 64 MiB through the -$dir"
	wait_pid "$pid" 60 || fail "the other end of -$dir exited with an error"
	kill -INT "$spid"
	wait_pid "$spid" 10 || true
	_tlib_same "$T/blob.$dir" "$T/got.$dir" $((64 * 1048576)) "64 MiB through -$dir"
}

# sends of channel data (16 KiB and more) on the session socket, those of
# more than one packet (32 KiB of data and its header and MAC), the largest
count_sends() {
	awk '$2 ~ /^sendto\(/ && $(NF - 1) == "=" && $NF + 0 >= 16384 {
	    n++; if ($NF + 0 > 33024) m++; if ($NF + 0 > x) x = $NF + 0 }
	    END { print n + 0, m + 0, x + 0 }' "$T/$1.sends"
}

for dir in L R; do
	if [ "$dir" = L ]; then
		# a client sends into the LocalForward, to a sink behind the server
		start_sink "$TP_L" "$T/got.L"
		upload L "$SINK_PID" tcp_send "$LP" "$T/blob.L" 120
	else
		# a client behind the server downloads from the RemoteForward's target
		start_source "$TP_R" "$T/blob.R"
		upload R "$SOURCE_PID" tcp_recv "$RP" "$T/got.R" 120
	fi
	read -r sends multi largest < <(count_sends "$dir")
	log "-$dir: $sends sends of channel data, $multi of more than one packet, the largest $largest bytes"
	[ "$multi" -gt 0 ] ||
		fail "-$dir: no send of more than one packet in $sends (largest: $largest)"
	if [ "$TUNSUP_LIBSSH" = bundled ]; then
		[ $((multi * 2)) -gt "$sends" ] ||
			fail "-$dir: only $multi of $sends sends carry more than one packet"
	fi
	pass "-$dir: 64 MiB intact, $multi of $sends sends of more than one packet, up to $largest bytes"
done

[ "$(tstate tx)" = up ] || fail "tunnel tx is $(tstate tx) after the transfers"
stop_tunsupd
