//! A model on a system: tensor/expert sharding ([`crate::shard`]), pipeline stages,
//! data-parallel replicas, memory check, time, energy and price.
//!
//! Composition (one replica = `tp·pp` devices; `dp` replicas run independent batches):
//! - Every op of the per-device graph is costed by the engine (`cost_op`) on the device;
//!   collectives by [`crate::collective`] over the system's topology.
//! - Ops run back to back. Communication is **not** overlapped with compute by default:
//!   Megatron-LM's TP all-reduces sit on the critical path between dependent GEMMs, and
//!   decode steps are too short to hide them. With `overlap_comm` each collective overlaps
//!   the compute op that follows it (decomposed GEMM + collective, Wang et al., ASPLOS 2023),
//!   costing `max(comm, next op)` for the pair.
//! - Pipeline: the ops of the model's layer stack (those with a [`xpusim_ir::Op::layer`],
//!   set by the frontend) are spread over `pp` stages,
//!   `⌈L/pp⌉` layers on the busiest; the embedding joins the first stage and the head the
//!   last. With `m` micro-batches (the graph given is ONE micro-batch), one batch takes
//!   `(m + pp − 1)·t_stage + (pp − 1)·t_send` (GPipe, Huang et al. 2019): the bubble is
//!   `(pp − 1)/(m + pp − 1)` of the time.
//! - Energy: dynamic energy of every device's ops, idle power of every device of the system
//!   for the whole latency, the nodes' non-accelerator power (when cited) and link energy
//!   per byte (when cited).

use serde::Serialize;
use xpusim_engine::cost_op;
use xpusim_ir::{Graph, OpKind, OpRole, Role};

use crate::collective::{collective, send};
use crate::shard::{shard, Placement};
use crate::{Parallelism, System, SystemError};

/// Options that change how the system is modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Options {
    /// Overlap each collective with the following compute op (see module docs).
    pub overlap_comm: bool,
}

/// Per-op line of a system report: one device's view, all `repeat`s included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemOpReport {
    pub name: String,
    pub kind: String,
    /// What the op is for (from its frontend), which decided its placement.
    #[serde(skip_serializing_if = "OpRole::is_replicated")]
    pub role: OpRole,
    pub repeat: u64,
    /// replicated | column | row | heads | split | experts | comm
    pub placement: String,
    /// pre | layers | post (pipeline placement)
    pub stage: String,
    pub flops_per_device: u64,
    pub time_s: f64,
    pub energy_j: f64,
    pub bound: String,
    pub mapping: String,
}

/// The cost of one batch of a model on a system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemCost {
    pub model: String,
    pub system: String,
    pub device: String,
    pub phase: String,
    pub parallelism: Parallelism,
    pub devices_used: u64,
    /// Sequences per replica per pass (micro-batch × micro-batches).
    pub batch: u64,
    pub tokens_per_sample: u64,
    pub latency_s: f64,
    /// Samples per second over all `dp` replicas.
    pub throughput_per_s: f64,
    pub tokens_per_s: f64,
    /// Busiest pipeline stage for one micro-batch.
    pub stage_time_s: f64,
    pub bubble_fraction: f64,
    /// Time of one micro-batch on one device spent computing / communicating (exposed) /
    /// communicating behind compute; layer ops weighted by one stage's share of the layers,
    /// embedding and head both included.
    pub compute_s: f64,
    pub communication_s: f64,
    pub hidden_communication_s: f64,
    pub pipeline_send_s: f64,
    /// FLOPs of one pass summed over all devices of all replicas.
    pub flops: u64,
    pub energy_j: f64,
    pub energy_per_token_j: f64,
    pub weights_per_device_bytes: u64,
    pub kv_cache_per_device_bytes: u64,
    pub activations_per_device_bytes: u64,
    pub memory_needed_per_device_bytes: u64,
    pub memory_capacity_bytes: u64,
    /// Rental cost of the devices used per million tokens, when the system cites a price.
    pub usd_per_million_tokens: Option<f64>,
    pub ops: Vec<SystemOpReport>,
}

/// Evaluates `micro` — the graph of ONE micro-batch — on `sys` with layout `par`.
pub fn evaluate(
    micro: &Graph,
    sys: &System,
    par: &Parallelism,
    opts: &Options,
) -> Result<SystemCost, SystemError> {
    par.check()?;
    let dev = &sys.device;
    let spec = &sys.spec;
    let used = par.devices();
    let lay = |msg: String| SystemError::Layout {
        layout: par.to_string(),
        msg,
    };
    if used > spec.count {
        return Err(lay(format!(
            "needs tp·pp·dp = {used} devices but {} has {}",
            spec.name, spec.count
        )));
    }
    let layers = micro.layer_count().max(1);
    if par.pp > layers {
        return Err(lay(format!(
            "pp = {} exceeds the model's {layers} layer(s) (pipeline stages split the layer \
             stack its frontend marked)",
            par.pp
        )));
    }
    let dg = shard(micro, par)?;
    let per_stage = layers.div_ceil(par.pp);
    let share = if par.pp > 1 {
        per_stage as f64 / layers as f64
    } else {
        1.0
    };

    // Cost every op of the per-device graph.
    let mut rows = Vec::with_capacity(dg.ops.len());
    let (mut t_pre, mut t_layers, mut t_post) = (0.0, 0.0, 0.0);
    let (mut comp, mut comm, mut hidden) = (0.0, 0.0, 0.0);
    let (mut dyn_j, mut wire_bytes, mut flops_dev) = (0.0, 0.0, 0u64);
    let mut seen_layer = false;
    let mut pending_comm: Option<f64> = None;
    for p in &dg.ops {
        let op = &p.op;
        let r = op.repeat as f64;
        let layer = op.layer.is_some();
        seen_layer |= layer;
        let stage = if layer {
            "layers"
        } else if seen_layer {
            "post"
        } else {
            "pre"
        };
        let (mut t, energy, bound, mapping) = match &op.kind {
            OpKind::Collective { kind, bytes, group } => {
                let c = collective(spec, *kind, *bytes, *group)?;
                wire_bytes += c.wire_bytes * r;
                // A collective is one more kernel on the device (NCCL launches one per call).
                let launch = if c.time_s > 0.0 {
                    dev.overhead.launch_us * 1e-6
                } else {
                    0.0
                };
                (c.time_s + launch, 0.0, "network".to_string(), c.algorithm)
            }
            _ => {
                let c = cost_op(op, dev)?;
                let d = (c.energy_j - dev.power.idle_w * c.time_s).max(0.0);
                (c.time_s, d, c.bound.label(), c.mapping)
            }
        };
        let is_comm = matches!(op.kind, OpKind::Collective { .. });
        t *= r;
        let w = if layer { share } else { 1.0 };
        let mut bucket_t = t;
        if is_comm {
            comm += t * w;
            if opts.overlap_comm {
                pending_comm = Some(t);
            }
        } else {
            comp += t * w;
            if let Some(c) = pending_comm.take() {
                // The collective hides behind this op up to the op's own time.
                let h = c.min(t);
                hidden += h * w;
                comm -= h * w;
                bucket_t -= h;
            }
        }
        match stage {
            "layers" => t_layers += bucket_t,
            "pre" => t_pre += bucket_t,
            _ => t_post += bucket_t,
        }
        dyn_j += energy * r;
        flops_dev += op.flops() * op.repeat;
        rows.push(SystemOpReport {
            name: op.name.clone(),
            kind: op.kind.family().to_string(),
            role: op.role,
            repeat: op.repeat,
            placement: p.placement.label().to_string(),
            stage: stage.to_string(),
            flops_per_device: op.flops() * op.repeat,
            time_s: t,
            energy_j: energy * r,
            bound,
            mapping,
        });
    }
    let stage_time = if par.pp > 1 {
        t_layers * share + t_pre.max(t_post)
    } else {
        t_pre + t_layers + t_post
    };

    // Pipeline: send the last layer's output between stages.
    let act_bytes = micro
        .ops
        .iter()
        .rev()
        .find(|o| o.layer.is_some())
        .and_then(|o| o.operands.iter().find(|x| x.role == Role::Output))
        .map(|x| x.bytes())
        .unwrap_or(0);
    let t_send = if par.pp > 1 {
        send(spec, act_bytes, par.tp).time_s
    } else {
        0.0
    };
    let m = par.microbatches as f64;
    let ppf = par.pp as f64;
    let latency = if par.pp > 1 {
        (m + ppf - 1.0) * stage_time + (ppf - 1.0) * t_send
    } else {
        m * stage_time
    }
    .max(f64::MIN_POSITIVE);
    let bubble = (ppf - 1.0) / (m + ppf - 1.0);

    // Memory of the busiest device.
    // Weights: the busiest stage holds its share of the layers plus the embedding (first
    // stage) or the head (last stage), whichever is larger; a tied table is on both.
    use std::collections::BTreeSet;
    let (mut layer_t, mut pre_t, mut post_t) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut after_layers = false;
    for o in &micro.ops {
        let layer = o.layer.is_some();
        after_layers |= layer;
        let set = if layer {
            &mut layer_t
        } else if after_layers {
            &mut post_t
        } else {
            &mut pre_t
        };
        for x in o.operands.iter().filter(|x| x.role == Role::Weight) {
            set.insert(x.tensor.as_str());
        }
    }
    let (mut w_layer, mut w_pre, mut w_post) = (0u64, 0u64, 0u64);
    for wt in &micro.weights {
        let b = wt.dtype.bytes(wt.shape.iter().product::<u64>()) * wt.count;
        let b = b.div_ceil(*dg.weight_shards.get(&wt.name).unwrap_or(&1));
        let n = wt.name.as_str();
        if layer_t.contains(n) {
            w_layer += b;
        } else if post_t.contains(n) {
            w_post += b;
            if pre_t.contains(n) {
                w_pre += b;
            }
        } else {
            // Used before the layers, or declared without an op (stays with the first stage).
            w_pre += b;
        }
    }
    let weights_pd = if par.pp > 1 {
        (w_layer as f64 * share).ceil() as u64 + w_pre.max(w_post)
    } else {
        w_layer + w_pre + w_post - shared_bytes(&pre_t, &post_t, micro, &dg.weight_shards)
    };
    let mut kv_pd = 0u64;
    let mut act_pd = 0u64;
    for p in &dg.ops {
        let o = &p.op;
        let mut kv = o
            .operands
            .iter()
            .filter(|x| x.role == Role::KvCache)
            .map(|x| x.bytes())
            .sum::<u64>();
        if matches!(o.role, OpRole::KvAppend(_)) {
            kv += o
                .operands
                .iter()
                .filter(|x| x.role == Role::Output)
                .map(|x| x.bytes())
                .sum::<u64>();
        }
        kv_pd += kv * o.repeat;
        let act: u64 = o
            .operands
            .iter()
            .filter(|x| matches!(x.role, Role::Input | Role::Output))
            .map(|x| x.bytes())
            .sum();
        act_pd = act_pd.max(act);
    }
    // Every micro-batch in flight keeps its KV cache.
    let kv_pd = ((kv_pd as f64) * share).ceil() as u64 * par.microbatches;
    let needed = weights_pd + kv_pd + act_pd;
    let capacity = dev.offchip().capacity_bytes;
    if needed > capacity {
        return Err(SystemError::DoesNotFit {
            needed_bytes: needed,
            capacity_bytes: capacity,
            device: dev.name.clone(),
            detail: format!(
                "weights {:.2} GB + KV cache {:.2} GB + activations {:.2} GB per device with {par}; \
                 raise tp or pp, or use a smaller batch, context or precision",
                weights_pd as f64 / 1e9,
                kv_pd as f64 / 1e9,
                act_pd as f64 / 1e9
            ),
        });
    }

    // Energy of the whole system for one pass of every replica.
    let replicas_dyn = dyn_j * (par.tp * par.dp * par.microbatches) as f64;
    let idle = dev.power.idle_w * spec.count as f64 * latency;
    let node = spec
        .node_power
        .as_ref()
        .map(|p| p.overhead_w)
        .unwrap_or(0.0)
        * spec.nodes() as f64
        * latency;
    let link = spec.scale_up.energy_pj_per_byte.unwrap_or(0.0)
        * 1e-12
        * wire_bytes
        * (par.tp * par.dp * par.microbatches) as f64;
    let energy = replicas_dyn + idle + node + link;

    let batch = micro.batch * par.microbatches;
    let samples = (batch * par.dp) as f64;
    let tokens = samples * micro.tokens_per_sample as f64;
    let price = spec
        .price_usd_per_device_hour
        .map(|p| p * used as f64 * latency / 3600.0 / tokens * 1e6);
    Ok(SystemCost {
        model: micro.name.clone(),
        system: spec.name.clone(),
        device: dev.name.clone(),
        phase: micro.phase.name().to_string(),
        parallelism: *par,
        devices_used: used,
        batch,
        tokens_per_sample: micro.tokens_per_sample,
        latency_s: latency,
        throughput_per_s: samples / latency,
        tokens_per_s: tokens / latency,
        stage_time_s: stage_time,
        bubble_fraction: bubble,
        compute_s: comp,
        communication_s: comm.max(0.0),
        hidden_communication_s: hidden,
        pipeline_send_s: t_send,
        flops: flops_dev * (par.tp * par.dp * par.microbatches),
        energy_j: energy,
        energy_per_token_j: energy / tokens,
        weights_per_device_bytes: weights_pd,
        kv_cache_per_device_bytes: kv_pd,
        activations_per_device_bytes: act_pd,
        memory_needed_per_device_bytes: needed,
        memory_capacity_bytes: capacity,
        usd_per_million_tokens: price,
        ops: rows,
    })
}

/// Placement of every op, for callers that want the sharded graph without costing it.
pub fn placements(
    g: &Graph,
    par: &Parallelism,
) -> Result<Vec<(String, Placement, u64)>, SystemError> {
    Ok(shard(g, par)?
        .ops
        .into_iter()
        .map(|p| (p.op.name, p.placement, p.shards))
        .collect())
}

/// Bytes of weights counted in both the pre and post sets (a tied embedding), so a single
/// stage holding both counts them once.
fn shared_bytes(
    pre: &std::collections::BTreeSet<&str>,
    post: &std::collections::BTreeSet<&str>,
    g: &Graph,
    shards: &std::collections::BTreeMap<String, u64>,
) -> u64 {
    g.weights
        .iter()
        .filter(|w| pre.contains(w.name.as_str()) && post.contains(w.name.as_str()))
        .map(|w| {
            (w.dtype.bytes(w.shape.iter().product::<u64>()) * w.count)
                .div_ceil(*shards.get(&w.name).unwrap_or(&1))
        })
        .sum()
}
