//! The optimizer step and the numeric formats of mixed-precision training.

use serde::Serialize;
use xpusim_ir::{DType, IrError, Op, Operand, Role};

/// How parameters, gradients and optimizer state are kept (Micikevicius et al., ICLR 2018,
/// "Mixed Precision Training"; Megatron-LM's `--bf16 --accumulate-allreduce-grads-in-fp32`):
/// the model's weights in 16 bits (fp8 training casts them per GEMM and keeps 16-bit copies,
/// Micikevicius et al. 2022 "FP8 Formats for Deep Learning" §4), FP32 main gradients
/// (accumulated over micro-batches and reduced over data-parallel replicas in FP32), and
/// Adam's FP32 master weights, first and second moments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Optimizer {
    pub name: &'static str,
    /// Bytes per parameter of the weights the forward and backward read.
    pub param_bytes: u64,
    /// Bytes per parameter of the accumulated gradient (and of its data-parallel reduction).
    pub grad_bytes: u64,
    /// Bytes per parameter of optimizer state: FP32 master copy (when the weights are not
    /// FP32 already), momentum and variance.
    pub state_bytes: u64,
    /// Arithmetic per parameter of one update.
    pub flops_per_param: u64,
}

/// Bytes of one FP32 value.
const FP32_BYTES: u64 = 4;

/// FLOPs per parameter of one AdamW update: weight decay (1), the two moment updates
/// (lerp 2, multiply-add of g² 3), the denominator (sqrt, + ε: 2), the step (divide,
/// scale, subtract: 3) — NVIDIA Apex `multi_tensor_adam.cu`, PyTorch `_fused_adamw`.
pub const ADAMW_FLOPS_PER_PARAM: u64 = 11;

impl Optimizer {
    /// AdamW for a model whose weights are `weights` (16-bit for mixed precision, FP32 for
    /// FP32 training; 8-bit weights are trained from 16-bit copies).
    pub fn adamw(weights: DType) -> Optimizer {
        let param_bytes = weights.bytes(1).max(2);
        let master = if param_bytes >= FP32_BYTES {
            0
        } else {
            FP32_BYTES
        };
        Optimizer {
            name: "adamw",
            param_bytes,
            grad_bytes: FP32_BYTES,
            state_bytes: master + 2 * FP32_BYTES,
            flops_per_param: ADAMW_FLOPS_PER_PARAM,
        }
    }

    /// The same optimizer with its gradients accumulated and reduced in `grads` (a 16-bit
    /// reduction halves the data-parallel traffic and the gradient buffer;
    /// [`crate::TrainLayout::grad_dtype`]).
    pub fn with_grads(self, grads: DType) -> Optimizer {
        Optimizer {
            grad_bytes: grads.bytes(1),
            ..self
        }
    }

    /// The update of `params` parameters as one fused elementwise kernel: it reads the
    /// gradient, master weight and both moments and writes the master weight, both moments
    /// and the 16-bit weight copy (the multi-tensor Adam kernels do one pass).
    pub fn update_op(&self, params: u64) -> Result<Op, IrError> {
        let n = params.max(1);
        let reads = 1 + self.state_bytes / FP32_BYTES;
        let mut op = Op::elementwise(
            "optimizer.adamw",
            "adamw",
            n,
            reads,
            self.flops_per_param,
            DType::Fp32,
        )?;
        // The first input is the accumulated gradient, in its own format (BF16 and FP16
        // move the same two bytes).
        if let Some(g) = op.operands.first_mut() {
            g.dtype = if self.grad_bytes >= FP32_BYTES {
                DType::Fp32
            } else {
                DType::Bf16
            };
        }
        let state_writes = self.state_bytes / FP32_BYTES;
        for i in 1..state_writes {
            op.operands.push(Operand {
                tensor: format!("optimizer.state{i}.out"),
                role: Role::Output,
                shape: vec![n],
                dtype: DType::Fp32,
                group: 0,
            });
        }
        if self.param_bytes < FP32_BYTES {
            op.operands.push(Operand {
                tensor: "optimizer.weights.out".into(),
                role: Role::Output,
                shape: vec![n],
                dtype: DType::Bf16,
                group: 0,
            });
        }
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_precision_adam_keeps_16_bytes_per_parameter_and_moves_30() {
        // ZeRO paper §3: 2 + 2 + 12 = 16 bytes per parameter with FP16 gradients; Megatron's
        // FP32 main gradients make it 2 + 4 + 12 = 18.
        let o = Optimizer::adamw(DType::Bf16);
        assert_eq!(o.param_bytes + o.state_bytes, 14);
        assert_eq!(o.param_bytes + o.grad_bytes + o.state_bytes, 18);
        // The ZeRO paper's 16 bytes are FP16 gradients.
        let h = o.with_grads(DType::Fp16);
        assert_eq!(h.param_bytes + h.grad_bytes + h.state_bytes, 16);
        let op = h.update_op(1000).unwrap();
        let moved: u64 = op.operands.iter().map(|x| x.bytes()).sum();
        assert_eq!(moved, 28 * 1000);
        let op = o.update_op(1000).unwrap();
        let moved: u64 = op.operands.iter().map(|x| x.bytes()).sum();
        // Read g, w, m, v (16 B) and write w, m, v (12 B) and the BF16 copy (2 B).
        assert_eq!(moved, 30 * 1000);
        // FP32 training has no master copy.
        let f = Optimizer::adamw(DType::Fp32);
        assert_eq!((f.param_bytes, f.state_bytes), (4, 8));
        // FP8 training keeps 16-bit weights.
        assert_eq!(Optimizer::adamw(DType::Fp8).param_bytes, 2);
    }
}
