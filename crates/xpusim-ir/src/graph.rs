//! A whole model: ops in execution order plus its declared parameters.

use serde::Serialize;

use crate::{DType, IrError, Op, OpKind, Role};

/// Which pass of a model a graph describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// One forward pass (CNN, RNN, encoder).
    Inference,
    /// Decoder prompt processing.
    Prefill,
    /// One decoder step per sequence with a KV cache.
    Decode,
    /// The forward pass of one training micro-batch, ending in the loss: every token of
    /// every sequence (decoders: causal attention over `seq_len` with K/V computed, no KV
    /// cache, the LM head over every token), then the loss over the model's output. Its
    /// backward is [`crate::autodiff::backward`].
    Train,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Inference => "inference",
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
            Phase::Train => "train",
        }
    }
}

/// A parameter tensor, stored `count` times (e.g. once per layer, or per expert·layer), of
/// which `active_count` copies are used per token (MoE routing uses top-k of the experts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weight {
    pub name: String,
    pub shape: Vec<u64>,
    pub dtype: DType,
    pub count: u64,
    pub active_count: u64,
}

impl Weight {
    pub fn elems(&self) -> u64 {
        self.shape.iter().product::<u64>() * self.count
    }
}

/// A model lowered to the IR.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graph {
    pub name: String,
    pub phase: Phase,
    /// Sequences (or images) processed together.
    pub batch: u64,
    /// Tokens produced per sequence by one pass (decode: 1; prefill: prompt length; train:
    /// the sequence length, 1 for an image).
    pub tokens_per_sample: u64,
    pub ops: Vec<Op>,
    pub weights: Vec<Weight>,
    /// Set by [`Graph::pack_varlen`]: the sequence-length distribution packed into this
    /// pass (`batch` is its sequences, `tokens_per_sample` its mean length rounded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_dist: Option<crate::SeqDistSummary>,
}

/// Whole-graph totals; op-level quantities are multiplied by each op's `repeat`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GraphTotals {
    pub params: u64,
    pub active_params: u64,
    pub weight_bytes: u64,
    pub flops: u64,
    pub macs: u64,
    /// Bytes of every op output (activations written), before any fusion.
    pub activation_bytes: u64,
    /// KV-cache (and SSM state) bytes read by one pass.
    pub kv_cache_bytes: u64,
}

impl Graph {
    pub fn new(name: &str, phase: Phase, batch: u64, tokens_per_sample: u64) -> Graph {
        Graph {
            name: name.to_string(),
            phase,
            batch,
            tokens_per_sample,
            ops: Vec::new(),
            weights: Vec::new(),
            seq_dist: None,
        }
    }

    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Declares a parameter tensor stored `count` times, all active.
    pub fn weight(
        &mut self,
        name: &str,
        shape: &[u64],
        dtype: DType,
        count: u64,
    ) -> Result<(), IrError> {
        self.weight_active(name, shape, dtype, count, count)
    }

    /// Declares a parameter tensor of which only `active_count` copies serve each token.
    pub fn weight_active(
        &mut self,
        name: &str,
        shape: &[u64],
        dtype: DType,
        count: u64,
        active_count: u64,
    ) -> Result<(), IrError> {
        let mut dims = shape.to_vec();
        dims.push(count);
        crate::checked_product(name, "weight elements", &dims)?;
        self.weights.push(Weight {
            name: name.to_string(),
            shape: shape.to_vec(),
            dtype,
            count,
            active_count: active_count.min(count),
        });
        Ok(())
    }

    /// Tokens the pass computes: the packed count of a variable-length pass, else
    /// `batch · tokens_per_sample`.
    pub fn tokens(&self) -> u64 {
        match &self.seq_dist {
            Some(d) => d.packed_tokens,
            None => self.batch.saturating_mul(self.tokens_per_sample),
        }
    }

    /// Sums over every op and weight; each op's quantities times its `repeat` (bounded by
    /// [`crate::MAX_WORK`]), summed saturating so no graph can overflow them.
    pub fn totals(&self) -> GraphTotals {
        let mut t = GraphTotals {
            params: 0,
            active_params: 0,
            weight_bytes: 0,
            flops: 0,
            macs: 0,
            activation_bytes: 0,
            kv_cache_bytes: 0,
        };
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        for w in &self.weights {
            let per = w.shape.iter().product::<u64>();
            add(&mut t.params, per * w.count);
            add(&mut t.active_params, per * w.active_count);
            add(&mut t.weight_bytes, w.dtype.bytes(per) * w.count);
        }
        for op in &self.ops {
            let r = op.repeat;
            add(&mut t.flops, op.flops().saturating_mul(r));
            add(&mut t.macs, op.macs().saturating_mul(r));
            add(
                &mut t.activation_bytes,
                op.bytes_by_role(Role::Output).saturating_mul(r),
            );
            add(
                &mut t.kv_cache_bytes,
                op.bytes_by_role(Role::KvCache).saturating_mul(r),
            );
        }
        t
    }

    /// Layers of the model's repeated stack: over every layer index the ops carry, the
    /// largest `repeat` among its ops (a group of identical layers is one index whose ops
    /// repeat once per layer). 0 for a graph whose frontend marked no layers.
    pub fn layer_count(&self) -> u64 {
        let mut groups: std::collections::BTreeMap<u32, u64> = Default::default();
        for op in &self.ops {
            if let Some(l) = op.layer {
                let e = groups.entry(l).or_default();
                *e = (*e).max(op.repeat);
            }
        }
        groups.values().sum()
    }

    /// Counts of ops per `Unknown` operator type, for reporting what a frontend could not
    /// lower (never silently dropped).
    pub fn unknown_ops(&self) -> Vec<(String, u64)> {
        let mut m: std::collections::BTreeMap<String, u64> = Default::default();
        for op in &self.ops {
            if let OpKind::Unknown { op_type } = &op.kind {
                *m.entry(op_type.clone()).or_default() += op.repeat;
            }
        }
        m.into_iter().collect()
    }
}
