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
        let r = xpusim_workload::Request {
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

/// Column label of a built workload: `model:phase:bN`.
pub fn label(g: &Graph) -> String {
    format!("{}:{}:b{}", g.name, g.phase.name(), g.batch)
}
