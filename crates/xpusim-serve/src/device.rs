//! [`StepModel`] for one device: zoo graphs costed by [`xpusim_engine`], memoised.
//!
//! An iteration's cost is split the way its kernels are:
//!
//! - **Body** (every op but attention and the LM head: embeddings, norms, QKV/O and FFN or
//!   MoE GEMMs, KV appends) depends only on the tokens `T` stacked from all sequences. It is
//!   the decoder's decode graph at `batch = T` (one token per row), which is exactly a
//!   `T`-row pass through the linear layers; MoE layers there touch the expected number of
//!   distinct experts for `T` tokens.
//! - **LM head** runs once per sequence that samples a token (decodes and last prefill
//!   chunks), so it is the decode graph's `lm_head` at `batch = logits`.
//! - **Attention** is costed per kind of work with the graph's own attention op as the
//!   template: each prefill chunk as causal attention of its `tokens` queries over
//!   `prior + tokens` keys; all decodes as one batched FlashDecoding kernel over the mean
//!   context. The engine's attention traffic is linear in `batch × kv_len`, so the mean
//!   gives the exact K/V bytes; only the per-sequence padding of the context to a
//!   128-position KV block is averaged, an error below `128 / context` of the attention
//!   term (under 7% at a 2 k context, decreasing with context).
//!
//! Body and head are memoised exactly per token count (their wave-quantisation steps are
//! large; the count is bounded by the token budget); the two-dimensional attention terms are
//! memoised on the grid of [`crate::grid`] and interpolated bilinearly.

use xpusim_engine::{cost_op, evaluate};
use xpusim_hw::DeviceSpec;
use xpusim_ir::{
    AttentionSpec, Block, Graph, MatmulSpec, Names, Op, OpKind, OpRole, Phase, Precision, Role,
};
use xpusim_models::{TransformerConfig, Workload};

use crate::compose::{Backend, Memoised};
use crate::step::{IterationShape, MemoryBudget, StepCost, StepModel};
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
}

impl StepOptions {
    pub fn new(precision: Precision, max_batched_tokens: u64) -> StepOptions {
        StepOptions {
            precision,
            max_batched_tokens,
            moe_imbalance: UNIFORM_EXPERT_IMBALANCE,
            memory_utilization: GPU_MEMORY_UTILIZATION,
        }
    }
}

/// One device serving a whole decoder.
pub struct DeviceStepModel {
    cfg: TransformerConfig,
    dev: DeviceSpec,
    opts: StepOptions,
    /// Attention ops of the decode graph (spec, repeat), used as templates.
    attention: Vec<(AttentionSpec, u64)>,
    kv_per_token: u64,
    state_per_seq: u64,
    budget: MemoryBudget,
    memo: Memoised,
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

impl DeviceStepModel {
    /// Builds the model's templates and memory budget. Fails when the config is not a
    /// decoder, the weights do not fit, or the engine rejects an op.
    pub fn new(
        cfg: TransformerConfig,
        dev: DeviceSpec,
        opts: StepOptions,
    ) -> Result<DeviceStepModel, ServeError> {
        if !(opts.moe_imbalance.is_finite() && opts.moe_imbalance >= 1.0) {
            return Err(ServeError::invalid(
                "moe imbalance",
                format!(
                    "expected max/mean expert load ≥ 1, got {}",
                    opts.moe_imbalance
                ),
            ));
        }
        if !(opts.memory_utilization > 0.0 && opts.memory_utilization <= 1.0) {
            return Err(ServeError::invalid(
                "memory utilization",
                format!(
                    "expected a fraction in (0, 1], got {}",
                    opts.memory_utilization
                ),
            ));
        }
        if opts.max_batched_tokens == 0 {
            return Err(ServeError::invalid(
                "max batched tokens",
                "must be at least 1",
            ));
        }
        if !cfg.phases().contains(&Phase::Decode) {
            return Err(model_err(
                &cfg,
                "is not a decoder; serving needs prefill and decode",
            ));
        }
        // KV bytes per token: the cache read grows with context; constant state (SSM) cancels.
        const SPAN: u64 = 1024;
        let g1 = decode_graph(&cfg, &opts, 1, 1)?;
        let g2 = decode_graph(&cfg, &opts, 1, 1 + SPAN)?;
        let (t1, t2) = (g1.totals(), g2.totals());
        let kv_per_token = t2.kv_cache_bytes.saturating_sub(t1.kv_cache_bytes) / SPAN;
        // At context 1 the cache read is 2 positions plus the fixed state.
        let state = t1.kv_cache_bytes.saturating_sub(2 * kv_per_token);
        let attention = g1
            .ops
            .iter()
            .filter_map(|op| match &op.kind {
                OpKind::Attention(a) => Some((*a, op.repeat)),
                _ => None,
            })
            .collect();
        let big = decode_graph(&cfg, &opts, opts.max_batched_tokens, 1)?;
        let reserve = big
            .ops
            .iter()
            .map(|op| op.bytes_by_role(Role::Input) + op.bytes_by_role(Role::Output))
            .max()
            .unwrap_or(0);
        let memory = dev.offchip().capacity_bytes;
        let budget = budget(memory, opts.memory_utilization, t1.weight_bytes, reserve)?;
        Ok(DeviceStepModel {
            cfg,
            dev,
            opts,
            attention,
            kv_per_token,
            state_per_seq: state,
            budget,
            memo: Memoised::default(),
        })
    }

    pub fn device(&self) -> &DeviceSpec {
        &self.dev
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.cfg
    }

    /// Engine evaluations memoised so far (a measure of setup cost).
    pub fn memo_points(&self) -> usize {
        self.memo.points()
    }

    /// Cost of an iteration with every term evaluated directly (no memo); used by tests to
    /// bound the interpolation error.
    pub fn step_exact(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        self.memo.step_exact(self, it)
    }
}

impl Backend for DeviceStepModel {
    fn pass(&self, rows: u64) -> Result<([f64; 2], [f64; 2]), ServeError> {
        let g = decode_graph(&self.cfg, &self.opts, rows, 1)?;
        let cost = evaluate(&g, &self.dev).map_err(|e| ServeError::Engine(e.to_string()))?;
        let (mut body, mut head) = ([0.0; 2], [0.0; 2]);
        for (op, c) in g.ops.iter().zip(&cost.ops) {
            let slot = match (op.role, &op.kind) {
                (OpRole::LmHead, _) => &mut head,
                (_, OpKind::Attention(_)) => continue,
                _ => &mut body,
            };
            slot[0] += c.time_s;
            slot[1] += c.energy_j;
        }
        Ok((body, head))
    }

    fn attention(&self, batch: u64, q: u64, kv: u64, role: Role) -> Result<[f64; 2], ServeError> {
        let mut acc = [0.0; 2];
        for (tpl, repeat) in &self.attention {
            let spec = AttentionSpec {
                batch,
                q_len: q,
                kv_len: kv,
                causal: true,
                ..*tpl
            };
            let op = Op::attention("attn", spec, role, self.opts.precision)
                .map_err(|e| model_err(&self.cfg, e))?;
            let c = cost_op(&op, &self.dev).map_err(|e| ServeError::Engine(e.to_string()))?;
            acc[0] += c.time_s * *repeat as f64;
            acc[1] += c.energy_j * *repeat as f64;
        }
        Ok(acc)
    }
}

/// Splits device memory into weights, activation reserve and KV cache.
pub fn budget(
    memory_bytes: u64,
    utilization: f64,
    weight_bytes: u64,
    reserve_bytes: u64,
) -> Result<MemoryBudget, ServeError> {
    let usable = (memory_bytes as f64 * utilization) as u64;
    let kv = usable
        .checked_sub(weight_bytes)
        .and_then(|r| r.checked_sub(reserve_bytes))
        .filter(|&kv| kv > 0)
        .ok_or(ServeError::WeightsDoNotFit {
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

impl StepModel for DeviceStepModel {
    fn step(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        self.memo.step(self, it)
    }

    fn kv_bytes_per_token(&self) -> u64 {
        self.kv_per_token
    }

    fn state_bytes_per_seq(&self) -> u64 {
        self.state_per_seq
    }

    fn memory(&self) -> MemoryBudget {
        self.budget
    }

    fn devices(&self) -> u64 {
        1
    }

    fn idle_power_w(&self) -> f64 {
        self.dev.power.idle_w
    }

    fn hardware(&self) -> String {
        self.dev.name.clone()
    }

    /// The device's own fabric port (e.g. NVLink), per direction.
    fn kv_link(&self) -> Option<crate::KvLink> {
        self.dev.interconnect.as_ref().map(|i| crate::KvLink {
            bandwidth_bytes_per_s: i.bandwidth_gbps * 1e9,
            latency_s: i.latency_us * 1e-6,
        })
    }
}
