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

fn matmul(op: &Op, m: &MatmulSpec, r: GradRoles, model_input: bool) -> Result<Vec<Op>, IrError> {
    let [x, w, y] = three(op)?;
    let act = y.dtype;
    let dy = g(&y.tensor);
    let mut v = Vec::new();
    if !model_input {
        // dX[b,m,k] = dY[b,m,n] · Wᵀ[(b),n,k]
        let spec = MatmulSpec {
            batch: m.batch,
            m: m.m,
            n: m.k,
            k: m.n,
            rhs_batched: m.rhs_batched,
        };
        let names = Names {
            lhs: &dy,
            rhs: &w.tensor,
            out: &g(&x.tensor),
        };
        let mut d = Op::matmul(
            &format!("{}.dgrad", op.name),
            spec,
            names,
            w.role,
            act,
            w.dtype,
            op.compute_dtype,
        )?;
        d.operands[1].group = w.group;
        d.role = r.input;
        v.push(d);
    }
    // The reduction of a gradient of the right operand runs over every row: per batch when
    // the right operand has its own batch axis, over batch × rows when it is shared.
    let (b, red) = if m.rhs_batched {
        (m.batch, m.m)
    } else {
        (1, m.batch * m.m)
    };
    if w.role == Role::Weight {
        let row = matches!(op.role, OpRole::Row(_));
        // Column-split (or unsplit) weight: dW[k,n] = Xᵀ[k,·]·dY[·,n], split dim n.
        // Row-split weight: dWᵀ[n,k] = dYᵀ[n,·]·X[·,k], so that the split k is its n.
        let (spec, lhs, rhs) = if row {
            let s = MatmulSpec {
                batch: b,
                m: m.n,
                n: m.k,
                k: red,
                rhs_batched: m.rhs_batched,
            };
            (s, dy.as_str(), x.tensor.as_str())
        } else {
            let s = MatmulSpec {
                batch: b,
                m: m.k,
                n: m.n,
                k: red,
                rhs_batched: m.rhs_batched,
            };
            (s, x.tensor.as_str(), dy.as_str())
        };
        let names = Names {
            lhs,
            rhs,
            out: &g(&w.tensor),
        };
        let mut wg = Op::matmul(
            &format!("{}.wgrad", op.name),
            spec,
            names,
            Role::Input,
            act,
            act,
            op.compute_dtype,
        )?;
        wg.operands[2].role = Role::Grad;
        wg.role = r.weight;
        v.push(wg);
    } else {
        // dB[(b),k,n] = Aᵀ[(b),k,m] · dY[(b),m,n]: an activation gradient.
        let spec = MatmulSpec {
            batch: b,
            m: m.k,
            n: m.n,
            k: red,
            rhs_batched: m.rhs_batched,
        };
        let names = Names {
            lhs: &x.tensor,
            rhs: &dy,
            out: &g(&w.tensor),
        };
        let mut d = Op::matmul(
            &format!("{}.dgrad_rhs", op.name),
            spec,
            names,
            Role::Input,
            act,
            act,
            op.compute_dtype,
        )?;
        d.role = r.input;
        v.push(d);
    }
    for p in op.operands[3..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, p, &dy, y.elems(), act, r.bias));
    }
    Ok(v)
}

fn conv(op: &Op, c: &ConvSpec, r: GradRoles, model_input: bool) -> Result<Vec<Op>, IrError> {
    let [x, w, y] = three(op)?;
    let act = y.dtype;
    let dy = g(&y.tensor);
    let mut v = Vec::new();
    let (p, q) = c.output_hw();
    if !model_input {
        // The adjoint of a convolution is the transposed convolution with the same kernel,
        // stride, padding, dilation and groups (and vice versa), over the output's size.
        let spec = ConvSpec {
            n: c.n,
            c: c.k,
            h: p,
            w: q,
            k: c.c,
            transposed: !c.transposed,
            ..*c
        };
        let mut d = Op::conv(
            &format!("{}.dgrad", op.name),
            spec,
            &w.tensor,
            precision(op, act, w.dtype),
        )?;
        d.operands[0].tensor = dy.clone();
        d.operands[1] = w.clone();
        d.operands[2].tensor = g(&x.tensor);
        d.operands[2].shape = x.shape.clone();
        d.role = r.input;
        v.push(d);
    }
    // dW per group as the implicit GEMM: M = k/g, N = c/g·r·s, K = n·p·q (a transposed
    // forward iterates its input positions: K = n·h·w, M = c/g, N = k/g·r·s).
    let gr = c.groups;
    let (mm, nn, kk) = if c.transposed {
        (c.c / gr, c.k / gr * c.r * c.s, c.n * c.h * c.w)
    } else {
        (c.k / gr, c.c / gr * c.r * c.s, c.n * p * q)
    };
    checked_product(&op.name, "wgrad GEMM", &[gr, mm, nn, kk])?;
    let spec = MatmulSpec {
        batch: gr,
        m: mm,
        n: nn,
        k: kk,
        rhs_batched: true,
    };
    let names = Names {
        lhs: &dy,
        rhs: &x.tensor,
        out: &g(&w.tensor),
    };
    let mut wg = Op::matmul(
        &format!("{}.wgrad", op.name),
        spec,
        names,
        Role::Input,
        act,
        act,
        op.compute_dtype,
    )?;
    // The tensors' own shapes: dY, X and dW (the GEMM view gathers windows of X).
    wg.operands[0].shape = y.shape.clone();
    wg.operands[1].shape = x.shape.clone();
    wg.operands[2].shape = w.shape.clone();
    wg.operands[2].dtype = w.dtype;
    wg.operands[2].role = Role::Grad;
    // A grouped (depthwise) convolution on split channels: its per-group GEMMs are batched
    // over the channels the devices split.
    wg.role = match (op.role, gr > 1) {
        (OpRole::Sliced(b), true) => OpRole::Heads(b),
        _ => r.weight,
    };
    v.push(wg);
    for b in op.operands[3..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, b, &dy, y.elems(), act, r.bias));
    }
    Ok(v)
}

fn attention(op: &Op, a: &AttentionSpec, r: GradRoles) -> Result<Op, IrError> {
    let fwd = match op.operands.as_slice() {
        [q, k, v, o, ..] if o.role == Role::Output => [q, k, v, o],
        _ => return Err(cannot(op, "it does not have the (q, k, v, out) operands")),
    };
    let act = fwd[0].dtype;
    let mut d = Op::attention_grad(&format!("{}.grad", op.name), *a, precision(op, act, act))?;
    let names = [
        fwd[0].tensor.clone(),
        fwd[1].tensor.clone(),
        fwd[2].tensor.clone(),
        fwd[3].tensor.clone(),
        g(&fwd[3].tensor),
        format!("{}.lse", op.name),
        g(&fwd[0].tensor),
        g(&fwd[1].tensor),
        g(&fwd[2].tensor),
    ];
    for (o, n) in d.operands.iter_mut().zip(names) {
        o.tensor = n;
    }
    // Parameters the attention reads (GNMT's additive score vector): read, and their
    // gradients written.
    for p in op.operands[4..].iter().filter(|o| o.role == Role::Weight) {
        d.operands.push(p.clone());
        d.operands
            .push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    d.role = r.input;
    Ok(d)
}

fn recurrent(op: &Op, rs: &RecurrentSpec, r: GradRoles) -> Result<Vec<Op>, IrError> {
    let [x, w_ih, w_hh, y] = match op.operands.as_slice() {
        [x, a, b, y, ..] if y.role == Role::Output => [x, a, b, y],
        _ => {
            return Err(cannot(
                op,
                "it does not have the (x, w_ih, w_hh, y) operands",
            ))
        }
    };
    let act = y.dtype;
    let gh = rs.cell.gates() * rs.hidden_size;
    let dgates = format!("{}.dgates", op.name);
    // cudnnRNNBackwardData: the recurrent dgrad over seq_len dependent steps plus the
    // input-side dX of every step as one GEMM; reads dY, both weights and the gate
    // activations the forward saved (cuDNN's reserve space).
    let mut d = Op::recurrent(
        &format!("{}.dgrad", op.name),
        *rs,
        precision(op, act, w_ih.dtype),
    )?;
    d.operands = vec![
        operand(&g(&y.tensor), Role::Input, y.shape.clone(), act),
        w_ih.clone(),
        w_hh.clone(),
        operand(&g(&x.tensor), Role::Output, x.shape.clone(), act),
        operand(
            &format!("{}.reserve", op.name),
            Role::Input,
            vec![rs.seq_len, rs.directions, rs.batch, gh],
            act,
        ),
    ];
    d.role = r.input;
    // cudnnRNNBackwardWeights: dW = dgatesᵀ · [X, H_{t−1}] over all steps at once.
    let rows = rs.seq_len * rs.batch;
    let spec = MatmulSpec {
        batch: rs.directions,
        m: gh,
        n: rs.input_size + rs.hidden_size,
        k: rows,
        rhs_batched: true,
    };
    let names = Names {
        lhs: &dgates,
        rhs: &format!("{}.xh", op.name),
        out: &g(&w_ih.tensor),
    };
    let mut wg = Op::matmul(
        &format!("{}.wgrad", op.name),
        spec,
        names,
        Role::Input,
        act,
        act,
        op.compute_dtype,
    )?;
    wg.operands[2] = operand(&g(&w_ih.tensor), Role::Grad, w_ih.shape.clone(), w_ih.dtype);
    wg.operands.push(operand(
        &g(&w_hh.tensor),
        Role::Grad,
        w_hh.shape.clone(),
        w_hh.dtype,
    ));
    wg.role = r.weight;
    let mut v = vec![d, wg];
    let dgates_elems = rs.directions * rows * gh;
    for b in op.operands[4..].iter().filter(|o| o.role == Role::Weight) {
        v.push(bias_grad(op, b, &dgates, dgates_elems, act, r.bias));
    }
    Ok(v)
}

fn scan(op: &Op, s: &ScanSpec, r: GradRoles) -> Result<Op, IrError> {
    let f = match op.operands.as_slice() {
        [x, dt, bc, a, h, y, ..] => [x, dt, bc, a, h, y],
        _ => {
            return Err(cannot(
                op,
                "it does not have the (x, dt, bc, A, state, y) operands",
            ))
        }
    };
    let act = f[0].dtype;
    let spec = ScanSpec {
        pass: Pass::InputGrad,
        ..*s
    };
    let mut d = Op::scan(&format!("{}.grad", op.name), spec, precision(op, act, act))?;
    // Operands in the forward's order (x, dt, B|C, A, saved states) so sharding splits them
    // alike, then dy, the input gradients and the parameter gradients.
    let input = |o: &Operand| Operand {
        role: Role::Input,
        ..o.clone()
    };
    d.operands = vec![
        input(f[0]),
        input(f[1]),
        input(f[2]),
        f[3].clone(),
        input(f[4]),
        operand(&g(&f[5].tensor), Role::Input, f[5].shape.clone(), act),
        operand(&g(&f[0].tensor), Role::Output, f[0].shape.clone(), act),
        operand(&g(&f[1].tensor), Role::Output, f[1].shape.clone(), act),
        operand(&g(&f[2].tensor), Role::Output, f[2].shape.clone(), act),
        operand(&g(&f[3].tensor), Role::Grad, f[3].shape.clone(), f[3].dtype),
    ];
    for p in op.operands[6..].iter().filter(|o| o.role == Role::Weight) {
        d.operands.push(p.clone());
        d.operands
            .push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    d.role = r.input;
    Ok(d)
}

fn embedding(op: &Op, tokens: u64, dim: u64, r: GradRoles) -> Result<Op, IrError> {
    let (table, out) = match op.operands.as_slice() {
        [t, o, ..] if t.role == Role::Weight && o.role == Role::Output => (t, o),
        _ => return Err(cannot(op, "it does not have the (table, output) operands")),
    };
    // The table's gradient rows first, like the table in the forward (sharding splits it).
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Embedding {
            tokens,
            dim,
            pass: Pass::ParamGrad,
        },
        vec![
            operand(
                &g(&table.tensor),
                Role::Grad,
                table.shape.clone(),
                table.dtype,
            ),
            operand(&g(&out.tensor), Role::Input, out.shape.clone(), out.dtype),
        ],
        op.compute_dtype,
    );
    d.role = r.input;
    Ok(d)
}

/// Costs of an activation `f`: (forward FLOPs, backward FLOPs of `dx = dy·f'(x)` with the
/// derivative recomputed from `x`), per element.
fn activation(f: &str) -> Option<(u64, u64)> {
    Some(match f {
        "relu" => (1, 1),
        "relu6" => (2, 2),
        // tanh form: inner polynomial, tanh, 0.5·x·(1 + t) (8); backward adds the
        // derivative of the polynomial and of tanh, then dy· (17).
        "gelu" => (8, 17),
        // x·σ(x) (5); dy·σ·(1 + x·(1 − σ)) with σ recomputed (9).
        "silu" => (5, 9),
        // σ (4); dy·σ·(1 − σ) with σ recomputed (7).
        "sigmoid" => (4, 7),
        // tanh (5, as the zoo counts it); dy·(1 − y²) (3).
        "tanh" => (5, 3),
        // log(1 + exp x) (3); dy·σ(x) (5).
        "softplus" => (3, 5),
        _ => return None,
    })
}

/// How an elementwise op's backward computes: FLOPs per output element, how many saved
/// forward inputs it reads, how many further gradients it reads and how many it writes.
struct EltRule {
    flops: u64,
    saved_inputs: u64,
    saved_output: bool,
    grads_read: u64,
    grads_written: u64,
}

fn elt_rule(func: &str, n: u64, fwd: u64) -> EltRule {
    let rule = |flops, saved_inputs, grads_read, grads_written| EltRule {
        flops,
        saved_inputs,
        saved_output: false,
        grads_read,
        grads_written,
    };
    let gated = |f: u64, b: u64| rule(f + b + 2, 2, 0, 2);
    match func {
        // Accumulation of `n` gradient streams at the fork (module doc).
        "add" => rule(n.saturating_sub(1).max(1), 0, n.saturating_sub(1), 1),
        // The inverse rotation: the forward's FLOPs, the same cos/sin tables.
        "rope" => rule(fwd, 0, 0, 1),
        // Σ w_i·x_i: dx_i = w_i·dy (k), dw_i = Σ dy·x_i (2k).
        "weighted_sum" => rule(3 * n, n, 0, n),
        // tanh(a + b): dy·(1 − y²) from the saved output, one gradient for both inputs.
        "add_tanh" => EltRule {
            saved_output: true,
            ..rule(3, 0, 0, 1)
        },
        // dy · mask / (1 − p): the saved one-byte mask (read below), not the input.
        "dropout" => rule(2, 0, 0, 1),
        // A relative-position bias gathered from a table: its backward scatter-adds dY into
        // the table's gradient (written as the parameter's gradient), one add per element.
        "position_bias" => rule(1, 0, 0, 0),
        f => match (f.strip_suffix("_mul").and_then(activation), activation(f)) {
            (Some((a, b)), _) => gated(a, b),
            // An activation over two inputs multiplies them (MoE experts' gated act).
            (None, Some((a, b))) if n == 2 => gated(a, b),
            (None, Some((_, b))) => rule(b, 1, 0, 1),
            // Recompute the local derivatives (the forward's FLOPs), one multiply per input.
            _ => rule(fwd + n, n, 0, n),
        },
    }
}

fn elementwise(
    op: &Op,
    func: &str,
    elems: u64,
    fwd_flops: u64,
    r: GradRoles,
) -> Result<Op, IrError> {
    let (out, shape) = output(op, elems);
    let dt = op.compute_dtype;
    // An epilogue lost its first input (the convolution's output) from its operands.
    let mut inputs: Vec<String> = Vec::new();
    if op.epilogue {
        inputs.push(format!("{}.in0", op.name));
    }
    inputs.extend(by_role(op, Role::Input).map(|o| o.tensor.clone()));
    let n = inputs.len().max(1) as u64;
    let rule = elt_rule(func, n, fwd_flops);
    let act = |t: &str, role| operand(t, role, shape.clone(), dt);
    let mut ops = vec![act(&g(&out), Role::Input)];
    for t in inputs.iter().take(rule.saved_inputs as usize) {
        ops.push(act(t, Role::Input));
    }
    if rule.saved_output {
        ops.push(act(&out, Role::Input));
    }
    for i in 0..rule.grads_read {
        ops.push(act(&format!("{}.grad_in{i}", op.name), Role::Input));
    }
    if func == "dropout" {
        // The mask the forward kept (its one-byte output).
        for m in by_role(op, Role::Output).filter(|m| m.dtype == DType::Int8) {
            ops.push(operand(&m.tensor, Role::Input, m.shape.clone(), m.dtype));
        }
    }
    for i in 0..rule.grads_written as usize {
        let t = inputs
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("{}.in{i}", op.name));
        ops.push(act(&g(&t), Role::Output));
    }
    for p in by_role(op, Role::Weight) {
        ops.push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Elementwise {
            func: format!("{func}_grad"),
            elems,
            flops_per_elem: rule.flops,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

fn norm(op: &Op, kind: NormKind, rows: u64, cols: u64, r: GradRoles) -> Result<Vec<Op>, IrError> {
    let dt = op.compute_dtype;
    let (out, _) = output(op, rows * cols);
    let x = by_role(op, Role::Input)
        .next()
        .map(|o| o.tensor.clone())
        .unwrap_or_else(|| format!("{}.in", op.name));
    let mut params: Vec<Operand> = by_role(op, Role::Weight).cloned().collect();
    if op.epilogue && params.is_empty() {
        // A BatchNorm fused into a convolution lost its folded scale and shift.
        for p in ["gamma", "beta"] {
            params.push(operand(
                &format!("{}.{p}", op.name),
                Role::Weight,
                vec![cols],
                dt,
            ));
        }
    }
    let gamma = params
        .first()
        .cloned()
        .unwrap_or_else(|| operand(&format!("{}.gamma", op.name), Role::Weight, vec![cols], dt));
    // Mean and rstd per normalised group (RMSNorm: rstd), FP32, saved by the forward.
    let stats_shape = match kind {
        NormKind::BatchNorm => vec![cols, 2],
        NormKind::RmsNorm => vec![rows, 1],
        NormKind::LayerNorm | NormKind::GroupNorm => vec![rows, 2],
    };
    let stats = operand(
        &format!("{}.stats", op.name),
        Role::Input,
        stats_shape,
        DType::Fp32,
    );
    let a = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut dx = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Norm {
            kind,
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        vec![
            a(&g(&out), Role::Input),
            a(&x, Role::Input),
            gamma,
            stats.clone(),
            a(&g(&x), Role::Output),
        ],
        dt,
    );
    dx.role = r.input;
    let mut ops = vec![a(&g(&out), Role::Input), a(&x, Role::Input), stats];
    ops.extend(
        params
            .iter()
            .map(|p| operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype)),
    );
    let mut dw = Op::new(
        &format!("{}.wgrad", op.name),
        OpKind::Norm {
            kind,
            rows,
            cols,
            pass: Pass::ParamGrad,
        },
        ops,
        dt,
    );
    dw.role = r.input;
    Ok(vec![dx, dw])
}

fn softmax(op: &Op, rows: u64, cols: u64, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let (out, _) = output(op, rows * cols);
    let x = by_role(op, Role::Input)
        .next()
        .map(|o| o.tensor.clone())
        .unwrap_or_else(|| format!("{}.in", op.name));
    let a = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Softmax {
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        vec![
            a(&g(&out), Role::Input),
            a(&out, Role::Input),
            a(&g(&x), Role::Output),
        ],
        dt,
    );
    d.role = r.input;
    Ok(d)
}

fn loss(op: &Op, kind: LossKind, rows: u64, cols: u64, r: GradRoles) -> Result<Op, IrError> {
    let named = |i: usize, fallback: &str| {
        op.operands
            .get(i)
            .map(|o| o.tensor.clone())
            .unwrap_or_else(|| format!("{}.{fallback}", op.name))
    };
    let dt = op.compute_dtype;
    let pred = named(0, "in");
    let target = named(1, "target");
    let loss = named(2, "loss");
    let p = |t: &str, role| operand(t, role, vec![rows, cols], dt);
    let mut ops = vec![p(&pred, Role::Input)];
    match kind {
        LossKind::CrossEntropy => {
            ops.push(operand(
                &named(3, "lse"),
                Role::Input,
                vec![rows],
                DType::Fp32,
            ));
            ops.push(operand(&target, Role::Input, vec![rows], DType::Fp32));
        }
        LossKind::Mse => ops.push(p(&target, Role::Input)),
    }
    ops.push(operand(&g(&loss), Role::Input, vec![1], DType::Fp32));
    ops.push(p(&g(&pred), Role::Output));
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Loss {
            kind,
            rows,
            cols,
            pass: Pass::InputGrad,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

fn reduce(op: &Op, func: &str, in_elems: u64, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let x = by_role(op, Role::Input)
        .next()
        .cloned()
        .unwrap_or_else(|| operand(&format!("{}.in", op.name), Role::Input, vec![in_elems], dt));
    let (out, shape) = output(op, 1);
    let mut ops = vec![operand(&g(&out), Role::Input, shape, dt)];
    if func == "max" {
        // Max pooling routes dY to the arg-max of each window: it re-reads the input.
        ops.push(x.clone());
    }
    ops.push(operand(&g(&x.tensor), Role::Output, x.shape.clone(), dt));
    let mut d = Op::new(
        &format!("{}.grad", op.name),
        OpKind::Reduce {
            func: format!("{func}_grad"),
            in_elems,
        },
        ops,
        dt,
    );
    d.role = r.input;
    Ok(d)
}

fn data_movement(op: &Op, func: &str, r: GradRoles) -> Result<Op, IrError> {
    let dt = op.compute_dtype;
    let x = by_role(op, Role::Input).next().cloned();
    let moved = x.as_ref().map_or(1, Operand::elems);
    let x = x.unwrap_or_else(|| operand(&format!("{}.in", op.name), Role::Input, vec![moved], dt));
    let (out, shape) = output(op, moved);
    let mut ops = vec![
        operand(&g(&out), Role::Input, shape, dt),
        operand(&g(&x.tensor), Role::Output, x.shape.clone(), dt),
    ];
    for p in by_role(op, Role::Weight) {
        ops.push(operand(&g(&p.tensor), Role::Grad, p.shape.clone(), p.dtype));
    }
    // Nearest upsampling copies each value into a window; its adjoint sums the window.
    let kind = if func == "upsample" {
        OpKind::Reduce {
            func: "upsample_grad".into(),
            in_elems: moved,
        }
    } else {
        OpKind::DataMovement {
            func: format!("{func}_grad"),
        }
    };
    let mut d = Op::new(&format!("{}.grad", op.name), kind, ops, dt);
    d.role = r.input;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Phase;

    fn p() -> Precision {
        Precision::uniform(DType::Bf16)
    }

    #[test]
    fn a_linear_layer_has_dgrad_then_wgrad_with_twice_its_macs() {
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(Op::norm("n", NormKind::RmsNorm, 64, 512, DType::Bf16).unwrap());
        gr.push(
            Op::linear("fc", 64, 512, 1024, "fc.w", p())
                .unwrap()
                .with_role(OpRole::Column(Block::Mlp))
                .times(3)
                .unwrap()
                .in_layer(0),
        );
        let b = backward(&gr).unwrap();
        let names: Vec<_> = b.ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["fc.dgrad", "fc.wgrad", "n.grad", "n.wgrad"]);
        assert_eq!(b.ops[0].role, OpRole::Row(Block::Mlp));
        assert_eq!(b.ops[1].role, OpRole::Column(Block::Mlp));
        assert_eq!(b.ops[2].role, OpRole::Residual);
        assert_eq!((b.ops[0].repeat, b.ops[0].layer), (3, Some(0)));
        assert_eq!(b.ops[2].layer, None);
        let fwd = gr.ops[1].macs();
        assert_eq!(b.ops[0].macs() + b.ops[1].macs(), 2 * fwd);
        assert_eq!(b.ops[1].operands[2].role, Role::Grad);
        assert_eq!(b.ops[1].operands[2].tensor, "fc.w.grad");
        // The column split of the wgrad is the forward's n.
        let OpKind::Matmul(w) = b.ops[1].kind else {
            panic!()
        };
        assert_eq!(w.n, 1024);
    }

    #[test]
    fn the_model_inputs_first_contraction_has_no_dgrad() {
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(Op::linear("fc", 64, 512, 1024, "w", p()).unwrap());
        let b = backward(&gr).unwrap();
        assert_eq!(b.ops.len(), 1);
        assert_eq!(b.ops[0].name, "fc.wgrad");
    }

    #[test]
    fn undifferentiable_ops_are_errors_naming_the_op() {
        let dt = DType::Bf16;
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(Op::unknown("weird", "FancyOp", vec![], dt));
        let e = backward(&gr).unwrap_err();
        assert!(e.to_string().contains("weird") && e.to_string().contains("FancyOp"));
        let mut gr = Graph::new("t", Phase::Decode, 1, 1);
        let a = AttentionSpec {
            batch: 1,
            heads: 8,
            kv_heads: 8,
            q_len: 1,
            kv_len: 100,
            head_dim: 64,
            v_head_dim: 64,
            causal: true,
        };
        gr.push(Op::attention("attn", a, Role::KvCache, p()).unwrap());
        assert!(backward(&gr).unwrap_err().to_string().contains("KV cache"));
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(
            Op::data_movement("app", "kv_cache_append", 64, dt)
                .unwrap()
                .with_role(OpRole::KvAppend(Block::Attention)),
        );
        assert!(backward(&gr).is_err());
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(Op::collective("ar", CollectiveKind::AllReduce, 64, 8, dt).unwrap());
        assert!(backward(&gr).is_err());
        // A backward graph is not differentiated again.
        let mut gr = Graph::new("t", Phase::Train, 1, 1);
        gr.push(Op::norm("n", NormKind::LayerNorm, 4, 8, dt).unwrap());
        let b = backward(&gr).unwrap();
        assert!(backward(&b).is_err());
    }

    #[test]
    fn roles_follow_megatrons_conjugate_operators() {
        let m = Block::Mlp;
        let gr = grad_roles(OpRole::Row(m)).unwrap();
        assert_eq!(
            (gr.input, gr.weight, gr.bias),
            (OpRole::Column(m), OpRole::Column(m), OpRole::Replicated)
        );
        let gr = grad_roles(OpRole::LmHead).unwrap();
        assert_eq!(gr.input, OpRole::Row(Block::Vocab));
        assert_eq!(gr.weight, OpRole::Column(Block::Vocab));
        assert_eq!(
            grad_roles(OpRole::Replicated).unwrap().input,
            OpRole::Residual
        );
        assert!(grad_roles(OpRole::KvAppend(Block::Attention)).is_none());
    }
}
