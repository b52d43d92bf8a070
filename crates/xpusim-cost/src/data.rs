//! The embedded cost data (`data/cost.toml`), parsed and checked once.
//!
//! Every number in the file must carry a citation in its table's `sources`; the loader
//! rejects a value without one, so a new node or price cannot slip in uncited.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::CostError;

const FILE: &str = "xpusim-cost/data/cost.toml";
const SRC: &str = include_str!("../data/cost.toml");

/// One process node. Density, power and speed factors are versus `relative_to` (the
/// foundry's own "this node vs the previous one" claims); the oldest node has none.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub nm: f64,
    /// Other names of the same node class (12 for 16FF+-derived 12FFN).
    #[serde(default)]
    pub also_nm: Vec<f64>,
    pub name: String,
    /// Foundry sale price of one processed 300 mm wafer, USD.
    pub wafer_usd: f64,
    /// Random defect density, defects per cm².
    pub d0_per_cm2: f64,
    pub relative_to: Option<f64>,
    pub logic_density: Option<f64>,
    pub sram_density: Option<f64>,
    pub analog_density: Option<f64>,
    /// Power at the same clock, relative to `relative_to` (< 1: lower power).
    pub power_iso_speed: Option<f64>,
    /// Clock at the same power, relative to `relative_to` (> 1: faster).
    pub speed_iso_power: Option<f64>,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

/// Off-chip memory price by generation (matched as a prefix of the level's name).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryPrice {
    pub generation: String,
    pub usd_per_gb: f64,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wafer {
    pub diameter_mm: f64,
    /// Largest die a scanner can print in one exposure, mm².
    pub reticle_mm2: f64,
    /// Cluster parameter of the negative-binomial yield model.
    pub negative_binomial_alpha: f64,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

/// Fractions of a die that are logic, SRAM and analog/IO (they scale differently), as laid
/// out at node `reference_nm`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct DieMix {
    pub reference_nm: f64,
    pub logic: f64,
    pub sram: f64,
    pub analog: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct DieMixTable {
    reference_nm: f64,
    logic: f64,
    sram: f64,
    analog: f64,
    #[serde(default)]
    unverified: Vec<String>,
    sources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// CoWoS-S interposer packaging of one HBM package, USD.
    pub cowos_usd: f64,
    /// Final test and assembly of one package, USD.
    pub test_assembly_usd: f64,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

/// Defaults of the ownership model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcoDefaults {
    pub usd_per_kwh: f64,
    pub pue: f64,
    pub hosting_usd_per_kw_month: f64,
    pub life_years: f64,
    pub gross_margin: f64,
    #[serde(default)]
    pub unverified: Vec<String>,
    pub sources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    node: Vec<Node>,
    wafer: Wafer,
    die_mix: DieMixTable,
    memory: Vec<MemoryPrice>,
    package: Package,
    tco: TcoDefaults,
}

/// All cost data.
#[derive(Debug, Clone, PartialEq)]
pub struct CostData {
    pub nodes: Vec<Node>,
    pub wafer: Wafer,
    pub die_mix: DieMix,
    pub memory: Vec<MemoryPrice>,
    pub package: Package,
    pub tco: TcoDefaults,
}

/// The embedded data, parsed on first use.
pub fn builtin() -> Result<&'static CostData, CostError> {
    static DATA: OnceLock<Result<CostData, CostError>> = OnceLock::new();
    DATA.get_or_init(|| CostData::parse(FILE, SRC))
        .as_ref()
        .map_err(Clone::clone)
}

impl CostData {
    /// Parses cost data; every numeric field must be positive and cited.
    pub fn parse(file: &str, src: &str) -> Result<CostData, CostError> {
        let err = |msg: String| CostError::Data {
            file: file.to_string(),
            msg,
        };
        let raw: Raw = toml::from_str(src).map_err(|e| err(e.to_string().replace('\n', " ")))?;
        let cited = |what: &str, fields: &[(&str, Option<f64>)], src: &BTreeMap<String, String>| {
            for (f, v) in fields {
                let Some(v) = v else { continue };
                if !(v.is_finite() && *v > 0.0) {
                    return Err(err(format!(
                        "{what}.{f}: expected a positive number, got {v}"
                    )));
                }
                if !src.contains_key(*f) {
                    return Err(err(format!(
                        "{what}.{f}: value has no entry in its sources table"
                    )));
                }
            }
            Ok(())
        };
        for n in &raw.node {
            let what = format!("node {}", n.name);
            cited(
                &what,
                &[
                    ("wafer_usd", Some(n.wafer_usd)),
                    ("d0_per_cm2", Some(n.d0_per_cm2)),
                    ("logic_density", n.logic_density),
                    ("sram_density", n.sram_density),
                    ("analog_density", n.analog_density),
                    ("power_iso_speed", n.power_iso_speed),
                    ("speed_iso_power", n.speed_iso_power),
                ],
                &n.sources,
            )?;
            if !n.also_nm.is_empty() && !n.sources.contains_key("also_nm") {
                return Err(err(format!(
                    "{what}.also_nm: value has no entry in its sources table"
                )));
            }
            let factors = [
                n.logic_density,
                n.sram_density,
                n.analog_density,
                n.power_iso_speed,
                n.speed_iso_power,
            ];
            let listed = |r: f64| raw.node.iter().any(|m| m.nm == r);
            match n.relative_to {
                Some(r) if !listed(r) => {
                    return Err(err(format!(
                        "{what}: relative_to = {r} is not a listed node"
                    )))
                }
                Some(_) if factors.iter().any(Option::is_none) => {
                    return Err(err(format!(
                        "{what}: a node with relative_to needs all five scaling factors"
                    )));
                }
                None if factors.iter().any(Option::is_some) => {
                    return Err(err(format!("{what}: scaling factors need relative_to")));
                }
                _ => {}
            }
        }
        let w = &raw.wafer;
        cited(
            "wafer",
            &[
                ("diameter_mm", Some(w.diameter_mm)),
                ("reticle_mm2", Some(w.reticle_mm2)),
                ("negative_binomial_alpha", Some(w.negative_binomial_alpha)),
            ],
            &w.sources,
        )?;
        let m = &raw.die_mix;
        cited(
            "die_mix",
            &[
                ("logic", Some(m.logic)),
                ("sram", Some(m.sram)),
                ("analog", Some(m.analog)),
            ],
            &m.sources,
        )?;
        if ((m.logic + m.sram + m.analog) - 1.0).abs() > 1e-9 {
            return Err(err("die_mix: logic + sram + analog must be 1".into()));
        }
        for p in &raw.memory {
            cited(
                &format!("memory {}", p.generation),
                &[("usd_per_gb", Some(p.usd_per_gb))],
                &p.sources,
            )?;
        }
        let p = &raw.package;
        cited(
            "package",
            &[
                ("cowos_usd", Some(p.cowos_usd)),
                ("test_assembly_usd", Some(p.test_assembly_usd)),
            ],
            &p.sources,
        )?;
        let t = &raw.tco;
        cited(
            "tco",
            &[
                ("usd_per_kwh", Some(t.usd_per_kwh)),
                ("pue", Some(t.pue)),
                ("hosting_usd_per_kw_month", Some(t.hosting_usd_per_kw_month)),
                ("life_years", Some(t.life_years)),
                ("gross_margin", Some(t.gross_margin)),
            ],
            &t.sources,
        )?;
        if t.gross_margin >= 1.0 {
            return Err(err("tco.gross_margin: expected a fraction below 1".into()));
        }
        let data = CostData {
            nodes: raw.node,
            wafer: raw.wafer,
            die_mix: DieMix {
                reference_nm: m.reference_nm,
                logic: m.logic,
                sram: m.sram,
                analog: m.analog,
            },
            memory: raw.memory,
            package: raw.package,
            tco: raw.tco,
        };
        for n in &data.nodes {
            data.chain(n.nm).map_err(|e| err(e.to_string()))?;
        }
        data.node(m.reference_nm)
            .map_err(|e| err(format!("die_mix.reference_nm: {e}")))?;
        Ok(data)
    }

    /// The node whose feature size is `nm` (TSMC naming: 7, 5, 4, 3).
    pub fn node(&self, nm: f64) -> Result<&Node, CostError> {
        self.nodes
            .iter()
            .find(|n| {
                std::iter::once(n.nm)
                    .chain(n.also_nm.iter().copied())
                    .any(|x| (x - nm).abs() < 0.25)
            })
            .ok_or_else(|| CostError::UnknownNode {
                nm,
                known: self
                    .nodes
                    .iter()
                    .flat_map(|n| std::iter::once(n.nm).chain(n.also_nm.iter().copied()))
                    .map(|nm| format!("{nm} nm"))
                    .collect(),
            })
    }

    /// Cumulative factors of `nm` versus the root node (the one without `relative_to`).
    pub(crate) fn chain(&self, nm: f64) -> Result<NodeFactors, CostError> {
        let mut f = NodeFactors::ONE;
        let mut n = self.node(nm)?;
        for _ in 0..=self.nodes.len() {
            let Some(parent) = n.relative_to else {
                return Ok(f);
            };
            f.logic *= n.logic_density.unwrap_or(1.0);
            f.sram *= n.sram_density.unwrap_or(1.0);
            f.analog *= n.analog_density.unwrap_or(1.0);
            f.power *= n.power_iso_speed.unwrap_or(1.0);
            f.speed *= n.speed_iso_power.unwrap_or(1.0);
            n = self.node(parent)?;
        }
        Err(CostError::Data {
            file: FILE.into(),
            msg: format!("node {}: relative_to chain has a cycle", nm),
        })
    }

    /// Factors that take a design from node `from` to node `to` (density ratios > 1 mean
    /// the same block is smaller at `to`).
    pub fn factors(&self, from: f64, to: f64) -> Result<NodeFactors, CostError> {
        let a = self.chain(from)?;
        let b = self.chain(to)?;
        Ok(NodeFactors {
            logic: b.logic / a.logic,
            sram: b.sram / a.sram,
            analog: b.analog / a.analog,
            power: b.power / a.power,
            speed: b.speed / a.speed,
        })
    }

    /// Die area at `to` / die area at `from` for the same design: the die is split into
    /// logic, SRAM and analog as `die_mix` says it is at the reference node, and each block
    /// scales by its own density. Exact under round trips (from → to → from is 1).
    pub fn area_factor(&self, from: f64, to: f64) -> Result<f64, CostError> {
        let m = self.die_mix;
        let r = self.chain(m.reference_nm)?;
        let rel = |nm: f64| -> Result<f64, CostError> {
            let c = self.chain(nm)?;
            Ok(m.logic * r.logic / c.logic
                + m.sram * r.sram / c.sram
                + m.analog * r.analog / c.analog)
        };
        Ok(rel(to)? / rel(from)?)
    }

    /// Price per GB of the off-chip memory named `level` (longest matching generation).
    pub fn memory_price(&self, level: &str) -> Option<&MemoryPrice> {
        let l = level.to_ascii_lowercase();
        self.memory
            .iter()
            .filter(|m| l.starts_with(&m.generation))
            .max_by_key(|m| m.generation.len())
    }
}

/// Density, power and speed of one node relative to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeFactors {
    pub logic: f64,
    pub sram: f64,
    pub analog: f64,
    /// Power (= energy per operation) at the same clock.
    pub power: f64,
    /// Clock at the same power.
    pub speed: f64,
}

impl NodeFactors {
    pub const ONE: NodeFactors = NodeFactors {
        logic: 1.0,
        sram: 1.0,
        analog: 1.0,
        power: 1.0,
        speed: 1.0,
    };
}
