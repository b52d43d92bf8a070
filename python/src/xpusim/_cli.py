"""Python calls -> the xpusim command line, run in-process by the Rust core.

A call such as ``run("llama-2-7b", "h100-sxm", phase="decode", batch=8)`` becomes the
arguments ``run --model llama-2-7b --hw h100-sxm --phase decode --batch 8`` of the
``xpusim`` command line, parsed and executed by the same Rust code as the terminal
command. Options are the command's long options with ``-`` written ``_``:

- ``True`` gives a flag (``no_fusion=True`` -> ``--no-fusion``); ``False`` and ``None``
  leave the option out (its default applies);
- a list or tuple repeats the option (``dim=["seq=128", "batch=1"]``);
- a dict is a spec held in memory: a hardware dict (device, system or PIM memory, the
  schema of the TOML files) for ``hw``/``base``-like options, or a Hugging Face
  ``config.json`` dict for ``model``/``models``/``draft_model``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from typing import Any, Dict, List, Tuple

from . import _native

#: Options whose dict values are model configs (Hugging Face config.json); any other
#: dict option is a hardware spec.
MODEL_OPTIONS = frozenset({"model", "models", "draft_model"})

#: Every in-memory file registered in this process, name -> text, so that a cluster
#: worker (another process, see :mod:`xpusim.ray`) can register the same files.
REGISTERED: Dict[str, str] = {}


class XpusimWarning(UserWarning):
    """A warning the core printed (e.g. an ONNX dimension it had to assume)."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:40] or "spec"


def spec_file(option: str, spec: Dict[str, Any]) -> str:
    """Registers a dict spec as an in-memory file and returns its name.

    Equal content gets the same name, so re-running a notebook cell adds nothing.
    """
    if option in MODEL_OPTIONS:
        text = json.dumps(spec, sort_keys=True)
        kind, ext = "model", "json"
    else:
        text = _native.json_to_toml(f"`{option}` dict", json.dumps(spec))
        kind, ext = option.replace("_", "-"), "toml"
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    label = str(spec.get("name") or spec.get("_name_or_path") or kind)
    name = f"python:{kind}/{_safe(label)}-{digest}.{ext}"
    register(name, text)
    return name


def register(name: str, text: str) -> None:
    """Makes ``text`` readable by the core as the file ``name`` in this process."""
    if REGISTERED.get(name) != text:
        _native.add_file(name, text)
        REGISTERED[name] = text


def _value(option: str, v: Any) -> str:
    if isinstance(v, dict):
        return spec_file(option, v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


def argv(command: List[str], options: Dict[str, Any]) -> List[str]:
    """The command line for ``command`` (e.g. ``["list", "models"]``) with ``options``."""
    args = list(command)
    for key, v in options.items():
        if v is None or v is False:
            continue
        # A trailing `_` escapes a Python keyword: `yield_=` is `--yield`.
        flag = "--" + key.rstrip("_").replace("_", "-")
        if v is True:
            args.append(flag)
        elif isinstance(v, (list, tuple)):
            for item in v:
                args += [flag, _value(key, item)]
        else:
            args += [flag, _value(key, v)]
    return args


def call(command: List[str], options: Dict[str, Any]) -> str:
    """Runs the command in-process; returns what it printed. Warnings it printed are
    raised as :class:`XpusimWarning`; failures as :class:`xpusim.XpusimError`."""
    out, err = _native.cli(argv(command, options))
    _warn(err)
    return out


def call_timed(command: List[str], options: Dict[str, Any]) -> Tuple[str, float]:
    """:func:`call`, with the seconds the command took inside Rust."""
    out, err, seconds = _native.cli_timed(argv(command, options))
    _warn(err)
    return out, seconds


def _warn(err: str) -> None:
    for line in err.splitlines():
        if line.startswith("warning: "):
            warnings.warn(line[len("warning: ") :], XpusimWarning, stacklevel=4)
