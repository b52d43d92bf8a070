//! The system schema: which device, how many, the links between them, and optionally the
//! processing-in-memory modules attached to the devices (AttAcc-style xPU + PIM systems).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::locate::{Fields, Seg, ABSURD};
use crate::{DeviceSpec, HwError, PimSpec};

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
    /// A device preset name, a device TOML path relative to this file, or the device
    /// written inline as a table.
    pub device: Component<DeviceSpec>,
    /// Devices in the whole system.
    pub count: u64,
    /// Devices per node (the scale-up domain).
    pub devices_per_node: u64,
    /// The scale-up domain; required when a node holds more than one device.
    pub scale_up: Option<ScaleUp>,
    pub scale_out: Option<ScaleOut>,
    pub host_link: Option<HostLink>,
    pub node_power: Option<NodePower>,
    /// Rental price of one device for one hour, USD (for $ metrics).
    pub price_usd_per_device_hour: Option<f64>,
    /// Processing-in-memory modules attached to the devices.
    pub pim: Option<PimAttachment>,
    /// A power cap for every device of the system, W (see `DeviceSpec::power_cap_w`); it
    /// replaces a cap the device file sets.
    pub power_cap_w: Option<f64>,
    /// Citation per field path.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Field paths whose values are estimates or not confirmed by a primary source.
    #[serde(default)]
    pub unverified: Vec<String>,
}

impl SystemSpec {
    /// Parses and validates TOML text. `file` is used in messages only.
    pub fn from_toml(file: &str, src: &str) -> Result<SystemSpec, HwError> {
        let spec: SystemSpec = crate::locate::parse(file, src)?;
        spec.validate(file, src)?;
        Ok(spec)
    }

    /// Checks every number the collective and parallelism models divide by.
    pub fn validate(&self, file: &str, src: &str) -> Result<(), HwError> {
        use Seg::Key;
        let f = Fields { file, src };
        let bad = |path: &[Seg<'_>], msg: String| f.bad(path, msg);
        let pos = |path: &[Seg<'_>], v: f64| f.positive(path, v);
        let nonneg = |path: &[Seg<'_>], v: f64| f.non_negative(path, v);
        let cited_frac = |path: &[Seg<'_>], v: Option<f64>| self.cited_fraction(&f, path, v);
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
        let Some(su) = &self.scale_up else {
            if self.devices_per_node > 1 {
                return Err(bad(
                    &[Key("scale_up")],
                    format!(
                        "nodes of {} devices need a [scale_up] interconnect",
                        self.devices_per_node
                    ),
                ));
            }
            return self.validate_rest(&f);
        };
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
        self.validate_rest(&f)
    }

    /// A derating factor is data, so it must say where it was measured.
    fn cited_fraction(
        &self,
        f: &Fields<'_>,
        path: &[Seg<'_>],
        v: Option<f64>,
    ) -> Result<(), HwError> {
        let Some(v) = v else { return Ok(()) };
        f.fraction(path, v)?;
        let key = crate::locate::render(path);
        if !self.sources.contains_key(&key) {
            return Err(f.bad(
                path,
                format!("needs a citation: add `\"{key}\" = \"...\"` to [sources]"),
            ));
        }
        Ok(())
    }

    /// Checks of everything after the scale-up domain.
    fn validate_rest(&self, f: &Fields<'_>) -> Result<(), HwError> {
        use Seg::Key;
        let bad = |path: &[Seg<'_>], msg: String| f.bad(path, msg);
        let pos = |path: &[Seg<'_>], v: f64| f.positive(path, v);
        let nonneg = |path: &[Seg<'_>], v: f64| f.non_negative(path, v);
        let cited_frac = |path: &[Seg<'_>], v: Option<f64>| self.cited_fraction(f, path, v);
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
        if let Some(p) = &self.pim {
            f.count(&[Key("pim"), Key("modules")], p.modules)?;
            let l = &p.link;
            pos(
                &[Key("pim"), Key("link"), Key("bandwidth_gbps")],
                l.bandwidth_gbps,
            )?;
            nonneg(&[Key("pim"), Key("link"), Key("latency_us")], l.latency_us)?;
            nonneg(
                &[Key("pim"), Key("link"), Key("energy_pj_per_byte")],
                l.energy_pj_per_byte,
            )?;
        }
        Ok(())
    }

    pub fn nodes(&self) -> u64 {
        self.count / self.devices_per_node
    }
}

/// A part of a system named by preset or path, or written inline (a sweep edits a system
/// with its device inlined, so its axes reach every field).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Component<T> {
    Named(String),
    Inline(Box<T>),
}

impl<T> Component<T> {
    /// The preset name or path, or `inline`.
    pub fn label(&self) -> &str {
        match self {
            Component::Named(n) => n,
            Component::Inline(_) => "inline",
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Component<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A string names a preset or file; a table is the part itself, whose own errors
        // (unknown or missing fields) are kept rather than an untagged enum's "no variant".
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(Component::Named(s)),
            v @ toml::Value::Table(_) => v
                .try_into::<T>()
                .map(|t| Component::Inline(Box::new(t)))
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a preset name, a file path or a table, got {}",
                other.type_str()
            ))),
        }
    }
}

/// Resolves a component: a name or path through `load`, an inline table validated as its
/// own document (errors name `file [field]`).
fn resolve<T: Clone + Serialize>(
    c: &Component<T>,
    file: &str,
    field: &str,
    load: impl Fn(&str) -> Result<T, HwError>,
    validate: impl Fn(&T, &str, &str) -> Result<(), HwError>,
) -> Result<T, HwError> {
    match c {
        Component::Named(n) => load(n),
        Component::Inline(t) => {
            let src = toml::to_string(t.as_ref()).unwrap_or_default();
            validate(t, &format!("{file} [{field}]"), &src)?;
            Ok(t.as_ref().clone())
        }
    }
}

/// How ops are placed on a device or its PIM modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PimPlacement {
    /// Each PIM-capable op goes where it is cheaper (time or energy, link included).
    Auto,
    /// Decode attention on PIM (the KV cache lives there), everything else on the device.
    AttentionOnPim,
    /// Everything on the device (the PIM modules hold data only).
    HostOnly,
}

impl PimPlacement {
    pub fn parse(s: &str) -> Result<PimPlacement, String> {
        match s {
            "auto" => Ok(PimPlacement::Auto),
            "attention-on-pim" => Ok(PimPlacement::AttentionOnPim),
            "host-only" => Ok(PimPlacement::HostOnly),
            _ => Err(format!(
                "unknown placement `{s}` (expected auto, attention-on-pim or host-only)"
            )),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PimPlacement::Auto => "auto",
            PimPlacement::AttentionOnPim => "attention-on-pim",
            PimPlacement::HostOnly => "host-only",
        }
    }
}

/// The link between one device and its share of the PIM modules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimLink {
    /// Per device, per direction, GB/s.
    pub bandwidth_gbps: f64,
    pub latency_us: f64,
    /// Energy per byte crossing the link, pJ.
    pub energy_pj_per_byte: f64,
}

/// PIM modules attached to the devices of a system (`[pim]`): AttAcc (Park et al., ASPLOS
/// 2024) attaches one AttAcc device per GPU over NVLink; NeuPIMs (Heo et al., ASPLOS 2024)
/// puts PIM HBM beside an NPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PimAttachment {
    /// A PIM memory preset (`xpusim list pim`), a PIM TOML path relative to this file, or
    /// the PIM memory written inline as a table.
    pub device: Component<PimSpec>,
    /// Modules in the whole system, shared evenly by its devices (a module is `stacks`
    /// stacks of the PIM memory).
    pub modules: u64,
    pub placement: PimPlacement,
    /// Pipeline attention on PIM with the device's QKV and output projections over head
    /// groups (AttAcc §5.3).
    #[serde(default)]
    pub head_pipelining: bool,
    /// Split the FFN GEMMs between device and PIM (AttAcc's feed-forward parallelism).
    #[serde(default)]
    pub ffn_split: bool,
    pub link: PimLink,
}

/// A system's PIM modules, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pim {
    pub spec: PimSpec,
    pub attach: PimAttachment,
    /// PIM stacks each device owns.
    pub stacks_per_device: u64,
    /// The stacks are the device's own memory (a device's `[pim]`): what PIM holds is
    /// within the device's capacity, not beside it.
    pub in_device_memory: bool,
}

impl Pim {
    /// PIM capacity one device owns, bytes.
    pub fn capacity_per_device_bytes(&self) -> u64 {
        self.spec.organization.capacity_bytes * self.stacks_per_device
    }
}

/// A system with its device (and PIM memory) resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct System {
    pub spec: SystemSpec,
    pub device: DeviceSpec,
    pub pim: Option<Pim>,
}

impl System {
    /// Parses `src` and resolves its device and PIM memory: preset names, or paths relative
    /// to `dir` (the directory of the system file; `None` for embedded presets).
    pub fn from_toml(file: &str, src: &str, dir: Option<&Path>) -> Result<System, HwError> {
        let spec = SystemSpec::from_toml(file, src)?;
        let path = |name: &str| -> String {
            match dir {
                Some(d) if name.ends_with(".toml") && Path::new(name).is_relative() => {
                    d.join(name).to_string_lossy().into_owned()
                }
                _ => name.to_string(),
            }
        };
        let within = |field: &str, e: HwError| HwError::Invalid {
            file: file.to_string(),
            line: crate::locate::locate(src, &[Seg::Key(field)]),
            field: field.to_string(),
            msg: e.to_string(),
        };
        let mut device = resolve(
            &spec.device,
            file,
            "device",
            |n| crate::registry::load_device(&path(n)),
            DeviceSpec::validate,
        )
        .map_err(|e| within("device", e))?;
        if let Some(cap) = spec.power_cap_w {
            crate::spec::check_power_cap(cap, &device.power).map_err(|msg| {
                let f = Fields { file, src };
                f.bad(&[Seg::Key("power_cap_w")], msg)
            })?;
            device.power_cap_w = Some(cap);
        }
        let pim = match &spec.pim {
            None => None,
            Some(a) => {
                let p = resolve(
                    &a.device,
                    file,
                    "pim.device",
                    |n| crate::registry::load_pim(&path(n)),
                    PimSpec::validate,
                )
                .map_err(|e| within("pim", e))?;
                let stacks = a.modules * p.organization.stacks;
                if !stacks.is_multiple_of(spec.count) {
                    let f = Fields { file, src };
                    return Err(f.bad(
                        &[Seg::Key("pim"), Seg::Key("modules")],
                        format!(
                            "{} modules × {} stacks cannot be shared evenly by {} devices",
                            a.modules, p.organization.stacks, spec.count
                        ),
                    ));
                }
                Some(Pim {
                    spec: p,
                    attach: a.clone(),
                    stacks_per_device: stacks / spec.count,
                    in_device_memory: false,
                })
            }
        };
        if pim.is_some() && device.pim.is_some() {
            return Err(Fields { file, src }.bad(
                &[Seg::Key("pim")],
                format!(
                    "device `{}` already computes in its own memory ([pim]); attach PIM modules \
                     to a device without one",
                    device.name
                ),
            ));
        }
        Ok(System { spec, device, pim })
    }
}
