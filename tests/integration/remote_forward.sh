# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# RemoteForward (ssh -R) end to end: the bridge setup of tunsupd.conf(5) with a locked-down
# key, bulk data, and a remote port still held by a stale session.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

me=$(id -un)
start_sshd bridge
start_sshd target

P=$(free_port)       # the bridge port that reaches the target's sshd
P_BULK=$(free_port)  # the bridge port for bulk data
P_STALE=$(free_port) # a bridge port held by a stale ssh -R
TP_SINK=$(free_port)

# the tunnel's key: only allowed to listen on localhost:P, nothing else
gen_key "$T/tunnel_key"
authorize bridge "restrict,port-forwarding,permitlisten=\"localhost:$P\",permitopen=\"255.255.255.255:9\",command=\"/bin/false\"" \
    "$T/tunnel_key.pub"
# a user's key: may only open localhost:P on the bridge, and log in on the target
gen_key "$T/client_key"
authorize bridge "restrict,port-forwarding,permitopen=\"localhost:$P\"" "$T/client_key.pub"
authorize target "" "$T/client_key.pub"

# A stale session holds P_STALE on the bridge, as after a network outage where the
# old sshd child has not noticed yet that its client is gone.
start_stale_holder() {
	tssh -N -o ExitOnForwardFailure=yes -R "$P_STALE:localhost:$SSHD_PORT_target" \
	    -p "$SSHD_PORT_bridge" "$me@127.0.0.1" </dev/null 2>>"$T/stale_ssh.log" &
	STALE_PID=$!
	track "$STALE_PID"
	wait_for 10 port_listening "$P_STALE"
}
start_stale_holder

{
	conf_header
	tunnel_conf bridge-ssh bridge "" "$T/tunnel_key"
	echo "    RemoteForward $P localhost:$SSHD_PORT_target"
	tunnel_conf bulk bridge
	echo "    RemoteForward 127.0.0.1:$P_BULK 127.0.0.1:$TP_SINK"
	tunnel_conf stale bridge
	echo "    RemoteForward $P_STALE localhost:$SSHD_PORT_target"
} >"$T/tunsupd.conf"

start_tunsupd "$T/tunsupd.conf"

restricted_bridge() {
	local out t0
	wait_state bridge-ssh up 20
	[ "$(fwd_field bridge-ssh 0 kind)" = remote ] || fail "kind $(fwd_field bridge-ssh 0 kind)"
	[ "$(fwd_field bridge-ssh 0 state)" = up ] || fail "forward $(fwd_field bridge-ssh 0 state)"
	[ "$(fwd_field bridge-ssh 0 listen)" = "localhost:$P" ] ||
	    fail "listen '$(fwd_field bridge-ssh 0 listen)', expected localhost:$P"
	[ "$(fwd_field bridge-ssh 0 target)" = "localhost:$SSHD_PORT_target" ] ||
	    fail "target '$(fwd_field bridge-ssh 0 target)'"
	[ "$(fwd_field bridge-ssh 0 bound_port)" = "$P" ] ||
	    fail "bound_port $(fwd_field bridge-ssh 0 bound_port)"
	port_listening "$P" || fail "the bridge does not listen on $P"

	# a user reaches the target's sshd through the bridge with the stock client
	{
		echo "Host *"
		echo "    IdentityFile $T/client_key"
		echo "    IdentitiesOnly yes"
		echo "    IdentityAgent none"
		echo "    UserKnownHostsFile $T/client_known_hosts"
		echo "    StrictHostKeyChecking yes"
		echo "    BatchMode yes"
		echo "    ConnectTimeout 10"
		echo "    LogLevel ERROR"
	} >"$T/client_config"
	{
		host_key_line bridge
		host_key_line target "[localhost]:$P"
	} >"$T/client_known_hosts"
	out=$(timeout 30 ssh -F "$T/client_config" -J "$me@127.0.0.1:$SSHD_PORT_bridge" \
	    -p "$P" "$me@localhost" echo reached 2>"$T/client.err") || {
		cat "$T/client.err" >&2
		fail "ssh -J through the bridge to the target failed"
	}
	[ "$out" = reached ] || fail "expected 'reached', got '$out'"
	[ "$(fwd_field bridge-ssh 0 connections_total)" -ge 1 ] ||
	    fail "connections_total $(fwd_field bridge-ssh 0 connections_total)"

	# the locked-down key cannot do anything else, and probing must not hurt:
	# still up after three more keepalive rounds
	t0=$(tfield bridge-ssh keepalive.last_ok)
	[ "$t0" != null ] || fail "keepalive.last_ok is null on an up tunnel"
	wait_for 15 "awk -v a=\"\$(tfield bridge-ssh keepalive.last_ok)\" -v b=$t0 'BEGIN { exit !(a >= b + 3) }'"
	[ "$(tstate bridge-ssh)" = up ] || fail "bridge-ssh $(tstate bridge-ssh) after keepalives"
	[ "$(tfield bridge-ssh connects)" = 1 ] || fail "bridge-ssh reconnected"
	pass "RemoteForward with a restrict,permitlisten key; ssh -J reaches the target through it"
}

bulk_64m() {
	local before
	wait_state bulk up 20
	before=$(fwd_field bulk 0 connections_total)
	send_through "$P_BULK" "$TP_SINK" 64
	[ "$(fwd_field bulk 0 connections_total)" -ge $((before + 1)) ] ||
	    fail "connections_total did not grow"
	wait_for 10 '[ $(( $(fwd_field bulk 0 bytes_in) + $(fwd_field bulk 0 bytes_out) )) -ge 67108864 ]'
	[ "$(tstate bulk)" = up ] || fail "bulk $(tstate bulk)"
	pass "RemoteForward carries 64 MiB intact to a sink"
}

stale_port() {
	local connects out
	wait_state stale degraded 20
	case "$(fwd_field stale 0 state)" in
	pending | failed) ;;
	*) fail "forward of a held port is $(fwd_field stale 0 state)" ;;
	esac
	fwd_field stale 0 error | grep -Eqi 'refus|denied|in use|prohibit|reject' ||
	    fail "forward error does not mention the refusal: '$(fwd_field stale 0 error)'"
	connects=$(tfield stale connects)
	[ "$connects" -ge 1 ] || fail "connects $connects"

	# the stale session goes away: the forward is retried inside the live session
	kill_pid "$STALE_PID" 5
	# the bridge frees the port at once (or tunsupd already took it)
	wait_for 10 "! port_listening $P_STALE || state_is stale up"
	log "stale holder gone, port $P_STALE released"
	wait_state stale up 30
	[ "$(fwd_field stale 0 state)" = up ] || fail "forward $(fwd_field stale 0 state)"
	[ "$(tfield stale connects)" = "$connects" ] ||
	    fail "the tunnel reconnected ($connects -> $(tfield stale connects)) instead of retrying the forward"
	out=$(TSSH_KNOWN_HOSTS=$T/stale_known_hosts
	    host_key_line target "[127.0.0.1]:$P_STALE" >"$TSSH_KNOWN_HOSTS"
	    TSSH_KNOWN_HOSTS=$TSSH_KNOWN_HOSTS tssh -p "$P_STALE" "$me@127.0.0.1" echo via-stale) ||
	    fail "login through the recovered forward failed"
	[ "$out" = via-stale ] || fail "expected 'via-stale', got '$out'"
	pass "a remote port held by a stale session: degraded, then up in the same session"
}

restricted_bridge
bulk_64m
stale_port
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
wait_for 10 "! port_listening $P"
pass "shutdown cancels the remote forwards"
