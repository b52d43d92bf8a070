"""Shared fixtures: the repository root and the terminal `xpusim` binary that Python's
results are checked against (the same Rust code, run as a separate process)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary():
    env = os.environ.get("XPUSIM_BIN")
    if env:
        return Path(env)
    found = [ROOT / "target" / p / "xpusim" for p in ("release", "debug")]
    found = [p for p in found if p.is_file()]
    if found:
        # The newest build is the one made from this tree.
        return max(found, key=lambda p: p.stat().st_mtime)
    on_path = shutil.which("xpusim")
    return Path(on_path) if on_path else None


def need(module):
    """Imports an optional test dependency: skip without it locally, fail under CI=true
    (CI installs `./python[test,ray]`, so a missing module there is a broken setup)."""
    if os.environ.get("CI") == "true":
        return __import__(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def xpusim_bin():
    """Runs the terminal command; returns its stdout. Absent binary: skip locally, fail
    under CI=true (CI builds it before the Python tests)."""
    exe = _binary()
    if exe is None:
        msg = "no xpusim binary: build it (cargo build --release) or set XPUSIM_BIN"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)

    def run(*args, cwd=None):
        done = subprocess.run(
            [str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run
