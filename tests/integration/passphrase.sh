# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Keys protected by a passphrase, without an agent (IdentityPassphraseFile in
# tunsupd.conf(5)): the passphrase comes from a file only tunsupd's user may
# read, or from a systemd credential (credential:NAME under
# $CREDENTIALS_DIRECTORY); a file others can read, a wrong passphrase and a
# missing credential directory are named in last_error; a corrected file is
# read again at the next attempt; the passphrase never reaches the log.
. "$TESTLIB"
tlib_init

secret="correct horse battery $$"
ssh-keygen -q -t ed25519 -N "$secret" -C tunsup-locked -f "$T/id_locked" </dev/null
start_sshd bridge
cat "$T/id_locked.pub" >>"$T/bridge/authorized_keys"
printf '%s\n' "$secret" >"$T/pass"
chmod 0600 "$T/pass"
printf '%s\n' "$secret" >"$T/pass_open"
chmod 0644 "$T/pass_open"
printf 'not it\n' >"$T/pass_wrong"
chmod 0600 "$T/pass_wrong"
mkdir -p "$T/creds"
printf '%s' "$secret" >"$T/creds/tunsup-key"
chmod 0400 "$T/creds/tunsup-key"
{
	conf_header
	tunnel_conf file bridge "" "$T/id_locked"
	echo "    IdentityPassphraseFile $T/pass"
	tunnel_conf cred bridge "" "$T/id_locked"
	echo "    IdentityPassphraseFile credential:tunsup-key"
	tunnel_conf open bridge "" "$T/id_locked"
	echo "    IdentityPassphraseFile $T/pass_open"
	tunnel_conf wrong bridge "" "$T/id_locked"
	echo "    IdentityPassphraseFile $T/pass_wrong"
} >"$T/t.conf"
CREDENTIALS_DIRECTORY=$T/creds start_tunsupd "$T/t.conf"

wait_state file up 20
wait_state cred up 20
pass "a protected key opened with a passphrase file (0600) and with a systemd credential"

for t in open wrong; do
	wait_for 15 "[ \"\$(tfield $t failures)\" -ge 1 ]"
	[ "$(tfield $t connects)" = 0 ] || fail "$t authenticated"
done
expect_error open "identity $T/id_locked is protected by a passphrase: Permissions 0644 for passphrase file '$T/pass_open' are too open" >/dev/null
expect_error wrong "identity $T/id_locked: the passphrase in $T/pass_wrong does not open it" >/dev/null
pass "a passphrase file others can read, and a wrong passphrase: refused, named"

# Corrected in place: read again at the next attempt.
printf '%s\n' "$secret" >"$T/pass_wrong"
wait_state wrong up 20
pass "the corrected passphrase file is read again"

! grep -qF "$secret" "$T/tunsupd.log" || fail "the passphrase is in the log"
pass "the passphrase is not in the log"
stop_tunsupd || fail "tunsupd exit status $?"

# Without systemd's credentials directory: said so.
{
	conf_header
	tunnel_conf cred bridge "" "$T/id_locked"
	echo "    IdentityPassphraseFile credential:tunsup-key"
} >"$T/c.conf"
(unset CREDENTIALS_DIRECTORY; start_tunsupd "$T/c.conf"
 wait_for 15 '[ "$(tfield cred failures)" -ge 1 ]'
 expect_error cred "no systemd credentials for credential:tunsup-key \(CREDENTIALS_DIRECTORY is not set: give the unit LoadCredential=tunsup-key:FILE\)" >/dev/null
 stop_tunsupd) || fail "the credential test failed"
pass "credential:NAME without CREDENTIALS_DIRECTORY: named"
