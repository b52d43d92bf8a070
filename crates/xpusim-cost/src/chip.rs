//! Manufacturing cost of one packaged chip.

use serde::Serialize;
use xpusim_hw::DeviceSpec;

use crate::die::{dies_per_wafer, YieldModel};
use crate::{CostData, CostError};

/// Bytes per marketed GB of HBM: stacks are sold in binary gigabytes (an "80 GB" H100
/// has 80 × 2³⁰ bytes).
const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

/// Overrides of the cited defaults (None: use `data/cost.toml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostOverrides {
    pub yield_model: Option<YieldModel>,
    pub wafer_usd: Option<f64>,
    pub d0_per_cm2: Option<f64>,
    pub memory_usd_per_gb: Option<f64>,
    pub packaging_usd: Option<f64>,
    pub test_usd: Option<f64>,
}

/// Where a chip's manufacturing cost goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChipCost {
    pub device: String,
    pub node: String,
    pub die_area_mm2: f64,
    /// The die is larger than one exposure field and could not be made as one die.
    pub exceeds_reticle: bool,
    pub wafer_usd: f64,
    pub d0_per_cm2: f64,
    pub yield_model: String,
    pub dies_per_wafer: f64,
    pub die_yield: f64,
    pub good_dies_per_wafer: f64,
    pub die_usd: f64,
    pub memory_gb: f64,
    pub memory_usd_per_gb: f64,
    pub memory_usd: f64,
    pub packaging_usd: f64,
    pub test_usd: f64,
    pub total_usd: f64,
}

/// Cost = wafer price / good dies + off-chip memory + packaging + test.
///
/// Off-chip memory is priced per GB by generation when it sits in the package (HBM); the
/// package is then CoWoS-S. Anything else needs an explicit memory price and packaging
/// cost. Die harvesting (selling dies with a few cores disabled) is not modelled, so big
/// dies are costed as if every defect killed the die — an upper bound.
pub fn chip_cost(
    dev: &DeviceSpec,
    data: &CostData,
    o: &CostOverrides,
) -> Result<ChipCost, CostError> {
    let missing = |f: &str| CostError::MissingField {
        device: dev.name.clone(),
        field: f.to_string(),
    };
    let area = dev.die_area_mm2.ok_or_else(|| missing("die_area_mm2"))?;
    let nm = dev
        .process_node_nm
        .ok_or_else(|| missing("process_node_nm"))?;
    positive(&format!("device `{}`: die_area_mm2", dev.name), area)?;
    let node = data.node(nm)?;
    let yield_model = o.yield_model.unwrap_or(YieldModel::Murphy);
    if let YieldModel::NegativeBinomial { alpha } = yield_model {
        positive("negative-binomial alpha", alpha)?;
    }
    let wafer_usd = o.wafer_usd.unwrap_or(node.wafer_usd);
    let d0 = o.d0_per_cm2.unwrap_or(node.d0_per_cm2);
    positive("wafer price", wafer_usd)?;
    if !(d0.is_finite() && d0 >= 0.0) {
        return Err(invalid("defect density", d0));
    }
    let dpw = dies_per_wafer(data.wafer.diameter_mm, area);
    let y = yield_model.die_yield(area, d0);
    let good = dpw * y;
    if good <= 0.0 {
        return Err(CostError::Invalid {
            what: format!("device `{}`", dev.name),
            msg: format!(
                "a {area} mm² die yields no good dies on a {} mm wafer",
                data.wafer.diameter_mm
            ),
        });
    }
    let mem = dev.offchip();
    let gb = mem.capacity_bytes as f64 / BYTES_PER_GB;
    let price = data.memory_price(&mem.name);
    let per_gb = match (o.memory_usd_per_gb, price) {
        (Some(p), _) => p,
        (None, Some(p)) => p.usd_per_gb,
        (None, None) => {
            return Err(CostError::UnknownMemory {
                device: dev.name.clone(),
                level: mem.name.clone(),
                known: data.memory.iter().map(|m| m.generation.clone()).collect(),
            })
        }
    };
    let is_hbm = mem.name.to_ascii_lowercase().starts_with("hbm");
    let packaging = match (o.packaging_usd, is_hbm) {
        (Some(p), _) => p,
        (None, true) => data.package.cowos_usd,
        (None, false) => {
            return Err(CostError::UnknownPackage {
                device: dev.name.clone(),
            })
        }
    };
    let test = o.test_usd.unwrap_or(data.package.test_assembly_usd);
    let die_usd = wafer_usd / good;
    let memory_usd = gb * per_gb;
    Ok(ChipCost {
        device: dev.name.clone(),
        node: node.name.clone(),
        die_area_mm2: area,
        exceeds_reticle: area > data.wafer.reticle_mm2,
        wafer_usd,
        d0_per_cm2: d0,
        yield_model: yield_model.name(),
        dies_per_wafer: dpw,
        die_yield: y,
        good_dies_per_wafer: good,
        die_usd,
        memory_gb: gb,
        memory_usd_per_gb: per_gb,
        memory_usd,
        packaging_usd: packaging,
        test_usd: test,
        total_usd: die_usd + memory_usd + packaging + test,
    })
}

fn invalid(what: &str, v: f64) -> CostError {
    CostError::Invalid {
        what: what.to_string(),
        msg: format!("expected a positive finite number, got {v}"),
    }
}

pub(crate) fn positive(what: &str, v: f64) -> Result<(), CostError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(what, v))
    }
}
