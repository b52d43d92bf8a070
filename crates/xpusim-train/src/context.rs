//! Context parallelism as Transformer Engine runs it: the attention of one device's share
//! of a sequence, cut into the kernels of TE's ring (`AttnFuncWithCPAndKVP2P`, which
//! Megatron-Core's `--context-parallel-size` and NeMo use; Llama 3 §3.3.2 describes the
//! same load balance).
//!
//! The sequence of `S` tokens is cut into `2·cp` chunks and device `i` holds chunks `i` and
//! `2·cp − 1 − i`, so under a causal mask every device scores the same `S²/(2·cp)`
//! query-key pairs. It scores them in a ring of `cp` steps:
//!
//! 1. its own two chunks against themselves, under the causal mask: one causal kernel over
//!    its `S/cp` tokens, `(S/cp)²/2` pairs;
//! 2. for each of the `cp − 1` K/V blocks it receives, the half its queries see in full: one
//!    unmasked kernel, `(S/cp)²/2` pairs (TE alternates by rank between all of its queries
//!    over half the block and half its queries over all of it; both are priced as the
//!    first), each followed by the pointwise kernel that rescales the running output and
//!    adds the step's by their log-sum-exps (`flash_attn_fwd_out_correction`).
//!
//! With `cp_allgather` (Llama 3's all-gather based context parallelism) the device gathers
//! all K and V first and scores its queries in one kernel, [`gathered_attention`]: the
//! balanced causal pairs as an unmasked span of their average length.
//!
//! The backward differentiates the same kernels. Every step reads the device's own Q and
//! the ring's K/V under the tensors' own names, so the stored activations and the K/V
//! exchange ([`crate::step_comm::context_comm`]) count them once. Bidirectional attention
//! reads every key: one unmasked kernel over all `S`.

use xpusim_ir::{Graph, Op, OpKind};

use crate::TrainError;

/// FLOPs per output element of the out-correction kernel: the partial output scaled by its
/// `exp(lse_step − lse)` (computed once per row) and added to the running output.
const OUT_CORRECTION_FLOPS_PER_ELEM: u64 = 2;

/// Rewrites each attention of `g` (built for `seq / cp` tokens) into the ring's kernels.
pub(crate) fn ring_attention(g: &mut Graph, seq: u64, cp: u64) -> Result<(), TrainError> {
    let mut out = Vec::with_capacity(g.ops.len() + 2 * g.ops.len() / 8);
    for op in std::mem::take(&mut g.ops) {
        let OpKind::Attention(a) = op.kind else {
            out.push(op);
            continue;
        };
        if !a.causal || a.q_len == 0 {
            // Bidirectional: every key, gathered; the operands stay the device's own K and V
            // (what the exchange moves), as under `gathered_attention`.
            let mut op = op;
            if let OpKind::Attention(x) = &mut op.kind {
                x.kv_len = seq;
            }
            out.push(op);
            continue;
        }
        let half = (a.q_len / 2).max(1);
        let o = op.operands[3].clone();
        let mut steps = Vec::with_capacity(2 * (cp as usize - 1));
        for step in 1..cp {
            let mut s = with_kv_len(op.clone(), half);
            s.name = format!("{}.cp_step{step}", op.name);
            if let OpKind::Attention(x) = &mut s.kind {
                x.causal = false;
            }
            // The step reads the device's q and the ring's k, v: the main op's tensors.
            for (x, main) in s.operands.iter_mut().zip(&op.operands).take(3) {
                x.tensor.clone_from(&main.tensor);
            }
            let mut c = Op::elementwise(
                &format!("{}.cp_correction{step}", op.name),
                "attn_out_correction",
                o.elems(),
                2,
                OUT_CORRECTION_FLOPS_PER_ELEM,
                o.dtype,
            )?;
            // Operands in0, in1, out: it reads the running output and the step's, and writes
            // the running output.
            let names = [&o.tensor, &s.operands[3].tensor, &o.tensor];
            for (x, name) in c.operands.iter_mut().zip(names) {
                x.shape.clone_from(&o.shape);
                x.tensor.clone_from(name);
            }
            c.repeat = op.repeat;
            c.layer = op.layer;
            c.role = op.role;
            steps.push(s);
            steps.push(c);
        }
        out.push(op);
        out.extend(steps);
    }
    g.ops = out;
    Ok(())
}

/// All-gather based context parallelism: each causal attention (built for `seq / cp`
/// queries) scores the `S·(S+1)/(2·cp)` pairs its balanced chunks reach in one kernel,
/// written as an unmasked span of their average length; bidirectional attention reads
/// every key.
pub(crate) fn gathered_attention(g: &mut Graph, seq: u64, cp: u64) {
    for op in &mut g.ops {
        if let OpKind::Attention(a) = &mut op.kind {
            if a.causal && a.q_len > 0 {
                let pairs = seq * (seq + 1) / (2 * cp);
                a.kv_len = pairs.div_ceil(a.q_len);
                a.causal = false;
            } else {
                a.kv_len = seq;
            }
        }
    }
}

/// `op` (an attention) with `kv` keys: its spec and its K and V operands (a ring step reads
/// that many keys of the block it received, and the engine prices the bytes it reads from
/// the operands).
fn with_kv_len(mut op: Op, kv: u64) -> Op {
    if let OpKind::Attention(a) = &mut op.kind {
        a.kv_len = kv;
    }
    for x in op.operands.iter_mut().skip(1).take(2) {
        if let Some(d) = x.shape.get_mut(2) {
            *d = kv;
        }
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;
    use xpusim_ir::{AttentionSpec, DType, Phase, Precision, Role};

    fn graph(seq: u64, cp: u64) -> Graph {
        let mut g = Graph::new("g", Phase::Train, 1, seq / cp);
        let spec = AttentionSpec {
            batch: 1,
            heads: 8,
            kv_heads: 2,
            q_len: seq / cp,
            kv_len: seq / cp,
            head_dim: 64,
            v_head_dim: 64,
            causal: true,
        };
        let op = Op::attention("sdpa", spec, Role::Input, Precision::uniform(DType::Bf16))
            .unwrap()
            .times(3)
            .unwrap();
        g.push(op);
        g
    }

    fn pairs(g: &Graph) -> u64 {
        g.ops
            .iter()
            .filter_map(|o| match o.kind {
                OpKind::Attention(a) => Some(a.scored_pairs()),
                _ => None,
            })
            .sum()
    }

    #[test]
    fn the_ring_scores_the_balanced_pairs_in_cp_kernels() {
        let (seq, cp) = (4096, 4);
        let mut g = graph(seq, cp);
        ring_attention(&mut g, seq, cp).unwrap();
        let attn: Vec<&Op> = g
            .ops
            .iter()
            .filter(|o| matches!(o.kind, OpKind::Attention(_)))
            .collect();
        assert_eq!(attn.len() as u64, cp);
        assert_eq!(
            g.ops.len() as u64,
            2 * cp - 1,
            "one merge per received block"
        );
        // S²/(2·cp) pairs, up to the causal diagonal's half.
        let want = seq * seq / (2 * cp);
        let got = pairs(&g);
        assert!(got >= want && got - want <= seq / cp, "{got} vs {want}");
        // Every step reads the device's q and the ring's k, v, and keeps the op's repeat.
        for s in &attn[1..] {
            for i in 0..3 {
                assert_eq!(s.operands[i].tensor, attn[0].operands[i].tensor);
            }
            assert_eq!(s.repeat, 3);
        }
        let mut gathered = graph(seq, cp);
        gathered_attention(&mut gathered, seq, cp);
        assert_eq!(gathered.ops.len(), 1);
        let p = pairs(&gathered);
        assert!(p.abs_diff(want) <= seq, "{p} vs {want}");
    }
}
