//! What an op computes and touches: MACs, vector FLOPs, compulsory bytes, and the loop
//! nests of its contractions.

use crate::kinds::*;
use crate::loopnest::{Contraction, LoopDim, LoopNest, OperandAccess};
use crate::Op;

impl Op {
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
            // S = QKᵀ (d), dP = dO·Vᵀ (dv), dV = Pᵀ·dO (dv), dQ = dS·K (d), dK = dSᵀ·Q (d):
            // 2.5× the forward's two matmuls when d = dv (Dao 2023, Algorithm 2).
            OpKind::AttentionGrad(a) => {
                a.batch * a.heads * a.scored_pairs() * (3 * a.head_dim + 2 * a.v_head_dim)
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
            // FlashAttention-2 backward (Dao 2023, Alg. 2): per score, scale S, subtract the
            // saved log-sum-exp, exp (recomputing P), dP − D and ·P (dS): 5; per query row,
            // D = rowsum(dO∘O): 2 per value element.
            OpKind::AttentionGrad(a) => {
                a.batch * a.heads * (5 * a.scored_pairs() + 2 * a.q_len * a.v_head_dim)
            }
            OpKind::Recurrent(r) => {
                r.seq_len
                    * r.batch
                    * r.directions
                    * r.hidden_size
                    * r.cell.pointwise_flops_per_unit()
            }
            // 9·B·L·D·N, the count mamba_ssm's selective_scan_flop_jit uses. The backward
            // (`selective_scan_bwd`) recomputes the forward states it did not store (Gu & Dao
            // 2023, §3.3.2: "recomputed in the backward pass") and runs the reverse scan
            // for dh with the du, dΔ, dA, dB, dC terms, about twice the forward's work:
            // 9 + 2·9 = 27·B·L·D·N.
            OpKind::Scan(s) => {
                let per = if s.pass.is_forward() { 9 } else { 27 };
                per * s.batch * s.seq_len * s.channels * s.state
            }
            OpKind::Elementwise {
                elems,
                flops_per_elem,
                ..
            } => elems * flops_per_elem,
            OpKind::Norm {
                kind,
                rows,
                cols,
                pass,
            } => {
                let per = match pass {
                    Pass::Forward => kind.flops_per_elem(),
                    Pass::InputGrad => kind.input_grad_flops_per_elem(),
                    Pass::ParamGrad => kind.param_grad_flops_per_elem(),
                };
                rows * cols * per
            }
            OpKind::Softmax { rows, cols, pass } => {
                rows * cols * if pass.is_forward() { 5 } else { 4 }
            }
            // The embedding's backward adds `tokens × dim` gradient rows into its table.
            OpKind::Embedding {
                tokens, dim, pass, ..
            } if !pass.is_forward() => tokens * dim,
            OpKind::Loss {
                kind,
                rows,
                cols,
                pass,
            } => {
                let elems = rows * cols;
                match (kind, pass.is_forward()) {
                    // Per logit: max, subtract, exp, sum (4); per row: log of the sum,
                    // subtract the target's logit, add into the mean (3) — log-softmax +
                    // NLL as `torch.nn.functional.cross_entropy` defines it.
                    (LossKind::CrossEntropy, true) => 4 * elems + 3 * rows,
                    // softmax − one-hot, scaled: per logit subtract the saved log-sum-exp,
                    // exp, multiply by the incoming dloss/rows (3); per row subtract 1 at
                    // the target (1) — flash-attn's Triton `cross_entropy` backward.
                    (LossKind::CrossEntropy, false) => 3 * elems + rows,
                    // Per element subtract, square, add (3); one final divide.
                    (LossKind::Mse, true) => 3 * elems + 1,
                    // 2·(ŷ − y)·dloss/N: subtract and scale per element, one scale factor.
                    (LossKind::Mse, false) => 2 * elems + 1,
                }
            }
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
            OpKind::AttentionGrad(a) => {
                // Per (batch, head): the five matmuls of FlashAttention-2's backward over
                // the scored pairs. Operands: q 0, k 1, v 2, o 3, do 4, lse 5, dq 6, dk 7, dv 8.
                let bh = a.batch * a.heads;
                let kv = a.scored_pairs().div_ceil(a.q_len);
                let (q, d, dv) = (a.q_len, a.head_dim, a.v_head_dim);
                let nest = |m, n, k, ids| Contraction {
                    nest: matmul_nest(bh, m, n, k, true, ids),
                    sequential_steps: 1,
                };
                vec![
                    // S = Q·Kᵀ (recomputed).
                    nest(q, kv, d, [0, 1, 6]),
                    // dP = dO·Vᵀ.
                    nest(q, kv, dv, [4, 2, 6]),
                    // dV = Pᵀ·dO.
                    nest(kv, dv, q, [4, 4, 8]),
                    // dQ = dS·K.
                    nest(q, d, kv, [0, 1, 6]),
                    // dK = dSᵀ·Q.
                    nest(kv, d, q, [0, 0, 7]),
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
