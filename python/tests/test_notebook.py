"""The example notebook runs top to bottom (so it cannot rot)."""

from pathlib import Path

import pytest

from conftest import need

ROOT = Path(__file__).resolve().parents[2]


def test_chip_study_notebook_executes(tmp_path, monkeypatch):
    nbformat = need("nbformat")
    nbclient = need("nbclient")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = ROOT / "examples" / "notebooks" / "chip_study.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    # The verdict cell printed its conclusions.
    last = nb.cells[-1]
    text = "".join(o.get("text", "") for o in last.get("outputs", []))
    assert "cheaper per sample" in text and "Speed:" in text
