//! `xpusim run --model M --mapper npu --arch A --objective latency|energy|edp`: the NPU
//! mapping search of `xpusim-npu` on every contraction of the model, printing the chosen
//! mapping per op (dataflow, array rows/cols/time dims, core split, tiles and loop orders
//! per level) with its cycles and energy. Ops without contractions are listed as unmapped.
//! `A` is a device (preset name or device TOML path) with an `[array]` section.

use anyhow::{Context, Result};
use clap::ValueEnum;
use xpusim_npu::{GraphMapping, NpuArch, Objective};

use crate::args::{Format, RunArgs};
use crate::format;

/// Which mapper `run --mapper` uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum MapperKind {
    /// Per-op mapping search over a device with an `[array]` section (`--arch`).
    Npu,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    Latency,
    Energy,
    #[default]
    Edp,
}

pub fn main(a: &RunArgs) -> Result<()> {
    // --hw is the device everywhere else; --arch stays as its older spelling here.
    let hw = Some(a.hw.as_str()).filter(|h| !h.is_empty());
    let name = match (a.arch.as_deref(), hw) {
        (Some(x), Some(h)) if x != h => anyhow::bail!(
            "--arch `{x}` and --hw `{h}` name different devices; give one (--hw is enough)"
        ),
        (Some(x), _) => x,
        (None, Some(h)) => h,
        (None, None) => anyhow::bail!(
            "--mapper npu needs --hw: a device with an [array] section ({}) or a device TOML path",
            xpusim_npu::array_devices().join(", ")
        ),
    };
    // One description: the device file gives the graph its natural format and the mapper
    // its view (cores x arrays, memory levels, per-action energy).
    let (dev, arch) = xpusim_npu::resolve(name)?;
    let g = crate::resolve::graph(&a.model, &a.workload, None, dev.natural_dtype)?;
    let obj = match a.objective {
        ObjectiveArg::Latency => Objective::Latency,
        ObjectiveArg::Energy => Objective::Energy,
        ObjectiveArg::Edp => Objective::Edp,
    };
    let ctx = || format!("mapping `{}` onto `{}`", a.model, arch.name);
    let m = xpusim_npu::map_graph(&g, &arch, obj).with_context(ctx)?;
    let pipe = xpusim_npu::map_pipelined(&g, &arch, obj).with_context(ctx)?;
    let area = arch.area(
        g.ops
            .first()
            .map_or(xpusim_ir::DType::Bf16, |o| o.compute_dtype),
    );
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "arch": arch.name,
                "objective": m.objective,
                "layer_by_layer": &m,
                "pipelined": {
                    "stages": pipe.stages,
                    "interval_cycles": pipe.interval_cycles,
                    "fill_latency_cycles": pipe.fill_latency_cycles,
                    "samples_per_s": pipe.samples_per_s,
                    "energy_per_sample_j": pipe.energy_per_sample_j,
                },
                "area_mm2": area,
                "leakage_w": arch.leakage_w(),
            });
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => print_csv(&m),
        Format::Table => {
            print_table(&m, &arch, &g.name, a.top);
            outln!(
                "layer-pipelined over {} cores: {} stages, {} cycles per sample in steady state \
                 ({:.1} samples/s), {} cycles for the first, {} per sample",
                arch.cores,
                pipe.stages.len(),
                pipe.interval_cycles,
                pipe.samples_per_s,
                pipe.fill_latency_cycles,
                format::si(pipe.energy_per_sample_j, "J")
            );
            let parts: Vec<String> = area
                .components
                .iter()
                .map(|(n, mm2)| format!("{n} {mm2:.2}"))
                .collect();
            outln!(
                "area (mm²): {} — chip {:.1}; leakage {}",
                parts.join(", "),
                area.chip_mm2,
                format::si(arch.leakage_w(), "W")
            );
        }
    }
    Ok(())
}

fn tiles(o: &xpusim_npu::OpMapping) -> String {
    o.levels
        .iter()
        .map(|l| {
            format!(
                "{}: G{} P{} W{} N{} [{}]",
                l.level,
                l.tile[0],
                l.tile[1],
                l.tile[2],
                l.tile[3],
                l.order.join(">")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_csv(m: &GraphMapping) {
    outln!("op,repeat,dataflow,rows,cols,time,core_split,tiles,macs,cycles,utilization,energy_pj");
    for o in &m.ops {
        outln!(
            "{},{},{},{},{},{},{},{},{},{},{:.4},{:e}",
            format::csv(&o.op),
            o.repeat,
            o.dataflow.name(),
            format::csv(&o.rows),
            format::csv(&o.cols),
            format::csv(&o.time),
            format::csv(&o.core_split),
            format::csv(&tiles(o)),
            o.macs,
            o.latency_cycles,
            o.utilization,
            o.energy.total_pj
        );
    }
}

/// The header line, then the `top` ops that take the most cycles (all of them are in the
/// CSV and JSON).
fn print_table(m: &GraphMapping, arch: &NpuArch, model: &str, top: usize) {
    outln!(
        "{model} on {} — objective {:?}: latency {} ({} cycles, layer by layer), energy {}",
        arch.display_name,
        m.objective,
        format::time(m.latency_s),
        m.latency_cycles,
        format::si(m.energy_j, "J")
    );
    let mut t = format::table();
    t.set_header([
        "op",
        "×",
        "dataflow",
        "rows",
        "cols",
        "time",
        "cores split",
        "tiles [loop order]",
        "cycles",
        "util",
        "energy",
    ]);
    let mut ops: Vec<&xpusim_npu::OpMapping> = m.ops.iter().collect();
    ops.sort_by_key(|o| std::cmp::Reverse(o.latency_cycles.saturating_mul(o.repeat)));
    for o in ops.iter().take(top) {
        t.add_row([
            o.op.clone(),
            o.repeat.to_string(),
            o.dataflow.name().to_string(),
            o.rows.clone(),
            o.cols.clone(),
            o.time.clone(),
            o.core_split.clone(),
            tiles(o),
            o.latency_cycles.to_string(),
            format::pct(o.utilization),
            format::si(o.energy.total_pj * 1e-12, "J"),
        ]);
    }
    outln!("{t}");
    if ops.len() > top {
        outln!(
            "{} more mapped ops not shown (--top {} shows more; --format csv lists all)",
            ops.len() - top,
            ops.len()
        );
    }
    if !m.unmapped.is_empty() {
        outln!(
            "not mapped (no contraction; vector work): {} ops",
            m.unmapped.len()
        );
    }
}
