//! Dense families: Llama-like decoders (llama, mistral, qwen2/3, phi3, gemma/gemma2),
//! GPT-2, GPT-J, GPT-NeoX, Falcon, OPT, BERT (and the RoBERTa family) and T5.

use xpusim_models::{Activation, Arch, NormStyle, Positions, TransformerConfig};

use crate::fields::Fields;
use crate::HfError;

/// Maps an HF activation name (`hidden_act`, `activation_function`, ...).
pub(crate) fn activation(
    f: &Fields<'_>,
    keys: &[&str],
    default: Activation,
) -> Result<Activation, HfError> {
    let Some(name) = f.string(keys)? else {
        return Ok(default);
    };
    let n = name.to_ascii_lowercase();
    if n == "silu" || n == "swish" {
        Ok(Activation::Silu)
    } else if n.contains("gelu") {
        Ok(Activation::Gelu)
    } else if n == "relu" || n == "relu2" {
        Ok(Activation::Relu)
    } else {
        Err(f.err(
            keys[0],
            format!("has unsupported activation `{name}` (expected silu, gelu*, relu)"),
        ))
    }
}

/// Rejects a malformed `rope_scaling` (an object or null); its factors do not change cost.
pub(crate) fn check_rope_scaling(f: &Fields<'_>) -> Result<(), HfError> {
    if let Some(r) = f.object("rope_scaling")? {
        r.string(&["rope_type", "type"])?;
    }
    Ok(())
}

/// The share of each head that rotary embedding rotates, in percent, from a fraction field
/// (`partial_rotary_factor`, `rotary_pct`); None when absent.
pub(crate) fn rotary_percent(f: &Fields<'_>, key: &str) -> Result<Option<u64>, HfError> {
    match f.obj.get(key).and_then(|v| v.as_f64()) {
        Some(p) if (0.0..=1.0).contains(&p) => Ok(Some((p * 100.0).round() as u64)),
        Some(p) => Err(f.err(key, format!("must be in [0, 1], got {p}"))),
        None => Ok(None),
    }
}

/// Llama-family decoders: RMSNorm, gated FFN, RoPE.
///
/// Family differences follow the `transformers` modelling code: Qwen2 has Q/K/V biases;
/// Gemma ties embeddings and uses GeGLU with an explicit `head_dim`; Gemma-2 adds post
/// norms (4 per layer); Phi-3 fuses QKV and gate/up (same parameter count). Granite's
/// embedding, residual, attention and logit multipliers are scalar products (no cost);
/// OLMo 2 moves both norms after their sublayer (still two per layer) and adds RMSNorms on
/// the Q and K projections, not counted (2 × 4096 values a layer in the 7B, 0.004 %);
/// InternLM2 (remote code `modeling_internlm2.py`) names its Q/K/V and output bias `bias`.
pub(crate) fn llama_like(
    f: &Fields<'_>,
    name: &str,
    ty: &str,
) -> Result<TransformerConfig, HfError> {
    check_rope_scaling(f)?;
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let gemma = ty.starts_with("gemma");
    let mut c = TransformerConfig::decoder(
        name,
        hidden,
        f.req_pos(&["num_hidden_layers"])?,
        heads,
        f.opt(&["num_key_value_heads"], heads)?,
        f.req_pos(&["intermediate_size"])?,
        f.req_pos(&["vocab_size"])?,
    );
    c.head_dim = f.opt(&["head_dim"], hidden / heads)?;
    c.activation = activation(f, &["hidden_activation", "hidden_act"], Activation::Silu)?;
    c.tied_embeddings = f.flag(&["tie_word_embeddings"], gemma)?;
    let default_bias = ty == "qwen2";
    let bias_keys: &[&str] = if ty == "internlm2" {
        &["bias"]
    } else {
        &["attention_bias", "qkv_bias"]
    };
    c.qkv_bias = f.flag(bias_keys, default_bias)?;
    c.out_bias = ty != "qwen2" && c.qkv_bias;
    c.mlp_bias = f.flag(&["mlp_bias"], false)?;
    if let Some(percent) = rotary_percent(f, "partial_rotary_factor")? {
        c.positions = Positions::Rotary { percent };
    }
    // Qwen2 only slides when `use_sliding_window`; Gemma-2 alternates local and global
    // layers, costed here as all global (upper bound).
    let slides = match ty {
        "qwen2" | "qwen2_moe" | "qwen3" | "qwen3_moe" => f.flag(&["use_sliding_window"], false)?,
        "gemma2" => false,
        _ => true,
    };
    if slides {
        c.sliding_window = f.maybe(&["sliding_window"])?;
    }
    if ty == "gemma2" {
        c.norms_per_layer = 4;
    }
    Ok(c)
}

/// GPT-2 (Radford et al. 2019): learned positions, pre-LN with biases, GELU MLP, tied. The
/// field names of GPT-Neo's config (`num_heads`, `num_layers`, `intermediate_size`,
/// `max_position_embeddings`) are read too, for the families built on it.
pub(crate) fn gpt2(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["n_embd", "hidden_size", "n_embed"])?;
    let heads = f.req_pos(&["n_head", "num_attention_heads", "num_heads"])?;
    let inter = f.opt(&["n_inner", "intermediate_size"], 4 * hidden)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["activation_function"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: Positions::Learned {
            max_positions: f.opt(&["n_positions", "n_ctx", "max_position_embeddings"], 1024)?,
        },
        norm: NormStyle::LayerNorm { bias: true },
        qkv_bias: true,
        out_bias: true,
        mlp_bias: true,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["n_layer", "num_hidden_layers", "num_layers"])?,
            heads,
            heads,
            inter,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// GPT-J (Wang & Komatsuzaki 2021, kingoflolz/mesh-transformer-jax; HF `GPTJForCausalLM`):
/// GPT-2's config fields and GELU MLP with biases, but a parallel block whose attention and
/// MLP read one LayerNorm (`ln_1`) and join the residual stream in one add, rotary embedding
/// on the first `rotary_dim` dimensions of each head (HF default 64) instead of learned
/// positions, Q/K/V and output projections without bias, and an untied LM head. The LM
/// head's bias (`vocab_size` values) is not counted.
pub(crate) fn gptj(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let base = gpt2(f, name)?;
    let rotary = f.opt(&["rotary_dim"], 64)?;
    if rotary > base.head_dim {
        return Err(f.err(
            "rotary_dim",
            format!(
                "is {rotary}, more than the head dimension {} (n_embd / n_head)",
                base.head_dim
            ),
        ));
    }
    Ok(TransformerConfig {
        tied_embeddings: f.flag(&["tie_word_embeddings"], false)?,
        positions: Positions::Rotary {
            percent: (rotary * 100).div_ceil(base.head_dim.max(1)),
        },
        norms_per_layer: 1,
        qkv_bias: false,
        out_bias: false,
        ..base
    })
}

/// GPT-NeoX / Pythia (Black et al. 2022): partial rotary (`rotary_pct`), parallel
/// residual with two LayerNorms (`use_parallel_residual`, default true as in HF's
/// `GPTNeoXConfig`), biases, untied head by default.
pub(crate) fn gpt_neox(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let pct = rotary_percent(f, "rotary_pct")?.unwrap_or(25);
    let bias = f.flag(&["attention_bias"], true)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["hidden_act"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], false)?,
        positions: Positions::Rotary { percent: pct },
        norm: NormStyle::LayerNorm { bias: true },
        parallel_residual: f.flag(&["use_parallel_residual"], true)?,
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: true,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_hidden_layers"])?,
            heads,
            heads,
            f.opt(&["intermediate_size"], 4 * hidden)?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// Falcon (Almazrouei et al. 2023): multi-query (7B) or grouped KV (`new_decoder_architecture`,
/// 40B/180B), parallel attention+MLP sharing one LayerNorm (7B) or two, GELU, tied.
pub(crate) fn falcon(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads", "n_head"])?;
    let new_arch = f.flag(&["new_decoder_architecture"], false)?;
    let kv = if new_arch {
        f.opt(&["num_kv_heads", "n_head_kv"], heads)?
    } else if f.flag(&["multi_query"], true)? {
        1
    } else {
        heads
    };
    let parallel = f.flag(&["parallel_attn"], true)?;
    let bias = f.flag(&["bias"], false)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: Activation::Gelu,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: if f.flag(&["alibi"], false)? {
            Positions::None
        } else {
            Positions::Rotary { percent: 100 }
        },
        norm: NormStyle::LayerNorm { bias: true },
        norms_per_layer: if parallel && !new_arch { 1 } else { 2 },
        // Falcon-40B/180B: `ln_attn` and `ln_mlp` both read the block input
        // (HF `FalconDecoderLayer`, `new_decoder_architecture`).
        parallel_residual: parallel || new_arch,
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: bias,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_hidden_layers", "n_layer"])?,
            heads,
            kv,
            f.opt(&["ffn_hidden_size"], 4 * hidden)?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// OPT (Zhang et al. 2022): learned positions with a 2-row offset, ReLU MLP, biases, tied.
pub(crate) fn opt(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let proj = f.opt(&["word_embed_proj_dim"], hidden)?;
    if proj != hidden {
        return Err(f.err(
            "word_embed_proj_dim",
            format!("({proj}) differs from hidden_size ({hidden}); projected OPT embeddings are not supported"),
        ));
    }
    let bias = f.flag(&["enable_bias"], true)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["activation_function"], Activation::Relu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: Positions::Learned {
            max_positions: f.opt(&["max_position_embeddings"], 2048)? + 2,
        },
        norm: NormStyle::LayerNorm { bias: true },
        final_norm: f.flag(&["do_layer_norm_before"], true)?,
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: bias,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_hidden_layers"])?,
            heads,
            heads,
            f.req_pos(&["ffn_dim"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// BERT (Devlin et al. 2019): post-LN encoder with biases, learned positions, token types
/// and the pooler of `BertModel`.
pub(crate) fn bert(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    Ok(TransformerConfig {
        activation: activation(f, &["hidden_act"], Activation::Gelu)?,
        positions: Positions::Learned {
            max_positions: f.opt(&["max_position_embeddings"], 512)?,
        },
        type_vocab: f.opt(&["type_vocab_size"], 2)?,
        ..TransformerConfig::encoder(
            name,
            f.req_pos(&["hidden_size"])?,
            f.req_pos(&["num_hidden_layers"])?,
            f.req_pos(&["num_attention_heads"])?,
            f.req_pos(&["intermediate_size"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// DistilBERT (Sanh et al. 2019; HF `DistilBertModel`): BERT's post-LN encoder, half as
/// deep, under its own field names (`dim`, `n_layers`, `n_heads`, `hidden_dim`,
/// `activation`), with no token-type table and no pooler; `sinusoidal_pos_embds` replaces
/// the learned position table with fixed sines (no parameters).
pub(crate) fn distilbert(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["dim"])?;
    let heads = f.req_pos(&["n_heads"])?;
    Ok(TransformerConfig {
        type_vocab: 0,
        pooler: false,
        positions: if f.flag(&["sinusoidal_pos_embds"], false)? {
            Positions::None
        } else {
            Positions::Learned {
                max_positions: f.opt(&["max_position_embeddings"], 512)?,
            }
        },
        activation: activation(f, &["activation"], Activation::Gelu)?,
        ..TransformerConfig::encoder(
            name,
            hidden,
            f.req_pos(&["n_layers"])?,
            heads,
            f.req_pos(&["hidden_dim"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// T5 (Raffel et al. 2020): encoder–decoder, RMS LayerNorm without bias, relative position
/// buckets per stack, no biases, ReLU (v1.0) or gated-GELU (v1.1) FFN, shared embeddings.
pub(crate) fn t5(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["d_model"])?;
    let heads = f.req_pos(&["num_heads"])?;
    let layers = f.req_pos(&["num_layers"])?;
    let proj = f.string(&["feed_forward_proj"])?.unwrap_or("relu");
    let gated = proj.starts_with("gated-");
    let act = proj.trim_start_matches("gated-");
    let activation = match act {
        "relu" => Activation::Relu,
        a if a.contains("gelu") => Activation::Gelu,
        "silu" => Activation::Silu,
        other => {
            return Err(f.err(
                "feed_forward_proj",
                format!("has unsupported activation `{other}`"),
            ))
        }
    };
    Ok(TransformerConfig {
        arch: Arch::EncoderDecoder {
            encoder_layers: layers,
        },
        head_dim: f.req_pos(&["d_kv"])?,
        gated_ffn: gated,
        activation,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: Positions::RelativeBuckets {
            buckets: f.opt(&["relative_attention_num_buckets"], 32)?,
        },
        norm: NormStyle::RmsNorm,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.opt(&["num_decoder_layers"], layers)?,
            heads,
            heads,
            f.req_pos(&["d_ff"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}
