# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# A forward that cannot be established: by default the session stays and the
# tunnel is degraded (the forward retried inside it); with
# ExitOnForwardFailure yes the session is torn down and retried in backoff.
. "$TESTLIB"
tlib_init

start_sshd bridge
BUSY=$(free_port)
# Something else already listens on the local port.
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$BUSY" &
track $!
wait_for 5 port_listening "$BUSY"
{
	conf_header
	tunnel_conf stay bridge
	echo "    LocalForward $BUSY 127.0.0.1:9"
	tunnel_conf leave bridge
	echo "    ExitOnForwardFailure yes"
	echo "    LocalForward $BUSY 127.0.0.1:9"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state stay degraded 15
fwd_field stay 0 error | grep -q "cannot listen on 127.0.0.1:$BUSY: Address already in use" ||
	fail "stay's forward error: $(fwd_field stay 0 error)"
[ "$(tfield stay connects)" = 1 ] || fail "stay reconnected"
tfield stay last_error | grep -q "Address already in use" ||
	fail "degraded tunnel's last_error: $(tfield stay last_error)"
pass "a forward that cannot listen: degraded, session kept, error names the address"

failures_at_least() { [ "$(tfield leave failures)" -ge "$1" ]; }
wait_for 15 failures_at_least 2
tfield leave last_error | grep -q "Address already in use" ||
	fail "leave's last_error: $(tfield leave last_error)"
[ "$(tstate leave)" != up ] || fail "leave is up"
pass "ExitOnForwardFailure yes: the session is torn down and retried ($(tfield leave failures) failures)"
stop_tunsupd || fail "tunsupd exit status $?"
