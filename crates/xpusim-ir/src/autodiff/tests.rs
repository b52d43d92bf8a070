use super::*;
use crate::Phase;

fn p() -> Precision {
    Precision::uniform(DType::Bf16)
}

#[test]
fn a_linear_layer_has_dgrad_then_wgrad_with_twice_its_macs() {
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(Op::norm("n", NormKind::RmsNorm, 64, 512, DType::Bf16).unwrap());
    gr.push(
        Op::linear("fc", 64, 512, 1024, "fc.w", p())
            .unwrap()
            .with_role(OpRole::Column(Block::Mlp))
            .times(3)
            .unwrap()
            .in_layer(0),
    );
    let b = backward(&gr).unwrap();
    let names: Vec<_> = b.ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["fc.dgrad", "fc.wgrad", "n.grad", "n.wgrad"]);
    assert_eq!(b.ops[0].role, OpRole::Row(Block::Mlp));
    assert_eq!(b.ops[1].role, OpRole::Column(Block::Mlp));
    assert_eq!(b.ops[2].role, OpRole::Residual);
    assert_eq!((b.ops[0].repeat, b.ops[0].layer), (3, Some(0)));
    assert_eq!(b.ops[2].layer, None);
    let fwd = gr.ops[1].macs();
    assert_eq!(b.ops[0].macs() + b.ops[1].macs(), 2 * fwd);
    assert_eq!(b.ops[1].operands[2].role, Role::Grad);
    assert_eq!(b.ops[1].operands[2].tensor, "fc.w.grad");
    // The column split of the wgrad is the forward's n.
    let OpKind::Matmul(w) = b.ops[1].kind else {
        panic!()
    };
    assert_eq!(w.n, 1024);
}

#[test]
fn the_model_inputs_first_contraction_has_no_dgrad() {
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(Op::linear("fc", 64, 512, 1024, "w", p()).unwrap());
    let b = backward(&gr).unwrap();
    assert_eq!(b.ops.len(), 1);
    assert_eq!(b.ops[0].name, "fc.wgrad");
}

#[test]
fn undifferentiable_ops_are_errors_naming_the_op() {
    let dt = DType::Bf16;
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(Op::unknown("weird", "FancyOp", vec![], dt));
    let e = backward(&gr).unwrap_err();
    assert!(e.to_string().contains("weird") && e.to_string().contains("FancyOp"));
    let mut gr = Graph::new("t", Phase::Decode, 1, 1);
    let a = AttentionSpec {
        batch: 1,
        heads: 8,
        kv_heads: 8,
        q_len: 1,
        kv_len: 100,
        head_dim: 64,
        v_head_dim: 64,
        causal: true,
    };
    gr.push(Op::attention("attn", a, Role::KvCache, p()).unwrap());
    assert!(backward(&gr).unwrap_err().to_string().contains("KV cache"));
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(
        Op::data_movement("app", "kv_cache_append", 64, dt)
            .unwrap()
            .with_role(OpRole::KvAppend(Block::Attention)),
    );
    assert!(backward(&gr).is_err());
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(Op::collective("ar", CollectiveKind::AllReduce, 64, 8, dt).unwrap());
    assert!(backward(&gr).is_err());
    // A backward graph is not differentiated again.
    let mut gr = Graph::new("t", Phase::Train, 1, 1);
    gr.push(Op::norm("n", NormKind::LayerNorm, 4, 8, dt).unwrap());
    let b = backward(&gr).unwrap();
    assert!(backward(&b).is_err());
}

#[test]
fn roles_follow_megatrons_conjugate_operators() {
    let m = Block::Mlp;
    let gr = grad_roles(OpRole::Row(m)).unwrap();
    assert_eq!(
        (gr.input, gr.weight, gr.bias),
        (OpRole::Column(m), OpRole::Column(m), OpRole::Replicated)
    );
    let gr = grad_roles(OpRole::LmHead).unwrap();
    assert_eq!(gr.input, OpRole::Row(Block::Vocab));
    assert_eq!(gr.weight, OpRole::Column(Block::Vocab));
    assert_eq!(
        grad_roles(OpRole::Replicated).unwrap().input,
        OpRole::Residual
    );
    assert!(grad_roles(OpRole::KvAppend(Block::Attention)).is_none());
}
