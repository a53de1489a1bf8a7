# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ssh_config(5) keywords in a Tunnel block (tunsupd.conf(5), SSH_CONFIG
# KEYWORDS): a real ~/.ssh/config block pasted in loads and connects; the
# keywords tunsupd honours have their effect on a real sshd (KexAlgorithms,
# HostKeyAlgorithms, BindAddress, AddressFamily, TCPKeepAlive, HashKnownHosts);
# one it cannot honour is a warning at -t and in the log; a libssh refusal
# names the keyword and its value; a HostKeyAlias with an underscore works
# (libssh refuses such names: the host key is checked under it anyway).
. "$TESTLIB"
set -eu -o pipefail
tlib_init

# DEBUG: sshd logs the negotiated algorithms ("kex: algorithm: ...").
start_sshd paste "LogLevel DEBUG"
ssh-keygen -q -t rsa -b 2048 -N '' -C sshd-alg -f "$T/alg_rsa_key" </dev/null
start_sshd alg "LogLevel DEBUG" "HostKey $T/alg_rsa_key"
start_sshd us
start_sshd rsa "HostKey $T/alg_rsa_key"
start_sshd rk "LogLevel DEBUG"
ECHO_PORT=$(free_port)
FWD_PORT=$(free_port)
RK_PORT=$(free_port)
start_echo "$ECHO_PORT"

ssh-keygen -q -t ed25519 -N '' -f "$T/impostor" </dev/null
: >"$T/kh_alg"
: >"$T/kh_alias_new"
echo "other_host.example $(cut -d' ' -f1,2 "$T/us/ssh_host_ed25519_key.pub")" >"$T/kh_alias_known"
echo "bad_host $(cut -d' ' -f1,2 "$T/impostor.pub")" >"$T/kh_alias_wrong"
# only the RSA key of sshd rsa, which offers an ed25519 key too
echo "rsa_only.host $(cut -d' ' -f1,2 "$T/alg_rsa_key.pub")" >"$T/kh_alias_rsa"

# tunnel_kh NAME SSHD KNOWN_HOSTS: a tunnel block with its own known_hosts file
tunnel_kh() {
	tunnel_conf "$1" "$2" | sed "s|^\( *UserKnownHostsFile\) .*|\1 $3|"
}

{
	conf_header
	echo "IgnoreUnknown UseKeychain"
	tunnel_conf pasted paste
	# as a guide's ~/.ssh/config has it (issue 15: 23 errors before)
	cat <<EOF
    UseKeychain yes
    AddKeysToAgent yes
    HashKnownHosts yes
    TCPKeepAlive no
    KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
    HostKeyAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256
    PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512
    RekeyLimit 1G 1h
    BindAddress 127.0.0.2
    AddressFamily inet
    BatchMode yes
    ForwardAgent no
    PasswordAuthentication no
    ForwardX11 no
    ServerAliveCountMax=3
    LocalForward 127.0.0.1:$FWD_PORT 127.0.0.1:$ECHO_PORT
EOF
	tunnel_kh alg alg "$T/kh_alg"
	cat <<EOF
    StrictHostKeyChecking accept-new
    KexAlgorithms diffie-hellman-group14-sha256
    HostKeyAlgorithms rsa-sha2-256
    HashKnownHosts yes
EOF
	tunnel_conf rekey rk
	echo "    RekeyLimit 256K"
	echo "    LocalForward 127.0.0.1:$RK_PORT 127.0.0.1:$ECHO_PORT"
	tunnel_conf af6 paste
	echo "    AddressFamily inet6"
	tunnel_conf if_lo us
	echo "    BindInterface lo"
	tunnel_conf if_none us
	echo "    BindInterface nosuchif0"
	tunnel_kh alias_new us "$T/kh_alias_new"
	echo "    HostKeyAlias my_host.under_score"
	echo "    StrictHostKeyChecking accept-new"
	tunnel_kh alias_known us "$T/kh_alias_known"
	echo "    HostKeyAlias other_host.example"
	tunnel_kh alias_wrong us "$T/kh_alias_wrong"
	echo "    HostKeyAlias bad_host"
	tunnel_kh alias_rsa rsa "$T/kh_alias_rsa"
	echo "    HostKeyAlias rsa_only.host"
} >"$T/tunsupd.conf"

check_warns_at_t() {
	expect_rc 0 "$TUNSUPD" -t -f "$T/tunsupd.conf"
	grep -q "configuration OK (10 tunnels)" "$T/err" || fail "-t: $(cat "$T/err")"
	grep -Eq "tunsupd.conf:[0-9]+: ignored: AddKeysToAgent yes: " "$T/err" ||
	    fail "-t does not warn about AddKeysToAgent yes: $(cat "$T/err")"
	[ "$(grep -c ': ignored: ' "$T/err")" = 1 ] ||
	    fail "-t warns about more than AddKeysToAgent: $(cat "$T/err")"
	pass "tunsupd -t: the pasted block is OK, one warning (AddKeysToAgent yes)"
}

check_option_named() {
	sed 's/^\( *KexAlgorithms\) diffie.*/\1 bogus-kex/' "$T/tunsupd.conf" >"$T/bad.conf"
	expect_rc 1 "$TUNSUPD" -t -f "$T/bad.conf"
	grep -Eq "bad.conf:[0-9]+: tunnel alg: KexAlgorithms bogus-kex: refused by libssh" "$T/err" ||
	    fail "a refused KexAlgorithms is not named: $(cat "$T/err")"
	pass "tunsupd -t names the option libssh refuses and its value"
}

add_option_named() {
	expect_rc 1 ctl add badkex -o "KexAlgorithms bogus-kex" 127.0.0.1
	grep -q "KexAlgorithms bogus-kex: refused by libssh" "$T/err" ||
	    fail "add: a refused KexAlgorithms is not named: $(cat "$T/err")"
	expect_rc 1 ctl status badkex
	pass "tunsupctl add names the option libssh refuses, and adds nothing"
}

pasted_block() {
	wait_state pasted up 20
	echo_check "$FWD_PORT" 2 10000 >/dev/null
	grep -Eq "tunsupd.conf:[0-9]+: ignored: AddKeysToAgent yes" "$T/tunsupd.log" ||
	    fail "the warning is not in the log at load"
	expect_rc 0 ctl reload
	[ "$(grep -Ec "tunsupd.conf:[0-9]+: ignored: AddKeysToAgent yes" "$T/tunsupd.log")" = 2 ] ||
	    fail "the warning is not logged again at reload"
	state_is pasted up || fail "pasted is $(tstate pasted) after a reload"
	pass "pasted ~/.ssh/config block: up, forward works, the warning in the log (load, reload)"
}

bind_address() {
	grep -q "Connection from 127.0.0.2 port" "$T/paste/sshd.log" ||
	    fail "sshd saw no connection from BindAddress 127.0.0.2"
	if grep -q "Connection from 127.0.0.1 port" "$T/paste/sshd.log"; then
		fail "a connection came from 127.0.0.1 despite BindAddress"
	fi
	pass "BindAddress 127.0.0.2: sshd logs the peer 127.0.0.2"
}

kex_negotiated() {
	grep -q "kex: algorithm: curve25519-sha256" "$T/paste/sshd.log" ||
	    fail "pasted: curve25519-sha256 not negotiated"
	wait_state alg up 20
	grep -q "kex: algorithm: diffie-hellman-group14-sha256" "$T/alg/sshd.log" ||
	    fail "KexAlgorithms diffie-hellman-group14-sha256 not negotiated: $(grep 'kex: algorithm' "$T/alg/sshd.log")"
	grep -q "kex: host key algorithm: rsa-sha2-256" "$T/alg/sshd.log" ||
	    fail "HostKeyAlgorithms rsa-sha2-256 not negotiated: $(grep 'host key algorithm' "$T/alg/sshd.log")"
	if grep -q "kex: host key algorithm: ssh-ed25519" "$T/alg/sshd.log"; then
		fail "the ed25519 host key was used despite HostKeyAlgorithms"
	fi
	pass "KexAlgorithms and HostKeyAlgorithms decide what sshd negotiates"
}

hashed_known_hosts() {
	local blob
	blob=$(cut -d' ' -f2 "$T/alg_rsa_key.pub")
	[ "$(wc -l <"$T/kh_alg")" = 1 ] || fail "kh_alg: $(cat "$T/kh_alg")"
	grep -q "^|1|[^ ]* ssh-rsa $blob\$" "$T/kh_alg" || fail "not hashed: $(cat "$T/kh_alg")"
	if grep -q "127.0.0.1" "$T/kh_alg"; then
		fail "the host name is in clear"
	fi
	ssh-keygen -F "[127.0.0.1]:$SSHD_PORT_alg" -f "$T/kh_alg" >/dev/null ||
	    fail "ssh-keygen -F does not find the hashed line"
	TSSH_KNOWN_HOSTS=$T/kh_alg tssh -o HostKeyAlgorithms=rsa-sha2-256 \
	    -p "$SSHD_PORT_alg" "$(id -un)@127.0.0.1" true ||
	    fail "ssh does not accept the hashed line tunsupd wrote"
	pass "HashKnownHosts yes: accept-new writes a hashed line ssh reads"
}

address_family() {
	wait_for 15 '[ "$(tfield af6 failures)" -ge 1 ]'
	expect_error af6 'no address of AddressFamily inet6' >/dev/null
	[ "$(tfield af6 connects)" = 0 ] || fail "af6 connected"
	pass "AddressFamily inet6 to an IPv4 address: not connected, said so"
}

bind_interface() {
	wait_state if_lo up 20
	wait_for 15 '[ "$(tfield if_none failures)" -ge 1 ]'
	expect_error if_none 'BindInterface nosuchif0: No such device' >/dev/null
	[ "$(tfield if_none connects)" = 0 ] || fail "if_none connected"
	pass "BindInterface: through lo up, through a missing interface an error naming it"
}

tcp_keepalive() {
	local pp pa
	pp=$SSHD_PORT_paste
	pa=$SSHD_PORT_alg
	# ss -o shows the keepalive timer of a socket with SO_KEEPALIVE
	ss -tnoH state established "( dport = :$pa )" >"$T/ss_alg"
	ss -tnoH state established "( dport = :$pp )" >"$T/ss_paste"
	grep -q "timer:(keepalive" "$T/ss_alg" ||
	    fail "no keepalive timer with TCPKeepAlive yes (default): $(cat "$T/ss_alg")"
	[ -s "$T/ss_paste" ] || fail "no connection to sshd paste"
	if grep -q "timer:(keepalive" "$T/ss_paste"; then
		fail "keepalive timer despite TCPKeepAlive no: $(cat "$T/ss_paste")"
	fi
	pass "TCPKeepAlive no: no TCP keepalive on the socket (yes by default)"
}

rekey_limit() {
	local n
	wait_state rekey up 20
	echo_check "$RK_PORT" 2 1048576 >/dev/null
	# sshd logs each key exchange, the first and every renewal
	n=$(grep -c "kex: algorithm:" "$T/rk/sshd.log" || true)
	[ "$n" -ge 3 ] || fail "RekeyLimit 256K: $n key exchanges for 4 MiB"
	[ "$(tfield rekey connects)" = 1 ] || fail "reconnected"
	pass "RekeyLimit 256K: the keys are renewed ($n key exchanges for 4 MiB)"
}

alias_underscore() {
	local pub
	pub=$(cut -d' ' -f1,2 "$T/us/ssh_host_ed25519_key.pub")
	wait_state alias_new up 20
	grep -qxF "my_host.under_score $pub" "$T/kh_alias_new" ||
	    fail "accept-new did not record the key under the alias: $(cat "$T/kh_alias_new")"
	wait_state alias_known up 20
	wait_for 15 '[ "$(tfield alias_wrong failures)" -ge 1 ]'
	expect_error alias_wrong 'host key for bad_host has CHANGED' >/dev/null
	[ "$(tfield alias_wrong connects)" = 0 ] || fail "alias_wrong connected"
	# libssh never sees the name: the key type known for it comes first
	wait_for 20 'state_is alias_rsa up || [ "$(tfield alias_rsa failures)" -ge 1 ]'
	state_is alias_rsa up || fail "only the RSA key is known: $(tfield alias_rsa last_error)"
	pass "HostKeyAlias with an underscore: recorded, known and checked under it"
}

check_warns_at_t
check_option_named
start_tunsupd "$T/tunsupd.conf"
add_option_named
pasted_block
bind_address
kex_negotiated
hashed_known_hosts
address_family
bind_interface
tcp_keepalive
rekey_limit
alias_underscore
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
