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

/// Memory levels a step's energy keeps apart: the device's own levels in its spec's order
/// ([`StepModel::memory_levels`]), and the last slot for traffic at any level the device
/// does not list (a host link).
pub const MEMORY_SLOTS: usize = 6;

/// Parts of [`EnergyParts`] as a flat array (the memo tables interpolate them).
pub(crate) const PARTS: usize = 4 + MEMORY_SLOTS;

/// A step's energy by part, over every device of the replica, J: the same parts as one
/// pass's `energy_breakdown` (`xpusim_target::EnergyBreakdown`), so `serve` and `run`
/// account energy alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EnergyParts {
    /// Arithmetic: MACs and vector FLOPs.
    pub compute_j: f64,
    /// Traffic at each memory level (slots as [`MEMORY_SLOTS`] says).
    pub memory_j: [f64; MEMORY_SLOTS],
    /// Links between the replica's devices.
    pub network_j: f64,
    /// Processing in memory.
    pub pim_j: f64,
    /// The devices' static power over the step.
    pub static_j: f64,
}

impl EnergyParts {
    pub fn total(&self) -> f64 {
        self.compute_j
            + self.memory_j.iter().sum::<f64>()
            + self.network_j
            + self.pim_j
            + self.static_j
    }

    /// Adds `f` × `o`.
    pub fn add_scaled(&mut self, o: &EnergyParts, f: f64) {
        let (mut a, b) = (self.to_array(), o.to_array());
        for (x, y) in a.iter_mut().zip(b) {
            *x += y * f;
        }
        *self = EnergyParts::from_array(&a);
    }

    /// The parts by name, as a pass's `energy_breakdown` (`levels`: the names of the memory
    /// slots, [`StepModel::memory_levels`]; traffic in the last slot past them is "other
    /// levels"); no host power yet.
    pub fn named(&self, levels: &[String]) -> xpusim_target::EnergyBreakdown {
        let mut memory_j = std::collections::BTreeMap::new();
        for (i, &j) in self.memory_j.iter().enumerate() {
            if j != 0.0 {
                let name = levels.get(i).map_or("other levels", String::as_str);
                *memory_j.entry(name.to_string()).or_default() += j;
            }
        }
        xpusim_target::EnergyBreakdown {
            compute_j: self.compute_j,
            memory_j,
            network_j: self.network_j,
            pim_j: self.pim_j,
            idle_j: self.static_j,
            node_j: 0.0,
        }
    }

    pub(crate) fn to_array(self) -> [f64; PARTS] {
        let mut a = [0.0; PARTS];
        a[0] = self.compute_j;
        a[1] = self.network_j;
        a[2] = self.pim_j;
        a[3] = self.static_j;
        a[4..].copy_from_slice(&self.memory_j);
        a
    }

    pub(crate) fn from_array(a: &[f64]) -> EnergyParts {
        let mut memory_j = [0.0; MEMORY_SLOTS];
        memory_j.copy_from_slice(&a[4..PARTS]);
        EnergyParts {
            compute_j: a[0],
            network_j: a[1],
            pim_j: a[2],
            static_j: a[3],
            memory_j,
        }
    }
}

/// Cost of one iteration over every device that serves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StepCost {
    pub time_s: f64,
    /// Energy of all devices during the step, static power included: `parts.total()`.
    pub energy_j: f64,
    /// `energy_j` by part.
    #[serde(skip)]
    pub parts: EnergyParts,
}

impl StepCost {
    /// A step of `time_s` whose energy is `parts`.
    pub fn new(time_s: f64, parts: EnergyParts) -> StepCost {
        StepCost {
            time_s,
            energy_j: parts.total(),
            parts,
        }
    }
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
    /// Host power charged to the replica whether or not it steps, W
    /// (`xpusim_target::Target::node_overhead_w` of its devices).
    fn node_power_w(&self) -> f64 {
        0.0
    }
    /// Names of the memory levels in [`EnergyParts::memory_j`]'s slots, in order; a slot
    /// past them is traffic at a level the device does not list.
    fn memory_levels(&self) -> Vec<String> {
        Vec::new()
    }
    /// Human-readable hardware name (`h100-sxm`, `dgx-h100 tp=8`).
    fn hardware(&self) -> String;
    /// The link a KV cache leaves the replica over (for disaggregated serving), if the
    /// hardware describes one.
    fn kv_link(&self) -> Option<crate::KvLink> {
        None
    }
}
