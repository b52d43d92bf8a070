//! Convolution epilogue fusion on the zoo's CNNs (`xpusim_ir::fuse`).

use xpusim_ir::{OpKind, Phase, Role};
use xpusim_models::{build, build_unfused, Workload};

#[test]
fn resnet50_fuses_bn_relu_and_residual_adds_into_its_convolutions() {
    let w = Workload::new(Phase::Inference, 8, 1, 0);
    let fused = build("resnet-50", &w).unwrap();
    let plain = build_unfused("resnet-50", &w).unwrap();
    // Same work, same parameters: fusion only removes memory round trips.
    assert_eq!(fused.totals().flops, plain.totals().flops);
    assert_eq!(fused.totals().params, plain.totals().params);
    let epilogues: Vec<_> = fused.ops.iter().filter(|o| o.epilogue).collect();
    // 53 convolutions each with a BatchNorm; 33 ReLUs after them (the stem, and the first
    // two convolutions of 16 bottlenecks); 16 residual adds with their ReLUs.
    let count = |f: &dyn Fn(&OpKind) -> bool| -> u64 {
        epilogues
            .iter()
            .filter(|o| f(&o.kind))
            .map(|o| o.repeat)
            .sum()
    };
    assert_eq!(count(&|k| matches!(k, OpKind::Norm { .. })), 53);
    assert_eq!(
        count(&|k| matches!(k, OpKind::Elementwise { .. })),
        33 + 16 + 16
    );
    for (i, op) in fused.ops.iter().enumerate() {
        if !op.epilogue {
            continue;
        }
        // Every epilogue follows its convolution or another epilogue of it.
        let prev = &fused.ops[i - 1];
        assert!(
            prev.epilogue || matches!(prev.kind, OpKind::Conv(_)),
            "{}",
            op.name
        );
        // It writes nothing of its own; only a residual add still reads a tensor.
        assert_eq!(op.bytes_by_role(Role::Output), 0, "{}", op.name);
        assert_eq!(op.bytes_by_role(Role::Weight), 0, "{}", op.name);
    }
    assert!(fused.totals().activation_bytes < plain.totals().activation_bytes / 2);
    // Fusing again changes nothing (an epilogue writes no output, so it never matches):
    // a runtime that adds matmul epilogues to a built CNN leaves its convolutions' chains.
    let mut again = fused.clone();
    assert_eq!(again.fuse_conv_epilogues(), 0);
    again.fuse_matmul_epilogues();
    assert_eq!(
        again.totals().activation_bytes,
        fused.totals().activation_bytes
    );
}

#[test]
fn transformer_blocks_are_left_unfused() {
    let w = Workload::new(Phase::Prefill, 1, 128, 0);
    let g = build("llama-2-7b", &w).unwrap();
    assert!(g.ops.iter().all(|o| !o.epilogue));
}

/// Training BatchNorm needs the batch's statistics, so it cannot be folded or run in the
/// convolution's epilogue: a training forward keeps every op its own kernel.
#[test]
fn a_training_forward_is_left_unfused() {
    let w = Workload::new(Phase::Train, 8, 1, 0);
    let g = build("resnet-50", &w).unwrap();
    let plain = build_unfused("resnet-50", &w).unwrap();
    assert!(g.ops.iter().all(|o| !o.epilogue));
    assert_eq!(g.ops.len(), plain.ops.len());
    assert!(g.ops.iter().any(|o| matches!(o.kind, OpKind::Norm { .. })));
}

/// A stack with fused training kernels (NVIDIA's MLPerf MXNet ResNet-50: BatchNorm with its
/// ReLU, BatchNorm with the residual add and ReLU) runs ResNet-50's training chains as one
/// kernel each: every ReLU and residual add joins the BatchNorm before it, the arithmetic and
/// parameters are unchanged, and the backward of the fused forward is the unfused backward.
#[test]
fn resnet50_training_chains_fuse_forward_and_backward() {
    let w = Workload::new(Phase::Train, 8, 1, 0);
    let plain = build("resnet-50", &w).unwrap();
    let mut fused = plain.clone();
    let n = fused.fuse_pointwise_chains();
    assert!(n > 0);
    assert_eq!(fused.totals().flops, plain.totals().flops);
    assert_eq!(fused.totals().params, plain.totals().params);
    let count = |f: &dyn Fn(&OpKind) -> bool| -> u64 {
        fused
            .ops
            .iter()
            .filter(|o| o.epilogue && f(&o.kind))
            .map(|o| o.repeat)
            .sum()
    };
    // 33 ReLUs after a BatchNorm, 16 residual adds (each after the last BatchNorm of its
    // block or of its shortcut) and their 16 ReLUs; no BatchNorm follows a pointwise op.
    assert_eq!(
        count(&|k| matches!(k, OpKind::Elementwise { .. })),
        33 + 16 + 16
    );
    assert_eq!(count(&|k| matches!(k, OpKind::Norm { .. })), 0);
    assert!(fused.totals().activation_bytes < plain.totals().activation_bytes);
    let (bp, mut bf) = (
        xpusim_ir::autodiff::backward(&plain).unwrap(),
        xpusim_ir::autodiff::backward(&fused).unwrap(),
    );
    assert_eq!(bf.totals().flops, bp.totals().flops);
    assert_eq!(bf.totals().activation_bytes, bp.totals().activation_bytes);
    bf.fuse_pointwise_chains();
    assert!(bf.totals().activation_bytes < bp.totals().activation_bytes);
}

/// TensorRT's fusions on BERT (`Graph::fuse_matmul_epilogues`): per layer the GELU joins
/// FC1 and the two residual adds join the GEMMs before them (TensorRT adds them in the
/// SkipLayerNorm kernel: the same bytes and launches); the LayerNorms, which need whole rows,
/// and the attention stay kernels of their own; the pooler's tanh joins the pooler.
/// Arithmetic and parameters are unchanged.
#[test]
fn bert_runs_its_gelu_and_residual_adds_in_the_gemm_epilogues_under_tensorrt() {
    let w = Workload::new(Phase::Inference, 8, 128, 0);
    let plain = build("bert-base", &w).unwrap();
    let mut fused = plain.clone();
    let n = fused.fuse_matmul_epilogues();
    assert!(n > 0);
    let layers = 12;
    let epilogues: Vec<_> = fused.ops.iter().filter(|o| o.epilogue).collect();
    let elementwise: u64 = epilogues
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Elementwise { .. }))
        .map(|o| o.repeat)
        .sum();
    assert_eq!(
        elementwise,
        3 * layers + 1,
        "GELU and two residual adds per layer, and the pooler's tanh"
    );
    assert!(epilogues
        .iter()
        .all(|o| matches!(o.kind, OpKind::Elementwise { .. })));
    for (i, op) in fused.ops.iter().enumerate() {
        if op.epilogue {
            let prev = &fused.ops[i - 1];
            assert!(
                prev.epilogue || matches!(prev.kind, OpKind::Matmul(_)),
                "{}",
                op.name
            );
        }
    }
    assert!(fused
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Norm { .. } | OpKind::Attention(_)))
        .all(|o| !o.epilogue));
    assert_eq!(fused.totals().flops, plain.totals().flops);
    assert_eq!(fused.totals().params, plain.totals().params);
    assert!(fused.totals().activation_bytes < plain.totals().activation_bytes);
    // A training graph is never rewritten.
    let mut train = build("bert-base", &Workload::new(Phase::Train, 8, 128, 0)).unwrap();
    assert_eq!(train.fuse_matmul_epilogues(), 0);
}
