#!/usr/bin/python3
"""report: bench/run.sh's JSON into tables (a section of BENCHMARKS.md) and gnuplot PNGs.

    [BENCH_SERVER=mysql] bench/report.py RUN_DIR PLOT_DIR BENCHMARKS.md
"""
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

BEGIN = "<!-- bench/run.sh: begin (generated, do not edit by hand) -->"
END = "<!-- bench/run.sh: end -->"


def load(run, name):
    path = run / name
    return json.loads(path.read_text()) if path.exists() else None


def fmt(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"


def load_table(doc, unit):
    rows = [f"| target | {unit} | p50 ms | p95 ms | p99 ms | errors | proxy CPU µs/op | RSS MB "
            "| wake-ups/op |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, t in doc["targets"].items():
        rows.append(f"| {name} | {fmt(t['rate'])} | {t['p50_ms']:.3f} | {t['p95_ms']:.3f} | "
                    f"{t['p99_ms']:.3f} | {t['errors']} | {fmt(t['cpu_us_per_op'], 1)} | "
                    f"{fmt(t['rss_mb'], 1)} | {fmt(t.get('wakeups_per_op'), 2)} |")
    return "\n".join(rows)


def ratio(doc, a, b, key="rate"):
    ta, tb = doc["targets"].get(a), doc["targets"].get(b)
    if not ta or not tb or not ta.get(key) or not tb.get(key):
        return None
    return ta[key] / tb[key]


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def plot_scaling(run, out):
    series = {}
    for f in sorted(run.glob("scaling-*.json")):
        doc = json.loads(f.read_text())
        n = int(re.search(r"scaling-(\d+)", f.name).group(1))
        for name, t in doc["targets"].items():
            series.setdefault(name, []).append((n, t["rate"]))
    if not series:
        return None
    data = run / "scaling.dat"
    with data.open("w") as d:
        for name, points in series.items():
            d.write(f'"{name}"\n')
            for n, rate in sorted(points):
                d.write(f"{n} {rate}\n")
            d.write("\n\n")
    png = out / "throughput-vs-connections.png"
    plots = ", ".join(f'"{data}" index {i} with linespoints lw 2 title columnheader(1)'
                      for i in range(len(series)))
    gnuplot(f"""set terminal png size 800,500
set output "{png}"
set title "Point selects: qps vs client connections"
set logscale x
set xlabel "client connections"
set ylabel "queries per second"
set yrange [0:*]
set key bottom left
set grid
plot {plots}
""")
    return png


def plot_cdf(run, out, doc):
    data = run / "cdf.dat"
    names = list(doc["targets"])
    with data.open("w") as d:
        for i, name in enumerate(names):
            d.write(f'"{name}"\n')
            for q, ms in enumerate(doc["targets"][name]["cdf_ms"], start=1):
                d.write(f"{ms} {q / 100}\n")
            d.write("\n\n")
    png = out / "latency-cdf.png"
    plots = ", ".join(f'"{data}" index {i} with lines lw 2 title columnheader(1)'
                      for i in range(len(names)))
    gnuplot(f"""set terminal png size 800,500
set output "{png}"
set title "Point-select latency CDF (16 clients)"
set logscale x
set xlabel "latency (ms)"
set ylabel "fraction of queries"
set key bottom right
set grid
plot {plots}
""")
    return png


def plot_handshake(run, out, doc):
    data = run / "handshake.dat"
    with data.open("w") as d:
        for mode in ("plain", "full", "resumed"):
            m = doc["modes"][mode]
            d.write(f"{mode} {m['connect_p50_ms']} {m['handshake_p50_ms']} {m['handshake_p99_ms']}\n")
    png = out / "handshake.png"
    gnuplot(f"""set terminal png size 800,500
set output "{png}"
set title "Backend connection: TLS handshake, full vs resumed"
set style data histograms
set style fill solid 0.8
set ylabel "milliseconds"
set yrange [0:*]
set grid ytics
plot "{data}" using 3:xtic(1) title "handshake p50", "" using 4 title "handshake p99", \\
     "" using 2 title "connect+login p50"
""")
    return png


def sysbench_qps(run, kind="sysbench", label="sysbench oltp_point_select, 16 threads"):
    rows = [f"| target ({label}) | qps | p95 ms | errors |",
            "| --- | --- | --- | --- |"]
    for f in sorted(run.glob(f"{kind}-*.txt")):
        text = f.read_text()
        qps = re.search(r"queries:\s+\d+\s+\(([\d.]+) per sec", text)
        p95 = re.search(r"95th percentile:\s+([\d.]+)", text)
        err = re.search(r"ignored errors:\s+(\d+)", text)
        rows.append(f"| {f.stem.removeprefix(kind + '-')} | {fmt(float(qps.group(1)) if qps else None)} "
                    f"| {p95.group(1) if p95 else '—'} | {err.group(1) if err else '—'} |")
    return "\n".join(rows)


def workers_section(run, doc):
    """warmpool with 1, 2 and 4 workers, and at 2 connections for 16 clients,
    where a connection moves to another worker's waiting client (#17)."""
    handoffs = run / "workers-handoffs.txt"
    counts = dict(line.rsplit(" ", 1) for line in handoffs.read_text().splitlines()) \
        if handoffs.exists() else {}
    moved = sum(float(v) for k, v in counts.items() if k.startswith("warmpool_pool_handoffs"))
    queries = sum(float(v) for k, v in counts.items() if k.startswith("warmpool_queries"))
    share = f"{moved / queries * 100:.1f} %" if queries else "—"
    return ["### workers: one warmpool per worker count (transaction mode, 16 clients)", "",
            "`warmpool-wN`: N workers, up to 64 backend connections; `-2conns`: at most 2 "
            "connections for the 16 clients, so clients always wait; with 4 workers a "
            "connection that comes free goes to the worker whose client asked first, moving "
            "between workers (a lend: receive cancelled, posted to the other worker, re-armed "
            "there), with 1 worker it never moves.", "", load_table(doc, "qps"), "",
            f"Connections lent between workers in `warmpool-w4-2conns`: {fmt(moved)} for "
            f"{fmt(queries)} queries ({share}).", ""]


def machine():
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}"


def main():
    run, out, md = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    connect, thr = load(run, "connect.json"), load(run, "throughput.json")
    idle, idle_tls, hs = load(run, "idle.json"), load(run, "idle-tls.json"), load(run, "handshake.json")
    parts = [BEGIN, "",
             f"Generated by `bench/run.sh` on {time.strftime('%Y-%m-%d')}; machine: {machine()}, "
             "shared by the clients, the proxies and MariaDB. Every target ran in the same run, "
             "alternating in rounds; read ratios, not absolute numbers. Proxy CPU is the "
             "proxy's utime+stime from /proc over the measured spans divided by the operations "
             "(for `direct` targets: mariadbd's). Raw results: `build/bench-run/*.json`.", ""]
    if connect:
        r_tls = ratio(connect, "warmpool-txn", "direct-tls")
        r_plain = ratio(connect, "warmpool-txn", "direct")
        parts += ["### connect: connect, log in, `SELECT 1`, quit (8 clients)", "",
                  f"`{BENCH_CMD} connect ...` — warmpool clients in plaintext, warmpool to "
                  "MariaDB in TLS (verify_identity).", "", load_table(connect, "conns/s"), "",
                  f"warmpool (transaction mode) vs direct TLS: **{fmt(r_tls, 1)}×** the "
                  f"connections per second; vs direct plaintext: **{fmt(r_plain, 2)}×**.", ""]
    if thr:
        r_ha = ratio(thr, "warmpool-txn", "haproxy")
        r_cpu = ratio(thr, "warmpool-txn", "haproxy", "cpu_us_per_op")
        parts += ["### throughput: point selects on persistent connections (16 clients)", "",
                  load_table(thr, "qps"), "",
                  f"warmpool (transaction mode, TLS to the backend) vs HAProxy TCP passthrough "
                  f"(plaintext end to end): **{fmt(r_ha, 2)}×** the qps at **{fmt(r_cpu, 2)}×** "
                  "the proxy CPU per query.", ""]
        for name, what in (("warmpool-txn-plain", "warmpool, transaction mode, plaintext to the "
                            "backend as HAProxy's"),
                           ("forward", "the naive io_uring forwarder (`bench/forward.c`)")):
            if name in thr["targets"]:
                parts += [f"{what}: **{fmt(ratio(thr, name, 'haproxy'), 2)}×** HAProxy's qps at "
                          f"**{fmt(ratio(thr, name, 'haproxy', 'cpu_us_per_op'), 2)}×** its CPU "
                          "per query.", ""]
        png = plot_cdf(run, out, thr)
        parts += [f"![latency CDF]({png.as_posix()})", ""]
    rw = load(run, "read-write.json")
    if rw:
        parts += ["### throughput, read-write mix (16 clients)", "",
                  f"`{BENCH_CMD} throughput --mix read-write ...` — one operation is a transaction: "
                  "`BEGIN`, two point selects, `UPDATE ... SET k=k+1` of a random row, `COMMIT`; "
                  "in transaction mode the backend connection is held for the transaction and "
                  "given back at `COMMIT`.", "", load_table(rw, "tps"), ""]
    server = load(run, "server-cpu.json")
    if server:
        parts += ["### the server's CPU per query, by the path the queries take (16 clients)", "",
                  f"`{BENCH_CMD} throughput --target T --pid T=MARIADBD ...` for every target: "
                  "`proxy CPU µs/op` below is mariadbd's, per point select served through that "
                  "path. TLS to the server costs the server too, on the CPUs it shares with the "
                  "proxy and the clients.", "", load_table(server, "qps"), ""]
        r_tls = ratio(server, "warmpool-txn", "warmpool-txn-plain", "cpu_us_per_op")
        if r_tls:
            parts += [f"mariadbd's CPU per query through warmpool with TLS to it: **{fmt(r_tls, 2)}×** "
                      "that through warmpool in plaintext.", ""]
    large = load(run, "large-first.json")
    if large:
        r_cpu = ratio(large, "warmpool-txn-large", "warmpool-txn", "cpu_us_per_op")
        parts += ["### point selects after a 4 MiB statement on the same pooled connections "
                  "(16 clients)", "",
                  f"`{BENCH_CMD} throughput --large-first warmpool-txn-large ...` — before each "
                  "round on `warmpool-txn-large` (a pool of its own), every connection sends one "
                  "4 MiB statement whose result is 4 MiB too, all at once so that they hold "
                  "different pooled connections; 12 s later (the allocator gives the freed "
                  "megabytes back meanwhile) the point selects are measured.", "",
                  load_table(large, "qps"), "",
                  f"CPU per query after the large statement: **{fmt(r_cpu, 2)}×** that without.",
                  ""]
    scaling = plot_scaling(run, out)
    if scaling:
        files = sorted(run.glob("scaling-*.json"),
                       key=lambda p: int(re.search(r"(\d+)", p.name).group(1)))
        docs = [json.loads(f.read_text()) for f in files]
        names = [t for t in ("direct", "haproxy", "forward", "proxysql", "warmpool-txn",
                             "warmpool-txn-plain")
                 if any(t in d["targets"] for d in docs)]
        rows = ["| clients | " + " | ".join(names) + " |",
                "| --- | " + " | ".join("---" for _ in names) + " |"]
        for f, doc in zip(files, docs):
            n = re.search(r"scaling-(\d+)", f.name).group(1)
            cells = [fmt(doc["targets"][t]["rate"]) if t in doc["targets"] else "—"
                     for t in names]
            rows.append(f"| {n} | " + " | ".join(cells) + " |")
        # The proxy's wake-ups per query (voluntary context switches of its threads).
        wake_rows = ["| clients | " + " | ".join(f"{t} wake-ups/query" for t in names) + " |",
                     "| --- | " + " | ".join("---" for _ in names) + " |"]
        for f, doc in zip(files, docs):
            n = re.search(r"scaling-(\d+)", f.name).group(1)
            cells = [fmt(doc["targets"][t].get("wakeups_per_op"), 2) if t in doc["targets"]
                     else "—" for t in names]
            wake_rows.append(f"| {n} | " + " | ".join(cells) + " |")
        parts += ["### qps vs client connections", "", "\n".join(rows), "",
                  "\n".join(wake_rows), "",
                  "At 1,000 clients only warmpool can be measured: MariaDB (and HAProxy, which "
                  "opens one backend connection per client) stop at the fixture's "
                  "max_connections = 1000, while warmpool multiplexes them onto at most 64.", "",
                  f"![throughput vs connections]({scaling.as_posix()})", ""]
    if idle:
        rows = ["| clients | connections | warmpool RSS MB | bytes per connection |",
                "| --- | --- | --- | --- |"]
        for label, doc in (("plaintext", idle), ("TLS", idle_tls)):
            if doc:
                for name, t in doc["targets"].items():
                    rows.append(f"| {label} | {t['connections']:,} | {fmt(t['rss_mb'], 1)} | "
                                f"{fmt(t['bytes_per_connection'])} |")
        parts += ["### idle: connections held open", "", "\n".join(rows), ""]
    if hs:
        png = plot_handshake(run, out, hs)
        rows = ["| mode | handshake p50 ms | p99 ms | connect+login p50 ms | backend CPU µs/conn |",
                "| --- | --- | --- | --- | --- |"]
        for mode, m in hs["modes"].items():
            rows.append(f"| {mode} | {m['handshake_p50_ms']:.3f} | {m['handshake_p99_ms']:.3f} | "
                        f"{m['connect_p50_ms']:.3f} | {fmt(m['backend_cpu_us_per_connection'], 1)} |")
        parts += ["### handshake: backend connections, full vs resumed TLS", "", "\n".join(rows), "",
                  f"![handshakes]({png.as_posix()})", ""]
    restart = load(run, "restart.json")
    if restart:
        rows = ["| target | answered | errors | longest stall s | p99 ms | recovery ms per restart |",
                "| --- | --- | --- | --- | --- | --- |"]
        for name, t in restart["targets"].items():
            rec = ", ".join(f"{v:.0f}" for v in t["recovery_ms"])
            rows.append(f"| {name} | {t['answered']:,} | {t['errors']:,} | {t['stall_max_s']:.2f} | "
                        f"{t['p99_ms']:.3f} | {rec} |")
        parts += [f"### restart: MariaDB restarted {restart['restarts']} times, TLS off then on "
                  f"({restart['connections']} clients, a point select every "
                  f"{restart['pause_ms']:.0f} ms each)", "",
                  f"`{BENCH_CMD} restart ... --restart-cmd 'tools/mariadb-fixture.sh restart "
                  "--ssl off' --restart-cmd '... --ssl on'` — errors are failed queries and "
                  "logins, each a reconnect the application must do; recovery is the time from "
                  "the restart command's end (MariaDB accepting again) to the next answer.", "",
                  "\n".join(rows), ""]
    workers = load(run, "workers.json")
    if workers:
        parts += workers_section(run, workers)
    parts += ["### Cross-check: sysbench through the same targets", "", sysbench_qps(run), ""]
    if any(run.glob("sysbenchps-*.txt")):
        parts += ["### Prepared statements: sysbench's binary protocol", "",
                  "sysbench `oltp_point_select --db-ps-mode=auto` (server-side prepared "
                  "statements, binary results), 16 threads; warmpool's transaction mode holds "
                  "at most 4 backend connections here (a listener of its own), so the statements "
                  "move between connections and are prepared again where missing.", "",
                  sysbench_qps(run, "sysbenchps", "prepared point selects, 16 threads"), ""]
    parts += [END]
    text = md.read_text() if md.exists() else "# warmpool benchmarks\n"
    section = "\n".join(parts)
    if os.environ.get("BENCH_SERVER") == "mysql":  # bench/run.sh --server mysql
        section = (section.replace("MariaDB", "MySQL").replace("mariadbd", "mysqld")
                   .replace("build/bench-run/", "build/bench-run-mysql/")
                   .replace("`bench/run.sh`", "`bench/run.sh --server mysql`"))
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Latest full run (`bench/run.sh`)\n\n" + section + "\n"
    md.write_text(text)


BENCH_CMD = "build/bench/warmpool-bench"

if __name__ == "__main__":
    main()
