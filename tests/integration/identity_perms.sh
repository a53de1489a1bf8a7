# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Identity files others can read are refused, with ssh's words (tunsupd.conf(5),
# IdentityFile): a key of ours with any group or other bit, or any key readable by
# everyone, never authenticates, and last_error and the log say why. Made private
# again (a chmod changes no mtime), the same key is used at the next attempt.
# A missing identity, one protected by a passphrase and a file that is not a key
# are named in last_error with the file and the reason, and in the log with the
# tunnel's name.
. "$TESTLIB"
set -eu -o pipefail
tlib_init

start_sshd srv
cp "$T/id_ed25519" "$T/id_open"
chmod 0644 "$T/id_open"
# another's key, readable by the group only: ssh would use it, so do we (as
# root; otherwise one of ours at 0600 stands in)
cp "$T/id_ed25519" "$T/id_theirs"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$T/id_theirs"
	chmod 0640 "$T/id_theirs"
else
	chmod 0600 "$T/id_theirs"
fi
ssh-keygen -q -t ed25519 -N 'a passphrase' -f "$T/id_locked" </dev/null
cat "$T/id_locked.pub" >>"$T/srv/authorized_keys"
echo "not a key" >"$T/id_text"
chmod 0600 "$T/id_text"
{
	conf_header
	tunnel_conf open srv "" "$T/id_open"
	tunnel_conf theirs srv "" "$T/id_theirs"
	tunnel_conf missing srv "" "$T/id_missing"
	tunnel_conf locked srv "" "$T/id_locked"
	tunnel_conf text srv "" "$T/id_text"
	# a key that loads first: the skipped one follows what was tried
	tunnel_conf two srv "" "$T/id_text"
	echo "    IdentityFile $T/id_open_other"
} >"$T/tunsupd.conf"
gen_key "$T/id_open_other"
start_tunsupd "$T/tunsupd.conf"

reason="Permissions 0644 for '$T/id_open' are too open. It is required that your private key files are NOT accessible by others. This private key will be ignored."
wait_for 15 '[ "$(tfield open failures)" -ge 2 ]'
[ "$(tfield open connects)" = 0 ] || fail "a world-readable key authenticated"
err=$(expect_error open "no identity to offer for user $(id -un): ")
case $err in
*"$reason"*) ;;
*) fail "last_error lacks ssh's reason: $err" ;;
esac
grep -qF "tunnel open: $reason" "$T/tunsupd.log" || fail "the log line does not name the tunnel"
pass "0644 key: refused, last_error '$err'"

for t in missing locked text two; do
	wait_for 15 "[ \"\$(tfield $t failures)\" -ge 1 ]"
	[ "$(tfield $t connects)" = 0 ] || fail "$t authenticated"
done
expect_error missing "no identity to offer for user $(id -un): cannot read identity $T/id_missing: No such file or directory" >/dev/null
expect_error locked "no identity to offer for user $(id -un): identity $T/id_locked is protected by a passphrase, which tunsupd does not ask for: load it into an agent \(IdentityAgent\)" >/dev/null
expect_error text "no identity to offer for user $(id -un): cannot load identity $T/id_text: not a private key tunsupd can read" >/dev/null
expect_error two "no key was accepted \(tried: id_open_other\); cannot load identity $T/id_text" >/dev/null
grep -qF "tunnel locked: identity $T/id_locked is protected by a passphrase" "$T/tunsupd.log" ||
	fail "the log line does not name the tunnel"
pass "missing, passphrase-protected and non-key identities: named in last_error with the file and why"

wait_state theirs up 20
pass "a key owned by $(stat -c '%U, mode %a' "$T/id_theirs"): used (as ssh)"

# 0640, ours: still refused (group bits on our own key)
chmod 0640 "$T/id_open"
f0=$(tfield open failures)
wait_for 15 "[ \"\$(tfield open failures)\" -gt $f0 ]"
expect_error open "Permissions 0640 for '$T/id_open' are too open" >/dev/null
[ "$(tfield open connects)" = 0 ] || fail "a group-readable own key authenticated"
pass "0640 own key: refused"

# private again: the cache notices a change of mode alone
chmod 0600 "$T/id_open"
wait_state open up 15
pass "chmod 0600: the same key is used again"

# and open again: the next session refuses it
chmod 0604 "$T/id_open"
f0=$(tfield open failures)
ctl restart open >/dev/null
wait_for 15 "[ \"\$(tfield open failures)\" -gt $f0 ]"
[ "$(tstate open)" != up ] || fail "up with a 0604 key"
expect_error open "Permissions 0604 .* are too open" >/dev/null
pass "0604 after a restart: refused again (the cached key is not reused)"
stop_tunsupd || fail "tunsupd exited with status $? on SIGTERM"
pass "clean shutdown"
