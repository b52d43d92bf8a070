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
use crate::fit_rows;
use crate::predict::{kernel_time_from, Predictor};
use crate::report::median;

/// Size bins per factor of 10. A GPU's L2 edge (the analytical model's move from L2 to
/// HBM between half and all of the cache) spans 0.3 decades, so coarser bins would
/// average across it and leave the 70B-sized rows beside it 30–40 % off.
pub const BINS_PER_DECADE: f64 = 4.0;
/// Smallest share of a measured time that must be work (not fixed overhead) for a row to
/// inform the fit.
pub const MIN_WORK_SHARE: f64 = 0.02;
/// Smallest multiplier a fit may produce: below 1 % of the analytical rate the base model
/// itself is wrong for that op, which a curve should not hide.
pub const MIN_MULTIPLIER: f64 = 0.01;

/// A curve's identity: family, and the op it is narrowed to.
pub(crate) type CurveKey = (CalibrationFamily, Option<String>);

/// Fewest rows of one operator for it to get its own curve.
pub const MIN_OP_ROWS: usize = 8;

/// Largest share of a row's measured time its analytical work may take for the row to
/// count as measuring the op's fixed floor (launch, scheduling, first-wave fill).
pub const FLOOR_WORK_SHARE: f64 = 0.1;
/// Floor rows lie within this factor of the curve's smallest measured size: larger rows
/// whose analytical work is still small measure an inefficiency (a slow gather), not a floor.
pub const FLOOR_SIZE_SPAN: f64 = 10.0;
/// Rows measured within this factor of their `harness_floor_us` inform no curve: the host
/// dispatch they time overlaps the chip's work, so their device time is unknown.
pub const HARNESS_FLOOR_MARGIN: f64 = 1.5;
/// A row whose fitted row term reaches this share of its measured work time is explained
/// by the row term (the engine takes the larger of the two) and informs no multiplier.
pub const ROW_BOUND_SHARE: f64 = 0.8;
/// Fewest floor rows for a curve to get a `fixed_us`.
pub const MIN_FLOOR_ROWS: usize = 3;

/// A fitted curve before it becomes a [`CalibrationCurve`].
#[derive(Debug, Clone, PartialEq)]
struct FittedCurve {
    /// Floor, µs.
    fixed_us: Option<f64>,
    points: Vec<[f64; 2]>,
    rows: usize,
    row_gbps: Option<f64>,
    /// Serial gather: µs per row.
    serial_us: Option<f64>,
}

/// One measured row on a curve.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub id: String,
    pub size: f64,
    /// Measured time, s.
    pub t: f64,
    /// Analytical work time, s.
    pub work_s: f64,
    /// Analytical fixed time as the row's timing sees it, s.
    pub fixed_s: f64,
    /// Measured time less the non-launch fixed time, in wall terms, s.
    pub floor_s: f64,
    /// The launch a floor replaces, s.
    pub launch_s: f64,
    /// Row-parallel structure: rows and bytes per row.
    pub rows: Option<(u64, f64)>,
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
        // A row near its harness floor times the host's dispatch, not the chip.
        if r.harness_floor_us
            .is_some_and(|f| t < HARNESS_FLOOR_MARGIN * f * 1e-6)
        {
            ignored.push((r.id.clone(), "measured time is on the harness floor".into()));
            continue;
        }
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
            rows: k.rows,
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
    // Kernel structure first: the serial gather path of embedding curves and one
    // per-block row rate for the device's row-parallel curves, each with its own floor.
    let slots = dev.cores.max(1) as f64 * xpusim_engine::calibration::ROW_BLOCKS_PER_CORE;
    let row_fit = fit_rows::row_rate(&rows_by_key, slots);
    // Each curve's floor: the median fixed time of its rows whose analytical work is a
    // negligible share of the measured time (or the structure fit's intercept); then the
    // multiplier of each remaining row with that floor in place of the launch.
    let mut used_ids = std::collections::BTreeSet::new();
    let mut fitted: BTreeMap<CurveKey, FittedCurve> = BTreeMap::new();
    for (key, v) in &rows_by_key {
        let smallest = v.iter().map(|s| s.size).fold(f64::INFINITY, f64::min);
        let serial = fit_rows::serial(key, v);
        let row = row_fit
            .as_ref()
            .and_then(|(b, floors)| floors.get(key).map(|f| (*b, *f)));
        let on_serial = |s: &Sample| serial.is_some() && fit_rows::on_serial_path(s);
        let is_floor = |s: &Sample| {
            on_serial(s)
                || (s.size <= smallest * FLOOR_SIZE_SPAN && s.work_s < FLOOR_WORK_SHARE * s.t)
        };
        let mut floors: Vec<f64> = v
            .iter()
            .filter(|s| is_floor(s))
            .map(|s| s.floor_s)
            .collect();
        floors.sort_by(f64::total_cmp);
        let floor = match (serial, row) {
            (Some((a, _)), _) | (None, Some((_, a))) => Some(a),
            _ => median(&floors).filter(|_| floors.len() >= MIN_FLOOR_ROWS),
        };
        // The time the row term alone explains.
        let row_s = |s: &Sample| match (row, s.rows) {
            (Some((b, _)), Some((n, bytes))) => (n as f64 / slots).max(1.0) * bytes * b,
            _ => 0.0,
        };
        let mut pts = Vec::new();
        for s in v {
            let fixed = match floor {
                Some(f) => s.fixed_s - s.launch_s + f,
                None => s.fixed_s,
            };
            let work = s.t - fixed;
            if floor.is_some() && is_floor(s)
                || (row_s(s) > 0.0 && row_s(s) >= ROW_BOUND_SHARE * work)
            {
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
        fitted.insert(
            key.clone(),
            FittedCurve {
                fixed_us: floor.map(|f| round_sig(f * 1e6, 3)),
                points: bin(&pts),
                rows: v.len(),
                row_gbps: row.map(|(b, _)| round_sig(1e-9 / b, 3)),
                serial_us: serial.map(|(_, b)| round_sig(b * 1e6, 3)),
            },
        );
    }
    used += used_ids.len();
    // An op-specific curve only when its rows differ from the family's as a whole: the
    // family curve is enough otherwise.
    let family_fit: BTreeMap<CalibrationFamily, FittedCurve> = fitted
        .iter()
        .filter(|((_, op), _)| op.is_none())
        .map(|((f, _), v)| {
            (
                *f,
                FittedCurve {
                    rows: 0,
                    ..v.clone()
                },
            )
        })
        .collect();
    let curves = fitted
        .into_iter()
        .filter(|((f, op), c)| {
            op.is_none()
                || (c.rows >= MIN_OP_ROWS
                    && Some(&FittedCurve {
                        rows: 0,
                        ..c.clone()
                    }) != family_fit.get(f))
        })
        .map(|((family, op), c)| CalibrationCurve {
            family,
            points: c.points,
            source: format!(
                "{source}: {n} rows; {floor}{row}{serial}median multiplier per \
                 {BINS_PER_DECADE} bins per decade of {unit}",
                n = c.rows,
                floor = if c.row_gbps.is_some() || c.serial_us.is_some() {
                    String::new()
                } else if c.fixed_us.is_some() {
                    format!(
                        "fixed_us = median fixed time of the rows within {FLOOR_SIZE_SPAN}x of \
                         the smallest size whose analytical work is under {FLOOR_WORK_SHARE} of \
                         the measured time; "
                    )
                } else {
                    String::new()
                },
                row = if c.row_gbps.is_some() {
                    "fixed_us and row_gbps = pooled least-squares line (one slope for the \
                     device's row-parallel curves, a floor per curve) through the fixed \
                     times of launches of at most a quarter wave of rows against bytes per \
                     row; "
                } else {
                    ""
                },
                serial = if c.serial_us.is_some() {
                    "fixed_us and serial_us_per_row = least-squares line through the fixed \
                     times of the 1-16-row launches (PyTorch small-index gather) against \
                     rows; "
                } else {
                    ""
                },
                unit = family.size_unit()
            ),
            fixed_us: c.fixed_us,
            row_gbps: c.row_gbps,
            serial_max_rows: c.serial_us.map(|_| fit_rows::SERIAL_GATHER_MAX_ROWS),
            serial_us_per_row: c.serial_us,
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
    fn bins_take_the_median_per_quarter_decade() {
        let pts = bin(&[(1e3, 0.5), (1.2e3, 0.7), (1.5e3, 0.9), (1e6, 1.0)]);
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
