# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# known_hosts marker lines and the file a learned key goes into (tunsupd.conf(5),
# StrictHostKeyChecking and UserKnownHostsFile): a key marked @revoked is refused
# under every StrictHostKeyChecking (hashed host names, a ProxyJump hop and a
# HostKeyAlias included); a host only a @cert-authority line covers that offers
# no certificate is not learned under accept-new (tests/integration/hostcert.sh
# has the certificates); accept-new never appends to a file that is not a known_hosts
# file. In each refusal the known_hosts file is left as it was.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd hk
start_sshd jump
HK=$SSHD_PORT_hk
JP=$SSHD_PORT_jump
me=$(id -un)
hkline=$(host_key_line hk)		# "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
hkkey=${hkline#* }

# known_hosts files, one per tunnel
echo "$hkline" >"$T/kh_yes"
echo "@revoked [127.0.0.1]:$HK $hkkey" >>"$T/kh_yes"
echo "@revoked * $hkkey" >"$T/kh_new"
cp "$T/kh_yes" "$T/kh_no"
echo "@cert-authority *.example.com,[127.0.0.1]:* $hkkey" >"$T/kh_ca"
# hashed: ssh-keygen -H hashes the host names of plain lines only
echo "$hkline" >"$T/kh_hashed"
ssh-keygen -q -H -f "$T/kh_hashed" >/dev/null 2>&1
rm -f "$T/kh_hashed.old"
grep -q '^|1|' "$T/kh_hashed" || fail "ssh-keygen -H did not hash"
echo "@revoked $(cat "$T/kh_hashed")" >>"$T/kh_hashed"
# the jump host is revoked, the target is known
{ host_key_line hk; host_key_line jump; echo "@revoked [127.0.0.1]:$JP $(host_key_line jump | cut -d' ' -f2-)"; } >"$T/kh_jump"
# HostKeyAlias: looked up by the alias, without a port
{ echo "myalias $hkkey"; echo "@revoked myalias $hkkey"; } >"$T/kh_alias"
# an authorized_keys file named as UserKnownHostsFile, its only line shaped
# like a known_hosts entry for a host named "restrict,port-forwarding"
echo "restrict,port-forwarding $(cut -d' ' -f1,2 "$T/id_ed25519.pub") tunnel" >"$T/kh_authkeys"
printf '#!/bin/sh\necho hello\n' >"$T/kh_script"

remember kh_yes kh_new kh_no kh_ca kh_hashed kh_jump kh_alias kh_authkeys kh_script

{
	conf_header
	tunnel_kh r_yes hk kh_yes yes
	tunnel_kh r_new hk kh_new accept-new
	tunnel_kh r_no hk kh_no no
	tunnel_kh ca_new hk kh_ca accept-new
	tunnel_kh ca_yes hk kh_ca yes
	tunnel_kh r_hashed hk kh_hashed yes
	tunnel_kh r_jump hk kh_jump yes
	echo "    ProxyJump $me@127.0.0.1:$JP"
	tunnel_kh r_alias hk kh_alias yes
	echo "    HostKeyAlias myalias"
	tunnel_kh authkeys hk kh_authkeys accept-new
	tunnel_kh script hk kh_script accept-new
} >"$T/tunsupd.conf"
start_tunsupd "$T/tunsupd.conf"

# refused NAME REGEX FILE: tried at least twice, never up, last_error matches, FILE
# unchanged.
refused() {
	local err
	wait_for 20 "[ \"\$(tfield $1 failures)\" -ge 2 ]"
	[ "$(tfield "$1" connects)" = 0 ] || fail "$1 came up"
	err=$(expect_error "$1" "$2")
	unchanged "$3"
	log "$1: $err"
}

refused r_yes "REVOKED.*kh_yes:2" kh_yes
pass "@revoked key under StrictHostKeyChecking yes: refused, file:line named"
refused r_new "REVOKED.*kh_new:1" kh_new
pass "@revoked key under accept-new: refused, nothing appended"
refused r_no "REVOKED" kh_no
pass "@revoked key under StrictHostKeyChecking no: refused"
if [ "$TUNSUP_LIBSSH" = system ]; then
	refused ca_new "names a certificate authority for it: host certificates need tunsupd built with its bundled libssh.*not learned" kh_ca
else
	refused ca_new "names a certificate authority for it: the server offers no host certificate \\(sshd_config HostCertificate\\); not learned" kh_ca
fi
pass "@cert-authority only, no certificate offered, accept-new: refused, not learned"
refused ca_yes "unknown" kh_ca
pass "@cert-authority only, yes: refused as unknown"
refused r_hashed "REVOKED.*kh_hashed:2" kh_hashed
pass "@revoked with a hashed host name (ssh-keygen -H): refused"
refused r_jump "jump host $me@127.0.0.1:$JP: .*REVOKED.*kh_jump:3" kh_jump
pass "ProxyJump: a revoked jump host is refused and named"
refused r_alias "myalias.*REVOKED.*kh_alias:2" kh_alias
pass "HostKeyAlias: the alias's @revoked line applies"
refused authkeys "kh_authkeys is not a known_hosts file \\($T/kh_authkeys:1 is not a known_hosts entry\\)" kh_authkeys
pass "accept-new with an authorized_keys file as UserKnownHostsFile: refused, unchanged"
refused script "kh_script:2 is not a known_hosts entry" kh_script
pass "accept-new with a shell script as UserKnownHostsFile: refused, unchanged"

# OpenSSH agrees about the lines these tests wrote
for f in kh_yes kh_hashed; do
	if TSSH_KNOWN_HOSTS=$T/$f tssh -p "$HK" "$me@127.0.0.1" true 2>"$T/ssh.err"; then
		fail "ssh accepts the key revoked in $f"
	fi
	grep -qi revoked "$T/ssh.err" || fail "ssh refused $f for another reason: $(cat "$T/ssh.err")"
done
pass "ssh refuses the same keys as revoked"

# Without the marker lines, the same tunnels come up: the refusals were theirs.
echo "$hkline" >"$T/kh_yes"
: >"$T/kh_new"
: >"$T/kh_authkeys"
ctl restart r_yes >/dev/null
ctl restart r_new >/dev/null
ctl restart authkeys >/dev/null
wait_state r_yes up 20
wait_state r_new up 20
wait_state authkeys up 20
grep -qxF "$hkline" "$T/kh_new" || fail "accept-new did not learn into an empty file"
grep -qxF "$hkline" "$T/kh_authkeys" || fail "accept-new did not learn into an emptied file"
pass "without the markers: up; accept-new learns into a (now) known_hosts file"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
