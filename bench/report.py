#!/usr/bin/env python3
"""Prints `make bench`'s table: per endpoint the median req/s over the rounds (and each round's
figure), p50 and the worst p99, workerd's CPU time per request (median), its ratio to our /healthz and to the plain JavaScript floor of
the same run, and its target from bench/endpoints.tsv (`endpoint:ratio`), met or not.
Usage: report.py ENDPOINTS_TSV RATES_TSV (rates: name, round, req/s, p50, p99, errors, CPU µs per request)"""
import statistics, sys

endpoints_tsv, rates_tsv = sys.argv[1:3]
order, targets, runs = [], {}, {}
for line in open(endpoints_tsv):
    if line.startswith("#") or not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    order.append(f[0])
    targets[f[0]] = f[5]
for line in open(rates_tsv):
    name, _, rps, p50, p99, errors, cpu = (line.rstrip("\n").split("\t") + [""] * 7)[:7]
    runs.setdefault(name, []).append((float(rps or 0), p50, p99, errors, float(cpu or "nan")))


def millis(text):
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for unit in ("us", "ms", "s"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float("nan")


median = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
print(f"\n{'endpoint':<18}{'req/s':>9}  {'rounds':<14}{'p50':>9}{'p99':>10}{'CPU/req':>9}{'×healthz':>10}{'×JS':>7}  target")
for name in order:
    if name not in runs:
        continue
    rs = runs[name]
    p50 = statistics.median(millis(r[1]) for r in rs)
    p99 = max(millis(r[2]) for r in rs)
    rounds = "/".join(f"{r[0]:.0f}" for r in rs)
    cpu = statistics.median(r[4] for r in rs)
    to_ours = median[name] / median["healthz"] if median.get("healthz") else float("nan")
    to_js = median[name] / median["js_floor"] if median.get("js_floor") else float("nan")
    target = targets.get(name, "-")
    verdict = ""
    if target != "-":
        ref, want = target.split(":")
        got = median[name] / median[ref] if median.get(ref) else float("nan")
        verdict = f"{'≥' if got >= float(want) else '<'} {float(want):.2f}× {ref}: {'met' if got >= float(want) else 'MISSED'}"
    errors = ";".join(sorted({r[3] for r in rs if r[3]}))
    print(f"{name:<18}{median[name]:>9.0f}  {rounds:<14}{p50:>7.2f}ms{p99:>8.2f}ms{cpu:>7.0f}µs{to_ours:>9.3f}×{to_js:>6.3f}×  {verdict}"
          + (f"  [{errors}]" if errors else ""))
