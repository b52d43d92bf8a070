//! The system schema: which device, how many, and the links between them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xpusim_hw::DeviceSpec;

use crate::locate::{locate, render, Seg};
use crate::SystemError;

/// Shape of the scale-up domain (the devices of one node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TopologyKind {
    /// Every device has one port of `bandwidth_gbps` per direction into a non-blocking
    /// switch (NVSwitch): any pair talks in one hop at the full per-device bandwidth.
    Switch,
    /// Fully connected point-to-point links of `bandwidth_gbps` per direction each
    /// (AMD Infinity Fabric on MI300X platforms): a device reaches `n − 1` peers at once.
    Mesh,
    /// 1-, 2- or 3-D torus (or mesh without wraparound) of `bandwidth_gbps` links per
    /// direction (TPU ICI); collectives run as rings along each dimension.
    Torus,
}

/// Scale-up interconnect inside a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleUp {
    pub kind: TopologyKind,
    pub name: String,
    /// Switch: per device, per direction. Mesh and torus: per link, per direction. GB/s.
    pub bandwidth_gbps: f64,
    /// Fixed latency of one collective call (launch, synchronisation), µs. Used for
    /// point-to-point sends, and for collectives when `protocols` is empty.
    #[serde(default)]
    pub base_latency_us: f64,
    /// Per-step latency α of one message hop (software + link), µs; same use as above.
    pub latency_us: f64,
    /// Torus dimensions (product = devices per node); torus only.
    #[serde(default)]
    pub dims: Vec<u64>,
    /// Torus has wraparound links (a true ring per dimension); torus only.
    #[serde(default)]
    pub wraparound: bool,
    /// Measured bus bandwidth / link bandwidth of large collectives (nccl-tests `busbw`);
    /// only with a citation under `[sources]`. Absent: 1 (ideal links).
    pub bus_efficiency: Option<f64>,
    /// Link energy per byte moved, pJ; only with a citation. Absent: not counted.
    pub energy_pj_per_byte: Option<f64>,
    /// Transfer protocols the collective library chooses from per call (NCCL: LL, LL128,
    /// Simple), each with its own latencies and share of the bus bandwidth; the fastest is
    /// taken. Empty: one protocol with the latencies above and the full bandwidth.
    #[serde(default)]
    pub protocols: Vec<Protocol>,
}

/// One transfer protocol of the collective library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub name: String,
    /// Fixed latency of one collective call, µs.
    pub base_latency_us: f64,
    /// Latency per scale-up hop, µs.
    pub latency_us: f64,
    /// Latency per scale-out hop, µs (absent: `scale_out.latency_us`).
    pub net_latency_us: Option<f64>,
    /// Share of the bus bandwidth the protocol reaches (LL: 8-byte stores with a flag
    /// in every 8 bytes, NCCL models 1/4).
    pub bandwidth_fraction: f64,
}

/// Scale-out network between nodes (InfiniBand, Ethernet, DCN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleOut {
    pub name: String,
    /// Per node, per direction, all NICs together, GB/s.
    pub bandwidth_gbps: f64,
    #[serde(default)]
    pub base_latency_us: f64,
    /// Per-step latency of one inter-node hop, µs.
    pub latency_us: f64,
    pub bus_efficiency: Option<f64>,
}

/// Host link of one device (PCIe), for reference and offload studies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLink {
    pub name: String,
    /// Per device, per direction, GB/s.
    pub bandwidth_gbps: f64,
}

/// Power a node draws besides its accelerators (CPUs, NVSwitches, NICs, fans).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePower {
    pub overhead_w: f64,
}

/// A system, as written in a TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub display_name: String,
    /// A device preset name, or a device TOML path relative to this file.
    pub device: String,
    /// Devices in the whole system.
    pub count: u64,
    /// Devices per node (the scale-up domain).
    pub devices_per_node: u64,
    pub scale_up: ScaleUp,
    pub scale_out: Option<ScaleOut>,
    pub host_link: Option<HostLink>,
    pub node_power: Option<NodePower>,
    /// Rental price of one device for one hour, USD (for $ metrics).
    pub price_usd_per_device_hour: Option<f64>,
    /// Citation per field path.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Field paths whose values are estimates or not confirmed by a primary source.
    #[serde(default)]
    pub unverified: Vec<String>,
}

/// Largest value any bandwidth, latency or power may take (as in xpusim-hw).
const ABSURD: f64 = 1e12;

impl SystemSpec {
    /// Parses and validates TOML text. `file` is used in messages only.
    pub fn from_toml(file: &str, src: &str) -> Result<SystemSpec, SystemError> {
        let spec: SystemSpec = toml::from_str(src).map_err(|e| SystemError::Parse {
            file: file.to_string(),
            msg: e.to_string().trim_end().replace('\n', " | "),
        })?;
        spec.validate(file, src)?;
        Ok(spec)
    }

    /// Checks every number the collective and parallelism models divide by.
    pub fn validate(&self, file: &str, src: &str) -> Result<(), SystemError> {
        use Seg::Key;
        let bad = |path: &[Seg<'_>], msg: String| SystemError::Invalid {
            file: file.to_string(),
            line: locate(src, path),
            field: render(path),
            msg,
        };
        let pos = |path: &[Seg<'_>], v: f64| -> Result<(), SystemError> {
            if !(v.is_finite() && v > 0.0 && v < ABSURD) {
                return Err(bad(
                    path,
                    format!("expected a positive finite number, got {v}"),
                ));
            }
            Ok(())
        };
        let nonneg = |path: &[Seg<'_>], v: f64| -> Result<(), SystemError> {
            if !(v.is_finite() && (0.0..ABSURD).contains(&v)) {
                return Err(bad(path, format!("expected a finite number ≥ 0, got {v}")));
            }
            Ok(())
        };
        // A derating factor is data, so it must say where it was measured.
        let cited_frac = |path: &[Seg<'_>], v: Option<f64>| -> Result<(), SystemError> {
            let Some(v) = v else { return Ok(()) };
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return Err(bad(path, format!("expected a fraction in (0, 1], got {v}")));
            }
            if !self.sources.contains_key(&render(path)) {
                return Err(bad(
                    path,
                    format!(
                        "needs a citation: add `\"{}\" = \"...\"` to [sources]",
                        render(path)
                    ),
                ));
            }
            Ok(())
        };
        if self.count == 0 {
            return Err(bad(&[Key("count")], "expected at least 1 device".into()));
        }
        if self.devices_per_node == 0 || !self.count.is_multiple_of(self.devices_per_node) {
            return Err(bad(
                &[Key("devices_per_node")],
                format!(
                    "expected a divisor of count ({}) of at least 1, got {}",
                    self.count, self.devices_per_node
                ),
            ));
        }
        let su = &self.scale_up;
        pos(&[Key("scale_up"), Key("bandwidth_gbps")], su.bandwidth_gbps)?;
        nonneg(&[Key("scale_up"), Key("latency_us")], su.latency_us)?;
        nonneg(
            &[Key("scale_up"), Key("base_latency_us")],
            su.base_latency_us,
        )?;
        cited_frac(&[Key("scale_up"), Key("bus_efficiency")], su.bus_efficiency)?;
        if let Some(e) = su.energy_pj_per_byte {
            nonneg(&[Key("scale_up"), Key("energy_pj_per_byte")], e)?;
        }
        if !su.protocols.is_empty() {
            let at = [Key("scale_up"), Key("protocols")];
            if !self.sources.contains_key("scale_up.protocols") {
                return Err(bad(
                    &at,
                    "needs a citation: add `\"scale_up.protocols\" = \"...\"` to [sources]".into(),
                ));
            }
            for p in &su.protocols {
                let ok = [
                    p.base_latency_us,
                    p.latency_us,
                    p.net_latency_us.unwrap_or(0.0),
                ]
                .iter()
                .all(|v| v.is_finite() && (0.0..ABSURD).contains(v))
                    && p.bandwidth_fraction > 0.0
                    && p.bandwidth_fraction <= 1.0;
                if !ok {
                    return Err(bad(
                        &at,
                        format!("protocol `{}`: expected latencies ≥ 0 and a bandwidth_fraction in (0, 1]", p.name),
                    ));
                }
            }
        }
        let dims_path = [Key("scale_up"), Key("dims")];
        match su.kind {
            TopologyKind::Torus => {
                let prod: u64 = su.dims.iter().product();
                if su.dims.is_empty() || su.dims.len() > 3 || su.dims.contains(&0) {
                    return Err(bad(
                        &dims_path,
                        "expected 1 to 3 dimensions, each ≥ 1".into(),
                    ));
                }
                if prod != self.devices_per_node {
                    return Err(bad(
                        &dims_path,
                        format!(
                            "product of dims ({prod}) must equal devices_per_node ({})",
                            self.devices_per_node
                        ),
                    ));
                }
            }
            _ if !su.dims.is_empty() || su.wraparound => {
                return Err(bad(
                    &dims_path,
                    "dims and wraparound apply only to kind = \"torus\"".into(),
                ));
            }
            _ => {}
        }
        if let Some(so) = &self.scale_out {
            pos(
                &[Key("scale_out"), Key("bandwidth_gbps")],
                so.bandwidth_gbps,
            )?;
            nonneg(&[Key("scale_out"), Key("latency_us")], so.latency_us)?;
            nonneg(
                &[Key("scale_out"), Key("base_latency_us")],
                so.base_latency_us,
            )?;
            cited_frac(
                &[Key("scale_out"), Key("bus_efficiency")],
                so.bus_efficiency,
            )?;
        } else if self.count > self.devices_per_node {
            return Err(bad(
                &[Key("scale_out")],
                format!(
                    "{} devices in nodes of {} need a [scale_out] network",
                    self.count, self.devices_per_node
                ),
            ));
        }
        if let Some(h) = &self.host_link {
            pos(&[Key("host_link"), Key("bandwidth_gbps")], h.bandwidth_gbps)?;
        }
        if let Some(p) = &self.node_power {
            nonneg(&[Key("node_power"), Key("overhead_w")], p.overhead_w)?;
        }
        if let Some(p) = self.price_usd_per_device_hour {
            pos(&[Key("price_usd_per_device_hour")], p)?;
        }
        Ok(())
    }

    pub fn nodes(&self) -> u64 {
        self.count / self.devices_per_node
    }
}

/// A system with its device resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct System {
    pub spec: SystemSpec,
    pub device: DeviceSpec,
}

impl System {
    /// Parses `src` and resolves its device: a preset name, or a path relative to `dir`
    /// (the directory of the system file; `None` for embedded presets).
    pub fn from_toml(file: &str, src: &str, dir: Option<&Path>) -> Result<System, SystemError> {
        let spec = SystemSpec::from_toml(file, src)?;
        let dev_err = |source| SystemError::Device {
            file: file.to_string(),
            device: spec.device.clone(),
            source: Box::new(source),
        };
        let device = if spec.device.ends_with(".toml") {
            let p = match dir {
                Some(d) => d.join(&spec.device),
                None => Path::new(&spec.device).to_path_buf(),
            };
            xpusim_hw::load_device(&p.to_string_lossy()).map_err(dev_err)?
        } else {
            xpusim_hw::find_preset(&spec.device).map_err(dev_err)?
        };
        Ok(System { spec, device })
    }
}
