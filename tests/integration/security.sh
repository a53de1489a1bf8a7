# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# Security posture: an identity file others can read is refused (until made
# private; identity_perms.sh has the details), no key material in the logs at
# the highest level, local listeners on loopback
# only by default, and the daemon working as an unprivileged user.
. "$TESTLIB"
tlib_init

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
L=$(free_port)
cp "$T/id_ed25519" "$T/loose_key"
chmod 0644 "$T/loose_key"
{
	conf_header
	tunnel_conf loose bridge "" "$T/loose_key"
	echo "    LocalForward $L 127.0.0.1:$ECHO"
} >"$T/t.conf"
# -v on top of lib.sh's -vv: the trace level, libssh's own log included
start_tunsupd "$T/t.conf" -v
wait_for 15 '[ "$(tfield loose failures)" -ge 1 ]'
expect_error loose "Permissions 0644 for '$T/loose_key' are too open" >/dev/null
[ "$(tfield loose connects)" = 0 ] || fail "a world-readable identity file was used"
chmod 0600 "$T/loose_key"
wait_state loose up 15
pass "a world-readable identity file is refused, used once private"

grep -q "libssh:" "$T/tunsupd.log" || fail "the log is not at the trace level"
sed -e '1d' -e '$d' "$T/id_ed25519" >"$T/key.body"
if grep -F -q -f "$T/key.body" "$T/tunsupd.log" || grep -q "PRIVATE KEY" "$T/tunsupd.log"; then
	fail "private key material in the log"
fi
pass "no private key material in the trace-level log"

# Loopback only: 127.0.0.1 (and ::1), never the wildcard.
hex=$(printf '%04X' "$L")
awk -v h="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) print a[1] }' \
    /proc/net/tcp /proc/net/tcp6 >"$T/binds"
grep -qx 0100007F "$T/binds" || fail "not listening on 127.0.0.1: $(cat "$T/binds")"
grep -Eqx '0+|00000000000000000000000000000000' "$T/binds" && fail "listening on a wildcard address"
pass "the local forward listens on loopback only"
stop_tunsupd || fail "tunsupd exit status $?"

# As an unprivileged user (nobody), with its own copies of what it reads.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/nobody"
	# its own copy of the binary too: the build tree may be closed to others
	cp "$TUNSUPD" "$T/id_ed25519" "$T/known_hosts" "$T/nobody/"
	chown -R nobody "$T/nobody"
	chmod 0711 "$T"
	chmod 0600 "$T/nobody/id_ed25519"
	{
		conf_header
		tunnel_conf asnobody bridge "" "$T/nobody/id_ed25519"
		echo "    UserKnownHostsFile $T/nobody/known_hosts"
		echo "    LocalForward $L 127.0.0.1:$ECHO"
	} >"$T/nobody/t.conf"
	chmod 0644 "$T/nobody/t.conf"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env HOME="$T/nobody" "$T/nobody/$(basename "$TUNSUPD")" -f "$T/nobody/t.conf" \
	    -S "$T/nobody/ctl.sock" -v >"$T/nobody.log" 2>&1 &
	track $!
	NPID=$!
	SOCK=$T/nobody/ctl.sock
	# tunsupctl believes only root or its own user: ask as nobody
	cp "$TUNSUPCTL" "$T/nobody/tunsupctl"
	printf '#!/bin/sh\nexec runuser -u nobody -- %s "$@"\n' "$T/nobody/tunsupctl" \
	    >"$T/nobody/ctl-as-nobody"
	chmod 0755 "$T/nobody/ctl-as-nobody" "$T/nobody/tunsupctl"
	TUNSUPCTL=$T/nobody/ctl-as-nobody
	wait_for 10 test -S "$SOCK"
	wait_state asnobody up 15
	[ "$(ps -o user= -p "$NPID")" = nobody ] || fail "not running as nobody"
	[ "$(stat -c '%U %a' "$SOCK")" = "nobody 600" ] ||
		fail "socket: $(stat -c '%U %a' "$SOCK")"
	echo_check "$L" 2 4096 || fail "echo through the unprivileged daemon"
	kill -TERM "$NPID"
	wait_pid "$NPID" 10 || fail "unprivileged tunsupd exit status"
	pass "runs as an unprivileged user (nobody): up, forwarding, socket 0600 owned by it"
fi
