//! A GEMM in a format the matrix engine lacks (or runs no faster than the vector units) runs
//! on the vector units as an ordinary GEMM kernel: held to the device's `matrix.efficiency`
//! of their peak like any other (the engine once priced those units twice and let the copy
//! without the efficiency win at 100 %).

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{DType, Op, Precision};

#[test]
fn fp32_gemms_without_an_fp32_matrix_rate_sustain_the_kernel_efficiency() {
    // V100 and T4 have no FP32 matrix rate; P100 and TITAN Xp list their CUDA cores' as one.
    for name in ["v100", "t4", "p100", "titan-xp"] {
        let mut dev = find_preset(name).expect("preset");
        let vector = dev.vector_flops(DType::Fp32);
        assert!(
            dev.matrix
                .peak_tflops
                .get(&DType::Fp32)
                .is_none_or(|m| m * 1e12 <= vector),
            "{name} has an FP32 matrix engine: the test needs a device without one"
        );
        // At TDP, free of any power cap, to see the kernel alone.
        dev.power.dvfs_energy_exponent = Some(0.0);
        dev.calibration.clear();
        let op = Op::linear(
            "gemm",
            8192,
            8192,
            8192,
            "w",
            Precision::uniform(DType::Fp32),
        )
        .expect("a GEMM");
        let c = cost_op(&op, &dev).expect("costs");
        let achieved = op.flops() as f64 / c.compute_s;
        let ceiling = dev.vector_flops(DType::Fp32) * dev.matrix.efficiency;
        assert!(
            achieved <= ceiling * (1.0 + 1e-9),
            "{name}: {achieved:e} FLOP/s above {ceiling:e}"
        );
        assert!(
            achieved > 0.9 * ceiling,
            "{name}: {achieved:e} of {ceiling:e}"
        );
    }
}

/// The vector units run a GEMM's tiles one per core per wave, as the matrix units do: a
/// SIMT GEMM whose tiles cannot be spread evenly over the cores pays for its last partial
/// wave (the engine once priced the vector units as one perfectly shared pool).
#[test]
fn a_simt_gemm_pays_for_its_last_partial_wave() {
    let mut dev = find_preset("v100").expect("preset");
    dev.power.dvfs_energy_exponent = Some(0.0);
    dev.calibration.clear();
    let ceiling = dev.vector_flops(DType::Fp32) * dev.matrix.efficiency;
    let [gm, gn, _] = dev.matrix.tile;
    let achieved = |n: u64| {
        let op =
            Op::linear("gemm", gm, 4096, n, "w", Precision::uniform(DType::Fp32)).expect("a GEMM");
        let c = cost_op(&op, &dev).expect("costs");
        op.flops() as f64 / c.compute_s
    };
    // One granule-wide tile per core: a full wave.
    let full = achieved(gn * dev.cores);
    assert!(full > 0.99 * ceiling, "{full:e} of {ceiling:e}");
    // One tile more than the cores: two waves, or one of tiles twice as wide; either way
    // the cores do about twice the work they would if shared evenly.
    let over = achieved(gn * (dev.cores + 1));
    assert!(over < 0.55 * ceiling, "{over:e} of {ceiling:e}");
}
