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
