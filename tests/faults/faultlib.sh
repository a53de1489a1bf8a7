# Copyright (c) 2026 The tunsup authors
# SPDX-License-Identifier: ISC (see LICENSE)
# faultlib.sh: helpers shared by the fault suite, sourced after "$TESTLIB".

# stream_clients PORT N OUTFILE: N clients connect to 127.0.0.1:PORT (an echo
# service) and send and read back without pause until the connection ends.
# Runs in the background (tracked; STREAM_PID is its pid); when all have ended
# OUTFILE gets one line per client:
#	conn I BYTES_BACK HOW UNIX_TIME
# HOW is eof, reset, closed or hung (no byte either way for 60 s).
stream_clients() {
	python3 - "$1" "$2" "$3" <<'PY' &
import os, socket, sys, threading, time
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
res = []
lock = threading.Lock()

def one(i):
    st = {"got": 0, "how": "?"}
    try:
        s = socket.create_connection(("127.0.0.1", port), 10)
    except OSError as e:
        with lock:
            res.append("conn %d 0 connect-failed %.3f" % (i, time.time()))
        return
    s.settimeout(60)
    chunk = os.urandom(16384)

    def reader():
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    st["how"] = "eof"
                    return
                st["got"] += len(b)
        except socket.timeout:
            st["how"] = "hung"
        except ConnectionResetError:
            st["how"] = "reset"
        except OSError:
            st["how"] = "closed"

    t = threading.Thread(target=reader)
    t.start()
    try:
        while t.is_alive():
            s.sendall(chunk)
    except socket.timeout:
        st["how"] = "hung"
    except OSError:
        pass
    t.join()
    s.close()
    with lock:
        res.append("conn %d %d %s %.3f" % (i, st["got"], st["how"], time.time()))

ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as f:
    f.write("\n".join(res) + "\n")
PY
	STREAM_PID=$!
	track "$STREAM_PID"
}
