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
        decode in any::<bool>(),
        batch in prop_oneof![1u64..8, 1u64..(1 << 40), Just(u64::MAX)],
        seq in prop_oneof![1u64..64, 1u64..(1 << 40), Just(u64::MAX)],
        context in prop_oneof![0u64..64, 0u64..(1 << 50), Just(u64::MAX)],
        side in prop_oneof![Just(None), (1u64..100_000).prop_map(Some)],
    ) {
        let info = xpusim_models::find(model).unwrap();
        let phase = if decode { *info.phases.last().unwrap() } else { info.phases[0] };
        let w = Workload { image_size: side, ..Workload::new(phase, batch, seq, context) };
        let _ = build(model, &w);
    }
}
