//! Canonical operator families every era lowers into.

use serde::Serialize;

use crate::loopnest::{Contraction, LoopDim, LoopNest, OperandAccess};
use crate::{checked_product, DType, IrError};

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
}

/// A typed operand of an op. `tensor` names it so ops form a graph by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operand {
    pub tensor: String,
    pub role: Role,
    pub shape: Vec<u64>,
    pub dtype: DType,
}

impl Operand {
    pub fn elems(&self) -> u64 {
        self.shape.iter().product()
    }
    pub fn bytes(&self) -> u64 {
        self.dtype.bytes(self.elems())
    }
}

/// `out[b,m,n] = Σ_k a[b,m,k] · w[(b),k,n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    Recurrent(RecurrentSpec),
    Scan(ScanSpec),
    /// Row gather from a table (`tokens` rows of `dim`).
    Embedding {
        tokens: u64,
        dim: u64,
    },
    /// Pointwise math over `elems` outputs; `flops_per_elem` counts one FLOP per add,
    /// multiply or transcendental.
    Elementwise {
        func: String,
        elems: u64,
        flops_per_elem: u64,
    },
    Norm {
        kind: NormKind,
        rows: u64,
        cols: u64,
    },
    /// max, subtract, exp, sum, divide: 5 FLOPs per element.
    Softmax {
        rows: u64,
        cols: u64,
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
            OpKind::Recurrent(_) => "recurrent",
            OpKind::Scan(_) => "scan",
            OpKind::Embedding { .. } => "embedding",
            OpKind::Elementwise { .. } => "elementwise",
            OpKind::Norm { .. } => "norm",
            OpKind::Softmax { .. } => "softmax",
            OpKind::Reduce { .. } => "reduce",
            OpKind::DataMovement { .. } => "data_movement",
            OpKind::Collective { .. } => "collective",
            OpKind::Unknown { .. } => "unknown",
        }
    }
}

/// One operator instance, executed `repeat` times back to back (identical layers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Op {
    pub name: String,
    pub kind: OpKind,
    pub operands: Vec<Operand>,
    /// Format the matrix or vector units compute in.
    pub compute_dtype: DType,
    pub repeat: u64,
}

/// Element count with the op's name in any error.
fn elems(op: &str, what: &str, dims: &[u64]) -> Result<u64, IrError> {
    checked_product(op, what, dims)
}

fn operand(tensor: &str, role: Role, shape: Vec<u64>, dtype: DType) -> Operand {
    Operand {
        tensor: tensor.to_string(),
        role,
        shape,
        dtype,
    }
}

/// Tensor names for the three operands of a binary contraction.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub lhs: &'a str,
    pub rhs: &'a str,
    pub out: &'a str,
}

impl Op {
    fn new(name: &str, kind: OpKind, operands: Vec<Operand>, compute: DType) -> Op {
        Op {
            name: name.to_string(),
            kind,
            operands,
            compute_dtype: compute,
            repeat: 1,
        }
    }

    /// Sets how many identical instances run back to back.
    pub fn times(mut self, repeat: u64) -> Result<Op, IrError> {
        checked_product(&self.name, "repeat", &[repeat])?;
        let total = self.macs().max(self.vector_flops()).max(self.bytes_total());
        checked_product(&self.name, "repeat × op size", &[repeat, total.max(1)])?;
        self.repeat = repeat;
        Ok(self)
    }

    /// `out[b,m,n] = a[b,m,k] · w[(b),k,n]`. `rhs_role` is Weight for linear layers.
    #[allow(clippy::too_many_arguments)]
    pub fn matmul(
        name: &str,
        spec: MatmulSpec,
        names: Names<'_>,
        rhs_role: Role,
        act: DType,
        rhs: DType,
        compute: DType,
    ) -> Result<Op, IrError> {
        let MatmulSpec {
            batch: b,
            m,
            n,
            k,
            rhs_batched,
        } = spec;
        elems(name, "batch·m·n·k", &[b, m, n, k])?;
        let rhs_shape = if rhs_batched {
            vec![b, k, n]
        } else {
            vec![k, n]
        };
        Ok(Op::new(
            name,
            OpKind::Matmul(spec),
            vec![
                operand(names.lhs, Role::Input, vec![b, m, k], act),
                operand(names.rhs, rhs_role, rhs_shape, rhs),
                operand(names.out, Role::Output, vec![b, m, n], act),
            ],
            compute,
        ))
    }

    /// A linear layer: `tokens × k` activations times a `k × n` weight.
    pub fn linear(
        name: &str,
        tokens: u64,
        k: u64,
        n: u64,
        weight: &str,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        Op::matmul(
            name,
            MatmulSpec {
                batch: 1,
                m: tokens,
                n,
                k,
                rhs_batched: false,
            },
            Names {
                lhs: &format!("{name}.in"),
                rhs: weight,
                out: &format!("{name}.out"),
            },
            Role::Weight,
            p.act,
            p.weight,
            p.compute,
        )
    }

    /// 2-D convolution; checks channel/group divisibility and output size.
    pub fn conv(
        name: &str,
        spec: ConvSpec,
        weight: &str,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        let c = &spec;
        elems(name, "n·c·h·w", &[c.n, c.c, c.h, c.w])?;
        elems(name, "k·r·s", &[c.k, c.r, c.s])?;
        checked_product(name, "stride", &[c.stride.0, c.stride.1])?;
        checked_product(name, "dilation", &[c.dilation.0, c.dilation.1])?;
        checked_product(name, "groups", &[c.groups])?;
        if !c.c.is_multiple_of(c.groups) || !c.k.is_multiple_of(c.groups) {
            return Err(IrError::Invalid {
                op: name.into(),
                msg: format!(
                    "channels in ({}) and out ({}) must both be divisible by groups ({})",
                    c.c, c.k, c.groups
                ),
            });
        }
        if !c.transposed {
            let eff_r = c.dilation.0 * (c.r - 1) + 1;
            let eff_s = c.dilation.1 * (c.s - 1) + 1;
            if c.h + c.pad.0 + c.pad.2 < eff_r || c.w + c.pad.1 + c.pad.3 < eff_s {
                return Err(IrError::Invalid {
                    op: name.into(),
                    msg: format!(
                        "kernel {}x{} (dilated {}x{}) is larger than the padded input {}x{}",
                        c.r,
                        c.s,
                        eff_r,
                        eff_s,
                        c.h + c.pad.0 + c.pad.2,
                        c.w + c.pad.1 + c.pad.3
                    ),
                });
            }
        }
        let (pp, qq) = c.output_hw();
        elems(name, "output n·k·p·q", &[c.n, c.k, pp, qq])?;
        let w_shape = if c.transposed {
            vec![c.c, c.k / c.groups, c.r, c.s]
        } else {
            vec![c.k, c.c / c.groups, c.r, c.s]
        };
        let op = Op::new(
            name,
            OpKind::Conv(spec),
            vec![
                operand(
                    &format!("{name}.in"),
                    Role::Input,
                    vec![c.n, c.c, c.h, c.w],
                    p.act,
                ),
                operand(weight, Role::Weight, w_shape, p.weight),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![c.n, c.k, pp, qq],
                    p.act,
                ),
            ],
            p.compute,
        );
        elems(name, "MACs", &[op.macs().max(1)])?;
        Ok(op)
    }

    /// Fused attention reading Q, the K/V cache (or fresh K/V) and writing O.
    pub fn attention(
        name: &str,
        a: AttentionSpec,
        kv_role: Role,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        elems(
            name,
            "batch·heads·q·kv·d",
            &[
                a.batch,
                a.heads,
                a.q_len,
                a.kv_len,
                a.head_dim.max(a.v_head_dim),
            ],
        )?;
        checked_product(name, "kv_heads", &[a.kv_heads])?;
        if !a.heads.is_multiple_of(a.kv_heads) {
            return Err(IrError::Invalid {
                op: name.into(),
                msg: format!(
                    "query heads ({}) must be a multiple of kv heads ({})",
                    a.heads, a.kv_heads
                ),
            });
        }
        let kv = if kv_role == Role::KvCache {
            p.kv
        } else {
            p.act
        };
        Ok(Op::new(
            name,
            OpKind::Attention(a),
            vec![
                operand(
                    &format!("{name}.q"),
                    Role::Input,
                    vec![a.batch, a.heads, a.q_len, a.head_dim],
                    p.act,
                ),
                operand(
                    &format!("{name}.k"),
                    kv_role,
                    vec![a.batch, a.kv_heads, a.kv_len, a.head_dim],
                    kv,
                ),
                operand(
                    &format!("{name}.v"),
                    kv_role,
                    vec![a.batch, a.kv_heads, a.kv_len, a.v_head_dim],
                    kv,
                ),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![a.batch, a.heads, a.q_len, a.v_head_dim],
                    p.act,
                ),
            ],
            p.compute,
        ))
    }

    /// A recurrent layer with input weights `[dirs, gates·H, I]` and recurrent weights
    /// `[dirs, gates·H, H]`, as ONNX LSTM/GRU/RNN store them.
    pub fn recurrent(name: &str, r: RecurrentSpec, p: crate::Precision) -> Result<Op, IrError> {
        let g = r.cell.gates();
        elems(
            name,
            "seq·batch·dirs·gates·hidden·(input+hidden)",
            &[
                r.seq_len,
                r.batch,
                r.directions,
                g,
                r.hidden_size,
                r.input_size + r.hidden_size,
            ],
        )?;
        Ok(Op::new(
            name,
            OpKind::Recurrent(r),
            vec![
                operand(
                    &format!("{name}.x"),
                    Role::Input,
                    vec![r.seq_len, r.batch, r.input_size],
                    p.act,
                ),
                operand(
                    &format!("{name}.w_ih"),
                    Role::Weight,
                    vec![r.directions, g * r.hidden_size, r.input_size],
                    p.weight,
                ),
                operand(
                    &format!("{name}.w_hh"),
                    Role::Weight,
                    vec![r.directions, g * r.hidden_size, r.hidden_size],
                    p.weight,
                ),
                operand(
                    &format!("{name}.y"),
                    Role::Output,
                    vec![r.seq_len, r.directions, r.batch, r.hidden_size],
                    p.act,
                ),
            ],
            p.compute,
        ))
    }

    /// Selective scan reading x, Δ (per channel), B and C (per state) and writing y.
    pub fn scan(name: &str, s: ScanSpec, p: crate::Precision) -> Result<Op, IrError> {
        elems(
            name,
            "batch·seq·channels·state",
            &[s.batch, s.seq_len, s.channels, s.state],
        )?;
        let bl = s.batch * s.seq_len;
        Ok(Op::new(
            name,
            OpKind::Scan(s),
            vec![
                operand(
                    &format!("{name}.x"),
                    Role::Input,
                    vec![bl, s.channels],
                    p.act,
                ),
                operand(
                    &format!("{name}.dt"),
                    Role::Input,
                    vec![bl, s.channels],
                    p.act,
                ),
                operand(
                    &format!("{name}.bc"),
                    Role::Input,
                    vec![bl, 2 * s.state],
                    p.act,
                ),
                operand(
                    &format!("{name}.a"),
                    Role::Weight,
                    vec![s.channels, s.state],
                    DType::Fp32,
                ),
                operand(
                    &format!("{name}.h"),
                    Role::KvCache,
                    vec![s.batch, s.channels, s.state],
                    DType::Fp32,
                ),
                operand(
                    &format!("{name}.y"),
                    Role::Output,
                    vec![bl, s.channels],
                    p.act,
                ),
            ],
            p.compute,
        ))
    }

    /// Gathers `tokens` rows of a `[vocab, dim]` table. Only the gathered rows are read.
    pub fn embedding(
        name: &str,
        tokens: u64,
        vocab: u64,
        dim: u64,
        table: &str,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        elems(name, "tokens·dim", &[tokens, dim])?;
        elems(name, "vocab·dim", &[vocab, dim])?;
        let rows_read = tokens.min(vocab);
        Ok(Op::new(
            name,
            OpKind::Embedding { tokens, dim },
            vec![
                operand(table, Role::Weight, vec![rows_read, dim], p.weight),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![tokens, dim],
                    p.act,
                ),
            ],
            p.compute,
        ))
    }

    /// Pointwise op with `inputs` activation inputs of `elems` each.
    pub fn elementwise(
        name: &str,
        func: &str,
        elems_out: u64,
        inputs: u64,
        flops_per_elem: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "elements", &[elems_out])?;
        let mut ops: Vec<Operand> = (0..inputs)
            .map(|i| {
                operand(
                    &format!("{name}.in{i}"),
                    Role::Input,
                    vec![elems_out],
                    dtype,
                )
            })
            .collect();
        ops.push(operand(
            &format!("{name}.out"),
            Role::Output,
            vec![elems_out],
            dtype,
        ));
        Ok(Op::new(
            name,
            OpKind::Elementwise {
                func: func.to_string(),
                elems: elems_out,
                flops_per_elem,
            },
            ops,
            dtype,
        ))
    }

    pub fn norm(
        name: &str,
        kind: NormKind,
        rows: u64,
        cols: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "rows·cols", &[rows, cols])?;
        Ok(Op::new(
            name,
            OpKind::Norm { kind, rows, cols },
            vec![
                operand(&format!("{name}.in"), Role::Input, vec![rows, cols], dtype),
                operand(&format!("{name}.gamma"), Role::Weight, vec![cols], dtype),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![rows, cols],
                    dtype,
                ),
            ],
            dtype,
        ))
    }

    pub fn softmax(name: &str, rows: u64, cols: u64, dtype: DType) -> Result<Op, IrError> {
        elems(name, "rows·cols", &[rows, cols])?;
        Ok(Op::new(
            name,
            OpKind::Softmax { rows, cols },
            vec![
                operand(&format!("{name}.in"), Role::Input, vec![rows, cols], dtype),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![rows, cols],
                    dtype,
                ),
            ],
            dtype,
        ))
    }

    pub fn reduce(
        name: &str,
        func: &str,
        in_elems: u64,
        out_elems: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "input elements", &[in_elems])?;
        elems(name, "output elements", &[out_elems])?;
        Ok(Op::new(
            name,
            OpKind::Reduce {
                func: func.to_string(),
                in_elems,
            },
            vec![
                operand(&format!("{name}.in"), Role::Input, vec![in_elems], dtype),
                operand(&format!("{name}.out"), Role::Output, vec![out_elems], dtype),
            ],
            dtype,
        ))
    }

    /// Moves `elems` elements (read once, written once); `role` of the destination lets a
    /// KV-cache append be told apart from a plain copy.
    pub fn data_movement(
        name: &str,
        func: &str,
        elems_moved: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "elements", &[elems_moved])?;
        Ok(Op::new(
            name,
            OpKind::DataMovement {
                func: func.to_string(),
            },
            vec![
                operand(&format!("{name}.in"), Role::Input, vec![elems_moved], dtype),
                operand(
                    &format!("{name}.out"),
                    Role::Output,
                    vec![elems_moved],
                    dtype,
                ),
            ],
            dtype,
        ))
    }

    pub fn collective(
        name: &str,
        kind: CollectiveKind,
        elems_per_device: u64,
        group: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "elements", &[elems_per_device])?;
        checked_product(name, "group", &[group])?;
        let bytes = dtype.bytes(elems_per_device);
        Ok(Op::new(
            name,
            OpKind::Collective { kind, bytes, group },
            vec![operand(
                &format!("{name}.buf"),
                Role::Input,
                vec![elems_per_device],
                dtype,
            )],
            dtype,
        ))
    }

    /// An operator no frontend rule covers, with the operands it was seen with.
    pub fn unknown(name: &str, op_type: &str, operands: Vec<Operand>, dtype: DType) -> Op {
        Op::new(
            name,
            OpKind::Unknown {
                op_type: op_type.to_string(),
            },
            operands,
            dtype,
        )
    }

    /// Multiply-accumulates on matrix engines for one instance.
    pub fn macs(&self) -> u64 {
        match &self.kind {
            OpKind::Matmul(m) => m.batch * m.m * m.n * m.k,
            OpKind::Conv(c) => {
                let (p, q) = c.output_hw();
                if c.transposed {
                    c.n * c.c * c.h * c.w * (c.k / c.groups) * c.r * c.s
                } else {
                    c.n * c.k * p * q * (c.c / c.groups) * c.r * c.s
                }
            }
            OpKind::Attention(a) => {
                a.batch * a.heads * a.scored_pairs() * (a.head_dim + a.v_head_dim)
            }
            OpKind::Recurrent(r) => {
                r.seq_len
                    * r.batch
                    * r.directions
                    * r.cell.gates()
                    * r.hidden_size
                    * (r.input_size + r.hidden_size)
            }
            _ => 0,
        }
    }

    /// FLOPs that run on vector/SIMD units for one instance.
    pub fn vector_flops(&self) -> u64 {
        match &self.kind {
            // Softmax inside fused attention: 5 FLOPs per score (max, sub, exp, sum, scale).
            OpKind::Attention(a) => 5 * a.batch * a.heads * a.scored_pairs(),
            OpKind::Recurrent(r) => {
                r.seq_len
                    * r.batch
                    * r.directions
                    * r.hidden_size
                    * r.cell.pointwise_flops_per_unit()
            }
            // 9·B·L·D·N, the count mamba_ssm's selective_scan_flop_jit uses.
            OpKind::Scan(s) => 9 * s.batch * s.seq_len * s.channels * s.state,
            OpKind::Elementwise {
                elems,
                flops_per_elem,
                ..
            } => elems * flops_per_elem,
            OpKind::Norm { kind, rows, cols } => rows * cols * kind.flops_per_elem(),
            OpKind::Softmax { rows, cols } => 5 * rows * cols,
            OpKind::Reduce { in_elems, .. } => *in_elems,
            _ => 0,
        }
    }

    /// Total FLOPs for one instance: 2 per MAC plus vector FLOPs.
    pub fn flops(&self) -> u64 {
        2 * self.macs() + self.vector_flops()
    }

    /// Compulsory bytes of one instance: every operand read or written once.
    pub fn bytes_total(&self) -> u64 {
        self.operands.iter().map(Operand::bytes).sum()
    }

    pub fn bytes_by_role(&self, role: Role) -> u64 {
        self.operands
            .iter()
            .filter(|o| o.role == role)
            .map(Operand::bytes)
            .sum()
    }

    /// The contractions the engine tiles, each with its loop nest.
    pub fn contractions(&self) -> Vec<Contraction> {
        match &self.kind {
            OpKind::Matmul(m) => vec![Contraction {
                nest: matmul_nest(m.batch, m.m, m.n, m.k, m.rhs_batched, [0, 1, 2]),
                sequential_steps: 1,
            }],
            OpKind::Conv(c) => vec![Contraction {
                nest: conv_nest(c),
                sequential_steps: 1,
            }],
            OpKind::Attention(a) => {
                // Scores S = Q·Kᵀ, then O = P·V; per (batch, head) pair.
                let bh = a.batch * a.heads;
                let causal_frac_kv = a.scored_pairs().div_ceil(a.q_len);
                vec![
                    Contraction {
                        nest: matmul_nest(bh, a.q_len, causal_frac_kv, a.head_dim, true, [0, 1, 3]),
                        sequential_steps: 1,
                    },
                    Contraction {
                        nest: matmul_nest(
                            bh,
                            a.q_len,
                            a.v_head_dim,
                            causal_frac_kv,
                            true,
                            [0, 2, 3],
                        ),
                        sequential_steps: 1,
                    },
                ]
            }
            OpKind::Recurrent(r) => {
                let gh = r.cell.gates() * r.hidden_size;
                vec![
                    // cuDNN-style: the input projection of all steps is one GEMM.
                    Contraction {
                        nest: matmul_nest(
                            r.directions,
                            r.seq_len * r.batch,
                            gh,
                            r.input_size,
                            true,
                            [0, 1, 3],
                        ),
                        sequential_steps: 1,
                    },
                    // The hidden-state GEMM: seq_len dependent steps.
                    Contraction {
                        nest: matmul_nest(
                            r.directions,
                            r.batch,
                            gh,
                            r.hidden_size,
                            true,
                            [0, 2, 3],
                        ),
                        sequential_steps: r.seq_len,
                    },
                ]
            }
            _ => vec![],
        }
    }
}

/// `out[b,m,n] = Σ_k a[b,m,k] · w[(b),k,n]`; `ids` are the operand indices of (a, w, out).
fn matmul_nest(b: u64, m: u64, n: u64, k: u64, rhs_batched: bool, ids: [usize; 3]) -> LoopNest {
    let (db, dm, dn, dk) = (0, 1, 2, 3);
    let mut w_axes = vec![vec![(dk, 1)], vec![(dn, 1)]];
    if rhs_batched {
        w_axes.insert(0, vec![(db, 1)]);
    }
    LoopNest {
        dims: vec![
            LoopDim {
                name: "b",
                size: b,
                reduction: false,
            },
            LoopDim {
                name: "m",
                size: m,
                reduction: false,
            },
            LoopDim {
                name: "n",
                size: n,
                reduction: false,
            },
            LoopDim {
                name: "k",
                size: k,
                reduction: true,
            },
        ],
        operands: vec![
            OperandAccess {
                operand: ids[0],
                axes: vec![vec![(db, 1)], vec![(dm, 1)], vec![(dk, 1)]],
                is_output: false,
            },
            OperandAccess {
                operand: ids[1],
                axes: w_axes,
                is_output: false,
            },
            OperandAccess {
                operand: ids[2],
                axes: vec![vec![(db, 1)], vec![(dm, 1)], vec![(dn, 1)]],
                is_output: true,
            },
        ],
    }
}

/// Convolution as an 8-deep nest: n, g, k, p, q (parallel) and c, r, s (reduction).
/// A transposed convolution iterates its *input* positions (p, q = h, w) and scatters into
/// output rows `p·stride + r·dilation`, so its MACs equal ONNX's count (input elements ×
/// weights per input channel).
fn conv_nest(c: &ConvSpec) -> LoopNest {
    let (p, q) = c.output_hw();
    let g = c.groups;
    let (kg, cg) = (c.k / g, c.c / g);
    let (dn, dg, dk, dp, dq, dc, dr, ds) = (0, 1, 2, 3, 4, 5, 6, 7);
    let (sh, sw) = c.stride;
    let (dh, dw) = c.dilation;
    let dim = |name, size, reduction| LoopDim {
        name,
        size,
        reduction,
    };
    let (pp, qq) = if c.transposed { (c.h, c.w) } else { (p, q) };
    let dims = vec![
        dim("n", c.n, false),
        dim("g", g, false),
        dim("k", kg, false),
        dim("p", pp, false),
        dim("q", qq, false),
        dim("c", cg, true),
        dim("r", c.r, true),
        dim("s", c.s, true),
    ];
    let window = vec![vec![(dp, sh), (dr, dh)], vec![(dq, sw), (ds, dw)]];
    let plain = vec![vec![(dp, 1)], vec![(dq, 1)]];
    let (in_sp, out_sp) = if c.transposed {
        (plain, window)
    } else {
        (window, plain)
    };
    let mut in_axes = vec![vec![(dn, 1)], vec![(dg, cg), (dc, 1)]];
    in_axes.extend(in_sp);
    let mut out_axes = vec![vec![(dn, 1)], vec![(dg, kg), (dk, 1)]];
    out_axes.extend(out_sp);
    LoopNest {
        dims,
        operands: vec![
            OperandAccess {
                operand: 0,
                axes: in_axes,
                is_output: false,
            },
            OperandAccess {
                operand: 1,
                axes: vec![
                    vec![(dg, kg), (dk, 1)],
                    vec![(dc, 1)],
                    vec![(dr, 1)],
                    vec![(ds, 1)],
                ],
                is_output: false,
            },
            OperandAccess {
                operand: 2,
                axes: out_axes,
                is_output: true,
            },
        ],
    }
}
