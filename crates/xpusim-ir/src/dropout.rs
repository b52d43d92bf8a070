//! Dropout as training runs it: the rewrite that adds the dropout of GPT-style training
//! (Megatron-LM's `--hidden-dropout` and `--attention-dropout`, 0.1 by default).
//!
//! - **Hidden dropout** after each block's output projection (a `Row` GEMM), before the
//!   residual add. Megatron-LM fuses it with the bias and the add (`bias_dropout_add`), after
//!   the block's tensor-parallel reduction; the op takes the role [`OpRole::Residual`] so the
//!   reduction stays in front of it.
//! - **Attention dropout** on the probabilities of an unfused attention (after its head
//!   softmax). A fused attention kernel (FlashAttention) draws the mask in-kernel from its
//!   RNG state and stores nothing, so it gets none here.
//!
//! Each dropout op reads its input and writes the kept values and a one-byte mask
//! (`torch.nn.functional.dropout` keeps a `bool` mask for the backward); its backward reads
//! the output gradient and the mask. Korthikanti et al. 2022 (§4.1) count the same: `sbh`
//! mask bytes per block and `as²b` for the attention probabilities.

use crate::{DType, Graph, IrError, Op, OpKind, OpRole, Operand, Role};

/// FLOPs per element of a dropout: the Bernoulli draw from Philox (amortised over a 128-bit
/// draw of four values), the mask compare and the `1/(1−p)` scale.
pub const DROPOUT_FLOPS_PER_ELEM: u64 = 3;

impl Graph {
    /// Inserts hidden and attention dropout (module doc) after every forward `Row` GEMM
    /// outside the experts and every head softmax; returns how many were inserted.
    pub fn insert_dropout(&mut self) -> Result<usize, IrError> {
        let mut out: Vec<Op> = Vec::with_capacity(self.ops.len() * 5 / 4);
        let mut renames: Vec<(String, String)> = Vec::new();
        let mut n = 0;
        for mut op in std::mem::take(&mut self.ops) {
            for x in op.operands.iter_mut().filter(|x| x.role == Role::Input) {
                if let Some((_, to)) = renames.iter().find(|(from, _)| *from == x.tensor) {
                    x.tensor = to.clone();
                }
            }
            let role = match (&op.kind, op.role) {
                (OpKind::Matmul(m), OpRole::Row(_)) if !m.rhs_batched => Some(OpRole::Residual),
                (OpKind::Softmax { pass, .. }, r @ OpRole::Heads(_)) if pass.is_forward() => {
                    Some(r)
                }
                _ => None,
            };
            let Some(role) = role else {
                out.push(op);
                continue;
            };
            let Some(y) = op.operands.iter().find(|x| x.role == Role::Output).cloned() else {
                out.push(op);
                continue;
            };
            let d = dropout(&op, &y, role)?;
            renames.push((y.tensor.clone(), format!("{}.dropped", y.tensor)));
            out.push(op);
            out.push(d);
            n += 1;
        }
        self.ops = out;
        Ok(n)
    }
}

fn dropout(after: &Op, y: &Operand, role: OpRole) -> Result<Op, IrError> {
    let elems = y.elems();
    let name = format!("{}.dropout", after.name);
    let mut d = Op::elementwise(&name, "dropout", elems, 1, DROPOUT_FLOPS_PER_ELEM, y.dtype)?;
    d.operands[0].tensor = y.tensor.clone();
    d.operands[0].shape = y.shape.clone();
    if let Some(o) = d.operands.iter_mut().find(|x| x.role == Role::Output) {
        o.tensor = format!("{}.dropped", y.tensor);
        o.shape = y.shape.clone();
    }
    d.operands.push(Operand {
        tensor: format!("{name}.mask"),
        role: Role::Output,
        shape: y.shape.clone(),
        dtype: DType::Int8,
        group: 0,
    });
    d.repeat = after.repeat;
    d.layer = after.layer;
    d.role = role;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Block, MatmulSpec, Names, Phase};

    #[test]
    fn hidden_dropout_follows_the_row_projection_and_feeds_its_consumer() {
        let mut g = Graph::new("t", Phase::Train, 1, 16);
        let mut o = Op::matmul(
            "attn.o",
            MatmulSpec {
                batch: 1,
                m: 16,
                n: 64,
                k: 64,
                rhs_batched: false,
            },
            Names {
                lhs: "ctx",
                rhs: "w",
                out: "o.out",
            },
            Role::Weight,
            DType::Bf16,
            DType::Bf16,
            DType::Bf16,
        )
        .unwrap();
        o.role = OpRole::Row(Block::Attention);
        o.layer = Some(0);
        let mut add = Op::elementwise("residual", "add", 16 * 64, 2, 1, DType::Bf16).unwrap();
        add.operands[0].tensor = "o.out".into();
        add.role = OpRole::Residual;
        g.push(o);
        g.push(add);
        assert_eq!(g.insert_dropout().unwrap(), 1);
        let names: Vec<&str> = g.ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["attn.o", "attn.o.dropout", "residual"]);
        let d = &g.ops[1];
        assert_eq!(d.role, OpRole::Residual);
        assert_eq!(d.layer, Some(0));
        // One byte of mask per element.
        assert_eq!(d.bytes_by_role(Role::Output), 16 * 64 * 2 + 16 * 64);
        // The add now reads the kept values.
        assert_eq!(g.ops[2].operands[0].tensor, "o.out.dropped");
    }
}
