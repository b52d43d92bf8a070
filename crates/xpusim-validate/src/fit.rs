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

/// Largest share of a row's measured time its analytical work may take for the row to
/// count as measuring the op's fixed floor (launch, scheduling, first-wave fill).
pub const FLOOR_WORK_SHARE: f64 = 0.1;
/// Floor rows lie within this factor of the curve's smallest measured size: larger rows
/// whose analytical work is still small measure an inefficiency (a slow gather), not a floor.
pub const FLOOR_SIZE_SPAN: f64 = 10.0;
/// Fewest floor rows for a curve to get a `fixed_us`.
pub const MIN_FLOOR_ROWS: usize = 3;

/// A fitted curve before it becomes a [`CalibrationCurve`]: floor in µs, points, rows.
type FittedCurve = (Option<f64>, Vec<[f64; 2]>, usize);

/// One measured row on a curve.
#[derive(Debug, Clone)]
struct Sample {
    id: String,
    size: f64,
    /// Measured time, s.
    t: f64,
    /// Analytical work time, s.
    work_s: f64,
    /// Analytical fixed time as the row's timing sees it, s.
    fixed_s: f64,
    /// Measured time less the non-launch fixed time, in wall terms, s.
    floor_s: f64,
    /// The launch a floor replaces, s.
    launch_s: f64,
}

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
    let mut rows_by_key: BTreeMap<CurveKey, Vec<Sample>> = BTreeMap::new();
    let launch_s = dev.overhead.launch_us * 1e-6;
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
        // The fixed time this row shows beyond its non-launch latency, in wall terms. A
        // curve's floor replaces one launch in the engine's fixed time; the predictor then
        // drops one launch for kernel-timed rows, so both timings read the same.
        let floor_s = t - k.fixed_s + launch_s;
        let s = Sample {
            id: r.id.clone(),
            size: k.size.max(1.0),
            t,
            work_s: k.work_s,
            fixed_s: k.fixed_s,
            floor_s,
            launch_s,
        };
        rows_by_key
            .entry((family, None))
            .or_default()
            .push(s.clone());
        if k.op.is_some() {
            rows_by_key
                .entry((family, k.op.clone()))
                .or_default()
                .push(s);
        }
    }
    // Each curve's floor: the median fixed time of its rows whose analytical work is a
    // negligible share of the measured time; then the multiplier of each remaining row
    // with that floor in place of the launch.
    let mut used_ids = std::collections::BTreeSet::new();
    let mut fitted: BTreeMap<CurveKey, FittedCurve> = BTreeMap::new();
    for (key, v) in &rows_by_key {
        let smallest = v.iter().map(|s| s.size).fold(f64::INFINITY, f64::min);
        let is_floor =
            |s: &Sample| s.size <= smallest * FLOOR_SIZE_SPAN && s.work_s < FLOOR_WORK_SHARE * s.t;
        let mut floors: Vec<f64> = v
            .iter()
            .filter(|s| is_floor(s))
            .map(|s| s.floor_s)
            .collect();
        floors.sort_by(f64::total_cmp);
        let floor = median(&floors).filter(|_| floors.len() >= MIN_FLOOR_ROWS);
        let mut pts = Vec::new();
        for s in v {
            let fixed = match floor {
                Some(f) => s.fixed_s - s.launch_s + f,
                None => s.fixed_s,
            };
            let work = s.t - fixed;
            if floor.is_some() && is_floor(s) {
                used_ids.insert(s.id.clone());
                continue;
            }
            if work < MIN_WORK_SHARE * s.t || s.work_s <= 0.0 {
                if key.1.is_none() {
                    ignored.push((
                        s.id.clone(),
                        "measured time is mostly fixed overhead".into(),
                    ));
                }
                continue;
            }
            used_ids.insert(s.id.clone());
            pts.push((
                s.size,
                (s.work_s / work).clamp(MIN_MULTIPLIER, MAX_MULTIPLIER),
            ));
        }
        if pts.is_empty() {
            continue;
        }
        let n = v.len();
        fitted.insert(
            key.clone(),
            (floor.map(|f| round_sig(f * 1e6, 3)), bin(&pts), n),
        );
    }
    used += used_ids.len();
    // An op-specific curve only when its rows differ from the family's as a whole: the
    // family curve is enough otherwise.
    let family_fit: BTreeMap<CalibrationFamily, (Option<f64>, Vec<[f64; 2]>)> = fitted
        .iter()
        .filter(|((_, op), _)| op.is_none())
        .map(|((f, _), v)| (*f, (v.0, v.1.clone())))
        .collect();
    let curves = fitted
        .into_iter()
        .filter(|((f, op), (fixed, pts, n))| {
            op.is_none() || (*n >= MIN_OP_ROWS && Some(&(*fixed, pts.clone())) != family_fit.get(f))
        })
        .map(|((family, op), (fixed_us, points, n))| CalibrationCurve {
            family,
            points,
            source: format!(
                "{source}: {n} rows; {}median multiplier per {BINS_PER_DECADE} bins per \
                 decade of {}",
                if fixed_us.is_some() {
                    format!(
                        "fixed_us = median fixed time of the rows within {FLOOR_SIZE_SPAN}x of \
                         the smallest size whose analytical work is under {FLOOR_WORK_SHARE} of \
                         the measured time; "
                    )
                } else {
                    String::new()
                },
                family.size_unit()
            ),
            fixed_us,
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
    fn tiny_rows_fix_the_floor_and_larger_rows_the_multiplier() {
        let head = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,used_for_calibration";
        let mut text = format!("{head}\n");
        // Flat 2 µs for 1–16 k elements (work of a few ns): the floor.
        for (i, e) in [1024u64, 2048, 4096, 8192, 16384].iter().enumerate() {
            text += &format!(
                "s{i},a100-80gb,1,,fp16,add:elems={e},kernel,1,,,latency_ms,0.002,ms,t,yes\n"
            );
        }
        // 100–200 MB adds at ~1 TB/s: work-dominated.
        for (i, e) in [16_777_216u64, 33_554_432].iter().enumerate() {
            let ms = (6 * e) as f64 / 1e12 * 1e3;
            text += &format!(
                "l{i},a100-80gb,1,,fp16,add:elems={e},kernel,1,,,latency_ms,{ms},ms,t,yes\n"
            );
        }
        let rows = crate::data::parse("t.csv", &text).unwrap();
        let dev = xpusim_hw::find_preset("a100-80gb").unwrap();
        let f = fit(&rows, &dev, true, "test");
        let c = &f.curves[0];
        // The floor replaces the launch; the HBM first-byte latency stays, so the tiny rows
        // are predicted at their measured 2 µs.
        let floor = c.fixed_us.unwrap_or(0.0);
        assert!(floor > 1.0 && floor < 2.0, "{c:?}");
        let mut p = Predictor::default();
        let mut d = dev.clone();
        d.calibration = f.curves.clone();
        p.override_device = Some(d);
        let v = p.predict(&rows[0]).unwrap().value;
        assert!((v / 0.002 - 1.0).abs() < 0.02, "{v}");
        // The 16 k row lies beyond 10x the smallest size: not a floor row, and with no work
        // above the floor it informs nothing.
        assert_eq!(f.used, 6);
        assert_eq!(f.ignored.len(), 1);
        assert_eq!(f.ignored[0].0, "s4");
        // Only the work-dominated rows make points, and they sit well above 1 %.
        assert!(c.points.iter().all(|p| p[0] > 1e8 && p[1] > 0.3), "{c:?}");
    }

    #[test]
    fn rounding_keeps_three_significant_digits() {
        assert_eq!(round_sig(123456.0, 3), 123000.0);
        assert_eq!(round_sig(0.012345, 3), 0.0123);
    }
}
