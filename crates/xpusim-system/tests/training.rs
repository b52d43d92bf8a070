//! Tensor parallelism of a training step: the backward ops' roles (Megatron-LM's conjugate
//! operators, Shoeybi et al. 2019 §3) split every projection's gradients over the group and
//! put the all-reduces where the forward had identity — two per layer in backward as in
//! forward, four per layer per step without sequence parallelism.

use std::collections::BTreeMap;

use xpusim_ir::autodiff::backward;
use xpusim_ir::{CollectiveKind, Graph, Op, OpKind, Phase};
use xpusim_models::{build, Workload};
use xpusim_system::shard::{shard, DeviceGraph, Placement};
use xpusim_system::Parallelism;

const TP: u64 = 8;

fn step(model: &str, seq: u64) -> (Graph, Graph) {
    let g = build(model, &Workload::new(Phase::Train, 1, seq, 0)).unwrap();
    let b = backward(&g).unwrap();
    (g, b)
}

fn collectives(d: &DeviceGraph, kind: CollectiveKind) -> BTreeMap<Option<u32>, u64> {
    let mut m = BTreeMap::new();
    for p in &d.ops {
        if let OpKind::Collective { kind: k, .. } = p.op.kind {
            if k == kind {
                *m.entry(p.op.layer).or_default() += 1;
            }
        }
    }
    m
}

/// Every split op's per-device FLOPs times the group size equal the unsplit op's, within
/// 1 % (ceiling padding where a dimension does not divide).
fn conserves_work(g: &Graph, d: &DeviceGraph, what: &str) -> usize {
    let whole: BTreeMap<&str, &Op> = g.ops.iter().map(|o| (o.name.as_str(), o)).collect();
    let mut split = 0;
    for p in &d.ops {
        if matches!(p.placement, Placement::Replicated | Placement::Comm(_)) {
            continue;
        }
        let o = whole[p.op.name.as_str()];
        if !matches!(o.kind, OpKind::Matmul(_) | OpKind::AttentionGrad(_)) {
            continue;
        }
        let per_device = p.op.flops() as f64 * TP as f64;
        let total = o.flops() as f64;
        assert!(
            (per_device / total - 1.0).abs() < 0.01,
            "{what}: {} ({:?}) {per_device:e} × {TP} vs {total:e}",
            o.name,
            p.placement
        );
        split += 1;
    }
    split
}

fn check(model: &str, seq: u64, layers: u64) {
    let (g, b) = step(model, seq);
    let par = Parallelism::tp(TP);
    let fwd = shard(&g, &par).unwrap();
    let bwd = shard(&b, &par).unwrap();
    // Every backward matmul of the stack is split (routers and other replicated work
    // aside), with its work conserved.
    let split = conserves_work(&b, &bwd, model);
    let stack_matmuls = b
        .ops
        .iter()
        .filter(|o| o.layer.is_some() && matches!(o.kind, OpKind::Matmul(_)))
        .filter(|o| !o.role.is_replicated() && o.role != xpusim_ir::OpRole::Residual)
        .count();
    assert!(split >= stack_matmuls, "{model}: {split} split ops");
    conserves_work(&g, &fwd, model);
    // Two all-reduces per layer in backward, as in forward.
    let f_ar = collectives(&fwd, CollectiveKind::AllReduce);
    let b_ar = collectives(&bwd, CollectiveKind::AllReduce);
    let in_layers = |m: &BTreeMap<Option<u32>, u64>| -> Vec<u64> {
        m.iter()
            .filter(|(l, _)| l.is_some())
            .map(|(_, n)| *n)
            .collect()
    };
    assert!(
        in_layers(&f_ar).iter().all(|&n| n == 2),
        "{model} fwd {f_ar:?}"
    );
    assert!(
        in_layers(&b_ar).iter().all(|&n| n == 2),
        "{model} bwd {b_ar:?}"
    );
    assert_eq!(in_layers(&b_ar).len(), in_layers(&f_ar).len(), "{model}");
    // Per training step: 4 all-reduces per layer (Megatron without sequence parallelism),
    // counting each op's repeat over the layer group.
    let per_step: u64 = fwd
        .ops
        .iter()
        .chain(&bwd.ops)
        .filter(|p| p.op.layer.is_some())
        .filter(|p| {
            matches!(
                p.op.kind,
                OpKind::Collective {
                    kind: CollectiveKind::AllReduce,
                    ..
                }
            )
        })
        .map(|p| p.op.repeat)
        .sum();
    assert_eq!(per_step, 4 * layers, "{model}");
    // Outside the stack: the forward all-reduces the embedding and the vocabulary-parallel
    // loss's row statistics (the logits stay split: no all-gather in training); the
    // backward all-reduces once, the LM head's input gradient (partial over the split
    // vocabulary) before the final norm's backward — the embedding's scatter-add needs none.
    assert_eq!(f_ar.get(&None), Some(&2), "{model}");
    assert_eq!(b_ar.get(&None), Some(&1), "{model}");
    assert!(collectives(&fwd, CollectiveKind::AllGather).is_empty());
    assert!(collectives(&bwd, CollectiveKind::AllGather).is_empty());
    // The backward of the vocabulary-parallel embedding is split, not replicated.
    let emb = bwd
        .ops
        .iter()
        .find(|p| matches!(p.op.kind, OpKind::Embedding { .. }))
        .unwrap();
    assert_eq!((emb.placement, emb.shards), (Placement::Column, TP));
}

#[test]
fn llama_backward_splits_like_megatron() {
    check("llama-2-7b", 512, 32);
}

#[test]
fn mixtral_backward_splits_like_megatron() {
    check("mixtral-8x7b", 512, 32);
}

/// Where each gradient matmul's split dimension is: the `Row` input gradient of a column
/// projection splits its reduction, the weight gradients their `n` (the forward's split `n`
/// for a column projection, its split `k` for a row projection).
#[test]
fn gradient_matmuls_split_the_forwards_dimension() {
    let (g, b) = step("llama-2-7b", 256);
    let d = shard(&b, &Parallelism::tp(TP)).unwrap();
    let fwd = |n: &str| match g.ops.iter().find(|o| o.name == n).unwrap().kind {
        OpKind::Matmul(m) => m,
        _ => panic!(),
    };
    let dev = |n: &str| match d.ops.iter().find(|p| p.op.name == n).unwrap().op.kind {
        OpKind::Matmul(m) => m,
        _ => panic!(),
    };
    let qkv = fwd("layers.attn_dense.attn.qkv");
    let down = fwd("layers.attn_dense.mlp.down");
    assert_ne!(down.k, down.n);
    // Column forward: dgrad reduces over the split n (Row), wgrad splits n.
    assert_eq!(dev("layers.attn_dense.attn.qkv.dgrad").k, qkv.n / TP);
    assert_eq!(dev("layers.attn_dense.attn.qkv.wgrad").n, qkv.n / TP);
    // Row forward: dgrad splits the forward's k (Column), wgrad too (built as dWᵀ).
    assert_eq!(dev("layers.attn_dense.mlp.down.dgrad").n, down.k / TP);
    assert_eq!(dev("layers.attn_dense.mlp.down.wgrad").n, down.k / TP);
    assert_eq!(dev("layers.attn_dense.mlp.down.wgrad").m, down.n);
    // LM head: dgrad reduces over the split vocabulary, wgrad splits it.
    assert_eq!(dev("lm_head.dgrad").k, 32_000 / TP);
    assert_eq!(dev("lm_head.wgrad").n, 32_000 / TP);
}

/// With expert parallelism the backward's all-to-alls mirror the forward's: the expert
/// down projection's input gradient receives dY by a dispatch, the gate/up projection's
/// input gradient is combined back; the weight gradients read what their dgrad received.
#[test]
fn expert_parallel_backward_mirrors_the_forward_all_to_alls() {
    let (g, b) = step("mixtral-8x7b", 256);
    let par = Parallelism {
        ep: TP,
        ..Parallelism::tp(TP)
    };
    let f = collectives(&shard(&g, &par).unwrap(), CollectiveKind::AllToAll);
    let bw = collectives(&shard(&b, &par).unwrap(), CollectiveKind::AllToAll);
    assert_eq!(f, bw);
    assert!(f.values().all(|&n| n == 2), "{f:?}");
}

fn comm_bytes(d: &DeviceGraph, kind: CollectiveKind) -> u64 {
    d.ops
        .iter()
        .filter_map(|p| match p.op.kind {
            OpKind::Collective { kind: k, bytes, .. } if k == kind => Some(bytes * p.op.repeat),
            _ => None,
        })
        .sum()
}

/// Sequence parallelism (Korthikanti et al. 2022, §4.2.2): each layer's two all-reduces
/// become a reduce-scatter and an all-gather of the same tensor in forward, so the ring
/// traffic is unchanged; backward adds the all-gather of each column projection's input
/// for its weight gradient; the work between blocks (norms, residual adds) splits over the
/// sequence instead of running whole on every device.
#[test]
fn sequence_parallelism_trades_all_reduces_for_scatter_and_gather() {
    let (g, b) = step("llama-2-7b", 512);
    let plain = Parallelism::tp(TP);
    let sp = Parallelism { sp: true, ..plain };
    let (f0, f1) = (shard(&g, &plain).unwrap(), shard(&g, &sp).unwrap());
    let (b0, b1) = (shard(&b, &plain).unwrap(), shard(&b, &sp).unwrap());
    // Forward: AR bytes of the stack = RS bytes = AG bytes (the same activations).
    let stack = |d: &DeviceGraph, kind| -> u64 {
        d.ops
            .iter()
            .filter(|p| p.op.layer.is_some())
            .filter_map(|p| match p.op.kind {
                OpKind::Collective { kind: k, bytes, .. } if k == kind => Some(bytes * p.op.repeat),
                _ => None,
            })
            .sum()
    };
    let ar = stack(&f0, CollectiveKind::AllReduce);
    assert!(ar > 0);
    assert_eq!(stack(&f1, CollectiveKind::AllReduce), 0);
    assert_eq!(stack(&f1, CollectiveKind::ReduceScatter), ar);
    assert_eq!(stack(&f1, CollectiveKind::AllGather), ar);
    // Backward: the same reduce-scatters, plus the gathers of dY (row projections) and of
    // X again for the column projections' weight gradients (fused QKV and gate-up): 4.
    let bar = stack(&b0, CollectiveKind::AllReduce);
    assert_eq!(stack(&b1, CollectiveKind::ReduceScatter), bar);
    let per_layer = |d: &DeviceGraph| {
        let m = collectives(d, CollectiveKind::AllGather);
        m.iter().filter(|(l, _)| l.is_some()).map(|(_, n)| *n).max()
    };
    assert_eq!(
        per_layer(&b1),
        Some(4),
        "{:?}",
        collectives(&b1, CollectiveKind::AllGather)
    );
    // Outside the stack the embedding's all-reduce becomes a reduce-scatter, the LM head
    // gathers its input; the loss still all-reduces its row statistics.
    assert_eq!(
        comm_bytes(&f1, CollectiveKind::AllReduce),
        comm_bytes(&f0, CollectiveKind::AllReduce) - ar - {
            let emb = f0
                .ops
                .iter()
                .find(|p| p.op.name.ends_with("tp_allreduce") && p.op.layer.is_none())
                .unwrap();
            match emb.op.kind {
                OpKind::Collective { bytes, .. } => bytes,
                _ => 0,
            }
        }
    );
    // Work between blocks: norms run on 1/tp of the tokens, residual adds too.
    let norm_flops = |d: &DeviceGraph| -> u64 {
        d.ops
            .iter()
            .filter(|p| matches!(p.op.kind, OpKind::Norm { .. }))
            .map(|p| p.op.flops() * p.op.repeat)
            .sum()
    };
    for (a, b) in [(&f0, &f1), (&b0, &b1)] {
        let (whole, split) = (norm_flops(a), norm_flops(b));
        assert!(
            (whole as f64 / split as f64 - TP as f64).abs() < 0.01 * TP as f64,
            "{whole} vs {split}"
        );
    }
}

/// A parallel block (PaLM §2: attention and FFN read one shared norm, one add joins both)
/// joins its two branches' partial sums once per layer and pass: one all-reduce forward and
/// one backward where a sequential block has two each; under sequence parallelism one
/// all-gather of the block input and one reduce-scatter forward, and in backward one gather
/// of dY, one regather of the input for the input projections' weight gradients and one
/// reduce-scatter.
#[test]
fn parallel_blocks_join_both_branches_once() {
    let (g, b) = step("palm-540b", 256);
    let per_layer = |d: &DeviceGraph, kind| -> Vec<u64> {
        collectives(d, kind)
            .iter()
            .filter(|(l, _)| l.is_some())
            .map(|(_, n)| *n)
            .collect()
    };
    let plain = Parallelism::tp(TP);
    let sp = Parallelism { sp: true, ..plain };
    for (graph, ar) in [(&g, 1), (&b, 1)] {
        let d = shard(graph, &plain).unwrap();
        let n = per_layer(&d, CollectiveKind::AllReduce);
        assert!(!n.is_empty() && n.iter().all(|&x| x == ar), "{n:?}");
    }
    let f = shard(&g, &sp).unwrap();
    let bw = shard(&b, &sp).unwrap();
    for (d, gathers) in [(&f, 1), (&bw, 2)] {
        let ag = per_layer(d, CollectiveKind::AllGather);
        let rs = per_layer(d, CollectiveKind::ReduceScatter);
        assert!(!ag.is_empty() && ag.iter().all(|&x| x == gathers), "{ag:?}");
        assert!(!rs.is_empty() && rs.iter().all(|&x| x == 1), "{rs:?}");
    }
    // The same model built as a sequential block joins twice per layer.
    let seq = xpusim_models::TransformerConfig {
        norms_per_layer: 2,
        ..xpusim_models::zoo::transformer_config("palm-540b").unwrap()
    };
    let gs = seq.build(&Workload::new(Phase::Train, 1, 256, 0)).unwrap();
    let d = shard(&gs, &plain).unwrap();
    let n = per_layer(&d, CollectiveKind::AllReduce);
    assert!(!n.is_empty() && n.iter().all(|&x| x == 2), "{n:?}");
}
