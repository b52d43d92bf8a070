//! The single-device step model: memoised costs agree with direct evaluation, memory budget
//! and KV size follow the model, precision and MoE options act in the right direction.

use xpusim_ir::{DType, Precision};
use xpusim_serve::{
    poisson, serve, IterationShape, PrefillChunk, SchedulerConfig, ServeError, Slo, StepModel,
    StepOptions, TargetStepModel, TokenDist,
};

fn model(name: &str, hw: &str, p: Precision) -> Result<TargetStepModel, ServeError> {
    let dev = xpusim_hw::load_device(hw).unwrap();
    let cfg = xpusim_models::zoo::transformer_config(name).unwrap();
    TargetStepModel::on_device(cfg, dev, StepOptions::new(p, 2048))
}

fn bf16() -> Precision {
    Precision::uniform(DType::Bf16)
}

#[test]
fn interpolation_error_is_small() {
    let m = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    let mut worst: f64 = 0.0;
    // A deterministic spread of shapes off the grid points.
    for i in 0..40u64 {
        let decodes = (i * 37) % 250 + 1;
        let ctx: Vec<u64> = (0..decodes)
            .map(|j| 100 + (j * 131 + i * 17) % 3000)
            .collect();
        let chunk = [PrefillChunk {
            tokens: (i * 97) % 1500 + 5,
            prior: (i * 211) % 2000,
            last: i % 2 == 0,
        }];
        let prefill: &[PrefillChunk] = if i % 3 == 0 { &[] } else { &chunk };
        // Every fourth shape verifies 4 drafted tokens per decode (speculative decoding).
        let it = IterationShape {
            prefill,
            decode_contexts: &ctx,
            decode_tokens: if i % 4 == 1 { 5 } else { 1 },
        };
        let a = m.step(&it).unwrap().time_s;
        let b = m.step_exact(&it).unwrap().time_s;
        worst = worst.max((a - b).abs() / b);
    }
    println!("worst interpolation error {:.2}%", worst * 100.0);
    assert!(worst < 0.05, "worst relative error {worst}");
}

#[test]
fn kv_size_and_budget_follow_the_model() {
    let m = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    // 2 (K,V) × 32 layers × 4096 × 2 B.
    assert_eq!(m.kv_bytes_per_token(), 2 * 32 * 4096 * 2);
    let b = m.memory();
    assert!(
        b.weight_bytes > 13_000_000_000 && b.weight_bytes < 14_000_000_000,
        "{b:?}"
    );
    assert_eq!(
        b.kv_capacity_bytes,
        b.usable_bytes - b.weight_bytes - b.reserve_bytes
    );
    // GQA: Llama-2-70B keeps 8 of 64 heads.
    let cfg = xpusim_models::zoo::transformer_config("llama-2-70b").unwrap();
    let dev = xpusim_hw::load_device("h100-sxm").unwrap();
    let e = TargetStepModel::on_device(cfg, dev, StepOptions::new(bf16(), 2048))
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("model does not fit: weights 1"), "{e}");
}

#[test]
fn fp8_kv_halves_the_cache_and_w4a16_shrinks_weights() {
    let base = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    let mut p = bf16();
    p.kv = DType::Fp8;
    let fp8 = model("llama-2-7b", "h100-sxm", p).unwrap();
    assert_eq!(2 * fp8.kv_bytes_per_token(), base.kv_bytes_per_token());
    let w4 = model(
        "llama-2-7b",
        "h100-sxm",
        Precision::parse("w4a16", DType::Bf16).unwrap(),
    )
    .unwrap();
    assert!(w4.memory().weight_bytes * 3 < base.memory().weight_bytes);
    assert!(w4.kv_capacity_bytes() > base.kv_capacity_bytes());
    // Decode is weight-bandwidth bound: 4-bit weights make a small-batch step faster.
    let it = IterationShape::new(&[], &[1000; 8]);
    assert!(w4.step(&it).unwrap().time_s < base.step(&it).unwrap().time_s);
}

#[test]
fn moe_imbalance_slows_compute_bound_steps() {
    let dev = xpusim_hw::load_device("h100-sxm").unwrap();
    let cfg = xpusim_models::zoo::transformer_config("mixtral-8x7b").unwrap();
    let mut o = StepOptions::new(Precision::uniform(DType::Fp8), 2048);
    let even = TargetStepModel::on_device(cfg.clone(), dev.clone(), o).unwrap();
    o.moe_imbalance = 2.0;
    let skew = TargetStepModel::on_device(cfg, dev, o).unwrap();
    let big = [PrefillChunk {
        tokens: 2048,
        prior: 0,
        last: true,
    }];
    let it = IterationShape::new(&big, &[]);
    let (a, b) = (
        even.step(&it).unwrap().time_s,
        skew.step(&it).unwrap().time_s,
    );
    assert!(
        b > 1.2 * a,
        "imbalance 2 should slow a 2048-token prefill: {a} → {b}"
    );
    o.moe_imbalance = 0.5;
    let dev = xpusim_hw::load_device("h100-sxm").unwrap();
    let cfg = xpusim_models::zoo::transformer_config("mixtral-8x7b").unwrap();
    assert!(TargetStepModel::on_device(cfg, dev, o).is_err());
}

#[test]
fn llama_7b_on_h100_at_low_load_ttft_is_one_prefill() {
    let m = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    let reqs = poisson(0.5, 200, TokenDist::Fixed(512), TokenDist::Fixed(64), 1).unwrap();
    let r = serve(
        &m,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap();
    let alone = [PrefillChunk {
        tokens: 512,
        prior: 0,
        last: true,
    }];
    let prefill = m.step(&IterationShape::new(&alone, &[])).unwrap().time_s;
    let p50 = r.metrics.ttft_s.p50;
    assert!(
        (p50 - prefill).abs() / prefill < 0.15,
        "ttft p50 {p50} vs prefill {prefill}"
    );
    let decode = m.step(&IterationShape::new(&[], &[540])).unwrap().time_s;
    let tpot = r.metrics.tpot_s.p50;
    assert!(
        (tpot - decode).abs() / decode < 0.15,
        "tpot p50 {tpot} vs decode step {decode}"
    );
    let span = reqs.last().unwrap().arrival_s - reqs[0].arrival_s;
    let offered = (reqs.len() - 1) as f64 / span;
    assert!((r.metrics.requests_per_s - offered).abs() / offered < 0.05);
}

#[test]
fn a_huge_prompt_is_kv_exhausted_with_numbers() {
    let m = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    let reqs = poisson(1.0, 3, TokenDist::Fixed(200_000), TokenDist::Fixed(10), 1).unwrap();
    let e = serve(
        &m,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap_err()
    .to_string();
    let need = 200_009u64.div_ceil(16) * 16 * m.kv_bytes_per_token();
    assert!(
        e.starts_with(&format!(
            "KV cache exhausted: request 0 (200000 input + 10 output tokens) needs {}",
            xpusim_serve::format_bytes(need)
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "capacity {}",
            xpusim_serve::format_bytes(m.kv_capacity_bytes())
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "weights {} of 85.9 GB",
            xpusim_serve::format_bytes(m.memory().weight_bytes)
        )),
        "{e}"
    );
}

#[test]
fn a_one_device_system_matches_the_device_and_tp_speeds_up_decode() {
    let cfg = || xpusim_models::zoo::transformer_config("llama-2-7b").unwrap();
    let o = StepOptions::new(bf16(), 2048);
    let dev = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    let one = TargetStepModel::load_system(cfg(), "dgx-h100", 1, o).unwrap();
    let chunk = [PrefillChunk {
        tokens: 300,
        prior: 700,
        last: true,
    }];
    let ctx = [900u64; 24];
    let it = IterationShape::new(&chunk, &ctx);
    let (a, b) = (dev.step(&it).unwrap(), one.step(&it).unwrap());
    assert!(
        (a.time_s - b.time_s).abs() <= 1e-9 * a.time_s,
        "{a:?} vs {b:?}"
    );
    assert!(
        (a.energy_j - b.energy_j).abs() <= 1e-6 * a.energy_j,
        "{a:?} vs {b:?}"
    );
    assert_eq!(dev.kv_bytes_per_token(), one.kv_bytes_per_token());
    assert_eq!(dev.memory().weight_bytes, one.memory().weight_bytes);

    // Llama-2-70B: 8 KV heads split over 8 devices keep the KV size; TP 8 decodes faster
    // than TP 4 and holds more KV.
    let c70 = || xpusim_models::zoo::transformer_config("llama-2-70b").unwrap();
    let tp4 = TargetStepModel::load_system(c70(), "dgx-h100", 4, o).unwrap();
    let tp8 = TargetStepModel::load_system(c70(), "dgx-h100", 8, o).unwrap();
    assert_eq!(tp8.kv_bytes_per_token(), 2 * 80 * 8 * 128 * 2);
    assert_eq!(tp4.kv_bytes_per_token(), tp8.kv_bytes_per_token());
    assert!(tp8.kv_capacity_bytes() > 2 * tp4.kv_capacity_bytes());
    let dec = IterationShape::new(&[], &[1500; 32]);
    assert!(tp8.step(&dec).unwrap().time_s < tp4.step(&dec).unwrap().time_s);
    assert_eq!(tp8.devices(), 8);
    let e = TargetStepModel::load_system(c70(), "dgx-h100", 16, o)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("tp") && e.contains("16"), "{e}");
}

#[test]
fn ssm_state_is_held_per_sequence_and_attention_models_have_none() {
    let llama = model("llama-2-7b", "h100-sxm", bf16()).unwrap();
    assert_eq!(llama.state_bytes_per_seq(), 0);
    let cfg = xpusim_models::zoo::transformer_config("llama-2-70b").unwrap();
    let tp8 =
        TargetStepModel::load_system(cfg, "dgx-h100", 8, StepOptions::new(bf16(), 2048)).unwrap();
    assert_eq!(tp8.state_bytes_per_seq(), 0);
    let mamba = model("mamba-2.8b", "h100-sxm", bf16()).unwrap();
    assert_eq!(mamba.kv_bytes_per_token(), 0);
    // 64 layers × d_inner 5120 × d_state 16 of recurrent state, at least 2 B each.
    assert!(
        mamba.state_bytes_per_seq() >= 64 * 5120 * 16 * 2,
        "{}",
        mamba.state_bytes_per_seq()
    );
    let reqs = poisson(50.0, 200, TokenDist::Fixed(256), TokenDist::Fixed(32), 1).unwrap();
    let r = serve(
        &mamba,
        &reqs,
        &SchedulerConfig::default(),
        &Slo::default(),
        None,
    )
    .unwrap();
    let held = r.metrics.peak_kv_bytes / mamba.state_bytes_per_seq();
    assert!((2..=256).contains(&held), "peak {held} sequences' state");
}
