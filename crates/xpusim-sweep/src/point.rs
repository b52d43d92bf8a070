//! One design point: edit the base design, validate it, cost it, run the suite on it.
//!
//! A system point is costed per device (its device's chip cost and a device's share of the
//! work), as `xpusim flip` does, so system and device sweeps share the columns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use xpusim_cost::{chip_cost, scaled_die_area, CostData, CostOverrides, TcoParams, WorkRate};
use xpusim_hw::{DeviceSpec, Hardware, HwError, Scope, System};
use xpusim_ir::{DType, Graph};
use xpusim_target::Target;

use crate::spec::{Scaling, SweepSpec};
use crate::suite::label;
use crate::SweepError;

/// Columns every row has after `index`, the axes and `status`.
pub const SUMMARY: [&str; 7] = [
    "die_area_mm2",
    "chip_cost_usd",
    "tdp_w",
    "throughput_geomean_per_s",
    "energy_geomean_j",
    "usd_per_m_samples_geomean",
    "workloads_fit",
];
/// Per-workload columns, each prefixed with the workload label.
pub const PER_WORKLOAD: [&str; 3] = ["latency_s", "throughput_per_s", "energy_per_sample_j"];

/// The result of one point: its index, its axis values as written, a status (`ok` or what
/// went wrong) and the metric columns (NaN where not computed).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub index: u64,
    pub axes: Vec<String>,
    pub status: String,
    pub metrics: Vec<f64>,
}

/// Evaluates points of one spec; graphs are built once per natural number format and
/// shared by every point (a graph does not depend on the device otherwise).
pub struct Evaluator<'a> {
    spec: &'a SweepSpec,
    cost: &'static CostData,
    tco: TcoParams,
    graphs: Mutex<HashMap<DType, Arc<Vec<Graph>>>>,
    labels: Vec<String>,
}

impl<'a> Evaluator<'a> {
    pub fn new(spec: &'a SweepSpec) -> Result<Evaluator<'a>, SweepError> {
        let cost = xpusim_cost::builtin().map_err(|e| SweepError::Other(e.to_string()))?;
        let ev = Evaluator {
            spec,
            cost,
            tco: TcoParams::defaults(cost),
            graphs: Mutex::new(HashMap::new()),
            labels: Vec::new(),
        };
        let g = ev
            .graphs(spec.base.natural_dtype)
            .map_err(SweepError::Other)?;
        let labels = g.iter().map(label).collect();
        Ok(Evaluator { labels, ..ev })
    }

    /// Metric column names, in row order.
    pub fn metric_columns(&self) -> Vec<String> {
        let mut c: Vec<String> = SUMMARY.iter().map(|s| s.to_string()).collect();
        for l in &self.labels {
            c.extend(PER_WORKLOAD.iter().map(|m| format!("{l}:{m}")));
        }
        c
    }

    fn graphs(&self, d: DType) -> Result<Arc<Vec<Graph>>, String> {
        let mut cache = self
            .graphs
            .lock()
            .map_err(|_| "graph cache poisoned".to_string())?;
        if let Some(g) = cache.get(&d) {
            return Ok(g.clone());
        }
        let built = self
            .spec
            .workloads
            .iter()
            .map(|w| {
                w.build(d)
                    .map_err(|e| format!("workload `{}`: {e}", w.model))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let g = Arc::new(built);
        cache.insert(d, g.clone());
        Ok(g)
    }

    /// Evaluates point `index`. Never fails: problems become the row's status.
    pub fn eval(&self, index: u64) -> Row {
        let coords = self.spec.coords(index);
        let axes: Vec<String> = self
            .spec
            .axes
            .iter()
            .zip(&coords)
            .map(|(a, c)| crate::axis::render(&a.values[*c]))
            .collect();
        let mut metrics = vec![f64::NAN; SUMMARY.len() + PER_WORKLOAD.len() * self.labels.len()];
        let status = match self.eval_into(&coords, &mut metrics) {
            Ok(()) => "ok".to_string(),
            Err(e) => e.replace(['\n', '\r'], " "),
        };
        Row {
            index,
            axes,
            status,
            metrics,
        }
    }

    /// The point's design: the edited device, or the edited system around it.
    fn target(&self, coords: &[usize]) -> Result<Target, String> {
        let spec = self.spec;
        let mut doc = spec.base_value.clone();
        for (a, c) in spec.axes.iter().zip(coords) {
            a.path
                .set(&mut doc, &a.values[*c])
                .map_err(|e| format!("{}: {e}", a.path.text))?;
        }
        let invalid = |e: String| format!("invalid: {}", e.trim());
        if !spec.system {
            let d: DeviceSpec = doc
                .try_into()
                .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
            return Ok(Target::device(self.device(d)?));
        }
        let src = toml::to_string(&doc).map_err(|e| invalid(e.to_string()))?;
        let mut sys = System::from_toml("point", &src, None).map_err(|e| invalid(e.to_string()))?;
        sys.device = self.device(sys.device)?;
        Ok(Target::new(Hardware::System(sys)))
    }

    /// The point's device after physical scaling, validation and re-costing at its node.
    fn device(&self, mut d: DeviceSpec) -> Result<DeviceSpec, String> {
        let spec = self.spec;
        // Axes into a system's device are written `device.<path>`.
        let prefix = if spec.system { "device." } else { "" };
        let set = |p: &str| {
            spec.axes
                .iter()
                .any(|a| a.path.text.starts_with(&format!("{prefix}{p}")))
        };
        if spec.scaling == Scaling::Physical {
            physical(&spec.base, &mut d, &set);
        }
        d.validate("point", "").map_err(|e| match e {
            HwError::Invalid { field, msg, .. } => format!("invalid: field `{field}`: {msg}"),
            other => format!("invalid: {other}"),
        })?;
        let base_nm = spec.base.process_node_nm;
        if !set("die_area_mm2") {
            let target_nm = d.process_node_nm;
            d.die_area_mm2 = scaled_die_area(&spec.base, &d, self.cost.die_mix);
            if target_nm != base_nm {
                if let (Some(to), Some(_)) = (target_nm, base_nm) {
                    d.process_node_nm = base_nm;
                    d = xpusim_cost::recost(&d, to, xpusim_cost::Scaling::IsoSpeed, self.cost)
                        .map_err(|e| format!("recost: {e}"))?
                        .spec;
                }
            }
        }
        Ok(d)
    }

    fn eval_into(&self, coords: &[usize], m: &mut [f64]) -> Result<(), String> {
        let mut t = self.target(coords)?;
        // A row holds totals only.
        t.op_reports = false;
        let d = t.device_spec();
        let devices = t.count() as f64;
        let mut problems: Vec<String> = Vec::new();
        m[2] = d.power.tdp_w;
        m[0] = d.die_area_mm2.unwrap_or(f64::NAN);
        // A device's PIM memory is part of what a device costs to own.
        let pim_usd = match t.pim() {
            Some(p) => {
                xpusim_cost::pim_memory_usd(d, &p, self.cost).map_err(|e| format!("cost: {e}"))?
            }
            None => 0.0,
        };
        let cost = match chip_cost(d, self.cost, &CostOverrides::default()) {
            Ok(c) => Some(c.total_usd),
            Err(e) => {
                problems.push(format!("cost: {e}"));
                None
            }
        };
        m[1] = cost.unwrap_or(f64::NAN);
        let graphs = self.graphs(d.natural_dtype)?;
        let (mut thr, mut en, mut usd) = (Vec::new(), Vec::new(), Vec::new());
        let mut fit = 0u32;
        for (i, g) in graphs.iter().enumerate() {
            let at = SUMMARY.len() + i * PER_WORKLOAD.len();
            let c = match xpusim_target::evaluate(g, &t) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("{}: {e}", self.labels[i]));
                    continue;
                }
            };
            m[at] = c.latency_s;
            m[at + 1] = c.throughput_per_s;
            m[at + 2] = c.energy_per_sample_j;
            fit += c.fits_in_memory as u32;
            thr.push(c.throughput_per_s);
            en.push(c.energy_per_sample_j);
            if let Some(cost) = cost {
                // One device's share of the work at one device's price and power.
                let rate = WorkRate {
                    samples_per_s: c.throughput_per_s / devices,
                    tokens_per_s: Some(c.tokens_per_s / devices),
                    avg_power_w: c.energy_j / c.latency_s / devices,
                };
                let owned = cost + pim_usd;
                match xpusim_cost::tco(None, owned, d.power.tdp_w, d.power.idle_w, rate, &self.tco)
                {
                    Ok(t) => usd.push(t.usd_per_million_samples),
                    Err(e) => problems.push(format!("tco: {e}")),
                }
            }
        }
        let n = graphs.len();
        m[3] = geomean(&thr, n);
        m[4] = geomean(&en, n);
        m[5] = geomean(&usd, n);
        m[6] = fit as f64;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Geometric mean of `v` if it holds all `n` values, each finite and positive; else NaN.
fn geomean(v: &[f64], n: usize) -> f64 {
    if v.len() != n || n == 0 || v.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
        return f64::NAN;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / n as f64).exp()
}

/// Rates follow the number of units built: see [`Scaling::Physical`].
fn physical(base: &DeviceSpec, d: &mut DeviceSpec, set: &dyn Fn(&str) -> bool) {
    let units = d.cores as f64 / base.cores as f64 * d.clock_ghz / base.clock_ghz;
    // tile n × k is the PE array of a systolic core (m is the rows streamed through it).
    let array = (d.matrix.tile[1] * d.matrix.tile[2]) as f64
        / (base.matrix.tile[1] * base.matrix.tile[2]).max(1) as f64;
    if !set("matrix.peak_tflops") {
        for (k, v) in d.matrix.peak_tflops.iter_mut() {
            if let Some(b) = base.matrix.peak_tflops.get(k) {
                *v = b * units * array;
            }
        }
    }
    if !set("vector.peak_tflops") {
        for (k, v) in d.vector.peak_tflops.iter_mut() {
            if let Some(b) = base.vector.peak_tflops.get(k) {
                *v = b * units;
            }
        }
    }
    for (i, m) in d.memory.iter_mut().enumerate() {
        if m.scope == Scope::Core && !set(&format!("memory[{i}]")) {
            if let Some(b) = base.memory.get(i) {
                m.bandwidth_gbps = b.bandwidth_gbps * units;
            }
        }
    }
}
