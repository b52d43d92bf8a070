//! Options of a step model and the pieces every replica shares: the decode graph of a
//! decoder (with an MoE load imbalance applied) and the split of memory into weights,
//! activation reserve and KV cache.

use xpusim_ir::{Block, Graph, MatmulSpec, Names, Op, OpKind, Phase, Precision};
use xpusim_models::{TransformerConfig, Workload};

use crate::step::MemoryBudget;
use crate::ServeError;

/// Fraction of device memory the serving runtime may use: vLLM's default
/// `gpu_memory_utilization = 0.9` (vLLM engine arguments documentation); the rest covers the
/// CUDA context, allocator fragmentation and communication buffers.
pub const GPU_MEMORY_UTILIZATION: f64 = 0.9;

/// Max/mean expert load with uniform routing (the zoo's own assumption); pass a measured
/// factor to model routing skew.
pub const UNIFORM_EXPERT_IMBALANCE: f64 = 1.0;

/// Options of a step model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOptions {
    pub precision: Precision,
    /// Largest tokens per iteration: sizes the activation reserve.
    pub max_batched_tokens: u64,
    /// MoE expert load imbalance, max/mean tokens per expert (≥ 1). The batched expert GEMM
    /// is padded to the busiest expert's rows, so its row count is multiplied by this.
    pub moe_imbalance: f64,
    /// Fraction of device memory the runtime may use.
    pub memory_utilization: f64,
    /// KV cache as this fraction of the memory left after the weights and the activation
    /// reserve, in place of what `memory_utilization` leaves: TensorRT-LLM sizes its cache
    /// so (`kv_cache_free_gpu_mem_fraction`, 0.9 by default; NVIDIA's published
    /// `trtllm-bench` runs often use 0.95, docs/source/performance/perf-overview.md).
    pub kv_free_fraction: Option<f64>,
}

impl StepOptions {
    pub fn new(precision: Precision, max_batched_tokens: u64) -> StepOptions {
        StepOptions {
            precision,
            max_batched_tokens,
            moe_imbalance: UNIFORM_EXPERT_IMBALANCE,
            memory_utilization: GPU_MEMORY_UTILIZATION,
            kv_free_fraction: None,
        }
    }

    /// Rejects options no model can run with, naming the option.
    pub(crate) fn check(&self) -> Result<(), ServeError> {
        if !(self.moe_imbalance.is_finite() && self.moe_imbalance >= 1.0) {
            return Err(ServeError::invalid(
                "moe imbalance",
                format!(
                    "expected max/mean expert load ≥ 1, got {}",
                    self.moe_imbalance
                ),
            ));
        }
        if !(self.memory_utilization > 0.0 && self.memory_utilization <= 1.0) {
            return Err(ServeError::invalid(
                "memory utilization",
                format!(
                    "expected a fraction in (0, 1], got {}",
                    self.memory_utilization
                ),
            ));
        }
        if let Some(f) = self.kv_free_fraction {
            if !(f > 0.0 && f <= 1.0) {
                return Err(ServeError::invalid(
                    "KV free-memory fraction",
                    format!("expected a fraction in (0, 1], got {f}"),
                ));
            }
        }
        if self.max_batched_tokens == 0 {
            return Err(ServeError::invalid(
                "max batched tokens",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

pub(crate) fn model_err(cfg: &TransformerConfig, e: impl std::fmt::Display) -> ServeError {
    ServeError::Model {
        model: cfg.name.clone(),
        msg: e.to_string(),
    }
}

/// Decode graph of `cfg` for `batch` rows at `context`, with the MoE imbalance applied.
pub(crate) fn decode_graph(
    cfg: &TransformerConfig,
    opts: &StepOptions,
    batch: u64,
    context: u64,
) -> Result<Graph, ServeError> {
    let w = Workload::new(Phase::Decode, batch, 1, context).with_precision(opts.precision);
    let mut g = cfg.build(&w).map_err(|e| model_err(cfg, e))?;
    if opts.moe_imbalance > 1.0 {
        for op in g.ops.iter_mut() {
            if op.role.block() == Some(Block::Experts) && matches!(op.kind, OpKind::Matmul(_)) {
                *op = imbalanced(op, opts.moe_imbalance).map_err(|e| model_err(cfg, e))?;
            }
        }
    }
    Ok(g)
}

/// The batched expert GEMM with its rows raised to the busiest expert's load.
fn imbalanced(op: &Op, factor: f64) -> Result<Op, xpusim_ir::IrError> {
    let OpKind::Matmul(spec) = &op.kind else {
        return Ok(op.clone());
    };
    let [lhs, rhs, out] = [0, 1, 2].map(|i| op.operands.get(i));
    let (Some(lhs), Some(rhs), Some(out)) = (lhs, rhs, out) else {
        return Ok(op.clone());
    };
    let rows = ((spec.m as f64 * factor).ceil() as u64).max(spec.m);
    let new = MatmulSpec { m: rows, ..*spec };
    let names = Names {
        lhs: &lhs.tensor,
        rhs: &rhs.tensor,
        out: &out.tensor,
    };
    let mut new = Op::matmul(
        &op.name,
        new,
        names,
        rhs.role,
        lhs.dtype,
        rhs.dtype,
        op.compute_dtype,
    )?
    .times(op.repeat)?
    .with_role(op.role);
    new.layer = op.layer;
    Ok(new)
}

/// Splits device memory into weights, activation reserve and KV cache: the KV cache is
/// what `utilization` of the memory leaves after the weights and reserve (vLLM), or
/// `kv_free_fraction` of all that is left after them (TensorRT-LLM).
pub fn budget(
    memory_bytes: u64,
    utilization: f64,
    kv_free_fraction: Option<f64>,
    weight_bytes: u64,
    reserve_bytes: u64,
) -> Result<MemoryBudget, ServeError> {
    let left = |total: u64| {
        total
            .checked_sub(weight_bytes)
            .and_then(|r| r.checked_sub(reserve_bytes))
    };
    let (usable, kv) = match kv_free_fraction {
        None => {
            let usable = (memory_bytes as f64 * utilization) as u64;
            (usable, left(usable))
        }
        Some(f) => {
            let kv = left(memory_bytes).map(|free| (free as f64 * f) as u64);
            let usable = kv.map_or(memory_bytes, |kv| weight_bytes + reserve_bytes + kv);
            (usable, kv)
        }
    };
    let kv = kv.filter(|&kv| kv > 0).ok_or(ServeError::WeightsDoNotFit {
        weight_bytes,
        reserve_bytes,
        usable_bytes: usable,
        memory_bytes,
    })?;
    Ok(MemoryBudget {
        memory_bytes,
        usable_bytes: usable,
        weight_bytes,
        reserve_bytes,
        kv_capacity_bytes: kv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kv_cache_is_what_each_rule_leaves() {
        // vLLM: 90 % of 1 000 is usable; weights 300 and reserve 100 leave 500.
        let v = budget(1_000, 0.9, None, 300, 100).unwrap();
        assert_eq!((v.usable_bytes, v.kv_capacity_bytes), (900, 500));
        // TensorRT-LLM: 95 % of the 600 the weights and reserve leave.
        let t = budget(1_000, 0.9, Some(0.95), 300, 100).unwrap();
        assert_eq!((t.usable_bytes, t.kv_capacity_bytes), (970, 570));
        for f in [None, Some(0.95)] {
            assert!(matches!(
                budget(1_000, 0.9, f, 950, 100),
                Err(ServeError::WeightsDoNotFit { .. })
            ));
        }
    }
}
