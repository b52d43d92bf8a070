//! The step model's body term (every non-attention op of an iteration, a function of the
//! tokens in it) against Vidur's measured operator profiles of Llama-2 layers
//! (shared/calibration/vidur: FP16, H100-80GB and A100-80GB, 1…4096 tokens, TP 1).
//! Run with `--nocapture` to see the error by token count.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xpusim_ir::{DType, Phase, Precision};
use xpusim_models::Workload;

/// Vidur's per-layer operators (ms); its `emb` runs once per pass and is left out.
const LAYER_OPS: [&str; 9] = [
    "input_layernorm",
    "attn_pre_proj",
    "attn_rope",
    "attn_post_proj",
    "post_attention_layernorm",
    "mlp_up_proj",
    "mlp_act",
    "mlp_down_proj",
    "add",
];

/// Mean absolute relative error of the per-layer non-attention time over every TP-1 row.
fn mape(file: &str, model: &str, hw: &str) -> Option<f64> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/calibration/vidur");
    let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        println!("skipped: {} not found", dir.join(file).display());
        return None;
    };
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let dev = xpusim_hw::load_device(hw).unwrap();
    let cfg = xpusim_models::zoo::transformer_config(model).unwrap();
    let mut by_size: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[col("num_tensor_parallel_workers")] != "1" {
            continue;
        }
        let t: u64 = f[col("num_tokens")].parse().unwrap();
        let measured_ms: f64 = LAYER_OPS
            .iter()
            .map(|o| {
                f[col(&format!("time_stats.{o}.median"))]
                    .parse::<f64>()
                    .unwrap()
            })
            .sum();
        // The body term is the decode graph at `t` rows (see device.rs).
        let w =
            Workload::new(Phase::Decode, t, 1, 1).with_precision(Precision::uniform(DType::Fp16));
        let c = xpusim_target::evaluate(
            &cfg.build(&w).unwrap(),
            &xpusim_target::Target::device(dev.clone()),
        )
        .unwrap();
        let layer_s: f64 = c
            .ops
            .iter()
            .filter(|o| {
                o.repeat == cfg.layers && o.kind != "attention" && !o.name.ends_with("kv_append")
            })
            .map(|o| o.time_s / o.repeat as f64)
            .sum();
        by_size
            .entry(t.next_power_of_two())
            .or_default()
            .push(layer_s * 1e3 / measured_ms - 1.0);
    }
    println!("{model} on {hw} vs Vidur {file}: per-layer non-attention time");
    let mut all = Vec::new();
    for (b, e) in &by_size {
        let m = e.iter().map(|x| x.abs()).sum::<f64>() / e.len() as f64;
        let bias = e.iter().sum::<f64>() / e.len() as f64;
        println!(
            "  tokens ≤ {b:5}: n {:3}  MAPE {:5.1}%  bias {:+5.1}%",
            e.len(),
            m * 100.0,
            bias * 100.0
        );
        all.extend(e.iter().copied());
    }
    let m = all.iter().map(|x| x.abs()).sum::<f64>() / all.len() as f64;
    println!("  all {} rows: MAPE {:.1}%", all.len(), m * 100.0);
    Some(m)
}

#[test]
fn body_term_tracks_vidur_measurements() {
    // Measured at the time of writing: H100 7B 8.6%, H100 70B 4.8%, A100 7B 15.5% (the
    // engine under-predicts A100 GEMMs above 64 tokens by 10–20%).
    if let Some(m) = mape("h100_Llama-2-7b-hf.csv", "llama-2-7b", "h100-sxm") {
        assert!(m < 0.15, "H100 Llama-2-7B MAPE {m}");
    }
    if let Some(m) = mape("h100_Llama-2-70b-hf.csv", "llama-2-70b", "h100-sxm") {
        assert!(m < 0.15, "H100 Llama-2-70B MAPE {m}");
    }
    if let Some(m) = mape("a100_Llama-2-7b-hf.csv", "llama-2-7b", "a100-80gb") {
        assert!(m < 0.25, "A100 Llama-2-7B MAPE {m}");
    }
}
