//! Evaluates every design on every suite workload (in parallel) and prices the work.
//!
//! A workload whose weights and KV cache exceed one device's memory needs
//! `n = ⌈required / capacity⌉` devices. At the suite's small batches a pipeline over `n`
//! devices runs no faster than one device that could hold the model, so such a cell keeps
//! the single-device throughput but pays for `n` devices: `n×` the TCO per sample, and
//! `n − 1` extra idle devices' energy. This keeps memory capacity in the verdict without
//! modelling the parallel system (that is `xpusim run --system`).

use rayon::prelude::*;
use serde::Serialize;
use xpusim_cost::{chip_cost, tco, CostOverrides, TcoParams, WorkRate};
use xpusim_engine::fallback::{coverage, Coverage};
use xpusim_engine::ModelCost;
use xpusim_hw::DeviceSpec;

use crate::suite::SuiteWorkload;
use crate::FlipError;

/// One (design, workload) result.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub latency_s: f64,
    pub samples_per_s: f64,
    /// Energy per sample including idle devices when `devices > 1`.
    pub energy_per_sample_j: f64,
    /// Average power of one device while busy.
    pub avg_power_w: f64,
    pub devices: u64,
    /// TCO dollars per sample (× devices), when the design can be costed.
    pub usd_per_sample: Option<f64>,
    pub coverage: Coverage,
    /// The full per-op result (for charts).
    #[serde(skip)]
    pub cost: ModelCost,
}

/// What a design costs to buy: a list price, or a manufacturing cost priced with margin.
#[derive(Debug, Clone, Serialize)]
pub struct Pricing {
    pub price_usd: Option<f64>,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Design {
    pub name: String,
    pub display_name: String,
    /// `Err(reason)` when neither a price nor a die area and node are known.
    #[serde(skip)]
    pub pricing: Result<Pricing, String>,
    #[serde(skip)]
    pub spec: DeviceSpec,
}

/// Results of every design on every workload: `cells[design][workload]`.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub designs: Vec<Design>,
    pub workloads: Vec<String>,
    pub eras: Vec<&'static str>,
    pub cells: Vec<Vec<Cell>>,
    #[serde(skip)]
    pub tco: TcoParams,
}

impl Design {
    pub fn new(spec: DeviceSpec) -> Design {
        let pricing = price(&spec);
        Design {
            name: spec.name.clone(),
            display_name: spec.display_name.clone(),
            pricing,
            spec,
        }
    }
}

/// Like for like: every design with a die area and node is priced from its manufacturing
/// cost with the cost data's cited gross margin (a hypothetical design has no list price,
/// and street prices mix in supply and demand); a list price is used only when the design
/// cannot be costed (e.g. a multi-chiplet CPU without a die area).
fn price(d: &DeviceSpec) -> Result<Pricing, String> {
    let data = xpusim_cost::builtin().map_err(|e| e.to_string())?;
    match (chip_cost(d, data, &CostOverrides::default()), d.price_usd) {
        (Ok(c), _) => Ok(Pricing {
            price_usd: None,
            cost_usd: c.total_usd,
        }),
        (Err(_), Some(p)) => Ok(Pricing {
            price_usd: Some(p),
            cost_usd: 0.0,
        }),
        (Err(e), None) => Err(e.to_string()),
    }
}

/// Evaluates `designs` on `suite` with the cited default TCO assumptions.
pub fn evaluate(designs: Vec<Design>, suite: &[SuiteWorkload]) -> Result<Evaluation, FlipError> {
    let data = xpusim_cost::builtin().map_err(|e| FlipError::Cost(e.to_string()))?;
    let tco_params = TcoParams::defaults(data);
    let cells = designs
        .par_iter()
        .map(|d| {
            suite
                .iter()
                .map(|w| cell(d, w, &tco_params))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Evaluation {
        designs,
        workloads: suite.iter().map(SuiteWorkload::label).collect(),
        eras: suite.iter().map(|w| w.era).collect(),
        cells,
        tco: tco_params,
    })
}

fn cell(d: &Design, w: &SuiteWorkload, p: &TcoParams) -> Result<Cell, FlipError> {
    let g = w.build(&d.spec)?;
    let c = xpusim_engine::evaluate(&g, &d.spec).map_err(|e| FlipError::Engine {
        design: d.name.clone(),
        workload: w.label(),
        msg: e.to_string(),
    })?;
    let devices = c
        .memory_required_bytes
        .div_ceil(c.memory_capacity_bytes.max(1))
        .max(1);
    let avg_power_w = c.energy_j / c.latency_s;
    let extra_idle_j = (devices - 1) as f64 * d.spec.power.idle_w * c.latency_s;
    let samples = c.batch.max(1) as f64;
    let usd_per_sample = match &d.pricing {
        Ok(pr) => {
            let rate = WorkRate {
                samples_per_s: c.throughput_per_s,
                tokens_per_s: None,
                avg_power_w,
            };
            let t = tco(
                pr.price_usd,
                pr.cost_usd,
                d.spec.power.tdp_w,
                d.spec.power.idle_w,
                rate,
                p,
            )
            .map_err(|e| FlipError::Cost(format!("{} on {}: {e}", w.label(), d.name)))?;
            Some(t.usd_per_million_samples / 1e6 * devices as f64)
        }
        Err(_) => None,
    };
    Ok(Cell {
        latency_s: c.latency_s,
        samples_per_s: c.throughput_per_s,
        energy_per_sample_j: (c.energy_j + extra_idle_j) / samples,
        avg_power_w,
        devices,
        usd_per_sample,
        coverage: coverage(&g, &d.spec),
        cost: c,
    })
}
