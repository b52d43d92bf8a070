//! A runtime profile: what a software stack adds around the kernels a device runs — the host
//! time to issue each kernel, whether a pass is replayed from a captured CUDA graph, and the
//! host work of each engine step (scheduling, input preparation, sampling, output
//! processing). TOML (`deny_unknown_fields`), embedded presets in `runtimes/`, chosen per
//! command with `--runtime NAME|FILE`; without one a pass costs its device time alone.
//!
//! What each field means to the time model (`xpusim_target::runtime` applies it):
//! - `kernel_issue_us`: host time to issue one kernel from the framework (Python, the
//!   dispatcher, `cudaLaunchKernel`). The host issues asynchronously and the device runs the
//!   kernels in order, so issue time costs nothing while the device is busier, and bounds a
//!   pass whose kernels are shorter than their issue (small batches, small models). Absent:
//!   not modelled (a profile that only says which kernels the stack runs).
//! - `graphs`: which passes replay a captured CUDA graph (`none`, `decode`, `all`); a
//!   replayed pass is issued once, in `graph_launch_us`, instead of kernel by kernel.
//! - `[step]`: serial host time per engine step (one forward pass of a serving iteration,
//!   one token of a generate loop): `fixed_us + per_sequence_us × sequences`; with tensor
//!   parallelism the `[step.tensor_parallel]` line replaces it (worker messaging included).
//! - `fuse_training_pointwise`: the stack runs each chain of pointwise training ops
//!   (BatchNorm with the residual add and activation after it, and their backwards) as one
//!   kernel (`xpusim_ir::Graph::fuse_pointwise_chains`); read by training steps (`train`,
//!   training rows of `validate`). Inference passes fuse their convolution epilogues anyway.
//! - `fuse_gemm_epilogues`: the stack runs the pointwise ops after a matmul (bias,
//!   activation, residual add) in the GEMM's epilogue, as TensorRT compiles a network
//!   (`xpusim_ir::Graph::fuse_matmul_epilogues`); read by inference passes. Default: no, as
//!   serving stacks run them as kernels of their own.
//! - `decode_attention`: how the stack's decode attention kernel maps query heads to thread
//!   blocks — `packed` (default: the query heads of a KV head share one tile, as XQA,
//!   FlashInfer and FlashAttention's decode do) or `per-query-head` (one block per query
//!   head, as the masked multi-head attention kernel before them;
//!   `xpusim_ir::per_query_head`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::locate::{Fields, Seg};
use crate::HwError;

/// (file name, TOML text) of every built-in runtime profile.
pub const RUNTIMES: &[(&str, &str)] = &[
    (
        "pytorch-eager.toml",
        include_str!("../runtimes/pytorch-eager.toml"),
    ),
    (
        "cuda-graphs.toml",
        include_str!("../runtimes/cuda-graphs.toml"),
    ),
    (
        "sarathi-vllm.toml",
        include_str!("../runtimes/sarathi-vllm.toml"),
    ),
    (
        "mlperf-mxnet.toml",
        include_str!("../runtimes/mlperf-mxnet.toml"),
    ),
    (
        "tensorrt-llm-mmha.toml",
        include_str!("../runtimes/tensorrt-llm-mmha.toml"),
    ),
    ("tensorrt.toml", include_str!("../runtimes/tensorrt.toml")),
    (
        "trtllm-pytorch.toml",
        include_str!("../runtimes/trtllm-pytorch.toml"),
    ),
];

/// Which passes replay a captured CUDA graph.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphMode {
    /// Every kernel is issued by the host.
    #[default]
    None,
    /// Decode steps replay a graph (vLLM captures decode batch sizes); prefill and training
    /// passes are issued kernel by kernel.
    Decode,
    /// Every pass replays a graph (`torch.compile(mode="reduce-overhead")`, TensorRT).
    All,
}

impl GraphMode {
    pub fn label(self) -> &'static str {
        match self {
            GraphMode::None => "none",
            GraphMode::Decode => "decode",
            GraphMode::All => "all",
        }
    }
}

/// How a stack's decode attention kernel maps query heads to thread blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecodeAttention {
    /// The query heads sharing a KV head are packed into one tile's rows.
    #[default]
    Packed,
    /// One thread block per query head and sequence.
    PerQueryHead,
}

impl DecodeAttention {
    pub fn label(self) -> &'static str {
        match self {
            DecodeAttention::Packed => "packed",
            DecodeAttention::PerQueryHead => "per-query-head",
        }
    }
}

/// Serial host time of one engine step, µs: `fixed_us + per_sequence_us × sequences`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepLine {
    pub fixed_us: f64,
    pub per_sequence_us: f64,
}

impl StepLine {
    pub fn time_s(&self, sequences: u64) -> f64 {
        (self.fixed_us + self.per_sequence_us * sequences as f64) * 1e-6
    }
}

/// Host work of one engine step.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub fixed_us: f64,
    pub per_sequence_us: f64,
    /// Replaces the line above when the model runs tensor-parallel (worker messaging).
    #[serde(default)]
    pub tensor_parallel: Option<StepLine>,
}

impl StepSpec {
    /// Host time of one step over `sequences` on a `tp`-way tensor-parallel group, s.
    pub fn time_s(&self, sequences: u64, tp: u64) -> f64 {
        let one = StepLine {
            fixed_us: self.fixed_us,
            per_sequence_us: self.per_sequence_us,
        };
        match self.tensor_parallel {
            Some(l) if tp > 1 => l.time_s(sequences),
            _ => one.time_s(sequences),
        }
    }
}

/// A software stack around the kernels.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub description: String,
    /// Host time to issue one kernel, µs; absent: host issue is not modelled.
    #[serde(default)]
    pub kernel_issue_us: Option<f64>,
    #[serde(default)]
    pub graphs: GraphMode,
    /// Host time to launch one captured graph, µs (with `graphs` other than `none`).
    #[serde(default)]
    pub graph_launch_us: Option<f64>,
    /// Host work per engine step; absent: not modelled (the stack's step loop is not timed).
    #[serde(default)]
    pub step: Option<StepSpec>,
    /// Chains of pointwise training ops run as one kernel each (module doc). Default: no,
    /// as eager frameworks run them.
    #[serde(default)]
    pub fuse_training_pointwise: bool,
    /// The pointwise ops after an inference matmul run in its epilogue (module doc).
    /// Default: no.
    #[serde(default)]
    pub fuse_gemm_epilogues: bool,
    /// The decode attention kernel's head mapping (module doc).
    #[serde(default)]
    pub decode_attention: DecodeAttention,
    #[serde(default)]
    pub unverified: Vec<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

impl RuntimeSpec {
    /// Host time to issue one kernel, s (zero where the profile does not model it).
    pub fn kernel_issue_s(&self) -> f64 {
        self.kernel_issue_us.unwrap_or(0.0) * 1e-6
    }

    /// Parses and validates TOML text; `file` is used in messages only.
    pub fn from_toml(file: &str, src: &str) -> Result<RuntimeSpec, HwError> {
        let spec: RuntimeSpec = crate::locate::parse(file, src)?;
        spec.validate(file, src)?;
        Ok(spec)
    }

    /// Every time is finite and non-negative (within the files' plausibility bound); a
    /// graph mode other than `none` needs its launch time; every value cites a source.
    pub fn validate(&self, file: &str, src: &str) -> Result<(), HwError> {
        let f = Fields { file, src };
        if let Some(c) = self.kernel_issue_us {
            f.non_negative(&[Seg::Key("kernel_issue_us")], c)?;
        } else if self.graphs != GraphMode::None {
            return Err(f.bad(
                &[Seg::Key("kernel_issue_us")],
                "expected the host time to issue one kernel, µs (graphs is not `none`, so \
                 the profile models host issue)"
                    .into(),
            ));
        }
        match (self.graphs, self.graph_launch_us) {
            (GraphMode::None, _) => {}
            (_, None) => {
                return Err(f.bad(
                    &[Seg::Key("graph_launch_us")],
                    "expected the host time to launch a captured graph, µs (graphs is not \
                     `none`)"
                        .into(),
                ))
            }
            (_, Some(v)) => f.non_negative(&[Seg::Key("graph_launch_us")], v)?,
        }
        if let Some(s) = &self.step {
            f.non_negative(&[Seg::Key("step"), Seg::Key("fixed_us")], s.fixed_us)?;
            f.non_negative(
                &[Seg::Key("step"), Seg::Key("per_sequence_us")],
                s.per_sequence_us,
            )?;
            if let Some(t) = &s.tensor_parallel {
                let at = |k| [Seg::Key("step"), Seg::Key("tensor_parallel"), Seg::Key(k)];
                f.non_negative(&at("fixed_us"), t.fixed_us)?;
                f.non_negative(&at("per_sequence_us"), t.per_sequence_us)?;
            }
        }
        if self.sources.is_empty() {
            return Err(f.bad(
                &[Seg::Key("sources")],
                "expected a [sources] table citing where each value comes from".into(),
            ));
        }
        Ok(())
    }

    /// Whether a pass of this kind replays a captured graph.
    pub fn replays_graph(&self, decode: bool) -> bool {
        match self.graphs {
            GraphMode::None => false,
            GraphMode::Decode => decode,
            GraphMode::All => true,
        }
    }
}

/// Every built-in runtime profile, in catalogue order.
pub fn runtimes() -> Result<Vec<RuntimeSpec>, HwError> {
    RUNTIMES
        .iter()
        .map(|(f, src)| RuntimeSpec::from_toml(&format!("runtime {f}"), src))
        .collect()
}

/// A runtime preset name or alias (case-insensitive), or a path to a runtime TOML file.
pub fn load_runtime(name_or_path: &str) -> Result<RuntimeSpec, HwError> {
    if name_or_path.ends_with(".toml") || xpusim_ir::memfs::is_file(Path::new(name_or_path)) {
        let src =
            xpusim_ir::memfs::read_to_string(Path::new(name_or_path)).map_err(|e| HwError::Io {
                file: name_or_path.to_string(),
                msg: e.to_string(),
            })?;
        return RuntimeSpec::from_toml(name_or_path, &src);
    }
    let all = runtimes()?;
    let want = name_or_path.to_ascii_lowercase();
    if let Some(r) = all
        .iter()
        .find(|r| r.name == want || r.aliases.iter().any(|a| a.eq_ignore_ascii_case(&want)))
    {
        return Ok(r.clone());
    }
    let known: Vec<String> = all
        .iter()
        .flat_map(|r| std::iter::once(r.name.clone()).chain(r.aliases.iter().cloned()))
        .collect();
    Err(HwError::UnknownRuntime {
        name: name_or_path.to_string(),
        known: all.iter().map(|r| r.name.clone()).collect(),
        suggestions: crate::close_names(name_or_path, &known),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_load() {
        let all = runtimes().expect("every runtime preset validates");
        assert_eq!(all.len(), RUNTIMES.len());
        for r in &all {
            assert_eq!(load_runtime(&r.name).unwrap().name, r.name);
        }
    }

    #[test]
    fn unknown_name_lists_the_presets() {
        let e = load_runtime("pytorch-eagr").unwrap_err().to_string();
        assert!(e.contains("pytorch-eager"), "{e}");
    }

    #[test]
    fn bad_values_name_file_line_and_field() {
        let src = "name = \"x\"\ndescription = \"d\"\nkernel_issue_us = -1\ngraphs = \"none\"\n\
                   [sources]\nkernel_issue_us = \"s\"\n";
        let e = RuntimeSpec::from_toml("x.toml", src)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.toml:3: field `kernel_issue_us`"), "{e}");
        let src = "name = \"x\"\ndescription = \"d\"\nkernel_issue_us = 1\ngraphs = \"all\"\n\
                   [sources]\nkernel_issue_us = \"s\"\n";
        let e = RuntimeSpec::from_toml("x.toml", src)
            .unwrap_err()
            .to_string();
        assert!(e.contains("graph_launch_us"), "{e}");
        let src = "name = \"x\"\ndescription = \"d\"\nkernel_issue_us = 1\ngraphs = \"some\"\n";
        let e = RuntimeSpec::from_toml("x.toml", src)
            .unwrap_err()
            .to_string();
        assert!(e.contains("graphs") || e.contains("some"), "{e}");
    }

    #[test]
    fn tensor_parallel_line_replaces_the_step_line() {
        let s = StepSpec {
            fixed_us: 100.0,
            per_sequence_us: 10.0,
            tensor_parallel: Some(StepLine {
                fixed_us: 1000.0,
                per_sequence_us: 20.0,
            }),
        };
        assert!((s.time_s(4, 1) - 140e-6).abs() < 1e-12);
        assert!((s.time_s(4, 2) - 1080e-6).abs() < 1e-12);
    }
}
