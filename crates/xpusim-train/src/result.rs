//! What a training step costs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layout::TrainLayout;
use crate::optimizer::Optimizer;

/// Where the critical device's step time goes; the parts add up to the step time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StepBreakdown {
    /// Forward and backward compute of every micro-batch.
    pub compute_s: f64,
    /// The forward run again in backward (activation recomputation).
    pub recompute_s: f64,
    /// Communication on the critical path, per collective: tensor-parallel (`tp_…`),
    /// expert-parallel (`ep_…`), context-parallel (`cp_…`), ZeRO-3 parameter gathers
    /// (`zero3_…`), and the data-parallel gradient reduction left exposed after overlap
    /// (`dp_…`).
    pub communication_s: BTreeMap<String, f64>,
    /// Idle time in the pipeline schedule: fill, drain, and waiting for sends.
    pub pipeline_bubble_s: f64,
    pub optimizer_s: f64,
    /// Time the devices wait for the host to issue kernels (a runtime profile's eager
    /// issue exceeding a layer's device time; 0 without one).
    pub host_issue_s: f64,
}

impl StepBreakdown {
    pub fn total_s(&self) -> f64 {
        self.compute_s
            + self.host_issue_s
            + self.recompute_s
            + self.communication_s.values().sum::<f64>()
            + self.pipeline_bubble_s
            + self.optimizer_s
    }
}

/// Memory of the fullest device, bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrainMemory {
    pub weights_bytes: u64,
    pub gradients_bytes: u64,
    pub optimizer_bytes: u64,
    /// Activations stored for the backward of every micro-batch in flight.
    pub activations_bytes: u64,
    /// Working buffers: the largest op's operands, a recomputed layer's activations,
    /// ZeRO-3's gathered layers.
    pub temporary_bytes: u64,
    pub total_bytes: u64,
    pub capacity_bytes: u64,
    /// Which pipeline stage the fullest device serves.
    pub stage: u64,
}

/// One training step of a model on a target under a layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainCost {
    pub model: String,
    pub hardware: String,
    pub device: String,
    pub cost_model: String,
    pub layout: TrainLayout,
    pub optimizer: Optimizer,
    pub devices: u64,
    /// Micro-batches per replica per step (gradient accumulation steps).
    pub microbatches: u64,
    pub seq_len: u64,
    pub samples_per_step: u64,
    pub tokens_per_step: u64,
    pub params: u64,
    pub step_time_s: f64,
    pub breakdown: StepBreakdown,
    /// Share of the critical device's step idle in the pipeline schedule.
    pub bubble_fraction: f64,
    pub samples_per_s: f64,
    pub tokens_per_s: f64,
    /// Model FLOPs per step: 3 × the forward's FLOPs (forward + backward at 2×), attention
    /// counted causally, no recomputation — the 6·N·T + attention convention of PaLM
    /// (Chowdhery et al. 2022, App. B) and Llama 3, with causal attention as DeepSeek-V3
    /// reports it. Exact: a 405B model's 16 M-token step (4·10^19) exceeds `u64`.
    pub model_flops: u128,
    /// FLOPs the devices execute per step: backward as built (incl. FlashAttention's
    /// recomputed scores), recomputation and the optimizer.
    pub hardware_flops: f64,
    /// Model FLOPs utilisation: model FLOPs / (step time × devices × dense 16-bit peak).
    pub mfu: f64,
    /// Hardware FLOPs utilisation against the same peak.
    pub hfu: f64,
    /// Model TFLOP/s per device.
    pub tflops_per_device: f64,
    /// The dense 16-bit peak MFU divides by, TFLOP/s per device.
    pub peak_tflops: f64,
    pub memory: TrainMemory,
    /// `memory.total_bytes`: what the fullest device needs.
    pub memory_per_device_bytes: u64,
    pub fits: bool,
    /// Energy of the devices and of the nodes hosting them (CPUs, NICs, fans: the
    /// system's `node_power`), per step.
    pub energy_per_step_j: f64,
    /// That energy by part, as `run` and `serve` account it: the devices' arithmetic, each
    /// memory level's traffic and the links (their dynamic energy), their static power over
    /// the step, and the nodes' overhead; the parts sum to `energy_per_step_j`.
    pub energy_parts: xpusim_target::EnergyBreakdown,
    /// The devices' own average power (dynamic energy of their work plus static power).
    pub power_w_per_device: f64,
    /// Rental price the system cites, USD per device-hour.
    pub price_usd_per_device_hour: Option<f64>,
}

/// Training on a token budget at a step's rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainRun {
    pub tokens: f64,
    pub steps: f64,
    pub time_s: f64,
    pub device_hours: f64,
    pub energy_kwh: f64,
    /// Device-hours × the system's rental price.
    pub rental_usd: Option<f64>,
}

impl TrainCost {
    /// Time, device-hours, energy and rental cost of training on `tokens` tokens (samples
    /// for models without tokens).
    pub fn run(&self, tokens: f64) -> TrainRun {
        let per_step = self.tokens_per_step.max(1) as f64;
        let steps = tokens / per_step;
        let time_s = steps * self.step_time_s;
        let device_hours = time_s / 3600.0 * self.devices as f64;
        TrainRun {
            tokens,
            steps,
            time_s,
            device_hours,
            energy_kwh: steps * self.energy_per_step_j / 3.6e6,
            rental_usd: self.price_usd_per_device_hour.map(|p| p * device_hours),
        }
    }
}
