//! One training step: forward and backward of every micro-batch through the pipeline,
//! the data-parallel gradient reduction, and the optimizer.
//!
//! 1. The forward graph of one micro-batch (built by the caller at the sequence one device
//!    sees) is differentiated ([`xpusim_ir::autodiff::backward`]), and both passes are
//!    rewritten into what one device of the tensor/expert-parallel group runs
//!    ([`xpusim_system::shard`], with sequence parallelism when asked).
//! 2. The target's cost model prices every op; tensor- and expert-parallel collectives run
//!    on the system's topology in line with the compute, as Megatron-LM runs them.
//! 3. The layers are cut into `pp·v` contiguous chunks (virtual stage `c·pp + d` is chunk
//!    `c` of stage `d`; under DualPipe `pp` stages, device `d` running stage `d` and stage
//!    `pp − 1 − d`, [`Schedule::stage_of`]); the embedding joins the first chunk and the head
//!    and loss the last, each counted as a layer in the cut where the layout says so
//!    ([`TrainLayout::chunk_layers`]).
//!    Recomputation adds the forward (full) or the attention core (selective) to each
//!    chunk's backward; context parallelism adds the gathering of K and V (forward) and
//!    the reduction of their gradients (backward) — all-gather based, as Llama 3 trains
//!    (Dubey et al. 2024, §3.3.2); ZeRO-3 adds the parameter all-gathers and gradient
//!    reduce-scatters of every micro-batch, hidden behind the chunk's compute by prefetch
//!    (PyTorch FSDP, Zhao et al. 2023) where `overlap_dp` is set; a BatchNorm group adds
//!    each BatchNorm's statistics exchange to both passes ([`crate::bn_sync`]).
//!    The communication outside the tensor-parallel graph (context parallelism, ZeRO-3,
//!    the data-parallel reduction, the pipeline's sends) is in [`crate::step_comm`].
//! 4. [`crate::schedule::simulate`] runs the micro-batches through the stages; the bubble
//!    comes from the schedule.
//! 5. After its last backward, each stage reduces its gradients over the data-parallel
//!    group (all-reduce, or reduce-scatter and the parameter all-gather with a distributed
//!    optimizer) — overlapped with the last micro-batch's backward and the next step's
//!    first forward where `overlap_dp` is set — and runs the optimizer over its shard.
//!    The step ends when the slowest stage is done.
//!
//! Memory of each device: 16-bit weights, FP32 gradients and Adam state of its stage,
//! divided over the data-parallel group by the ZeRO stage; the activations autograd stores
//! for every micro-batch the schedule keeps in flight (fewer with recomputation); and
//! working buffers.

use std::collections::BTreeSet;

use xpusim_ir::{autodiff, CollectiveKind, Graph, Op, OpKind, OpRole, Role};
use xpusim_system::shard::{shard, DeviceGraph};
use xpusim_system::Parallelism;
use xpusim_target::{price_ops, EnergyBreakdown, Target};

use crate::layout::{Recompute, TrainLayout};
use crate::optimizer::Optimizer;
use crate::parts::{
    attention_core, expert_all_to_all, gather_experts, layer_groups, params, saved_for_backward,
    split, stored_activations, Params, Work,
};
use crate::result::{StepBreakdown, TrainCost, TrainMemory};
use crate::schedule::{simulate, ChunkTimes, Schedule};
use crate::step_comm::{context_comm, dp_reduce, pipeline_sends, spread, zero3};
use crate::userbuffers;
use crate::TrainError;

/// Builds the forward graph (phase `train`) of one micro-batch: `(samples, sequence
/// length one device sees)`.
pub type Build<'a> = &'a (dyn Fn(u64, u64) -> Result<Graph, TrainError> + Sync);

/// Prices one training step of the model `build` makes, `seq_len` tokens per sample, on
/// `t` under `layout`. A layout that does not fit is returned with `fits = false`;
/// [`crate::train`] turns that into an error with the smallest change that fits.
pub fn step(
    build: Build,
    seq_len: u64,
    t: &Target,
    layout: &TrainLayout,
) -> Result<TrainCost, TrainError> {
    layout.check()?;
    let l = *layout;
    let sys = t.system_spec();
    let count = t.count();
    if l.devices() > count {
        return Err(TrainError::Layout(format!(
            "{l} needs tp·pp·dp·cp = {} devices but `{}` has {count} (a system's `count`, or \
             --nodes)",
            l.devices(),
            t.name()
        )));
    }
    if sys.is_none() && (l.devices() > 1 || l.ep > 1) {
        return Err(TrainError::Layout(format!(
            "{l} needs a multi-device system, but `{}` is one device",
            t.name()
        )));
    }
    if l.cp > 1 && !seq_len.is_multiple_of(2 * l.cp) {
        return Err(TrainError::Layout(format!(
            "context parallelism over {} devices splits the sequence into {} chunks (two per \
             device, for causal load balance); {seq_len} tokens do not divide",
            l.cp,
            2 * l.cp
        )));
    }
    if l.ep > 1 && !(l.dp * l.cp).is_multiple_of(l.ep) {
        return Err(TrainError::Layout(format!(
            "{l}: expert parallelism spreads the experts over ep = {} of the dp·cp = {} \
             data-parallel ranks; ep must divide dp·cp",
            l.ep,
            l.dp * l.cp
        )));
    }
    let m = l.microbatches()?;
    let mut fwd = build(l.micro_batch, seq_len / l.cp)?;
    if l.cp > 1 {
        if l.cp_allgather {
            crate::context::gathered_attention(&mut fwd, seq_len, l.cp);
        } else {
            crate::context::ring_attention(&mut fwd, seq_len, l.cp)?;
        }
    }
    // Model FLOPs are the model's (causal attention on the pairs it scores), counted before
    // the attention is unfused into kernels that compute every score.
    let fwd_flops = fwd.totals().flops;
    if l.unfused_attention {
        fwd.unfuse_attention()?;
    }
    if l.dropout {
        fwd.insert_dropout()?;
    }
    // Stacks with fused training kernels run pointwise chains (BatchNorm, add, activation)
    // as one kernel, forward and backward; eager frameworks do not.
    let fuse = t
        .runtime
        .as_ref()
        .is_some_and(|r| r.fuse_training_pointwise);
    if fuse {
        fwd.fuse_pointwise_chains();
    }
    let mut bwd = autodiff::backward(&fwd)?;
    if fuse {
        bwd.fuse_pointwise_chains();
    }
    // Experts are spread over data-parallel ranks below, not inside the tensor group.
    let par = Parallelism {
        tp: l.tp,
        sp: l.sp,
        ..Default::default()
    };
    let mut dfwd = shard(&fwd, &par)?;
    let mut dbwd = shard(&bwd, &par)?;
    gather_experts(&mut dfwd, l.ep);
    gather_experts(&mut dbwd, l.ep);
    if l.unfused_loss {
        if crate::loss::unfuse(&mut dfwd)? == 0 {
            return Err(TrainError::Layout(format!(
                "an unfused loss is Megatron-LM's cross-entropy, and `{}` ends in no \
                 cross-entropy loss",
                fwd.name
            )));
        }
        crate::loss::unfuse(&mut dbwd)?;
    }
    let dev = t.device_spec();
    let model = t.cost_model(dev)?;
    let (mut cf, _) = price_ops(&dfwd, model.as_ref(), sys)?;
    let (mut cb, _) = price_ops(&dbwd, model.as_ref(), sys)?;
    if l.tp_comm_overlap {
        // The GEMMs the overlapped collectives hide behind run as userbuffers runs them.
        let held_off = t.cost_model(&dev.with_reserved_cores(userbuffers::COMM_SMS))?;
        let (m, h) = (model.as_ref(), held_off.as_ref());
        cf = userbuffers::reprice(&dfwd, cf, &userbuffers::plan(&dfwd, false), l.tp, m, h)?;
        cb = userbuffers::reprice(&dbwd, cb, &userbuffers::plan(&dbwd, true), l.tp, m, h)?;
    }

    let groups = layer_groups(&fwd);
    let layers: u64 = groups.iter().map(|g| g.1).sum();
    let chunks = l.schedule.stages(l.pp);
    let bounds = match l.chunk_layers(layers, chunks) {
        _ if l.pp == 1 => vec![(0, layers as usize); chunks as usize],
        Some(b) if layers >= 2 => b,
        _ => {
            let parts = u64::from(l.embedding_in_split) + u64::from(l.loss_in_split);
            let with = if parts > 0 {
                format!(" (and {parts} counted for the embedding and the loss)")
            } else {
                String::new()
            };
            return Err(TrainError::Layout(format!(
                "{l}: {chunks} pipeline chunks but `{}` has {layers} layer(s) in its stack{with}",
                fwd.name
            )));
        }
    };
    let all = |_: &Op| true;
    // Host issue per kernel under the runtime profile; a replayed graph issues nothing.
    let issue = t
        .runtime
        .as_ref()
        .filter(|r| !r.replays_graph(false))
        .map_or(0.0, |r| r.kernel_issue_s());
    let ov = l.tp_comm_overlap;
    let f = split(&dfwd, &cf, &groups, false, ov, issue, all);
    let b = split(&dbwd, &cb, &groups, true, ov, issue, all);
    // The weight-gradient GEMMs of each layer: what a zero-bubble schedule (DualPipe) defers;
    // the others never split them off, so the layout search does not pay for the pass.
    let wg = (l.schedule == Schedule::DualPipe)
        .then(|| split(&dbwd, &cb, &groups, true, ov, issue, writes_weight_grad));
    let re = match l.recompute {
        Recompute::None => None,
        Recompute::Selective => Some(split(&dfwd, &cf, &groups, false, ov, issue, attention_core)),
        Recompute::Full => Some(split(&dfwd, &cf, &groups, false, ov, issue, |o: &Op| {
            o.layer.is_some()
        })),
    };
    let cp_comm = context_comm(&dfwd, &groups, t, &l)?;
    let bn = crate::bn_sync::batchnorm_sync(&dfwd, &groups, t, &l, &fwd.name)?;
    let prm = params(&fwd, &dfwd, &groups, l.ep);
    if l.ep > 1 && prm.layers.iter().all(|p| p.expert == 0.0) {
        return Err(TrainError::Layout(format!(
            "{l}: `{}` has no mixture-of-experts layers to spread over ep = {}",
            fwd.name, l.ep
        )));
    }
    if let Some(n) = fwd.ops.iter().find_map(|o| match o.kind {
        OpKind::Matmul(mm) if crate::parts::is_expert(o) => Some(mm.batch),
        _ => None,
    }) {
        if l.ep > 1 && !n.is_multiple_of(l.ep) {
            return Err(TrainError::Layout(format!(
                "{l}: {n} routed experts do not divide over ep = {}",
                l.ep
            )));
        }
    }
    let a2a = |dg: &DeviceGraph| -> Result<Vec<Work>, TrainError> {
        if l.ep <= 1 {
            return Ok(vec![Work::default(); layers as usize]);
        }
        expert_all_to_all(dg, &groups, |b| {
            spread(t, CollectiveKind::AllToAll, b, l.ep, l.tp * l.cp)
        })
    };
    let (fa, ba) = (a2a(&dfwd)?, a2a(&dbwd)?);
    let opt = match l.grad_dtype {
        Some(g) => Optimizer::adamw(weight_dtype(&fwd)).with_grads(g),
        None => Optimizer::adamw(weight_dtype(&fwd)),
    };

    let dp_group = l.dp * l.cp;
    let mut stage_f = vec![Vec::new(); l.pp as usize];
    let mut stage_b = vec![Vec::new(); l.pp as usize];
    let mut stage_re = vec![Work::default(); l.pp as usize];
    let mut stage_params = vec![Params::default(); l.pp as usize];
    let v = l.schedule.chunks();
    for c in 0..v {
        for d in 0..l.pp {
            let vs = l.schedule.stage_of(l.pp, d, c);
            let (lo, hi) = bounds[vs as usize];
            let (mut wf, mut wb, mut wr) = (Work::default(), Work::default(), Work::default());
            let mut p = Params::default();
            for i in lo..hi {
                wf.add(&f.layers[i], 1.0);
                wb.add(&b.layers[i], 1.0);
                wf.add(&fa[i], 1.0);
                wb.add(&ba[i], 1.0);
                wf.add(&cp_comm.0, 1.0);
                wb.add(&cp_comm.1, 1.0);
                if let Some(bn) = &bn {
                    wf.add(&bn.layers[i], 1.0);
                    wb.add(&bn.layers[i], 1.0);
                }
                if let Some(r) = &re {
                    wr.add(&r.layers[i], 1.0);
                }
                p.add(&prm.layers[i]);
            }
            if vs == 0 {
                wf.add(&f.pre, 1.0);
                wb.add(&b.pre, 1.0);
                p.add(&prm.pre);
                if let Some(bn) = &bn {
                    wf.add(&bn.pre, 1.0);
                    wb.add(&bn.pre, 1.0);
                }
            }
            if vs + 1 == chunks {
                wf.add(&f.post, 1.0);
                wb.add(&b.post, 1.0);
                p.add(&prm.post);
                if let Some(bn) = &bn {
                    wf.add(&bn.post, 1.0);
                    wb.add(&bn.post, 1.0);
                }
            }
            if l.zero == 3 && dp_group > 1 {
                zero3(&mut wf, &mut wb, &p, &opt, t, &l)?;
            }
            stage_f[d as usize].push(wf);
            stage_b[d as usize].push(wb);
            stage_re[d as usize].add(&wr, 1.0);
            stage_params[d as usize].add(&p);
        }
    }
    // Recomputation runs inside each chunk's backward.
    let times: Vec<Vec<ChunkTimes>> = (0..l.pp as usize)
        .map(|d| {
            (0..v as usize)
                .map(|c| {
                    let vs = l.schedule.stage_of(l.pp, d as u64, c as u64);
                    let (lo, hi) = bounds[vs as usize];
                    let r: f64 = re
                        .as_ref()
                        .map_or(0.0, |r| r.layers[lo..hi].iter().map(Work::time_s).sum());
                    let comm = |w: &Work| w.comm_s.values().sum::<f64>();
                    ChunkTimes {
                        forward_s: stage_f[d][c].time_s(),
                        backward_s: stage_b[d][c].time_s() + r,
                        weight_s: wg
                            .as_ref()
                            .map_or(0.0, |w| w.layers[lo..hi].iter().map(Work::time_s).sum()),
                        forward_comm_s: comm(&stage_f[d][c]),
                        backward_comm_s: comm(&stage_b[d][c]),
                    }
                })
                .collect()
        })
        .collect();
    let sends = pipeline_sends(&dfwd, t, &l)?;
    let tl =
        simulate(l.schedule, &times, m, &sends, !l.sends_overlap()).map_err(TrainError::Layout)?;

    // Per stage: the data-parallel reduction and the optimizer after its last backward.
    let mut tails = Vec::with_capacity(l.pp as usize);
    for d in 0..l.pp as usize {
        let bwd_one: f64 = times[d].iter().map(|c| c.backward_s).sum();
        let fwd_one: f64 = times[d].iter().map(|c| c.forward_s).sum();
        let sp_d = &stage_params[d];
        let mut w = dp_reduce(sp_d, bwd_one, fwd_one, m, &opt, t, &l)?;
        let shard_params = if l.zero >= 1 {
            sp_d.partitioned(l.shard() as f64, l.expert_dp() as f64)
        } else {
            sp_d.total()
        };
        let oc = model.cost_op(&opt.update_op(shard_params.ceil() as u64)?)?;
        w.compute_s += oc.time_s;
        w.energy.add_op(&oc, 1.0);
        w.flops += (opt.flops_per_param as f64) * shard_params;
        tails.push(w);
    }
    let ends: Vec<f64> = (0..l.pp as usize)
        .map(|d| tl.end_s[d] + tails[d].time_s())
        .collect();
    let crit = (0..l.pp as usize)
        .max_by(|a, b| ends[*a].total_cmp(&ends[*b]))
        .unwrap_or(0);
    let step_s = ends[crit].max(f64::MIN_POSITIVE);

    // Breakdown of the critical stage.
    // Micro-batches through each chunk of a device: all of them, except under DualPipe,
    // where each direction's half runs through its own chunk.
    let mf = if l.schedule == Schedule::DualPipe {
        (m / 2) as f64
    } else {
        m as f64
    };
    let mut per_mb = Work::default();
    for c in 0..v as usize {
        per_mb.add(&stage_f[crit][c], 1.0);
        per_mb.add(&stage_b[crit][c], 1.0);
    }
    let busy = tl.busy_s[crit];
    let mut comm = per_mb.comm_s.clone();
    // Communication an overlapping schedule hid behind compute is not on the critical path:
    // what is exposed is the busy time beyond the compute.
    let worked = (per_mb.compute_s + per_mb.host_s) * mf + stage_re[crit].time_s() * mf;
    let comm_total = comm.values().sum::<f64>() * mf;
    let exposed = if comm_total > 0.0 {
        ((busy - worked).max(0.0) / comm_total).min(1.0)
    } else {
        1.0
    };
    comm.values_mut().for_each(|x| *x *= mf * exposed);
    let tail = &tails[crit];
    for (k, x) in &tail.comm_s {
        *comm.entry(k.clone()).or_default() += x;
    }
    // Sends that held their device (synchronous point-to-point) are exposed whole.
    *comm.entry("pp_send".to_string()).or_default() += tl.sending_s[crit];
    comm.retain(|_, x| *x > 0.0);
    let breakdown = StepBreakdown {
        compute_s: per_mb.compute_s * mf,
        recompute_s: stage_re[crit].time_s() * mf,
        communication_s: comm,
        pipeline_bubble_s: (tl.end_s[crit] - busy - tl.sending_s[crit]).max(0.0),
        optimizer_s: tail.compute_s,
        host_issue_s: per_mb.host_s * mf,
    };

    // FLOPs and energy over every device: each stage is replicated tp·dp·cp times.
    let replicas = (l.tp * l.dp * l.cp) as f64;
    let (mut hw_flops, mut energy) = (0.0, EnergyBreakdown::default());
    for d in 0..l.pp as usize {
        let mut w = Work::default();
        for c in 0..v as usize {
            w.add(&stage_f[d][c], mf);
            w.add(&stage_b[d][c], mf);
        }
        w.add(&stage_re[d], mf);
        w.add(&tails[d], 1.0);
        hw_flops += w.flops * replicas;
        energy.add_scaled(&w.energy, replicas);
    }
    let n = l.devices() as f64;
    // The host's power, charged for the devices the job uses (the rule `run` and `serve`
    // charge by).
    energy.idle_j = dev.power.idle_w * n * step_s;
    let device_j = energy.total_j();
    energy.node_j = t.node_overhead_w(l.devices()) * step_s;

    let samples = l.global_batch;
    let tokens = samples * fwd.tokens_per_sample * l.cp;
    let model_flops = 3 * fwd_flops as u128 * l.cp as u128 * (samples / l.micro_batch) as u128;
    let peak = dev.matrix_flops(dev.natural_dtype).0;
    let memory = memory(
        &dfwd,
        &dbwd,
        &groups,
        &bounds,
        &tl.in_flight_passes,
        &stage_params,
        &opt,
        &l,
        dev.offchip().capacity_bytes,
    );
    let fits = memory.total_bytes <= memory.capacity_bytes;
    Ok(TrainCost {
        model: fwd.name.clone(),
        hardware: t.name().to_string(),
        device: dev.name.clone(),
        cost_model: model.label(),
        layout: l,
        optimizer: opt,
        devices: l.devices(),
        microbatches: m,
        seq_len,
        samples_per_step: samples,
        tokens_per_step: tokens,
        params: fwd.totals().params,
        step_time_s: step_s,
        bubble_fraction: breakdown.pipeline_bubble_s / step_s,
        breakdown,
        samples_per_s: samples as f64 / step_s,
        tokens_per_s: tokens as f64 / step_s,
        model_flops,
        hardware_flops: hw_flops,
        mfu: model_flops as f64 / (step_s * n * peak),
        hfu: hw_flops / (step_s * n * peak),
        tflops_per_device: model_flops as f64 / (step_s * n) / 1e12,
        peak_tflops: peak / 1e12,
        memory_per_device_bytes: memory.total_bytes,
        memory,
        fits,
        energy_per_step_j: energy.total_j(),
        energy_parts: energy,
        power_w_per_device: device_j / step_s / n,
        price_usd_per_device_hour: sys.and_then(|s| s.spec.price_usd_per_device_hour),
    })
}

/// The format of the model's weights (the most common among its declared weights).
fn weight_dtype(g: &Graph) -> xpusim_ir::DType {
    let mut by: std::collections::BTreeMap<xpusim_ir::DType, u64> = Default::default();
    for w in &g.weights {
        *by.entry(w.dtype).or_default() += w.elems();
    }
    by.into_iter()
        .max_by_key(|x| x.1)
        .map_or(xpusim_ir::DType::Bf16, |x| x.0)
}

/// Memory of the fullest device (see the module doc).
#[allow(clippy::too_many_arguments)]
fn memory(
    dfwd: &DeviceGraph,
    dbwd: &DeviceGraph,
    groups: &[(u32, u64)],
    bounds: &[(usize, usize)],
    in_flight: &[u64],
    stage_params: &[Params],
    opt: &Optimizer,
    l: &TrainLayout,
    capacity: u64,
) -> TrainMemory {
    let dp_group = (l.dp * l.cp) as f64;
    let recomputed: BTreeSet<&str> = if l.recompute == Recompute::Selective {
        dfwd.ops
            .iter()
            .filter(|p| attention_core(&p.op))
            .flat_map(|p| p.op.operands.iter().filter(|x| x.role == Role::Output))
            .map(|x| x.tensor.as_str())
            .collect()
    } else {
        BTreeSet::new()
    };
    // Sequence parallelism keeps the input of a column projection split over the sequence
    // (the backward gathers it again) — Korthikanti et al. 2022, §4.2.2.
    let sp_share = if l.sp { 1.0 / l.tp as f64 } else { 1.0 };
    let acts = stored_activations(dfwd, groups, |op, i| {
        if recomputed.contains(op.operands[i].tensor.as_str()) || !saved_for_backward(op, i) {
            return 0.0;
        }
        let gathered = i == 0
            && matches!(op.kind, OpKind::Matmul(_))
            && matches!(op.role, OpRole::Column(_) | OpRole::LmHead);
        if gathered {
            sp_share
        } else {
            1.0
        }
    });
    // Full recomputation keeps each layer's input only (the first op's first activation).
    let firsts = first_of_each_layer(dfwd);
    let layer_inputs = stored_activations(dfwd, groups, |op, i| {
        let input = op.operands.get(i).is_some_and(|x| x.role == Role::Input);
        if i == 0 && input && firsts.iter().any(|f| std::ptr::eq(*f, op)) {
            1.0
        } else {
            0.0
        }
    });
    let largest_layer = acts.layers.iter().copied().fold(0.0, f64::max);
    let largest_op = dfwd
        .ops
        .iter()
        .chain(&dbwd.ops)
        .map(|p| p.op.bytes_by_role(Role::Input) + p.op.bytes_by_role(Role::Output))
        .max()
        .unwrap_or(0) as f64;
    let chunks = bounds.len();
    let v = l.schedule.chunks() as usize;
    let mut best = TrainMemory {
        capacity_bytes: capacity,
        ..Default::default()
    };
    for (d, sp_d) in stage_params.iter().enumerate().take(l.pp as usize) {
        let edp = l.expert_dp() as f64;
        let held = |partitioned: bool| {
            if partitioned {
                sp_d.partitioned(l.shard() as f64, edp)
            } else {
                sp_d.total()
            }
        };
        let p = sp_d.total();
        let weights = held(l.zero == 3) * opt.param_bytes as f64;
        let grads = held(l.zero >= 2) * opt.grad_bytes as f64;
        let state = held(l.zero >= 1) * opt.state_bytes as f64;
        // Activations of one micro-batch through all of this stage's chunks.
        let (mut per_mb, mut stage_layers) = (0.0, 0usize);
        for c in 0..v {
            let vs = l.schedule.stage_of(l.pp, d as u64, c as u64) as usize;
            let (lo, hi) = bounds[vs];
            stage_layers += hi - lo;
            let layer_bytes: f64 = match l.recompute {
                Recompute::Full => layer_inputs.layers[lo..hi].iter().sum(),
                _ => acts.layers[lo..hi].iter().sum(),
            };
            per_mb += layer_bytes;
            if vs == 0 {
                per_mb += acts.pre;
            }
            if vs + 1 == chunks {
                per_mb += acts.post;
            }
        }
        // Passes in flight each hold one chunk's activations: 1/v of the stage's on average.
        let passes = in_flight.get(d).copied().unwrap_or(1).max(1) as f64;
        let activations = per_mb / v as f64 * passes;
        let mut temporary = largest_op;
        if l.recompute == Recompute::Full {
            temporary += largest_layer;
        }
        if l.zero == 3 && dp_group > 1.0 {
            // FSDP wraps each layer: the gathered layer being computed and the next one
            // prefetched.
            temporary += 2.0 * p / stage_layers.max(1) as f64 * opt.param_bytes as f64;
        }
        let total = weights + grads + state + activations + temporary;
        if total as u64 >= best.total_bytes {
            best = TrainMemory {
                weights_bytes: weights as u64,
                gradients_bytes: grads as u64,
                optimizer_bytes: state as u64,
                activations_bytes: activations as u64,
                temporary_bytes: temporary as u64,
                total_bytes: total as u64,
                capacity_bytes: capacity,
                stage: d as u64,
            };
        }
    }
    best
}

/// A weight-gradient GEMM: it writes the gradient of a weight.
fn writes_weight_grad(op: &Op) -> bool {
    matches!(op.kind, OpKind::Matmul(_)) && op.operands.iter().any(|x| x.role == Role::Grad)
}

/// The first compute op of each layer group of the device graph.
fn first_of_each_layer<'a>(dg: &'a DeviceGraph<'_>) -> Vec<&'a Op> {
    let mut seen = BTreeSet::new();
    dg.ops
        .iter()
        .filter(|p| !matches!(p.op.kind, OpKind::Collective { .. }))
        .filter(|p| p.op.layer.is_some_and(|l| seen.insert(l)))
        .map(|p| &*p.op)
        .collect()
}
