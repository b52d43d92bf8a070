//! Decoders of the GPT-2 lineage that keep LayerNorm and a plain (ungated) MLP: Phi-1/1.5/2,
//! BLOOM, GPT-BigCode (SantaCoder, StarCoder), StarCoder2, GPT-Neo and MPT. Each follows its
//! `transformers` modelling code; what decides cost is written beside each field.

use xpusim_models::{Activation, NormStyle, Positions, TransformerConfig};

use crate::dense::{activation, check_rope_scaling, gpt2, rotary_percent};
use crate::fields::Fields;
use crate::HfError;

/// Phi-1, Phi-1.5 and Phi-2 (HF `PhiForCausalLM`): a parallel block, as GPT-J's: one
/// LayerNorm (`input_layernorm`) feeds attention and MLP and one add joins them
/// (`attn_outputs + feed_forward_hidden_states + residual` in `PhiDecoderLayer`); rotary on
/// `partial_rotary_factor` of each head (`PhiConfig` default 0.5); Q/K/V, output and both
/// MLP projections with biases; an untied LM head. Its bias (`vocab_size` values) is not
/// counted, nor are the optional `qk_layernorm` norms (Phi-2 has none).
pub(crate) fn phi(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    check_rope_scaling(f)?;
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let percent = rotary_percent(f, "partial_rotary_factor")?.unwrap_or(50);
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["hidden_act"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], false)?,
        positions: Positions::Rotary { percent },
        norm: NormStyle::LayerNorm { bias: true },
        norms_per_layer: 1,
        qkv_bias: true,
        out_bias: true,
        mlp_bias: true,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_hidden_layers"])?,
            heads,
            f.opt(&["num_key_value_heads"], heads)?,
            f.req_pos(&["intermediate_size"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// BLOOM (BigScience 2022; HF `BloomForCausalLM`): ALiBi instead of position embeddings
/// (no position table, its bias computed in the attention), a LayerNorm on the word
/// embeddings (`word_embeddings_layernorm`), a 4h GELU MLP, biases throughout and an LM head
/// tied to the embeddings. `apply_residual_connection_post_layernorm` moves where the
/// residual is taken, not what is computed. The width is `hidden_size` (or the older
/// `n_embed`), the heads `n_head` (or `num_attention_heads`), as `BloomConfig` reads them.
pub(crate) fn bloom(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["hidden_size", "n_embed"])?;
    let heads = f.req_pos(&["n_head", "num_attention_heads"])?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: Activation::Gelu,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: Positions::None,
        norm: NormStyle::LayerNorm { bias: true },
        embedding_norm: true,
        qkv_bias: true,
        out_bias: true,
        mlp_bias: true,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["n_layer", "num_hidden_layers"])?,
            heads,
            heads,
            4 * hidden,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// GPT-BigCode (SantaCoder, StarCoder; Li et al. 2023; HF `GPTBigCodeForCausalLM`): GPT-2's
/// fields and block with multi-query attention (`multi_query`, default true: one K/V head
/// shared by every query head) and an LM head tied to the embeddings.
pub(crate) fn gpt_bigcode(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let base = gpt2(f, name)?;
    let kv_heads = if f.flag(&["multi_query"], true)? {
        1
    } else {
        base.heads
    };
    Ok(TransformerConfig { kv_heads, ..base })
}

/// StarCoder2 (Lozhkov et al. 2024; HF `Starcoder2ForCausalLM`): Llama's field names and
/// grouped-query attention with full rotary, but LayerNorm with bias (`norm_type`), a plain
/// `c_fc`/`c_proj` MLP with GELU, biases on every projection when `use_bias` (default true),
/// a sliding window, and an LM head tied to the embeddings (`Starcoder2Config` default).
pub(crate) fn starcoder2(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    check_rope_scaling(f)?;
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let bias = f.flag(&["use_bias"], true)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["hidden_act"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        norm: NormStyle::LayerNorm { bias: true },
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: bias,
        sliding_window: f.maybe(&["sliding_window"])?,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_hidden_layers"])?,
            heads,
            f.opt(&["num_key_value_heads"], heads)?,
            f.req_pos(&["intermediate_size"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// GPT-Neo (Black et al. 2021; HF `GPTNeoForCausalLM`): GPT-2's block with learned positions,
/// LayerNorm with bias, a GELU MLP (`intermediate_size`, default 4h) with biases, Q/K/V
/// without bias and an output projection with one, and a tied LM head. Its `local` layers
/// attend within `window_size` tokens; they are costed as global attention, an upper bound
/// (as Gemma-2's alternating layers are).
pub(crate) fn gpt_neo(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["hidden_size"])?;
    let heads = f.req_pos(&["num_heads", "num_attention_heads"])?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["activation_function"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        positions: Positions::Learned {
            max_positions: f.opt(&["max_position_embeddings"], 2048)?,
        },
        norm: NormStyle::LayerNorm { bias: true },
        qkv_bias: false,
        out_bias: true,
        mlp_bias: true,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["num_layers", "num_hidden_layers"])?,
            heads,
            heads,
            f.opt(&["intermediate_size"], 4 * hidden)?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// MPT (MosaicML 2023; HF `MptForCausalLM`): `d_model`, `n_heads`, `n_layers` and an MLP of
/// `expansion_ratio` × `d_model` (default 4) with GELU; no biases and bias-free LayerNorm
/// when `no_bias` (default true); ALiBi (`attn_config.alibi`) or else a learned position
/// table of `max_seq_len` rows; grouped K/V heads when `attn_config.kv_n_heads` is given;
/// the LM head is the embedding table.
pub(crate) fn mpt(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let hidden = f.req_pos(&["d_model"])?;
    let heads = f.req_pos(&["n_heads"])?;
    let attn = f.object("attn_config")?;
    let alibi = match &attn {
        Some(a) => a.flag(&["alibi"], false)?,
        None => false,
    };
    let kv_heads = match &attn {
        Some(a) => a.opt(&["kv_n_heads"], heads)?,
        None => heads,
    };
    let bias = !f.flag(&["no_bias"], true)?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: Activation::Gelu,
        tied_embeddings: true,
        positions: if alibi {
            Positions::None
        } else {
            Positions::Learned {
                max_positions: f.opt(&["max_seq_len"], 2048)?,
            }
        },
        norm: NormStyle::LayerNorm { bias },
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: bias,
        ..TransformerConfig::decoder(
            name,
            hidden,
            f.req_pos(&["n_layers"])?,
            heads,
            kv_heads,
            f.opt(&["expansion_ratio"], 4)? * hidden,
            f.req_pos(&["vocab_size"])?,
        )
    })
}
