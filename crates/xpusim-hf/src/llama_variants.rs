//! Decoders under Llama's field names whose block differs from Llama's in what it costs:
//! StableLM (LayerNorm with bias, partial rotary), Cohere's Command-R (a parallel block on
//! one bias-free LayerNorm) and OLMo (a LayerNorm without parameters). Granite, OLMo 2 and
//! InternLM2 cost as Llama does and are read by [`crate::dense::llama_like`]. Each follows
//! its `transformers` modelling code (InternLM2 its remote code); what decides cost is
//! written beside each field.

use xpusim_models::{NormStyle, Positions, TransformerConfig};

use crate::dense::{llama_like, rotary_percent};
use crate::fields::Fields;
use crate::HfError;

/// StableLM (Stability AI; HF `StableLmForCausalLM`): Llama's gated MLP and field names, but
/// LayerNorm with bias (`StableLmDecoderLayer`'s `nn.LayerNorm`), rotary on
/// `partial_rotary_factor` of each head (`StableLmConfig` default 0.25), Q/K/V biases when
/// `use_qkv_bias` (default false) and none on the output projection, and an untied LM head.
/// With `use_parallel_residual` (default false) attention and MLP read the one
/// `input_layernorm` and join the residual in one add (the layer then has no
/// `post_attention_layernorm`). The optional per-head `qk_layernorm` norms (StableLM 2 12B)
/// are not counted.
pub(crate) fn stablelm(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let base = llama_like(f, name, "stablelm")?;
    let parallel = f.flag(&["use_parallel_residual"], false)?;
    Ok(TransformerConfig {
        norm: NormStyle::LayerNorm { bias: true },
        positions: Positions::Rotary {
            percent: rotary_percent(f, "partial_rotary_factor")?.unwrap_or(25),
        },
        qkv_bias: f.flag(&["use_qkv_bias"], false)?,
        out_bias: false,
        norms_per_layer: if parallel { 1 } else { base.norms_per_layer },
        ..base
    })
}

/// Cohere's Command-R (HF `CohereForCausalLM`): Llama's gated MLP and field names in a
/// parallel block, `x + Attn(LN(x)) + MLP(LN(x))` on one `CohereLayerNorm` (a scale, no
/// bias), and an LM head tied to the embeddings (`CohereConfig` default). `logit_scale`
/// multiplies the logits (no cost); the optional `use_qk_norm` norms (Command R+) are not
/// counted.
pub(crate) fn cohere(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let base = llama_like(f, name, "cohere")?;
    Ok(TransformerConfig {
        norm: NormStyle::LayerNorm { bias: false },
        norms_per_layer: 1,
        tied_embeddings: f.flag(&["tie_word_embeddings"], true)?,
        ..base
    })
}

/// OLMo (Groeneveld et al. 2024; HF `OlmoForCausalLM`): Llama's block with `OlmoLayerNorm`,
/// a LayerNorm without learned parameters, costed as a scale-only LayerNorm: the count
/// includes a scale OLMo does not have (65 norms × 4096 values in OLMo-7B, 0.004 %).
/// `clip_qkv` clamps Q/K/V (no matmul cost).
pub(crate) fn olmo(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let base = llama_like(f, name, "olmo")?;
    Ok(TransformerConfig {
        norm: NormStyle::LayerNorm { bias: false },
        ..base
    })
}
