//! Built-in models against published parameter and MAC counts.

use xpusim_ir::{DType, OpKind, Phase, Precision, Role};
use xpusim_models::{build, find, ModelError, Workload};

fn close(got: f64, want: f64, tol: f64, what: &str) {
    let err = (got - want).abs() / want;
    assert!(
        err <= tol,
        "{what}: got {got:.4e}, published {want:.4e} ({:.2} % off)",
        err * 100.0
    );
}

fn infer(batch: u64) -> Workload {
    Workload::new(Phase::Inference, batch, 1, 0)
}

fn params(name: &str) -> (f64, f64) {
    let ph = find(name).unwrap().phases[0];
    let g = build(name, &Workload::new(ph, 1, 128, 0)).unwrap();
    let t = g.totals();
    (t.params as f64, t.active_params as f64)
}

/// Sources: torchvision model cards (resnet50: 25 557 032 params, 4.09 GMACs; mobilenet_v2:
/// 3 504 872 params, 0.30 GMACs), He et al. 2016 Table 1 (3.8·10⁹ FLOPs = multiply-adds for
/// v1; v1.5 is 4.1 G), Sandler et al. 2018 Table 4 (300 M multiply-adds, 3.4 M params).
#[test]
fn cnns_match_published_params_and_macs() {
    let g = build("resnet-50", &infer(1)).unwrap().totals();
    close(g.params as f64, 25.557e6, 0.02, "ResNet-50 params");
    close(g.macs as f64, 4.1e9, 0.02, "ResNet-50 MACs");
    // torchvision: resnet18 11 689 512 / 1.81 G; resnet101 44 549 160 / 7.80 G;
    // resnet152 60 192 808 / 11.51 G.
    for (name, p, macs) in [
        ("resnet-18", 11.69e6, 1.81e9),
        ("resnet-101", 44.55e6, 7.80e9),
        ("resnet-152", 60.19e6, 11.51e9),
    ] {
        let g = build(name, &infer(1)).unwrap().totals();
        close(g.params as f64, p, 0.01, name);
        close(g.macs as f64, macs, 0.02, name);
    }
    let g = build("mobilenet-v2", &infer(1)).unwrap().totals();
    close(g.params as f64, 3.5e6, 0.02, "MobileNetV2 params");
    close(g.macs as f64, 300e6, 0.02, "MobileNetV2 MACs");
}

/// Devlin et al. 2019 §3 (BERT-Base 110 M, BERT-Large 340 M); Dosovitskiy et al. 2021
/// Table 1 (ViT-B 86 M) and Touvron et al. 2021 (DeiT) Table 1 (ViT-B/16 at 224²: 17.6 G
/// "FLOPs", counted as multiply-adds); Radford et al. 2019 / HF gpt2 (124 M).
#[test]
fn encoders_and_gpt2_match_published() {
    close(params("bert-base").0, 110e6, 0.01, "BERT-base");
    close(params("bert-large").0, 340e6, 0.02, "BERT-large");
    close(params("vit-b-16").0, 86e6, 0.01, "ViT-B/16");
    close(params("gpt-2").0, 124e6, 0.01, "GPT-2");
    let vit = build("vit-b-16", &infer(1)).unwrap().totals();
    close(vit.macs as f64, 17.6e9, 0.01, "ViT-B/16 MACs");
}

/// HF model cards / safetensors totals: Llama-2 7B 6.74 B, 13B 13.0 B, 70B 69.0 B
/// (Touvron et al. 2023); Llama-3 8B 8.03 B, 70B 70.6 B (Dubey et al. 2024); Mixtral
/// 46.7 B total / 12.9 B active (Jiang et al. 2024 §2); Mamba 2.8 B (Gu & Dao 2023).
#[test]
fn decoders_match_published_params() {
    for (name, want) in [
        ("llama-2-7b", 6.74e9),
        ("llama-2-13b", 13.0e9),
        ("llama-2-70b", 69.0e9),
        ("llama-3-8b", 8.03e9),
        ("llama-3-70b", 70.6e9),
        ("mamba-2.8b", 2.8e9),
    ] {
        close(params(name).0, want, 0.015, name);
    }
    // DeepSeek-V3 report (arXiv:2412.19437, abstract): 671 B total, 37 B activated.
    let (total, active) = params("deepseek-v3");
    close(total, 671e9, 0.01, "DeepSeek-V3 total");
    close(active, 37e9, 0.02, "DeepSeek-V3 active");
    let (total, active) = params("mixtral-8x7b");
    close(total, 46.7e9, 0.01, "Mixtral total");
    close(active, 12.9e9, 0.01, "Mixtral active");
}

/// Zaremba et al. 2014 §4.1: the large PTB LSTM has 66 M parameters.
#[test]
fn lstm_lm_matches_zaremba() {
    close(params("lstm-lm").0, 66e6, 0.01, "LSTM LM");
    for m in ["gnmt", "gnmt-v2", "deepspeech2"] {
        let g = build(m, &Workload::new(Phase::Inference, 2, 40, 0)).unwrap();
        assert!(
            g.ops.iter().any(|o| matches!(o.kind, OpKind::Recurrent(_))),
            "{m}"
        );
    }
}

/// Prefill FLOPs ≈ 2 · (non-embedding active params) · tokens + LM head (last token) +
/// attention, the Kaplan et al. 2020 (arXiv:2001.08361 §2.1) accounting.
#[test]
fn prefill_flops_follow_two_n_per_token() {
    for name in ["llama-2-7b", "llama-3-70b", "mixtral-8x7b"] {
        let (b, s) = (2u64, 512u64);
        let g = build(name, &Workload::new(Phase::Prefill, b, s, 0)).unwrap();
        let t = g.totals();
        let cfg = xpusim_models::zoo::transformer_config(name).unwrap();
        let embed = cfg.vocab * cfg.hidden;
        let body = (t.active_params - 2 * embed) as f64;
        let attn: u64 = g
            .ops
            .iter()
            .filter(|o| matches!(o.kind, OpKind::Attention(_)))
            .map(|o| o.flops() * o.repeat)
            .sum();
        let want = 2.0 * body * (b * s) as f64 + 2.0 * embed as f64 * b as f64 + attn as f64;
        close(t.flops as f64, want, 0.03, name);
    }
}

/// Decode reads 2 · layers · kv_heads · head_dim · (context + 1) · batch · bytes of KV
/// cache (the new token's K/V is attended too).
#[test]
fn decode_kv_cache_bytes() {
    let p = Precision::uniform(DType::Fp16);
    for (name, layers, kv, hd) in [
        ("llama-2-70b", 80u64, 8u64, 128u64),
        ("llama-2-7b", 32, 32, 128),
    ] {
        let (b, ctx) = (4u64, 3000u64);
        let g = build(
            name,
            &Workload::new(Phase::Decode, b, 1, ctx).with_precision(p),
        )
        .unwrap();
        assert_eq!(
            g.totals().kv_cache_bytes,
            2 * layers * kv * hd * (ctx + 1) * b * 2,
            "{name}"
        );
        assert_eq!(g.tokens_per_sample, 1);
    }
    let g = build("llama-2-70b", &Workload::new(Phase::Decode, 1, 1, 100)).unwrap();
    assert!((10..=30).contains(&g.ops.len()), "{} ops", g.ops.len());
}

/// Uniform top-2-of-8 routing with one token touches exactly 2 experts; with many tokens
/// nearly all 8 (E·(1−(1−k/E)^n)).
#[test]
fn mixtral_decode_reads_expected_experts() {
    let expert_bytes = |batch: u64| -> u64 {
        let g = build("mixtral-8x7b", &Workload::new(Phase::Decode, batch, 1, 10)).unwrap();
        g.ops
            .iter()
            .filter(|o| o.name.contains("experts"))
            .map(|o| o.bytes_by_role(Role::Weight) * o.repeat)
            .sum()
    };
    let per_expert = 3 * 4096 * 14336 * 2 * 32u64;
    assert_eq!(expert_bytes(1), 2 * per_expert);
    assert_eq!(expert_bytes(64), 8 * per_expert);
    assert!(
        (xpusim_models::expected_experts(8, 2, 4) - 8.0 * (1.0 - 0.75f64.powi(4))).abs() < 1e-9
    );
}

#[test]
fn every_weight_operand_is_declared() {
    for m in xpusim_models::catalog() {
        for &ph in m.phases {
            let g = build(m.name, &Workload::new(ph, 2, 64, 64)).unwrap();
            for op in &g.ops {
                for o in op.operands.iter().filter(|o| o.role == Role::Weight) {
                    let declared = g.weights.iter().any(|w| w.name == o.tensor)
                        || g.weights
                            .iter()
                            .any(|w| o.tensor.ends_with(".gamma") && w.name == o.tensor);
                    assert!(
                        declared,
                        "{}: op {} reads undeclared weight {}",
                        m.name, op.name, o.tensor
                    );
                }
            }
        }
    }
}

#[test]
fn default_workloads_build() {
    for m in xpusim_models::catalog() {
        for &ph in m.phases {
            let w = m.workload(ph);
            build(m.name, &w).unwrap_or_else(|e| panic!("{}: {e}", m.name));
        }
    }
}

#[test]
fn errors_are_clear() {
    let e = build("llama-2-7b", &Workload::new(Phase::Decode, 0, 1, 10)).unwrap_err();
    assert!(matches!(e, ModelError::InvalidWorkload { .. }), "{e}");
    let e = build("resnet-50", &infer(0)).unwrap_err();
    assert!(e.to_string().contains("batch"), "{e}");
    let e = build("resnet-50", &Workload::new(Phase::Decode, 1, 1, 1)).unwrap_err();
    assert!(matches!(e, ModelError::UnsupportedPhase { .. }), "{e}");
    let e = build("lama-2-7b", &infer(1)).unwrap_err();
    match &e {
        ModelError::UnknownModel { suggestions, .. } => {
            assert!(suggestions.contains(&"llama-2-7b".to_string()), "{e}")
        }
        _ => panic!("{e}"),
    }
    assert!(build(
        "llama-2-7b",
        &Workload::new(Phase::Prefill, 1 << 30, 1 << 30, 0)
    )
    .is_err());
    assert_eq!(find("LLAMA2-7B").unwrap().name, "llama-2-7b");
    assert_eq!(find("Mixtral_8x7B").unwrap().name, "mixtral-8x7b");
}

/// Weight-only quantisation (AWQ, Lin et al. 2024 §4; GPTQ) quantises the GEMM weights and
/// keeps embeddings, LM head and norm scales in 16 bit.
#[test]
fn weight_only_quantisation_keeps_side_params_16bit() {
    let p = Precision::parse("w4a16", DType::Fp16).unwrap();
    let g = build(
        "llama-2-7b",
        &Workload::new(Phase::Decode, 1, 1, 10).with_precision(p),
    )
    .unwrap();
    let t = g.totals();
    let side = 2 * 32_000 * 4096 + (2 * 32 + 1) * 4096;
    assert_eq!(t.weight_bytes, (t.params - side) / 2 + side * 2);
    let g = build("llama-2-7b", &Workload::new(Phase::Decode, 1, 1, 10)).unwrap();
    assert_eq!(g.totals().weight_bytes, 2 * g.totals().params);
}

/// FP8 inference checkpoints (Model Optimizer, vLLM `fp8`) store the transformer blocks'
/// linear weights in FP8 and run those GEMMs in FP8; embeddings, the LM head, norm scales,
/// attention and the KV cache stay 16-bit. `fp8-linear` (Transformer Engine training) runs the
/// same GEMMs but keeps its weights 16-bit.
#[test]
fn fp8_checkpoints_store_linear_weights_in_fp8_and_nothing_else() {
    let w = |p: &str| {
        let p = Precision::parse(p, DType::Bf16).unwrap();
        build(
            "llama-2-7b",
            &Workload::new(Phase::Decode, 1, 1, 10).with_precision(p),
        )
        .unwrap()
    };
    let g = w("fp8-w8a8");
    let t = g.totals();
    let side = 2 * 32_000 * 4096 + (2 * 32 + 1) * 4096;
    assert_eq!(t.weight_bytes, t.params - side + side * 2);
    assert_eq!(w("fp8-linear").totals().weight_bytes, 2 * t.params);
    let mut fp8_ops = 0;
    for op in &g.ops {
        let fp8 = op.operands.iter().any(|o| o.dtype == DType::Fp8);
        fp8_ops += usize::from(fp8);
        let block_linear = matches!(op.kind, xpusim_ir::OpKind::Matmul(_))
            && op.name.starts_with("layers.")
            && !op.name.contains("attn.sdpa");
        assert_eq!(fp8, block_linear, "{}", op.name);
        if matches!(op.kind, xpusim_ir::OpKind::Attention(_)) {
            assert_eq!(op.compute_dtype, DType::Bf16, "{}", op.name);
        }
    }
    // Q/K/V (fused or not), output, gate/up (fused or not) and down projections.
    assert!(fp8_ops >= 4, "{fp8_ops} FP8 ops");
}

/// Training-validation models (data/validation/training.csv). Published totals: OPT-175B
/// "175B" (Zhang et al. 2022, Table 1); BLOOM 176 247 271 424 (BigScience tr11-176B-ml README:
/// 70·(12h²+13h) + v·h + 2 LayerNorms, h = 14 336, v = 250 880); PaLM 540.35B (Chowdhery et al.
/// 2022, Table 1); Llama 3.1 405B "405B" (Dubey et al. 2024, Table 3); MT-NLG "530B" (Smith et
/// al. 2022, abstract).
#[test]
fn training_models_match_published_params() {
    for (name, want, tol) in [
        ("opt-175b", 175e9, 0.01),
        ("bloom-176b", 176.247_271_424e9, 0.001),
        ("palm-540b", 540.35e9, 0.005),
        ("llama-3.1-405b", 405e9, 0.015),
        ("mt-nlg-530b", 530e9, 0.01),
        ("megatron-gpt-22b", 22e9, 0.01),
    ] {
        close(params(name).0, want, tol, name);
    }
    // Llama 3.1 8B / 70B are the Llama 3 models (same shapes; only the RoPE scaling for 128k
    // context differs): one model each, reached by both names.
    assert_eq!(find("llama-3.1-8b").unwrap().name, "llama-3-8b");
    assert_eq!(find("llama-3.1-70b").unwrap().name, "llama-3-70b");
    assert_eq!(
        find("meta-llama/Llama-3.1-70B").unwrap().name,
        "llama-3-70b"
    );
    close(params("llama-3.1-8b").0, 8.03e9, 0.015, "Llama 3.1 8B");
    close(params("llama-3.1-70b").0, 70.6e9, 0.015, "Llama 3.1 70B");
}

/// Narayanan et al. 2021, Table 1 (parameter column, in billions, rounded to 0.1) and Eq. 2,
/// P = 12·l·h²·(1 + 13/(12h) + (V + s)/(12·l·h)) with V = 51 200, s = 2048: every Megatron GPT
/// shape rounds to its published size and is within 0.1 % of the formula (our count adds only
/// the final LayerNorm).
#[test]
fn megatron_gpt_sizes_match_narayanan_table1() {
    let (v, s) = (51_200f64, 2048f64);
    for (name, layers, hidden, published_b) in [
        ("megatron-gpt-1.7b", 24u64, 2304u64, 1.7),
        ("megatron-gpt-3.6b", 30, 3072, 3.6),
        ("megatron-gpt-7.5b", 36, 4096, 7.5),
        ("megatron-gpt-18.4b", 40, 6144, 18.4),
        ("megatron-gpt-39.1b", 48, 8192, 39.1),
        ("megatron-gpt-76.1b", 60, 10_240, 76.1),
        ("megatron-gpt-145.6b", 80, 12_288, 145.6),
        ("megatron-gpt-310.1b", 96, 16_384, 310.1),
        ("mt-nlg-530b", 105, 20_480, 529.6),
        ("megatron-gpt-1t", 128, 25_600, 1008.0),
    ] {
        let (l, h) = (layers as f64, hidden as f64);
        let eq2 = 12.0 * l * h * h * (1.0 + 13.0 / (12.0 * h) + (v + s) / (12.0 * l * h));
        let got = params(name).0;
        close(got, eq2, 0.001, name);
        let rounded = (got / 1e8).round() / 10.0;
        assert!(
            (rounded - published_b).abs() < 1e-9,
            "{name}: {got:.4e} rounds to {rounded} B, Table 1 says {published_b} B"
        );
    }
}

/// Megatron-Core's H100 weak-scaling table (NVIDIA/Megatron-LM README at 937571c,
/// images/model_table.png): each shape, with its 131 072-token vocabulary in two untied
/// matrices, is within 3.5 % of the size the table names it by. The names are nominal (the
/// "32B" shape holds 31.5 B parameters, "119B" 118.5 B, "1.7B" 1.75 B); tied embeddings would
/// put the first at 1.48 B, 13 % short.
#[test]
fn megatron_core_gpt_sizes_match_its_model_table() {
    for (name, published_b) in [
        ("mcore-gpt-1.7b", 1.7),
        ("mcore-gpt-7.1b", 7.1),
        ("mcore-gpt-16b", 16.0),
        ("mcore-gpt-32b", 32.0),
        ("mcore-gpt-70b", 70.0),
        ("mcore-gpt-119b", 119.0),
        ("mcore-gpt-177b", 177.0),
        ("mcore-gpt-314b", 314.0),
        ("mcore-gpt-462b", 462.0),
    ] {
        close(params(name).0, published_b * 1e9, 0.035, name);
    }
}
