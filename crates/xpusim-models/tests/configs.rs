//! TransformerConfig features not covered by the named zoo: encoder–decoder stacks, MLA,
//! hybrid layer patterns, and graph hygiene of every built-in model.

use std::collections::HashSet;

use xpusim_ir::{DType, Phase, Precision};
use xpusim_models::{
    build, catalog, Activation, Arch, FfnKind, LayerKind, Mixer, MlaConfig, ModelError, MoeConfig,
    NormStyle, Positions, SsmConfig, TransformerConfig, Workload,
};

/// T5-base (Raffel et al. 2020, Table 14: 220 M; HF google-t5/t5-base 222.9 M).
fn t5_base() -> TransformerConfig {
    TransformerConfig {
        arch: Arch::EncoderDecoder { encoder_layers: 12 },
        gated_ffn: false,
        activation: Activation::Relu,
        tied_embeddings: true,
        positions: Positions::RelativeBuckets { buckets: 32 },
        ..TransformerConfig::decoder("t5-base", 768, 12, 12, 12, 3072, 32_128)
    }
}

#[test]
fn encoder_decoder_params_and_caches() {
    let c = t5_base();
    let p = Precision::uniform(DType::Fp16);
    let pre = c
        .build(&Workload::new(Phase::Prefill, 2, 100, 0).with_precision(p))
        .unwrap();
    let dec = c
        .build(&Workload::new(Phase::Decode, 2, 100, 9).with_precision(p))
        .unwrap();
    let tp = pre.totals();
    assert!(
        (tp.params as f64 - 222.9e6).abs() / 222.9e6 < 0.01,
        "{}",
        tp.params
    );
    assert_eq!(tp.params, dec.totals().params);
    // Decode reads self-attention K/V over context + 1 and cross-attention K/V over the
    // 100 encoder positions, in all 12 decoder layers.
    let per_pos = 2 * 12 * 64 * 2;
    assert_eq!(dec.totals().kv_cache_bytes, 12 * per_pos * 2 * (10 + 100));
}

/// DeepSeek-V2-Lite-like MLA (arXiv:2405.04434 §2.1): the decode cache holds
/// `kv_lora_rank + qk_rope_head_dim` values per position and layer.
#[test]
fn mla_decode_reads_compressed_latent() {
    let mut c = TransformerConfig::decoder("mla", 2048, 4, 16, 16, 4096, 1000);
    c.head_dim = 192;
    c.mla = Some(MlaConfig {
        q_lora_rank: None,
        kv_lora_rank: 512,
        qk_nope_head_dim: 128,
        qk_rope_head_dim: 64,
        v_head_dim: 128,
    });
    let g = c.build(&Workload::new(Phase::Decode, 3, 1, 99)).unwrap();
    assert_eq!(g.totals().kv_cache_bytes, 4 * 576 * 100 * 3 * 2);
    let pre = c.build(&Workload::new(Phase::Prefill, 1, 64, 0)).unwrap();
    assert_eq!(pre.totals().params, g.totals().params);
}

/// Jamba-style pattern (Lieber et al. 2024): attention 1 in 8, MoE every other layer.
#[test]
fn hybrid_layers_group_by_kind() {
    let mut c = TransformerConfig::decoder("hybrid", 512, 16, 8, 2, 1024, 1000);
    c.ssm = Some(SsmConfig {
        d_state: 16,
        d_conv: 4,
        expand: 2,
        dt_rank: 32,
        head_dim: 64,
        n_groups: 1,
        conv_bias: true,
        proj_bias: false,
        inner_norms: true,
    });
    c.moe = Some(MoeConfig {
        experts: 4,
        top_k: 2,
        expert_intermediate: 1024,
        shared_intermediate: 0,
        shared_gate: false,
        first_dense_layers: 0,
        layer_period: 1,
        layer_offset: 0,
    });
    c.layer_kinds = Some(
        (0..16)
            .map(|i| LayerKind {
                mixer: if i % 8 == 4 {
                    Mixer::Attention
                } else {
                    Mixer::Mamba
                },
                ffn: if i % 2 == 1 {
                    FfnKind::Moe
                } else {
                    FfnKind::Dense
                },
            })
            .collect(),
    );
    let groups = c.layer_groups();
    assert_eq!(groups.iter().map(|g| g.1).sum::<u64>(), 16);
    assert_eq!(groups.len(), 3, "{groups:?}"); // mamba+dense, mamba+moe, attn+dense
    for ph in [Phase::Prefill, Phase::Decode] {
        let g = c.build(&Workload::new(ph, 2, 32, 32)).unwrap();
        assert!(g.totals().active_params < g.totals().params);
    }
    c.layer_kinds.as_mut().unwrap().pop();
    assert!(matches!(
        c.validate(),
        Err(ModelError::InvalidConfig { .. })
    ));
}

#[test]
fn op_names_are_unique_and_graphs_small() {
    for m in catalog() {
        for &ph in m.phases {
            let g = build(m.name, &Workload::new(ph, 2, 64, 64)).unwrap();
            let mut seen = HashSet::new();
            for op in &g.ops {
                assert!(
                    seen.insert(op.name.clone()),
                    "{}: duplicate op {}",
                    m.name,
                    op.name
                );
            }
            // A UNet's blocks change shape at every resolution level, so few of them repeat.
            let limit = if m.era == "diffusion" { 700 } else { 120 };
            assert!(g.ops.len() <= limit, "{}: {} ops", m.name, g.ops.len());
            let mut w = HashSet::new();
            for wt in &g.weights {
                assert!(
                    w.insert(wt.name.clone()),
                    "{}: weight {} declared twice",
                    m.name,
                    wt.name
                );
            }
        }
    }
}

#[test]
fn workload_limits() {
    // GPT-2 has 1024 learned positions (Radford et al. 2019).
    let e = build("gpt-2", &Workload::new(Phase::Prefill, 1, 2048, 0)).unwrap_err();
    assert!(e.to_string().contains("1024"), "{e}");
    assert!(build("gpt-2", &Workload::new(Phase::Decode, 1, 1, 1023)).is_ok());
    let e = build("vit-b-16", &Workload::new(Phase::Decode, 1, 1, 1)).unwrap_err();
    assert!(matches!(e, ModelError::UnsupportedPhase { .. }), "{e}");
    let e = build(
        "vit-b-16",
        &Workload::new(Phase::Inference, 1, 1, 0).with_image_size(8),
    )
    .unwrap_err();
    assert!(e.to_string().contains("patch"), "{e}");
    // ViT at 384²: 24² patches + class token.
    let g = build(
        "vit-b-16",
        &Workload::new(Phase::Inference, 1, 1, 0).with_image_size(384),
    )
    .unwrap();
    assert_eq!(g.tokens_per_sample, 577);
    // CNNs ignore seq_len.
    assert!(build("resnet-50", &Workload::new(Phase::Inference, 1, 0, 0)).is_ok());
    let mut c = TransformerConfig::decoder("bad", 64, 2, 8, 3, 128, 100);
    c.norm = NormStyle::RmsNorm;
    assert!(c.build(&Workload::new(Phase::Prefill, 1, 8, 0)).is_err());
}
