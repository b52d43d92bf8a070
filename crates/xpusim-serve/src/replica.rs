//! [`StepModel`] for any target: one device, or a tensor-parallel group of a system (with
//! or without processing in memory), priced through the one seam ([`xpusim_target`]).
//!
//! An iteration's cost is split the way its kernels are:
//!
//! - **Body** (every op but attention and the LM head: embeddings, norms, QKV/O and FFN or
//!   MoE GEMMs, KV appends, and on a system the collectives) depends only on the tokens `T`
//!   stacked from all sequences. It is the decoder's decode graph at `batch = T` (one token
//!   per row), which is exactly a `T`-row pass through the linear layers; MoE layers there
//!   touch the expected number of distinct experts for `T` tokens.
//! - **LM head** runs once per sequence that samples a token (decodes and last prefill
//!   chunks), so it is the decode graph's LM head ([`OpRole::LmHead`]) at `batch = logits`.
//! - **Attention** is costed per kind of work with the (sharded) graph's own attention op as
//!   the template, by the target's cost model (so a PIM system may run it on PIM): each
//!   prefill chunk as causal attention of its `tokens` queries over `prior + tokens` keys;
//!   all decodes as one batched FlashDecoding kernel over the mean context. The engine's
//!   attention traffic is linear in `batch × kv_len`, so the mean gives the exact K/V bytes;
//!   only the per-sequence padding of the context to a 128-position KV block is averaged,
//!   an error below `128 / context` of the attention term.
//!
//! On a system every device of the group works in lockstep, so time is one device's and
//! energy `tp ×` one device's (its dynamic energy and static power over the step). Time a
//! PIM model hides across ops (AttAcc head pipelining) is not taken off iterations: the
//! serving estimate of a PIM system is conservative by that overlap.
//!
//! Body and head are memoised exactly per token count; the two-dimensional attention terms
//! are memoised on the grid of [`crate::grid`] and interpolated bilinearly.

use xpusim_engine::CostModel;
use xpusim_hw::{DeviceSpec, Hardware, PimPlacement, System};
use xpusim_ir::{AttentionSpec, Graph, OpKind, OpRole, Phase, Role};
use xpusim_models::TransformerConfig;
use xpusim_target::{evaluate, EnergyBreakdown, Layout, ModelCost, Parallelism, Target};

use crate::compose::{Backend, Memoised};
use crate::device::{budget, decode_graph, model_err, StepOptions};
use crate::grid::Cost;
use crate::step::{
    EnergyParts, IterationShape, MemoryBudget, StepCost, StepModel, MEMORY_SLOTS, PARTS,
};
use crate::ServeError;

/// A replica of a decoder on a target: one device, or `tp` devices of a system.
pub struct TargetStepModel {
    cfg: TransformerConfig,
    target: Target,
    tp: u64,
    opts: StepOptions,
    /// Prices the attention templates on one device of the replica.
    model: Box<dyn CostModel>,
    /// Attention ops of one device's decode graph (spec, repeat), used as templates.
    attention: Vec<(AttentionSpec, u64)>,
    kv_per_token: u64,
    state_per_seq: u64,
    budget: MemoryBudget,
    memo: Memoised,
    /// Kernels one device issues per iteration when not replaying a graph (from the
    /// runtime's own count over the decode graph; 0 without a runtime).
    kernels_per_step: u64,
}

fn target_err(e: xpusim_target::TargetError) -> ServeError {
    ServeError::Engine(e.to_string())
}

/// A system preset name or TOML path.
pub fn load_system(name_or_path: &str) -> Result<System, ServeError> {
    xpusim_hw::load_system(name_or_path).map_err(|e| ServeError::System(e.to_string()))
}

/// KV bytes a sequence adds per token and holds whatever its length (SSM state), over the
/// replica: from the graph on one device, from one device's memory on a system.
fn kv_sizes(
    c1: &ModelCost,
    c2: &ModelCost,
    g1: &Graph,
    g2: &Graph,
    span: u64,
    tp: u64,
) -> (u64, u64) {
    match (&c1.system, &c2.system) {
        (Some(a), Some(b)) => {
            let per = b
                .kv_cache_per_device_bytes
                .saturating_sub(a.kv_cache_per_device_bytes)
                / span;
            // At context 1 the cache holds 2 positions plus the appended one, and the state.
            let state = a.kv_cache_per_device_bytes.saturating_sub(3 * per);
            (per * tp, state * tp)
        }
        _ => {
            let (t1, t2) = (g1.totals(), g2.totals());
            let per = t2.kv_cache_bytes.saturating_sub(t1.kv_cache_bytes) / span;
            // At context 1 the cache read is 2 positions plus the fixed state.
            (per, t1.kv_cache_bytes.saturating_sub(2 * per))
        }
    }
}

impl TargetStepModel {
    /// Builds the model's templates and memory budget for `tp` devices of `target` (1 on a
    /// device). Fails when the config is not a decoder, the weights do not fit, or a cost
    /// model rejects an op.
    pub fn new(
        cfg: TransformerConfig,
        mut target: Target,
        tp: u64,
        opts: StepOptions,
    ) -> Result<TargetStepModel, ServeError> {
        opts.check()?;
        let count = target.count();
        if tp == 0 || tp > count {
            return Err(ServeError::invalid(
                "tp",
                format!(
                    "expected 1..={count} devices of {}, got {tp}",
                    target.name()
                ),
            ));
        }
        if !cfg.phases().contains(&Phase::Decode) {
            return Err(model_err(
                &cfg,
                "is not a decoder; serving needs prefill and decode",
            ));
        }
        let par = Parallelism::tp(tp);
        target.layout = Layout::Fixed(par);
        let eval = |rows: u64, ctx: u64| -> Result<(Graph, ModelCost), ServeError> {
            let g = decode_graph(&cfg, &opts, rows, ctx)?;
            let c = evaluate(&g, &target).map_err(target_err)?;
            Ok((g, c))
        };
        const SPAN: u64 = 1024;
        let ((g1, c1), (g2, c2)) = (eval(1, 1)?, eval(1, 1 + SPAN)?);
        let kernels_per_step = match &target.runtime {
            Some(rt) => {
                let mut eager = target.clone();
                eager.runtime = Some(xpusim_hw::RuntimeSpec {
                    graphs: xpusim_hw::GraphMode::None,
                    ..rt.clone()
                });
                evaluate(&g1, &eager)
                    .map_err(target_err)?
                    .runtime
                    .map_or(0, |r| r.kernels)
            }
            None => 0,
        };
        let (kv_per_token, state_per_seq) = kv_sizes(&c1, &c2, &g1, &g2, SPAN, tp);
        let (gb, big) = eval(opts.max_batched_tokens, 1)?;
        let (weights, reserve) = match (&c1.system, &big.system) {
            (Some(a), Some(b)) => (
                a.weights_per_device_bytes * tp,
                b.activations_per_device_bytes * tp,
            ),
            _ => (
                g1.totals().weight_bytes,
                gb.ops
                    .iter()
                    .map(|op| op.bytes_by_role(Role::Input) + op.bytes_by_role(Role::Output))
                    .max()
                    .unwrap_or(0),
            ),
        };
        let dev = target.device_spec().clone();
        let attention = xpusim_system::shard::shard(&g1, &par)
            .map_err(|e| ServeError::System(e.to_string()))?
            .ops
            .iter()
            .filter_map(|p| match (&p.op.kind, p.op.role) {
                (OpKind::Attention(a), OpRole::Heads(_)) => Some((*a, p.op.repeat)),
                _ => None,
            })
            .collect();
        let model = target.cost_model(&dev).map_err(target_err)?;
        // With attention on PIM modules beside the devices the KV cache lives in their stacks,
        // which add to the pool (PIM in a device's own memory adds nothing).
        let pim_kv = match (target.pim(), target.pim_placement()) {
            (Some(p), Some(pl)) if pl != PimPlacement::HostOnly && !p.in_device_memory => {
                p.capacity_per_device_bytes() * tp
            }
            _ => 0,
        };
        let mut budget = budget(
            dev.offchip().capacity_bytes * tp,
            opts.memory_utilization,
            opts.kv_free_fraction,
            weights,
            reserve,
        )?;
        // PIM stacks hold no weights: all of their usable share is cache.
        let pim_share = opts.kv_free_fraction.unwrap_or(opts.memory_utilization);
        budget.kv_capacity_bytes += (pim_kv as f64 * pim_share) as u64;
        let levels = target.device_spec().memory.len();
        if levels >= MEMORY_SLOTS {
            return Err(ServeError::invalid(
                "memory",
                format!(
                    "`{}` has {levels} memory levels; serving keeps the energy of at most {} \
                     apart",
                    target.device_spec().name,
                    MEMORY_SLOTS - 1
                ),
            ));
        }
        Ok(TargetStepModel {
            cfg,
            target,
            tp,
            opts,
            model,
            attention,
            kv_per_token,
            state_per_seq,
            budget,
            memo: Memoised::default(),
            kernels_per_step,
        })
    }

    /// What the runtime profile adds to an iteration of device time `s` (module
    /// `xpusim_target::runtime`): the issue time the device waits for — all kernels issued
    /// in order against the iteration's device time, the steady state of the issue queue
    /// over identical layers — or one graph launch for a decode-only iteration the profile
    /// replays, and the engine step's serial host work over its sequences. The devices idle
    /// through it at static power.
    fn add_runtime(&self, it: &IterationShape<'_>, s: &mut StepCost) {
        let Some(rt) = &self.target.runtime else {
            return;
        };
        let issue_s = if rt.replays_graph(it.prefill.is_empty()) {
            rt.graph_launch_us.unwrap_or(0.0) * 1e-6
        } else {
            self.kernels_per_step as f64 * rt.kernel_issue_s()
        };
        let sequences = it.decode_contexts.len() as u64 + it.prefill.len() as u64;
        let extra =
            (issue_s - s.time_s).max(0.0) + rt.step.map_or(0.0, |st| st.time_s(sequences, self.tp));
        s.time_s += extra;
        s.parts.static_j += self.idle_power_w() * extra;
        s.energy_j = s.parts.total();
    }

    /// One device serving the whole decoder.
    pub fn on_device(
        cfg: TransformerConfig,
        dev: DeviceSpec,
        opts: StepOptions,
    ) -> Result<TargetStepModel, ServeError> {
        TargetStepModel::new(cfg, Target::device(dev), 1, opts)
    }

    /// A `tp`-device replica on `sys`.
    pub fn on_system(
        cfg: TransformerConfig,
        sys: System,
        tp: u64,
        opts: StepOptions,
    ) -> Result<TargetStepModel, ServeError> {
        TargetStepModel::new(cfg, Target::system(sys), tp, opts)
    }

    /// [`TargetStepModel::on_system`] on a system preset name or TOML path.
    pub fn load_system(
        cfg: TransformerConfig,
        system: &str,
        tp: u64,
        opts: StepOptions,
    ) -> Result<TargetStepModel, ServeError> {
        TargetStepModel::on_system(cfg, load_system(system)?, tp, opts)
    }

    pub fn device(&self) -> &DeviceSpec {
        self.target.device_spec()
    }

    pub fn config(&self) -> &TransformerConfig {
        &self.cfg
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The system's cited rental price, USD per device-hour, if any.
    pub fn price_per_device_hour(&self) -> Option<f64> {
        self.target
            .system_spec()
            .and_then(|s| s.spec.price_usd_per_device_hour)
    }

    /// Cost evaluations memoised so far (a measure of setup cost).
    pub fn memo_points(&self) -> usize {
        self.memo.points()
    }

    /// Cost of an iteration with every term evaluated directly (no memo); used by tests to
    /// bound the interpolation error.
    pub fn step_exact(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        let mut s = self.memo.step_exact(self, it)?;
        self.add_runtime(it, &mut s);
        Ok(s)
    }

    fn tpf(&self) -> f64 {
        self.tp as f64
    }

    /// One device's energy `b` for every device of the replica, as a [`Cost`] after `time_s`.
    fn cost(&self, time_s: f64, b: &EnergyBreakdown) -> Cost {
        let f = self.tpf();
        let mut p = EnergyParts {
            compute_j: b.compute_j * f,
            network_j: b.network_j * f,
            pim_j: b.pim_j * f,
            static_j: b.idle_j * f,
            ..EnergyParts::default()
        };
        let levels = &self.device().memory;
        for (name, j) in &b.memory_j {
            let slot = levels
                .iter()
                .position(|m| &m.name == name)
                .unwrap_or(MEMORY_SLOTS - 1);
            p.memory_j[slot] += j * f;
        }
        let mut c = [0.0; 1 + PARTS];
        c[0] = time_s;
        c[1..].copy_from_slice(&p.to_array());
        c
    }
}

fn add(into: &mut Cost, c: &Cost) {
    for (a, b) in into.iter_mut().zip(c) {
        *a += b;
    }
}

impl Backend for TargetStepModel {
    fn pass(&self, rows: u64) -> Result<(Cost, Cost), ServeError> {
        let g = decode_graph(&self.cfg, &self.opts, rows, 1)?;
        let c = evaluate(&g, &self.target).map_err(target_err)?;
        let (mut body, mut head) = ([0.0; 1 + PARTS], [0.0; 1 + PARTS]);
        for op in &c.ops {
            let slot = if op.role == OpRole::LmHead {
                &mut head
            } else if op.kind == "attention" {
                continue;
            } else {
                &mut body
            };
            // One device's energy during the op (static power included), for every device.
            add(slot, &self.cost(op.time_s, &op.energy_parts));
        }
        Ok((body, head))
    }

    fn attention(&self, batch: u64, q: u64, kv: u64, role: Role) -> Result<Cost, ServeError> {
        let mut acc = [0.0; 1 + PARTS];
        for (tpl, repeat) in &self.attention {
            let spec = AttentionSpec {
                batch,
                q_len: q,
                kv_len: kv,
                causal: true,
                ..*tpl
            };
            let op = xpusim_ir::Op::attention("attn", spec, role, self.opts.precision)
                .map_err(|e| model_err(&self.cfg, e))?;
            let c = self
                .model
                .cost_op(&op)
                .map_err(|e| ServeError::Engine(e.to_string()))?;
            let times = *repeat as f64;
            let mut b = EnergyBreakdown::default();
            b.add_op(&c, times);
            b.idle_j = c.idle_energy_j * times;
            add(&mut acc, &self.cost(c.time_s * times, &b));
        }
        Ok(acc)
    }
}

impl StepModel for TargetStepModel {
    fn step(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        let mut s = self.memo.step(self, it)?;
        self.add_runtime(it, &mut s);
        Ok(s)
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
        self.tp
    }

    fn idle_power_w(&self) -> f64 {
        self.device().power.idle_w * self.tpf()
    }

    fn node_power_w(&self) -> f64 {
        self.target.node_overhead_w(self.tp)
    }

    fn memory_levels(&self) -> Vec<String> {
        self.device()
            .memory
            .iter()
            .map(|m| m.name.clone())
            .collect()
    }

    fn hardware(&self) -> String {
        match &self.target.hw {
            Hardware::Device(d) => d.name.clone(),
            Hardware::System(s) => format!("{} ({}) tp={}", s.spec.name, s.device.name, self.tp),
        }
    }

    /// A system's devices each send their KV shard over their scale-up port at once (a
    /// point-to-point send pays the fabric's base latency); a device uses its own port.
    fn kv_link(&self) -> Option<crate::KvLink> {
        match self
            .target
            .system_spec()
            .and_then(|s| s.spec.scale_up.as_ref())
        {
            Some(up) => Some(crate::KvLink {
                bandwidth_bytes_per_s: up.bandwidth_gbps * 1e9 * self.tpf(),
                latency_s: up.base_latency_us * 1e-6,
            }),
            None => self.device().interconnect.as_ref().map(|i| crate::KvLink {
                bandwidth_bytes_per_s: i.bandwidth_gbps * 1e9,
                latency_s: i.latency_us * 1e-6,
            }),
        }
    }
}
