#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""Measuring helpers for tunsup's `make bench` (stdlib only, 127.0.0.1 only).

    bench.py recover  --sshd-port P --port F [--sock S --tunnel N] [--timeout T]
        Wait until sshd listens on P again (the clock starts there), then until
        tunnel N is "up" (if --sock) and a 1-byte echo through port F works.
        Prints "TOTAL_S STATE_UP_S ECHO_S".
    bench.py deadpath --stop PID (--sock S --tunnel N | --wait-pid PID) [--timeout T]
        SIGSTOP PID (the clock starts there), then wait until tunnel N leaves "up"
        or process PID exits (or is a zombie). Prints seconds.
    bench.py stall    --echo-port A --upload-port B [--n 8] [--mib 16]
                      [--interval-ms 5] [--idle-s 2] [--max-s 90] [--pid PID]
                      [--direct-port E]
        1-byte echo round trips through A every interval, first idle, then while N
        uploads of MIB MiB each run through B; with --direct-port, a second
        probe straight to the echo server runs alongside (the machine's own
        hiccups) and tunnel probes over 10 ms that the direct one did not see
        within 20 ms count as "own". Prints a JSON object.
    bench.py probe    PORT SECONDS INTERVAL_MS   (used by stall)
    bench.py upload   PORT MIB          (used by stall: one upload, waits for EOF)
    bench.py sink     PORT              server: swallow every connection to EOF
    bench.py source   PORT MIB          server: send MIB MiB to every connection
    bench.py send     PORT MIB          client: send MIB MiB, half-close, wait EOF;
                                        prints MB/s (10^6 bytes per second)
    bench.py recv     PORT MIB          client: read to EOF, expect MIB MiB; MB/s
    bench.py waitup   --sock S --count N [--ports-file F] [--timeout T]
        Wait until N tunnels are "up" (and every port listed in F listens); prints
        seconds since the call.
    bench.py waitports --ports-file F [--gone] [--timeout T]
        Wait until every port listed in F listens (--gone: none does); prints
        seconds since the call.
    bench.py echo     PORT              exit 0 if a 1-byte echo through PORT works
    bench.py echoserver PORT            server: echo every connection (one epoll loop,
                                        so that the server is not what limits a rate)
    bench.py connrate PORT [--n 2000] [--max-s 10] [--conc 1] [--pid PID]
        New connections through PORT: connect, send 1 byte, read it back, close;
        CONC workers, N connections in all or MAX_S seconds. Prints a JSON object
        (rate per second, failures, CPU % of PID).
    bench.py latency  PORT [--n 5000] [--size 64] [--pid PID]
        One connection, N round trips of SIZE bytes back to back (no sleeps).
        Prints a JSON object (p50, p99, max, mean in microseconds).
    bench.py fleetstat --sock S         tunnels up, sum of connects and failures (JSON)
    bench.py delay    LISTEN_PORT TARGET_PORT MS
        server: relay every connection to TARGET_PORT, each direction held back
        MS milliseconds (a path with a round trip of 2 x MS); stops reading a
        direction with 8 MiB in flight, like a kernel's buffers would
"""

import argparse
import selectors
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
CHUNK = 1 << 20


def now():
    return time.monotonic()


# ---- control socket ---------------------------------------------------------


def status(sock_path):
    """The daemon's status reply (dict), or None if it does not answer."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(b'{"cmd":"status"}\n')
        buf = b""
        while b"\n" not in buf:
            d = s.recv(1 << 20)
            if not d:
                break
            buf += d
        s.close()
        return json.loads(buf.split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None


def tstate(sock_path, name):
    st = status(sock_path)
    if not st:
        return None
    for t in st.get("tunnels", []):
        if t.get("name") == name:
            return t.get("state")
    return None


# ---- ports ------------------------------------------------------------------


def listening_ports():
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    p = line.split()
                    if p[3] == "0A":
                        ports.add(int(p[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def echo_once(port, timeout=1.0):
    try:
        s = socket.create_connection((HOST, port), timeout)
        s.settimeout(timeout)
        s.sendall(b"x")
        ok = s.recv(1) == b"x"
        s.close()
        return ok
    except OSError:
        return False


def proc_gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return True
    return st.rsplit(")", 1)[1].split()[0] == "Z"


# ---- measurements ------------------------------------------------------------


def cmd_recover(a):
    deadline = now() + a.timeout
    while a.sshd_port not in listening_ports():
        if now() > deadline:
            sys.exit("recover: sshd never came back")
        time.sleep(0.005)
    t0 = now()
    deadline = t0 + a.timeout
    t_up = None if a.sock else 0.0
    t_echo = None
    while now() < deadline:
        if t_up is None and tstate(a.sock, a.tunnel) == "up":
            t_up = now() - t0
        if t_up is not None and echo_once(a.port):
            t_echo = now() - t0
            break
        time.sleep(0.02)
    if t_echo is None:
        sys.exit("recover: not back after %gs" % a.timeout)
    print("%.3f %.3f %.3f" % (max(t_up, t_echo), t_up, t_echo))


def cmd_deadpath(a):
    os.kill(a.stop, signal.SIGSTOP)
    t0 = now()
    deadline = t0 + a.timeout
    while now() < deadline:
        if a.wait_pid:
            if proc_gone(a.wait_pid):
                break
        else:
            st = tstate(a.sock, a.tunnel)
            if st is not None and st != "up":
                break
        time.sleep(0.01)
    else:
        sys.exit("deadpath: still up after %gs" % a.timeout)
    print("%.3f" % (now() - t0))


def probe_loop(s, interval, until, samples, stop_flag=None, stamps=None):
    nxt = now()
    while now() < until and not (stop_flag and stop_flag()):
        t = now()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise SystemExit("stall: echo connection closed")
        samples.append((now() - t) * 1000.0)
        if stamps is not None:
            stamps.append(t)
        nxt += interval
        d = nxt - now()
        if d > 0:
            time.sleep(d)
        else:
            nxt = now()


def pct(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(q * len(v)))]


def cmd_stall(a):
    s = socket.create_connection((HOST, a.echo_port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)
    iv = a.interval_ms / 1000.0
    # warm up the channel, then idle baseline
    probe_loop(s, iv, now() + 0.2, [])
    idle = []
    probe_loop(s, iv, now() + a.idle_s, idle)
    ups = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "upload",
                             str(a.upload_port), str(a.mib)],
                            stdout=subprocess.PIPE)
           for _ in range(a.n)]
    direct = None
    if a.direct_port:
        # the same probe straight to the echo server, in its own process: what
        # the machine (scheduler, VM) adds without any tunnel
        direct = subprocess.Popen([sys.executable, os.path.abspath(__file__), "probe",
                                   str(a.direct_port), str(a.max_s),
                                   str(a.interval_ms)], stdout=subprocess.PIPE)
    t0 = now()
    c0 = cpu_s(a.pid)
    busy = []
    stamps = []
    probe_loop(s, iv, t0 + a.max_s, busy,
               lambda: all(p.poll() is not None for p in ups), stamps)
    dur = now() - t0
    d = {}
    if direct:
        direct.send_signal(signal.SIGINT)
        d = json.loads(direct.communicate()[0])
        # tunnel probes over 10 ms with no direct probe over 5 ms within 20 ms
        # of them: stalls of the tunnel, not of the machine
        spikes = [(t - 0.02, t + r / 1000.0 + 0.02) for t, r in d.pop("spikes")]
        own = [x for t, x in zip(stamps, busy) if x > 10.0 and not any(
            lo <= t + x / 1000.0 and t <= hi for lo, hi in spikes)]
        d = {"direct_" + k: v for k, v in d.items()}
        d["own_over10"] = len(own)
        d["own_max"] = max(own) if own else 0.0
    cpu = (cpu_s(a.pid) - c0) / dur * 100.0 if a.pid else float("nan")
    done = 0
    for p in ups:
        if p.poll() is None:
            p.kill()
        out, _ = p.communicate()
        if p.returncode == 0:
            done += 1
    s.close()
    print(json.dumps({
        "idle_p50": pct(idle, 0.5), "idle_p99": pct(idle, 0.99),
        "idle_max": max(idle),
        "p50": pct(busy, 0.5), "p99": pct(busy, 0.99), "max": max(busy),
        "samples": len(busy), "over10": sum(1 for x in busy if x > 10.0),
        "uploads_done": done, "uploads": a.n, "seconds": dur,
        "mb_s": done * a.mib * CHUNK / dur / 1e6, "cpu_pct": cpu, **d,
    }))


def cmd_probe(a):
    """Echo probe until SIGINT or the duration; JSON summary and slow probes."""
    s = socket.create_connection((HOST, a.port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(30)
    v, stamps = [], []
    try:
        probe_loop(s, a.interval_ms / 1000.0, now() + a.seconds, v, None, stamps)
    except KeyboardInterrupt:
        pass
    print(json.dumps({
        "p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": max(v) if v else 0.0,
        "samples": len(v), "over10": sum(1 for x in v if x > 10.0),
        "spikes": [(t, x) for t, x in zip(stamps, v) if x > 5.0]}))


def cpu_s(pid):
    """utime + stime of PID in seconds (0 without a pid)."""
    if not pid:
        return 0.0
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def payload():
    return os.urandom(CHUNK)


def cmd_upload(a):
    data = payload()
    s = socket.create_connection((HOST, a.port), 10)
    s.settimeout(None)
    for _ in range(a.mib):
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()


def serve(port, handler):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, port))
    ls.listen(256)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def cmd_sink(a):
    def h(c):
        buf = bytearray(CHUNK)
        try:
            while c.recv_into(buf):
                pass
        except OSError:
            pass
        c.close()
    serve(a.port, h)


def cmd_source(a):
    data = payload()

    def h(c):
        try:
            for _ in range(a.mib):
                c.sendall(data)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        c.close()
    serve(a.port, h)


def cmd_send(a):
    data = payload()
    t0 = now()
    s = socket.create_connection((HOST, a.port), 10)
    s.settimeout(120)
    for _ in range(a.mib):
        s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    dt = now() - t0
    s.close()
    print("%.1f" % (a.mib * CHUNK / dt / 1e6))


def cmd_recv(a):
    buf = bytearray(CHUNK)
    t0 = now()
    s = socket.create_connection((HOST, a.port), 10)
    s.settimeout(120)
    got = 0
    while True:
        n = s.recv_into(buf)
        if not n:
            break
        got += n
    dt = now() - t0
    s.close()
    if got != a.mib * CHUNK:
        sys.exit("recv: %d of %d bytes" % (got, a.mib * CHUNK))
    print("%.1f" % (got / dt / 1e6))


def read_ports(f):
    with open(f) as fh:
        return {int(x) for x in fh.read().split()}


def cmd_waitup(a):
    t0 = now()
    want = read_ports(a.ports_file) if a.ports_file else set()
    while now() < t0 + a.timeout:
        st = status(a.sock)
        if st:
            n = sum(1 for t in st.get("tunnels", []) if t.get("state") == "up")
            if n >= a.count and want <= listening_ports():
                print("%.2f" % (now() - t0))
                return
        time.sleep(0.1)
    sys.exit("waitup: not all up after %gs" % a.timeout)


def cmd_waitports(a):
    t0 = now()
    want = read_ports(a.ports_file)
    while now() < t0 + a.timeout:
        lp = listening_ports()
        if (not (want & lp)) if a.gone else want <= lp:
            print("%.2f" % (now() - t0))
            return
        time.sleep(0.1)
    missing = len(want - listening_ports())
    sys.exit("waitports: %d ports not listening after %gs" % (missing, a.timeout))


# ---- connection rate, latency, fleet ------------------------------------------


def cmd_echoserver(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, a.port))
    ls.listen(1024)
    ls.setblocking(False)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                for _ in range(64):
                    try:
                        c, _ = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    c.setblocking(False)
                    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(c, selectors.EVENT_READ, b"")
                continue
            c = key.fileobj
            try:
                d = c.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            if not d:
                sel.unregister(c)
                c.close()
                continue
            try:
                # small echoes: the reply fits the socket buffer; a blocking
                # send for the rest keeps it simple (the bench never floods it)
                c.setblocking(True)
                c.sendall(d)
                c.setblocking(False)
            except OSError:
                sel.unregister(c)
                c.close()


def cmd_connrate(a):
    lock = threading.Lock()
    st = {"left": a.n, "ok": 0, "fail": 0}
    deadline = now() + a.max_s

    def take():
        with lock:
            if st["left"] <= 0:
                return False
            st["left"] -= 1
            return True

    def worker():
        while now() < deadline and take():
            ok = False
            try:
                s = socket.create_connection((HOST, a.port), 5)
                s.settimeout(5)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(b"x")
                ok = s.recv(1) == b"x"
                s.close()
            except OSError:
                pass
            with lock:
                st["ok" if ok else "fail"] += 1

    # warm-up: a few connections that do not count
    for _ in range(20):
        echo_once(a.port, 5)
    c0 = cpu_s(a.pid)
    t0 = now()
    ths = [threading.Thread(target=worker) for _ in range(a.conc)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    dur = now() - t0
    cpu = (cpu_s(a.pid) - c0) / dur * 100.0 if a.pid else float("nan")
    print(json.dumps({"rate": st["ok"] / dur, "ok": st["ok"], "fail": st["fail"],
                      "seconds": dur, "conc": a.conc, "cpu_pct": cpu}))


def cmd_latency(a):
    s = socket.create_connection((HOST, a.port), 10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(10)
    msg = os.urandom(a.size)
    buf = bytearray(a.size)
    view = memoryview(buf)

    def rt():
        s.sendall(msg)
        got = 0
        while got < a.size:
            n = s.recv_into(view[got:])
            if not n:
                raise SystemExit("latency: connection closed")
            got += n

    for _ in range(100):  # warm-up
        rt()
    v = []
    c0 = cpu_s(a.pid)
    t0 = now()
    for _ in range(a.n):
        t = time.perf_counter()
        rt()
        v.append((time.perf_counter() - t) * 1e6)
    dur = now() - t0
    cpu = (cpu_s(a.pid) - c0) / dur * 100.0 if a.pid else float("nan")
    if bytes(buf) != msg:
        raise SystemExit("latency: echo differs")
    s.close()
    print(json.dumps({"p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": max(v),
                      "mean": statistics.fmean(v), "n": a.n, "cpu_pct": cpu}))


def cmd_fleetstat(a):
    st = status(a.sock) or {}
    ts = st.get("tunnels", [])
    print(json.dumps({
        "tunnels": len(ts),
        "up": sum(1 for t in ts if t.get("state") == "up"),
        "connects": sum(int(t.get("connects") or 0) for t in ts),
        "failures": sum(int(t.get("failures") or 0) for t in ts)}))


def cmd_delay(a):
    import asyncio
    delay = a.ms / 1000.0
    cap = 8 << 20

    async def pipe(r, w):
        q = asyncio.Queue()
        room = asyncio.Semaphore(cap >> 16)

        async def rd():
            while True:
                await room.acquire()
                b = await r.read(65536)
                await q.put((now() + delay, b))
                if not b:
                    return

        async def wr():
            while True:
                t, b = await q.get()
                d = t - now()
                if d > 0:
                    await asyncio.sleep(d)
                room.release()
                if not b:
                    w.write_eof()
                    return
                w.write(b)
                await w.drain()
        await asyncio.gather(rd(), wr())

    async def handle(r, w):
        try:
            r2, w2 = await asyncio.open_connection(HOST, a.target)
        except OSError:
            w.close()
            return
        await asyncio.gather(pipe(r, w2), pipe(r2, w), return_exceptions=True)
        w.close()
        w2.close()

    async def serve_all():
        srv = await asyncio.start_server(handle, HOST, a.port)
        async with srv:
            await srv.serve_forever()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(serve_all())


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("recover")
    p.add_argument("--sshd-port", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--sock")
    p.add_argument("--tunnel")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(f=cmd_recover)
    p = sp.add_parser("deadpath")
    p.add_argument("--stop", type=int, required=True)
    p.add_argument("--sock")
    p.add_argument("--tunnel")
    p.add_argument("--wait-pid", type=int)
    p.add_argument("--timeout", type=float, default=30)
    p.set_defaults(f=cmd_deadpath)
    p = sp.add_parser("stall")
    p.add_argument("--echo-port", type=int, required=True)
    p.add_argument("--upload-port", type=int, required=True)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--mib", type=int, default=16)
    p.add_argument("--interval-ms", type=float, default=5)
    p.add_argument("--idle-s", type=float, default=2)
    p.add_argument("--max-s", type=float, default=90)
    p.add_argument("--pid", type=int, help="report this process's CPU use")
    p.add_argument("--direct-port", type=int, help="also probe this echo port directly")
    p.set_defaults(f=cmd_stall)
    p = sp.add_parser("probe")
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("interval_ms", type=float)
    p.set_defaults(f=cmd_probe)
    for name, f in (("upload", cmd_upload), ("send", cmd_send), ("recv", cmd_recv),
                    ("source", cmd_source)):
        p = sp.add_parser(name)
        p.add_argument("port", type=int)
        p.add_argument("mib", type=int)
        p.set_defaults(f=f)
    p = sp.add_parser("sink")
    p.add_argument("port", type=int)
    p.set_defaults(f=cmd_sink)
    p = sp.add_parser("waitup")
    p.add_argument("--sock", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--ports-file")
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(f=cmd_waitup)
    p = sp.add_parser("waitports")
    p.add_argument("--ports-file", required=True)
    p.add_argument("--gone", action="store_true", help="wait until none listens")
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(f=cmd_waitports)
    p = sp.add_parser("echo")
    p.add_argument("port", type=int)
    p.set_defaults(f=lambda a: sys.exit(0 if echo_once(a.port, 3) else 1))
    p = sp.add_parser("echoserver")
    p.add_argument("port", type=int)
    p.set_defaults(f=cmd_echoserver)
    p = sp.add_parser("connrate")
    p.add_argument("port", type=int)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--max-s", type=float, default=10)
    p.add_argument("--conc", type=int, default=1)
    p.add_argument("--pid", type=int)
    p.set_defaults(f=cmd_connrate)
    p = sp.add_parser("latency")
    p.add_argument("port", type=int)
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--pid", type=int)
    p.set_defaults(f=cmd_latency)
    p = sp.add_parser("delay")
    p.add_argument("port", type=int)
    p.add_argument("target", type=int)
    p.add_argument("ms", type=float)
    p.set_defaults(f=cmd_delay)
    p = sp.add_parser("fleetstat")
    p.add_argument("--sock", required=True)
    p.set_defaults(f=cmd_fleetstat)
    a = ap.parse_args()
    a.f(a)


if __name__ == "__main__":
    main()
