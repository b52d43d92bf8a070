//! Calibration curves keep the engine's invariants: with curves present, a faster device
//! never makes an op slower, and raising a curve (more achievable efficiency) never does.

use proptest::prelude::*;
use xpusim_engine::cost_op;
use xpusim_hw::{find_preset, CalibrationCurve, CalibrationFamily, DeviceSpec};
use xpusim_ir::{DType, NormKind, Op, Precision};

fn op_strategy() -> impl Strategy<Value = Op> {
    let p = Precision::uniform(DType::Fp16);
    prop_oneof![
        (1u64..8192, 1u64..8192, 1u64..8192)
            .prop_map(move |(m, k, n)| Op::linear("mm", m, k, n, "w", p).unwrap()),
        (1u64..65536, 1u64..16384).prop_map(|(r, c)| Op::norm(
            "n",
            NormKind::RmsNorm,
            r,
            c,
            DType::Fp16
        )
        .unwrap()),
        (1u64..100_000_000, 1u64..3).prop_map(|(e, i)| Op::elementwise(
            "add",
            "add",
            e,
            i,
            1,
            DType::Fp16
        )
        .unwrap()),
        (1u64..100_000_000)
            .prop_map(|e| Op::data_movement("copy", "copy", e, DType::Fp16).unwrap()),
    ]
}

fn curved(dev: &DeviceSpec) -> DeviceSpec {
    let mut d = dev.clone();
    d.calibration = CalibrationFamily::ALL
        .iter()
        .map(|&family| CalibrationCurve {
            family,
            op: None,
            points: vec![[1e4, 0.05], [1e7, 0.4], [1e10, 0.9], [1e12, 1.2]],
            fixed_us: Some(2.0),
            row_gbps: Some(10.0),
            serial_max_rows: Some(16),
            serial_us_per_row: Some(0.7),
            source: "test".into(),
        })
        .collect();
    d
}

fn upgrades(d: &DeviceSpec) -> Vec<(String, DeviceSpec)> {
    let mut v = Vec::new();
    for i in 0..d.memory.len() {
        let mut u = d.clone();
        u.memory[i].bandwidth_gbps *= 2.0;
        v.push((format!("memory[{i}] bandwidth x2"), u));
    }
    let mut u = d.clone();
    u.matrix.peak_tflops.values_mut().for_each(|x| *x *= 2.0);
    v.push(("matrix peak x2".into(), u));
    let mut u = d.clone();
    u.vector.peak_tflops.values_mut().for_each(|x| *x *= 2.0);
    v.push(("vector peak x2".into(), u));
    let mut u = d.clone();
    u.overhead.launch_us /= 2.0;
    v.push(("launch /2".into(), u));
    let mut u = d.clone();
    for c in &mut u.calibration {
        c.points
            .iter_mut()
            .for_each(|p| p[1] = (p[1] * 1.5).min(4.0));
    }
    v.push(("curves x1.5".into(), u));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn upgrades_never_slow_a_calibrated_op(op in op_strategy()) {
        for name in ["a100-80gb", "h100-sxm"] {
            for base in [find_preset(name).unwrap(), curved(&find_preset(name).unwrap())] {
                let t0 = cost_op(&op, &base).unwrap().time_s;
                for (what, dev) in upgrades(&base) {
                    let t1 = cost_op(&op, &dev).unwrap().time_s;
                    prop_assert!(t1 <= t0 * (1.0 + 1e-9), "{name} {what}: {t0} -> {t1}");
                }
            }
        }
    }
}

#[test]
fn without_curves_costs_are_the_analytical_ones() {
    let mut dev = find_preset("h100-sxm").unwrap();
    let op = Op::norm("n", NormKind::RmsNorm, 4096, 8192, DType::Fp16).unwrap();
    let with = cost_op(&op, &dev).unwrap();
    let fixed_us = dev
        .calibration
        .iter()
        .find(|c| c.op.as_deref() == Some("rmsnorm"))
        .and_then(|c| c.fixed_us);
    let launch_s = dev.overhead.launch_us * 1e-6;
    dev.calibration.clear();
    let without = cost_op(&op, &dev).unwrap();
    assert!(
        with.time_s > without.time_s,
        "the preset's rmsnorm curve slows the op"
    );
    // The curve's floor, where it has one, replaces the launch and nothing else.
    let expect = match fixed_us {
        Some(f) => without.overhead_s - launch_s + f * 1e-6,
        None => without.overhead_s,
    };
    assert!(
        (with.overhead_s - expect).abs() < 1e-15,
        "{with:?} vs {without:?}"
    );
    assert_eq!(with.bound, without.bound);
}
