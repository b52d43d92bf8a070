//! GEMM latency against measured A100 FP16 GEMMs (LLMCompass artifact, Fig. 5a/b).

use std::path::PathBuf;

use xpusim_engine::cost_op;
use xpusim_hw::find_preset;
use xpusim_ir::{DType, MatmulSpec, Names, Op, Role};

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/calibration");
    p.is_dir().then_some(p)
}

pub fn gemm(m: u64, n: u64, k: u64, d: DType) -> Op {
    Op::matmul(
        "gemm",
        MatmulSpec {
            batch: 1,
            m,
            n,
            k,
            rhs_batched: false,
        },
        Names {
            lhs: "a",
            rhs: "b",
            out: "c",
        },
        Role::Input,
        d,
        d,
        d,
    )
    .unwrap()
}

#[test]
fn a100_fp16_gemm_sweep_within_bounds() {
    let Some(dir) = shared() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        eprintln!("skipped: ../shared/calibration not found");
        return;
    };
    let dev = find_preset("a100-80gb").unwrap();
    let text = std::fs::read_to_string(dir.join("llmcompass/figure5_ab_matmul_A100.csv")).unwrap();
    let mut errs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let (m, n, k) = (
            f[0].parse().unwrap(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
        );
        let measured_s = f[3].trim_end_matches("ms").parse::<f64>().unwrap() * 1e-3;
        let c = cost_op(&gemm(m, n, k, DType::Fp16), &dev).unwrap();
        let e = (c.time_s - measured_s) / measured_s;
        eprintln!(
            "{m:>6} {n:>6} {k:>6} measured {:>9.4} ms predicted {:>9.4} ms err {:>+6.1}% {:?} {}",
            measured_s * 1e3,
            c.time_s * 1e3,
            e * 100.0,
            c.bound,
            c.mapping
        );
        // Below ~1 GFLOP the measurement is dominated by the PyTorch harness floor
        // (~30 us), which is not a property of the chip; those rows are printed only.
        if 2.0 * (m * n * k) as f64 >= 1e9 {
            errs.push(e.abs());
        }
    }
    errs.sort_by(f64::total_cmp);
    let median = errs[errs.len() / 2];
    eprintln!(
        "median abs error on GEMMs >= 1 GFLOP: {:.1}%",
        median * 100.0
    );
    // These rows are held out (issue #15): the preset's matrix efficiency is derived from the
    // flagged Vidur A100 GEMMs (0.79), not tuned on this sweep, which peaks at 0.92 of peak
    // (the median was 6.8 % when 0.85 balanced the two sets). The bound records the
    // cross-library gap (16.0 % when set) so that it can only shrink.
    assert!(median < 0.165, "median abs error {median}");
}

/// A size-only curve recovers the tile and wave losses of the analytical cost, never more:
/// no calibrated GEMM runs past the preset's sustained matrix rate. The H100 curve's
/// multiplier is above 1 from 4 MFLOP to 740 GFLOP (its median correction for the shapes
/// the analytical cost prices at 500–650 TFLOP/s); applied to shapes priced at the
/// sustained 742 TFLOP/s it put training-sized GEMMs at 800–830 TFLOP/s, above both
/// Vidur's measured H100 plateau (700–750) and the best shape any search found on an H100
/// SXM (794.5 TFLOP/s, Bekman's MAMF table).
#[test]
fn calibrated_gemms_never_exceed_the_sustained_matrix_rate() {
    // The h100-sxm preset is the one with a GEMM curve (fitted on Vidur's H100 rows).
    for (name, d) in [
        ("h100-sxm", DType::Bf16),
        ("h100-sxm", DType::Fp16),
        ("h100-sxm", DType::Fp8),
    ] {
        let dev = find_preset(name).unwrap();
        assert!(!dev.calibration.is_empty(), "{name} has curves to test");
        let (rate, used) = dev.matrix_flops(d);
        let sustained = rate * dev.matrix.efficiency_for(used);
        for (m, k, n) in [
            (4096, 2048, 8192),
            (4096, 4096, 12288),
            (4096, 8192, 2048),
            (8192, 8192, 8192),
            (2048, 2048, 13312),
        ] {
            let op = gemm(m, n, k, d);
            let c = cost_op(&op, &dev).unwrap();
            let achieved = op.flops() as f64 / c.time_s;
            assert!(
                achieved <= sustained * (1.0 + 1e-9),
                "{name} {d:?} {m}x{k}x{n}: {:.0} TFLOP/s > sustained {:.0}",
                achieved / 1e12,
                sustained / 1e12
            );
        }
    }
    // The floor only bites where the curve would overshoot: a shape the analytical cost
    // prices well below the sustained rate still gets the curve's full correction.
    let dev = find_preset("h100-sxm").unwrap();
    let op = gemm(1536, 3072, 4096, DType::Bf16);
    let mut bare = dev.clone();
    bare.calibration.clear();
    let (cal, uncal) = (
        cost_op(&op, &dev).unwrap().time_s,
        cost_op(&op, &bare).unwrap().time_s,
    );
    assert!(cal < uncal * 0.95, "{cal} vs {uncal}");
}
