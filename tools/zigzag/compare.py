#!/usr/bin/env python3
"""Compare xpusim's NPU mapper with ZigZag 3.9 on the same NPU and the same layers.

Run with a throwaway venv that has `zigzag-dse==3.9.0` (never a project dependency):

    python3 -m venv /tmp/zzvenv && /tmp/zzvenv/bin/pip install zigzag-dse==3.9.0
    /tmp/zzvenv/bin/python tools/zigzag/compare.py > tools/zigzag/RESULTS.tables.md

The hardware is read from `cmp-npu.toml` (an xpusim device file with an `[array]` section,
the same schema as the device presets) and translated into ZigZag's accelerator YAML, so both tools price the same actions: MAC energy, per-PE weight
and partial-sum registers, one scratchpad holding all three operands, and DRAM. The layers
are ResNet-18 convolutions (padded input sizes, SCALE-Sim topology form) and a 512^3 GEMM.
xpusim's side is `cargo run --release -p xpusim-npu --example zigzag_point`.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# ResNet-18 layers (torchvision resnet18; input sizes include the conv padding) and the GEMM.
# (name, H, W, R, S, C, K, stride) for convolutions; (name, M, N, K) for GEMMs.
CONVS = [
    ("conv1", 230, 230, 7, 7, 3, 64, 2),
    ("layer1.0.conv1", 58, 58, 3, 3, 64, 64, 1),
    ("layer2.0.downsample", 55, 55, 1, 1, 64, 128, 2),
    ("layer2.1.conv1", 30, 30, 3, 3, 128, 128, 1),
    ("layer3.1.conv1", 16, 16, 3, 3, 256, 256, 1),
    ("layer4.1.conv1", 9, 9, 3, 3, 512, 512, 1),
]
GEMMS = [("gemm512", 512, 512, 512)]
# Extra ZigZag runs with a mixed spatial mapping on the array rows (ZigZag unrolls whole
# factors of loop dims; C·FX = 21 of 32 rows is its closest match to xpusim's im2col rows).
MIXED = {"conv1": ["C, 3", "FX, 7"]}
BITS = 16  # bf16 operands and partial sums in both tools


def out_size(h, r, s):
    return math.ceil((h - r + s) / s)


def bytes_per_cycle(arch, m):
    """Per-instance bandwidth as xpusim's mapper sees it (NpuArch::from_device): sustained
    aggregate GB/s over the clock (one core, so one instance per level)."""
    return m["bandwidth_gbps"] * m["efficiency"] / arch["clock_ghz"]


def zigzag_accelerator(arch):
    a = arch["array"]
    sram, dram = arch["memory"][0], arch["memory"][1]
    assert arch["cores"] == 1 and a.get("arrays_per_core", 1) == 1, "one array only"
    reg_word = a["reg_energy_pj_per_byte"] * BITS / 8

    def port(name, kind, bw, alloc):
        return {"name": name, "type": kind, "bandwidth_min": BITS, "bandwidth_max": bw, "allocation": alloc}

    def level(m, operands, ports, served):
        bw = int(bytes_per_cycle(arch, m) * 8)
        read = m["energy_pj_per_byte"]
        write = m.get("write_energy_pj_per_byte", read)
        return {
            "size": m["capacity_bytes"] * 8,
            # ZigZag prices one access of bandwidth_max bits.
            "r_cost": read * bw / 8,
            "w_cost": write * bw / 8,
            "area": 0,
            "latency": 1,
            "operands": operands,
            "ports": ports(bw),
            "served_dimensions": served,
        }

    def reg(operands, ports):
        return {"size": BITS, "r_cost": reg_word, "w_cost": reg_word, "area": 0, "latency": 1,
                "operands": operands, "ports": ports, "served_dimensions": []}

    memories = {
        "rf_w": reg(["I2"], [port("r_port_1", "read", BITS, ["I2, tl"]),
                             port("w_port_1", "write", BITS, ["I2, fh"])]),
        "rf_o": reg(["O"], [port("r_port_1", "read", BITS, ["O, tl"]),
                            port("r_port_2", "read", BITS, ["O, th"]),
                            port("w_port_1", "write", BITS, ["O, fh"]),
                            port("w_port_2", "write", BITS, ["O, fl"])]),
        "sram": level(sram, ["I1", "I2", "O"], lambda bw: [
            port("r_port_1", "read", bw, ["I1, tl", "I2, tl", "O, tl", "O, th"]),
            port("w_port_1", "write", bw, ["I1, fh", "I2, fh", "O, fh", "O, fl"])], ["D1", "D2"]),
        "dram": level(dram, ["I1", "I2", "O"], lambda bw: [
            port("rw_port_1", "read_write", bw,
                 ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"])],
            ["D1", "D2"]),
    }
    return {
        "name": arch["name"].replace("-", "_"),
        "memories": memories,
        "operational_array": {
            "unit_energy": a["mac_energy_pj"]["bf16"],
            "unit_area": 1,
            "dimensions": ["D1", "D2"],
            "sizes": [a["cols"], a["rows"]],
        },
    }


def zigzag_mapping(arch):
    a = arch["array"]
    # Weight stationary: output channels across columns (D1), input channels down rows (D2),
    # as xpusim's ws dataflow (N on columns, the reduction on rows).
    return [{"name": "default", "spatial_mapping": {"D1": [f"K, {a['cols']}"], "D2": [f"C, {a['rows']}"]},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def zigzag_layer(i, name, kind, dims):
    prec = {"W": BITS, "I": BITS, "O": BITS, "O_final": BITS}
    if kind == "conv":
        h, w, r, s, c, k, st = dims
        return {"id": i, "name": name, "operator_type": "Conv",
                "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
                "dimension_relations": [f"ix={st}*ox+1*fx", f"iy={st}*oy+1*fy"],
                "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
                "loop_sizes": [1, k, c, out_size(h, r, st), out_size(w, s, st), r, s],
                "operand_precision": prec, "operand_source": {"I": i}}
    m, n, kk = dims
    return {"id": i, "name": name, "operator_type": "Gemm",
            "equation": "O[d][k]+=I[d][c]*W[c][k]",
            "loop_dims": ["D", "C", "K"], "loop_sizes": [m, kk, n],
            "operand_precision": prec, "operand_source": {"I": i}}


def write_yaml(path, data):
    import yaml  # ZigZag depends on PyYAML, so the venv has it
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def run_zigzag(tmp, arch, opt):
    from zigzag.api import get_hardware_performance_zigzag
    acc, mapping = tmp / "acc.yaml", tmp / "map.yaml"
    write_yaml(acc, zigzag_accelerator(arch))
    write_yaml(mapping, zigzag_mapping(arch))
    results = {}
    layers = [(n, n, "conv", d, mapping) for n, *d in CONVS] + [(n, n, "gemm", d, mapping) for n, *d in GEMMS]
    for n, rows in MIXED.items():
        mixed = tmp / f"map_{n}.yaml"
        m = zigzag_mapping(arch)
        m[0]["spatial_mapping"]["D2"] = rows
        write_yaml(mixed, m)
        d = next(d for nn, *d in CONVS if nn == n)
        layers.append((f"{n} [ZigZag D2 = {' x '.join(rows)}]", n, "conv", d, mixed))
    for i, (label, name, kind, dims, mp) in enumerate(layers):
        wl = tmp / f"wl_{i}.yaml"
        write_yaml(wl, [zigzag_layer(0, name, kind, dims)])
        t0 = time.perf_counter()
        energy, latency, cmes = get_hardware_performance_zigzag(
            str(wl), str(acc), str(mp), opt=opt, dump_folder=str(tmp / f"out_{i}"),
            loma_show_progress_bar=False)
        dt = time.perf_counter() - t0
        cme = cmes[0][1][0][0] if isinstance(cmes[0][1], list) else cmes[0][0]
        results[label] = {"ours": name, "latency_cycles": latency, "energy_pj": energy, "search_s": dt,
                         "ideal_cycles": getattr(cme, "ideal_temporal_cycle", float("nan")),
                         "stall_cycles": getattr(cme, "stall_slack_comb", float("nan")),
                         "onload_cycles": getattr(cme, "data_onloading_cycle", float("nan")),
                         "offload_cycles": getattr(cme, "data_offloading_cycle", float("nan")),
                         "mac_pj": getattr(cme, "mac_energy", float("nan")),
                         "mem_pj": getattr(cme, "mem_energy_breakdown", {})}
    return results


def run_xpusim(tmp, toml, opt):
    csv = tmp / "layers.csv"
    rows = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"]
    rows += [",".join(str(x) for x in c) + "," for c in CONVS]
    csv.write_text("\n".join(rows) + "\n")
    gcsv = tmp / "gemm.csv"
    gcsv.write_text("Layer, M, N, K,\n" + "\n".join(f"{n},{m},{nn},{k}," for n, m, nn, k in GEMMS) + "\n")
    out = {}
    for f in (csv, gcsv):
        cmd = [os.environ.get("CARGO", "cargo"), "run", "-q", "--release", "-p", "xpusim-npu", "--example", "zigzag_point", "--",
               str(toml), str(f), opt, "bf16"]
        res = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
        for r in json.loads(res.stdout):
            out[r["name"]] = r
    return out


def main():
    opt = sys.argv[1] if len(sys.argv) > 1 else "latency"
    toml = HERE / "cmp-npu.toml"
    arch = tomllib.loads(toml.read_text())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ours = run_xpusim(tmp, toml, opt)
        zz = run_zigzag(tmp, arch, "EDP" if opt == "edp" else opt)
    print(f"objective: {opt}\n")
    print("| layer | MACs | xpusim cycles | ZigZag cycles | Δ cycles | xpusim energy (µJ) | ZigZag energy (µJ) | Δ energy | xpusim search | ZigZag search | speed ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    tot_x = tot_z = 0.0
    for name, z in zz.items():
        x = ours[z["ours"]]
        tot_x += x["search_s"]
        tot_z += z["search_s"]
        dc = x["latency_cycles"] / z["latency_cycles"] - 1
        de = x["energy_pj"] / z["energy_pj"] - 1
        print(f"| {name} | {x['macs']} | {x['latency_cycles']} | {z['latency_cycles']:.0f} | {dc:+.1%} | "
              f"{x['energy_pj'] / 1e6:.2f} | {z['energy_pj'] / 1e6:.2f} | {de:+.1%} | "
              f"{x['search_s'] * 1e3:.3f} ms | {z['search_s']:.2f} s | {z['search_s'] / x['search_s']:.0f}x |")
    print("\nLatency decomposed: xpusim's compute cycles follow SCALE-Sim (each fold pays 2R+C-2 fill/drain "
          "cycles on a WS array); ZigZag's latency is ideal + stall + onload + offload.\n")
    print("| layer | xpusim compute | folds x (2R+C-2) | xpusim compute - fill/drain | ZigZag ideal | Δ | "
          "ZigZag stall | ZigZag onload+offload | xpusim latency - compute |")
    print("|---|---|---|---|---|---|---|---|---|")
    r, c = arch["array"]["rows"], arch["array"]["cols"]
    for name, z in zz.items():
        x = ours[z["ours"]]
        dims = next((d for n, *d in CONVS if n == z["ours"]), None)
        if dims is not None:
            h, w, fr, fs, ch, k, st = dims
            rows_ext, cols_ext = ch * fr * fs, k
        else:
            m, n, kk = next(d for nn, *d in GEMMS if nn == z["ours"])
            rows_ext, cols_ext = kk, n
        folds = math.ceil(rows_ext / r) * math.ceil(cols_ext / c)
        fill = folds * (2 * r + c - 2) if x["dataflow"] == "ws" else float("nan")
        bare = x["compute_cycles"] - fill
        print(f"| {name} | {x['compute_cycles']} | {fill} | {bare} | {z['ideal_cycles']:.0f} | "
              f"{bare / z['ideal_cycles'] - 1:+.1%} | {z['stall_cycles']:.0f} | "
              f"{z['onload_cycles'] + z['offload_cycles']:.0f} | {x['latency_cycles'] - x['compute_cycles']} |")
    print(f"\nTotal search time: xpusim {tot_x * 1e3:.2f} ms, ZigZag {tot_z:.1f} s "
          f"(ZigZag/xpusim = {tot_z / tot_x:.0f}x).\n")
    print("Detail (xpusim: compute cycles, energy split; ZigZag: ideal temporal cycles, MAC energy):\n")
    for name, z in zz.items():
        x = ours[z["ours"]]
        print(f"- {name}: xpusim {x['dataflow']} rows {x['rows']} cols {x['cols']} time {x['time']}, "
              f"compute {x['compute_cycles']} cyc, MAC {x['mac_pj'] / 1e6:.2f} µJ, regs {x['registers_pj'] / 1e6:.2f} µJ, "
              f"levels {[(n, round(e / 1e6, 2)) for n, e in x['levels_pj']]} µJ, DRAM bytes {x['traffic_bytes']}; "
              f"ZigZag ideal {z['ideal_cycles']:.0f} + stall {z['stall_cycles']:.0f} + onload {z['onload_cycles']:.0f} "
              f"+ offload {z['offload_cycles']:.0f} cyc, MAC {z['mac_pj'] / 1e6:.2f} µJ, "
              f"memory {{{', '.join(f'{k}: {[round(v / 1e6, 2) for v in vs]}' for k, vs in z['mem_pj'].items())}}} µJ")


if __name__ == "__main__":
    main()
