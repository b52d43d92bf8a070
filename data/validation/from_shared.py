#!/usr/bin/env python3
"""Builds vidur.csv and llmcompass.csv from ../shared/calibration (read-only measured data).

Run from the repository root:  python3 data/validation/from_shared.py
Every row cites the file it came from. No number is changed, only re-expressed:
LLMCompass softmax/layernorm/GELU rates (elements/s) become latency = elements / rate.

LLMCompass timed these vector ops as back-to-back PyTorch eager calls, so each call costs at
least the host's dispatch time, which overlaps the GPU's work: the measured time is flat
(within a few %) over a 30x range of small sizes and then rises as max(floor, device time),
not floor + device time (A100 layernorm: 52 us at 32x4096 and 59 us at 2048x4096, whose
device time is ~47 us). That floor is a property of the harness, not the chip, so it is data:
column harness_floor_us, per GPU and op kind, the median measured time of that kind's
HARNESS_ROWS smallest rows, which are then marked used_for_calibration=yes (never held out).
The GPT-3 layer rows, timed by the same harness on the same GPU, take their kind's floor.
The floor is a measurement-setup term applied only in validation (the engine never sees it);
every row carrying one says so in its note.

Column source_id names the row's measurement source in data/validation/split.toml: the
dataset, the GPU and the harness (vidur-a100, vidur-h100, llmcompass-A100, llmcompass-MI210).
Each flagged row's note says what it set.
"""
import csv, os, sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(ROOT, "..", "..", "..", "shared", "calibration")
HEAD = ["id", "hardware", "devices", "parallelism", "precision", "workload", "phase", "batch",
        "seq_in", "seq_out", "metric", "value", "unit", "source", "category", "timing",
        "used_for_calibration", "note", "harness_floor_us", "source_id"]
# Smallest rows per (GPU, vector op kind) that fix that kind's harness floor.
HARNESS_ROWS = 3

# Llama-2 shapes as Vidur profiles them (its mlp.csv rows carry n_head, n_kv_head, n_embd,
# n_expanded_embd, vocab_size; head dim 128).
HEAD_DIM = 128
TOKENS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096]
GFLOP = 1e9


def vidur_ops(r, t, tp):
    h, heads, kvh = int(r["n_embd"]), int(r["n_head"]), int(r["n_kv_head"])
    inter, vocab = int(r["n_expanded_embd"]), int(r["vocab_size"])
    qkv = (heads + 2 * kvh) * HEAD_DIM // tp
    return {
        "emb": f"embedding:tokens={t},dim={h},vocab={vocab // tp}",
        "input_layernorm": f"rmsnorm:rows={t},cols={h}",
        "attn_pre_proj": f"linear:m={t},k={h},n={qkv}",
        "attn_rope": f"rope:rows={t},cols={(heads + kvh) * HEAD_DIM // tp}",
        "attn_post_proj": f"linear:m={t},k={heads * HEAD_DIM // tp},n={h}",
        "post_attention_layernorm": f"rmsnorm:rows={t},cols={h}",
        "mlp_up_proj": f"linear:m={t},k={h},n={2 * inter // tp}",
        "mlp_act": f"silu_mul:rows={t},cols={inter // tp}",
        "mlp_down_proj": f"linear:m={t},k={inter // tp},n={h}",
        "add": f"add:elems={t * h}",
    }


def gemm_flops(w):
    kv = dict(x.split("=") for x in w.split(":")[1].split(","))
    return 2 * int(kv["m"]) * int(kv["n"]) * int(kv["k"]) * int(kv.get("b", 1))


def vidur(out):
    hw = {"a100": "a100-80gb", "h100": "h100-sxm"}
    for gpu in ["a100", "h100"]:
        for model in ["7b", "70b"]:
            name = f"{gpu}_Llama-2-{model}-hf.csv"
            seen = set()
            for r in csv.DictReader(open(os.path.join(SHARED, "vidur", name))):
                t, tp = int(r["num_tokens"]), int(r["num_tensor_parallel_workers"])
                if t not in TOKENS or (t, tp) in seen:
                    continue
                seen.add((t, tp))
                for op, w in vidur_ops(r, t, tp).items():
                    kind = w.split(":")[0]
                    if kind == "linear":
                        big = gemm_flops(w) >= GFLOP
                        cat = f"vidur-{gpu} gemm {'>=' if big else '<'}1 GFLOP"
                    else:
                        cat = f"vidur-{gpu} {kind}"
                    out.writerow([
                        f"vidur-{gpu}-llama2-{model}-{op}-t{t}-tp{tp}", hw[gpu], 1, "", "fp16", w,
                        "kernel", 1, "", "", "latency_ms", r[f"time_stats.{op}.median"], "ms",
                        f"microsoft/vidur data/profiling/compute/{gpu}/meta-llama/Llama-2-{model}-hf/mlp.csv "
                        f"(../shared/calibration/vidur/{name}), median of repeats",
                        # Timed like wall time: the smallest ops take ~4 us, the launch
                        # floor, so the launch is inside Vidur's timed region.
                        cat, "wall",
                        # The presets' HBM efficiency and the efficiency curves are fitted on
                        # the 7B profiles; the 70B profiles are held out.
                        "yes" if model == "7b" else "no",
                        f"one Llama-2-{model} layer op, weights sharded by TP {tp}, run on one GPU"
                        + (vidur_sets(gpu, hw[gpu], kind, w) if model == "7b" else ""),
                    ])


def vidur_sets(gpu, dev, kind, w):
    """What a flagged (7B) Vidur row sets in its device preset."""
    if kind == "linear":
        if gpu == "a100":
            # The A100 preset has no matmul curve: its GEMMs >= 1 GFLOP set matrix.efficiency
            # (xpusim calibrate --matrix-efficiency), its smaller ones (weight-streaming
            # GEMVs) inform memory[2].efficiency.
            if gemm_flops(w) >= GFLOP:
                return f"; sets {dev} matrix.efficiency (xpusim calibrate --matrix-efficiency)"
            return f"; informs {dev} memory[2].efficiency (weight-streaming GEMV)"
        return f"; fits the {dev} matmul curve (xpusim calibrate)"
    return f"; fits the {dev} {'embedding' if kind == 'emb' or kind == 'embedding' else 'vector'} curves (xpusim calibrate)"


HARNESS_NOTE = "harness_floor_us is a measurement-setup term applied only in validation"


def write_with_floor(out, rows):
    """Writes (size, row) pairs with the harness floor of their smallest rows; returns it (us)."""
    small = sorted(float(r[11]) for _, r in sorted(rows, key=lambda x: x[0])[:HARNESS_ROWS])
    floor_us = round(small[len(small) // 2] * 1e3, 2)
    ids = {r[0] for _, r in sorted(rows, key=lambda x: x[0])[:HARNESS_ROWS]}
    for _, r in rows:
        if r[0] in ids:
            r[16] = "yes"
            r[17] = (r[17] + "; " if r[17] else "") + "sets this kind's harness_floor_us"
        r[17] = (r[17] + "; " if r[17] else "") + HARNESS_NOTE
        out.writerow(r + [f"{floor_us:g}"])
    return floor_us


def llmcompass(out):
    harness = {}
    src = "PrincetonUniversity/LLMCompass ae/ figure 5 (../shared/calibration/llmcompass/{}), PyTorch FP16"
    hw = {"A100": "a100-80gb", "MI210": "mi210"}
    for gpu in ["A100", "MI210"]:
        f = f"figure5_ab_matmul_{gpu}.csv"
        for line in open(os.path.join(SHARED, "llmcompass", f)):
            p = [x.strip() for x in line.split(",")]
            if len(p) < 4:
                continue
            m, n, k = p[0], p[1], p[2]
            # The MI210's matrix.efficiency comes from this one row (xpusim calibrate
            # --matrix-efficiency over its flagged GEMMs); the A100's comes from its Vidur
            # rows, so every A100 LLMCompass GEMM is held out.
            fit = gpu == "MI210" and (m, n, k) == ("8192", "12288", "12288")
            out.writerow([f"llmcompass-{gpu}-gemm-{m}x{n}x{k}", hw[gpu], 1, "", "fp16",
                          f"gemm:m={m},n={n},k={k}", "kernel", 1, "", "", "latency_ms",
                          p[3].removesuffix("ms"), "ms", src.format(f),
                          f"llmcompass-{gpu} gemm {'>=' if 2*int(m)*int(n)*int(k) >= GFLOP else '<'}1 GFLOP",
                          "wall", "yes" if fit else "no",
                          f"sets {hw[gpu]} matrix.efficiency (xpusim calibrate --matrix-efficiency)"
                          if fit else ""])
        for kind, f in [("softmax", "cf_softmax"), ("layernorm", "de_layernorm")]:
            name = f"figure5_{f}_{gpu}.csv"
            rows = []
            for line in open(os.path.join(SHARED, "llmcompass", name)):
                p = [x.strip() for x in line.split(",")]
                if len(p) < 3:
                    continue
                m, n, rate = int(p[0]), int(p[1]), float(p[2])
                ms = m * n / (rate * 1e9) * 1e3
                # The MI210 has no Vidur profile: its vector curve is fitted on its softmax
                # rows; its layernorm and GELU rows test how that curve transfers.
                fit = gpu == "MI210" and kind == "softmax"
                rows.append((m * n, [f"llmcompass-{gpu}-{kind}-{m}x{n}", hw[gpu], 1, "", "fp16",
                                     f"{kind}:rows={m},cols={n}", "kernel", 1, "", "", "latency_ms",
                                     f"{ms:.6g}", "ms", src.format(name), f"llmcompass-{gpu} {kind}",
                                     "wall", "yes" if fit else "no",
                                     "latency = M*N / reported elements per second" +
                                     ("; fits the mi210 vector curve (xpusim calibrate)" if fit else "")]))
            harness[(gpu, kind)] = write_with_floor(out, rows)
        name = f"figure5_g_gelu_{gpu}.csv"
        rows = []
        for line in open(os.path.join(SHARED, "llmcompass", name)):
            p = [x.strip() for x in line.split(",")]
            if len(p) < 2:
                continue
            e, rate = int(p[0]), float(p[1])
            ms = e / (rate * 1e9) * 1e3
            rows.append((e, [f"llmcompass-{gpu}-gelu-{e}", hw[gpu], 1, "", "fp16", f"gelu:elems={e}",
                             "kernel", 1, "", "", "latency_ms", f"{ms:.6g}", "ms", src.format(name),
                             f"llmcompass-{gpu} gelu", "wall", "no",
                             "latency = elements / reported elements per second"]))
        harness[(gpu, "gelu")] = write_with_floor(out, rows)
    # One GPT-3 175B layer on 4 x A100 with tensor parallelism 4 (h 12288, 96 heads of 128,
    # FFN 49152): per-GPU shards. Prefill batch 8 x 2048 tokens; decode batch 8 at KV 3072.
    h, hs, f4 = 12288, 96 // 4, 49152 // 4
    for name, b, sq, skv in [("transformer", 8, 2048, 2048), ("transformerAR", 8, 1, 3072)]:
        t = b * sq
        ops = [
            ("qkv", f"linear:m={t},k={h},n={3 * h // 4}"),
            ("qk", f"gemm:b={b * hs},m={sq},n={skv},k=128"),
            ("av", f"gemm:b={b * hs},m={sq},n=128,k={skv}"),
            ("wo", f"linear:m={t},k={h // 4},n={h}"),
            ("w1", f"linear:m={t},k={h},n={f4}"),
            ("w2", f"linear:m={t},k={f4},n={h}"),
            ("softmax", f"softmax:rows={b * hs * sq},cols={skv}"),
            ("ln-mha", f"layernorm:rows={t},cols={h}"),
            ("ln-ffn", f"layernorm:rows={t},cols={h}"),
            ("gelu", f"gelu:elems={t * f4}"),
            ("allreduce-mha", f"allreduce:elems={t * h}"),
            ("allreduce-ffn", f"allreduce:elems={t * h}"),
        ]
        fn = f"figure5_ijkl_{name}_A100.csv"
        vals = [float(x) for x in open(os.path.join(SHARED, "llmcompass", fn)).read().split()]
        phase = "prefill" if sq > 1 else "decode"
        for (op, w), s in zip(ops, vals):
            multi = op.startswith("allreduce")
            kind = w.split(":")[0]
            if kind in ("linear", "gemm"):
                cat = f"llmcompass-A100 gpt3 layer {phase} gemm"
            elif multi:
                cat = f"llmcompass-A100 gpt3 layer {phase} allreduce"
            else:
                cat = f"llmcompass-A100 gpt3 layer {phase} vector"
            floor = harness.get(("A100", kind))
            out.writerow([f"llmcompass-A100-gpt3-{phase}-{op}", "a100-80gb", 4 if multi else 1,
                          "tp" if multi else "", "fp16", w, "kernel", 1, "", "", "latency_ms",
                          f"{s * 1e3:.6g}", "ms", src.format(fn), cat, "wall", "no",
                          "per-GPU shard of one GPT-3 175B layer at TP 4"
                          + ("" if floor is None else "; " + HARNESS_NOTE),
                          "" if floor is None else f"{floor:g}"])


class Padded:
    """A csv writer that fills the optional trailing columns a row leaves out."""

    def __init__(self, w):
        self.w = w

    def writerow(self, row):
        # The source: dataset and GPU, the first two parts of the id (vidur-a100-...,
        # llmcompass-MI210-...).
        row = row + [""] * (len(HEAD) - 1 - len(row))
        self.w.writerow(row + ["-".join(row[0].split("-")[:2])])


def main():
    for fname, fn in [("vidur.csv", vidur), ("llmcompass.csv", llmcompass)]:
        with open(os.path.join(ROOT, fname), "w", newline="") as f:
            f.write("# Generated by data/validation/from_shared.py from ../shared/calibration; do not edit.\n")
            w = csv.writer(f, lineterminator="\n")
            w.writerow(HEAD)
            fn(Padded(w))


if __name__ == "__main__":
    sys.exit(main())
