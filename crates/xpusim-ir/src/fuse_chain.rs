//! Pointwise-chain fusion of a training graph: what stacks with fused training kernels run.
//!
//! Eager frameworks run a training step's BatchNorm, residual add and activation as kernels
//! of their own, forward and backward ([`crate::fuse`] leaves training graphs unfused for
//! that reason). Stacks built for throughput fuse them: NVIDIA's MLPerf ResNet-50 (MXNet,
//! `symbols/resnet-v1b-fl.py` in mlcommons/training_results_v3.0) runs BatchNorm with its
//! ReLU (`BatchNorm(act_type='relu')`) and BatchNorm with the residual add and ReLU
//! (`BatchNormAddRelu`) as one cuDNN kernel each, and their backwards likewise; XLA and
//! torch.compile fuse such chains by the same rule.
//!
//! The rule, in graph order: consecutive pointwise ops — elementwise ops and BatchNorm, in
//! any pass (forward, input gradient, parameter gradient) — over the same number of
//! elements and repeated as often run as one kernel. The first is the kernel; each later one
//! becomes an epilogue ([`Op::epilogue`]: no launch) that no longer reads the tensor the chain
//! hands it (its first input) or writes its own output (the kernel writes the chain's last
//! result instead); it keeps its arithmetic and its other reads: the residual branch, and
//! BatchNorm's saved input, scale and statistics, which a fused BatchNorm backward reads in
//! its own passes. A convolution, matmul or any other op ends a chain.
//!
//! The backward of an epilogue is unaffected: [`crate::autodiff`] restores the operands an
//! epilogue dropped, so a fused forward differentiates like an unfused one; the backward
//! graph is fused by the same rule afterwards, by the caller that chose to.

use crate::fuse::{make_epilogue, pointwise};
use crate::{Graph, Op, Role};

/// Elements an op's pointwise work runs over: its output's, or for a parameter gradient
/// (whose outputs are per-channel) its first input's. None: not a pointwise op.
fn pointwise_elems(op: &Op) -> Option<u64> {
    if !pointwise(op) {
        return None;
    }
    op.operands
        .iter()
        .find(|o| o.role == Role::Output)
        .or_else(|| op.operands.iter().find(|o| o.role == Role::Input))
        .map(|o| o.elems())
}

impl Graph {
    /// Fuses chains of pointwise ops (see the module doc); returns how many ops became
    /// epilogues. Ops already marked as epilogues are left as they are and end a chain.
    pub fn fuse_pointwise_chains(&mut self) -> usize {
        let mut anchor: Option<(u64, u64)> = None;
        let mut fused = 0;
        for op in &mut self.ops {
            let elems = pointwise_elems(op).filter(|_| !op.epilogue);
            match (anchor, elems) {
                (Some((a, rep)), Some(e)) if e == a && op.repeat == rep => {
                    make_epilogue(op, false);
                    fused += 1;
                }
                _ => anchor = elems.map(|e| (e, op.repeat)),
            }
        }
        fused
    }
}

#[cfg(test)]
mod tests {
    use crate::{autodiff, DType, Graph, NormKind, Op, Phase, Role};

    fn relu_bn_add_relu(g: &mut Graph) {
        let n = 4 * 8 * 8;
        g.push(
            // The chain's first op (a convolution's BatchNorm in a real graph).
            Op::elementwise("x.relu", "relu", n, 1, 1, DType::Fp16).unwrap(),
        );
        g.push(Op::norm("bn", NormKind::BatchNorm, 4 * 8, 8, DType::Fp16).unwrap());
        g.push(Op::elementwise("add", "add", n, 2, 1, DType::Fp16).unwrap());
        g.push(Op::elementwise("relu", "relu", n, 1, 1, DType::Fp16).unwrap());
    }

    fn bytes(g: &Graph) -> u64 {
        g.ops.iter().map(|o| o.bytes_total()).sum()
    }

    #[test]
    fn a_norm_add_relu_chain_is_one_kernel() {
        let mut g = Graph::new("t", Phase::Train, 1, 1);
        relu_bn_add_relu(&mut g);
        let unfused = g.clone();
        assert_eq!(g.fuse_pointwise_chains(), 3);
        let epi: Vec<_> = g
            .ops
            .iter()
            .filter(|o| o.epilogue)
            .map(|o| &o.name)
            .collect();
        assert_eq!(epi, ["bn", "add", "relu"]);
        // The add keeps its residual read; the ReLU reads and writes nothing of its own.
        let add = &g.ops[2];
        assert_eq!(
            add.operands
                .iter()
                .filter(|o| o.role == Role::Input)
                .count(),
            1
        );
        assert!(add.operands.iter().all(|o| o.role != Role::Output));
        assert_eq!(g.ops[3].bytes_total(), 0);
        // BatchNorm keeps its scale and shift.
        assert!(g.ops[1].operands.iter().any(|o| o.role == Role::Weight));
        // Arithmetic is conserved; bytes only fall.
        let f = |g: &Graph| g.ops.iter().map(|o| o.flops()).sum::<u64>();
        assert_eq!(f(&g), f(&unfused));
        assert!(bytes(&g) < bytes(&unfused));
    }

    #[test]
    fn the_backward_of_a_fused_forward_is_the_unfused_backward_and_fuses_too() {
        let mut g = Graph::new("t", Phase::Train, 1, 1);
        relu_bn_add_relu(&mut g);
        let plain = autodiff::backward(&g).unwrap();
        g.fuse_pointwise_chains();
        let mut b = autodiff::backward(&g).unwrap();
        assert_eq!(bytes(&b), bytes(&plain));
        assert!(b.fuse_pointwise_chains() > 0);
        assert!(bytes(&b) < bytes(&plain));
        // The BatchNorm gradients still read the saved input.
        for o in b.ops.iter().filter(|o| o.name.starts_with("bn.")) {
            assert!(o.operands.iter().any(|x| x.tensor == "bn.in"), "{}", o.name);
        }
    }

    #[test]
    fn other_sizes_and_contractions_end_a_chain() {
        let mut g = Graph::new("t", Phase::Train, 1, 1);
        g.push(Op::elementwise("a", "relu", 64, 1, 1, DType::Fp16).unwrap());
        g.push(Op::elementwise("b", "relu", 32, 1, 1, DType::Fp16).unwrap());
        g.push(Op::linear("fc", 4, 8, 8, "w", crate::Precision::uniform(DType::Fp16)).unwrap());
        g.push(Op::elementwise("c", "relu", 32, 1, 1, DType::Fp16).unwrap());
        assert_eq!(g.fuse_pointwise_chains(), 0);
    }
}
