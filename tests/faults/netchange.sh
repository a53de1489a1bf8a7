# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# netchange (fault suite): a network change makes every session check itself
# at once (tunsupd(8) NETWORK CHANGES). sshd and tunsupd sit in two network
# namespaces of their own joined by a veth pair, the session has
# ServerAliveInterval 60 (a dead session would take 3 minutes to notice):
#  - an address appearing on tunsupd's side: the healthy session answers the
#    check and stays; a tunnel in backoff retries at once;
#  - a black hole alone (nft drops everything from tunsupd's side): nothing
#    is noticed early, since nothing tells tunsupd (proves the trigger);
#  - the session's own address removed and another one given (a new Wi-Fi,
#    a new DSL address): the silently dead session is lost within a few
#    seconds, the reason names the change, and it reconnects from the new
#    address at once.
#
# The test runs in a network namespace of its own (unshare -n), sshd's side;
# tunsupd's side is another one, held by a sleeping process, entered with
# nsenter. Nothing outside the test is touched.
: "${TLIB_TIMEOUT:=120}"
if [ -z "${TUNSUP_IN_NETNS:-}" ]; then
	exec unshare -n env TUNSUP_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
. "$TESTLIB"
. "$TOP_SRCDIR/tests/faults/faultlib.sh"
set -eu -o pipefail
tlib_init
need_tool nft ip nsenter unshare

# ---- two namespaces, one veth pair -----------------------------------------
unshare -n sleep 600 &
HOLDER=$!
track "$HOLDER"
client() { nsenter -t "$HOLDER" -n "$@"; }
wait_for 5 "client true"
ip link add vs type veth peer name vc netns "$HOLDER"
ip addr add 10.77.0.1/24 dev vs
ip link set vs up
client ip link set lo up
client ip addr add 10.77.0.2/24 dev vc
client ip link set vc up

start_sshd net "ListenAddress 10.77.0.1"
reach() {	# from tunsupd's side to sshd
	client python3 -c 'import socket, sys
socket.create_connection(("10.77.0.1", int(sys.argv[1])), 1).close()' "$SSHD_PORT_net" 2>/dev/null
}
wait_for 10 reach
host_key_line net "[10.77.0.1]:$SSHD_PORT_net" >>"$T/known_hosts"
cat >"$T/tunsupd-client" <<EOF
#!/bin/sh
exec nsenter -t $HOLDER -n "$TUNSUPD" "\$@"
EOF
chmod +x "$T/tunsupd-client"
TUNSUPD=$T/tunsupd-client

block() {	# NAME PORT
	cat <<EOF
Tunnel $1
    HostName 10.77.0.1
    Port $2
    User $(id -un)
    IdentityFile $T/id_ed25519
    IdentityAgent none
    UserKnownHostsFile $T/known_hosts
    ServerAliveInterval 60
    ServerAliveCountMax 3
EOF
}
{
	conf_header
	block a "$SSHD_PORT_net"
	block dead 9	# refused: in backoff for a minute
	echo "    RetryMin 60s"
	echo "    RetryMax 60s"
	echo "    RetryNetworkMax 60s"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state a up 20
wait_for 10 "[ \"\$(tfield dead failures)\" -ge 1 ]"
c0=$(tfield a connects)

answered() { grep -q "tunnel a: the session answered the check (network change: $1" "$T/tunsupd.log"; }

# ---- a healthy session answers; backoff is cut short ----------------------
f0=$(tfield dead failures)
client ip addr add 10.88.0.9/24 dev vc
wait_for 6 answered "address 10.88.0.9/24 on vc"
grep -q "network change: address 10.88.0.9/24 on vc.*: checking 1 session, 1 tunnel in backoff retry now" "$T/tunsupd.log" ||
    fail "no log line for the change"
state_is a up && [ "$(tfield a connects)" = "$c0" ] || fail "the healthy session was replaced"
wait_for 5 "[ \"\$(tfield dead failures)\" -gt $f0 ]"
pass "an address added: the healthy session answers its check and stays; the tunnel in backoff retried at once"

# ---- a black hole alone is not noticed early -------------------------------
nft add table inet tunsup_nc
nft add chain inet tunsup_nc in '{ type filter hook input priority 0; }'
nft add rule inet tunsup_nc in iifname vs drop
wait_for 5 "! reach"
sleep 8	# what must not happen: the session noticed dead without a trigger
state_is a up && [ "$(tfield a connects)" = "$c0" ] ||
    fail "the session was lost without a trigger: $(tfield a last_error)"
pass "a black hole alone goes unnoticed for 8 s (ServerAliveInterval 60)"

# ---- the session's address goes, another comes ----------------------------
nft delete table inet tunsup_nc
t0=$(_tlib_now_us)
client ip addr del 10.77.0.2/24 dev vc
client ip addr add 10.77.0.3/24 dev vc
# lost and back may be quicker than a look at the state: the count tells
wait_for 8 "[ \"\$(tfield a connects)\" -gt $c0 ] || ! state_is a up"
t1=$(_tlib_now_us)
ms=$(((t1 - t0) / 1000))
# last_error is gone once up again: the state change's log line keeps it
why=$(grep -o "tunnel a: up -> backoff (.*" "$T/tunsupd.log" || true)
log "lost after at most $ms ms: $why"
[ "$ms" -le 6000 ] || fail "the dead session was noticed only after $ms ms"
case $why in
*"no answer from the server within 3.0 s of a check (network change: address 10.77.0.2/24 removed from vc"*) ;;
*) fail "the reason does not name the change: $why" ;;
esac
wait_state a up 10
t2=$(_tlib_now_us)
[ "$(tfield a connects)" = $((c0 + 1)) ] || fail "connects $(tfield a connects), not $((c0 + 1))"
pass "the session's address removed: lost within $ms ms, reason named, up again from the new address $(((t2 - t0) / 1000)) ms after the change"
stop_tunsupd || fail "tunsupd exit status $?"
