//! Host fallback: ops a device cannot run go to its host over the link, never for free.

use proptest::prelude::*;
use xpusim_engine::cost_op;
use xpusim_engine::fallback::{placement, Placement};
use xpusim_hw::find_preset;
use xpusim_ir::{ConvSpec, DType, Op, Precision, Role};

fn conv(n: u64, c: u64, hw: u64, k: u64, r: u64) -> Op {
    let spec = ConvSpec {
        n,
        c,
        h: hw,
        w: hw,
        k,
        r,
        s: r,
        stride: (1, 1),
        pad: (r / 2, r / 2, r / 2, r / 2),
        dilation: (1, 1),
        groups: 1,
        transposed: false,
    };
    Op::conv("conv", spec, "w", Precision::uniform(DType::Bf16)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// A convolution on the transformer-only ASIC costs at least the host's time for it
    /// plus its activations over the link plus two link latencies.
    #[test]
    fn fallback_is_never_free(n in 1u64..8, c in 1u64..256, hw in 4u64..64, k in 1u64..256, r in prop::sample::select(vec![1u64, 3, 5])) {
        let asic = find_preset("xformer-asic").unwrap();
        let host = find_preset("host-cpu").unwrap();
        let s = asic.support.clone().unwrap();
        let op = conv(n, c, hw, k, r);
        prop_assert_eq!(placement(&op, &asic), Placement::Host);
        let on_asic = cost_op(&op, &asic).unwrap();
        let on_host = cost_op(&op, &host).unwrap();
        let act: u64 = op.operands.iter().filter(|o| matches!(o.role, Role::Input | Role::Output)).map(|o| o.bytes()).sum();
        let floor = on_host.time_s + act as f64 / (s.host_link_gbps * 1e9) + 2.0 * s.host_link_latency_us * 1e-6;
        prop_assert!(on_asic.time_s >= floor * (1.0 - 1e-12), "{} < {}", on_asic.time_s, floor);
        prop_assert!(on_asic.energy_j > on_host.energy_j);
        prop_assert!(on_asic.mapping.starts_with("on host-cpu (conv not native)"));
    }
}

#[test]
fn narrower_float_is_promoted_and_fp32_goes_to_host() {
    let asic = find_preset("xformer-asic").unwrap();
    let mk = |d| Op::linear("fc", 64, 1024, 1024, "w", Precision::uniform(d)).unwrap();
    assert_eq!(
        placement(&mk(DType::Fp16), &asic),
        Placement::Promoted(DType::Bf16)
    );
    assert_eq!(placement(&mk(DType::Fp32), &asic), Placement::Host);
    assert_eq!(placement(&mk(DType::Bf16), &asic), Placement::Native);
    let c = cost_op(&mk(DType::Fp16), &asic).unwrap();
    assert!(c.mapping.starts_with("computed in bf16"), "{}", c.mapping);
    // Presets without [support] run everything natively.
    let h100 = find_preset("h100-sxm").unwrap();
    assert_eq!(placement(&mk(DType::Fp32), &h100), Placement::Native);
}
