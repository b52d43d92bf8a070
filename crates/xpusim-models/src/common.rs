//! A small graph builder that keeps op operands and weight declarations consistent:
//! every helper that reads a parameter declares it under the same name it uses in the op.

use xpusim_ir::{ConvSpec, DType, Graph, IrError, NormKind, Op, OpRole, Operand, Precision, Role};

/// Graph under construction plus the precision every op uses.
pub(crate) struct Builder {
    pub g: Graph,
    pub p: Precision,
    /// Layer index given to every op pushed while a layer (group) is open.
    layer: Option<u32>,
    next_layer: u32,
}

impl Builder {
    pub fn new(g: Graph, p: Precision) -> Builder {
        Builder {
            g,
            p,
            layer: None,
            next_layer: 0,
        }
    }

    /// Opens the next layer (or group of identical layers): ops pushed until
    /// [`Builder::end_layer`] belong to it.
    pub fn begin_layer(&mut self) {
        self.layer = Some(self.next_layer);
        self.next_layer += 1;
    }

    pub fn end_layer(&mut self) {
        self.layer = None;
    }

    /// Sets the role of the op pushed last (what it is for, [`OpRole`]).
    pub fn role(&mut self, role: OpRole) {
        if let Some(op) = self.g.ops.last_mut() {
            op.role = role;
        }
    }

    pub fn act(&self) -> DType {
        self.p.act
    }

    /// Storage format of the small and gather-only parameters (norm scales, biases,
    /// embedding tables, the LM head): the weight format, except under weight-only
    /// quantisation (`w8a16`, `w4a16`), where AWQ/GPTQ-style schemes keep them in the
    /// 16-bit activation format and quantise only the GEMM weights.
    pub fn side(&self) -> DType {
        if self.p.weight.bits() < self.p.act.bits() {
            self.p.act
        } else {
            self.p.weight
        }
    }

    /// The precision with [`Builder::side`] as the weight format.
    pub fn side_precision(&self) -> Precision {
        // The LM head stays out of FP8 linear schemes (Transformer Engine casts the
        // transformer layers' linears only).
        Precision {
            weight: self.side(),
            linear: None,
            ..self.p
        }
    }

    /// Pushes `op` repeated `rep` times, in the open layer if there is one.
    pub fn push(&mut self, op: Op, rep: u64) -> Result<(), IrError> {
        let mut op = if rep == 1 { op } else { op.times(rep)? };
        op.layer = self.layer;
        self.g.push(op);
        Ok(())
    }

    /// Appends a bias operand `[n]` named `bias` to `op` and declares it (`count` copies).
    fn add_param(
        &mut self,
        op: &mut Op,
        name: &str,
        shape: &[u64],
        count: u64,
    ) -> Result<(), IrError> {
        let dtype = self.side();
        self.g.weight(name, shape, dtype, count)?;
        op.operands.push(Operand {
            tensor: name.to_string(),
            role: Role::Weight,
            shape: shape.to_vec(),
            dtype,
            group: 0,
        });
        Ok(())
    }

    /// A linear layer `tokens × k → n` with weight `{name}.weight` (and `{name}.bias`),
    /// declared `rep` times and run `rep` times.
    pub fn linear(
        &mut self,
        name: &str,
        tokens: u64,
        k: u64,
        n: u64,
        bias: bool,
        rep: u64,
    ) -> Result<(), IrError> {
        let w = format!("{name}.weight");
        self.g.weight(&w, &[k, n], self.p.weight, rep)?;
        let mut op = Op::linear(name, tokens, k, n, &w, self.p)?;
        if bias {
            self.add_param(&mut op, &format!("{name}.bias"), &[n], rep)?;
        }
        self.push(op, rep)
    }

    /// The LM head `tokens × k → vocab` in the [`Builder::side`] format, reading `tied`
    /// (the embedding table) when given, else declaring `{name}.weight`.
    pub fn lm_head(
        &mut self,
        name: &str,
        tokens: u64,
        k: u64,
        n: u64,
        tied: Option<&str>,
    ) -> Result<(), IrError> {
        let w = match tied {
            Some(t) => t.to_string(),
            None => {
                let w = format!("{name}.weight");
                self.g.weight(&w, &[k, n], self.side(), 1)?;
                w
            }
        };
        let op = Op::linear(name, tokens, k, n, &w, self.side_precision())?;
        self.push(op, 1)
    }

    /// A norm over `rows × cols` with `{name}.gamma` (and `{name}.beta` when `bias`).
    pub fn norm(
        &mut self,
        name: &str,
        kind: NormKind,
        rows: u64,
        cols: u64,
        bias: bool,
        rep: u64,
    ) -> Result<(), IrError> {
        let mut op = Op::norm(name, kind, rows, cols, self.act())?;
        // Declared in the weight format; the op reads gamma in the activation format.
        self.g
            .weight(&format!("{name}.gamma"), &[cols], self.side(), rep)?;
        if bias {
            self.add_param(&mut op, &format!("{name}.beta"), &[cols], rep)?;
        }
        self.push(op, rep)
    }

    /// Pointwise op over `elems` outputs with `inputs` inputs.
    pub fn eltwise(
        &mut self,
        name: &str,
        func: &str,
        elems: u64,
        inputs: u64,
        flops: u64,
        rep: u64,
    ) -> Result<(), IrError> {
        let op = Op::elementwise(name, func, elems, inputs, flops, self.act())?;
        self.push(op, rep)
    }

    /// Pointwise op over `rows × cols` run one row (token) per thread block.
    #[allow(clippy::too_many_arguments)]
    pub fn eltwise_rows(
        &mut self,
        name: &str,
        func: &str,
        rows: u64,
        cols: u64,
        inputs: u64,
        flops: u64,
        rep: u64,
    ) -> Result<(), IrError> {
        let op = Op::elementwise_rows(name, func, rows, cols, inputs, flops, self.act())?;
        self.push(op, rep)
    }

    /// Bytes-only copy (KV-cache append, concatenation).
    pub fn copy(
        &mut self,
        name: &str,
        func: &str,
        elems: u64,
        dtype: DType,
        rep: u64,
    ) -> Result<(), IrError> {
        let op = Op::data_movement(name, func, elems, dtype)?;
        self.push(op, rep)
    }

    /// A convolution with weight `{name}.weight` (and `{name}.bias`). Returns output (P, Q).
    pub fn conv(
        &mut self,
        name: &str,
        spec: ConvSpec,
        bias: bool,
        rep: u64,
    ) -> Result<(u64, u64), IrError> {
        let w = format!("{name}.weight");
        let mut op = Op::conv(name, spec, &w, self.p)?;
        let wshape = op.operands[1].shape.clone();
        self.g.weight(&w, &wshape, self.p.weight, rep)?;
        if bias {
            self.add_param(&mut op, &format!("{name}.bias"), &[spec.k], rep)?;
        }
        self.push(op, rep)?;
        Ok(spec.output_hw())
    }

    /// A token embedding gather from table `table` (`[vocab, dim]`, declared here).
    pub fn embedding(
        &mut self,
        name: &str,
        table: &str,
        tokens: u64,
        vocab: u64,
        dim: u64,
    ) -> Result<(), IrError> {
        self.g.weight(table, &[vocab, dim], self.side(), 1)?;
        let op = Op::embedding(name, tokens, vocab, dim, table, self.side_precision())?;
        self.push(op, 1)
    }

    /// Declares a parameter that an op reads via an extra operand appended to `op`.
    pub fn with_param(
        &mut self,
        mut op: Op,
        name: &str,
        shape: &[u64],
        rep: u64,
    ) -> Result<Op, IrError> {
        self.add_param(&mut op, name, shape, rep)?;
        Ok(op)
    }

    pub fn finish(self) -> Graph {
        self.g
    }
}

/// A plain 2-D convolution spec (square kernel, symmetric padding, no dilation).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d(
    n: u64,
    c: u64,
    h: u64,
    w: u64,
    k: u64,
    r: u64,
    stride: u64,
    pad: u64,
    groups: u64,
) -> ConvSpec {
    ConvSpec {
        n,
        c,
        h,
        w,
        k,
        r,
        s: r,
        stride: (stride, stride),
        pad: (pad, pad, pad, pad),
        dilation: (1, 1),
        groups,
        transposed: false,
    }
}
