//! What the mapping search reports: the objective, the chosen mapping per op and per graph.

use serde::Serialize;

use crate::arch::Dataflow;

/// What the search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    Latency,
    Energy,
    Edp,
}

impl Objective {
    pub fn parse(s: &str) -> Option<Objective> {
        match s.to_ascii_lowercase().as_str() {
            "latency" => Some(Objective::Latency),
            "energy" => Some(Objective::Energy),
            "edp" => Some(Objective::Edp),
            _ => None,
        }
    }
}

/// Tile and loop order at one on-chip level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelMapping {
    pub level: String,
    /// Tile extent per group G, P, W, N (per core for core levels).
    pub tile: [u64; 4],
    /// Loops above this level's tile, outermost first (group names).
    pub order: Vec<&'static str>,
    /// Bytes held, double-buffered.
    pub used_bytes: u64,
}

/// Energy by component, pJ (one run of the nest; multiply by `repeat` for the op).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyBreakdown {
    pub mac_pj: f64,
    pub registers_pj: f64,
    /// One entry per memory level, innermost first.
    pub levels_pj: Vec<(String, f64)>,
    pub noc_pj: f64,
    pub leakage_pj: f64,
    pub total_pj: f64,
}

/// The chosen mapping of one contraction and its cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpMapping {
    pub op: String,
    pub dataflow: Dataflow,
    /// Dims on array rows, columns and in time, e.g. `c·r·s`.
    pub rows: String,
    pub cols: String,
    pub time: String,
    /// Group split across cores (`-` with one core).
    pub core_split: String,
    pub levels: Vec<LevelMapping>,
    pub macs: u64,
    pub repeat: u64,
    pub compute_cycles: u64,
    pub latency_cycles: u64,
    /// Bytes crossing each boundary (level i ↔ i+1), whole chip.
    pub traffic_bytes: Vec<u64>,
    pub utilization: f64,
    pub energy: EnergyBreakdown,
}

/// A whole graph mapped layer by layer (ops run one after another on all cores).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphMapping {
    pub arch: String,
    pub objective: Objective,
    pub ops: Vec<OpMapping>,
    /// Ops without contractions, not mapped (vector work), by name.
    pub unmapped: Vec<String>,
    pub latency_cycles: u64,
    pub latency_s: f64,
    pub energy_j: f64,
}
