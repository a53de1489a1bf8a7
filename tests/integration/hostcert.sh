# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Host certificates (tunsupd.conf(5), UserKnownHostsFile and
# StrictHostKeyChecking): sshds with a HostCertificate made by ssh-keygen -s -h;
# known_hosts @cert-authority names the authority. A valid certificate comes up
# (certificates offered first when a @cert-authority covers the host, and only
# then); a wrong principal, an expired or not yet valid certificate, a user
# certificate, a @revoked authority or key and an unknown authority are refused,
# last_error naming the reason and the known_hosts FILE:LINE; a ProxyJump hop is
# checked the same way; accept-new learns neither a certificate nor a key where
# an authority should vouch. ssh(1) agrees on each verdict. (A certificate whose
# signature does not verify cannot be served by sshd, which checks it on load:
# tests/unit/test_hostcert.c covers it.) The system-libssh build cannot
# negotiate certificates: there every case must be a refusal naming the bundled
# libssh.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

me=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C ca -f "$T/ca" </dev/null
ssh-keygen -q -t ed25519 -N '' -C other-ca -f "$T/ca2" </dev/null
ca=$(cut -d' ' -f1,2 "$T/ca.pub")
ca2=$(cut -d' ' -f1,2 "$T/ca2.pub")

# cert_sshd NAME SSH-KEYGEN-ARGS...: an sshd whose host key carries a certificate
# signed by $T/ca with those arguments (started once to make its key, then
# restarted with the certificate in place).
cert_sshd() {
	local name=$1
	shift
	start_sshd "$name" "HostCertificate $T/$name/ssh_host_ed25519_key-cert.pub"
	ssh-keygen -q -s "$T/ca" -I "host-$name" "$@" "$T/$name/ssh_host_ed25519_key.pub"
	restart_sshd "$name"
}
cert_sshd ok -h -n 127.0.0.1,certhost.example -V -5m:+1h
cert_sshd exp -h -n 127.0.0.1 -V 20200101:20210101
cert_sshd fut -h -n 127.0.0.1 -V 20400101:20410101
cert_sshd usr -n 127.0.0.1 -V -5m:+1h
OK=$SSHD_PORT_ok
okkey=$(cut -d' ' -f1,2 "$T/ok/ssh_host_ed25519_key.pub")

echo "@cert-authority [127.0.0.1]:* $ca" >"$T/kh_ca"
{ echo "@cert-authority [127.0.0.1]:* $ca"; host_key_line ok; } >"$T/kh_both"
host_key_line ok >"$T/kh_plain"
echo "@cert-authority [127.0.0.1]:*,certhost.example,other.example $ca" >"$T/kh_alias"
{ echo "@cert-authority [127.0.0.1]:* $ca"; echo "@revoked * $ca"; } >"$T/kh_carev"
{ echo "@cert-authority [127.0.0.1]:* $ca"; echo "@revoked * $okkey"; } >"$T/kh_keyrev"
echo "@cert-authority [127.0.0.1]:* $ca2" >"$T/kh_ca2"
remember kh_ca kh_both kh_plain kh_alias kh_carev kh_keyrev kh_ca2

{
	conf_header
	tunnel_kh valid ok kh_ca yes
	tunnel_kh valid_new ok kh_ca accept-new
	tunnel_kh both ok kh_both yes
	tunnel_kh plain ok kh_plain yes
	tunnel_kh alias_ok ok kh_alias yes
	echo "    HostKeyAlias certhost.example"
	tunnel_kh principal ok kh_alias yes
	echo "    HostKeyAlias other.example"
	tunnel_kh expired exp kh_ca yes
	tunnel_kh future fut kh_ca yes
	tunnel_kh usercert usr kh_ca yes
	tunnel_kh carev ok kh_carev yes
	tunnel_kh keyrev ok kh_keyrev no
	tunnel_kh unknown_ca ok kh_ca2 accept-new
	tunnel_kh jump_ok ok kh_ca yes
	echo "    ProxyJump $me@127.0.0.1:$OK"
	tunnel_kh jump_exp ok kh_ca yes
	echo "    ProxyJump $me@127.0.0.1:$SSHD_PORT_exp"
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"

if [ "$TUNSUP_LIBSSH" = system ]; then
	# no certificate is negotiated: the host is unknown, never learned
	wait_for 20 "[ \"\$(tfield valid_new failures)\" -ge 2 ]"
	expect_error valid_new "bundled libssh" >/dev/null
	unchanged kh_ca
	pass "system libssh: a host only a @cert-authority covers is refused, naming the bundled libssh"
	stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
	exit 0
fi

# refused NAME REGEX [FILE]: tried at least twice, never up, last_error matches,
# FILE unchanged.
refused() {
	local err
	wait_for 20 "[ \"\$(tfield $1 failures)\" -ge 2 ]"
	[ "$(tfield "$1" connects)" = 0 ] || fail "$1 came up"
	err=$(expect_error "$1" "$2")
	[ -z "${3:-}" ] || unchanged "$3"
	log "$1: $err"
}
# accepted NAME FILE: up, FILE unchanged.
accepted() {
	wait_state "$1" up 20
	unchanged "$2"
}

accepted valid kh_ca
grep -q "tunnel valid: host certificate for 127.0.0.1 (ssh-ed25519-cert-v01@openssh.com SHA256:.*) accepted" "$T/tunsupd.log" ||
	fail "valid: no certificate accepted in the log"
pass "a host certificate signed by the @cert-authority: up"
accepted valid_new kh_ca
pass "accept-new with a valid certificate: up, nothing learned"
accepted both kh_both
grep -q "tunnel both: host certificate for 127.0.0.1 (ssh-ed25519-cert-v01@openssh.com" "$T/tunsupd.log" ||
	fail "both: the plain key was negotiated before the certificate"
pass "a @cert-authority and the plain key known: the certificate is asked for first"
accepted plain kh_plain
! grep -q "tunnel plain: host certificate" "$T/tunsupd.log" ||
	fail "plain: a certificate was asked for without a @cert-authority"
pass "no @cert-authority for the host: no certificate asked for, the plain key is checked"
accepted alias_ok kh_alias
pass "HostKeyAlias as the certificate's principal: up"

refused principal "host certificate for other.example .*refused: its certificate is not valid for other.example \\(principals: 127.0.0.1,certhost.example; authority at $T/kh_alias:1\\)" kh_alias
pass "wrong principal: refused, principals and file:line named"
refused expired "refused: its certificate is expired \\(valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z; authority at $T/kh_ca:1\\)" kh_ca
pass "expired certificate: refused"
refused future "refused: its certificate is not valid yet \\(valid from 2040-01-01" kh_ca
pass "not yet valid certificate: refused"
refused usercert "refused: its certificate is a user certificate, not a host certificate" kh_ca
pass "a user certificate as host certificate: refused"
refused carev "refused: its certificate authority \\(SHA256:[^)]*\\) is marked @revoked at $T/kh_carev:2" kh_carev
pass "@revoked certificate authority: refused, file:line named"
refused keyrev "refused: its key is marked @revoked at $T/kh_keyrev:2" kh_keyrev
pass "@revoked certified key under StrictHostKeyChecking no: refused"
refused unknown_ca "refused: its certificate is signed by an authority \\(SHA256:[^)]*\\) that no @cert-authority line for 127.0.0.1 names" kh_ca2
pass "unknown authority under accept-new: refused, neither the certificate nor its key learned"

accepted jump_ok kh_ca
grep -q "host certificate for 127.0.0.1 (ssh-ed25519-cert-v01@openssh.com .*accepted" "$T/tunsupd.log"
pass "ProxyJump: hop and target vouched for by certificates"
refused jump_exp "jump host $me@127.0.0.1:$SSHD_PORT_exp: .*its certificate is expired" kh_ca
pass "ProxyJump: a hop with an expired certificate is refused and named"

# ssh(1) agrees
kh_ssh() { TSSH_KNOWN_HOSTS=$T/$1 tssh -p "$2" "$me@127.0.0.1" true 2>"$T/ssh.err"; }
kh_ssh kh_ca "$OK" || fail "ssh refuses the valid certificate: $(cat "$T/ssh.err")"
for c in exp:kh_ca fut:kh_ca usr:kh_ca ok:kh_carev ok:kh_keyrev ok:kh_ca2; do
	port=$(sshd_port "${c%%:*}")
	if kh_ssh "${c#*:}" "$port"; then
		fail "ssh accepts $c"
	fi
done
pass "ssh(1) gives the same verdicts"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
