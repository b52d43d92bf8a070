//! An operator instance and its checked constructors.

use serde::Serialize;

use crate::kinds::*;
use crate::{checked_product, checked_work, DType, IrError, OpRole};

/// One operator instance, executed `repeat` times back to back (identical layers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Op {
    pub name: String,
    pub kind: OpKind,
    pub operands: Vec<Operand>,
    /// Format the matrix or vector units compute in.
    pub compute_dtype: DType,
    pub repeat: u64,
    /// Runs in the preceding kernel's epilogue ([`crate::fuse`]): no launch of its own, and
    /// its operands list only what it moves beyond that kernel's output tile.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub epilogue: bool,
    /// What the op does for parallelism and placement ([`crate::parallel`]), set by the
    /// frontend that built it.
    #[serde(skip_serializing_if = "OpRole::is_replicated")]
    pub role: OpRole,
    /// The layer of the model's repeated stack the op belongs to: with `repeat > 1`, the
    /// group of `repeat` identical layers it stands for. `None` for work outside the stack
    /// (embeddings, final norm, heads). Pipeline stages split the model by this index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Member of a variable-length attention group ([`crate::varlen`]): one length of a
    /// packed pass, run in one kernel launch with the group's other lengths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub varlen: Option<crate::VarlenMember>,
    /// Single-query attention run one query head per thread block
    /// ([`crate::per_query_head`]), as the software stack's decode kernel does; set from a
    /// runtime profile, never by a frontend.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub per_query_head: bool,
}

/// Element count with the op's name in any error.
fn elems(op: &str, what: &str, dims: &[u64]) -> Result<u64, IrError> {
    checked_product(op, what, dims)
}

pub(crate) fn operand(tensor: &str, role: Role, shape: Vec<u64>, dtype: DType) -> Operand {
    Operand {
        tensor: tensor.to_string(),
        role,
        shape,
        dtype,
        group: 0,
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
    pub(crate) fn new(name: &str, kind: OpKind, operands: Vec<Operand>, compute: DType) -> Op {
        Op {
            name: name.to_string(),
            kind,
            operands,
            compute_dtype: compute,
            repeat: 1,
            epilogue: false,
            role: OpRole::Replicated,
            layer: None,
            varlen: None,
            per_query_head: false,
        }
    }

    /// Sets what the op is for ([`OpRole`]).
    pub fn with_role(mut self, role: OpRole) -> Op {
        self.role = role;
        self
    }

    /// Places the op in layer (group) `layer` of the model's stack.
    pub fn in_layer(mut self, layer: u32) -> Op {
        self.layer = Some(layer);
        self
    }

    /// Sets how many identical instances run back to back. One instance stays within
    /// [`crate::MAX_ELEMS`] (its constructor checked it); all of them together — MACs,
    /// vector FLOPs and bytes times `repeat` — within [`crate::MAX_WORK`].
    pub fn times(mut self, repeat: u64) -> Result<Op, IrError> {
        checked_product(&self.name, "repeat", &[repeat])?;
        let total = self.macs().max(self.vector_flops()).max(self.bytes_total());
        checked_work(&self.name, "repeat × op size", &[repeat, total.max(1)])?;
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
        // Tensors within MAX_ELEMS; the MACs between them within MAX_WORK.
        elems(name, "lhs batch·m·k", &[b, m, k])?;
        elems(name, "rhs k·n", &[if rhs_batched { b } else { 1 }, k, n])?;
        elems(name, "output batch·m·n", &[b, m, n])?;
        checked_work(name, "MACs batch·m·n·k", &[b, m, n, k])?;
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
            p.linear.unwrap_or(p.act),
            p.linear.unwrap_or(p.weight),
            p.linear.unwrap_or(p.compute),
        )
        .map(|mut op| {
            // Group scales travel with narrow weights only (weight-only schemes).
            if p.weight_group > 0 && p.weight.bits() < p.act.bits() {
                for o in op.operands.iter_mut().filter(|o| o.role == Role::Weight) {
                    o.group = p.weight_group;
                }
            }
            // FP8 linear layers (Transformer Engine) write their outputs in 16 bits.
            if p.linear.is_some() {
                for o in op.operands.iter_mut().filter(|o| o.role == Role::Output) {
                    o.dtype = p.act;
                }
            }
            op
        })
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
        // The factors `macs()` multiplies, checked before it multiplies them.
        if c.transposed {
            checked_work(
                name,
                "MACs",
                &[c.n, c.c, c.h, c.w, c.k / c.groups, c.r, c.s],
            )?;
        } else {
            checked_work(name, "MACs", &[c.n, c.k, pp, qq, c.c / c.groups, c.r, c.s])?;
        }
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
        Ok(op)
    }

    /// Fused attention reading Q, the K/V cache (or fresh K/V) and writing O.
    pub fn attention(
        name: &str,
        a: AttentionSpec,
        kv_role: Role,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        let d = a.head_dim.max(a.v_head_dim);
        elems(
            name,
            "queries batch·heads·q·d",
            &[a.batch, a.heads, a.q_len, d],
        )?;
        elems(
            name,
            "keys batch·kv_heads·kv·d",
            &[a.batch, a.kv_heads.max(1), a.kv_len, d],
        )?;
        // MACs (d + dv per score) and softmax FLOPs (5 per score) together within MAX_WORK,
        // so `flops()` = 2·MACs + vector FLOPs stays inside u64.
        checked_work(
            name,
            "batch·heads·q·kv·(d + dv + 5)",
            &[
                a.batch,
                a.heads,
                a.q_len,
                a.kv_len,
                a.head_dim + a.v_head_dim + 5,
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

    /// FlashAttention-2's backward for the attention `a` ([`OpKind::AttentionGrad`]):
    /// reads Q, K, V, O, dO and the per-row log-sum-exp the forward saved (FP32), writes
    /// dQ, dK, dV. Operands, in order: `q, k, v, o, do, lse, dq, dk, dv` (K, V, dK, dV have
    /// `kv_heads` heads, the rest `heads`), each `[batch, heads, len, dim]`.
    pub fn attention_grad(
        name: &str,
        a: AttentionSpec,
        p: crate::Precision,
    ) -> Result<Op, IrError> {
        let fwd = Op::attention(name, a, Role::Input, p)?;
        // dQ, dK, dV and the FP32 row statistics: five matmuls over the scored pairs.
        elems(
            name,
            "batch·heads·q·kv·(3·d + 2·dv)",
            &[
                a.batch,
                a.heads,
                a.q_len,
                a.kv_len,
                3 * a.head_dim + 2 * a.v_head_dim,
            ],
        )?;
        let q = vec![a.batch, a.heads, a.q_len, a.head_dim];
        let k = vec![a.batch, a.kv_heads, a.kv_len, a.head_dim];
        let v = vec![a.batch, a.kv_heads, a.kv_len, a.v_head_dim];
        let o = vec![a.batch, a.heads, a.q_len, a.v_head_dim];
        let mut ops = fwd.operands;
        ops[3].role = Role::Input;
        ops.push(operand(&format!("{name}.do"), Role::Input, o, p.act));
        ops.push(operand(
            &format!("{name}.lse"),
            Role::Input,
            vec![a.batch, a.heads, a.q_len],
            DType::Fp32,
        ));
        ops.push(operand(&format!("{name}.dq"), Role::Output, q, p.act));
        ops.push(operand(&format!("{name}.dk"), Role::Output, k, p.act));
        ops.push(operand(&format!("{name}.dv"), Role::Output, v, p.act));
        Ok(Op::new(name, OpKind::AttentionGrad(a), ops, p.compute))
    }

    /// A training loss over a `[rows, cols]` prediction in `dtype` ([`OpKind::Loss`]).
    /// Cross-entropy reads the logits and one class index per row (4 bytes each, stored as
    /// FP32: the IR has no 32-bit integer type) and writes the scalar loss and the per-row
    /// log-sum-exp it saves for the backward (FP32); MSE reads the prediction and its
    /// target and writes the scalar loss.
    pub fn loss(
        name: &str,
        kind: LossKind,
        rows: u64,
        cols: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        elems(name, "rows·cols", &[rows, cols])?;
        let pred = operand(&format!("{name}.in"), Role::Input, vec![rows, cols], dtype);
        let loss = operand(&format!("{name}.loss"), Role::Output, vec![1], DType::Fp32);
        let ops = match kind {
            LossKind::CrossEntropy => vec![
                pred,
                operand(
                    &format!("{name}.target"),
                    Role::Input,
                    vec![rows],
                    DType::Fp32,
                ),
                loss,
                operand(
                    &format!("{name}.lse"),
                    Role::Output,
                    vec![rows],
                    DType::Fp32,
                ),
            ],
            LossKind::Mse => vec![
                pred,
                operand(
                    &format!("{name}.target"),
                    Role::Input,
                    vec![rows, cols],
                    dtype,
                ),
                loss,
            ],
        };
        Ok(Op::new(
            name,
            OpKind::Loss {
                kind,
                rows,
                cols,
                pass: Pass::Forward,
            },
            ops,
            dtype,
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
            OpKind::Embedding {
                tokens,
                dim,
                pass: Pass::Forward,
            },
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

    /// Pointwise op with `inputs` activation inputs of `elems` each, flat: its kernel
    /// spreads the elements over the whole device (PyTorch's elementwise kernels).
    pub fn elementwise(
        name: &str,
        func: &str,
        elems_out: u64,
        inputs: u64,
        flops_per_elem: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        Self::elementwise_shaped(name, func, &[elems_out], inputs, flops_per_elem, dtype)
    }

    /// Pointwise op over `rows × cols` whose kernel gives each row (token) its own thread
    /// block, as serving stacks' fused activation and rotary kernels do (vLLM
    /// `csrc/activation_kernels.cu`, `pos_encoding_kernels.cu`: `grid(num_tokens)`). The
    /// operands keep the 2-D shape so the engine can see how many rows run in parallel.
    pub fn elementwise_rows(
        name: &str,
        func: &str,
        rows: u64,
        cols: u64,
        inputs: u64,
        flops_per_elem: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        Self::elementwise_shaped(name, func, &[rows, cols], inputs, flops_per_elem, dtype)
    }

    fn elementwise_shaped(
        name: &str,
        func: &str,
        shape: &[u64],
        inputs: u64,
        flops_per_elem: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        let elems_out = elems(name, "elements", shape)?;
        let mut ops: Vec<Operand> = (0..inputs)
            .map(|i| operand(&format!("{name}.in{i}"), Role::Input, shape.to_vec(), dtype))
            .collect();
        ops.push(operand(
            &format!("{name}.out"),
            Role::Output,
            shape.to_vec(),
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
            OpKind::Norm {
                kind,
                rows,
                cols,
                pass: Pass::Forward,
            },
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
            OpKind::Softmax {
                rows,
                cols,
                pass: Pass::Forward,
            },
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

    /// A pooling window op: `out_elems` outputs, each reducing `window` inputs (the
    /// arithmetic, `out_elems × window` elements as [`OpKind::Reduce`] counts them), over an
    /// input tensor of `in_elems` that crosses memory once: overlapping windows share their
    /// inputs through the cache.
    pub fn pool(
        name: &str,
        func: &str,
        in_elems: u64,
        out_elems: u64,
        window: u64,
        dtype: DType,
    ) -> Result<Op, IrError> {
        let work = elems(name, "output elements × window", &[out_elems, window])?;
        elems(name, "input elements", &[in_elems])?;
        let mut op = Op::reduce(name, func, work, out_elems, dtype)?;
        for o in op.operands.iter_mut().filter(|o| o.role == Role::Input) {
            o.shape = vec![in_elems];
        }
        Ok(op)
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
}
