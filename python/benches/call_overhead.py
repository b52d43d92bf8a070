"""Benchmark: what a Python call of ``xpusim.run`` costs beyond the Rust evaluation.

For each call, the overhead is Python's wall time for ``xpusim.run(...)`` (building the
command line, crossing into Rust, releasing and re-taking the GIL, returning the JSON
text, wrapping it in a result) minus the seconds the command spent inside Rust, as the
core reports it (``_native.cli_timed``). The target is < 50 µs (issue 14).

    python python/benches/call_overhead.py [--calls 500] [--check]

``--check`` exits non-zero when the median overhead is over the target (use it on a quiet
machine; CI prints the number without failing on it).
"""

import argparse
import statistics
import sys
import time

import xpusim
from xpusim import _cli
from xpusim.results import RunResult

TARGET_S = 50e-6


def one(args):
    t0 = time.perf_counter()
    out, inside = _cli.call_timed(["run"], args)
    r = RunResult(out)
    total = time.perf_counter() - t0
    return total - inside, inside, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    args = {"model": "llama-2-7b", "hw": "h100-sxm", "phase": "decode", "batch": 8,
            "format": "json"}
    for _ in range(20):  # warm caches (zoo, presets) before timing
        one(args)
    over, inside = [], []
    for _ in range(a.calls):
        o, i, _r = one(args)
        over.append(o)
        inside.append(i)
    med = statistics.median(over)
    print(f"xpusim.run: {a.calls} calls; inside Rust median {statistics.median(inside)*1e6:.0f} µs; "
          f"Python overhead median {med*1e6:.1f} µs, p90 {sorted(over)[int(0.9*len(over))]*1e6:.1f} µs "
          f"(target < {TARGET_S*1e6:.0f} µs)")
    # The public function, for scale (its own overhead is the same path).
    t0 = time.perf_counter()
    for _ in range(50):
        xpusim.run("llama-2-7b", "h100-sxm", phase="decode", batch=8)
    print(f"xpusim.run end to end: {(time.perf_counter()-t0)/50*1e6:.0f} µs per call")
    if a.check and med > TARGET_S:
        sys.exit(f"overhead {med*1e6:.1f} µs is over the {TARGET_S*1e6:.0f} µs target")


if __name__ == "__main__":
    main()
