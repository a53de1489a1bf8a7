#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# unit_offline.sh: the tunnel state machine's unit tests (t_tunnel_sm) need
# no network at all: they run in a new network namespace (`unshare -n`: not
# even loopback is up), pass there, and take seconds, not minutes.
# Plain bash: no sshd. Needs unshare (util-linux) and root, or user namespaces.
# Environment (from make check): TOP_BUILDDIR.
set -eu -o pipefail

: "${TOP_BUILDDIR:?}"
. "$TESTLIB"

BIN=$TOP_BUILDDIR/tests/unit/t_tunnel_sm
[ -x "$BIN" ] || skip "$BIN not built (criterion missing)"
need_tool unshare timeout

# root makes the namespace itself; anyone else through a user namespace
if unshare -n true 2>/dev/null; then
	NONET=(unshare -n)
elif unshare -rn true 2>/dev/null; then
	NONET=(unshare -rn)
else
	skip "cannot create a network namespace here"
fi

# the namespace really has no network: only lo (/proc/self/net is the
# reader's namespace, /sys the mounter's), and not even lo carries anything
ifaces=$("${NONET[@]}" awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/self/net/dev)
[ "$ifaces" = lo ] || fail "interfaces in the namespace: $ifaces"
err=$("${NONET[@]}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>&1) &&
	fail "a connection to 127.0.0.1 inside the namespace succeeded"
case $err in
*"unreachable"*) ;;
*) fail "127.0.0.1 inside the namespace: $err, expected unreachable" ;;
esac
pass "unshare -n gives a namespace without any network"

start=$SECONDS
out=$("${NONET[@]}" timeout 60 "$BIN" 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "t_tunnel_sm failed without a network"
}
secs=$((SECONDS - start))
summary=$(printf '%s\n' "$out" | grep 'Synthesis:') || fail "no criterion summary: $out"
n=$(printf '%s\n' "$summary" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
printf '%s\n' "$summary" | grep -q "Failing: 0 | Crashing: 0" || fail "$summary"
[ "$n" -ge 30 ] || fail "only $n state machine tests"
[ "$secs" -le 20 ] || fail "the state machine tests took $secs s"
pass "$n state machine tests pass with no network, in ${secs} s"
