"""Sweeps from Python, and across a local Ray cluster, equal the terminal command's files
byte for byte; a Ray worker killed mid-run loses and duplicates nothing."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import need

import xpusim

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ["results.csv", "pareto.csv", "results.parquet"]

SMALL = {
    "name": "py-small",
    "base": "h100-sxm",
    "scaling": "physical",
    "objectives": ["throughput", "energy"],
    "axis": [
        {"path": "cores", "values": [66, 132]},
        {"path": "memory[2].bandwidth_gbps", "from": 2000, "to": 4000, "steps": 3},
    ],
    "workload": [
        {"model": "llama-2-7b", "phase": "decode", "batch": 8},
        {"model": "resnet-50"},
    ],
}


def same_files(a: Path, b: Path):
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_dict_sweep_equals_the_cli_on_its_toml(xpusim_bin, tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text(xpusim._native.json_to_toml("spec", __import__("json").dumps(SMALL)))
    xpusim_bin("sweep", spec, "--out", tmp_path / "cli")
    df = xpusim.sweep(SMALL, out=tmp_path / "py")
    same_files(tmp_path / "cli", tmp_path / "py")
    assert len(df) == 6
    assert df.attrs["pareto"] and set(df.attrs["pareto"]) <= set(df["index"])


def test_a_dict_base_is_a_hardware_spec(tmp_path):
    spec = dict(SMALL, base=dict(xpusim.hw_spec("h100-sxm"), name="h100-edit"))
    df = xpusim.sweep(spec, out=tmp_path / "edited")
    named = xpusim.sweep(SMALL, out=tmp_path / "named")
    metrics = [c for c in df.columns if c not in ("index",)]
    assert df[metrics].equals(named[metrics])


def test_a_bad_sweep_names_the_axis(tmp_path):
    bad = dict(SMALL, axis=[{"path": "no_such_field", "values": [1, 2]}])
    with pytest.raises(xpusim.XpusimError, match="no_such_field"):
        xpusim.sweep(bad, out=tmp_path / "bad")


@pytest.fixture(scope="module")
def local_ray():
    ray = need("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_sweep_of_10k_points_equals_the_cli_and_survives_a_killed_worker(
    xpusim_bin, local_ray, tmp_path
):
    psutil = need("psutil")
    spec = ROOT / "examples" / "sweeps" / "era_10k.toml"
    out = tmp_path / "ray"
    shards = 4
    killed = []

    def kill_one_worker():
        # Wait until a shard has journalled some points, then SIGKILL the Ray worker
        # process running it: its task fails and Ray reruns it from the journal.
        deadline = time.time() + 300
        while time.time() < deadline and not killed:
            journals = list(out.glob("journal*.csv")) if out.exists() else []
            if any(j.stat().st_size > 20_000 for j in journals):
                for p in psutil.process_iter(["cmdline"]):
                    cmd = " ".join(p.info["cmdline"] or [])
                    if "ray::_shard_task" in cmd:
                        os.kill(p.pid, signal.SIGKILL)
                        killed.append(p.pid)
                        break
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    df = xpusim.ray.sweep(spec, out=out, shards=shards, max_retries=3)
    killer.join()
    assert killed, "no worker was killed mid-run"

    xpusim_bin("sweep", spec, "--out", tmp_path / "cli")
    same_files(tmp_path / "cli", out)
    assert len(df) == 10_000
    assert df["index"].is_unique
    for i in range(shards):
        assert (out / f"results.shard-{i}-of-{shards}.parquet").is_file()

    # A driver that died after the shards: running again resumes (computes nothing new)
    # and writes the same files.
    again = xpusim.ray.sweep(spec, out=out, shards=shards)
    same_files(tmp_path / "cli", out)
    assert len(again) == 10_000
