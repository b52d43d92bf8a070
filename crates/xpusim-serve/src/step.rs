//! The one interface between the scheduler and the hardware model: what an iteration of a
//! continuous-batching server costs, and how much KV cache there is.

use serde::Serialize;

use crate::ServeError;

/// Part of one request's prompt processed in an iteration (chunked prefill).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefillChunk {
    /// Prompt tokens processed in this iteration.
    pub tokens: u64,
    /// Tokens of the same request already in the KV cache (earlier chunks).
    pub prior: u64,
    /// This chunk finishes the prompt, so the iteration samples a token for it (LM head).
    pub last: bool,
}

/// What one iteration computes: prefill chunks and decode sequences share one forward pass
/// (the linear layers see all tokens stacked; attention runs per sequence).
#[derive(Debug, Clone, Copy)]
pub struct IterationShape<'a> {
    pub prefill: &'a [PrefillChunk],
    /// KV positions already cached for each decoding sequence (its new tokens are appended).
    pub decode_contexts: &'a [u64],
    /// Query tokens per decoding sequence: 1, or `γ + 1` when speculative decoding verifies
    /// `γ` drafted tokens plus the last accepted one.
    pub decode_tokens: u64,
}

impl<'a> IterationShape<'a> {
    /// An iteration with one query token per decode.
    pub fn new(prefill: &'a [PrefillChunk], decode_contexts: &'a [u64]) -> IterationShape<'a> {
        IterationShape {
            prefill,
            decode_contexts,
            decode_tokens: 1,
        }
    }

    fn decode_rows(&self) -> u64 {
        self.decode_contexts.len() as u64 * self.decode_tokens.max(1)
    }

    /// Tokens through the linear layers.
    pub fn tokens(&self) -> u64 {
        self.prefill.iter().map(|c| c.tokens).sum::<u64>() + self.decode_rows()
    }

    /// Rows of the LM head: prompt-finishing chunks and every decode query token.
    pub fn logits(&self) -> u64 {
        self.prefill.iter().filter(|c| c.last).count() as u64 + self.decode_rows()
    }
}

/// Cost of one iteration over every device that serves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StepCost {
    pub time_s: f64,
    /// Energy of all devices during the step, idle power included.
    pub energy_j: f64,
}

/// How the serving memory is split. KV capacity is what remains of the usable memory after
/// the weights and the activation reserve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryBudget {
    /// Device memory of one replica (all devices of a tensor-parallel group), bytes.
    pub memory_bytes: u64,
    /// The fraction the runtime may use (vLLM `gpu_memory_utilization`).
    pub usable_bytes: u64,
    pub weight_bytes: u64,
    /// Peak live activations of the largest iteration.
    pub reserve_bytes: u64,
    pub kv_capacity_bytes: u64,
}

/// A replica that runs continuous-batching iterations: one device, or a tensor-parallel
/// group of devices ([`crate::system`] when that crate is present).
pub trait StepModel {
    /// Cost of one iteration. Must be non-negative and, for a fixed shape, deterministic.
    fn step(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError>;
    /// KV-cache bytes one token adds, over the whole replica.
    fn kv_bytes_per_token(&self) -> u64;
    /// Cache bytes a sequence holds whatever its length (SSM state), over the whole replica.
    fn state_bytes_per_seq(&self) -> u64 {
        0
    }
    fn memory(&self) -> MemoryBudget;
    fn kv_capacity_bytes(&self) -> u64 {
        self.memory().kv_capacity_bytes
    }
    /// Devices in the replica (for idle energy and the price of a device-hour).
    fn devices(&self) -> u64;
    /// Power the replica draws when no iteration runs, W.
    fn idle_power_w(&self) -> f64;
    /// Human-readable hardware name (`h100-sxm`, `dgx-h100 tp=8`).
    fn hardware(&self) -> String;
    /// The link a KV cache leaves the replica over (for disaggregated serving), if the
    /// hardware describes one.
    fn kv_link(&self) -> Option<crate::KvLink> {
        None
    }
}
