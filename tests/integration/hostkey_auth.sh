# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Host key checking and authentication failures (tunsupd.conf(5) StrictHostKeyChecking, tunsupd(8) Liveness and retries:
# "a host key mismatch or an authentication failure keeps retrying at RetryMax and
# says so in last_error").
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd hk
start_sshd noauth
unauthorize noauth

# known_hosts files: a wrong key for hk, empty ones for accept-new and "yes"
ssh-keygen -q -t ed25519 -N '' -f "$T/impostor" </dev/null
echo "[127.0.0.1]:$SSHD_PORT_hk $(cut -d' ' -f1,2 "$T/impostor.pub")" >"$T/kh_mismatch"
: >"$T/kh_new"
: >"$T/kh_unknown"

{
	conf_header
	tunnel_kh mismatch hk "$T/kh_mismatch"
	tunnel_kh acceptnew hk "$T/kh_new"
	echo "    StrictHostKeyChecking accept-new"
	tunnel_kh unknown hk "$T/kh_unknown"
	echo "    StrictHostKeyChecking yes"
	tunnel_conf noauth noauth
} >"$T/tunsupd.conf"

start_tunsupd "$T/tunsupd.conf"

host_key_mismatch() {
	wait_for 15 '[ "$(tfield mismatch failures)" -ge 2 ]'
	wait_state mismatch backoff 10
	expect_error mismatch 'host key' >/dev/null
	[ "$(tfield mismatch connects)" = 0 ] || fail "connected despite a host key mismatch"
	grep -q "$(cut -d' ' -f2 "$T/impostor.pub")" "$T/kh_mismatch" ||
	    fail "the known_hosts file was changed"
	[ "$(wc -l <"$T/kh_mismatch")" = 1 ] || fail "a key was added next to the mismatching one"
	pass "host key mismatch: never up, 'host key' in last_error, retried in backoff"
}

accept_new() {
	local blob
	wait_state acceptnew up 20
	blob=$(cut -d' ' -f2 "$T/hk/ssh_host_ed25519_key.pub")
	ssh-keygen -F "[127.0.0.1]:$SSHD_PORT_hk" -f "$T/kh_new" >"$T/kh_new.found" ||
	    fail "accept-new did not record [127.0.0.1]:$SSHD_PORT_hk in known_hosts"
	grep -q "$blob" "$T/kh_new.found" || fail "accept-new recorded another key"
	# and the recorded line is good for the stock client, too
	TSSH_KNOWN_HOSTS=$T/kh_new tssh -p "$SSHD_PORT_hk" "$(id -un)@127.0.0.1" true ||
	    fail "ssh does not accept the line tunsupd wrote"
	pass "StrictHostKeyChecking accept-new: up, and the key is now in known_hosts"
}

unknown_host_refused() {
	wait_for 15 '[ "$(tfield unknown failures)" -ge 1 ]'
	wait_state unknown "backoff|connecting" 5
	expect_error unknown 'host key|unknown|not known' >/dev/null
	[ "$(tfield unknown connects)" = 0 ] || fail "connected to an unknown host under 'yes'"
	[ ! -s "$T/kh_unknown" ] || fail "StrictHostKeyChecking yes wrote to known_hosts"
	pass "unknown host under StrictHostKeyChecking yes: refused, known_hosts untouched"
}

auth_failure() {
	local n0 n1
	wait_for 15 '[ "$(tfield noauth failures)" -ge 2 ]'
	expect_error noauth 'auth|denied' >/dev/null
	# a rate, so a deliberate window: RetryMax 2s allows 3 or 4 attempts in 6 s
	n0=$(grep -c '^Connection from 127.0.0.1' "$T/noauth/sshd.log" || true)
	sleep 6
	n1=$(grep -c '^Connection from 127.0.0.1' "$T/noauth/sshd.log" || true)
	log "noauth: $((n1 - n0)) connection attempts in 6 s"
	[ $((n1 - n0)) -le 5 ] || fail "$((n1 - n0)) connection attempts in 6 s: hammering"
	[ $((n1 - n0)) -ge 1 ] || fail "no connection attempt in 6 s: not retrying"
	[ "$(tfield noauth connects)" = 0 ] || fail "connects $(tfield noauth connects)"
	case "$(tstate noauth)" in
	backoff | connecting) ;;
	*) fail "noauth is $(tstate noauth)" ;;
	esac
	pass "authentication failure: 'auth' in last_error, retried without hammering ($((n1 - n0)) in 6 s)"
}

host_key_mismatch
accept_new
unknown_host_refused
auth_failure
[ "$(tfield mismatch connects)" = 0 ] || fail "mismatch connected in the end"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
