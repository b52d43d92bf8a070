#!/usr/bin/env python3
"""Measure one NVIDIA GPU for xpusim's validation data, in one short run.

Why: the H100 training rows are 15-20 % too fast across four stacks (docs/validation-training.md,
"Findings") and the leading hypothesis is the clock a GPU sustains under its power limit, which
the Vidur kernel profiles (short bursts) do not show. Nothing in the repository measures it.
When a session is lent a GPU (tools/device/README.md), this script is the one prepared command:
it measures what the cost model needs and writes it in the validation-row format.

What it measures, each section timed and guarded (a failing section is logged, the rest run):

1. env: `nvidia-smi -q`, torch/CUDA versions, device name, power limit.
2. sustained: an 8192^3 BF16 GEMM (random normal data) looped for --sustain-s seconds, then the
   same in FP8 (torch._scaled_mm, per-tensor scales, as Transformer Engine runs it), sampling
   SM clock, power, temperature and clock-event reasons through NVML every 100 ms. The first
   half-second is the burst a profiler sees; the last half is what training sustains. Also one
   burst on zeros (its lower switching power shows whether the random-data burst is already
   power-limited).
3. gemm: F.linear (x @ W^T, as frameworks call it) over LLM shapes, M from 1 to 16384, BF16 and
   FP8; weights rotated through several copies when they would sit in L2.
4. attention: scaled_dot_product_attention forward and forward+backward, causal, head dim 128,
   sequences 1K-8K, through the FlashAttention-2 and cuDNN backends (separate sources).
5. memory: a device-to-device copy (bytes read + written), RMSNorm, SiLU-and-multiply and add
   at training shapes.
6. launch: one-element add timed per call (the harness floor of a kernel row) and replayed from
   a CUDA graph.

Output under --out (the device tool returns $OUT): rows.csv in the column format of
data/validation/*.csv (kernel rows, `timing = kernel`, `used_for_calibration = no`, one
`source_id` per library), sustained.csv (the NVML samples with per-window TFLOP/s), log.txt and
env.txt. Before the rows are scored, their sources go into data/validation/split.toml as test
sources (or fit, with what they set named) — decided before looking at any error.

Usage on the device machine (about 3 minutes on an H100; PyTorch and nvidia-ml-py are in its
image): `python3 tools/device/measure.py --out $OUT`. `--quick` runs every section at toy sizes
on any device, the CPU included, to check the script itself where no GPU is lent.

Timing follows /work/.library/device/METHOD.md: CUDA events, warm-up first, median of repeats,
random data (never zeros, except the one labelled zeros burst), the card's settings untouched.
"""

import argparse
import csv
import datetime
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import traceback

COLUMNS = [
    "id", "hardware", "devices", "parallelism", "precision", "workload", "phase", "batch",
    "seq_in", "seq_out", "metric", "value", "unit", "source", "category", "timing",
    "used_for_calibration", "note", "source_id",
]

# (n, k) of the linear layers of Llama-2-7B/70B and GPT-3 175B (tp = 1), the shapes whose
# prefill, decode and training GEMMs the validation rows price.
LINEAR_SHAPES = [(12288, 4096), (22016, 4096), (4096, 11008), (4096, 4096), (10240, 8192),
                 (57344, 8192), (8192, 28672), (36864, 12288), (12288, 12288)]
GEMM_M = [1, 16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
ATTN = [(8, 1024), (4, 2048), (2, 4096), (1, 8192)]  # (batch, sequence), 32 heads of 128


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "device-out"))
    ap.add_argument("--quick", action="store_true", help="toy sizes, any device")
    ap.add_argument("--sustain-s", type=float, default=20.0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    m = Measure(args)
    for name in ["env", "sustained", "gemm", "attention", "memory", "launch"]:
        m.section(name)
    m.close()
    print(m.summary())


class Measure:
    def __init__(self, args):
        import torch

        self.torch = torch
        self.args = args
        self.quick = args.quick
        self.cuda = torch.cuda.is_available()
        if not self.cuda and not self.quick:
            sys.exit("no CUDA device: run with --quick to check the script without one")
        self.dev = "cuda" if self.cuda else "cpu"
        self.name = torch.cuda.get_device_name() if self.cuda else "cpu"
        self.hw = preset_for(self.name)
        self.day = datetime.date.today().isoformat()
        self.log_f = open(os.path.join(args.out, "log.txt"), "w")
        self.rows_f = open(os.path.join(args.out, "rows.csv"), "w", newline="")
        self.rows = csv.writer(self.rows_f)
        self.rows.writerow(COLUMNS)
        self.n_rows = 0
        self.lines = []
        self.gen = torch.Generator(device=self.dev).manual_seed(0)

    # --- plumbing -------------------------------------------------------------------------

    def log(self, msg):
        print(msg, flush=True)
        self.log_f.write(msg + "\n")
        self.log_f.flush()

    def section(self, name):
        t0 = time.perf_counter()
        try:
            getattr(self, name)()
            self.log(f"[{name}] done in {time.perf_counter() - t0:.1f} s")
        except Exception:
            self.log(f"[{name}] FAILED after {time.perf_counter() - t0:.1f} s\n"
                     + traceback.format_exc())

    def close(self):
        self.rows_f.close()
        self.log_f.close()

    def summary(self):
        return "\n".join([f"{self.n_rows} rows on {self.name} ({self.hw})"] + self.lines)

    def row(self, rid, precision, workload, ms, source_id, category, note):
        self.rows.writerow([
            f"dev-{self.hw}-{rid}", self.hw, 1, "", precision, workload, "kernel", 1, "", "",
            "latency_ms", f"{ms:.5g}", "ms",
            f"xpusim tools/device/measure.py on {self.name}, {self.day}", category, "kernel",
            "no", note, source_id,
        ])
        self.rows_f.flush()
        self.n_rows += 1

    def randn(self, *shape, dtype=None):
        t = self.torch
        if dtype is None:
            dtype = self.bf16()
        return t.randn(*shape, generator=self.gen, device=self.dev, dtype=dtype)

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def bench_ms(self, fn, min_s=0.25, max_reps=200):
        """Median per-call time in ms after a warm-up: CUDA events around each call."""
        t = self.torch
        for _ in range(3):
            fn()
        self.sync()
        times = []
        end = time.perf_counter() + (0.01 if self.quick else min_s)
        while len(times) < 5 or (time.perf_counter() < end and len(times) < max_reps):
            if self.cuda:
                s, e = t.cuda.Event(enable_timing=True), t.cuda.Event(enable_timing=True)
                s.record()
                fn()
                e.record()
                e.synchronize()
                times.append(s.elapsed_time(e))
            else:
                s = time.perf_counter()
                fn()
                times.append((time.perf_counter() - s) * 1e3)
        return statistics.median(times)

    def bf16(self):
        return self.torch.bfloat16 if self.cuda else self.torch.float32

    # --- sections -------------------------------------------------------------------------

    def env(self):
        t = self.torch
        info = [f"device {self.name}", f"torch {t.__version__}", f"cuda {t.version.cuda}",
                f"date {self.day}", f"preset {self.hw}"]
        if self.cuda:
            p = t.cuda.get_device_properties(0)
            info.append(f"sms {p.multi_processor_count} memory {p.total_memory}")
            smi = run(["nvidia-smi", "-q"])
            with open(os.path.join(self.args.out, "env.txt"), "w") as f:
                f.write("\n".join(info) + "\n\n" + smi)
        for line in info:
            self.log(line)

    def sustained(self):
        t = self.torch
        n = 256 if self.quick else 8192
        secs = 0.5 if self.quick else self.args.sustain_s
        a, b = self.randn(n, n), self.randn(n, n)
        flop = 2.0 * n ** 3
        out = open(os.path.join(self.args.out, "sustained.csv"), "w", newline="")
        w = csv.writer(out)
        w.writerow(["phase", "t_s", "sm_mhz", "power_w", "temp_c", "events", "tflops"])
        runs = [("bf16", lambda: a @ b)]
        fp8 = self.fp8_pair(n, n, n)
        if fp8 is not None:
            runs.append(("fp8", fp8))
        for label, fn in runs:
            samples = self.loop_sampled(fn, secs, flop)
            for s in samples:
                w.writerow([label] + s)
            self.lines.append(describe(label, samples))
        za, zb = t.zeros_like(a), t.zeros_like(b)
        ms = self.bench_ms(lambda: za @ zb)
        rnd = self.bench_ms(lambda: a @ b)
        self.lines.append(f"burst {n}^3 bf16: random {flop / rnd / 1e9:.0f} TFLOP/s, "
                          f"zeros {flop / ms / 1e9:.0f} TFLOP/s")
        out.close()

    def loop_sampled(self, fn, secs, flop):
        """Runs `fn` back to back for `secs`, sampling NVML every 100 ms in a thread; each
        sample carries the TFLOP/s of the calls completed since the previous one."""
        nv = nvml()
        samples, done, stop = [], [0], threading.Event()
        t0 = time.perf_counter()

        def sampler():
            last_done, last_t = 0, t0
            while not stop.is_set():
                time.sleep(0.1)
                now, d = time.perf_counter(), done[0]
                rate = (d - last_done) * flop / max(now - last_t, 1e-9) / 1e12
                samples.append([round(now - t0, 3)] + nv() + [round(rate, 1)])
                last_done, last_t = d, now

        th = threading.Thread(target=sampler, daemon=True)
        th.start()
        batch = 10
        while time.perf_counter() - t0 < secs:
            for _ in range(batch):
                fn()
            self.sync()  # the count is of finished calls
            done[0] += batch
        stop.set()
        th.join()
        return samples

    def fp8_pair(self, m, n, k, copies=1):
        """A callable FP8 GEMM (e4m3 operands, per-tensor FP32 scales, BF16 output) rotating
        through `copies` weights, or None where this torch or device has no FP8 matmul."""
        t = self.torch
        if not self.cuda or not hasattr(t, "_scaled_mm"):
            return None
        try:
            a = self.randn(m, k).to(t.float8_e4m3fn)
            ws = [self.randn(n, k).to(t.float8_e4m3fn) for _ in range(copies)]
            one = t.ones((), device=self.dev, dtype=t.float32)
            i = [0]

            def fn():
                i[0] = (i[0] + 1) % copies
                return t._scaled_mm(a, ws[i[0]].t(), scale_a=one, scale_b=one,
                                    out_dtype=t.bfloat16)

            fn()
            return fn
        except Exception as e:  # shapes FP8 kernels refuse (M not a multiple of 16, ...)
            self.log(f"fp8 {m}x{n}x{k}: {type(e).__name__}: {str(e)[:120]}")
            return None

    def gemm(self):
        t = self.torch
        F = t.nn.functional
        shapes = [(n // 64, k // 64) for n, k in LINEAR_SHAPES[:3]] if self.quick else LINEAR_SHAPES
        ms_list = [1, 16, 64] if self.quick else GEMM_M
        src = f"xpusim-device-{self.hw}-torch"
        for n, k in shapes:
            # Rotate weight copies so that a weight smaller than ~4x L2 is not read from L2.
            copies = max(1, min(8, math.ceil(256e6 / (n * k * 2))))
            ws = [self.randn(n, k) for _ in range(copies)]
            for m in ms_list:
                x = self.randn(m, k)
                i = [0]

                def bf():
                    i[0] = (i[0] + 1) % copies
                    return F.linear(x, ws[i[0]])

                ms = self.bench_ms(bf)
                wl = f"linear:m={m},n={n},k={k}"
                self.row(f"linear-bf16-m{m}-n{n}-k{k}", "bf16", wl, ms, src,
                         f"device-{self.hw} linear bf16",
                         f"F.linear, {copies} weight copies rotated; "
                         f"{2 * m * n * k / ms / 1e9:.1f} TFLOP/s")
                fp8 = self.fp8_pair(m, n, k, max(1, min(8, math.ceil(256e6 / (n * k)))))
                if fp8 is not None:
                    ms = self.bench_ms(fp8)
                    self.row(f"linear-fp8-m{m}-n{n}-k{k}", "fp8", wl, ms, src,
                             f"device-{self.hw} linear fp8",
                             f"torch._scaled_mm e4m3, per-tensor scales, BF16 out; "
                             f"{2 * m * n * k / ms / 1e9:.1f} TFLOP/s")
            del ws

    def attention(self):
        t = self.torch
        F = t.nn.functional
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
        except ImportError:
            self.log("no torch.nn.attention: attention skipped")
            return
        h, d = (4, 64) if self.quick else (32, 128)
        cases = [(1, 128)] if self.quick else ATTN
        backends = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]
        if not self.cuda:
            backends = [("math", SDPBackend.MATH)]
        for label, backend in backends:
            src = f"xpusim-device-{self.hw}-sdpa-{label}"
            for b, s in cases:
                q, k, v = (self.randn(b, h, s, d) for _ in range(3))
                go = self.randn(b, h, s, d)
                wl = f"b={b},h={h},sq={s},skv={s},d={d},causal=1"
                try:
                    with sdpa_kernel([backend]):
                        ms = self.bench_ms(lambda: F.scaled_dot_product_attention(
                            q, k, v, is_causal=True))
                        self.row(f"attn-{label}-b{b}-s{s}", "bf16", f"attention:{wl}", ms, src,
                                 f"device-{self.hw} attention fwd {label}",
                                 f"torch SDPA {label} backend, causal, forward")
                        qg, kg, vg = (x.clone().requires_grad_() for x in (q, k, v))

                        def fb():
                            o = F.scaled_dot_product_attention(qg, kg, vg, is_causal=True)
                            o.backward(go)

                        ms = self.bench_ms(fb)
                        self.row(f"attn-fb-{label}-b{b}-s{s}", "bf16",
                                 f"attention_fwd_bwd:{wl}", ms, src,
                                 f"device-{self.hw} attention fwd+bwd {label}",
                                 f"torch SDPA {label} backend, causal, forward + backward")
                except Exception as e:
                    self.log(f"attention {label} b{b} s{s}: {type(e).__name__}: {str(e)[:160]}")

    def memory(self):
        t = self.torch
        F = t.nn.functional
        src = f"xpusim-device-{self.hw}-torch"
        nbytes = 2 ** 20 if self.quick else 2 ** 32
        a = t.empty(nbytes // 2, dtype=self.bf16(), device=self.dev).normal_(generator=self.gen)
        b = t.empty_like(a)
        ms = self.bench_ms(lambda: b.copy_(a))
        moved = 2 * a.numel() * a.element_size()
        self.row(f"membw-{moved}", "bf16", f"membw:bytes={moved}", ms, src,
                 f"device-{self.hw} membw", f"copy_: {moved / ms / 1e9:.0f} GB/s read+write")
        del a, b
        rows_cols = [(64, 64)] if self.quick else [(4096, 4096), (8192, 8192), (16384, 12288)]
        for r, c in rows_cols:
            x = self.randn(r, c)
            g = self.randn(c)
            if hasattr(F, "rms_norm"):
                ms = self.bench_ms(lambda: F.rms_norm(x, (c,), g))
                self.row(f"rmsnorm-{r}x{c}", "bf16", f"rmsnorm:rows={r},cols={c}", ms, src,
                         f"device-{self.hw} rmsnorm", "F.rms_norm (eager)")
            y = self.randn(r, 2 * c)
            ms = self.bench_ms(lambda: F.silu(y[:, :c]) * y[:, c:])
            self.row(f"silu_mul-{r}x{c}", "bf16", f"silu_mul:elems={r * c}", ms, src,
                     f"device-{self.hw} silu_mul", "F.silu(gate) * up, eager: two kernels")
            z = self.randn(r, c)
            ms = self.bench_ms(lambda: x + z)
            self.row(f"add-{r}x{c}", "bf16", f"add:elems={r * c}", ms, src,
                     f"device-{self.hw} add", "x + z, eager")

    def launch(self):
        t = self.torch
        x = t.ones(1, device=self.dev)
        per_call = self.bench_ms(lambda: x.add_(1.0))
        self.lines.append(f"one-element add per call (harness floor): {per_call * 1e3:.1f} us")
        if not self.cuda:
            return
        n = 1000
        g = t.cuda.CUDAGraph()
        s = t.cuda.Stream()
        s.wait_stream(t.cuda.current_stream())
        with t.cuda.stream(s):
            x.add_(1.0)
        t.cuda.current_stream().wait_stream(s)
        with t.cuda.graph(g):
            for _ in range(n):
                x.add_(1.0)
        graph_ms = self.bench_ms(g.replay)
        self.lines.append(f"one-element add in a {n}-kernel CUDA graph: "
                          f"{graph_ms / n * 1e3:.2f} us per kernel")
        self.log(f"launch: per call {per_call * 1e3:.2f} us, in graph {graph_ms / n * 1e3:.2f} us")


def preset_for(name):
    """The xpusim device preset a CUDA device name stands for (the rows' `hardware`)."""
    n = name.upper()
    for key, preset in [("H200", "h200"), ("H100 PCIE", "h100-pcie"), ("H100", "h100-sxm"),
                        ("H800", "h800"), ("A100-SXM4-80GB", "a100-80gb"),
                        ("A100 80GB PCIE", "a100-pcie-80gb"), ("L40S", "l40s")]:
        if key in n:
            return preset
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "unknown"


def nvml():
    """A sampler returning [SM MHz, power W, temperature C, clock-event reasons], or NaNs
    where NVML is missing (the CPU check)."""
    try:
        import pynvml as N

        N.nvmlInit()
        h = N.nvmlDeviceGetHandleByIndex(0)
        reasons = getattr(N, "nvmlDeviceGetCurrentClocksEventReasons",
                          getattr(N, "nvmlDeviceGetCurrentClocksThrottleReasons", None))

        def sample():
            return [N.nvmlDeviceGetClockInfo(h, N.NVML_CLOCK_SM),
                    round(N.nvmlDeviceGetPowerUsage(h) / 1000.0, 1),
                    N.nvmlDeviceGetTemperature(h, N.NVML_TEMPERATURE_GPU),
                    hex(reasons(h)) if reasons else ""]

        sample()
        return sample
    except Exception:
        return lambda: [float("nan"), float("nan"), float("nan"), ""]


def describe(label, samples):
    """Burst (first 0.5 s) against sustained (last half) clock, power and TFLOP/s."""
    if not samples:
        return f"{label}: no samples"
    end = samples[-1][0]
    burst = [s for s in samples if s[0] <= 0.5] or samples[:1]
    late = [s for s in samples if s[0] >= end / 2] or samples[-1:]

    def mean(rows, i):
        vals = [r[i] for r in rows if isinstance(r[i], (int, float)) and not math.isnan(r[i])]
        return statistics.mean(vals) if vals else float("nan")

    return (f"{label} {end:.0f} s: burst {mean(burst, 1):.0f} MHz {mean(burst, 2):.0f} W "
            f"{mean(burst, 5):.0f} TFLOP/s; sustained {mean(late, 1):.0f} MHz "
            f"{mean(late, 2):.0f} W {mean(late, 5):.0f} TFLOP/s")


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except Exception as e:
        return f"{cmd[0]}: {e}"


if __name__ == "__main__":
    main()
