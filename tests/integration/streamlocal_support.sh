#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# streamlocal_support.sh: whether `tunsupd -t` takes a RemoteForward on a unix
# socket of the server follows from the libssh the build has (tunsupd.conf(5),
# RemoteForward; README.md, "The bundled libssh"). With the bundled libssh and
# its streamlocal-forward patch (named by `tunsupd -V`) it is accepted, in each
# of its forms; with any other libssh (--with-libssh=system) it is refused at
# its line, naming how to get it. A reverse SOCKS forward on a socket path is
# refused by every build. Plain bash: no sshd.
set -eu -o pipefail

: "${TUNSUPD:?}"
. "$TESTLIB"
tlib_init

conf() {
	{
		echo "Tunnel t"
		echo "    HostName 127.0.0.1"
		echo "    RemoteForward $1${2:+ $2}"
	} >"$T/t.conf"
}

if "$TUNSUPD" -V | sed -n 2p | grep -q 'streamlocal-forward\.patch'; then
	for f in "/srv/app.sock 127.0.0.1:8080" "/srv/app.sock /run/app.sock" \
	    "/srv/app.sock:localhost:8080" "/srv/app.sock:/run/app.sock"; do
		conf "$f"
		"$TUNSUPD" -t -f "$T/t.conf" >"$T/out" 2>&1 ||
		    fail "tunsupd -t refuses 'RemoteForward $f': $(cat "$T/out")"
		"$TUNSUPD" -T -f "$T/t.conf" >"$T/dump" 2>&1 || fail "tunsupd -T: $(cat "$T/dump")"
		grep -qi "^ *remoteforward /srv/app.sock " "$T/dump" ||
		    fail "-T does not show the forward: $(cat "$T/dump")"
	done
	pass "this build's libssh has streamlocal-forward: tunsupd -t takes RemoteForward /path in each form"
else
	conf "/srv/app.sock 127.0.0.1:8080"
	if "$TUNSUPD" -t -f "$T/t.conf" >"$T/out" 2>&1; then
		fail "tunsupd -t accepts RemoteForward /path with a libssh that cannot ($("$TUNSUPD" -V | sed -n 2p))"
	fi
	grep -q "^$T/t.conf:3: .*streamlocal-forward@openssh.com" "$T/out" ||
	    fail "the refusal does not name the line and the missing request: $(cat "$T/out")"
	grep -q "bundled libssh" "$T/out" || fail "the refusal does not say how to get it: $(cat "$T/out")"
	pass "this build's libssh lacks streamlocal-forward: tunsupd -t refuses RemoteForward /path naming the bundled libssh"
fi

conf /srv/socks.sock
if "$TUNSUPD" -t -f "$T/t.conf" >"$T/out" 2>&1; then
	fail "tunsupd -t accepts a reverse SOCKS forward on a socket path"
fi
grep -q "^$T/t.conf:3: RemoteForward on a unix socket is not supported" "$T/out" ||
    fail "reverse SOCKS on a socket: $(cat "$T/out")"
pass "a RemoteForward on a socket path without a target is refused"
