#!/usr/bin/env python3
"""Builds attention.csv: attention kernels on H100 and A100 as the FlashAttention authors measured them.

Run from the repository root (standard library only):

    python3 data/validation/flash_attention.py > data/validation/attention.csv

The numbers are the bar labels of `assets/flash3_fp16_fwd.png` in Dao-AILab/flash-attention
(added at commit 7ef2484, 2024-07-11, and shown in its README as "FlashAttention-3 speedup on
H100 80GB SXM5 with FP16"): Figure 5 of Shah et al. 2024, "FlashAttention-3: Fast and
Accurate Attention with Asynchrony and Low-precision" (arXiv:2407.08608). They are typed in
below, one list per panel; the labels are printed on the bars, so no value is read off an
axis. One label is hidden behind its neighbour (FlashAttention-3, head dim 256, no mask, 1k)
and is left out, as are the "Standard attention" bars (PyTorch's unfused attention, which a
kernel row cannot express).

What the numbers are (the paper's §4.1, and the setup PyTorch's benchmark suite copied to
reproduce it, pytorch/benchmark commit ff65cb6):
- Forward attention in FP16 on an H100 80GB SXM5 (700 W), for four implementations:
  FlashAttention-2, the Triton tutorial's FlashAttention-2, cuDNN's fused attention and
  FlashAttention-3. Each is its own measurement source (`source_id`), all of them test
  sources: nothing is fitted to them.
- Hidden size 2048 split into heads of 64, 128 or 256 (32, 16 or 8 heads); sequence lengths
  512 to 16k with the batch set so that batch × sequence = 16k tokens; queries and keys the
  same length, without and with a causal mask.
- Speed is 4 · seqlen² · head dim · heads · batch FLOPs over the measured time, halved with
  the causal mask. The rows carry the time that gives (`latency_ms`), so they compare our
  time with theirs whatever either side counts as a causal FLOP; each row's note keeps the
  published TFLOP/s. The time is host-measured over repeated calls (`wall`).

The forward-and-backward rows are the FlashAttention-2 bars of `assets/flash2_a100_fwd_bwd_benchmark.png`
and `assets/flash2_h100_fwd_bwd_benchmark.png` (added with the FlashAttention-2 release, commit
4f285b35, 2023-07-17, the README's "Performance" section): FlashAttention-2's forward plus backward
in FP16 on an A100 80GB SXM4 and an H100 80GB SXM5, with the same hidden size, head dims (64, 128),
sequence lengths and 16k tokens per batch, without and with the causal mask. The repository's
`benchmarks/benchmark_flash_attention.py` (commit 60499abc, 2023-07-28) times the forward and the
backward each over 30 repeats (`benchmark_fwd_bwd`) and divides 3.5 × the forward's FLOPs (the
backward counted as 2.5 × the forward: five matmuls to two) by their sum. Labels hidden behind the
legend are left out (A100: head dim 64 at 1k, head dim 128 at 512 and 1k, no mask). These test the
attention backward (`attention_fwd_bwd` kernel rows: the forward op and its backward as training
prices them), which no other row measures. Each GPU is its own test source.
"""

import sys

SOURCE = (
    "Dao-AILab/flash-attention assets/flash3_fp16_fwd.png at 7ef2484 (2024-07-11): "
    "Shah et al. 2024, FlashAttention-3, arXiv:2407.08608, Fig. 5"
)
HEADER = (
    "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,"
    "value,unit,source,category,timing,used_for_calibration,note,source_id"
)
HIDDEN = 2048
TOKENS = 16 * 1024
SEQLENS = [512, 1024, 2048, 4096, 8192, 16384]
# Implementation -> (source id, name as the figure's legend gives it).
LIBS = {
    "fa2": ("fa3fig-h100-fa2", "FlashAttention-2"),
    "triton": ("fa3fig-h100-triton", "Triton (FlashAttention-2 tutorial)"),
    "cudnn": ("fa3fig-h100-cudnn", "cuDNN fused attention"),
    "fa3": ("fa3fig-h100-fa3", "FlashAttention-3"),
}
# (head dim, causal) -> implementation -> TFLOP/s per sequence length (None: hidden label).
PANELS = {
    (64, False): {
        "fa2": [282, 306, 318, 321, 322, 324],
        "triton": [340, 382, 396, 400, 401, 403],
        "cudnn": [335, 373, 395, 408, 412, 413],
        "fa3": [333, 392, 460, 476, 496, 497],
    },
    (64, True): {
        "fa2": [180, 229, 262, 284, 295, 299],
        "triton": [152, 291, 342, 363, 376, 363],
        "cudnn": [225, 288, 334, 363, 379, 388],
        "fa3": [197, 265, 371, 420, 460, 473],
    },
    (128, False): {
        "fa2": [309, 350, 362, 368, 370, 370],
        "triton": [323, 372, 389, 389, 392, 395],
        "cudnn": [497, 574, 617, 609, 600, 595],
        "fa3": [467, 565, 625, 638, 646, 648],
    },
    (128, True): {
        "fa2": [191, 260, 298, 319, 333, 335],
        "triton": [146, 273, 323, 353, 369, 378],
        "cudnn": [315, 410, 484, 518, 529, 539],
        "fa3": [292, 423, 521, 579, 602, 616],
    },
    (256, False): {
        "fa2": [275, 313, 321, 323, 324, 326],
        "cudnn": [470, 546, 580, 581, 580, 581],
        "fa3": [482, None, 707, 736, 746, 756],
    },
    (256, True): {
        "fa2": [208, 251, 278, 293, 297, 298],
        "cudnn": [308, 391, 450, 483, 497, 509],
        "fa3": [286, 427, 537, 612, 628, 642],
    },
}


FWD_BWD_SOURCE = {
    "a100": (
        "fa2readme-a100-fa2",
        "a100-80gb",
        "A100 80GB SXM4",
        "Dao-AILab/flash-attention assets/flash2_a100_fwd_bwd_benchmark.png at 4f285b35 "
        "(2023-07-17, FlashAttention-2 release README)",
    ),
    "h100": (
        "fa2readme-h100-fa2",
        "h100-sxm",
        "H100 80GB SXM5",
        "Dao-AILab/flash-attention assets/flash2_h100_fwd_bwd_benchmark.png at 4f285b35 "
        "(2023-07-17, FlashAttention-2 release README)",
    ),
}
# GPU -> (head dim, causal) -> FlashAttention-2 forward + backward TFLOP/s per sequence length.
FWD_BWD_PANELS = {
    "a100": {
        (64, False): [132, None, 162, 171, 175, 176],
        (128, False): [None, None, 187, 196, 201, 203],
        (64, True): [88, 119, 140, 156, 165, 171],
        (128, True): [99, 133, 155, 173, 182, 189],
    },
    "h100": {
        (64, False): [215, 254, 274, 288, 294, 296],
        (128, False): [248, 294, 320, 326, 335, 338],
        (64, True): [141, 192, 232, 257, 273, 284],
        (128, True): [163, 221, 265, 294, 308, 328],
    },
}
# The backward's FLOPs as the benchmark counts them: 2.5 x the forward's.
BWD_PER_FWD = 2.5


def flops(batch: int, heads: int, seq: int, dim: int, causal: bool) -> float:
    """The benchmark's count: 4·s²·d·h per sequence, halved under the causal mask."""
    f = 4.0 * batch * seq * seq * dim * heads
    return f / 2 if causal else f


def panel_rows(source_id, hw, source, kind, label, dim, causal, values, passes, what):
    """One panel's rows: the time the benchmark's FLOP count (`passes` x the forward's)
    gives at each published TFLOP/s, for the kernel row kind `kind` (hidden labels skipped)."""
    heads = HIDDEN // dim
    mask = "causal" if causal else "no mask"
    count = f"{passes:g}*" if passes != 1 else ""
    rows = []
    for seq, tflops in zip(SEQLENS, values):
        if tflops is None:
            continue
        batch = TOKENS // seq
        ms = passes * flops(batch, heads, seq, dim, causal) / (tflops * 1e12) * 1e3
        rid = f"{source_id}-d{dim}-{'c' if causal else 'nc'}-s{seq}"
        workload = (
            f"{kind}:b={batch},h={heads},sq={seq},skv={seq},d={dim},causal={int(causal)}"
        )
        note = (
            f"{what}, head dim {dim}, {mask}: {tflops} TFLOP/s published; the time is "
            f"{count}4*s^2*d*h*b{'/2' if causal else ''} FLOPs over it"
        )
        category = f"{source_id} attention {label} d{dim}"
        rows.append(
            f'{rid},{hw},1,,fp16,"{workload}",kernel,1,,,latency_ms,'
            f'{ms:.4g},ms,"{source}",{category},wall,no,"{note}",{source_id}'
        )
    return rows


def main() -> None:
    out = [
        "# Attention kernels (FP16): forward on H100 SXM5 from FlashAttention-3's Fig. 5, and "
        "FlashAttention-2's forward + backward on A100 and H100 from its README; regenerated by "
        "flash_attention.py, see its docstring.",
        HEADER,
    ]
    for (dim, causal), libs in PANELS.items():
        for lib, values in libs.items():
            source_id, name = LIBS[lib]
            out += panel_rows(
                source_id, "h100-sxm", SOURCE, "attention", "fwd", dim, causal, values, 1, name
            )
    for gpu, panels in FWD_BWD_PANELS.items():
        source_id, hw, gpu_name, source = FWD_BWD_SOURCE[gpu]
        what = f"FlashAttention-2 forward + backward on {gpu_name}"
        for (dim, causal), values in panels.items():
            out += panel_rows(
                source_id, hw, source, "attention_fwd_bwd", "fwd+bwd", dim, causal, values,
                1 + BWD_PER_FWD, what,
            )
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
