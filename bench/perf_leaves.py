#!/usr/bin/env python3
"""Where two workerd processes spend a request's CPU, side by side: `perf record -g` samples of
each (the project and the JS peer, under the same load), each sample counted by its innermost
frame (our wasm and JS, SQLite, V8, kj/capnp RPC, the kernel's fsync and the rest), divided by
the requests served while recording. A category that differs is where the gap is.

    perf record -F 4000 -g -p PID -o proj.data -- sleep 5     # likewise peer.data
    python3 bench/perf_leaves.py peer.data PEER_REQUESTS proj.data PROJ_REQUESTS

JIT frames (our wasm, any JS) have no names unless workerd writes a perf map: add
`v8Flags = ["--perf-basic-prof"]` to the config and build with `KEEP_NAMES=1`; `--names` then
lists the wasm functions of the project's samples, most samples first.
"""

import collections
import re
import subprocess
import sys

CATEGORIES = [
    (r"sqlite3", "sqlite"),
    (r"Builtins_", "v8 builtins"),
    (r"v8::internal::(Heap|Scavenger|MarkCompact|.*GC)", "v8 gc"),
    (r"v8::|cppgc", "v8 other"),
    (r"tcmalloc|TCMalloc", "malloc"),
    (r"capnp::|kj::", "kj/capnp (I/O, RPC)"),
    (r"workerd::", "workerd"),
]


def samples(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"], capture_output=True, text=True,
                         check=True).stdout
    return [s.strip().split("\n") for s in out.split("\n\n") if s.strip()]


def category(stack):
    leaf = stack[0]
    if "JS:" in leaf or "perf-" in leaf:
        return "jit (our wasm, JS)"
    if "kernel" in leaf:
        return "kernel fsync" if any("fsync" in f for f in stack) else "kernel other"
    for pattern, name in CATEGORIES:
        if re.search(pattern, leaf):
            return name
    return "other"


def per_request(path, requests):
    stacks = samples(path)
    counts = collections.Counter(category(s) for s in stacks)
    return len(stacks) / requests, {k: v / requests for k, v in counts.items()}, stacks


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    (a_total, a, _), (b_total, b, b_stacks) = (per_request(sys.argv[1], float(sys.argv[2])),
                                                per_request(sys.argv[3], float(sys.argv[4])))
    print(f"samples per request: first {a_total:.2f}, second {b_total:.2f} (second/first {b_total / a_total:.2f})")
    for k in sorted(set(a) | set(b), key=lambda k: -(b.get(k, 0) - a.get(k, 0))):
        print(f"  {k:<22} {a.get(k, 0):6.3f} {b.get(k, 0):6.3f}  {b.get(k, 0) - a.get(k, 0):+.3f}")
    if "--names" in sys.argv:
        names = collections.Counter(re.sub(r"^\S+ ", "", s[0])[:140] for s in b_stacks if "JS:" in s[0])
        for name, n in names.most_common(30):
            print(f"{n:6d} {name}")


if __name__ == "__main__":
    main()
