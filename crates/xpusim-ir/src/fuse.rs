//! Convolution epilogue fusion: the graph rewrite every CNN inference stack applies.
//!
//! TensorRT, cuDNN's runtime fusion, XLA, ONNX Runtime and NPU compilers fold inference
//! BatchNorm into the convolution's weights and run the activation and the residual add in
//! the convolution kernel's epilogue, on the output tile still in registers. Costed op by
//! op, a ResNet-50 instead writes and re-reads every feature map three or four times and
//! comes out memory-bound at under half the throughput NVIDIA publishes for it.
//!
//! A pointwise op (elementwise, or BatchNorm) right after a convolution — or after ops
//! already fused into it — over the same number of elements, repeated as often, becomes an
//! epilogue ([`Op::epilogue`]): it keeps its arithmetic and any further inputs (the
//! residual branch of an add), but not the producer's output it consumes, its own output
//! (the kernel writes the chain's result in place of the convolution's), BatchNorm's folded
//! scale and shift, or a launch. Transformer blocks are left as they are by default: serving
//! stacks run their bias, activation and residual ops as kernels of their own (Vidur profiles
//! them so).
//!
//! Stacks that compile a whole model fuse the same way after a matmul
//! ([`Graph::fuse_matmul_epilogues`], chosen by a runtime profile): TensorRT runs the
//! pointwise layers after a fully-connected layer in its GEMM's epilogue (NVIDIA/TensorRT
//! demo/BERT `builder.py` at 007c347 builds BERT's GELU from elementwise layers after FC1,
//! fused into it), and the residual add before a LayerNorm in the norm's kernel
//! (`CustomSkipLayerNormPluginDynamic`: one kernel reads the branch and the skip, adds the
//! bias and normalises). That moves the same bytes and launches as the add in the
//! preceding GEMM's epilogue, which is how the rewrite prices it: the norm, which needs
//! whole rows, stays a kernel of its own.
//!
//! A training graph ([`Phase::Train`]) is left unfused. Training BatchNorm normalises by the
//! batch's own statistics, which exist only once the convolution's whole output does, so it
//! can be neither folded into the weights nor run in the convolution's epilogue; and the
//! eager frameworks that published training runs use (PyTorch's DeepLearningExamples
//! ResNet-50: cuDNN convolution, then `batch_norm`, `relu` and the residual `add` as kernels
//! of their own, forward and backward) run the activation and the add separately too.

use crate::{Graph, NormKind, Op, OpKind, Phase, Role};

/// The elements of an op's output.
fn out_elems(op: &Op) -> Option<u64> {
    op.operands
        .iter()
        .find(|o| o.role == Role::Output)
        .map(|o| o.elems())
}

/// Elementwise ops and BatchNorm (in any pass): the ops a kernel can run on a tile it
/// already holds.
pub(crate) fn pointwise(op: &Op) -> bool {
    matches!(
        op.kind,
        OpKind::Elementwise { .. }
            | OpKind::Norm {
                kind: NormKind::BatchNorm,
                ..
            }
    )
}

/// Makes `op` an epilogue of the kernel before it: it no longer reads the tensor that kernel
/// hands it (its first input) or writes its own output (the kernel writes the chain's
/// result), and runs without a launch. `drop_weights`: its parameters go too (an inference
/// BatchNorm folded into the convolution's weights).
pub(crate) fn make_epilogue(op: &mut Op, drop_weights: bool) {
    let mut first_input = true;
    op.operands.retain(|o| match o.role {
        Role::Input if first_input => {
            first_input = false;
            false
        }
        Role::Output => false,
        Role::Weight => !drop_weights,
        _ => true,
    });
    op.epilogue = true;
}

impl Graph {
    /// Marks the convolution epilogues (see the module doc); returns how many ops fused.
    /// None in a training graph.
    pub fn fuse_conv_epilogues(&mut self) -> usize {
        self.fuse_epilogues(|k| matches!(k, OpKind::Conv(_)))
    }

    /// Marks the epilogues of convolutions and matmuls: the pointwise ops after a GEMM run
    /// in it, as TensorRT runs them (see the module doc); returns how many ops fused. None
    /// in a training graph.
    pub fn fuse_matmul_epilogues(&mut self) -> usize {
        self.fuse_epilogues(|k| matches!(k, OpKind::Conv(_) | OpKind::Matmul(_)))
    }

    fn fuse_epilogues(&mut self, anchors: impl Fn(&OpKind) -> bool) -> usize {
        if self.phase == Phase::Train {
            return 0;
        }
        let mut anchor: Option<(u64, u64)> = None;
        let mut fused = 0;
        for op in &mut self.ops {
            let elems = out_elems(op);
            match (anchor, elems) {
                (Some((a, rep)), Some(e)) if pointwise(op) && e == a && op.repeat == rep => {
                    let bn = matches!(op.kind, OpKind::Norm { .. });
                    make_epilogue(op, bn);
                    fused += 1;
                }
                _ => {
                    anchor = match elems {
                        Some(e) if anchors(&op.kind) => Some((e, op.repeat)),
                        _ => None,
                    };
                }
            }
        }
        fused
    }
}
