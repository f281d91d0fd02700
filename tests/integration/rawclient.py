"""A minimal MySQL client over a plain socket, for tests that must choose every
byte a driver would send (pipelining, prepared-statement commands, bad frames)."""
import hashlib
import socket
import struct

CLIENT_CAPS = 0x000aa205  # long password, protocol 41, transactions, secure conn, plugin auth


def frame(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def native_token(password, scramble):
    if not password:
        return b""
    s1 = hashlib.sha1(password.encode()).digest()
    s2 = hashlib.sha1(hashlib.sha1(password.encode()).digest()).digest()
    mix = hashlib.sha1(scramble + s2).digest()
    return bytes(a ^ b for a, b in zip(s1, mix))


def login_payload(user, token, caps=CLIENT_CAPS):
    return (struct.pack("<IIB", caps, 1 << 24, 45) + b"\x00" * 23 + user + b"\x00"
            + bytes([len(token)]) + token + b"mysql_native_password\x00")


def greeting_scramble(payload):
    """The 20-byte scramble of a v10 greeting."""
    version_end = payload.index(b"\x00", 1)
    p = version_end + 1 + 4
    first = payload[p:p + 8]
    p += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
    return first + payload[p:p + 12]


class RawClient:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.scramble = greeting_scramble(self.read_packet()[1])

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError(f"closed after {len(data)} of {n} bytes")
            data += chunk
        return data

    def read_packet(self):
        """(sequence id, payload) of the next frame."""
        header = self.recv_exact(4)
        return header[3], self.recv_exact(header[0] | header[1] << 8 | header[2] << 16)

    def login(self, user="app", password="app-secret", caps=CLIENT_CAPS):
        token = native_token(password, self.scramble)
        self.sock.sendall(frame(1, login_payload(user.encode(), token, caps)))
        _, reply = self.read_packet()
        assert reply[0] == 0x00, f"login refused: {reply!r}"
        return self

    def send(self, payload):
        self.sock.sendall(frame(0, payload))

    def command(self, payload):
        """Sends one command and returns the first packet of its answer."""
        self.send(payload)
        return self.read_packet()[1]

    def prepare(self, sql):
        """COM_STMT_PREPARE; returns the statement id, after reading the whole answer."""
        reply = self.command(b"\x16" + sql.encode())
        assert reply[0] == 0x00, f"prepare failed: {reply!r}"
        stmt_id, columns, params = struct.unpack("<IHH", reply[1:9])
        for _ in range(params + (1 if params else 0) + columns + (1 if columns else 0)):
            self.read_packet()
        return stmt_id

    def close(self):
        self.sock.close()


def err_of(payload):
    """(code, sqlstate, message) of an ERR payload."""
    assert payload[0] == 0xFF, f"not an ERR: {payload!r}"
    code = struct.unpack("<H", payload[1:3])[0]
    return code, payload[4:9].decode(), payload[9:]


def change_user_payload(user, password, scramble, db=b"", plugin=b"mysql_native_password"):
    """COM_CHANGE_USER answering |scramble| (the greeting's) for a native-password user."""
    token = native_token(password, scramble)
    return (b"\x11" + user.encode() + b"\x00" + bytes([len(token)]) + token + db + b"\x00"
            + struct.pack("<H", 45) + plugin + b"\x00")
