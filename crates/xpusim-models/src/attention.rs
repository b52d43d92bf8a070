//! Self-attention (MHA / GQA / MQA), multi-head latent attention and cross-attention.

use xpusim_ir::{
    AttentionSpec, Block, IrError, MatmulSpec, Names, NormKind, Op, OpRole, Phase, Role,
};

use crate::blocks::{norm_kind, Pass};
use crate::common::Builder;
use crate::transformer::{Positions, TransformerConfig};

/// Standard multi-head / grouped-query / multi-query self-attention block. `join`: end with
/// the residual add of its own output; a parallel block (`norms_per_layer = 1`, see
/// `blocks::parallel_block`) leaves it to the add that joins both branches.
pub(crate) fn attention(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    n: u64,
    join: bool,
) -> Result<(), IrError> {
    let (t, h, hd) = (p.tokens(), c.hidden, c.head_dim);
    let (nk, nb) = norm_kind(c);
    b.norm(&format!("{pre}.attn_norm"), nk, t, h, nb, n)?;
    b.linear(
        &format!("{pre}.attn.qkv"),
        t,
        h,
        (c.heads + 2 * c.kv_heads) * hd,
        c.qkv_bias,
        n,
    )?;
    b.role(OpRole::Column(Block::Attention));
    if let Positions::Rotary { percent } = c.positions {
        let per_token = ((c.heads + c.kv_heads) * hd * percent / 100).max(1);
        b.eltwise_rows(&format!("{pre}.attn.rope"), "rope", t, per_token, 1, 3, n)?;
        b.role(OpRole::Sliced(Block::Attention));
    }
    if p.append_kv {
        b.copy(
            &format!("{pre}.attn.kv_append"),
            "kv_cache_append",
            t * 2 * c.kv_heads * hd,
            b.p.kv,
            n,
        )?;
        b.role(OpRole::KvAppend(Block::Attention));
    }
    let kv_len = match c.sliding_window {
        Some(w) if p.phase == Phase::Decode && w > 0 => p.kv_len.min(w),
        _ => p.kv_len,
    };
    let spec = AttentionSpec {
        batch: p.batch,
        heads: c.heads,
        kv_heads: c.kv_heads,
        q_len: p.q_len,
        kv_len,
        head_dim: hd,
        v_head_dim: hd,
        causal: p.causal,
    };
    let op = Op::attention(&format!("{pre}.attn.sdpa"), spec, p.kv_role, b.p)?;
    b.push(op, n)?;
    b.role(OpRole::Heads(Block::Attention));
    b.linear(&format!("{pre}.attn.o"), t, c.heads * hd, h, c.out_bias, n)?;
    b.role(OpRole::Row(Block::Attention));
    if join {
        residual(b, &format!("{pre}.attn_residual"), t * h, 2, n)?;
    }
    Ok(())
}

/// The add of `inputs` tensors that joins `inputs - 1` block outputs to the residual stream
/// ([`OpRole::Residual`]): 2 inputs after one block, 3 after a parallel attention + FFN block.
pub(crate) fn residual(
    b: &mut Builder,
    name: &str,
    elems: u64,
    inputs: u64,
    n: u64,
) -> Result<(), IrError> {
    b.eltwise(name, "add", elems, inputs, inputs - 1, n)?;
    b.role(OpRole::Residual);
    Ok(())
}

/// Multi-head latent attention (DeepSeek-V2 §2.1). Prefill decompresses K/V per head; decode
/// uses the weight-absorbed form attending over the cached latent (`kv_lora + rope` per
/// position), as DeepSeek's inference code does.
pub(crate) fn mla(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    n: u64,
) -> Result<(), IrError> {
    let Some(m) = c.mla else {
        return Err(IrError::Invalid {
            op: c.name.clone(),
            msg: "multi-head latent attention layer without an `mla` config".into(),
        });
    };
    let (t, h, hh) = (p.tokens(), c.hidden, c.heads);
    let (nk, nb) = norm_kind(c);
    let qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    b.norm(&format!("{pre}.attn_norm"), nk, t, h, nb, n)?;
    match m.q_lora_rank {
        Some(r) => {
            b.linear(&format!("{pre}.attn.q_a"), t, h, r, c.qkv_bias, n)?;
            b.norm(
                &format!("{pre}.attn.q_a_norm"),
                NormKind::RmsNorm,
                t,
                r,
                false,
                n,
            )?;
            b.linear(&format!("{pre}.attn.q_b"), t, r, hh * qk, false, n)?;
        }
        None => b.linear(&format!("{pre}.attn.q"), t, h, hh * qk, false, n)?,
    }
    b.role(OpRole::Column(Block::Attention));
    let latent = m.kv_lora_rank + m.qk_rope_head_dim;
    b.linear(&format!("{pre}.attn.kv_a"), t, h, latent, c.qkv_bias, n)?;
    b.norm(
        &format!("{pre}.attn.kv_a_norm"),
        NormKind::RmsNorm,
        t,
        m.kv_lora_rank,
        false,
        n,
    )?;
    b.eltwise(
        &format!("{pre}.attn.rope"),
        "rope",
        t * (hh + 1) * m.qk_rope_head_dim,
        1,
        3,
        n,
    )?;
    b.role(OpRole::Sliced(Block::Attention));
    if p.append_kv {
        b.copy(
            &format!("{pre}.attn.kv_append"),
            "kv_cache_append",
            t * latent,
            b.p.kv,
            n,
        )?;
        b.role(OpRole::KvAppend(Block::Attention));
    }
    let kv_b = format!("{pre}.attn.kv_b.weight");
    let sdpa = format!("{pre}.attn.sdpa");
    if p.phase != Phase::Decode {
        b.linear(
            &format!("{pre}.attn.kv_b"),
            t,
            m.kv_lora_rank,
            hh * (m.qk_nope_head_dim + m.v_head_dim),
            false,
            n,
        )?;
        b.role(OpRole::Column(Block::Attention));
        let spec = AttentionSpec {
            batch: p.batch,
            heads: hh,
            kv_heads: hh,
            q_len: p.q_len,
            kv_len: p.kv_len,
            head_dim: qk,
            v_head_dim: m.v_head_dim,
            causal: p.causal,
        };
        b.push(Op::attention(&sdpa, spec, p.kv_role, b.p)?, n)?;
        b.role(OpRole::Heads(Block::Attention));
    } else {
        b.g.weight(
            &kv_b,
            &[m.kv_lora_rank, hh * (m.qk_nope_head_dim + m.v_head_dim)],
            b.p.weight,
            n,
        )?;
        let pp = b.p;
        let absorb = |name: &str, k: u64, nn: u64| {
            let spec = MatmulSpec {
                batch: hh,
                m: t,
                n: nn,
                k,
                rhs_batched: true,
            };
            let names = Names {
                lhs: &format!("{name}.in"),
                rhs: &kv_b,
                out: &format!("{name}.out"),
            };
            Op::matmul(
                name,
                spec,
                names,
                Role::Weight,
                pp.act,
                pp.weight,
                pp.compute,
            )
        };
        b.push(
            absorb(
                &format!("{pre}.attn.q_absorb"),
                m.qk_nope_head_dim,
                m.kv_lora_rank,
            )?,
            n,
        )?;
        b.role(OpRole::Heads(Block::Attention));
        let spec = AttentionSpec {
            batch: p.batch,
            heads: hh,
            kv_heads: 1,
            q_len: p.q_len,
            kv_len: p.kv_len,
            head_dim: latent,
            v_head_dim: m.kv_lora_rank,
            causal: p.causal,
        };
        let mut op = Op::attention(&sdpa, spec, p.kv_role, b.p)?;
        // V is the first `kv_lora_rank` columns of the cached latent already read as K:
        // keep one row as a stand-in so the cache is not counted twice.
        let k_name = op.operands[1].tensor.clone();
        op.operands[2].tensor = k_name;
        op.operands[2].role = Role::Input;
        op.operands[2].shape = vec![p.batch, 1, 1, m.kv_lora_rank];
        b.push(op, n)?;
        b.role(OpRole::Heads(Block::Attention));
        b.push(
            absorb(
                &format!("{pre}.attn.v_absorb"),
                m.kv_lora_rank,
                m.v_head_dim,
            )?,
            n,
        )?;
        b.role(OpRole::Heads(Block::Attention));
    }
    b.linear(
        &format!("{pre}.attn.o"),
        t,
        hh * m.v_head_dim,
        h,
        c.out_bias,
        n,
    )?;
    b.role(OpRole::Row(Block::Attention));
    residual(b, &format!("{pre}.attn_residual"), t * h, 2, n)
}

/// Decoder cross-attention over `cl` encoder positions (T5). Prefill projects the encoder
/// output to K/V and caches it; decode reads it from the cache.
pub(crate) fn cross_attention(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    cl: u64,
    n: u64,
) -> Result<(), IrError> {
    let (t, h, hd) = (p.tokens(), c.hidden, c.head_dim);
    let (nk, nb) = norm_kind(c);
    let kvw = 2 * c.kv_heads * hd;
    b.norm(&format!("{pre}.cross_norm"), nk, t, h, nb, n)?;
    b.linear(&format!("{pre}.cross.q"), t, h, c.heads * hd, c.qkv_bias, n)?;
    b.role(OpRole::Column(Block::CrossAttention));
    let cached = p.phase == Phase::Decode;
    if cached {
        b.g.weight(&format!("{pre}.cross.kv.weight"), &[h, kvw], b.p.weight, n)?;
    } else {
        let et = p.batch * cl;
        b.linear(&format!("{pre}.cross.kv"), et, h, kvw, c.qkv_bias, n)?;
        b.role(OpRole::Column(Block::CrossAttention));
        if p.append_kv {
            b.copy(
                &format!("{pre}.cross.kv_append"),
                "kv_cache_append",
                et * kvw,
                b.p.kv,
                n,
            )?;
            b.role(OpRole::KvAppend(Block::CrossAttention));
        }
    }
    let spec = AttentionSpec {
        batch: p.batch,
        heads: c.heads,
        kv_heads: c.kv_heads,
        q_len: p.q_len,
        kv_len: cl,
        head_dim: hd,
        v_head_dim: hd,
        causal: false,
    };
    let role = if cached { Role::KvCache } else { Role::Input };
    b.push(
        Op::attention(&format!("{pre}.cross.sdpa"), spec, role, b.p)?,
        n,
    )?;
    b.role(OpRole::Heads(Block::CrossAttention));
    b.linear(&format!("{pre}.cross.o"), t, c.heads * hd, h, c.out_bias, n)?;
    b.role(OpRole::Row(Block::CrossAttention));
    residual(b, &format!("{pre}.cross_residual"), t * h, 2, n)
}
