//! One general transformer builder: decoder-only, encoder-only and encoder–decoder stacks,
//! dense or mixture-of-experts FFNs, MHA/GQA/MQA or multi-head latent attention (MLA), and
//! hybrid stacks whose layers mix attention with Mamba / Mamba-2 mixers.
//!
//! [`TransformerConfig`] is deliberately close to a Hugging Face `config.json`: every field
//! maps to one or two HF keys, so an importer only renames and fills defaults.

use serde::{Deserialize, Serialize};

use xpusim_ir::{Graph, Phase};

use crate::ssm::SsmConfig;
use crate::{ModelError, Workload};

/// Largest layer count a config may have.
pub const MAX_LAYERS: u64 = 1 << 16;
/// Largest value of any other size field (hidden, heads, vocab, experts, ...): 2^24 keeps
/// every product of two fields and a token count inside the IR's checked range.
pub const MAX_DIM: u64 = 1 << 24;

/// Which stacks the model has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Arch {
    /// Causal decoder (GPT, Llama, Mixtral, Mamba, Jamba). `layers` is the decoder depth.
    DecoderOnly,
    /// Bidirectional encoder (BERT, ViT). `layers` is the encoder depth.
    EncoderOnly,
    /// Encoder plus a decoder with cross-attention (T5). `layers` is the decoder depth.
    EncoderDecoder { encoder_layers: u64 },
}

/// FFN / MLP non-linearity. FLOPs per element follow the usual counts (one per add,
/// multiply or transcendental).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    /// Exact (erf) or tanh-approximated GELU.
    Gelu,
    /// SiLU / swish (SwiGLU when gated).
    Silu,
}

impl Activation {
    pub fn flops_per_elem(self) -> u64 {
        match self {
            Activation::Relu => 1,
            // tanh approximation: x·0.5·(1+tanh(√(2/π)(x+0.044715x³))) ≈ 8.
            Activation::Gelu => 8,
            // x·σ(x): neg, exp, add, div, mul ≈ 5 (4 for σ + 1).
            Activation::Silu => 5,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
        }
    }
}

/// Normalisation layer kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormStyle {
    /// LayerNorm with a learned scale; `bias` adds the learned shift (β).
    LayerNorm { bias: bool },
    /// RMSNorm (scale only).
    RmsNorm,
}

/// How positions enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Positions {
    /// A learned `[max_positions, hidden]` table (GPT-2, BERT, OPT, ViT).
    Learned { max_positions: u64 },
    /// Rotary embeddings applied to Q and K (Llama, GPT-NeoX, Falcon); `fraction` of each
    /// head dimension rotated, in percent (100 for Llama, 25 for GPT-NeoX).
    Rotary { percent: u64 },
    /// T5 relative-position buckets: a `[buckets, heads]` bias per stack.
    RelativeBuckets { buckets: u64 },
    /// ALiBi or no positional parameters at all (Mamba).
    None,
}

/// Mixture-of-experts FFN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoeConfig {
    /// Routed experts per MoE layer.
    pub experts: u64,
    /// Experts each token is routed to.
    pub top_k: u64,
    /// Intermediate size of one routed expert.
    pub expert_intermediate: u64,
    /// Total intermediate width of the always-on shared expert(s) (0 = none). DeepSeek:
    /// `n_shared_experts · moe_intermediate_size`; Qwen-MoE: `shared_expert_intermediate_size`.
    pub shared_intermediate: u64,
    /// Qwen-MoE gates the shared expert with a learned `[hidden, 1]` sigmoid.
    pub shared_gate: bool,
    /// The first `first_dense_layers` layers use a dense FFN (DeepSeek `first_k_dense_replace`).
    pub first_dense_layers: u64,
    /// Of the remaining layers, every `layer_period`-th (starting at `layer_offset`) is MoE;
    /// the others are dense (Jamba `expert_layer_period/offset`; 1/0 for all-MoE models).
    pub layer_period: u64,
    pub layer_offset: u64,
}

/// DeepSeek multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlaConfig {
    /// Low-rank query compression (None: a plain `[hidden, heads·qk_head_dim]` projection).
    pub q_lora_rank: Option<u64>,
    pub kv_lora_rank: u64,
    pub qk_nope_head_dim: u64,
    pub qk_rope_head_dim: u64,
    pub v_head_dim: u64,
}

/// The token mixer of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mixer {
    Attention,
    /// Mamba-1 selective-scan block (Gu & Dao 2023).
    Mamba,
    /// Mamba-2 SSD block (Dao & Gu 2024).
    Mamba2,
}

/// The channel mixer of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FfnKind {
    Dense,
    Moe,
    /// No FFN (pure Mamba blocks).
    None,
}

/// What one layer contains; layers with equal kinds are emitted once with `Op::times`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerKind {
    pub mixer: Mixer,
    pub ffn: FfnKind,
}

/// Vision front end (ViT): a `patch × patch` stride-`patch` convolution turns an image into
/// tokens, plus an optional class token; a linear classifier reads the class token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisionConfig {
    pub image_size: u64,
    pub patch_size: u64,
    pub channels: u64,
    pub num_classes: u64,
    pub class_token: bool,
}

/// A general transformer (or hybrid) description. Field names follow Hugging Face
/// `config.json` where one exists (noted per field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    pub name: String,
    pub arch: Arch,
    /// `hidden_size` / `d_model` / `n_embd`.
    pub hidden: u64,
    /// `num_hidden_layers` / `n_layer` (decoder depth for encoder–decoder).
    pub layers: u64,
    /// `num_attention_heads`.
    pub heads: u64,
    /// `num_key_value_heads` (= heads for MHA, 1 for MQA).
    pub kv_heads: u64,
    /// `head_dim` (usually hidden / heads).
    pub head_dim: u64,
    /// `intermediate_size` / `d_ff` / `ffn_dim` of the dense FFN.
    pub intermediate: u64,
    /// Gated FFN (SwiGLU / GeGLU: gate and up projections, then down).
    pub gated_ffn: bool,
    pub activation: Activation,
    /// `vocab_size` (0: no token embedding, e.g. ViT).
    pub vocab: u64,
    /// `tie_word_embeddings`: the LM head reuses the embedding table.
    pub tied_embeddings: bool,
    /// Emit an LM head / classifier over the vocabulary (false for bare encoders).
    pub lm_head: bool,
    pub positions: Positions,
    pub norm: NormStyle,
    /// Norm layers per block: 2 (pre-LN or post-LN), 1 (parallel block: attention and FFN
    /// read one shared norm and join the residual stream in one add, PaLM, GPT-J,
    /// Falcon-7B), 4 (Gemma-2 pre+post norms).
    pub norms_per_layer: u64,
    /// `use_parallel_residual` (GPT-NeoX, Pythia) / Falcon's `new_decoder_architecture`:
    /// attention and FFN each read their own norm of the block input and one add joins
    /// both, `x + Attn(LN₁(x)) + FFN(LN₂(x))`. A shared norm (`norms_per_layer = 1`) is
    /// always parallel.
    #[serde(default)]
    pub parallel_residual: bool,
    /// Final norm after the stack (pre-LN models).
    pub final_norm: bool,
    /// LayerNorm over the embeddings (BERT, BLOOM).
    pub embedding_norm: bool,
    /// Bias on the Q/K/V projections (`attention_bias`, `qkv_bias`).
    pub qkv_bias: bool,
    /// Bias on the attention output projection.
    pub out_bias: bool,
    /// Biases on the FFN projections (`mlp_bias`).
    pub mlp_bias: bool,
    /// BERT token-type table rows (`type_vocab_size`; 0 = none).
    pub type_vocab: u64,
    /// BERT pooler: `[hidden, hidden]` dense + bias on the first token.
    pub pooler: bool,
    pub moe: Option<MoeConfig>,
    pub mla: Option<MlaConfig>,
    /// SSM parameters for Mamba / Mamba-2 layers.
    pub ssm: Option<SsmConfig>,
    /// Explicit per-layer kinds (hybrids). `None`: every layer is attention, with the FFN
    /// kind derived from `moe`.
    pub layer_kinds: Option<Vec<LayerKind>>,
    pub vision: Option<VisionConfig>,
    /// `sliding_window`: every attention layer sees at most this many past positions
    /// (Mistral-7B v0.1, Phi-3). Decode reads a rolling cache of this length; prefill is
    /// costed with full causal attention (an upper bound for prompts longer than the window).
    pub sliding_window: Option<u64>,
}

impl TransformerConfig {
    /// A dense pre-norm decoder (Llama-style defaults: RMSNorm, SwiGLU, rotary, no biases,
    /// untied embeddings); adjust fields for other families.
    #[allow(clippy::too_many_arguments)]
    pub fn decoder(
        name: &str,
        hidden: u64,
        layers: u64,
        heads: u64,
        kv_heads: u64,
        intermediate: u64,
        vocab: u64,
    ) -> TransformerConfig {
        TransformerConfig {
            name: name.to_string(),
            arch: Arch::DecoderOnly,
            hidden,
            layers,
            heads,
            kv_heads,
            head_dim: hidden.checked_div(heads).unwrap_or(0),
            intermediate,
            gated_ffn: true,
            activation: Activation::Silu,
            vocab,
            tied_embeddings: false,
            lm_head: true,
            positions: Positions::Rotary { percent: 100 },
            norm: NormStyle::RmsNorm,
            norms_per_layer: 2,
            parallel_residual: false,
            final_norm: true,
            embedding_norm: false,
            qkv_bias: false,
            out_bias: false,
            mlp_bias: false,
            type_vocab: 0,
            pooler: false,
            moe: None,
            mla: None,
            ssm: None,
            layer_kinds: None,
            vision: None,
            sliding_window: None,
        }
    }

    /// A BERT-style encoder (Devlin et al. 2019): post-LN blocks with biases, a LayerNorm on
    /// the embeddings, GELU, 512 learned positions, two token types and a pooler, no final
    /// norm or LM head; adjust fields for other encoders (RoBERTa, DistilBERT).
    pub fn encoder(
        name: &str,
        hidden: u64,
        layers: u64,
        heads: u64,
        intermediate: u64,
        vocab: u64,
    ) -> TransformerConfig {
        TransformerConfig {
            arch: Arch::EncoderOnly,
            gated_ffn: false,
            activation: Activation::Gelu,
            lm_head: false,
            positions: Positions::Learned { max_positions: 512 },
            norm: NormStyle::LayerNorm { bias: true },
            final_norm: false,
            embedding_norm: true,
            qkv_bias: true,
            out_bias: true,
            mlp_bias: true,
            type_vocab: 2,
            pooler: true,
            ..TransformerConfig::decoder(name, hidden, layers, heads, heads, intermediate, vocab)
        }
    }

    /// The phases this architecture can be lowered for: its inference phases, then
    /// [`Phase::Train`] (every architecture trains; it is last so the first phase stays the
    /// default).
    pub fn phases(&self) -> &'static [Phase] {
        match self.arch {
            Arch::EncoderOnly => &[Phase::Inference, Phase::Train],
            _ => &[Phase::Prefill, Phase::Decode, Phase::Train],
        }
    }

    /// The kind of every decoder (or encoder) layer, in order.
    pub fn layer_kinds(&self) -> Vec<LayerKind> {
        if let Some(k) = &self.layer_kinds {
            return k.clone();
        }
        (0..self.layers)
            .map(|i| LayerKind {
                mixer: Mixer::Attention,
                ffn: self.ffn_kind_at(i),
            })
            .collect()
    }

    /// FFN kind of layer `i` from the MoE placement rules (dense without MoE).
    pub fn ffn_kind_at(&self, i: u64) -> FfnKind {
        match &self.moe {
            None => FfnKind::Dense,
            Some(m) if i < m.first_dense_layers => FfnKind::Dense,
            Some(m) => {
                let j = i - m.first_dense_layers;
                if m.layer_period <= 1 || j % m.layer_period == m.layer_offset {
                    FfnKind::Moe
                } else {
                    FfnKind::Dense
                }
            }
        }
    }

    /// Layer kinds with their counts, in order of first appearance.
    pub fn layer_groups(&self) -> Vec<(LayerKind, u64)> {
        let mut groups: Vec<(LayerKind, u64)> = Vec::new();
        for k in self.layer_kinds() {
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, n)) => *n += 1,
                None => groups.push((k, 1)),
            }
        }
        groups
    }

    /// Query/key head width and value head width (MLA splits them).
    pub fn qk_v_head_dims(&self) -> (u64, u64) {
        match &self.mla {
            Some(m) => (m.qk_nope_head_dim + m.qk_rope_head_dim, m.v_head_dim),
            None => (self.head_dim, self.head_dim),
        }
    }

    /// Every size field with its name (for range checks).
    fn dims(&self) -> Vec<(&'static str, u64)> {
        let mut d = vec![
            ("hidden", self.hidden),
            ("heads", self.heads),
            ("kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("intermediate", self.intermediate),
            ("vocab", self.vocab),
            ("type_vocab", self.type_vocab),
        ];
        if let Positions::Learned { max_positions } = self.positions {
            d.push(("max_positions", max_positions));
        }
        if let Positions::RelativeBuckets { buckets } = self.positions {
            d.push(("buckets", buckets));
        }
        if let Some(m) = &self.moe {
            d.extend([
                ("experts", m.experts),
                ("top_k", m.top_k),
                ("expert_intermediate", m.expert_intermediate),
                ("shared_intermediate", m.shared_intermediate),
            ]);
        }
        if let Some(m) = &self.mla {
            d.extend([
                ("q_lora_rank", m.q_lora_rank.unwrap_or(0)),
                ("kv_lora_rank", m.kv_lora_rank),
                ("qk_nope_head_dim", m.qk_nope_head_dim),
                ("qk_rope_head_dim", m.qk_rope_head_dim),
                ("v_head_dim", m.v_head_dim),
            ]);
        }
        if let Some(s) = &self.ssm {
            d.extend([
                ("d_state", s.d_state),
                ("d_conv", s.d_conv),
                ("expand", s.expand),
                ("dt_rank", s.dt_rank),
                ("ssm head_dim", s.head_dim),
                ("n_groups", s.n_groups),
            ]);
        }
        if let Some(v) = &self.vision {
            d.extend([
                ("image_size", v.image_size),
                ("patch_size", v.patch_size),
                ("channels", v.channels),
                ("num_classes", v.num_classes),
            ]);
        }
        d
    }

    /// Structural checks with a message naming the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |msg: String| {
            Err(ModelError::InvalidConfig {
                model: self.name.clone(),
                msg,
            })
        };
        if self.hidden == 0 || self.layers == 0 {
            return bad("hidden size and layer count must be at least 1".into());
        }
        if self.layers > MAX_LAYERS {
            return bad(format!(
                "{} layers exceed the {MAX_LAYERS}-layer limit",
                self.layers
            ));
        }
        if let Arch::EncoderDecoder { encoder_layers } = self.arch {
            if encoder_layers == 0 || encoder_layers > MAX_LAYERS {
                return bad(format!(
                    "encoder_layers must be in 1..={MAX_LAYERS}, got {encoder_layers}"
                ));
            }
        }
        let positive = |what: &str, vals: &[(&str, u64)]| -> Result<(), ModelError> {
            match vals.iter().find(|(_, v)| *v == 0) {
                Some((f, _)) => bad(format!("{what} {f} must be at least 1")),
                None => Ok(()),
            }
        };
        if let Some(s) = &self.ssm {
            positive(
                "ssm",
                &[
                    ("d_state", s.d_state),
                    ("d_conv", s.d_conv),
                    ("expand", s.expand),
                    ("dt_rank", s.dt_rank),
                    ("head_dim", s.head_dim),
                    ("n_groups", s.n_groups),
                ],
            )?;
        }
        if let Some(m) = &self.moe {
            positive(
                "moe",
                &[
                    ("experts", m.experts),
                    ("expert_intermediate", m.expert_intermediate),
                ],
            )?;
        }
        if let Some(m) = &self.mla {
            positive(
                "mla",
                &[
                    ("q_lora_rank", m.q_lora_rank.unwrap_or(1)),
                    ("kv_lora_rank", m.kv_lora_rank),
                    ("qk_rope_head_dim", m.qk_rope_head_dim),
                    ("v_head_dim", m.v_head_dim),
                ],
            )?;
        }
        if let Some(v) = &self.vision {
            positive(
                "vision",
                &[
                    ("image_size", v.image_size),
                    ("patch_size", v.patch_size),
                    ("channels", v.channels),
                    ("num_classes", v.num_classes),
                ],
            )?;
        }
        if let Positions::Learned { max_positions: 0 } = self.positions {
            return bad("max_positions must be at least 1".into());
        }
        for (field, v) in self.dims() {
            if v > MAX_DIM {
                return bad(format!(
                    "{field} = {v} exceeds the {MAX_DIM} limit on a model dimension"
                ));
            }
        }
        let kinds = self.layer_kinds();
        if kinds.len() as u64 != self.layers {
            return bad(format!(
                "layer_kinds lists {} layers but layers = {}",
                kinds.len(),
                self.layers
            ));
        }
        let any = |m: Mixer| kinds.iter().any(|k| k.mixer == m);
        if any(Mixer::Attention) || matches!(self.arch, Arch::EncoderDecoder { .. }) {
            if self.heads == 0 || self.kv_heads == 0 || self.head_dim == 0 {
                return bad("heads, kv_heads and head_dim must be at least 1".into());
            }
            if self.heads % self.kv_heads != 0 {
                return bad(format!(
                    "heads ({}) must be a multiple of kv_heads ({})",
                    self.heads, self.kv_heads
                ));
            }
        }
        if (any(Mixer::Mamba) || any(Mixer::Mamba2)) && self.ssm.is_none() {
            return bad("Mamba layers need ssm parameters".into());
        }
        if kinds.iter().any(|k| k.ffn == FfnKind::Moe) {
            match &self.moe {
                None => return bad("MoE layers need moe parameters".into()),
                Some(m) if m.top_k == 0 || m.top_k > m.experts => {
                    return bad(format!(
                        "top_k ({}) must be in 1..=experts ({})",
                        m.top_k, m.experts
                    ))
                }
                _ => {}
            }
        }
        if kinds.iter().any(|k| k.ffn == FfnKind::Dense) && self.intermediate == 0 {
            return bad("dense FFN layers need intermediate > 0".into());
        }
        if self.lm_head && self.vocab == 0 && self.vision.is_none() {
            return bad("an LM head needs vocab > 0".into());
        }
        Ok(())
    }

    /// Lowers the model for workload `w`.
    pub fn build(&self, w: &Workload) -> Result<Graph, ModelError> {
        self.validate()?;
        if !self.phases().contains(&w.phase) {
            return Err(ModelError::UnsupportedPhase {
                model: self.name.clone(),
                phase: w.phase.name().to_string(),
                supported: self.phases().iter().map(|p| p.name().to_string()).collect(),
            });
        }
        crate::check_workload(&self.name, w)?;
        crate::blocks::build_transformer(self, w)
    }
}
