#!/usr/bin/python3
"""servers_report: bench/servers.sh's JSON as markdown tables, MariaDB beside MySQL.

    bench/servers_report.py RUN_DIR
"""
import json
import sys
from pathlib import Path

SERVERS = ("mariadb", "mysql")


def load(run, name):
    return json.loads((run / name).read_text())


def tls_share(modes, key, mode):
    """The TLS part of a mode's cost: the mode minus plain (login and quit)."""
    plain = modes["plain"][key] or 0
    return (modes[mode][key] or 0) - plain


def handshake_table(run, versions):
    rows = ["| server | TLS | mode | resumed | handshake p50 ms | p99 ms | client CPU µs | "
            "backend CPU µs/conn |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for server in SERVERS:
        for v in ("1.3", "1.2"):
            modes = load(run, f"{server}-handshake-tls{v}.json")["modes"]
            for mode in ("plain", "full", "resumed"):
                m = modes[mode]
                cpu = m["backend_cpu_us_per_connection"]
                rows.append(f"| {versions[server]} | {v} | {mode} | {m['resumed_fraction']:.1%} | "
                            f"{m['handshake_p50_ms']:.3f} | {m['handshake_p99_ms']:.3f} | "
                            f"{m['client_cpu_us_per_handshake']:.1f} | "
                            f"{'—' if cpu is None else f'{cpu:.1f}'} |")
    return "\n".join(rows)


def ratios_table(run, versions):
    rows = ["| resumed / full (TLS share: minus plain) | " +
            " | ".join(f"{versions[s]} TLS {v}" for s in SERVERS for v in ("1.3", "1.2")) + " |",
            "| --- |" + " --- |" * 4]
    lines = {"backend CPU": [], "client CPU": [], "handshake p50": []}
    for server in SERVERS:
        for v in ("1.3", "1.2"):
            modes = load(run, f"{server}-handshake-tls{v}.json")["modes"]
            full = tls_share(modes, "backend_cpu_us_per_connection", "full")
            res = tls_share(modes, "backend_cpu_us_per_connection", "resumed")
            lines["backend CPU"].append(res / full if full else None)
            lines["client CPU"].append(modes["resumed"]["client_cpu_us_per_handshake"] /
                                       modes["full"]["client_cpu_us_per_handshake"])
            lines["handshake p50"].append(modes["resumed"]["handshake_p50_ms"] /
                                          modes["full"]["handshake_p50_ms"])
    for name, values in lines.items():
        rows.append(f"| {name} | " + " | ".join("—" if x is None else f"**{x:.2f}**"
                                               for x in values) + " |")
    return "\n".join(rows)


def connect_table(run, versions):
    rows = ["| server | target | conns/s | p50 ms | p99 ms | errors | CPU µs/op (server or proxy) |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    summary = []
    for server in SERVERS:
        targets = load(run, f"{server}-connect.json")["targets"]
        for name, t in targets.items():
            cpu = t["cpu_us_per_op"]
            rows.append(f"| {versions[server]} | {name} | {t['rate']:,.0f} | {t['p50_ms']:.3f} | "
                        f"{t['p99_ms']:.3f} | {t['errors']} | "
                        f"{'—' if cpu is None else f'{cpu:,.1f}'} |")
        wp, tls, plain = (targets[n]["rate"] for n in ("warmpool-txn", "direct-tls", "direct"))
        summary.append(f"{versions[server]}: warmpool {wp / tls:.1f}× direct TLS, "
                       f"{wp / plain:.2f}× direct plaintext")
    return "\n".join(rows) + "\n\n" + "; ".join(summary) + "."


def main():
    run = Path(sys.argv[1])
    versions = {s: ("MariaDB " if s == "mariadb" else "MySQL ") +
                (run / f"{s}.version").read_text().strip().split("-")[0] for s in SERVERS}
    print("Backend TLS handshakes, full vs resumed:\n")
    print(handshake_table(run, versions))
    print()
    print(ratios_table(run, versions))
    print("\nConnect per request (connect, log in, `SELECT 1`, quit; 8 clients):\n")
    print(connect_table(run, versions))


if __name__ == "__main__":
    main()
