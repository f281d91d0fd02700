#!/usr/bin/python3
"""ticket-reuse-probe: does a MySQL/MariaDB server resume one TLS 1.3 ticket more than once?

warmpool learns this by itself (README, "TLS session resumption"); this asks the
same question from outside, with Python's OpenSSL client: one full handshake,
then three resumptions offering the very same SSL_SESSION, each reporting
SSL_session_reused. It logs in as nobody (the answer is an error; the tickets
come before it), so no password is needed.

  tools/ticket-reuse-probe.py --port 3306 --ca ca.pem [--host 127.0.0.1]
"""
import argparse
import socket
import ssl
import struct

# CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
CAPS = 0x00000200 | 0x00000800 | 0x00008000 | 0x00080000


def read_packet(sock):
    """One MySQL packet: (sequence id, payload)."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("server closed the connection")
            data += chunk
        return data
    hdr = exactly(4)
    return hdr[3], exactly(hdr[0] | hdr[1] << 8 | hdr[2] << 16)


def frame(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def connect(args, ctx, session=None):
    """One connection: SSLRequest, TLS (offering |session|), a login the
    server refuses. Returns (resumed, the newest session)."""
    raw = socket.create_connection((args.host, args.port), timeout=10)
    seq, _ = read_packet(raw)
    prefix = struct.pack("<IIB23x", CAPS, 1 << 24, 33)
    raw.sendall(frame(seq + 1, prefix))
    s = ctx.wrap_socket(raw, session=session, server_hostname=args.host)
    s.sendall(frame(seq + 2, prefix + b"nobody\0\0mysql_native_password\0"))
    read_packet(s)  # the server's answer; its tickets were read before it
    resumed, newest = s.session_reused, s.session
    s.close()
    return resumed, newest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True, help="the server's CA (PEM)")
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.ca)
    ctx.check_hostname = False  # the question is resumption, not the name
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    full, session = connect(args, ctx)
    results = [connect(args, ctx, session)[0] for _ in range(3)]
    print(f"{args.host}:{args.port}: full handshake (resumed={full}); the same ticket offered "
          f"3 times: resumed={results}")
    print("reuse accepted" if all(results) else
          "single use" if results[0] and not any(results[1:]) else "no resumption")


if __name__ == "__main__":
    main()
