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
    Ok(TransformerConfig {
        positions: Positions::Rotary {
            percent: rotary_percent(f, "partial_rotary_factor")?.unwrap_or(50),
        },
        norms_per_layer: 1,
        ..layer_norm_decoder(f, name, false, true)?
    })
}

/// BLOOM (BigScience 2022; HF `BloomForCausalLM`): ALiBi instead of position embeddings
/// (no position table, its bias computed in the attention), a LayerNorm on the word
/// embeddings (`word_embeddings_layernorm`), a 4h GELU MLP, biases throughout and an LM head
/// tied to the embeddings: GPT-2's block, under the field names [`gpt2`] reads (`n_layer`,
/// `n_head` or `num_attention_heads`, `hidden_size` or the older `n_embed`, `n_inner` null
/// for 4h). `apply_residual_connection_post_layernorm` moves where the residual is taken,
/// not what is computed.
pub(crate) fn bloom(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    Ok(TransformerConfig {
        positions: Positions::None,
        embedding_norm: true,
        ..gpt2(f, name)?
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
    Ok(TransformerConfig {
        sliding_window: f.maybe(&["sliding_window"])?,
        ..layer_norm_decoder(f, name, true, f.flag(&["use_bias"], true)?)?
    })
}

/// A decoder under Llama's field names (`hidden_size`, `num_attention_heads`,
/// `num_key_value_heads`, `intermediate_size`) with GPT-2's LayerNorm with bias and a plain
/// `hidden_act` MLP (default GELU), full rotary, biases on every projection when `bias`, and
/// an LM head tied unless `tie_word_embeddings` says otherwise (default `tied`): what Phi
/// and StarCoder2 share.
fn layer_norm_decoder(
    f: &Fields<'_>,
    name: &str,
    tied: bool,
    bias: bool,
) -> Result<TransformerConfig, HfError> {
    check_rope_scaling(f)?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    Ok(TransformerConfig {
        gated_ffn: false,
        activation: activation(f, &["hidden_act"], Activation::Gelu)?,
        tied_embeddings: f.flag(&["tie_word_embeddings"], tied)?,
        norm: NormStyle::LayerNorm { bias: true },
        qkv_bias: bias,
        out_bias: bias,
        mlp_bias: bias,
        ..TransformerConfig::decoder(
            name,
            f.req_pos(&["hidden_size"])?,
            f.req_pos(&["num_hidden_layers"])?,
            heads,
            f.opt(&["num_key_value_heads"], heads)?,
            f.req_pos(&["intermediate_size"])?,
            f.req_pos(&["vocab_size"])?,
        )
    })
}

/// GPT-Neo (Black et al. 2021; HF `GPTNeoForCausalLM`): GPT-2's block, fields and tied head
/// (read under GPT-Neo's names by [`gpt2`]), with Q/K/V projections without bias. Its
/// `local` layers attend within `window_size` tokens; they are costed as global attention,
/// an upper bound (as Gemma-2's alternating layers are).
pub(crate) fn gpt_neo(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    Ok(TransformerConfig {
        qkv_bias: false,
        ..gpt2(f, name)?
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
