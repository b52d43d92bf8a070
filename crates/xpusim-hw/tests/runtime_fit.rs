//! The `sarathi-vllm` runtime's step lines are what a least-squares fit of Vidur's measured
//! per-step host times gives (data/runtime/vidur-a100-cpu-overheads.csv): regenerated here
//! so the preset cannot drift from its data.

use xpusim_hw::load_runtime;

const DATA: &str = include_str!("../../../data/runtime/vidur-a100-cpu-overheads.csv");
const PARTS: [&str; 5] = [
    "schedule_median",
    "sampler_e2e_median",
    "prepare_inputs_e2e_median",
    "process_model_outputs_median",
    "ray_comm_time_mean",
];

/// (intercept, slope) of the least-squares line through `pts`.
fn line(pts: &[(f64, f64)]) -> (f64, f64) {
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let b = sxy / sxx;
    (my - b * mx, b)
}

/// (batch, step µs) of the rows whose tensor-parallel degree passes `keep`.
fn points(keep: impl Fn(u64) -> bool) -> Vec<(f64, f64)> {
    let mut lines = DATA.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (batch, tp) = (col("batch_size"), col("tensor_parallel_degree"));
    let parts: Vec<usize> = PARTS.iter().map(|p| col(p)).collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let tp: u64 = f[tp].parse().expect("tp");
            keep(tp).then(|| {
                let ms: f64 = parts
                    .iter()
                    .map(|&i| f[i].parse::<f64>().expect("ms"))
                    .sum();
                (f[batch].parse().expect("batch"), ms * 1e3)
            })
        })
        .collect()
}

#[test]
fn sarathi_step_lines_are_the_fit_of_vidur_profile() {
    let r = load_runtime("sarathi-vllm").unwrap();
    let step = r.step.expect("sarathi-vllm models its step");
    let tp = step.tensor_parallel.expect("and its tensor-parallel step");
    let one = points(|t| t == 1);
    let many = points(|t| t > 1);
    assert_eq!((one.len(), many.len()), (26, 52));
    let (a1, b1) = line(&one);
    let (a2, b2) = line(&many);
    // The preset keeps one decimal of the intercept and two of the slope.
    assert!(
        (step.fixed_us - a1).abs() < 0.05,
        "{} vs {a1}",
        step.fixed_us
    );
    assert!((step.per_sequence_us - b1).abs() < 0.005, "{b1}");
    assert!((tp.fixed_us - a2).abs() < 0.05, "{a2}");
    assert!((tp.per_sequence_us - b2).abs() < 0.005, "{b2}");
}

/// Only the MLPerf MXNet profile fuses training kernels; the eager and graph profiles keep
/// them apart, as their frameworks run them.
#[test]
fn fused_training_kernels_are_the_mlperf_profile_alone() {
    for (name, fused) in [
        ("pytorch-eager", false),
        ("cuda-graphs", false),
        ("sarathi-vllm", false),
        ("mlperf-mxnet", true),
        ("tensorrt", false),
    ] {
        let r = load_runtime(name).unwrap();
        assert_eq!(r.fuse_training_pointwise, fused, "{name}");
    }
}

/// Only the TensorRT profile runs inference GEMM epilogues fused; serving and eager stacks
/// run the pointwise ops as kernels of their own.
#[test]
fn fused_gemm_epilogues_are_the_tensorrt_profile_alone() {
    for r in xpusim_hw::runtimes().unwrap() {
        assert_eq!(r.fuse_gemm_epilogues, r.name == "tensorrt", "{}", r.name);
    }
}
