//! Serving simulation speed. Target (issue "LLM inference at scale"): 10 000 requests
//! simulate in < 2 s. Llama-2-7B on one H100 SXM at 14 req/s, just under its saturation
//! of ~15 req/s for these lengths (ShareGPT-like means: 512 prompt, 256 output tokens),
//! so the batch is large and the queue long — the expensive regime for the scheduler.
//! `cold` includes building the step model and filling its memo (what `xpusim serve`
//! pays); `warm` reuses a filled memo.

use xpusim_ir::Precision;
use xpusim_serve::{
    poisson, serve, Request, SchedulerConfig, Slo, StepOptions, TargetStepModel, TokenDist,
};

const REQUESTS: usize = 10_000;
const RATE_PER_S: f64 = 14.0;

fn main() {
    divan::main();
}

fn requests() -> Vec<Request> {
    let i = TokenDist::Exponential { mean: 512.0 };
    let o = TokenDist::Exponential { mean: 256.0 };
    poisson(RATE_PER_S, REQUESTS, i, o, 1).expect("valid arrival process")
}

fn step_model() -> TargetStepModel {
    let dev = xpusim_hw::load_device("h100-sxm").expect("preset");
    let cfg = xpusim_models::zoo::transformer_config("llama-2-7b").expect("zoo model");
    let o = StepOptions::new(Precision::uniform(dev.natural_dtype), 2048);
    TargetStepModel::on_device(cfg, dev, o).expect("fits")
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn cold_10k_llama2_7b_h100(b: divan::Bencher) {
    let reqs = requests();
    b.bench(|| {
        let m = step_model();
        serve(
            &m,
            &reqs,
            &SchedulerConfig::default(),
            &Slo::default(),
            None,
        )
        .expect("runs")
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn warm_10k_llama2_7b_h100(b: divan::Bencher) {
    let reqs = requests();
    let m = step_model();
    serve(
        &m,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .expect("runs");
    b.bench_local(|| {
        serve(
            &m,
            &reqs,
            &SchedulerConfig::default(),
            &Slo::default(),
            None,
        )
        .expect("runs")
    });
}

/// Llama-2-70B tensor-parallel over the 8 H100s of a DGX H100, near its saturation.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn cold_10k_llama2_70b_dgx_h100_tp8(b: divan::Bencher) {
    let reqs = requests();
    b.bench_local(|| {
        let cfg = xpusim_models::zoo::transformer_config("llama-2-70b").expect("zoo model");
        let sys = xpusim_serve::load_system("dgx-h100").expect("preset");
        let o = StepOptions::new(Precision::uniform(sys.device.natural_dtype), 2048);
        let m = xpusim_serve::TargetStepModel::on_system(cfg, sys, 8, o).expect("fits");
        serve(
            &m,
            &reqs,
            &SchedulerConfig::default(),
            &Slo::default(),
            None,
        )
        .expect("runs")
    });
}
