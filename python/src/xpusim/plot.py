"""matplotlib views of xpusim results: the charts of the HTML report (``--html``), drawn
from the same JSON fields, for notebooks.

Colours are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), which
stays distinguishable under the common colour-vision deficiencies; the heatmap uses
``cividis`` (Nuñez et al., PLOS ONE 2018), built to read the same for every viewer.
Each function takes an optional ``ax`` and returns it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

#: Okabe-Ito: black first is left out (it is the roof's colour).
OKABE_ITO = [
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#999999",  # grey
]
#: The sequential map for heatmaps.
HEATMAP_CMAP = "cividis"


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _fig, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def _colours(keys: Sequence[str]) -> Dict[str, str]:
    return {k: colour(i) for i, k in enumerate(dict.fromkeys(keys))}


def roofline(result, ax=None):
    """Every op (all its repeats) at its FLOPs per compulsory byte and achieved FLOP/s,
    coloured by op kind, under the roof ``min(peak, off-chip bandwidth × intensity)`` of
    the run's precision and the device's sustained off-chip bandwidth."""
    import numpy as np

    d = result.data
    ops = [
        o
        for o in d.get("ops", [])
        if o.get("flops", 0) > 0 and o.get("bytes", 0) > 0 and o.get("time_s", 0) > 0
    ]
    ax = _axes(ax)
    peak = d["peak_tflops"] * 1e12 * d.get("devices", 1)
    bw = d["offchip_bandwidth_bps"] * d.get("devices", 1)
    xs = [o["flops"] / o["bytes"] for o in ops]
    lo = min(xs + [peak / bw]) / 4
    hi = max(xs + [peak / bw]) * 4
    grid = np.geomspace(lo, hi, 200)
    ax.plot(grid, np.minimum(peak, bw * grid), color="black", lw=1.5,
            label="roof: min(peak, off-chip BW × intensity)")
    cols = _colours([o["kind"] for o in ops])
    for kind, c in cols.items():
        mine = [o for o in ops if o["kind"] == kind]
        ax.scatter(
            [o["flops"] / o["bytes"] for o in mine],
            [o["flops"] / o["time_s"] for o in mine],
            s=18, color=c, alpha=0.8, label=kind, edgecolors="none",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP per byte)")
    ax.set_ylabel("achieved FLOP/s")
    ax.set_title(f"Roofline: {d['model']} on {d['hardware']}")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def breakdown(result, ax=None, top: int = 15):
    """The ``top`` ops by time as horizontal bars, coloured by what bounds them."""
    d = result.data
    ops: List[Dict[str, Any]] = sorted(d.get("ops", []), key=lambda o: -o["time_s"])[:top]
    ax = _axes(ax)
    cols = _colours([o["bound"] for o in ops])
    ys = list(range(len(ops)))[::-1]
    ax.barh(ys, [o["time_s"] * 1e3 for o in ops], color=[cols[o["bound"]] for o in ops])
    ax.set_yticks(ys)
    ax.set_yticklabels([o["name"] for o in ops], fontsize=7)
    ax.set_xlabel("time (ms, all repeats)")
    ax.set_title(f"Top {len(ops)} ops: {d['model']} on {d['hardware']}")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=b) for b, c in cols.items()], fontsize=7)
    return ax


def pareto(df, x: str, y: str, ax=None, front: Optional[Sequence[int]] = None):
    """A sweep's points (``xpusim.sweep``'s DataFrame) on two of its columns, the Pareto
    front (``df.attrs["pareto"]`` unless given) highlighted."""
    ax = _axes(ax)
    front = list(df.attrs.get("pareto", []) if front is None else front)
    on = df["index"].isin(front) if "index" in df else df.index.isin(front)
    ax.scatter(df.loc[~on, x], df.loc[~on, y], s=8, color=OKABE_ITO[7], label="design points")
    f = df.loc[on].sort_values(x)
    ax.plot(f[x], f[y], "o-", color=OKABE_ITO[5], ms=5, label="Pareto front")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(fontsize=8)
    return ax


def heatmap(result, ax=None):
    """``xpusim flip``'s era × design efficiency (1.0 = the era's best design)."""
    df = result.to_pandas()
    ax = _axes(ax)
    im = ax.imshow(df.values, cmap=HEATMAP_CMAP, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(df.columns)))
    ax.set_xticklabels(df.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(df.index)))
    ax.set_yticklabels(df.index, fontsize=8)
    for i in range(df.shape[0]):
        for j in range(df.shape[1]):
            v = df.values[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.5 else "black")
    ax.figure.colorbar(im, ax=ax, label="efficiency vs the era's best")
    ax.set_title("Efficiency by era and design")
    return ax
