//! `xpusim run --model topology.csv --hw config.cfg`: SCALE-Sim's own inputs, SCALE-Sim's
//! own per-layer report, so a SCALE-Sim user can diff the two tools line by line.
//!
//! Every number comes from `xpusim-systolic`, which reproduces SCALE-Sim 3.0.0 exactly on
//! the 949 golden rows (`crates/xpusim-systolic/GOLDEN_RESULTS.md`). Field names follow
//! SCALE-Sim's report columns: `cycles` is `Total Cycles − Stall Cycles` (stall-free),
//! `total_cycles` is `Total Cycles`, and `utilization`, `mapping_efficiency` and
//! `compute_util` are percentages exactly as SCALE-Sim prints them (`Overall Util %`,
//! `Mapping Efficiency %`, `Compute Util %`). Read/write counts are in words.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use xpusim_systolic::{load_config, load_topology, simulate_layer, ArrayConfig, LayerReport};

use crate::args::{Format, RunArgs};
use crate::format;

/// True when `--hw` names a SCALE-Sim config file.
pub fn applies(a: &RunArgs) -> bool {
    a.hw.to_ascii_lowercase().ends_with(".cfg")
}

/// True when `--model` names a SCALE-Sim topology CSV.
pub fn is_topology(model: &str) -> bool {
    model.to_ascii_lowercase().ends_with(".csv")
}

#[derive(Serialize)]
struct LayerRow {
    name: String,
    cycles: u64,
    total_cycles: u64,
    stall_cycles: u64,
    utilization: f64,
    mapping_efficiency: f64,
    compute_util: f64,
    sram_ifmap_reads: u64,
    sram_filter_reads: u64,
    sram_ofmap_writes: u64,
    dram_ifmap_reads: u64,
    dram_filter_reads: u64,
    dram_ofmap_writes: u64,
    num_macs: u64,
}

impl From<&LayerReport> for LayerRow {
    fn from(r: &LayerReport) -> Self {
        LayerRow {
            name: r.name.clone(),
            cycles: r.cycles,
            total_cycles: r.total_cycles,
            stall_cycles: r.stall_cycles,
            utilization: r.utilization_pct,
            mapping_efficiency: r.mapping_efficiency_pct,
            compute_util: r.compute_util_pct,
            sram_ifmap_reads: r.sram_ifmap_reads,
            sram_filter_reads: r.sram_filter_reads,
            sram_ofmap_writes: r.sram_ofmap_writes,
            dram_ifmap_reads: r.dram_ifmap_reads,
            dram_filter_reads: r.dram_filter_reads,
            dram_ofmap_writes: r.dram_ofmap_writes,
            num_macs: r.num_macs,
        }
    }
}

/// Sums over layers; `utilization` is MACs over (total cycles × PEs), as SCALE-Sim defines it
/// per layer, applied to the whole run.
#[derive(Serialize)]
struct Totals {
    cycles: u64,
    total_cycles: u64,
    stall_cycles: u64,
    utilization: f64,
    sram_ifmap_reads: u64,
    sram_filter_reads: u64,
    sram_ofmap_writes: u64,
    dram_ifmap_reads: u64,
    dram_filter_reads: u64,
    dram_ofmap_writes: u64,
    num_macs: u64,
}

#[derive(Serialize)]
struct Report {
    topology: String,
    config: String,
    run_name: String,
    array_rows: u64,
    array_cols: u64,
    dataflow: String,
    layers: Vec<LayerRow>,
    totals: Totals,
}

fn totals(cfg: &ArrayConfig, rows: &[LayerRow]) -> Totals {
    let sum = |f: fn(&LayerRow) -> u64| rows.iter().map(f).sum::<u64>();
    let total_cycles = sum(|r| r.total_cycles);
    let num_macs = sum(|r| r.num_macs);
    let pes = (cfg.array_rows * cfg.array_cols).max(1);
    Totals {
        cycles: sum(|r| r.cycles),
        total_cycles,
        stall_cycles: sum(|r| r.stall_cycles),
        utilization: if total_cycles == 0 {
            0.0
        } else {
            100.0 * num_macs as f64 / (total_cycles as f64 * pes as f64)
        },
        sram_ifmap_reads: sum(|r| r.sram_ifmap_reads),
        sram_filter_reads: sum(|r| r.sram_filter_reads),
        sram_ofmap_writes: sum(|r| r.sram_ofmap_writes),
        dram_ifmap_reads: sum(|r| r.dram_ifmap_reads),
        dram_filter_reads: sum(|r| r.dram_filter_reads),
        dram_ofmap_writes: sum(|r| r.dram_ofmap_writes),
        num_macs,
    }
}

pub fn main(a: &RunArgs) -> Result<()> {
    if !is_topology(&a.model) {
        bail!(
            "--hw `{}` is a SCALE-Sim config, so --model must be a SCALE-Sim topology .csv (got `{}`)",
            a.hw,
            a.model
        );
    }
    let w = &a.workload;
    for (flag, set) in [
        ("--batch", w.batch.is_some()),
        ("--seq", w.seq.is_some()),
        ("--context", w.context.is_some()),
        ("--precision", w.precision.is_some()),
        ("--phase", w.phase.is_some()),
    ] {
        if set {
            bail!(
                "{flag} does not apply to a SCALE-Sim run (`--hw {}`): SCALE-Sim layers have batch 1 \
                 and count words, not bytes; write the sizes into the topology instead",
                a.hw
            );
        }
    }
    let cfg = load_config(&a.hw).with_context(|| format!("SCALE-Sim config `{}`", a.hw))?;
    let layers =
        load_topology(&a.model).with_context(|| format!("SCALE-Sim topology `{}`", a.model))?;
    let rows: Vec<LayerRow> = layers
        .iter()
        .map(|l| LayerRow::from(&simulate_layer(&cfg, l)))
        .collect();
    let report = Report {
        topology: a.model.clone(),
        config: a.hw.clone(),
        run_name: cfg.run_name.clone(),
        array_rows: cfg.array_rows,
        array_cols: cfg.array_cols,
        dataflow: cfg.dataflow.to_string(),
        totals: totals(&cfg, &rows),
        layers: rows,
    };
    match a.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => print_csv(&report),
        Format::Table => print_table(&report),
    }
    Ok(())
}

const COLUMNS: [&str; 14] = [
    "layer",
    "cycles",
    "total_cycles",
    "stall_cycles",
    "utilization_%",
    "mapping_eff_%",
    "compute_util_%",
    "sram_ifmap_reads",
    "sram_filter_reads",
    "sram_ofmap_writes",
    "dram_ifmap_reads",
    "dram_filter_reads",
    "dram_ofmap_writes",
    "macs",
];

fn cells(r: &LayerRow) -> Vec<String> {
    vec![
        r.name.clone(),
        r.cycles.to_string(),
        r.total_cycles.to_string(),
        r.stall_cycles.to_string(),
        format!("{:.4}", r.utilization),
        format!("{:.4}", r.mapping_efficiency),
        format!("{:.4}", r.compute_util),
        r.sram_ifmap_reads.to_string(),
        r.sram_filter_reads.to_string(),
        r.sram_ofmap_writes.to_string(),
        r.dram_ifmap_reads.to_string(),
        r.dram_filter_reads.to_string(),
        r.dram_ofmap_writes.to_string(),
        r.num_macs.to_string(),
    ]
}

fn print_csv(r: &Report) {
    outln!("{}", COLUMNS.join(","));
    for l in &r.layers {
        let mut c = cells(l);
        c[0] = format::csv(&c[0]);
        outln!("{}", c.join(","));
    }
}

fn print_table(r: &Report) {
    outln!(
        "{} on {} ({}x{} {}, SCALE-Sim 3.0.0 conventions)",
        r.topology,
        r.run_name,
        r.array_rows,
        r.array_cols,
        r.dataflow
    );
    let mut t = format::table();
    t.set_header(COLUMNS);
    for l in &r.layers {
        t.add_row(cells(l));
    }
    let s = &r.totals;
    t.add_row(vec![
        "TOTAL".to_string(),
        s.cycles.to_string(),
        s.total_cycles.to_string(),
        s.stall_cycles.to_string(),
        format!("{:.4}", s.utilization),
        String::new(),
        String::new(),
        s.sram_ifmap_reads.to_string(),
        s.sram_filter_reads.to_string(),
        s.sram_ofmap_writes.to_string(),
        s.dram_ifmap_reads.to_string(),
        s.dram_filter_reads.to_string(),
        s.dram_ofmap_writes.to_string(),
        s.num_macs.to_string(),
    ]);
    outln!("{t}");
}
