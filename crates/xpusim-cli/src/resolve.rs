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
    xpusim_models::build(info.name, &wl).with_context(|| format!("model `{model}`"))
}
