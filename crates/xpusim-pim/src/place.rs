//! Per-op placement and evaluation of one pass of a model on a heterogeneous system.
//!
//! The model is split over the `host_count` host devices by Megatron tensor parallelism
//! (xpusim-system `shard`: heads and columns split, two all-reduces per layer). Each host
//! device drives its own share of the PIM stacks, so one device's graph is evaluated and the
//! system's energy is `host_count` times the device's. Ops run one after another (no
//! overlap of host and PIM work, except AttAcc's head-level pipelining where a system enables
//! it, see [`head_pipeline_saving`]).
//!
//! A PIM-capable op (decode attention, a linear layer, an embedding) placed on PIM costs
//! the PIM time plus the link transfer of its activations (inputs and outputs), and its
//! energy is PIM dynamic energy + link energy + the host's idle power while it waits.
//! The `kv_append` of a layer whose attention is on PIM writes the new K and V over the link
//! into the PIM stacks. Nonlinear ops, norms and collectives always stay on the host.

use serde::Serialize;
use xpusim_engine::cost_op;
use xpusim_hw::DeviceSpec;
use xpusim_ir::{Block, Graph, Op, OpKind, OpRole, Role};
use xpusim_system::{shard::shard, Parallelism};

use crate::hetero::{HeteroSystem, Link, Objective, Placement};
use crate::timing::{self, PimCost};
use crate::{PimError, PimSpec};

/// Where one op ran and what it cost (all `repeat` instances).
#[derive(Debug, Clone, Serialize)]
pub struct HeteroOpReport {
    pub name: String,
    pub kind: &'static str,
    pub repeat: u64,
    pub on_pim: bool,
    pub time_s: f64,
    pub energy_j: f64,
    pub host_time_s: f64,
    pub pim_time_s: Option<f64>,
    pub link_s: f64,
    /// Share of the op's work done on PIM: 0 or 1, or in between for an FFN split.
    pub pim_fraction: f64,
}

/// One pass of a model on a heterogeneous system.
#[derive(Debug, Clone, Serialize)]
pub struct HeteroCost {
    pub system: String,
    pub placement: &'static str,
    pub latency_s: f64,
    pub tokens_per_s: f64,
    /// Whole system (all host devices and their PIM).
    pub energy_j: f64,
    pub energy_per_token_j: f64,
    pub host_s: f64,
    pub pim_s: f64,
    pub link_s: f64,
    /// Time hidden by head-level pipelining of attention on PIM with the host's QKV and
    /// output projections (0 unless the system enables it).
    pub overlap_s: f64,
    /// Part of `energy_j` that is the host devices' idle power over the pass.
    pub idle_energy_j: f64,
    /// Bytes one host device holds (its weight shard, and KV unless on PIM).
    pub host_bytes: u64,
    pub host_capacity_bytes: u64,
    /// Bytes one host's PIM share holds (KV cache of PIM attention, PIM-placed weights).
    pub pim_bytes: u64,
    pub pim_capacity_bytes: u64,
    pub fits: bool,
    pub ops: Vec<HeteroOpReport>,
}

fn elem_bytes(op: &Op) -> u64 {
    op.operands
        .iter()
        .find(|o| o.role != Role::Output)
        .map(|o| o.dtype.bytes(1).max(1))
        .unwrap_or(2)
}

/// PIM cost of one instance of `op`, or None when PIM cannot run it.
pub fn pim_cost(op: &Op, pim: &PimSpec, stacks: u64) -> Option<PimCost> {
    match &op.kind {
        OpKind::Attention(a) => Some(timing::attention(
            pim,
            stacks,
            &timing::Attention {
                batch: a.batch,
                heads: a.heads,
                kv_heads: a.kv_heads,
                q_len: a.q_len,
                kv_len: a.kv_len,
                head_dim: a.head_dim.max(a.v_head_dim),
                elem_bytes: elem_bytes(op),
            },
        )),
        OpKind::Matmul(m) if !m.rhs_batched => {
            let weight = op.operands.iter().find(|o| o.role == Role::Weight)?;
            Some(timing::gemv(
                pim,
                stacks,
                &timing::Gemv {
                    rows: m.n,
                    cols: m.k,
                    batch: m.batch * m.m,
                    elem_bytes: weight.dtype.bytes(1).max(1),
                    input_sets: 1,
                },
            ))
        }
        OpKind::Embedding { tokens, dim } => Some(timing::embedding(
            pim,
            stacks,
            *tokens,
            *dim,
            elem_bytes(op),
        )),
        _ => None,
    }
}

/// Bytes crossing the host–PIM link for one instance of `op` placed on PIM: its
/// activations in and out (the new K and V travel with the `kv_append` op).
fn link_bytes(op: &Op) -> u64 {
    op.operands
        .iter()
        .filter(|o| matches!(o.role, Role::Input | Role::Output))
        .map(|o| o.bytes())
        .sum()
}

/// An op's cost if placed on PIM (one instance): PIM + link + host softmax + host idle.
#[derive(Debug, Clone, Copy)]
struct Alt {
    time_s: f64,
    energy_j: f64,
    link_s: f64,
}

fn pim_alternative(op: &Op, pc: &PimCost, link: &Link, host: &DeviceSpec) -> Result<Alt, PimError> {
    let lb = link_bytes(op);
    let ls = link_s(link, lb);
    let mut t = pc.time_s + ls;
    let mut e = pc.energy_j + lb as f64 * link.energy_pj_per_byte * 1e-12;
    if pc.host_softmax_elems > 0 {
        let cols = op_kv_len(op).max(1);
        let sm = Op::softmax(
            &format!("{}.softmax", op.name),
            pc.host_softmax_elems / cols,
            cols,
            op.compute_dtype,
        )
        .map_err(|e| PimError::Op {
            op: op.name.clone(),
            msg: e.to_string(),
        })?;
        let sc = cost_op(&sm, host)?;
        t += sc.time_s;
        e += sc.energy_j;
    }
    e += host.power.idle_w * t;
    Ok(Alt {
        time_s: t,
        energy_j: e,
        link_s: ls,
    })
}

fn link_s(link: &Link, bytes: u64) -> f64 {
    bytes as f64 / (link.bandwidth_gbps * 1e9) + link.latency_us * 1e-6
}

/// The ops one host device runs: `g` sharded over the system's tensor-parallel hosts.
pub(crate) fn host_ops(g: &Graph, sys: &HeteroSystem) -> Result<Vec<Op>, PimError> {
    let tp = sys.spec.host_count;
    Ok(if tp > 1 {
        shard(g, &Parallelism::tp(tp))?
            .ops
            .into_iter()
            .map(|p| p.op)
            .collect()
    } else {
        g.ops.clone()
    })
}

/// Evaluates one pass of `g` (already built for the workload); `tokens` is the tokens one
/// pass produces (decode: the batch).
pub fn evaluate(
    g: &Graph,
    sys: &HeteroSystem,
    placement: Placement,
    objective: Objective,
) -> Result<HeteroCost, PimError> {
    let tp = sys.spec.host_count;
    let ops = host_ops(g, sys)?;
    let host = &sys.host;
    if placement != Placement::HostOnly && sys.pim.is_none() {
        return Err(PimError::Op {
            op: sys.spec.name.clone(),
            msg: format!("placement {} needs a system with PIM", placement.label()),
        });
    }
    // First pass: each op's host cost and, where PIM can run it, its PIM alternative.
    let mut decided = Vec::with_capacity(ops.len());
    for op in &ops {
        let hc = cost_op(op, host)?;
        let alt = match (&sys.pim, placement) {
            (Some((pim, link, stacks)), p) if p != Placement::HostOnly => {
                let capable = matches!(op.kind, OpKind::Attention(_)) || p == Placement::Auto;
                match pim_cost(op, pim, *stacks).filter(|_| capable) {
                    Some(pc) => Some(pim_alternative(op, &pc, link, host)?),
                    None => None,
                }
            }
            _ => None,
        };
        let on_pim = match &alt {
            Some(a) if placement == Placement::AttentionOnPim => {
                matches!(op.kind, OpKind::Attention(_)) && a.time_s.is_finite()
            }
            Some(a) => match objective {
                Objective::Time => a.time_s < hc.time_s,
                Objective::Energy => a.energy_j < hc.energy_j,
            },
            None => false,
        };
        decided.push((hc, alt, on_pim));
    }
    // The new token's K and V are appended where the cache lives: with attention on PIM the
    // append is a write over the link into the PIM stacks.
    if let Some((pim, link, stacks)) = &sys.pim {
        for i in 0..ops.len() {
            let OpRole::KvAppend(block) = ops[i].role else {
                continue;
            };
            let layer = ops[i].layer;
            let attn_on_pim = ops.iter().zip(&decided).any(|(o, d)| {
                matches!(o.kind, OpKind::Attention(_))
                    && o.role == OpRole::Heads(block)
                    && o.layer == layer
                    && d.2
            });
            if attn_on_pim {
                let bytes = ops[i]
                    .operands
                    .iter()
                    .filter(|o| o.role == Role::Output)
                    .map(|o| o.bytes())
                    .sum::<u64>();
                let ls = link_s(link, bytes);
                let write_s = bytes as f64 / (pim.io.bandwidth_gbps * 1e9 * *stacks as f64);
                let path_pj = 8.0
                    * (timing::pu_to_host_pj_per_bit(pim) + timing::cell_to_pu_pj_per_bit(pim))
                    + link.energy_pj_per_byte;
                let t = write_s + ls;
                decided[i].1 = Some(Alt {
                    time_s: t,
                    energy_j: bytes as f64 * path_pj * 1e-12 + host.power.idle_w * t,
                    link_s: ls,
                });
                decided[i].2 = true;
            }
        }
    }
    let mut reports = Vec::with_capacity(ops.len());
    let (mut host_s, mut pim_s, mut link_total) = (0.0, 0.0, 0.0);
    let (mut energy, mut latency) = (0.0, 0.0);
    let (mut pim_bytes, mut host_bytes) = (0u64, 0u64);
    for (op, (hc, alt, on_pim)) in ops.iter().zip(decided) {
        let r = op.repeat as f64;
        let (mut t, mut e, mut l) = match (&alt, on_pim) {
            (Some(a), true) => (a.time_s, a.energy_j, a.link_s),
            _ => (hc.time_s, hc.energy_j, 0.0),
        };
        let mut pim_fraction = if on_pim { 1.0 } else { 0.0 };
        let mut pim_time = alt.map(|a| a.time_s);
        if let (Some((pim, link, stacks)), OpKind::Matmul(_), false, true) = (
            &sys.pim,
            &op.kind,
            on_pim,
            sys.spec.ffn_split
                && placement != Placement::HostOnly
                && matches!(
                    op.role,
                    OpRole::Column(Block::Mlp) | OpRole::Row(Block::Mlp)
                ),
        ) {
            if let Some(pc) = pim_cost(op, pim, *stacks) {
                let a = pim_alternative(op, &pc, link, host)?;
                let split = ffn_split(hc.time_s, hc.energy_j, &a, host.power.idle_w);
                (t, e, l, pim_fraction) = split;
                pim_time = Some(a.time_s);
            }
        }
        let resident: u64 = op
            .operands
            .iter()
            .filter(|o| matches!(o.role, Role::Weight | Role::KvCache))
            .map(|o| o.bytes())
            .sum::<u64>()
            * op.repeat;
        if on_pim {
            pim_s += (t - l) * r;
            pim_bytes += resident;
        } else {
            host_s += t * r;
            let on_pim_bytes = (resident as f64 * pim_fraction).round() as u64;
            pim_bytes += on_pim_bytes;
            host_bytes += resident - on_pim_bytes;
        }
        link_total += l * r;
        latency += t * r;
        energy += e * r;
        reports.push(HeteroOpReport {
            name: op.name.clone(),
            kind: op.kind.family(),
            repeat: op.repeat,
            on_pim,
            time_s: t * r,
            energy_j: e * r,
            host_time_s: hc.time_s * r,
            pim_time_s: pim_time.map(|p| p * r),
            link_s: l * r,
            pim_fraction,
        });
    }
    let overlap_s = if sys.spec.head_pipelining {
        head_pipeline_saving(&ops, &reports)
    } else {
        0.0
    };
    latency -= overlap_s;
    energy -= host.power.idle_w * overlap_s;
    let tokens = (g.batch * g.tokens_per_sample).max(1) as f64;
    let energy_j = energy * tp as f64;
    let host_capacity_bytes = host.offchip().capacity_bytes;
    let pim_capacity_bytes = sys
        .pim
        .as_ref()
        .map(|(p, _, s)| p.organization.capacity_bytes * s)
        .unwrap_or(0);
    Ok(HeteroCost {
        system: sys.spec.name.clone(),
        placement: placement.label(),
        latency_s: latency,
        overlap_s,
        idle_energy_j: host.power.idle_w * latency * tp as f64,
        tokens_per_s: tokens / latency,
        energy_j,
        energy_per_token_j: energy_j / tokens,
        host_s,
        pim_s,
        link_s: link_total,
        host_bytes,
        host_capacity_bytes,
        pim_bytes,
        pim_capacity_bytes,
        fits: host_bytes <= host_capacity_bytes && pim_bytes <= pim_capacity_bytes,
        ops: reports,
    })
}

/// An FFN GEMM split between host and PIM (AttAcc's feed-forward-parallel optimisation,
/// attacc_simulator src/system.py `_ff_parallel` with `--ffopt`): the weights are divided
/// in proportion to the two rates so both halves finish together, `t = t_h·t_p / (t_h + t_p)`
/// with the fraction `f = t_h / (t_h + t_p)` on PIM. Dynamic energy is shared in the same
/// proportion, plus the host's idle power over `t`. Returns (time, energy, link time, f).
fn ffn_split(host_s: f64, host_j: f64, pim: &Alt, idle_w: f64) -> (f64, f64, f64, f64) {
    let (th, tp) = (host_s, pim.time_s);
    if !(th > 0.0 && tp > 0.0) {
        return (host_s, host_j, 0.0, 0.0);
    }
    let f = th / (th + tp);
    let t = th * tp / (th + tp);
    let dyn_h = (host_j - idle_w * th).max(0.0);
    let dyn_p = (pim.energy_j - idle_w * tp).max(0.0);
    let e = (1.0 - f) * dyn_h + f * dyn_p + idle_w * t;
    (t, e, f * pim.link_s, f)
}

/// Time hidden when attention on PIM is pipelined with the host's QKV generation and output
/// projection over head groups (AttAcc §5.3; attacc_simulator src/system.py `_pipeline`
/// with `pipe` on): with `h` heads per device, a layer's chain of QKV + projection (`F`, host)
/// and attention + KV append (`A`, PIM) takes `max(A, F) + min(A, F) / h` instead of
/// `A + F`, i.e. `min(A, F)·(1 − 1/h)` is saved per layer.
fn head_pipeline_saving(ops: &[Op], reports: &[HeteroOpReport]) -> f64 {
    let mut saved = 0.0;
    for (op, r) in ops.iter().zip(reports) {
        let (OpKind::Attention(a), true, OpRole::Heads(block)) = (&op.kind, r.on_pim, op.role)
        else {
            continue;
        };
        // The same layer's ops of this attention block with the given role and side.
        let part = |want: &dyn Fn(OpRole) -> bool, on_pim: bool| -> f64 {
            ops.iter()
                .zip(reports)
                .filter(|(o, x)| o.layer == op.layer && want(o.role) && x.on_pim == on_pim)
                .map(|(_, x)| x.time_s)
                .sum()
        };
        let attn = r.time_s + part(&|x| x == OpRole::KvAppend(block), true);
        let fc = part(&|x| x == OpRole::Column(block), false)
            + part(&|x| x == OpRole::Row(block), false);
        let h = a.heads.max(1) as f64;
        saved += attn.min(fc) * (1.0 - 1.0 / h);
    }
    saved
}

fn op_kv_len(op: &Op) -> u64 {
    match &op.kind {
        OpKind::Attention(a) => a.kv_len,
        _ => 1,
    }
}
