//! Finding transformer blocks: column projections, the region between them and one row
//! projection, and the residual add where the block's output rejoins the stream.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use xpusim_ir::{Block, Graph, OpKind};

use super::dfg::{is_act_matmul, Dfg, WALK_CAP};

/// One attention or MLP block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found<'a> {
    pub kind: Block,
    /// The first projections (split by output columns), in node order.
    pub cols: Vec<usize>,
    /// Non-projection nodes between the first projections and `row`.
    pub region: Vec<usize>,
    /// The second projection (split by input rows).
    pub row: usize,
    /// Copies and the bias add between `row` and the residual add.
    pub chain: Vec<usize>,
    /// The add (or fused skip-add norm) joining the block's output to the stream.
    pub residual: usize,
    /// The stream tensor the residual adds to (the block's input).
    pub stream: &'a str,
    /// Inputs of the first projections computed from `stream` (all but a cross-attention's
    /// keys and values, which read the encoder output).
    pub entry: Vec<&'a str>,
    /// Region nodes that append fresh keys/values to a cache passed in as a graph input.
    pub kv: Vec<usize>,
}

/// Pointwise nonlinearities that make two chained projections an MLP (decomposed GELU
/// has Tanh or Erf; SiLU is Sigmoid·x).
const ACTIVATIONS: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Selu",
    "Celu",
    "Gelu",
    "FastGelu",
    "BiasGelu",
    "QuickGelu",
    "Erf",
    "Tanh",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Swish",
    "Mish",
    "Softplus",
    "ThresholdedRelu",
];

/// Shape-only ops a tensor passes through unchanged in content.
pub(crate) fn copy_like(op: &str) -> bool {
    matches!(
        op,
        "Reshape"
            | "Flatten"
            | "Squeeze"
            | "Unsqueeze"
            | "Identity"
            | "Dropout"
            | "Cast"
            | "Transpose"
            | "QuantizeLinear"
            | "DequantizeLinear"
    )
}

/// Walks forward from projection `p` through non-projection nodes. Returns the single
/// projection reached and the nodes passed, or `None` when zero or several are reached.
fn next_projection(d: &Dfg<'_>, p: usize) -> Option<(usize, Vec<usize>)> {
    let mut seen = HashSet::new();
    let mut region = Vec::new();
    let mut found = None;
    let mut q: VecDeque<usize> = d.succ(p).into();
    while let Some(n) = q.pop_front() {
        if n == p || !seen.insert(n) {
            continue;
        }
        if seen.len() > WALK_CAP {
            return None;
        }
        if d.is_proj(n) {
            if found.is_some_and(|f| f != n) {
                return None;
            }
            found = Some(n);
            continue;
        }
        region.push(n);
        q.extend(d.succ(n));
    }
    found.map(|f| (f, region))
}

/// The residual add after row projection `r`: through copies and at most a bias add (or
/// a constant scale), the first add of two activations whose other addend `accept`s as
/// the block's stream. Returns the chain, the add and the stream. One add of another
/// activation may come first: parallel blocks (GPT-J, Falcon, PaLM) sum their attention
/// and MLP outputs before joining the stream.
fn residual<'a>(
    d: &Dfg<'a>,
    r: usize,
    accept: &dyn Fn(&str) -> bool,
) -> Option<(Vec<usize>, usize, &'a str)> {
    let mut chain = Vec::new();
    let mut cur = r;
    let mut joins = 0;
    for _ in 0..16 {
        let outs = d.act_outputs(cur);
        let succ = d.succ(cur);
        let [c] = succ.as_slice() else {
            return None;
        };
        let c = *c;
        let ins = d.act_inputs(c);
        match d.op_type(c) {
            "Add" | "Sum" | "BiasAdd" if ins.len() == 2 => {
                let s = ins.iter().copied().find(|t| !outs.contains(t))?;
                if accept(s) {
                    return Some((chain, c, s));
                }
                joins += 1;
                if joins > 1 {
                    return None;
                }
            }
            "SkipLayerNormalization" | "SkipSimplifiedLayerNormalization" => {
                let (a, b) = (d.input(c, 0), d.input(c, 1));
                let s = if outs.contains(&a) { b } else { a };
                let ok = d.act(s) && !outs.contains(&s) && accept(s);
                return ok.then_some((chain, c, s));
            }
            "Add" | "Mul" | "BiasAdd" if ins.len() == 1 => {}
            op if copy_like(op) && ins.len() == 1 => {}
            _ => return None,
        }
        chain.push(c);
        cur = c;
    }
    None
}

/// True when `from` is computed from `target` without a projection in between (or is a
/// sibling output of the node producing it, as a fused skip-add norm's two outputs are).
pub(crate) fn derives_from(d: &Dfg<'_>, from: &str, target: &str) -> bool {
    let tp = d.producer(target);
    let mut seen = HashSet::new();
    let mut q = VecDeque::from([from.to_string()]);
    while let Some(t) = q.pop_front() {
        if t == target {
            return true;
        }
        let Some(p) = d.producer(&t) else { continue };
        if Some(p) == tp {
            return true;
        }
        if d.is_proj(p) || !seen.insert(p) || seen.len() > WALK_CAP {
            continue;
        }
        q.extend(d.act_inputs(p).into_iter().map(str::to_string));
    }
    false
}

fn has_ir(d: &Dfg<'_>, graph: &Graph, n: usize, f: impl Fn(&xpusim_ir::Op) -> bool) -> bool {
    d.ops
        .get(n)
        .cloned()
        .unwrap_or(0..0)
        .any(|i| graph.ops.get(i).is_some_and(&f))
}

/// Attention when the nodes hold a fused attention op, or a softmax and a matmul of two
/// activations; an MLP when they hold a pointwise nonlinearity; otherwise not a block.
fn classify(d: &Dfg<'_>, graph: &Graph, cols: &[usize], region: &[usize]) -> Option<Block> {
    let all = || cols.iter().chain(region).copied();
    let fused = all().any(|n| has_ir(d, graph, n, |o| matches!(o.kind, OpKind::Attention(_))));
    let softmax = region.iter().any(|&n| d.op_type(n) == "Softmax");
    let scores = region.iter().any(|&n| has_ir(d, graph, n, is_act_matmul));
    if fused || (softmax && scores) {
        return Some(Block::Attention);
    }
    let act = region.iter().any(|&n| ACTIVATIONS.contains(&d.op_type(n)));
    act.then_some(Block::Mlp)
}

/// A region node that writes fresh keys/values into a cache handed in as a graph input:
/// a Concat (or scatter) one of whose inputs is, up to copies, a graph input.
fn appends_kv(d: &Dfg<'_>, n: usize) -> bool {
    let ins: Vec<&str> = match d.op_type(n) {
        "Concat" if d.act_inputs(n).len() >= 2 => d.act_inputs(n),
        "ScatterND" | "ScatterElements" | "Scatter" => vec![d.input(n, 0)],
        _ => return false,
    };
    ins.iter()
        .any(|t| d.is_graph_input(d.back_through(t, 8, copy_like)))
}

/// Every block of the graph, ordered by its residual add.
pub(crate) fn find<'a>(d: &Dfg<'a>, graph: &Graph) -> Vec<Found<'a>> {
    // Second projection → (first projections, union of their walks).
    let mut groups: BTreeMap<usize, (Vec<usize>, BTreeSet<usize>)> = BTreeMap::new();
    for p in (0..d.len()).filter(|&p| d.is_proj(p)) {
        if let Some((r, region)) = next_projection(d, p) {
            let g = groups.entry(r).or_default();
            g.0.push(p);
            g.1.extend(region);
        }
    }
    let mut out: Vec<Found<'a>> = Vec::new();
    for (row, (cols, region)) in groups {
        if cols.contains(&row) {
            continue;
        }
        let region: Vec<usize> = region.into_iter().filter(|&n| n != row).collect();
        let Some(mut kind) = classify(d, graph, &cols, &region) else {
            continue;
        };
        let ins: Vec<&str> = cols.iter().map(|&p| d.input(p, 0)).collect();
        let accept = |s: &str| ins.iter().any(|t| derives_from(d, t, s));
        let Some((chain, res, stream)) = residual(d, row, &accept) else {
            continue;
        };
        let entry: Vec<&str> = ins
            .iter()
            .copied()
            .filter(|t| derives_from(d, t, stream))
            .collect();
        if kind == Block::Attention && ins.iter().any(|t| !entry.contains(t)) {
            kind = Block::CrossAttention;
        }
        let kv = if kind == Block::Mlp {
            Vec::new()
        } else {
            region
                .iter()
                .copied()
                .filter(|&n| appends_kv(d, n))
                .collect()
        };
        out.push(Found {
            kind,
            cols,
            region,
            row,
            chain,
            residual: res,
            stream,
            entry,
            kv,
        });
    }
    // Attention before the MLP of a parallel layer that shares its residual.
    out.sort_by_key(|b| (b.residual, b.kind));
    // A projection or region node belongs to one block (parallel blocks share only the
    // adds after their row projections): a later block overlapping an earlier is dropped.
    let mut used = HashSet::new();
    out.retain(|b| {
        let mine: Vec<usize> = b
            .cols
            .iter()
            .chain(&b.region)
            .copied()
            .chain([b.row])
            .collect();
        if mine.iter().any(|n| used.contains(n)) {
            return false;
        }
        used.extend(mine);
        true
    });
    out
}
