//! Running a sweep: shard, skip what the journal has, evaluate chunks in parallel, append
//! each chunk to the journal, and when the shard is complete write the sorted results,
//! Parquet and the Pareto front.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::journal::{self, Journal};
use crate::pareto::Objective;
use crate::point::{Evaluator, Row};
use crate::spec::SweepSpec;
use crate::SweepError;

/// Which slice of the points this process owns: indices ≡ `index` (mod `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` with 0 ≤ i < n.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard `{s}`: expected i/n, e.g. 0/4"))?;
        let i: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard `{s}`: `{i}` is not a number"))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard `{s}`: `{n}` is not a number"))?;
        if n == 0 || i >= n {
            return Err(format!("--shard `{s}`: expected 0 ≤ i < n"));
        }
        Ok(Shard { index: i, count: n })
    }

    /// How many of `total` points (indices 0..total) this shard owns, in closed form.
    pub fn points(self, total: u64) -> u64 {
        if total > self.index {
            (total - self.index).div_ceil(self.count)
        } else {
            0
        }
    }

    /// This shard's point indices below `total`, in order, listed lazily (a sweep of 10¹⁰
    /// points run with `--max-points 3` enumerates three).
    pub fn indices(self, total: u64) -> impl Iterator<Item = u64> {
        (0..self.points(total)).map(move |k| self.index + k * self.count)
    }

    /// File-name suffix: empty for the whole sweep, `.shard-i-of-n` otherwise.
    pub(crate) fn suffix(self) -> String {
        if self.count == 1 {
            String::new()
        } else {
            format!(".shard-{}-of-{}", self.index, self.count)
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub out_dir: PathBuf,
    pub shard: Shard,
    /// Stop after computing this many new points (the run can be resumed later).
    pub max_points: Option<u64>,
    /// Objectives of the Pareto front (None: the spec's).
    pub pareto: Option<Vec<Objective>>,
    /// Points per journal append; each chunk is evaluated in parallel.
    pub chunk: usize,
    pub progress: bool,
}

impl RunOptions {
    pub fn new(out_dir: &Path) -> RunOptions {
        RunOptions {
            out_dir: out_dir.to_path_buf(),
            shard: Shard::ALL,
            max_points: None,
            pareto: None,
            chunk: 64,
            progress: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunSummary {
    pub total_points: u64,
    pub shard_points: u64,
    pub already_done: u64,
    pub computed: u64,
    /// Every point of the shard is in the journal; results were written.
    pub finished: bool,
    pub elapsed_s: f64,
    pub journal: PathBuf,
    /// results CSV, Parquet and Pareto CSV (when finished).
    pub outputs: Vec<PathBuf>,
    pub objectives: Vec<Objective>,
    /// Front rows, in index order (when finished).
    pub pareto: Vec<Row>,
    pub header: Vec<String>,
    pub failed_points: u64,
    /// The commonest problems (a point's status when not `ok`) with their counts, most
    /// frequent first, at most [`PROBLEMS_SHOWN`]: so the reason reaches the terminal, not
    /// only the status column of results.csv.
    pub problems: Vec<(String, u64)>,
}

/// Seconds between plain progress lines when stderr is not a terminal.
pub const PLAIN_PROGRESS_EVERY_S: f64 = 5.0;

/// Distinct problems a summary keeps.
pub const PROBLEMS_SHOWN: usize = 3;

/// The commonest statuses other than `ok` among `statuses`, with counts.
pub(crate) fn problems<'a>(statuses: impl Iterator<Item = &'a str>) -> Vec<(String, u64)> {
    let mut n: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for s in statuses.filter(|s| *s != "ok") {
        *n.entry(s.to_string()).or_default() += 1;
    }
    top_problems(n)
}

/// The [`PROBLEMS_SHOWN`] commonest of counted problems, most frequent first.
pub(crate) fn top_problems(n: std::collections::BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = n.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(PROBLEMS_SHOWN);
    v
}

pub fn run(spec: &SweepSpec, o: &RunOptions) -> Result<RunSummary, SweepError> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&o.out_dir).map_err(|e| SweepError::io(&o.out_dir, e))?;
    let ev = Evaluator::new(spec)?;
    let axis_names: Vec<String> = spec.axes.iter().map(|a| a.path.text.clone()).collect();
    let n_axes = axis_names.len();
    let header = journal::header(&axis_names, &ev.metric_columns());
    let sfx = o.shard.suffix();
    let jpath = o.out_dir.join(format!("journal{sfx}.csv"));
    let (mut j, mut done) = Journal::open(&jpath, &spec.fingerprint(), &header, n_axes)?;
    let total = spec.points();
    let mine = |i: &u64| i % o.shard.count == o.shard.index;
    done.retain(|i, _| *i < total && mine(i));
    let already = done.len() as u64;
    let shard_points = o.shard.points(total);
    let to_compute = (shard_points - already).min(o.max_points.unwrap_or(u64::MAX));
    let mut todo = o
        .shard
        .indices(total)
        .filter(|i| !done.contains_key(i))
        .take(to_compute as usize);
    use std::io::IsTerminal;
    // Without a terminal (CI logs, `2> log`, batch jobs) indicatif draws nothing: print a
    // plain line every PLAIN_PROGRESS_EVERY_S instead, so a long sweep is seen to move.
    let plain = o.progress && !std::io::stderr().is_terminal();
    let mut last_line = Instant::now();
    let mut so_far = 0u64;
    let bar = if o.progress && !plain {
        let b = indicatif::ProgressBar::new(to_compute);
        if let Ok(s) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} points ({per_sec}, ETA {eta})",
        ) {
            b.set_style(s);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut computed = Vec::new();
    let mut chunk: Vec<u64> = Vec::with_capacity(o.chunk.clamp(1, 1 << 16));
    loop {
        chunk.clear();
        chunk.extend(todo.by_ref().take(o.chunk.max(1)));
        if chunk.is_empty() {
            break;
        }
        let rows: Vec<Row> = chunk.par_iter().map(|i| ev.eval(*i)).collect();
        j.append(&rows)?;
        bar.inc(rows.len() as u64);
        so_far += rows.len() as u64;
        if plain && last_line.elapsed().as_secs_f64() >= PLAIN_PROGRESS_EVERY_S {
            last_line = Instant::now();
            let el = t0.elapsed().as_secs_f64();
            let rate = so_far as f64 / el.max(1e-9);
            eprintln!(
                "sweep: {so_far}/{to_compute} points ({:.1}%) in {el:.0} s, {rate:.0} points/s, \
                 about {:.0} s left",
                100.0 * so_far as f64 / to_compute.max(1) as f64,
                (to_compute - so_far) as f64 / rate.max(1e-9)
            );
        }
        // Indices are computed once each, so these never overwrite a journalled row; the
        // rows themselves are in the journal, not held here.
        computed.extend(rows.iter().map(|r| (r.index, journal::status_of(r))));
    }
    drop(todo);
    done.extend(computed);
    bar.finish_and_clear();
    let objectives = o.pareto.clone().unwrap_or_else(|| spec.objectives.clone());
    let mut s = RunSummary {
        total_points: total,
        shard_points,
        already_done: already,
        computed: to_compute,
        finished: done.len() as u64 == shard_points,
        elapsed_s: 0.0,
        journal: jpath,
        outputs: Vec::new(),
        objectives: objectives.clone(),
        pareto: Vec::new(),
        header: header.clone(),
        failed_points: done.values().filter(|s| s.is_some()).count() as u64,
        problems: problems(done.values().flatten().map(|s| &**s)),
    };
    if s.finished {
        drop(j);
        drop(done);
        let f = crate::results::finish(
            &o.out_dir,
            &sfx,
            &header,
            n_axes,
            &objectives,
            &spec.fingerprint(),
            &[(s.journal.clone(), o.shard)],
            total,
        )?;
        (s.outputs, s.pareto) = (f.outputs, f.pareto);
    }
    s.elapsed_s = t0.elapsed().as_secs_f64();
    Ok(s)
}
