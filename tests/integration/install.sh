#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# install.sh: `make install DESTDIR=...` from the build directory (a VPATH
# one too) puts every file in its conventional place: the two programs, the
# three manual pages, the commented example configuration, the bash
# completion and, unless configured --without-systemdsystemunitdir, the unit
# and its sysusers.d file; the installed programs run and the example passes
# `tunsupd -t`; the installed unit has the configured paths, passes
# `systemd-analyze verify` and scores 2.0 or less in `systemd-analyze
# security`; a second `make install` keeps an edited tunsupd.conf, and
# `make uninstall` too; otherwise it takes every file away again.
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
sysusersdir=$(var sysusersdir)
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
$unitdir/tunsupd.service
$sysusersdir/tunsupd.conf"
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
[ -n "$unitdir" ] || ok "systemd unit # skip: configured --without-systemdsystemunitdir"

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

# ---- the unit ----------------------------------------------------------------
if [ -n "$unitdir" ]; then
	U=$D$unitdir/tunsupd.service
	grep -qx "ExecStart=$sbindir/tunsupd -f $sysconfdir/tunsup/tunsupd.conf -S /run/tunsupd/tunsupd.sock" "$U" ||
		fail "ExecStart is not the configured one: $(grep ^ExecStart "$U")"
	grep -qx "ExecReload=$bindir/tunsupctl -S /run/tunsupd/tunsupd.sock reload" "$U" ||
		fail "ExecReload is not tunsupctl reload: $(grep ^ExecReload "$U")"
	! grep -n '@[a-z]*@' "$U" || fail "unsubstituted @...@ in the unit"
	for want in Type=notify NotifyAccess=main WatchdogSec=60s User=tunsupd \
	    StateDirectory=tunsupd RuntimeDirectory=tunsupd CapabilityBoundingSet= \
	    SystemCallFilter=@system-service ProtectSystem=strict PrivateTmp=yes \
	    NoNewPrivileges=yes "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"; do
		grep -qx "$want" "$U" || fail "the unit lacks $want"
	done
	grep -qx 'u tunsupd - "SSH tunnel supervisor" /var/lib/tunsupd' "$D$sysusersdir/tunsupd.conf" ||
		fail "the sysusers.d file: $(cat "$D$sysusersdir/tunsupd.conf")"
	ok "the installed unit has the configured paths, Type=notify, WatchdogSec, tunsupctl reload, user tunsupd"
	if command -v systemd-analyze >/dev/null 2>&1; then
		# the installed programs under DESTDIR; no man pages installed on the system
		sed -e "s#^ExecStart=$sbindir/#ExecStart=$D$sbindir/#" \
		    -e "s#^ExecReload=$bindir/#ExecReload=$D$bindir/#" \
		    -e '/^Documentation=/d' "$U" >"$T/tunsupd.service"
		out=$(systemd-analyze verify "$T/tunsupd.service" 2>&1) ||
			fail "systemd-analyze verify: $out"
		! printf '%s\n' "$out" | grep -q tunsupd.service || fail "systemd-analyze verify: $out"
		out=$(systemd-analyze security --offline=yes "$T/tunsupd.service" 2>&1) ||
			fail "systemd-analyze security: $out"
		score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for tunsupd.service: \([0-9.]*\).*/\1/p')
		[ -n "$score" ] || fail "no exposure level: $out"
		awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || {
			printf '%s\n' "$out" | grep '✗' >&2
			fail "systemd-analyze security: exposure $score, over 2.0"
		}
		ok "the installed unit passes systemd-analyze verify; security exposure $score (at most 2.0)"
	else
		ok "systemd-analyze # skip: not installed"
	fi
fi

# ---- an edited configuration survives ------------------------------------------
CONF=$D$sysconfdir/tunsup/tunsupd.conf
echo "# edited by the admin" >>"$CONF"
cp "$CONF" "$T/edited"
mk install DESTDIR="$D" >"$T/install2.log" 2>&1 || { cat "$T/install2.log" >&2; fail "second make install failed"; }
cmp -s "$CONF" "$T/edited" || fail "make install overwrote the edited tunsupd.conf"
grep -q "keeping the existing" "$T/install2.log" || fail "make install does not say it keeps tunsupd.conf"
if ! mk uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1; then
	cat "$T/uninstall.log" >&2
	fail "make uninstall failed"
fi
left=$(find "$D" -type f)
[ "$left" = "$CONF" ] || fail "after make uninstall with an edited config, left: $left"
cmp -s "$CONF" "$T/edited" || fail "make uninstall changed the edited tunsupd.conf"
ok "make install and make uninstall keep an edited tunsupd.conf"

rm -f "$CONF"
mk install DESTDIR="$D" >"$T/install3.log" 2>&1 || { cat "$T/install3.log" >&2; fail "third make install failed"; }
cmp -s "$CONF" "$(var abs_top_srcdir)/etc/tunsupd.conf" || fail "the example is not installed where there is none"
if ! mk uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1; then
	cat "$T/uninstall.log" >&2
	fail "make uninstall failed"
fi
left=$(find "$D" -type f)
[ -z "$left" ] || fail "left after make uninstall: $left"
ok "make uninstall removes every file, the unedited example too"
