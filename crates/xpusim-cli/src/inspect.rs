//! `xpusim inspect MODEL`: what a model holds before it is run. ONNX files are read from
//! their metadata (inputs, symbolic dims and the flags that bind them, operators by kind,
//! data types); Hugging Face configs show the architecture the importer maps; every model
//! that builds at its defaults also shows its IR summary (ops by family, parameters,
//! FLOPs, formats) — the numbers `run` starts from.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;
use xpusim_ir::{DType, Graph};

use crate::args::{Format, WorkloadArgs};
use crate::{format, resolve};

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Built-in model name or a model file (.onnx, Hugging Face config.json, SCALE-Sim
    /// topology .csv).
    pub model: String,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The IR at the model's default workload (or the one given).
#[derive(serde::Serialize)]
struct IrSummary {
    ops_by_family: BTreeMap<String, u64>,
    compute_dtypes: BTreeMap<String, u64>,
    params: u64,
    weight_bytes: u64,
    flops: u64,
    unknown_ops: Vec<(String, u64)>,
    /// With `--seq-dist`: the distribution packed into the pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq_dist: Option<xpusim_ir::SeqDistSummary>,
}

fn ir_summary(g: &Graph) -> IrSummary {
    let mut fam: BTreeMap<String, u64> = BTreeMap::new();
    let mut dt: BTreeMap<String, u64> = BTreeMap::new();
    for op in &g.ops {
        *fam.entry(op.kind.family().to_string()).or_default() += op.repeat;
        *dt.entry(op.compute_dtype.name().to_string()).or_default() += op.repeat;
    }
    let t = g.totals();
    IrSummary {
        ops_by_family: fam,
        compute_dtypes: dt,
        params: t.params,
        weight_bytes: t.weight_bytes,
        flops: t.flops,
        unknown_ops: g.unknown_ops(),
        seq_dist: g.seq_dist.clone(),
    }
}

pub fn main(a: &InspectArgs) -> Result<()> {
    let lower = a.model.to_ascii_lowercase();
    let onnx = if lower.ends_with(".onnx") {
        let bytes = std::fs::read(Path::new(&a.model))
            .with_context(|| format!("{}: cannot read", a.model))?;
        Some(xpusim_onnx::inspect_bytes(&a.model, &bytes)?)
    } else {
        None
    };
    let hf = if lower.ends_with(".json") || Path::new(&a.model).is_dir() {
        Some(xpusim_hf::load(Path::new(&a.model))?)
    } else {
        None
    };
    // The IR at the defaults; an ONNX file's free dims are bound to 1 for it unless the
    // user bound them (its summary says so).
    let natural = DType::Bf16;
    let mut w = a.workload.clone();
    let mut bound_to_one = Vec::new();
    if let Some(m) = &onnx {
        for d in &m.symbolic_dims {
            if !w
                .dims
                .iter()
                .any(|x| x.split('=').next() == Some(d.as_str()))
            {
                w.dims.push(format!("{d}=1"));
                bound_to_one.push(d.clone());
            }
        }
    }
    let ir = resolve::graph(&a.model, &w, None, natural).map(|g| ir_summary(&g));
    let ir_note = match &ir {
        Ok(_) => None,
        Err(e) => Some(format!("{e:#}")),
    };
    let ir = ir.ok();
    if onnx.is_none() && hf.is_none() && ir.is_none() {
        // A zoo name or topology that does not build: that error is the answer.
        anyhow::bail!("{}", ir_note.unwrap_or_default());
    }
    match a.format {
        Format::Json | Format::Csv => {
            let v = serde_json::json!({
                "model": a.model,
                "onnx": onnx,
                "hugging_face": hf.as_ref().map(|h| serde_json::json!({
                    "model_type": h.model_type,
                    "name": h.config.name,
                    "layers": h.config.layers,
                    "hidden": h.config.hidden,
                    "heads": h.config.heads,
                    "kv_heads": h.config.kv_heads,
                    "head_dim": h.config.head_dim,
                    "intermediate": h.config.intermediate,
                    "vocab": h.config.vocab,
                    "torch_dtype": h.torch_dtype,
                    "precision": h.precision,
                    "max_positions": h.max_positions,
                })),
                "ir": ir,
                "ir_dims_bound_to_1": bound_to_one,
                "ir_not_built": ir_note,
            });
            outln!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Table => {
            if let Some(m) = &onnx {
                print_onnx(m);
            }
            if let Some(h) = &hf {
                let c = &h.config;
                outln!(
                    "{} ({}, {}): {} layers, hidden {}, {} heads ({} KV, head dim {}), FFN {}, \
                     vocab {}; stored as {}; context up to {}",
                    c.name,
                    h.model_type,
                    h.file,
                    c.layers,
                    c.hidden,
                    c.heads,
                    c.kv_heads,
                    c.head_dim,
                    c.intermediate,
                    c.vocab,
                    h.torch_dtype.as_deref().unwrap_or("an unstated type"),
                    h.max_positions
                        .map_or("an unstated length".into(), |p| p.to_string())
                );
                outln!("bind with: --phase prefill --batch N --seq N, or --phase decode --batch N --context N");
            }
            if !bound_to_one.is_empty() && ir.is_some() {
                outln!(
                    "(for the summary below: {} = 1)",
                    bound_to_one.join(" = 1, ")
                );
            }
            match (&ir, &ir_note) {
                (Some(s), _) => print_ir(&a.model, s),
                (None, Some(why)) => outln!(
                    "{}",
                    format::wrap(&format!("not built at its defaults: {why}"))
                ),
                _ => {}
            }
        }
    }
    Ok(())
}

fn print_onnx(m: &xpusim_onnx::ModelInfo) {
    let opsets: Vec<String> = m.opsets.iter().map(|(d, v)| format!("{d} {v}")).collect();
    outln!(
        "{} — {}{}; opsets {}",
        m.file,
        if m.producer.is_empty() {
            "unknown producer"
        } else {
            &m.producer
        },
        if m.quantized {
            "; quantized (QDQ or integer ops)"
        } else {
            ""
        },
        opsets.join(", ")
    );
    let mut t = format::table();
    t.set_header(["input", "type", "shape"]);
    let shape = |s: &Option<Vec<xpusim_onnx::inspect::Dim>>| match s {
        None => "(no shape declared)".to_string(),
        Some(d) => {
            let parts: Vec<String> = d
                .iter()
                .map(|x| match x {
                    xpusim_onnx::inspect::Dim::Fixed(v) => v.to_string(),
                    xpusim_onnx::inspect::Dim::Symbolic(p) => p.clone(),
                    xpusim_onnx::inspect::Dim::Unknown => "?".into(),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
    };
    for i in &m.inputs {
        t.add_row([i.name.clone(), i.dtype.clone(), shape(&i.shape)]);
    }
    outln!("{t}");
    if m.bind.is_empty() {
        outln!("every input shape is fixed: nothing to bind");
    } else {
        outln!("bind with: {}", m.bind.join(" "));
    }
    let mut ops: Vec<(&String, &usize)> = m.ops.iter().collect();
    ops.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let list: Vec<String> = ops.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    outln!(
        "{}",
        format::wrap(&format!("{} nodes: {}", m.nodes, list.join(", ")))
    );
    let w: Vec<String> = m
        .weights_by_dtype
        .iter()
        .map(|(d, (n, e))| {
            let e = if *e < 1000 {
                e.to_string()
            } else {
                format::si(*e as f64, "")
            };
            format!("{d}: {n} tensors, {e} elements")
        })
        .collect();
    if !w.is_empty() {
        outln!("weights: {}", w.join("; "));
    }
}

fn print_ir(model: &str, s: &IrSummary) {
    let fam: Vec<String> = s
        .ops_by_family
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    let dt: Vec<String> = s
        .compute_dtypes
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    outln!(
        "{}",
        format::wrap(&format!(
            "{model} as xpusim costs it (default workload unless given): {} parameters \
             ({}), {} per pass; ops {}; compute formats {}",
            format::si(s.params as f64, ""),
            format::si(s.weight_bytes as f64, "B"),
            format::si(s.flops as f64, "FLOP"),
            fam.join(", "),
            dt.join(", ")
        ))
    );
    if let Some(d) = &s.seq_dist {
        outln!(
            "{}",
            format::wrap(&format!(
                "unpadded over {} sequences ({}): {} tokens packed, {} padded to {}",
                d.sequences, d.bins, d.packed_tokens, d.padded_tokens, d.max_len
            ))
        );
    }
    if !s.unknown_ops.is_empty() {
        let u: Vec<String> = s
            .unknown_ops
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        outln!(
            "no cost rule (costed as memory-bound placeholders): {}",
            u.join(", ")
        );
    }
}
