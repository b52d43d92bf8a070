//! Fused convolution epilogues cost no launch and only their extra inputs.

use xpusim_engine::{cost_op, evaluate};
use xpusim_hw::find_preset;
use xpusim_ir::Phase;
use xpusim_models::{build, build_unfused, Workload};

#[test]
fn epilogues_cost_no_launch_and_fusion_speeds_a_cnn_up() {
    let dev = find_preset("a100-80gb").unwrap();
    let w = Workload::new(Phase::Inference, 256, 1, 0);
    let fused = build("resnet-50", &w).unwrap();
    for op in fused.ops.iter().filter(|o| o.epilogue) {
        let c = cost_op(op, &dev).unwrap();
        assert_eq!(c.overhead_s, 0.0, "{}", op.name);
        // A BatchNorm or ReLU moves nothing; a residual add reads its other branch.
        let expected = op.operands.iter().map(|o| o.bytes()).sum::<u64>();
        let moved: u64 = c.traffic.iter().map(|t| t.bytes).max().unwrap_or(0);
        assert!(moved <= expected, "{}: {moved} > {expected}", op.name);
    }
    let t_fused = evaluate(&fused, &dev).unwrap().latency_s;
    let t_plain = evaluate(&build_unfused("resnet-50", &w).unwrap(), &dev)
        .unwrap()
        .latency_s;
    // The unfused graph writes and re-reads every feature map three or four times.
    assert!(t_plain > 1.5 * t_fused, "{t_plain} vs {t_fused}");
}
