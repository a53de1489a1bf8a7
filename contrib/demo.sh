#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# demo.sh: tunsup in one minute, on loopback only (run by `make demo`).
#
# Starts a throwaway sshd on 127.0.0.1 with generated keys, a small HTTP
# server, and tunsupd with one tunnel carrying a LocalForward, a RemoteForward
# and a DynamicForward (SOCKS); shows `tunsupctl status`, uses each forward
# once with curl, prints the head of `tunsupctl metrics` and `tunsupctl check`,
# then stops everything it started and removes its temporary directory.
#
# Environment (set by `make demo`): TUNSUPD, TUNSUPCTL (the built binaries),
# TESTLIB (tests/integration/lib.sh, for start_sshd and friends).
# Needs sshd, ssh-keygen, socat, python3 and curl. TLIB_KEEP=1 keeps the
# temporary directory (configs and logs).
set -eu

: "${TESTLIB:?run me with make demo}"
. "$TESTLIB"

say() { printf '\n==> %s\n' "$*"; }
# run CMD...: show a command, then run it.
run() {
	local cmd=$1
	shift
	printf '$ %s %s\n' "${cmd##*/}" "$*"
	"$cmd" "$@" 2>&1
}

need_tool curl
tlib_init 2>/dev/null

say "starting a throwaway sshd on 127.0.0.1 (host key and client key generated in $T)"
start_sshd demo 2>/dev/null
echo "sshd listens on 127.0.0.1:$SSHD_PORT_DEMO"

P_HTTP=$(free_port)
P_LOCAL=$(free_port)
P_REMOTE=$(free_port)
P_SOCKS=$(free_port)

say "starting a small HTTP server on 127.0.0.1:$P_HTTP"
mkdir -p "$T/www"
echo "hello from the demo web server" >"$T/www/index.html"
start_http "$P_HTTP" "$T/www"

say "writing $T/tunsupd.conf"
{
	echo "ServerAliveInterval 2"
	tunnel_conf demo demo
	echo "    LocalForward 127.0.0.1:$P_LOCAL 127.0.0.1:$P_HTTP"
	echo "    RemoteForward 127.0.0.1:$P_REMOTE 127.0.0.1:$P_HTTP"
	echo "    DynamicForward 127.0.0.1:$P_SOCKS"
} >"$T/tunsupd.conf"
sed 's/^/    /' "$T/tunsupd.conf"
echo "(what autossh -M 0 -N -L $P_LOCAL:127.0.0.1:$P_HTTP -R $P_REMOTE:127.0.0.1:$P_HTTP"
echo " -D $P_SOCKS -p $SSHD_PORT_DEMO $(id -un)@127.0.0.1 would keep up)"
run "$TUNSUPD" -t -f "$T/tunsupd.conf"

say "starting tunsupd (log in $T/tunsupd.log)"
start_tunsupd "$T/tunsupd.conf" 2>/dev/null
wait_state demo up 30
tunsupctl() { "$TUNSUPCTL" -S "$SOCK" "$@"; }
run tunsupctl status

say "LocalForward: curl http://127.0.0.1:$P_LOCAL/ (tunsupd -> sshd -> the web server)"
run curl -sS --max-time 10 "http://127.0.0.1:$P_LOCAL/"

say "RemoteForward: curl http://127.0.0.1:$P_REMOTE/ (sshd's listener -> tunsupd -> the web server)"
run curl -sS --max-time 10 "http://127.0.0.1:$P_REMOTE/"

say "DynamicForward: curl --socks5-hostname 127.0.0.1:$P_SOCKS http://localhost:$P_HTTP/ (SOCKS5, name resolved by the server)"
run curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$P_SOCKS" "http://localhost:$P_HTTP/"

say "the same tunnel, seen by a monitoring system (after a keepalive round trip)"
wait_for 10 '[ "$(tfield demo keepalive.rtt_ms)" != null ]'
run tunsupctl check
printf '$ tunsupctl metrics | head -n 30\n'
tunsupctl metrics | head -n 30

say "cleaning up: tunsupd, sshd and the web server are stopped, $T removed"
stop_tunsupd
echo "done."
