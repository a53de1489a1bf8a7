# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# restarts (fault suite): 200 session restarts by command (`tunsupctl restart`,
# waiting for up each time) leave the daemon's file descriptors as they were.
: "${TLIB_TIMEOUT:=150}"
. "$TESTLIB"
set -eu -o pipefail
tlib_init

N=200
start_sshd srv
LP=$(free_port)
TP=$(free_port)
start_echo "$TP"
{
	conf_header
	tunnel_conf rs srv
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state rs up 20
echo_check "$LP" 1 1024 20 >/dev/null || fail "forward unusable at start"

nfds() { ls "/proc/$TUNSUPD_PID/fd" | wc -l; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$TUNSUPD_PID/status"; }
# is_up: the tunnel is up (a plain grep: jget's python is too slow for 200 polls);
# the first "state" of the reply is the tunnel's, the forward's follow it
is_up() {
	ctl --json status rs | grep -o '"state": *"[a-z]*"' | head -n 1 |
	    grep -q '"up"'
}

fd0=$(nfds)
rss0=$(rss_kib)
c0=$(tfield rs connects)
t0=$SECONDS
for i in $(seq 1 "$N"); do
	ctl restart rs >/dev/null || fail "restart $i: tunsupctl failed"
	_tlib_deadline 10
	until is_up; do
		_tlib_expired && fail "restart $i: not up after 10 s (state $(tstate rs))"
		sleep 0.02
	done
done
secs=$((SECONDS - t0))
c1=$(tfield rs connects)
[ $((c1 - c0)) -eq "$N" ] || fail "connects $c0 -> $c1 after $N restarts"
wait_for 10 "[ \"\$(fwd_field rs 0 state)\" = up ]"
echo_check "$LP" 4 4096 20 >/dev/null || fail "forward unusable after $N restarts"
fd1=$(nfds)
rss1=$(rss_kib)
log "fds $fd0 -> $fd1, VmRSS $rss0 -> $rss1 KiB"
[ "$fd1" -le $((fd0 + 2)) ] && [ "$fd1" -ge $((fd0 - 2)) ] ||
    fail "fd count $fd0 -> $fd1 after $N restarts"
pass "$N restarts in ${secs} s, each up again: fds $fd0 -> $fd1, VmRSS $rss0 -> $rss1 KiB"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
