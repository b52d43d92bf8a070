//! Total cost of ownership over a service life, and the price of a unit of work.

use serde::Serialize;

use crate::chip::positive;
use crate::{CostData, CostError};

const HOURS_PER_YEAR: f64 = 365.25 * 24.0;
const SECONDS_PER_YEAR: f64 = HOURS_PER_YEAR * 3600.0;

/// Ownership assumptions; [`TcoParams::defaults`] takes the cited values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcoParams {
    pub usd_per_kwh: f64,
    /// Facility power / IT power.
    pub pue: f64,
    /// Colocation rent per provisioned kW (the device's TDP) per month.
    pub hosting_usd_per_kw_month: f64,
    pub life_years: f64,
    /// Margin used to turn a manufacturing cost into a price when no price is known.
    pub gross_margin: f64,
    /// Fraction of the service life the device is busy with the workload (idle otherwise).
    pub duty: f64,
}

impl TcoParams {
    /// The cited defaults from the cost data, fully busy (`duty = 1`).
    pub fn defaults(data: &CostData) -> TcoParams {
        TcoParams {
            usd_per_kwh: data.tco.usd_per_kwh,
            pue: data.tco.pue,
            hosting_usd_per_kw_month: data.tco.hosting_usd_per_kw_month,
            life_years: data.tco.life_years,
            gross_margin: data.tco.gross_margin,
            duty: 1.0,
        }
    }

    fn check(&self) -> Result<(), CostError> {
        positive("usd_per_kwh", self.usd_per_kwh)?;
        positive("life_years", self.life_years)?;
        positive("hosting_usd_per_kw_month", self.hosting_usd_per_kw_month)?;
        let frac = |what: &str, v: f64, lo_open: bool| {
            let ok = v.is_finite() && v <= 1.0 && if lo_open { v > 0.0 } else { v >= 0.0 };
            if ok {
                Ok(())
            } else {
                Err(CostError::Invalid {
                    what: what.to_string(),
                    msg: format!("expected a fraction, got {v}"),
                })
            }
        };
        frac("duty", self.duty, true)?;
        frac("gross_margin", self.gross_margin, false)?;
        if !(self.pue.is_finite() && self.pue >= 1.0) {
            return Err(CostError::Invalid {
                what: "pue".into(),
                msg: format!("expected ≥ 1, got {}", self.pue),
            });
        }
        Ok(())
    }
}

/// What a device does while busy: from an engine result (`throughput_per_s`,
/// `tokens_per_s`, and `energy_j / latency_s` as the average power).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorkRate {
    pub samples_per_s: f64,
    /// None for workloads without tokens (CNNs).
    pub tokens_per_s: Option<f64>,
    pub avg_power_w: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tco {
    pub chip_price_usd: f64,
    /// "list price" or "cost / (1 - margin)".
    pub price_basis: String,
    pub energy_kwh: f64,
    pub energy_usd: f64,
    pub hosting_usd: f64,
    pub total_usd: f64,
    pub usd_per_hour: f64,
    pub usd_per_million_samples: f64,
    pub usd_per_million_tokens: Option<f64>,
}

/// TCO = price + energy (busy at the workload's average power, idle otherwise, × PUE, at
/// the electricity price) + hosting (rent per provisioned kW of TDP); the price of work is
/// TCO divided by what the device completes over its life.
pub fn tco(
    price_usd: Option<f64>,
    cost_usd: f64,
    tdp_w: f64,
    idle_w: f64,
    rate: WorkRate,
    p: &TcoParams,
) -> Result<Tco, CostError> {
    p.check()?;
    positive("samples per second", rate.samples_per_s)?;
    let (price, basis) = match price_usd {
        Some(v) => (v, "list price".to_string()),
        None => (
            cost_usd / (1.0 - p.gross_margin),
            format!("cost / (1 - {} margin)", p.gross_margin),
        ),
    };
    let hours = p.life_years * HOURS_PER_YEAR;
    let avg_w = p.duty * rate.avg_power_w + (1.0 - p.duty) * idle_w;
    let energy_kwh = avg_w * hours / 1000.0 * p.pue;
    let energy_usd = energy_kwh * p.usd_per_kwh;
    let hosting_usd = tdp_w / 1000.0 * p.hosting_usd_per_kw_month * 12.0 * p.life_years;
    let total = price + energy_usd + hosting_usd;
    let busy_s = p.life_years * SECONDS_PER_YEAR * p.duty;
    Ok(Tco {
        chip_price_usd: price,
        price_basis: basis,
        energy_kwh,
        energy_usd,
        hosting_usd,
        total_usd: total,
        usd_per_hour: total / hours,
        usd_per_million_samples: total / (rate.samples_per_s * busy_s) * 1e6,
        usd_per_million_tokens: rate
            .tokens_per_s
            .filter(|t| *t > 0.0)
            .map(|t| total / (t * busy_s) * 1e6),
    })
}
