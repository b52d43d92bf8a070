#!/usr/bin/env python3
"""Time xpusim against its peers on the same work and check where the results agree.

Peers (each in its own throwaway venv made by tools/peers/setup.sh, never a dependency of
xpusim): SCALE-Sim 3.0.0, ZigZag 3.9, GenZ (genz-llm) and AccelForge.

    bash tools/peers/setup.sh                  # venvs under /tmp/xpusim-peers
    python3 tools/peers/compare.py             # all installed peers, best of 3
    python3 tools/peers/compare.py --quick     # one repetition, smallest work
    python3 tools/peers/compare.py --only scalesim,genz

Every time is wall-clock for one whole process, start-up and imports included, best of N
runs: `xpusim run ...` against `<venv>/bin/python -c <driver>` doing the same work. The
ratio is peer time / xpusim time. A peer that is not installed is skipped; one that fails
has its error in its table row, and the script goes on.

Environment: XPUSIM_BIN (default target/release/xpusim under the repo root),
XPUSIM_SHARED (default ../shared next to the repo root), PEERS_ROOT (default
/tmp/xpusim-peers). Standard library only.
"""
import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ZIGZAG_DIR = REPO / "tools" / "zigzag"
CMP_NPU = ZIGZAG_DIR / "cmp-npu.toml"
MARK = "@@PEER-RESULT@@"
PEERS = ("scalesim", "zigzag", "genz", "accelforge")
PKG = {"scalesim": "scalesim", "zigzag": "zigzag-dse", "genz": "genz-llm", "accelforge": "accelforge"}


class PeerError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Running and timing processes
# ---------------------------------------------------------------------------------------

def run_once(cmd, cwd=None, timeout=None):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PeerError(f"timed out after {timeout} s: {short_cmd(cmd)}")
    except OSError as e:
        raise PeerError(f"cannot run {cmd[0]}: {e}")
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        raise PeerError(f"exit {p.returncode}: " + " | ".join(tail))
    return dt, p.stdout


def best_of(cmd, reps, cwd=None, timeout=None):
    """Best wall time over `reps` runs of `cmd`, and the last run's stdout."""
    best, out = math.inf, ""
    for _ in range(reps):
        dt, out = run_once(cmd, cwd=cwd, timeout=timeout)
        best = min(best, dt)
    return best, out


def short_cmd(cmd):
    s = " ".join(str(c) if "\n" not in str(c) else "<driver>" for c in cmd)
    return s if len(s) < 160 else s[:157] + "..."


def driver_result(stdout):
    """The JSON a peer driver printed after MARK (drivers may print other noise)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise PeerError("driver printed no result line")


def xpusim(args, reps):
    """Time `xpusim run ... --format json`; return (seconds, parsed JSON)."""
    dt, out = best_of([XPUSIM, "run", *args, "--format", "json"], reps, cwd=REPO, timeout=120)
    try:
        return dt, json.loads(out)
    except json.JSONDecodeError as e:
        raise PeerError(f"xpusim printed no JSON ({e})")


def fmt_s(s):
    if s is None or s != s:
        return "-"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def rel(a, b):
    """Relative difference of a against b, as a signed percentage string."""
    return f"{(a / b - 1) * 100:+.1f}%" if b else "n/a"


# ---------------------------------------------------------------------------------------
# Peer drivers: run with the peer venv's python as `python -c DRIVER args...`. Each prints
# MARK + JSON as its last result line. Nothing here imports a peer in this process.
# ---------------------------------------------------------------------------------------

COMMON = f"""
import json, sys, importlib.metadata
def emit(d, pkg):
    d["version"] = importlib.metadata.version(pkg)
    print({MARK!r} + json.dumps(d), flush=True)
"""

SCALESIM_DRIVER = COMMON + """
cfg, topo, gemm, out = sys.argv[1:5]
from scalesim.scale_sim import scalesim
# The Python API with save_disk_space=True: no per-cycle trace CSVs, SCALE-Sim's fastest
# mode (its CLI, scalesim.scale, always writes traces in 3.0.0: it ignores its -s flag).
# SCALE-Sim insists on a layout file; the topology itself has one row per layer.
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=topo,
             input_type_gemm=(gemm == "1"))
s.run_scale(top_path=out)
emit({}, "scalesim")
"""

ZIGZAG_DRIVER = COMMON + """
import importlib.util, tempfile, tomllib
from pathlib import Path
zzdir, layer, opt = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("zigzag_compare", Path(zzdir) / "compare.py")
zz = importlib.util.module_from_spec(spec); spec.loader.exec_module(zz)
arch = tomllib.loads((Path(zzdir) / "cmp-npu.toml").read_text())
conv = {n: d for n, *d in zz.CONVS}
gemm = {n: d for n, *d in zz.GEMMS}
kind, dims = ("conv", conv[layer]) if layer in conv else ("gemm", gemm[layer])
from zigzag.api import get_hardware_performance_zigzag
with tempfile.TemporaryDirectory() as d:
    tmp = Path(d)
    zz.write_yaml(tmp / "acc.yaml", zz.zigzag_accelerator(arch))
    zz.write_yaml(tmp / "map.yaml", zz.zigzag_mapping(arch))
    zz.write_yaml(tmp / "wl.yaml", [zz.zigzag_layer(0, layer, kind, dims)])
    energy, latency, _ = get_hardware_performance_zigzag(
        str(tmp / "wl.yaml"), str(tmp / "acc.yaml"), str(tmp / "map.yaml"), opt=opt,
        dump_folder=str(tmp / "out"), loma_show_progress_bar=False)
emit({"latency_cycles": float(latency), "energy_pj": float(energy)}, "zigzag-dse")
"""

GENZ_DRIVER = COMMON + """
import warnings
warnings.filterwarnings("ignore")
model, system, phase, batch, seq = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
from GenZ import prefill_moddeling, decode_moddeling
if phase == "prefill":
    r = prefill_moddeling(model=model, batch_size=batch, input_tokens=seq, system_name=system, bits="bf16")
else:
    # One decode step with `seq` tokens in the KV cache; Bb=1: no beam search (GenZ's default is 4).
    r = decode_moddeling(model=model, batch_size=batch, input_tokens=seq, output_tokens=0, Bb=1,
                         system_name=system, bits="bf16")
emit({"latency_ms": float(r["Latency"]), "throughput": float(r["Throughput"])}, "genz-llm")
"""

ACCELFORGE_DRIVER = COMMON + """
arch, wl, metric = sys.argv[1:4]
import accelforge as af
spec = af.Spec.from_yaml(arch, wl)
spec.mapper.metrics = getattr(af.Metrics, metric)
m = spec.map_workload_to_arch(print_progress=False)
emit({"latency_s": float(m.latency()), "energy_j": float(m.energy())}, "accelforge")
"""


def peer_python(name):
    py = PEERS_ROOT / name / "bin" / "python"
    if not py.exists():
        why = PEERS_ROOT / f"{name}.skipped"
        reason = why.read_text().strip() if why.exists() else f"no venv at {PEERS_ROOT / name}"
        raise Skip(f"not installed ({reason}; run `bash tools/peers/setup.sh {name}`)")
    return str(py)


class Skip(Exception):
    pass


# ---------------------------------------------------------------------------------------
# The work for each peer
# ---------------------------------------------------------------------------------------

# (topology, config, quick?) from ../shared/scalesim: each SCALE-Sim finishes in < 1 min.
SCALESIM_WORK = [
    ("test_mnk_input.csv", "32x32_ws_CALC_sram256-256-256.cfg", True),
    ("alexnet_part.csv", "32x32_ws_CALC_sram256-256-256.cfg", False),
    ("mlperf_div256q_Resnet50.csv", "32x32_ws_CALC_sram256-256-256.cfg", False),
    ("test.csv", "32x32_ws_USER10_sram64-64-64.cfg", False),
]
# SCALE-Sim report column -> xpusim JSON field, per layer. Counts must be equal; the
# percentages are floats computed in a different order, so equal to 1e-9 relative.
SCALESIM_COUNTS = {
    "Total Cycles": "total_cycles", "Stall Cycles": "stall_cycles",
    "SRAM IFMAP Reads": "sram_ifmap_reads", "SRAM Filter Reads": "sram_filter_reads",
    "SRAM OFMAP Writes": "sram_ofmap_writes", "DRAM IFMAP Reads": "dram_ifmap_reads",
    "DRAM Filter Reads": "dram_filter_reads", "DRAM OFMAP Writes": "dram_ofmap_writes",
}
SCALESIM_FLOATS = {"Overall Util %": "utilization", "Mapping Efficiency %": "mapping_efficiency",
                   "Compute Util %": "compute_util"}


def read_report(path):
    """A SCALE-Sim report CSV as a list of {column: value} (it ends rows with ', ')."""
    lines = [l for l in path.read_text().splitlines() if l.strip()]
    head = [h.strip() for h in lines[0].split(",")]
    rows = []
    for l in lines[1:]:
        vals = [v.strip() for v in l.split(",")]
        rows.append({h: float(v) for h, v in zip(head, vals) if h and v})
    return rows


def is_gemm_topology(path):
    head = [h.strip().lower() for h in path.read_text().splitlines()[0].split(",")]
    return head[1:4] == ["m", "n", "k"]


def scalesim_rows(reps, quick):
    py = peer_python("scalesim")
    rows = []
    for topo, cfg, q in SCALESIM_WORK:
        if quick and not q:
            continue
        t, c = SHARED / "scalesim" / "topologies" / topo, SHARED / "scalesim" / "configs" / cfg
        work = f"{topo.removesuffix('.csv')} on {cfg.removesuffix('.cfg')}"
        row = {"peer": "SCALE-Sim", "work": work}
        rows.append(row)
        try:
            if not t.exists() or not c.exists():
                raise PeerError(f"missing {t if not t.exists() else c} (set XPUSIM_SHARED)")
            with tempfile.TemporaryDirectory() as out:
                cmd = [py, "-c", SCALESIM_DRIVER, str(c), str(t), "1" if is_gemm_topology(t) else "0", out]
                row["peer_s"], stdout = best_of(cmd, reps, timeout=600)
                row["version"] = driver_result(stdout)["version"]
                reports = list(Path(out).glob("*/COMPUTE_REPORT.csv"))
                if not reports:
                    raise PeerError("SCALE-Sim wrote no COMPUTE_REPORT.csv")
                compute = read_report(reports[0])
                access = read_report(reports[0].with_name("DETAILED_ACCESS_REPORT.csv"))
            row["xpusim_s"], ours = xpusim(["--model", str(t), "--hw", str(c)], reps)
            layers = ours["layers"]
            if len(layers) != len(compute):
                raise PeerError(f"layer count: SCALE-Sim {len(compute)}, xpusim {len(layers)}")
            bad, n = [], 0
            for i, (x, cr, ar) in enumerate(zip(layers, compute, access)):
                ss = {**cr, **ar}
                for col, key in SCALESIM_COUNTS.items():
                    n += 1
                    if ss[col] != x[key]:
                        bad.append(f"{x['name']} {col}: SCALE-Sim {ss[col]:.0f}, xpusim {x[key]}")
                for col, key in SCALESIM_FLOATS.items():
                    n += 1
                    if abs(ss[col] - x[key]) > 1e-9 * max(1.0, abs(ss[col])):
                        bad.append(f"{x['name']} {col}: SCALE-Sim {ss[col]}, xpusim {x[key]}")
            tot = sum(r["Total Cycles"] for r in compute)
            if bad:
                row["result"] = f"**{len(bad)} of {n} differ**: " + "; ".join(bad[:3])
            else:
                row["result"] = (f"equal: {len(SCALESIM_COUNTS) + len(SCALESIM_FLOATS)} metrics × "
                                 f"{len(compute)} layer(s) (total cycles {tot:.0f})")
        except (PeerError, OSError, KeyError, ValueError) as e:
            row["error"] = str(e)
    return rows


ZIGZAG_WORK = [("gemm512", True), ("layer1.0.conv1", False)]


def load_zigzag_compare():
    spec = importlib.util.spec_from_file_location("zigzag_compare", ZIGZAG_DIR / "compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def layer_csv(tmp, name):
    """The SCALE-Sim topology CSV of one tools/zigzag layer, as xpusim reads it."""
    zz = load_zigzag_compare()
    conv = {n: d for n, *d in zz.CONVS}
    gemm = {n: d for n, *d in zz.GEMMS}
    f = Path(tmp) / f"{name}.csv"
    if name in conv:
        f.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                     "Num Filter, Strides,\n" + ",".join(map(str, [name, *conv[name]])) + ",\n")
    else:
        f.write_text("Layer, M, N, K,\n" + ",".join(map(str, [name, *gemm[name]])) + ",\n")
    return f


def xpusim_mapped(tmp, layer, reps, objective="latency"):
    """xpusim's NPU mapping search on tools/zigzag/cmp-npu.toml: (seconds, cycles, pJ)."""
    clock_ghz = tomllib.loads(CMP_NPU.read_text())["clock_ghz"]
    dt, ours = xpusim(["--model", str(layer_csv(tmp, layer)), "--hw", str(CMP_NPU),
                       "--cost-model", f"mapping-{objective}"], reps)
    return dt, ours["latency_s"] * clock_ghz * 1e9, ours["energy_j"] * 1e12


def zigzag_rows(reps, quick):
    py = peer_python("zigzag")
    rows = []
    for layer, q in ZIGZAG_WORK:
        if quick and not q:
            continue
        row = {"peer": "ZigZag", "work": f"{layer} on cmp-npu (LOMA, latency)"}
        rows.append(row)
        try:
            cmd = [py, "-c", ZIGZAG_DRIVER, str(ZIGZAG_DIR), layer, "latency"]
            row["peer_s"], stdout = best_of(cmd, reps, timeout=600)
            z = driver_result(stdout)
            row["version"] = z["version"]
            with tempfile.TemporaryDirectory() as tmp:
                row["xpusim_s"], cyc, pj = xpusim_mapped(tmp, layer, reps)
            row["result"] = (f"cycles {cyc:.0f} vs {z['latency_cycles']:.0f} ({rel(cyc, z['latency_cycles'])}), "
                             f"energy {pj / 1e6:.1f} vs {z['energy_pj'] / 1e6:.1f} µJ ({rel(pj, z['energy_pj'])})")
        except (PeerError, OSError, KeyError, ValueError) as e:
            row["error"] = str(e)
    return rows


# (xpusim model, GenZ model, xpusim hw, GenZ system, phase, batch, seq or context, quick?)
GENZ_WORK = [
    ("llama-2-7b", "meta-llama/Llama-2-7B", "h100-sxm", "H100_GPU", "prefill", 1, 2048, True),
    ("llama-2-7b", "meta-llama/Llama-2-7B", "h100-sxm", "H100_GPU", "decode", 1, 2048, True),
    ("llama-2-7b", "meta-llama/Llama-2-7B", "a100-80gb", "A100_80GB_GPU", "prefill", 8, 512, False),
    ("llama-2-7b", "meta-llama/Llama-2-7B", "a100-80gb", "A100_80GB_GPU", "decode", 16, 2048, False),
]


def genz_rows(reps, quick):
    py = peer_python("genz")
    rows = []
    for xm, gm, xhw, ghw, phase, batch, seq, q in GENZ_WORK:
        if quick and not q:
            continue
        what = f"seq {seq}" if phase == "prefill" else f"context {seq}"
        row = {"peer": "GenZ", "work": f"{xm} {phase} batch {batch} {what} on {xhw} / {ghw}"}
        rows.append(row)
        try:
            cmd = [py, "-c", GENZ_DRIVER, gm, ghw, phase, str(batch), str(seq)]
            row["peer_s"], stdout = best_of(cmd, reps, timeout=300)
            g = driver_result(stdout)
            row["version"] = g["version"]
            args = ["--model", xm, "--hw", xhw, "--phase", phase, "--batch", str(batch)]
            args += ["--seq", str(seq)] if phase == "prefill" else ["--context", str(seq)]
            row["xpusim_s"], ours = xpusim(args, reps)
            ms = ours["latency_s"] * 1e3
            row["result"] = (f"latency {ms:.2f} ms vs {g['latency_ms']:.2f} ms: "
                             f"xpusim {rel(ms, g['latency_ms'])} ({ours['bound']}-bound)")
        except (PeerError, OSError, KeyError, ValueError) as e:
            row["error"] = str(e)
    return rows


def accelforge_yaml(tmp, layer="gemm512"):
    """tools/zigzag/cmp-npu.toml as an AccelForge arch, and one GEMM as its workload.

    AccelForge counts actions per bit (energy in J per bit, throughput in bits/s). The
    per-MAC energy is the TOML's engine-level `energy.mac_pj` (datapath + the three
    register accesses xpusim's mapper charges per MAC), so the weight register is free.
    """
    a = tomllib.loads(CMP_NPU.read_text())
    sram, dram = a["memory"][0], a["memory"][1]
    clk = a["clock_ghz"] * 1e9
    bits = 16
    zz = load_zigzag_compare()
    m, n, k = {nm: d for nm, *d in zz.GEMMS}[layer]

    def mem(lvl):
        e = lvl["energy_pj_per_byte"] / 8 * 1e-12
        ew = lvl.get("write_energy_pj_per_byte", lvl["energy_pj_per_byte"]) / 8 * 1e-12
        bw = lvl["bandwidth_gbps"] * lvl["efficiency"] * 8e9
        return (f"    - {{name: read, energy: {e:.6e}, throughput: {bw:.6e}}}\n"
                f"    - {{name: write, energy: {ew:.6e}, throughput: {bw:.6e}}}\n")

    arch = f"""arch:
  nodes:
  - !Memory
    name: MainMemory
    size: inf
    leak_power: 0
    area: 0
    actions:
{mem(dram)}    tensors: {{keep: ~Intermediates, may_keep: All}}
  - !Memory
    name: GlobalBuffer
    size: {sram['capacity_bytes'] * 8}
    leak_power: 0
    area: 0
    actions:
{mem(sram)}    tensors: {{keep: ~MainMemory.tensors, may_keep: All}}
  - !Container
    name: ProcessingElement
    spatial:
    - {{name: cols, fanout: {a['array']['cols']}, reuse: input}}
    - {{name: rows, fanout: {a['array']['rows']}, reuse: output}}
  - !Memory
    name: Register
    size: weight.bits_per_value if weight else 0
    leak_power: 0
    area: 0
    actions:
    - {{name: read, energy: 0, throughput: inf}}
    - {{name: write, energy: 0, throughput: inf}}
    tensors: {{keep: weight}}
  - !Compute
    name: MAC
    leak_power: 0
    area: 0
    actions:
    - {{name: compute, energy: {a['energy']['mac_pj']['bf16'] * 1e-12:.6e}, throughput: {clk:.6e}}}
"""
    wl = f"""workload:
  iteration_space_shape:
    m: 0 <= m < {m}
    k: 0 <= k < {k}
    n: 0 <= n < {n}
  bits_per_value: {{All: {bits}}}
  einsums:
  - name: {layer}
    tensor_accesses:
    - {{name: A, projection: [m, k]}}
    - {{name: B, projection: [k, n]}}
    - {{name: C, projection: [m, n], output: True}}
    renames: {{input: A, weight: B, output: C}}
"""
    (Path(tmp) / "arch.yaml").write_text(arch)
    (Path(tmp) / "workload.yaml").write_text(wl)
    return Path(tmp) / "arch.yaml", Path(tmp) / "workload.yaml"


# (AccelForge metric, xpusim mapping objective, quick?)
ACCELFORGE_WORK = [("LATENCY", "latency", True), ("ENERGY", "energy", False)]


def accelforge_rows(reps, quick):
    py = peer_python("accelforge")
    clock = tomllib.loads(CMP_NPU.read_text())["clock_ghz"] * 1e9
    rows = []
    for metric, objective, q in ACCELFORGE_WORK:
        if quick and not q:
            continue
        row = {"peer": "AccelForge", "work": f"gemm512 on cmp-npu (FFM, {objective})"}
        rows.append(row)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                arch, wl = accelforge_yaml(tmp)
                cmd = [py, "-c", ACCELFORGE_DRIVER, str(arch), str(wl), metric]
                row["peer_s"], stdout = best_of(cmd, reps, cwd=tmp, timeout=600)
                f = driver_result(stdout)
                row["version"] = f["version"]
                row["xpusim_s"], cyc, pj = xpusim_mapped(tmp, "gemm512", reps, objective)
            fc, fpj = f["latency_s"] * clock, f["energy_j"] * 1e12
            row["result"] = (f"cycles {cyc:.0f} vs {fc:.0f} ({rel(cyc, fc)}), "
                             f"energy {pj / 1e6:.1f} vs {fpj / 1e6:.1f} µJ ({rel(pj, fpj)})")
        except (PeerError, OSError, KeyError, ValueError) as e:
            row["error"] = str(e)
    return rows


RUNNERS = {"scalesim": ("SCALE-Sim", scalesim_rows), "zigzag": ("ZigZag", zigzag_rows),
           "genz": ("GenZ", genz_rows), "accelforge": ("AccelForge", accelforge_rows)}


# ---------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one repetition, smallest work")
    ap.add_argument("--only", default=",".join(PEERS), help=f"comma-separated peers ({','.join(PEERS)})")
    ap.add_argument("--reps", type=int, default=None, help="runs per timing, best kept (default 3; 1 with --quick)")
    args = ap.parse_args()
    only = [p.strip().lower().replace("-", "") for p in args.only.split(",") if p.strip()]
    unknown = [p for p in only if p not in RUNNERS]
    if unknown:
        ap.error(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEERS)}")
    reps = args.reps or (1 if args.quick else 3)

    global XPUSIM, SHARED, PEERS_ROOT
    XPUSIM = os.environ.get("XPUSIM_BIN", str(REPO / "target" / "release" / "xpusim"))
    SHARED = Path(os.environ.get("XPUSIM_SHARED", REPO.parent / "shared"))
    PEERS_ROOT = Path(os.environ.get("PEERS_ROOT", "/tmp/xpusim-peers"))
    if not Path(XPUSIM).is_file():
        sys.exit(f"error: no xpusim binary at {XPUSIM}: run `cargo build --release` or set XPUSIM_BIN")
    try:
        version = subprocess.run([XPUSIM, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"error: {XPUSIM} --version failed: {e}")

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    rows = []
    for p in only:
        label, fn = RUNNERS[p]
        print(f"running {label} ...", file=sys.stderr, flush=True)
        try:
            rows += fn(reps, args.quick)
        except Skip as e:
            rows.append({"peer": label, "work": "-", "skip": str(e)})
        except Exception as e:  # a peer's bug must not stop the others
            rows.append({"peer": label, "work": "-", "error": f"{type(e).__name__}: {e}"})

    versions = {}
    for r in rows:
        if "version" in r:
            versions[r["peer"]] = r["version"]
    print(f"# xpusim vs peers — {datetime.date.today().isoformat()}\n")
    print(f"- xpusim: {version} ({XPUSIM})")
    for p in only:
        label = RUNNERS[p][0]
        if label in versions:
            print(f"- {label}: {PKG[p]} {versions[label]} ({PEERS_ROOT / p})")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
          f"load average {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print(f"- timing: wall clock of one whole process (start-up and imports included), best of {reps}\n")
    print("| peer | work | peer time | xpusim time | ratio (peer / xpusim) | results (xpusim vs peer) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ps, xs = r.get("peer_s"), r.get("xpusim_s")
        ratio = f"{ps / xs:,.0f}×" if ps and xs else "-"
        if "skip" in r:
            res = f"skipped: {r['skip']}"
        elif "error" in r:
            res = f"error: {r['error']}"
        else:
            res = r.get("result", "-")
        res = res.replace("|", "\\|").replace("\n", " ")
        print(f"| {r['peer']} | {r['work']} | {fmt_s(ps)} | {fmt_s(xs)} | {ratio} | {res} |")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
