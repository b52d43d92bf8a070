//! One pass of a model on a target: the only composition of op costs into a model cost.
//!
//! - The graph is rewritten into what one device runs ([`xpusim_system::shard`]: tensor and
//!   expert parallelism from the ops' roles); on a single device it is the graph itself.
//! - The target's cost model ([`xpusim_engine::CostModel`]: analytical engine, mapping
//!   search, PIM placement) prices the device's compute ops; collectives of a system are
//!   priced on its topology ([`xpusim_system::collective`]), plus one kernel launch each.
//! - Ops run back to back. Communication is **not** overlapped with compute by default:
//!   Megatron-LM's TP all-reduces sit on the critical path between dependent GEMMs, and
//!   decode steps are too short to hide them. With `overlap_comm` each collective overlaps
//!   the compute op that follows it (decomposed GEMM + collective, Wang et al., ASPLOS 2023).
//!   A cost model may hide time across ops (PIM head pipelining); that is taken off the
//!   layers' time.
//! - Pipeline: the ops of the model's layer stack (those with a layer index, set by the
//!   frontend) are spread over `pp` stages, `⌈L/pp⌉` layers on the busiest; the embedding
//!   joins the first stage and the head the last. With `m` micro-batches (the graph given is
//!   ONE micro-batch), one batch takes `(m + pp − 1)·t_stage + (pp − 1)·t_send` (GPipe,
//!   Huang et al. 2019).
//! - Energy: every device's dynamic energy of its ops (arithmetic, memory levels, PIM),
//!   static power of every device the layout uses for the whole latency, the used nodes'
//!   non-accelerator power and link energy per byte where the system cites them.
//! - Memory: a device must hold the weights and the KV cache (single device: reported, not
//!   an error); a system's device its weight shard, KV cache and largest live activations,
//!   less what a PIM model placed in its PIM stacks.

use std::collections::{BTreeMap, BTreeSet};

use xpusim_engine::{Bound, CostModel, OpCost};
use xpusim_hw::{DecodeAttention, DeviceSpec, Hardware, System};
use xpusim_ir::{DType, Graph, Op, OpKind, OpRole, Phase, Role};
use xpusim_system::shard::{shard, DeviceGraph, PlacedOp};
use xpusim_system::{collective, send, Parallelism, SystemError};

use crate::result::{EnergyBreakdown, ModelCost, OpReport, PimReport, SystemReport};
use crate::{Layout, Target, TargetError};

/// Evaluates one pass of `g` (built for one micro-batch) on `t`.
pub fn evaluate(g: &Graph, t: &Target) -> Result<ModelCost, TargetError> {
    // A runtime whose decode kernel runs one query head per thread block prices the
    // decode attention so (xpusim_ir::per_query_head); graphs without decode attention
    // (prefill, training, CNNs) are evaluated as they are, uncopied.
    let per_head = t
        .runtime
        .as_ref()
        .is_some_and(|r| r.decode_attention == DecodeAttention::PerQueryHead);
    // A runtime that compiles the network (TensorRT) runs the pointwise ops after each
    // inference GEMM in its epilogue (xpusim_ir::Graph::fuse_matmul_epilogues).
    let gemm_epilogues =
        g.phase != Phase::Train && t.runtime.as_ref().is_some_and(|r| r.fuse_gemm_epilogues);
    let per_head = per_head && g.has_unmarked_decode_attention();
    if !(per_head || gemm_epilogues) {
        return evaluate_marked(g, t);
    }
    let mut marked = g.clone();
    if per_head {
        marked.decode_per_query_head();
    }
    if gemm_epilogues {
        marked.fuse_matmul_epilogues();
    }
    evaluate_marked(&marked, t)
}

fn evaluate_marked(g: &Graph, t: &Target) -> Result<ModelCost, TargetError> {
    match (&t.hw, t.layout) {
        (Hardware::Device(dev), Layout::Auto) => compose(g, t, dev, None, &Parallelism::default()),
        (Hardware::Device(dev), Layout::Fixed(p)) => {
            if p.devices() > 1 || p.ep > 1 || p.microbatches > 1 {
                return Err(TargetError::Target(format!(
                    "{p} needs a multi-device system, but `{}` is one device (see `xpusim list \
                     systems`)",
                    dev.name
                )));
            }
            compose(g, t, dev, None, &p)
        }
        (Hardware::System(sys), Layout::Fixed(p)) => compose(g, t, &sys.device, Some(sys), &p),
        (Hardware::System(sys), Layout::Auto) => auto(g, t, sys),
    }
}

/// The smallest tensor-parallel group (then pipeline depth) whose devices hold the model;
/// the rest of the system runs data-parallel replicas.
fn auto(g: &Graph, t: &Target, sys: &System) -> Result<ModelCost, TargetError> {
    let (count, per_node) = (sys.spec.count, sys.spec.devices_per_node);
    let mut last: Option<ModelCost> = None;
    let mut first_err: Option<TargetError> = None;
    let mut layouts = Vec::new();
    let mut tp = 1;
    while tp <= per_node {
        layouts.push((tp, 1));
        tp *= 2;
    }
    let tp_max = layouts.last().map_or(1, |l| l.0);
    let mut pp = 2;
    while tp_max * pp <= count {
        layouts.push((tp_max, pp));
        pp *= 2;
    }
    for (tp, pp) in layouts {
        let par = Parallelism {
            tp,
            pp,
            dp: (count / (tp * pp)).max(1),
            ..Default::default()
        };
        match compose(g, t, &sys.device, Some(sys), &par) {
            Ok(c) if c.fits_in_memory => return Ok(c),
            Ok(c) => last = Some(c),
            // A layout the model cannot take (nothing to split, heads that do not divide,
            // more stages than layers): try the next.
            Err(TargetError::System(SystemError::Layout { .. })) if tp > 1 || pp > 1 => {}
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(e);
                }
            }
        }
    }
    match (last, first_err) {
        (Some(c), _) => Ok(c),
        (None, Some(e)) => Err(e),
        (None, None) => Err(TargetError::Target(format!(
            "no layout of `{}` on {} devices could be evaluated",
            g.name, count
        ))),
    }
}

/// One device's priced op: the op, how it was placed, and its cost for ONE instance.
struct Priced<'a> {
    placed: &'a PlacedOp<'a>,
    cost: OpCost,
    comm: bool,
}

fn stage_of(op: &Op, seen_layer: bool) -> &'static str {
    if op.layer.is_some() {
        "layers"
    } else if seen_layer {
        "post"
    } else {
        "pre"
    }
}

/// Prices the device graph: compute ops by the cost model, collectives by the topology.
fn price<'a>(
    dg: &'a DeviceGraph,
    model: &dyn CostModel,
    sys: Option<&System>,
) -> Result<(Vec<Priced<'a>>, f64), TargetError> {
    let (costs, overlap_s) = price_ops(dg, model, sys)?;
    let out = dg
        .ops
        .iter()
        .zip(costs)
        .map(|(p, cost)| Priced {
            comm: sys.is_some() && matches!(p.op.kind, OpKind::Collective { .. }),
            placed: p,
            cost,
        })
        .collect();
    Ok((out, overlap_s))
}

/// The cost of one instance of every op of a device graph, in its order: compute ops by
/// the cost model, a system's collectives on its topology plus one kernel launch each
/// (NCCL launches one per call); with the time the cost model hid across ops.
pub fn price_ops(
    dg: &DeviceGraph,
    model: &dyn CostModel,
    sys: Option<&System>,
) -> Result<(Vec<OpCost>, f64), TargetError> {
    let dev = model.device();
    let comm = |o: &Op| sys.is_some() && matches!(o.kind, OpKind::Collective { .. });
    let compute: Vec<&Op> = dg
        .ops
        .iter()
        .filter(|p| !comm(&p.op))
        .map(|p| &*p.op)
        .collect();
    let costed = model.cost_ops(&compute)?;
    let mut it = costed.ops.into_iter();
    let mut out = Vec::with_capacity(dg.ops.len());
    for p in &dg.ops {
        let cost = match (&p.op.kind, sys) {
            (OpKind::Collective { kind, bytes, group }, Some(s)) => {
                let c = collective(&s.spec, *kind, *bytes, *group)?;
                network_cost(s, dev, c)
            }
            _ => it.next().ok_or_else(|| {
                TargetError::Target(format!(
                    "cost model `{}` returned fewer costs than ops",
                    model.label()
                ))
            })?,
        };
        out.push(cost);
    }
    Ok((out, costed.overlap_s))
}

/// A priced collective as an op cost: its wire time plus one kernel launch, the link
/// energy per byte the system cites and the device's idle power meanwhile.
pub fn network_cost(s: &System, dev: &DeviceSpec, c: xpusim_system::CollectiveCost) -> OpCost {
    let launch = if c.time_s > 0.0 {
        dev.overhead.launch_us * 1e-6
    } else {
        0.0
    };
    let time_s = c.time_s + launch;
    let link_pj = s
        .spec
        .scale_up
        .as_ref()
        .and_then(|u| u.energy_pj_per_byte)
        .unwrap_or(0.0);
    let mut oc = OpCost {
        compute_s: 0.0,
        traffic: vec![xpusim_engine::LevelTraffic {
            level: "network".into(),
            bytes: c.wire_bytes as u64,
            time_s: c.time_s,
            energy_j: c.wire_bytes * link_pj * 1e-12,
        }],
        overhead_s: launch,
        time_s,
        energy_j: 0.0,
        compute_energy_j: 0.0,
        pim_energy_j: 0.0,
        idle_energy_j: dev.power.idle_w * time_s,
        bound: Bound::Network,
        mapping: c.algorithm,
        pim: None,
    };
    oc.sum_energy();
    oc
}

fn compose(
    g: &Graph,
    t: &Target,
    dev: &DeviceSpec,
    sys: Option<&System>,
    par: &Parallelism,
) -> Result<ModelCost, TargetError> {
    par.check()?;
    let totals = g.totals();
    let count = sys.map_or(1, |s| s.spec.count);
    let used = par.devices();
    if used > count {
        return Err(SystemError::Layout {
            layout: par.to_string(),
            msg: format!(
                "needs tp·pp·dp = {used} devices but {} has {count}",
                t.name()
            ),
        }
        .into());
    }
    let layers = g.layer_count().max(1);
    if par.pp > layers {
        return Err(SystemError::Layout {
            layout: par.to_string(),
            msg: format!(
                "pp = {} exceeds the model's {layers} layer(s) (pipeline stages split the layer \
                 stack its frontend marked)",
                par.pp
            ),
        }
        .into());
    }
    // SRAM-only chips run the model out of on-chip memory when one device's share fits.
    let largest_op = g.ops.iter().map(|o| o.bytes_total()).max().unwrap_or(0);
    let share = (par.tp * par.pp).max(1);
    let dev = &*dev.for_model((totals.weight_bytes + totals.kv_cache_bytes) / share + largest_op);
    let model = t.cost_model(dev)?;
    let dg = shard(g, par)?;
    let (priced, overlap_s) = price(&dg, model.as_ref(), sys)?;
    let stage_share = if par.pp > 1 {
        layers.div_ceil(par.pp) as f64 / layers as f64
    } else {
        1.0
    };

    let mut ops = Vec::with_capacity(if t.op_reports { priced.len() } else { 0 });
    let (mut t_pre, mut t_layers, mut t_post) = (0.0, 0.0, 0.0);
    let (mut comp, mut comm, mut hidden) = (0.0, 0.0, 0.0);
    let mut energy = EnergyBreakdown::default();
    let mut flops_dev = 0u64;
    let mut macs_dev = 0u64;
    let mut by_bound: BTreeMap<Bound, f64> = BTreeMap::new();
    let mut macs_by_dtype: BTreeMap<DType, u64> = BTreeMap::new();
    let (mut host_s, mut pim_s, mut link_s, mut pim_bytes) = (0.0, 0.0, 0.0, 0u64);
    // The cost model's static power while the device works (leakage for a mapped array,
    // idle power for the analytical engine), from its ops' static energy over their time.
    let (mut static_j, mut busy_s) = (0.0, 0.0);
    let mut seen_layer = false;
    let mut pending_comm: Option<f64> = None;
    for p in &priced {
        let op = &p.placed.op;
        let r = op.repeat as f64;
        seen_layer |= op.layer.is_some();
        let stage = stage_of(op, seen_layer);
        let tt = p.cost.time_s * r;
        let w = if op.layer.is_some() { stage_share } else { 1.0 };
        let mut bucket = tt;
        if p.comm {
            comm += tt * w;
            if t.overlap_comm {
                pending_comm = Some(tt);
            }
        } else {
            comp += tt * w;
            if let Some(c) = pending_comm.take() {
                // The collective hides behind this op up to the op's own time.
                let h = c.min(tt);
                hidden += h * w;
                comm -= h * w;
                bucket -= h;
            }
        }
        match stage {
            "layers" => t_layers += bucket,
            "pre" => t_pre += bucket,
            _ => t_post += bucket,
        }
        energy.add_op(&p.cost, r);
        static_j += p.cost.idle_energy_j * r;
        busy_s += tt;
        // Per-op totals fit u64 (xpusim_ir::MAX_WORK); their sum saturates, never wraps.
        flops_dev = flops_dev.saturating_add(op.flops() * op.repeat);
        macs_dev = macs_dev.saturating_add(op.macs() * op.repeat);
        *by_bound.entry(p.cost.bound.clone()).or_default() += tt * w;
        let by_dtype = macs_by_dtype.entry(op.compute_dtype).or_default();
        *by_dtype = by_dtype.saturating_add(op.macs() * op.repeat);
        let pim_fraction = p.cost.pim.map(|s| s.fraction);
        let on_pim = pim_fraction.unwrap_or(0.0).min(1.0);
        if !p.comm {
            host_s += tt * (1.0 - on_pim);
        }
        if let Some(s) = p.cost.pim {
            if s.fraction > 0.0 {
                pim_s += tt * on_pim;
                link_s += s.link_s * r;
                let resident =
                    (op.bytes_by_role(Role::Weight) + op.bytes_by_role(Role::KvCache)) * op.repeat;
                pim_bytes += (resident as f64 * s.fraction).round() as u64;
                if matches!(op.role, OpRole::KvAppend(_)) && s.fraction >= 1.0 {
                    pim_bytes += op.bytes_by_role(Role::Output) * op.repeat;
                }
            }
        }
        if !t.op_reports {
            continue;
        }
        let mut traffic_bytes = BTreeMap::new();
        for l in &p.cost.traffic {
            // Tiled re-reads can exceed the compulsory bytes MAX_WORK bounds: saturate.
            let t = traffic_bytes.entry(l.level.clone()).or_default();
            *t = l.bytes.saturating_mul(op.repeat).saturating_add(*t);
        }
        let mut energy_parts = EnergyBreakdown::default();
        energy_parts.add_op(&p.cost, r);
        energy_parts.idle_j = p.cost.idle_energy_j * r;
        ops.push(OpReport {
            name: op.name.clone(),
            kind: op.kind.family().to_string(),
            role: op.role,
            repeat: op.repeat,
            flops: op.flops() * op.repeat,
            macs: op.macs() * op.repeat,
            bytes: op.bytes_total() * op.repeat,
            traffic_bytes,
            time_s: tt,
            energy_j: p.cost.energy_j * r,
            bound: p.cost.bound.clone(),
            mapping: p.cost.mapping.clone(),
            placement: sys.map(|_| p.placed.placement.label().to_string()),
            stage: sys.map(|_| stage.to_string()),
            pim_fraction,
            energy_parts,
        });
    }
    // Time the cost model hid across ops (PIM head pipelining) is in the layers.
    t_layers = (t_layers - overlap_s).max(0.0);
    let stage_time = if par.pp > 1 {
        t_layers * stage_share + t_pre.max(t_post)
    } else {
        t_pre + t_layers + t_post
    };
    let act_bytes = g
        .ops
        .iter()
        .rev()
        .find(|o| o.layer.is_some())
        .map(|o| o.bytes_by_role(Role::Output))
        .unwrap_or(0);
    let t_send = match sys {
        Some(s) if par.pp > 1 => send(&s.spec, act_bytes, par.tp).time_s,
        _ => 0.0,
    };
    // The runtime's host work: the issue time the device waited for (over the device's
    // whole graph, shared out to the busiest stage by its share of the device time) and the
    // engine step's serial host work, once per pass.
    let runtime = t.runtime.as_ref().map(|rt| {
        let (q, mut rep) = crate::runtime::issue(
            rt,
            g.phase,
            priced.iter().map(|p| (p.placed.op.as_ref(), p.cost.time_s)),
        );
        let device_s: f64 = priced
            .iter()
            .map(|p| p.cost.time_s * p.placed.op.repeat as f64)
            .sum();
        let share = if device_s > 0.0 {
            (stage_time / device_s).min(1.0)
        } else {
            1.0
        };
        rep.exposed_issue_s = (q.device_s - device_s).max(0.0) * share;
        rep.step_s = rt
            .step
            .map_or(0.0, |s| s.time_s(g.batch * par.microbatches, par.tp));
        rep
    });
    let stage_time = stage_time + runtime.as_ref().map_or(0.0, |r| r.exposed_issue_s);
    let (m, ppf) = (par.microbatches as f64, par.pp as f64);
    let latency = if par.pp > 1 {
        (m + ppf - 1.0) * stage_time + (ppf - 1.0) * t_send
    } else {
        m * stage_time
    } + runtime.as_ref().map_or(0.0, |r| r.step_s);
    let latency = latency.max(f64::MIN_POSITIVE);

    // Energy of the devices the layout uses for one pass of every replica: their dynamic
    // energy, their static power and the overhead power of the nodes they occupy. Devices a
    // layout leaves unused are not part of the job (per-device and per-sample figures
    // divide by what ran).
    let busy = (par.tp * par.dp * par.microbatches) as f64;
    scale(&mut energy, busy);
    let static_w = if busy_s > 0.0 {
        static_j / busy_s
    } else {
        dev.power.idle_w
    };
    energy.idle_j = static_w * used as f64 * latency;
    energy.node_j = t.node_overhead_w(used) * latency;
    let energy_j = energy.total_j();

    let pim = t.pim();
    // PIM modules beside the device hold what PIM took; PIM in the device's own memory does
    // not add capacity.
    let beside = pim.as_ref().filter(|p| !p.in_device_memory);
    let memory = memory(
        g,
        &dg,
        par,
        stage_share,
        sys.is_some(),
        beside.map_or(0, |_| pim_bytes),
    );
    let pim_capacity = pim.as_ref().map_or(0, |p| p.capacity_per_device_bytes());
    let capacity = dev.offchip().capacity_bytes;
    let fits = memory.needed <= capacity && pim_bytes <= pim_capacity;

    let batch = g.batch * par.microbatches;
    let samples = (batch * par.dp) as f64;
    // Every replica and micro-batch runs the graph's tokens (a packed pass: its
    // `Σ count · len`, not `batch · tokens_per_sample`).
    let tokens = (par.microbatches * par.dp) as f64 * g.tokens() as f64;
    let compute_dtype = macs_by_dtype
        .iter()
        .max_by_key(|(_, m)| **m)
        .map(|(d, _)| *d)
        .unwrap_or(dev.natural_dtype);
    let flops = flops_dev * (par.tp * par.dp * par.microbatches);
    let peak = dev.matrix_flops(compute_dtype).0 * used as f64;
    let achieved = flops as f64 / latency;
    let bound = by_bound
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(b, _)| b.clone())
        .unwrap_or(Bound::Overhead);
    let system = sys.map(|s| SystemReport {
        name: s.spec.name.clone(),
        count: s.spec.count,
        parallelism: *par,
        stage_time_s: stage_time,
        bubble_fraction: (ppf - 1.0) / (m + ppf - 1.0),
        compute_s: comp,
        communication_s: comm.max(0.0),
        hidden_communication_s: hidden,
        pipeline_send_s: t_send,
        weights_per_device_bytes: memory.weights,
        kv_cache_per_device_bytes: memory.kv,
        activations_per_device_bytes: memory.activations,
        usd_per_million_tokens: s
            .spec
            .price_usd_per_device_hour
            .map(|p| p * used as f64 * latency / 3600.0 / tokens * 1e6),
    });
    let pim = pim.as_ref().map(|p| PimReport {
        memory: p.spec.name.clone(),
        placement: t
            .pim_placement()
            .map_or("host-only", |p| p.label())
            .to_string(),
        host_s,
        pim_s,
        link_s,
        overlap_s,
        pim_bytes,
        pim_capacity_bytes: pim_capacity,
    });
    Ok(ModelCost {
        model: g.name.clone(),
        hardware: t.name().to_string(),
        target: t.kind(),
        device: dev.name.clone(),
        devices: used,
        cost_model: model.label(),
        phase: g.phase.name().to_string(),
        precision: String::new(),
        batch,
        tokens_per_sample: g.tokens_per_sample,
        latency_s: latency,
        throughput_per_s: samples / latency,
        tokens_per_s: tokens / latency,
        flops,
        macs: macs_dev * (par.tp * par.dp * par.microbatches),
        params: totals.params,
        active_params: totals.active_params,
        weight_bytes: totals.weight_bytes,
        kv_cache_bytes: totals.kv_cache_bytes,
        activation_bytes: totals.activation_bytes,
        energy_j,
        energy_per_sample_j: energy_j / samples.max(1.0),
        energy_breakdown: energy,
        bound,
        time_by_bound: by_bound.into_iter().map(|(b, t)| (b.label(), t)).collect(),
        achieved_tflops: achieved / 1e12,
        peak_tflops: peak / 1e12,
        utilization: achieved / peak,
        offchip_bandwidth_bps: dev.offchip().sustained_bps(),
        memory_required_bytes: memory.needed,
        memory_capacity_bytes: capacity,
        fits_in_memory: fits,
        unknown_ops: g.unknown_ops(),
        system,
        pim,
        runtime,
        seq_dist: g.seq_dist.clone(),
        ops,
    })
}

fn scale(e: &mut EnergyBreakdown, f: f64) {
    e.compute_j *= f;
    e.pim_j *= f;
    e.network_j *= f;
    for v in e.memory_j.values_mut() {
        *v *= f;
    }
}

/// What the busiest device must hold.
struct Memory {
    weights: u64,
    kv: u64,
    activations: u64,
    needed: u64,
}

fn weight_bytes(w: &xpusim_ir::Weight, shards: &BTreeMap<String, u64>) -> u64 {
    (w.dtype.bytes(w.shape.iter().product::<u64>()) * w.count)
        .div_ceil(*shards.get(&w.name).unwrap_or(&1))
}

/// Memory of the busiest device. A single device holds the weights and the KV cache. On a
/// system the busiest stage holds its share of the layers plus the embedding (first stage)
/// or the head (last stage), whichever is larger (a tied table is on both), the KV cache of
/// every micro-batch in flight and the largest op's live activations; bytes a PIM model
/// placed in PIM stacks are not on the device.
fn memory(
    g: &Graph,
    dg: &DeviceGraph,
    par: &Parallelism,
    share: f64,
    system: bool,
    pim_bytes: u64,
) -> Memory {
    if !system {
        let t = g.totals();
        let needed = (t.weight_bytes + t.kv_cache_bytes).saturating_sub(pim_bytes);
        return Memory {
            weights: t.weight_bytes,
            kv: t.kv_cache_bytes,
            activations: 0,
            needed,
        };
    }
    let (mut layer_t, mut pre_t, mut post_t) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut after_layers = false;
    for o in &g.ops {
        after_layers |= o.layer.is_some();
        let set = if o.layer.is_some() {
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
    let (mut w_layer, mut w_pre, mut w_post, mut tied) = (0u64, 0u64, 0u64, 0u64);
    for wt in &g.weights {
        let b = weight_bytes(wt, &dg.weight_shards);
        let n = wt.name.as_str();
        if layer_t.contains(n) {
            w_layer += b;
        } else if post_t.contains(n) {
            w_post += b;
            if pre_t.contains(n) {
                w_pre += b;
                tied += b;
            }
        } else {
            // Used before the layers, or declared without an op (stays with the first stage).
            w_pre += b;
        }
    }
    let weights = if par.pp > 1 {
        (w_layer as f64 * share).ceil() as u64 + w_pre.max(w_post)
    } else {
        w_layer + w_pre + w_post - tied
    };
    let mut kv = 0u64;
    let mut activations = 0u64;
    for p in &dg.ops {
        let o = &p.op;
        let mut k = o.bytes_by_role(Role::KvCache);
        if matches!(o.role, OpRole::KvAppend(_)) {
            k += o.bytes_by_role(Role::Output);
        }
        kv += k * o.repeat;
        activations = activations.max(o.bytes_by_role(Role::Input) + o.bytes_by_role(Role::Output));
    }
    // Every micro-batch in flight keeps its KV cache.
    let kv = ((kv as f64) * share).ceil() as u64 * par.microbatches;
    Memory {
        weights,
        kv,
        activations,
        needed: (weights + kv + activations).saturating_sub(pim_bytes),
    }
}
