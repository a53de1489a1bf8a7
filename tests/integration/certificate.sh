# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# OpenSSH user certificates (CertificateFile in tunsupd.conf(5)): a server
# that trusts only a certificate authority (TrustedUserCAKeys, no
# authorized_keys) lets in a tunnel whose key has its certificate beside it
# (KEY-cert.pub, found as ssh finds it) or named by CertificateFile, also
# through a ProxyJump hop; a certificate for another principal is offered,
# refused, and named in last_error with the key tried after it; a
# CertificateFile that is missing is named too.
. "$TESTLIB"
tlib_init

me=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C tunsup-ca -f "$T/ca" </dev/null
start_sshd bridge "TrustedUserCAKeys $T/ca.pub"
start_sshd hop "TrustedUserCAKeys $T/ca.pub"
unauthorize bridge
unauthorize hop
BP=$(sshd_port bridge)
HP=$(sshd_port hop)

# beside: KEY-cert.pub next to the key
gen_key "$T/id_beside"
ssh-keygen -q -s "$T/ca" -I beside -n "$me" -V -5m:+1h "$T/id_beside.pub"
# named: the certificate elsewhere, given by CertificateFile
gen_key "$T/id_named"
mkdir -p "$T/certs"
ssh-keygen -q -s "$T/ca" -I named -n "$me" -V -5m:+1h "$T/id_named.pub"
mv "$T/id_named-cert.pub" "$T/certs/named.pub"
# wrong: a certificate for somebody else
gen_key "$T/id_wrong"
ssh-keygen -q -s "$T/ca" -I wrong -n not-"$me" -V -5m:+1h "$T/id_wrong.pub"

{
	conf_header
	tunnel_conf beside bridge "" "$T/id_beside"
	tunnel_conf named bridge "" "$T/id_named"
	echo "    CertificateFile $T/certs/missing.pub"
	echo "    CertificateFile $T/certs/named.pub"
	tunnel_conf jumped bridge "" "$T/id_beside"
	echo "    ProxyJump $me@127.0.0.1:$HP"
	tunnel_conf wrong bridge "" "$T/id_wrong"
} >"$T/t.conf"
"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" || fail "tunsupd -T"
grep -qx "certificatefile $T/certs/named.pub" "$T/dump" || fail "-T lacks the CertificateFile"
start_tunsupd "$T/t.conf"

wait_state beside up 20
wait_state named up 20
wait_state jumped up 20
grep -q "Accepted publickey for $me .*ED25519-CERT.*ID beside" "$T/bridge/sshd.log" ||
	fail "the bridge did not see the certificate beside the key"
grep -q "Accepted publickey for $me .*ED25519-CERT.*ID named" "$T/bridge/sshd.log" ||
	fail "the bridge did not see the named certificate"
grep -q "Accepted publickey for $me .*ED25519-CERT.*ID beside" "$T/hop/sshd.log" ||
	fail "the jump host did not see the certificate"
pass "certificates only (TrustedUserCAKeys): KEY-cert.pub, CertificateFile, and through a ProxyJump hop"

wait_for 15 '[ "$(tfield wrong failures)" -ge 1 ]'
expect_error wrong "no key was accepted \(tried: id_wrong-cert.pub, id_wrong\)" >/dev/null
pass "a certificate for another principal: offered, refused, named ($(tfield wrong last_error))"

# The missing CertificateFile did not stop the named one; once the server
# stops trusting the CA, last_error names it.
[ "$(tfield named last_error)" = null ] || fail "named: $(tfield named last_error)"
: >"$T/ca.pub"
c0=$(tfield named failures)
ctl restart named >/dev/null
wait_for 15 "[ \"\$(tfield named failures)\" -gt $c0 ]"
expect_error named "tried: named.pub, id_named\); cannot read certificate $T/certs/missing.pub: No such file or directory" >/dev/null
pass "a missing CertificateFile is named in last_error"
stop_tunsupd || fail "tunsupd exit status $?"
