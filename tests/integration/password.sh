# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Password and keyboard-interactive authentication from a file only tunsupd's
# user may read, or a systemd credential (PasswordFile in tunsupd.conf(5)),
# for servers that take nothing else: tried after the keys, in ssh's order.
# The servers run in a mount namespace of the test's own, where /etc/shadow
# is a copy with a known password for the test's user; one checks it itself
# (password), one through PAM (keyboard-interactive). A wrong password, a
# file others can read and a server that takes no password are named in
# last_error; the password never reaches the log.
. "$TESTLIB"
tlib_init
[ "$(id -u)" = 0 ] || fail "needs root (a mount namespace for /etc/shadow)"

me=$(id -un)
secret="sesame $$ open"
hash=$(openssl passwd -6 "$secret")
awk -F: -v OFS=: -v u="$me" -v h="$hash" '$1 == u { $2 = h } { print }' \
    /etc/shadow >"$T/shadow"
chmod 0600 "$T/shadow"
grep -q "^$me:\\\$6\\\$" "$T/shadow" || fail "no shadow line for $me"
# sshd in a mount namespace of its own, seeing our /etc/shadow
cat >"$T/sshd-ns" <<SH
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind "\$0" /etc/shadow && exec /usr/sbin/sshd "\$@"' "$T/shadow" "\$@"
SH
chmod 0755 "$T/sshd-ns"

SSHD=$T/sshd-ns start_sshd pw "PasswordAuthentication yes" "PermitRootLogin yes" "UsePAM no"
SSHD=$T/sshd-ns start_sshd kbd "KbdInteractiveAuthentication yes" "PermitRootLogin yes" "UsePAM yes"
start_sshd keys
unauthorize pw
unauthorize kbd
printf '%s\n' "$secret" >"$T/pw.secret"
chmod 0600 "$T/pw.secret"
printf 'not it\n' >"$T/pw_wrong"
chmod 0600 "$T/pw_wrong"
cp "$T/pw.secret" "$T/pw_open"
chmod 0644 "$T/pw_open"
mkdir -p "$T/creds"
printf '%s' "$secret" >"$T/creds/bridge-pw"
chmod 0400 "$T/creds/bridge-pw"
{
	conf_header
	tunnel_conf password pw
	echo "    PasswordFile $T/pw.secret"
	tunnel_conf kbdint kbd
	echo "    PasswordFile credential:bridge-pw"
	tunnel_conf wrong pw
	echo "    PasswordFile $T/pw_wrong"
	tunnel_conf open pw
	echo "    PasswordFile $T/pw_open"
	tunnel_conf nopw keys
	echo "    PasswordFile $T/pw.secret"
} >"$T/t.conf"
# the test key is known to none of them: tried, refused, then the password
unauthorize keys
CREDENTIALS_DIRECTORY=$T/creds start_tunsupd "$T/t.conf"

wait_state password up 20
wait_state kbdint up 20
grep -q "Accepted password for $me " "$T/pw/sshd.log" || fail "sshd pw saw no password login"
grep -q "Accepted keyboard-interactive/pam for $me " "$T/kbd/sshd.log" ||
	fail "sshd kbd saw no keyboard-interactive login"
pass "password (sshd's own check) and keyboard-interactive (PAM) from a file and a systemd credential"

for t in wrong open nopw; do
	wait_for 20 "[ \"\$(tfield $t failures)\" -ge 1 ]"
	[ "$(tfield $t connects)" = 0 ] || fail "$t authenticated"
done
expect_error wrong "^authentication failed for user $me: no key or password was accepted \(tried: id_ed25519, password\)" >/dev/null
expect_error open "Permissions 0644 for password file '$T/pw_open' are too open" >/dev/null
expect_error nopw "the server takes no password \(neither keyboard-interactive nor password\)" >/dev/null
pass "a wrong password, a password file others can read, a server without passwords: named"

! grep -qF "$secret" "$T/tunsupd.log" || fail "the password is in the log"
! grep -qF "not it" "$T/tunsupd.log" || fail "the wrong password is in the log"
pass "no password in the log"
stop_tunsupd || fail "tunsupd exit status $?"
