#!/usr/bin/env python3
"""Regenerates data/validation/power.csv from MLPerf Inference results repositories.

    python3 data/validation/mlperf_power.py \
        --repo v3.0=/path/to/inference_results_v3.0 \
        --repo v2.1=/path/to/inference_results_v2.1 > data/validation/power.csv

Each path is a clone of github.com/mlcommons/inference_results_vX.Y: a work tree or a bare git
directory (files are then read with `git show HEAD:path`). Every number in the output is read
from the files named in its row's `source`; nothing is typed in by hand except which submissions
to read (SUBMISSIONS) and the GPU batch size of NVIDIA's config (cited per row).

What is read, per submission and benchmark (Offline scenario, the performance run `run_1`):
- throughput: `Samples per second` of mlperf_log_summary.txt, which must say `Result is : VALID`;
- average wall power: the mean of the positive `Watts` samples of spl.txt whose timestamp lies
  strictly between `power_begin` and `power_end` of mlperf_log_detail.txt, the rule of MLPerf's
  submission checker (mlcommons/inference tools/submission/submission_checker.py,
  get_power_metric; timestamps are UTC on both sides since v2.0, so no time-zone shift);
- the per-GPU power limit the harness set: `power_limit` of the submission's MaxQ class in
  closed/NVIDIA/configs/<benchmark>/Offline/__init__.py (NVIDIA's harness applies it with
  nvidia-smi before the run).

Rows: `power_w` (scope wall: the whole node at the wall, what MLPerf Power measures) for
ResNet-50 and BERT-99, and `samples_per_j` = samples/s / W for ResNet-50 only. No BERT
throughput-derived row: NVIDIA's harness drops the padding of the 384-token SQuAD inputs and the
mean real length is not published, so a per-sample figure would compare different work
(docs/validation.md); wall power, an average rate, is compared.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys

# (version, submitter dir, system dir, hardware file, devices, host CPUs text)
SUBMISSIONS = [
    ("v3.0", "NVIDIA", "A100-PCIe-80GBx8_TRT_MaxQ", "hw/mlperf-g482-z54-a100-pcie.toml", 8,
     "mlperf-power-v3.0-nvidia-a100-pcie"),
    ("v3.0", "NVIDIA", "H100-PCIe-80GBx8_TRT_MaxQ", "hw/mlperf-g482-z54-h100-pcie.toml", 8,
     "mlperf-power-v3.0-nvidia-h100-pcie"),
    ("v2.1", "NVIDIA", "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ", "hw/mlperf-dgx-a100.toml", 8,
     "mlperf-power-v2.1-nvidia-dgx-a100"),
]

# The MaxQ config class of each system, and the class its gpu_batch_size comes from, with that
# batch size (closed/NVIDIA/configs/<benchmark>/Offline/__init__.py of the same repository).
CONFIG_CLASS = {
    "A100-PCIe-80GBx8_TRT_MaxQ": "A100_PCIe_80GBx8_MaxQ",
    "H100-PCIe-80GBx8_TRT_MaxQ": "H100_PCIe_80GBx8_MaxQ",
    "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ": "A100_SXM_80GBx8_MaxQ",
}
BATCH = {
    # (system, benchmark): (gpu_batch_size, the class that sets it)
    ("A100-PCIe-80GBx8_TRT_MaxQ", "resnet50"): (2048, "A100_PCIe_80GBx1"),
    ("H100-PCIe-80GBx8_TRT_MaxQ", "resnet50"): (2048, "H100_PCIe_80GBx1"),
    ("DGX-A100_A100-SXM-80GBx8_TRT_MaxQ", "resnet50"): (2048, "A100_SXM_80GBx1"),
    ("A100-PCIe-80GBx8_TRT_MaxQ", "bert-99"): (1024, "A100_PCIe_80GBx1"),
    ("H100-PCIe-80GBx8_TRT_MaxQ", "bert-99"): (1280, "H100_PCIe_80GBx1"),
    ("DGX-A100_A100-SXM-80GBx8_TRT_MaxQ", "bert-99"): (1280, "A100_SXM_80GBx1"),
}
# benchmark -> (zoo workload, precision, seq_in, config directory)
BENCHMARKS = {
    "resnet50": ("resnet-50", "int8", "", "resnet50"),
    "bert-99": ("bert-large", "int8", "384", "bert"),
}
TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"

HEADER = ("id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,"
          "value,unit,source,category,timing,used_for_calibration,scope,power_cap_w,note,source_id")


class Repo:
    def __init__(self, path):
        self.path = path
        self.bare = not os.path.isdir(os.path.join(path, "closed"))
        self.commit = self.git("rev-parse", "HEAD").strip()

    def git(self, *args):
        flag = "--git-dir" if self.bare else "-C"
        return subprocess.run(["git", flag, self.path, *args], check=True,
                              capture_output=True, text=True).stdout

    def read(self, rel):
        if self.bare:
            return self.git("show", f"HEAD:{rel}")
        with open(os.path.join(self.path, rel), encoding="utf-8") as f:
            return f.read()


def samples_per_s(summary):
    if not re.search(r"^Result is\s*:\s*VALID", summary, re.M):
        sys.exit("mlperf_log_summary.txt: the run is not VALID")
    m = re.search(r"^Samples per second\s*:\s*([0-9.eE+]+)", summary, re.M)
    if not m:
        sys.exit("mlperf_log_summary.txt: no `Samples per second`")
    return float(m.group(1))


def average_power_w(detail, spl):
    """The submission checker's average: positive samples strictly inside the power window."""
    def stamp(key):
        m = re.search(r'"key": "%s", "value": "([^"]+)"' % key, detail)
        if not m:
            sys.exit(f"mlperf_log_detail.txt: no {key}")
        return datetime.datetime.strptime(m.group(1), TIME_FORMAT)

    begin, end = stamp("power_begin"), stamp("power_end")
    watts = []
    for line in spl.splitlines():
        f = line.split(",")
        if len(f) < 4 or not line.startswith("Time"):
            continue
        t = datetime.datetime.strptime(f[1], TIME_FORMAT)
        if begin < t < end and float(f[3]) > 0:
            watts.append(float(f[3]))
    if not watts:
        sys.exit("spl.txt: no power sample inside power_begin..power_end")
    return sum(watts) / len(watts), len(watts), (end - begin).total_seconds()


def power_limit_w(config, cls):
    m = re.search(r"^class %s\(.*?\):\n((?:    .*\n|\n)*)" % re.escape(cls), config, re.M)
    if not m:
        sys.exit(f"config: no class {cls}")
    p = re.search(r"^\s+power_limit\s*=\s*([0-9.]+)", m.group(1), re.M)
    if not p:
        sys.exit(f"config: class {cls} sets no power_limit")
    return float(p.group(1))


def fmt(v):
    return f"{v:.6g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", action="append", required=True, metavar="VERSION=PATH",
                    help="a clone of mlcommons/inference_results_VERSION (work tree or git dir)")
    args = ap.parse_args()
    repos = {}
    for r in args.repo:
        version, _, path = r.partition("=")
        repos[version] = Repo(path)
    out = [
        "# Generated by data/validation/mlperf_power.py from mlcommons/inference_results_v* (the",
        "# command is in its docstring); do not edit. MLPerf Inference datacenter Power, closed",
        "# division, Offline: average wall power of the whole node during the timed run and",
        "# samples/s / W, each under the per-GPU power limit the submission set (power_cap_w).",
        HEADER,
    ]
    for version, org, system, hw, devices, source_id in SUBMISSIONS:
        repo = repos.get(version)
        if repo is None:
            sys.exit(f"no --repo {version}=PATH given")
        for bench, (workload, precision, seq_in, cfg_dir) in BENCHMARKS.items():
            run = f"closed/{org}/results/{system}/{bench}/Offline/performance/run_1"
            sps = samples_per_s(repo.read(f"{run}/mlperf_log_summary.txt"))
            watts, n, window_s = average_power_w(repo.read(f"{run}/mlperf_log_detail.txt"),
                                                 repo.read(f"{run}/spl.txt"))
            cfg_path = f"closed/{org}/configs/{cfg_dir}/Offline/__init__.py"
            cls = CONFIG_CLASS[system]
            cap = power_limit_w(repo.read(cfg_path), cls)
            batch, batch_cls = BATCH[(system, bench)]
            base_id = (f"mlperf-{version}-power-"
                       f"{system.lower().replace('_trt_maxq', '').replace('_', '-')}-{bench}")
            source = (f"mlcommons/inference_results_{version} (commit {repo.commit}) {run}/: "
                      f"spl.txt averaged over mlperf_log_detail.txt power_begin..power_end "
                      f"(submission checker rule; {n} samples over {window_s:.0f} s)")
            note = (f"MLPerf Inference {version} closed Power, {bench} Offline, TensorRT "
                    f"{precision.upper()}, {devices} GPUs one model each; VALID run at "
                    f"{fmt(sps)} samples/s; power_limit {fmt(cap)} W per GPU ({cfg_path} class "
                    f"{cls}); gpu_batch_size {batch} (class {batch_cls})")
            if bench == "bert-99":
                note += ("; predicted at the full 384-token padding (the harness drops padding; "
                         "power is compared, not per-sample energy)")
            common = [hw, str(devices), "dp", precision, workload, "inference", str(batch),
                      seq_in, ""]
            rows = [("power", "power_w", watts, "W", "energy/wall power")]
            if bench == "resnet50":
                rows.append(("samples-per-j", "samples_per_j", sps / watts, "samples/J",
                             "energy/samples per joule"))
            for suffix, metric, value, unit, cat in rows:
                cols = [f"{base_id}-{suffix}", *common, metric, fmt(value), unit,
                        f'"{source}"', cat, "wall", "no", "wall", fmt(cap), f'"{note}"',
                        source_id]
                out.append(",".join(cols))
    print("\n".join(out))


if __name__ == "__main__":
    main()
