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
//! - A training workload (phase `train`, the training eras) is one optimizer step priced by
//!   `xpusim-train`, with a global batch of [`TRAIN_MICROBATCHES_PER_DEVICE`] of the
//!   workload's micro-batches per device. The layout is the fastest that fits among
//!   `xpusim_train::search`'s (on a system: tensor, pipeline, context and data parallelism
//!   over all its devices; on a device: tp = pp = dp = 1, ZeRO 0, micro-batches 1–8, each
//!   recomputation policy) and the workload's own micro-batch, data parallel over every
//!   device, without and with full recomputation. Samples/s, energy per sample (devices
//!   and nodes) and power per device come from the step's `TrainCost`; TCO as above.
//!   When no layout fits, the rule above applies to the layout with the most samples/s per
//!   counted device: `n = ⌈memory needed / capacity⌉` times the devices, the one-device
//!   (or one-system) step time. Under data parallelism `n` devices would train about `n×`
//!   as fast, so this understates a small-memory design's training throughput; a system
//!   design (`--hw dgx-h100`) prices the real layout.

use rayon::prelude::*;
use serde::Serialize;
use xpusim_cost::{chip_cost, tco, CostOverrides, TcoParams, WorkRate};
use xpusim_engine::fallback::{coverage, Coverage};
use xpusim_hw::DeviceSpec;
use xpusim_ir::Graph;
use xpusim_target::{ModelCost, Target};
use xpusim_train::{Rank, Recompute, TrainCost, TrainError, TrainLayout};
use xpusim_workload::Request;

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
    /// The full per-op result (for charts) of an inference workload.
    #[serde(skip)]
    pub cost: Option<ModelCost>,
    /// The training step of a training workload: its layout, step time, MFU, memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainCost>,
}

/// Micro-batches per device in one optimizer step of a training workload: the global batch
/// is this many of the workload's micro-batches per device (8 sequences per device for
/// Llama 3 8B, 256 images for ResNet-50), enough gradient accumulation that the optimizer
/// and the gradient reduction are a small part of the step, as in large runs.
pub const TRAIN_MICROBATCHES_PER_DEVICE: u64 = 8;

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
    if w.is_training() {
        return train_cell(d, w, p);
    }
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
    let usd_per_sample = usd_per_sample(d, w, p, c.throughput_per_s / devices as f64, avg_power_w)?;
    Ok(Cell {
        latency_s: c.latency_s,
        samples_per_s: c.throughput_per_s,
        energy_per_sample_j: (c.energy_j + extra_idle_j) / samples,
        avg_power_w,
        devices,
        usd_per_sample,
        coverage: coverage(&g, spec),
        cost: Some(c),
        train: None,
    })
}

/// Devices of `c`'s kind needed to hold what its fullest device needs (1 when it fits).
fn times_to_fit(c: &TrainCost) -> u64 {
    c.memory_per_device_bytes
        .div_ceil(c.memory.capacity_bytes.max(1))
        .max(1)
}

/// A training workload: the fastest layout that fits (see the module docs).
fn train_cell(d: &Design, w: &SuiteWorkload, p: &TcoParams) -> Result<Cell, FlipError> {
    let t = &d.target;
    let natural = t.natural_dtype();
    let engine = |msg: String| FlipError::Engine {
        design: d.name.clone(),
        workload: w.label(),
        msg,
    };
    let workload = |msg: String| FlipError::Workload {
        workload: w.label(),
        msg,
    };
    let fwd = crate::suite::build(w, natural)?;
    let seq = w.seq.unwrap_or(fwd.tokens_per_sample).max(1);
    let micro = w.batch.unwrap_or(fwd.batch).max(1);
    let req: Request = w.request();
    let precision = req
        .precision(natural)
        .map_err(|e| workload(e.to_string()))?;
    // As `xpusim train` builds it: one micro-batch at the sequence one device sees.
    let build = |mb: u64, s: u64| -> Result<Graph, TrainError> {
        Request {
            batch: Some(mb),
            seq: Some(s),
            ..req.clone()
        }
        .graph_at(precision)
        .map_err(|e| TrainError::Build(format!("model `{}`: {e}", w.model)))
    };
    let count = t.count();
    let global = TRAIN_MICROBATCHES_PER_DEVICE * micro * count;
    let base = TrainLayout {
        global_batch: global,
        ..Default::default()
    };
    let mut runs = xpusim_train::search(&build, seq, t, &[count], &base, Rank::Time)
        .map_err(|e| engine(e.to_string()))?;
    // The workload's own micro-batch (the search tries 1–8), data parallel over every device.
    for recompute in [Recompute::None, Recompute::Full] {
        let l = TrainLayout {
            dp: count,
            micro_batch: micro,
            zero: u8::from(count > 1),
            recompute,
            ..base
        };
        if let Ok(c) = xpusim_train::step(&build, seq, t, &l) {
            runs.push(c);
        }
    }
    let per_counted_device = |c: &TrainCost| c.samples_per_s / (c.devices * times_to_fit(c)) as f64;
    let best = runs
        .iter()
        .filter(|c| c.fits)
        .max_by(|a, b| a.samples_per_s.total_cmp(&b.samples_per_s))
        .or_else(|| {
            runs.iter()
                .max_by(|a, b| per_counted_device(a).total_cmp(&per_counted_device(b)))
        })
        .ok_or_else(|| engine("no training layout could be priced".into()))?
        .clone();
    let spec = d.spec();
    let step_s = best.step_time_s;
    let devices = best.devices * times_to_fit(&best);
    let extra_idle_j = (devices - best.devices) as f64 * spec.power.idle_w * step_s;
    // Devices and their nodes' host power, per device: as the inference cells count it.
    let avg_power_w = best.energy_per_step_j / step_s / best.devices.max(1) as f64;
    let usd_per_sample = usd_per_sample(d, w, p, best.samples_per_s / devices as f64, avg_power_w)?;
    // Native coverage of what a step runs: the forward and its backward.
    let bwd = xpusim_ir::autodiff::backward(&fwd).map_err(|e| engine(e.to_string()))?;
    let mut cov = coverage(&fwd, spec);
    add_coverage(&mut cov, &coverage(&bwd, spec));
    Ok(Cell {
        latency_s: step_s,
        samples_per_s: best.samples_per_s,
        energy_per_sample_j: (best.energy_per_step_j + extra_idle_j)
            / best.samples_per_step.max(1) as f64,
        avg_power_w,
        devices,
        usd_per_sample,
        coverage: cov,
        cost: None,
        train: Some(best),
    })
}

fn add_coverage(c: &mut Coverage, o: &Coverage) {
    c.ops += o.ops;
    c.native_ops += o.native_ops;
    c.flops += o.flops;
    c.native_flops += o.native_flops;
    c.promoted_ops += o.promoted_ops;
    for (k, v) in &o.host_flops_by_family {
        *c.host_flops_by_family.entry(k.clone()).or_default() += v;
    }
    for (k, v) in &o.host_ops_by_family {
        *c.host_ops_by_family.entry(k.clone()).or_default() += v;
    }
}

/// TCO dollars per sample of design `d` running `w`: one device's share of the work
/// (`samples_per_s` per device) at one device's price and average power; `None` when the
/// design cannot be priced.
fn usd_per_sample(
    d: &Design,
    w: &SuiteWorkload,
    p: &TcoParams,
    samples_per_s: f64,
    avg_power_w: f64,
) -> Result<Option<f64>, FlipError> {
    let Ok(pr) = &d.pricing else {
        return Ok(None);
    };
    let spec = d.spec();
    let rate = WorkRate {
        samples_per_s,
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
    Ok(Some(t.usd_per_million_samples / 1e6))
}
