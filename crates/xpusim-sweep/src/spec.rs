//! The sweep spec file: a base design (a device or a system), axes, workloads, objectives.
//!
//! A system base is edited with its device and PIM memory written inline, so axes reach
//! every field: `count`, `scale_up.bandwidth_gbps`, `device.memory[2].bandwidth_gbps`,
//! `pim.device.processing.units`, `pim.modules`.
//!
//! ```toml
//! name = "npu-array"
//! base = "h100-sxm"            # preset name or device/system TOML (relative to this file)
//! scaling = "physical"         # optional: peaks follow cores × clock × array size
//! objectives = ["throughput", "energy"]
//!
//! [[axis]]
//! path = "cores"
//! values = [64, 96, 132]
//!
//! [[axis]]
//! path = "memory[2].bandwidth_gbps"
//! from = 1000
//! to = 8000
//! steps = 8
//!
//! [[workload]]                 # none: the era suite
//! model = "llama-2-7b"
//! phase = "decode"
//! batch = 8
//! ```

use std::path::{Path as FsPath, PathBuf};

use serde::Deserialize;
use toml::Value;
use xpusim_hw::{Component, DeviceSpec, Hardware, System};

use crate::axis::{Axis, AxisSpec};
use crate::pareto::Objective;
use crate::suite::WorkloadSpec;
use crate::SweepError;

/// Most design points in one spec: 10¹², a million times the million-point sweeps this tool
/// is built for, and still far inside the u64 point index.
pub const MAX_POINTS: u64 = 1_000_000_000_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    base: String,
    #[serde(default)]
    scaling: Option<String>,
    #[serde(default)]
    objectives: Vec<String>,
    #[serde(default)]
    axis: Vec<AxisSpec>,
    #[serde(default)]
    workload: Vec<WorkloadSpec>,
}

/// How a point's other fields follow the swept ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Only the swept fields change.
    None,
    /// Matrix peaks scale with cores × clock × (tile n × k, the PE array of a systolic
    /// core), vector peaks with cores × clock, and core-local SRAM
    /// bandwidth with cores × clock, unless an axis sets them: the design is built from more
    /// or fewer of the same units, which is how an array size or core count changes a chip.
    Physical,
}

/// A parsed, checked sweep spec.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// File name (for messages).
    pub file: String,
    pub name: String,
    /// The base design's device (a system's: the one it is built from).
    pub base: DeviceSpec,
    /// The base is a system (its TOML value then has the device and PIM memory inline).
    pub system: bool,
    /// The base design as a TOML value, which axes edit.
    pub base_value: Value,
    pub scaling: Scaling,
    pub axes: Vec<Axis>,
    pub workloads: Vec<WorkloadSpec>,
    pub objectives: Vec<Objective>,
    /// Normalised text the journal fingerprint is computed from.
    pub canonical: String,
}

impl SweepSpec {
    pub fn load(path: &FsPath) -> Result<SweepSpec, SweepError> {
        let src = xpusim_ir::memfs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
        let dir = path.parent().map(FsPath::to_path_buf).unwrap_or_default();
        SweepSpec::parse(&path.display().to_string(), &src, &dir)
    }

    /// Parses `src`; a `base` that is a path is resolved against `dir`.
    pub fn parse(file: &str, src: &str, dir: &FsPath) -> Result<SweepSpec, SweepError> {
        let spec_err = |msg: String| SweepError::Spec {
            file: file.to_string(),
            msg,
        };
        let raw: Raw =
            toml::from_str(src).map_err(|e| spec_err(e.to_string().trim().replace('\n', " | ")))?;
        let (hw, base_value) =
            load_base(&raw.base, dir).map_err(|m| spec_err(format!("base `{}`: {m}", raw.base)))?;
        let system = matches!(hw, Hardware::System(_));
        let base = hw.device().clone();
        let scaling = match raw.scaling.as_deref() {
            None | Some("none") => Scaling::None,
            Some("physical") => Scaling::Physical,
            Some(s) => {
                return Err(spec_err(format!(
                    "scaling = `{s}`: expected \"none\" or \"physical\""
                )))
            }
        };
        let mut axes = Vec::new();
        for a in &raw.axis {
            let axis_err = |msg: String| SweepError::Axis {
                file: file.to_string(),
                path: a.path.clone(),
                msg,
            };
            let mut ax = a.resolve().map_err(axis_err)?;
            // Values as the device will hold them (a range over `cores` becomes integers),
            // so that results show what was evaluated.
            let old = ax.path.get(&base_value).cloned();
            for v in ax.values.iter_mut() {
                *v = crate::axis::coerce(old.as_ref(), v);
            }
            if axes.iter().any(|b: &Axis| b.path == ax.path) {
                return Err(axis_err("appears twice".into()));
            }
            // Each value alone must fit the schema: a bad path or type fails here, once,
            // rather than in every point.
            for v in &ax.values {
                let mut doc = base_value.clone();
                ax.path.set(&mut doc, v).map_err(axis_err)?;
                let fits = if system {
                    doc.try_into::<xpusim_hw::SystemSpec>().map(|_| ())
                } else {
                    doc.try_into::<DeviceSpec>().map(|_| ())
                };
                fits.map_err(|e| {
                    axis_err(format!(
                        "value {}: {}",
                        crate::axis::render(v),
                        e.to_string().trim()
                    ))
                })?;
            }
            axes.push(ax);
        }
        // Point indices are u64 and every point is journalled: refuse a space no run could
        // finish before its indices overflow.
        axes.iter()
            .try_fold(1u64, |n, a: &Axis| n.checked_mul(a.values.len() as u64))
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                spec_err(format!(
                    "the axes multiply to more than {MAX_POINTS} design points (at ~10³ \
                     points/s per core that is decades); narrow an axis"
                ))
            })?;
        let workloads = if raw.workload.is_empty() {
            WorkloadSpec::era_suite()
        } else {
            raw.workload.clone()
        };
        for w in &workloads {
            w.build(base.natural_dtype)
                .map_err(|msg| SweepError::Workload {
                    file: file.to_string(),
                    workload: w.model.clone(),
                    msg,
                })?;
        }
        let objectives = if raw.objectives.is_empty() {
            vec![Objective::Throughput, Objective::Energy]
        } else {
            Objective::parse_list(&raw.objectives.join(","))
                .map_err(|m| spec_err(format!("objectives: {m}")))?
        };
        let canonical = format!(
            "base={}\nscaling={:?}\naxes={}\nworkloads={:?}\nversion={}",
            toml::to_string(&base_value).unwrap_or_default(),
            scaling,
            axes.iter()
                .map(|a| format!(
                    "{}={:?}",
                    a.path.text,
                    a.values.iter().map(crate::axis::render).collect::<Vec<_>>()
                ))
                .collect::<Vec<_>>()
                .join(";"),
            workloads,
            env!("CARGO_PKG_VERSION"),
        );
        Ok(SweepSpec {
            file: file.to_string(),
            name: raw.name.unwrap_or_else(|| "sweep".into()),
            base,
            system,
            base_value,
            scaling,
            axes,
            workloads,
            objectives,
            canonical,
        })
    }

    /// Number of design points (product of the axis lengths; 1 with no axes; at most
    /// [`MAX_POINTS`], checked when the spec loads).
    pub fn points(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// Value index on every axis of point `index`; the last axis varies fastest.
    pub fn coords(&self, mut index: u64) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            c[i] = (index % n) as usize;
            index /= n;
        }
        c
    }

    /// 64-bit FNV-1a of the canonical spec: a journal written for another spec (or another
    /// xpusim version) is refused instead of silently mixed in.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.canonical.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// The base design and the TOML value the axes edit: a device's own table, or a system's
/// with its device and PIM memory inlined.
fn load_base(base: &str, dir: &FsPath) -> Result<(Hardware, Value), String> {
    // An in-memory file (a dict from Python) is named as it was registered, not relative
    // to the spec's folder.
    let p: PathBuf = if xpusim_ir::memfs::get(base).is_some() {
        PathBuf::from(base)
    } else {
        dir.join(base)
    };
    let name = if base.ends_with(".toml") || xpusim_ir::memfs::is_file(&p) {
        p.display().to_string()
    } else {
        base.to_string()
    };
    let hw = xpusim_hw::load_hardware(&name).map_err(|e| e.to_string())?;
    let value = match &hw {
        Hardware::Device(d) => Value::try_from(d),
        Hardware::System(s) => Value::try_from(inlined(s)),
    }
    .map_err(|e| format!("cannot edit: {e}"))?;
    Ok((hw, value))
}

/// A system's spec with its resolved device and PIM memory written inline.
fn inlined(s: &System) -> xpusim_hw::SystemSpec {
    let mut spec = s.spec.clone();
    spec.device = Component::Inline(Box::new(s.device.clone()));
    if let (Some(a), Some(p)) = (spec.pim.as_mut(), &s.pim) {
        a.device = Component::Inline(Box::new(p.spec.clone()));
    }
    spec
}
