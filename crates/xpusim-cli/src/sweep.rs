//! `xpusim sweep SPEC.toml`: a design-space sweep (see xpusim-sweep and docs/sweeps.md).

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::Args;
use xpusim_sweep::{merge, run, Objective, RunOptions, Shard, SweepSpec};

use crate::args::Format;
use crate::format;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Sweep spec (TOML): base device, [[axis]] paths and values, [[workload]]s.
    pub spec: PathBuf,
    /// Output directory (journal, results CSV/Parquet, Pareto front); default sweep-NAME.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only points with index ≡ i (mod n), e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, default_value = "0/1")]
    pub shard: String,
    /// Pareto objectives, two or three of throughput, energy, area, cost, tco (default: the spec's).
    #[arg(long)]
    pub pareto: Option<String>,
    /// Stop after this many new points (run again to resume).
    #[arg(long)]
    pub max_points: Option<u64>,
    /// Join the N finished shards' journals in --out into the whole sweep's results.csv,
    /// results.parquet and pareto.csv (what one unsharded run writes); computes nothing.
    #[arg(long, value_name = "N", conflicts_with_all = ["shard", "max_points"])]
    pub merge: Option<u64>,
    /// Print the Pareto front as a table, JSON or CSV.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn main(a: &SweepArgs) -> Result<()> {
    let shard = Shard::parse(&a.shard).map_err(|e| anyhow!(e))?;
    let spec = SweepSpec::load(&a.spec)?;
    let mut o = RunOptions::new(
        &a.out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("sweep-{}", spec.name))),
    );
    o.shard = shard;
    o.max_points = a.max_points;
    o.pareto = a
        .pareto
        .as_deref()
        .map(Objective::parse_list)
        .transpose()
        .map_err(|e| anyhow!("--pareto: {e}"))?;
    o.progress = true;
    let s = match a.merge {
        Some(n) => {
            let s = merge(&spec, &o.out_dir, n, o.pareto.clone())?;
            warnln!(
                "{}: {} points joined from {n} shards in {:.2} s, {} with problems",
                spec.file,
                s.total_points,
                s.elapsed_s,
                s.failed_points
            );
            s
        }
        None => {
            let s = run(&spec, &o)?;
            let per_point = if s.computed > 0 {
                s.elapsed_s / s.computed as f64
            } else {
                0.0
            };
            warnln!(
                "{}: {} points ({} in this shard): {} already done, {} computed in {:.2} s ({} per point, {} threads), {} with problems; journal {}",
                spec.file,
                s.total_points,
                s.shard_points,
                s.already_done,
                s.computed,
                s.elapsed_s,
                format::time(per_point),
                rayon_threads(),
                s.failed_points,
                s.journal.display()
            );
            s
        }
    };
    for (why, n) in &s.problems {
        warnln!("  {n} point(s): {why}");
    }
    if !s.finished {
        warnln!("stopped before the end of the shard; run the same command again to resume");
        return Ok(());
    }
    for f in &s.outputs {
        warnln!("wrote {}", f.display());
    }
    let n_axes = spec.axes.len();
    let cols: Vec<usize> = s
        .objectives
        .iter()
        .filter_map(|ob| s.header.iter().position(|h| h == ob.column()))
        .collect();
    match a.format {
        Format::Json => {
            let rows: Vec<_> = s
                .pareto
                .iter()
                .map(|r| {
                    let mut m = serde_json::Map::new();
                    m.insert("index".into(), r.index.into());
                    for (h, v) in s.header[1..=n_axes].iter().zip(&r.axes) {
                        m.insert(h.clone(), v.clone().into());
                    }
                    for (h, v) in s.header[n_axes + 2..].iter().zip(&r.metrics) {
                        m.insert(
                            h.clone(),
                            if v.is_finite() {
                                (*v).into()
                            } else {
                                serde_json::Value::Null
                            },
                        );
                    }
                    serde_json::Value::Object(m)
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "pareto": rows }))?
            );
        }
        Format::Csv => {
            let pp = s
                .outputs
                .last()
                .ok_or_else(|| anyhow!("no Pareto file written"))?;
            out!("{}", std::fs::read_to_string(pp)?);
        }
        Format::Table => {
            let mut t = format::table();
            let mut h = vec!["index".to_string()];
            h.extend(s.header[1..=n_axes].iter().cloned());
            h.extend(cols.iter().map(|c| s.header[*c].clone()));
            t.set_header(h);
            for r in s.pareto.iter().take(FRONT_ROWS_SHOWN) {
                let mut row = vec![r.index.to_string()];
                row.extend(r.axes.iter().cloned());
                row.extend(
                    cols.iter()
                        .map(|c| with_unit(&s.header[*c], r.metrics[c - n_axes - 2])),
                );
                t.add_row(row);
            }
            let names: Vec<_> = s.objectives.iter().map(|o| o.name()).collect();
            outln!(
                "Pareto front on {} ({} of {} points)\n{t}",
                names.join(" × "),
                s.pareto.len(),
                s.shard_points
            );
            if s.pareto.len() > FRONT_ROWS_SHOWN {
                let file = s.outputs.last().map(|p| p.display().to_string());
                outln!(
                    "(the first {FRONT_ROWS_SHOWN} by index; all {} in {})",
                    s.pareto.len(),
                    file.as_deref().unwrap_or("pareto.csv")
                );
            }
        }
    }
    Ok(())
}

/// Front rows the table shows: a million-point sweep's front runs to thousands of rows,
/// which belong in pareto.csv (and `--format csv|json`), not on a terminal.
const FRONT_ROWS_SHOWN: usize = 40;

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A metric cell with the unit its column name carries (the journal's columns end in
/// `_per_s`, `_s`, `_j`, `_w`, `_mm2` or name `usd`), so no cell reads "146 m".
fn with_unit(column: &str, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if column.contains("usd") {
        // Dollars to three significant digits, never in milli-dollars.
        if v >= 1000.0 {
            return format!("${}", format::si(v, ""));
        }
        let digits = (2 - v.abs().max(1e-9).log10().floor() as i32).clamp(0, 9) as usize;
        return format!("${v:.digits$}");
    }
    if column.ends_with("_per_s") {
        format::si(v, "/s")
    } else if column.ends_with("_s") {
        format::time(v)
    } else if column.ends_with("_j") {
        format::si(v, "J")
    } else if column.ends_with("_w") {
        format::si(v, "W")
    } else if column.ends_with("_mm2") {
        format!("{v:.1} mm²")
    } else {
        format::si(v, "")
    }
}

#[cfg(test)]
mod tests {
    use super::with_unit;

    #[test]
    fn cells_carry_their_columns_units() {
        assert_eq!(with_unit("energy_geomean_j", 0.146), "146 mJ");
        assert_eq!(with_unit("throughput_geomean_per_s", 13_000.0), "13.0 k/s");
        assert_eq!(with_unit("usd_per_m_samples_geomean", 0.0052), "$0.00520");
        assert_eq!(with_unit("chip_cost_usd", 2386.7), "$2.39 k");
        assert_eq!(with_unit("die_area_mm2", 564.0), "564.0 mm²");
        assert_eq!(with_unit("x:latency_s", 0.0021), "2.10 ms");
        assert_eq!(with_unit("tdp_w", 700.0), "700 W");
    }
}
