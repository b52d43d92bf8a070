//! Single-kernel workloads: `kind:key=value,...` strings lowered to one IR op.
//!
//! | kind | keys | op |
//! |---|---|---|
//! | `gemm` | `m,n,k`, optional `b` (batched both sides) | `Op::matmul`, both operands activations |
//! | `linear` | `m,n,k` (m tokens, k→n weight) | `Op::linear` (weight operand) |
//! | `attention` | `b,h,sq,skv,d,causal`, optional `kvh` (KV heads) | fused forward `Op::attention` |
//! | `attention_fwd_bwd` | as `attention` | the fused forward and its backward as training runs them (`autodiff::backward`: FlashAttention-2's backward kernels), timed together |
//! | `membw` | `bytes` (read + write in total) | `Op::data_movement` of bytes/2 one-byte elements |
//! | `softmax`, `layernorm`, `rmsnorm` | `rows,cols` | `Op::softmax` / `Op::norm` |
//! | `gelu`, `silu` | `elems` or `rows,cols` | one-input `Op::elementwise` |
//! | `silu_mul`, `gelu_mul` | `elems` or `rows,cols` | gated activation: two inputs |
//! | `add` | `elems` or `rows,cols` | residual add: two inputs, 1 FLOP |
//! | `rope` | `elems` or `rows,cols` (rotated elements) | one-input `Op::elementwise` |
//!
//! Pointwise kinds given `elems` run flat over the device (PyTorch elementwise kernels);
//! given `rows,cols` they run one thread block per row (`Op::elementwise_rows`: vLLM's
//! per-token activation and rotary kernels), which the engine's row terms see.
//! | `embedding` | `tokens,dim,vocab` | `Op::embedding` |
//! | `conv` | `n,c,h,w,k,r,s` (NCHW input, K filters of R × S), optional `stride` or `stride_h,stride_w` (default 1), `pad` or `pad_h,pad_w` (each side, default 0) | forward `Op::conv` (dense, undilated), as the zoo CNNs lower theirs |
//! | `lstm`, `gru`, `rnn` | `hidden,batch,steps`, optional `input` (default `hidden`) or `skip_input=1` | one-direction `Op::recurrent` (cuDNN's forward inference) |
//!
//! `skip_input=1` is cuDNN's `CUDNN_SKIP_INPUT` input mode (Baidu DeepBench's RNN benchmark
//! uses it): the input feeds the gates without an input weight matrix, so there is no input
//! projection GEMM and no input weights; it lowers to input size 0. The input itself (steps ·
//! batch · hidden elements, added to the gate pre-activations) is then not charged: small
//! beside the steps' recurrent GEMMs.
//!
//! FLOPs per element of activations come from [`xpusim_models::Activation`], so a kernel
//! row is costed exactly as the same op inside a zoo model.

use std::collections::BTreeMap;

use xpusim_ir::{
    autodiff, AttentionSpec, ConvSpec, DType, Graph, MatmulSpec, Names, NormKind, Op, Phase,
    Precision, RecurrentCell, RecurrentSpec, Role,
};
use xpusim_models::Activation;

/// Rotary embedding FLOPs per rotated element (two multiplies and one add per rotated
/// pair member), as `xpusim-models` lowers RoPE.
pub const ROPE_FLOPS_PER_ELEM: u64 = 3;
/// A residual add: one FLOP per output element.
pub const ADD_FLOPS_PER_ELEM: u64 = 1;

/// The kinds `parse` accepts, for messages.
pub const KINDS: &str =
    "gemm, linear, attention, attention_fwd_bwd, membw, softmax, layernorm, rmsnorm, gelu, silu, gelu_mul, silu_mul, add, rope, embedding, lstm, gru, rnn, conv";

/// Is `workload` a kernel spec (as opposed to a model name or file)?
pub fn is_kernel(workload: &str) -> bool {
    workload
        .split_once(':')
        .is_some_and(|(k, _)| KINDS.split(", ").any(|x| x == k.trim()))
}

fn params(body: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut m = BTreeMap::new();
    for kv in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got `{kv}`"))?;
        let v: u64 = v
            .trim()
            .parse()
            .map_err(|_| format!("`{k}` must be a whole number, got `{v}`"))?;
        m.insert(k.trim().to_string(), v);
    }
    Ok(m)
}

/// Lowers a kernel spec to the ops it runs, in order: one op, or a forward and its backward
/// (`attention_fwd_bwd`), whose times add.
pub fn lower_all(spec: &str, p: Precision) -> Result<Vec<Op>, String> {
    let Some(body) = spec
        .split_once(':')
        .filter(|(k, _)| k.trim() == "attention_fwd_bwd")
        .map(|(_, b)| b)
    else {
        return lower(spec, p).map(|op| vec![op]);
    };
    // The forward's keys are the row's: its messages name the row's kind.
    let fwd = lower(&format!("attention:{body}"), p)
        .map_err(|e| e.replace("`attention` kernel", "`attention_fwd_bwd` kernel"))?;
    let mut g = Graph::new("attention_fwd_bwd", Phase::Train, 1, 1);
    g.ops.push(fwd.clone());
    let bwd = autodiff::backward(&g).map_err(|e| e.to_string())?;
    Ok(std::iter::once(fwd).chain(bwd.ops).collect())
}

/// Lowers a single-op kernel spec to its op computing in `p`.
pub fn lower(spec: &str, p: Precision) -> Result<Op, String> {
    let (kind, body) = spec
        .split_once(':')
        .ok_or_else(|| format!("expected kind:key=value,..., got `{spec}`"))?;
    let kind = kind.trim();
    let m = params(body)?;
    let get = |k: &str| -> Result<u64, String> {
        m.get(k)
            .copied()
            .ok_or_else(|| format!("`{kind}` kernel needs `{k}=`"))
    };
    let opt = |k: &str, d: u64| m.get(k).copied().unwrap_or(d);
    let act = p.act;
    let ir = |e: xpusim_ir::IrError| e.to_string();
    // `rows,cols`: one thread block per row (per-token kernels); `elems`: flat.
    let eltwise = |func: &str, inputs: u64, flops: u64| -> Result<Op, String> {
        if m.contains_key("rows") || m.contains_key("cols") {
            Op::elementwise_rows(kind, func, get("rows")?, get("cols")?, inputs, flops, act)
                .map_err(ir)
        } else {
            Op::elementwise(kind, func, get("elems")?, inputs, flops, act).map_err(ir)
        }
    };
    match kind {
        "gemm" => {
            let b = opt("b", 1);
            Op::matmul(
                "gemm",
                MatmulSpec {
                    batch: b,
                    m: get("m")?,
                    n: get("n")?,
                    k: get("k")?,
                    rhs_batched: b > 1,
                },
                Names {
                    lhs: "a",
                    rhs: "b",
                    out: "c",
                },
                Role::Input,
                act,
                act,
                p.compute,
            )
            .map_err(ir)
        }
        "linear" => Op::linear("linear", get("m")?, get("k")?, get("n")?, "w", p).map_err(ir),
        "attention" => {
            let h = get("h")?;
            let d = get("d")?;
            Op::attention(
                "attention",
                AttentionSpec {
                    batch: get("b")?,
                    heads: h,
                    kv_heads: opt("kvh", h),
                    q_len: get("sq")?,
                    kv_len: get("skv")?,
                    head_dim: d,
                    v_head_dim: d,
                    causal: get("causal")? != 0,
                },
                Role::Input,
                p,
            )
            .map_err(ir)
        }
        "membw" => {
            let bytes = get("bytes")?;
            Op::data_movement("membw", "copy", (bytes / 2).max(1), DType::Int8).map_err(ir)
        }
        "softmax" => Op::softmax("softmax", get("rows")?, get("cols")?, act).map_err(ir),
        "layernorm" => Op::norm(
            "layernorm",
            NormKind::LayerNorm,
            get("rows")?,
            get("cols")?,
            act,
        )
        .map_err(ir),
        "rmsnorm" => Op::norm(
            "rmsnorm",
            NormKind::RmsNorm,
            get("rows")?,
            get("cols")?,
            act,
        )
        .map_err(ir),
        "gelu" => eltwise("gelu", 1, Activation::Gelu.flops_per_elem()),
        "silu" => eltwise("silu", 1, Activation::Silu.flops_per_elem()),
        "gelu_mul" => eltwise("gelu_mul", 2, Activation::Gelu.flops_per_elem() + 1),
        "silu_mul" => eltwise("silu_mul", 2, Activation::Silu.flops_per_elem() + 1),
        "add" => eltwise("add", 2, ADD_FLOPS_PER_ELEM),
        "rope" => eltwise("rope", 1, ROPE_FLOPS_PER_ELEM),
        "lstm" | "gru" | "rnn" => {
            let hidden = get("hidden")?;
            let input_size = match opt("skip_input", 0) {
                0 => opt("input", hidden),
                1 if !m.contains_key("input") => 0,
                1 => return Err(format!("`{kind}` kernel: `skip_input=1` has no `input=`")),
                v => return Err(format!("`skip_input` must be 0 or 1, got {v}")),
            };
            Op::recurrent(
                kind,
                RecurrentSpec {
                    cell: match kind {
                        "lstm" => RecurrentCell::Lstm,
                        "gru" => RecurrentCell::Gru,
                        _ => RecurrentCell::Rnn,
                    },
                    seq_len: get("steps")?,
                    batch: get("batch")?,
                    input_size,
                    hidden_size: hidden,
                    directions: 1,
                },
                p,
            )
            .map_err(ir)
        }
        "conv" => {
            // cuDNN's descriptors pad each side symmetrically: top = bottom, left = right.
            let (pad_h, pad_w) = (opt("pad_h", opt("pad", 0)), opt("pad_w", opt("pad", 0)));
            let stride = (
                opt("stride_h", opt("stride", 1)),
                opt("stride_w", opt("stride", 1)),
            );
            Op::conv(
                "conv",
                ConvSpec {
                    n: get("n")?,
                    c: get("c")?,
                    h: get("h")?,
                    w: get("w")?,
                    k: get("k")?,
                    r: get("r")?,
                    s: get("s")?,
                    stride,
                    pad: (pad_h, pad_w, pad_h, pad_w),
                    dilation: (1, 1),
                    groups: 1,
                    transposed: false,
                },
                "filter",
                p,
            )
            .map_err(ir)
        }
        "embedding" => Op::embedding(
            "embedding",
            get("tokens")?,
            get("vocab")?,
            get("dim")?,
            "table",
            p,
        )
        .map_err(ir),
        other => Err(format!(
            "unknown kernel kind `{other}`; expected one of {KINDS}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::OpKind;

    #[test]
    fn lowers_each_kind_with_the_right_size() {
        let p = Precision::uniform(DType::Fp16);
        assert_eq!(lower("gemm:m=2,n=3,k=4", p).unwrap().macs(), 24);
        assert_eq!(lower("gemm:b=2,m=2,n=3,k=4", p).unwrap().macs(), 48);
        assert_eq!(lower("membw:bytes=1000", p).unwrap().bytes_total(), 1000);
        assert_eq!(lower("add:elems=10", p).unwrap().bytes_total(), 60);
        assert!(lower("rmsnorm:rows=4,cols=8", p).is_ok());
        assert!(lower("embedding:tokens=4,dim=8,vocab=100", p).is_ok());
        assert!(lower("attention:b=1,h=8,kvh=2,sq=16,skv=16,d=64,causal=1", p).is_ok());
        // Forward and backward: FlashAttention-2's backward is 2.5x the forward's matmuls.
        let both = lower_all("attention_fwd_bwd:b=2,h=8,sq=64,skv=64,d=64,causal=0", p).unwrap();
        assert!(matches!(both[0].kind, OpKind::Attention(_)));
        assert!(both[1..]
            .iter()
            .any(|o| matches!(o.kind, OpKind::AttentionGrad(_))));
        let macs: u64 = both[1..].iter().map(|o| o.macs()).sum();
        assert_eq!(2 * macs, 5 * both[0].macs());
        assert_eq!(lower_all("add:elems=10", p).unwrap().len(), 1);
        // LSTM: 4 gates x hidden x (input + hidden) MACs per token and step.
        let lstm = lower("lstm:hidden=8,batch=2,steps=3", p).unwrap();
        assert_eq!(lstm.macs(), 4 * 8 * (8 + 8) * 2 * 3);
        let gru = lower("gru:hidden=8,input=4,batch=1,steps=1", p).unwrap();
        assert_eq!(gru.macs(), 3 * 8 * (4 + 8));
        // cuDNN's skip-input mode: the recurrent weights only, as DeepBench counts them.
        let skip = lower("lstm:hidden=8,batch=2,steps=3,skip_input=1", p).unwrap();
        assert_eq!(skip.macs(), 4 * 8 * 8 * 2 * 3);
        assert!(lower("gru:hidden=8,input=4,batch=1,steps=1,skip_input=1", p).is_err());
        assert!(lower("rnn:hidden=8,batch=1,steps=1,skip_input=2", p).is_err());
        // A convolution costs what the IR's conv op of the same shape costs (DeepBench's first
        // DeepSpeech layer: 700 x 161 input, 32 filters of 5 x 20, stride 2).
        let conv = lower(
            "conv:n=4,c=1,h=161,w=700,k=32,r=5,s=20,stride_h=2,stride_w=2",
            p,
        )
        .unwrap();
        let spec = ConvSpec {
            n: 4,
            c: 1,
            h: 161,
            w: 700,
            k: 32,
            r: 5,
            s: 20,
            stride: (2, 2),
            pad: (0, 0, 0, 0),
            dilation: (1, 1),
            groups: 1,
            transposed: false,
        };
        let ir = Op::conv("conv", spec, "filter", p).unwrap();
        assert_eq!(conv.macs(), ir.macs());
        assert_eq!(conv.flops(), ir.flops());
        assert_eq!(spec.output_hw(), (79, 341));
        assert_eq!(conv.macs(), 4 * 32 * 79 * 341 * 5 * 20);
        let padded = lower("conv:n=1,c=3,h=8,w=8,k=4,r=3,s=3,pad=1", p).unwrap();
        assert_eq!(padded.macs(), 4 * 8 * 8 * 3 * 9);
        // Row-parallel pointwise ops keep their rows.
        let rope = lower("rope:rows=3,cols=128", p).unwrap();
        assert_eq!(rope.operands[0].shape, vec![3, 128]);
    }

    #[test]
    fn bad_specs_say_what_is_missing() {
        let p = Precision::uniform(DType::Fp16);
        assert_eq!(
            lower("gemm:m=2,n=3", p).unwrap_err(),
            "`gemm` kernel needs `k=`"
        );
        assert!(lower("gemm:m=x,n=3,k=1", p)
            .unwrap_err()
            .contains("whole number"));
        assert!(lower("conv:n=1", p).unwrap_err().contains("needs `c=`"));
        assert_eq!(
            lower_all("attention_fwd_bwd:b=1,h=8,sq=16,skv=16,causal=0", p).unwrap_err(),
            "`attention_fwd_bwd` kernel needs `d=`"
        );
        assert!(lower("pool:n=1", p)
            .unwrap_err()
            .contains("unknown kernel kind"));
        assert!(is_kernel("gemm:m=1"));
        assert!(!is_kernel("llama-2-7b"));
    }
}
