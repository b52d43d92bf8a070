use anyhow::{Context, Result};
use xpusim_engine::ModelCost;

use crate::args::{Format, RunArgs};
use crate::{format, resolve};

pub fn main(a: &RunArgs) -> Result<()> {
    let dev = resolve::device(&a.hw)?;
    let g = resolve::graph(&a.model, &a.workload, None, &dev)?;
    let mut cost = xpusim_engine::evaluate(&g, &dev)?;
    cost.precision = resolve::precision(&a.workload, &dev)?.name();
    if let Some(path) = &a.html {
        let cov = xpusim_engine::fallback::coverage(&g, &dev);
        let html = xpusim_report::model_report(&cost, &dev, &cov)?;
        std::fs::write(path, html).with_context(|| format!("{path}: cannot write"))?;
    }
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&cost)?),
        Format::Csv => print_csv(&cost),
        Format::Table => print_table(&cost, a.top),
    }
    if a.format == Format::Table && dev.support.is_some() {
        let cov = xpusim_engine::fallback::coverage(&g, &dev);
        let host: Vec<&str> = cov.host_ops_by_family.keys().map(String::as_str).collect();
        println!(
            "native coverage on {}: {:.1}% of FLOPs, {:.1}% of ops{}",
            dev.name,
            cov.native_flops_frac() * 100.0,
            cov.native_ops_frac() * 100.0,
            if host.is_empty() {
                String::new()
            } else {
                format!(" ({} run on the host over its link)", host.join(", "))
            }
        );
    }
    Ok(())
}

fn print_csv(c: &ModelCost) {
    println!("model,hardware,phase,precision,batch,op,kind,repeat,flops,macs,bytes,time_s,energy_j,bound");
    let head = format!(
        "{},{},{},{},{}",
        format::csv(&c.model),
        format::csv(&c.hardware),
        c.phase,
        c.precision,
        c.batch
    );
    for o in &c.ops {
        println!(
            "{head},{},{},{},{},{},{},{:e},{:e},{}",
            format::csv(&o.name),
            o.kind,
            o.repeat,
            o.flops,
            o.macs,
            o.bytes,
            o.time_s,
            o.energy_j,
            o.bound.label()
        );
    }
    println!(
        "{head},TOTAL,model,1,{},{},{},{:e},{:e},{}",
        c.flops,
        c.macs,
        c.ops.iter().map(|o| o.bytes).sum::<u64>(),
        c.latency_s,
        c.energy_j,
        c.bound.label()
    );
}

fn print_table(c: &ModelCost, top: usize) {
    println!(
        "{} on {} — {} {}, batch {}, {} tokens/sample",
        c.model, c.hardware, c.phase, c.precision, c.batch, c.tokens_per_sample
    );
    let mut t = format::table();
    t.set_header(["metric", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("latency", format::time(c.latency_s)),
        ("throughput", format::si(c.throughput_per_s, "samples/s")),
        ("tokens/s", format::si(c.tokens_per_s, "tok/s")),
        ("energy / pass", format::si(c.energy_j, "J")),
        ("energy / sample", format::si(c.energy_per_sample_j, "J")),
        ("average power", format::si(c.energy_j / c.latency_s, "W")),
        ("FLOPs", format::si(c.flops as f64, "FLOP")),
        (
            "params",
            format!(
                "{} ({} active)",
                format::si(c.params as f64, ""),
                format::si(c.active_params as f64, "")
            ),
        ),
        ("weights", format::si(c.weight_bytes as f64, "B")),
        ("KV cache", format::si(c.kv_cache_bytes as f64, "B")),
        (
            "achieved",
            format!(
                "{} of {} peak ({})",
                format::si(c.achieved_tflops * 1e12, "FLOP/s"),
                format::si(c.peak_tflops * 1e12, "FLOP/s"),
                format::pct(c.utilization)
            ),
        ),
        ("bound", c.bound.label()),
        (
            "memory",
            format!(
                "{} needed of {}{}",
                format::si(c.memory_required_bytes as f64, "B"),
                format::si(c.memory_capacity_bytes as f64, "B"),
                if c.fits_in_memory {
                    ""
                } else {
                    "  — DOES NOT FIT on one device"
                }
            ),
        ),
    ];
    for (k, v) in rows {
        t.add_row([k.to_string(), v]);
    }
    println!("{t}");

    let mut shares = format::table();
    shares.set_header(["time by bound", "time", "share"]);
    for (b, s) in &c.time_by_bound {
        shares.add_row([b.clone(), format::time(*s), format::pct(s / c.latency_s)]);
    }
    println!("{shares}");

    let mut ops: Vec<_> = c.ops.iter().collect();
    ops.sort_by(|a, b| b.time_s.total_cmp(&a.time_s));
    let mut t = format::table();
    t.set_header([
        "op", "kind", "×", "time", "share", "FLOPs", "bytes", "energy", "bound", "mapping",
    ]);
    for o in ops.iter().take(top) {
        t.add_row([
            o.name.clone(),
            o.kind.clone(),
            o.repeat.to_string(),
            format::time(o.time_s),
            format::pct(o.time_s / c.latency_s),
            format::si(o.flops as f64, ""),
            format::si(o.bytes as f64, "B"),
            format::si(o.energy_j, "J"),
            o.bound.label(),
            o.mapping.clone(),
        ]);
    }
    println!(
        "top {} of {} operators by time:\n{t}",
        top.min(ops.len()),
        ops.len()
    );
    if !c.unknown_ops.is_empty() {
        let list: Vec<String> = c
            .unknown_ops
            .iter()
            .map(|(n, k)| format!("{n} ×{k}"))
            .collect();
        println!(
            "unknown operators (costed as memory-bound): {}",
            list.join(", ")
        );
    }
}
