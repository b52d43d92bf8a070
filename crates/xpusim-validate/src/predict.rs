//! Turning a row into a predicted number with the engine.
//!
//! Kernel rows cost one op with [`xpusim_engine::cost_op`]; model rows build a zoo model
//! with the one resolver (`xpusim-workload`) and [`xpusim_target::evaluate`] it. Metrics:
//! - `latency_ms`: one kernel, one pass, or (phase `generate`) prefill plus every decode step;
//! - `ttft_ms`: the prefill pass; `tpot_ms`: the mean decode step;
//! - `samples_per_s`: batch / latency; `tokens_per_s`: output tokens / latency (a decode
//!   step outputs `batch` tokens, `generate` outputs `batch × seq_out`; for `prefill` the
//!   prompt tokens processed);
//! - `tflops`: the op's or model's FLOPs / latency; `bandwidth_tbps`: compulsory bytes / latency;
//! - power and energy (model rows): `power_w` = the energy of the row's passes over their
//!   time; `energy_per_sample_j` and `joules_per_token` = that energy over the samples or
//!   tokens the passes produce (the same counts as the throughput metrics); `samples_per_j` its
//!   inverse. Scope `board` sums the devices' energy (dynamic, per-byte and static);
//!   scope `wall` adds the host, the row's system's `node_power.overhead_w` for the devices
//!   the row uses (`xpusim_target::Target::node_overhead_w`, the rule `run`, `serve` and
//!   `train` charge it by), and needs a system with one as `hardware`.
//!
//! A row's `power_cap_w` caps every device it runs on (as `--power-cap-w` does), for every
//! metric: ops whose dynamic power would exceed the cap run their cores at the clock (and
//! voltage) that fits (`xpusim_engine::energy::throttle`).
//!
//! `dp` rows run `devices` independent replicas: throughputs multiply, latencies do not.
//! `tp` rows with more than one device run on a system ([`crate::system`]): the model is
//! sharded by `xpusim-system`, collectives cost over its topology; collective kernel
//! rows (`allreduce:elems=N`, elements per device) cost one collective.
//!
//! Phase `serve` rows are an offline throughput benchmark run through the serving
//! simulator ([`crate::serving`]).
//!
//! Phase `train` rows are one optimizer step of a training run with the layout their
//! `parallelism` states, priced by `xpusim-train` ([`crate::train`]).

use std::collections::HashMap;

use xpusim_engine::cost_op;
use xpusim_hw::{CalibrationFamily, DeviceSpec};
use xpusim_ir::{Phase, Precision};
use xpusim_target::{evaluate, Layout, Parallelism, Target};

use crate::data::{is_energy_metric, Row, Scope, Timing, ENERGY_METRICS};
use crate::kernel;

/// Decode steps sampled to integrate a `generate` row: decode time is close to linear in
/// context, so a few evenly spaced steps give the mean to well under 1 %.
const GENERATE_SAMPLES: u64 = 8;

/// What a kernel row's op cost, for fitting efficiency curves.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCost {
    pub family: Option<CalibrationFamily>,
    /// Name an op-specific curve keys on (see `xpusim_engine::calibration::op_key`).
    pub op: Option<String>,
    /// Size on the family's curve axis (FLOPs or bytes).
    pub size: f64,
    /// Rows a row-parallel kernel would give one thread block each, and the bytes per
    /// row (`xpusim_engine::calibration::rows_of`).
    pub rows: Option<(u64, f64)>,
    /// Predicted time that scales with efficiency (compute or traffic), s.
    pub work_s: f64,
    /// Predicted fixed time as the row's timing sees it (launch excluded for kernel timing), s.
    pub fixed_s: f64,
    pub flops: f64,
    pub bytes: f64,
}

impl KernelCost {
    pub fn time_s(&self) -> f64 {
        self.work_s + self.fixed_s
    }
}

/// A row's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub value: f64,
    /// Present for kernel rows.
    pub kernel: Option<KernelCost>,
    /// What the row's output says beside the number (a training layout that does not fit
    /// our memory model).
    pub flags: Vec<String>,
}

/// Caches devices by the name or path a row gives. Cloned per worker thread when a report
/// predicts its rows in parallel (a row's prediction depends only on the row and the device
/// files, so the caches are only a saving).
#[derive(Default, Clone)]
pub struct Predictor {
    devices: HashMap<String, Result<DeviceSpec, String>>,
    /// Replaces the device of rows whose hardware resolves to this device's name.
    pub override_device: Option<DeviceSpec>,
    /// Drop every device's calibration curves (the analytical model alone).
    pub uncalibrated: bool,
    /// Training steps already priced, by what a step depends on (rows of one run that
    /// report different metrics share it).
    steps: HashMap<String, Result<crate::train::Step, String>>,
}

impl Predictor {
    pub fn device(&mut self, hw: &str) -> Result<DeviceSpec, String> {
        let r = self
            .devices
            .entry(hw.to_string())
            .or_insert_with(|| {
                xpusim_hw::load_device(hw).or_else(|e| {
                    // A system preset or file names its device.
                    xpusim_hw::load_system(hw)
                        .map(|s| s.device)
                        .map_err(|_| e.to_string())
                })
            })
            .clone();
        let mut d = r?;
        if let Some(o) = &self.override_device {
            if o.name == d.name {
                d = o.clone();
            }
        }
        if self.uncalibrated {
            d.calibration.clear();
        }
        Ok(d)
    }

    /// Predicts one row, or says why it cannot.
    pub fn predict(&mut self, row: &Row) -> Result<Prediction, String> {
        if row.seq_dist.is_some() && !matches!(row.phase.as_str(), "inference" | "prefill") {
            return Err("`seq_dist` applies to inference and prefill rows".into());
        }
        if row.phase == "train" {
            return self.predict_train(row);
        }
        let mut dev = self.device(&row.hardware)?;
        if let Some(cap) = row.power_cap_w {
            xpusim_hw::check_power_cap(cap, &dev.power)
                .map_err(|m| format!("column `power_cap_w` for `{}`: {m}", dev.name))?;
            dev.power_cap_w = Some(cap);
        }
        let mut p =
            Precision::parse(&row.precision, dev.natural_dtype).map_err(|e| e.to_string())?;
        if let Some(kv) = row.kv_precision {
            p.kv = kv;
        }
        if row.serve.is_some() && row.phase != "serve" {
            return Err("`scheduler` applies to phase `serve` rows".into());
        }
        let llm_phase = matches!(
            row.phase.as_str(),
            "prefill" | "decode" | "generate" | "serve"
        );
        let (layout, replicas) = inference_layout(&row.parallelism, row.devices, llm_phase)?;
        let sys = if layout.devices() > 1 {
            Some(crate::system::for_row(
                &row.hardware,
                &dev,
                layout.devices(),
            )?)
        } else {
            None
        };
        let replicas = replicas as f64;
        let unit = expected_unit(&row.metric)
            .ok_or_else(|| format!("unsupported metric `{}`", row.metric))?;
        if !row.unit.eq_ignore_ascii_case(unit) {
            return Err(format!(
                "unit `{}` does not match metric `{}` (expected `{unit}`)",
                row.unit, row.metric
            ));
        }
        if let (Some(kind), "kernel") = (
            crate::system::collective_kind(&row.workload),
            row.phase.as_str(),
        ) {
            let sys = sys.ok_or("a collective needs parallelism tp over devices > 1")?;
            let t = crate::system::collective_s(
                &sys,
                &row.workload,
                kind,
                layout.devices(),
                p.act.bytes(1),
            )?;
            let k = KernelCost {
                family: None,
                op: None,
                size: 0.0,
                rows: None,
                work_s: t,
                fixed_s: 0.0,
                flops: 0.0,
                bytes: 0.0,
            };
            let v = kernel_metric(&row.metric, t, 0.0, 0.0, 1.0)?;
            return Ok(Prediction {
                value: v,
                kernel: Some(k),
                flags: Vec::new(),
            });
        }
        if row.phase == "kernel" && sys.is_some() {
            return Err(
                "a single kernel runs on one device: give devices = 1 and the sharded shape".into(),
            );
        }
        if row.phase == "kernel" {
            let k = kernel_cost(row, &dev, p)?;
            let floor_us = row.harness_floor_us.unwrap_or(0.0);
            let floor_s = floor_us * 1e-6;
            let t = k.time_s().max(floor_s);
            let v = kernel_metric(&row.metric, t, k.flops, k.bytes, replicas)?;
            // The harness floor is a term of the measurement setup, not of the chip: a
            // prediction it sets must say so.
            let flags = if floor_s > k.time_s() {
                vec![format!(
                    "predicted = the row's harness floor ({floor_us} µs, a measurement-setup \
                     term applied only in validation; device time {:.1} µs)",
                    k.time_s() * 1e6
                )]
            } else {
                Vec::new()
            };
            return Ok(Prediction {
                value: v,
                kernel: Some(k),
                flags,
            });
        }
        if kernel::is_kernel(&row.workload) {
            return Err(format!(
                "kernel workload `{}` needs phase `kernel`, got `{}`",
                row.workload, row.phase
            ));
        }
        let host_w = if is_energy_metric(&row.metric) && row.scope == Scope::Wall {
            wall_host_w(row)?
        } else {
            0.0
        };
        model_metric(row, &dev, sys.as_ref(), &layout, p, replicas, host_w).map(|(value, flags)| {
            Prediction {
                value,
                kernel: None,
                flags,
            }
        })
    }

    /// A phase `train` row: its metric from one priced training step.
    fn predict_train(&mut self, row: &Row) -> Result<Prediction, String> {
        crate::train::check_metric(row)?;
        let key = format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            row.hardware,
            row.devices,
            row.parallelism,
            row.precision,
            row.workload,
            row.batch,
            row.batch_given,
            row.seq_in
        );
        let step = match self.steps.get(&key) {
            Some(s) => s.clone(),
            None => {
                let s = self
                    .device(&row.hardware)
                    .and_then(|dev| crate::train::step(row, &dev));
                self.steps.insert(key, s.clone());
                s
            }
        }?;
        Ok(Prediction {
            value: crate::train::metric(row, &step)?,
            kernel: None,
            flags: crate::train::flags(&step),
        })
    }
}

/// The unit each metric is given in.
pub fn expected_unit(metric: &str) -> Option<&'static str> {
    Some(match metric {
        "latency_ms" | "ttft_ms" | "tpot_ms" => "ms",
        "samples_per_s" => "samples/s",
        "tokens_per_s" => "tokens/s",
        "tflops" => "TFLOPS",
        "bandwidth_tbps" => "TB/s",
        m => return ENERGY_METRICS.iter().find(|e| e.0 == m).map(|e| e.1),
    })
}

/// The host's power at the wall for a `scope = wall` row, W: its system's
/// `node_power.overhead_w` for the devices it uses. A row whose hardware is a device, or a
/// system that cites no node power, has no host to add: an error, never a silent zero.
fn wall_host_w(row: &Row) -> Result<f64, String> {
    let sys = xpusim_hw::load_system(&row.hardware).map_err(|_| {
        format!(
            "scope `wall` needs a system with `node_power.overhead_w` as hardware (the host's \
             power); `{}` is not a system",
            row.hardware
        )
    })?;
    if sys.spec.node_power.is_none() {
        return Err(format!(
            "scope `wall` needs the host's power: system `{}` has no `node_power.overhead_w`",
            sys.spec.name
        ));
    }
    Ok(Target::system(sys).node_overhead_w(row.devices))
}

/// What a kernel row's ops cost: one op's cost, with what a curve keys on; or, for a row
/// timing several kernels together (`attention_fwd_bwd`), the sum of their costs, which no
/// single curve describes and so fits none.
fn kernel_cost(row: &Row, dev: &DeviceSpec, p: Precision) -> Result<KernelCost, String> {
    let ops = kernel::lower_all(&row.workload, p)?;
    let mut parts = ops.iter().map(|op| op_kernel_cost(op, row.timing, dev));
    let Some(first) = parts.next().transpose()? else {
        return Err(format!("kernel `{}` lowers to no op", row.workload));
    };
    parts.try_fold(first, |mut sum, next| {
        let k = next?;
        sum.family = None;
        sum.op = None;
        sum.size = 0.0;
        sum.rows = None;
        sum.work_s += k.work_s;
        sum.fixed_s += k.fixed_s;
        sum.flops += k.flops;
        sum.bytes += k.bytes;
        Ok(sum)
    })
}

fn op_kernel_cost(
    op: &xpusim_ir::Op,
    timing: Timing,
    dev: &DeviceSpec,
) -> Result<KernelCost, String> {
    let c = cost_op(op, dev).map_err(|e| e.to_string())?;
    let launch_s = dev.overhead.launch_us * 1e-6;
    let fixed = match timing {
        Timing::Wall => c.overhead_s,
        Timing::Kernel => (c.overhead_s - launch_s).max(0.0),
    };
    let fam = xpusim_engine::calibration::family_and_size(op);
    Ok(KernelCost {
        family: fam.map(|f| f.0),
        op: xpusim_engine::calibration::op_key(op),
        size: fam.map_or(0.0, |f| f.1),
        rows: xpusim_engine::calibration::rows_of(op),
        work_s: (c.time_s - c.overhead_s).max(0.0),
        fixed_s: fixed,
        flops: op.flops() as f64,
        bytes: op.bytes_total() as f64,
    })
}

/// A kernel metric from its time; also used to turn a measured metric back into a time.
pub fn kernel_metric(
    metric: &str,
    time_s: f64,
    flops: f64,
    bytes: f64,
    replicas: f64,
) -> Result<f64, String> {
    Ok(match metric {
        "latency_ms" => time_s * 1e3,
        "tflops" => replicas * flops / time_s / 1e12,
        "bandwidth_tbps" => replicas * bytes / time_s / 1e12,
        "samples_per_s" => replicas / time_s,
        m => return Err(format!("metric `{m}` does not apply to a kernel")),
    })
}

/// Inverse of [`kernel_metric`] for one device: the time a measured value implies.
pub fn kernel_time_from(metric: &str, value: f64, flops: f64, bytes: f64) -> Option<f64> {
    match metric {
        "latency_ms" => Some(value * 1e-3),
        "tflops" => Some(flops / (value * 1e12)),
        "bandwidth_tbps" => Some(bytes / (value * 1e12)),
        "samples_per_s" => Some(1.0 / value),
        _ => None,
    }
}

/// The row's model through the one resolver, for one pass of `phase` (`seq` 0: the model's
/// default).
fn build(
    row: &Row,
    phase: Phase,
    seq: u64,
    context: u64,
    p: Precision,
) -> Result<xpusim_ir::Graph, String> {
    if row.seq_dist.is_some() && !matches!(phase, Phase::Inference | Phase::Prefill) {
        return Err("`seq_dist` applies to inference and prefill rows".into());
    }
    // An unpadded row's lengths give both the batch and the sequence lengths.
    let packed = row.seq_dist.is_some();
    let r = xpusim_workload::Request {
        phase: Some(phase),
        batch: (!packed).then_some(row.batch),
        seq: (seq > 0 && !packed).then_some(seq),
        seq_dist: row.seq_dist.clone(),
        // A prefill or inference pass reads no cache (0 here).
        context: (context > 0).then_some(context),
        ..xpusim_workload::Request::new(&row.workload)
    };
    r.graph_at(p).map_err(|e| e.to_string())
}

/// What a metric needs from one pass.
struct Pass {
    latency_s: f64,
    flops: f64,
    tokens_per_s: f64,
    /// Energy of the devices one replica uses for the pass, J: dynamic and static, without
    /// the host's share (`energy_breakdown.node_j`), which the row's scope decides.
    board_j: f64,
    /// Its static part (every device's static power over the pass), J.
    static_j: f64,
    /// The devices one replica uses.
    devices: u64,
}

impl Pass {
    fn of(c: &xpusim_target::ModelCost) -> Pass {
        Pass {
            latency_s: c.latency_s,
            flops: c.flops as f64,
            tokens_per_s: c.tokens_per_s,
            board_j: c.energy_j - c.energy_breakdown.node_j,
            static_j: c.energy_breakdown.idle_j,
            devices: c.devices,
        }
    }
}

/// One pass on one device (engine) or on `sys` with tensor parallelism over `devices`.
/// One replica's layout and the number of replicas of an inference row, from its
/// `parallelism`: empty (a decoder's devices form one tensor-parallel group, any other
/// model's devices are replicas), `tp` or `dp` (all devices one way), or a list of
/// `key=value` with keys `tp`, `pp`, `ep` and `dp` (as training rows write it), where an
/// unstated `dp` is what the others leave of `devices`. The degrees must multiply to
/// `devices`; an unknown or repeated key is an error naming it, never ignored.
pub fn inference_layout(
    text: &str,
    devices: u64,
    llm_phase: bool,
) -> Result<(Parallelism, u64), String> {
    let all_tp = (Parallelism::tp(devices), 1);
    let all_dp = (Parallelism::default(), devices);
    match text.trim() {
        "" if llm_phase => return Ok(all_tp),
        "" => return Ok(all_dp),
        "tp" => return Ok(all_tp),
        "dp" => return Ok(all_dp),
        _ => {}
    }
    let mut par = Parallelism::default();
    let mut dp = None;
    let mut seen = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once('=').ok_or_else(|| {
            format!("parallelism `{item}`: expected key=value (tp, pp, ep, dp), or tp or dp alone")
        })?;
        let key = key.trim();
        if seen.contains(&key) {
            return Err(format!("parallelism: `{key}` is given twice"));
        }
        seen.push(key);
        let n: u64 = value
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("parallelism `{item}`: expected a whole number ≥ 1"))?;
        match key {
            "tp" => par.tp = n,
            "pp" => par.pp = n,
            "ep" => par.ep = n,
            "dp" => dp = Some(n),
            other => {
                return Err(format!(
                    "parallelism: unknown key `{other}` for an inference row (expected tp, pp, \
                     ep or dp)"
                ))
            }
        }
    }
    let group = par.tp.saturating_mul(par.pp);
    let dp = match dp {
        Some(dp) => dp,
        None if group > 0 && devices.is_multiple_of(group) => devices / group,
        None => {
            return Err(format!(
                "parallelism `{text}`: tp·pp = {group} does not divide devices = {devices}"
            ))
        }
    };
    if group.saturating_mul(dp) != devices {
        return Err(format!(
            "parallelism `{text}`: tp·pp·dp = {} but the row has devices = {devices}",
            group.saturating_mul(dp)
        ));
    }
    Ok((par, dp))
}

fn run(
    g: &xpusim_ir::Graph,
    dev: &DeviceSpec,
    sys: Option<&xpusim_hw::System>,
    layout: &Parallelism,
    runtime: Option<&xpusim_hw::RuntimeSpec>,
) -> Result<Pass, String> {
    if let Some(sys) = sys {
        let mut t = Target::system(sys.clone());
        t.layout = Layout::Fixed(*layout);
        t.runtime = runtime.cloned();
        let c = evaluate(g, &t).map_err(|e| e.to_string())?;
        c.check_fits().map_err(|e| e.to_string())?;
        return Ok(Pass::of(&c));
    }
    let mut t = Target::device(dev.clone());
    t.runtime = runtime.cloned();
    let c = evaluate(g, &t).map_err(|e| e.to_string())?;
    if !c.fits_in_memory {
        return Err(format!(
            "needs {:.1} GB, more than one {}'s {:.1} GB",
            c.memory_required_bytes as f64 / 1e9,
            dev.name,
            c.memory_capacity_bytes as f64 / 1e9
        ));
    }
    Ok(Pass::of(&c))
}

/// What a row's passes did, for the power and energy metrics: one replica's time, its
/// devices' energy, and the samples and tokens it produced.
struct Work {
    time_s: f64,
    board_j: f64,
    static_j: f64,
    samples: f64,
    tokens: f64,
    /// Devices one replica uses.
    devices: u64,
}

impl Work {
    fn of(c: &Pass, samples: f64, tokens: f64) -> Work {
        Work {
            time_s: c.latency_s,
            board_j: c.board_j,
            static_j: c.static_j,
            samples,
            tokens,
            devices: c.devices,
        }
    }
}

/// A power or energy metric of `replicas` copies of `w` plus `host_w` of host power, and
/// the flag that says what the prediction is made of (boards, their static part, the host,
/// the throughput they imply), so a reader sees which part misses.
fn energy_metric(
    m: &str,
    w: &Work,
    replicas: f64,
    host_w: f64,
    dev: &DeviceSpec,
) -> Result<(f64, Vec<String>), String> {
    let t = w.time_s;
    let board_w = replicas * w.board_j / t;
    let static_w = replicas * w.static_j / t;
    let power_w = board_w + host_w;
    let energy_j = power_w * t;
    let samples = replicas * w.samples;
    let tokens = replicas * w.tokens;
    let value = match m {
        "power_w" => power_w,
        "energy_per_sample_j" => energy_j / samples,
        "samples_per_j" => samples / energy_j,
        "joules_per_token" if tokens > 0.0 => energy_j / tokens,
        "joules_per_token" => return Err("the passes produce no tokens".into()),
        _ => return Err(format!("metric `{m}` is not a power or energy metric")),
    };
    let per_device_w = board_w / (replicas * w.devices.max(1) as f64);
    let flag = format!(
        "predicted {power_w:.0} W = boards {board_w:.0} W ({per_device_w:.0} W per device of a \
         {:.0} W limit; static {static_w:.0} W) + host {host_w:.0} W; {:.4e} samples/s",
        dev.power_limit_w(),
        samples / t
    );
    Ok((value, vec![flag]))
}

fn model_metric(
    row: &Row,
    dev: &DeviceSpec,
    sys: Option<&xpusim_hw::System>,
    layout: &Parallelism,
    p: Precision,
    replicas: f64,
    host_w: f64,
) -> Result<(f64, Vec<String>), String> {
    let batch = row.batch as f64;
    let m = row.metric.as_str();
    let energy = is_energy_metric(m);
    let plain = |v: f64| Ok((v, Vec::new()));
    let pass = |phase: Phase, seq: u64, ctx: u64| -> Result<Pass, String> {
        run(
            &build(row, phase, seq, ctx, p)?,
            dev,
            sys,
            layout,
            row.runtime.as_ref(),
        )
    };
    match row.phase.as_str() {
        "inference" | "prefill" => {
            let phase = if row.phase == "inference" {
                Phase::Inference
            } else {
                Phase::Prefill
            };
            let c = pass(phase, row.seq_in, 0)?;
            let t = c.latency_s;
            if energy {
                let w = Work::of(&c, batch, c.tokens_per_s * t);
                return energy_metric(m, &w, replicas, host_w, dev);
            }
            match m {
                "latency_ms" => plain(t * 1e3),
                "ttft_ms" if phase == Phase::Prefill => plain(t * 1e3),
                "samples_per_s" => plain(replicas * batch / t),
                "tokens_per_s" => plain(replicas * c.tokens_per_s),
                "tflops" => plain(replicas * c.flops / t / 1e12),
                _ => Err(format!(
                    "metric `{m}` does not apply to phase `{}`",
                    row.phase
                )),
            }
        }
        "decode" => {
            let c = pass(Phase::Decode, 1, row.seq_in.max(1))?;
            let t = c.latency_s;
            if energy {
                // A decode step outputs one token per sequence.
                let w = Work::of(&c, batch, batch);
                return energy_metric(m, &w, replicas, host_w, dev);
            }
            match m {
                "latency_ms" | "tpot_ms" => plain(t * 1e3),
                "tokens_per_s" | "samples_per_s" => plain(replicas * batch / t),
                "tflops" => plain(replicas * c.flops / t / 1e12),
                _ => Err(format!("metric `{m}` does not apply to phase `decode`")),
            }
        }
        "generate" => {
            if row.seq_in == 0 || row.seq_out == 0 {
                return Err("phase `generate` needs seq_in and seq_out ≥ 1".into());
            }
            let first = pass(Phase::Prefill, row.seq_in, 0)?;
            let ttft = first.latency_s;
            let n = row.seq_out.min(GENERATE_SAMPLES);
            let (mut step_sum, mut step_j, mut step_static_j) = (0.0, 0.0, 0.0);
            for i in 0..n {
                // Midpoints of n equal slices of the seq_out steps.
                let step = (2 * i + 1) * row.seq_out / (2 * n);
                let c = pass(Phase::Decode, 1, row.seq_in + step)?;
                step_sum += c.latency_s;
                step_j += c.board_j;
                step_static_j += c.static_j;
            }
            let steps = row.seq_out as f64 / n as f64;
            let tpot = step_sum / n as f64;
            let total = ttft + tpot * row.seq_out as f64;
            if energy {
                let w = Work {
                    time_s: total,
                    board_j: first.board_j + step_j * steps,
                    static_j: first.static_j + step_static_j * steps,
                    samples: batch,
                    tokens: batch * row.seq_out as f64,
                    devices: first.devices,
                };
                return energy_metric(m, &w, replicas, host_w, dev);
            }
            match m {
                "latency_ms" => plain(total * 1e3),
                "ttft_ms" => plain(ttft * 1e3),
                "tpot_ms" => plain(tpot * 1e3),
                "tokens_per_s" => plain(replicas * batch * row.seq_out as f64 / total),
                "samples_per_s" => plain(replicas * batch / total),
                _ => Err(format!("metric `{m}` does not apply to phase `generate`")),
            }
        }
        "serve" if energy => Err("phase `serve` rows give throughput or latency, not energy".into()),
        "serve" => plain(crate::serving::metric(row, dev, sys, layout, p, replicas)?),
        other => Err(format!(
            "unknown phase `{other}` (expected kernel, inference, prefill, decode, generate or serve)"
        )),
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn the_shorthands_keep_their_meaning() {
        let (p, r) = inference_layout("", 8, true).unwrap();
        assert_eq!((p.tp, p.pp, r), (8, 1, 1));
        let (p, r) = inference_layout("", 8, false).unwrap();
        assert_eq!((p.tp, r), (1, 8));
        assert_eq!(inference_layout("tp", 4, false).unwrap().0.tp, 4);
        assert_eq!(inference_layout("dp", 4, true).unwrap().1, 4);
    }

    #[test]
    fn a_list_splits_the_devices_into_replicas() {
        let (p, r) = inference_layout("tp=2,dp=4", 8, true).unwrap();
        assert_eq!((p.tp, p.pp, p.dp, r), (2, 1, 1, 4));
        // dp left unstated: what tp·pp leave of the devices.
        let (p, r) = inference_layout("tp=2, pp=2", 8, true).unwrap();
        assert_eq!((p.tp, p.pp, r), (2, 2, 2));
    }

    #[test]
    fn bad_lists_name_what_is_wrong() {
        let e = inference_layout("tp=3,dp=4", 8, true).unwrap_err();
        assert!(
            e.contains("tp·pp·dp = 12") && e.contains("devices = 8"),
            "{e}"
        );
        let e = inference_layout("tp=3", 8, true).unwrap_err();
        assert!(e.contains("does not divide"), "{e}");
        let e = inference_layout("tp=2,zero=1", 8, true).unwrap_err();
        assert!(e.contains("unknown key `zero`"), "{e}");
        let e = inference_layout("tp=2,tp=4", 8, true).unwrap_err();
        assert!(e.contains("`tp` is given twice"), "{e}");
        let e = inference_layout("tp=0", 8, true).unwrap_err();
        assert!(e.contains("whole number"), "{e}");
        let e = inference_layout("tensor", 8, true).unwrap_err();
        assert!(e.contains("expected key=value"), "{e}");
    }
}
