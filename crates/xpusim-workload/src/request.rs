//! A model and the workload options a user can give, resolved to a graph.

use std::path::Path;

use serde::Serialize;
use xpusim_ir::{DType, Graph, Phase, Precision, SeqDist};
use xpusim_models::{Positions, TransformerConfig};

use crate::WorkloadError;

/// KV-cache length for decode when none is given: the 2048-token context of the project's
/// examples and of most published decode benchmarks of Llama-2-class models.
pub const DEFAULT_CONTEXT: u64 = 2048;

/// Prompt length for Hugging Face models when none is given: the era suite's 2048-token
/// prefill, capped at the model's position table.
pub const HF_DEFAULT_SEQ: u64 = 2048;

/// A model (name or file) and the options of one pass of it. Unset options take the model's
/// defaults; the precision defaults to the target's natural 16-bit format.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Request {
    /// A zoo name or alias, or a path to an `.onnx` file, a `config.json` (or a folder
    /// holding one) or a SCALE-Sim topology `.csv`.
    pub model: String,
    pub phase: Option<Phase>,
    pub batch: Option<u64>,
    pub seq: Option<u64>,
    pub context: Option<u64>,
    /// `fp32|tf32|bf16|fp16|fp8|int8|int4|w8a16|w4a16[gN]`.
    pub precision: Option<String>,
    /// ONNX symbolic dimensions, `NAME=VALUE`.
    pub dims: Vec<String>,
    /// ONNX input shapes, `NAME=1x3x224x224`.
    pub inputs: Vec<String>,
    /// Unknown ONNX operators are errors instead of memory-bound placeholders.
    pub strict: bool,
    /// Every op its own kernel (no convolution epilogue fusion).
    pub no_fusion: bool,
    /// Attention as three kernels that write the scores to memory (QKᵀ, softmax, PV), as
    /// stacks ran it before FlashAttention ([`xpusim_ir::Graph::unfuse_attention`]).
    pub unfused_attention: bool,
    /// Sequence lengths of an unpadded pass (`--seq-dist`): every token-parallel op over
    /// the packed tokens, attention per length ([`xpusim_ir::Graph::pack_varlen`]). Sets
    /// the batch (its sequences) and replaces `seq`.
    pub seq_dist: Option<SeqDist>,
}

/// A resolved graph and what a frontend warned about on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub graph: Graph,
    pub warnings: Vec<String>,
    /// What the graph is costed in, when the model file decides it (an ONNX file without
    /// `--precision`: each op keeps its tensors' types, see [`dtype_label`]); `None` when
    /// the request's precision applies to every op.
    pub precision: Option<String>,
    /// One-line notes for the user that are not warnings (`--precision` overriding the
    /// file's own formats).
    pub notes: Vec<String>,
}

/// The format the ops of `g` compute in: one name (`fp32`), or, when they differ,
/// `mixed (int8 37 ops, fp32 280 ops)` with the most common first. Each IR op counts
/// once, whatever its repeat.
pub fn dtype_label(g: &Graph) -> String {
    let mut counts: std::collections::BTreeMap<DType, u64> = Default::default();
    for op in &g.ops {
        *counts.entry(op.compute_dtype).or_default() += 1;
    }
    let mut v: Vec<(DType, u64)> = counts.into_iter().collect();
    // Most common first; ties in the enum's order (widest first).
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    match v.as_slice() {
        [] => "none".to_string(),
        [(d, _)] => d.name().to_string(),
        _ => {
            let parts: Vec<String> = v
                .iter()
                .map(|(d, n)| format!("{} {n} ops", d.name()))
                .collect();
            format!("mixed ({})", parts.join(", "))
        }
    }
}

impl Request {
    pub fn new(model: &str) -> Request {
        Request {
            model: model.to_string(),
            ..Default::default()
        }
    }

    fn invalid(&self, msg: impl Into<String>) -> WorkloadError {
        WorkloadError::Invalid {
            model: self.model.clone(),
            msg: msg.into(),
        }
    }

    /// The precision asked for, `natural` (the target's 16-bit format) by default.
    pub fn precision(&self, natural: DType) -> Result<Precision, WorkloadError> {
        match &self.precision {
            Some(p) => Ok(Precision::parse(p, natural)?),
            None => Ok(Precision::uniform(natural)),
        }
    }

    fn positive(&self, what: &str, v: Option<u64>) -> Result<Option<u64>, WorkloadError> {
        if v == Some(0) {
            return Err(self.invalid(format!("{what} must be at least 1")));
        }
        Ok(v)
    }

    /// The graph of one pass on a target whose natural 16-bit format is `natural`.
    pub fn graph(&self, natural: DType) -> Result<Graph, WorkloadError> {
        self.resolve(natural).map(|r| r.graph)
    }

    /// [`Request::graph`] with the frontend's warnings (ONNX shape disagreements, …).
    pub fn resolve(&self, natural: DType) -> Result<Resolved, WorkloadError> {
        self.resolve_at(self.precision(natural)?)
    }

    /// The graph at an explicit precision (the request's own `precision` is not read).
    pub fn graph_at(&self, p: Precision) -> Result<Graph, WorkloadError> {
        self.resolve_at(p).map(|r| r.graph)
    }

    fn resolve_at(&self, p: Precision) -> Result<Resolved, WorkloadError> {
        let mut r = self.resolve_fused(p)?;
        if self.unfused_attention {
            r.graph.unfuse_attention()?;
        }
        Ok(r)
    }

    fn resolve_fused(&self, p: Precision) -> Result<Resolved, WorkloadError> {
        self.positive("batch", self.batch)?;
        self.positive("seq", self.seq)?;
        self.positive("context", self.context)?;
        if self.seq_dist.is_some() && (self.batch.is_some() || self.seq.is_some()) {
            return Err(self.invalid(
                "--seq-dist gives the batch (its counts) and the lengths; drop --batch and --seq",
            ));
        }
        let lower = self.model.to_ascii_lowercase();
        let graph = |g| Resolved {
            graph: g,
            warnings: Vec::new(),
            precision: None,
            notes: Vec::new(),
        };
        let fixed_shape = lower.ends_with(".csv") || lower.ends_with(".onnx");
        if self.seq_dist.is_some() && fixed_shape {
            return Err(self.invalid(
                "--seq-dist applies to built-in models and Hugging Face configs, whose \
                 sequence length is a parameter; an ONNX file or a topology fixes its shapes",
            ));
        }
        if lower.ends_with(".csv") {
            return self.topology(p).map(graph);
        }
        if lower.ends_with(".onnx") {
            return self.onnx(p);
        }
        if is_hf_config(&self.model) {
            return self.hf(p).map(graph);
        }
        self.zoo(p).map(graph)
    }

    fn zoo(&self, p: Precision) -> Result<Graph, WorkloadError> {
        let Some(info) = xpusim_models::find(&self.model) else {
            // Not a built-in name: the zoo's error has the "did you mean".
            let w = xpusim_models::Workload::new(Phase::Inference, 1, 1, 0).with_precision(p);
            return Ok(xpusim_models::build(&self.model, &w)?);
        };
        let w = xpusim_models::Workload {
            phase: self.phase.unwrap_or(info.phases[0]),
            batch: self.batch.unwrap_or(info.default_batch),
            seq_len: self.seq.unwrap_or(info.default_seq_len),
            context: self.context.unwrap_or_else(|| default_context(info.name)),
            precision: p,
            image_size: None,
        };
        let build = |w: &xpusim_models::Workload| -> Result<Graph, WorkloadError> {
            Ok(if self.no_fusion {
                xpusim_models::build_unfused(info.name, w)?
            } else {
                xpusim_models::build(info.name, w)?
            })
        };
        let max = match xpusim_models::zoo::transformer_config(info.name).map(|c| c.positions) {
            Some(Positions::Learned { max_positions }) => Some(max_positions),
            _ => None,
        };
        self.packed_or(&w, max, build)
    }

    /// `build(w)`, or with a sequence-length distribution the packed pass over it (each
    /// length within `max_len`, the model's learned positions, when it has them).
    fn packed_or(
        &self,
        w: &xpusim_models::Workload,
        max_len: Option<u64>,
        build: impl Fn(&xpusim_models::Workload) -> Result<Graph, WorkloadError>,
    ) -> Result<Graph, WorkloadError> {
        let Some(d) = &self.seq_dist else {
            return build(w);
        };
        if let Some(max) = max_len {
            d.check_max_len(max)?;
        }
        Graph::pack_varlen(d, |batch, seq_len| {
            build(&xpusim_models::Workload {
                batch,
                seq_len,
                ..*w
            })
        })
    }

    fn onnx(&self, p: Precision) -> Result<Resolved, WorkloadError> {
        if self.batch.or(self.seq).or(self.context).is_some() {
            return Err(self.invalid(
                "--batch, --seq and --context do not apply to ONNX files; bind its symbolic \
                 dimensions with --dim NAME=VALUE or set inputs with --input NAME=1x3x224x224",
            ));
        }
        let mut opts = xpusim_onnx::OnnxOptions {
            strict: self.strict,
            // Each tensor keeps its own ONNX type unless a precision was asked for.
            precision: self.precision.as_ref().map(|_| p),
            no_fusion: self.no_fusion,
            ..Default::default()
        };
        for d in &self.dims {
            opts.add_dim_arg(d).map_err(|m| self.invalid(m))?;
        }
        for i in &self.inputs {
            opts.add_input_arg(i).map_err(|m| self.invalid(m))?;
        }
        let imp = xpusim_onnx::import_file(Path::new(&self.model), &opts)?;
        let mut notes = Vec::new();
        let precision = match &self.precision {
            // The file decides: say what its ops were costed in, not the target's default.
            None => Some(dtype_label(&imp.graph)),
            Some(_) => {
                // Say what the override replaced: the file's own formats come from an import
                // without it (the importer applies the override as it builds each op).
                opts.precision = None;
                let own = xpusim_onnx::import_file(Path::new(&self.model), &opts)?;
                let file = dtype_label(&own.graph);
                if file != p.name() {
                    notes.push(format!(
                        "--precision {} overrides the file's {file}",
                        p.name()
                    ));
                }
                None
            }
        };
        Ok(Resolved {
            graph: imp.graph,
            warnings: imp.warnings,
            precision,
            notes,
        })
    }

    fn hf(&self, p: Precision) -> Result<Graph, WorkloadError> {
        let m = xpusim_hf::load(Path::new(&self.model))?;
        let seq = self
            .seq
            .unwrap_or(HF_DEFAULT_SEQ.min(m.max_positions.unwrap_or(HF_DEFAULT_SEQ)));
        let w = xpusim_models::Workload {
            phase: self.phase.unwrap_or(m.config.phases()[0]),
            batch: self.batch.unwrap_or(1),
            seq_len: seq,
            context: self.context.unwrap_or(DEFAULT_CONTEXT),
            precision: p,
            image_size: None,
        };
        self.packed_or(&w, m.max_positions, |w| Ok(m.config.build(w)?))
    }

    fn topology(&self, p: Precision) -> Result<Graph, WorkloadError> {
        let err = |msg: String| WorkloadError::Topology {
            model: self.model.clone(),
            msg,
        };
        let layers = xpusim_scalesim::load_topology(&self.model).map_err(|e| err(e.to_string()))?;
        Ok(xpusim_scalesim::topology_graph(&self.model, &layers, p)?)
    }
}

/// A `config.json`, or a folder that holds one.
fn is_hf_config(model: &str) -> bool {
    let p = Path::new(model);
    model.to_ascii_lowercase().ends_with(".json") || (p.is_dir() && p.join("config.json").is_file())
}

/// [`DEFAULT_CONTEXT`], inside the window of a zoo model with learned positions (the new
/// token is position `context`, so GPT-3's 2048 positions allow a 2047-token context).
pub fn default_context(model: &str) -> u64 {
    match xpusim_models::zoo::transformer_config(model).map(|c| c.positions) {
        Some(Positions::Learned { max_positions }) => {
            DEFAULT_CONTEXT.min(max_positions.saturating_sub(1)).max(1)
        }
        _ => DEFAULT_CONTEXT,
    }
}

/// A built-in decoder name (or alias), or a path to a Hugging Face `config.json` (or a folder
/// holding one): the description serving builds its steps from.
pub fn load_decoder(name_or_path: &str) -> Result<TransformerConfig, WorkloadError> {
    let err = |msg: String| WorkloadError::Invalid {
        model: name_or_path.to_string(),
        msg,
    };
    let cfg = match xpusim_models::find(name_or_path) {
        Some(info) => xpusim_models::zoo::transformer_config(info.name)
            .ok_or_else(|| err(format!("is a {} model, not a decoder", info.era)))?,
        None if Path::new(name_or_path).exists() => {
            xpusim_hf::load(Path::new(name_or_path))?.config
        }
        None => {
            let s = xpusim_models::suggestions(name_or_path);
            return Err(err(if s.is_empty() {
                "is neither a built-in model nor a config.json path".into()
            } else {
                format!(
                    "is neither a built-in model nor a config.json path; did you mean {}?",
                    s.join(", ")
                )
            }));
        }
    };
    if !cfg.phases().contains(&Phase::Decode) {
        return Err(err(
            "is not a decoder; serving needs prefill and decode".into()
        ));
    }
    Ok(cfg)
}
