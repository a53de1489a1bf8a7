#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# libssh_build.sh: the machinery of the bundled libssh (README.md, "The
# bundled libssh"): contrib/get-libssh refuses a tarball whose SHA-256 is not
# the pinned one, and contrib/build-libssh applies the patches of the series
# in order, stops at the first that does not apply (named) and at a series
# entry with no file. Works on a copy of contrib/ with a series of its own;
# stops before libssh's CMake runs. Plain bash: no sshd.
# Environment (from make check): TOP_SRCDIR, TOP_BUILDDIR, TUNSUP_LIBSSH.
set -eu -o pipefail

: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}" "${TUNSUP_LIBSSH:?}"
. "$TESTLIB"

T=$(mktemp -d "${TMPDIR:-/tmp}/tunsup-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cp -R "$TOP_SRCDIR/contrib" "$T/contrib"
. "$TOP_SRCDIR/contrib/libssh/pin"
name=libssh_$LIBSSH_VERSION.orig.tar.xz

# a file with another checksum is refused and not copied
echo 'not libssh' >"$T/$name"
if "$T/contrib/get-libssh" -s "$T/$name" "$T/got" 2>"$T/err"; then
	fail "get-libssh took a tarball with the wrong SHA-256"
fi
grep -q "SHA-256 is not $LIBSSH_SHA256" "$T/err" || fail "get-libssh said: $(cat "$T/err")"
[ ! -e "$T/got/$name" ] || fail "get-libssh kept the wrong tarball"
pass "get-libssh refuses a tarball whose SHA-256 is not the pinned one"

# the series: a patch that applies, then one that does not
tarball=$TOP_BUILDDIR/libssh/$name
if [ "$TUNSUP_LIBSSH" != bundled ]; then
	# a system build has no tarball: make a stand-in with one file
	mkdir -p "$T/fake/libssh-$LIBSSH_VERSION"
	echo 'libssh' >"$T/fake/libssh-$LIBSSH_VERSION/README"
	tarball=$T/fake.tar.xz
	tar -C "$T/fake" -cJf "$tarball" "libssh-$LIBSSH_VERSION"
fi
[ -f "$tarball" ] || fail "no $tarball in a bundled build"
pd=$T/contrib/libssh/patches
cat >"$pd/0001-first.patch" <<'P'
first: adds a file the test looks for
--- /dev/null
+++ b/TUNSUP-TEST
@@ -0,0 +1 @@
+patched by 0001-first.patch
P
printf -- '--- a/NO-SUCH-FILE\n+++ b/NO-SUCH-FILE\n@@ -1 +1 @@\n-x\n+y\n' >"$pd/0002-second.patch"
# (the test's own series: the project's patches need libssh's real source)
printf '# test series\n0001-first.patch\n\n0002-second.patch\n' >"$pd/series"
if "$T/contrib/build-libssh" "$tarball" "$T/b" >"$T/out" 2>&1; then
	fail "build-libssh went on past a patch that does not apply"
fi
grep -q 'applying 0001-first.patch' "$T/out" || fail "0001 not applied: $(cat "$T/out")"
grep -q 'patch 0002-second.patch does not apply' "$T/out" ||
	fail "the failing patch is not named: $(cat "$T/out")"
[ "$(grep -n applying "$T/out" | cut -d: -f1 | head -1)" -lt \
  "$(grep -n 'applying 0002' "$T/out" | cut -d: -f1)" ] || fail "patches out of order"
grep -qx 'patched by 0001-first.patch' "$T/b/src/TUNSUP-TEST" || fail "0001's change is not in the source"
[ ! -e "$T/b/stamp" ] && [ ! -e "$T/b/inst" ] || fail "a failed build left a stamp or an install"
pass "build-libssh applies the series in order and stops, naming it, at a patch that does not apply"

echo 0003-missing.patch >>"$pd/series"
if "$T/contrib/build-libssh" "$tarball" "$T/b" >"$T/out" 2>&1; then
	fail "build-libssh went on with a series entry that has no file"
fi
grep -q 'names 0003-missing.patch, which does not exist' "$T/out" || fail "said: $(cat "$T/out")"
pass "build-libssh refuses a series that names a missing patch"
