//! Fitting the kernel-structure terms of a curve (`row_gbps`, the serial gather path; see
//! `xpusim_hw::calibration`) from kernel rows, before the multipliers are fitted.

use std::collections::BTreeMap;

use xpusim_hw::CalibrationFamily;

use crate::fit::{CurveKey, Sample};

/// PyTorch's `index_select` walks its indices serially when there are at most this many
/// (`aten/src/ATen/native/cuda/Indexing.cu`: the small-index kernel is chosen for
/// `numIndices <= 16`); `F.embedding` forwards to it.
pub const SERIAL_GATHER_MAX_ROWS: u64 = 16;

/// Rows informing the per-block rate are those of launches that leave most of the GPU
/// idle: at most this share of one wave of blocks, so the bandwidth the rest of the GPU
/// could add does not enter the slope.
pub const ROW_FIT_WAVE_SHARE: f64 = 0.25;

/// Fewest rows a least-squares line is fitted on.
const MIN_LINE_ROWS: usize = 3;

/// The serial gather of a curve's rows: `(fixed_s, s_per_row)` from a line through the
/// measured fixed times of its 1–[`SERIAL_GATHER_MAX_ROWS`]-row launches, for embedding
/// curves whose time grows with the row count there.
pub fn serial(key: &CurveKey, v: &[Sample]) -> Option<(f64, f64)> {
    if key.0 != CalibrationFamily::Embedding {
        return None;
    }
    let pts: Vec<(f64, f64)> = v
        .iter()
        .filter_map(|s| {
            let (rows, _) = s.rows?;
            (rows <= SERIAL_GATHER_MAX_ROWS).then_some((rows as f64, s.floor_s))
        })
        .collect();
    let (a, b) = line(&pts)?;
    (b > 0.0 && a > 0.0).then_some((a, b))
}

/// Whether the serial gather path covers `s`.
pub fn on_serial_path(s: &Sample) -> bool {
    s.rows.is_some_and(|(r, _)| r <= SERIAL_GATHER_MAX_ROWS)
}

/// One per-block streaming time per byte for all row-parallel op curves of the device
/// (their rows ≤ [`ROW_FIT_WAVE_SHARE`] of `slots`), with each curve's own floor: the
/// pooled within-curve least-squares line `fixed_op + row_bytes · s_per_byte`. `None`
/// unless the rows' widths vary enough to give a positive slope.
pub fn row_rate(
    by_key: &BTreeMap<CurveKey, Vec<Sample>>,
    slots: f64,
) -> Option<(f64, BTreeMap<CurveKey, f64>)> {
    let mut groups: BTreeMap<CurveKey, Vec<(f64, f64)>> = BTreeMap::new();
    for (key, v) in by_key {
        if key.0 != CalibrationFamily::Vector || key.1.is_none() {
            continue;
        }
        let pts: Vec<(f64, f64)> = v
            .iter()
            .filter_map(|s| {
                let (rows, bytes) = s.rows?;
                (rows as f64 <= ROW_FIT_WAVE_SHARE * slots).then_some((bytes, s.floor_s))
            })
            .collect();
        if pts.len() >= MIN_LINE_ROWS {
            groups.insert(key.clone(), pts);
        }
    }
    let mean = |v: &[(f64, f64)]| {
        let n = v.len() as f64;
        (
            v.iter().map(|p| p.0).sum::<f64>() / n,
            v.iter().map(|p| p.1).sum::<f64>() / n,
        )
    };
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for v in groups.values() {
        let (mx, my) = mean(v);
        for &(x, y) in v {
            sxy += (x - mx) * (y - my);
            sxx += (x - mx) * (x - mx);
        }
    }
    if sxx <= 0.0 || sxy <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let floors = groups
        .iter()
        .map(|(k, v)| {
            let (mx, my) = mean(v);
            (k.clone(), (my - b * mx).max(0.0))
        })
        .collect();
    Some((b, floors))
}

/// Least-squares line `y = a + b x`; `None` with too few points or one distinct x.
fn line(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    if pts.len() < MIN_LINE_ROWS {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let b = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    Some((my - b * mx, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_recovers_slope_and_intercept() {
        let pts = [(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)];
        let (a, b) = line(&pts).unwrap();
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(line(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]).is_none());
    }
}
