//! A serving stack's host work per iteration (`--runtime`, issue #15 part 2): the
//! `sarathi-vllm` profile adds Vidur's measured per-step scheduling, input preparation,
//! sampling and output processing to every iteration, so heavy batches lose throughput
//! while the devices idle at static power through it.

use xpusim_ir::{DType, Precision};
use xpusim_serve::{
    poisson, serve, IterationShape, Report, SchedulerConfig, Slo, StepModel, StepOptions,
    TargetStepModel, TokenDist,
};
use xpusim_target::Target;

fn model(runtime: Option<&str>) -> TargetStepModel {
    let cfg = xpusim_models::zoo::transformer_config("llama-2-7b").unwrap();
    let mut t = Target::load("a100-80gb").unwrap();
    t.runtime = runtime.map(|r| xpusim_hw::load_runtime(r).unwrap());
    let o = StepOptions::new(Precision::uniform(DType::Bf16), 2048);
    TargetStepModel::new(cfg, t, 1, o).unwrap()
}

fn run(m: &TargetStepModel) -> Report {
    let reqs = poisson(
        f64::INFINITY,
        200,
        TokenDist::Fixed(256),
        TokenDist::Fixed(128),
        7,
    )
    .unwrap();
    serve(m, &reqs, &SchedulerConfig::default(), &Slo::default(), None).unwrap()
}

#[test]
fn a_decode_iteration_pays_the_step_line() {
    let (bare, sarathi) = (model(None), model(Some("sarathi-vllm")));
    let step = xpusim_hw::load_runtime("sarathi-vllm")
        .unwrap()
        .step
        .unwrap();
    for n in [1usize, 16, 64] {
        let ctx = vec![512u64; n];
        let it = IterationShape::new(&[], &ctx);
        let (a, b) = (bare.step(&it).unwrap(), sarathi.step(&it).unwrap());
        let line = (step.fixed_us + step.per_sequence_us * n as f64) * 1e-6;
        // Decode kernels of a 7B model outlast their eager issue: only the step shows.
        assert!(
            (b.time_s - a.time_s - line).abs() < 1e-12,
            "{n}: {} {}",
            a.time_s,
            b.time_s
        );
        let static_w = (b.energy_j - a.energy_j) / line;
        assert!((static_w - bare.idle_power_w()).abs() < 1e-6, "{static_w}");
    }
}

#[test]
fn step_work_lowers_throughput_and_the_energy_still_sums() {
    let (a, b) = (run(&model(None)), run(&model(Some("sarathi-vllm"))));
    assert!(b.metrics.output_tokens_per_s < a.metrics.output_tokens_per_s);
    assert!(b.metrics.makespan_s > a.metrics.makespan_s);
    let e = &b.metrics.energy_breakdown;
    assert!((e.total_j() - b.metrics.energy_j).abs() <= 1e-9 * b.metrics.energy_j);
}
