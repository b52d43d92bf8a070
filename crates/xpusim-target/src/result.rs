//! The one result of evaluating a model on any target: the same JSON shape for a device, a
//! system and a system with PIM (extra parts are optional fields, never renamed). The
//! schema is documented in `docs/json-schema.md`.

use std::collections::BTreeMap;

use serde::Serialize;
use xpusim_engine::{Bound, OpCost};
use xpusim_ir::OpRole;
use xpusim_system::Parallelism;

/// Per-op line of a report; quantities cover every `repeat` and, on a system, one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpReport {
    pub name: String,
    pub kind: String,
    /// What the op is for (from its frontend); decides how it is split and placed.
    #[serde(skip_serializing_if = "OpRole::is_replicated")]
    pub role: OpRole,
    pub repeat: u64,
    /// FLOPs (on a system: of one device).
    pub flops: u64,
    pub macs: u64,
    /// Compulsory bytes (every operand once).
    pub bytes: u64,
    /// Bytes moved per memory level after tiling.
    pub traffic_bytes: BTreeMap<String, u64>,
    pub time_s: f64,
    pub energy_j: f64,
    pub bound: Bound,
    pub mapping: String,
    /// On a system: replicated | column | row | heads | split | experts | comm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<String>,
    /// On a system: pre | layers | post (pipeline placement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// With PIM: share of the op's work done on PIM (0 or 1, or in between for a split).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pim_fraction: Option<f64>,
    /// `energy_j` by part (its static power over the op in `idle_j`), for callers that
    /// compose ops themselves (the serving step model); not in the JSON, whose per-pass
    /// `energy_breakdown` already has it.
    #[serde(skip)]
    pub energy_parts: EnergyBreakdown,
}

/// Where the energy of one pass went (all devices of the target), J. The parts sum to
/// `energy_j` (tested).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnergyBreakdown {
    /// Arithmetic: MACs, vector FLOPs, array registers.
    pub compute_j: f64,
    /// Each memory level's traffic.
    pub memory_j: BTreeMap<String, f64>,
    /// Links between devices (where the system cites an energy per byte).
    pub network_j: f64,
    /// Processing in memory: PIM banks, units and the link to them.
    pub pim_j: f64,
    /// Static power of every device over the whole pass.
    pub idle_j: f64,
    /// The nodes' non-accelerator power (CPUs, switches, fans) where the system cites it.
    pub node_j: f64,
}

impl EnergyBreakdown {
    /// Adds `times` × the dynamic energy of one op (its arithmetic, PIM, link and each
    /// memory level's traffic); static power is charged by the caller, over its own span.
    pub fn add_op(&mut self, c: &OpCost, times: f64) {
        self.compute_j += c.compute_energy_j * times;
        self.pim_j += c.pim_energy_j * times;
        for t in &c.traffic {
            if t.level == "network" {
                self.network_j += t.energy_j * times;
            } else if t.energy_j != 0.0 {
                *self.memory_j.entry(t.level.clone()).or_default() += t.energy_j * times;
            }
        }
    }

    /// Adds `f` × `o`, part by part (memory levels by name).
    pub fn add_scaled(&mut self, o: &EnergyBreakdown, f: f64) {
        self.compute_j += o.compute_j * f;
        for (level, j) in &o.memory_j {
            *self.memory_j.entry(level.clone()).or_default() += j * f;
        }
        self.network_j += o.network_j * f;
        self.pim_j += o.pim_j * f;
        self.idle_j += o.idle_j * f;
        self.node_j += o.node_j * f;
    }

    pub fn total_j(&self) -> f64 {
        self.compute_j
            + self.memory_j.values().sum::<f64>()
            + self.network_j
            + self.pim_j
            + self.idle_j
            + self.node_j
    }
}

/// What a multi-device system adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemReport {
    pub name: String,
    /// Devices in the system.
    pub count: u64,
    pub parallelism: Parallelism,
    /// Busiest pipeline stage for one micro-batch.
    pub stage_time_s: f64,
    pub bubble_fraction: f64,
    /// One device's time of one micro-batch spent computing / communicating (exposed) /
    /// communicating behind compute; layer ops weighted by one stage's share of the layers.
    pub compute_s: f64,
    pub communication_s: f64,
    pub hidden_communication_s: f64,
    pub pipeline_send_s: f64,
    pub weights_per_device_bytes: u64,
    pub kv_cache_per_device_bytes: u64,
    pub activations_per_device_bytes: u64,
    /// Rental cost of the devices used per million tokens, when the system cites a price.
    pub usd_per_million_tokens: Option<f64>,
}

/// What processing in memory adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PimReport {
    /// The PIM memory.
    pub memory: String,
    pub placement: String,
    /// One device's time on its own work, on PIM work (link included) and on the link.
    pub host_s: f64,
    pub pim_s: f64,
    pub link_s: f64,
    /// Time hidden by head-level pipelining of attention on PIM (AttAcc §5.3).
    pub overlap_s: f64,
    /// Bytes one device's PIM share holds (KV cache of PIM attention, PIM-placed weights)
    /// and its capacity.
    pub pim_bytes: u64,
    pub pim_capacity_bytes: u64,
}

/// The cost of one pass of a model on a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCost {
    pub model: String,
    /// The target's name (a device or a system).
    pub hardware: String,
    /// `device` or `system`.
    pub target: &'static str,
    /// The device the target is built from.
    pub device: String,
    /// Devices the pass runs on.
    pub devices: u64,
    /// What priced the ops: `analytical`, `mapping search (edp)`, `analytical + PIM …`.
    pub cost_model: String,
    pub phase: String,
    pub precision: String,
    /// Sequences (or images) per pass (on a system: per data-parallel replica).
    pub batch: u64,
    pub tokens_per_sample: u64,
    pub latency_s: f64,
    /// Samples per second over the whole target.
    pub throughput_per_s: f64,
    pub tokens_per_s: f64,
    /// FLOPs and MACs of one pass over all devices.
    pub flops: u64,
    pub macs: u64,
    pub params: u64,
    pub active_params: u64,
    pub weight_bytes: u64,
    pub kv_cache_bytes: u64,
    pub activation_bytes: u64,
    /// Energy of one pass over all devices (idle power of every device included).
    pub energy_j: f64,
    pub energy_per_sample_j: f64,
    pub energy_breakdown: EnergyBreakdown,
    /// Bound holding the largest share of time.
    pub bound: Bound,
    /// Seconds per bound (one device's ops).
    pub time_by_bound: BTreeMap<String, f64>,
    pub achieved_tflops: f64,
    /// Peak of the dominant compute format over the devices used.
    pub peak_tflops: f64,
    /// achieved / peak.
    pub utilization: f64,
    /// Sustained off-chip bandwidth of one device, bytes/s: with the matrix peak, the roof
    /// that a roofline plot of `ops` draws (as the HTML report does).
    pub offchip_bandwidth_bps: f64,
    /// Bytes one device must hold (device: weights + KV cache; system: its shard, KV and
    /// activations) and its capacity.
    pub memory_required_bytes: u64,
    pub memory_capacity_bytes: u64,
    pub fits_in_memory: bool,
    /// Operators a frontend could not lower, with counts (costed as memory-bound).
    pub unknown_ops: Vec<(String, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pim: Option<PimReport>,
    /// With a runtime profile: the host's kernel issue and step work (in `latency_s`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::RuntimeReport>,
    /// A variable-length pass (`--seq-dist`): the length distribution, the tokens packed
    /// and the tokens padding to the longest would have computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_dist: Option<xpusim_ir::SeqDistSummary>,
    pub ops: Vec<OpReport>,
}

impl ModelCost {
    /// An error with the numbers when a device cannot hold its share of the model (weights,
    /// KV cache, activations, and what PIM holds).
    pub fn check_fits(&self) -> Result<(), crate::TargetError> {
        if self.fits_in_memory {
            return Ok(());
        }
        let gb = |b: u64| b as f64 / 1e9;
        // When the PIM share overflows, say so first: the device itself may have room.
        if let Some(p) = self
            .pim
            .as_ref()
            .filter(|p| p.pim_bytes > p.pim_capacity_bytes)
        {
            return Err(crate::TargetError::DoesNotFit {
                needed_bytes: p.pim_bytes,
                capacity_bytes: p.pim_capacity_bytes,
                device: format!("the PIM share ({}) of each {}", p.memory, self.device),
                detail: format!(
                    "the KV cache and weights placed on PIM with placement {}{}; attach more \
                     PIM modules, use a larger tp, or place with `auto` or `host-only`",
                    p.placement,
                    self.system
                        .as_ref()
                        .map_or(String::new(), |s| format!(" and {}", s.parallelism))
                ),
            });
        }
        let detail = match (&self.system, &self.pim) {
            (Some(s), pim) => {
                let mut d = format!(
                    "weights {:.2} GB + KV cache {:.2} GB + activations {:.2} GB per device with {}",
                    gb(s.weights_per_device_bytes),
                    gb(s.kv_cache_per_device_bytes),
                    gb(s.activations_per_device_bytes),
                    s.parallelism
                );
                if let Some(p) = pim {
                    d.push_str(&format!(
                        "; PIM holds {:.2} GB of its {:.2} GB",
                        gb(p.pim_bytes),
                        gb(p.pim_capacity_bytes)
                    ));
                }
                d.push_str("; raise tp or pp, or use a smaller batch, context or precision");
                d
            }
            (None, _) => format!(
                "weights {:.2} GB + KV cache {:.2} GB on one device; run it on a system \
                 (`xpusim list systems`), or use a smaller batch, context or precision",
                gb(self.weight_bytes),
                gb(self.kv_cache_bytes)
            ),
        };
        Err(crate::TargetError::DoesNotFit {
            needed_bytes: self.memory_required_bytes,
            capacity_bytes: self.memory_capacity_bytes,
            device: self.device.clone(),
            detail,
        })
    }
}
