//! The price of missing generality: where an op runs when its device lacks the op's family
//! or number format (`[support]` in the device spec, [`xpusim_hw::support`]).
//!
//! - Format missing: the op is computed in the nearest supported wider format of the same
//!   kind (fp16 → bf16, int4 → int8) on the device itself.
//! - Family missing, or no wider format: the op runs on the host device the spec names
//!   (a server CPU preset). Its activations (inputs and outputs; weights and KV cache live
//!   with the host that always runs this op) cross the host link, one transfer each way:
//!   `t = t_host + bytes_in / bw + bytes_out / bw + 2 × latency`, serial because the
//!   output exists only after the host computes it. Consecutive host ops are charged
//!   separately (a per-op, upper-bound placement: no partitioner merges them).
//! - Energy: the host's own energy for the op plus the device's idle power over the whole
//!   time (it waits). Link I/O energy is not modelled.
//!
//! Invariant: a rerouted op is never free — its time is at least the link latency plus
//! its activations over the link plus the host's time for it (property-tested).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use xpusim_hw::DeviceSpec;
use xpusim_ir::{DType, Graph, Op, Role};

use crate::cost::{Bound, LevelTraffic, OpCost};
use crate::{cost_op, EngineError};

/// Where an op runs on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Native,
    /// On the device, computed in this wider format.
    Promoted(DType),
    /// On the host, over the link.
    Host,
}

/// Placement of `op` on `dev` (always `Native` for a device without `[support]`).
pub fn placement(op: &Op, dev: &DeviceSpec) -> Placement {
    let Some(s) = &dev.support else {
        return Placement::Native;
    };
    if !s.runs_family(op.kind.family()) {
        return Placement::Host;
    }
    match s.promote(op.compute_dtype) {
        Some(d) if d == op.compute_dtype => Placement::Native,
        Some(d) => Placement::Promoted(d),
        None => Placement::Host,
    }
}

/// The cost of an op the device cannot run natively, or `None` when it can.
pub(crate) fn reroute(op: &Op, dev: &DeviceSpec) -> Result<Option<OpCost>, EngineError> {
    let Some(s) = &dev.support else {
        return Ok(None);
    };
    match placement(op, dev) {
        Placement::Native => Ok(None),
        Placement::Promoted(d) => {
            let mut wider = op.clone();
            wider.compute_dtype = d;
            let mut c = cost_op(&wider, dev)?;
            c.mapping = format!(
                "computed in {d} ({} not native); {}",
                op.compute_dtype, c.mapping
            );
            Ok(Some(c))
        }
        Placement::Host => {
            let host = host_device(&dev.name, &s.host)?;
            let on_host = cost_op(op, &host)?;
            let act = |want: Role| -> u64 {
                op.operands
                    .iter()
                    .filter(|o| o.role == want)
                    .map(|o| o.bytes())
                    .sum()
            };
            // A weight gradient computed on the host comes back over the link like an output.
            let (bytes_in, bytes_out) = (act(Role::Input), act(Role::Output) + act(Role::Grad));
            let bps = s.host_link_gbps * 1e9;
            let link_s = (bytes_in + bytes_out) as f64 / bps + 2.0 * s.host_link_latency_us * 1e-6;
            let mut traffic: Vec<LevelTraffic> = on_host
                .traffic
                .iter()
                .map(|t| LevelTraffic {
                    level: format!("{}:{}", host.name, t.level),
                    ..t.clone()
                })
                .collect();
            traffic.push(LevelTraffic {
                level: "host-link".into(),
                bytes: bytes_in + bytes_out,
                time_s: link_s,
                // Link I/O energy is not modelled (module doc).
                energy_j: 0.0,
            });
            let time_s = on_host.time_s + link_s;
            let why = if s.runs_family(op.kind.family()) {
                format!("{} not native", op.compute_dtype)
            } else {
                format!("{} not native", op.kind.family())
            };
            let mut c = OpCost {
                compute_s: on_host.compute_s,
                traffic,
                overhead_s: on_host.overhead_s,
                time_s,
                energy_j: 0.0,
                compute_energy_j: on_host.compute_energy_j,
                pim_energy_j: 0.0,
                // The host's own static power for its part, the device's while it waits.
                idle_energy_j: on_host.idle_energy_j + dev.power.idle_w * time_s,
                bound: if link_s > on_host.time_s {
                    Bound::Memory("host-link".into())
                } else {
                    on_host.bound.clone()
                },
                mapping: format!("on {} ({why}): {}", host.name, on_host.mapping),
                pim: None,
            };
            c.sum_energy();
            Ok(Some(c))
        }
    }
}

/// The host preset, parsed once per name.
fn host_device(device: &str, host: &str) -> Result<Arc<DeviceSpec>, EngineError> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Arc<DeviceSpec>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    if let Some(h) = cache.lock().ok().and_then(|c| c.get(host).cloned()) {
        return Ok(h);
    }
    let err = |msg: String| EngineError::Fallback {
        device: device.to_string(),
        msg,
    };
    let h = xpusim_hw::find_preset(host).map_err(|e| err(format!("[support] host: {e}")))?;
    if h.support.is_some() {
        return Err(err(format!(
            "[support] host `{host}` has a [support] table itself; a host must run every op"
        )));
    }
    let h = Arc::new(h);
    if let Ok(mut c) = cache.lock() {
        c.insert(host.to_string(), h.clone());
    }
    Ok(h)
}

/// Native coverage of one graph on one device (all counts include `repeat`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    pub ops: u64,
    pub native_ops: u64,
    pub flops: u64,
    pub native_flops: u64,
    /// Ops computed in a wider format on the device.
    pub promoted_ops: u64,
    /// FLOPs sent to the host, per op family.
    pub host_flops_by_family: BTreeMap<String, u64>,
    /// Op instances sent to the host, per op family.
    pub host_ops_by_family: BTreeMap<String, u64>,
}

impl Coverage {
    /// Fraction of FLOPs run natively (1 for a graph without FLOPs).
    pub fn native_flops_frac(&self) -> f64 {
        if self.flops == 0 {
            1.0
        } else {
            self.native_flops as f64 / self.flops as f64
        }
    }

    pub fn native_ops_frac(&self) -> f64 {
        if self.ops == 0 {
            1.0
        } else {
            self.native_ops as f64 / self.ops as f64
        }
    }
}

/// How much of `g` runs natively on `dev`.
pub fn coverage(g: &Graph, dev: &DeviceSpec) -> Coverage {
    let mut c = Coverage::default();
    for op in &g.ops {
        let flops = op.flops() * op.repeat;
        c.ops += op.repeat;
        c.flops += flops;
        match placement(op, dev) {
            Placement::Native => {
                c.native_ops += op.repeat;
                c.native_flops += flops;
            }
            Placement::Promoted(_) => c.promoted_ops += op.repeat,
            Placement::Host => {
                let f = op.kind.family().to_string();
                *c.host_flops_by_family.entry(f.clone()).or_default() += flops;
                *c.host_ops_by_family.entry(f).or_default() += op.repeat;
            }
        }
    }
    c
}
