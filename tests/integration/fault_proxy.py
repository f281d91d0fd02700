"""A plaintext TCP proxy in front of a real server that fails one chosen command
on purpose, so that tests can check with the server's own rows what ran.

Each armed fault fires once, on the next command frame (sequence id 0) from
warmpool whose payload it matches; then the proxy's connection is cut:

- "abort": the command never reaches the server; warmpool gets ERR 1053
  "Server shutdown in progress" as its answer, as MySQL answers a statement it
  aborts as it shuts down (the statement did not run).
- "lost": the command reaches the server and runs; its answer is dropped and
  the connection closed without a word (the statement ran; nothing says so).
- "abort_result": as "abort", but the ERR 1053 comes after a result's column
  definition, as MySQL ends a SELECT it shuts down under (no EOF: its status
  flags would be the proxy's guess).
- "dropped": the command never reaches the server, and the connection is
  closed without a word (nothing ran; nothing says so).
- "deadlock": the server gets a ROLLBACK in place of the command, and warmpool
  ERR 1213 as its answer, as a server answers the victim of a deadlock (its
  whole transaction rolled back); the connection stays.

The backend of warmpool must use ssl_mode = disabled (the proxy reads frames).
"""
import socket
import struct
import threading
import time

SHUTDOWN_ERR = b"\xff" + struct.pack("<H", 1053) + b"#08S01Server shutdown in progress"
COLUMN_DEF = (b"\x03def" + b"\x00" * 4 + b"\x01x" + b"\x00" + b"\x0c" + struct.pack("<H", 63)
              + struct.pack("<I", 21) + b"\x08" + struct.pack("<H", 0) + b"\x00" + b"\x00\x00")
DEADLOCK_ERR = (b"\xff" + struct.pack("<H", 1213)
                + b"#40001Deadlock found when trying to get lock; try restarting transaction")


def frame(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


class FaultProxy:
    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.armed = []  # (fault, match): match(payload) -> bool
        self.fired = []  # the faults that fired, in order
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, fault, match):
        """Fails the next command whose payload (command byte first) |match|es."""
        assert fault in ("abort", "abort_result", "lost", "dropped", "deadlock")
        with self.lock:
            self.armed.append((fault, match))

    def _take(self, payload):
        with self.lock:
            for i, (fault, match) in enumerate(self.armed):
                if match(payload):
                    del self.armed[i]
                    self.fired.append(fault)
                    return fault
        return None

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            state = {"swallow": False}
            with self.lock:
                self.conns += [client, server]
            threading.Thread(target=self._up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self._down, args=(client, server, state), daemon=True).start()

    @staticmethod
    def _cut(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _up(self, client, server, state):
        """warmpool -> server, frame by frame."""
        buf = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 4:
                    n = buf[0] | buf[1] << 8 | buf[2] << 16
                    if len(buf) < 4 + n:
                        break
                    seq, payload, whole = buf[3], buf[4:4 + n], buf[:4 + n]
                    buf = buf[4 + n:]
                    fault = self._take(payload) if seq == 0 and payload else None
                    if fault == "abort":
                        client.sendall(frame(1, SHUTDOWN_ERR))
                        time.sleep(0.05)
                        self._cut(client, server)
                        return
                    if fault == "abort_result":
                        client.sendall(frame(1, b"\x01") + frame(2, COLUMN_DEF)
                                       + frame(3, SHUTDOWN_ERR))
                        time.sleep(0.05)
                        self._cut(client, server)
                        return
                    if fault == "dropped":
                        self._cut(client, server)
                        return
                    if fault == "deadlock":
                        state["deadlock"] = True  # its OK becomes the ERR
                        server.sendall(frame(0, b"\x03ROLLBACK"))
                        continue
                    if fault == "lost":
                        state["swallow"] = True  # before the server can answer
                    server.sendall(whole)
                    if fault == "lost":
                        time.sleep(1.0)  # the server ran it and answered: dropped
                        self._cut(client, server)
                        return
        except OSError:
            pass
        self._cut(client, server)

    def _down(self, client, server, state):
        """server -> warmpool, as it comes (dropped once a "lost" fault fired)."""
        try:
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if state.get("deadlock"):  # the OK of the ROLLBACK, alone: nothing else asked
                    while len(data) < 4 or len(data) < 4 + (data[0] | data[1] << 8 | data[2] << 16):
                        data += server.recv(65536)
                    state["deadlock"] = False
                    client.sendall(frame(1, DEADLOCK_ERR))
                    continue
                if not state["swallow"]:
                    client.sendall(data)
        except OSError:
            pass
        self._cut(client, server)

    def cut(self):
        """Closes every connection open now without a word, as a server that
        goes away between statements."""
        with self.lock:
            conns, self.conns = self.conns, []
        self._cut(*conns)

    def close(self):
        self.listener.close()
        with self.lock:
            self._cut(*self.conns)
