#!/usr/bin/env python3
"""Writes bench/run.sh's results table (Markdown) from the JSON it collected.

Usage: bench/report.py OUT_DIR SERVER_RSS_KIB [QUICK]

Reads OUT_DIR/<scenario>-<run>.json (samplan-load), OUT_DIR/micro.json
(Google Benchmark) and OUT_DIR/data.json (the data-set part). Every load
figure is the median over the runs. Exits 1 when an audit count did not
match (the load generator already failed then; this repeats it in the table).
"""

import glob
import json
import os
import platform
import statistics
import subprocess
import sys


def median(values):
    return statistics.median(values) if values else float("nan")


def load_runs(out, name):
    """The runs of one scenario, each with its run number as "run"."""
    runs = []
    for path in glob.glob(os.path.join(out, name + "-[0-9]*.json")):
        with open(path) as f:
            r = json.load(f)
        r["run"] = int(os.path.basename(path)[len(name) + 1:-len(".json")])
        runs.append(r)
    return sorted(runs, key=lambda r: r["run"])


def vs_echo(runs, echo_runs, key="throughput", invert=False):
    """Median over runs of run / echo run with the same number.

    bench/run.sh runs each samplan scenario next to an echo run, so pairing by
    run number cancels most of the drift of a shared machine between runs.
    Falls back to the ratio of medians when no run numbers pair up. Any other
    baseline pairs the same way (plan-read-rest against plan-read).
    """
    echo = {r["run"]: r[key] for r in echo_runs}
    ratios = [(echo[r["run"]] / r[key] if invert else r[key] / echo[r["run"]])
              for r in runs if r["run"] in echo and echo[r["run"]] > 0 and r[key] > 0]
    if ratios:
        return statistics.median(ratios)
    a, b = median([r[key] for r in runs]), median([r[key] for r in echo_runs])
    if not (a == a and b == b) or a <= 0 or b <= 0:
        return float("nan")
    return b / a if invert else a / b


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True,
                             check=False).stdout.strip()
    except OSError:
        rev = "?"
    return f"{os.cpu_count()} cores ({cpu}), {mem}, commit {rev or '?'}"


def micro_index(out):
    path = os.path.join(out, "micro.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    by_name = {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            by_name[b["run_name"]] = {"error": b.get("error_message", "")}
            continue
        agg = b.get("aggregate_name", "")
        if agg and agg != "median":
            continue
        by_name[b.get("run_name", b["name"])] = b
    return by_name


def ns(b):
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def main():
    out, server_rss = sys.argv[1], int(sys.argv[2] or 0)
    quick = len(sys.argv) > 3 and sys.argv[3] == "1"
    lines = []
    add = lines.append
    add("# samplan benchmark results" + (" (--quick: smoke run, not a measurement)" if quick else ""))
    add("")
    add(f"Machine: {machine()}. Load generator on the same machine.")
    add("")

    scenarios = ["plan-read", "plan-read-rest", "plan-withheld", "plan-denied",
                 "grant-write", "mix", "echo", "plan-read-serial", "echo-serial"]
    rows = {s: load_runs(out, s) for s in scenarios}
    audit_ok = True
    add("## Load (samplan-load, mutual TLS, medians)")
    add("")
    add("| scenario | runs | calls/s | vs echo | p50 ms | p90 ms | p99 ms | p99.9 ms | response bytes | records = calls, decisions inside = made |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for s in scenarios:
        runs = rows[s]
        if not runs:
            continue
        tp = median([r["throughput"] for r in runs])
        checks = {r["audit_check"] for r in runs}
        if checks - {"ok", "skipped"}:
            audit_ok = False
        check = "yes" if checks == {"ok"} else ("n/a" if checks == {"skipped"} else "NO")
        echo_rows = rows["echo-serial"] if s.endswith("-serial") else rows["echo"]
        ratio = vs_echo(runs, echo_rows)
        add(f"| {s} | {len(runs)} | {tp:,.0f} | {ratio:.2f} | "
            f"{median([r['p50_ms'] for r in runs]):.2f} | "
            f"{median([r['p90_ms'] for r in runs]):.2f} | "
            f"{median([r['p99_ms'] for r in runs]):.2f} | "
            f"{median([r['p999_ms'] for r in runs]):.2f} | "
            f"{runs[0]['response_bytes']} | {check} |")
    first = (rows["plan-read"] or rows["echo"] or [{}])[0]
    if first:
        add("")
        add(f"Closed loop: {first.get('channels')} channels x {first.get('inflight')} calls in flight "
            f"(the -serial rows: 1 x 1), {first.get('warmup_s')} s warm-up, "
            f"{first.get('duration_s')} s measured per run. \"vs echo\" is the median over runs of "
            f"the ratio to the echo run made right after it.")
    rest = rows["plan-read-rest"]
    if rest:
        r0 = rest[0]
        line = (f"plan-read-rest is plan-read's GetPlan over REST (HTTP/1.1 keep-alive, mutual TLS, "
                f"{r0.get('channels', 0) * r0.get('inflight', 0)} connections with one request in flight each, "
                f"{r0.get('rest_threads')} client threads; each reply checked byte for byte, and decoded into a GetPlanResponse when it differs from the connection's last): "
                f"{r0.get('body_bytes', 0)} bytes of JSON for {r0['response_bytes']} bytes of protobuf")
        if rows["plan-read"]:
            line += f"; REST/gRPC {vs_echo(rest, rows['plan-read']):.2f}"
        if rows["echo"]:
            line += f", REST/echo {vs_echo(rest, rows['echo']):.2f}"
        add(line + " (medians of the rounds' ratios).")
    half = load_runs(out, "plan-read-half")
    half_p99 = median([r["p99_ms"] for r in half])
    if half:
        add(f"At half of plan-read's throughput (open loop, {half[0]['rate']:.0f} calls/s): "
            f"p50 {median([r['p50_ms'] for r in half]):.2f} ms, p99 {half_p99:.2f} ms, "
            f"p99.9 {median([r['p999_ms'] for r in half]):.2f} ms; "
            f"{sum(r['shed'] for r in half)} calls shed.")
        for r in half:
            if r["audit_check"] not in ("ok", "skipped"):
                audit_ok = False
    add("")

    micro = micro_index(out)
    add("## Micro-benchmarks (Google Benchmark, real time" + ("" if quick else ", median of 3") + ")")
    add("")
    add("| benchmark | time per op | ops/s |")
    add("|---|---|---|")
    for name, b in micro.items():
        if "error" in b:
            add(f"| {name} | error: {b['error']} | |")
            continue
        rate = b.get("items_per_second")
        add(f"| {name} | {ns(b):,.0f} ns | {rate:,.0f} |" if rate else f"| {name} | {ns(b):,.0f} ns | |")
    add("")
    mapping = [micro.get(n) for n in ("BM_PlanToJson", "BM_PlanFromJson", "BM_PlanToBinary", "BM_PlanFromBinary")]
    if all(m and "error" not in m for m in mapping):
        to_json, from_json, to_bin, from_bin = (ns(m) / 1000 for m in mapping)
        add(f"JSON mapping per GetPlan call (the micro-benchmarks above): the server prints JSON in "
            f"{to_json:.1f} us and a REST client parses it in {from_json:.1f} us, against {to_bin:.1f} us "
            f"and {from_bin:.1f} us for binary protobuf: {to_json - to_bin:.1f} us more on the server "
            f"and {from_json - from_bin:.1f} us more on the client per call.")
        add("")

    data_path = os.path.join(out, "data.json")
    data = {}
    if os.path.exists(data_path):
        with open(data_path) as f:
            data = json.load(f)
    history = load_runs(out, "audit-history")
    for r in history + load_runs(out, "data-plan-read"):
        if r["audit_check"] not in ("ok", "skipped"):
            audit_ok = False
    if data:
        add(f"## Data set (scale {data['scale']})")
        add("")
        add(f"- generated in {data['generate_s']:.0f} s; database {data['db_bytes'] / 2**30:.2f} GiB")
        if history:
            add(f"- a subject's history (first 100 events, audited search, 1 call in flight): "
                f"p50 {median([r['p50_ms'] for r in history]):.2f} ms, "
                f"p99 {median([r['p99_ms'] for r in history]):.2f} ms")
        dr = load_runs(out, "data-plan-read")
        if dr:
            add(f"- plan-read on the full store: {dr[0]['throughput']:,.0f} calls/s, p99 {dr[0]['p99_ms']:.2f} ms")
        add(f"- export of {data['events']:,} lines in {data['export_s']:.1f} s; offline verification in "
            f"{data['verify_s']:.1f} s ({data['events'] / max(data['verify_s'], 1e-9):,.0f} events/s)")
        add(f"- server peak RSS on the data set: {data['rss_kib'] / 1024:.0f} MiB")
        add("")

    add("## Targets")
    add("")
    add("| target | measured | |")
    add("|---|---|---|")

    def target(what, value, ok):
        status = "met" if ok else "MISSED"
        if value is None:
            value, status = "not measured", "—"
        add(f"| {what} | {value} | {status} |")

    pr = rows["plan-read"]
    if pr and rows["echo"]:
        ratio = vs_echo(pr, rows["echo"])
        target("GetPlan allowed >= 0.5 x echo", f"{ratio:.2f}", ratio >= 0.5)
    rest = rows["plan-read-rest"]
    if rest and pr:
        ratio = vs_echo(rest, pr)
        target("GetPlan over REST >= 0.5 x GetPlan over gRPC (same run)", f"{ratio:.2f}", ratio >= 0.5)
    ps = rows["plan-read-serial"]
    if ps and rows["echo-serial"]:
        times = vs_echo(ps, rows["echo-serial"], key="p50_ms")
        target("GetPlan serial p50 <= 3 x echo's", f"{times:.2f} x", times <= 3)
    pd = rows["plan-denied"]
    if pd and rows["echo"]:
        ratio = vs_echo(pd, rows["echo"])
        target("GetPlan denied >= 0.7 x echo", f"{ratio:.2f}", ratio >= 0.7)
    target("GetPlan p99 < 2 ms at half load", f"{half_p99:.2f} ms" if half else None,
           half and half_p99 < 2)
    gw = rows["grant-write"]
    gw_tp = median([r["throughput"] for r in gw])
    target("CreateGrant >= 5,000 durable writes/s", f"{gw_tp:,.0f}/s" if gw else None, gw_tp >= 5000)
    d20 = micro.get("BM_DecideAllowed/20")
    target("consent decision, 20 grants < 1 us", f"{ns(d20):,.0f} ns" if d20 and "error" not in d20 else None,
           d20 and "error" not in d20 and ns(d20) < 1000)
    best = max((b.get("items_per_second", 0) for n, b in micro.items()
                if n.startswith("BM_AuditAppendBatched/") and "error" not in b), default=0)
    single = micro.get("BM_AuditAppendBatched/1/real_time", {}).get("items_per_second")
    target("audit >= 50,000 durable appends/s",
           f"{best:,.0f}/s (single-commit baseline {single:,.0f}/s)" if best and single else None,
           best >= 50000)
    if data and history:
        p99 = median([r["p99_ms"] for r in history])
        target(f"subject history < 10 ms ({data['events']:,} events)", f"p99 {p99:.2f} ms", p99 < 10)
        rate = data["events"] / max(data["verify_s"], 1e-9)
        target("verify an export >= 1M events/s", f"{rate:,.0f}/s", rate >= 1e6)
        target("server RSS < 300 MiB on the data set", f"{data['rss_kib'] / 1024:.0f} MiB",
               data["rss_kib"] < 300 * 1024)
        dr = load_runs(out, "data-plan-read")
        if dr and pr:
            small = median([r["throughput"] for r in pr])
            big = dr[0]["throughput"]
            target("plan-read on the data set within 20% of the small store",
                   f"{big:,.0f} vs {small:,.0f} calls/s ({big / small:.2f})", big >= 0.8 * small)
    else:
        target("subject history < 10 ms in 10M events", None, False)
        target("verify an export >= 1M events/s", None, False)
        target("server RSS < 300 MiB on the data set", None, False)
        target("plan-read on the data set within 20% of the small store", None, False)
    target("server RSS under load < 300 MiB (load part)",
           f"{server_rss / 1024:.0f} MiB" if server_rss > 0 else None, 0 < server_rss < 300 * 1024)
    target("audit records = calls and decisions inside = made, every run", "yes" if audit_ok else "NO", audit_ok)
    print("\n".join(lines))
    return 0 if audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
