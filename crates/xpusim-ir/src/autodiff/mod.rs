//! Reverse-mode differentiation: the backward pass of a training forward graph.
//!
//! [`backward`] walks a forward graph ([`crate::Phase::Train`]: the forward of one training
//! micro-batch, ending in its loss) from the last op to the first and emits, for each op, the
//! ops that compute its gradients, in backward execution order. Each backward op keeps its
//! forward op's `repeat` and `layer`, and is named after it:
//!
//! | forward op | backward ops |
//! |---|---|
//! | matmul `Y = X·W` | `{name}.dgrad` `dX = dY·Wᵀ`; `{name}.wgrad` `dW = Xᵀ·dY`; `{name}.wgrad.bias` |
//! | matmul of two activations `Y = A·B` | `{name}.dgrad` `dA = dY·Bᵀ`; `{name}.dgrad_rhs` `dB = Aᵀ·dY` |
//! | convolution | `{name}.dgrad` (transposed convolution); `{name}.wgrad` (implicit GEMM); `.wgrad.bias` |
//! | recurrent layer | `{name}.dgrad` (BPTT, a recurrent op); `{name}.wgrad` (time-batched GEMM); `.wgrad.b` |
//! | attention | `{name}.grad` ([`OpKind::AttentionGrad`], FlashAttention-2's backward) |
//! | norm | `{name}.grad` (dx, `Pass::InputGrad`); `{name}.wgrad` (dγ, dβ, `Pass::ParamGrad`) |
//! | every other op | `{name}.grad`, of the same family |
//!
//! # Arithmetic (exact for contractions)
//!
//! - **Matmul** `Y[b,m,n] = X[b,m,k]·W[(b),k,n]`: `dgrad` is `M = m, N = k, K = n` reading
//!   the weight; `wgrad` is `M = k, N = n, K = m` per batch (`K = b·m` for a weight shared
//!   over the batch) reading two activations and writing the gradient as [`Role::Grad`].
//!   Each is `b·m·n·k` MACs: backward = 2 × forward (Kaplan et al. 2020, §2.1: "the
//!   backwards pass is approximately twice the compute as the forwards pass"). A matmul of
//!   two activations (unfused attention, MLA's absorbed products) gets both activation
//!   gradients instead.
//! - **Convolution**: `dgrad` is the transposed convolution with the forward's kernel,
//!   stride, padding, dilation and groups (cuDNN's `cudnnConvolutionBackwardData`), the
//!   forward's MACs; its output is given the forward input's shape (the `output_padding`
//!   frameworks add where the stride's floor dropped rows). `wgrad` is cuDNN's implicit GEMM
//!   (`cudnnConvolutionBackwardFilter`) per group: `M = k/g`, `N = c/g·r·s`, `K = n·p·q`,
//!   again the forward's MACs. Its operands keep the tensors' true shapes (dY, X, dW);
//!   the engine prices the GEMM view, whose right operand is the im2col'd input — an upper
//!   bound on the traffic of an implicit GEMM, which gathers the windows on chip.
//! - **Recurrent** (LSTM/GRU/RNN): back-propagation through time as cuDNN splits it:
//!   `cudnnRNNBackwardData` is `{name}.dgrad`, a recurrent op of the forward's shape — the
//!   per-step hidden GEMMs `dh_{t−1} = W_hhᵀ·dgates_t`, still `seq_len` dependent steps, and
//!   the input-side `dX = dgates·W_ih` of all steps as one GEMM, with the gate derivatives
//!   counted as the forward's pointwise FLOPs; `cudnnRNNBackwardWeights` is `{name}.wgrad`,
//!   `dW = dgatesᵀ·[X, H_{t−1}]` over all steps at once (`M = gates·H`, `N = I + H`,
//!   `K = seq·batch` per direction). Together: 2 × the forward's MACs.
//! - **Attention**: [`OpKind::AttentionGrad`], FlashAttention-2's backward (Dao 2023,
//!   Algorithm 2): it recomputes `S = QKᵀ` from the saved log-sum-exp instead of storing the
//!   probabilities, then `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, `dQ = dS·K`, `dK = dSᵀ·Q` — five
//!   matmuls to the forward's two, 2.5 × its matmul FLOPs when `d = dv`.
//! - **Selective scan**: mamba-ssm's `selective_scan_bwd` ([`crate::ScanSpec::pass`]): the
//!   forward states are recomputed (Gu & Dao 2023, §3.3.2), then the reverse scan; 27 FLOPs
//!   per `(b, l, d, n)` to the forward's 9.
//! - **Norm**: the input gradient and the parameter reduction are two kernels in PyTorch
//!   (`layer_norm_grad_input_kernel`, `GammaBetaBackwardCUDAKernel`); FLOPs in
//!   [`NormKind::input_grad_flops_per_elem`] and [`NormKind::param_grad_flops_per_elem`]. The
//!   dx kernel reads dY, the saved input, γ and the per-row statistics (FP32).
//! - **Softmax**: `dx = y∘(dy − Σ dy∘y)`, 4 FLOPs per element, reading dY and the saved y.
//! - **Elementwise**: per function, from the derivative PyTorch evaluates
//!   (`tools/autograd/derivatives.yaml` and the ATen kernels): an activation `y = f(x)`
//!   reads dY and x and writes dX — ReLU 1 (`threshold_backward`), ReLU6 2, GELU (tanh) 17
//!   (`GeluBackwardCUDAKernelImpl`), SiLU 9 (`dy·σ·(1 + x·(1 − σ))`), sigmoid 7, tanh 3,
//!   softplus 5; a gated product `y = f(g)·u` reads dY, g, u and writes dg, du:
//!   `F_f + B_f + 2` (du = dy·f(g), dg = dy·u·f'(g)); rotary embedding is the inverse
//!   rotation, the forward's FLOPs; an MoE weighted sum of `k` inputs `3k` (dx_i = w_i·dy,
//!   dw_i = Σ dy·x_i). An `n`-input add has no arithmetic of its own (each input receives
//!   dY); its backward stands for the accumulation of the gradient streams at the fork that
//!   fed it — PyTorch's autograd sums the gradients of a tensor used twice
//!   (`torch/csrc/autograd/input_buffer.cpp`) — `n − 1` adds per element, reading `n`
//!   gradients and writing one. Any other function: its forward FLOPs (to recompute the
//!   local derivatives) plus one multiply per input, reading dY and its inputs.
//! - **Embedding**: the scatter-add of `tokens × dim` gradient rows into the table's
//!   gradient (PyTorch's `embedding_dense_backward`), one add per element.
//! - **Reduce**: mean and max pooling broadcast (or route) dY back to every input element,
//!   1 FLOP each; **data movement** moves the gradient back, the same bytes (nearest
//!   upsampling's adjoint sums each window: a `reduce`).
//! - **Loss**: softmax − one-hot for cross-entropy (`dlogits = (softmax − onehot)·dloss/N`
//!   from the saved log-sum-exp), `2·(ŷ − y)·dloss/N` for MSE.
//! - **Epilogues**: ops fused into a convolution's epilogue ([`crate::fuse`]) get their
//!   backward as separate ops with the full operands: PyTorch and cuDNN run the BatchNorm,
//!   activation and residual backward as their own kernels (cuDNN's runtime fusion engines
//!   fuse forward epilogues; frameworks do not fuse backward epilogues into dgrad by
//!   default).
//! - **Model input**: when the graph's first op is a matmul or convolution its input is the
//!   model's input (image, latent, timestep features), which needs no gradient; autograd
//!   computes none (`needs_input_grad`), so neither does [`backward`]. Its weight gradient
//!   is computed.
//!
//! Gradients are in the forward op's activation format; weight gradients are written once
//! ([`Role::Grad`]); accumulating them over micro-batches (and FP32 master copies) is the
//! training composition's. The backward graph declares no parameters (they are the
//! forward's).
//!
//! # Roles: Megatron-LM's conjugate operators
//!
//! Tensor parallelism in backward follows Shoeybi et al. 2019, §3 (the `f` and `g`
//! operators): the all-reduce moves to where the forward had identity — the input of a
//! block's column-parallel projections — and the forward's all-reduce becomes identity.
//! [`grad_roles`] maps each forward role:
//!
//! | forward role | input gradient (`dgrad`, `grad`) | weight gradient (`wgrad`) | bias gradient |
//! |---|---|---|---|
//! | `Column(b)` | `Row(b)`: reduces over the split columns, partial sums | `Column(b)`, `n` = the forward's split `n` | `Column(b)` |
//! | `Row(b)` | `Column(b)`: dY is whole, dX's columns split | `Column(b)`, built as `dWᵀ = dYᵀ·X` so its `n` is the forward's split `k` | `Replicated` (the bias is whole) |
//! | `Sliced(b)` | `Sliced(b)` | `Sliced(b)`; a grouped convolution's per-group GEMM `Heads(b)` (batched over the split channels) | `Sliced(b)` |
//! | `Heads(b)` | `Heads(b)` | `Heads(b)` | `Heads(b)` |
//! | `Embedding` | `Embedding`: the scatter-add, vocabulary-parallel | — | — |
//! | `LmHead` | `Row(Vocab)`: reduces over the split vocabulary | `Column(Vocab)` | `Column(Vocab)` |
//! | `Replicated`, `Residual` | `Residual` | `Residual` | `Residual` |
//! | `KvAppend(b)` | none: a training graph appends no KV cache (an error) | | |
//!
//! A `Row` input gradient leaves partial sums that the next `Residual` op — the backward
//! of the block's input norm — all-reduces (`xpusim_system::shard`): two all-reduces per
//! transformer layer in backward, as in forward (four per layer per training step without
//! sequence parallelism, Korthikanti et al. 2022, §4.2.2).
//!
//! # Errors
//!
//! Ops autodiff cannot differentiate are an [`IrError`] naming the op, never a panic and
//! never a silent pass-through (which would understate the step by an unknown amount):
//! `unknown` operators (an ONNX operator no frontend rule lowered), collectives (a graph
//! that is already sharded: differentiate before sharding), ops reading a KV cache or
//! appending to one (a prefill or decode graph: build the model with `Phase::Train`), and
//! ops that are already backward ops.

use crate::kinds::*;
use crate::op::operand;
use crate::{checked_product, Block, DType, Graph, IrError, Names, Op, OpRole, Precision};

mod contractions;
mod pointwise;
#[cfg(test)]
mod tests;

use contractions::{attention, conv, matmul, recurrent, scan};
use pointwise::{data_movement, elementwise, embedding, loss, norm, reduce, softmax};

/// The roles of an op's backward ops, by what they compute (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradRoles {
    /// The activation gradient: a contraction's `dgrad`, any other op's `grad`.
    pub input: OpRole,
    /// The weight gradient of a contraction (`wgrad`).
    pub weight: OpRole,
    /// Gradients of further parameters (biases).
    pub bias: OpRole,
}

/// The roles of the backward ops of an op whose forward role is `role` (Megatron-LM's
/// conjugate operators; the module doc has the table); `None` for a KV-cache append,
/// which has no backward.
pub fn grad_roles(role: OpRole) -> Option<GradRoles> {
    let r = |input, weight, bias| GradRoles {
        input,
        weight,
        bias,
    };
    Some(match role {
        OpRole::Column(b) => r(OpRole::Row(b), OpRole::Column(b), OpRole::Column(b)),
        OpRole::Row(b) => r(OpRole::Column(b), OpRole::Column(b), OpRole::Replicated),
        OpRole::Sliced(b) => r(OpRole::Sliced(b), OpRole::Sliced(b), OpRole::Sliced(b)),
        OpRole::Heads(b) => r(OpRole::Heads(b), OpRole::Heads(b), OpRole::Heads(b)),
        OpRole::Embedding => r(OpRole::Embedding, OpRole::Embedding, OpRole::Embedding),
        OpRole::LmHead => r(
            OpRole::Row(Block::Vocab),
            OpRole::Column(Block::Vocab),
            OpRole::Column(Block::Vocab),
        ),
        OpRole::Replicated | OpRole::Residual => {
            r(OpRole::Residual, OpRole::Residual, OpRole::Residual)
        }
        OpRole::KvAppend(_) => return None,
    })
}

/// The backward pass of forward graph `g`: for every op from the last to the first, the
/// ops computing its gradients (module doc), each with its forward op's `repeat` and
/// `layer`. An [`IrError`] names the first op that cannot be differentiated.
pub fn backward(g: &Graph) -> Result<Graph, IrError> {
    let mut out = Graph::new(
        &format!("{}.backward", g.name),
        g.phase,
        g.batch,
        g.tokens_per_sample,
    );
    for (i, op) in g.ops.iter().enumerate().rev() {
        for b in grad_ops(op, i == 0)? {
            let mut b = b.times(op.repeat)?;
            b.layer = op.layer;
            b.epilogue = false;
            out.push(b);
        }
    }
    Ok(out)
}

fn cannot(op: &Op, why: &str) -> IrError {
    IrError::Invalid {
        op: op.name.clone(),
        msg: format!(
            "autodiff cannot differentiate this {} op: {why}",
            op.kind.family()
        ),
    }
}

/// The gradient tensor of tensor `t`.
fn g(t: &str) -> String {
    format!("{t}.grad")
}

fn by_role(op: &Op, role: Role) -> impl Iterator<Item = &Operand> {
    op.operands.iter().filter(move |o| o.role == role)
}

/// The op's output tensor name and shape (an epilogue lists none: its flat size).
fn output(op: &Op, elems: u64) -> (String, Vec<u64>) {
    match by_role(op, Role::Output).next() {
        Some(o) => (o.tensor.clone(), o.shape.clone()),
        None => (format!("{}.out", op.name), vec![elems]),
    }
}

/// The precision a backward op computes in: the forward's activation format throughout.
fn precision(op: &Op, act: DType, weight: DType) -> Precision {
    Precision {
        weight,
        act,
        kv: act,
        compute: op.compute_dtype,
        weight_group: 0,
        linear: None,
    }
}

fn grad_ops(op: &Op, model_input: bool) -> Result<Vec<Op>, IrError> {
    if by_role(op, Role::KvCache).next().is_some() {
        return Err(cannot(
            op,
            "it reads a KV cache (a prefill or decode graph); build the model with the train \
             phase",
        ));
    }
    if by_role(op, Role::Grad).next().is_some() {
        return Err(cannot(op, "it is already a backward op"));
    }
    let Some(roles) = grad_roles(op.role) else {
        return Err(cannot(
            op,
            "a KV-cache append has no place in a training graph; build the model with the \
             train phase",
        ));
    };
    let fwd_only = |pass: &Pass| -> Result<(), IrError> {
        if pass.is_forward() {
            Ok(())
        } else {
            Err(cannot(op, "it is already a backward op"))
        }
    };
    match &op.kind {
        OpKind::Matmul(m) => matmul(op, m, roles, model_input),
        OpKind::Conv(c) => conv(op, c, roles, model_input),
        OpKind::Attention(a) => attention(op, a, roles).map(|o| vec![o]),
        OpKind::Recurrent(r) => recurrent(op, r, roles),
        OpKind::Scan(s) => {
            fwd_only(&s.pass)?;
            scan(op, s, roles).map(|o| vec![o])
        }
        OpKind::Embedding { tokens, dim, pass } => {
            fwd_only(pass)?;
            embedding(op, *tokens, *dim, roles).map(|o| vec![o])
        }
        OpKind::Elementwise {
            func,
            elems,
            flops_per_elem,
        } => elementwise(op, func, *elems, *flops_per_elem, roles).map(|o| vec![o]),
        OpKind::Norm {
            kind,
            rows,
            cols,
            pass,
        } => {
            fwd_only(pass)?;
            norm(op, *kind, *rows, *cols, roles)
        }
        OpKind::Softmax { rows, cols, pass } => {
            fwd_only(pass)?;
            softmax(op, *rows, *cols, roles).map(|o| vec![o])
        }
        OpKind::Loss {
            kind,
            rows,
            cols,
            pass,
        } => {
            fwd_only(pass)?;
            loss(op, *kind, *rows, *cols, roles).map(|o| vec![o])
        }
        OpKind::Reduce { func, in_elems } => reduce(op, func, *in_elems, roles).map(|o| vec![o]),
        OpKind::DataMovement { func } => data_movement(op, func, roles).map(|o| vec![o]),
        OpKind::AttentionGrad(_) => Err(cannot(op, "it is already a backward op")),
        OpKind::Collective { .. } => Err(cannot(
            op,
            "collectives belong to a sharded graph; differentiate the model before sharding it",
        )),
        OpKind::Unknown { op_type } => Err(cannot(
            op,
            &format!(
                "`{op_type}` is an operator no frontend rule lowered, so its backward is \
                 unknown; a training estimate will not guess it (lower the operator or remove \
                 it from the model)"
            ),
        )),
    }
}

/// The three operands of a binary contraction (`lhs`, `rhs`, `out`).
fn three(op: &Op) -> Result<[&Operand; 3], IrError> {
    match op.operands.as_slice() {
        [a, b, c, ..] if c.role == Role::Output => Ok([a, b, c]),
        _ => Err(cannot(
            op,
            "it does not have the (input, weight, output) operands",
        )),
    }
}

/// The gradient of a further parameter `w` (a bias): `Σ` of `dy` over its rows.
fn bias_grad(op: &Op, w: &Operand, dy: &str, dy_elems: u64, act: DType, role: OpRole) -> Op {
    let suffix = w.tensor.rsplit('.').next().unwrap_or("bias");
    let mut o = Op::new(
        &format!("{}.wgrad.{suffix}", op.name),
        OpKind::Reduce {
            func: "bias_grad".into(),
            in_elems: dy_elems,
        },
        vec![
            operand(dy, Role::Input, vec![dy_elems], act),
            operand(&g(&w.tensor), Role::Grad, w.shape.clone(), w.dtype),
        ],
        act,
    );
    o.role = role;
    o
}
