#!/usr/bin/env python3
"""Prints serving.csv: TensorRT-LLM's published offline throughput (trtllm-bench) on Hopper.

Run from the repository root (standard library only):

    python3 data/validation/trtllm_bench.py > data/validation/serving.csv

Source: NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md at commit 00f3768
("Throughput Measurements"): Total Output Throughput (tokens/s) of `trtllm-bench throughput`,
"a local inference client ... fed requests at an infinite rate", on DGX H100 (H100 SXM 80GB)
and DGX H200 (H200 SXM 141GB), PyTorch backend, with NVIDIA's FP8 checkpoints of Llama 3.1 8B,
Llama 3.3 70B and Llama 3.1 405B. Transcribed: every H100 and H200 cell of those three
models. Left out: the B200/GB200 columns (FP4, which the tool does not price), the RTX 6000
Pro tables (no device file), and Llama 4, Qwen3 and DeepSeek (not in the zoo).

What each run is (the page's "Reproducing Benchmarked Results"): `prepare_dataset.py
token-norm-dist` with zero deviation, so every request has exactly ISL prompt and OSL output
tokens (EOS disabled), `num_requests` per ISL/OSL from the page's table; `trtllm-bench
throughput --backend pytorch` with CUDA graphs (padding on). The settings it then runs with
are computed below as trtllm-bench computes them, from the same code:
- max_batch_size and max_num_tokens: `calc_engine_setting` and `finetune_setting`
  (tensorrt_llm/bench/build/tuning.py) from the model's parameter count, FP8 weights, the
  KV-cache format, TP, the device memory and the dataset's mean ISL/OSL, at the KV fraction
  0.95 ("In many cases, we also use ... --kv_cache_free_gpu_mem_fraction 0.95"; the page does
  not say which runs fell back to 0.90). The device memory is the device file's (80 GiB,
  141 GiB), where trtllm-bench reads NVML's total (a few hundred MiB less).
- without chunked prefill (trtllm-bench's default) max_num_tokens is raised to the longest
  prompt plus max_batch_size (`get_settings`, tensorrt_llm/bench/benchmark/utils/general.py);
- the capacity scheduler policy is GUARANTEED_NO_EVICT (`--scheduler_policy` default,
  tensorrt_llm/bench/benchmark/throughput.py): a request claims its whole KV cache when
  admitted;
- the KV cache holds kv_cache_free_gpu_mem_fraction of the memory left after the model.

The checkpoints are NVIDIA Model Optimizer FP8 exports: the linear layers' weights and
activations in FP8, the rest 16-bit (`fp8-w8a8`), and the KV cache in FP8: Model Optimizer's
export writes `kv_cache_quant_algo: FP8` into `hf_quant_config.json` (its format docstring's
example), and trtllm-bench's `kv_cache_dtype: auto` takes the checkpoint's. The 405B card
(nvidia-modelopt 0.15.1) says only the linear layers were quantised, so its KV format is the
least certain. The rows run under the `trtllm-pytorch` runtime profile.

The page as released with v0.17 (commit 258c754: "All data in the table below was generated
using version 0.17") is a second pair of sources and a third GPU: the same benchmark on
TensorRT engines (`trtllm-bench build --quantization FP8 --dataset`, then `throughput
--engine_dir`), H200 and H100 in FP8 ("If you specify FP8 quantization, the KV cache will
automatically be set to FP8 as well") and A100-SXM4-80GB in FP16 (no quantisation: 16-bit
weights and cache), with the same dataset table and the same 0.95 KV fraction ("In majority of
cases"). Transcribed: every H200, H100 and A100 cell of the models the zoo holds, Llama 3.1 8B,
70B (TP 1 to 8) and 405B, and Mixtral 8x7B (TP 1 to 8); left out: Mistral 7B and Mixtral 8x22B
(not in the zoo), GH200 (measured with the older gptManagerBenchmark flow, chunked context on;
no device file) and L40S (no device file). Its settings are computed as above; that the build
used this same heuristic (the stored tuning.py is of a later commit), and that the engine's
max_num_tokens likewise covers the longest prompt, are assumptions. The engines are enqueued
from C++ and the page does not say they replay CUDA graphs: these rows run under no runtime
profile (device time alone).
"""

import csv
import math
import sys

COMMIT = "00f37686aa854010d68bcbd0f4ab000221541ca6"
COMMIT_V017 = "258c7540c03517def55d9a5aadfa9288af474e1b"


def source(commit, what):
    return (f"NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md at {commit[:7]}, "
            f"'Throughput Measurements' ({what})")
GIB = 1024**3

# ISL/OSL -> num_requests (the page's dataset table).
REQUESTS = {
    (128, 128): 30000,
    (128, 2048): 3000,
    (128, 4096): 1500,
    (1000, 2000): 1500,
    (2048, 128): 3000,
    (2048, 2048): 1500,
    (5000, 500): 1500,
    (1000, 1000): 3000,
    (500, 2000): 3000,
    (20000, 2000): 1000,
}
ORDER = [(128, 128), (128, 2048), (128, 4096), (500, 2000), (1000, 1000), (1000, 2000),
         (2048, 128), (2048, 2048), (5000, 500), (20000, 2000)]

# zoo name, parameters (the Hugging Face checkpoints' counts), layers, KV heads, head size.
MODELS = {
    "llama-3.1-8b": ("llama-3-8b", 8.03e9, 32, 8, 128),
    "llama-3.3-70b": ("llama-3-70b", 70.55e9, 80, 8, 128),
    "llama-3.1-70b": ("llama-3-70b", 70.55e9, 80, 8, 128),
    "llama-3.1-405b": ("llama-3.1-405b", 405.85e9, 126, 8, 128),
    "mixtral-8x7b": ("mixtral-8x7b", 46.70e9, 32, 8, 128),
}
# device -> (device file, system preset, memory GiB)
GPUS = {
    "h200": ("h200", "hgx-h200", 141.0),
    "h100": ("h100-sxm", "dgx-h100", 80.0),
    "a100": ("a100-80gb", "dgx-a100", 80.0),
}

# (model, gpu, tp) -> output tokens/s per ORDER ('' = no cell).
TABLES = {
    ("llama-3.1-8b", "h200", 1): [27911, 26221, 18027, 20770, 17744, 16828, 3538, 12194, 3902, 1804],
    ("llama-3.1-8b", "h100", 1): [28312, 22714, 14325, 17660, 15220, 13899, 3450, 9305, 3459, 1351],
    ("llama-3.3-70b", "h200", 1): [3803, 4336, 2872, 3666, 2909, 2994, 442, 2003, 566, 283],
    ("llama-3.3-70b", "h100", 2): [6378, 6651, 4199, 5222, 4205, 4146, 762, 3082, 898, 437],
    ("llama-3.1-405b", "h200", 8): [3814, 5348, 4741, 4724, 3330, 3722, 456, 2948, 650, 505],
    ("llama-3.1-405b", "h100", 8): [3627, 4340, 3116, 3994, 2919, 2895, 453, 2296, 610, 345],
}

# v0.17: (model, gpu, tp) -> output tokens/s per ORDER_V017 ('' = no cell).
ORDER_V017 = [(128, 128), (128, 2048), (128, 4096), (500, 2000), (1000, 1000), (2048, 128),
              (2048, 2048), (5000, 500), (20000, 2000)]
TABLES_V017 = {
    ("llama-3.1-8b", "h200", 1): [29526.04, 25398.86, 17370.8, 21020.81, 17537.96, 3794.14, 11968.5, 3987.79, 1804.1],
    ("llama-3.1-8b", "h100", 1): [28836.77, 21109.38, 13593.65, 16500.69, 15244.78, 3556.73, 9488.42, 3559.36, 1401.31],
    ("llama-3.1-8b", "a100", 1): [6627.27, 5255.99, 3453.79, 4276.58, 3786.83, 799.61, 2424.16, 825.13, 330.04],
    ("llama-3.1-70b", "h200", 1): [4020.75, 4165.68, 2651.75, 3018.39, 2823.45, 465.99, 1913.8, 560.16, 279.52],
    ("llama-3.1-70b", "h100", 1): [3378.03, 911.62, 426.32, 775.57, 839.97, 343.29, "", 245.34, ""],
    ("llama-3.1-70b", "h200", 2): [6823.01, 8290.35, 6526.67, 6848.02, 5164.76, 809, 4183.88, 1025.38, 640.62],
    ("llama-3.1-70b", "h100", 2): [6645.12, 6169.58, 3897.06, 4972.57, 4390.53, 772.66, 2898.16, 919.73, 443.01],
    ("llama-3.1-70b", "a100", 2): [1313.96, 531.26, "", 439.41, 472.94, 148.96, 261.1, 121.47, ""],
    ("llama-3.1-70b", "h200", 4): [11098.63, 14156, 10574.06, 12452.79, 8911.29, 1358.06, 7130.44, 1811.55, 1199.68],
    ("llama-3.1-70b", "h100", 4): [11127.53, 11511.93, 7439.41, 9836.7, 7430.99, 1302.6, 5480.03, 1602.78, 920.19],
    ("llama-3.1-70b", "a100", 4): [2733.48, 2811.27, 1976.49, 2275.79, 1921.77, 325.15, 1393.64, 392.62, 212.08],
    ("llama-3.1-70b", "h200", 8): [15355.84, 21195.88, 16941.52, 17278.4, 13181.24, 1983.03, 11142.47, 2717.83, 1920.45],
    ("llama-3.1-70b", "h100", 8): [14730.69, 17061.82, 14171.43, 14679.33, 11451.16, 1923.41, 8801.95, 2457.42, 1512.6],
    ("llama-3.1-70b", "a100", 8): [4717.62, 5241.5, 3724.67, 4445.37, 3320.41, 542.38, 2553.71, 696.34, 413.38],
    ("llama-3.1-405b", "h200", 8): [3874.19, 5938.09, 5168.37, 5084.29, 3399.69, 463.42, 2940.62, 669.13, 535.31],
    ("mixtral-8x7b", "h200", 1): [17157.72, 15095.21, 9534.62, 12105.27, 10371.36, 2009.67, 6940.32, 2309.1, 1151.78],
    ("mixtral-8x7b", "h100", 1): [15962.49, 8290.13, 4784.86, 6800.6, 6868.52, 1892.81, 3983.1, 1764.7, 673.7],
    ("mixtral-8x7b", "h200", 2): [27825.34, 29584.05, 21564.68, 23410.63, 19151.19, 3383.16, 14007.29, 4223.68, 2299.21],
    ("mixtral-8x7b", "h100", 2): [27451.13, 22830.08, 14237.01, 17036.04, 15770.89, 3333.68, 10685.85, 3646.09, 1757.45],
    ("mixtral-8x7b", "a100", 2): [5541.47, 4169.78, 2608.05, 3446.37, 3154.52, 649, 2056.58, 724.44, 337.51],
    ("mixtral-8x7b", "h200", 4): [42551.59, 52291.78, 39513.73, 43818.99, 33580.9, 5467.62, 24980.93, 7084.94, 4236.84],
    ("mixtral-8x7b", "h100", 4): [41068.23, 41164.73, 27912.48, 34489.34, 27784.74, 5234.98, 19432.08, 6401.56, 3303.83],
    ("mixtral-8x7b", "a100", 4): [10324.28, 10911.86, 7666.51, 8456.21, 7122.84, 1237.62, 5222.98, 1500.55, 829.59],
    ("mixtral-8x7b", "h200", 8): [53212.55, 68608.45, 54827.78, 58706.39, 44705.48, 7554.38, 36193.64, 10271.8, 6835.53],
    ("mixtral-8x7b", "h100", 8): [50849.55, 61607.7, 48280.37, 52583.65, 40631.71, 6988.18, 30983.35, 9210.11, 5602.43],
    ("mixtral-8x7b", "a100", 8): [17043.54, 20277.88, 15282.89, 17184.24, 12851.44, 2165.52, 9809.76, 2761.28, 1592.53],
}

KV_FRACTION = 0.95


def finetune_setting(kv_cache_max_requests, input_len, output_len, pp_size):
    """tensorrt_llm/bench/build/tuning.py finetune_setting (optimistic tuning on)."""
    raw_bs = min(kv_cache_max_requests, 4096) / pp_size
    raw_token = min(raw_bs * (1 + input_len / output_len), 32768)
    if raw_bs < 256:
        max_bs = max(64, 32 * math.ceil(raw_bs / 32))
    elif raw_bs < 1024:
        max_bs = 128 * math.ceil(raw_bs / 128)
    else:
        max_bs = 256 * math.ceil(raw_bs / 256)
    if raw_token < 4096:
        max_token = max(2048, 256 * math.ceil(raw_token / 256))
    elif raw_token < 8192:
        max_token = 512 * math.ceil(raw_token / 512)
    else:
        max_token = 1024 * math.ceil(raw_token / 1024)
    return max_bs, max_token


def settings(model, mem_gib, tp, isl, osl, elem_bytes):
    """calc_engine_setting, then get_settings' no-chunking floor on max_num_tokens;
    `elem_bytes` per weight and per cached value (1 for FP8, 2 for FP16)."""
    _, params, layers, kv_heads, head = MODELS[model]
    byte_per_token = 2 * layers * max(tp, kv_heads) * head * elem_bytes / GIB
    engine_size = params * elem_bytes / GIB
    available = mem_gib * tp - engine_size
    cache = available * KV_FRACTION
    max_requests = cache / (byte_per_token * (isl + osl))
    max_bs, max_tokens = finetune_setting(max_requests, isl, osl, 1)
    return max_bs, max(max_tokens, isl + max_bs)


def rows(tables, order, commit, release, runtime):
    """One row per cell: (model, gpu, tp) tables of output tokens/s in `order`."""
    out = []
    for (model, gpu, tp), values in tables.items():
        dev, system, mem = GPUS[gpu]
        fp8 = gpu != "a100"
        precision, kv = ("fp8-w8a8", "fp8") if fp8 else ("fp16", "")
        what = "trtllm-bench throughput, " + (
            "PyTorch backend" if runtime else "TensorRT engines")
        for (isl, osl), v in zip(order, values):
            if v == "":
                continue
            bs, tokens = settings(model, mem, tp, isl, osl, 1.0 if fp8 else 2.0)
            sched = (f"max_batch={bs},max_tokens={tokens},admission=reserve,chunked=0,"
                     f"kv_free_fraction={KV_FRACTION}")
            fmt = ("FP8 checkpoint (linear layers and KV cache in FP8)" if fp8
                   else "FP16 weights and KV cache")
            note = (f"{REQUESTS[(isl, osl)]} requests of {isl} in / {osl} out tokens queued "
                    f"at once; TP {tp}; {fmt}; scheduler settings as trtllm-bench derives "
                    "them (see the script)")
            out.append([f"trtllm-bench{release}-{gpu}-{model}-tp{tp}-{isl}-{osl}",
                        dev if tp == 1 else system, tp, "tp", precision, kv, MODELS[model][0],
                        "serve", REQUESTS[(isl, osl)], isl, osl, "tokens_per_s", v, "tokens/s",
                        source(commit, what), "model/llm serving throughput", "wall", "no",
                        runtime, sched, note, f"trtllm-bench{release}-{gpu}"])
    return out


def main():
    w = csv.writer(sys.stdout, lineterminator="\n")
    print(f"# Generated by data/validation/trtllm_bench.py from NVIDIA/TensorRT-LLM {COMMIT}")
    print(f"# and {COMMIT_V017} (docs/source/performance/perf-overview.md); do not edit.")
    print("# See the script's docstring.")
    w.writerow(["id", "hardware", "devices", "parallelism", "precision", "kv_precision",
                "workload", "phase", "batch", "seq_in", "seq_out", "metric", "value", "unit",
                "source", "category", "timing", "used_for_calibration", "runtime", "scheduler",
                "note", "source_id"])
    w.writerows(rows(TABLES, ORDER, COMMIT, "", "trtllm-pytorch"))
    w.writerows(rows(TABLES_V017, ORDER_V017, COMMIT_V017, "-v0.17", ""))


if __name__ == "__main__":
    main()
