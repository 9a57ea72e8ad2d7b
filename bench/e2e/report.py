#!/usr/bin/env python3
"""Number crunching for bench/e2e/run.sh (standard library only).

  report.py iperf FILE.json       -> key=value lines: gbps, bytes, retr
  report.py ping FILE.txt         -> key=value lines: n, loss, avg, p50, p99, min, max
  report.py render WORKDIR META SCENARIO...   -> markdown report on stdout

A scenario's results are WORKDIR/SCENARIO.res, `key=value` lines written by run.sh
(later lines win). Exit status 2 means the input held no usable measurement; the
reason is on stderr.
"""

import json
import math
import re
import sys

ANCHORS = ("wireguard-go", "nebula")
TIME_RE = re.compile(r"time[=<]([0-9.]+) ?ms")
LOSS_RE = re.compile(r"([0-9.]+)% packet loss")


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def cmd_iperf(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"iperf3 output {path} is not JSON ({e})")
    if doc.get("error"):
        fail(f"iperf3 reported: {doc['error']}")
    end = doc.get("end", {})
    recv = end.get("sum_received", {})
    bps = recv.get("bits_per_second")
    if not isinstance(bps, (int, float)) or bps <= 0:
        fail(f"iperf3 output {path} has no receiver throughput (end.sum_received)")
    print(f"gbps={bps / 1e9:.3f}")
    print(f"bytes={int(recv.get('bytes', 0))}")
    print(f"retr={end.get('sum_sent', {}).get('retransmits', 'NA')}")


def nearest_rank(sorted_vals, q):
    """Nearest-rank percentile: the smallest value with at least q of the samples at or below it."""
    k = max(1, math.ceil(q * len(sorted_vals)))
    return sorted_vals[k - 1]


def cmd_ping(path):
    with open(path, errors="replace") as f:
        text = f.read()
    times = sorted(float(m.group(1)) for m in TIME_RE.finditer(text))
    if not times:
        fail(f"no ping replies in {path}:\n{text[-2000:]}")
    loss = LOSS_RE.search(text)
    print(f"n={len(times)}")
    print(f"loss={loss.group(1) if loss else 'NA'}")
    print(f"avg={sum(times) / len(times):.3f}")
    print(f"p50={nearest_rank(times, 0.50):.3f}")
    print(f"p99={nearest_rank(times, 0.99):.3f}")
    print(f"min={times[0]:.3f}")
    print(f"max={times[-1]:.3f}")


def load(path):
    res = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                key, sep, val = line.rstrip("\n").partition("=")
                if sep:
                    res[key] = val
    except OSError:
        pass
    return res


def num(res, *keys):
    """Sum of the named numeric fields, or None if any is missing or not a number."""
    total = 0.0
    for k in keys:
        try:
            total += float(res[k])
        except (KeyError, ValueError):
            return None
    return total


# (title, higher_is_better, extractor, format)
def figures():
    def cpu_per_gb(r):
        cpu = num(r, "cpu_s1_a", "cpu_s1_b", "cpu_s4_a", "cpu_s4_b")
        moved = num(r, "s1_bytes", "s4_bytes")
        return cpu / (moved / 1e9) if cpu is not None and moved else None

    def mib(*keys):
        return lambda r: (lambda v: v / 1024 if v is not None else None)(num(r, *keys))

    return [
        ("TCP 1 stream Gbit/s", True, lambda r: num(r, "s1_gbps"), "{:.3f}"),
        ("TCP 4 streams Gbit/s", True, lambda r: num(r, "s4_gbps"), "{:.3f}"),
        ("RTT avg ms", False, lambda r: num(r, "ping_avg"), "{:.3f}"),
        ("RTT p99 ms", False, lambda r: num(r, "ping_p99"), "{:.3f}"),
        ("daemon CPU-s, 1 stream run", False, lambda r: num(r, "cpu_s1_a", "cpu_s1_b"), "{:.2f}"),
        ("daemon CPU-s, 4 streams run", False, lambda r: num(r, "cpu_s4_a", "cpu_s4_b"), "{:.2f}"),
        ("daemon CPU-s per GB moved", False, cpu_per_gb, "{:.2f}"),
        ("RSS idle MiB", False, mib("rss_idle_a", "rss_idle_b"), "{:.1f}"),
        ("RSS after load MiB", False, mib("rss_after_a", "rss_after_b"), "{:.1f}"),
    ]


def cmd_render(workdir, meta_path, scenarios):
    results = {s: load(f"{workdir}/{s}.res") for s in scenarios}
    ok = {s: r for s, r in results.items() if r.get("status") == "ok"}
    figs = figures()

    best = []
    for _, higher, get, _ in figs:
        vals = [get(ok[a]) for a in ANCHORS if a in ok and get(ok[a]) is not None]
        best.append((max(vals) if higher else min(vals)) if vals else None)

    out = []
    with open(meta_path, errors="replace") as f:
        out.append(f.read().rstrip("\n"))
    out.append("")
    out.append("| tunnel | " + " | ".join(t for t, *_ in figs) + " |")
    out.append("|---|" + "---:|" * len(figs))
    for s in scenarios:
        r = results[s]
        if r.get("status") != "ok":
            reason = r.get("fail_reason", "no result (see log)").replace("|", "\\|")
            out.append(f"| {s} | FAILED: {reason} |" + " |" * (len(figs) - 1))
            continue
        cells = []
        for (_, _, get, fmt), b in zip(figs, best):
            v = get(r)
            if v is None:
                cells.append("–")
            elif b:
                cells.append(f"{fmt.format(v)} ({v / b:.2f}×)")
            else:
                cells.append(fmt.format(v))
        out.append(f"| {s} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Ratios in parentheses: figure ÷ best anchor's figure (best of "
               + " / ".join(a for a in ANCHORS if a in ok)
               + " measured in this run; highest throughput, lowest RTT/CPU/RSS). "
               "Throughput ratio > 1 is better than the best anchor; RTT/CPU/RSS ratio < 1 is better."
               if any(a in ok for a in ANCHORS) else
               "No anchor (wireguard-go, nebula) succeeded in this run, so no ratios.")
    out.append("")
    out.append("Details (A = client side, B = server side):")
    out.append("")
    out.append("| tunnel | daemon | overlay MTU | TCP retransmits 1 / 4 streams | ping replies, loss % | "
               "RTT min / p50 / max ms | CPU-s A / B (1 stream) | CPU-s A / B (4 streams) | "
               "RSS idle A / B MiB | RSS after A / B MiB | notes |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")

    def mib_of(r, k):
        v = num(r, k)
        return f"{v / 1024:.1f}" if v is not None else "–"

    for s in scenarios:
        r = results[s]
        if r.get("status") != "ok":
            continue
        g = r.get
        out.append(
            f"| {s} | {g('daemon', '–')} | {g('mtu', '–')} | {g('s1_retr', '–')} / {g('s4_retr', '–')} | "
            f"{g('ping_n', '–')}, {g('ping_loss', '–')} | {g('ping_min', '–')} / {g('ping_p50', '–')} / {g('ping_max', '–')} | "
            f"{g('cpu_s1_a', '–')} / {g('cpu_s1_b', '–')} | {g('cpu_s4_a', '–')} / {g('cpu_s4_b', '–')} | "
            f"{mib_of(r, 'rss_idle_a')} / {mib_of(r, 'rss_idle_b')} | {mib_of(r, 'rss_after_a')} / {mib_of(r, 'rss_after_b')} | "
            f"{g('note', '').replace('|', '/')} |")
    print("\n".join(out))


def main(argv):
    if len(argv) >= 2 and argv[0] == "iperf":
        cmd_iperf(argv[1])
    elif len(argv) >= 2 and argv[0] == "ping":
        cmd_ping(argv[1])
    elif len(argv) >= 3 and argv[0] == "render":
        cmd_render(argv[1], argv[2], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)


if __name__ == "__main__":
    main(sys.argv[1:])
