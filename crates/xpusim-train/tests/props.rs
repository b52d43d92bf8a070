//! Properties over random layouts: model FLOPs do not depend on how the work is spread,
//! the breakdown adds up, utilisation stays below 1, and overlap never slows a step.

use proptest::prelude::*;
use xpusim_ir::{DType, Graph, Phase, Precision};
use xpusim_models::{build, Workload};
use xpusim_target::Target;
use xpusim_train::*;

fn b(mb: u64, s: u64) -> Result<Graph, TrainError> {
    let w = Workload::new(Phase::Train, mb, s, 0).with_precision(Precision::uniform(DType::Bf16));
    build("llama-2-7b", &w).map_err(|e| TrainError::Build(e.to_string()))
}

fn target() -> Target {
    let mut t = Target::load("dgx-h100").unwrap();
    if let xpusim_hw::Hardware::System(s) = &mut t.hw {
        s.spec.count = 64;
    }
    t
}

fn layouts() -> impl Strategy<Value = TrainLayout> {
    (
        0u32..4,
        0u32..3,
        0u32..2,
        0u8..4,
        0u32..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(tp, pp, mb, zero, rc, sp, overlap)| {
            let (tp, pp, micro) = (1u64 << tp, 1u64 << pp, 1u64 << mb);
            let dp = 64 / (tp * pp);
            TrainLayout {
                tp,
                pp,
                dp,
                sp: sp && tp > 1,
                micro_batch: micro,
                global_batch: 128,
                zero,
                recompute: [Recompute::None, Recompute::Selective, Recompute::Full][rc as usize],
                overlap_dp: overlap,
                ..Default::default()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_layout_conserves_model_flops_and_adds_up(l in layouts()) {
        let t = target();
        let c = step(&b, 1024, &t, &l).unwrap();
        let base = step(&b, 1024, &t, &TrainLayout { tp: 1, pp: 1, dp: 64, sp: false, ..l }).unwrap();
        prop_assert!((c.model_flops as f64 / base.model_flops as f64 - 1.0).abs() < 1e-9);
        prop_assert!((c.breakdown.total_s() / c.step_time_s - 1.0).abs() < 1e-9);
        prop_assert!(c.mfu > 0.0 && c.mfu < 1.0 && c.hfu < 1.0, "{} {}", c.mfu, c.hfu);
        prop_assert!(c.hfu >= c.mfu * (1.0 - 1e-9));
        // Executed FLOPs at least the model's: backward 2x, recomputation more.
        prop_assert!(c.hardware_flops >= c.model_flops as f64 * (1.0 - 1e-9));
        prop_assert!(c.memory.total_bytes > 0);
    }

    /// Overlapping the data-parallel reduction never slows a step.
    #[test]
    fn overlap_never_slows(l in layouts()) {
        let t = target();
        let on = step(&b, 1024, &t, &TrainLayout { overlap_dp: true, ..l }).unwrap();
        let off = step(&b, 1024, &t, &TrainLayout { overlap_dp: false, ..l }).unwrap();
        prop_assert!(on.step_time_s <= off.step_time_s * (1.0 + 1e-12));
    }
}
