use anyhow::Result;

use crate::args::{Format, ListArgs, ListWhat};
use crate::format;

pub fn main(a: &ListArgs) -> Result<()> {
    match a.what {
        ListWhat::Models => models(a.format),
        ListWhat::Hw => hw(a.format),
        ListWhat::Systems => crate::target_args::list(a.format),
        ListWhat::Pim => crate::attacc::list(a.format),
        ListWhat::Runtimes => runtimes(a.format),
    }
}

fn phases(p: &[xpusim_ir::Phase]) -> String {
    p.iter().map(|p| p.name()).collect::<Vec<_>>().join("/")
}

fn models(f: Format) -> Result<()> {
    let cat = xpusim_models::catalog();
    match f {
        Format::Json => {
            let v: Vec<_> = cat
                .iter()
                .map(|m| {
                    serde_json::json!({"name": m.name, "aliases": m.aliases, "era": m.era,
                        "phases": m.phases.iter().map(|p| p.name()).collect::<Vec<_>>(),
                        "description": m.description, "source": m.source})
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Csv => {
            outln!("name,era,phases,description,source");
            for m in cat {
                outln!(
                    "{},{},{},{},{}",
                    m.name,
                    m.era,
                    phases(m.phases),
                    format::csv(m.description),
                    format::csv(m.source)
                );
            }
        }
        Format::Table => {
            let mut t = format::table();
            t.set_header(["model", "era", "phases", "aliases", "description"]);
            for m in cat {
                t.add_row([
                    m.name.to_string(),
                    m.era.to_string(),
                    phases(m.phases),
                    m.aliases.join(", "),
                    m.description.to_string(),
                ]);
            }
            let hidden = format::narrow(&mut t, &["aliases"]);
            outln!("{t}");
            if let Some(h) = hidden {
                outln!("{h}");
            }
        }
    }
    Ok(())
}

fn hw(f: Format) -> Result<()> {
    let mut devs = Vec::new();
    for (file, src) in xpusim_hw::registry::DEVICES {
        devs.push(xpusim_hw::DeviceSpec::from_toml(file, src)?);
    }
    match f {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&devs)?),
        Format::Csv => {
            outln!("name,class,vendor,natural_dtype,peak_tflops,offchip_gbps,offchip_gb,tdp_w");
            for d in &devs {
                outln!(
                    "{},{:?},{},{},{},{},{},{}",
                    d.name,
                    d.class,
                    format::csv(&d.vendor),
                    d.natural_dtype,
                    d.matrix_flops(d.natural_dtype).0 / 1e12,
                    d.offchip().bandwidth_gbps,
                    d.offchip().capacity_bytes as f64 / 1e9,
                    d.power.tdp_w
                );
            }
        }
        Format::Table => {
            let mut t = format::table();
            t.set_header([
                "hw",
                "device",
                "class",
                "peak (natural)",
                "off-chip",
                "capacity",
                "TDP",
                "aliases",
            ]);
            for d in &devs {
                t.add_row([
                    d.name.clone(),
                    d.display_name.clone(),
                    format!("{:?}", d.class).to_lowercase(),
                    format!(
                        "{} {}",
                        format::si(d.matrix_flops(d.natural_dtype).0, "FLOP/s"),
                        d.natural_dtype
                    ),
                    format::si(d.offchip().bandwidth_gbps * 1e9, "B/s"),
                    format::si(d.offchip().capacity_bytes as f64, "B"),
                    format!("{} W", d.power.tdp_w),
                    d.aliases.join(", "),
                ]);
            }
            let hidden = format::narrow(&mut t, &["aliases"]);
            outln!("{t}");
            if let Some(h) = hidden {
                outln!("{h}");
            }
        }
    }
    Ok(())
}

fn runtimes(f: Format) -> Result<()> {
    let all = xpusim_hw::runtimes()?;
    let step = |r: &xpusim_hw::RuntimeSpec| {
        r.step.map_or("not modelled".to_string(), |s| {
            format!("{} µs + {} µs/seq", s.fixed_us, s.per_sequence_us)
        })
    };
    match f {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&all)?),
        Format::Csv => {
            outln!(
                "name,kernel_issue_us,graphs,graph_launch_us,step_fixed_us,step_per_sequence_us,fuse_training_pointwise,fuse_gemm_epilogues,decode_attention"
            );
            for r in &all {
                outln!(
                    "{},{},{},{},{},{},{},{},{}",
                    r.name,
                    r.kernel_issue_us.map_or(String::new(), |v| v.to_string()),
                    r.graphs.label(),
                    r.graph_launch_us.map_or(String::new(), |v| v.to_string()),
                    r.step.map_or(String::new(), |s| s.fixed_us.to_string()),
                    r.step
                        .map_or(String::new(), |s| s.per_sequence_us.to_string()),
                    r.fuse_training_pointwise,
                    r.fuse_gemm_epilogues,
                    r.decode_attention.label()
                );
            }
        }
        Format::Table => {
            let mut t = format::table();
            t.set_header([
                "runtime",
                "kernel issue",
                "CUDA graphs",
                "step host work",
                "training kernels",
                "inference GEMM epilogues",
                "decode attention",
                "aliases",
            ]);
            for r in &all {
                t.add_row([
                    r.name.clone(),
                    r.kernel_issue_us
                        .map_or("not modelled".to_string(), |v| format!("{v} µs")),
                    if r.kernel_issue_us.is_some() {
                        r.graphs.label()
                    } else {
                        "not modelled"
                    }
                    .to_string(),
                    step(r),
                    if r.fuse_training_pointwise {
                        "pointwise chains fused"
                    } else {
                        "one per op"
                    }
                    .to_string(),
                    if r.fuse_gemm_epilogues {
                        "pointwise ops fused"
                    } else {
                        "pointwise ops apart"
                    }
                    .to_string(),
                    r.decode_attention.label().to_string(),
                    r.aliases.join(", "),
                ]);
            }
            let hidden = format::narrow(&mut t, &["aliases"]);
            outln!("{t}");
            if let Some(h) = hidden {
                outln!("{h}");
            }
        }
    }
    Ok(())
}
