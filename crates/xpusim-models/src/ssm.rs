//! State-space (Mamba) mixers.

use serde::{Deserialize, Serialize};

/// Mamba / Mamba-2 mixer parameters (HF `MambaConfig` / `Mamba2Config` names in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsmConfig {
    /// `state_size` / `d_state` (N).
    pub d_state: u64,
    /// `conv_kernel` / `d_conv` (K).
    pub d_conv: u64,
    /// `expand`: d_inner = expand · hidden.
    pub expand: u64,
    /// `time_step_rank` / `dt_rank` (Mamba-1 only).
    pub dt_rank: u64,
    /// Mamba-2 `head_dim` (P); d_inner / head_dim SSM heads.
    pub head_dim: u64,
    /// Mamba-2 `n_groups` sharing B and C.
    pub n_groups: u64,
    /// `conv_bias`.
    pub conv_bias: bool,
    /// `use_bias` on in/out projections.
    pub proj_bias: bool,
    /// Jamba adds RMSNorms on Δ, B and C inside the mixer.
    pub inner_norms: bool,
}

use xpusim_ir::{Block, ConvSpec, DType, IrError, NormKind, Op, OpRole, Phase, Role, ScanSpec};

use crate::attention::residual;
use crate::blocks::{norm_kind, Pass};
use crate::common::Builder;
use crate::transformer::TransformerConfig;

/// Causal depthwise 1-D convolution over the sequence as a grouped 2-D conv (`H = 1`,
/// left padding `K − 1`). In decode the `K − 1` cached inputs are the padding (read from
/// the conv state).
fn causal_conv(
    b: &mut Builder,
    name: &str,
    p: &Pass,
    ch: u64,
    k: u64,
    bias: bool,
    n: u64,
) -> Result<(), IrError> {
    let spec = ConvSpec {
        n: p.batch,
        c: ch,
        h: 1,
        w: p.q_len,
        k: ch,
        r: 1,
        s: k,
        stride: (1, 1),
        pad: (0, k - 1, 0, 0),
        dilation: (1, 1),
        groups: ch,
        transposed: false,
    };
    if p.phase == Phase::Decode {
        b.copy(
            &format!("{name}.state"),
            "conv_state",
            p.batch * ch * (k - 1),
            b.p.kv,
            n,
        )?;
        b.role(OpRole::Sliced(Block::Mixer));
    }
    b.conv(name, spec, bias, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    Ok(())
}

fn scan_len(p: &Pass) -> u64 {
    p.q_len
}

/// Mamba-1 block (Gu & Dao 2023, arXiv:2312.00752, §3.4 / Fig. 3): norm, in_proj to
/// `2·d_inner` (x and gate z), causal conv1d, SiLU, x_proj to (Δ rank, B, C), dt_proj,
/// selective scan (A `[d_inner, N]`, D `[d_inner]`), gate, out_proj.
pub(crate) fn mamba(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    n: u64,
) -> Result<(), IrError> {
    let Some(s) = c.ssm else {
        return Err(IrError::Invalid {
            op: c.name.clone(),
            msg: "Mamba layer without an `ssm` config".into(),
        });
    };
    let (t, h) = (p.tokens(), c.hidden);
    let e = s.expand * h;
    let (nk, nb) = norm_kind(c);
    b.norm(&format!("{pre}.mixer_norm"), nk, t, h, nb, n)?;
    b.linear(&format!("{pre}.mamba.in_proj"), t, h, 2 * e, s.proj_bias, n)?;
    b.role(OpRole::Column(Block::Mixer));
    causal_conv(
        b,
        &format!("{pre}.mamba.conv1d"),
        p,
        e,
        s.d_conv,
        s.conv_bias,
        n,
    )?;
    b.eltwise(&format!("{pre}.mamba.silu"), "silu", t * e, 1, 5, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    b.linear(
        &format!("{pre}.mamba.x_proj"),
        t,
        e,
        s.dt_rank + 2 * s.d_state,
        false,
        n,
    )?;
    if s.inner_norms {
        b.norm(
            &format!("{pre}.mamba.dt_norm"),
            NormKind::RmsNorm,
            t,
            s.dt_rank,
            false,
            n,
        )?;
        b.norm(
            &format!("{pre}.mamba.b_norm"),
            NormKind::RmsNorm,
            t,
            s.d_state,
            false,
            n,
        )?;
        b.norm(
            &format!("{pre}.mamba.c_norm"),
            NormKind::RmsNorm,
            t,
            s.d_state,
            false,
            n,
        )?;
    }
    b.linear(&format!("{pre}.mamba.dt_proj"), t, s.dt_rank, e, true, n)?;
    b.role(OpRole::Column(Block::Mixer));
    b.eltwise(&format!("{pre}.mamba.softplus"), "softplus", t * e, 1, 3, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    scan(
        b,
        &format!("{pre}.mamba.scan"),
        p,
        e,
        s.d_state,
        &[e, s.d_state],
        &[("d", e)],
        n,
    )?;
    b.eltwise(&format!("{pre}.mamba.gate"), "silu_mul", t * e, 2, 6, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    b.linear(&format!("{pre}.mamba.out_proj"), t, e, h, s.proj_bias, n)?;
    b.role(OpRole::Row(Block::Mixer));
    residual(b, &format!("{pre}.mixer_residual"), t * h, 2, n)
}

/// Mamba-2 (SSD) block (Dao & Gu 2024, arXiv:2405.21060, §7 / Fig. 6): one in_proj to
/// (z, x, B, C, Δ), conv1d over (x, B, C), SSD scan with a scalar A per head, gated
/// RMSNorm, out_proj.
pub(crate) fn mamba2(
    b: &mut Builder,
    c: &TransformerConfig,
    pre: &str,
    p: &Pass,
    n: u64,
) -> Result<(), IrError> {
    let Some(s) = c.ssm else {
        return Err(IrError::Invalid {
            op: c.name.clone(),
            msg: "Mamba layer without an `ssm` config".into(),
        });
    };
    let (t, h) = (p.tokens(), c.hidden);
    let e = s.expand * h;
    let heads = (e / s.head_dim.max(1)).max(1);
    let bc = 2 * s.n_groups * s.d_state;
    let (nk, nb) = norm_kind(c);
    b.norm(&format!("{pre}.mixer_norm"), nk, t, h, nb, n)?;
    b.linear(
        &format!("{pre}.mamba2.in_proj"),
        t,
        h,
        2 * e + bc + heads,
        s.proj_bias,
        n,
    )?;
    b.role(OpRole::Column(Block::Mixer));
    causal_conv(
        b,
        &format!("{pre}.mamba2.conv1d"),
        p,
        e + bc,
        s.d_conv,
        s.conv_bias,
        n,
    )?;
    b.eltwise(&format!("{pre}.mamba2.silu"), "silu", t * (e + bc), 1, 5, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    scan(
        b,
        &format!("{pre}.mamba2.scan"),
        p,
        e,
        s.d_state,
        &[heads],
        &[("d", heads), ("dt_bias", heads)],
        n,
    )?;
    b.norm(
        &format!("{pre}.mamba2.gated_norm"),
        NormKind::RmsNorm,
        t,
        e,
        false,
        n,
    )?;
    b.role(OpRole::Sliced(Block::Mixer));
    b.eltwise(&format!("{pre}.mamba2.gate"), "silu_mul", t * e, 2, 6, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    b.linear(&format!("{pre}.mamba2.out_proj"), t, e, h, s.proj_bias, n)?;
    b.role(OpRole::Row(Block::Mixer));
    residual(b, &format!("{pre}.mixer_residual"), t * h, 2, n)
}

/// The selective scan; its `A` operand is declared as an FP32 parameter of `a_shape`
/// (Mamba-1 `[d_inner, N]`, Mamba-2 one scalar per head) plus the listed extra vectors.
#[allow(clippy::too_many_arguments)]
fn scan(
    b: &mut Builder,
    name: &str,
    p: &Pass,
    ch: u64,
    state: u64,
    a_shape: &[u64],
    extra: &[(&str, u64)],
    n: u64,
) -> Result<(), IrError> {
    let spec = ScanSpec {
        batch: p.batch,
        seq_len: scan_len(p),
        channels: ch,
        state,
        pass: xpusim_ir::Pass::Forward,
    };
    let mut op = Op::scan(name, spec, b.p)?;
    op.operands[3].shape = a_shape.to_vec();
    if p.phase == Phase::Train {
        // Training starts from a zero state and reads no cache; the forward writes the
        // chunk-boundary states its backward restarts from (mamba-ssm's
        // `selective_scan_fwd` saves them as `x`), one state per sequence here.
        op.operands[4].role = Role::Output;
    }
    let a = op.operands[3].tensor.clone();
    b.g.weight(&a, a_shape, DType::Fp32, n)?;
    for (suffix, len) in extra {
        op = b.with_param(op, &format!("{name}.{suffix}"), &[*len], n)?;
    }
    b.push(op, n)?;
    b.role(OpRole::Sliced(Block::Mixer));
    Ok(())
}
