//! Joining shards: when every shard of `--shard i/n` has finished its journal, the whole
//! sweep's `results.csv`, `results.parquet` and `pareto.csv` are written from the shard
//! journals, byte for byte what one unsharded run writes (the rows are the same, each
//! computed once, and the files are written by the same code in index order).
//!
//! This is what a cluster driver (a Slurm job after the array, or `xpusim.ray.sweep`) calls
//! last; a shard that is not complete is an error naming it, so nothing is lost silently.

use std::path::Path;
use std::time::Instant;

use crate::journal::{self, Journal};
use crate::pareto::Objective;
use crate::point::Evaluator;
use crate::results::finish;
use crate::run::{RunSummary, Shard};
use crate::spec::SweepSpec;
use crate::SweepError;

/// Joins the `count` shard journals in `out_dir` into the sweep's results (Pareto front on
/// `pareto`, or the spec's objectives).
pub fn merge(
    spec: &SweepSpec,
    out_dir: &Path,
    count: u64,
    pareto: Option<Vec<Objective>>,
) -> Result<RunSummary, SweepError> {
    let t0 = Instant::now();
    if count == 0 {
        return Err(SweepError::Other(
            "merge: the shard count must be ≥ 1".into(),
        ));
    }
    let ev = Evaluator::new(spec)?;
    let axis_names: Vec<String> = spec.axes.iter().map(|a| a.path.text.clone()).collect();
    let n_axes = axis_names.len();
    let header = journal::header(&axis_names, &ev.metric_columns());
    let total = spec.points();
    let mut journals = Vec::with_capacity(count.min(1 << 16) as usize);
    for index in 0..count {
        let shard = Shard { index, count };
        let path = out_dir.join(format!("journal{}.csv", shard.suffix()));
        if !path.is_file() {
            return Err(SweepError::Other(format!(
                "{}: missing; run shard {index}/{count} first",
                path.display()
            )));
        }
        let (_, mut rows) = Journal::open(&path, &spec.fingerprint(), &header, n_axes)?;
        rows.retain(|i, _| *i < total && i % count == index);
        let expected = shard.points(total);
        if rows.len() as u64 != expected {
            return Err(SweepError::Other(format!(
                "{}: {} of {expected} points; run shard {index}/{count} again to finish it",
                path.display(),
                rows.len()
            )));
        }
        journals.push((path, shard));
    }
    let objectives = pareto.unwrap_or_else(|| spec.objectives.clone());
    let f = finish(
        out_dir,
        "",
        &header,
        n_axes,
        &objectives,
        &spec.fingerprint(),
        &journals,
        total,
    )?;
    Ok(RunSummary {
        total_points: total,
        shard_points: total,
        already_done: total,
        computed: 0,
        finished: true,
        elapsed_s: t0.elapsed().as_secs_f64(),
        journal: out_dir.to_path_buf(),
        outputs: f.outputs,
        objectives,
        pareto: f.pareto,
        header,
        failed_points: f.failed,
        problems: f.problems,
    })
}
