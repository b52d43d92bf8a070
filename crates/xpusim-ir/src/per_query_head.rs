//! Decode attention one query head per thread block: the kernel of stacks that do not pack
//! the query heads of a KV head together.
//!
//! A decode step's attention scores one new query per sequence against its cached keys.
//! Kernels built for grouped-query attention (TensorRT-LLM's XQA, experimental in v0.6.1
//! and on by default from v0.7; FlashInfer; FlashAttention's decode path) pack the
//! `heads / kv_heads` query heads that share a KV head into the rows of one matrix-unit
//! tile, so each K and V element is read and converted once per KV head. The masked
//! multi-head attention kernel that came before them (FasterTransformer's and
//! TensorRT-LLM's `decoderMaskedMultiheadAttention`; vLLM's `paged_attention` v1/v2) runs
//! one thread block per (query head, sequence) and computes the dot products as FP32 FMAs
//! on the vector units: every query head of a group reads its KV head's cache on its own.
//! How the engine prices it is in `xpusim_engine::attention`; which stacks run it is a
//! runtime profile's `decode_attention` (`xpusim_hw::RuntimeSpec`).

use crate::{Graph, Op, OpKind};

/// A single-query forward attention op (a decode step: one new token per sequence) not yet
/// marked. Multi-query attention (prefill, chunks, speculative verification) keeps the
/// packed tiles: the per-head kernel serves generation only.
fn unmarked_decode(op: &Op) -> bool {
    !op.per_query_head && matches!(&op.kind, OpKind::Attention(a) if a.q_len == 1)
}

impl Graph {
    /// Whether [`Graph::decode_per_query_head`] would mark any op (callers skip copying a
    /// graph it leaves alone).
    pub fn has_unmarked_decode_attention(&self) -> bool {
        self.ops.iter().any(unmarked_decode)
    }

    /// Marks every single-query forward attention op to run one query head per thread
    /// block; returns how many were marked.
    pub fn decode_per_query_head(&mut self) -> usize {
        let mut n = 0;
        for op in self.ops.iter_mut().filter(|o| unmarked_decode(o)) {
            op.per_query_head = true;
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use crate::{AttentionSpec, DType, Graph, Op, Phase, Precision, Role};

    fn attention(q_len: u64) -> Op {
        let a = AttentionSpec {
            batch: 2,
            heads: 8,
            kv_heads: 2,
            q_len,
            kv_len: 64,
            head_dim: 16,
            v_head_dim: 16,
            causal: true,
        };
        Op::attention("attn", a, Role::KvCache, Precision::uniform(DType::Fp16))
            .expect("valid attention")
    }

    #[test]
    fn marks_single_query_attention_only() {
        let mut g = Graph::new("g", Phase::Decode, 2, 1);
        g.ops.push(attention(1));
        g.ops.push(attention(4));
        assert!(g.has_unmarked_decode_attention());
        assert_eq!(g.decode_per_query_head(), 1);
        assert!(g.ops[0].per_query_head);
        assert!(!g.ops[1].per_query_head);
        assert!(!g.has_unmarked_decode_attention());
    }
}
