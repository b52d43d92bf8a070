//! Sweeps the Poisson rate for one model on one device and prints latency and throughput.
//! `cargo run --release -p xpusim-serve --example serve_sweep -- llama-2-7b h100-sxm 1000`
//! or `… -- llama-2-70b dgx-h100:8 1000 1,5,10` (system:tp, then a rate list).

use std::time::Instant;

use xpusim_ir::Precision;
use xpusim_serve::{
    poisson, serve, SchedulerConfig, Slo, StepModel, StepOptions, TargetStepModel, TokenDist,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let model = args.get(1).map_or("llama-2-7b", String::as_str);
    let hw = args.get(2).map_or("h100-sxm", String::as_str);
    let n: usize = args.get(3).map_or(Ok(1000), |s| s.parse())?;
    let cfg = xpusim_models::zoo::transformer_config(model).ok_or("not a transformer")?;
    let sched = SchedulerConfig::default();
    let t0 = Instant::now();
    // `NAME:TP` selects a system and a tensor-parallel degree, a plain name one device.
    let step: Box<dyn StepModel> = match hw.split_once(':') {
        Some((sys, tp)) => {
            let sys = xpusim_system::load_system(sys)?;
            let o = StepOptions::new(
                Precision::uniform(sys.device.natural_dtype),
                sched.max_batched_tokens,
            );
            Box::new(TargetStepModel::on_system(cfg, sys, tp.parse()?, o)?)
        }
        None => {
            let dev = xpusim_hw::load_device(hw)?;
            let o = StepOptions::new(
                Precision::uniform(dev.natural_dtype),
                sched.max_batched_tokens,
            );
            Box::new(TargetStepModel::on_device(cfg, dev, o)?)
        }
    };
    let rates: Vec<f64> = match args.get(4) {
        Some(s) => s.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![1.0, 5.0, 10.0, 20.0, 40.0, 80.0],
    };
    println!(
        "setup {:.3} s, kv capacity {} B, {} B/token",
        t0.elapsed().as_secs_f64(),
        step.memory().kv_capacity_bytes,
        step.kv_bytes_per_token()
    );
    let (inp, out) = (
        TokenDist::parse("in", "exp:512")?,
        TokenDist::parse("out", "exp:256")?,
    );
    for rate in rates {
        let reqs = poisson(rate, n, inp, out, 1)?;
        let t = Instant::now();
        let r = serve(step.as_ref(), &reqs, &sched, &Slo::default(), None)?;
        let m = &r.metrics;
        println!(
            "rate {rate:5.1}: ttft p50 {:7.1} ms p99 {:8.1} ms | tpot p50 {:6.2} ms p99 {:6.2} ms | {:6.2} req/s {:7.0} out tok/s | preempt {} | iters {} | {:.3} s sim",
            m.ttft_s.p50 * 1e3, m.ttft_s.p99 * 1e3, m.tpot_s.p50 * 1e3, m.tpot_s.p99 * 1e3,
            m.requests_per_s, m.output_tokens_per_s, m.preemptions, m.iterations,
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
