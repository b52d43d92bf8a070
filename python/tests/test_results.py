"""Every result type: round-trips through JSON and dicts, and its table's shape."""

import json
from pathlib import Path

import pytest

import xpusim
from xpusim.results import Result

ROOT = Path(__file__).resolve().parents[2]


def roundtrip(r: Result):
    again = type(r)(r.to_json())
    assert again.to_dict() == r.to_dict()
    assert json.loads(r.to_json()) == r.to_dict()
    assert json.loads(r.to_json(indent=None)) == r.to_dict()
    # A fresh copy each time: editing it leaves the result alone.
    d = r.to_dict()
    if isinstance(d, dict):
        d.clear()
        assert r.to_dict()
    assert isinstance(repr(r), str)


def test_run_result():
    r = xpusim.run("bert-base", "h100-sxm")
    roundtrip(r)
    df = r.to_pandas()
    assert len(df) == len(r.ops)
    assert {"name", "kind", "flops", "bytes", "time_s", "bound"} <= set(df.columns)
    # The per-op table adds up to the model's FLOPs.
    assert df["flops"].sum() == r.flops
    assert r["latency_s"] == r.latency_s
    assert "latency_s" in dir(r)
    with pytest.raises(AttributeError, match="no_such_field"):
        r.no_such_field


def test_serve_result_has_one_row_per_request():
    r = xpusim.serve("llama-2-7b", "h100-sxm", rate=4, requests=64, seed=1)
    roundtrip(r)
    df = r.to_pandas()
    assert len(df) == 64
    assert {"ttft_s", "tpot_s", "e2e_s"} <= set(df.columns)
    assert (df["e2e_s"] >= df["ttft_s"]).all()
    several = xpusim.serve("llama-2-7b", "h100-sxm", rate=[2, 8], requests=32, seed=1)
    assert isinstance(several, list) and len(several) == 2
    for s in several:
        roundtrip(s)
        assert len(s.to_pandas()) == 32


def test_serve_takes_tensorrt_llm_scheduling():
    # A KV pool for a few of the 64 requests: claimed as they grow (vLLM) the pool overflows
    # and running requests are preempted; claimed whole at admission (TensorRT-LLM) never.
    kw = dict(rate="inf", requests=64, input_tokens=2048, output_tokens=512, memory_utilization=0.3)
    lazy = xpusim.serve("llama-2-7b", "h100-sxm", **kw)
    whole = xpusim.serve("llama-2-7b", "h100-sxm", admission="reserve", no_chunking=True, **kw)
    assert lazy.metrics["preemptions"] > 0
    assert whole.metrics["preemptions"] == 0
    assert whole.scheduler["admission"] == "reserve"
    assert whole.scheduler["chunked_prefill"] is False


def test_train_result_ranks_layouts_when_it_searches():
    r = xpusim.train("llama-3.1-8b", "dgx-h100", nodes=1, global_batch=64, seq=4096,
                     search=True)
    roundtrip(r)
    df = r.to_pandas()
    assert len(df) >= 2
    assert 0 < r.mfu < 1
    given = xpusim.train("llama-3.1-8b", "dgx-h100", nodes=1, tp=1, pp=1, dp=8,
                         global_batch=64, seq=4096, zero=1)
    roundtrip(given)
    assert len(given.to_pandas()) == 1


def test_train_passes_the_layout_options_through():
    # Synchronised BatchNorm over GPU pairs and hybrid sharding, as the CLI takes them.
    r = xpusim.train("resnet-50", "dgx-h100", nodes=2, tp=1, pp=1, dp=16, micro_batch=32,
                     global_batch=512, zero=1, shard_group=8, bn_group=2)
    roundtrip(r)
    d = r.to_dict()
    assert d["layout"]["bn_group"] == 2 and d["layout"]["shard_group"] == 8
    assert d["breakdown"]["communication_s"]["bn_allreduce"] > 0


def test_flip_result_is_eras_by_designs():
    r = xpusim.flip(["h100-sxm", "a100-80gb", "tpu-v4"])
    roundtrip(r)
    df = r.to_pandas()
    assert list(df.columns) == ["h100-sxm", "a100-80gb", "tpu-v4"]
    assert len(df) == len(r.analysis["eras"])
    # Efficiency is relative to the era's best design.
    assert ((df.max(axis=1) - 1.0).abs() < 1e-9).all()
    sc = r.scenarios()
    assert len(sc) == 3 * len(r.analysis["scenarios"])


def test_cost_result():
    r = xpusim.cost("h100-sxm")
    roundtrip(r)
    assert len(r.to_pandas()) >= 1


def test_validate_result():
    csv = ROOT / "data" / "validation" / "deepbench.csv"
    r = xpusim.validate(csv)
    roundtrip(r)
    df = r.to_pandas()
    data = [ln for ln in csv.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    n_rows = len(data) - 1  # less the header
    assert len(df) == n_rows
    raw = xpusim.validate(csv, uncalibrated=True)
    assert len(raw.to_pandas()) == n_rows
