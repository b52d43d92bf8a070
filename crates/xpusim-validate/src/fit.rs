//! Fitting achievable-efficiency curves from measured kernel rows.
//!
//! For each kernel row on the device, the analytical model (without curves) predicts a
//! work time `w` (compute or traffic, whichever binds) plus a fixed time `f` (launch and
//! first-byte latency as the row's timing sees them). The measurement `t` implies the
//! multiplier `w / (t − f)` that would make the prediction exact. Rows whose measured
//! time is mostly fixed overhead (`t − f < MIN_WORK_SHARE · t`) say nothing about
//! efficiency and are left out. Multipliers are grouped per family into bins of
//! [`BINS_PER_DECADE`] per decade of size; each bin contributes one point (geometric mean
//! size, median multiplier), so no single row is matched exactly and the curve is a
//! smooth table of what the hardware achieves, as Calculon and LLMCompass tabulate it.

use std::collections::BTreeMap;

use xpusim_hw::calibration::MAX_MULTIPLIER;
use xpusim_hw::{CalibrationCurve, CalibrationFamily, DeviceSpec};

use crate::data::Row;
use crate::predict::{kernel_time_from, Predictor};
use crate::report::median;

/// Size bins per factor of 10.
pub const BINS_PER_DECADE: f64 = 2.0;
/// Smallest share of a measured time that must be work (not fixed overhead) for a row to
/// inform the fit.
pub const MIN_WORK_SHARE: f64 = 0.02;
/// Smallest multiplier a fit may produce: below 1 % of the analytical rate the base model
/// itself is wrong for that op, which a curve should not hide.
pub const MIN_MULTIPLIER: f64 = 0.01;

/// A curve's identity: family, and the op it is narrowed to.
type CurveKey = (CalibrationFamily, Option<String>);

/// Fewest rows of one operator for it to get its own curve.
pub const MIN_OP_ROWS: usize = 8;

/// What one fit did.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub curves: Vec<CalibrationCurve>,
    /// Rows that informed a curve.
    pub used: usize,
    /// Rows on the device that could not inform a curve, with why.
    pub ignored: Vec<(String, String)>,
}

/// Fits curves for `dev` from the kernel rows of `rows` whose hardware is `dev`.
/// `only_marked`: use only rows with `used_for_calibration = yes`.
pub fn fit(rows: &[Row], dev: &DeviceSpec, only_marked: bool, source: &str) -> Fit {
    let mut p = Predictor::default();
    p.override_device = Some(dev.clone());
    p.uncalibrated = true;
    let mut samples: BTreeMap<CurveKey, Vec<(f64, f64)>> = BTreeMap::new();
    let mut ignored = Vec::new();
    let mut used = 0;
    for r in rows {
        if (only_marked && !r.used_for_calibration) || r.phase != "kernel" {
            continue;
        }
        if p.device(&r.hardware).map(|d| d.name) != Ok(dev.name.clone()) {
            continue;
        }
        let k = match p.predict(r) {
            Ok(pr) => match pr.kernel {
                Some(k) => k,
                None => continue,
            },
            Err(e) => {
                ignored.push((r.id.clone(), e));
                continue;
            }
        };
        let Some(family) = k.family else {
            ignored.push((r.id.clone(), "no calibration family".into()));
            continue;
        };
        let replicas_ok = r.devices == 1;
        let Some(t) =
            kernel_time_from(&r.metric, r.value, k.flops, k.bytes).filter(|_| replicas_ok)
        else {
            ignored.push((r.id.clone(), "needs a single-device time metric".into()));
            continue;
        };
        let work = t - k.fixed_s;
        if work < MIN_WORK_SHARE * t || k.work_s <= 0.0 {
            ignored.push((
                r.id.clone(),
                "measured time is mostly fixed overhead".into(),
            ));
            continue;
        }
        let e = (k.work_s / work).clamp(MIN_MULTIPLIER, MAX_MULTIPLIER);
        let point = (k.size.max(1.0), e);
        samples.entry((family, None)).or_default().push(point);
        if k.op.is_some() {
            samples
                .entry((family, k.op.clone()))
                .or_default()
                .push(point);
        }
        used += 1;
    }
    // An op-specific curve only when its rows differ from the family's as a whole: the
    // family curve is enough otherwise.
    let family_pts: BTreeMap<CalibrationFamily, Vec<[f64; 2]>> = samples
        .iter()
        .filter(|((_, op), _)| op.is_none())
        .map(|((f, _), v)| (*f, bin(v)))
        .collect();
    let curves = samples
        .into_iter()
        .filter(|((f, op), v)| {
            op.is_none() || (v.len() >= MIN_OP_ROWS && Some(&bin(v)) != family_pts.get(f))
        })
        .map(|((family, op), v)| CalibrationCurve {
            family,
            points: bin(&v),
            source: format!(
                "{source}: {} rows, median multiplier per {BINS_PER_DECADE} bins per decade of {}",
                v.len(),
                family.size_unit()
            ),
            op,
        })
        .collect();
    Fit {
        curves,
        used,
        ignored,
    }
}

fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = digits - 1 - x.abs().log10().floor() as i32;
    // Dividing by an exact power of ten (not multiplying by an inexact 1e-k) keeps the
    // printed value short.
    if e >= 0 {
        let m = 10f64.powi(e);
        (x * m).round() / m
    } else {
        let m = 10f64.powi(-e);
        (x / m).round() * m
    }
}

/// One (geometric-mean size, median multiplier) point per log-size bin.
fn bin(samples: &[(f64, f64)]) -> Vec<[f64; 2]> {
    let mut bins: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
    for &(s, e) in samples {
        bins.entry((s.log10() * BINS_PER_DECADE).floor() as i64)
            .or_default()
            .push((s, e));
    }
    let mut pts: Vec<[f64; 2]> = Vec::new();
    for v in bins.values() {
        let size = (v.iter().map(|x| x.0.ln()).sum::<f64>() / v.len() as f64).exp();
        let mut es: Vec<f64> = v.iter().map(|x| x.1).collect();
        es.sort_by(f64::total_cmp);
        let e = median(&es).unwrap_or(1.0);
        let size = round_sig(size, 3);
        if pts.last().is_none_or(|l| size > l[0]) {
            pts.push([size, round_sig(e, 3)]);
        }
    }
    pts
}

/// The curves as a TOML snippet to paste into a device file.
pub fn to_toml(curves: &[CalibrationCurve]) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        calibration: &'a [CalibrationCurve],
    }
    toml::to_string(&Doc {
        calibration: curves,
    })
    .unwrap_or_default()
}

/// `device_toml` with its `[[calibration]]` tables replaced by `curves`.
pub fn replace_in_device(device_toml: &str, curves: &[CalibrationCurve]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = device_toml.parse().map_err(|e| format!("{e}"))?;
    doc.remove("calibration");
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out += &to_toml(curves);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_take_the_median_per_half_decade() {
        let pts = bin(&[(1e3, 0.5), (2e3, 0.7), (2.5e3, 0.9), (1e6, 1.0)]);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0][1], 0.7);
        assert_eq!(pts[1], [1e6, 1.0]);
    }

    #[test]
    fn rounding_keeps_three_significant_digits() {
        assert_eq!(round_sig(123456.0, 3), 123000.0);
        assert_eq!(round_sig(0.012345, 3), 0.0123);
    }
}
