"""Typed results: the JSON a command prints (docs/json-schema.md), with attribute access,
``.to_dict()``, ``.to_json()`` and ``.to_pandas()``.

A result keeps the JSON text the core printed and parses it on first use, so a call that
only reads ``latency_s`` pays for one parse and nothing else.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


class Result:
    """The JSON document of one command's result.

    Top-level fields read as attributes (``r.latency_s``) or items (``r["latency_s"]``).
    """

    #: What the result describes, for repr.
    kind = "result"

    def __init__(self, text: str):
        self._text = text
        self._data: Optional[Any] = None

    @property
    def data(self) -> Any:
        if self._data is None:
            self._data = json.loads(self._text)
        return self._data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        data = self.data
        if isinstance(data, dict) and name in data:
            return data[name]
        raise AttributeError(f"{type(self).__name__} has no field `{name}`")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __dir__(self) -> List[str]:
        fields = list(self.data) if isinstance(self.data, dict) else []
        return sorted(set(super().__dir__()) | set(fields))

    def keys(self) -> List[str]:
        return list(self.data) if isinstance(self.data, dict) else []

    def to_dict(self) -> Any:
        """The result as plain Python data (a fresh copy)."""
        return json.loads(self._text)

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The result as JSON text (what ``--format json`` prints)."""
        if indent == 2:
            return self._text.rstrip("\n")
        return json.dumps(self.data, indent=indent)

    def to_pandas(self):
        """The result's main table as a DataFrame (see each result type)."""
        import pandas as pd

        return pd.json_normalize(self.data)

    def __repr__(self) -> str:
        head = {k: v for k, v in self.data.items() if not isinstance(v, (dict, list))}
        shown = ", ".join(f"{k}={v!r}" for k, v in list(head.items())[:6])
        return f"<{type(self).__name__} {shown}>"


def _frame(rows: List[Dict[str, Any]]):
    import pandas as pd

    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


class RunResult(Result):
    """``xpusim run``: one model on one target. ``to_pandas()`` is the per-op table."""

    kind = "run"

    def to_pandas(self):
        return _frame(self.data.get("ops", []))

    def plot(self, kind: str = "roofline", ax=None, top: int = 15):
        """``kind``: ``roofline`` (every op at its intensity and achieved FLOP/s under the
        device's roof) or ``breakdown`` (the ``top`` ops by time, coloured by bound)."""
        from . import plot

        if kind == "roofline":
            return plot.roofline(self, ax=ax)
        if kind == "breakdown":
            return plot.breakdown(self, ax=ax, top=top)
        raise ValueError(f"plot kind `{kind}`: expected roofline or breakdown")


class ServeResult(Result):
    """``xpusim serve``: one serving simulation. ``to_pandas()`` is the per-request table
    (arrival, first-token and finish times, TTFT, TPOT, end-to-end latency)."""

    kind = "serve"

    def to_pandas(self):
        return _frame(self.data.get("requests", []))


class TrainResult(Result):
    """``xpusim train``: the chosen layout's step, MFU, memory, energy and cost.
    ``to_pandas()`` is the search's ranking of layouts (best first) when it searched, else
    one row for the layout given."""

    kind = "train"

    def to_pandas(self):
        import pandas as pd

        rows = self.data.get("ranking")
        if rows:
            return _frame(rows)
        flat = {k: v for k, v in self.data.items() if k != "ranking"}
        return pd.json_normalize(flat)


class FlipResult(Result):
    """``xpusim flip``: designs across eras and workload-mix scenarios. ``to_pandas()`` is
    the efficiency table, eras × designs (1.0 = the best design of that era)."""

    kind = "flip"

    def to_pandas(self):
        import pandas as pd

        a = self.data["analysis"]
        return pd.DataFrame(
            [list(r) for r in zip(*a["era_eff"])],
            index=pd.Index(a["eras"], name="era"),
            columns=pd.Index(a["names"], name="design"),
        )

    def scenarios(self):
        """Each scenario's score and regret per design."""
        import pandas as pd

        a = self.data["analysis"]
        rows = []
        for s in a["scenarios"]:
            for name, score, regret in zip(a["names"], s["score"], s["regret"]):
                rows.append(
                    {"scenario": s["name"], "design": name, "score": score, "regret": regret}
                )
        return pd.DataFrame(rows)

    def plot(self, ax=None):
        """The era × design efficiency heatmap."""
        from . import plot

        return plot.heatmap(self, ax=ax)


class ValidateResult(Result):
    """``xpusim validate``: ``to_pandas()`` is one row per validation row (predicted,
    measured, signed error, whether it was a calibration row); ``mape_pct`` per category."""

    kind = "validate"

    def to_pandas(self):
        return _frame(self.data.get("rows", []))


class CostResult(Result):
    """``xpusim cost``: ``to_pandas()`` is one row per chip (and process node)."""

    kind = "cost"

    def to_pandas(self):
        import pandas as pd

        return pd.json_normalize(self.data.get("results", []))
