//! Deriving a device's sustained matrix efficiency (`[matrix] efficiency`) from its flagged
//! GEMM rows, so the preset constant is a function of rows marked
//! `used_for_calibration = yes` and never of rows that are scored.
//!
//! The rule: over the device's kernel rows marked `used_for_calibration = yes` whose op is
//! a matrix multiply of at least [`MIN_GEMM_FLOPS`], predicted by the analytical model with
//! the device's calibration curves dropped, the efficiency at which the median of
//! predicted / measured time is 1, rounded to [`DECIMALS`] decimals. Prediction time never
//! increases with efficiency (the engine's property tests), so the median ratio is
//! monotone in it and bisection finds the root.
//!
//! With a number format (`--dtype fp8`), the rule runs over the flagged GEMMs the matrix
//! unit runs in that format and sets `[matrix] efficiency_by_format` for it; without one, over
//! the flagged GEMMs in formats that have no entry there, and sets `efficiency`.

use xpusim_hw::{CalibrationFamily, DeviceSpec};
use xpusim_ir::{DType, Precision};

use crate::data::Row;
use crate::predict::{kernel_time_from, Predictor};
use crate::report::median;

/// Smallest GEMM (FLOPs) whose time informs the efficiency: below it launch and memory
/// terms, not the matrix units, set the time.
pub const MIN_GEMM_FLOPS: f64 = 1e9;
/// Decimals the derived efficiency is rounded to (as the presets write it).
pub const DECIMALS: i32 = 2;
/// Range the bisection searches.
const LO: f64 = 0.01;
const HI: f64 = 1.0;
/// Bisection steps: (HI − LO) / 2^30 is far below the rounding.
const STEPS: usize = 30;

/// What the rule gave.
#[derive(Debug, Clone, PartialEq)]
pub struct EfficiencyFit {
    /// The efficiency, rounded to [`DECIMALS`] decimals.
    pub efficiency: f64,
    /// Before rounding.
    pub exact: f64,
    /// Ids of the rows it came from.
    pub rows: Vec<String>,
}

/// The efficiency the rule ([module doc](self)) gives for `dev` from `rows` (rows of other
/// devices are ignored), for contractions in `format` (`None`: the formats without their own
/// entry). `Err` says why there is none: no flagged GEMM of the size, or no efficiency in
/// (0, 1] that brings the median ratio to 1.
pub fn matrix_efficiency(
    rows: &[Row],
    dev: &DeviceSpec,
    format: Option<DType>,
) -> Result<EfficiencyFit, String> {
    // The format the matrix unit runs a row in, as the engine resolves it.
    let runs_in = |r: &Row| {
        Precision::parse(&r.precision, dev.natural_dtype)
            .ok()
            .map(|p| dev.matrix_flops(p.compute).1)
    };
    let wanted = |r: &Row| match (format, runs_in(r)) {
        (Some(f), Some(d)) => d == f,
        (None, Some(d)) => !dev.matrix.efficiency_by_format.contains_key(&d),
        (_, None) => false,
    };
    let mut p = Predictor::default();
    p.override_device = Some(dev.clone());
    p.uncalibrated = true;
    let mut gemms: Vec<&Row> = Vec::new();
    for r in rows {
        if !r.used_for_calibration || r.phase != "kernel" || r.devices != 1 || !wanted(r) {
            continue;
        }
        if p.device(&r.hardware).map(|d| d.name) != Ok(dev.name.clone()) {
            continue;
        }
        let Ok(pr) = p.predict(r) else { continue };
        let Some(k) = pr.kernel else { continue };
        if k.family == Some(CalibrationFamily::Matmul)
            && k.flops >= MIN_GEMM_FLOPS
            && kernel_time_from(&r.metric, r.value, k.flops, k.bytes).is_some()
        {
            gemms.push(r);
        }
    }
    if gemms.is_empty() {
        let what = format.map_or(String::new(), |f| format!(" run in {f}"));
        return Err(format!(
            "no row of `{}` marked used_for_calibration=yes is a GEMM{what} of at least {MIN_GEMM_FLOPS:e} FLOPs",
            dev.name
        ));
    }
    // Median predicted / measured time at efficiency `e`, minus 1.
    let mut excess = |e: f64| -> f64 {
        let mut d = dev.clone();
        match format {
            Some(f) => {
                d.matrix.efficiency_by_format.insert(f, e);
            }
            None => d.matrix.efficiency = e,
        }
        p.override_device = Some(d);
        let mut ratios: Vec<f64> = gemms
            .iter()
            .filter_map(|r| {
                let pr = p.predict(r).ok()?;
                let k = pr.kernel?;
                let predicted = kernel_time_from(&r.metric, pr.value, k.flops, k.bytes)?;
                let measured = kernel_time_from(&r.metric, r.value, k.flops, k.bytes)?;
                Some(predicted / measured)
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        median(&ratios).map_or(f64::NAN, |m| m - 1.0)
    };
    let (mut lo, mut hi) = (LO, HI);
    let (f_lo, f_hi) = (excess(lo), excess(hi));
    if !(f_lo >= 0.0 && f_hi <= 0.0) {
        return Err(format!(
            "`{}`: no matrix efficiency in [{LO}, {HI}] brings the median predicted / measured \
             time of its {} flagged GEMMs to 1 (median ratio {:.3} at {LO}, {:.3} at {HI})",
            dev.name,
            gemms.len(),
            f_lo + 1.0,
            f_hi + 1.0
        ));
    }
    for _ in 0..STEPS {
        let mid = 0.5 * (lo + hi);
        if excess(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let exact = 0.5 * (lo + hi);
    let m = 10f64.powi(DECIMALS);
    Ok(EfficiencyFit {
        efficiency: (exact * m).round() / m,
        exact,
        rows: gemms.iter().map(|r| r.id.clone()).collect(),
    })
}
