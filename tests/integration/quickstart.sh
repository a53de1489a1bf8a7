#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# quickstart.sh: contrib/quickstart (README.md, "Quick start"). Usage errors
# exit 2; it asks dpkg which packages are missing and installs exactly those
# with apt-get (as root; through sudo, or a clear error, otherwise); `check`
# wants the test suite's packages too and runs make check and check-faults;
# and for real, `quickstart -B DIR demo` configures (the bundled libssh),
# builds and runs the demo in a directory of its own, leaving no daemon or
# sshd behind. -n and a dpkg-query stand-in keep the machine's packages
# untouched. Environment (from make check): TOP_SRCDIR; TUNSUP_LIBSSH_CACHE
# (the libssh tarball, as for the build itself).
. "$TESTLIB"
tlib_init
need_tool runuser
S=$(cd "$TOP_SRCDIR" && pwd -P)	# as quickstart names it
Q=$S/contrib/quickstart

# ---- usage ------------------------------------------------------------------
for args in "" "bogus" "demo check" "-x demo" "check --enable-werror"; do
	rc=0
	# shellcheck disable=SC2086
	"$Q" $args >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "quickstart $args: exit $rc, want 2"
	grep -q "^usage: quickstart" "$T/err" || fail "quickstart $args: $(cat "$T/err")"
done
rc=0
"$Q" -j x demo >"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "not a number of jobs" "$T/out" || fail "-j x: exit $rc: $(cat "$T/out")"
pass "usage errors exit 2 with the usage line"

# ---- which packages ---------------------------------------------------------
# A dpkg-query that says socat and libcriterion-dev are not installed.
mkdir "$T/fake"
cat >"$T/fake/dpkg-query" <<'SH'
#!/bin/sh
for a; do pkg=$a; done
case $pkg in
socat | libcriterion-dev) echo "dpkg-query: no packages found matching $pkg" >&2; exit 1 ;;
*) printf 'install ok installed' ;;
esac
SH
chmod 0755 "$T/fake/dpkg-query" "$T/fake"
"$Q" -n -B "$T/b" demo >"$T/out" 2>&1 || fail "quickstart -n demo: $(cat "$T/out")"
grep -qx "every package is installed" "$T/out" || fail "this machine lacks packages: $(cat "$T/out")"
grep -qx "\\\$ $S/configure --with-libssh=bundled" "$T/out" || fail "no bundled libssh: $(cat "$T/out")"
grep -qx "\\\$ make -C $T/b demo" "$T/out" || fail "demo does not run make demo: $(cat "$T/out")"
! grep -q "make.* check" "$T/out" || fail "demo runs the tests"
[ ! -e "$T/b" ] || fail "-n made $T/b"
PATH=$T/fake:$PATH "$Q" -n -B "$T/b" demo >"$T/out" 2>&1 || fail "quickstart -n demo: $(cat "$T/out")"
grep -qx "missing: socat" "$T/out" || fail "demo: $(cat "$T/out")"
grep -q "apt-get install -y --no-install-recommends socat\$" "$T/out" || fail "demo: $(cat "$T/out")"
PATH=$T/fake:$PATH "$Q" -n -B "$T/b" check >"$T/out" 2>&1 || fail "quickstart -n check: $(cat "$T/out")"
grep -qx "missing: socat libcriterion-dev" "$T/out" || fail "check: $(cat "$T/out")"
grep -q "apt-get install -y --no-install-recommends socat libcriterion-dev\$" "$T/out" || fail "check: $(cat "$T/out")"
grep -qx "\\\$ make -C $T/b -j[0-9]* check" "$T/out" && grep -qx "\\\$ make -C $T/b check-faults" "$T/out" ||
	fail "check does not run both suites: $(cat "$T/out")"
pass "the missing packages, and only those, go to apt-get; check wants the test suite's too and runs it"
"$Q" -n -B "$T/b" check -- --enable-werror --prefix=/opt/t >"$T/out" 2>&1 || fail "check -- ARGS: $(cat "$T/out")"
grep -qx "\\\$ $S/configure --with-libssh=bundled --enable-werror --prefix=/opt/t" "$T/out" ||
	fail "check -- ARGS: not given to configure: $(cat "$T/out")"
pass "arguments after -- go to configure (CI's --enable-werror)"
# not root, no sudo: a clear error before anything is done
chmod 0711 "$T"
mkdir -m 0755 "$T/nosudo"
for t in bash dirname id nproc dpkg-query cat sh printf; do
	for d in "$T/fake" /usr/bin /bin; do
		if [ -x "$d/$t" ]; then
			ln -s "$d/$t" "$T/nosudo/$t"
			break
		fi
	done
done
rc=0
runuser -u nobody -- env PATH="$T/nosudo" "$Q" -n -B "$T/b" demo >"$T/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "needs root: run quickstart as root, or install sudo" "$T/out" ||
	fail "as nobody without sudo: exit $rc: $(cat "$T/out")"
pass "without root or sudo it says what it needs"

# ---- for real: the demo ----------------------------------------------------
start=$SECONDS
"$Q" -B "$T/build" -j 2 demo >"$T/demo.out" 2>&1 || {
	tail -40 "$T/demo.out" >&2
	fail "quickstart demo failed"
}
grep -q "^tunsupd " "$T/demo.out" || fail "no tunsupd -V line: $(tail "$T/demo.out")"
grep -q "with-libssh=bundled" "$T/build/config.log" || fail "not configured with the bundled libssh"
[ -f "$T/build/libssh/stamp" ] || fail "no bundled libssh built in $T/build/libssh"
pgrep -f "$T/build/tunsupd" >/dev/null && fail "the demo left a tunsupd running"
pass "quickstart demo configures, builds (bundled libssh) and runs the demo in $((SECONDS - start)) s"
