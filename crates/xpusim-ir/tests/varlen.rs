//! Properties of variable-length packing (`Graph::pack_varlen`): FLOPs equal separate runs
//! at each length, one length is the padded graph, packing never beats padding in FLOPs
//! upwards.

use proptest::prelude::*;
use xpusim_ir::{
    AttentionSpec, DType, Graph, NormKind, Op, OpKind, Phase, Precision, Role, SeqDist, VarlenError,
};

const HIDDEN: u64 = 64;
const HEADS: u64 = 4;
const VOCAB: u64 = 1000;
const LAYERS: u64 = 3;

/// A small encoder with every kind of op a packed pass meets: token-parallel (embedding,
/// norm, GEMMs, row-wise activation), per-sequence (a pooler over one token per
/// sequence), sequence-local (fused attention) and quadratic unfused kernels (a softmax
/// over the scores).
fn encoder(batch: u64, seq: u64) -> Result<Graph, VarlenError> {
    let p = Precision::uniform(DType::Bf16);
    let t = batch * seq;
    let mut g = Graph::new("tiny-encoder", Phase::Inference, batch, seq);
    g.weight("embed.tokens", &[VOCAB, HIDDEN], p.weight, 1)?;
    g.push(Op::embedding("embed", t, VOCAB, HIDDEN, "embed.tokens", p)?);
    g.push(Op::norm("ln", NormKind::LayerNorm, t, HIDDEN, p.act)?.times(LAYERS)?);
    g.push(Op::linear("qkv", t, HIDDEN, 3 * HIDDEN, "qkv.w", p)?.times(LAYERS)?);
    let spec = AttentionSpec {
        batch,
        heads: HEADS,
        kv_heads: HEADS,
        q_len: seq,
        kv_len: seq,
        head_dim: HIDDEN / HEADS,
        v_head_dim: HIDDEN / HEADS,
        causal: false,
    };
    g.push(Op::attention("sdpa", spec, Role::Input, p)?.times(LAYERS)?);
    g.push(Op::softmax("scores", batch * HEADS * seq, seq, p.act)?.times(LAYERS)?);
    g.push(Op::linear("o", t, HIDDEN, HIDDEN, "o.w", p)?.times(LAYERS)?);
    g.push(Op::elementwise_rows("gelu", "gelu", t, 4 * HIDDEN, 1, 8, p.act)?.times(LAYERS)?);
    g.push(Op::linear("pooler", batch, HIDDEN, HIDDEN, "pooler.w", p)?);
    Ok(g)
}

fn dist() -> impl Strategy<Value = Vec<(u64, u64)>> {
    prop::collection::vec((1u64..300, 1u64..6), 1..6)
}

proptest! {
    #[test]
    fn flops_equal_separate_runs(pairs in dist()) {
        let d = SeqDist::new(&pairs).unwrap();
        let packed = Graph::pack_varlen(&d, encoder).unwrap();
        let (mut flops, mut macs) = (0u64, 0u64);
        for &(len, count) in d.bins() {
            let t = encoder(count, len).unwrap().totals();
            flops += t.flops;
            macs += t.macs;
        }
        let t = packed.totals();
        prop_assert_eq!(t.flops, flops);
        prop_assert_eq!(t.macs, macs);
        prop_assert_eq!(packed.tokens(), d.packed_tokens());
        prop_assert_eq!(packed.batch, d.sequences());
    }

    #[test]
    fn one_length_is_the_padded_graph(len in 1u64..600, count in 1u64..9) {
        let d = SeqDist::new(&[(len, count)]).unwrap();
        let packed = Graph::pack_varlen(&d, encoder).unwrap();
        let padded = encoder(count, len).unwrap();
        prop_assert_eq!(&packed.ops, &padded.ops);
        prop_assert_eq!(packed.batch, padded.batch);
        prop_assert_eq!(packed.tokens_per_sample, padded.tokens_per_sample);
        prop_assert_eq!(packed.totals(), padded.totals());
    }

    #[test]
    fn packing_never_beats_padding_upwards(pairs in dist()) {
        let d = SeqDist::new(&pairs).unwrap();
        let packed = Graph::pack_varlen(&d, encoder).unwrap().totals();
        let padded = encoder(d.sequences(), d.max_len()).unwrap().totals();
        prop_assert!(packed.flops <= padded.flops);
        prop_assert!(packed.macs <= padded.macs);
    }
}

#[test]
fn attention_runs_once_per_length_in_one_group() {
    let d = SeqDist::parse_inline("64:3,128:2,200:1").unwrap();
    let g = Graph::pack_varlen(&d, encoder).unwrap();
    let sdpa: Vec<&Op> = g
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Attention(_)))
        .collect();
    assert_eq!(sdpa.len(), 3);
    for (i, (op, (len, count))) in sdpa.iter().zip(d.bins()).enumerate() {
        let OpKind::Attention(a) = op.kind else {
            unreachable!()
        };
        assert_eq!((a.q_len, a.kv_len, a.batch), (*len, *len, *count));
        let m = op.varlen.expect("group member");
        assert_eq!((m.index as usize, m.members), (i, 3));
        assert_eq!(m.shares_launch(), i > 0);
    }
    // The quadratic score softmax runs per length too, outside the group; the GEMMs once.
    assert_eq!(
        g.ops
            .iter()
            .filter(|o| o.name.starts_with("scores@"))
            .count(),
        3
    );
    let qkv: Vec<&Op> = g.ops.iter().filter(|o| o.name == "qkv").collect();
    assert_eq!(qkv.len(), 1);
    assert!(matches!(qkv[0].kind, OpKind::Matmul(m) if m.m == d.packed_tokens()));
    // The pooler reads one token per sequence.
    let pooler = g.ops.iter().find(|o| o.name == "pooler").unwrap();
    assert!(matches!(pooler.kind, OpKind::Matmul(m) if m.m == d.sequences()));
    // The embedding table is read at most once per row.
    let embed = g.ops.iter().find(|o| o.name == "embed").unwrap();
    assert!(embed.operands[0].shape[0] <= VOCAB);
    let s = g.seq_dist.as_ref().unwrap();
    assert_eq!(s.packed_tokens, 64 * 3 + 128 * 2 + 200);
    assert_eq!(s.padded_tokens, 6 * 200);
}

#[test]
fn a_structure_that_changes_with_length_is_an_error() {
    let d = SeqDist::parse_inline("8:1,16:1").unwrap();
    let build = |b: u64, s: u64| -> Result<Graph, VarlenError> {
        let mut g = encoder(b, s)?;
        if s > 8 {
            g.ops.pop();
        }
        Ok(g)
    };
    let e = Graph::pack_varlen(&d, build).unwrap_err().to_string();
    assert!(e.contains("lengths 8 and 16"), "{e}");
}

#[test]
fn decode_graphs_are_refused() {
    let d = SeqDist::parse_inline("8:1").unwrap();
    let e = Graph::pack_varlen(&d, |b, s| -> Result<Graph, VarlenError> {
        let mut g = encoder(b, s)?;
        g.phase = Phase::Decode;
        Ok(g)
    })
    .unwrap_err();
    assert!(matches!(e, VarlenError::Phase { .. }), "{e}");
}

#[test]
fn a_graph_without_a_sequence_axis_is_refused() {
    let d = SeqDist::parse_inline("8:1,16:2").unwrap();
    let e = Graph::pack_varlen(&d, |b, _s| encoder(b, 32)).unwrap_err();
    assert!(matches!(e, VarlenError::NoSequence { .. }), "{e}");
}

#[test]
fn a_missing_file_is_named() {
    let e = SeqDist::from_arg("no/such/lengths.csv")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no/such/lengths.csv") && e.contains("no such file"),
        "{e}"
    );
}
