# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# The fixture itself: a private sshd on 127.0.0.1 that the stock client can use, so
# that a failing engine test is about tunsup and not about the test setup.
. "$TESTLIB"
tlib_init

start_sshd fx
me=$(id -un)

login_works() {
	local out
	out=$(tssh -p "$SSHD_PORT" "$me@127.0.0.1" echo hello) ||
	    fail "ssh login to the fixture sshd failed"
	[ "$out" = hello ] || fail "expected 'hello', got '$out'"
	pass "stock ssh logs in with the test key and runs a command"
}

exact_command_from_brief() {
	local out
	out=$(ssh -F /dev/null -i "$T/id_ed25519" -o "UserKnownHostsFile=$T/known_hosts" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -p "$SSHD_PORT" \
	    "$me@127.0.0.1" echo hello 2>"$T/ssh.err") || {
		cat "$T/ssh.err" >&2
		fail "plain ssh -F /dev/null login failed"
	}
	[ "$out" = hello ] || fail "expected 'hello', got '$out'"
	pass "known_hosts line [127.0.0.1]:PORT is accepted under StrictHostKeyChecking=yes"
}

wrong_key_refused() {
	gen_key "$T/other"
	if TSSH_KEY=$T/other tssh -p "$SSHD_PORT" "$me@127.0.0.1" echo hello \
	    >"$T/out" 2>"$T/err"; then
		fail "a key not in authorized_keys was accepted"
	fi
	grep -q 'Permission denied' "$T/err" || { cat "$T/err" >&2; fail "no 'Permission denied'"; }
	pass "a key not in authorized_keys is refused"
}

wrong_host_key_refused() {
	local kh=$T/bad_known_hosts
	ssh-keygen -q -t ed25519 -N '' -f "$T/fakehost" </dev/null
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/fakehost.pub")" >"$kh"
	if TSSH_KNOWN_HOSTS=$kh tssh -p "$SSHD_PORT" "$me@127.0.0.1" true \
	    2>"$T/err"; then
		fail "a mismatching host key was accepted"
	fi
	grep -qi 'host key' "$T/err" || { cat "$T/err" >&2; fail "no host key error"; }
	pass "a mismatching known_hosts line is refused"
}

restricted_key_and_forwarding() {
	local echo_port out
	gen_key "$T/restricted"
	echo_port=$(free_port)
	start_echo "$echo_port"
	authorize fx "restrict,port-forwarding,permitopen=\"127.0.0.1:$echo_port\",command=\"/bin/false\"" \
	    "$T/restricted.pub"
	# the forced command refuses to run anything
	if TSSH_KEY=$T/restricted tssh -p "$SSHD_PORT" "$me@127.0.0.1" echo hello \
	    >"$T/out" 2>/dev/null && [ "$(cat "$T/out")" = hello ]; then
		fail "command=/bin/false did not apply"
	fi
	# but -W through the permitted destination works
	out=$(echo ping | TSSH_KEY=$T/restricted tssh -W "127.0.0.1:$echo_port" \
	    -p "$SSHD_PORT" "$me@127.0.0.1") || fail "ssh -W to a permitted destination failed"
	[ "$out" = ping ] || fail "expected 'ping' through -W, got '$out'"
	pass "restrict,port-forwarding,permitopen keys work (forced command, -W)"
	stop_server "$ECHO_PID"
}

restart_same_port() {
	local port=$SSHD_PORT out
	restart_sshd fx
	[ "$SSHD_PORT" = "$port" ] || fail "restart changed the port $port -> $SSHD_PORT"
	out=$(tssh -p "$SSHD_PORT" "$me@127.0.0.1" echo again) || fail "login after restart"
	[ "$out" = again ] || fail "expected 'again', got '$out'"
	pass "restart_sshd keeps port and host key"
}

second_sshd() {
	local out
	start_sshd fx2 "MaxSessions 3" <<-EOF
	ClientAliveInterval 30
	EOF
	[ "$SSHD_PORT_fx2" != "$SSHD_PORT_fx" ] || fail "two sshds on one port"
	[ "$SSHD_PORT_FX2" = "$SSHD_PORT_fx2" ] || fail "SSHD_PORT_FX2 not set"
	grep -qx 'MaxSessions 3' "$T/fx2/config" || fail "extra line from args missing"
	grep -qx 'ClientAliveInterval 30' "$T/fx2/config" || fail "extra line from stdin missing"
	out=$(tssh -p "$SSHD_PORT_fx2" "$me@127.0.0.1" echo two) || fail "login to fx2"
	[ "$out" = two ] || fail "expected 'two', got '$out'"
	stop_sshd fx2
	wait_for 5 "! port_listening $SSHD_PORT_fx2"
	pass "a second sshd with extra config from args and a here-document"
}

helpers() {
	local p json
	p=$(free_port)
	[ "$p" -gt 0 ] && ! port_listening "$p" || fail "free_port gave a busy port"
	json='{"tunnels":[{"name":"a","state":"up","forwards":[]},
	    {"name":"web","state":"up","last_error":null,
	     "forwards":[{"state":"pending","bound_port":2220,"ok":true}]}]}'
	[ "$(echo "$json" | jget 'tunnels[name=web].forwards[0].state')" = pending ] ||
	    fail "jget by name"
	[ "$(echo "$json" | jget 'tunnels[1].forwards[0].bound_port')" = 2220 ] ||
	    fail "jget by index"
	[ "$(echo "$json" | jget 'tunnels[name=web].last_error')" = null ] || fail "jget null"
	[ "$(echo "$json" | jget 'tunnels[name=web].forwards[0].ok')" = true ] || fail "jget bool"
	[ "$(echo "$json" | jget 'tunnels[0].forwards')" = '[]' ] || fail "jget list"
	if echo "$json" | jget 'tunnels[name=nope].state' 2>/dev/null; then
		fail "jget of a missing path succeeded"
	fi
	mkdata "$T/d" 1
	[ "$(stat -c %s "$T/d")" = 1048576 ] || fail "mkdata size"
	[ "$(sha "$T/d")" = "$(sha256sum <"$T/d" | cut -d' ' -f1)" ] || fail "sha"
	wait_for 2 true
	if (wait_for 0.3 false) 2>/dev/null; then fail "wait_for false succeeded"; fi
	pass "free_port, jget, mkdata, sha, wait_for"
}

relay_and_data() {
	local sink_port relay_port
	sink_port=$(free_port)
	relay_port=$(free_port)
	mkdata "$T/in" 8
	start_sink "$sink_port" "$T/out"
	start_relay "$relay_port" "$sink_port"
	tcp_send "$relay_port" "$T/in" 60 || fail "send through the relay"
	wait_pid "$SINK_PID" 20 || fail "sink exited with an error"
	[ "$(sha "$T/out")" = "$(sha "$T/in")" ] || fail "8 MiB through relay.py corrupted"
	pass "relay.py carries 8 MiB intact"
	# frozen relay: the TCP connect completes (backlog) but no banner arrives
	kill -STOP "$RELAY_PID"
	relay_port_frozen() {
		TSSH_CONNECT_TIMEOUT=1 timeout 3 tssh -p "$relay_port" "$me@127.0.0.1" true
	}
	if relay_port_frozen 2>/dev/null; then fail "frozen relay passed a connection"; fi
	kill -CONT "$RELAY_PID"
	stop_server "$RELAY_PID"
	pass "a stopped relay is a black hole"
}

tunsupd_binary_present() {
	[ -n "$TUNSUPD" ] && [ -x "$TUNSUPD" ] || fail "TUNSUPD ($TUNSUPD) is not an executable"
	[ -n "$TUNSUPCTL" ] && [ -x "$TUNSUPCTL" ] || fail "TUNSUPCTL ($TUNSUPCTL) is not an executable"
	pass "TUNSUPD and TUNSUPCTL point to built binaries"
}

login_works
exact_command_from_brief
wrong_key_refused
wrong_host_key_refused
restricted_key_and_forwarding
restart_same_port
second_sshd
helpers
relay_and_data
tunsupd_binary_present
