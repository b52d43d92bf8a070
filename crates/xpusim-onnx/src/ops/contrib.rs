//! `com.microsoft` contrib operators emitted by onnxruntime.transformers (onnxruntime
//! docs/ContribOperators.md: Attention, SkipLayerNormalization, EmbedLayerNormalization).

use xpusim_ir::{AttentionSpec, MatmulSpec, Names, NormKind, Op, Role};

use crate::error::{NResult, NodeErr};
use crate::import::Importer;
use crate::lower::ew;
use crate::node::Node;
use crate::value::{elem, Val};

/// Attention: input `[B, S, Hin]`, weights `[Hin, Hq+Hk+Hv]`, optional past
/// `[2, B, N, P, Hk/N]`. Output `[B, S, Hv]`, present `[2, B, N, P+S, Hk/N]`. Costed as the
/// QKV projection GEMM plus a fused attention over `P + S` keys.
pub(crate) fn attention(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let (x, w) = (n.x(0)?, n.x(1)?);
    if x.rank() != 3 || w.rank() != 2 || w.shape[0] != x.shape[2] {
        return Err(NodeErr::msg(format!(
            "input {:?} and weights {:?} do not fit",
            x.shape, w.shape
        )));
    }
    let (b, s, hin) = (x.shape[0], x.shape[1], x.shape[2]);
    let heads = u64::try_from(n.ai("num_heads", 0))
        .ok()
        .filter(|&h| h > 0)
        .ok_or_else(|| NodeErr::attr("num_heads", "must be positive"))?;
    let tot = w.shape[1];
    let (hq, hk, hv) = match n.aus("qkv_hidden_sizes")? {
        Some(v) if v.len() == 3 => (v[0], v[1], v[2]),
        Some(_) => return Err(NodeErr::attr("qkv_hidden_sizes", "expects 3 values")),
        None => (tot / 3, tot / 3, tot / 3),
    };
    if hq + hk + hv != tot || hq % heads != 0 || hv % heads != 0 || hk % heads != 0 {
        return Err(NodeErr::msg(format!(
            "hidden sizes {hq}/{hk}/{hv} do not fit {heads} heads and weights {:?}",
            w.shape
        )));
    }
    let past = n.opt(4).filter(|p| p.rank() == 5);
    let plen = past.map(|p| p.shape[3]).unwrap_or(0);
    let p = im.prec(x.elem);
    let names = Names {
        lhs: n.in_name(0),
        rhs: n.in_name(1),
        out: "qkv",
    };
    let spec = MatmulSpec {
        batch: 1,
        m: b * s,
        n: tot,
        k: hin,
        rhs_batched: false,
    };
    let role = if w.konst { Role::Weight } else { Role::Input };
    im.emit(
        n.op(),
        Op::matmul(
            &format!("{}.qkv_proj", n.name),
            spec,
            names,
            role,
            p.act,
            p.weight,
            p.compute,
        ),
    )?;
    let a = AttentionSpec {
        batch: b,
        heads,
        kv_heads: heads,
        q_len: s,
        kv_len: plen + s,
        head_dim: hq / heads,
        v_head_dim: hv / heads,
        causal: n.ai("unidirectional", 0) != 0,
    };
    let kv_role = if plen > 0 { Role::KvCache } else { Role::Input };
    im.emit(n.op(), Op::attention(&n.name, a, kv_role, p))?;
    let present = vec![2, b, heads, plen + s, hk / heads];
    Ok(vec![
        Val::new(vec![b, s, hv], x.elem),
        Val::new(present, x.elem),
    ])
}

/// SkipLayerNormalization / SkipSimplifiedLayerNormalization: `LN(input + skip + bias)`;
/// outputs: output, mean, inv_std_var (`[.., 1]`), input_skip_bias_sum.
pub(crate) fn skip_ln(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let x = n.x(0)?;
    let h = *x
        .shape
        .last()
        .ok_or_else(|| NodeErr::msg("input is a scalar"))?;
    let out = Val::new(x.shape.clone(), x.elem);
    ew(im, n, "skip_add", &out, 2, 2)?;
    let rows = x.elems_sat() / h.max(1);
    let kind = if n.op().contains("Simplified") {
        NormKind::RmsNorm
    } else {
        NormKind::LayerNorm
    };
    if rows > 0 && h > 0 {
        let dt = im.prec(x.elem).act;
        im.emit(n.op(), Op::norm(&n.name, kind, rows, h, dt))?;
    }
    let mut stat = x.shape.clone();
    if let Some(l) = stat.last_mut() {
        *l = 1;
    }
    Ok(vec![
        out.clone(),
        Val::new(stat.clone(), elem::FLOAT),
        Val::new(stat, elem::FLOAT),
        out,
    ])
}

/// EmbedLayerNormalization: word + position (+ segment) embedding lookups, sum, LayerNorm.
/// Outputs: `[B, S, H]`, mask_index `[B]` (int32), embedding_sum `[B, S, H]`.
pub(crate) fn embed_ln(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let ids = n.x(0)?;
    let word = n.x(2)?;
    if ids.rank() != 2 || word.rank() != 2 {
        return Err(NodeErr::msg(format!(
            "input_ids {:?} / word_embedding {:?} must be 2-D",
            ids.shape, word.shape
        )));
    }
    let (b, s, h) = (ids.shape[0], ids.shape[1], word.shape[1]);
    let tokens = b * s;
    let p = im.prec(word.elem);
    let mut tables = 0;
    for i in [2usize, 3, 4] {
        if let Some(t) = n.opt(i).filter(|t| t.rank() == 2) {
            if tokens > 0 && t.shape[0] > 0 && t.shape[1] > 0 {
                im.emit(
                    n.op(),
                    Op::embedding(
                        &format!("{}.emb{i}", n.name),
                        tokens,
                        t.shape[0],
                        t.shape[1],
                        n.in_name(i),
                        p,
                    ),
                )?;
            }
            tables += 1;
        }
    }
    let out = Val::new(vec![b, s, h], word.elem);
    ew(
        im,
        n,
        "embed_sum",
        &out,
        tables,
        tables.saturating_sub(1).max(1),
    )?;
    if tokens > 0 && h > 0 {
        im.emit(
            n.op(),
            Op::norm(&n.name, NormKind::LayerNorm, tokens, h, p.act),
        )?;
    }
    Ok(vec![out.clone(), Val::new(vec![b], elem::INT32), out])
}

/// MultiHeadAttention (unfused Q/K/V, optional past) and GroupQueryAttention (`kv_num_heads`
/// K/V heads, past `[B, Nk, P, hd]`; packed QKV when `key` is absent). Output `[B, S, N·hd]`,
/// present K/V `[B, Nk, P + L, hd]`.
pub(crate) fn mha(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let q = n.x(0)?;
    if q.rank() != 3 {
        return Err(NodeErr::msg(format!(
            "query {:?} must be [B, S, D]",
            q.shape
        )));
    }
    let (b, s, d) = (q.shape[0], q.shape[1], q.shape[2]);
    let heads = u64::try_from(n.ai("num_heads", 0))
        .ok()
        .filter(|&h| h > 0 && h <= 1 << 20)
        .ok_or_else(|| NodeErr::attr("num_heads", "must be positive"))?;
    let gqa = n.op() == "GroupQueryAttention";
    let kv_heads = if gqa {
        u64::try_from(n.ai("kv_num_heads", 0))
            .ok()
            .filter(|&h| h > 0 && h <= heads && heads % h == 0)
            .ok_or_else(|| NodeErr::attr("kv_num_heads", "must divide num_heads"))?
    } else {
        heads
    };
    let key = n.opt(1);
    let hd = if key.is_none() {
        d / (heads + 2 * kv_heads) // packed QKV
    } else {
        d / heads
    };
    if hd == 0 {
        return Err(NodeErr::msg(format!(
            "query {:?} does not fit {heads} heads",
            q.shape
        )));
    }
    // Key length: [B, L, D] or [B, N, L, hd]; packed QKV uses S.
    let l = match key {
        Some(k) if k.rank() == 3 => k.shape[1],
        Some(k) if k.rank() == 4 => k.shape[2],
        Some(k) => {
            return Err(NodeErr::msg(format!(
                "key {:?} must be 3-D or 4-D",
                k.shape
            )))
        }
        None => s,
    };
    let past_idx = if gqa { 3 } else { 6 };
    let past = n
        .opt(past_idx)
        .filter(|p| p.rank() == 4)
        .map(|p| p.shape[2])
        .unwrap_or(0);
    let a = AttentionSpec {
        batch: b,
        heads,
        kv_heads,
        q_len: s,
        kv_len: past + l,
        head_dim: hd,
        v_head_dim: hd,
        causal: gqa || n.ai("unidirectional", 0) != 0,
    };
    let kv_role = if past > 0 { Role::KvCache } else { Role::Input };
    let p = im.prec(q.elem);
    im.emit(n.op(), Op::attention(&n.name, a, kv_role, p))?;
    let present = vec![b, kv_heads, past + l, hd];
    Ok(vec![
        Val::new(vec![b, s, heads * hd], q.elem),
        Val::new(present.clone(), q.elem),
        Val::new(present, q.elem),
    ])
}

/// MatMulNBits: `A[.., K] · dequant(B)[K, N]` with `bits`-bit block-quantized weights
/// (attributes `K`, `N`, `bits`, `block_size`); weight-only quantization, so the GEMM runs
/// at the activation format.
pub(crate) fn matmul_nbits(im: &mut Importer<'_>, n: &Node<'_>) -> NResult<Vec<Val>> {
    let a = n.x(0)?;
    let k = u64::try_from(n.ai("K", 0))
        .ok()
        .filter(|&k| k > 0 && k <= 1 << 32);
    let nn = u64::try_from(n.ai("N", 0))
        .ok()
        .filter(|&v| v > 0 && v <= 1 << 32);
    let (Some(k), Some(nn)) = (k, nn) else {
        return Err(NodeErr::attr("K", "K and N must be positive"));
    };
    if a.shape.last() != Some(&k) {
        return Err(NodeErr::msg(format!(
            "A {:?} does not end in K = {k}",
            a.shape
        )));
    }
    let m = a.elems_sat() / k;
    let mut shape = a.shape.clone();
    if let Some(l) = shape.last_mut() {
        *l = nn;
    }
    let mut p = im.prec(a.elem);
    if im.opts.precision.is_none() {
        p.weight = if n.ai("bits", 4) <= 4 {
            xpusim_ir::DType::Int4
        } else {
            xpusim_ir::DType::Int8
        };
    }
    if m > 0 {
        let spec = MatmulSpec {
            batch: 1,
            m,
            n: nn,
            k,
            rhs_batched: false,
        };
        let names = Names {
            lhs: n.in_name(0),
            rhs: n.in_name(1),
            out: n.out_name(0),
        };
        im.emit(
            n.op(),
            Op::matmul(
                &n.name,
                spec,
                names,
                Role::Weight,
                p.act,
                p.weight,
                p.compute,
            ),
        )?;
    }
    Ok(vec![Val::new(shape, a.elem)])
}
