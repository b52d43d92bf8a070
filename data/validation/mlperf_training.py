#!/usr/bin/env python3
"""Prints the MLPerf Training v3.0 ResNet-50 and GPT-3 rows of training.csv from the submissions' logs.

Run from the repository root (standard library only):

    python3 data/validation/mlperf_training.py PATH/TO/training_results_v3.0.git

PATH is a git directory of github.com/mlcommons/training_results_v3.0 (a bare mirror is enough);
every file is read from its HEAD with `git show`, and each row cites the commit and the files.
The printed rows replace the `mlperf30-resnet50-*` and `mlperf30-gpt3-*` rows of training.csv
(paste them in place).

GPT-3 175B (NeMo, benchmarks/gpt3/implementations/pytorch): the logs time every training step
(`tracked_stats` `train_step_timing`, seconds); each `step_time_s` row is the median over each
run's steps, then over the runs, with the logged `global_batch_size` and
`gradient_accumulation_steps` (the micro-batches per replica, checked against the layout). The
layout is the submission's config: config_DGXH100_{nodes}x8x{minibs}x4x8_mbs1.sh with
config_common.sh, config_fp8.sh and config_tp_h100.sh: tensor parallel 4, pipeline 8,
INTERLEAVED_PIPELINE=12 model chunks per stage, micro-batch 1, distributed Adam (ZeRO-1, its
gradient reduce-scatter overlapped: `overlap_grad_sync: True` in conf/megatron_gpt_config.yaml),
sequence parallelism (run_and_time.sh `SEQ_PARALLEL` default True), no activation
checkpointing (ACT_CKPT_GRANULARITY=null), no dropout (the yaml's 0.0), sequence 2048, and
FP8=True with FP8_HYBRID through Transformer Engine: precision `fp8-linear` (FP8 GEMMs in the
linear layers, everything else BF16), and the tensor-parallel communication overlapped with
the GEMMs (config_tp_h100.sh's TP_COMM_OVERLAP=True, userbuffers: `tp_overlap=on`). Not priced:
TE's FP8 casts and transposes.

What each row takes from a submission's `result_*.txt` (MLLOG lines, the MLPerf logging format):
- `time_to_train_min` (the published score, quoted unchanged from NVIDIA's MLPerf table, as the
  rows always were) gains column `train_samples`: the samples the scored runs trained on, the
  mean over MLPerf's scored runs (of 5, the fastest and the slowest dropped; an `aborted` run
  counts as the slowest) of the last `epoch_num` x the logged `train_samples` (1,281,167
  ImageNet images per epoch). MLPerf v3.0 scores may also be normalised by reference
  convergence points, so a score can sit slightly above the scored runs' own mean time; the
  note gives both.
- `samples_per_s` (new rows): the training throughput the logs report per epoch
  (`tracked_stats` `throughput`, images per second over the epoch), the median over each run's
  epochs after the first (the first holds warm-up: cuDNN autotuning, DALI start-up, graph
  capture), then the median over the runs. Evaluation runs between epochs, outside them.
- `batch` is the logged `global_batch_size`, `micro` the logged per-GPU `d_batch_size`
  (`gradient_accumulation_steps` is 1 in all four).

What every row shares, from the submissions' own code and configs (benchmarks/resnet/
implementations/mxnet): the runtime `mlperf-mxnet` (crates/xpusim-hw/runtimes/mlperf-mxnet.toml:
`MXNET_ENABLE_CUDA_GRAPHS=1`, and BatchNorm fused with its ReLU and with the residual add and
ReLU, forward and backward, in symbols/resnet-v1b-*fl.py), FP16 NHWC, and `MXNET_HOROVOD_NUM_GROUPS=1` passed to `hvd.DistributedOptimizer(opt,
num_groups=...)` (common/fit.py): Horovod's MXNet optimizer all-reduces the gradients when the
optimizer steps, after the backward, so `overlap_dp=off`. The optimizer is LARS (SGD with
layer-wise scaling), not the AdamW the step model prices; DALI decodes JPEGs on the GPUs'
hardware decoders. Both are in each note. The rows first ran under `cuda-graphs` (no fused
training kernels): 14-39 % too slow; the fused profile followed from reading the stack's code.
"""

import json
import re
import statistics
import subprocess
import sys

EPOCH_SAMPLES_KEY = "train_samples"
# (row id suffix, devices, submitter/results dir, result id and system as NVIDIA's table lists it,
#  the published time to train in minutes, the config file, what else the config sets that the
#  step model does not price)
SYSTEMS = [
    (
        "8xh100",
        8,
        "Dell/results/XE9680x8H100-SXM-80GB/resnet",
        "result 3.0-2053 (Dell XE9680x8H100-SXM-80GB, MXNet, single node)",
        13.466,
        "Dell/benchmarks/resnet/implementations/mxnet/config_XE9680x8H100-SXM-80GB.sh",
        "",
    ),
    (
        "64xh100",
        64,
        "NVIDIA/results/dgxh100_n8_ngc23.04_mxnet/resnet",
        "result 3.0-2071 (NVIDIA 8x DGX H100, MXNet)",
        2.664,
        "NVIDIA/benchmarks/resnet/implementations/mxnet/config_DGXH100_multi_8x8x50.sh",
        "",
    ),
    (
        "512xh100",
        512,
        "NVIDIA/results/dgxh100_n64_ngc23.04_mxnet/resnet",
        "result 3.0-2068 (NVIDIA 64x DGX H100, MXNet)",
        0.509,
        "NVIDIA/benchmarks/resnet/implementations/mxnet/config_DGXH100_multi_64x8x40.sh",
        " Not modelled: SHARP in-network all-reduce (SBATCH_NETWORK=sharp).",
    ),
    (
        "3584xh100",
        3584,
        "NVIDIA_CoreWeave/results/coreweave_hgxh100_n448_ngc23.04_mxnet/resnet",
        "result 3.0-2002 (CoreWeave + NVIDIA coreweave_hgxh100_n448, MXNet)",
        0.183,
        "NVIDIA_CoreWeave/benchmarks/resnet/implementations/mxnet/config_DGXH100_multi_448x8x16.sh",
        " Not modelled: MXNET_FUSE_CONV_BN_RELU=1 (more fusion), SHARP in-network all-reduce "
        "(SBATCH_NETWORK=sharp).",
    ),
]
TABLE = (
    "as listed on developer.nvidia.com/deep-learning-performance-training-inference/training "
    "('NVIDIA Performance on MLPerf 3.0 Training Benchmarks')"
)
SHARED_NOTE = (
    "MXNet, FP16 NHWC, runtime mlperf-mxnet (CUDA graphs, fused BatchNorm+ReLU and BatchNorm+add+ReLU "
    "kernels, forward and backward) and the gradient all-reduce after the "
    "backward (MXNET_HOROVOD_NUM_GROUPS=1 into hvd.DistributedOptimizer, common/fit.py): {config}. "
    "LARS optimizer (priced as AdamW), DALI JPEG decoding on the GPUs (not priced). "
    "HGX/DGX H100 8-GPU servers on NDR InfiniBand = dgx-h100."
)


# (nodes, results dir, config file) of the GPT-3 175B submissions, 8 GPUs per node.
GPT3 = [
    (64, "NVIDIA/results/dgxh100_n64_nemo", "NVIDIA/benchmarks/gpt3/implementations/pytorch/config_DGXH100_64x8x128x4x8_mbs1.sh"),
    (96, "NVIDIA/results/dgxh100_n96_nemo", "NVIDIA/benchmarks/gpt3/implementations/pytorch/config_DGXH100_96x8x128x4x8_mbs1.sh"),
    (96, "NVIDIA_CoreWeave/results/coreweave_hgxh100_n96_ngc23.04_pytorch", "NVIDIA_CoreWeave/benchmarks/gpt3/implementations/pytorch/config_DGXH100_96x8x128x4x8_mbs1.sh"),
    (192, "NVIDIA_CoreWeave/results/coreweave_hgxh100_n192_ngc23.04_pytorch", "NVIDIA_CoreWeave/benchmarks/gpt3/implementations/pytorch/config_DGXH100_192x8x64x4x8_mbs1.sh"),
    (448, "NVIDIA_CoreWeave/results/coreweave_hgxh100_n448_ngc23.04_pytorch", "NVIDIA_CoreWeave/benchmarks/gpt3/implementations/pytorch/config_DGXH100_448x8x24x4x8_mbs1.sh"),
]
GPT3_TP, GPT3_PP, GPT3_CHUNKS = 4, 8, 12


def gpt3_rows(repo: str, commit: str) -> None:
    for nodes, results, config in GPT3:
        devices = nodes * 8
        dp = devices // (GPT3_TP * GPT3_PP)
        files = [
            f
            for f in git(repo, "ls-tree", "--name-only", "HEAD", results + "/gpt3/").split()
            if f.rsplit("/", 1)[-1].startswith("result_")
        ]
        per_run, batches, accums, seqs = [], set(), set(), set()
        for f in files:
            steps = []
            for line in git(repo, "show", f"HEAD:{f}").splitlines():
                if ":::MLLOG" not in line:
                    continue
                e = json.loads(line.split(":::MLLOG", 1)[1])
                k = e["key"]
                if k == "tracked_stats" and "train_step_timing" in e["value"]:
                    steps.append(e["value"]["train_step_timing"])
                if k == "global_batch_size":
                    batches.add(e["value"])
                if k == "gradient_accumulation_steps":
                    accums.add(e["value"])
                if k == "max_sequence_length":
                    seqs.add(e["value"])
            per_run.append(statistics.median(steps))
        batch = one(batches, "global_batch_size", results)
        accum = one(accums, "gradient_accumulation_steps", results)
        seq = one(seqs, "max_sequence_length", results)
        if accum * dp != batch:
            raise SystemExit(f"{results}: {accum} micro-batches x dp {dp} != batch {batch}")
        who = results.split("/", 1)[0].lower().replace("_", "-")
        # config_common.sh exports False and config_tp_h100.sh, sourced after it, True.
        overlap = exported(repo, config, "TP_COMM_OVERLAP") == "True"
        par = (
            f'"tp={GPT3_TP},pp={GPT3_PP},dp={dp},sp=on,zero=1,schedule=interleaved:{GPT3_CHUNKS},'
            f'micro=1{",tp_overlap=on" if overlap else ""}"'
        )
        print(
            f"mlperf30-gpt3-{devices}xh100-{who}-step,dgx-h100,{devices},{par},fp8-linear,gpt3-175b,train,"
            f"{batch},{seq},,step_time_s,{statistics.median(per_run):.4g},s,\"MLPerf Training v3.0, closed "
            f"division, GPT-3 175B: mlcommons/training_results_v3.0 (commit {commit[:7]}) {results}/gpt3/"
            f"result_*.txt, tracked_stats train_step_timing\",train/MLPerf Training v3.0,wall,no,,,,0,"
            f"pytorch-eager,\"Seconds per training step as the logs time it, the median over each run's steps, "
            f"then over the {len(per_run)} runs (per run: {', '.join(f'{v:.3f}' for v in per_run)}). Layout and "
            f"precision from {config} (see mlperf_training.py): NeMo with Transformer Engine FP8 "
            f"(fp8-linear), distributed Adam, {accum} micro-batches of 1 per replica, tensor-parallel "
            f"communication overlapped with the GEMMs (TP_COMM_OVERLAP={overlap}, userbuffers: "
            f"tp_overlap). Not priced: TE's FP8 casts and transposes. 8-GPU HGX/DGX H100 nodes on NDR "
            f"InfiniBand = dgx-h100.\","
        )


def git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def run_of(text: str, name: str) -> dict:
    r = {"file": name, "epochs": 0, "throughput": []}
    for line in text.splitlines():
        if ":::MLLOG" not in line:
            continue
        e = json.loads(line.split(":::MLLOG", 1)[1])
        k, meta = e["key"], e.get("metadata", {})
        if k in ("run_start", "run_stop"):
            r[k] = e["time_ms"]
        if k == "run_stop":
            r["status"] = meta.get("status")
        if k == "epoch_stop":
            r["epochs"] = max(r["epochs"], meta["epoch_num"])
        if k == "tracked_stats":
            r["throughput"].append((meta["step"], e["value"]["throughput"]))
        if k in ("global_batch_size", "d_batch_size", "gradient_accumulation_steps", EPOCH_SAMPLES_KEY):
            r[k] = e["value"]
    r["minutes"] = (r["run_stop"] - r["run_start"]) / 60000
    return r


def exported(repo: str, config: str, key: str):
    """The value a config leaves `key` exported with, following its `source` lines in
    order (a later export wins, as in the shell); None if nothing exports it."""
    value = None
    for line in git(repo, "show", f"HEAD:{config}").splitlines():
        m = re.match(r"\s*source \$\(dirname \$\{BASH_SOURCE\[0\]\}\)/(\S+)", line)
        if m:
            sourced = exported(repo, f"{config.rsplit('/', 1)[0]}/{m.group(1)}", key)
            value = sourced if sourced is not None else value
        m = re.match(rf"\s*export {key}=\"?([^\"\s]+)", line)
        if m:
            value = m.group(1)
    return value


def bn_group(repo: str, config: str) -> int:
    """BN_GROUP as the config exports it; run_and_time.sh defaults it to 1
    (`BN_GROUP=${BN_GROUP:-1}`)."""
    return int(exported(repo, config, "BN_GROUP") or 1)


def one(values, what: str, where: str):
    s = set(values)
    if len(s) != 1:
        raise SystemExit(f"{where}: the runs disagree on {what}: {sorted(s)}")
    return s.pop()


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    repo = sys.argv[1]
    commit = git(repo, "rev-parse", "HEAD").strip()
    for suffix, devices, results, result_id, published, config, unpriced in SYSTEMS:
        files = [
            f
            for f in git(repo, "ls-tree", "--name-only", "HEAD", results + "/").split()
            if f.rsplit("/", 1)[-1].startswith("result_")
        ]
        runs = [run_of(git(repo, "show", f"HEAD:{f}"), f.rsplit("/", 1)[-1]) for f in files]
        if len(runs) != 5:
            raise SystemExit(f"{results}: expected 5 runs, found {len(runs)}")
        batch = one((r["global_batch_size"] for r in runs), "global_batch_size", results)
        micro = one((r["d_batch_size"] for r in runs), "d_batch_size", results)
        accum = one((r["gradient_accumulation_steps"] for r in runs), "gradient_accumulation_steps", results)
        epoch = one((r[EPOCH_SAMPLES_KEY] for r in runs), EPOCH_SAMPLES_KEY, results)
        if accum != 1 or micro * devices != batch:
            raise SystemExit(f"{results}: {micro} x {devices} GPUs x {accum} steps != batch {batch}")
        ranked = sorted(runs, key=lambda r: (r.get("status") != "success", r["minutes"]))
        scored = ranked[1:-1]
        samples = statistics.mean(r["epochs"] * epoch for r in scored)
        own_min = statistics.mean(r["minutes"] for r in scored)
        per_run = [statistics.median(v for s, v in r["throughput"] if s >= 2) for r in runs]
        rate = statistics.median(per_run)
        where = f"mlcommons/training_results_v3.0 (commit {commit[:7]}) {results}/result_*.txt"
        note = SHARED_NOTE.format(config=config) + unpriced
        bn = bn_group(repo, config)
        par = f'"dp={devices},micro={micro},overlap_dp=off{f",bn_group={bn}" if bn > 1 else ""}"'
        if bn > 1:
            note += (
                f" BN_GROUP={bn} (bn_group={bn}): every BatchNorm reduces its statistics over {bn} "
                "neighbouring GPUs, forward and backward, through peer memory (symbols/resnet-v1b-fl.py "
                "MXInitXBuf / MXOpenIpcHandles)."
            )
        tail = ",train/MLPerf Training v3.0,wall,no,,,,,mlperf-mxnet"
        epochs = ", ".join(f"{r['file']} {r['epochs']}" for r in scored)
        print(
            f"mlperf30-resnet50-{suffix},dgx-h100,{devices},{par},fp16,resnet-50,train,{batch},,,"
            f"time_to_train_min,{published},min,\"MLPerf Training v3.0, closed division, {result_id}, {TABLE}; "
            f"train_samples from {where}\"{tail},\"Time to train to 75.90% top-1 (ResNet-50 v1.5, ImageNet), "
            f"the published score. train_samples = the scored runs' epochs ({epochs}; of 5, fastest and slowest "
            f"dropped) x {epoch} images, mean; those runs' own mean time is {own_min:.4f} min (MLPerf's score may "
            f"also be normalised by reference convergence points). Evaluation passes are not priced. {note}\","
            f"{samples:.0f}"
        )
        print(
            f"mlperf30-resnet50-{suffix}-throughput,dgx-h100,{devices},{par},fp16,resnet-50,train,{batch},,,"
            f"samples_per_s,{rate:.0f},samples/s,\"MLPerf Training v3.0, closed division, {result_id}: {where}, "
            f"tracked_stats throughput\"{tail},\"Images/s per epoch as the logs report it, the median over each "
            f"run's epochs after the first, then over the 5 runs (per run: "
            f"{', '.join(f'{v:.0f}' for v in per_run)}). {note}\","
        )
    gpt3_rows(repo, commit)


if __name__ == "__main__":
    main()
