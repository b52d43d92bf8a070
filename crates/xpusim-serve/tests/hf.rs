//! Serving architectures from Hugging Face configs: multi-head latent attention with
//! shared + routed experts (DeepSeek-V2-Lite) and an attention/Mamba hybrid (Jamba).

use std::path::PathBuf;

use xpusim_ir::{DType, Precision};
use xpusim_serve::{
    poisson, serve, SchedulerConfig, Slo, StepModel, StepOptions, TargetStepModel, TokenDist,
};

fn config(name: &str) -> xpusim_models::TransformerConfig {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../xpusim-hf/tests/fixtures")
        .join(name);
    xpusim_serve::load_decoder(p.to_str().unwrap()).unwrap()
}

#[test]
fn names_and_paths_resolve_with_clear_errors() {
    assert_eq!(xpusim_serve::load_decoder("Llama2-7B").unwrap().layers, 32);
    let e = xpusim_serve::load_decoder("resnet-50")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a decoder"), "{e}");
    let e = xpusim_serve::load_decoder("llama-2-7c")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean llama-2-7b"), "{e}");
    let e = xpusim_serve::load_decoder("bert-base")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a decoder"), "{e}");
}

#[test]
fn mla_caches_the_compressed_latent() {
    let cfg = config("deepseek-v2-lite.json");
    let dev = xpusim_hw::load_device("h100-sxm").unwrap();
    let m = TargetStepModel::on_device(
        cfg,
        dev,
        StepOptions::new(Precision::uniform(DType::Bf16), 2048),
    )
    .unwrap();
    // (kv_lora_rank 512 + rope 64) per layer × 27 layers × 2 B (DeepSeek-V2 §2.1.2).
    assert_eq!(m.kv_bytes_per_token(), (512 + 64) * 27 * 2);
    let reqs = poisson(5.0, 200, TokenDist::Fixed(512), TokenDist::Fixed(64), 2).unwrap();
    let r = serve(
        &m,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap();
    assert_eq!(r.metrics.requests, 200);
    assert!(r.metrics.tpot_s.p50 > 0.0 && r.metrics.ttft_s.p50 > 0.0);
}

#[test]
fn a_hybrid_holds_both_kv_and_ssm_state() {
    let cfg = config("jamba-v0.1.json");
    let dev = xpusim_hw::load_device("h200").unwrap();
    let m = TargetStepModel::on_device(
        cfg,
        dev,
        StepOptions::new(Precision::uniform(DType::Fp8), 2048),
    )
    .unwrap();
    // Jamba: 4 of 32 layers attend (8 KV heads × 128), the rest carry Mamba state.
    assert_eq!(m.kv_bytes_per_token(), 2 * 4 * 8 * 128);
    assert!(m.state_bytes_per_seq() > 0);
    let reqs = poisson(2.0, 50, TokenDist::Fixed(1000), TokenDist::Fixed(50), 2).unwrap();
    let r = serve(
        &m,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap();
    assert_eq!(r.metrics.requests, 50);
}
