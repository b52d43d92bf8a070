//! The communication of a training step outside the tensor-parallel graph: context
//! parallelism's K/V exchange, ZeRO-3's per-micro-batch gathers, the data-parallel
//! reduction after the last backward (by ZeRO stage, with hybrid sharding) and the
//! pipeline's activation sends. Each is priced by the system's collectives.

use xpusim_ir::{CollectiveKind, OpKind, Role};
use xpusim_system::shard::DeviceGraph;
use xpusim_system::{collective_spread, send, CollectiveCost};
use xpusim_target::{network_cost, Target};

use crate::layout::TrainLayout;
use crate::optimizer::Optimizer;
use crate::parts::{comm_label, Params, Work};
use crate::TrainError;

/// One collective of a data- or context-parallel group: `group` devices `stride` apart.
pub(crate) fn spread(
    t: &Target,
    kind: CollectiveKind,
    bytes: f64,
    group: u64,
    stride: u64,
) -> Result<(f64, f64), TrainError> {
    let Some(sys) = t.system_spec() else {
        return Ok((0.0, 0.0));
    };
    let c: CollectiveCost = collective_spread(&sys.spec, kind, bytes.ceil() as u64, group, stride)?;
    let oc = network_cost(sys, t.device_spec(), c);
    Ok((oc.time_s, (oc.energy_j - oc.idle_energy_j).max(0.0)))
}

/// Per layer: gathering K and V from the context-parallel group (forward) and reducing
/// their gradients to their owners (backward).
pub(crate) fn context_comm(
    dfwd: &DeviceGraph,
    groups: &[(u32, u64)],
    t: &Target,
    l: &TrainLayout,
) -> Result<(Work, Work), TrainError> {
    let (mut f, mut b) = (Work::default(), Work::default());
    if l.cp <= 1 {
        return Ok((f, b));
    }
    let layers: u64 = groups.iter().map(|g| g.1).sum::<u64>().max(1);
    // K and V (forward operands q, k, v, o) of each layer's attention, each tensor once: the
    // ring's steps (crate::context) read the same K and V. Their gradients (the backward's
    // dK, dV) are the same bytes, reduced to their owners.
    let mut kv: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for p in dfwd.ops.iter().filter(|p| p.op.layer.is_some()) {
        if matches!(p.op.kind, OpKind::Attention(_)) {
            for x in p.op.operands.iter().skip(1).take(2) {
                let bytes = x.bytes() as f64 * p.op.repeat as f64;
                let e = kv.entry(x.tensor.as_str()).or_default();
                *e = e.max(bytes);
            }
        }
    }
    // The whole sequence's K and V per layer: what each device gathers.
    let bytes = kv.values().sum::<f64>() * l.cp as f64 / layers as f64;
    if bytes > 0.0 {
        let (ts, e) = spread(t, CollectiveKind::AllGather, bytes, l.cp, l.tp)?;
        f.add_comm(&comm_label(CollectiveKind::AllGather, "cp"), ts, e);
        // The backward gathers K and V again for the recomputed scores.
        b.add_comm(&comm_label(CollectiveKind::AllGather, "cp"), ts, e);
        let (ts, e) = spread(t, CollectiveKind::ReduceScatter, bytes, l.cp, l.tp)?;
        b.add_comm(&comm_label(CollectiveKind::ReduceScatter, "cp"), ts, e);
    }
    Ok((f, b))
}

/// ZeRO-3: every micro-batch gathers the chunk's parameters for its forward and again
/// for its backward, and reduce-scatters its gradients; prefetching hides them behind the
/// chunk's compute where `overlap_dp` is set.
pub(crate) fn zero3(
    wf: &mut Work,
    wb: &mut Work,
    params: &Params,
    opt: &Optimizer,
    t: &Target,
    l: &TrainLayout,
) -> Result<(), TrainError> {
    let (mut ag, mut ag_e, mut rs, mut rs_e) = (0.0, 0.0, 0.0, 0.0);
    for (n, group, stride) in [
        (params.dense, l.shard(), l.tp),
        (params.expert, l.expert_dp(), l.tp * l.ep),
    ] {
        let (a, ae) = spread(
            t,
            CollectiveKind::AllGather,
            n * opt.param_bytes as f64,
            group,
            stride,
        )?;
        let (r, re) = spread(
            t,
            CollectiveKind::ReduceScatter,
            n * opt.grad_bytes as f64,
            group,
            stride,
        )?;
        (ag, ag_e, rs, rs_e) = (ag + a, ag_e + ae, rs + r, rs_e + re);
    }
    let expose = |comm: f64, compute: f64| {
        if l.overlap_dp {
            (comm - compute).max(0.0)
        } else {
            comm
        }
    };
    let label = |k| comm_label(k, "zero3");
    let f_exp = expose(ag, wf.time_s());
    wf.add_comm(&label(CollectiveKind::AllGather), f_exp, ag_e);
    // The backward gathers the parameters again and reduce-scatters the gradients.
    let b_exp = expose(ag + rs, wb.time_s());
    let share = if ag + rs > 0.0 { ag / (ag + rs) } else { 0.0 };
    wb.add_comm(&label(CollectiveKind::AllGather), b_exp * share, ag_e);
    wb.add_comm(
        &label(CollectiveKind::ReduceScatter),
        b_exp * (1.0 - share),
        rs_e,
    );
    Ok(())
}

/// The data-parallel reduction of one stage's gradients after its last backward, as it
/// shows on the step: ZeRO 0 all-reduces them; ZeRO 1–2 reduce-scatter them (ZeRO 2 every
/// micro-batch, as DeepSpeed partitions gradients) and all-gather the updated parameters;
/// ZeRO 3 did its communication inside the micro-batches. Under hybrid sharding those run
/// inside each shard group, and the groups then all-reduce their gradient shards (`1/shard`
/// of the gradients, over the `dp·cp/shard` groups, `tp·shard` devices apart). With
/// `overlap_dp` the reductions hide behind the last micro-batch's backward and the gather
/// behind the next step's first forward.
pub(crate) fn dp_reduce(
    params: &Params,
    bwd_one: f64,
    fwd_one: f64,
    m: u64,
    opt: &Optimizer,
    t: &Target,
    l: &TrainLayout,
) -> Result<Work, TrainError> {
    let mut w = Work::default();
    let expose = |comm: f64, behind: f64| {
        if l.overlap_dp {
            (comm - behind).max(0.0)
        } else {
            comm
        }
    };
    // Hybrid sharding: the shard groups all-reduce their gradient shards once a step, after
    // the last reduce-scatter inside the group.
    let replicas = l.shard_replicas();
    let (hs, hs_e) = if replicas > 1 {
        let shard = l.shard();
        let bytes = params.dense / shard as f64 * opt.grad_bytes as f64;
        spread(t, CollectiveKind::AllReduce, bytes, replicas, l.tp * shard)?
    } else {
        (0.0, 0.0)
    };
    if hs > 0.0 && l.zero == 3 {
        w.add_comm("hsdp_allreduce", expose(hs, bwd_one), hs_e);
    }
    if l.dp * l.cp <= 1 || l.zero == 3 {
        return Ok(w);
    }
    // Dense parameters reduce over the dp·cp replicas (the shard group under hybrid
    // sharding); each expert's over the replicas holding the same experts (Megatron-Core's
    // expert-data-parallel group).
    let parts = [
        (params.dense, l.shard(), l.tp),
        (params.expert, l.expert_dp(), l.tp * l.ep),
    ];
    let (mut ar, mut ar_e, mut rs, mut rs_e, mut ag, mut ag_e) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, group, stride) in parts {
        let grads = n * opt.grad_bytes as f64;
        if l.zero == 0 {
            let (ts, e) = spread(t, CollectiveKind::AllReduce, grads, group, stride)?;
            (ar, ar_e) = (ar + ts, ar_e + e);
        } else {
            let (ts, e) = spread(t, CollectiveKind::ReduceScatter, grads, group, stride)?;
            (rs, rs_e) = (rs + ts, rs_e + e);
            let bytes = n * opt.param_bytes as f64;
            let (ts, e) = spread(t, CollectiveKind::AllGather, bytes, group, stride)?;
            (ag, ag_e) = (ag + ts, ag_e + e);
        }
    }
    if l.zero == 0 {
        w.add_comm("dp_allreduce", expose(ar, bwd_one), ar_e);
        return Ok(w);
    }
    let times = if l.zero == 2 { m as f64 } else { 1.0 };
    // The last micro-batch's backward hides its reduce-scatter and the shard groups'
    // all-reduce that follows it; ZeRO 2's earlier reduce-scatters hide behind their own.
    let last = expose(rs + hs, bwd_one);
    let rs_share = if rs + hs > 0.0 { rs / (rs + hs) } else { 1.0 };
    w.add_comm(
        "dp_reducescatter",
        expose(rs, bwd_one) * (times - 1.0) + last * rs_share,
        rs_e * times,
    );
    if hs > 0.0 {
        w.add_comm("hsdp_allreduce", last * (1.0 - rs_share), hs_e);
    }
    w.add_comm("dp_allgather", expose(ag, fwd_one), ag_e);
    Ok(w)
}

/// Sending one micro-batch's activations (or their gradients) to the next stage, `tp·cp·dp`
/// devices away: the last layer's output as one device holds it (a sequence slice under
/// sequence parallelism). Under Megatron-LM's scatter-gather (`p2p_scatter_gather`, no
/// sequence parallelism) each tensor-parallel rank sends `1/tp` of it and the receiving
/// group all-gathers it over the scale-up links before using it. One time per stage
/// boundary (stage `d` to `d + 1`, and the last back to the first for interleaved chunks):
/// on the scale-up links inside a node, on the network where the boundary crosses nodes.
pub(crate) fn pipeline_sends(
    dfwd: &DeviceGraph,
    t: &Target,
    l: &TrainLayout,
) -> Result<Vec<f64>, TrainError> {
    let Some(sys) = t.system_spec().filter(|_| l.pp > 1) else {
        return Ok(vec![0.0]);
    };
    let held = dfwd
        .ops
        .iter()
        .rev()
        .find(|p| p.op.layer.is_some() && !matches!(p.op.kind, OpKind::Collective { .. }))
        .map_or(0, |p| p.op.bytes_by_role(Role::Output));
    let (bytes, gather_s) = if l.p2p_scatter_gather && !l.sp && l.tp > 1 {
        let (g, _) = spread(t, CollectiveKind::AllGather, held as f64, l.tp, 1)?;
        (held.div_ceil(l.tp), g)
    } else {
        (held, 0.0)
    };
    let dist = l.tp * l.cp * l.dp;
    let dpn = sys.spec.devices_per_node.max(1);
    let node = |stage: u64| (stage * dist) / dpn;
    Ok((0..l.pp)
        .map(|d| {
            let next = (d + 1) % l.pp;
            let crosses = node(d) != node(next);
            let c = send(&sys.spec, bytes, if crosses { dist.max(dpn) } else { dist });
            network_cost(sys, t.device_spec(), c).time_s + gather_s
        })
        .collect())
}
