//! Sparse and state-space families: Mixtral, Qwen-MoE, DeepSeek-V2/V3 (MLA), Mamba,
//! Mamba-2 and Jamba (attention/Mamba hybrid with MoE).

use xpusim_models::{
    FfnKind, LayerKind, Mixer, MlaConfig, MoeConfig, Positions, SsmConfig, TransformerConfig,
};

use crate::dense::{activation, check_rope_scaling, llama_like};
use crate::fields::Fields;
use crate::HfError;

fn all_moe(experts: u64, top_k: u64, expert_intermediate: u64) -> MoeConfig {
    MoeConfig {
        experts,
        top_k,
        expert_intermediate,
        shared_intermediate: 0,
        shared_gate: false,
        first_dense_layers: 0,
        layer_period: 1,
        layer_offset: 0,
    }
}

/// Mixtral (Jiang et al. 2024): a Mistral decoder whose every FFN is `num_local_experts`
/// SwiGLU experts of `intermediate_size`, top-`num_experts_per_tok` routing.
pub(crate) fn mixtral(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let mut c = llama_like(f, name, "mixtral")?;
    c.moe = Some(all_moe(
        f.req_pos(&["num_local_experts"])?,
        f.req_pos(&["num_experts_per_tok"])?,
        c.intermediate,
    ));
    Ok(c)
}

/// Qwen1.5/2-MoE and Qwen3-MoE: routed experts of `moe_intermediate_size` every
/// `decoder_sparse_step` layers except `mlp_only_layers`; Qwen2-MoE adds a sigmoid-gated
/// shared expert of `shared_expert_intermediate_size`.
pub(crate) fn qwen_moe(f: &Fields<'_>, name: &str, ty: &str) -> Result<TransformerConfig, HfError> {
    let base = if ty == "qwen2_moe" { "qwen2" } else { "qwen3" };
    let mut c = llama_like(f, name, base)?;
    let mut m = all_moe(
        f.req_pos(&["num_experts"])?,
        f.req_pos(&["num_experts_per_tok"])?,
        f.req_pos(&["moe_intermediate_size"])?,
    );
    if ty == "qwen2_moe" {
        m.shared_intermediate = f.opt(&["shared_expert_intermediate_size"], 0)?;
        m.shared_gate = m.shared_intermediate > 0;
    }
    let step = f.opt(&["decoder_sparse_step"], 1)?.max(1);
    let dense_only = f.list("mlp_only_layers")?;
    c.layer_kinds = Some(
        (0..c.layers)
            .map(|i| LayerKind {
                mixer: Mixer::Attention,
                ffn: if !dense_only.contains(&i) && (i + 1) % step == 0 {
                    FfnKind::Moe
                } else {
                    FfnKind::Dense
                },
            })
            .collect(),
    );
    c.moe = Some(m);
    Ok(c)
}

/// DeepSeek-V2 / V3 (arXiv:2405.04434, arXiv:2412.19437): MLA attention, the first
/// `first_k_dense_replace` layers dense, then routed experts every `moe_layer_freq` layers
/// with `n_shared_experts` always-on experts of `moe_intermediate_size`.
pub(crate) fn deepseek(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    check_rope_scaling(f)?;
    let heads = f.req_pos(&["num_attention_heads"])?;
    let mla = MlaConfig {
        q_lora_rank: f.maybe(&["q_lora_rank"])?,
        kv_lora_rank: f.req_pos(&["kv_lora_rank"])?,
        qk_nope_head_dim: f.req_pos(&["qk_nope_head_dim"])?,
        qk_rope_head_dim: f.req_pos(&["qk_rope_head_dim"])?,
        v_head_dim: f.req_pos(&["v_head_dim"])?,
    };
    let mut c = TransformerConfig::decoder(
        name,
        f.req_pos(&["hidden_size"])?,
        f.req_pos(&["num_hidden_layers"])?,
        heads,
        heads,
        f.req_pos(&["intermediate_size"])?,
        f.req_pos(&["vocab_size"])?,
    );
    c.head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    c.activation = activation(f, &["hidden_act"], c.activation)?;
    c.tied_embeddings = f.flag(&["tie_word_embeddings"], false)?;
    c.qkv_bias = f.flag(&["attention_bias"], false)?;
    c.mla = Some(mla);
    let moe_inter = f.req_pos(&["moe_intermediate_size"])?;
    let m = MoeConfig {
        shared_intermediate: f.opt(&["n_shared_experts"], 0)? * moe_inter,
        first_dense_layers: f.opt(&["first_k_dense_replace"], 0)?,
        layer_period: f.opt(&["moe_layer_freq"], 1)?.max(1),
        ..all_moe(
            f.req_pos(&["n_routed_experts"])?,
            f.req_pos(&["num_experts_per_tok"])?,
            moe_inter,
        )
    };
    // DeepSeek's rule: layer i is MoE when i ≥ first_k_dense_replace and i % freq == 0.
    c.layer_kinds = Some(
        (0..c.layers)
            .map(|i| LayerKind {
                mixer: Mixer::Attention,
                ffn: if i >= m.first_dense_layers && i % m.layer_period == 0 {
                    FfnKind::Moe
                } else {
                    FfnKind::Dense
                },
            })
            .collect(),
    );
    c.moe = Some(m);
    Ok(c)
}

/// `time_step_rank`: an integer or `"auto"` (= ⌈hidden / 16⌉, Gu & Dao 2023).
fn dt_rank(f: &Fields<'_>, keys: &[&str], hidden: u64) -> Result<u64, HfError> {
    match f.string(keys) {
        Ok(Some("auto")) | Ok(None) => Ok(hidden.div_ceil(16)),
        Ok(Some(other)) => Err(f.err(
            keys[0],
            format!("must be an integer or \"auto\", got \"{other}\""),
        )),
        Err(_) => f.req_pos(keys),
    }
}

fn ssm_stack(
    name: &str,
    hidden: u64,
    layers: u64,
    vocab: u64,
    mixer: Mixer,
    s: SsmConfig,
) -> TransformerConfig {
    TransformerConfig {
        positions: Positions::None,
        ssm: Some(s),
        layer_kinds: Some(vec![
            LayerKind {
                mixer,
                ffn: FfnKind::None,
            };
            layers as usize
        ]),
        ..TransformerConfig::decoder(name, hidden, layers, 0, 0, 0, vocab)
    }
}

/// Original `state-spaces/mamba-*` configs (no `model_type`): `ssm_cfg.layer` picks Mamba-2.
pub(crate) fn original_mamba_type(f: &Fields<'_>) -> Result<String, HfError> {
    let layer = match f.object("ssm_cfg")? {
        Some(s) => s.string(&["layer"])?.unwrap_or("Mamba1").to_string(),
        None => "Mamba1".to_string(),
    };
    Ok(if layer == "Mamba2" { "mamba2" } else { "mamba" }.to_string())
}

/// Mamba (Gu & Dao 2023) and Mamba-2 (Dao & Gu 2024), from either the `transformers`
/// config (`MambaConfig` / `Mamba2Config`) or the original `state-spaces` format
/// (`d_model`, `n_layer`, `ssm_cfg`, vocabulary padded to `pad_vocab_size_multiple`).
pub(crate) fn mamba(f: &Fields<'_>, name: &str, ty: &str) -> Result<TransformerConfig, HfError> {
    let v2 = ty == "mamba2";
    let original = f.has("ssm_cfg");
    let hidden = f.req_pos(&["hidden_size", "d_model"])?;
    let layers = f.req_pos(&["num_hidden_layers", "n_layer"])?;
    let mut vocab = f.req_pos(&["vocab_size"])?;
    let (s, tie) = if original {
        let pad = f.opt(&["pad_vocab_size_multiple"], 8)?.max(1);
        vocab = vocab.div_ceil(pad) * pad;
        let empty = serde_json::Map::new();
        let cfg = f.object("ssm_cfg")?.unwrap_or(Fields::new(&empty, f.file));
        let s = SsmConfig {
            d_state: cfg.opt(&["d_state"], if v2 { 128 } else { 16 })?,
            d_conv: cfg.opt(&["d_conv"], 4)?,
            expand: cfg.opt(&["expand"], 2)?,
            dt_rank: dt_rank(&cfg, &["dt_rank"], hidden)?,
            head_dim: cfg.opt(&["headdim"], 64)?,
            n_groups: cfg.opt(&["ngroups"], 1)?,
            conv_bias: cfg.flag(&["conv_bias"], true)?,
            proj_bias: cfg.flag(&["bias"], false)?,
            inner_norms: false,
        };
        (s, f.flag(&["tie_embeddings"], true)?)
    } else {
        let s = SsmConfig {
            d_state: f.opt(&["state_size"], if v2 { 128 } else { 16 })?,
            d_conv: f.opt(&["conv_kernel"], 4)?,
            expand: f.opt(&["expand"], 2)?,
            dt_rank: dt_rank(f, &["time_step_rank"], hidden)?,
            head_dim: f.opt(&["head_dim"], 64)?,
            n_groups: f.opt(&["n_groups"], 1)?,
            conv_bias: f.flag(&["use_conv_bias"], true)?,
            proj_bias: f.flag(&["use_bias"], false)?,
            inner_norms: false,
        };
        (s, f.flag(&["tie_word_embeddings"], !v2)?)
    };
    let mixer = if v2 { Mixer::Mamba2 } else { Mixer::Mamba };
    let mut c = ssm_stack(name, hidden, layers, vocab, mixer, s);
    c.tied_embeddings = tie;
    Ok(c)
}

/// Jamba (Lieber et al. 2024, arXiv:2403.19887): attention every `attn_layer_period`
/// layers at `attn_layer_offset` (no positional encoding), Mamba elsewhere (with Δ/B/C
/// RMSNorms); MoE FFN every `expert_layer_period` layers at `expert_layer_offset`.
pub(crate) fn jamba(f: &Fields<'_>, name: &str) -> Result<TransformerConfig, HfError> {
    let mut c = llama_like(f, name, "jamba")?;
    c.positions = Positions::None;
    let hidden = c.hidden;
    c.ssm = Some(SsmConfig {
        d_state: f.opt(&["mamba_d_state"], 16)?,
        d_conv: f.opt(&["mamba_d_conv"], 4)?,
        expand: f.opt(&["mamba_expand"], 2)?,
        dt_rank: dt_rank(f, &["mamba_dt_rank"], hidden)?,
        head_dim: 64,
        n_groups: 1,
        conv_bias: f.flag(&["mamba_conv_bias"], true)?,
        proj_bias: f.flag(&["mamba_proj_bias"], false)?,
        inner_norms: true,
    });
    let period = |k: &str, d: u64| -> Result<u64, HfError> { Ok(f.opt(&[k], d)?.max(1)) };
    let (ap, ao) = (
        period("attn_layer_period", 8)?,
        f.opt(&["attn_layer_offset"], 4)?,
    );
    let (ep, eo) = (
        period("expert_layer_period", 2)?,
        f.opt(&["expert_layer_offset"], 1)?,
    );
    let experts = f.opt(&["num_experts"], 16)?;
    c.layer_kinds = Some(
        (0..c.layers)
            .map(|i| LayerKind {
                mixer: if i % ap == ao {
                    Mixer::Attention
                } else {
                    Mixer::Mamba
                },
                ffn: if experts > 1 && i % ep == eo {
                    FfnKind::Moe
                } else {
                    FfnKind::Dense
                },
            })
            .collect(),
    );
    if experts > 1 {
        c.moe = Some(all_moe(
            experts,
            f.opt(&["num_experts_per_tok"], 2)?,
            c.intermediate,
        ));
    }
    Ok(c)
}
