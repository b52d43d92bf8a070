#!/usr/bin/env python3
"""Prints the TensorRT-LLM v0.9.0 rows of public.csv from the tables of its performance page.

Run from the repository root (standard library only):

    python3 data/validation/trtllm_v09.py

Source: NVIDIA/TensorRT-LLM docs/source/performance.md as released with v0.9.0 ("All data was
generated using version 0.9.0"). Transcribed below are the rows of its "Peak Throughput" and
"Low Latency" tables for the models the zoo holds: "LLaMA 7B" and "LLaMA 70B" (the page's
methodology builds Llama2-7b and Llama2-70b: 32 layers, hidden 4096, intermediate 11008; 80
layers, 64 heads, 8 KV heads, hidden 8192, intermediate 28672) and Mixtral 8x7B, on the H200
and H100 (FP8: FP8 GEMMs and FP8 KV cache, the configs' quant_algo and kv_cache_quant_algo) and
the A100 (FP16: "undefine or remove the quantization fields", the page's "Running on A100"),
except Mixtral, which ran in FP16 everywhere (MIXTRAL_FP16).
The H100 is the H100-HBM3-80GB (SXM) the page reproduces on. Left out: GPT-J 6B, Mistral 7B
and Falcon 180B (not in the zoo) and the L40S tables (no L40S device file).

What the numbers are: gptSessionBenchmark runs a static batch (all sequences prefilled, then
decoded to the output length); the throughput tables give output tokens per second per GPU,
`output_seqlen * batch_size / total_latency / tp`, so a tensor-parallel row's value here is that
times its GPUs; the latency tables give the first-token latency at batch 1 (one output token:
the context phase). The v0.9 release decodes grouped-query attention with XQA (the page's
reproduction section exports TRTLLM_ENABLE_XQA=1 for Llama2-70b; XQA was on by default from
v0.7), so the rows run under no runtime profile: the engine's packed decode kernel.

What the harness feeds the model (benchmarks/cpp/gptSessionBenchmark.cpp): every input token is
the same id (`inputsHost(batchSize * maxInputLength, padId)`) and decoding is greedy (topK 1),
so the sequences of a batch are identical and a mixture-of-experts decode step routes every
sequence's token to the same top-k experts. The engine routes tokens uniformly (every expert
touched in prefill, the expected distinct count in decode), so for Mixtral it reads more
expert weights per decode step than these runs did: the A100 row at batch 32, 2,048 tokens in
and out (801 tok/s per GPU, a decode step under 20 ms) is faster than reading each GPU's half
of all 46.7 B FP16 parameters allows (22.9 ms at 2,039 GB/s), which only the harness's
routing explains. Dense models are not affected.
"""

import csv
import sys

SOURCE = (
    "NVIDIA/TensorRT-LLM docs/source/performance.md as of release v0.9.0 ('All data was "
    "generated using version 0.9.0'), {table} tables, {gpu} GPUs ({fmt})"
)
GPUS = {
    # page section: (device, precision, format label, source id)
    "H200": ("h200", "fp8", "FP8", "trtllm-v0.9-perf-h200"),
    "H100": ("h100-sxm", "fp8", "FP8", "trtllm-v0.9-perf-h100"),
    "A100": ("a100-80gb", "fp16", "FP16", "trtllm-v0.9-perf-a100"),
}
MODELS = {"LLaMA 7B": "llama-2-7b", "LLaMA 70B": "llama-2-70b", "Mixtral 8x7B": "mixtral-8x7b"}

# Peak Throughput: (model, batch, tp, input, output, out tok/s per GPU), as printed.
THROUGHPUT = {
    "H200": [
        ("Mixtral 8x7B", 1024, 2, 128, 128, 5444),
        ("Mixtral 8x7B", 256, 2, 128, 2048, 4973),
        ("Mixtral 8x7B", 64, 2, 2048, 128, 605),
        ("Mixtral 8x7B", 64, 2, 2048, 2048, 1821),
        ("LLaMA 7B", 896, 1, 128, 128, 20618),
        ("LLaMA 7B", 120, 1, 128, 2048, 8348),
        ("LLaMA 7B", 64, 1, 2048, 128, 2391),
        ("LLaMA 7B", 56, 1, 2048, 2048, 3522),
        ("LLaMA 70B", 1024, 1, 128, 128, 3989),
        ("LLaMA 70B", 512, 2, 128, 2048, 3963),
        ("LLaMA 70B", 64, 1, 2048, 128, 418),
        ("LLaMA 70B", 64, 1, 2048, 2048, 1458),
    ],
    "H100": [
        ("Mixtral 8x7B", 512, 2, 128, 128, 5255),
        ("Mixtral 8x7B", 128, 2, 128, 2048, 3408),
        ("Mixtral 8x7B", 64, 2, 2048, 128, 588),
        ("Mixtral 8x7B", 32, 2, 2048, 2048, 1317),
        ("LLaMA 7B", 896, 1, 128, 128, 19854),
        ("LLaMA 7B", 120, 1, 128, 2048, 6944),
        ("LLaMA 7B", 84, 1, 2048, 128, 2163),
        ("LLaMA 7B", 56, 1, 2048, 2048, 2826),
        ("LLaMA 70B", 1024, 2, 128, 128, 3214),
        ("LLaMA 70B", 512, 4, 128, 2048, 2725),
        ("LLaMA 70B", 96, 2, 2048, 128, 346),
        ("LLaMA 70B", 64, 2, 2048, 2048, 1011),
    ],
    "A100": [
        ("Mixtral 8x7B", 512, 2, 128, 128, 2842),
        ("Mixtral 8x7B", 128, 2, 128, 2048, 1724),
        ("Mixtral 8x7B", 64, 2, 2048, 128, 319),
        ("Mixtral 8x7B", 32, 2, 2048, 2048, 801),
        ("LLaMA 7B", 256, 1, 128, 128, 5390),
        ("LLaMA 7B", 32, 1, 128, 2048, 1484),
        ("LLaMA 7B", 32, 1, 2048, 128, 533),
        ("LLaMA 7B", 16, 1, 2048, 2048, 603),
        ("LLaMA 70B", 1024, 4, 128, 128, 686),
        ("LLaMA 70B", 512, 8, 128, 2048, 684),
        ("LLaMA 70B", 96, 4, 2048, 128, 80),
        ("LLaMA 70B", 64, 4, 2048, 2048, 289),
    ],
}

# Low Latency: (model, tp, input, first-token latency ms) at batch 1, as printed.
LATENCY = {
    "H200": [
        ("Mixtral 8x7B", 2, 128, 12.1),
        ("Mixtral 8x7B", 2, 2048, 87.7),
        ("LLaMA 7B", 1, 128, 5.7),
        ("LLaMA 7B", 1, 2048, 30.2),
        ("LLaMA 70B", 4, 128, 17.8),
        ("LLaMA 70B", 4, 2048, 103.0),
    ],
    "H100": [
        ("Mixtral 8x7B", 2, 128, 13.4),
        ("Mixtral 8x7B", 2, 2048, 89.5),
        ("LLaMA 7B", 1, 128, 6.3),
        ("LLaMA 7B", 1, 2048, 30.8),
        ("LLaMA 70B", 4, 128, 19.6),
        ("LLaMA 70B", 8, 2048, 85.1),
    ],
    "A100": [
        ("Mixtral 8x7B", 2, 128, 23.8),
        ("Mixtral 8x7B", 2, 2048, 160.9),
        ("LLaMA 7B", 1, 128, 16.2),
        ("LLaMA 7B", 1, 2048, 132.4),
        ("LLaMA 70B", 4, 128, 45.6),
        ("LLaMA 70B", 8, 2048, 249.2),
    ],
}

FIELDS = (
    "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,"
    "unit,source,category,timing,used_for_calibration,runtime,note,source_id"
).split(",")


def fmt(x):
    return f"{x:g}"


# FP8 for Mixtral came after this release: TensorRT-LLM 0.10.0's release notes list "Added FP8
# quantization support for Mixtral", so the FP8 tables' Mixtral rows ran in FP16.
MIXTRAL_FP16 = (
    "FP16: the table is headed FP8, but FP8 quantization for Mixtral came with v0.10.0 (its "
    "release notes, github.com/NVIDIA/TensorRT-LLM/releases/tag/v0.10.0: 'Added FP8 "
    "quantization support for Mixtral')"
)


def precision(model, prec):
    """The format a row ran in, and how its note says so."""
    if model == "Mixtral 8x7B" and prec == "fp8":
        return "fp16", MIXTRAL_FP16
    return prec, ("FP8 GEMMs and KV cache" if prec == "fp8" else "FP16")


def rows():
    for gpu, (hw, gpu_prec, label, sid) in GPUS.items():
        for model, batch, tp, isl, osl, per_gpu in THROUGHPUT[gpu]:
            zoo = MODELS[model]
            prec, fmt_note = precision(model, gpu_prec)
            total = per_gpu * tp
            note = (
                "static batch: out tok/s = output_seqlen*batch_size/total_latency/tp "
                "(gptSessionBenchmark); "
                + fmt_note
                + (
                    f"; the table gives {per_gpu:,} out tok/s per GPU; x TP {tp} = {total:,} "
                    f"for the {tp} GPUs"
                    if tp > 1
                    else "; one GPU"
                )
            )
            yield {
                "id": f"trtllm-v0.9-perf-{gpu.lower()}-{zoo}-bs{batch}-{isl}-{osl}",
                "hardware": hw,
                "devices": tp,
                "parallelism": "tp" if tp > 1 else "",
                "precision": prec,
                "workload": zoo,
                "phase": "generate",
                "batch": batch,
                "seq_in": isl,
                "seq_out": osl,
                "metric": "tokens_per_s",
                "value": total,
                "unit": "tokens/s",
                "source": SOURCE.format(table="'Peak Throughput'", gpu=gpu, fmt=label),
                "category": "model/llm static-batch throughput",
                "timing": "wall",
                "used_for_calibration": "no",
                "runtime": "",
                "note": note,
                "source_id": sid,
            }
        for model, tp, isl, ms in LATENCY[gpu]:
            zoo = MODELS[model]
            prec, fmt_note = precision(model, gpu_prec)
            note = (
                "1st token latency at batch 1 (gptSessionBenchmark with one output token: "
                "the context phase); "
                + fmt_note
                + f"; TP {tp}"
            )
            yield {
                "id": f"trtllm-v0.9-perf-{gpu.lower()}-{zoo}-tp{tp}-ttft-{isl}",
                "hardware": hw,
                "devices": tp,
                "parallelism": "tp" if tp > 1 else "",
                "precision": prec,
                "workload": zoo,
                "phase": "prefill",
                "batch": 1,
                "seq_in": isl,
                "seq_out": "",
                "metric": "ttft_ms",
                "value": fmt(ms),
                "unit": "ms",
                "source": SOURCE.format(table="'Low Latency'", gpu=gpu, fmt=label),
                "category": "model/llm prefill",
                "timing": "wall",
                "used_for_calibration": "no",
                "runtime": "",
                "note": note,
                "source_id": sid,
            }


def main():
    w = csv.DictWriter(sys.stdout, fieldnames=FIELDS, lineterminator="\n")
    for r in rows():
        w.writerow(r)


if __name__ == "__main__":
    main()
