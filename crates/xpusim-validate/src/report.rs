//! Per-row results and error statistics by category.
//!
//! The signed error of a row is `(predicted − measured) / measured`. A category's MAPE is
//! the mean of |error| over its evaluated rows that no fit used ("held-out"); rows used
//! for calibration get their own figure. Skipped rows never count, as zero error or
//! otherwise; they are listed with their reason.
//!
//! Under the frozen split ([`crate::split`]) held-out rows are of two kinds, reported
//! apart: *in-distribution* (held-out rows of a source some fit used) and *cross-source*
//! (rows of a source no fit used). [`Report::run_protocol`] also predicts every held-out
//! kernel and model row with the devices' curves dropped, the *uncalibrated* figure.

use rayon::prelude::*;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::Row;
use crate::predict::Predictor;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowResult {
    pub id: String,
    pub category: String,
    /// `kernel`, `model`, `train` (one training step of a published run) or `energy` (a
    /// power or energy metric of a model row, [`crate::ENERGY_METRICS`]).
    pub class: String,
    pub hardware: String,
    /// Devices the measured run used (column `devices`).
    pub devices: u64,
    pub metric: String,
    pub predicted: Option<f64>,
    pub measured: f64,
    pub error_pct: Option<f64>,
    /// `ok` or `skipped`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub used_for_calibration: bool,
    /// The row's reading was changed after its error was seen (`revised_after_error`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub revised_after_error: bool,
    pub source: String,
    /// The row's side of the frozen split (`fit`: its source was fitted on; `test`: it was
    /// not); absent for rows of files the split does not cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<&'static str>,
    /// The row's measurement source (`source_id`), where its file gives one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_id: String,
    /// Error of the same row predicted with the devices' calibration curves dropped
    /// (kernel and model rows of [`Report::run_protocol`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncalibrated_error_pct: Option<f64>,
    /// Kernel rows: size on the op family's curve axis and its unit (`flops`, `bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<(f64, &'static str)>,
    /// Training rows: what the source's FLOP count holds (`model`, `model-noncausal`,
    /// `hardware`), for FLOP-count metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flops_convention: Option<&'static str>,
    /// What the output says beside an evaluated row's number (a training layout that does
    /// not fit our memory model).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// Error statistics of a set of rows, in percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Held-out rows evaluated.
    pub n: usize,
    pub mape_pct: Option<f64>,
    pub median_abs_pct: Option<f64>,
    pub max_abs_pct: Option<f64>,
    /// Mean signed error: > 0 means the model over-predicts the metric.
    pub bias_pct: Option<f64>,
    /// Rows used to fit calibration, and their MAPE.
    pub fit_n: usize,
    pub fit_mape_pct: Option<f64>,
    pub skipped: usize,
    /// Held-out rows of `fit` sources (the split's in-distribution rows), and their MAPE.
    pub in_distribution_n: usize,
    pub in_distribution_mape_pct: Option<f64>,
    /// Rows of `test` sources (never fitted), and their MAPE.
    pub cross_source_n: usize,
    pub cross_source_mape_pct: Option<f64>,
    /// Held-out rows predicted without calibration curves, and their MAPE.
    pub uncalibrated_n: usize,
    pub uncalibrated_mape_pct: Option<f64>,
}

impl Stats {
    pub fn of<'a>(rows: impl Iterator<Item = &'a RowResult>) -> Stats {
        let mut held = Vec::new();
        let mut fit = Vec::new();
        let mut skipped = 0;
        let (mut in_dist, mut cross, mut uncal) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            match r.error_pct {
                Some(e) if r.used_for_calibration => fit.push(e),
                Some(e) => {
                    held.push(e);
                    match r.split {
                        Some("fit") => in_dist.push(e.abs()),
                        Some("test") => cross.push(e.abs()),
                        _ => {}
                    }
                    if let Some(u) = r.uncalibrated_error_pct {
                        uncal.push(u.abs());
                    }
                }
                None => skipped += 1,
            }
        }
        let mut abs: Vec<f64> = held.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        Stats {
            n: held.len(),
            mape_pct: mean(&abs),
            median_abs_pct: median(&abs),
            max_abs_pct: abs.last().copied(),
            bias_pct: mean(&held),
            fit_n: fit.len(),
            fit_mape_pct: mean(&fit.iter().map(|e| e.abs()).collect::<Vec<_>>()),
            skipped,
            in_distribution_n: in_dist.len(),
            in_distribution_mape_pct: mean(&in_dist),
            cross_source_n: cross.len(),
            cross_source_mape_pct: mean(&cross),
            uncalibrated_n: uncal.len(),
            uncalibrated_mape_pct: mean(&uncal),
        }
    }
}

pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Median of sorted values (mean of the two middle ones for an even count).
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The category a row is reported under: its `category` column, else `kernel/<kind>` or
/// `model/<phase>`.
pub fn category(row: &Row) -> String {
    if let Some(c) = &row.category {
        return c.clone();
    }
    if row.phase == "kernel" {
        let kind = row.workload.split(':').next().unwrap_or("").trim();
        format!("kernel/{kind}")
    } else {
        format!("model/{}", row.phase)
    }
}

/// The class a row is reported in: its statistics never mix with another class's.
pub fn class(row: &Row) -> &'static str {
    match row.phase.as_str() {
        "kernel" => "kernel",
        "train" => "train",
        _ if crate::is_energy_metric(&row.metric) => "energy",
        _ => "model",
    }
}

/// The result of validating a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub rows: Vec<RowResult>,
}

impl Report {
    pub fn run(rows: &[Row], p: &mut Predictor) -> Report {
        // Rows are independent: each worker predicts with its own copy of the caches.
        let predictions: Vec<Result<crate::Prediction, String>> = rows
            .par_iter()
            .map_init(|| p.clone(), |p, r| p.predict(r))
            .collect();
        let rows = rows
            .iter()
            .zip(predictions)
            .map(|(r, prediction)| {
                let (predicted, reason, size, flags) = match prediction {
                    Ok(pr) => {
                        let size = pr.kernel.and_then(|k| {
                            k.family
                                .map(|f| (k.size, f.size_unit()))
                                .filter(|s| s.0 > 0.0)
                        });
                        (Some(pr.value), None, size, pr.flags)
                    }
                    Err(e) => (None, Some(e), None, Vec::new()),
                };
                RowResult {
                    id: r.id.clone(),
                    category: category(r),
                    class: class(r).into(),
                    hardware: r.hardware.clone(),
                    devices: r.devices,
                    metric: r.metric.clone(),
                    predicted,
                    measured: r.value,
                    error_pct: predicted.map(|v| (v - r.value) / r.value * 100.0),
                    status: if predicted.is_some() { "ok" } else { "skipped" }.into(),
                    reason,
                    used_for_calibration: r.used_for_calibration,
                    revised_after_error: r.revised_after_error,
                    source: r.source.clone(),
                    split: None,
                    source_id: r.source_id.clone(),
                    uncalibrated_error_pct: None,
                    size,
                    flops_convention: r.flops_convention.map(|c| c.label()),
                    flags,
                }
            })
            .collect();
        Report { rows }
    }

    /// The protocol's report: every row predicted with `p`, labelled with its side of the
    /// split, and every held-out kernel and model row predicted again with the devices'
    /// calibration curves dropped (training rows have no curves of their own and are not
    /// repeated).
    pub fn run_protocol(loaded: &crate::split::Loaded, p: &mut Predictor) -> Report {
        let mut r = Report::run(&loaded.rows, p);
        let mut bare = Predictor::default();
        bare.override_device = p.override_device.clone();
        bare.uncalibrated = true;
        let uncalibrated: Vec<Option<f64>> = r
            .rows
            .par_iter()
            .zip(&loaded.rows)
            .map_init(
                || bare.clone(),
                |bare, (res, row)| {
                    if res.class == "train" || row.used_for_calibration || res.error_pct.is_none() {
                        return None;
                    }
                    if p.uncalibrated {
                        return res.error_pct;
                    }
                    bare.predict(row)
                        .ok()
                        .map(|pr| (pr.value - row.value) / row.value * 100.0)
                },
            )
            .collect();
        for ((res, side), u) in r.rows.iter_mut().zip(&loaded.sides).zip(uncalibrated) {
            res.split = side.map(|s| s.label());
            res.uncalibrated_error_pct = u;
        }
        r
    }

    /// Statistics per measurement source (`source_id`), for rows that name one.
    pub fn by_source(&self) -> BTreeMap<String, Stats> {
        let mut m: BTreeMap<String, Vec<&RowResult>> = BTreeMap::new();
        for r in self.rows.iter().filter(|r| !r.source_id.is_empty()) {
            m.entry(r.source_id.clone()).or_default().push(r);
        }
        m.into_iter()
            .map(|(c, v)| (c, Stats::of(v.into_iter())))
            .collect()
    }

    pub fn by_category(&self) -> BTreeMap<String, Stats> {
        let mut cats: BTreeMap<String, Vec<&RowResult>> = BTreeMap::new();
        for r in &self.rows {
            cats.entry(r.category.clone()).or_default().push(r);
        }
        cats.into_iter()
            .map(|(c, v)| (c, Stats::of(v.into_iter())))
            .collect()
    }

    /// Kernel rows by category and decade of size (e.g. `1e9 flops`), held-out statistics.
    pub fn by_size(&self) -> BTreeMap<(String, i32, &'static str), Stats> {
        let mut m: BTreeMap<(String, i32, &'static str), Vec<&RowResult>> = BTreeMap::new();
        for r in &self.rows {
            if let Some((size, unit)) = r.size {
                let decade = size.log10().floor() as i32;
                m.entry((r.category.clone(), decade, unit))
                    .or_default()
                    .push(r);
            }
        }
        m.into_iter()
            .map(|(k, v)| (k, Stats::of(v.into_iter())))
            .filter(|(_, s)| s.n > 0)
            .collect()
    }

    pub fn class(&self, class: &str) -> Stats {
        Stats::of(self.rows.iter().filter(|r| r.class == class))
    }

    /// Whether any row is a training step (class `train`).
    pub fn has_training(&self) -> bool {
        self.rows.iter().any(|r| r.class == "train")
    }

    /// Whether any row is a power or energy measurement (class `energy`).
    pub fn has_energy(&self) -> bool {
        self.rows.iter().any(|r| r.class == "energy")
    }

    /// Held-out statistics per metric of the power and energy rows (`power_w`,
    /// `samples_per_j`, ...): MAPE and mean signed error (`bias_pct`) per quantity.
    pub fn energy_by_metric(&self) -> BTreeMap<String, Stats> {
        let mut m: BTreeMap<String, Vec<&RowResult>> = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r.class == "energy") {
            m.entry(r.metric.clone()).or_default().push(r);
        }
        m.into_iter()
            .map(|(k, v)| (k, Stats::of(v.into_iter())))
            .collect()
    }

    /// Every time and throughput row (kernels, models, training steps). Power and energy
    /// rows measure another quantity and are reported on their own ([`Report::class`]
    /// `energy`, [`Report::energy_by_metric`]), never averaged into this.
    pub fn overall(&self) -> Stats {
        Stats::of(self.rows.iter().filter(|r| r.class != "energy"))
    }

    /// `{"rows": [...], "mape_pct": {category: v, "overall": v}, ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        let cats = self.by_category();
        let mut mape = serde_json::Map::new();
        let mut median = serde_json::Map::new();
        for (c, s) in &cats {
            mape.insert(c.clone(), serde_json::json!(s.mape_pct));
            median.insert(c.clone(), serde_json::json!(s.median_abs_pct));
        }
        mape.insert("overall".into(), serde_json::json!(self.overall().mape_pct));
        median.insert(
            "overall".into(),
            serde_json::json!(self.overall().median_abs_pct),
        );
        let mut classes =
            serde_json::json!({"kernel": self.class("kernel"), "model": self.class("model")});
        if self.has_training() {
            classes["train"] = serde_json::json!(self.class("train"));
        }
        let mut out = serde_json::json!({
            "rows": self.rows,
            "mape_pct": mape,
            "median_abs_pct": median,
            "classes": classes,
            "categories": cats,
        });
        if self.has_energy() {
            out["classes"]["energy"] = serde_json::json!(self.class("energy"));
            out["energy_metrics"] = serde_json::json!(self.energy_by_metric());
        }
        out
    }
}
