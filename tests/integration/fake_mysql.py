"""A fake MySQL 8 backend for the caching_sha2_password paths MariaDB lacks.

It speaks just enough protocol for warmpool to log in and for a client to run
a query through it: the greeting, an optional TLS upgrade, caching_sha2
authentication (fast path, or full authentication in clear over TLS or with
the RSA public key without TLS), then OK for pings, resets and schema changes,
and a one-row result naming the path taken for any query. A query naming a
fault misbehaves on purpose (see FAULTS). Fault injection only: the real
backends of the tests are MariaDB and MySQL.

It also answers COM_STMT_PREPARE (the first prepare of a text succeeds, a
text naming fault:close-after-prepare then loses its connection, and later
prepares of it fail with a long ERR), and with --segment it sends every
byte in a segment of its own (from the greeting on without TLS, after the
login with it), for the paths that read a response as it arrives. A text
naming fault:params=A,B,... lies about its parameters: its first prepare
reports A of them, the second B, and so on (the last one repeated), each
with that many parameter definitions; an execute of such a statement is
answered with an OK whose info echoes what arrived (see execute_echo).

Hostile authentication (a man in the middle that stripped TLS, or a server
asking for more than it should): --auth clear switches to mysql_clear_password;
--auth pushkey asks for full authentication and sends its own RSA key unasked.
--record FILE appends one line per authentication answer received, saying
whether it held the password (in clear, or encrypted to this fake's key).
--shutdown FILE plays a server shutting down once FILE exists: connections
opened before it answer their next command with ERR 1053 and close, as MySQL
does; connections opened after it are served (the server that came back).
With --unasked, they do not wait for a command: they send the ERR 1053 as soon
as FILE appears, between statements, and close.
--change-user switch|full answers COM_CHANGE_USER (warmpool's reset) with an
auth switch to caching_sha2_password (new scramble, then fast auth), or with
"perform full authentication"; by default with a plain OK.

    fake_mysql.py --port P --auth fast|full|clear|pushkey [--cert C --key K] --password PW
                  [--record FILE] [--segment]
"""
import argparse
import hashlib
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_SSL = 0x800
CAPS = (0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000
        | 0x200000)


def frame(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def read_packet(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data
    header = exact(4)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], exact(length)


def ok(seq):
    return frame(seq, b"\x00\x00\x00\x02\x00\x00\x00")


def err(seq, code, message):
    return frame(seq, b"\xff" + struct.pack("<H", code) + b"#28000" + message.encode())


def lenenc_str(s):
    return bytes([len(s)]) + s


def result_set(text):
    col = (lenenc_str(b"def") + lenenc_str(b"") + lenenc_str(b"") + lenenc_str(b"")
           + lenenc_str(b"v") + lenenc_str(b"v") + b"\x0c" + struct.pack("<HIBHB", 45, 255, 253, 0, 0)
           + b"\x00\x00")
    eof = b"\xfe\x00\x00\x02\x00"
    return (frame(1, b"\x01") + frame(2, col) + frame(3, eof)
            + frame(4, lenenc_str(text.encode())) + frame(5, eof))


def row_packets(first_seq, count, width=200):
    return b"".join(frame(first_seq + i, lenenc_str(b"r" * width)) for i in range(count))


def fault_stall(sock):
    """Half a result set, then silence with the connection open."""
    sock.sendall(result_set("x")[:20])
    threading.Event().wait()


def fault_reset(sock):
    """Half a result set, then a TCP reset."""
    sock.sendall(result_set("x")[:20])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    raise EOFError


def fault_badseq(sock):
    """A result whose packets carry wrong sequence ids."""
    whole = bytearray(result_set("x"))
    whole[3] = 9  # the first packet says 9 instead of 1
    sock.sendall(bytes(whole))


def fault_flood(sock):
    """A result set that never ends, sent as fast as the socket takes it."""
    sock.sendall(result_set("x")[:-9])  # everything but the closing EOF
    while True:
        sock.sendall(row_packets(5, 256))  # 256 packets: the sequence ids wrap in step


def fault_oversized(sock):
    """One row of 40 MiB: a packet of three 16 MiB frames."""
    size = 40 << 20
    value = b"\xfe" + struct.pack("<Q", size) + b"z" * size  # lenenc string, 8-byte length
    head = result_set("x")[:-9 - 6]  # the header, columns and EOF; no row, no final EOF
    sock.sendall(head)
    seq, off = 4, 0
    while True:
        chunk = value[off:off + 0xFFFFFF]
        sock.sendall(frame(seq, chunk))
        seq, off = seq + 1, off + len(chunk)
        if len(chunk) < 0xFFFFFF:
            break
    sock.sendall(frame(seq, b"\xfe\x00\x00\x02\x00"))


KILLED_ONCE = set()


def fault_killmid(sock):
    """Once per server: the statement killed by a shutdown after its result
    header went out, in the same write (as MySQL does): header, ERR 1053, close.
    Asked again (on a new connection), it is answered."""
    if "killmid" in KILLED_ONCE:
        sock.sendall(result_set("fast:tls"))
        return
    KILLED_ONCE.add("killmid")
    whole = result_set("x")
    header = whole[:len(whole) - 9 - 6]  # column count, definition, EOF
    sock.sendall(header + err(4, 1053, "Server shutdown in progress"))
    sock.close()
    raise EOFError


def fault_infile(sock):
    """LOAD DATA LOCAL: asks for a file, reads it to its empty packet, and
    says in its OK how many bytes came."""
    sock.sendall(frame(1, b"\xfbrows.tsv"))
    total = 0
    while True:
        seq, data = read_packet(sock)
        if not data:
            break
        total += len(data)
    sock.sendall(frame(seq + 1, b"\x00\x00\x00\x02\x00\x00\x00" + f"infile bytes={total}".encode()))


# An ERR longer than the head of a packet warmpool's tracker reads.
LONG_QUERY_ERROR = ("the query failed: " + "no such column; " * 10).encode()


def fault_error(sock):
    """An ERR, longer than any head warmpool reads ahead."""
    sock.sendall(frame(1, b"\xff" + struct.pack("<H", 1054) + b"#42S22" + LONG_QUERY_ERROR))


def fault_farewell(sock):
    """Once per server: the ERR a server sends unasked, numbered 0, as it closes
    a connection (MySQL's wait_timeout: 4031), crossing the command on the
    wire: the command is never read. Asked again (on a new connection), it is
    answered."""
    if "farewell" in KILLED_ONCE:
        sock.sendall(result_set("fast:tls"))
        return
    KILLED_ONCE.add("farewell")
    sock.sendall(err(0, 4031, "The client was disconnected by the server because of inactivity"))
    sock.close()
    raise EOFError


PEER_ASKED = threading.Event()
FIRST_DIED = threading.Event()


def fault_dies_first(sock):
    """Once per server: waits for a fault:answers-then-dies statement on
    another connection, then closes without answering; that one is answered
    right after, and its connection closed too (a restart closing every
    connection, an answer slipping out first). Asked again, it is answered."""
    if "dies-first" in KILLED_ONCE:
        sock.sendall(result_set("fast:tls"))
        return
    KILLED_ONCE.add("dies-first")
    PEER_ASKED.wait(10)
    sock.close()
    FIRST_DIED.set()
    raise EOFError


def fault_answers_then_dies(sock):
    """See fault_dies_first."""
    PEER_ASKED.set()
    FIRST_DIED.wait(10)
    sock.sendall(result_set("fast:tls"))
    sock.close()
    raise EOFError


FAULTS = {b"fault:error": fault_error, b"fault:infile": fault_infile, b"fault:stall": fault_stall,
          b"fault:dies-first": fault_dies_first, b"fault:answers-then-dies": fault_answers_then_dies,
          b"fault:killmid": fault_killmid, b"fault:farewell": fault_farewell, b"fault:reset": fault_reset,
          b"fault:badseq": fault_badseq, b"fault:flood": fault_flood,
          b"fault:oversized": fault_oversized}


# A prepare that fails is answered with this, longer than any head warmpool
# reads ahead: the whole of it must reach the client, nothing else.
LONG_PREPARE_ERROR = ("the statement no longer prepares: " + "table t was dropped; " * 12).encode()
prepares_seen = {}
prepares_lock = threading.Lock()


# Statements prepared under fault:params: backend id -> parameters reported.
lying_statements = {}


def params_fault(text):
    """The parameter counts a fault:params=A,B,... text reports, in turn; None
    for an honest text."""
    at = text.find(b"fault:params=")
    if at < 0:
        return None
    counts = text[at + len(b"fault:params="):].split(b"'")[0].split(b" ")[0]
    return [int(n) for n in counts.split(b",")]


def prepare_ok(stmt_id, params):
    """A prepare's whole answer: OK, |params| definitions and their EOF, no columns."""
    eof = b"\xfe\x00\x00\x02\x00"
    out = frame(1, b"\x00" + struct.pack("<IHHBH", stmt_id, 0, params, 0, 0))
    for i in range(params):
        out += frame(2 + i, param_definition())
    if params:
        out += frame(2 + params, eof)
    return out


def param_definition():
    """A column definition as servers send them for a parameter ('?', BIGINT)."""
    return (lenenc_str(b"def") + lenenc_str(b"") + lenenc_str(b"") + lenenc_str(b"")
            + lenenc_str(b"?") + lenenc_str(b"") + b"\x0c"
            + struct.pack("<HIBHB", 63, 21, 8, 0x80, 0) + b"\x00\x00")


def execute_echo(payload):
    """COM_STMT_EXECUTE of a lying statement: an OK whose info says which
    statement ran, with how many parameters it was prepared, and the bytes of
    the execute after the id, in hex; a plain OK for any other statement."""
    stmt_id = struct.unpack("<I", payload[1:5])[0] if len(payload) >= 5 else 0
    with prepares_lock:
        params = lying_statements.get(stmt_id)
    if params is None:
        return ok(1)
    info = f"stmt={stmt_id} params={params} rest={payload[5:].hex()}".encode()
    return frame(1, b"\x00\x00\x00\x02\x00\x00\x00" + info)


def prepare_reply(payload):
    """COM_STMT_PREPARE: OK (no parameters, no columns) the first time a text is
    seen, the long ERR after that; a fault:params text as it says."""
    text = payload[1:]
    with prepares_lock:
        seen = prepares_seen.get(text, 0)
        prepares_seen[text] = seen + 1
        counts = params_fault(text)
        if counts is not None:
            stmt_id = 100 + sum(prepares_seen.values())
            lying_statements[stmt_id] = counts[min(seen, len(counts) - 1)]
            return prepare_ok(stmt_id, lying_statements[stmt_id])
    if seen == 0:
        return frame(1, b"\x00" + struct.pack("<IHHBH", 7 + len(prepares_seen), 0, 0, 0, 0))
    return frame(1, b"\xff" + struct.pack("<H", 1146) + b"#42S02" + LONG_PREPARE_ERROR)


class Segmented:
    """A socket whose sendall writes one byte per segment."""

    def __init__(self, sock):
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def sendall(self, data):
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(0.0002)

    def __getattr__(self, name):
        return getattr(self.sock, name)


RECORD_LOCK = threading.Lock()


def sha2_token(password, scramble):
    s1 = hashlib.sha256(password).digest()
    s2 = hashlib.sha256(s1).digest()
    mix = hashlib.sha256(s2 + scramble).digest()
    return bytes(a ^ b for a, b in zip(s1, mix))


class Session:
    def __init__(self, sock, args, key):
        self.sock, self.args, self.key = sock, args, key
        self.scramble = bytes(0x30 + (b % 0x40) for b in os.urandom(20))
        self.tls = False
        self.born = time.time()

    def wait_command(self):
        """With --unasked: returns False (having sent ERR 1053 unasked and
        closed) when the shutdown begins before the next command arrives."""
        if not (self.args.shutdown and self.args.unasked):
            return True
        while True:
            pending = getattr(self.sock, "pending", lambda: 0)()
            if pending or select.select([self.sock], [], [], 0.02)[0]:
                return True
            path = self.args.shutdown
            if os.path.exists(path) and os.path.getmtime(path) >= self.born:
                self.sock.sendall(err(0, 1053, "Server shutdown in progress"))
                self.sock.close()
                return False

    def shut_down(self):
        """True (having answered ERR 1053 and closed) if the shutdown began
        after this connection was opened."""
        path = self.args.shutdown
        if not path or not os.path.exists(path) or os.path.getmtime(path) < self.born:
            return False
        self.sock.sendall(err(1, 1053, "Server shutdown in progress"))
        self.sock.close()
        return True

    def greet(self):
        caps = CAPS | (CLIENT_SSL if self.args.cert else 0)
        payload = (b"\x0a" + b"8.0.36-fake\x00" + struct.pack("<I", 7) + self.scramble[:8] + b"\x00"
                   + struct.pack("<HBHH", caps & 0xFFFF, 45, 2, caps >> 16) + bytes([21])
                   + b"\x00" * 10 + self.scramble[8:] + b"\x00" + b"caching_sha2_password\x00")
        self.sock.sendall(frame(0, payload))

    def login(self):
        seq, payload = read_packet(self.sock)
        caps = struct.unpack("<I", payload[:4])[0]
        if len(payload) == 32 and caps & CLIENT_SSL:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.args.cert, self.args.key)
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
            self.tls = True
            seq, payload = read_packet(self.sock)
        rest = payload[32:]
        user, rest = rest.split(b"\x00", 1)
        token = rest[1:1 + rest[0]]
        return seq, user, token

    def record(self, kind, answer):
        """Notes what warmpool answered: did the password reach this peer?"""
        if not self.args.record:
            return
        password = self.args.password.encode()
        with RECORD_LOCK, open(self.args.record, "a") as f:
            f.write(f"{kind} tls={self.tls} len={len(answer)} "
                    f"password={'yes' if password in answer else 'no'}\n")

    def decrypt(self, encrypted):
        """The password, if it was encrypted to this fake's key; else None."""
        try:
            plain = self.key.decrypt(encrypted, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                             algorithm=hashes.SHA1(), label=None))
        except ValueError:
            self.record("rsa-undecryptable", encrypted)
            return None
        clear = bytes(b ^ self.scramble[i % 20] for i, b in enumerate(plain))
        self.record("rsa-decrypted", clear)
        return clear

    def pem(self):
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)

    def authenticate(self, seq, token):
        password = self.args.password.encode()
        if self.args.auth == "clear":
            self.sock.sendall(frame(seq + 1, b"\xfe" + b"mysql_clear_password\x00"))
            seq, answer = read_packet(self.sock)
            self.record("clear", answer)
            return seq, answer == password + b"\x00", "clear"
        if self.args.auth == "pushkey":
            # Full authentication, and a key warmpool never asked for.
            self.sock.sendall(frame(seq + 1, b"\x01\x04") + frame(seq + 2, b"\x01" + self.pem()))
            seq, answer = read_packet(self.sock)
            self.record("full-answer", answer)
            if len(answer) > 1:
                self.decrypt(answer)
            seq, answer = read_packet(self.sock)  # an answer to the pushed key, if any
            self.record("pushed-key-answer", answer)
            return seq, self.decrypt(answer) == password + b"\x00", "pushkey"
        if self.args.auth == "fast":
            if token != sha2_token(password, self.scramble):
                return seq, False, "fast"
            self.sock.sendall(frame(seq + 1, b"\x01\x03"))
            return seq + 1, True, "fast"
        self.sock.sendall(frame(seq + 1, b"\x01\x04"))  # perform full authentication
        seq, answer = read_packet(self.sock)
        self.record("full-answer", answer)
        if self.tls:
            return seq, answer == password + b"\x00", "full-tls"
        if answer != b"\x02":  # encrypted to a key warmpool was configured with
            return seq, self.decrypt(answer) == password + b"\x00", "full-rsa-configured"
        self.sock.sendall(frame(seq + 1, b"\x01" + self.pem()))
        seq, encrypted = read_packet(self.sock)
        return seq, self.decrypt(encrypted) == password + b"\x00", "full-rsa"

    def change_user(self, payload):
        password = self.args.password.encode()
        if self.args.change_user == "switch":
            self.scramble = bytes(0x30 + (b % 0x40) for b in os.urandom(20))
            self.sock.sendall(frame(1, b"\xfe" + b"caching_sha2_password\x00" + self.scramble
                                    + b"\x00"))
            seq, token = read_packet(self.sock)
            good = token == sha2_token(password, self.scramble)
            self.record("change-user-switch", token)
            self.sock.sendall(frame(seq + 1, b"\x01\x03") + ok(seq + 2) if good
                              else err(seq + 1, 1045, "Access denied"))
            return
        self.sock.sendall(frame(1, b"\x01\x04"))  # full
        seq, answer = read_packet(self.sock)
        self.record("change-user-full", answer)
        if self.tls:
            good = answer == password + b"\x00"
        elif answer == b"\x02":
            self.sock.sendall(frame(seq + 1, b"\x01" + self.pem()))
            seq, answer = read_packet(self.sock)
            good = self.decrypt(answer) == password + b"\x00"
        else:
            good = self.decrypt(answer) == password + b"\x00"
        self.sock.sendall(ok(seq + 1) if good else err(seq + 1, 1045, "Access denied"))

    def serve(self):
        if self.args.segment and not self.args.cert:
            self.sock = Segmented(self.sock)  # the login's replies too
        self.greet()
        seq, user, token = self.login()
        seq, good, path = self.authenticate(seq, token)
        print(f"auth path={path} tls={self.tls} ok={good}", flush=True)
        if not good:
            self.sock.sendall(err(seq + 1, 1045, f"Access denied for user '{user.decode()}'"))
            return
        self.sock.sendall(ok(seq + 1))
        if self.args.segment and not isinstance(self.sock, Segmented):
            self.sock = Segmented(self.sock)
        while True:
            if not self.wait_command():
                return
            seq, payload = read_packet(self.sock)
            command = payload[0]
            if command == 0x01:  # COM_QUIT
                return
            if self.shut_down():
                return
            if command == 0x19:  # COM_STMT_CLOSE: no reply
                continue
            if command == 0x16:  # COM_STMT_PREPARE
                self.sock.sendall(prepare_reply(payload))
                if b"fault:close-after-prepare" in payload and payload[1:] in prepares_seen \
                        and prepares_seen[payload[1:]] == 1:
                    raise EOFError
                continue
            if command == 0x17:  # COM_STMT_EXECUTE
                self.sock.sendall(execute_echo(payload))
            elif command == 0x03 and payload[1:4].upper() in (b"SET", b"DO "):
                self.sock.sendall(ok(1))  # warmpool's SET NAMES, its diagnostics clearing
            elif command == 0x03:  # COM_QUERY
                fault = next((f for name, f in FAULTS.items() if name in payload), None)
                if fault:
                    fault(self.sock)
                else:
                    self.sock.sendall(result_set(f"{path}:{'tls' if self.tls else 'plain'}"))
            elif command == 0x11 and self.args.change_user:  # COM_CHANGE_USER
                self.change_user(payload)
            else:  # COM_PING, COM_INIT_DB, COM_RESET_CONNECTION, ...
                self.sock.sendall(ok(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--auth", choices=["fast", "full", "clear", "pushkey"], required=True)
    ap.add_argument("--record")
    ap.add_argument("--change-user", choices=["switch", "full"])
    ap.add_argument("--shutdown")
    ap.add_argument("--unasked", action="store_true")
    ap.add_argument("--password", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--segment", action="store_true")
    args = ap.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if args.record:  # the key's public half, for tests that configure it in warmpool
        with open(args.record + ".pub", "wb") as f:
            f.write(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(64)
    print("ready", flush=True)

    def run(conn):
        try:
            Session(conn, args, key).serve()
        except (EOFError, OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=run, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
