# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# reset_on_write (fault suite): the server's per-connection sshd processes
# are killed with SIGKILL while a client uploads through a LocalForward, so
# the reset is mostly seen by a write of the session socket. The session must
# be declared lost at once (well within 10 s; ServerAliveInterval 60 keeps
# keepalives out of it), then come back up with a working forward. Several
# rounds: which path sees the reset first (a read or a write) varies.
: "${TLIB_TIMEOUT:=240}"
. "$TESTLIB"
. "$TOP_SRCDIR/tests/faults/faultlib.sh"
set -eu -o pipefail
tlib_init

ROUNDS=5
LIMIT=10
start_sshd srv
LP=$(free_port)
TP=$(free_port)
# the far end reads and drops whatever arrives, any number of connections
_tlib_server SINK_PID sink "$TP" "$T/socat.log" \
    socat -u "TCP-LISTEN:$TP,bind=127.0.0.1,reuseaddr,fork" OPEN:/dev/null
{
	conf_header
	tunnel_conf rw srv
	echo "    ServerAliveInterval 60"
	echo "    ServerAliveCountMax 3"
	echo "    LocalForward 127.0.0.1:$LP 127.0.0.1:$TP"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"

# upload PORT: one client sends without pause until its connection ends.
upload() {
	python3 - "$1" <<'PY' >>"$T/upload.log" 2>&1 &
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.settimeout(60)
chunk = os.urandom(65536)
sent = 0
try:
    while True:
        s.sendall(chunk)
        sent += len(chunk)
except OSError as e:
    print("upload ended after %d bytes: %s" % (sent, e))
PY
	UPLOAD_PID=$!
	track "$UPLOAD_PID"
}

slow=0
for r in $(seq 1 "$ROUNDS"); do
	wait_state rw up 20
	wait_for 10 "[ \"\$(fwd_field rw 0 state)\" = up ]"
	connects=$(tfield rw connects)
	upload "$LP"
	wait_for 10 "[ \"\$(fwd_field rw 0 connections_active)\" = 1 ]"
	b0=$(fwd_field rw 0 bytes_out)
	wait_for 10 "[ \"\$(fwd_field rw 0 bytes_out)\" -gt $((b0 + 4194304)) ]"

	# the session's processes: everything the listener forked (only
	# this tunnel talks to this sshd)
	victims=$(_tlib_descendants "$SSHD_PID_srv")
	[ -n "$victims" ] || fail "round $r: no sshd session process found"
	t0=$(_tlib_now_us)
	for p in $victims; do kill -KILL "$p" 2>/dev/null || true; done
	_tlib_deadline "$LIMIT"
	while state_is rw up; do
		if _tlib_expired; then
			log "round $r: still up after ${LIMIT} s"
			slow=$((slow + 1))
			break
		fi
		sleep 0.05
	done
	ms=$((($(_tlib_now_us) - t0) / 1000))
	log "round $r: tunnel left up after $ms ms: $(tfield rw last_error)"
	[ "$slow" -eq 0 ] ||
	    fail "round $r: the session was still up ${LIMIT} s after its server processes were killed"
	wait_pid "$UPLOAD_PID" 20 || fail "round $r: the uploader failed"
	pass "round $r: reset during an upload declared lost after $ms ms (limit ${LIMIT} s)"
	wait_state rw up 20
	[ "$(tfield rw connects)" -ge $((connects + 1)) ] ||
	    fail "round $r: no new session"
done
tail -n "$ROUNDS" "$T/upload.log" >&2
wait_for 10 "[ \"\$(fwd_field rw 0 state)\" = up ]"
mkdata "$T/one" 1
tcp_send "$LP" "$T/one" 30 || fail "the forward is unusable after $ROUNDS rounds"
pass "after $ROUNDS rounds: up again, the forward carries data"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
