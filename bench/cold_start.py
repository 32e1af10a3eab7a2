#!/usr/bin/env python3
"""Cold start, the project beside the JS peer: a fresh workerd process, timed from its spawn to
the first 200 of `/healthz`, and (another fresh process) to the first 200 of the demo card page.
The wasm module's compile and instantiation, the isolate, and for the card the first Durable
Object (its SQLite file opened) are all inside the figure; the config is encoded before the clock
starts (see `start_ms`).

Run by `bench/cold_start.sh` after `side_by_side.sh` (it reuses that run's configs and builds).
Each side keeps its KV in a separate workerd that outlives the restarts, so the card page finds
its seeded stores; each start gets the seeded Durable Object directory copied afresh.

Usage: cold_start.py WORKERD PROJ_CAPNP PEER_CAPNP PROJ_CARD PEER_CARD RUNS
(the capnp files are the seeded servers' configs, rewritten by cold_start.sh: @PORT@ and @DO@).
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_ok(url: str, deadline: float) -> bool:
    """Polls `url` every 2 ms (connection refused until workerd listens) until it answers 200."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
                if r.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.002)
    return False


def start_ms(workerd: str, template: str, seeded_do: str, path: str) -> float:
    """One fresh process on a copy of the seeded objects: ms from spawn to the first 200 of path."""
    work = seeded_do + ".run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(seeded_do, work)
    port = free_port()
    config = template.replace(".tmpl", ".run")
    with open(template) as f:
        text = f.read().replace("@PORT@", str(port)).replace("@DO@", work)
    with open(config, "w") as f:
        f.write(text)
    cwd = os.path.dirname(config)
    # Encoded before the clock starts: parsing a text config with a 2.4 MB embed costs workerd
    # ~15 ms (the peer's 70 KB, ~4 ms), a step of local serving only; Cloudflare never parses
    # our upload at a cold start.
    binary = config + ".bin"
    with open(binary, "wb") as out:
        subprocess.run(
            [workerd, "compile", "--config-only", os.path.basename(config)],
            cwd=cwd,
            stdout=out,
            check=True,
        )
    t0 = time.monotonic()
    p = subprocess.Popen(
        ["taskset", "-c", "1", workerd, "serve", "--binary", os.path.basename(binary)]
        + ["--experimental"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ok = first_ok(f"http://127.0.0.1:{port}{path}", t0 + 30)
        elapsed = (time.monotonic() - t0) * 1000
    finally:
        p.terminate()
        p.wait(10)
    if not ok:
        sys.exit(f"no 200 from {path} within 30 s ({config})")
    return elapsed


def main() -> None:
    workerd, proj, peer, proj_card, peer_card, runs = sys.argv[1:7]
    runs = int(runs)
    sides = {"proj": (proj, proj_card), "peer": (peer, peer_card)}
    figures = {}
    for what in ("healthz", "card"):
        ms = {"peer": [], "proj": []}
        # Alternating, who goes first alternating too: drift on this machine hits both alike.
        for run in range(runs):
            for who in ("peer", "proj") if run % 2 == 0 else ("proj", "peer"):
                template, card = sides[who]
                seeded = template.replace(".tmpl.capnp", ".do")
                path = "/healthz" if what == "healthz" else card
                ms[who].append(start_ms(workerd, template, seeded, path))
        for who in ("peer", "proj"):
            figures[(who, what)] = statistics.median(ms[who])
            print(f"{who:<5} {what:<8} " + " ".join(f"{m:.0f}" for m in ms[who]) + " ms")
    print()
    print(f"cold start (fresh workerd → first 200, median of {runs})  peer      proj   proj/peer")
    for what, label in (("healthz", "/healthz"), ("card", "card page")):
        p, q = figures[("peer", what)], figures[("proj", what)]
        print(f"{label:<48} {p:6.0f}ms {q:6.0f}ms  {q / p:5.2f}x")


if __name__ == "__main__":
    main()
