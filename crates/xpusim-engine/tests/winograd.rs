//! A 3 × 3, stride-1 convolution on the vector units is priced as the faster of the direct
//! convolution and Winograd `F(m × m, 3 × 3)`, as cuDNN's algorithm search picks; other
//! layers, and layers a matrix engine runs, keep the direct convolution.

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{ConvSpec, DType, Op, Precision};

/// A ResNet-50 stage-3 layer: 16 images of 256 channels at 28 × 28.
const N: u64 = 16;
const C: u64 = 256;
const HW: u64 = 28;

fn conv(r: u64, stride: u64, dtype: DType) -> Op {
    Op::conv(
        "conv",
        ConvSpec {
            n: N,
            c: C,
            h: HW,
            w: HW,
            k: C,
            r,
            s: r,
            stride: (stride, stride),
            pad: (r / 2, r / 2, r / 2, r / 2),
            dilation: (1, 1),
            groups: 1,
            transposed: false,
        },
        "filter",
        Precision::uniform(dtype),
    )
    .expect("a convolution")
}

/// The direct 3 × 3 convolution's time, as its implicit GEMM (M = N·P·Q, K = 9·C, N = K).
fn direct_gemm_s(dev: &xpusim_hw::DeviceSpec) -> f64 {
    let gemm = Op::linear(
        "gemm",
        N * HW * HW,
        9 * C,
        C,
        "w",
        Precision::uniform(DType::Fp32),
    )
    .expect("a GEMM");
    cost_op(&gemm, dev).expect("costs").time_s
}

#[test]
fn a_resnet_3x3_layer_in_fp32_on_cuda_cores_runs_winograd() {
    for name in ["v100", "t4", "p100", "titan-xp"] {
        let dev = find_preset(name).expect("preset");
        let op = conv(3, 1, DType::Fp32);
        let c = cost_op(&op, &dev).expect("costs");
        assert!(c.mapping.starts_with("winograd"), "{name}: {}", c.mapping);
        // Fewer multiplies than the direct convolution's implicit GEMM, which bounds it.
        let direct = direct_gemm_s(&dev);
        assert!(c.time_s < direct, "{name}: {} vs direct {direct}", c.time_s);
        // F(4x4,3x3) needs a quarter of the multiplies: never more than 4x faster.
        assert!(
            c.time_s > direct / 4.0,
            "{name}: {} vs direct {direct}",
            c.time_s
        );
        // Its model FLOPs stay the direct convolution's.
        assert_eq!(op.flops(), 2 * N * C * C * HW * HW * 9);
    }
}

#[test]
fn strided_pointwise_and_tensor_core_layers_keep_the_direct_convolution() {
    let v100 = find_preset("v100").expect("preset");
    for op in [
        conv(1, 1, DType::Fp32),
        conv(3, 2, DType::Fp32),
        conv(5, 1, DType::Fp32),
        // V100's FP16 tensor cores run the direct convolution.
        conv(3, 1, DType::Fp16),
    ] {
        let c = cost_op(&op, &v100).expect("costs");
        assert!(!c.mapping.starts_with("winograd"), "{}", c.mapping);
    }
}

#[test]
fn more_bandwidth_never_slows_a_winograd_layer() {
    let dev = find_preset("v100").expect("preset");
    let op = conv(3, 1, DType::Fp32);
    let base = cost_op(&op, &dev).expect("costs").time_s;
    let mut fast = dev.clone();
    for m in &mut fast.memory {
        m.bandwidth_gbps *= 2.0;
    }
    assert!(cost_op(&op, &fast).expect("costs").time_s <= base);
}
