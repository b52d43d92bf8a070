//! [`StepModel`] for a tensor-parallel group of a multi-device system.
//!
//! Each iteration runs the Megatron-LM tensor-parallel layout (Shoeybi et al. 2019) that
//! `xpusim-system` derives: heads and FFN columns split over `tp` devices, KV heads split or
//! replicated when there are fewer than `tp`, and the all-reduces of every layer costed over
//! the system's scale-up topology. The composition is the single-device one
//! ([`crate::compose`]): body and head from `xpusim_system::evaluate` of the decode graph at
//! `rows` token rows (its collectives included in the body), attention from the sharded
//! graph's own attention ops on one device. All devices work in lockstep, so time is one
//! device's and energy is `tp ×` one device's (dynamic energy plus idle power over the step).
//! Link energy of the collectives and the nodes' non-accelerator power (CPUs, NICs, fans)
//! are not included, so energy per token covers the accelerators only.

use xpusim_engine::cost_op;
use xpusim_ir::{AttentionSpec, Op, OpKind, OpRole, Phase, Role};
use xpusim_models::TransformerConfig;
use xpusim_system::shard::shard;
use xpusim_system::{evaluate, Options, Parallelism, System, SystemCost};

use crate::compose::{Backend, Memoised};
use crate::device::{budget, decode_graph, model_err, StepOptions};
use crate::step::{IterationShape, MemoryBudget, StepCost, StepModel};
use crate::ServeError;

/// A `tp`-device replica on `sys`.
pub struct SystemStepModel {
    cfg: TransformerConfig,
    sys: System,
    par: Parallelism,
    opts: StepOptions,
    attention: Vec<(AttentionSpec, u64)>,
    kv_per_token: u64,
    state_per_seq: u64,
    budget: MemoryBudget,
    memo: Memoised,
}

fn sys_err(e: xpusim_system::SystemError) -> ServeError {
    ServeError::System(e.to_string())
}

/// A system preset name or TOML path.
pub fn load_system(name_or_path: &str) -> Result<System, ServeError> {
    xpusim_system::load_system(name_or_path).map_err(sys_err)
}

impl SystemStepModel {
    pub fn new(
        cfg: TransformerConfig,
        sys: System,
        tp: u64,
        opts: StepOptions,
    ) -> Result<SystemStepModel, ServeError> {
        if tp == 0 || tp > sys.spec.count {
            return Err(ServeError::invalid(
                "tp",
                format!(
                    "expected 1..={} devices of {}, got {tp}",
                    sys.spec.count, sys.spec.name
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
        let eval = |rows: u64, ctx: u64| -> Result<SystemCost, ServeError> {
            let g = decode_graph(&cfg, &opts, rows, ctx)?;
            evaluate(&g, &sys, &par, &Options::default()).map_err(sys_err)
        };
        const SPAN: u64 = 1024;
        let (c1, c2) = (eval(1, 1)?, eval(1, 1 + SPAN)?);
        let kv_per_device = c2
            .kv_cache_per_device_bytes
            .saturating_sub(c1.kv_cache_per_device_bytes)
            / SPAN;
        // At context 1 the cache holds 2 positions (plus the appended one) and the state.
        let state_per_device = c1
            .kv_cache_per_device_bytes
            .saturating_sub(3 * kv_per_device);
        let big = eval(opts.max_batched_tokens, 1)?;
        let g1 = decode_graph(&cfg, &opts, 1, 1)?;
        let attention = shard(&g1, &par)
            .map_err(sys_err)?
            .ops
            .iter()
            .filter_map(|p| match &p.op.kind {
                OpKind::Attention(a) => Some((*a, p.op.repeat)),
                _ => None,
            })
            .collect();
        let memory = sys.device.offchip().capacity_bytes * tp;
        let budget = budget(
            memory,
            opts.memory_utilization,
            c1.weights_per_device_bytes * tp,
            big.activations_per_device_bytes * tp,
        )?;
        Ok(SystemStepModel {
            cfg,
            sys,
            par,
            opts,
            attention,
            kv_per_token: kv_per_device * tp,
            state_per_seq: state_per_device * tp,
            budget,
            memo: Memoised::default(),
        })
    }

    /// [`SystemStepModel::new`] on a system preset name or TOML path.
    pub fn load(
        cfg: TransformerConfig,
        system: &str,
        tp: u64,
        opts: StepOptions,
    ) -> Result<SystemStepModel, ServeError> {
        SystemStepModel::new(cfg, load_system(system)?, tp, opts)
    }

    /// The system's cited rental price, USD per device-hour, if any.
    pub fn price_per_device_hour(&self) -> Option<f64> {
        self.sys.spec.price_usd_per_device_hour
    }

    pub fn step_exact(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        self.memo.step_exact(self, it)
    }

    fn tp(&self) -> f64 {
        self.par.tp as f64
    }
}

impl Backend for SystemStepModel {
    fn pass(&self, rows: u64) -> Result<([f64; 2], [f64; 2]), ServeError> {
        let g = decode_graph(&self.cfg, &self.opts, rows, 1)?;
        let c = evaluate(&g, &self.sys, &self.par, &Options::default()).map_err(sys_err)?;
        let (mut body, mut head) = ([0.0; 2], [0.0; 2]);
        for op in &c.ops {
            let slot = if op.role == OpRole::LmHead {
                &mut head
            } else if op.kind == "attention" {
                continue;
            } else {
                &mut body
            };
            slot[0] += op.time_s;
            slot[1] += op.energy_j;
        }
        // Per-op energies are one device's dynamic energy: scale to the group, add idle.
        let idle_w = self.sys.device.power.idle_w;
        for s in [&mut body, &mut head] {
            s[1] = self.tp() * (s[1] + idle_w * s[0]);
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
            let c =
                cost_op(&op, &self.sys.device).map_err(|e| ServeError::Engine(e.to_string()))?;
            acc[0] += c.time_s * *repeat as f64;
            acc[1] += c.energy_j * *repeat as f64 * self.tp();
        }
        Ok(acc)
    }
}

impl StepModel for SystemStepModel {
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
        self.par.tp
    }

    fn idle_power_w(&self) -> f64 {
        self.sys.device.power.idle_w * self.tp()
    }

    /// Every device of the group sends its own KV shard over its scale-up port at once;
    /// a point-to-point send pays the fabric's base latency.
    fn kv_link(&self) -> Option<crate::KvLink> {
        let up = &self.sys.spec.scale_up;
        Some(crate::KvLink {
            bandwidth_bytes_per_s: up.bandwidth_gbps * 1e9 * self.tp(),
            latency_s: up.base_latency_us * 1e-6,
        })
    }

    fn hardware(&self) -> String {
        format!(
            "{} ({}) tp={}",
            self.sys.spec.name, self.sys.device.name, self.par.tp
        )
    }
}
