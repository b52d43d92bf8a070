"""The Python API against the terminal command: same numbers, same errors, dict specs."""

import json
import threading
import time

import pandas as pd
import pytest

import xpusim


def test_run_is_the_cli_number(xpusim_bin):
    r = xpusim.run("llama-2-7b", "h100-sxm", phase="decode", batch=8)
    cli = json.loads(
        xpusim_bin("run", "--model", "llama-2-7b", "--hw", "h100-sxm", "--phase", "decode",
                   "--batch", "8", "--format", "json")
    )
    assert r.latency_s == cli["latency_s"]
    assert r.to_dict() == cli
    assert r.bound.startswith("memory")


def test_run_on_a_system_takes_the_parallel_options(xpusim_bin):
    r = xpusim.run("llama-2-70b", system="dgx-h100", tp=8, phase="decode", batch=8)
    cli = json.loads(
        xpusim_bin("run", "--model", "llama-2-70b", "--hw", "dgx-h100", "--tp", "8",
                   "--phase", "decode", "--batch", "8", "--format", "json")
    )
    assert r.to_dict() == cli
    assert r.devices == 8


def test_compare_is_a_dataframe_of_every_pair(xpusim_bin):
    models, hws = ["resnet-50", "llama-2-7b"], ["a100-80gb", "h100-sxm"]
    df = xpusim.compare(models, hws)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 4
    assert {"model", "hardware", "latency_s", "energy_j", "bound"} <= set(df.columns)
    cli = pd.read_csv(
        __import__("io").StringIO(
            xpusim_bin("compare", "--models", ",".join(models), "--hw", ",".join(hws),
                       "--format", "csv")
        )
    )
    pd.testing.assert_frame_equal(df, cli)


def test_a_hardware_dict_is_the_preset_until_edited():
    spec = xpusim.hw_spec("h100-sxm")
    assert spec["name"] == "h100-sxm"
    base = xpusim.run("llama-2-7b", "h100-sxm", phase="decode", batch=8)
    same = xpusim.run("llama-2-7b", spec, phase="decode", batch=8)
    assert same.latency_s == base.latency_s

    # Decode at batch 8 reads the weights once per token: twice the HBM bandwidth must
    # make it faster (and no faster than twice).
    fast = json.loads(json.dumps(spec))
    fast["name"] = "h100-2x-hbm"
    hbm = [m for m in fast["memory"] if "bandwidth_gbps" in m][-1]
    hbm["bandwidth_gbps"] *= 2
    quick = xpusim.run("llama-2-7b", fast, phase="decode", batch=8)
    assert quick.latency_s < base.latency_s
    assert quick.latency_s >= base.latency_s / 2 * 0.999


def test_a_model_dict_is_a_hugging_face_config(xpusim_bin, tmp_path):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 2048,
        "intermediate_size": 5632,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "num_hidden_layers": 22,
        "vocab_size": 32000,
        "max_position_embeddings": 2048,
        "torch_dtype": "bfloat16",
    }
    r = xpusim.run(cfg, "h100-sxm", phase="decode", batch=4)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    cli = json.loads(
        xpusim_bin("run", "--model", path, "--hw", "h100-sxm", "--phase", "decode",
                   "--batch", "4", "--format", "json")
    )
    assert r.latency_s == cli["latency_s"]
    assert r.params == cli["params"]


def test_errors_are_exceptions_naming_what_is_wrong():
    with pytest.raises(xpusim.XpusimError, match="no-such-model"):
        xpusim.run("no-such-model", "h100-sxm")
    with pytest.raises(xpusim.UsageError, match="--no-such-option"):
        xpusim.run("llama-2-7b", "h100-sxm", no_such_option=3)
    with pytest.raises(xpusim.UsageError, match="phase"):
        xpusim.run("llama-2-7b", "h100-sxm", phase="sideways")
    bad = xpusim.hw_spec("h100-sxm")
    bad["name"] = "broken"
    bad["clock_ghz"] = "fast"
    with pytest.raises(xpusim.XpusimError, match="clock_ghz"):
        xpusim.run("llama-2-7b", bad)
    with pytest.raises(xpusim.XpusimError, match="expected a table"):
        xpusim._native.json_to_toml("hw", "[1, 2]")
    assert issubclass(xpusim.UsageError, xpusim.XpusimError)
    assert issubclass(xpusim.XpusimError, ValueError)


def test_a_layout_that_does_not_fit_says_so():
    with pytest.raises(xpusim.XpusimError, match="(?i)memory|fit"):
        xpusim.train("llama-3.1-70b", "dgx-h100", nodes=1, tp=1, pp=1, dp=8, zero=0,
                     global_batch=8, seq=4096)


def test_lists_are_dataframes():
    models = xpusim.list_models()
    assert {"name"} <= set(models.columns) and len(models) > 20
    hw = xpusim.list_hw()
    assert "h100-sxm" in set(hw["name"])
    assert len(xpusim.list_systems()) > 0
    assert len(xpusim.list_pim()) > 0
    rts = xpusim.list_runtimes()
    assert "sarathi-vllm" in set(rts["name"])


def test_help_is_the_commands_help():
    assert "--phase" in xpusim.help("run")


def test_the_gil_is_released_while_rust_computes():
    """A second Python thread keeps running during a long call: with the GIL held it
    would stall for the whole call."""
    done = threading.Event()
    took = []

    def work():
        t0 = time.perf_counter()
        xpusim.compare(hw="all")
        took.append(time.perf_counter() - t0)
        done.set()

    gaps, last = [], time.perf_counter()
    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    t.join()
    assert took[0] > 0.2, "the call is too short to tell"
    assert max(gaps) < took[0] / 2


def test_a_runtime_profile_adds_host_work():
    bare = xpusim.run("bert-base", "h100-sxm", batch=1, seq=128)
    eager = xpusim.run("bert-base", "h100-sxm", batch=1, seq=128, runtime="pytorch-eager")
    assert eager.latency_s > bare.latency_s
    assert eager.data["runtime"]["name"] == "pytorch-eager"
