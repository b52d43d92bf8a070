//! The same design built at another process node.

use serde::Serialize;
use xpusim_hw::{DeviceSpec, Scope};

use crate::{CostData, CostError};

/// How the design point moves between nodes (the foundry quotes both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// Same clock; energy per operation (and idle power) scales with the node's power
    /// factor. TDP is kept, so an older node may now hit its power cap.
    IsoSpeed,
    /// Same energy per second; clock, peak rates and on-chip bandwidths scale with the
    /// node's speed factor, energy per operation by its inverse.
    IsoPower,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recosted {
    #[serde(skip)]
    pub spec: DeviceSpec,
    pub from_nm: f64,
    pub to_nm: f64,
    pub scaling: Scaling,
    /// New die area / old.
    pub area_factor: f64,
    /// New energy per operation / old.
    pub energy_factor: f64,
    /// New clock / old.
    pub clock_factor: f64,
    pub exceeds_reticle: bool,
}

/// Re-targets `dev` at `to_nm`: die area (each block by its own density, see
/// [`CostData::area_factor`]), energies, idle power and (iso-power) clock and
/// on-chip rates change by the cited node factors; off-chip memory is untouched, the list
/// price is dropped (a price does not transfer) so costing falls back to the margin model.
pub fn recost(
    dev: &DeviceSpec,
    to_nm: f64,
    scaling: Scaling,
    data: &CostData,
) -> Result<Recosted, CostError> {
    let from = dev.process_node_nm.ok_or_else(|| CostError::MissingField {
        device: dev.name.clone(),
        field: "process_node_nm".into(),
    })?;
    let area = dev.die_area_mm2.ok_or_else(|| CostError::MissingField {
        device: dev.name.clone(),
        field: "die_area_mm2".into(),
    })?;
    let to = data.node(to_nm)?.nm;
    let f = data.factors(from, to)?;
    let af = data.area_factor(from, to)?;
    let (energy, clock) = match scaling {
        Scaling::IsoSpeed => (f.power, 1.0),
        Scaling::IsoPower => (1.0 / f.speed, f.speed),
    };
    let mut s = dev.clone();
    s.name = format!("{}@{}nm", dev.name, to);
    s.display_name = format!(
        "{} (re-costed at {} nm, {:?})",
        dev.display_name, to, scaling
    );
    s.aliases.clear();
    s.process_node_nm = Some(to);
    s.die_area_mm2 = Some(area * af);
    s.price_usd = None;
    s.clock_ghz *= clock;
    for v in s.matrix.peak_tflops.values_mut() {
        *v *= clock;
    }
    for v in s.vector.peak_tflops.values_mut() {
        *v *= clock;
    }
    for v in s.energy.mac_pj.values_mut() {
        *v *= energy;
    }
    s.energy.vector_flop_pj *= energy;
    for m in s.memory.iter_mut().filter(|m| m.scope != Scope::Offchip) {
        m.bandwidth_gbps *= clock;
        m.energy_pj_per_byte *= energy;
    }
    if scaling == Scaling::IsoSpeed {
        s.power.idle_w = (s.power.idle_w * energy).min(s.power.tdp_w);
    }
    s.sources.insert(
        "recost".into(),
        format!(
            "re-costed from {from} nm to {to} nm ({scaling:?}) with the node factors of xpusim-cost/data/cost.toml"
        ),
    );
    Ok(Recosted {
        exceeds_reticle: area * af > data.wafer.reticle_mm2,
        spec: s,
        from_nm: from,
        to_nm: to,
        scaling,
        area_factor: af,
        energy_factor: energy,
        clock_factor: clock,
    })
}
