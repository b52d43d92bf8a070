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
"""

import csv
import math
import sys

COMMIT = "00f37686aa854010d68bcbd0f4ab000221541ca6"
SOURCE = (
    f"NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md at {COMMIT[:7]}, "
    "'Throughput Measurements' (trtllm-bench throughput, PyTorch backend)"
)
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
    "llama-3.1-405b": ("llama-3.1-405b", 405.85e9, 126, 8, 128),
}
# device -> (device file, system preset, memory GiB)
GPUS = {"h200": ("h200", "hgx-h200", 141.0), "h100": ("h100-sxm", "dgx-h100", 80.0)}

# (model, gpu, tp) -> output tokens/s per ORDER ('' = no cell).
TABLES = {
    ("llama-3.1-8b", "h200", 1): [27911, 26221, 18027, 20770, 17744, 16828, 3538, 12194, 3902, 1804],
    ("llama-3.1-8b", "h100", 1): [28312, 22714, 14325, 17660, 15220, 13899, 3450, 9305, 3459, 1351],
    ("llama-3.3-70b", "h200", 1): [3803, 4336, 2872, 3666, 2909, 2994, 442, 2003, 566, 283],
    ("llama-3.3-70b", "h100", 2): [6378, 6651, 4199, 5222, 4205, 4146, 762, 3082, 898, 437],
    ("llama-3.1-405b", "h200", 8): [3814, 5348, 4741, 4724, 3330, 3722, 456, 2948, 650, 505],
    ("llama-3.1-405b", "h100", 8): [3627, 4340, 3116, 3994, 2919, 2895, 453, 2296, 610, 345],
}

KV_FRACTION = 0.95
WEIGHT_BYTES = 1.0  # FP8
KV_BYTES = 1.0  # FP8


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


def settings(model, mem_gib, tp, isl, osl):
    """calc_engine_setting, then get_settings' no-chunking floor on max_num_tokens."""
    _, params, layers, kv_heads, head = MODELS[model]
    byte_per_token = 2 * layers * max(tp, kv_heads) * head * KV_BYTES / GIB
    engine_size = params * WEIGHT_BYTES / GIB
    available = mem_gib * tp - engine_size
    cache = available * KV_FRACTION
    max_requests = cache / (byte_per_token * (isl + osl))
    max_bs, max_tokens = finetune_setting(max_requests, isl, osl, 1)
    return max_bs, max(max_tokens, isl + max_bs)


def main():
    w = csv.writer(sys.stdout, lineterminator="\n")
    print(f"# Generated by data/validation/trtllm_bench.py from NVIDIA/TensorRT-LLM {COMMIT}")
    print("# (docs/source/performance/perf-overview.md); do not edit. See the script's docstring.")
    w.writerow(["id", "hardware", "devices", "parallelism", "precision", "kv_precision",
                "workload", "phase", "batch", "seq_in", "seq_out", "metric", "value", "unit",
                "source", "category", "timing", "used_for_calibration", "runtime", "scheduler",
                "note", "source_id"])
    for (model, gpu, tp), values in TABLES.items():
        dev, system, mem = GPUS[gpu]
        zoo = MODELS[model][0]
        for (isl, osl), v in zip(ORDER, values):
            if v == "":
                continue
            bs, tokens = settings(model, mem, tp, isl, osl)
            sched = (f"max_batch={bs},max_tokens={tokens},admission=reserve,chunked=0,"
                     f"kv_free_fraction={KV_FRACTION}")
            note = (f"{REQUESTS[(isl, osl)]} requests of {isl} in / {osl} out tokens queued at "
                    f"once; TP {tp}; FP8 checkpoint (linear layers and KV cache in FP8); "
                    "scheduler settings as trtllm-bench derives them (see the script)")
            w.writerow([f"trtllm-bench-{gpu}-{model}-tp{tp}-{isl}-{osl}",
                        dev if tp == 1 else system, tp, "tp", "fp8-w8a8", "fp8", zoo, "serve",
                        REQUESTS[(isl, osl)], isl, osl, "tokens_per_s", v, "tokens/s", SOURCE,
                        "model/llm serving throughput", "wall", "no", "trtllm-pytorch", sched,
                        note, f"trtllm-bench-{gpu}"])


if __name__ == "__main__":
    main()
