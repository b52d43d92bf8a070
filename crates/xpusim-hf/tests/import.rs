//! Imports the fixture configs and checks parameter counts against published figures
//! (sources in tests/fixtures/README.md).

use std::path::{Path, PathBuf};

use xpusim_hf::{build, load, parse, HfError, SUPPORTED};
use xpusim_ir::Phase;
use xpusim_models::{TransformerConfig, Workload};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn counts(name: &str) -> (f64, f64) {
    let m = load(&fixture(name)).unwrap_or_else(|e| panic!("{e}"));
    let ph = m.config.phases()[0];
    let g = m
        .config
        .build(&Workload::new(ph, 1, 16, 16))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let t = g.totals();
    (t.params as f64, t.active_params as f64)
}

/// The `TransformerConfig` a fixture maps to.
fn cfg(file: &str) -> TransformerConfig {
    load(&fixture(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .config
}

/// The `TransformerConfig` of a fixture with one field's text replaced (`from` → `to`).
fn cfg_edited(file: &str, from: &str, to: &str) -> TransformerConfig {
    let text = std::fs::read_to_string(fixture(file)).expect("the fixture reads");
    assert!(text.contains(from), "{file} has no `{from}`");
    parse(&text.replace(from, to), &fixture(file))
        .unwrap_or_else(|e| panic!("{file} edited: {e}"))
        .config
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    let err = (got - want).abs() / want;
    assert!(
        err <= tol,
        "{what}: got {got:.4e}, published {want:.4e} ({:.2} % off)",
        err * 100.0
    );
}

#[test]
fn dense_families_match_published_params() {
    for (file, want) in [
        ("llama-2-7b.json", 6.74e9),
        ("llama-3-70b.json", 70.6e9),
        ("llama-3.1-8b.json", 8.03e9),
        ("mistral-7b.json", 7.24e9),
        ("qwen2-7b.json", 7.6e9),
        ("gemma-7b.json", 8.54e9),
        ("gemma-2-9b.json", 9.24e9),
        ("phi-3-mini-4k.json", 3.8e9),
        ("gpt2.json", 124e6),
        ("gpt-neox-20b.json", 20.6e9),
        ("falcon-7b.json", 7.0e9),
        ("gpt-j-6b.json", 6.05e9),
        ("opt-6.7b.json", 6.7e9),
        ("bert-base-uncased.json", 110e6),
        ("roberta-base.json", 125e6),
        ("distilbert-base-uncased.json", 66e6),
        ("mpt-7b.json", 6.7e9),
        ("gpt-neo-2.7B.json", 2.7e9),
        ("phi-2.json", 2.78e9),
        ("bloom-560m.json", 559.2e6),
        ("starcoder.json", 15.5e9),
        ("starcoder2-3b.json", 3.03e9),
        ("t5-base.json", 223e6),
        ("mamba-2.8b-hf.json", 2.8e9),
        ("mamba-2.8b-original.json", 2.8e9),
        ("mamba2-2.7b.json", 2.7e9),
        ("granite-3.0-8b.json", 8.17e9),
        ("olmo-2-1124-7b.json", 7.30e9),
        ("olmo-7b.json", 6.89e9),
        ("internlm2-7b.json", 7.74e9),
        ("stablelm-2-1_6b.json", 1.64e9),
        ("command-r-v01.json", 35e9),
    ] {
        close(counts(file).0, want, 0.02, file);
    }
}

/// Falcon-7B ties its LM head to the embeddings (`tie_word_embeddings` defaults to true);
/// the Hub's 7.22 B figure counts the stored LM-head tensor as well.
#[test]
fn falcon_hub_count_includes_stored_lm_head() {
    let (p, _) = counts("falcon-7b.json");
    close(
        p + 65_024.0 * 4544.0,
        7.22e9,
        0.01,
        "Falcon-7B stored tensors",
    );
}

#[test]
fn moe_families_match_published_total_and_active() {
    for (file, total, active) in [
        ("mixtral-8x7b.json", 46.7e9, Some(12.9e9)),
        ("deepseek-v3.json", 671e9, Some(37e9)),
        ("qwen1.5-moe-a2.7b.json", 14.3e9, Some(2.7e9)),
        ("jamba-v0.1.json", 52e9, Some(12e9)),
        ("qwen3-30b-a3b.json", 30.5e9, Some(3.3e9)),
        // The V2-Lite card's 2.4 B "activated" excludes the embedding tables; total only.
        ("deepseek-v2-lite.json", 15.7e9, None),
    ] {
        let (p, a) = counts(file);
        close(p, total, 0.02, &format!("{file} total"));
        if let Some(active) = active {
            close(a, active, 0.02, &format!("{file} active"));
        }
    }
}

#[test]
fn every_fixture_builds_in_every_phase() {
    for e in std::fs::read_dir(fixture("")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|s| s.to_str()) != Some("json") {
            continue;
        }
        let m = load(&p).unwrap_or_else(|e| panic!("{e}"));
        let mut params = Vec::new();
        let mut train_params = None;
        for &ph in m.config.phases() {
            let g = build(&p, &Workload::new(ph, 2, 128, 256)).unwrap_or_else(|e| panic!("{e}"));
            let t = (g.totals().params, g.totals().active_params);
            // Training adds the pre-training head an encoder's inference does not run (BERT's
            // masked-LM transform and decoder bias); it never drops a parameter.
            if ph == Phase::Train {
                train_params = Some(t);
                continue;
            }
            params.push(t);
            assert!(g.ops.len() < 120, "{}: {} ops", p.display(), g.ops.len());
            if ph == Phase::Decode {
                assert_eq!(g.tokens_per_sample, 1);
                assert!(g.totals().kv_cache_bytes > 0, "{}", p.display());
            }
        }
        // Parameters do not depend on the inference phase (decode still declares the encoder).
        assert!(
            params.windows(2).all(|w| w[0] == w[1]),
            "{}: {params:?}",
            p.display()
        );
        if let (Some(t), Some(i)) = (train_params, params.first()) {
            assert!(
                t.0 >= i.0 && t.1 >= i.1,
                "{}: train {t:?} < {i:?}",
                p.display()
            );
        }
    }
}

/// MLA decode reads the compressed latent: (kv_lora_rank + rope dim) per position per
/// layer (DeepSeek-V2 §2.1.2), 576 values for V3 — 1/71 of an equivalent MHA cache.
#[test]
fn deepseek_decode_reads_latent_cache() {
    let g = build(
        &fixture("deepseek-v3.json"),
        &Workload::new(Phase::Decode, 1, 1, 999),
    )
    .unwrap();
    assert_eq!(g.totals().kv_cache_bytes, 61 * 576 * 1000 * 2);
}

#[test]
fn folder_with_config_json_loads() {
    let dir = std::env::temp_dir().join(format!("xpusim-hf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture("gpt2.json"), dir.join("config.json")).unwrap();
    let m = load(&dir).unwrap();
    assert_eq!(m.model_type, "gpt2");
    assert!(m.config.name.starts_with("xpusim-hf-test"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn errors_name_file_and_field() {
    let f = Path::new("cfg/config.json");
    let e = parse(r#"{"model_type": "llama", "hidden_size": 4096}"#, f).unwrap_err();
    assert!(matches!(e, HfError::MissingField { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("cfg/config.json") && msg.contains("num_attention_heads"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));

    let e = parse(r#"{"model_type": "rwkv"}"#, f).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`rwkv`") && msg.contains("llama") && msg.contains("jamba"),
        "{msg}"
    );
    assert_eq!(SUPPORTED.len(), 38);

    let e = parse(r#"{"hidden_size": 8}"#, f).unwrap_err();
    assert!(matches!(e, HfError::MissingModelType { .. }), "{e}");
    let e = parse("{not json", f).unwrap_err();
    assert!(matches!(e, HfError::Json { .. }), "{e}");
    let e = parse(
        r#"{"model_type": "gpt2", "n_embd": "big", "n_layer": 1, "n_head": 1, "vocab_size": 2}"#,
        f,
    )
    .unwrap_err();
    assert!(e.to_string().contains("n_embd"), "{e}");
    let e = parse(
        r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8, "num_key_value_heads": 3,
            "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 100}"#,
        f,
    )
    .unwrap_err();
    assert!(e.to_string().contains("kv_heads"), "{e}");
    let e = load(Path::new("/nonexistent/dir/config.json")).unwrap_err();
    assert!(matches!(e, HfError::Io { .. }), "{e}");
}

#[test]
fn zero_batch_is_an_error() {
    let e = build(
        &fixture("llama-2-7b.json"),
        &Workload::new(Phase::Decode, 0, 1, 8),
    )
    .unwrap_err();
    assert!(e.to_string().contains("batch"), "{e}");
}

/// The HF import of Llama-2-7B lowers to exactly the zoo's graph totals.
#[test]
fn hf_llama_matches_zoo() {
    let w = Workload::new(Phase::Prefill, 2, 256, 0);
    let hf = build(&fixture("llama-2-7b.json"), &w).unwrap().totals();
    let zoo = xpusim_models::build("llama-2-7b", &w).unwrap().totals();
    assert_eq!(hf.params, zoo.params);
    assert_eq!(hf.flops, zoo.flops);
}

/// Mistral-7B v0.1's rolling-buffer cache holds `sliding_window` = 4096 positions
/// (Jiang et al. 2023 §2): a decode step at 10 k context reads 4096 of them.
#[test]
fn mistral_decode_reads_sliding_window() {
    let g = build(
        &fixture("mistral-7b.json"),
        &Workload::new(Phase::Decode, 1, 1, 10_000),
    )
    .unwrap();
    assert_eq!(g.totals().kv_cache_bytes, 2 * 32 * 8 * 128 * 4096 * 2);
}

#[test]
fn precision_comes_from_quantization_config_or_dtype() {
    assert_eq!(
        load(&fixture("deepseek-v3.json")).unwrap().precision,
        Some("fp8")
    );
    assert_eq!(
        load(&fixture("llama-2-7b.json")).unwrap().precision,
        Some("fp16")
    );
    assert_eq!(
        load(&fixture("llama-3-70b.json")).unwrap().precision,
        Some("bf16")
    );
    let awq = r#"{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8,
        "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 100,
        "torch_dtype": "float16", "quantization_config": {"quant_method": "awq", "bits": 4}}"#;
    assert_eq!(
        parse(awq, Path::new("awq.json")).unwrap().precision,
        Some("w4a16")
    );
}

/// GPT-J is a parallel block: one LayerNorm feeds attention and MLP, one add joins them
/// (`ln_1` only in `GPTJBlock`), and rotary covers 64 of each head's 256 dimensions.
#[test]
fn gptj_is_a_parallel_block_with_partial_rotary() {
    let c = cfg("gpt-j-6b.json");
    assert_eq!(c.norms_per_layer, 1);
    assert_eq!(
        c.positions,
        xpusim_models::Positions::Rotary { percent: 25 }
    );
    assert!(!c.tied_embeddings && !c.qkv_bias && !c.out_bias && c.mlp_bias);
}

/// Parallel blocks end each layer in one residual add of three tensors (`x + attn + mlp`):
/// GPT-J with its shared `ln_1`, GPT-NeoX-20B with `use_parallel_residual` and two norms;
/// a sequential block (Llama) adds twice.
#[test]
fn parallel_residual_families_join_once_per_layer() {
    for (file, parallel, norms) in [
        ("gpt-j-6b.json", true, 1),
        ("phi-2.json", true, 1),
        ("gpt-neox-20b.json", true, 2),
        ("bloom-560m.json", false, 2),
        ("falcon-7b.json", true, 1),
        ("llama-2-7b.json", false, 2),
    ] {
        let m = load(&fixture(file)).unwrap_or_else(|e| panic!("{e}"));
        let g = m
            .config
            .build(&Workload::new(Phase::Train, 1, 16, 0))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let stack = |f: &dyn Fn(&xpusim_ir::Op) -> bool| {
            g.ops
                .iter()
                .filter(|o| o.layer.is_some() && f(o))
                .map(|o| o.repeat)
                .sum::<u64>()
        };
        let layers = stack(&|o| matches!(o.kind, xpusim_ir::OpKind::Attention(_)));
        let adds = stack(&|o| o.role == xpusim_ir::OpRole::Residual);
        let norms_seen = stack(&|o| matches!(o.kind, xpusim_ir::OpKind::Norm { .. }));
        assert_eq!(adds, layers * if parallel { 1 } else { 2 }, "{file}");
        assert_eq!(norms_seen, layers * norms, "{file}");
    }
}

/// The GPT-2-lineage families keep what their modelling code does: Phi-2 rotates 40 % of
/// each head and unties its head; BLOOM has ALiBi (no position table) and a LayerNorm on its
/// embeddings; StarCoder shares one K/V head (multi-query); StarCoder2 groups 24 query heads
/// on 2 K/V heads within a 4096-token window; RoBERTa has one token type; DistilBERT has six
/// layers, no token types and no pooler; MPT has ALiBi and no biases; GPT-Neo's Q/K/V have no
/// bias.
#[test]
fn gpt_lineage_families_keep_their_structure() {
    let phi = cfg("phi-2.json");
    assert_eq!(
        phi.positions,
        xpusim_models::Positions::Rotary { percent: 40 }
    );
    assert!(!phi.tied_embeddings && phi.qkv_bias && !phi.gated_ffn);
    let bloom = cfg("bloom-560m.json");
    assert_eq!(bloom.positions, xpusim_models::Positions::None);
    assert!(bloom.embedding_norm && bloom.tied_embeddings && bloom.intermediate == 4096);
    let starcoder = cfg("starcoder.json");
    assert_eq!((starcoder.heads, starcoder.kv_heads), (48, 1));
    let sc2 = cfg("starcoder2-3b.json");
    assert_eq!((sc2.heads, sc2.kv_heads), (24, 2));
    assert_eq!(sc2.sliding_window, Some(4096));
    assert!(!sc2.gated_ffn && sc2.mlp_bias);
    let roberta = cfg("roberta-base.json");
    assert_eq!(roberta.type_vocab, 1);
    assert!(roberta.pooler);
    let distil = cfg("distilbert-base-uncased.json");
    assert_eq!((distil.layers, distil.type_vocab), (6, 0));
    assert!(!distil.pooler);
    let mpt = cfg("mpt-7b.json");
    assert_eq!(mpt.positions, xpusim_models::Positions::None);
    assert!(!mpt.qkv_bias && !mpt.mlp_bias && mpt.intermediate == 4 * 4096);
    let neo = cfg("gpt-neo-2.7B.json");
    assert!(!neo.qkv_bias && neo.out_bias && neo.tied_embeddings);
}

/// The Llama-field variants keep what their modelling code does: StableLM's LayerNorm with
/// bias, quarter rotary and Q/K/V-only biases; Command-R's parallel block on one bias-free
/// LayerNorm with a tied head; OLMo's parameter-free norm as a scale-only LayerNorm; Granite
/// and OLMo 2 as Llama; InternLM2's `bias` on Q/K/V and output.
#[test]
fn llama_variants_keep_their_structure() {
    use xpusim_models::{NormStyle, Positions};
    let stablelm = cfg("stablelm-2-1_6b.json");
    assert_eq!(stablelm.norm, NormStyle::LayerNorm { bias: true });
    assert_eq!(stablelm.positions, Positions::Rotary { percent: 25 });
    assert!(stablelm.qkv_bias && !stablelm.out_bias && stablelm.gated_ffn);
    assert_eq!(stablelm.norms_per_layer, 2);
    let parallel = cfg_edited(
        "stablelm-2-1_6b.json",
        "\"use_parallel_residual\": false",
        "\"use_parallel_residual\": true",
    );
    assert_eq!(parallel.norms_per_layer, 1);
    let cohere = cfg("command-r-v01.json");
    assert_eq!(cohere.norm, NormStyle::LayerNorm { bias: false });
    assert_eq!(cohere.norms_per_layer, 1);
    assert!(cohere.tied_embeddings && cohere.gated_ffn);
    let olmo = cfg("olmo-7b.json");
    assert_eq!(olmo.norm, NormStyle::LayerNorm { bias: false });
    for file in [
        "olmo-2-1124-7b.json",
        "granite-3.0-8b.json",
        "internlm2-7b.json",
    ] {
        let c = cfg(file);
        assert_eq!(c.norm, NormStyle::RmsNorm, "{file}");
        assert_eq!(c.norms_per_layer, 2, "{file}");
        assert!(!c.qkv_bias && c.gated_ffn, "{file}");
    }
    assert!(cfg("granite-3.0-8b.json").tied_embeddings);
    assert_eq!(cfg("internlm2-7b.json").kv_heads, 8);
    let biased = cfg_edited("internlm2-7b.json", "\"bias\": false", "\"bias\": true");
    assert!(biased.qkv_bias && biased.out_bias && !biased.mlp_bias);
}
