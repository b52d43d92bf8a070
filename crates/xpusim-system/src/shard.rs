//! Tensor and expert parallelism as a rewrite of one model graph into the graph ONE device
//! runs, with the collectives it must join.
//!
//! Tensor parallelism follows Megatron-LM (Shoeybi et al. 2019, §3): the first projection of
//! each block is split by output columns (QKV, FFN up/gate, Mamba in_proj), the attention
//! heads and KV heads are split across devices, the last projection (attention output, FFN
//! down, Mamba out_proj) by input rows, and one all-reduce of the block output joins the
//! partial sums before the residual add — two per transformer layer, one in a parallel block
//! (PaLM, GPT-J), whose attention and FFN partial sums meet in one add. The token embedding is
//! split by vocabulary rows with an all-reduce after it, the LM head by vocabulary columns
//! with an all-gather of the logits. Norms, residual adds, routers and everything else are
//! computed redundantly on every device, as Megatron does without sequence parallelism.
//! The backward ops of a training step (`xpusim_ir::autodiff`) carry Megatron's conjugate
//! roles and split by the same rules: a column projection's input gradient is a `Row`
//! partial sum all-reduced before the norm's backward; an embedding's backward scatter-add
//! splits with the vocabulary and needs no collective; an expert's weight gradient reads the
//! token copies its input gradient's all-to-all already delivered.
//!
//! What an op is for comes from its [`OpRole`], set by the frontend that built the graph
//! (zoo, Hugging Face config, ONNX structure); names are never read. An op whose role is
//! [`OpRole::Replicated`] runs whole on every device; if tensor parallelism finds nothing
//! to split the rewrite fails rather than report a replicated model as parallel.
//!
//! Expert parallelism spreads the routed experts over `ep` devices of the tensor-parallel
//! group (`ep` divides `tp`; each expert is then split over `tp/ep` devices): the expert
//! GEMMs run `experts/ep` experts per device, framed by an all-to-all dispatch of the routed
//! token copies and an all-to-all combine (DeepSpeed-MoE, Rajbhandari et al. 2022; GShard,
//! Lepikhin et al. 2021).

use std::borrow::Cow;
use std::collections::BTreeMap;

use xpusim_ir::{Block, CollectiveKind, DType, Graph, Op, OpKind, OpRole, Phase, Role};

use crate::{Parallelism, SystemError};

/// How one op was placed on the devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Replicated,
    /// Split by output columns.
    Column,
    /// Split by input rows (partial sums).
    Row,
    /// Attention heads split.
    Heads,
    /// Elementwise work split.
    Split,
    /// Routed experts spread over the EP group (and split within).
    Experts,
    /// Inserted communication, and what it is for.
    Comm(Comm),
}

/// What an inserted collective does, so that composition (overlap, breakdowns) never reads
/// its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comm {
    /// Joins a block's tensor-parallel partial sums before its residual add (all-reduce, or
    /// reduce-scatter into the sequence split).
    Join,
    /// Gathers a sequence-split activation (or gradient) before an op that reads it whole.
    Gather,
    /// Gathers a column projection's sequence-split input again for its weight gradient.
    Regather,
    /// The vocabulary-parallel embedding, LM head and loss.
    Vocab,
    /// Expert parallelism's all-to-all dispatch and combine.
    Experts,
}

impl Comm {
    /// The parallel group the collective runs over, for breakdowns: `tp` or `ep`.
    pub fn group(self) -> &'static str {
        match self {
            Comm::Experts => "ep",
            _ => "tp",
        }
    }
}

impl Placement {
    pub fn label(self) -> &'static str {
        match self {
            Placement::Replicated => "replicated",
            Placement::Column => "column",
            Placement::Row => "row",
            Placement::Heads => "heads",
            Placement::Split => "split",
            Placement::Experts => "experts",
            Placement::Comm(_) => "comm",
        }
    }
}

/// An op of the per-device graph.
#[derive(Debug, Clone)]
pub struct PlacedOp<'a> {
    /// The op as this device runs it: the graph's own op when sharding left it unchanged.
    pub op: Cow<'a, Op>,
    pub placement: Placement,
    /// Devices the op's work is divided over (1 for replicated ops).
    pub shards: u64,
}

/// The graph one device of a tensor/expert-parallel group runs.
#[derive(Debug, Clone)]
pub struct DeviceGraph<'a> {
    pub ops: Vec<PlacedOp<'a>>,
    /// Divisor of each declared weight's bytes on one device (absent: 1).
    pub weight_shards: BTreeMap<String, u64>,
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

fn div_dim(shape: &mut [u64], idx: usize, f: u64) {
    if let Some(d) = shape.get_mut(idx) {
        *d = ceil_div(*d, f);
    }
}

/// Sets dimension `idx` to `v` (the attention operands' head axis).
fn div_dim_to(shape: &mut [u64], idx: usize, v: u64) {
    if let Some(d) = shape.get_mut(idx) {
        *d = v;
    }
}

fn last(shape: &mut [u64], f: u64) {
    let n = shape.len();
    if n > 0 {
        div_dim(shape, n - 1, f);
    }
}

fn layout(p: &Parallelism) -> String {
    p.to_string()
}

/// Rewrites `g` into what one device of a `tp`-way group runs.
pub fn shard<'a>(g: &'a Graph, par: &Parallelism) -> Result<DeviceGraph<'a>, SystemError> {
    let tp = par.tp;
    let ep = par.ep;
    let err = |msg: String| SystemError::Layout {
        layout: layout(par),
        msg,
    };
    if ep > 1 && !tp.is_multiple_of(ep) {
        return Err(err(format!(
            "ep ({ep}) must divide tp ({tp}): experts are spread over the tensor-parallel group"
        )));
    }
    if tp <= 1 {
        return Ok(DeviceGraph {
            ops: g
                .ops
                .iter()
                .map(|op| PlacedOp {
                    op: Cow::Borrowed(op),
                    placement: Placement::Replicated,
                    shards: 1,
                })
                .collect(),
            weight_shards: BTreeMap::new(),
        });
    }
    let kv_factor = kv_factor(g, tp).map_err(err)?;
    let mut out = Vec::with_capacity(g.ops.len() + 8);
    let mut shards: BTreeMap<String, u64> = BTreeMap::new();
    let mut partial_block = false;
    let mut sharded_any = false;
    let mut has_experts = false;
    let sp = par.sp;
    let train = g.phase == Phase::Train;
    // Sequence parallelism: the activations between blocks are split over the sequence.
    let mut scattered = false;
    // The block input has been gathered again for a weight gradient since the last join.
    let mut regathered = false;
    for op in &g.ops {
        let name = op.name.as_str();
        if op.role == OpRole::Residual && partial_block {
            let elems = op
                .operands
                .iter()
                .find(|o| o.role == Role::Output)
                .map(|o| o.elems())
                .unwrap_or(0);
            let (kind, suffix) = if sp {
                (CollectiveKind::ReduceScatter, "tp_reducescatter")
            } else {
                (CollectiveKind::AllReduce, "tp_allreduce")
            };
            let c = Op::collective(
                &format!("{name}.{suffix}"),
                kind,
                elems.max(1),
                tp,
                op.compute_dtype,
            )?
            .times(op.repeat)?;
            out.push(comm(c, op.layer, Comm::Join));
            partial_block = false;
            regathered = false;
            scattered = sp;
        }
        if scattered && needs_whole_sequence(op) {
            // Leaving the sequence-parallel region: gather the block input (forward) or
            // the output gradient (backward of a row-parallel projection, the embedding).
            out.push(comm(gather(op, tp)?, op.layer, Comm::Gather));
            scattered = false;
        } else if sp
            && partial_block
            && !regathered
            && is_wgrad(op)
            && matches!(op.role, OpRole::Column(_))
            && matches!(op.kind, OpKind::Matmul(_))
        {
            // The weight gradient of a column-parallel projection reads its input again,
            // which sequence parallelism kept scattered: Megatron-LM all-gathers it once
            // more in backward (overlapped with the input-gradient GEMM). Its bias gradient
            // reduces the split dY and needs nothing. Once per join, as the forward gathered
            // it once: the first such weight gradient after a block's input-gradient partial
            // sums is its input projection's; in a parallel block the other branch's input
            // projection reads the same gathered input, and the output projection whose
            // weight gradient sits between them reads the (unsplit) attention output.
            out.push(comm(gather(op, tp)?, op.layer, Comm::Regather));
            regathered = true;
        }
        if scattered && matches!(op.role, OpRole::Replicated | OpRole::Residual) {
            let mut o = op.clone();
            seq_slice(&mut o, tp);
            out.push(PlacedOp {
                op: Cow::Owned(o),
                placement: Placement::Split,
                shards: tp,
            });
            continue;
        }
        let mut o = op.clone();
        let mut placement = Placement::Replicated;
        let mut f = 1;
        let mut after: Option<Op> = None;
        let experts = matches!(op.kind, OpKind::Matmul(m) if m.rhs_batched)
            && op.role.block() == Some(Block::Experts)
            && matches!(op.role, OpRole::Column(_) | OpRole::Row(_));
        match op.role {
            _ if experts => {
                has_experts = true;
                let row = matches!(op.role, OpRole::Row(_));
                if ep > 1 {
                    if let OpKind::Matmul(m) = &mut o.kind {
                        m.batch = ceil_div(m.batch, ep);
                    }
                    for od in o.operands.iter_mut() {
                        div_dim(&mut od.shape, 0, ep);
                    }
                }
                let within = tp / ep;
                if within > 1 {
                    split_matmul(&mut o, row, within);
                }
                // Expert outputs are partial (per device) until the block's all-reduce.
                partial_block |= row;
                placement = Placement::Experts;
                f = tp;
            }
            OpRole::Heads(_) => {
                match &mut o.kind {
                    OpKind::Attention(a) | OpKind::AttentionGrad(a) => {
                        // Operands with KV heads: k, v (forward); k, v, dk, dv (backward).
                        let kv_ops: &[usize] = if matches!(op.kind, OpKind::Attention(_)) {
                            &[1, 2]
                        } else {
                            &[1, 2, 7, 8]
                        };
                        if a.heads % tp != 0 {
                            return Err(err(format!(
                                "`{name}`: {} attention heads do not split over tp = {tp}",
                                a.heads
                            )));
                        }
                        a.heads /= tp;
                        a.kv_heads /= kv_factor;
                        let (h, kv) = (a.heads, a.kv_heads);
                        for (i, od) in o.operands.iter_mut().enumerate() {
                            div_dim_to(&mut od.shape, 1, if kv_ops.contains(&i) { kv } else { h });
                        }
                    }
                    // Unfused attention scores / values, MLA absorbed projections: batch = heads.
                    OpKind::Matmul(m) if m.rhs_batched => {
                        if !m.batch.is_multiple_of(tp) {
                            return Err(err(format!(
                                "`{name}`: batch·heads {} does not split over tp = {tp}",
                                m.batch
                            )));
                        }
                        m.batch /= tp;
                        for od in o.operands.iter_mut() {
                            div_dim(&mut od.shape, 0, tp);
                        }
                    }
                    OpKind::Softmax { rows, .. } => {
                        *rows = ceil_div(*rows, tp);
                        for od in o.operands.iter_mut() {
                            div_dim(&mut od.shape, 0, tp);
                        }
                    }
                    _ => slice(&mut o, tp),
                }
                placement = Placement::Heads;
                f = tp;
            }
            OpRole::Column(_) if matches!(o.kind, OpKind::Matmul(_)) => {
                split_matmul(&mut o, false, tp);
                placement = Placement::Column;
                f = tp;
            }
            OpRole::Row(_) if matches!(o.kind, OpKind::Matmul(_)) => {
                split_matmul(&mut o, true, tp);
                placement = Placement::Row;
                f = tp;
                partial_block = true;
            }
            // Megatron-LM's vocabulary-parallel cross-entropy (Shoeybi et al. 2019, §3):
            // each device reduces its logit slice, then three all-reduces of one FP32 value
            // per row (the max, the sum of exponentials, the target's logit) join them.
            OpRole::Sliced(Block::Vocab) if matches!(o.kind, OpKind::Loss { pass, .. } if pass.is_forward()) =>
            {
                slice(&mut o, tp);
                placement = Placement::Split;
                f = tp;
                if let OpKind::Loss { rows, .. } = op.kind {
                    after = Some(
                        Op::collective(
                            &format!("{name}.tp_allreduce"),
                            CollectiveKind::AllReduce,
                            rows.saturating_mul(VOCAB_PARALLEL_LOSS_REDUCTIONS).max(1),
                            tp,
                            DType::Fp32,
                        )?
                        .times(op.repeat)?,
                    );
                }
            }
            OpRole::Column(_) | OpRole::Row(_) | OpRole::Sliced(_) => {
                slice(&mut o, tp);
                placement = Placement::Split;
                f = tp;
            }
            OpRole::LmHead if matches!(o.kind, OpKind::Matmul(_)) => {
                split_matmul(&mut o, false, tp);
                placement = Placement::Column;
                f = tp;
                // Inference gathers the logits for sampling; training keeps them split for
                // the vocabulary-parallel loss below.
                if !train {
                    let elems = op.operands.get(2).map(|x| x.elems()).unwrap_or(1);
                    after = Some(Op::collective(
                        &format!("{name}.tp_allgather"),
                        CollectiveKind::AllGather,
                        elems,
                        tp,
                        op.compute_dtype,
                    )?);
                }
            }
            // The backward scatter-add into a vocabulary-parallel table: each device adds
            // the rows of its own vocabulary slice; dY is whole on every device, so no
            // collective (the forward's all-reduce is identity in backward).
            OpRole::Embedding if matches!(o.kind, OpKind::Embedding { pass, .. } if !pass.is_forward()) =>
            {
                if let OpKind::Embedding { tokens, .. } = &mut o.kind {
                    *tokens = ceil_div(*tokens, tp);
                }
                div_dim(&mut o.operands[0].shape, 0, tp);
                placement = Placement::Column;
                f = tp;
            }
            OpRole::Embedding if matches!(o.kind, OpKind::Embedding { .. }) => {
                div_dim(&mut o.operands[0].shape, 0, tp);
                placement = Placement::Column;
                f = tp;
                let elems = op.operands.get(1).map(|x| x.elems()).unwrap_or(1);
                // Sequence parallelism reduce-scatters the embedding into the sequence split.
                let (kind, suffix) = if sp {
                    (CollectiveKind::ReduceScatter, "tp_reducescatter")
                } else {
                    (CollectiveKind::AllReduce, "tp_allreduce")
                };
                after = Some(
                    Op::collective(
                        &format!("{name}.{suffix}"),
                        kind,
                        elems,
                        tp,
                        op.compute_dtype,
                    )?
                    .times(op.repeat)?,
                );
                scattered = sp;
            }
            OpRole::KvAppend(_) if kv_factor > 1 => {
                for od in o.operands.iter_mut() {
                    last(&mut od.shape, kv_factor);
                }
                placement = Placement::Split;
                f = kv_factor;
            }
            _ => {}
        }
        if f > 1 {
            sharded_any = true;
            for od in &op.operands {
                // A row split leaves the bias (added once, after the reduction) whole.
                if od.role == Role::Weight && (placement != Placement::Row || od.shape.len() > 1) {
                    shards.insert(od.tensor.clone(), f);
                }
            }
        }
        let ep_comm = ep > 1 && placement == Placement::Experts;
        // A weight gradient (backward) reads the token copies its dgrad already received.
        if ep_comm && matches!(op.role, OpRole::Column(_)) && !is_wgrad(op) {
            out.push(comm(
                a2a(op, &format!("{name}.ep_dispatch"), ep, 0)?,
                op.layer,
                Comm::Experts,
            ));
        }
        out.push(PlacedOp {
            op: Cow::Owned(o),
            placement,
            shards: f,
        });
        if ep_comm && matches!(op.role, OpRole::Row(_)) {
            out.push(comm(
                a2a(op, &format!("{name}.ep_combine"), ep, 2)?,
                op.layer,
                Comm::Experts,
            ));
        }
        if let Some(a) = after {
            out.push(comm(a, op.layer, Comm::Vocab));
        }
    }
    if !sharded_any {
        return Err(err(format!(
            "`{}` has no op marked for tensor parallelism (attention heads, column/row \
             projections, vocabulary); its frontend found no transformer structure, so run it \
             with tp = 1 and use dp for more devices",
            g.name
        )));
    }
    if ep > 1 && !has_experts {
        return Err(err(format!(
            "`{}` has no mixture-of-experts layers to spread over ep = {ep}",
            g.name
        )));
    }
    Ok(DeviceGraph {
        ops: out,
        weight_shards: shards,
    })
}

/// Rows each device contributes to the vocabulary-parallel cross-entropy's all-reduces:
/// the row max, the sum of exponentials and the target logit (Megatron-LM
/// `_VocabParallelCrossEntropy.forward`).
const VOCAB_PARALLEL_LOSS_REDUCTIONS: u64 = 3;

/// A weight gradient (`wgrad`): it writes a parameter gradient.
fn is_wgrad(op: &Op) -> bool {
    op.operands.iter().any(|x| x.role == Role::Grad)
}

/// Whether `op` reads an activation whole over the sequence, which sequence parallelism
/// must all-gather first: the column-parallel projections and the LM head (forward), the
/// input gradient of a row-parallel projection (backward, a `Column` op) and the
/// embedding's scatter-add.
fn needs_whole_sequence(op: &Op) -> bool {
    match (&op.kind, op.role) {
        (OpKind::Matmul(_), OpRole::Column(_) | OpRole::LmHead) => !is_wgrad(op),
        (OpKind::Embedding { pass, .. }, OpRole::Embedding) => !pass.is_forward(),
        _ => false,
    }
}

/// All-gather of the first operand of `op` (its whole activation) over the `tp` group.
fn gather(op: &Op, tp: u64) -> Result<Op, SystemError> {
    let idx = match op.kind {
        // The scatter-add reads the output gradient (operand 1; operand 0 is the table).
        OpKind::Embedding { .. } => 1,
        _ => 0,
    };
    let elems = op.operands.get(idx).map(|o| o.elems()).unwrap_or(1);
    Ok(Op::collective(
        &format!("{}.tp_allgather", op.name),
        CollectiveKind::AllGather,
        elems.max(1),
        tp,
        op.compute_dtype,
    )?
    .times(op.repeat)?)
}

/// Splits an op between blocks over the sequence (sequence parallelism): its size fields
/// and its activations, never its parameters or their gradients (a norm's γ stays whole;
/// its per-device partial gradient is all-reduced once per step with the others).
fn seq_slice(o: &mut Op, f: u64) {
    match &mut o.kind {
        OpKind::Elementwise { elems, .. } => *elems = ceil_div(*elems, f),
        OpKind::Norm { rows, .. } | OpKind::Softmax { rows, .. } | OpKind::Loss { rows, .. } => {
            *rows = ceil_div(*rows, f)
        }
        OpKind::Reduce { in_elems, .. } => *in_elems = ceil_div(*in_elems, f),
        _ => {}
    }
    for od in o.operands.iter_mut() {
        if matches!(od.role, Role::Input | Role::Output) {
            // The sequence is the axis that divides; a batch of one is not it.
            let idx = od
                .shape
                .iter()
                .position(|&d| d > 1 && d.is_multiple_of(f))
                .or_else(|| {
                    (0..od.shape.len()).max_by_key(|&i| od.shape.get(i).copied().unwrap_or(0))
                });
            if let Some(i) = idx {
                div_dim(&mut od.shape, i, f);
            }
        }
    }
}

/// An inserted collective, in the layer of the op it serves (for pipeline stages).
fn comm(mut op: Op, layer: Option<u32>, what: Comm) -> PlacedOp<'static> {
    op.layer = layer;
    PlacedOp {
        op: Cow::Owned(op),
        placement: Placement::Comm(what),
        shards: 1,
    }
}

/// All-to-all of the routed token copies of an expert matmul's operand `idx`: each device
/// holds `1/ep` of them and exchanges them with the other experts' owners.
fn a2a(op: &Op, name: &str, ep: u64, idx: usize) -> Result<Op, SystemError> {
    let elems = op.operands.get(idx).map(|o| o.elems()).unwrap_or(1);
    Ok(Op::collective(
        name,
        CollectiveKind::AllToAll,
        ceil_div(elems, ep).max(1),
        ep,
        op.compute_dtype,
    )?
    .times(op.repeat)?)
}

/// Column split divides `n` (weight, output, bias); row split divides `k` (input, weight).
fn split_matmul(o: &mut Op, row: bool, f: u64) {
    let OpKind::Matmul(m) = &mut o.kind else {
        return;
    };
    let batched = m.rhs_batched;
    if row {
        m.k = ceil_div(m.k, f);
        last(&mut o.operands[0].shape, f);
        let ki = if batched { 1 } else { 0 };
        div_dim(&mut o.operands[1].shape, ki, f);
    } else {
        m.n = ceil_div(m.n, f);
        for (i, od) in o.operands.iter_mut().enumerate() {
            if i >= 1 {
                last(&mut od.shape, f);
            }
        }
    }
}

/// Divides the work of an op on a column-split activation by `f`: its size fields and
/// every operand (the slice-local activations and, for per-channel ops, their weights).
fn slice(o: &mut Op, f: u64) {
    match &mut o.kind {
        OpKind::Elementwise { elems, .. } => *elems = ceil_div(*elems, f),
        OpKind::Norm { cols, .. } => *cols = ceil_div(*cols, f),
        OpKind::Reduce { in_elems, .. } => *in_elems = ceil_div(*in_elems, f),
        // A loss over vocabulary-split logits.
        OpKind::Loss { cols, .. } => *cols = ceil_div(*cols, f),
        OpKind::Softmax { rows, .. } => {
            *rows = ceil_div(*rows, f);
            for od in o.operands.iter_mut() {
                div_dim(&mut od.shape, 0, f);
            }
            return;
        }
        OpKind::Scan(s) => {
            s.channels = ceil_div(s.channels, f);
            // Operands as `Op::scan` builds them: x, dt, B|C (shared by all channels), A
            // [channels, state], state [batch, channels, state], y; extra vectors after.
            for (i, od) in o.operands.iter_mut().enumerate() {
                let idx = match i {
                    3 => 0,
                    4 => 1,
                    2 => continue,
                    _ => od.shape.len().saturating_sub(1),
                };
                div_dim(&mut od.shape, idx, f);
            }
            return;
        }
        OpKind::Conv(c) => {
            // A depthwise convolution (SSM conv1d) splits its channels with the activation.
            let depthwise = c.groups == c.c && c.c == c.k;
            c.k = ceil_div(c.k, f);
            if depthwise {
                c.c = ceil_div(c.c, f);
                c.groups = ceil_div(c.groups, f);
            }
            for od in o.operands.iter_mut() {
                let idx = if od.role == Role::Weight { 0 } else { 1 };
                if depthwise || od.role != Role::Input {
                    div_dim(&mut od.shape, idx, f);
                }
            }
            return;
        }
        _ => {}
    }
    for od in o.operands.iter_mut() {
        last(&mut od.shape, f);
    }
}

/// How many devices share one KV head: `kv_heads / tp` heads per device, or each KV head
/// replicated when there are fewer KV heads than devices (GQA/MQA with large tp).
fn kv_factor(g: &Graph, tp: u64) -> Result<u64, String> {
    let kv = g.ops.iter().find_map(|o| match (&o.kind, o.role) {
        (OpKind::Attention(a) | OpKind::AttentionGrad(a), OpRole::Heads(_)) => {
            Some((a.kv_heads, o.name.clone()))
        }
        _ => None,
    });
    let Some((kv, name)) = kv else { return Ok(1) };
    if tp <= 1 {
        Ok(1)
    } else if kv.is_multiple_of(tp) {
        Ok(tp)
    } else if tp.is_multiple_of(kv) {
        Ok(kv)
    } else {
        Err(format!(
            "`{name}`: {kv} KV heads neither divide nor are divided by tp = {tp}"
        ))
    }
}

/// Placement of every op, for callers that want the sharded graph without costing it.
pub fn placements(
    g: &Graph,
    par: &Parallelism,
) -> Result<Vec<(String, Placement, u64)>, SystemError> {
    Ok(shard(g, par)?
        .ops
        .into_iter()
        .map(|p| (p.op.into_owned().name, p.placement, p.shards))
        .collect())
}
