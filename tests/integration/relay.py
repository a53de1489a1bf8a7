#!/usr/bin/env python3
# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
"""TCP relay on 127.0.0.1 for tunsup's integration tests.

    relay.py [--pidfile FILE] [--rate BYTES_PER_SEC] [--hold SECONDS]
             [--sockbuf BYTES] LISTEN_PORT TARGET_PORT

One process, one selector loop, non-blocking sockets. Each accepted connection is
joined to a new connection to 127.0.0.1:TARGET_PORT and bytes are copied both ways
(half-close passed on). Used to make a black hole: `kill -STOP` freezes the relay
(established connections stall, new connections complete in the kernel backlog but
never see a banner), `kill -CONT` resumes it. `--rate` throttles each direction of
each connection to about BYTES_PER_SEC. `--hold` keeps what the target sends and
passes it on every SECONDS in one write, so that packets the target sent apart
arrive together (tests/integration/remote_port0.sh). `--sockbuf` fixes the
send and receive buffers of the relay's sockets (no autotuning), so that
little is in flight past the relay and a frozen relay soon fills the client's
socket (tests/faults/sigterm_stalled.sh).

SIGUSR1 black-holes the connections open at that moment and only those: the relay
stops reading and writing them but keeps both sockets open, so neither end sees an
error or a close; connections accepted later are relayed as usual (a client whose
path went silent while the server still holds its session: contrib/demo.sh). It
says "relay: black-holed N connections" on stderr.
"""

import argparse
import errno
import os
import selectors
import signal
import socket
import sys
import time

BUF = 65536
HOST = "127.0.0.1"


class Side:
    """One socket and the bytes waiting to be written to it."""

    def __init__(self, sock):
        self.sock = sock
        self.out = bytearray()
        self.eof_in = False  # we read EOF from this socket
        self.shut_out = False  # we sent FIN to this socket
        self.connected = True


class Pair:
    def __init__(self, relay, client, server):
        self.relay = relay
        self.a = Side(client)
        self.b = Side(server)
        self.b.connected = False
        self.peer = {self.a: self.b, self.b: self.a}
        self.closed = False
        self.frozen = False
        # rate limiting: bytes allowed per direction (token bucket, 1 s burst)
        self.tokens = {self.a: 0.0, self.b: 0.0}
        self.last = time.monotonic()
        # --hold: how many bytes of a.out (from the target) may be written
        self.release = 0

    def refill(self):
        rate = self.relay.rate
        if not rate:
            return
        now = time.monotonic()
        for s in self.tokens:
            self.tokens[s] = min(rate, self.tokens[s] + (now - self.last) * rate)
        self.last = now

    def budget(self, src):
        if not self.relay.rate:
            return BUF
        return int(min(BUF, self.tokens[src]))

    def events(self, side):
        ev = 0
        other = self.peer[side]
        if side.connected and not side.eof_in and len(other.out) < BUF \
                and self.budget(side) > 0:
            ev |= selectors.EVENT_READ
        if not side.connected or (side.out and self.writable(side)):
            ev |= selectors.EVENT_WRITE
        return ev

    def writable(self, side):
        return not self.relay.hold or side is not self.a or self.release > 0

    def update(self):
        if self.closed or self.frozen:
            return
        for side in (self.a, self.b):
            ev = self.events(side)
            key = self.relay.sel.get_map().get(side.sock)
            if ev and key is None:
                self.relay.sel.register(side.sock, ev, (self, side))
            elif ev and key.events != ev:
                self.relay.sel.modify(side.sock, ev, (self, side))
            elif not ev and key is not None:
                self.relay.sel.unregister(side.sock)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for side in (self.a, self.b):
            if side.sock in self.relay.sel.get_map():
                self.relay.sel.unregister(side.sock)
            side.sock.close()
        self.relay.pairs.discard(self)

    def freeze(self):
        """Never read or write again; keep both sockets open (the relay holds us)."""
        self.frozen = True
        for side in (self.a, self.b):
            if side.sock in self.relay.sel.get_map():
                self.relay.sel.unregister(side.sock)

    def handle(self, side, mask):
        other = self.peer[side]
        if mask & selectors.EVENT_WRITE:
            if not side.connected:
                err = side.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.close()
                    return
                side.connected = True
            if side.out and self.writable(side):
                held = self.relay.hold and side is self.a
                try:
                    n = side.sock.send(side.out[:self.release] if held else side.out)
                except BlockingIOError:
                    n = 0
                except OSError:
                    self.close()
                    return
                del side.out[:n]
                if held:
                    self.release -= n
        if mask & selectors.EVENT_READ:
            self.refill()
            want = self.budget(side)
            try:
                data = side.sock.recv(want) if want > 0 else None
            except BlockingIOError:
                data = None
            except OSError:
                self.close()
                return
            if data == b"":
                side.eof_in = True
            elif data:
                if self.relay.rate:
                    self.tokens[side] -= len(data)
                other.out += data
        # pass a half-close on once everything before it was written
        for s in (self.a, self.b):
            o = self.peer[s]
            if s.eof_in and not o.out and not o.shut_out and o.connected:
                try:
                    o.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                o.shut_out = True
        if self.a.eof_in and self.b.eof_in and not self.a.out and not self.b.out:
            self.close()
            return
        self.update()


class Relay:
    def __init__(self, lport, tport, rate, hold, sockbuf=0):
        self.tport = tport
        self.rate = rate
        self.hold = hold
        self.next_release = time.monotonic() + hold
        self.sel = selectors.DefaultSelector()
        self.pairs = set()
        self.frozen = []  # black-holed pairs, kept so that their sockets stay open
        self.freeze_asked = False
        # SIGUSR1 wakes the loop through this pair (signal.set_wakeup_fd)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # before listen() and connect(): the window scale follows
        self.sockbuf = sockbuf
        self.set_bufs(self.lsock)
        self.lsock.bind((HOST, lport))
        self.lsock.listen(128)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)

    def set_bufs(self, s):
        if self.sockbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.sockbuf)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sockbuf)

    def accept(self):
        try:
            c, _ = self.lsock.accept()
        except (BlockingIOError, InterruptedError):
            return
        c.setblocking(False)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_bufs(s)
        s.setblocking(False)
        err = s.connect_ex((HOST, self.tport))
        if err not in (0, errno.EINPROGRESS):
            c.close()
            s.close()
            return
        p = Pair(self, c, s)
        self.pairs.add(p)
        p.update()

    def freeze(self):
        n = len(self.pairs)
        for p in list(self.pairs):
            p.freeze()
            self.pairs.discard(p)
            self.frozen.append(p)
        print("relay: black-holed %d connections" % n, file=sys.stderr, flush=True)

    def run(self):
        while True:
            # with a rate, wake up to refill buckets of throttled connections
            timeout = 0.05 if self.rate else None
            if self.hold:
                timeout = max(0.0, self.next_release - time.monotonic())
            for key, mask in self.sel.select(timeout):
                if key.data == "wake":
                    try:
                        self.wake_r.recv(512)
                    except BlockingIOError:
                        pass
                elif key.data is None:
                    self.accept()
                else:
                    pair, side = key.data
                    if not pair.closed:
                        pair.handle(side, mask)
            if self.freeze_asked:
                self.freeze_asked = False
                self.freeze()
            if self.rate:
                for p in list(self.pairs):
                    p.refill()
                    p.update()
            if self.hold and time.monotonic() >= self.next_release:
                self.next_release = time.monotonic() + self.hold
                for p in list(self.pairs):
                    p.release = len(p.a.out)
                    p.update()


def main():
    ap = argparse.ArgumentParser(description="TCP relay on 127.0.0.1")
    ap.add_argument("--pidfile")
    ap.add_argument("--rate", type=int, default=0, metavar="BYTES_PER_SEC")
    ap.add_argument("--hold", type=float, default=0, metavar="SECONDS")
    ap.add_argument("--sockbuf", type=int, default=0, metavar="BYTES")
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_port", type=int)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    relay = Relay(args.listen_port, args.target_port, args.rate, args.hold,
                  args.sockbuf)
    # the handler only asks; the loop freezes between two rounds
    signal.set_wakeup_fd(relay.wake_w.fileno())
    signal.signal(signal.SIGUSR1, lambda *_: setattr(relay, "freeze_asked", True))
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    relay.run()


if __name__ == "__main__":
    main()
