//! The command line's workload options → the one resolver (`xpusim-workload`).

use anyhow::{Context, Result};
use xpusim_ir::{DType, Graph, Phase, Precision, SeqDist};
use xpusim_workload::Request;

use crate::args::{PhaseArg, WorkloadArgs};

pub fn phase(p: PhaseArg) -> Phase {
    match p {
        PhaseArg::Inference => Phase::Inference,
        PhaseArg::Prefill => Phase::Prefill,
        PhaseArg::Decode => Phase::Decode,
    }
}

/// The request for `model` with `w`'s options; `phase` and `batch` (a suite's) apply where
/// the user gave none.
pub fn request(model: &str, w: &WorkloadArgs, phase_default: Option<Phase>) -> Result<Request> {
    let seq_dist = match &w.seq_dist {
        Some(s) => Some(SeqDist::from_arg(s).context("--seq-dist")?),
        None => None,
    };
    Ok(Request {
        model: model.to_string(),
        phase: w.phase.map(phase).or(phase_default),
        batch: w.batch,
        seq: w.seq,
        context: w.context,
        precision: w.precision.clone(),
        dims: w.dims.clone(),
        inputs: w.inputs.clone(),
        strict: w.strict,
        no_fusion: w.no_fusion,
        unfused_attention: w.unfused_attention,
        seq_dist,
    })
}

/// The precision `w` asks for, `natural` (the target's 16-bit format) by default.
pub fn precision(w: &WorkloadArgs, natural: DType) -> Result<Precision> {
    let r = Request {
        precision: w.precision.clone(),
        ..Request::default()
    };
    Ok(r.precision(natural)?)
}

/// Builds the graph of `model` (a zoo name or a file path) for one pass on a target whose
/// natural 16-bit format is `natural`; frontend warnings go to stderr.
pub fn graph(
    model: &str,
    w: &WorkloadArgs,
    phase_override: Option<Phase>,
    natural: DType,
) -> Result<Graph> {
    Ok(graph_labelled(model, w, phase_override, natural)?.0)
}

/// [`graph`] and the precision label a report shows: what the ops were costed in when the
/// file decides (an ONNX file without `--precision`, e.g. `fp32` or `mixed (int8 37 ops,
/// fp32 280 ops)`), else the requested precision's name. Notes (`--precision` overriding
/// the file's formats) go to stderr.
pub fn graph_labelled(
    model: &str,
    w: &WorkloadArgs,
    phase_override: Option<Phase>,
    natural: DType,
) -> Result<(Graph, String)> {
    let mut r = request(model, w, None)?;
    if phase_override.is_some() {
        r.phase = phase_override;
    }
    let resolved = r
        .resolve(natural)
        .with_context(|| format!("model `{model}`"))?;
    for warning in &resolved.warnings {
        warnln!("warning: {warning}");
    }
    for note in &resolved.notes {
        warnln!("note: {note}");
    }
    let label = match resolved.precision {
        Some(l) => l,
        None => precision(w, natural)?.name(),
    };
    Ok((resolved.graph, label))
}
