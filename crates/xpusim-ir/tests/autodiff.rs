//! The backward pass's arithmetic: contractions cost exactly twice their forward MACs
//! (matmul, convolution of any grouping, stride, padding and dilation, recurrent layers),
//! FlashAttention-2's backward 2.5× the forward's attention matmuls, and the weight
//! gradients split where tensor parallelism needs them.

use proptest::prelude::*;
use xpusim_ir::autodiff::backward;
use xpusim_ir::{
    AttentionSpec, Block, ConvSpec, DType, Graph, IrError, MatmulSpec, Names, NormKind, Op, OpKind,
    OpRole, Phase, Precision, RecurrentCell, RecurrentSpec, Role,
};

fn p() -> Precision {
    Precision::uniform(DType::Bf16)
}

/// `op` after a norm (so its input is an activation that needs a gradient), and the
/// backward ops derived from `op`.
fn grads(op: Op) -> (Op, Vec<Op>) {
    let mut g = Graph::new("t", Phase::Train, 1, 1);
    g.push(Op::norm("pre", NormKind::LayerNorm, 1, 1, DType::Bf16).unwrap());
    g.push(op.clone());
    let b = backward(&g).unwrap();
    let mine = b
        .ops
        .into_iter()
        .filter(|o| o.name.starts_with(&format!("{}.", op.name)))
        .collect();
    (op, mine)
}

fn macs(ops: &[Op]) -> u64 {
    ops.iter().map(|o| o.macs() * o.repeat).sum()
}

fn role_strategy() -> impl Strategy<Value = OpRole> {
    prop_oneof![
        Just(OpRole::Replicated),
        Just(OpRole::Column(Block::Mlp)),
        Just(OpRole::Row(Block::Mlp)),
        Just(OpRole::LmHead),
        Just(OpRole::Heads(Block::Attention)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn matmul_backward_is_twice_the_forward(
        b in 1u64..5, m in 1u64..3000, n in 1u64..3000, k in 1u64..3000,
        rhs_batched in any::<bool>(), weight in any::<bool>(), rep in 1u64..40,
        role in role_strategy(),
    ) {
        let spec = MatmulSpec { batch: b, m, n, k, rhs_batched };
        let names = Names { lhs: "x", rhs: "w", out: "y" };
        let rhs = if weight { Role::Weight } else { Role::Input };
        let op = Op::matmul("mm", spec, names, rhs, DType::Bf16, DType::Bf16, DType::Bf16)
            .unwrap().with_role(role).times(rep).unwrap();
        let (f, bw) = grads(op);
        prop_assert_eq!(macs(&bw), 2 * f.macs() * rep);
        prop_assert_eq!(bw.len(), 2);
        // A weight's gradient is written as a gradient, an activation's as an output.
        let out = &bw[1].operands[2];
        prop_assert_eq!(out.role, if weight { Role::Grad } else { Role::Output });
        prop_assert_eq!(out.elems(), f.operands[1].elems());
        prop_assert_eq!(bw[0].operands[2].elems(), f.operands[0].elems());
        if weight {
            let OpKind::Matmul(w) = bw[1].kind else { panic!() };
            // The wgrad's n is the dimension tensor parallelism splits: the forward's n,
            // or its k for a row projection.
            let split = if matches!(role, OpRole::Row(_)) { k } else { n };
            prop_assert_eq!(w.n, split);
        }
    }

    #[test]
    fn conv_backward_is_twice_the_forward(
        n in 1u64..4, c in 1u64..64, h in 5u64..40, w in 5u64..40, k in 1u64..64,
        rs in 0usize..4, stride in 1u64..4, pad in 0u64..3, dil in 1u64..3,
        groups in prop_oneof![Just(1u64), Just(2), Just(4), Just(0)],
    ) {
        let r = [1, 3, 5, 7][rs];
        // groups 0: depthwise.
        let (c, k, groups) = match groups {
            0 => (c, c, c),
            g => (c * g, k * g, g),
        };
        let spec = ConvSpec {
            n, c, h, w, k, r, s: r, stride: (stride, stride), pad: (pad, pad, pad, pad),
            dilation: (dil, dil), groups, transposed: false,
        };
        let Ok(op) = Op::conv("conv", spec, "conv.w", p()) else { return Ok(()) };
        let (f, bw) = grads(op);
        prop_assert_eq!(bw.len(), 2);
        let transposed = matches!(bw[0].kind, OpKind::Conv(c) if c.transposed);
        prop_assert!(transposed);
        prop_assert!(matches!(bw[1].kind, OpKind::Matmul(_)));
        prop_assert_eq!(bw[0].macs(), f.macs());
        prop_assert_eq!(bw[1].macs(), f.macs());
        // The gradients have their tensors' shapes.
        prop_assert_eq!(&bw[0].operands[2].shape, &f.operands[0].shape);
        prop_assert_eq!(&bw[1].operands[2].shape, &f.operands[1].shape);
        prop_assert_eq!(bw[1].operands[2].role, Role::Grad);
    }

    #[test]
    fn recurrent_backward_is_twice_the_forward(
        t in 1u64..64, b in 1u64..32, i in 1u64..1024, h in 1u64..1024,
        cell in prop_oneof![Just(RecurrentCell::Lstm), Just(RecurrentCell::Gru), Just(RecurrentCell::Rnn)],
        dirs in 1u64..3,
    ) {
        let spec = RecurrentSpec { cell, seq_len: t, batch: b, input_size: i, hidden_size: h, directions: dirs };
        let (f, bw) = grads(Op::recurrent("rnn", spec, p()).unwrap());
        prop_assert_eq!(macs(&bw), 2 * f.macs());
        // BPTT keeps the time dependence: the recurrent dgrad's hidden GEMM runs t
        // dependent steps; the weight gradient is one time-batched GEMM.
        let steps: Vec<u64> = bw[0].contractions().iter().map(|c| c.sequential_steps).collect();
        prop_assert_eq!(steps, vec![1, t]);
        prop_assert!(bw[1].contractions().iter().all(|c| c.sequential_steps == 1));
        prop_assert_eq!(
            bw[1].operands.iter().filter(|o| o.role == Role::Grad).map(|o| o.elems()).sum::<u64>(),
            f.operands[1].elems() + f.operands[2].elems()
        );
    }

    #[test]
    fn attention_backward_is_two_and_a_half_forwards(
        b in 1u64..8, kv_heads in 1u64..5, group in 1u64..4, q in 1u64..2048, kv in 1u64..4096,
        d in prop_oneof![Just(64u64), Just(128)], causal in any::<bool>(),
    ) {
        let kv = kv.max(q);
        let a = AttentionSpec {
            batch: b, heads: kv_heads * group, kv_heads, q_len: q, kv_len: kv,
            head_dim: d, v_head_dim: d, causal,
        };
        let (f, bw) = grads(Op::attention("attn", a, Role::Input, p()).unwrap());
        prop_assert_eq!(bw.len(), 1);
        prop_assert!(matches!(bw[0].kind, OpKind::AttentionGrad(_)));
        // 5 matmuls to 2: 2.5× the forward's matmul FLOPs, exactly.
        prop_assert_eq!(2 * 2 * bw[0].macs(), 5 * 2 * f.macs());
        prop_assert_eq!(bw[0].role, OpRole::Residual);
        // It writes dQ, dK, dV of Q's, K's and V's sizes.
        let outs: Vec<u64> = bw[0].operands.iter().filter(|o| o.role == Role::Output).map(|o| o.elems()).collect();
        let ins: Vec<u64> = f.operands[..3].iter().map(|o| o.elems()).collect();
        prop_assert_eq!(outs, ins);
        // Its loop nests carry its MACs (for the mapping search), up to the rounding the
        // forward's nests use for causal key counts.
        let nest: u64 = bw[0].contractions().iter().map(|c| c.nest.macs()).sum();
        prop_assert!(nest >= bw[0].macs() && nest <= bw[0].macs() + 5 * b * a.heads * q * (3 * d));
    }
}

#[test]
fn the_same_graph_differentiates_to_the_same_backward() {
    let mut g = Graph::new("t", Phase::Train, 1, 1);
    g.push(Op::linear("a", 8, 16, 32, "a.w", p()).unwrap());
    g.push(Op::elementwise("act", "gelu", 8 * 32, 1, 8, DType::Bf16).unwrap());
    g.push(Op::linear("b", 8, 32, 16, "b.w", p()).unwrap());
    assert_eq!(backward(&g).unwrap(), backward(&g).unwrap());
    let names: Vec<String> = backward(&g)
        .unwrap()
        .ops
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["b.dgrad", "b.wgrad", "act.grad", "a.wgrad"]);
}

#[test]
fn an_unknown_operator_is_an_error_not_a_guess() {
    let mut g = Graph::new("t", Phase::Train, 1, 1);
    g.push(Op::linear("a", 8, 16, 32, "a.w", p()).unwrap());
    g.push(Op::unknown("custom", "MyOp", vec![], DType::Bf16));
    match backward(&g) {
        Err(IrError::Invalid { op, msg }) => {
            assert_eq!(op, "custom");
            assert!(msg.contains("MyOp"), "{msg}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}
