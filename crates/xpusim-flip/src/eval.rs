//! Evaluates every design on every suite workload (in parallel) and prices the work.
//!
//! A design is any target: a device, or a system (with or without PIM), evaluated through
//! the one seam (`xpusim-target`). Designs of different sizes are compared **per device**:
//! throughput is samples per second per device, energy is per sample (every device's static
//! power included), and TCO per sample counts every device (and its PIM memory).
//!
//! - A system runs each workload with its automatic layout: the smallest tensor-parallel
//!   group (then pipeline depth) that holds the model, the rest data-parallel replicas.
//! - A single device whose weights and KV cache exceed its memory needs
//!   `n = ⌈required / capacity⌉` devices. At the suite's small batches a pipeline over `n`
//!   devices runs no faster than one device that could hold the model, so such a cell keeps
//!   the single-device throughput but counts `n` devices: `n×` the TCO per sample, `n − 1`
//!   extra idle devices' energy, and `1/n` of the throughput per device.

use rayon::prelude::*;
use serde::Serialize;
use xpusim_cost::{chip_cost, tco, CostOverrides, TcoParams, WorkRate};
use xpusim_engine::fallback::{coverage, Coverage};
use xpusim_hw::DeviceSpec;
use xpusim_target::{ModelCost, Target};

use crate::suite::SuiteWorkload;
use crate::FlipError;

/// One (design, workload) result.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub latency_s: f64,
    /// Samples per second over all `devices`.
    pub samples_per_s: f64,
    /// Energy per sample including idle devices when `devices > 1`.
    pub energy_per_sample_j: f64,
    /// Average power of one device while busy.
    pub avg_power_w: f64,
    /// Devices the cell pays for (a system's devices, or a device padded to hold the model).
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
    /// Memory of the PIM modules one device owns, USD (priced per GB as the device's
    /// off-chip memory; the PIM logic itself is not priced).
    pub pim_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Design {
    pub name: String,
    pub display_name: String,
    /// `Err(reason)` when neither a price nor a die area and node are known.
    /// `device` or `system`.
    pub kind: &'static str,
    /// Devices in the design.
    pub count: u64,
    #[serde(skip)]
    pub pricing: Result<Pricing, String>,
    #[serde(skip)]
    pub target: Target,
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
    pub fn new(target: Target) -> Design {
        let pricing = price(&target);
        let display_name = match target.system_spec() {
            Some(s) => s.spec.display_name.clone(),
            None => target.device_spec().display_name.clone(),
        };
        Design {
            name: target.name().to_string(),
            display_name,
            kind: target.kind(),
            count: target.count(),
            pricing,
            target,
        }
    }

    /// The device the design is built from.
    pub fn spec(&self) -> &DeviceSpec {
        self.target.device_spec()
    }
}

/// Like for like: every design with a die area and node is priced from its manufacturing
/// cost with the cost data's cited gross margin (a hypothetical design has no list price,
/// and street prices mix in supply and demand); a list price is used only when the design
/// cannot be costed (e.g. a multi-chiplet CPU without a die area).
fn price(t: &Target) -> Result<Pricing, String> {
    let d = t.device_spec();
    let data = xpusim_cost::builtin().map_err(|e| e.to_string())?;
    let pim_usd = match t.pim() {
        None => 0.0,
        Some(p) => xpusim_cost::pim_memory_usd(d, &p, data).map_err(|e| e.to_string())?,
    };
    match (chip_cost(d, data, &CostOverrides::default()), d.price_usd) {
        (Ok(c), _) => Ok(Pricing {
            price_usd: None,
            cost_usd: c.total_usd + pim_usd,
            pim_usd,
        }),
        (Err(_), Some(p)) => Ok(Pricing {
            price_usd: Some(p + pim_usd),
            cost_usd: 0.0,
            pim_usd,
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
    let g = crate::suite::build(w, d.target.natural_dtype())?;
    let engine = |msg: String| FlipError::Engine {
        design: d.name.clone(),
        workload: w.label(),
        msg,
    };
    let c = xpusim_target::evaluate(&g, &d.target).map_err(|e| engine(e.to_string()))?;
    let spec = d.spec();
    // A system pays for its devices; a device too small for the model for enough of them.
    let (devices, extra_idle_j) = match d.target.system_spec() {
        Some(s) => (s.spec.count, 0.0),
        None => {
            let n = c
                .memory_required_bytes
                .div_ceil(c.memory_capacity_bytes.max(1))
                .max(1);
            (n, (n - 1) as f64 * spec.power.idle_w * c.latency_s)
        }
    };
    let avg_power_w = c.energy_j / c.latency_s / c.devices.max(1) as f64;
    let samples = (c.throughput_per_s * c.latency_s).max(1.0);
    let usd_per_sample = match &d.pricing {
        Ok(pr) => {
            // One device's share of the work, at one device's price and power.
            let rate = WorkRate {
                samples_per_s: c.throughput_per_s / devices as f64,
                tokens_per_s: None,
                avg_power_w,
            };
            let t = tco(
                pr.price_usd,
                pr.cost_usd,
                spec.power.tdp_w,
                spec.power.idle_w,
                rate,
                p,
            )
            .map_err(|e| FlipError::Cost(format!("{} on {}: {e}", w.label(), d.name)))?;
            Some(t.usd_per_million_samples / 1e6)
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
        coverage: coverage(&g, spec),
        cost: c,
    })
}
