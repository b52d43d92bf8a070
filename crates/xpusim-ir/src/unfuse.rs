//! Attention as three kernels: the rewrite to the attention that stacks before
//! FlashAttention ran (Megatron-LM 2019–2022, Hugging Face eager attention).
//!
//! A fused attention op ([`OpKind::Attention`]) keeps the `q × kv` scores on chip. The
//! unfused form writes them to memory: the scores `S = Q·Kᵀ` (one head-batched GEMM,
//! `baddbmm` in Megatron-LM's `CoreAttention`), the scaled, masked softmax `P = softmax(S)`
//! (Megatron's `FusedScaleMaskSoftmax`, one kernel), and the context `O = P·V` (`bmm`). The
//! GEMMs compute every score, masked or not, as those kernels do; the backward stores `S`
//! and `P` (`2·b·h·q·kv` elements per layer), which is what selective recomputation
//! (Korthikanti et al. 2022, §5) recomputes instead of storing. Under grouped-query
//! attention each query head reads its group's K and V.

use crate::{AttentionSpec, Graph, IrError, MatmulSpec, Names, Op, OpKind};

impl Graph {
    /// Replaces every forward attention op with its three kernels (module doc); returns how
    /// many were replaced.
    pub fn unfuse_attention(&mut self) -> Result<usize, IrError> {
        let mut out = Vec::with_capacity(self.ops.len() + 8);
        let mut n = 0;
        for op in std::mem::take(&mut self.ops) {
            match op.kind {
                OpKind::Attention(a) => {
                    out.extend(unfused(&op, a)?);
                    n += 1;
                }
                _ => out.push(op),
            }
        }
        self.ops = out;
        Ok(n)
    }
}

fn unfused(op: &Op, a: AttentionSpec) -> Result<[Op; 3], IrError> {
    let [q, k, v, o] = [0, 1, 2, 3].map(|i| op.operands.get(i));
    let (Some(q), Some(k), Some(v), Some(o)) = (q, k, v, o) else {
        return Err(IrError::Invalid {
            op: op.name.clone(),
            msg: "an attention op needs q, k, v and out operands".into(),
        });
    };
    let bh = a.batch * a.heads;
    let name = &op.name;
    let scores = format!("{name}.scores");
    let probs = format!("{name}.probs");
    let mut s = Op::matmul(
        &format!("{name}.qk"),
        MatmulSpec {
            batch: bh,
            m: a.q_len,
            n: a.kv_len,
            k: a.head_dim,
            rhs_batched: true,
        },
        Names {
            lhs: &q.tensor,
            rhs: &k.tensor,
            out: &scores,
        },
        k.role,
        q.dtype,
        k.dtype,
        op.compute_dtype,
    )?;
    let mut p = Op::softmax(&format!("{name}.softmax"), bh * a.q_len, a.kv_len, q.dtype)?;
    p.operands[0].tensor = scores;
    p.operands[1].tensor = probs.clone();
    let mut c = Op::matmul(
        &format!("{name}.pv"),
        MatmulSpec {
            batch: bh,
            m: a.q_len,
            n: a.v_head_dim,
            k: a.kv_len,
            rhs_batched: true,
        },
        Names {
            lhs: &probs,
            rhs: &v.tensor,
            out: &o.tensor,
        },
        v.role,
        q.dtype,
        v.dtype,
        op.compute_dtype,
    )?;
    for x in [&mut s, &mut p, &mut c] {
        x.repeat = op.repeat;
        x.layer = op.layer;
        x.role = op.role;
    }
    Ok([s, p, c])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Block, OpRole, Phase, Precision, Role};

    fn graph(causal: bool) -> Graph {
        let mut g = Graph::new("t", Phase::Train, 2, 512);
        let a = AttentionSpec {
            batch: 2,
            heads: 16,
            kv_heads: 16,
            q_len: 512,
            kv_len: 512,
            head_dim: 64,
            v_head_dim: 64,
            causal,
        };
        let mut op = Op::attention(
            "l.sdpa",
            a,
            Role::Input,
            Precision::uniform(crate::DType::Bf16),
        )
        .unwrap()
        .times(4)
        .unwrap();
        op.role = OpRole::Heads(Block::Attention);
        op.layer = Some(0);
        g.push(op);
        g
    }

    #[test]
    fn three_kernels_compute_every_score_and_write_them() {
        let mut g = graph(false);
        let fused = g.totals();
        assert_eq!(g.unfuse_attention().unwrap(), 1);
        let names: Vec<&str> = g.ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["l.sdpa.qk", "l.sdpa.softmax", "l.sdpa.pv"]);
        // The GEMMs' MACs are the fused op's on an unmasked attention.
        let macs: u64 = g.ops.iter().map(|o| o.macs() * o.repeat).sum();
        assert_eq!(macs, fused.macs);
        // The scores and probabilities are written: 2·b·h·q·kv more elements.
        let extra = 2 * 2 * 16 * 512 * 512 * 4;
        let written: u64 = g
            .ops
            .iter()
            .map(|o| o.bytes_by_role(Role::Output) * o.repeat)
            .sum();
        assert_eq!(written, extra * 2 + fused.activation_bytes);
        for o in &g.ops {
            assert_eq!((o.repeat, o.layer), (4, Some(0)));
            assert_eq!(o.role, OpRole::Heads(Block::Attention));
        }
        // The context is the fused op's output tensor, so the next op still reads it.
        assert_eq!(g.ops[2].operands[2].tensor, "l.sdpa.out");
    }

    #[test]
    fn a_causal_mask_saves_no_arithmetic_unfused() {
        let mut g = graph(true);
        let fused = g.totals().macs;
        g.unfuse_attention().unwrap();
        let macs: u64 = g.ops.iter().map(|o| o.macs() * o.repeat).sum();
        assert!(macs > fused * 19 / 10, "{macs} vs {fused}");
    }
}
