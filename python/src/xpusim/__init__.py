"""xpusim from Python: any AI model x any AI chip -> time, throughput, energy, cost.

Every function is an ``xpusim`` command, run in-process by the Rust core with the GIL
released: the same options (long option names, ``-`` written ``_``), the same defaults,
the same checks and error messages, the same numbers. ``help("run")`` prints a command's
options. Models and hardware are names (``xpusim.list_models()``, ``xpusim.list_hw()``),
file paths, or dicts with the schema of the files (``xpusim.hw_spec("h100-sxm")`` gives one
to edit).

>>> import xpusim
>>> r = xpusim.run("llama-2-7b", "h100-sxm", phase="decode", batch=8)
>>> r.latency_s, r.bound                               # doctest: +SKIP
>>> xpusim.compare(["resnet-50", "llama-2-7b"], ["a100-80gb", "h100-sxm"])  # a DataFrame
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _native
from ._cli import XpusimWarning, call, spec_file
from ._native import UsageError, XpusimError
from .results import (
    CostResult,
    FlipResult,
    Result,
    RunResult,
    ServeResult,
    TrainResult,
    ValidateResult,
)

__version__ = _native.__version__

__all__ = [
    "run",
    "compare",
    "serve",
    "train",
    "flip",
    "sweep",
    "validate",
    "cost",
    "list_models",
    "list_hw",
    "list_systems",
    "list_pim",
    "list_runtimes",
    "hw_spec",
    "help",
    "XpusimError",
    "UsageError",
    "XpusimWarning",
    "Result",
    "RunResult",
    "ServeResult",
    "TrainResult",
    "FlipResult",
    "ValidateResult",
    "CostResult",
]

#: A model or a piece of hardware: a built-in name, a file path, or a dict spec.
Spec = Union[str, os.PathLike, Dict[str, Any]]


def _names(v: Union[Spec, Sequence[Spec], None]) -> Optional[List[Spec]]:
    if v is None:
        return None
    if isinstance(v, (str, os.PathLike, dict)):
        return [v]
    return list(v)


def _read_csv(text: str):
    import pandas as pd

    return pd.read_csv(io.StringIO(text))


def run(model: Spec, hw: Optional[Spec] = None, **options: Any) -> RunResult:
    """``xpusim run``: one model on one device or system (``hw=`` or ``system=``; ``tp=``,
    ``pp=``, ``dp=``, ...), with the per-operator breakdown (``.to_pandas()``)."""
    return RunResult(call(["run"], {"model": model, "hw": hw, **options, "format": "json"}))


def compare(
    models: Union[Spec, Sequence[Spec], None] = None,
    hw: Union[Spec, Sequence[Spec], None] = None,
    **options: Any,
):
    """``xpusim compare``: models (default: the era suite) on devices and systems (default:
    the built-in chips) as a DataFrame, one row per (workload, hardware): the columns of
    ``compare --format csv``."""
    args = {"models": _names(models), "hw": _names(hw), **options, "format": "csv"}
    return _read_csv(call(["compare"], args))


def serve(model: Spec, hw: Optional[Spec] = None, **options: Any) -> Union[ServeResult, List[ServeResult]]:
    """``xpusim serve``: an LLM serving simulation (``rate=``, ``requests=``, ...). Its
    ``.to_pandas()`` is the per-request table. A list of rates gives a list of results."""
    text = call(["serve"], {"model": model, "hw": hw, **options, "per_request": True, "format": "json"})
    data = json.loads(text)
    if isinstance(data, list):
        return [ServeResult(json.dumps(d, indent=2)) for d in data]
    return ServeResult(text)


def train(model: Spec, hw: Optional[Spec] = None, **options: Any) -> TrainResult:
    """``xpusim train``: step time, MFU, memory per device, energy and cost of training on
    a system (default: the CLI's, dgx-h100; ``nodes=``, ``tp=``, ``pp=``, ``dp=``,
    ``zero=``, ``recompute=``, ... or ``search=True``)."""
    return TrainResult(call(["train"], {"model": model, "hw": hw, **options, "format": "json"}))


def flip(hw: Union[Spec, Sequence[Spec], None] = None, **options: Any) -> FlipResult:
    """``xpusim flip``: designs across the model eras and workload-mix scenarios."""
    return FlipResult(call(["flip"], {"hw": _names(hw), **options, "format": "json"}))


def sweep(spec: Union[str, os.PathLike, Dict[str, Any]], out: Union[str, os.PathLike, None] = None, **options: Any):
    """``xpusim sweep``: a design-space sweep, resumable from its journal in ``out``.

    Returns every point as a DataFrame (the rows of ``results.csv``, sorted by index);
    ``df.attrs["pareto"]`` holds the indices of the Pareto front and ``df.attrs["out"]`` the
    output folder. ``spec`` is a sweep TOML path or a dict of the same schema (a dict
    ``base`` is a hardware spec held in memory).
    """
    spec_path = sweep_spec_file(spec)
    if out is None:
        out = f"sweep-{_spec_name(spec)}"
    if isinstance(options.get("pareto"), (list, tuple)):
        options["pareto"] = ",".join(options["pareto"])
    call(["sweep", spec_path], {"out": out, **options, "format": "json"})
    return sweep_results(out)


def sweep_spec_file(spec: Union[str, os.PathLike, Dict[str, Any]]) -> str:
    """A sweep spec path, or the name of a dict spec registered in memory."""
    if not isinstance(spec, dict):
        return os.fspath(spec)
    spec = dict(spec)
    if isinstance(spec.get("base"), dict):
        spec["base"] = spec_file("base", spec["base"])
    return spec_file("sweep", spec)


def _spec_name(spec: Union[str, os.PathLike, Dict[str, Any]]) -> str:
    if isinstance(spec, dict):
        return str(spec.get("name", "sweep"))
    import re

    text = Path(spec).read_text()
    m = re.search(r'^\s*name\s*=\s*"([^"]*)"', text, re.M)
    return m.group(1) if m else Path(spec).stem


def sweep_results(out: Union[str, os.PathLike]):
    """A finished sweep's points from its output folder (``results.csv``), with the Pareto
    front's indices in ``attrs["pareto"]``."""
    import pandas as pd

    out = Path(out)
    df = pd.read_csv(out / "results.csv")
    pareto = pd.read_csv(out / "pareto.csv")
    df.attrs["pareto"] = [int(i) for i in pareto["index"]]
    df.attrs["out"] = str(out)
    return df


def validate(*files: Union[str, os.PathLike], uncalibrated: bool = False) -> ValidateResult:
    """``xpusim validate``: predicted against measured for every row of validation CSVs."""
    if not files:
        raise UsageError("validate: give at least one validation CSV")
    args = [os.fspath(f) for f in files]
    return ValidateResult(call(["validate", *args], {"uncalibrated": uncalibrated, "format": "json"}))


def cost(hw: Spec, **options: Any) -> CostResult:
    """``xpusim cost``: manufacturing cost, TCO and $ per million samples or tokens."""
    return CostResult(call(["cost"], {"hw": hw, **options, "format": "json"}))


def _list(what: str):
    import pandas as pd

    return pd.DataFrame(json.loads(call(["list", what], {"format": "json"})))


def list_models():
    """The built-in models (name, era, phases, source) as a DataFrame."""
    return _list("models")


def list_hw():
    """The built-in devices (every field of the device schema) as a DataFrame."""
    return _list("hw")


def list_systems():
    """The built-in multi-device systems as a DataFrame."""
    return _list("systems")


def list_runtimes():
    """The built-in runtime profiles (`runtime=` on run, compare, serve, train and flip):
    kernel issue, CUDA-graph replay and per-step host work, as a DataFrame."""
    return _list("runtimes")


def list_pim():
    """The built-in PIM memories and the systems that carry them: a DataFrame of `name`
    and `kind` (`device` or `system`)."""
    import pandas as pd

    data = json.loads(call(["list", "pim"], {"format": "json"}))
    rows = [{"name": n, "kind": k[:-1]} for k in ("devices", "systems") for n in data.get(k, [])]
    return pd.DataFrame(rows, columns=["name", "kind"])


def hw_spec(name: Union[str, os.PathLike]) -> Dict[str, Any]:
    """A device, system or PIM preset (or hardware file) as a dict of the TOML schema, to
    edit and pass back as ``hw=``. Give the edited dict a new ``name``."""
    _file, text = _native.hw_source(os.fspath(name))
    return json.loads(text)


def __getattr__(name: str):
    # `xpusim.ray` and `xpusim.plot` load on first use: importing xpusim does not import
    # Ray or matplotlib.
    if name in ("ray", "plot"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'xpusim' has no attribute '{name}'")


def help(command: str = "") -> str:  # noqa: A001 - mirrors `xpusim help`
    """The command line's help for ``command`` (its options are this package's keyword
    arguments)."""
    parts = command.split() if command else []
    out, _ = _native.cli([*parts, "--help"])
    return out
