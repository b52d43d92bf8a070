//! Names → things: a model name or file, a chip name or file, workload options → IR graph.

use anyhow::{bail, Context, Result};
use xpusim_hw::DeviceSpec;
use xpusim_ir::{Graph, Phase, Precision};

use crate::args::{PhaseArg, WorkloadArgs};

/// KV-cache length for decode when none is given: the 2048-token context used by the
/// project's examples and by most published decode benchmarks of Llama-2-class models.
pub const DEFAULT_CONTEXT: u64 = 2048;

pub fn device(name: &str) -> Result<DeviceSpec> {
    Ok(xpusim_hw::load_device(name)?)
}

pub fn phase(p: PhaseArg) -> Phase {
    match p {
        PhaseArg::Inference => Phase::Inference,
        PhaseArg::Prefill => Phase::Prefill,
        PhaseArg::Decode => Phase::Decode,
    }
}

pub fn precision(w: &WorkloadArgs, dev: &DeviceSpec) -> Result<Precision> {
    match &w.precision {
        Some(p) => Ok(Precision::parse(p, dev.natural_dtype)?),
        None => Ok(Precision::uniform(dev.natural_dtype)),
    }
}

fn positive(what: &str, v: Option<u64>) -> Result<Option<u64>> {
    if v == Some(0) {
        bail!("--{what} must be at least 1");
    }
    Ok(v)
}

/// Builds the graph of `model` (a zoo name or a file path) for one pass on `dev`.
pub fn graph(
    model: &str,
    w: &WorkloadArgs,
    phase_override: Option<Phase>,
    dev: &DeviceSpec,
) -> Result<Graph> {
    let p = precision(w, dev)?;
    let batch = positive("batch", w.batch)?;
    let seq = positive("seq", w.seq)?;
    let context = positive("context", w.context)?;
    if crate::scalesim::is_topology(model) {
        let layers = xpusim_systolic::load_topology(model)
            .with_context(|| format!("SCALE-Sim topology `{model}`"))?;
        return xpusim_npu::topology::topology_graph(model, &layers, p)
            .with_context(|| format!("SCALE-Sim topology `{model}`"));
    }
    if model.to_ascii_lowercase().ends_with(".onnx") {
        return onnx_graph(model, w, batch.or(seq).or(context).is_some(), p);
    }
    if is_hf_config(model) {
        return hf_graph(
            model,
            phase_override.or(w.phase.map(phase)),
            batch,
            seq,
            context,
            p,
        );
    }
    let info = xpusim_models::find(model);
    let Some(info) = info else {
        // Not a built-in name: let the zoo produce its "did you mean" error.
        let wl = xpusim_models::Workload {
            phase: Phase::Inference,
            batch: 1,
            seq_len: 1,
            context: 0,
            precision: p,
            image_size: None,
        };
        return xpusim_models::build(model, &wl).with_context(|| format!("model `{model}`"));
    };
    let phase = phase_override
        .or(w.phase.map(phase))
        .unwrap_or(info.phases[0]);
    let wl = xpusim_models::Workload {
        phase,
        batch: batch.unwrap_or(info.default_batch),
        seq_len: seq.unwrap_or(info.default_seq_len),
        context: context.unwrap_or(DEFAULT_CONTEXT),
        precision: p,
        image_size: None,
    };
    let g = if w.no_fusion {
        xpusim_models::build_unfused(info.name, &wl)
    } else {
        xpusim_models::build(info.name, &wl)
    };
    g.with_context(|| format!("model `{model}`"))
}

/// Default prompt length for Hugging Face models: the era suite's 2048-token prefill,
/// capped at the model's position table.
const HF_DEFAULT_SEQ: u64 = 2048;

fn onnx_graph(model: &str, w: &WorkloadArgs, sized: bool, p: Precision) -> Result<Graph> {
    if sized {
        bail!(
            "`{model}`: --batch, --seq and --context do not apply to ONNX files; bind its \
             symbolic dimensions with --dim NAME=VALUE or set inputs with --input NAME=1x3x224x224"
        );
    }
    let mut opts = xpusim_onnx::OnnxOptions {
        strict: w.strict,
        precision: w.precision.as_ref().map(|_| p),
        no_fusion: w.no_fusion,
        ..Default::default()
    };
    for d in &w.dims {
        opts.add_dim_arg(d).map_err(anyhow::Error::msg)?;
    }
    for i in &w.inputs {
        opts.add_input_arg(i).map_err(anyhow::Error::msg)?;
    }
    let imp = xpusim_onnx::import_file(std::path::Path::new(model), &opts)?;
    for warning in &imp.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(imp.graph)
}

/// A `config.json`, or a folder that holds one.
fn is_hf_config(model: &str) -> bool {
    let p = std::path::Path::new(model);
    model.to_ascii_lowercase().ends_with(".json") || (p.is_dir() && p.join("config.json").is_file())
}

fn hf_graph(
    model: &str,
    phase: Option<Phase>,
    batch: Option<u64>,
    seq: Option<u64>,
    context: Option<u64>,
    p: Precision,
) -> Result<Graph> {
    let path = std::path::Path::new(model);
    let m = xpusim_hf::load(path)?;
    let phase = phase.unwrap_or(m.config.phases()[0]);
    let seq = seq.unwrap_or(HF_DEFAULT_SEQ.min(m.max_positions.unwrap_or(HF_DEFAULT_SEQ)));
    let wl = xpusim_models::Workload {
        phase,
        batch: batch.unwrap_or(1),
        seq_len: seq,
        context: context.unwrap_or(DEFAULT_CONTEXT),
        precision: p,
        image_size: None,
    };
    m.config
        .build(&wl)
        .with_context(|| format!("Hugging Face config `{model}`"))
}
