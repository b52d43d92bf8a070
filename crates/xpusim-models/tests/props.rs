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
