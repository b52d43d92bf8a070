//! Canonical operator families every era lowers into, and the typed operands they touch.

use serde::Serialize;

use crate::DType;

/// What an operand is, which decides where it lives and how it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Activation read by the op.
    Input,
    /// Trained parameter read by the op.
    Weight,
    /// KV cache read by attention (grows with context).
    KvCache,
    /// Written by the op.
    Output,
    /// A parameter's gradient written by a backward op ([`crate::autodiff`]): weight and
    /// bias gradients of `wgrad` ops, norm-parameter reductions, an embedding's scatter-add.
    /// Parameter-sized and kept for the optimizer, so it is neither an activation
    /// ([`Role::Output`]) nor a parameter ([`Role::Weight`]); memory accounting and the
    /// engine count it as written once off-chip.
    Grad,
}

/// Which pass of its family's arithmetic an op computes. The backward pass
/// ([`crate::autodiff`]) differentiates norms, softmaxes, embeddings, selective scans and
/// losses into ops of the same family whose FLOPs follow the derivative, not the forward
/// formula (see [`crate::Op::vector_flops`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// The forward computation.
    #[default]
    Forward,
    /// The gradient with respect to the op's activation input(s).
    InputGrad,
    /// The gradient with respect to the op's parameters (a reduction over the rows).
    ParamGrad,
}

impl Pass {
    pub fn is_forward(&self) -> bool {
        *self == Pass::Forward
    }
}

/// A typed operand of an op. `tensor` names it so ops form a graph by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operand {
    pub tensor: String,
    pub role: Role,
    pub shape: Vec<u64>,
    pub dtype: DType,
    /// Elements sharing one quantisation scale and zero point, stored beside the values
    /// ([`crate::dtype::GROUP_SCALE_ZERO_BITS`] per group); 0: none, or per-channel scales
    /// too few to count.
    #[serde(skip_serializing_if = "is_zero")]
    pub group: u64,
}

fn is_zero(g: &u64) -> bool {
    *g == 0
}

impl Operand {
    pub fn elems(&self) -> u64 {
        self.shape.iter().product()
    }
    pub fn bytes(&self) -> u64 {
        self.storage_bytes(self.elems())
    }
    /// Bytes to store `elems` of this operand's elements, group scales included.
    pub fn storage_bytes(&self, elems: u64) -> u64 {
        let meta = if self.group > 0 {
            elems.div_ceil(self.group) * crate::dtype::GROUP_SCALE_ZERO_BITS
        } else {
            0
        };
        (elems * self.dtype.bits() + meta).div_ceil(8)
    }
}

/// `out[b,m,n] = Σ_k a[b,m,k] · w[(b),k,n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct MatmulSpec {
    pub batch: u64,
    pub m: u64,
    pub n: u64,
    pub k: u64,
    /// True for batched matmuls whose right operand has its own batch axis (attention
    /// scores, MoE experts); false for a weight shared across the batch (linear layers).
    pub rhs_batched: bool,
}

/// 2-D convolution (NCHW). `transposed` is a ConvTranspose whose `h, w` are the input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConvSpec {
    pub n: u64,
    pub c: u64,
    pub h: u64,
    pub w: u64,
    pub k: u64,
    pub r: u64,
    pub s: u64,
    pub stride: (u64, u64),
    pub pad: (u64, u64, u64, u64),
    pub dilation: (u64, u64),
    pub groups: u64,
    pub transposed: bool,
}

impl ConvSpec {
    /// Output (P, Q): floor((H + pads − dil·(R−1) − 1)/stride) + 1 for a convolution,
    /// `(H−1)·stride − pads + dil·(R−1) + 1` for a transposed one (ONNX conventions).
    pub fn output_hw(&self) -> (u64, u64) {
        let (pt, pl, pb, pr) = self.pad;
        if self.transposed {
            let p = ((self.h - 1) * self.stride.0 + self.dilation.0 * (self.r - 1) + 1)
                .saturating_sub(pt + pb);
            let q = ((self.w - 1) * self.stride.1 + self.dilation.1 * (self.s - 1) + 1)
                .saturating_sub(pl + pr);
            (p.max(1), q.max(1))
        } else {
            let eff_r = self.dilation.0 * (self.r - 1) + 1;
            let eff_s = self.dilation.1 * (self.s - 1) + 1;
            let p = (self.h + pt + pb).saturating_sub(eff_r) / self.stride.0 + 1;
            let q = (self.w + pl + pr).saturating_sub(eff_s) / self.stride.1 + 1;
            (p, q)
        }
    }
}

/// Fused scaled-dot-product attention (FlashAttention-style): scores never reach memory.
/// `heads` query heads share `kv_heads` K/V heads (MHA: equal; GQA: divides; MQA: 1).
/// MLA fits by setting `head_dim` (QK) and `v_head_dim` separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttentionSpec {
    pub batch: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub q_len: u64,
    pub kv_len: u64,
    pub head_dim: u64,
    pub v_head_dim: u64,
    pub causal: bool,
}

impl AttentionSpec {
    /// (query, key) pairs actually computed per (batch, head). With a causal mask and the
    /// queries being the last `q_len` of `kv_len` positions, query i sees
    /// `kv_len − q_len + i + 1` keys.
    pub fn scored_pairs(&self) -> u64 {
        if !self.causal || self.q_len > self.kv_len {
            return self.q_len * self.kv_len;
        }
        let prefix = self.kv_len - self.q_len;
        self.q_len * prefix + self.q_len * (self.q_len + 1) / 2
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecurrentCell {
    Lstm,
    Gru,
    Rnn,
}

impl RecurrentCell {
    pub fn gates(self) -> u64 {
        match self {
            RecurrentCell::Lstm => 4,
            RecurrentCell::Gru => 3,
            RecurrentCell::Rnn => 1,
        }
    }
    /// Elementwise FLOPs per hidden unit per step after the gate GEMMs: LSTM 3 sigmoids +
    /// 2 tanh + 3 mul + 1 add ≈ 9 plus bias adds 8; GRU ≈ 12; vanilla RNN bias + tanh ≈ 3.
    /// Counted as in cuDNN's RNN documentation of the cell equations.
    pub fn pointwise_flops_per_unit(self) -> u64 {
        match self {
            RecurrentCell::Lstm => 17,
            RecurrentCell::Gru => 12,
            RecurrentCell::Rnn => 3,
        }
    }
}

/// One recurrent layer (all directions). Its time dependence is kept: the hidden-state
/// GEMM runs `seq_len` times, each step waiting on the previous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct RecurrentSpec {
    pub cell: RecurrentCell,
    pub seq_len: u64,
    pub batch: u64,
    pub input_size: u64,
    pub hidden_size: u64,
    pub directions: u64,
}

/// Selective scan (Mamba S6): `h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t x_t; y_t = C_t h_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanSpec {
    pub batch: u64,
    pub seq_len: u64,
    pub channels: u64,
    pub state: u64,
    /// `InputGrad`: mamba-ssm's `selective_scan_bwd`, the gradients of every input and
    /// parameter, recomputing the forward states.
    #[serde(skip_serializing_if = "Pass::is_forward")]
    pub pass: Pass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    LayerNorm,
    RmsNorm,
    BatchNorm,
    GroupNorm,
}

impl NormKind {
    /// FLOPs per element: LayerNorm mean, variance, subtract, scale, shift ≈ 5 (+1 affine);
    /// RMSNorm square-sum, scale, weight ≈ 4; inference BatchNorm folds to scale+shift = 2.
    pub fn flops_per_elem(self) -> u64 {
        match self {
            NormKind::LayerNorm | NormKind::GroupNorm => 6,
            NormKind::RmsNorm => 4,
            NormKind::BatchNorm => 2,
        }
    }

    /// FLOPs per element of the input gradient, from the derivative of the normalisation
    /// (the formula PyTorch's `layer_norm_backward` and `batch_norm_backward` kernels
    /// evaluate, `aten/src/ATen/native/cuda/layer_norm_kernel.cu`): recompute
    /// x̂ = (x − μ)·rstd (2), dx̂ = dy·γ (1), the row sums Σdx̂ (1) and Σdx̂·x̂ (2), then
    /// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) (4) = 10. RMSNorm has no mean: x̂ = x·rstd
    /// (1), dx̂ (1), Σdx̂·x̂ (2), dx = rstd·(dx̂ − x̂·mean(dx̂·x̂)) (3) = 7. A training-mode
    /// BatchNorm and GroupNorm normalise like LayerNorm (over other axes): 10.
    pub fn input_grad_flops_per_elem(self) -> u64 {
        match self {
            NormKind::LayerNorm | NormKind::GroupNorm | NormKind::BatchNorm => 10,
            NormKind::RmsNorm => 7,
        }
    }

    /// FLOPs per element of the parameter gradients, reduced over the rows in a kernel of
    /// their own (PyTorch's `GammaBetaBackwardCUDAKernel`): dγ = Σ dy·x̂ with x̂ recomputed
    /// (LayerNorm 2 + multiply + add = 4) and dβ = Σ dy (1) = 5; RMSNorm has only γ:
    /// x̂ (1) + multiply + add = 3. (A LayerNorm without β is counted with it: 1 FLOP per
    /// element too many on a reduction that is a few per cent of the norm's work.)
    pub fn param_grad_flops_per_elem(self) -> u64 {
        match self {
            NormKind::LayerNorm | NormKind::GroupNorm | NormKind::BatchNorm => 5,
            NormKind::RmsNorm => 3,
        }
    }
}

/// The training objective a [`OpKind::Loss`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Softmax cross-entropy over class logits `[rows, cols]` against one class index per
    /// row, averaged over the rows (`torch.nn.functional.cross_entropy`: log-softmax then
    /// negative log-likelihood).
    CrossEntropy,
    /// Mean squared error between a prediction `[rows, cols]` and a target of that shape
    /// (a diffusion model's predicted noise against the noise added, Ho et al. 2020 eq. 14).
    Mse,
}

impl LossKind {
    pub fn name(self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::Mse => "mse",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectiveKind {
    AllReduce,
    AllGather,
    ReduceScatter,
    AllToAll,
}

/// Operator families. Parameters give arithmetic; operands give bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum OpKind {
    Matmul(MatmulSpec),
    Conv(ConvSpec),
    Attention(AttentionSpec),
    /// FlashAttention-2's backward kernel (Dao 2023, Algorithm 2) for the attention of
    /// `spec`: it recomputes the scores `S = QKᵀ` and probabilities from the saved row
    /// log-sum-exp, then computes `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = P∘(dP − D)`,
    /// `dQ = dS·K` and `dK = dSᵀ·Q`: five matmuls against the forward's two. Reads Q, K, V,
    /// O, dO and the row statistics; writes dQ, dK, dV.
    AttentionGrad(AttentionSpec),
    Recurrent(RecurrentSpec),
    Scan(ScanSpec),
    /// Row gather from a table (`tokens` rows of `dim`); with `pass = ParamGrad`, the
    /// backward scatter-add of `tokens × dim` gradient rows into the table's gradient.
    Embedding {
        tokens: u64,
        dim: u64,
        #[serde(skip_serializing_if = "Pass::is_forward")]
        pass: Pass,
    },
    /// Pointwise math over `elems` outputs; `flops_per_elem` counts one FLOP per add,
    /// multiply or transcendental.
    Elementwise {
        func: String,
        elems: u64,
        flops_per_elem: u64,
    },
    /// A normalisation over `rows × cols`; its gradients are `pass = InputGrad` (dx) and
    /// `ParamGrad` (dγ, dβ) with the FLOPs of [`NormKind::input_grad_flops_per_elem`] and
    /// [`NormKind::param_grad_flops_per_elem`].
    Norm {
        kind: NormKind,
        rows: u64,
        cols: u64,
        #[serde(skip_serializing_if = "Pass::is_forward")]
        pass: Pass,
    },
    /// max, subtract, exp, sum, divide: 5 FLOPs per element. Its input gradient
    /// `dx = y∘(dy − Σ dy∘y)` is 4 per element (multiply, sum, subtract, multiply).
    Softmax {
        rows: u64,
        cols: u64,
        #[serde(skip_serializing_if = "Pass::is_forward")]
        pass: Pass,
    },
    /// A training loss over a `[rows, cols]` prediction, reduced to one scalar; `pass =
    /// InputGrad` is its gradient with respect to the prediction. FLOPs: see
    /// [`crate::Op::vector_flops`].
    Loss {
        kind: LossKind,
        rows: u64,
        cols: u64,
        #[serde(skip_serializing_if = "Pass::is_forward")]
        pass: Pass,
    },
    /// Reductions and pooling: one FLOP per input element read.
    Reduce {
        func: String,
        in_elems: u64,
    },
    /// Copies, transposes, concatenations, KV-cache appends: bytes only.
    DataMovement {
        func: String,
    },
    /// Multi-device communication; costed by the system layer.
    Collective {
        kind: CollectiveKind,
        bytes: u64,
        group: u64,
    },
    /// An operator a frontend did not recognise; costed as memory-bound over its operands.
    Unknown {
        op_type: String,
    },
}

impl OpKind {
    /// Stable family name used in reports.
    pub fn family(&self) -> &'static str {
        match self {
            OpKind::Matmul(_) => "matmul",
            OpKind::Conv(_) => "conv",
            OpKind::Attention(_) => "attention",
            OpKind::AttentionGrad(_) => "attention_grad",
            OpKind::Recurrent(_) => "recurrent",
            OpKind::Scan(_) => "scan",
            OpKind::Embedding { .. } => "embedding",
            OpKind::Elementwise { .. } => "elementwise",
            OpKind::Norm { .. } => "norm",
            OpKind::Softmax { .. } => "softmax",
            OpKind::Loss { .. } => "loss",
            OpKind::Reduce { .. } => "reduce",
            OpKind::DataMovement { .. } => "data_movement",
            OpKind::Collective { .. } => "collective",
            OpKind::Unknown { .. } => "unknown",
        }
    }
}
