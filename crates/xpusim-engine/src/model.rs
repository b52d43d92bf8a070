//! Whole-model composition: ops run back to back (no fusion yet), each `repeat` times.

use std::collections::BTreeMap;

use serde::Serialize;
use xpusim_hw::DeviceSpec;
use xpusim_ir::Graph;

use crate::cost::Bound;
use crate::{cost_op, EngineError};

/// Per-op line of a model report; all quantities cover every `repeat`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpReport {
    pub name: String,
    pub kind: String,
    pub repeat: u64,
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
}

/// The cost of one pass of a model on one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCost {
    pub model: String,
    pub hardware: String,
    pub phase: String,
    pub precision: String,
    pub batch: u64,
    pub tokens_per_sample: u64,
    pub latency_s: f64,
    /// Samples (images, sequences, decode steps × batch) per second: batch / latency.
    pub throughput_per_s: f64,
    /// Tokens per second (batch × tokens per sample / latency).
    pub tokens_per_s: f64,
    pub flops: u64,
    pub macs: u64,
    pub params: u64,
    pub active_params: u64,
    pub weight_bytes: u64,
    pub kv_cache_bytes: u64,
    pub activation_bytes: u64,
    pub energy_j: f64,
    pub energy_per_sample_j: f64,
    /// Bound holding the largest share of time.
    pub bound: Bound,
    /// Seconds per bound.
    pub time_by_bound: BTreeMap<String, f64>,
    pub achieved_tflops: f64,
    pub peak_tflops: f64,
    /// achieved / peak of the dominant compute format.
    pub utilization: f64,
    /// Weights + KV cache must fit in off-chip memory.
    pub memory_required_bytes: u64,
    pub memory_capacity_bytes: u64,
    pub fits_in_memory: bool,
    /// Operators a frontend could not lower, with counts (costed as memory-bound).
    pub unknown_ops: Vec<(String, u64)>,
    pub ops: Vec<OpReport>,
}

/// Costs every op of `g` on `dev` and composes them sequentially.
pub fn evaluate(g: &Graph, dev: &DeviceSpec) -> Result<ModelCost, EngineError> {
    let totals = g.totals();
    // SRAM-only chips run the model out of on-chip memory when it fits (weights, KV cache
    // and the largest op's activations).
    let largest_op = g.ops.iter().map(|o| o.bytes_total()).max().unwrap_or(0);
    let dev = &*dev.for_model(totals.weight_bytes + totals.kv_cache_bytes + largest_op);
    let mut ops = Vec::with_capacity(g.ops.len());
    let mut latency = 0.0;
    let mut energy = 0.0;
    let mut by_bound: BTreeMap<Bound, f64> = BTreeMap::new();
    let mut macs_by_dtype: BTreeMap<xpusim_ir::DType, u64> = BTreeMap::new();
    for op in &g.ops {
        let c = cost_op(op, dev)?;
        let r = op.repeat as f64;
        latency += c.time_s * r;
        energy += c.energy_j * r;
        *by_bound.entry(c.bound.clone()).or_default() += c.time_s * r;
        *macs_by_dtype.entry(op.compute_dtype).or_default() += op.macs() * op.repeat;
        let mut traffic_bytes = BTreeMap::new();
        for t in &c.traffic {
            *traffic_bytes.entry(t.level.clone()).or_default() += t.bytes * op.repeat;
        }
        ops.push(OpReport {
            name: op.name.clone(),
            kind: op.kind.family().to_string(),
            repeat: op.repeat,
            flops: op.flops() * op.repeat,
            macs: op.macs() * op.repeat,
            bytes: op.bytes_total() * op.repeat,
            traffic_bytes,
            time_s: c.time_s * r,
            energy_j: c.energy_j * r,
            bound: c.bound,
            mapping: c.mapping,
        });
    }
    let bound = by_bound
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(b, _)| b.clone())
        .unwrap_or(Bound::Overhead);
    let compute_dtype = macs_by_dtype
        .iter()
        .max_by_key(|(_, m)| **m)
        .map(|(d, _)| *d)
        .unwrap_or(dev.natural_dtype);
    let peak = dev.matrix_flops(compute_dtype).0;
    let latency = latency.max(f64::MIN_POSITIVE);
    let achieved = totals.flops as f64 / latency;
    // Decode reads the whole KV cache once per step, so the bytes read are its size.
    let kv_total = totals.kv_cache_bytes;
    let required = totals.weight_bytes + kv_total;
    let capacity = dev.offchip().capacity_bytes;
    Ok(ModelCost {
        model: g.name.clone(),
        hardware: dev.name.clone(),
        phase: g.phase.name().to_string(),
        precision: String::new(),
        batch: g.batch,
        tokens_per_sample: g.tokens_per_sample,
        latency_s: latency,
        throughput_per_s: g.batch as f64 / latency,
        tokens_per_s: (g.batch * g.tokens_per_sample) as f64 / latency,
        flops: totals.flops,
        macs: totals.macs,
        params: totals.params,
        active_params: totals.active_params,
        weight_bytes: totals.weight_bytes,
        kv_cache_bytes: totals.kv_cache_bytes,
        activation_bytes: totals.activation_bytes,
        energy_j: energy,
        energy_per_sample_j: energy / g.batch.max(1) as f64,
        bound,
        time_by_bound: by_bound.into_iter().map(|(b, t)| (b.label(), t)).collect(),
        achieved_tflops: achieved / 1e12,
        peak_tflops: peak / 1e12,
        utilization: achieved / peak,
        memory_required_bytes: required,
        memory_capacity_bytes: capacity,
        fits_in_memory: required <= capacity,
        unknown_ops: g.unknown_ops(),
        ops,
    })
}
