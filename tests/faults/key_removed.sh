# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# key_removed (fault suite): the tunnel's key is removed from authorized_keys
# while the tunnel is up, then sshd restarts (the session dies). The daemon
# must keep retrying at RetryMax without hammering the server: with RetryMax
# 2s, at most 7 attempts reach sshd in 10 s (tunsupd(8), Liveness and retries). Put back, the key works
# again within one retry.
: "${TLIB_TIMEOUT:=120}"
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv
{
	conf_header	# RetryMin 200ms, RetryMax 2s
	tunnel_conf kr srv
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"
wait_state kr up 20
cp "$T/srv/authorized_keys" "$T/authorized_keys.saved"

unauthorize srv
restart_sshd srv
wait_for 10 "[ \"\$(tfield kr failures)\" -ge 1 ]"
# sshd logs one "Connection from" per TCP connection: count them for 10 s
# (a measurement window, not a synchronisation)
n0=$(grep -c 'Connection from' "$T/srv/sshd.log" || true)
f0=$(tfield kr failures)
sleep 10
n1=$(grep -c 'Connection from' "$T/srv/sshd.log" || true)
f1=$(tfield kr failures)
attempts=$((n1 - n0))
err=$(expect_error kr 'auth|denied|publickey|key') || fail "last_error does not name the authentication failure"
log "in 10 s: $attempts connections at sshd, failures $f0 -> $f1, last_error: $err"
[ "$attempts" -le 7 ] || fail "$attempts attempts in 10 s with RetryMax 2s (at most 7 expected)"
[ "$attempts" -ge 2 ] || fail "only $attempts attempts in 10 s: the daemon stopped retrying"
state_is kr "backoff|connecting" || fail "tunnel in state $(tstate kr) without a key"
pass "key removed: $attempts attempts in 10 s at RetryMax 2s, last_error '$err'"

cp "$T/authorized_keys.saved" "$T/srv/authorized_keys"
wait_state kr up 10
pass "key put back: the tunnel is up again"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
