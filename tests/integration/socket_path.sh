#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# socket_path.sh: one socket path (tunsupd(8), FILES; tunsupctl(1), -S).
# Root's tunsupd and tunsupctl default to /run/tunsupd/tunsupd.sock; the
# daemon makes /run/tunsupd (0755, 0750 with ControlGroup's group) and
# never changes one it did not make; TUNSUP_SOCKET points tunsupctl
# elsewhere; a ControlGroup member without a daemon of its own reaches the
# system one without -S; tunsupctl believes a daemon run by the owner of
# /run/tunsupd (a dedicated user), and nobody else there.
# Runs in a private mount namespace with a tmpfs on /run: the real /run is
# never touched. Needs root and unshare; no sshd.
if [ -z "${TUNSUP_PRIVATE_RUN:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare not installed" >&2; exit 77; }
	exec unshare -m --propagation private env TUNSUP_PRIVATE_RUN=1 bash "$0" "$@"
fi
. "$TESTLIB"
mount -t tmpfs -o mode=0755 tunsup-run /run || fail "cannot mount a tmpfs on /run"
tlib_init
need_tool runuser setpriv
unset TUNSUP_SOCKET XDG_RUNTIME_DIR

SYS=/run/tunsupd/tunsupd.sock
OP=nobody
OPGROUP=$(id -gn nobody)
DED=54321			# a dedicated user, as sysusers.d would make
mkdir "$T/bin"
cp "$TUNSUPD" "$TUNSUPCTL" "$T/bin/"
chmod 0755 "$T/bin" "$T/bin/"*
chmod 0711 "$T"
conf_header >"$T/plain.conf"
{ conf_header; echo "ControlGroup $OPGROUP"; } >"$T/group.conf"
chmod 0644 "$T/plain.conf" "$T/group.conf"

# start_default CONF [AS...]: tunsupd without -S (AS: a command to run it
# through, e.g. setpriv, and then with -S $SYS), awaited on the system
# path; SYSPID is its pid.
start_default() {
	local conf=$1
	shift
	"$@" "$T/bin/tunsupd" -f "$conf" -vv ${1:+-S "$SYS"} </dev/null >>"$T/tunsupd.log" 2>&1 &
	SYSPID=$!
	track "$SYSPID"
	wait_for 10 "$T/bin/tunsupctl" -S "$SYS" status ||
		{ cat "$T/tunsupd.log" >&2; fail "no daemon answers on $SYS"; }
}
stop_default() {
	kill_pid "$SYSPID" 10
	untrack "$SYSPID"
}
# pid_of [tunsupctl ARGS...]: the pid of the daemon tunsupctl reaches.
pid_of() { "$@" --json status | jget pid; }
mode_of() { stat -c '%a %U %G' "$1"; }

# ---- root: the default path, the directory made --------------------------
start_default "$T/plain.conf"
[ -S "$SYS" ] || fail "no socket at $SYS"
[ "$(mode_of /run/tunsupd)" = "755 root root" ] ||
	fail "/run/tunsupd is $(mode_of /run/tunsupd), want 755 root root"
[ "$(pid_of "$T/bin/tunsupctl")" = "$SYSPID" ] || fail "tunsupctl without -S did not reach $SYS"
pass "root's tunsupd makes /run/tunsupd (0755) and listens on $SYS; tunsupctl finds it without -S"

# ---- TUNSUP_SOCKET ------------------------------------------------------
start_tunsupd "$T/plain.conf"
[ "$(TUNSUP_SOCKET=$SOCK pid_of "$T/bin/tunsupctl")" = "$TUNSUPD_PID" ] ||
	fail "TUNSUP_SOCKET=$SOCK did not lead tunsupctl there"
[ "$(TUNSUP_SOCKET=$SOCK pid_of "$T/bin/tunsupctl" -S "$SYS")" = "$SYSPID" ] ||
	fail "-S does not win over TUNSUP_SOCKET"
stop_tunsupd || fail "tunsupd exit status $?"
pass "TUNSUP_SOCKET leads tunsupctl elsewhere; -S wins over it"
stop_default
[ ! -e "$SYS" ] || fail "the socket is left after the daemon stopped"

# ---- ControlGroup: 0750 with its group; a member needs no -S ----------
rmdir /run/tunsupd
start_default "$T/group.conf"
[ "$(mode_of /run/tunsupd)" = "750 root $OPGROUP" ] ||
	fail "/run/tunsupd is $(mode_of /run/tunsupd), want 750 root $OPGROUP"
got=$(runuser -u "$OP" -- env -u XDG_RUNTIME_DIR "$T/bin/tunsupctl" --json status | jget pid) ||
	fail "a ControlGroup member without a daemon of its own does not reach $SYS"
[ "$got" = "$SYSPID" ] || fail "the member reached pid $got, not $SYSPID"
pass "with ControlGroup /run/tunsupd is 0750 $OPGROUP; a member reaches the system daemon without -S"
stop_default

# ---- a directory the daemon did not make is left as it is -------------
rmdir /run/tunsupd
mkdir -m 0711 /run/tunsupd
start_default "$T/group.conf"
[ "$(mode_of /run/tunsupd)" = "711 root root" ] ||
	fail "tunsupd changed the existing /run/tunsupd: $(mode_of /run/tunsupd)"
stop_default
chown "$DED" /run/tunsupd
chmod 0700 /run/tunsupd
rc=0
timeout 10 "$T/bin/tunsupd" -f "$T/group.conf" >"$T/refused.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "tunsupd used /run/tunsupd owned by uid $DED (exit $rc)"
grep -q "owned by uid $DED" "$T/refused.log" || fail "the refusal says: $(cat "$T/refused.log")"
[ "$(stat -c '%a %u' /run/tunsupd)" = "700 $DED" ] ||
	fail "tunsupd changed uid $DED's /run/tunsupd: $(stat -c '%a %u' /run/tunsupd)"
pass "an existing /run/tunsupd is never chmod'ed or chown'ed; someone else's is refused"

# ---- a dedicated user's daemon --------------------------------------------
# /run/tunsupd as systemd's RuntimeDirectory= makes it for User=
chmod 0755 /run/tunsupd
mkdir -m 0700 "$T/ded" && chown "$DED" "$T/ded"
start_default "$T/plain.conf" setpriv --reuid="$DED" --regid="$DED" --clear-groups \
    env HOME="$T/ded" STATE_DIRECTORY="$T/ded"
got=$(pid_of "$T/bin/tunsupctl") || fail "root's tunsupctl does not believe the owner of /run/tunsupd"
[ "$got" = "$SYSPID" ] || fail "reached pid $got, not $SYSPID"
pass "tunsupctl believes the daemon of /run/tunsupd's owner (uid $DED)"
stop_default
# the same user elsewhere is still nobody to trust
mkdir -m 0755 "$T/elsewhere" && chown "$DED" "$T/elsewhere"
setpriv --reuid="$DED" --regid="$DED" --clear-groups env HOME="$T/ded" STATE_DIRECTORY="$T/ded" \
    "$T/bin/tunsupd" -S "$T/elsewhere/ctl.sock" -f "$T/plain.conf" </dev/null >>"$T/tunsupd.log" 2>&1 &
p=$!
track "$p"
wait_for 10 test -S "$T/elsewhere/ctl.sock"
rc=0
"$T/bin/tunsupctl" -S "$T/elsewhere/ctl.sock" status >"$T/ctl.out" 2>&1 || rc=$?
[ "$rc" = 3 ] && grep -q "served by uid $DED" "$T/ctl.out" ||
	fail "tunsupctl believed uid $DED outside /run/tunsupd (exit $rc): $(cat "$T/ctl.out")"
kill_pid "$p" 10
untrack "$p"
pass "the same user's daemon elsewhere is not believed"
