#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""Compare tunsupd's SshConfig resolution with ssh -F FILE -G HOST.

usage: sshconfig_compare.py TUNSUPD CORPUS WORKDIR

Copies CORPUS into WORKDIR (with @DIR@ replaced), then for every file and
every host on its "# hosts:" line compares what tunsupd -T shows for a
tunnel "HostName HOST / SshConfig FILE" with ssh -G: hostname, port, user,
identity files, the ProxyJump chain (each hop as ssh -G shows that hop),
hostkeyalias, userknownhostsfile, stricthostkeychecking,
serveraliveinterval/countmax, connecttimeout, identitiesonly,
exitonforwardfailure, gatewayports, compression and the forwards. Files with
"# error:" lines must be refused by tunsupd -t with those messages.
Prints one line per difference and exits 1 if there is any.
"""
import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys

TUNSUPD, CORPUS, WORK = sys.argv[1:4]
PW = pwd.getpwuid(os.getuid())
HOME = PW.pw_dir          # what ssh uses for ~ and %d
LHOST = socket.gethostname()
ENV = dict(os.environ, HOME=HOME)
DEFAULT_IDS = ["~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
               "~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",
               "~/.ssh/id_dsa"]
diffs = []


def ssh_g(conf, host, user=None, port=None):
    cmd = ["ssh", "-F", conf, "-G"]
    if user:
        cmd += ["-l", user]
    if port:
        cmd += ["-p", str(port)]
    out = subprocess.run(cmd + [host], capture_output=True, text=True,
                         env=ENV, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        sys.exit("ssh -G %s failed: %s" % (host, out.stderr))
    g = {}
    for line in out.stdout.splitlines():
        kw, _, val = line.partition(" ")
        g.setdefault(kw, []).append(val)
    return g


def one(g, kw, default=None):
    return g[kw][0] if kw in g else default


def expand_ids(g):
    """ssh -G shows identity files before ~ and tokens are expanded."""
    ids = g.get("identityfile", [])
    if ids == DEFAULT_IDS:
        return None
    h, p, r = one(g, "hostname"), one(g, "port"), one(g, "user")
    toks = {"%": "%", "d": HOME, "u": PW.pw_name, "h": h, "r": r, "p": p,
            "l": LHOST, "L": LHOST.split(".")[0], "i": str(os.getuid()),
            "C": hashlib.sha1((LHOST + h + p + r).encode()).hexdigest(),
            "k": one(g, "hostkeyalias", g["_host"]), "n": g["_host"]}
    out = []
    for f in ids:
        if f.startswith("~/"):
            f = HOME + f[1:]
        f = re.sub(r"%(.)", lambda m: toks[m.group(1)], f)
        f = re.sub(r"\$\{(\w+)\}", lambda m: ENV[m.group(1)], f)
        out.append(f)
    return out


def hostport(s, local):
    """ssh -G's "[host]:port" or "port" as tunsupd's dump writes it."""
    if s.startswith("/"):
        return s
    m = re.fullmatch(r"(?:\[(.*)\]:)?(\d+)", s)
    host, port = m.group(1), m.group(2)
    if host is None:
        host = "localhost"
    if host == "":
        host = "*"
    return "[%s]:%s" % (host, port) if ":" in host else "%s:%s" % (host, port)


def ssh_forwards(g):
    fw = []
    for kind in ("localforward", "remoteforward", "dynamicforward"):
        for v in g.get(kind, []):
            parts = v.split(" ")
            # ssh 9.2's -G also lists a unix socket LocalForward as
            # "dynamicforward PATH": that line is not a forward.
            if kind == "dynamicforward" and parts[0].startswith("/"):
                continue
            listen = hostport(parts[0], kind != "remoteforward")
            target = None
            if len(parts) > 1 and parts[1] != "[socks]:0":
                t = parts[1]
                target = t if t.startswith("/") else \
                    re.sub(r"^\[([^\]:]*)\]", r"\1", t)
            fw.append((kind, listen, target))
    return sorted(fw)


def hop_str(user, host, port):
    h = "[%s]" % host if ":" in host else host
    return "%s@%s%s" % (user, h, "" if port == "22" else ":" + port)


def expected_chain(conf, spec, depth=0):
    hops = []
    if spec in (None, "none") or depth > 16:
        return hops
    for i, hop in enumerate(spec.split(",")):
        m = re.fullmatch(r"(?:ssh://)?(?:(.*)@)?(?:\[([^\]]+)\]|([^:@\[]+))"
                         r"(?::(\d+))?", hop)
        user, host, port = m.group(1), m.group(2) or m.group(3), m.group(4)
        g = ssh_g(conf, host, user, port)
        g["_host"] = host
        if i == 0:
            hops += expected_chain(conf, one(g, "proxyjump"), depth + 1)
        kh = one(g, "userknownhostsfile").split(" ")
        hops.append({"hop": hop_str(one(g, "user"), one(g, "hostname"),
                                    one(g, "port")),
                     "ids": expand_ids(g),
                     "alias": one(g, "hostkeyalias"),
                     "kh": None if kh == [HOME + "/.ssh/known_hosts",
                                          HOME + "/.ssh/known_hosts2"]
                     else kh[0]})
    return hops


def parse_dump(text):
    tunnels, cur = {}, None
    for line in text.splitlines():
        kw, _, val = line.partition(" ")
        if kw == "tunnel":
            cur = tunnels.setdefault(val, {})
        elif cur is not None:
            cur.setdefault(kw, []).append(val)
    return tunnels


def unquote(v):
    return v[1:-1].replace('\\"', '"').replace("\\\\", "\\") \
        if v.startswith('"') else v


def check(name, what, want, got):
    if want != got:
        diffs.append("%s: %s: ssh -G says %r, tunsupd %r" %
                     (name, what, want, got))


def compare(conf, host, t, name):
    g = ssh_g(conf, host)
    g["_host"] = host
    tv = lambda kw: unquote(t[kw][0]) if kw in t else None
    check(name, "hostname", one(g, "hostname"), tv("hostname"))
    check(name, "port", one(g, "port"), tv("port"))
    check(name, "user", one(g, "user"), tv("user"))
    ids = expand_ids(g)
    if ids is not None:
        check(name, "identityfile", ids,
              [unquote(v) for v in t.get("identityfile", [])])
    check(name, "hostkeyalias", one(g, "hostkeyalias", "none"),
          tv("hostkeyalias"))
    check(name, "userknownhostsfile",
          one(g, "userknownhostsfile").split(" ")[0],
          tv("userknownhostsfile"))
    shk = {"true": "yes", "false": "no", "ask": "yes"}
    s = one(g, "stricthostkeychecking")
    check(name, "stricthostkeychecking", shk.get(s, s),
          tv("stricthostkeychecking"))
    if one(g, "serveraliveinterval") != "0":
        check(name, "serveraliveinterval", one(g, "serveraliveinterval"),
              tv("serveraliveinterval"))
    check(name, "serveralivecountmax", one(g, "serveralivecountmax"),
          tv("serveralivecountmax"))
    if one(g, "connecttimeout") != "none":
        check(name, "connecttimeout", one(g, "connecttimeout"),
              tv("connecttimeout"))
    for kw in ("identitiesonly", "exitonforwardfailure", "gatewayports",
               "compression"):
        check(name, kw, one(g, kw), tv(kw))
    got = []
    for kind in ("localforward", "remoteforward", "dynamicforward"):
        for v in t.get(kind, []):
            parts = [unquote(p) for p in v.split(" ")]
            got.append((kind, parts[0], parts[1] if len(parts) > 1
                        else None))
    check(name, "forwards", ssh_forwards(g), sorted(got))
    # taken whole, as written: no unquoting
    check(name, "proxycommand", one(g, "proxycommand", "none"),
          t["proxycommand"][0] if "proxycommand" in t else "none")
    chain = expected_chain(conf, one(g, "proxyjump"))
    check(name, "proxyjump", ",".join(h["hop"] for h in chain) or "none",
          tv("proxyjump"))
    for n, h in enumerate(chain, 1):
        extra = {}
        for v in t.get("jumphost", []):
            idx, kw, val = v.split(" ", 2)
            if int(idx) == n:
                extra.setdefault(kw, []).append(unquote(val))
        if h["ids"] is not None:
            check(name, "hop %d identityfile" % n, h["ids"],
                  extra.get("identityfile"))
        check(name, "hop %d hostkeyalias" % n, h["alias"],
              (extra.get("hostkeyalias") or [None])[0])
        if h["kh"] is not None:
            check(name, "hop %d userknownhostsfile" % n, h["kh"],
                  (extra.get("userknownhostsfile") or [None])[0])


def main():
    corpus = os.path.join(WORK, "corpus")
    shutil.copytree(CORPUS, corpus)
    for root, _, files in os.walk(corpus):
        for f in files:
            p = os.path.join(root, f)
            with open(p) as fh:
                text = fh.read().replace("@DIR@", corpus)
            with open(p, "w") as fh:
                fh.write(text)
            os.chmod(p, 0o600)
    nhosts = 0
    for f in sorted(os.listdir(corpus)):
        if not f.endswith(".conf"):
            continue
        conf = os.path.join(corpus, f)
        text = open(conf).read()
        hosts = re.search(r"^# hosts: (.*)$", text, re.M).group(1).split()
        errors = [e.replace("FILE", conf) for e in
                  re.findall(r"^# error: (.*)$", text, re.M)]
        lines = ["Tunnel t%d\n    HostName %s\n    SshConfig %s\n" %
                 (i, h, conf) for i, h in enumerate(hosts)]
        tconf = os.path.join(WORK, f + ".tunsupd.conf")
        with open(tconf, "w") as fh:
            fh.write("".join(lines))
        run = subprocess.run([TUNSUPD, "-T", "-f", tconf], env=ENV,
                             capture_output=True, text=True)
        if errors:
            for e in errors:
                if e not in run.stderr.splitlines():
                    diffs.append("%s: tunsupd -T did not refuse with %r "
                                 "(stderr: %r)" % (f, e, run.stderr))
            if run.returncode == 0:
                diffs.append("%s: tunsupd -T accepted it" % f)
            continue
        if run.returncode != 0:
            diffs.append("%s: tunsupd -T failed: %s" % (f, run.stderr))
            continue
        tunnels = parse_dump(run.stdout)
        for i, h in enumerate(hosts):
            compare(conf, h, tunnels["t%d" % i], "%s %s" % (f, h))
            nhosts += 1
    for d in diffs:
        print(d)
    print("compared %d hosts of %d files" % (nhosts, len(
        [f for f in os.listdir(corpus) if f.endswith(".conf")])))
    sys.exit(1 if diffs else 0)


main()
