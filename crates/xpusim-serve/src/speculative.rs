//! A target model paired with a draft model on the same devices (speculative decoding).
//!
//! Per iteration (Leviathan et al. 2023, §3): the target runs the scheduler's shape, in
//! which every decode verifies `γ + 1` query tokens; the draft prefills the same prompt
//! chunks (it needs its own KV cache) and runs `γ` sequential one-token decode steps over
//! the decoding sequences to propose the tokens. Both models' weights and KV caches share the
//! replica's memory.

use crate::device::budget;
use crate::step::{IterationShape, MemoryBudget, StepCost, StepModel};
use crate::ServeError;

pub struct SpeculativeStepModel {
    target: Box<dyn StepModel>,
    draft: Box<dyn StepModel>,
    budget: MemoryBudget,
}

impl SpeculativeStepModel {
    /// Pairs `target` with `draft`; both must describe the same devices. `utilization` and
    /// `kv_free_fraction` size the KV cache as for the target alone ([`crate::budget`]).
    pub fn new(
        target: Box<dyn StepModel>,
        draft: Box<dyn StepModel>,
        utilization: f64,
        kv_free_fraction: Option<f64>,
    ) -> Result<SpeculativeStepModel, ServeError> {
        let (t, d) = (target.memory(), draft.memory());
        if t.memory_bytes != d.memory_bytes || target.devices() != draft.devices() {
            return Err(ServeError::invalid(
                "draft model",
                format!(
                    "must run on the target's devices: target {} ({} B), draft {} ({} B)",
                    target.hardware(),
                    t.memory_bytes,
                    draft.hardware(),
                    d.memory_bytes
                ),
            ));
        }
        let budget = budget(
            t.memory_bytes,
            utilization,
            kv_free_fraction,
            t.weight_bytes + d.weight_bytes,
            t.reserve_bytes.max(d.reserve_bytes),
        )?;
        Ok(SpeculativeStepModel {
            target,
            draft,
            budget,
        })
    }
}

fn add(a: StepCost, b: StepCost, times: f64) -> StepCost {
    let mut parts = a.parts;
    parts.add_scaled(&b.parts, times);
    StepCost::new(a.time_s + b.time_s * times, parts)
}

impl StepModel for SpeculativeStepModel {
    fn step(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        let gamma = it.decode_tokens.saturating_sub(1) as f64;
        let mut c = self.target.step(it)?;
        if !it.prefill.is_empty() {
            c = add(
                c,
                self.draft.step(&IterationShape::new(it.prefill, &[]))?,
                1.0,
            );
        }
        if !it.decode_contexts.is_empty() && gamma > 0.0 {
            let d = self
                .draft
                .step(&IterationShape::new(&[], it.decode_contexts))?;
            c = add(c, d, gamma);
        }
        Ok(c)
    }

    fn kv_bytes_per_token(&self) -> u64 {
        self.target.kv_bytes_per_token() + self.draft.kv_bytes_per_token()
    }

    fn state_bytes_per_seq(&self) -> u64 {
        self.target.state_bytes_per_seq() + self.draft.state_bytes_per_seq()
    }

    fn memory(&self) -> MemoryBudget {
        self.budget
    }

    fn devices(&self) -> u64 {
        self.target.devices()
    }

    fn idle_power_w(&self) -> f64 {
        self.target.idle_power_w()
    }

    fn node_power_w(&self) -> f64 {
        self.target.node_power_w()
    }

    fn memory_levels(&self) -> Vec<String> {
        self.target.memory_levels()
    }

    fn hardware(&self) -> String {
        self.target.hardware()
    }

    fn kv_link(&self) -> Option<crate::KvLink> {
        self.target.kv_link()
    }
}
