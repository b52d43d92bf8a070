//! What an op is for, as parallelism and placement see it.
//!
//! Splitting a model over devices (tensor, expert and pipeline parallelism), pricing a
//! serving iteration and placing ops on processing-in-memory all need to know what an op
//! does in the model: is this matmul the first or the second projection of a block, the
//! LM head, an expert? That knowledge belongs to whoever built the graph, so frontends
//! (the zoo, the Hugging Face and ONNX importers) write it here as an [`OpRole`] and a
//! [`Op::layer`](crate::Op::layer) index, and everything downstream reads these fields —
//! never an op's name, which is only a label for reports.
//!
//! The roles follow Megatron-LM's tensor-parallel layout (Shoeybi et al. 2019, §3): a
//! block's first projection is split by output columns, its pointwise middle runs on each
//! device's slice, its second projection is split by input rows and leaves partial sums
//! that are all-reduced where the block joins the residual stream.
//!
//! The backward pass ([`crate::autodiff`]) keeps the layout with Megatron's conjugate
//! operators (§3, `f` and `g`): the all-reduce moves to where the forward had identity — the
//! input gradient of a block's column-split projections is a partial sum (`Row`), reduced
//! before the norm's backward (`Residual`) — and the forward's all-reduce becomes identity
//! (the row-split projection's input gradient is column-split, `Column`). The table of
//! roles is in [`crate::autodiff`].

use serde::Serialize;

/// Which kind of block a projection or slice-local op belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// Self-attention (QKV and output projections, rotary embedding, the attention core).
    Attention,
    /// Cross-attention of an encoder–decoder's decoder over the encoder output.
    CrossAttention,
    /// A dense feed-forward network (including the shared experts of an MoE layer).
    Mlp,
    /// The routed experts of a mixture-of-experts layer.
    Experts,
    /// A state-space (Mamba) mixer.
    Mixer,
    /// The vocabulary-parallel output layer in training: the backward of the LM head
    /// (its input gradient reduces over the split vocabulary, `Row(Vocab)`; its weight
    /// gradient is split by vocabulary columns, `Column(Vocab)`) and the cross-entropy loss
    /// over split logits (`Sliced(Vocab)`, Megatron-LM's `vocab_parallel_cross_entropy`).
    Vocab,
}

impl Block {
    pub fn name(self) -> &'static str {
        match self {
            Block::Attention => "attention",
            Block::CrossAttention => "cross_attention",
            Block::Mlp => "mlp",
            Block::Experts => "experts",
            Block::Mixer => "mixer",
            Block::Vocab => "vocab",
        }
    }
}

/// What an op does in its model, for sharding, pipelining, serving and PIM placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpRole {
    /// Computed whole on every device of a tensor-parallel group: norms, residual stream
    /// work, routers, classifiers and anything a frontend could not classify.
    #[default]
    Replicated,
    /// A projection whose output columns split over the group (QKV, FFN up/gate, SSM input
    /// and Δ projections; for experts, the split within one expert).
    Column(Block),
    /// A projection whose input rows split; its output is a partial sum until the block's
    /// [`OpRole::Residual`] (attention output, FFN down, SSM output projection).
    Row(Block),
    /// Pointwise or scan work on a column-split activation: it runs on the device's slice
    /// (activation functions, gating, rotary embedding, SSM convolution gates, the scan).
    Sliced(Block),
    /// Work batched over attention heads: the attention core, unfused score and value
    /// matmuls and their softmax, MLA's absorbed per-head projections.
    Heads(Block),
    /// Writes new keys and values (or state) into the cache: split with the KV heads, and
    /// placed where that block's cache lives.
    KvAppend(Block),
    /// Token-embedding gather from a vocabulary table (vocabulary-parallel, then
    /// all-reduced).
    Embedding,
    /// Projection of the final hidden state onto the vocabulary (column-parallel, logits
    /// all-gathered); run only for the rows that sample a token.
    LmHead,
    /// Where a block's output joins the residual stream: the partial sums of the block's
    /// row-split projections are all-reduced before this op.
    Residual,
}

impl OpRole {
    /// The block the op belongs to, when the role names one.
    pub fn block(self) -> Option<Block> {
        match self {
            OpRole::Column(b)
            | OpRole::Row(b)
            | OpRole::Sliced(b)
            | OpRole::Heads(b)
            | OpRole::KvAppend(b) => Some(b),
            _ => None,
        }
    }

    /// A short label for reports: `column:attention`, `lm_head`, `replicated`.
    pub fn label(self) -> String {
        let kind = match self {
            OpRole::Replicated => "replicated",
            OpRole::Column(_) => "column",
            OpRole::Row(_) => "row",
            OpRole::Sliced(_) => "sliced",
            OpRole::Heads(_) => "heads",
            OpRole::KvAppend(_) => "kv_append",
            OpRole::Embedding => "embedding",
            OpRole::LmHead => "lm_head",
            OpRole::Residual => "residual",
        };
        match self.block() {
            Some(b) => format!("{kind}:{}", b.name()),
            None => kind.to_string(),
        }
    }

    pub fn is_replicated(&self) -> bool {
        *self == OpRole::Replicated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_block() {
        assert_eq!(OpRole::Column(Block::Attention).label(), "column:attention");
        assert_eq!(OpRole::Row(Block::Experts).label(), "row:experts");
        assert_eq!(OpRole::LmHead.label(), "lm_head");
        assert_eq!(OpRole::default(), OpRole::Replicated);
        assert_eq!(OpRole::Residual.block(), None);
    }
}
