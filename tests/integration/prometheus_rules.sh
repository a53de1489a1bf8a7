# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# contrib/prometheus: the alert rules pass `promtool check rules` and their
# unit tests (`promtool test rules`: a stopped tunnel never alerts, a tunnel
# down for 5 minutes does, the daemon down or absent, ...), and the Grafana
# dashboard is JSON whose queries name only families tunsup exports.
. "$TESTLIB"
set -eu -o pipefail
tlib_init
need_tool promtool

P=$TOP_SRCDIR/contrib/prometheus
cp "$P/tunsup-rules.yml" "$P/tunsup-rules.test.yml" "$T/"
(cd "$T" && promtool check rules tunsup-rules.yml) >"$T/check.out" 2>&1 ||
	{ cat "$T/check.out" >&2; fail "promtool check rules"; }
(cd "$T" && promtool test rules tunsup-rules.test.yml) >"$T/test.out" 2>&1 ||
	{ cat "$T/test.out" >&2; fail "promtool test rules"; }
pass "promtool check rules and test rules pass"

# The tests are not vacuous: the naive rule (the tunnel's up state is 0)
# fires for a tunnel stopped on purpose, and the tests say so.
sed 's/^\( *\)and on (instance, job, tunnel)$/\1or on (instance, job, tunnel)/' \
    "$P/tunsup-rules.yml" >"$T/tunsup-rules.yml"
cmp -s "$P/tunsup-rules.yml" "$T/tunsup-rules.yml" && fail "could not weaken the rule"
if (cd "$T" && promtool test rules tunsup-rules.test.yml) >"$T/test.out" 2>&1; then
	fail "the rule tests pass with a rule that alerts on stopped tunnels"
fi
pass "the rule tests catch a rule that alerts on stopped tunnels"

# The dashboard: valid JSON, and every tunsup_* family it queries exists.
python3 - "$P/grafana-dashboard.json" "$TOP_SRCDIR/src/metrics.c" <<'PY' || fail "grafana-dashboard.json"
import json, re, sys
d = json.load(open(sys.argv[1]))
src = open(sys.argv[2]).read()
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
if not exprs:
    sys.exit("no queries")
for e in exprs:
    for name in re.findall(r"tunsup_[a-z_]+", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if '"%s' % name not in src and '"%s' % base not in src:
            sys.exit("unknown family %s in %s" % (name, e))
print("%d queries" % len(exprs))
PY
pass "grafana-dashboard.json: JSON, its queries name families tunsup exports"
