//! Lowering of a [`TransformerConfig`] into a graph: embeddings, attention (MHA/GQA/MQA and
//! MLA), cross-attention, dense and MoE FFNs, heads. Mamba mixers live in [`crate::ssm`].

use xpusim_ir::{
    Block, Graph, IrError, LossKind, MatmulSpec, Names, NormKind, Op, OpRole, Phase, Role,
};

use crate::common::{conv2d, Builder};
use crate::transformer::{
    Arch, FfnKind, LayerKind, Mixer, NormStyle, Positions, TransformerConfig,
};
use crate::{ModelError, Workload};

/// Shapes of one pass through a stack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pass {
    pub phase: Phase,
    pub batch: u64,
    /// Tokens per sequence processed by this pass.
    pub q_len: u64,
    /// Positions each query attends over (self-attention).
    pub kv_len: u64,
    pub causal: bool,
    /// Where K/V come from: `Input` (computed now) or `KvCache`.
    pub kv_role: Role,
    /// Append the new K/V (or SSM state) to the cache.
    pub append_kv: bool,
    /// Encoder positions for cross-attention (encoder–decoder decoders).
    pub cross_len: Option<u64>,
}

impl Pass {
    pub fn tokens(&self) -> u64 {
        self.batch * self.q_len
    }
}

pub(crate) fn norm_kind(c: &TransformerConfig) -> (NormKind, bool) {
    match c.norm {
        NormStyle::LayerNorm { bias } => (NormKind::LayerNorm, bias),
        NormStyle::RmsNorm => (NormKind::RmsNorm, false),
    }
}

fn overflow(model: &str, what: &str) -> ModelError {
    ModelError::InvalidWorkload {
        model: model.to_string(),
        msg: format!("{what} overflows"),
    }
}

/// Tokens per sample of the model input for this workload (ViT: patches + class token).
fn input_len(c: &TransformerConfig, w: &Workload) -> Result<u64, ModelError> {
    match &c.vision {
        None => Ok(w.seq_len),
        Some(v) => {
            let side = w.image_size.unwrap_or(v.image_size);
            if side < v.patch_size {
                return Err(ModelError::InvalidWorkload {
                    model: c.name.clone(),
                    msg: format!(
                        "image size {side} is smaller than the {}-pixel patch",
                        v.patch_size
                    ),
                });
            }
            let per = side / v.patch_size;
            crate::guard(&c.name, "patches per image", &[per, per])?;
            Ok(per * per + u64::from(v.class_token))
        }
    }
}

/// The widest per-token activation row of any op (elements), times 8 for headroom.
fn widest_row(c: &TransformerConfig) -> u64 {
    let mut w = [
        c.hidden,
        2 * c.intermediate,
        (c.heads + 2 * c.kv_heads) * c.head_dim,
        c.vocab,
    ]
    .into_iter()
    .fold(1u64, |a, b| a.max(b));
    if let Some(m) = &c.moe {
        w = w
            .max(m.top_k.saturating_mul(2 * m.expert_intermediate))
            .max(m.experts)
            .max(2 * m.shared_intermediate);
    }
    if let Some(m) = &c.mla {
        w = w.max(
            c.heads
                .saturating_mul(m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim),
        );
    }
    if let Some(s) = &c.ssm {
        w = w.max(
            s.expand
                .saturating_mul(c.hidden)
                .saturating_mul(2)
                .saturating_add(2 * s.n_groups * s.d_state + s.dt_rank),
        );
    }
    w.saturating_mul(8)
}

pub(crate) fn build_transformer(c: &TransformerConfig, w: &Workload) -> Result<Graph, ModelError> {
    let len = input_len(c, w)?;
    let kv_len = w
        .context
        .checked_add(1)
        .ok_or_else(|| overflow(&c.name, "context + 1"))?;
    // Every per-op size below is at most tokens × the widest activation row, or
    // heads × len × kv_len for position biases; check those once so later products
    // cannot overflow.
    let width = widest_row(c);
    crate::guard(&c.name, "batch·tokens·widest row", &[w.batch, len, width])?;
    crate::guard(
        &c.name,
        "heads·len·kv_len",
        &[c.heads.max(1), len, len.max(kv_len)],
    )?;
    if let (Positions::Learned { max_positions }, None) = (c.positions, &c.vision) {
        let needed = if w.phase == Phase::Decode {
            kv_len
        } else {
            len
        };
        if needed > max_positions {
            return Err(ModelError::InvalidWorkload {
                model: c.name.clone(),
                msg: format!("{needed} positions exceed the model's {max_positions} learned position embeddings"),
            });
        }
    }
    let tps = if w.phase == Phase::Decode { 1 } else { len };
    let mut b = Builder::new(Graph::new(&c.name, w.phase, w.batch, tps), w.precision);
    let groups = c.layer_groups();
    let enc = |q: u64| Pass {
        phase: w.phase,
        batch: w.batch,
        q_len: q,
        kv_len: q,
        causal: false,
        kv_role: Role::Input,
        append_kv: false,
        cross_len: None,
    };
    let dec = |cross: Option<u64>| match w.phase {
        Phase::Decode => Pass {
            phase: w.phase,
            batch: w.batch,
            q_len: 1,
            kv_len,
            causal: true,
            kv_role: Role::KvCache,
            append_kv: true,
            cross_len: cross,
        },
        // Training: every target token of every sequence (teacher forcing), K/V computed
        // and attended causally, nothing cached.
        Phase::Train => Pass {
            phase: w.phase,
            batch: w.batch,
            q_len: len,
            kv_len: len,
            causal: true,
            kv_role: Role::Input,
            append_kv: false,
            cross_len: cross,
        },
        _ => Pass {
            phase: w.phase,
            batch: w.batch,
            q_len: if cross.is_some() { 1 } else { len },
            kv_len: if cross.is_some() { 1 } else { len },
            causal: true,
            kv_role: Role::Input,
            append_kv: true,
            cross_len: cross,
        },
    };
    match c.arch {
        Arch::DecoderOnly => {
            let p = dec(None);
            embed(&mut b, c, "embed", &p, true)?;
            stack(&mut b, c, "layers", &groups, &p)?;
            head(&mut b, c, &p)?;
        }
        Arch::EncoderOnly => {
            let p = enc(len);
            embed(&mut b, c, "embed", &p, true)?;
            stack(&mut b, c, "layers", &groups, &p)?;
            head(&mut b, c, &p)?;
        }
        Arch::EncoderDecoder { encoder_layers } => {
            let enc_groups = [(
                LayerKind {
                    mixer: Mixer::Attention,
                    ffn: FfnKind::Dense,
                },
                encoder_layers,
            )];
            let p = enc(len);
            let dp = dec(Some(len));
            if w.phase == Phase::Decode {
                // The encoder ran during prefill; declare its parameters only.
                declare_encoder(&mut b, c, &enc_groups, &enc(1))?;
            } else {
                embed(&mut b, c, "enc.embed", &p, true)?;
                stack(&mut b, c, "enc", &enc_groups, &p)?;
                let (nk, nb) = norm_kind(c);
                b.norm("enc.final_norm", nk, p.tokens(), c.hidden, nb, 1)?;
            }
            embed(&mut b, c, "dec.embed", &dp, false)?;
            stack(&mut b, c, "dec", &groups, &dp)?;
            head(&mut b, c, &dp)?;
        }
    }
    Ok(b.finish())
}

/// Encoder parameters of an encoder–decoder model, declared without ops (decode steps do
/// not run the encoder): lowered once for a 1-token pass and only its weights kept.
fn declare_encoder(
    b: &mut Builder,
    c: &TransformerConfig,
    groups: &[(LayerKind, u64)],
    p: &Pass,
) -> Result<(), IrError> {
    let mut scratch = Builder::new(Graph::new("encoder", p.phase, 1, 1), b.p);
    embed(&mut scratch, c, "enc.embed", p, true)?;
    stack(&mut scratch, c, "enc", groups, p)?;
    b.g.weights.extend(scratch.g.weights);
    let (nk, nb) = norm_kind(c);
    let _ = nk;
    b.g.weight("enc.final_norm.gamma", &[c.hidden], b.side(), 1)?;
    if nb {
        b.g.weight("enc.final_norm.beta", &[c.hidden], b.side(), 1)?;
    }
    Ok(())
}

/// Token (and position / type) embeddings, vision patch embedding, embedding norm.
fn embed(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    declare: bool,
) -> Result<(), IrError> {
    let (t, h) = (p.tokens(), c.hidden);
    let table = if matches!(c.arch, Arch::EncoderDecoder { .. }) {
        "enc.embed.tokens"
    } else {
        "embed.tokens"
    };
    if let Some(v) = &c.vision {
        let side =
            ((p.q_len - u64::from(v.class_token)) as f64).sqrt().round() as u64 * v.patch_size;
        let spec = conv2d(
            p.batch,
            v.channels,
            side,
            side,
            h,
            v.patch_size,
            v.patch_size,
            0,
            1,
        );
        b.conv(&format!("{pre}.patch"), spec, true, 1)?;
        if v.class_token {
            let op = Op::data_movement(&format!("{pre}.cls_concat"), "concat", t * h, b.act())?;
            let op = b.with_param(op, "cls_token", &[h], 1)?;
            b.push(op, 1)?;
        }
    } else if c.vocab > 0 {
        let name = format!("{pre}.tokens");
        if declare {
            b.embedding(&name, table, t, c.vocab, h)?;
        } else {
            let op = Op::embedding(&name, t, c.vocab, h, table, b.side_precision())?;
            b.push(op, 1)?;
        }
        b.role(OpRole::Embedding);
    }
    if let Positions::Learned { max_positions } = c.positions {
        b.embedding(
            &format!("{pre}.pos"),
            &format!("{pre}.positions"),
            t,
            max_positions,
            h,
        )?;
        b.eltwise(&format!("{pre}.pos_add"), "add", t * h, 2, 1, 1)?;
    }
    if c.type_vocab > 0 {
        b.embedding(
            &format!("{pre}.type"),
            &format!("{pre}.token_type"),
            t,
            c.type_vocab,
            h,
        )?;
        b.eltwise(&format!("{pre}.type_add"), "add", t * h, 2, 1, 1)?;
    }
    if c.embedding_norm {
        let (nk, nb) = norm_kind(c);
        b.norm(&format!("{pre}.norm"), nk, t, h, nb, 1)?;
    }
    Ok(())
}

fn mixer_name(k: &LayerKind) -> String {
    let m = match k.mixer {
        Mixer::Attention => "attn",
        Mixer::Mamba => "mamba",
        Mixer::Mamba2 => "mamba2",
    };
    let f = match k.ffn {
        FfnKind::Dense => "dense",
        FfnKind::Moe => "moe",
        FfnKind::None => "noffn",
    };
    format!("{m}_{f}")
}

/// All layers of one stack, one op per identical layer group (`Op::times(count)`).
fn stack(
    b: &mut Builder,
    c: &TransformerConfig,
    st: &str,
    groups: &[(LayerKind, u64)],
    p: &Pass,
) -> Result<(), IrError> {
    if let Positions::RelativeBuckets { buckets } = c.positions {
        let elems = c.heads * p.q_len * p.kv_len;
        let op = Op::elementwise(
            &format!("{st}.rel_bias"),
            "position_bias",
            elems,
            1,
            1,
            b.act(),
        )?;
        let op = b.with_param(op, &format!("{st}.rel_bias.table"), &[buckets, c.heads], 1)?;
        b.push(op, 1)?;
    }
    let (nk, nb) = norm_kind(c);
    let (t, h) = (p.tokens(), c.hidden);
    for (kind, n) in groups {
        let n = *n;
        let pre = format!("{st}.{}", mixer_name(kind));
        b.begin_layer();
        let parallel = parallel_block(c, kind, p);
        match kind.mixer {
            Mixer::Attention if c.mla.is_some() => crate::attention::mla(b, c, &pre, p, n)?,
            Mixer::Attention => crate::attention::attention(b, c, &pre, p, n, !parallel)?,
            Mixer::Mamba => crate::ssm::mamba(b, c, &pre, p, n)?,
            Mixer::Mamba2 => crate::ssm::mamba2(b, c, &pre, p, n)?,
        }
        if c.norms_per_layer >= 4 {
            b.norm(&format!("{pre}.post_mixer_norm"), nk, t, h, nb, n)?;
        }
        if let Some(cl) = p.cross_len {
            crate::attention::cross_attention(b, c, &pre, p, cl, n)?;
        }
        if kind.ffn != FfnKind::None {
            if c.norms_per_layer != 1 {
                b.norm(&format!("{pre}.ffn_norm"), nk, t, h, nb, n)?;
            }
            match kind.ffn {
                FfnKind::Moe => moe(b, c, &pre, p, n)?,
                _ => dense_ffn(b, c, &format!("{pre}.mlp"), t, c.intermediate, n)?,
            }
            // A parallel block adds both branches to the stream at once (x + attn + ffn).
            let inputs = if parallel { 3 } else { 2 };
            crate::attention::residual(b, &format!("{pre}.ffn_residual"), t * h, inputs, n)?;
            if c.norms_per_layer >= 4 {
                b.norm(&format!("{pre}.post_ffn_norm"), nk, t, h, nb, n)?;
            }
        }
        b.end_layer();
    }
    if matches!(c.arch, Arch::EncoderDecoder { .. }) && st == "dec" && c.final_norm {
        b.norm("dec.final_norm", nk, t, h, nb, 1)?;
    }
    Ok(())
}

/// Whether a layer is built as a parallel block: attention and FFN both read the block input
/// (through one shared norm, or one norm each) and one add joins both outputs to the
/// residual stream, `x + Attn(LN(x)) + FFN(LN(x))` (PaLM, Chowdhery et al. 2022, §2
/// "Parallel Layers"; GPT-J, kingoflolz/mesh-transformer-jax `mesh_transformer/layers.py`,
/// whose layer returns `g_psum(attn_out + dense_out)`; Falcon; GPT-NeoX's
/// `use_parallel_residual`). Tensor parallelism then joins the two branches' partial sums
/// in one all-reduce (or reduce-scatter) per layer in forward instead of two, which PaLM
/// names as why the form trains about 15 % faster at large scale. In backward a shared norm
/// takes one join and two norms one each, Megatron's conjugate all-reduce sitting at each
/// norm's output; under sequence parallelism two norms are priced as one gather of the block
/// input, both norms then running on the whole sequence. Only a self-attention layer with
/// an FFN is parallel.
fn parallel_block(c: &TransformerConfig, kind: &LayerKind, p: &Pass) -> bool {
    (c.norms_per_layer == 1 || (c.parallel_residual && c.norms_per_layer == 2))
        && kind.mixer == Mixer::Attention
        && c.mla.is_none()
        && kind.ffn != FfnKind::None
        && p.cross_len.is_none()
}

/// Dense FFN `hidden → inter → hidden` (gated: fused gate+up projection).
pub(crate) fn dense_ffn(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    t: u64,
    inter: u64,
    n: u64,
) -> Result<(), IrError> {
    let h = c.hidden;
    let act = c.activation;
    if c.gated_ffn {
        b.linear(&format!("{pre}.gate_up"), t, h, 2 * inter, c.mlp_bias, n)?;
        b.role(OpRole::Column(Block::Mlp));
        b.eltwise_rows(
            &format!("{pre}.act"),
            &format!("{}_mul", act.name()),
            t,
            inter,
            2,
            act.flops_per_elem() + 1,
            n,
        )?;
    } else {
        b.linear(&format!("{pre}.up"), t, h, inter, c.mlp_bias, n)?;
        b.role(OpRole::Column(Block::Mlp));
        b.eltwise_rows(
            &format!("{pre}.act"),
            act.name(),
            t,
            inter,
            1,
            act.flops_per_elem(),
            n,
        )?;
    }
    b.role(OpRole::Sliced(Block::Mlp));
    b.linear(&format!("{pre}.down"), t, inter, h, c.mlp_bias, n)?;
    b.role(OpRole::Row(Block::Mlp));
    Ok(())
}

/// Expected number of distinct experts hit when `tokens` tokens each pick `k` of `e`
/// experts uniformly at random: `E·(1 − (1 − k/E)^tokens)` (occupancy of `e` bins; see
/// e.g. the MoE serving analysis in Fedus et al. 2022, "Switch Transformers", §2.2 and the
/// standard balls-into-bins expectation).
pub fn expected_experts(e: u64, k: u64, tokens: u64) -> f64 {
    let (e, k) = (e as f64, k as f64);
    e * (1.0 - (1.0 - k / e).powf(tokens as f64))
}

/// Routed (plus shared) experts. Expert weights are declared `layers·experts` times with
/// `layers·top_k` active. The expert GEMMs are batched over the experts touched: all of
/// them in prefill, the expected distinct count in decode (uniform routing).
fn moe(b: &mut Builder, c: &TransformerConfig, pre: &str, p: &Pass, n: u64) -> Result<(), IrError> {
    let Some(m) = c.moe else {
        return Err(IrError::Invalid {
            op: c.name.clone(),
            msg: "MoE layer without a `moe` config".into(),
        });
    };
    let (t, h, ei) = (p.tokens(), c.hidden, m.expert_intermediate);
    let pairs = t * m.top_k;
    b.linear(&format!("{pre}.moe.router"), t, h, m.experts, false, n)?;
    b.push(
        Op::softmax(&format!("{pre}.moe.topk"), t, m.experts, b.act())?,
        n,
    )?;
    let touched = if p.phase == Phase::Decode {
        (expected_experts(m.experts, m.top_k, t).round() as u64).clamp(1, m.experts)
    } else {
        m.experts
    };
    let rows = pairs.div_ceil(touched);
    let f = if c.gated_ffn { 2 } else { 1 };
    let experts = |b: &mut Builder, name: &str, k: u64, nn: u64, role| -> Result<(), IrError> {
        let w = format!("{name}.weight");
        b.g.weight_active(&w, &[k, nn], b.p.weight, n * m.experts, n * m.top_k)?;
        let spec = MatmulSpec {
            batch: touched,
            m: rows,
            n: nn,
            k,
            rhs_batched: true,
        };
        let names = Names {
            lhs: &format!("{name}.in"),
            rhs: &w,
            out: &format!("{name}.out"),
        };
        let op = Op::matmul(
            name,
            spec,
            names,
            Role::Weight,
            b.p.act,
            b.p.weight,
            b.p.compute,
        )?;
        b.push(op, n)?;
        b.role(role);
        Ok(())
    };
    experts(
        b,
        &format!("{pre}.moe.experts.gate_up"),
        h,
        f * ei,
        OpRole::Column(Block::Experts),
    )?;
    let act = c.activation;
    b.eltwise(
        &format!("{pre}.moe.act"),
        act.name(),
        pairs * ei,
        f,
        act.flops_per_elem() + f - 1,
        n,
    )?;
    b.role(OpRole::Sliced(Block::Experts));
    experts(
        b,
        &format!("{pre}.moe.experts.down"),
        ei,
        h,
        OpRole::Row(Block::Experts),
    )?;
    b.eltwise(
        &format!("{pre}.moe.combine"),
        "weighted_sum",
        t * h,
        m.top_k,
        2 * m.top_k,
        n,
    )?;
    if m.shared_intermediate > 0 {
        dense_ffn(
            b,
            c,
            &format!("{pre}.moe.shared"),
            t,
            m.shared_intermediate,
            n,
        )?;
        if m.shared_gate {
            b.linear(&format!("{pre}.moe.shared_gate"), t, h, 1, false, n)?;
            b.eltwise(
                &format!("{pre}.moe.shared_scale"),
                "sigmoid_mul",
                t * h,
                2,
                5,
                n,
            )?;
        }
    }
    Ok(())
}

/// Final norm, LM head / classifier / pooler.
fn head(b: &mut Builder, c: &TransformerConfig, p: &Pass) -> Result<(), IrError> {
    let (t, h) = (p.tokens(), c.hidden);
    let (nk, nb) = norm_kind(c);
    let enc_dec = matches!(c.arch, Arch::EncoderDecoder { .. });
    if c.final_norm && !enc_dec {
        b.norm("final_norm", nk, t, h, nb, 1)?;
    }
    if c.pooler {
        b.linear("pooler", p.batch, h, h, true, 1)?;
        b.eltwise("pooler.tanh", "tanh", p.batch * h, 1, 5, 1)?;
    }
    let train = p.phase == Phase::Train;
    if let Some(v) = &c.vision {
        if c.lm_head {
            b.linear("head", p.batch, h, v.num_classes, true, 1)?;
            b.role(OpRole::LmHead);
            if train {
                training_loss(b, LossKind::CrossEntropy, p.batch, v.num_classes, true)?;
            }
        } else if train {
            training_loss(b, LossKind::Mse, t, h, false)?;
        }
        return Ok(());
    }
    if !c.lm_head {
        if train && c.pooler && c.arch == Arch::EncoderOnly {
            return pretraining_heads(b, c, p);
        }
        if train {
            // A bare encoder's output is features, not class logits: the loss compares them
            // with a target of their shape (every token's state).
            training_loss(b, LossKind::Mse, t, h, false)?;
        }
        return Ok(());
    }
    // Decoders sample from the last position only; an encoder LM head scores every token,
    // and so does a decoder in training (next-token loss at every position).
    let rows = if c.arch == Arch::EncoderOnly || train {
        t
    } else {
        p.batch
    };
    let table = if enc_dec {
        "enc.embed.tokens"
    } else {
        "embed.tokens"
    };
    let tied = c.tied_embeddings.then_some(table);
    b.lm_head("lm_head", rows, h, c.vocab, tied)?;
    b.role(OpRole::LmHead);
    if train {
        training_loss(b, LossKind::CrossEntropy, rows, c.vocab, true)?;
    }
    Ok(())
}

/// BERT's pre-training heads (Devlin et al. 2019, §3.1 and App. A.2): training an encoder with
/// a pooler is pre-training it, and its loss is the masked-LM cross-entropy over the
/// vocabulary. The MLM head is a dense `hidden × hidden` transform with GELU and LayerNorm,
/// then the decoder tied to the word embeddings plus a per-token bias, applied to **every**
/// position: `BertForPreTraining` in NVIDIA DeepLearningExamples
/// (`PyTorch/LanguageModeling/BERT/modeling.py`, the Hugging Face pytorch-pretrained-BERT
/// port) returns `prediction_scores` of shape `[batch, seq, vocab]` and its cross-entropy
/// ignores the unmasked labels, so the logits and loss run over all `batch · seq` rows
/// (gathering the masked positions first came later). The next-sentence head, `hidden × 2`
/// on the pooled vector (2·hidden MACs per sequence, under 10⁻⁵ of the step), is not built.
fn pretraining_heads(b: &mut Builder, c: &TransformerConfig, p: &Pass) -> Result<(), IrError> {
    let (t, h) = (p.tokens(), c.hidden);
    let (nk, nb) = norm_kind(c);
    b.linear("mlm.transform", t, h, h, true, 1)?;
    b.eltwise(
        "mlm.transform.act",
        c.activation.name(),
        t * h,
        1,
        c.activation.flops_per_elem(),
        1,
    )?;
    b.norm("mlm.transform.norm", nk, t, h, nb, 1)?;
    b.lm_head("mlm.decoder", t, h, c.vocab, Some("embed.tokens"))?;
    b.role(OpRole::LmHead);
    let bias = Op::elementwise("mlm.decoder.bias_add", "add", t * c.vocab, 1, 1, b.act())?;
    let bias = b.with_param(bias, "mlm.decoder.bias", &[c.vocab], 1)?;
    b.push(bias, 1)?;
    b.role(OpRole::Sliced(Block::Vocab));
    training_loss(b, LossKind::CrossEntropy, t, c.vocab, true)
}

/// The loss closing a training forward (`Phase::Train`) over the model's `[rows, cols]`
/// output. Over a vocabulary-parallel LM head's logits (`split`) it runs on each device's
/// slice of the vocabulary, as Megatron-LM's `vocab_parallel_cross_entropy` does.
pub(crate) fn training_loss(
    b: &mut Builder,
    kind: LossKind,
    rows: u64,
    cols: u64,
    split: bool,
) -> Result<(), IrError> {
    let op = Op::loss("loss", kind, rows, cols, b.act())?;
    b.push(op, 1)?;
    if split {
        b.role(OpRole::Sliced(Block::Vocab));
    }
    Ok(())
}
