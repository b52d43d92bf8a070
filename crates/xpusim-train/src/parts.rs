//! A priced device graph cut into the pieces a pipeline schedules: the work before the
//! layer stack (embedding), each layer, and the work after it (final norm, head, loss).

use std::collections::BTreeMap;

use xpusim_engine::OpCost;
use xpusim_ir::{CollectiveKind, Graph, OpKind, OpRole, Role};
use xpusim_system::shard::{Comm, DeviceGraph, Placement};
use xpusim_target::EnergyBreakdown;

/// What a piece of one device's work takes for one micro-batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Work {
    pub compute_s: f64,
    /// Communication on the critical path, by collective (`tp_allreduce`, `ep_alltoall`, …).
    pub comm_s: BTreeMap<String, f64>,
    /// Dynamic energy by part (arithmetic, each memory level, links); static power is
    /// charged per step.
    pub energy: EnergyBreakdown,
    /// FLOPs the device executes.
    pub flops: f64,
    /// Host time to issue the piece's kernels (a runtime profile's `kernel_issue_us` each).
    pub issue_s: f64,
    /// Of it, the time the device waits for the host: what issue exceeds the piece's device
    /// time (the issue queue's steady state over a layer, `xpusim_target::runtime`).
    pub host_s: f64,
}

impl Work {
    pub fn time_s(&self) -> f64 {
        self.compute_s + self.comm_s.values().sum::<f64>() + self.host_s
    }

    /// Sets `host_s` from the piece's issue and device time.
    fn expose_issue(&mut self) {
        self.host_s = (self.issue_s - self.compute_s - self.comm_s.values().sum::<f64>()).max(0.0);
    }

    pub fn add(&mut self, o: &Work, scale: f64) {
        self.compute_s += o.compute_s * scale;
        self.issue_s += o.issue_s * scale;
        self.host_s += o.host_s * scale;
        for (k, v) in &o.comm_s {
            *self.comm_s.entry(k.clone()).or_default() += v * scale;
        }
        self.energy.add_scaled(&o.energy, scale);
        self.flops += o.flops * scale;
    }

    /// Adds a collective: its time on the critical path and its links' energy.
    pub fn add_comm(&mut self, label: &str, time_s: f64, energy_j: f64) {
        *self.comm_s.entry(label.to_string()).or_default() += time_s;
        self.energy.network_j += energy_j;
    }
}

/// Per-piece values: before the stack, each layer in order, after the stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts<T> {
    pub pre: T,
    pub layers: Vec<T>,
    pub post: T,
}

/// The collective's label in breakdowns: `tp_allreduce`, `ep_alltoall`, ….
pub fn comm_label(kind: CollectiveKind, group_kind: &str) -> String {
    let k = match kind {
        CollectiveKind::AllReduce => "allreduce",
        CollectiveKind::AllGather => "allgather",
        CollectiveKind::ReduceScatter => "reducescatter",
        CollectiveKind::AllToAll => "alltoall",
    };
    format!("{group_kind}_{k}")
}

/// Where each op's work goes: `forward` graphs put unlayered ops before the first layered
/// op into `pre`; a backward graph runs in reverse, so its leading unlayered ops (the
/// head's and loss's gradients) are `post` and its trailing ones (the embedding's) `pre`.
/// A group of `n` identical layers (one layer index, ops repeating `n` times) is spread
/// evenly over its `n` layers. `layers` is the forward graph's layer-group sizes. Each
/// kernel costs the host `issue_s` to issue (0: no runtime, or a replayed graph).
///
/// With `tp_overlap` (Megatron-Core `--tp-comm-overlap`, Transformer Engine's userbuffers,
/// NeMo `ub_tp_comm_overlap`; it needs sequence parallelism) a sequence-parallel all-gather
/// runs in chunks under the GEMM that reads it and a reduce-scatter under the GEMM that
/// produces it, in both passes: each hides behind what is left of that GEMM's time. `costs`
/// then already price those GEMMs as userbuffers runs them ([`crate::userbuffers`]).
pub fn split(
    dg: &DeviceGraph,
    costs: &[OpCost],
    groups: &[(u32, u64)],
    backward: bool,
    tp_overlap: bool,
    issue_s: f64,
    select: impl Fn(&xpusim_ir::Op) -> bool,
) -> Parts<Work> {
    let mut pieces = Placer::default();
    // Each selected GEMM's time still free to hide a collective behind.
    let mut room: Vec<f64> = dg
        .ops
        .iter()
        .zip(costs)
        .map(|(p, c)| {
            if select(&p.op) && matches!(p.op.kind, OpKind::Matmul(_)) {
                c.time_s * p.op.repeat as f64
            } else {
                0.0
            }
        })
        .collect();
    let gemm: Vec<bool> = room.iter().map(|&x| x > 0.0).collect();
    let hides = hiding_gemms(dg, &gemm, backward, tp_overlap, &select);
    for (i, (p, c)) in dg.ops.iter().zip(costs).enumerate() {
        let op = &p.op;
        if !select(op) {
            continue;
        }
        let r = op.repeat as f64;
        let mut energy = EnergyBreakdown::default();
        energy.add_op(c, r);
        let mut w = Work {
            energy,
            flops: op.flops() as f64 * r,
            issue_s: issue_s * (xpusim_target::runtime::kernels(op) as f64) * r,
            ..Default::default()
        };
        match &op.kind {
            OpKind::Collective { kind, .. } => {
                let group = match p.placement {
                    Placement::Comm(what) => what.group(),
                    _ => "tp",
                };
                let mut t = c.time_s * r;
                for &j in &hides[i] {
                    let hidden = t.min(room[j]);
                    t -= hidden;
                    room[j] -= hidden;
                }
                *w.comm_s.entry(comm_label(*kind, group)).or_default() += t;
            }
            _ => w.compute_s = c.time_s * r,
        }
        pieces.add(op.layer, &w);
    }
    pieces.finish(groups, backward)
}

/// Collects work op by op into the pieces [`split`] describes: a layer's into its group,
/// unlayered work before the first layered op into `pre` and after it into `post` (swapped
/// for a backward graph), a group of `n` identical layers spread evenly over them.
#[derive(Default)]
pub(crate) struct Placer {
    by_group: BTreeMap<u32, Work>,
    before: Work,
    after: Work,
    seen: bool,
}

impl Placer {
    pub(crate) fn add(&mut self, layer: Option<u32>, w: &Work) {
        match layer {
            Some(l) => {
                self.seen = true;
                self.by_group.entry(l).or_default().add(w, 1.0);
            }
            None if !self.seen => self.before.add(w, 1.0),
            None => self.after.add(w, 1.0),
        }
    }

    pub(crate) fn finish(mut self, groups: &[(u32, u64)], backward: bool) -> Parts<Work> {
        let (mut pre, mut post) = if backward {
            (self.after, self.before)
        } else {
            (self.before, self.after)
        };
        pre.expose_issue();
        post.expose_issue();
        let mut layers = Vec::new();
        for &(g, n) in groups {
            let total = self.by_group.remove(&g).unwrap_or_default();
            let mut one = Work::default();
            one.add(&total, 1.0 / n.max(1) as f64);
            one.expose_issue();
            layers.extend(std::iter::repeat_n(one, n as usize));
        }
        Parts { pre, layers, post }
    }
}

/// For each op of `dg` that is a collective, the GEMMs whose time it may hide behind, in
/// the order [`split`] spends their room: in the backward the GEMM before it where
/// Megatron-LM overlaps the two ([`overlaps_in_backward`]); under `tp_overlap` the GEMM
/// of the layer stack that reads a sequence-parallel all-gather (the next compute op) and
/// the one that produces a reduce-scatter (the last GEMM before): Transformer Engine's
/// userbuffers cover the layers' linear modules, not the output layer. `gemm[i]`: op `i`
/// is a selected GEMM with time to hide behind. Other ops get an empty list.
pub(crate) fn hiding_gemms(
    dg: &DeviceGraph,
    gemm: &[bool],
    backward: bool,
    tp_overlap: bool,
    select: &impl Fn(&xpusim_ir::Op) -> bool,
) -> Vec<Vec<usize>> {
    let n = dg.ops.len();
    // The compute op right after each op (past other collectives), if it is such a GEMM.
    let mut next = vec![None; n];
    let mut after = None;
    for i in (0..n).rev() {
        next[i] = after;
        if !matches!(dg.ops[i].op.kind, OpKind::Collective { .. }) {
            after = Some(i).filter(|&j| gemm.get(j).copied().unwrap_or(false));
        }
    }
    let mut out = vec![Vec::new(); n];
    // The last GEMM before.
    let mut prev: Option<usize> = None;
    for (i, p) in dg.ops.iter().enumerate() {
        let op = &p.op;
        if !select(op) {
            continue;
        }
        match &op.kind {
            OpKind::Collective { .. } => {
                let what = match p.placement {
                    Placement::Comm(what) => Some(what),
                    _ => None,
                };
                if let Some(j) = prev.filter(|_| backward) {
                    if what.is_some_and(|w| overlaps_in_backward(w, &dg.ops[j].op)) {
                        out[i].push(j);
                    }
                }
                // Userbuffers overlap the transformer layers' linear GEMMs only; the
                // output layer's all-gather runs before its GEMM.
                let in_stack = |j: &usize| dg.ops[*j].op.layer.is_some();
                match what.filter(|_| tp_overlap) {
                    Some(Comm::Gather) => out[i].extend(next[i].filter(in_stack)),
                    Some(Comm::Join) => out[i].extend(prev.filter(in_stack)),
                    _ => {}
                }
            }
            // A bias gradient's reduction between a weight-gradient GEMM and the collective
            // launched after it does not end the overlap.
            OpKind::Matmul(_) => prev = Some(i),
            _ => {}
        }
    }
    out
}

/// Whether a tensor-parallel collective of the backward runs while the GEMM before it
/// computes, as Megatron-LM's `LinearWithGradAccumulationAndAsyncCommunication` does
/// (Korthikanti et al. 2022, §4.2.2): the all-gather of a column projection's input for its
/// weight gradient runs during the input-gradient GEMM, and the reduction of that input
/// gradient (all-reduce, or reduce-scatter under sequence parallelism) during the weight
/// gradient GEMM. The forward's collectives feed the next GEMM and stay exposed.
fn overlaps_in_backward(comm: Comm, before: &xpusim_ir::Op) -> bool {
    let is_matmul = matches!(before.kind, OpKind::Matmul(_));
    let before_wgrad = before.operands.iter().any(|x| x.role == Role::Grad);
    is_matmul
        && match comm {
            Comm::Regather => !before_wgrad,
            Comm::Join => before_wgrad,
            _ => false,
        }
}

/// The layer groups of a graph in order: (layer index, layers in the group).
pub fn layer_groups(g: &Graph) -> Vec<(u32, u64)> {
    let mut m: BTreeMap<u32, u64> = BTreeMap::new();
    for op in &g.ops {
        if let Some(l) = op.layer {
            let e = m.entry(l).or_default();
            *e = (*e).max(op.repeat);
        }
    }
    m.into_iter().collect()
}

/// Parameters (elements) one device holds, dense and routed-expert apart.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Params {
    pub dense: f64,
    pub expert: f64,
}

impl Params {
    pub fn total(&self) -> f64 {
        self.dense + self.expert
    }

    pub fn add(&mut self, o: &Params) {
        self.dense += o.dense;
        self.expert += o.expert;
    }

    /// What one device keeps of a state partitioned over the data-parallel replicas: the
    /// dense parameters' over `dense_group`, the experts' over `expert_group`.
    pub fn partitioned(&self, dense_group: f64, expert_group: f64) -> f64 {
        self.dense / dense_group.max(1.0) + self.expert / expert_group.max(1.0)
    }
}

/// A routed-expert GEMM (the experts' weights batched): what expert parallelism spreads.
pub fn is_expert(op: &xpusim_ir::Op) -> bool {
    matches!(op.kind, OpKind::Matmul(m) if m.rhs_batched)
        && op.role.block() == Some(xpusim_ir::Block::Experts)
        && matches!(op.role, OpRole::Column(_) | OpRole::Row(_))
}

/// Expert parallelism over data-parallel ranks, as each device runs its experts: it holds
/// `E / ep` of the routed experts and, after the dispatch all-to-all, runs them on the token
/// copies all `ep` ranks of its group routed to them — `E / ep` expert GEMMs of `ep` times
/// the rows, forward and backward (Megatron-Core's grouped GEMM behind its token dispatcher;
/// DeepSeek-V3's EP64, report §3.2). The FLOPs are those of the device's own tokens
/// through all `E` experts; each expert's weights and their gradient are read and written
/// once for `ep` times the tokens. The ranks of a group run the same micro-batch step, which
/// the all-to-all between them enforces. The token axis is the rows (`m`) of the GEMMs that
/// read the weights (forward, data gradient) and the reduction (`k`) of the one that writes
/// their gradient.
pub fn gather_experts(dg: &mut DeviceGraph, ep: u64) {
    if ep <= 1 {
        return;
    }
    for p in dg.ops.iter_mut() {
        if !is_expert(&p.op) {
            continue;
        }
        let op = p.op.to_mut();
        let OpKind::Matmul(m) = &mut op.kind else {
            continue;
        };
        if !m.batch.is_multiple_of(ep) {
            continue;
        }
        let reads_weights = op.operands.iter().any(|x| x.role == Role::Weight);
        m.batch /= ep;
        if reads_weights {
            m.m *= ep;
        } else {
            m.k *= ep;
        }
        for (i, x) in op.operands.iter_mut().enumerate() {
            if let Some(b) = x.shape.first_mut() {
                *b /= ep;
            }
            // Operand layouts of a batched GEMM: lhs [b, m, k], rhs [b, k, n], out [b, m, n].
            let token_axis = match (reads_weights, i) {
                (true, _) if x.role == Role::Weight => None,
                (true, 2) | (true, 0) => Some(1),
                (true, _) => None,
                (false, 0) => Some(2),
                (false, 1) => Some(1),
                (false, _) => None,
            };
            if let Some(d) = token_axis.and_then(|a| x.shape.get_mut(a)) {
                *d *= ep;
            }
        }
    }
}

/// Parameters one device holds for each piece, after tensor parallelism's shards and the
/// routed experts spread over `ep` devices. A table used both before and after the stack
/// (tied embeddings) counts in both.
pub fn params(g: &Graph, dg: &DeviceGraph, groups: &[(u32, u64)], ep: u64) -> Parts<Params> {
    let mut users: BTreeMap<&str, (bool, bool, Option<u32>)> = BTreeMap::new();
    let mut experts = std::collections::BTreeSet::new();
    let mut seen = false;
    for op in &g.ops {
        seen |= op.layer.is_some();
        for x in op.operands.iter().filter(|x| x.role == Role::Weight) {
            if is_expert(op) {
                experts.insert(x.tensor.as_str());
            }
            let e = users.entry(x.tensor.as_str()).or_default();
            match op.layer {
                Some(l) => e.2 = Some(l),
                None if !seen => e.0 = true,
                None => e.1 = true,
            }
        }
    }
    let mut group_elems: BTreeMap<u32, Params> = BTreeMap::new();
    let mut parts = Parts::<Params>::default();
    for w in &g.weights {
        let shards = *dg.weight_shards.get(&w.name).unwrap_or(&1) as f64;
        let elems = w.elems() as f64 / shards;
        let p = if experts.contains(w.name.as_str()) {
            Params {
                dense: 0.0,
                expert: elems / ep.max(1) as f64,
            }
        } else {
            Params {
                dense: elems,
                expert: 0.0,
            }
        };
        match users.get(w.name.as_str()) {
            Some((_, _, Some(l))) => group_elems.entry(*l).or_default().add(&p),
            Some((pre, post, None)) => {
                if *pre || !*post {
                    parts.pre.add(&p);
                }
                if *post {
                    parts.post.add(&p);
                }
            }
            // Declared but read by no op: kept with the first stage.
            None => parts.pre.add(&p),
        }
    }
    for &(l, n) in groups {
        let total = group_elems.get(&l).copied().unwrap_or_default();
        let per = Params {
            dense: total.dense / n.max(1) as f64,
            expert: total.expert / n.max(1) as f64,
        };
        parts.layers.extend(std::iter::repeat_n(per, n as usize));
    }
    parts
}

/// Per layer, the all-to-alls expert parallelism adds when its `ep` devices are
/// data-parallel ranks (Megatron-Core's expert parallelism; DeepSeek-V3's EP64): each
/// device's routed token copies go to the experts' owners before the expert up/gate GEMM
/// and come back after the down GEMM — and, in backward, their gradients the same way.
/// `cost(bytes)` prices one all-to-all of a device's buffer.
pub fn expert_all_to_all(
    dg: &DeviceGraph,
    groups: &[(u32, u64)],
    mut cost: impl FnMut(f64) -> Result<(f64, f64), crate::TrainError>,
) -> Result<Vec<Work>, crate::TrainError> {
    let mut by_group: BTreeMap<u32, Work> = BTreeMap::new();
    for p in &dg.ops {
        let op = &p.op;
        if !is_expert(op) || op.operands.iter().any(|x| x.role == Role::Grad) {
            continue;
        }
        let Some(l) = op.layer else { continue };
        // Dispatch the column GEMM's input; combine the row GEMM's output.
        let idx = if matches!(op.role, OpRole::Column(_)) {
            0
        } else {
            2
        };
        let bytes = op.operands.get(idx).map_or(0, |x| x.bytes()) as f64;
        let (t, e) = cost(bytes)?;
        let r = op.repeat as f64;
        by_group.entry(l).or_default().add_comm(
            &comm_label(CollectiveKind::AllToAll, "ep"),
            t * r,
            e * r,
        );
    }
    let mut layers = Vec::new();
    for &(g, n) in groups {
        let total = by_group.remove(&g).unwrap_or_default();
        let mut one = Work::default();
        one.add(&total, 1.0 / n.max(1) as f64);
        one.expose_issue();
        layers.extend(std::iter::repeat_n(one, n as usize));
    }
    Ok(layers)
}

/// Bytes of activations one micro-batch leaves stored for the backward, per piece: the
/// tensors the forward's compute ops save (each once), as autograd saves them. `store`
/// says what share of an op's operand `i` (an input, or an output it saves) is kept: 0 for
/// what its backward does not need or recomputation drops, a fraction for what is kept
/// split.
pub fn stored_activations(
    dg: &DeviceGraph,
    groups: &[(u32, u64)],
    store: impl Fn(&xpusim_ir::Op, usize) -> f64,
) -> Parts<f64> {
    let mut seen_names = std::collections::BTreeSet::new();
    let mut by_group: BTreeMap<u32, f64> = BTreeMap::new();
    let (mut pre, mut post, mut seen) = (0.0, 0.0, false);
    for p in &dg.ops {
        let op = &p.op;
        if matches!(op.kind, OpKind::Collective { .. }) {
            continue;
        }
        seen |= op.layer.is_some();
        let mut b = 0.0;
        for (i, x) in op.operands.iter().enumerate() {
            if !matches!(x.role, Role::Input | Role::Output) {
                continue;
            }
            let share = store(op, i);
            if share > 0.0 && seen_names.insert(x.tensor.as_str()) {
                b += x.bytes() as f64 * op.repeat as f64 * share;
            }
        }
        match op.layer {
            Some(l) => *by_group.entry(l).or_default() += b,
            None if !seen => pre += b,
            None => post += b,
        }
    }
    let mut layers = Vec::new();
    for &(l, n) in groups {
        let per = by_group.get(&l).copied().unwrap_or(0.0) / n.max(1) as f64;
        layers.extend(std::iter::repeat_n(per, n as usize));
    }
    Parts { pre, layers, post }
}

/// Whether the backward of `op` needs its operand `i` (autograd's saved tensors). Inputs:
/// a sum's, a cast's and a rotary embedding's gradients need none (the rotation reads only
/// its position tables), a dropout's reads its mask instead, a softmax's its output; GEMMs,
/// norms, activation functions, gated products and attention keep what they read.
/// Outputs: only a softmax's probabilities and a dropout's one-byte mask are saved.
pub fn saved_for_backward(op: &xpusim_ir::Op, i: usize) -> bool {
    let Some(x) = op.operands.get(i) else {
        return false;
    };
    let dropout = matches!(&op.kind, OpKind::Elementwise { func, .. } if func == "dropout");
    match x.role {
        Role::Input => match &op.kind {
            OpKind::Elementwise { func, .. } => {
                !matches!(func.as_str(), "add" | "rope" | "dropout" | "cast")
            }
            OpKind::Softmax { .. } => false,
            _ => true,
        },
        Role::Output => {
            matches!(op.kind, OpKind::Softmax { pass, .. } if pass.is_forward())
                || (dropout && x.dtype == xpusim_ir::DType::Int8)
        }
        _ => false,
    }
}

/// The attention core that selective recomputation recomputes instead of storing
/// (Korthikanti et al. 2022, §5: QKᵀ, softmax, dropout, attention over V): an unfused
/// attention's softmax and its two head-batched matmuls. A fused attention op already
/// recomputes its scores in its backward kernel and stores none.
pub fn attention_core(op: &xpusim_ir::Op) -> bool {
    matches!(op.role, OpRole::Heads(_))
        && match &op.kind {
            OpKind::Softmax { .. } => true,
            OpKind::Matmul(m) => m.rhs_batched,
            OpKind::Elementwise { func, .. } => func == "dropout",
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::{autodiff, DType, Phase, Precision};
    use xpusim_models::{build, Workload};
    use xpusim_system::{shard::shard, Parallelism};

    /// Expert parallelism over data-parallel ranks: each device runs `E / ep` experts on `ep`×
    /// the rows, forward and backward — its FLOPs unchanged, its expert weights and weight
    /// gradients `ep`× smaller, its activations the same bytes.
    #[test]
    fn expert_parallel_devices_run_their_experts_on_the_groups_tokens() {
        let g = {
            let w = Workload::new(Phase::Train, 1, 4096, 0)
                .with_precision(Precision::uniform(DType::Bf16));
            build("mixtral-8x7b", &w).unwrap()
        };
        let bwd = autodiff::backward(&g).unwrap();
        for graph in [&g, &bwd] {
            let plain = shard(graph, &Parallelism::default()).unwrap();
            let mut ep = shard(graph, &Parallelism::default()).unwrap();
            gather_experts(&mut ep, 4);
            let mut seen = 0;
            for (a, b) in plain.ops.iter().zip(&ep.ops) {
                assert_eq!(a.op.flops(), b.op.flops(), "{}", a.op.name);
                if !is_expert(&a.op) {
                    assert_eq!(a.op, b.op);
                    continue;
                }
                seen += 1;
                let weights = |o: &xpusim_ir::Op| {
                    o.operands
                        .iter()
                        .filter(|x| matches!(x.role, Role::Weight | Role::Grad))
                        .map(|x| x.bytes())
                        .sum::<u64>()
                };
                assert_eq!(weights(&a.op), 4 * weights(&b.op), "{}", a.op.name);
                assert_eq!(
                    a.op.bytes_total() - weights(&a.op),
                    b.op.bytes_total() - weights(&b.op)
                );
            }
            assert!(seen >= 2);
        }
    }
}
