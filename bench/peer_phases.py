#!/usr/bin/env python3
"""The till's Durable Object work beside the JS peer, cold and warm apart.

side_by_side.sh measures scan and redeem under wrk in a fixed order, so how many `Member`
objects each side finds evicted (workerd drops an object ~10 s after its last call; waking it
opens its SQLite files again, several times a warm call's CPU) depends on the order, the seeding
time and each side's speed. Here each side runs the same phases on the same kind of state, and
an object is cold or warm by construction:

  cold scan     one pass over the 1,000 members after IDLE seconds of silence (every object
                wakes), sent once each from 16 threads of this process
  warm scan     then wrk for D seconds, as side_by_side.sh loads it (the members cycled)
  warm redeem   wrk for D seconds of fresh redemptions (coupons 0, 1, …: each member's object
                is called every 1,000 requests, so it stays awake)
  cold redeem   after IDLE seconds, one fresh redemption per member, sent once each

It reuses side_by_side.sh's configs (bench-results/sbs.capnp and bench-results/peer-js/sbs.capnp,
both on fresh object directories), seeds each side as that script does (scripts/seed-demo.sh,
bench/make_till_bodies.py), pins both workerd to core 1 and the load to core 0; CPU per
request is workerd's user+system time (/proc) over the requests of a phase. `ROUNDS` (2)
rounds, the side going first alternating; medians. `IDLE` (15), `D` (8).

Usage (after ../shared/peer-bench/side_by_side.sh): python3 bench/peer_phases.py
"""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-results")
PEER = os.path.join(OUT, "peer-js")
WORKERD = os.path.join(PEER, "node_modules", ".bin", "workerd")
IDLE = float(os.environ.get("IDLE", "15"))
D = int(os.environ.get("D", "8"))
REDEEM = 8000  # fresh redemptions a round may use under wrk (more than D seconds serve)
ROUNDS = int(os.environ.get("ROUNDS", "2"))
HZ = os.sysconf("SC_CLK_TCK")


def secret(name):
    for line in open(os.path.join(ROOT, ".dev.vars.example")):
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip()
    sys.exit(f"no {name} in .dev.vars.example")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(path, port):
    """A copy of a side_by_side config serving on `port` (the project's JS floor on a free one),
    its object directory emptied."""
    text = open(path).read()
    text = re.sub(r'(name = "http", address = "127\.0\.0\.1:)\d+', rf"\g<1>{port}", text)
    text = re.sub(r'(name = "floor", address = "127\.0\.0\.1:)\d+', rf"\g<1>{free_port()}", text)
    found = re.search(r'name = "do-disk", disk = \(path = "([^"]+)"', text)
    if not found:
        sys.exit(f"no do-disk in {path}")
    do_dir = found.group(1)
    shutil.rmtree(do_dir, ignore_errors=True)
    os.makedirs(do_dir)
    out = path.replace("sbs.capnp", "phases.capnp")
    with open(out, "w") as f:
        f.write(text)
    return out


def ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_ok(port):
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"no server on :{port}")


def load(port, pid, lines, path):
    """Sends each `authorization<TAB>body` line once from 16 threads: µs of CPU per request."""
    next_line, lock, refused = [0], threading.Lock(), [0]

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next_line[0]
                next_line[0] += 1
            if i >= len(lines):
                return
            auth, body = lines[i].split("\t", 1)
            c.request("POST", path, body=body, headers={"authorization": auth, "content-type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                with lock:
                    refused[0] += 1

    before = ticks(pid)
    threads = [threading.Thread(target=worker) for _ in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    if refused[0]:
        sys.exit(f"{refused[0]} of {len(lines)} requests to {path} were not answered 200")
    return (ticks(pid) - before) * 1e6 / HZ / len(lines)


def wrk(port, pid, lines, path, work):
    """wrk -c16 for D seconds over `lines` (each connection's thread cycling them, as
    side_by_side.sh's load): µs of CPU per request served."""
    bodies = os.path.join(work, "phase.tsv")
    with open(bodies, "w") as f:
        f.write("\n".join(lines) + "\n")
    env = dict(os.environ, BENCH_BODIES=bodies, SIG_HEADER="Authorization", THREADS="1")
    before = ticks(pid)
    out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c16", f"-d{D}s", "--timeout", "5s",
                          "-s", os.path.join(ROOT, "bench", "signed.lua"), f"http://127.0.0.1:{port}{path}"],
                         env=env, capture_output=True, text=True, check=True).stdout
    after = ticks(pid)
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"wrk {path}: {out}")
    served = int(re.search(r"(\d+) requests in", out).group(1))
    return (after - before) * 1e6 / HZ / served


def side(who, capnp, cwd):
    port = free_port()
    conf = config(capnp, port)
    log = open(os.path.join(OUT, f"phases-{who}.log"), "w")
    proc = subprocess.Popen(["taskset", "-c", "1", WORKERD, "serve", os.path.basename(conf), "--experimental"],
                            cwd=cwd, stdout=log, stderr=log, start_new_session=True)
    wait_ok(port)
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, QUIET="1", ADMIN_TOKEN=secret("ADMIN_TOKEN"), BASE=base)
    subprocess.run(["bash", "scripts/seed-demo.sh"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    work = os.path.join(OUT, f"phases-{who}")
    os.makedirs(work, exist_ok=True)
    subprocess.run(["python3", "bench/make_till_bodies.py", work, base, secret("ADMIN_TOKEN"),
                    secret("LINE_CHANNEL_SECRET").split(",")[0], secret("PSEUDONYM_KEY").split(",")[0],
                    secret("SIGNING_KEYS")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    scans = open(os.path.join(work, "pos-scan.tsv")).read().splitlines()
    redeems = open(os.path.join(work, "pos-redeem.tsv")).read().splitlines()
    return proc, port, scans, redeems, work


def main():
    for need in (os.path.join(OUT, "sbs.capnp"), os.path.join(PEER, "sbs.capnp"), WORKERD):
        if not os.path.exists(need):
            sys.exit(f"no {need}: run ../shared/peer-bench/side_by_side.sh first")
    sides = {}
    try:
        sides["proj"] = side("proj", os.path.join(OUT, "sbs.capnp"), OUT)
        sides["peer"] = side("peer", os.path.join(PEER, "sbs.capnp"), PEER)
        figures = {}
        members = len(sides["proj"][2])
        for r in range(ROUNDS):
            for who in ("peer", "proj") if r % 2 == 0 else ("proj", "peer"):
                proc, port, scans, redeems, work = sides[who]
                start = r * (REDEEM + members)  # fresh redemptions every round
                time.sleep(IDLE)
                got = {"cold scan": load(port, proc.pid, scans, "/api/pos/scan"),
                       "warm scan": wrk(port, proc.pid, scans, "/api/pos/scan", work),
                       "warm redeem": wrk(port, proc.pid, redeems[start:start + REDEEM], "/api/pos/redeem", work)}
                time.sleep(IDLE)
                got["cold redeem"] = load(port, proc.pid, redeems[start + REDEEM:start + REDEEM + members],
                                          "/api/pos/redeem")
                for phase, us in got.items():
                    figures.setdefault((phase, who), []).append(us)
                print(f"# round {r + 1} {who}: " + ", ".join(f"{p} {us:.0f}us" for p, us in got.items()), flush=True)
    finally:
        for proc, *_ in sides.values():
            os.killpg(proc.pid, 15)
    print(f"\nCPU per request, {members} members (median of {ROUNDS})   peer      proj   proj/peer")
    for phase in ("cold scan", "warm scan", "warm redeem", "cold redeem"):
        p, q = statistics.median(figures[(phase, "peer")]), statistics.median(figures[(phase, "proj")])
        print(f"{phase:<45} {p:6.0f}us {q:6.0f}us  {q / p:5.2f}x")


if __name__ == "__main__":
    main()
