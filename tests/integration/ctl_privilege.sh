# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# ctl_privilege: who may do what on the control socket, with real second users
# (tunsupd(8), CONTROL SOCKET). A ControlGroup member may look, start, stop,
# restart and check-now, and nothing that names a path, a key or an address; tunsupctl talks
# only to a daemon run by root or by its own user; the socket never lives in a
# directory that someone else can write to.
. "$TESTLIB"
tlib_init
[ "$(id -u)" = 0 ] || skip "needs root to act as other users"
need_tool runuser setpriv
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 not installed"

OP=nobody			# a ControlGroup member through its primary group
OPGROUP=$(id -gn nobody)
ALICE=54321			# users without a passwd entry (setpriv takes numbers)
MALLORY=54322

start_sshd bridge
ECHO=$(free_port)
start_echo "$ECHO"
L=$(free_port)

# Everything the other users run or read, reachable by them.
mkdir "$T/bin"
cp "$TUNSUPD" "$TUNSUPCTL" "$T/bin/"
chmod 0755 "$T/bin" "$T/bin/"*
chmod 0711 "$T"
{
	conf_header
	echo "ControlGroup $OPGROUP"
	tunnel_conf a bridge
	echo "    LocalForward $L 127.0.0.1:$ECHO"
} >"$T/t.conf"
start_tunsupd "$T/t.conf"
wait_state a up 15

# op ARGS...: tunsupctl as the ControlGroup member.
op() { runuser -u "$OP" -- "$T/bin/tunsupctl" -S "$SOCK" "$@"; }

# ---- what an operator may do ------------------------------------------------
op status >"$T/op.out" 2>&1 || { cat "$T/op.out"; fail "status as a ControlGroup member"; }
grep -q '^a ' "$T/op.out" || fail "tunnel a not in the operator's status: $(cat "$T/op.out")"
op stop a || fail "stop as a ControlGroup member"
wait_state a stopped 5
op start a || fail "start as a ControlGroup member"
wait_state a up 15
op restart a || fail "restart as a ControlGroup member"
wait_state a up 15
op check-now a >"$T/op.out" 2>&1 || { cat "$T/op.out"; fail "check-now as a ControlGroup member"; }
grep -qx "a: checking the session" "$T/op.out" || fail "check-now as an operator said: $(cat "$T/op.out")"
pass "a ControlGroup member may look, stop, start, restart and check-now"

# ---- what it may not: the ways to root the issue found ----------------------
# refused ARGS...: as the operator, exit 1 with the permission error.
refused() {
	local rc=0
	op "$@" >"$T/op.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$T/op.out"; fail "tunsupctl $1 as a member: exit $rc, want 1"; }
	grep -q "permission denied: $1 is for root and the daemon's user only" "$T/op.out" ||
		fail "tunsupctl $1 as a member: $(cat "$T/op.out")"
}
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/victim"
cp "$T/victim" "$T/victim.orig"
# a socket in place of any file, through StreamLocalBindUnlink
refused add evil -L "$T/victim:127.0.0.1:$ECHO" -o StreamLocalBindUnlink=yes \
    -p "$(sshd_port bridge)" 127.0.0.1
# a line of the member's choosing appended to any file, through accept-new
refused add evil2 -o "UserKnownHostsFile=$T/victim" -o StrictHostKeyChecking=accept-new \
    -o HostKeyAlias=evil -p "$(sshd_port bridge)" 127.0.0.1
# a key, an agent, an ssh_config of the member's choosing; a wildcard bind
refused add evil3 -i /root/.ssh/id_ed25519 -o IdentityAgent=/tmp/agent \
    -L "0.0.0.0:$(free_port):127.0.0.1:$ECHO" -p "$(sshd_port bridge)" 127.0.0.1
refused remove a
refused reload
# a forward into any file's place, or away from its owner's tunnel
refused forward a -L "$T/victim:127.0.0.1:$ECHO"
refused cancel a -L "$L:127.0.0.1:$ECHO"
cmp -s "$T/victim" "$T/victim.orig" || fail "the victim file was changed"
[ -f "$T/victim" ] && [ ! -S "$T/victim" ] || fail "the victim file was replaced"
[ "$(ctl --json status | jget tunnels | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "the set of tunnels changed"
state_is a up || fail "tunnel a disturbed by the refused requests"
grep -q "control: add refused to uid $(id -u "$OP")" "$T/tunsupd.log" ||
	fail "the refusal is not logged with the uid"
port_listening "$L" || fail "the refused cancel closed the forward"
pass "a ControlGroup member may not add, remove, reload, forward or cancel; the victim file is intact"

# the owner (root) may
ctl add b -L "$(free_port):127.0.0.1:$ECHO" -p "$(sshd_port bridge)" \
    -o "UserKnownHostsFile=$T/known_hosts" -i "$T/id_ed25519" -o IdentityAgent=none \
    "$(id -un)@127.0.0.1" || fail "add as root"
wait_state b up 15
pass "root may add"
stop_tunsupd || fail "tunsupd exit status $?"

# ---- tunsupctl believes only root or itself ---------------------------------
# squatter PATH OUT: a fake daemon as MALLORY on PATH that answers "all up" at
# once and writes every byte it receives to OUT.
squatter() {
	# /usr/bin/python3: the one on PATH may sit in a home MALLORY cannot read
	setpriv --reuid="$MALLORY" --regid="$MALLORY" --clear-groups /usr/bin/python3 - "$1" "$2" <<'PY' &
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(16)
fake = b'{"ok":true,"version":"0.1.0","protocol":1,"pid":1,"uptime_s":1,"tunnels":[]}\n'
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        c.sendall(fake)
        while True:
            b = c.recv(4096)
            if not b:
                break
            with open(out, "ab") as f:
                f.write(b)
    except OSError:
        pass
    c.close()
PY
	track $!
	SQUATTER_PID=$!
	wait_for 5 test -S "$1"
}

mkdir "$T/mallory" && chown "$MALLORY" "$T/mallory" && chmod 0755 "$T/mallory"
: >"$T/heard" && chmod 0666 "$T/heard"
squatter "$T/mallory/ctl.sock" "$T/heard"
for who in root "$OP"; do
	for cmd in status check; do
		rc=0
		runuser -u "$who" -- "$T/bin/tunsupctl" -S "$T/mallory/ctl.sock" "$cmd" \
		    >"$T/ctl.out" 2>&1 || rc=$?
		[ "$rc" = 3 ] || { cat "$T/ctl.out"; fail "$cmd as $who believed uid $MALLORY (exit $rc)"; }
		grep -q "is served by uid $MALLORY, neither root, nor you" "$T/ctl.out" ||
			fail "$cmd as $who: $(cat "$T/ctl.out")"
	done
done
[ ! -s "$T/heard" ] || fail "the fake daemon heard: $(head -c 200 "$T/heard")"
kill_pid "$SQUATTER_PID" 3
pass "tunsupctl refuses a daemon of another user before sending anything (status, check)"

# ---- the socket's directory ---------------------------------------------------
: >"$T/empty.conf"
chmod 0644 "$T/empty.conf"
for mode in 1777 0777 0770; do
	mkdir -p "$T/pub"
	chmod "$mode" "$T/pub"
	rc=0
	timeout 10 "$TUNSUPD" -f "$T/empty.conf" -S "$T/pub/ctl.sock" >"$T/pub.err" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$T/pub.err"; fail "socket in a mode $mode directory: exit $rc"; }
	grep -q "directory $T/pub is writable by other users (mode $mode)" "$T/pub.err" ||
		fail "mode $mode: $(cat "$T/pub.err")"
	[ ! -e "$T/pub/ctl.sock" ] || fail "a socket was made in a mode $mode directory"
done
pass "no control socket in a directory others can write to (1777, 0777, 0770)"

# Without XDG_RUNTIME_DIR a user's default is /tmp/tunsupd-UID/tunsupd.sock,
# in a directory the daemon makes for itself (its state file would be
# /.local/state/tunsupd/runtime.conf: none yet, none written).
DEFDIR=/tmp/tunsupd-$ALICE
rm -rf "$DEFDIR"
as_alice() {
	setpriv --reuid="$ALICE" --regid="$ALICE" --clear-groups \
	    env -u XDG_RUNTIME_DIR -u STATE_DIRECTORY HOME=/ "$@"
}
as_alice "$T/bin/tunsupd" -f "$T/empty.conf" >"$T/alice.log" 2>&1 &
ALICE_PID=$!
track "$ALICE_PID"
wait_for 10 test -S "$DEFDIR/tunsupd.sock"
[ "$(stat -c '%u %a' "$DEFDIR")" = "$ALICE 700" ] ||
	fail "default directory: $(stat -c '%u %a' "$DEFDIR")"
as_alice "$T/bin/tunsupctl" status >"$T/ctl.out" 2>&1 ||
	{ cat "$T/ctl.out"; fail "tunsupctl does not find the daemon at the default path"; }
kill_pid "$ALICE_PID" 5
[ ! -e "$DEFDIR/tunsupd.sock" ] || fail "socket left behind"
rm -rf "$DEFDIR"
pass "without XDG_RUNTIME_DIR: $DEFDIR/tunsupd.sock, directory made 0700"

# Somebody else took the directory first: the daemon refuses to start there,
# and tunsupctl refuses the squatter.
mkdir "$DEFDIR" && chown "$MALLORY" "$DEFDIR" && chmod 0755 "$DEFDIR"
: >"$T/heard"
squatter "$DEFDIR/tunsupd.sock" "$T/heard"
rc=0
as_alice timeout 10 "$T/bin/tunsupd" -f "$T/empty.conf" >"$T/alice.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$T/alice.log"; fail "daemon in a squatted directory: exit $rc"; }
grep -q "directory $DEFDIR is owned by uid $MALLORY, not by root or us" "$T/alice.log" ||
	fail "squatted directory: $(cat "$T/alice.log")"
rc=0
as_alice "$T/bin/tunsupctl" check >"$T/ctl.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || { cat "$T/ctl.out"; fail "tunsupctl check believed the squatter (exit $rc)"; }
[ ! -s "$T/heard" ] || fail "the squatter heard: $(head -c 200 "$T/heard")"
kill_pid "$SQUATTER_PID" 3
rm -rf "$DEFDIR"
pass "a squatted default directory: the daemon refuses it, tunsupctl believes nothing"
