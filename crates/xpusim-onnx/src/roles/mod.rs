//! Parallelism roles ([`xpusim_ir::OpRole`]) and layer indices from graph structure.
//!
//! Sharding, pipelining, serving and PIM placement read only `Op::role` and `Op::layer`,
//! so the importer has to say which matmul is a block's first or second projection. It
//! decides from structure alone: ONNX op types, the dataflow between tensors, which inputs
//! are constants, and shapes. Names are never read, because exporters name nodes however
//! they like (`/h.0/attn/c_attn/Gemm`, `addmm`, `MatMul_1400`, `GptAttention_0`), and a
//! graph whose names lie must still split correctly.
//!
//! The layout is Megatron-LM's (Shoeybi et al. 2019, §3): a block is two chained
//! projections with slice-local work between them. The first is split by output columns
//! so that everything up to the second runs on each device's slice without talking; the
//! second is split by input rows, leaving partial sums that are all-reduced where the block
//! joins the residual stream. Hence the rules:
//!
//! * A *projection* is a node lowered to a matmul of an activation by a 2-D constant
//!   (MatMul, Gemm, MatMulInteger, QLinearMatMul, MatMulNBits, a weight-only Einsum, the
//!   packed QKV GEMM inside com.microsoft `Attention`).
//! * From each projection, walk the activations forward through non-projection nodes. When
//!   exactly one projection is reached, the walk's nodes are that pair's *region*. All
//!   projections that reach the same second projection form one block's first set: a fused
//!   QKV, separate Q/K/V, or the gate and up projections of a gated MLP. A row projection's
//!   own walk runs into the residual stream and reaches every later block, so it never
//!   pairs (nor does a layer's last projection with the LM head: see the next rule).
//! * The region decides the block. A softmax next to a matmul of two activations (Q·Kᵀ, P·V)
//!   or a fused attention op makes it attention; a pointwise nonlinearity (GELU in any
//!   decomposition, SiLU as Sigmoid·x, ReLU, FastGelu, …) makes it an MLP; a region with
//!   neither (a residual add and a norm between blocks) is no block. Attention whose first
//!   projections read different streams (keys and values from an encoder output) is
//!   cross-attention.
//! * The second projection's output, through copies and at most a bias add (or a constant
//!   scale), meets an add of two activations: the *residual*. Its other addend is the
//!   stream the block reads; the block is accepted only if its first projections are
//!   computed from that stream without another projection (directly, through a norm, or as
//!   the sibling output of a fused skip-add norm). Without a residual there is no
//!   Megatron layout to apply, so RNN cells written as Gemm, CNN heads and VAD models get
//!   no roles at all.
//! * Inside a block: first projections `Column`, second `Row`; in attention, the fused
//!   attention op, the two activation matmuls and the softmax are `Heads` (they split by
//!   head), a Concat/scatter writing fresh K/V onto a cache that enters as a graph input is
//!   `KvAppend`; every other region op (reshapes, transposes, rotary embedding, score
//!   scaling and masking, activation functions, gating, biases of column projections) runs
//!   on the slice: `Sliced`. The row projection's bias add runs after the all-reduce and
//!   stays `Replicated`, like the norms.
//! * Layers: blocks are ordered by their residual; an attention block followed by
//!   cross-attention and/or an MLP is one transformer layer, anything else starts a new
//!   one. We number transformer layers rather than blocks because pipeline stages and
//!   per-layer KV caches are cut at layer boundaries; an attention-only or MLP-only stack
//!   gets one layer per block. A block's layer covers its norm: the nodes after the
//!   previous residual that compute its input (for the first block of a stream, only those
//!   computed from the stream, so embeddings stay outside), through its residual add.
//!   A fused skip-add norm's add is the residual of one layer and its norm the start of
//!   the next.
//! * Vocabulary: a Gather from a 2-D constant table whose indices come from a graph input
//!   without a Range or CumSum on the way (those build position ids) is a candidate
//!   embedding, as is EmbedLayerNormalization's word table (its input 2). The LM head is
//!   the last projection after the last block whose output width equals a candidate's
//!   row count; the embedding is the candidate with that many rows, or, without an LM
//!   head (encoders), the one with the most rows — a vocabulary outnumbers positions and
//!   token types in every model we know. Only graphs with at least one block get these.
//!
//! Anything not matched stays `Replicated` with no layer, which is always a safe reading:
//! it is computed whole on every device.
//!
//! Tensor names serve only as identities that connect a producer to its consumers; no
//! rule looks inside a name (`tests/roles.rs` renames every node and tensor to misleading
//! names and checks that the roles do not change).

mod blocks;
mod dfg;
#[cfg(test)]
mod tests;

use std::collections::{HashSet, VecDeque};

use xpusim_ir::{Block, Graph, OpKind, OpRole};

use crate::import::Env;
use crate::proto::GraphProto;
use blocks::Found;
use dfg::{is_act_matmul, is_weight_matmul, Dfg};

/// Sets `role` and `layer` on the ops of `graph`, imported from `g`; `ends[i]` is the op
/// count after top-level node `i`.
pub(crate) fn infer(g: &GraphProto, env: &Env, graph: &mut Graph, ends: &[usize]) {
    let d = Dfg::new(g, env, graph, ends);
    let found = blocks::find(&d, graph);
    if found.is_empty() {
        return;
    }
    let layers = number(&found);
    let residuals: HashSet<usize> = found.iter().map(|b| b.residual).collect();
    for (b, &l) in found.iter().zip(&layers) {
        entry(&d, graph, b, l, &residuals);
    }
    for (b, &l) in found.iter().zip(&layers) {
        block(&d, graph, b, l);
    }
    vocab(&d, graph, &found);
}

/// Transformer layer of each block (see the module doc).
fn number(found: &[Found<'_>]) -> Vec<u32> {
    let mut l = 0u32;
    let mut prev: Option<Block> = None;
    found
        .iter()
        .map(|b| {
            if let Some(p) = prev {
                let attn = matches!(p, Block::Attention | Block::CrossAttention);
                if !(attn && matches!(b.kind, Block::CrossAttention | Block::Mlp)) {
                    l = l.saturating_add(1);
                }
            }
            prev = Some(b.kind);
            l
        })
        .collect()
}

fn set(graph: &mut Graph, i: usize, role: OpRole, layer: Option<u32>) {
    if let Some(op) = graph.ops.get_mut(i) {
        op.role = role;
        op.layer = layer;
    }
}

/// Puts the nodes computing block `b`'s input (its norm) in layer `l`.
fn entry(d: &Dfg<'_>, graph: &mut Graph, b: &Found<'_>, l: u32, residuals: &HashSet<usize>) {
    let mut start = b.entry.clone();
    start.push(b.stream);
    let Some((inside, touched)) = d.back_closure(&start, &|n| residuals.contains(&n)) else {
        return;
    };
    let after: Vec<usize> = touched
        .into_iter()
        .filter(|n| residuals.contains(n))
        .collect();
    let nodes = if after.is_empty() {
        descendants(d, b.stream, &inside)
    } else {
        inside
    };
    for n in nodes {
        for i in d.ops.get(n).cloned().unwrap_or(0..0) {
            set(graph, i, OpRole::Replicated, Some(l));
        }
    }
    // The norm half of a fused skip-add norm whose add closed the previous block.
    for n in after {
        for i in d.ops.get(n).cloned().unwrap_or(0..0).skip(1) {
            set(graph, i, OpRole::Replicated, Some(l));
        }
    }
}

/// The nodes of `within` computed from tensor `x`.
fn descendants(d: &Dfg<'_>, x: &str, within: &[usize]) -> Vec<usize> {
    let within: HashSet<usize> = within.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut q: VecDeque<usize> = d.consumers(x).into();
    while let Some(n) = q.pop_front() {
        if within.contains(&n) && seen.insert(n) {
            q.extend(d.succ(n));
        }
    }
    let mut v: Vec<usize> = seen.into_iter().collect();
    v.sort_unstable();
    v
}

/// Roles of one block's ops.
fn block(d: &Dfg<'_>, graph: &mut Graph, b: &Found<'_>, l: u32) {
    let k = b.kind;
    let attn = matches!(k, Block::Attention | Block::CrossAttention);
    let heads = |op: &xpusim_ir::Op| {
        attn && (matches!(op.kind, OpKind::Attention(_) | OpKind::Softmax { .. })
            || is_act_matmul(op))
    };
    let ops = |n: usize| d.ops.get(n).cloned().unwrap_or(0..0);
    for n in b.cols.iter().chain(&b.region).copied() {
        for i in ops(n) {
            let Some(op) = graph.ops.get(i) else { continue };
            let role = if is_weight_matmul(op) {
                OpRole::Column(k)
            } else if b.kv.contains(&n) {
                OpRole::KvAppend(k)
            } else if heads(op) {
                OpRole::Heads(k)
            } else {
                OpRole::Sliced(k)
            };
            set(graph, i, role, Some(l));
        }
    }
    for i in ops(b.row) {
        let Some(op) = graph.ops.get(i) else { continue };
        let role = if is_weight_matmul(op) {
            OpRole::Row(k)
        } else {
            OpRole::Replicated
        };
        set(graph, i, role, Some(l));
    }
    for &n in &b.chain {
        for i in ops(n) {
            set(graph, i, OpRole::Replicated, Some(l));
        }
    }
    if let Some(i) = ops(b.residual).next() {
        set(graph, i, OpRole::Residual, Some(l));
    }
}

/// Token indices: computed from a graph input, not from a Range or CumSum (position ids).
fn token_ids(d: &Dfg<'_>, t: &str) -> bool {
    if d.is_graph_input(t) {
        return true;
    }
    let Some((inside, _)) = d.back_closure(&[t], &|_| false) else {
        return false;
    };
    let positional = inside
        .iter()
        .any(|&n| matches!(d.op_type(n), "Range" | "CumSum"));
    let from_input = inside
        .iter()
        .any(|&n| d.act_inputs(n).iter().any(|i| d.is_graph_input(i)));
    from_input && !positional
}

/// Marks the token embedding and the LM head (see the module doc).
fn vocab(d: &Dfg<'_>, graph: &mut Graph, found: &[Found<'_>]) {
    // (IR op, table rows) of each candidate token-embedding gather.
    let mut cands: Vec<(usize, u64)> = Vec::new();
    for n in 0..d.len() {
        let (table, ids) = match d.op_type(n) {
            "Gather" => (d.input(n, 0), d.input(n, 1)),
            "EmbedLayerNormalization" => (d.input(n, 2), d.input(n, 0)),
            _ => continue,
        };
        if !d.act(ids) || !token_ids(d, ids) {
            continue;
        }
        let Some(&[rows, _]) = d.shape(table) else {
            continue;
        };
        for i in d.ops.get(n).cloned().unwrap_or(0..0) {
            let Some(op) = graph.ops.get(i) else { continue };
            let reads = op.operands.iter().any(|o| o.tensor == table);
            if matches!(op.kind, OpKind::Embedding { .. }) && reads {
                cands.push((i, rows));
            }
        }
    }
    // Every block's projections precede its residual, so these are outside all blocks.
    let last = found.iter().map(|b| b.residual).max().unwrap_or(0);
    let mut head: Option<(usize, u64)> = None;
    for n in (last + 1..d.len()).filter(|&n| d.is_proj(n)) {
        for i in d.weight_matmuls(graph, n) {
            let Some(OpKind::Matmul(s)) = graph.ops.get(i).map(|o| &o.kind) else {
                continue;
            };
            if cands.iter().any(|&(_, rows)| rows == s.n) {
                head = Some((i, s.n));
            }
        }
    }
    let vocab_rows = match head {
        Some((i, n)) => {
            set(graph, i, OpRole::LmHead, None);
            n
        }
        None => cands.iter().map(|&(_, r)| r).max().unwrap_or(0),
    };
    for (i, rows) in cands {
        if rows == vocab_rows {
            set(graph, i, OpRole::Embedding, None);
        }
    }
}
