//! Layer-pipelined execution across cores: contiguous groups of layers (stages) each run on
//! one core, with images streaming through the stages. Contrast with [`crate::map_graph`]'s
//! layer-by-layer execution, where every layer is split across all cores in turn.
//!
//! Model: each stage gets one core, its private levels, and a `1/cores` share of every
//! shared level's capacity and bandwidth (the shared buffer and DRAM are partitioned between
//! concurrently running stages). Each op is mapped on that one-core view with the same
//! search; stages are the contiguous partition of the op sequence into at most `cores`
//! groups that minimises the slowest stage (linear-partition dynamic programme, exact).
//! Steady-state time per sample is the slowest stage; the first sample's latency is the
//! sum of all stages.

use serde::Serialize;
use xpusim_ir::Graph;

use crate::arch::{NpuArch, Scope};
use crate::error::MapperError;
use crate::mapper::{map_graph, Objective, OpMapping};

/// One pipeline stage: a run of consecutive mapped ops on one core.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub core: u64,
    pub first_op: String,
    pub last_op: String,
    pub ops: usize,
    pub cycles: u64,
}

/// A graph executed as a layer pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineMapping {
    pub stages: Vec<Stage>,
    /// Cycles between successive samples in steady state (the slowest stage).
    pub interval_cycles: u64,
    /// Cycles for one sample through all stages.
    pub fill_latency_cycles: u64,
    pub samples_per_s: f64,
    /// Energy per sample, J (dynamic energy of every op plus leakage over the interval).
    pub energy_per_sample_j: f64,
    pub ops: Vec<OpMapping>,
}

/// The one-core view a stage sees: shared levels partitioned `cores` ways.
pub fn stage_arch(arch: &NpuArch) -> NpuArch {
    let mut a = arch.clone();
    let share = arch.cores.max(1);
    for m in &mut a.memory {
        if m.scope != Scope::Core {
            m.capacity_bytes = (m.capacity_bytes / share).max(1);
            m.bandwidth_bytes_per_cycle /= share as f64;
        }
    }
    // Leakage is charged once per sample for the whole chip below, not per stage.
    a.core_leakage_mw = 0.0;
    for m in &mut a.memory {
        m.leakage_mw = Some(0.0);
    }
    a.cores = 1;
    a
}

/// Splits `cost` (in order) into at most `k` contiguous groups minimising the largest
/// group sum; returns the group end indices (exclusive).
fn partition(cost: &[u64], k: usize) -> Vec<usize> {
    let n = cost.len();
    let k = k.clamp(1, n.max(1));
    let prefix: Vec<u64> = std::iter::once(0)
        .chain(cost.iter().scan(0u64, |s, &c| {
            *s += c;
            Some(*s)
        }))
        .collect();
    // best[j][i]: minimal max-stage cost of the first i ops in j stages.
    let mut best = vec![vec![u64::MAX; n + 1]; k + 1];
    let mut cut = vec![vec![0usize; n + 1]; k + 1];
    best[0][0] = 0;
    for j in 1..=k {
        for i in 1..=n {
            for s in (j - 1)..i {
                if best[j - 1][s] == u64::MAX {
                    continue;
                }
                let v = best[j - 1][s].max(prefix[i] - prefix[s]);
                if v < best[j][i] {
                    best[j][i] = v;
                    cut[j][i] = s;
                }
            }
        }
    }
    let j = (1..=k).min_by_key(|&j| (best[j][n], j)).unwrap_or(1);
    let mut ends = Vec::with_capacity(j);
    let (mut j, mut i) = (j, n);
    while j > 0 && i > 0 {
        ends.push(i);
        i = cut[j][i];
        j -= 1;
    }
    ends.reverse();
    ends
}

/// Maps `g` as a layer pipeline over `arch.cores` cores.
pub fn map_pipelined(
    g: &Graph,
    arch: &NpuArch,
    obj: Objective,
) -> Result<PipelineMapping, MapperError> {
    let one = stage_arch(arch);
    let m = map_graph(g, &one, obj)?;
    let cost: Vec<u64> = m.ops.iter().map(|o| o.latency_cycles * o.repeat).collect();
    let ends = partition(&cost, arch.cores as usize);
    let mut stages = Vec::with_capacity(ends.len());
    let mut start = 0;
    for (core, &end) in ends.iter().enumerate() {
        if end > start {
            stages.push(Stage {
                core: core as u64,
                first_op: m.ops[start].op.clone(),
                last_op: m.ops[end - 1].op.clone(),
                ops: end - start,
                cycles: cost[start..end].iter().sum(),
            });
        }
        start = end;
    }
    let interval_cycles = stages.iter().map(|s| s.cycles).max().unwrap_or(0);
    let fill_latency_cycles = stages.iter().map(|s| s.cycles).sum();
    let hz = arch.clock_ghz * 1e9;
    let leakage_j = arch.leakage_w() * interval_cycles as f64 / hz;
    Ok(PipelineMapping {
        stages,
        interval_cycles,
        fill_latency_cycles,
        samples_per_s: if interval_cycles == 0 {
            0.0
        } else {
            hz / interval_cycles as f64
        },
        energy_per_sample_j: m.energy_j + leakage_j,
        ops: m.ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_minimises_the_slowest_stage() {
        assert_eq!(partition(&[5, 5, 5, 5], 2), vec![2, 4]);
        assert_eq!(partition(&[9, 1, 1, 1], 2), vec![1, 4]);
        assert_eq!(partition(&[1, 2, 3], 8), vec![2, 3]);
        assert_eq!(partition(&[4], 3), vec![1]);
    }
}
