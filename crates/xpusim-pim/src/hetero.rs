//! Heterogeneous systems: `host_count` xPUs in a tensor-parallel group, each with its share
//! of `pim_modules` PIM modules behind a link (GPU + AttAcc, AttAcc §5; NPU + PIM as in
//! NeuPIMs, Heo et al. ASPLOS 2024). TOML presets in `presets/systems/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use xpusim_hw::DeviceSpec;

use crate::{close_names, PimError, PimSpec};

/// The link between one host device and its PIM share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub bandwidth_gbps: f64,
    pub latency_us: f64,
    pub energy_pj_per_byte: f64,
}

/// How ops are placed on host or PIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Each PIM-capable op goes where it is cheaper (time or energy, link included).
    Auto,
    /// Decode attention on PIM (the KV cache lives there), everything else on the host.
    AttentionOnPim,
    HostOnly,
}

impl Placement {
    pub fn parse(s: &str) -> Result<Placement, PimError> {
        match s {
            "auto" => Ok(Placement::Auto),
            "attention-on-pim" => Ok(Placement::AttentionOnPim),
            "host-only" => Ok(Placement::HostOnly),
            _ => Err(PimError::Unknown {
                what: "placement (expected auto, attention-on-pim or host-only)",
                name: s.to_string(),
                suggestions: vec![],
            }),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Placement::Auto => "auto",
            Placement::AttentionOnPim => "attention-on-pim",
            Placement::HostOnly => "host-only",
        }
    }
}

/// What `auto` placement minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Time,
    Energy,
}

/// The TOML form of a heterogeneous system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeteroSpec {
    pub name: String,
    pub display_name: String,
    /// Device preset name (this crate's host presets first, then xpusim-hw's) or path.
    pub host: String,
    pub host_count: u64,
    #[serde(default)]
    pub pim: Option<String>,
    #[serde(default)]
    pub pim_modules: u64,
    pub placement: Placement,
    /// Pipeline attention on PIM with the host's QKV and output projections over head
    /// groups (AttAcc §5.3); see `place::head_pipeline_saving`.
    #[serde(default)]
    pub head_pipelining: bool,
    /// Split the FFN GEMMs between host and PIM (AttAcc's feed-forward parallelism); see
    /// `place::ffn_split`.
    #[serde(default)]
    pub ffn_split: bool,
    #[serde(default)]
    pub link: Option<Link>,
    #[serde(default)]
    pub unverified: Vec<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// A resolved heterogeneous system.
#[derive(Debug, Clone)]
pub struct HeteroSystem {
    pub spec: HeteroSpec,
    pub host: DeviceSpec,
    /// The PIM device, its link, and the stacks each host device owns.
    pub pim: Option<(PimSpec, Link, u64)>,
}

impl HeteroSystem {
    /// Parses and resolves a system; `dir` is where relative `.toml` paths in `host` and
    /// `pim` are looked up (the system file's folder).
    pub fn from_toml(file: &str, src: &str, dir: Option<&Path>) -> Result<HeteroSystem, PimError> {
        let resolve = |name: &str| -> String {
            match dir {
                Some(d) if name.ends_with(".toml") && Path::new(name).is_relative() => {
                    d.join(name).to_string_lossy().into_owned()
                }
                _ => name.to_string(),
            }
        };
        let spec: HeteroSpec = toml::from_str(src).map_err(|e| PimError::Parse {
            file: file.to_string(),
            msg: e.to_string().trim_end().replace('\n', " | "),
        })?;
        let bad = |field: &str, msg: String| PimError::Invalid {
            file: file.to_string(),
            line: src
                .lines()
                .position(|l| l.trim_start().starts_with(field))
                .map(|i| i + 1)
                .unwrap_or(1),
            field: field.to_string(),
            msg,
        };
        if spec.host_count == 0 {
            return Err(bad("host_count", "expected at least 1 host device".into()));
        }
        let host = crate::presets::load_host(&resolve(&spec.host))?;
        let pim = match (&spec.pim, spec.pim_modules, &spec.link) {
            (None, 0, _) => None,
            (Some(p), m, Some(link)) if m > 0 => {
                let pim = crate::presets::load_pim(&resolve(p))?;
                for (f, v) in [
                    ("bandwidth_gbps", link.bandwidth_gbps),
                    ("latency_us", link.latency_us),
                    ("energy_pj_per_byte", link.energy_pj_per_byte),
                ] {
                    if !(v.is_finite() && v >= 0.0) || (f == "bandwidth_gbps" && v <= 0.0) {
                        return Err(bad(
                            f,
                            format!("expected a positive finite number, got {v}"),
                        ));
                    }
                }
                let stacks = m * pim.organization.stacks;
                if !stacks.is_multiple_of(spec.host_count) {
                    return Err(bad(
                        "pim_modules",
                        format!(
                            "{m} modules x {} stacks cannot be shared evenly by {} host devices",
                            pim.organization.stacks, spec.host_count
                        ),
                    ));
                }
                Some((pim, link.clone(), stacks / spec.host_count))
            }
            (Some(_), _, None) => {
                return Err(bad("pim", "a system with PIM needs a [link] table".into()))
            }
            _ => {
                return Err(bad(
                    "pim_modules",
                    "give both `pim` and `pim_modules` ≥ 1, or neither".into(),
                ))
            }
        };
        for (field, on) in [
            ("head_pipelining", spec.head_pipelining),
            ("ffn_split", spec.ffn_split),
        ] {
            if pim.is_none() && on {
                return Err(bad(field, format!("{field} needs a system with PIM")));
            }
        }
        if pim.is_none() && spec.placement != Placement::HostOnly {
            return Err(bad(
                "placement",
                "a system without PIM can only be \"host-only\"".into(),
            ));
        }
        Ok(HeteroSystem { spec, host, pim })
    }
}

/// Embedded system presets.
pub const SYSTEMS: &[(&str, &str)] = &[
    (
        "dgx-a100-attacc.toml",
        include_str!("../presets/systems/dgx-a100-attacc.toml"),
    ),
    (
        "dgx-a100-attacc-bg.toml",
        include_str!("../presets/systems/dgx-a100-attacc-bg.toml"),
    ),
    (
        "dgx-a100-hbm3-2x.toml",
        include_str!("../presets/systems/dgx-a100-hbm3-2x.toml"),
    ),
    (
        "npu-neupims.toml",
        include_str!("../presets/systems/npu-neupims.toml"),
    ),
];

pub fn system_names() -> Vec<String> {
    SYSTEMS
        .iter()
        .map(|(f, _)| f.trim_end_matches(".toml").to_string())
        .collect()
}

/// Whether `name` is an embedded xPU + PIM system preset, or a TOML file of one (a
/// top-level `host` key; xpusim-system's multi-device files have `device` instead).
pub fn is_hetero_system(name: &str) -> bool {
    if system_names().iter().any(|n| n == name) {
        return true;
    }
    name.ends_with(".toml")
        && std::fs::read_to_string(name)
            .ok()
            .and_then(|s| s.parse::<toml::Table>().ok())
            .is_some_and(|t| t.contains_key("host") && !t.contains_key("device"))
}

/// A system preset by name, or a system TOML file.
pub fn load_system(name_or_path: &str) -> Result<HeteroSystem, PimError> {
    if name_or_path.ends_with(".toml") && !system_names().iter().any(|n| n == name_or_path) {
        let src = std::fs::read_to_string(name_or_path).map_err(|e| PimError::Io {
            file: name_or_path.to_string(),
            msg: e.to_string(),
        })?;
        return HeteroSystem::from_toml(name_or_path, &src, Path::new(name_or_path).parent());
    }
    find_system(name_or_path)
}

/// Loads an embedded system preset by name.
pub fn find_system(name: &str) -> Result<HeteroSystem, PimError> {
    match SYSTEMS
        .iter()
        .find(|(f, _)| f.trim_end_matches(".toml") == name)
    {
        Some((f, src)) => HeteroSystem::from_toml(f, src, None),
        None => Err(PimError::Unknown {
            what: "PIM system",
            name: name.to_string(),
            suggestions: close_names(name, &system_names()),
        }),
    }
}
