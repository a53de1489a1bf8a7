# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# runtime_state: what `tunsupctl add` and `remove` change survives `reload` and a
# daemon restart, kept in the state file (tunsupd.conf(5), STATE FILE), until it
# is undone; the file is written whole, mode 0600, and never through a symlink;
# tunsupd -T shows what it holds; a state file that cannot be trusted is refused.
set -eu
. "$TESTLIB"
tlib_init

start_sshd br
ME=$(id -un)
STATE=$T/state/runtime.conf	# $STATE_DIRECTORY/runtime.conf (lib.sh)
P_WEB=$(free_port)
P_RT=$(free_port)

write_conf() {
	{
		conf_header
		tunnel_conf web br
		echo "    LocalForward 127.0.0.1:$P_WEB 127.0.0.1:$SSHD_PORT_BR"
		tunnel_conf cfgrm br
		echo "    Enabled no"
		[ -z "${1:-}" ] || echo "    $1"
	} >"$T/tunsupd.conf"
}

# names: the tunnel names of the running daemon, sorted, on one line.
names() { ctl --json status | python3 -c '
import json, sys
print(" ".join(sorted(t["name"] for t in json.load(sys.stdin)["tunnels"])))'; }

expect_names() {
	local got
	got=$(names)
	[ "$got" = "$1" ] || fail "$2: tunnels are '$got', not '$1'"
}

write_conf
start_tunsupd "$T/tunsupd.conf"
wait_state web up 20

add_and_remove() {
	[ ! -e "$STATE" ] || fail "a state file before any change"
	expect_rc 0 ctl add rt ssh -N -L "127.0.0.1:$P_RT:127.0.0.1:$SSHD_PORT_BR" \
	    -i "$T/id_ed25519" -o "IdentityAgent none" \
	    -o "UserKnownHostsFile $T/known_hosts" -p "$SSHD_PORT_BR" "$ME@127.0.0.1"
	expect_rc 0 ctl remove cfgrm
	wait_state rt up 20
	[ -f "$STATE" ] || fail "no state file at $STATE"
	[ "$(stat -c %a "$STATE")" = 600 ] || fail "state file mode $(stat -c %a "$STATE")"
	[ "$(stat -c %a "$T/state")" = 700 ] || fail "state directory mode $(stat -c %a "$T/state")"
	grep -qx "Tunnel rt" "$STATE" && grep -q "^Removed cfgrm [0-9a-f]\{16\}$" "$STATE" ||
	    fail "state file: $(cat "$STATE")"
	ls "$T/state" | grep -vqx runtime.conf && fail "leftovers: $(ls "$T/state")"
	"$TUNSUPD" -T -f "$T/tunsupd.conf" >"$T/dump"
	grep -B1 -x "tunnel rt" "$T/dump" | grep -qx "# added at runtime, kept in $STATE" ||
	    fail "-T does not show rt: $(cat "$T/dump")"
	grep -qx "# tunnel cfgrm: removed at runtime, kept in $STATE" "$T/dump" &&
	    ! grep -qx "tunnel cfgrm" "$T/dump" || fail "-T shows cfgrm: $(cat "$T/dump")"
	pass "add and remove are written to the state file (0600, in a 0700 directory); tunsupd -T shows them"

	expect_rc 0 ctl reload
	grep -q "^removed: -$" "$T/out" && grep -q "^added: -$" "$T/out" || fail "reload: $(cat "$T/out")"
	expect_names "rt web" "after reload"
	wait_state rt up 20
	pass "reload keeps the runtime tunnel and the removal"

	stop_tunsupd
	start_tunsupd "$T/tunsupd.conf"
	expect_names "rt web" "after a restart"
	wait_state rt up 20
	wait_for 10 "port_listening $P_RT"
	pass "a restart brings the runtime tunnel back up and keeps the removed one out"

	expect_rc 0 ctl remove rt
	! grep -q "rt" "$STATE" || fail "rt still in the state file: $(cat "$STATE")"
	expect_rc 0 ctl reload
	expect_names "web" "after removing rt and a reload"
	stop_tunsupd
	start_tunsupd "$T/tunsupd.conf"
	expect_names "web" "after removing rt and a restart"
	pass "removing a runtime tunnel takes it out of the state: gone after reload and restart"

	# The removed tunnel's block changes: the user wants it again.
	write_conf "ConnectTimeout 5"
	expect_rc 0 ctl reload
	grep -q "^added: cfgrm$" "$T/out" || fail "reload after the change: $(cat "$T/out")"
	expect_names "cfgrm web" "after changing cfgrm's block"
	# The stale record goes with the next write.
	expect_rc 0 ctl remove cfgrm
	[ "$(grep -c "^Removed cfgrm" "$STATE")" = 1 ] || fail "state: $(cat "$STATE")"
	write_conf
	expect_rc 0 ctl reload
	expect_names "cfgrm web" "after changing it back"
	pass "a removed configuration tunnel comes back when its block in the file changes"
}

# Never through what is not ours: a symlink in its place is refused, the
# target untouched, nothing added.
not_ours() {
	echo "precious" >"$T/target"
	mv "$STATE" "$T/state.saved"
	ln -s "$T/target" "$STATE"
	expect_rc 1 ctl add sym ssh -N -p "$SSHD_PORT_BR" 127.0.0.1
	grep -qx "tunsupctl: not added: cannot keep it in the state file: $STATE: not a regular file: not replacing it" \
	    "$T/err" || fail "symlink: $(cat "$T/err")"
	[ "$(cat "$T/target")" = precious ] && [ -L "$STATE" ] || fail "the symlink or its target changed"
	expect_rc 1 ctl status sym
	expect_rc 0 ctl stop web
	expect_rc 1 ctl remove web
	grep -q "not removed: cannot keep it in the state file" "$T/err" || fail "remove: $(cat "$T/err")"
	expect_rc 0 ctl status web
	stop_tunsupd
	expect_rc 1 "$TUNSUPD" -t -f "$T/tunsupd.conf"
	grep -qx "$STATE: not a regular file: a state file is only ever one" "$T/err" ||
	    fail "-t with a symlink: $(cat "$T/err")"
	rm "$STATE"
	mv "$T/state.saved" "$STATE"
	chmod 620 "$STATE"
	expect_rc 1 "$TUNSUPD" -t -f "$T/tunsupd.conf"
	grep -qx "$STATE: writable by group or others" "$T/err" || fail "-t mode: $(cat "$T/err")"
	chmod 600 "$STATE"
	echo "Bogus line" >>"$STATE"
	expect_rc 1 "$TUNSUPD" -t -f "$T/tunsupd.conf"
	grep -q "^$STATE:[0-9]*: expected Tunnel, Removed, Forward or Cancelled$" "$T/err" || fail "-t bad record: $(cat "$T/err")"
	sed -i '/^Bogus line$/d' "$STATE"
	expect_rc 0 "$TUNSUPD" -t -f "$T/tunsupd.conf"
	pass "a symlink or a file others may write is refused, and nothing is added or removed"
}

# StateFile names another file; its blocks are read as the file's are.
state_file_keyword() {
	mkdir -m 700 "$T/other"
	cat >"$T/other/kept.conf" <<EOF
Tunnel hand
    HostName 127.0.0.1
    Port $SSHD_PORT_BR
    ServerAliveInterval 7
EOF
	chmod 600 "$T/other/kept.conf"
	{ echo "StateFile $T/other/kept.conf"; cat "$T/tunsupd.conf"; } >"$T/sf.conf"
	expect_rc 0 "$TUNSUPD" -T -f "$T/sf.conf"
	awk '/^tunnel hand$/ { t = 1 } t' "$T/out" | grep -qx "serveraliveinterval 7" ||
	    fail "StateFile: $(cat "$T/out")"
	# The configuration's defaults apply to it as to an added tunnel.
	awk '/^tunnel hand$/ { t = 1 } t' "$T/out" | grep -qx "retrymax 2" ||
	    fail "StateFile defaults: $(cat "$T/out")"
	echo "    ServerAliveInterval never" >>"$T/other/kept.conf"
	expect_rc 1 "$TUNSUPD" -t -f "$T/sf.conf"
	grep -q "^$T/other/kept.conf:5: ServerAliveInterval: " "$T/err" ||
	    fail "an error in the state file: $(cat "$T/err")"
	{ echo "StateFile none"; cat "$T/tunsupd.conf"; } >"$T/none.conf"
	start_tunsupd "$T/none.conf"
	expect_rc 0 ctl add nowhere ssh -N -p "$SSHD_PORT_BR" 127.0.0.1
	[ "$(cat "$STATE")" = "$(cat "$T/state.before")" ] || fail "StateFile none wrote $STATE"
	stop_tunsupd
	pass "StateFile names the state file; StateFile none keeps nothing"
}

add_and_remove
not_ours
cp "$STATE" "$T/state.before"
state_file_keyword
