#!/bin/bash
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# docs.sh: the manual pages, the bash completion and the systemd units are
# well-formed and document what the programs really have:
#   - each page renders without a groff warning (man --warnings; also
#     mandoc -T lint -W warning when mandoc is installed),
#   - every configuration keyword (the keyword table of src/cfg.c, and what
#     "tunsupd -T" prints) has an entry in tunsupd.conf(5),
#   - its SSH_CONFIG KEYWORDS section lists every ssh_config keyword of the
#     catalogue src/sshkw.c, each with what the catalogue says tunsupd does,
#   - every command and option in tunsupctl's usage is in tunsupctl(1),
#   - every option in tunsupd's usage is in tunsupd(8),
#   - the bash completion is valid bash and offers every command,
#   - the systemd units pass systemd-analyze verify (when it can run here).
# Plain bash: no sshd. Needs man (man-db) and groff.
# Environment (from make check): TOP_SRCDIR, TOP_BUILDDIR, TUNSUPD, TUNSUPCTL.
set -u

: "${TOP_SRCDIR:?}" "${TUNSUPD:?}" "${TUNSUPCTL:?}"

DOC=$TOP_SRCDIR/doc
PAGES="$DOC/tunsupd.8 $DOC/tunsupctl.1 $DOC/tunsupd.conf.5"
COMPLETION=$TOP_SRCDIR/contrib/tunsupctl.bash-completion
failed=0

ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	failed=1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tunsup-docs.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# has_entry PAGE MACRO WORD: PAGE has a list entry ".It MACRO WORD"
# (case-insensitive), e.g. ".It Cm ServerAliveInterval" or ".It Fl v".
has_entry() {
	grep -qiE "^\.It $2 $(printf '%s' "$3" | sed 's/[.[\*^$]/\\&/g')([ ,]|\$)" "$1"
}

# ---- rendering -----------------------------------------------------------

if ! command -v man >/dev/null 2>&1; then
	notok "man is not installed (apt-get install man-db groff-base)"
else
	for p in $PAGES; do
		if [ ! -f "$p" ]; then
			notok "$p: missing"
			continue
		fi
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
		rc=$?
		if [ $rc -ne 0 ] || [ -n "$out" ]; then
			notok "$(basename "$p") renders with warnings (man exit $rc):"
			printf '%s\n' "$out" | sed 's/^/#   /'
		else
			ok "$(basename "$p") renders without warnings"
		fi
		# The rendered text must not be empty either.
		if ! LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$p" 2>/dev/null |
		    grep -q '^NAME'; then
			notok "$(basename "$p"): no NAME section in the rendered page"
		fi
	done
fi

if command -v mandoc >/dev/null 2>&1; then
	for p in $PAGES; do
		[ -f "$p" ] || continue
		if out=$(mandoc -T lint -W warning "$p" 2>&1) && [ -z "$out" ]; then
			ok "$(basename "$p") passes mandoc -T lint -W warning"
		else
			notok "$(basename "$p"): mandoc -T lint:"
			printf '%s\n' "$out" | sed 's/^/#   /'
		fi
	done
else
	ok "mandoc lint # skip: mandoc not installed"
fi

# ---- tunsupd.conf(5): every keyword --------------------------------------

conf=$DOC/tunsupd.conf.5
cat >"$TMP/kw.conf" <<EOF
ServerAliveInterval 15
Tunnel docs-all
	HostName 127.0.0.1
	IdentityFile $TMP/id_none
	Ciphers aes256-ctr
	LocalForward 127.0.0.1:10001 127.0.0.1:22
	RemoteForward 10002 localhost:22
	RemoteForward 10003
	DynamicForward 10004
EOF
dump=$("$TUNSUPD" -T -f "$TMP/kw.conf" 2>"$TMP/T.err")
if [ $? -ne 0 ] || [ -z "$dump" ]; then
	notok "tunsupd -T failed:"
	sed 's/^/#   /' "$TMP/T.err"
	dumpkw=""
else
	dumpkw=$(printf '%s\n' "$dump" | sed -n 's/^\([a-z][a-z]*\) .*/\1/p' | sort -u)
	ok "tunsupd -T printed $(printf '%s\n' "$dumpkw" | wc -l) keywords"
fi

# The table itself: { "Keyword", oKeyword, ... } lines inside keywords[].
tablekw=""
if [ -f "$TOP_SRCDIR/src/cfg.c" ]; then
	tablekw=$(sed -n '/^} keywords\[\] = {/,/^};/s/^[[:space:]]*{ *"\([A-Za-z]*\)".*/\1/p' \
	    "$TOP_SRCDIR/src/cfg.c")
	if [ -z "$tablekw" ]; then
		notok "cannot find the keyword table in src/cfg.c"
	fi
fi

missing=""
n=0
for kw in $(printf '%s\n%s\n' "$dumpkw" "$tablekw" | tr 'A-Z' 'a-z' | sort -u); do
	n=$((n + 1))
	has_entry "$conf" Cm "$kw" || missing="$missing $kw"
done
if [ -f "$conf" ] && [ -z "$missing" ] && [ $n -gt 0 ]; then
	ok "tunsupd.conf.5 has an entry for each of the $n keywords"
else
	notok "tunsupd.conf.5 lacks an entry (.It Cm KEYWORD) for:$missing"
fi

missing=""
for st in stopped connecting forwarding up degraded backoff; do
	has_entry "$conf" Cm "$st" || missing="$missing $st"
done
if [ -z "$missing" ]; then
	ok "tunsupd.conf.5 lists the tunnel states"
else
	notok "tunsupd.conf.5 lacks:$missing"
fi

# ---- tunsupd.conf(5): every ssh_config keyword, as src/sshkw.c has it -----

# The catalogue: "KIND Name" from its entries (H, SAME, IGN, REF).
sed -n '/^static const struct sshkw sshkw\[\] = {/,/^};/s/^[[:space:]]*\(H\|SAME\|IGN\|REF\)("\([A-Za-z0-9]*\)".*/\1 \2/p' \
    "$TOP_SRCDIR/src/sshkw.c" >"$TMP/sshkw.table"
# The manual's section: "Name first-line-of-its-text".
awk '/^\.Sh /{ insec = ($0 == ".Sh SSH_CONFIG KEYWORDS") }
    insec && /^\.It Cm / { name = $3; getline; print name, $0 }' "$conf" >"$TMP/sshkw.man"
# What the first line says for each kind (IGN and REF with accepted values
# start "Accepted as": the rest of the entry then says ignored or refused).
awk 'NR == FNR { kind[$2] = $1; next }
    { seen[$1] = 1
      k = kind[$1]
      if (k == "") { print "not in the table: " $1; next }
      w = $2; sub(/[,:]$/, "", w)
      if (k == "H" && w != "Honoured") print "not Honoured: " $1
      if (k == "SAME" && (w != "Accepted" || $3 != "whatever")) print "not Accepted, whatever: " $1
      if (k == "IGN" && w != "Ignored" && (w != "Accepted" || $3 != "as")) print "not Ignored: " $1
      if (k == "REF" && w != "Refused" && (w != "Accepted" || $3 != "as")) print "not Refused: " $1 }
    END { for (n in kind) if (!(n in seen)) print "not in the manual: " n }' \
    "$TMP/sshkw.table" "$TMP/sshkw.man" >"$TMP/sshkw.diff"
n=$(wc -l <"$TMP/sshkw.table")
if [ "$n" -lt 100 ]; then
	notok "cannot read the keyword catalogue of src/sshkw.c ($n entries)"
elif [ -s "$TMP/sshkw.diff" ]; then
	notok "tunsupd.conf.5 SSH_CONFIG KEYWORDS differs from src/sshkw.c:"
	sed 's/^/#   /' "$TMP/sshkw.diff"
else
	ok "tunsupd.conf.5 SSH_CONFIG KEYWORDS lists the $n keywords of src/sshkw.c"
fi

# ---- tunsupctl(1): every command and option --------------------------------

ctl=$DOC/tunsupctl.1
"$TUNSUPCTL" -h >"$TMP/ctl.usage" 2>&1
rc=$?
if [ $rc -ne 2 ] && [ $rc -ne 0 ]; then
	notok "tunsupctl -h: exit $rc"
fi
cmds=$(sed -n '/^commands:/,$s/^[[:space:]]\{1,\}\([a-z][a-z-]*\).*/\1/p' "$TMP/ctl.usage")
if [ -z "$cmds" ]; then
	notok "no commands in the usage of tunsupctl -h:"
	sed 's/^/#   /' "$TMP/ctl.usage"
fi
missing=""
for c in $cmds; do
	has_entry "$ctl" Cm "$c" || missing="$missing $c"
done
if [ -n "$cmds" ] && [ -z "$missing" ]; then
	ok "tunsupctl.1 has an entry for each command:" $cmds
else
	notok "tunsupctl.1 lacks an entry (.It Cm COMMAND) for:$missing"
fi

# Options in the usage lines (before "commands:"): -S, --json, -h, -V.
opts=$(sed '/^commands:/,$d' "$TMP/ctl.usage" |
    grep -oE '(^|[[ |])--?[A-Za-z][A-Za-z-]*' | sed 's/^[[ |]//' | sort -u)
missing=""
for o in $opts; do
	case $o in
	--*) has_entry "$ctl" "Fl Fl" "${o#--}" ||
		grep -qE "^\.It .*Fl Fl ${o#--}( |,|\$)" "$ctl" || missing="$missing $o" ;;
	-*) grep -qE "^\.It .*Fl ${o#-}( |,|\$)" "$ctl" || missing="$missing $o" ;;
	esac
done
if [ -n "$opts" ] && [ -z "$missing" ]; then
	ok "tunsupctl.1 has an entry for each option:" $opts
else
	notok "tunsupctl.1 lacks an entry for the options:$missing"
fi
missing=""
for s in 0 1 2 3; do
	grep -q "^\.It $s\$" "$ctl" || missing="$missing $s"
done
[ -z "$missing" ] && ok "tunsupctl.1 lists the exit statuses 0 1 2 3" ||
	notok "tunsupctl.1 EXIT STATUS lacks:$missing"

# ---- tunsupd(8): every option --------------------------------------------

d8=$DOC/tunsupd.8
usage=$("$TUNSUPD" -h 2>&1)
letters=$(printf '%s\n' "$usage" | grep -oE '\[-[A-Za-z]' | cut -c3 | sort -u)
missing=""
for l in $letters; do
	has_entry "$d8" Fl "$l" || missing="$missing -$l"
done
if [ -n "$letters" ] && [ -z "$missing" ]; then
	ok "tunsupd.8 has an entry for each option:" $(printf -- '-%s ' $letters)
else
	notok "tunsupd.8 lacks an entry (.It Fl X) for:$missing (usage: $usage)"
fi
missing=""
for w in SIGHUP SIGTERM NOTIFY_SOCKET READY=1 0600 tunsupd.sock; do
	grep -q -- "$w" "$d8" || missing="$missing $w"
done
[ -z "$missing" ] && ok "tunsupd.8 covers signals, readiness and the socket" ||
	notok "tunsupd.8 does not mention:$missing"

# ---- bash completion -------------------------------------------------------

if bash -n "$COMPLETION" 2>"$TMP/bash.err"; then
	ok "tunsupctl.bash-completion is valid bash"
else
	notok "tunsupctl.bash-completion: bash -n:"
	sed 's/^/#   /' "$TMP/bash.err"
fi
got=$(bash -c '
	source "$1" || exit 1
	COMP_WORDS=(tunsupctl ""); COMP_CWORD=1; COMPREPLY=()
	_tunsupctl
	printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" 2>&1)
missing=""
for c in $cmds; do
	printf '%s\n' "$got" | grep -qx -- "$c" || missing="$missing $c"
done
if [ -n "$cmds" ] && [ -z "$missing" ]; then
	ok "the bash completion offers every command"
else
	notok "the bash completion does not offer:$missing"
fi

# ---- systemd units ---------------------------------------------------------

if command -v systemd-analyze >/dev/null 2>&1; then
	# tunsupd.service is made from its .in with the configured paths.
	for u in "$TOP_BUILDDIR/contrib/tunsupd.service" "$TOP_SRCDIR/contrib/tunsupd-user.service"; do
		# The real ExecStart is the installed path: point it at the build.
		sed -e "s#^ExecStart=[^ ]*/tunsupd #ExecStart=$TUNSUPD #" \
		    -e "s#^ExecReload=[^ ]*/tunsupctl #ExecReload=$TUNSUPCTL #" \
		    -e '/^Documentation=/d' "$u" >"$TMP/${u##*/}"
		u=${u##*/}
		out=$(systemd-analyze verify "$TMP/$u" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && ! printf '%s\n' "$out" | grep -q "$u"; then
			ok "$u passes systemd-analyze verify"
		elif printf '%s\n' "$out" | grep -q "Failed to initialize manager"; then
			ok "$u # skip: systemd-analyze cannot run here"
		else
			notok "$u: systemd-analyze verify:"
			printf '%s\n' "$out" | sed 's/^/#   /'
		fi
	done
else
	ok "systemd units # skip: systemd-analyze not installed"
fi

exit $failed
