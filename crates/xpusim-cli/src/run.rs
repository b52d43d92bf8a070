//! `xpusim run`: one model on one target (a device, or a system with or without PIM), with
//! the per-operator breakdown. Every target prints the same report; a system adds its
//! layout, communication and per-device memory, PIM its placement and link.

use anyhow::{bail, Context, Result};
use xpusim_target::{Layout, ModelCost};

use crate::args::{Format, RunArgs};
use crate::{format, resolve, target_args};

pub fn main(a: &RunArgs) -> Result<()> {
    let t = target_args::target(&a.hw, &a.target)?;
    // A pipeline's graph is ONE micro-batch.
    let m = a.target.microbatches();
    let mut w = a.workload.clone();
    if m > 1 && w.seq_dist.is_some() {
        bail!("--seq-dist gives one packed pass; it does not split into --microbatches {m}");
    }
    if m > 1 {
        let batch = w
            .batch
            .or_else(|| xpusim_models::find(&a.model).map(|i| i.default_batch))
            .unwrap_or(1);
        if !batch.is_multiple_of(m) {
            bail!("--batch {batch} does not split into --microbatches {m}");
        }
        w.batch = Some(batch / m);
    }
    let natural = t.natural_dtype();
    let (g, label) = resolve::graph_labelled(&a.model, &w, None, natural)?;
    let mut cost = xpusim_target::evaluate(&g, &t)
        .with_context(|| format!("`{}` on {}", a.model, t.name()))?;
    // A layout the user chose must fit; a single device reports what it would need.
    if matches!(t.layout, Layout::Fixed(_)) || (t.system_spec().is_some() && !cost.fits_in_memory) {
        cost.check_fits()
            .with_context(|| format!("`{}` on {}", a.model, t.name()))?;
    }
    cost.precision = label;
    if let Some(path) = &a.html {
        let cov = xpusim_engine::fallback::coverage(&g, t.device_spec());
        let html = xpusim_report::model_report(&cost, t.device_spec(), &cov)?;
        xpusim_ir::memfs::write(std::path::Path::new(path), &html)
            .with_context(|| format!("{path}: cannot write"))?;
    }
    match a.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&cost)?),
        Format::Csv => print_csv(&cost),
        Format::Table => print_table(&cost, a.top),
    }
    let dev = t.device_spec();
    if a.format == Format::Table && dev.support.is_some() {
        let cov = xpusim_engine::fallback::coverage(&g, dev);
        let host: Vec<&str> = cov.host_ops_by_family.keys().map(String::as_str).collect();
        outln!(
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
    outln!("model,hardware,phase,precision,batch,op,kind,role,placement,repeat,flops,macs,bytes,time_s,energy_j,bound,pim_fraction");
    let head = format!(
        "{},{},{},{},{}",
        format::csv(&c.model),
        format::csv(&c.hardware),
        c.phase,
        format::csv(&c.precision),
        c.batch
    );
    for o in &c.ops {
        outln!(
            "{head},{},{},{},{},{},{},{},{},{:e},{:e},{},{}",
            format::csv(&o.name),
            o.kind,
            o.role.label(),
            o.placement.as_deref().unwrap_or(""),
            o.repeat,
            o.flops,
            o.macs,
            o.bytes,
            o.time_s,
            o.energy_j,
            o.bound.label(),
            o.pim_fraction.map(|f| f.to_string()).unwrap_or_default()
        );
    }
    outln!(
        "{head},TOTAL,model,,,1,{},{},{},{:e},{:e},{},",
        c.flops,
        c.macs,
        c.ops.iter().map(|o| o.bytes).sum::<u64>(),
        c.latency_s,
        c.energy_j,
        c.bound.label()
    );
}

fn print_table(c: &ModelCost, top: usize) {
    let on = match &c.system {
        Some(s) => format!(
            "{} ({} × {}, {})",
            c.hardware, s.count, c.device, s.parallelism
        ),
        None => c.hardware.clone(),
    };
    let per_replica = if c.system.is_some() {
        " per replica"
    } else {
        ""
    };
    let tokens = match &c.seq_dist {
        Some(d) => format!(", {:.1} tokens/sample on average, unpadded", d.mean_len),
        None if matches!(c.phase.as_str(), "prefill" | "decode") || c.tokens_per_sample > 1 => {
            format!(", {} tokens/sample", c.tokens_per_sample)
        }
        None => String::new(),
    };
    outln!(
        "{} on {on} — {} {}, batch {}{per_replica}{tokens}; priced by {}",
        c.model,
        c.phase,
        c.precision,
        c.batch,
        c.cost_model
    );
    let b = |v: u64| format::si(v as f64, "B");
    let mut rows: Vec<(&str, String)> = vec![
        ("latency", format::time(c.latency_s)),
        ("throughput", format::si(c.throughput_per_s, "samples/s")),
        ("energy / pass", format::si(c.energy_j, "J")),
        ("energy / sample", format::si(c.energy_per_sample_j, "J")),
        (
            "average power",
            format::si(
                c.energy_j / c.latency_s / c.devices.max(1) as f64,
                "W per device",
            ),
        ),
        ("FLOPs", format::si(c.flops as f64, "FLOP")),
        (
            "params",
            format!(
                "{} ({} active)",
                format::si(c.params as f64, ""),
                format::si(c.active_params as f64, "")
            ),
        ),
        ("weights", b(c.weight_bytes)),
        ("KV cache", b(c.kv_cache_bytes)),
        (
            "achieved",
            format!(
                "{} of {} peak ({} of peak FLOPs)",
                format::si(c.achieved_tflops * 1e12, "FLOP/s"),
                format::si(c.peak_tflops * 1e12, "FLOP/s"),
                format::pct(c.utilization)
            ),
        ),
        ("bound", c.bound.label()),
    ];
    if let Some(d) = &c.seq_dist {
        rows.push((
            "sequence lengths",
            format!(
                "{} sequences up to {}: {} tokens packed, {} padded ({} of the padded tokens not computed)",
                d.sequences,
                d.max_len,
                d.packed_tokens,
                d.padded_tokens,
                format::pct(d.padding_saved)
            ),
        ));
    }
    // Tokens only mean something for sequence models (a ResNet image is no token).
    if matches!(c.phase.as_str(), "prefill" | "decode") || c.tokens_per_sample > 1 {
        rows.insert(2, ("tokens/s", format::si(c.tokens_per_s, "tok/s")));
    }
    let fit = if c.fits_in_memory {
        ""
    } else {
        "  — DOES NOT FIT"
    };
    match &c.system {
        Some(s) => {
            rows.push(("busiest stage", format::time(s.stage_time_s)));
            rows.push(("pipeline bubble", format::pct(s.bubble_fraction)));
            rows.push(("compute (per device)", format::time(s.compute_s)));
            rows.push(("communication (exposed)", format::time(s.communication_s)));
            rows.push((
                "communication (hidden)",
                format::time(s.hidden_communication_s),
            ));
            rows.push((
                "memory / device",
                format!(
                    "{} of {} (weights {}, KV {}, activations {}){fit}",
                    b(c.memory_required_bytes),
                    b(c.memory_capacity_bytes),
                    b(s.weights_per_device_bytes),
                    b(s.kv_cache_per_device_bytes),
                    b(s.activations_per_device_bytes)
                ),
            ));
            if let Some(p) = s.usd_per_million_tokens {
                rows.push(("$ / 1M tokens (rental)", format!("{p:.3}")));
            }
        }
        None => rows.push((
            "memory",
            format!(
                "{} needed of {}{}",
                b(c.memory_required_bytes),
                b(c.memory_capacity_bytes),
                if c.fits_in_memory {
                    ""
                } else {
                    "  — DOES NOT FIT on one device"
                }
            ),
        )),
    }
    if let Some(p) = &c.pim {
        rows.push(("PIM", format!("{}, placement {}", p.memory, p.placement)));
        rows.push(("host / PIM / link time", {
            format!(
                "{} / {} / {}",
                format::time(p.host_s),
                format::time(p.pim_s),
                format::time(p.link_s)
            )
        }));
        rows.push(("hidden by head pipelining", format::time(p.overlap_s)));
        rows.push((
            "PIM memory / device",
            format!("{} of {}", b(p.pim_bytes), b(p.pim_capacity_bytes)),
        ));
    }
    let mut t = format::table();
    t.set_header(["metric", "value"]);
    for (k, v) in rows {
        t.add_row([k.to_string(), v]);
    }
    outln!("{t}");

    outln!("{}", format::energy_table(&c.energy_breakdown, c.energy_j));

    let mut shares = format::table();
    shares.set_header(["time by bound", "time", "share"]);
    let busy: f64 = c.time_by_bound.values().sum();
    for (b, s) in &c.time_by_bound {
        shares.add_row([
            b.clone(),
            format::time(*s),
            format::pct(s / busy.max(1e-30)),
        ]);
    }
    outln!("{shares}");

    let mut ops: Vec<_> = c.ops.iter().collect();
    ops.sort_by(|a, b| b.time_s.total_cmp(&a.time_s));
    let placed = c.system.is_some();
    let pim = c.pim.is_some();
    let mut header = vec![
        "op", "kind", "×", "time", "share", "FLOPs", "bytes", "energy", "bound",
    ];
    if placed {
        header.insert(2, "placement");
    }
    if pim {
        header.push("on");
    }
    header.push("mapping");
    let mut t = format::table();
    t.set_header(header);
    for o in ops.iter().take(top) {
        let mut r = vec![
            o.name.clone(),
            o.kind.clone(),
            o.repeat.to_string(),
            format::time(o.time_s),
            format::pct(o.time_s / c.latency_s),
            format::si(o.flops as f64, ""),
            format::si(o.bytes as f64, "B"),
            format::si(o.energy_j, "J"),
            o.bound.label(),
        ];
        if placed {
            r.insert(2, o.placement.clone().unwrap_or_default());
        }
        if pim {
            r.push(match o.pim_fraction {
                Some(f) if f >= 1.0 => "PIM".into(),
                Some(f) if f > 0.0 => format!("split {:.0}% PIM", f * 100.0),
                _ => "host".into(),
            });
        }
        r.push(o.mapping.clone());
        t.add_row(r);
    }
    let hidden = format::narrow(&mut t, &["kind", "mapping"]);
    let scope = if placed { " (one device)" } else { "" };
    outln!(
        "top {} of {} operators by time{scope}:\n{t}{}",
        top.min(ops.len()),
        ops.len(),
        hidden.map(|h| format!("\n{h}")).unwrap_or_default()
    );
    if !c.unknown_ops.is_empty() {
        let list: Vec<String> = c
            .unknown_ops
            .iter()
            .map(|(n, k)| format!("{n} ×{k}"))
            .collect();
        outln!(
            "unknown operators (costed as memory-bound): {}",
            list.join(", ")
        );
    }
}
