//! Shared test doubles.
#![allow(dead_code)]

use xpusim_serve::{EnergyParts, IterationShape, MemoryBudget, ServeError, StepCost, StepModel};

/// An affine iteration cost: `fixed + per_token·tokens + per_ctx·Σ context`, with a KV pool
/// of `capacity_bytes`. Cheap and exactly known, so scheduler properties can be tested on
/// thousands of requests in debug builds.
pub struct Affine {
    pub fixed_s: f64,
    pub per_token_s: f64,
    pub per_ctx_s: f64,
    pub kv_per_token: u64,
    pub capacity_bytes: u64,
}

impl Affine {
    pub fn new(capacity_tokens: u64) -> Affine {
        Affine {
            fixed_s: 5e-3,
            per_token_s: 2e-5,
            per_ctx_s: 1e-8,
            kv_per_token: 1000,
            capacity_bytes: capacity_tokens * 1000,
        }
    }
}

impl StepModel for Affine {
    fn step(&self, it: &IterationShape<'_>) -> Result<StepCost, ServeError> {
        let ctx: u64 = it.decode_contexts.iter().sum::<u64>()
            + it.prefill
                .iter()
                .map(|c| c.prior * c.tokens + c.tokens * c.tokens / 2)
                .sum::<u64>();
        let t = self.fixed_s + self.per_token_s * it.tokens() as f64 + self.per_ctx_s * ctx as f64;
        Ok(StepCost::new(
            t,
            EnergyParts {
                compute_j: 400.0 * t,
                static_j: 100.0 * t,
                ..EnergyParts::default()
            },
        ))
    }
    fn kv_bytes_per_token(&self) -> u64 {
        self.kv_per_token
    }
    fn memory(&self) -> MemoryBudget {
        MemoryBudget {
            memory_bytes: 2 * self.capacity_bytes + 10,
            usable_bytes: 2 * self.capacity_bytes,
            weight_bytes: self.capacity_bytes,
            reserve_bytes: 0,
            kv_capacity_bytes: self.capacity_bytes,
        }
    }
    fn devices(&self) -> u64 {
        1
    }
    fn idle_power_w(&self) -> f64 {
        100.0
    }
    fn hardware(&self) -> String {
        "affine".into()
    }
}
