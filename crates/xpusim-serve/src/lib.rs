//! xpusim-serve: simulate an LLM inference server on modelled hardware.
//!
//! Requests arrive ([`workload`]: seeded Poisson or a trace CSV), a vLLM-style
//! continuous-batching [`scheduler`] packs chunked prefills and decodes into iterations
//! over a paged KV cache with preemption, and a [`StepModel`] prices each iteration. The
//! step model is the only link to hardware: [`TargetStepModel`] prices iterations on any
//! target — one device, or a tensor-parallel group of a system, with or without PIM —
//! through `xpusim-target`, memoised on a size grid ([`grid`]);
//! [`SpeculativeStepModel`] adds a draft model for speculative decoding, and
//! [`serve_disaggregated`] splits prefill and decode over separate replica pools.
//! [`metrics`] turns the outcome into TTFT/TPOT/E2E percentiles, throughput, goodput,
//! KV usage over time, energy per token and $ per million tokens.
//!
//! Invariants:
//! - Deterministic: the same requests, config and step model give the same outcome.
//! - Conservation: every request finishes and produces exactly its output tokens; a request
//!   that could never fit the KV pool alone is rejected up front
//!   ([`ServeError::KvExhausted`]) rather than stalling the simulation.
//! - KV blocks in use never exceed the pool computed from memory − weights − reserve.
//! - Step costs come only from `xpusim-target`'s evaluation (one seam for every target): the
//!   memo holds exact evaluations per token count for the linear layers and LM head, and
//!   interpolates attention bilinearly between grid points (error < 5%, tested).
//! - A request's KV never exceeds `input + output − 1` tokens (plus fixed SSM state); a
//!   preempted request is recomputed, never silently dropped.
//! - Sweeping the arrival rate with one seed scales the same arrival pattern, so tail latency
//!   rises with the rate (property-tested on an exact step model, not a theorem: continuous
//!   batching admits rare inversions of under 2%).

pub mod capacity;
mod compose;
mod device;
mod disagg;
mod error;
pub mod grid;
pub mod metrics;
mod replica;
mod resolve;
pub mod scheduler;
mod speculative;
mod step;
pub mod workload;

use serde::Serialize;

pub use capacity::{max_rate, parse_slo, Capacity, SloTarget};
pub use device::{budget, StepOptions, GPU_MEMORY_UTILIZATION, UNIFORM_EXPERT_IMBALANCE};
pub use disagg::{serve_disaggregated, Disaggregation, KvLink};
pub use error::{gb as format_bytes, ServeError};
pub use metrics::{Metrics, Percentiles, Slo};
pub use replica::{load_system, TargetStepModel};
pub use resolve::load_decoder;
pub use scheduler::{simulate, Admission, RequestRecord, SchedulerConfig, SimOutcome, Speculation};
pub use speculative::SpeculativeStepModel;
pub use step::{
    EnergyParts, IterationShape, MemoryBudget, PrefillChunk, StepCost, StepModel, MEMORY_SLOTS,
};
pub use workload::{
    check_count, parse_trace, poisson, read_trace, Request, TokenDist, MAX_REQUESTS,
    MAX_TOKENS_PER_REQUEST,
};
pub use xpusim_hw::System;
pub use xpusim_target::Target;

/// A finished serving simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub hardware: String,
    pub devices: u64,
    pub scheduler: SchedulerConfig,
    pub slo: Slo,
    pub memory: MemoryBudget,
    pub kv_bytes_per_token: u64,
    pub metrics: Metrics,
    /// Prefill/decode pools, when disaggregated (`memory` is then one decode replica's).
    pub disaggregation: Option<Disaggregation>,
    /// What happened to each request, in request order (the rows the percentiles in
    /// `metrics` summarise). Left out of JSON when empty, as the CLI leaves it unless
    /// asked (`serve --per-request`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestRecord>,
}

/// Simulates `requests` on `model` and summarises the outcome.
pub fn serve(
    model: &dyn StepModel,
    requests: &[Request],
    cfg: &SchedulerConfig,
    slo: &Slo,
    price_per_device_hour: Option<f64>,
) -> Result<Report, ServeError> {
    let outcome = simulate(model, requests, cfg)?;
    let metrics = metrics::summarise(&outcome, slo, model.devices(), price_per_device_hour);
    Ok(Report {
        hardware: model.hardware(),
        devices: model.devices(),
        scheduler: *cfg,
        slo: *slo,
        memory: model.memory(),
        kv_bytes_per_token: model.kv_bytes_per_token(),
        metrics,
        disaggregation: None,
        requests: outcome.records,
    })
}
