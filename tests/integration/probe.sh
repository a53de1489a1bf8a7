# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ForwardProbe (tunsupd.conf(5)): each keepalive round, a remote forward is checked end
# to end through the server; the probe connection is never counted or sent
# on to the target; a key whose permitopen forbids the probe still works.
. "$TESTLIB"
tlib_init

start_sshd bridge
TARGET=$(free_port)
start_echo "$TARGET"
P1=$(free_port)
P2=$(free_port)
P3=$(free_port)

# A second key locked down as the bridge guides do: no direct-tcpip at all.
gen_key "$T/locked"
authorize bridge "restrict,port-forwarding,permitlisten=\"localhost:$P2\",permitopen=\"255.255.255.255:9\",command=\"/bin/false\"" "$T/locked.pub"

{
	conf_header
	tunnel_conf probed bridge
	echo "    RemoteForward $P1 127.0.0.1:$TARGET"
	tunnel_conf locked bridge "" "$T/locked"
	echo "    RemoteForward $P2 127.0.0.1:$TARGET"
	tunnel_conf unprobed bridge
	echo "    ForwardProbe no"
	echo "    RemoteForward $P3 127.0.0.1:$TARGET"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state probed up 15
wait_state locked up 15
wait_state unprobed up 15

probes_at_least() { [ "$(fwd_field "$1" 0 probes_ok)" -ge "$2" ]; }
wait_for 15 probes_at_least probed 3
[ "$(fwd_field probed 0 probe)" = ok ] || fail "probe field: $(fwd_field probed 0 probe)"
[ "$(fwd_field probed 0 connections_total)" = 0 ] ||
	fail "probe connections were counted as user traffic"
[ "$(fwd_field probed 0 bytes_in)" = 0 ] || fail "probe bytes were counted"
pass "probes reach the server's listener and come back (probes_ok >= 3), not counted as traffic"

# A real client through the bridge while probes run: it is counted and echoed.
echo_check "$P1" 10 65536 || fail "echo through the probed forward"
wait_for 10 probes_at_least probed 5
[ "$(fwd_field probed 0 connections_total)" = 10 ] ||
	fail "expected 10 user connections, got $(fwd_field probed 0 connections_total)"
[ "$(tstate probed)" = up ] || fail "probed tunnel left up: $(tstate probed)"
pass "user connections during probes are carried and counted (10), probes go on"

# permitopen forbids direct-tcpip: the forward stays up, probing is off.
probe_is() { [ "$(fwd_field "$1" 0 probe)" = "$2" ]; }
wait_for 10 probe_is locked unsupported
[ "$(tstate locked)" = up ] || fail "locked tunnel not up: $(tstate locked)"
[ "$(fwd_field locked 0 state)" = up ] || fail "locked forward: $(fwd_field locked 0 state)"
echo_check "$P2" 2 1024 || fail "echo through the locked forward"
pass "a permitopen-locked key: probe 'unsupported', forward up and working"

[ "$(fwd_field unprobed 0 probe)" = off ] || fail "ForwardProbe no: $(fwd_field unprobed 0 probe)"
[ "$(fwd_field unprobed 0 probes_ok)" = 0 ] || fail "ForwardProbe no still probed"
pass "ForwardProbe no: no probes"

stop_tunsupd || fail "tunsupd exit status $?"
pass "clean shutdown"
