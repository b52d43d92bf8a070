//! Workloads a sweep evaluates every design point on.

use serde::Deserialize;
use xpusim_ir::{DType, Graph, Phase};

pub use xpusim_workload::{DEFAULT_CONTEXT, ERA_SUITE, SUITE_DECODE_BATCH};

/// A workload as written in a sweep spec (`[[workload]]`); unset fields take the zoo's
/// defaults, precision the device's natural 16-bit format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub model: String,
    pub phase: Option<String>,
    pub batch: Option<u64>,
    pub seq: Option<u64>,
    pub context: Option<u64>,
    pub precision: Option<String>,
    /// Sequence lengths of an unpadded pass, inline `len:count,...` or a `len,count` file
    /// (as `--seq-dist`); gives the batch, so `batch` and `seq` stay unset.
    pub seq_dist: Option<String>,
}

impl WorkloadSpec {
    /// The era suite as workload specs.
    pub fn era_suite() -> Vec<WorkloadSpec> {
        ERA_SUITE
            .iter()
            .map(|w| WorkloadSpec {
                model: w.model.to_string(),
                phase: w.phase.map(|p| p.name().to_string()),
                batch: w.batch,
                ..Default::default()
            })
            .collect()
    }

    /// Builds the graph for a design whose natural 16-bit format is `natural`.
    pub fn build(&self, natural: DType) -> Result<Graph, String> {
        let phase = match self.phase.as_deref() {
            None => None,
            Some("inference") => Some(Phase::Inference),
            Some("prefill") => Some(Phase::Prefill),
            Some("decode") => Some(Phase::Decode),
            Some(p) => {
                return Err(format!(
                    "unknown phase `{p}` (expected inference, prefill or decode)"
                ))
            }
        };
        let seq_dist = match &self.seq_dist {
            Some(d) => Some(xpusim_ir::SeqDist::from_arg(d).map_err(|e| format!("seq_dist: {e}"))?),
            None => None,
        };
        let r = xpusim_workload::Request {
            seq_dist,
            phase,
            batch: self.batch,
            seq: self.seq,
            context: self.context,
            precision: self.precision.clone(),
            ..xpusim_workload::Request::new(&self.model)
        };
        r.graph(natural).map_err(|e| e.to_string())
    }
}

/// Column label of a built workload: `model:phase:bN`, and `:packedT` (its packed tokens)
/// for a variable-length pass.
pub fn label(g: &Graph) -> String {
    match &g.seq_dist {
        Some(d) => format!(
            "{}:{}:b{}:packed{}",
            g.name,
            g.phase.name(),
            g.batch,
            d.packed_tokens
        ),
        None => format!("{}:{}:b{}", g.name, g.phase.name(), g.batch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_dist_builds_a_packed_pass_with_its_own_label() {
        let w = WorkloadSpec {
            model: "bert-base".into(),
            seq_dist: Some("64:6,128:3".into()),
            ..Default::default()
        };
        let g = w.build(DType::Bf16).unwrap();
        assert_eq!(g.tokens(), 64 * 6 + 128 * 3);
        assert_eq!(label(&g), "bert-base:inference:b9:packed768");
        let bad = WorkloadSpec {
            seq_dist: Some("64:x".into()),
            ..w
        };
        let e = bad.build(DType::Bf16).unwrap_err();
        assert!(e.starts_with("seq_dist:") && e.contains("`64:x`"), "{e}");
    }
}
