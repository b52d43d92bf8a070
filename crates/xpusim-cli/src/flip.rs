//! `xpusim flip`: designs across the era suite and the training eras under workload-mix
//! scenarios and a service-life timeline; ranked table, verdicts, optional HTML report.

use anyhow::{Context, Result};
use clap::Args;
use xpusim_flip::{analyse, evaluate, flip_suite, summary, Design, Metric};

use crate::args::Format;

#[derive(Args, Debug)]
pub struct FlipArgs {
    /// Designs: devices or systems (names or TOML paths), comma separated; default: every
    /// device preset. Designs of different sizes are compared per device.
    #[arg(long, value_delimiter = ',')]
    pub hw: Vec<String>,
    /// Efficiency measure: tco (samples per TCO dollar), energy (per joule), throughput, or
    /// auto (tco when every design can be costed, else energy).
    #[arg(long, default_value = "auto")]
    pub metric: String,
    /// Scenarios TOML (`[[scenario]] name, note, mix = { era = weight }`); default: built-in.
    #[arg(long)]
    pub scenarios: Option<String>,
    /// Timeline TOML (`[[timeline]] year, mix = { era = weight }`); default: built-in.
    #[arg(long)]
    pub timeline: Option<String>,
    /// Also write a self-contained HTML report with tables and charts.
    #[arg(long)]
    pub html: Option<String>,
    /// Cap every design's devices' power at this many watts (as `nvidia-smi -pl` does; between the
    /// device's idle power and its TDP): ops whose dynamic power would exceed the cap run
    /// their cores at a lower clock and voltage until they fit. Default: the device file's `power_cap_w`, else TDP.
    #[arg(long)]
    pub power_cap_w: Option<f64>,
    /// The software stack around every design's kernels (`xpusim list runtimes`, or a
    /// runtime TOML). Default: none (device time alone).
    #[arg(long)]
    pub runtime: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read"))
}

pub fn main(a: &FlipArgs) -> Result<()> {
    let chips: Vec<String> = if a.hw.is_empty() || a.hw.iter().any(|h| h == "all") {
        xpusim_hw::preset_names()
    } else {
        a.hw.clone()
    };
    let runtime = a
        .runtime
        .as_deref()
        .map(xpusim_hw::load_runtime)
        .transpose()?;
    let designs = chips
        .iter()
        .map(|c| {
            let mut t = xpusim_target::Target::load(c)?;
            if let Some(w) = a.power_cap_w {
                t.set_power_cap(w)?;
            }
            t.runtime = runtime.clone();
            Ok(Design::new(t))
        })
        .collect::<Result<Vec<_>>>()?;
    let scenarios = match &a.scenarios {
        Some(p) => xpusim_flip::parse_scenarios(p, &read(p)?)?,
        None => xpusim_flip::builtin_scenarios(),
    };
    let timeline = match &a.timeline {
        Some(p) => xpusim_flip::parse_timeline(p, &read(p)?)?,
        None => xpusim_flip::builtin_timeline(),
    };
    if !["auto", "tco", "energy", "throughput"].contains(&a.metric.as_str()) {
        anyhow::bail!(
            "--metric: unknown `{}` (expected auto, tco, energy or throughput)",
            a.metric
        );
    }
    let ev = evaluate(designs, &flip_suite())?;
    let metric = Metric::choose(&a.metric, &ev).map_err(anyhow::Error::msg)?;
    let an = analyse(&ev, metric, &scenarios, &timeline)?;
    let verdicts = summary::verdicts(&an, &ev);
    if let Some(path) = &a.html {
        let html = xpusim_report::flip_report(&ev, &an, &scenarios, &timeline, &verdicts)?;
        xpusim_ir::memfs::write(std::path::Path::new(path), &html)
            .with_context(|| format!("{path}: cannot write"))?;
    }
    match a.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "analysis": an,
                "scenarios": scenarios,
                "timeline": timeline,
                "verdicts": verdicts,
                "evaluation": ev,
            }))?
        ),
        Format::Table | Format::Csv => {
            outln!(
                "Board flip: efficiency = {} relative to the best design per era (100% = best); \
                 ranked by worst-case regret over {} scenarios. Designs of different sizes are \
                 compared per device (a system's samples/s per device; energy and TCO per \
                 sample over all its devices).",
                metric.describe(),
                scenarios.len()
            );
            outln!("{}", summary::table(&an));
            for v in &verdicts {
                outln!("• {v}");
            }
            if let Some(p) = &a.html {
                outln!("HTML report: {p}");
            }
        }
    }
    Ok(())
}
