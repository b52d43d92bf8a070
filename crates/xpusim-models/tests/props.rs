use proptest::prelude::*;
use xpusim_ir::Phase;
use xpusim_models::{build, Workload};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// CNN FLOPs, MACs and activations are exactly linear in batch; params are not.
    #[test]
    fn cnn_flops_linear_in_batch(batch in 1u64..64, side in prop::sample::select(vec![96u64, 160, 224, 256]),
                                 model in prop::sample::select(vec!["resnet-50", "mobilenet-v2"])) {
        let w1 = Workload::new(Phase::Inference, 1, 1, 0).with_image_size(side);
        let wb = Workload { batch, ..w1 };
        let one = build(model, &w1).unwrap().totals();
        let many = build(model, &wb).unwrap().totals();
        prop_assert_eq!(many.flops, one.flops * batch);
        prop_assert_eq!(many.macs, one.macs * batch);
        prop_assert_eq!(many.params, one.params);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// No workload, however absurd, panics (overflow included): it builds or errors.
    #[test]
    fn absurd_workloads_error_not_panic(
        model in prop::sample::select(xpusim_models::catalog().iter().map(|m| m.name).collect::<Vec<_>>()),
        phase_ix in 0usize..3,
        batch in prop_oneof![1u64..8, 1u64..(1 << 40), Just(u64::MAX)],
        seq in prop_oneof![1u64..64, 1u64..(1 << 40), Just(u64::MAX)],
        context in prop_oneof![0u64..64, 0u64..(1 << 50), Just(u64::MAX)],
        side in prop_oneof![Just(None), (1u64..100_000).prop_map(Some)],
    ) {
        let info = xpusim_models::find(model).unwrap();
        // Any phase the model lists (inference, prefill, decode, train).
        let phase = info.phases[phase_ix % info.phases.len()];
        let w = Workload { image_size: side, ..Workload::new(phase, batch, seq, context) };
        // Its backward too: autodiff re-checks every size it derives.
        if let Ok(g) = build(model, &w) {
            if g.phase == Phase::Train {
                let _ = xpusim_ir::autodiff::backward(&g);
            }
        }
    }
}

/// Frontend roles: every transformer projection is marked column or row, the stack's
/// layers are numbered, and the vocabulary ops are marked, so parallelism never needs names.
#[test]
fn zoo_marks_parallel_roles_and_layers() {
    use xpusim_ir::{Block, OpKind, OpRole, Phase};
    let w = xpusim_models::Workload::new(Phase::Decode, 4, 1, 128);
    let g = xpusim_models::build("llama-2-7b", &w).unwrap();
    assert_eq!(g.layer_count(), 32);
    let count = |r: OpRole| g.ops.iter().filter(|o| o.role == r).count();
    assert_eq!(count(OpRole::Column(Block::Attention)), 1);
    assert_eq!(count(OpRole::Row(Block::Attention)), 1);
    assert_eq!(count(OpRole::Column(Block::Mlp)), 1);
    assert_eq!(count(OpRole::Row(Block::Mlp)), 1);
    assert_eq!(count(OpRole::Heads(Block::Attention)), 1);
    assert_eq!(count(OpRole::Residual), 2);
    assert_eq!(count(OpRole::LmHead), 1);
    assert_eq!(count(OpRole::Embedding), 1);
    // Every weight matmul inside the stack is a column or row projection.
    for op in g.ops.iter().filter(|o| o.layer.is_some()) {
        if let OpKind::Matmul(_) = op.kind {
            assert!(
                matches!(op.role, OpRole::Column(_) | OpRole::Row(_)),
                "{}: {:?}",
                op.name,
                op.role
            );
        }
    }
    let moe = xpusim_models::build("mixtral-8x7b", &w).unwrap();
    assert!(moe
        .ops
        .iter()
        .any(|o| o.role == OpRole::Column(Block::Experts)));
    assert!(moe
        .ops
        .iter()
        .any(|o| o.role == OpRole::Row(Block::Experts)));
    // A CNN has layers (its residual stages) but nothing to split.
    let cnn = xpusim_models::build(
        "resnet-50",
        &xpusim_models::Workload::new(Phase::Inference, 1, 1, 0),
    )
    .unwrap();
    assert!(cnn.ops.iter().all(|o| o.role == OpRole::Replicated));
    assert_eq!(cnn.layer_count(), 16);
}
