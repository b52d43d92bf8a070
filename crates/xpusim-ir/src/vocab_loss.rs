//! Megatron-LM's default cross-entropy as the kernels it runs.
//!
//! [`OpKind::Loss`] prices cross-entropy as one fused kernel that reads the logits once and
//! keeps one log-sum-exp per row for its backward (flash-attn's Triton `cross_entropy`,
//! Megatron-Core's `--cross-entropy-loss-fusion`). Megatron-LM's default is not fused:
//! `_VocabParallelCrossEntropy` (`megatron/mpu/cross_entropy.py` in 2019–2022, the same code
//! in `megatron/core/tensor_parallel/cross_entropy.py` since, and in Megatron-DeepSpeed) is
//! PyTorch eager code over each device's `[tokens, vocab/tp]` slice of the logits:
//!
//! | kernel | what it does | bytes per logit |
//! |---|---|---:|
//! | `cast` | `output.float()` (`gpt_model.py`, unless `--fp16-lm-cross-entropy`) | 2 + 4 |
//! | `max` | `torch.max(logits, dim=-1)` | 4 |
//! | `sub` | `logits.sub_(max)`, in place | 4 + 4 |
//! | `exp` | `torch.exp(logits, out=logits)` | 4 + 4 |
//! | `sum` | `exp_logits.sum(dim=-1)` | 4 |
//! | `div` | `exp_logits.div_(sum)`: the softmax, saved for the backward | 4 + 4 |
//!
//! and in the backward `grad_input.mul_(grad_output)` in place over the saved softmax
//! (4 + 4; the one subtracted at each target is one element per row) and autograd's cast
//! of the gradient back to the logits' 16 bits for the LM head (4 + 2). That is 52 bytes
//! per logit where the fused kernel moves about 4, and an FP32 softmax (4 bytes per logit)
//! stored where the fused kernel stores nothing per logit. The per-row work (the target's
//! logit, `log(sum) − predicted`, the masks) and the three per-row all-reduces that join
//! the vocabulary slices (added by the sharder) are unchanged.
//!
//! The kernels share one FP32 buffer, named after the logits, as the in-place ops do: a
//! memory account that counts each saved tensor once counts it once.

use crate::{DType, IrError, LossKind, Op, OpKind, Operand, Role};

fn operand(tensor: &str, role: Role, shape: Vec<u64>, dtype: DType) -> Operand {
    crate::op::operand(tensor, role, shape, dtype)
}

/// The `[rows, cols]` of a cross-entropy op, or why it is not one.
fn shape(op: &Op, forward: bool) -> Result<(u64, u64), IrError> {
    match op.kind {
        OpKind::Loss {
            kind: LossKind::CrossEntropy,
            rows,
            cols,
            pass,
        } if pass.is_forward() == forward => Ok((rows, cols)),
        _ => Err(IrError::Invalid {
            op: op.name.clone(),
            msg: format!(
                "only a {} cross-entropy loss has Megatron-LM's unfused kernels",
                if forward { "forward" } else { "backward" }
            ),
        }),
    }
}

/// The logits operand (the op's first) and the FP32 buffer the in-place kernels share.
fn logits(op: &Op) -> Result<(&Operand, String), IrError> {
    let x = op.operands.first().ok_or_else(|| IrError::Invalid {
        op: op.name.clone(),
        msg: "a cross-entropy op needs its logits as first operand".into(),
    })?;
    Ok((x, format!("{}.fp32", x.tensor)))
}

/// Sets what every kernel keeps from the op it replaces: repeat, layer and role.
fn like(mut o: Op, from: &Op) -> Op {
    o.repeat = from.repeat;
    o.layer = from.layer;
    o.role = from.role;
    o
}

/// A pointwise kernel over the `[rows, cols]` buffer.
fn pointwise(name: &str, func: &str, n: u64, flops: u64, operands: Vec<Operand>) -> Op {
    Op::new(
        name,
        OpKind::Elementwise {
            func: func.into(),
            elems: n,
            flops_per_elem: flops,
        },
        operands,
        DType::Fp32,
    )
}

/// A row reduction of the `[rows, cols]` buffer.
fn row_reduce(name: &str, func: &str, n: u64, operands: Vec<Operand>) -> Op {
    Op::new(
        name,
        OpKind::Reduce {
            func: func.into(),
            in_elems: n,
        },
        operands,
        DType::Fp32,
    )
}

/// The six forward kernels (module doc) of a forward cross-entropy op.
pub fn unfused_cross_entropy(op: &Op) -> Result<Vec<Op>, IrError> {
    let (rows, cols) = shape(op, true)?;
    let n = crate::checked_mul(&op.name, "logits", rows, cols)?;
    let (x, buf) = logits(op)?;
    let name = &op.name;
    let full = |role| operand(&buf, role, vec![rows, cols], DType::Fp32);
    let row = |t: &str, role| operand(t, role, vec![rows], DType::Fp32);
    let (max, sum) = (format!("{name}.max"), format!("{name}.sum"));
    // The target ids and the scalar loss keep their tensors, so the backward still reads
    // what the forward wrote.
    let rest: Vec<Operand> = op.operands.iter().skip(1).cloned().collect();
    let (targets, outs): (Vec<Operand>, Vec<Operand>) =
        rest.into_iter().partition(|o| o.role == Role::Input);
    let mut sub_in = vec![full(Role::Input), row(&max, Role::Input)];
    sub_in.extend(targets);
    sub_in.push(full(Role::Output));
    let mut div = vec![
        full(Role::Input),
        row(&sum, Role::Input),
        full(Role::Output),
    ];
    div.extend(outs);
    let ops = vec![
        pointwise(
            &format!("{name}.cast"),
            "cast",
            n,
            0,
            vec![x.clone(), full(Role::Output)],
        ),
        row_reduce(
            &format!("{name}.max"),
            "max",
            n,
            vec![full(Role::Input), row(&max, Role::Output)],
        ),
        pointwise(&format!("{name}.sub"), "sub", n, 1, sub_in),
        pointwise(
            &format!("{name}.exp"),
            "exp",
            n,
            1,
            vec![full(Role::Input), full(Role::Output)],
        ),
        row_reduce(
            &format!("{name}.sum"),
            "sum",
            n,
            vec![full(Role::Input), row(&sum, Role::Output)],
        ),
        pointwise(&format!("{name}.div"), "div", n, 1, div),
    ];
    Ok(ops.into_iter().map(|o| like(o, op)).collect())
}

/// The two backward kernels (module doc) of a cross-entropy gradient op: the in-place
/// scaling of the saved softmax and the cast back to the logits' format, which writes the
/// op's own output (the logits' gradient).
pub fn unfused_cross_entropy_grad(op: &Op) -> Result<Vec<Op>, IrError> {
    let (rows, cols) = shape(op, false)?;
    let n = crate::checked_mul(&op.name, "logits", rows, cols)?;
    let (_, buf) = logits(op)?;
    let out = op
        .operands
        .iter()
        .find(|o| o.role == Role::Output)
        .cloned()
        .ok_or_else(|| IrError::Invalid {
            op: op.name.clone(),
            msg: "a cross-entropy gradient needs the logits' gradient as output".into(),
        })?;
    let full = |role| operand(&buf, role, vec![rows, cols], DType::Fp32);
    // The targets and the incoming dloss: every per-row and scalar input but the saved
    // log-sum-exp, which the unfused forward does not write.
    let mut scale: Vec<Operand> = vec![full(Role::Input)];
    scale.extend(
        op.operands
            .iter()
            .skip(1)
            .filter(|o| o.role == Role::Input && !o.tensor.ends_with(".lse"))
            .cloned(),
    );
    scale.push(full(Role::Output));
    let ops = vec![
        pointwise(&format!("{}.scale", op.name), "mul", n, 1, scale),
        pointwise(
            &format!("{}.cast", op.name),
            "cast",
            n,
            0,
            vec![full(Role::Input), out],
        ),
    ];
    Ok(ops.into_iter().map(|o| like(o, op)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff;
    use crate::{Graph, Phase};

    fn ce(rows: u64, cols: u64) -> Op {
        Op::loss("head.loss", LossKind::CrossEntropy, rows, cols, DType::Bf16).unwrap()
    }

    fn bytes(ops: &[Op]) -> u64 {
        ops.iter()
            .flat_map(|o| o.operands.iter())
            .map(|x| x.bytes())
            .sum()
    }

    #[test]
    fn forward_moves_38_bytes_per_logit_and_backward_14() {
        let (rows, cols) = (4096, 32_000);
        let n = rows * cols;
        let f = unfused_cross_entropy(&ce(rows, cols)).unwrap();
        assert_eq!(f.len(), 6);
        // Per-row vectors, the target ids and the scalar loss ride on top.
        let per_row = bytes(&f) - 38 * n;
        assert!(per_row < 64 * rows, "{per_row} bytes beyond 38 per logit");
        let mut g = Graph::new("t", Phase::Train, 1, rows);
        g.ops.push(ce(rows, cols));
        let b = autodiff::backward(&g).unwrap();
        let grad = b.ops.iter().find(|o| o.name == "head.loss.grad").unwrap();
        let d = unfused_cross_entropy_grad(grad).unwrap();
        assert_eq!(d.len(), 2);
        let per_row = bytes(&d) - 14 * n;
        assert!(per_row < 64 * rows, "{per_row} bytes beyond 14 per logit");
        // The gradient lands in the tensor the LM head's backward reads, in 16 bits.
        let out = d[1]
            .operands
            .iter()
            .find(|o| o.role == Role::Output)
            .unwrap();
        assert_eq!(out.dtype, DType::Bf16);
        assert_eq!(
            Some(out.tensor.as_str()),
            grad.operands
                .iter()
                .find(|o| o.role == Role::Output)
                .map(|o| o.tensor.as_str())
        );
    }

    #[test]
    fn only_cross_entropy_is_unfused() {
        let mse = Op::loss("l", LossKind::Mse, 4, 8, DType::Bf16).unwrap();
        assert!(unfused_cross_entropy(&mse).is_err());
        assert!(unfused_cross_entropy_grad(&ce(4, 8)).is_err());
    }
}
