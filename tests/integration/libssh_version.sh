#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# libssh_version.sh: `tunsupd -V` names the libssh the build was configured
# with (tunsupd(8), README.md "The bundled libssh"): the bundled release and
# its patches, or the system's, and the library linked in is that one.
# Plain bash: no sshd.
# Environment (from make check): TUNSUPD, TUNSUP_LIBSSH (bundled or system),
# TUNSUP_LIBSSH_VERSION, TUNSUP_LIBSSH_PATCHES (the applied ones, or "none").
set -eu -o pipefail

: "${TUNSUPD:?}" "${TUNSUP_LIBSSH:?}" "${TUNSUP_LIBSSH_VERSION:?}"
. "$TESTLIB"

out=$("$TUNSUPD" -V)
first=$(sed -n 1p <<<"$out")
second=$(sed -n 2p <<<"$out")
[[ $first =~ ^tunsupd\ [0-9] ]] || fail "first line of -V: '$first'"
[ "$(wc -l <<<"$out")" = 2 ] || fail "-V printed $(wc -l <<<"$out") lines: $out"

# ssh_version() of the library linked in: VERSION/crypto/zlib
v=$TUNSUP_LIBSSH_VERSION
case $TUNSUP_LIBSSH in
bundled)
	want="libssh $v/openssl/zlib (bundled $v, patches: ${TUNSUP_LIBSSH_PATCHES:-none})"
	;;
system)
	[[ $second =~ ^libssh\ ${v//./\\.}/[a-z/]+\ \(system\)$ ]] ||
		fail "-V names '$second', not the system's libssh $v"
	want=$second
	;;
*)
	fail "TUNSUP_LIBSSH is '$TUNSUP_LIBSSH'"
	;;
esac
[ "$second" = "$want" ] || fail "-V says '$second', the build has '$want'"
pass "tunsupd -V names libssh $v ($TUNSUP_LIBSSH) and its patches: $second"

# every patch of the series is in the bundled libssh, in order (the receive
# path's among them: doc/design.md, "The receive path")
if [ "$TUNSUP_LIBSSH" = bundled ]; then
	series=$(sed -e 's/#.*//' -e 's/[ \t]*$//' -e '/^$/d' \
	    "$TOP_SRCDIR/contrib/libssh/patches/series" | tr '\n' ' ')
	series=${series% }
	[ "${TUNSUP_LIBSSH_PATCHES:-none}" = "${series:-none}" ] ||
		fail "-V names the patches '${TUNSUP_LIBSSH_PATCHES:-none}', the series has '${series:-none}'"
	for p in recv-read-256k.patch recv-data-in-place.patch recv-accept-window.patch \
	    recv-window-adjust-early.patch host-cert-kex.patch recv-read-nowait.patch \
	    recv-window-batch.patch recv-window-4m.patch copy-alias.patch \
	    buffer-grow.patch send-batch.patch recv-window-held.patch \
	    recv-read-grow.patch; do
		[[ " $series " == *" $p "* ]] || fail "the series lacks $p"
	done
	pass "tunsupd -V names every patch of contrib/libssh/patches/series, in order"

	# copy-alias.patch: glibc copies the pieces. Inlined, a memcpy() of at
	# most 2 KiB is "rep movsq", slow in the case the pieces are for.
	command -v objdump >/dev/null || fail "objdump (binutils) is not installed"
	fn=$(objdump -d --no-show-raw-insn "$TUNSUPD" |
	    awk '/<ssh_buffer_copy_bytes>:$/, /^$/')
	[ -n "$fn" ] || fail "no ssh_buffer_copy_bytes in $TUNSUPD"
	if grep -q 'rep movs' <<<"$fn"; then
		fail "ssh_buffer_copy_bytes copies inline: $(grep 'rep movs' <<<"$fn")"
	fi
	pass "the bundled libssh's split copies call glibc's memcpy, no inlined rep movs"
fi

# the daemon does not link the distribution's shared libssh when the build
# has its own
if [ "$TUNSUP_LIBSSH" = bundled ] && command -v ldd >/dev/null; then
	! ldd "$TUNSUPD" | grep -q 'libssh\.so' ||
		fail "tunsupd links a shared libssh: $(ldd "$TUNSUPD" | grep libssh)"
	pass "tunsupd has no shared libssh: the bundled one is linked statically"
fi
