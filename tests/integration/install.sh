#!/bin/bash
# install.sh: `make install DESTDIR=...` from the build directory (a VPATH
# one too) puts every file in its conventional place: the two programs, the
# three manual pages, the commented example configuration, the bash
# completion and, when configured with --with-systemdsystemunitdir, the unit;
# the installed programs run and the example passes `tunsupd -t`;
# `make uninstall` takes them all away again.
# Plain bash and make: no sshd. Environment (from make check): TOP_BUILDDIR.
set -eu

: "${TOP_BUILDDIR:?}"

ok() { echo "ok - $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

T=$(mktemp -d "${TMPDIR:-/tmp}/tunsup-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/root

# mk ARGS...: make in the build directory, on its own: not a sub-make of the
# make running the tests (its jobserver, flags and "Entering directory").
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$TOP_BUILDDIR" "$@"; }

# var NAME: a make variable of the build, fully expanded ($(prefix) and all).
printf 'print-%%:\n\t@echo $($*)\n' >"$T/print.mk"
var() { mk -s -f Makefile -f "$T/print.mk" "print-$1"; }

bindir=$(var bindir)
sbindir=$(var sbindir)
sysconfdir=$(var sysconfdir)
mandir=$(var mandir)
bashcompdir=$(var bashcompdir)
unitdir=$(var systemdsystemunitdir)
[ -n "$bindir" ] && [ -n "$sysconfdir" ] && [ -n "$mandir" ] || fail "cannot read the install directories"

if ! mk install DESTDIR="$D" >"$T/install.log" 2>&1; then
	cat "$T/install.log" >&2
	fail "make install DESTDIR=$D failed"
fi

want="$bindir/tunsupctl
$sbindir/tunsupd
$sysconfdir/tunsup/tunsupd.conf
$mandir/man1/tunsupctl.1
$mandir/man5/tunsupd.conf.5
$mandir/man8/tunsupd.8
$bashcompdir/tunsupctl"
if [ -n "$unitdir" ]; then
	want="$want
$unitdir/tunsupd.service"
fi
missing=""
for f in $want; do
	[ -f "$D$f" ] || missing="$missing $f"
done
[ -z "$missing" ] || {
	find "$D" -type f >&2
	fail "not installed:$missing"
}
got=$(cd "$D" && find . -type f | sed 's/^\.//' | sort)
extra=$(comm -13 <(printf '%s\n' "$want" | sort) <(printf '%s\n' "$got"))
[ -z "$extra" ] || fail "installed but not expected: $extra"
ok "make install DESTDIR puts each file in place:" $(printf '%s\n' "$want" | sed 's#.*/##')
[ -n "$unitdir" ] || ok "systemd unit # skip: not configured with --with-systemdsystemunitdir"

[ -x "$D$bindir/tunsupctl" ] && [ -x "$D$sbindir/tunsupd" ] || fail "programs not executable"
[ "$(stat -c %a "$D$sysconfdir/tunsup/tunsupd.conf")" = 644 ] || fail "config mode"
"$D$sbindir/tunsupd" -V >/dev/null || fail "the installed tunsupd does not run"
"$D$bindir/tunsupctl" -V >/dev/null || fail "the installed tunsupctl does not run"
out=$("$D$sbindir/tunsupd" -t -f "$D$sysconfdir/tunsup/tunsupd.conf" 2>&1) ||
	fail "the installed example fails tunsupd -t: $out"
printf '%s\n' "$out" | grep -q "configuration OK (0 tunnels)" ||
	fail "the installed example starts something: $out"
cmp -s "$D$bashcompdir/tunsupctl" "$(var abs_top_srcdir)/contrib/tunsupctl.bash-completion" ||
	fail "the completion is not contrib/tunsupctl.bash-completion"
ok "the installed programs run; the example configuration passes tunsupd -t and starts nothing"

if ! mk uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1; then
	cat "$T/uninstall.log" >&2
	fail "make uninstall failed"
fi
left=$(find "$D" -type f)
[ -z "$left" ] || fail "left after make uninstall: $left"
ok "make uninstall removes every file"
