//! Whole-server throughput against NVIDIA's published TensorRT-LLM measurements of
//! Llama-2 on one H200 with FP8 weights, activations and KV cache (static batches: output
//! tokens × batch / total latency):
//! - TensorRT-LLM v0.5 (docs/source/blogs/H200launch.md, "H200 FP8 Max throughput").
//! - TensorRT-LLM v0.7a (docs/source/blogs/Falcon180B-H200.md, "Llama-70B on H200").
//!
//! State at the time of writing: the simulator is 17–51% optimistic (ratios 1.17–1.51),
//! most for decode-heavy, long-output runs, where measured GQA decode kernels stay below
//! the HBM roofline the engine assumes (v0.7a alone made them 2.4× faster than v0.5). The
//! body term alone is within 5–9% of Vidur's H100 measurements (tests/vidur.rs), so the gap
//! sits in decode attention. The band below guards against regressions, not accuracy.

use xpusim_ir::{DType, Precision};
use xpusim_serve::{poisson, serve, SchedulerConfig, Slo, StepOptions, TargetStepModel, TokenDist};

/// (model, batch, input, output, measured output tok/s, source)
const ROWS: [(&str, u64, u64, u64, f64, &str); 5] = [
    ("llama-2-13b", 1024, 128, 128, 11_819.0, "v0.5"),
    ("llama-2-13b", 64, 2048, 128, 1_349.0, "v0.5"),
    ("llama-2-70b", 64, 2048, 128, 341.0, "v0.5"),
    ("llama-2-70b", 960, 128, 128, 3_803.0, "v0.7a"),
    ("llama-2-70b", 192, 128, 2048, 2_941.0, "v0.7a"),
];

#[test]
fn h200_fp8_throughput_is_within_the_documented_band() {
    let dev = xpusim_hw::load_device("h200").unwrap();
    for (model, batch, input, output, measured, src) in ROWS {
        let cfg = xpusim_models::zoo::transformer_config(model).unwrap();
        // Prompts of a whole batch are admitted in a few large chunks, as a static batch.
        let max_tokens = 16_384;
        let o = StepOptions::new(Precision::uniform(DType::Fp8), max_tokens);
        let m = TargetStepModel::on_device(cfg, dev.clone(), o).unwrap();
        let reqs = poisson(
            f64::INFINITY,
            batch as usize,
            TokenDist::Fixed(input),
            TokenDist::Fixed(output),
            0,
        )
        .unwrap();
        let sched = SchedulerConfig {
            max_batched_tokens: max_tokens,
            max_seqs: batch,
            max_chunk: max_tokens,
            ..SchedulerConfig::default()
        };
        let r = serve(&m, &reqs, &sched, &Slo::default(), None).unwrap();
        let ratio = r.metrics.output_tokens_per_s / measured;
        println!(
            "{model} bs {batch} {input}/{output}: simulated {:.0} tok/s, TensorRT-LLM {src} {measured:.0} ({ratio:.2}×)",
            r.metrics.output_tokens_per_s
        );
        assert!(
            (0.8..1.6).contains(&ratio),
            "{model} bs {batch} {input}/{output}: ratio {ratio}"
        );
    }
}
