# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# SshConfig resolves a host as "ssh -F FILE -G HOST" does: over a corpus of
# ssh_config files as people write them (tests/sshconfig/corpus: the VPN-hub
# guide's ProxyJump aliases, conf.d Includes, Match blocks, defaults at the
# end, tokens, quoting), what tunsupd -T shows for each host equals what
# ssh -G shows, hop by hop for ProxyJump chains; ProxyCommand and Match exec
# are refused at their file:line.
. "$TESTLIB"
tlib_init

CORPUS=$TOP_SRCDIR/tests/sshconfig/corpus
out=$(python3 "$TOP_SRCDIR/tests/integration/sshconfig_compare.py" "$TUNSUPD" \
	"$CORPUS" "$T") || fail "tunsupd and ssh -G differ:
$out"
pass "tunsupd resolves like ssh -G: $(echo "$out" | tail -1)"
