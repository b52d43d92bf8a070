#!/usr/bin/env python3
"""Builds deepbench-train.csv from Baidu DeepBench's published training results.

Run from the repository root, with openpyxl in a throwaway venv (never a project dependency):

    python3 -m venv /tmp/dbvenv && /tmp/dbvenv/bin/pip install openpyxl
    /tmp/dbvenv/bin/python data/validation/deepbench_train.py PATH/TO/DeepBench.git

PATH is a git directory of github.com/baidu-research/DeepBench (a bare mirror is enough); the
workbooks are read from its HEAD with `git show`, and every row cites the commit, the file,
the sheet and the spreadsheet row it came from. No number is changed: the value is the sheet's
time in milliseconds (its header says "msec"; DeepBench's benchmarks print microseconds and the
sheets hold them divided by 1000, e.g. V100 FP32 1760x16x1760: 0.038 ms = 2.61 TFLOPS as the
sheet's own TERAFLOPS column says), printed to 6 significant digits to drop float noise.

What is taken, and why:
- GEMM rows (cuBLAS `cublasGemmEx`, M x N x K, C = op(A) op(B)): kernel `gemm:m=,n=,k=`.
  Our `gemm` kind has no transposes; a row with A or B transposed is kept (the same FLOPs
  and bytes; cuBLAS picks a different kernel, so the note says so).
- Recurrent rows (cuDNN vanilla RNN / LSTM / GRU, one layer, one direction): only the "Time
  Forward" column, the forward pass alone. code/nvidia/rnn_bench.cu builds its descriptor with
  CUDNN_SKIP_INPUT: the input feeds the gates directly, with no input weight matrix, so the
  work is the steps' recurrent GEMMs alone (DeepBench's TERAFLOPS column counts exactly those).
  Our kernel kinds express that as `skip_input=1` (crates/xpusim-validate/src/kernel.rs);
  without it they would charge an input projection cuDNN never ran, twice the FLOPs.
  These workbooks predate commit 4bd07af (2019-11-15, "Update Nvidia RNN benchmark to use
  cudnnRNNForwardInference"): the V100/T4 sheets were last updated in 30c5115 (2019-10-07) and
  the P100/TitanXp RNN rows in f48528c (2018-05-21), when rnn_bench.cu timed
  `cudnnRNNForwardTraining`. That is the same recurrence (the same FLOPs and weight reads) as
  the forward inference our kinds model, plus one write of the reserve space (the gate
  activations kept for backward): no extra FLOPs and batch x steps x gates x hidden more bytes
  written, small beside the per-step weight reads, so the rows are kept and each note says so.
  The backward-data and backward-weights columns are other work that no kernel kind
  expresses; they are not used.
- Convolution rows (cuDNN, the fastest forward algorithm cudnnFind/GetConvolutionForwardAlgorithm
  picks; NCHW tensors, NHWC in the FP16 sheets): only the "Forward (msec)" column, as kernel
  `conv:n,c,h,w,k,r,s,stride_h,stride_w,pad_h,pad_w` (the IR's dense forward conv). The workbooks name the filter and
  stride columns differently (V100/T4: "S (Filter width)", "R (Filter height)", "Horizontal
  stride"; P100/TitanXp: "R", "S", "Vertical stride"); both pair R and the vertical stride with
  H and S and the horizontal stride with W, which the sheets' own output sizes confirm (700 x
  161 input, 5 x 20 filter, stride 2: 79 x 341). The backward-data and backward-filter columns
  are not used.
- Tensor-core padding (the V100 and T4 FP16 sheets): gemm_bench.cu and conv_bench.cu at
  30c5115, the commit whose results these sheets are ("Patch the code base to ensure Tensor
  Cores to be used in more cases and update NVIDIA results based on this patch"), pad a
  half-precision problem before timing it, and the sheets print the problem unpadded.
  GEMMs (PAD_KERNELS, following cuBLAS's tensor-op restrictions): B not transposed pads M and
  K to multiples of 8, only B transposed pads M and N, both transposed pad all three.
  Training convolutions pad C and K to multiples of 8 (NHWC tensors). The workload is the
  padded problem, the kernel that ran (the 700 x 161 x 1-channel DeepSpeech convolution runs
  with 8 channels: 8 x the FLOPs, which is why its FP16 time is 7.6 x its FP32 time); the id
  keeps the sheet's shape and the note gives both.
- Not taken: all-reduce (the multi-GPU rows are blank in these workbooks), and the P100 "Pseudo FP16" sheet (16-bit
  storage with 32-bit multiply and add: no precision of ours stores in 16 bits and computes
  in 32, so neither `fp16`, which runs P100's half2 rate, nor `fp32` would be the same work).
- Precisions: sheet "Float" -> `fp32` (CUDA cores: no row beats the FP32 CUDA-core peak, e.g.
  V100's best is 14.8 of 15.7 TF); V100/T4 sheet "16 bit inputs, 16 bit multiplication, 32 bit
  addition" (cublasGemmEx with CUBLAS_TENSOR_OP_MATH: tensor cores) -> `fp16`. The sheet says
  32-bit addition while gemm_bench.cu at 30c5115 requests CUDA_R_16F compute; V100 and T4 run
  both at the same tensor-core rate, so the mapping holds either way.

Timing: DeepBench times N back-to-back calls with a host clock (std::chrono) and divides
(400 GEMM repeats, 100 RNN repeats, conv_bench likewise), after a warm-up call: `timing=wall`, as data.rs defines it
(host-side time, launch included; CUDA events or CUPTI around one kernel would be `kernel`),
and as deepbench.csv times the same harness's inference rows. For large kernels the launch is
noise; for the smallest GEMMs (~10 us) the per-call host cost of cublasGemmEx is much of the
measurement. gemm_bench.cu and conv_bench.cu also truncate the per-call time to whole
microseconds, so the ~10 us rows carry up to 10 % rounding.

Column source_id is one source per GPU (and its CUDA/cuDNN/cuBLAS build, which the workbook's
Specs sheet gives): deepbench-train-V100, -P100, -T4, -TitanXp. All are test sources in
split.toml: nothing is fitted to any row here.
"""
import csv
import io
import os
import subprocess
import sys

try:
    import openpyxl
except ImportError:
    sys.exit("needs openpyxl: python3 -m venv /tmp/dbvenv && /tmp/dbvenv/bin/pip install openpyxl")

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "deepbench-train.csv")
REPO = "baidu-research/DeepBench"
HEAD = ["id", "hardware", "devices", "parallelism", "precision", "workload", "phase", "batch",
        "seq_in", "seq_out", "metric", "value", "unit", "source", "category", "timing",
        "used_for_calibration", "note", "source_id"]
# Workbook file suffix -> (our preset, source id suffix).
GPUS = [("V100", "v100"), ("P100", "p100"), ("T4", "t4"), ("TitanXp", "titan-xp")]
# The text in a sheet's "Precision" cell (B1) -> our precision; None: not taken (see above).
PRECISION = {
    "Float": "fp32",
    "16 bit inputs, 16 bit multiplication, 32 bit addition": "fp16",
    "16 bit inputs, 32 bit multiplication, 32 bit addition": None,
}
# Section titles in column A -> our kernel kind (None: a section not taken).
SECTIONS = {
    "Dense Matrix Multiplication": "gemm",
    "Convolution": "conv",
    "Recurrent Layers - Vanilla": "rnn",
    "Recurrent Layers - LSTM": "lstm",
    "Recurrent Layers - GRU": "gru",
    "All-Reduce": None,
}
# Sheets timed with their problems padded for tensor cores (see the docstring): the FP16
# sheets of the workbooks last updated in 30c5115.
PADDED_SHEETS = {("V100", "fp16"), ("T4", "fp16")}
# Multiple a padded dimension is rounded up to (gemm_bench.cu / conv_bench.cu at 30c5115).
TENSOR_CORE_MULTIPLE = 8
# Significant digits kept of a sheet's float (its cells carry binary float noise).
SIG_DIGITS = 6


def git_show(mirror, path):
    return subprocess.run(["git", "-C", mirror, "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def col(header, *names):
    """Index of the first header cell that starts with one of `names` (headers carry
    stray trailing spaces and differ in case between workbooks)."""
    for i, h in enumerate(header):
        if not isinstance(h, str):
            continue
        h = h.strip().lower()
        # One-letter names (M, N, K) must match exactly; longer ones by prefix.
        if any(h == n.lower() or (len(n) > 1 and h.startswith(n.lower())) for n in names):
            return i
    raise KeyError(f"no column {names} in {header}")


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def fmt(v):
    return f"{v:.{SIG_DIGITS}g}"


def up(x, multiple=TENSOR_CORE_MULTIPLE):
    return -(-x // multiple) * multiple


def padded_gemm(m, n, k, ta, tb):
    """(m, n, k) as gemm_bench.cu at 30c5115 pads a half-precision problem: only the
    dimensions of its transpose case, and only where one of them is not a multiple of 8."""
    if tb != "T":
        dims = (True, False, True)
    elif ta != "T":
        dims = (True, True, False)
    else:
        dims = (True, True, True)
    if not any(p and x % TENSOR_CORE_MULTIPLE for p, x in zip(dims, (m, n, k))):
        return m, n, k
    return tuple(up(x) if p else x for p, x in zip(dims, (m, n, k)))


def padded_conv(c, k):
    """(c, k) as conv_bench.cu at 30c5115 pads a half-precision training convolution."""
    if c % TENSOR_CORE_MULTIPLE or k % TENSOR_CORE_MULTIPLE:
        return up(c), up(k)
    return c, k


def rows_of(ws, gpu, hw, prec, cite):
    pads = (gpu, prec) in PADDED_SHEETS
    out = []
    grid = list(ws.iter_rows(values_only=True))
    kind, header = None, None
    for i, r in enumerate(grid):
        line = i + 1
        a = r[0].strip() if isinstance(r[0], str) else r[0]
        if isinstance(a, str) and a in SECTIONS:
            kind = SECTIONS[a]
            # GEMM and RNN sections carry their column names on the title row itself; the
            # convolution section on the row after it.
            header = None if kind == "conv" else r
            continue
        if kind == "conv" and header is None:
            if any(isinstance(x, str) and x.strip().startswith("Forward") for x in r):
                header = r
            continue
        if kind is None or header is None:
            continue
        src = f"{cite}, sheet '{ws.title}', row {line}"
        app = r[1].strip() if isinstance(r[1], str) else ""
        if kind == "gemm":
            m, n, k = (num(r[c]) for c in (col(header, "M"), col(header, "N"), col(header, "K")))
            t = num(r[col(header, "Time")])
            if None in (m, n, k, t) or t <= 0:
                continue
            ta, tb = r[col(header, "A Transpose")], r[col(header, "B Transpose")]
            m, n, k = int(m), int(n), int(k)
            note = f"DeepBench {app} GEMM"
            if ta == "T" or tb == "T":
                note += (f", transposes A={ta} B={tb} (not modelled: same FLOPs and bytes, "
                         f"another cuBLAS kernel)")
            note += ("; cuBLAS FP16 on tensor cores (sheet: 32-bit accumulate; gemm_bench.cu asks for "
                     "CUDA_R_16F compute, same tensor-core rate)" if prec == "fp16"
                     else "; cuBLAS FP32 on CUDA cores")
            pm, pn, pk = padded_gemm(m, n, k, ta, tb) if pads else (m, n, k)
            if (pm, pn, pk) != (m, n, k):
                note += (f"; timed padded for tensor cores to {pm}x{pn}x{pk} "
                         f"(gemm_bench.cu at 30c5115)")
            wid = f"gemm:m={pm},n={pn},k={pk}"
            rid = f"deepbench-train-{gpu}-{prec}-gemm-{m}x{n}x{k}-{ta}{tb}-r{line}"
        elif kind == "conv":
            names = [("W",), ("H",), ("C",), ("N",), ("K",), ("R", "R (Filter height)"),
                     ("S", "S (Filter width)"), ("pad_h",), ("pad_w",), ("Vertical stride",),
                     ("Horizontal stride",), ("Forward",)]
            v = [num(r[col(header, *n)]) for n in names]
            if None in v or v[-1] <= 0:
                continue
            w, h, c, n, k, rr, ss, ph, pw, sh, sw = (int(x) for x in v[:-1])
            t = v[-1]
            alg = r[col(header, "Forward Algorithm")] if any(
                isinstance(x, str) and x.strip() == "Forward Algorithm" for x in header) else None
            note = (f"DeepBench {app or ''} convolution, forward column only (cuDNN"
                    f"{', ' + alg if isinstance(alg, str) else ''}); the backward columns are "
                    f"not used").replace("DeepBench  ", "DeepBench ")
            pc, pk = padded_conv(c, k) if pads else (c, k)
            if (pc, pk) != (c, k):
                note += (f"; timed padded for tensor cores to C={pc}, K={pk} "
                         f"(conv_bench.cu at 30c5115)")
            wid = (f"conv:n={n},c={pc},h={h},w={w},k={pk},r={rr},s={ss},stride_h={sh},"
                   f"stride_w={sw},pad_h={ph},pad_w={pw}")
            rid = f"deepbench-train-{gpu}-{prec}-conv-n{n}c{c}h{h}w{w}k{k}r{rr}s{ss}-r{line}"
        else:
            h, b, s = (num(r[c]) for c in (col(header, "Hidden"), col(header, "N"),
                                           col(header, "Timesteps")))
            t = num(r[col(header, "Time Forward")])
            if None in (h, b, s, t) or t <= 0:
                continue
            h, b, s = int(h), int(b), int(s)
            note = (f"DeepBench {app or 'RNN'} {kind.upper()}, forward column only (timed as "
                    f"cudnnRNNForwardTraining: also writes the reserve space that inference "
                    f"skips); CUDNN_SKIP_INPUT: no input projection")
            wid = f"{kind}:hidden={h},batch={b},steps={s},skip_input=1"
            rid = f"deepbench-train-{gpu}-{prec}-{kind}-h{h}-b{b}-t{s}-r{line}"
        out.append({
            "id": rid, "hardware": hw, "devices": "1", "parallelism": "", "precision": prec,
            "workload": wid, "phase": "kernel", "batch": "1", "seq_in": "", "seq_out": "",
            "metric": "latency_ms", "value": fmt(t), "unit": "ms", "source": src,
            "category": f"deepbench-train-{gpu} {kind if kind in ('gemm', 'conv') else 'rnn'} {prec}",
            "timing": "wall", "used_for_calibration": "no", "note": note,
            "source_id": f"deepbench-train-{gpu}",
        })
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    mirror = sys.argv[1]
    commit = subprocess.run(["git", "-C", mirror, "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    rows = []
    for gpu, hw in GPUS:
        path = f"results/train/DeepBench_NV_{gpu}.xlsx"
        wb = openpyxl.load_workbook(io.BytesIO(git_show(mirror, path)), data_only=True)
        for ws in wb.worksheets:
            if ws.title == "Specs":
                continue
            label = ws.cell(row=1, column=2).value
            if label not in PRECISION:
                sys.exit(f"{path} sheet '{ws.title}': unknown precision {label!r}")
            prec = PRECISION[label]
            if prec is None:
                continue
            rows += rows_of(ws, gpu, hw, prec, f"{REPO}@{commit[:7]} {path}")
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        sys.exit("duplicate row ids")
    with open(OUT, "w", newline="") as f:
        f.write(f"# Generated by data/validation/deepbench_train.py from {REPO} commit {commit}\n"
                "# (results/train/DeepBench_NV_*.xlsx); do not edit. Times are the sheets' own (ms),\n"
                "# GEMMs (cuBLAS) and the forward column of the RNN sections (cuDNN, skip-input mode);\n"
                "# see the script.\n")
        w = csv.DictWriter(f, fieldnames=HEAD, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    counts = {}
    for r in rows:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    for c, n in sorted(counts.items()):
        print(f"{c}: {n}", file=sys.stderr)
    print(f"{len(rows)} rows -> {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
