"""Design sweeps across a Ray cluster, with the command line's journal semantics.

``xpusim.ray.sweep(spec, out)`` splits the sweep into shards (points with index ≡ i mod
n, the CLI's ``--shard i/n``) and runs each shard as a Ray task that calls the Rust core
in-process. A shard appends every finished point to its own journal in ``out`` (synced
chunk by chunk), so:

- a worker that dies (killed, out of memory, node lost) fails its task; Ray runs it again
  (``max_retries``) and the shard resumes from its journal: no point is computed twice
  into the results, none is lost;
- a driver that dies leaves the journals behind: calling ``sweep`` again with the same
  ``out`` resumes every unfinished shard and skips the finished ones.

When every shard is finished the driver joins their journals (``xpusim sweep --merge n``)
into ``results.csv``, ``results.parquet`` and ``pareto.csv``: byte for byte what one
unsharded ``xpusim sweep`` writes. Each shard also leaves its own
``results.shard-i-of-n.parquet`` as it finishes, so ``out`` is a Parquet dataset that
fills while the sweep runs.

``out`` (and a spec given as a path) must be on a file system every node sees, as for
the Slurm recipe (docs/sweeps.md). A spec given as a dict travels with the tasks.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _cli

PathLike = Union[str, "os.PathLike[str]"]


def _shard_task(
    spec_path: str,
    files: Dict[str, str],
    out: str,
    index: int,
    count: int,
    pareto: Optional[str],
    threads: int,
) -> Dict[str, Any]:
    """One shard, in a Ray worker: the same command as ``xpusim sweep SPEC --out OUT
    --shard i/n``, resuming from its journal if an earlier try left one."""
    import json

    # The core's thread pool is sized once per process: as many threads as CPUs Ray
    # gave this task, so shards sharing a node do not oversubscribe it.
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    from xpusim import _cli as cli

    for name, text in files.items():
        cli.register(name, text)
    out_text = cli.call(
        ["sweep", spec_path],
        {"out": out, "shard": f"{index}/{count}", "pareto": pareto, "format": "json"},
    )
    return {"shard": index, "front": json.loads(out_text)}


def sweep(
    spec: Union[PathLike, Dict[str, Any]],
    out: Optional[PathLike] = None,
    shards: Optional[int] = None,
    cpus_per_shard: int = 1,
    max_retries: int = 3,
    pareto: Optional[Sequence[str]] = None,
):
    """Runs the sweep ``spec`` (a TOML path or a dict of the same schema) on the Ray
    cluster this process is connected to (``ray.init()`` first, or the local machine is
    started as one) and returns the whole sweep as :func:`xpusim.sweep` does: a DataFrame
    of ``results.csv`` with ``attrs["pareto"]`` and ``attrs["out"]``.

    ``shards``: how many tasks (default: the cluster's CPUs ÷ ``cpus_per_shard``; more
    shards balance better, and a lost worker loses less). ``max_retries``: how many times
    Ray reruns a shard whose worker died. ``pareto``: the Pareto objectives (default: the
    spec's).
    """
    import ray

    from . import _spec_name, sweep_results, sweep_spec_file

    if not ray.is_initialized():
        ray.init()
    spec_path = sweep_spec_file(spec)
    if not isinstance(spec, dict):
        # Workers may start in another directory (or on another node).
        spec_path = os.path.abspath(spec_path)
    out = os.path.abspath(os.fspath(out) if out is not None else f"sweep-{_spec_name(spec)}")
    if shards is None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        shards = max(1, cpus // max(1, cpus_per_shard))
    if shards < 1:
        raise ValueError(f"shards = {shards}: expected at least 1")
    objectives = ",".join(pareto) if pareto else None
    # Only the in-memory files (dict specs) travel; paths are read where the task runs.
    files = {n: t for n, t in _cli.REGISTERED.items() if n.startswith("python:")}
    task = ray.remote(_shard_task).options(
        num_cpus=cpus_per_shard, max_retries=max_retries, retry_exceptions=False
    )
    refs: List[Any] = [
        task.remote(spec_path, files, out, i, shards, objectives, cpus_per_shard)
        for i in range(shards)
    ]
    ray.get(refs)
    _cli.call(
        ["sweep", spec_path],
        {"out": out, "merge": shards, "pareto": objectives, "format": "json"},
    )
    return sweep_results(out)
