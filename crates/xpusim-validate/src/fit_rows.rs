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

    fn sample(rows: u64, bytes: f64, floor_s: f64) -> Sample {
        Sample {
            id: String::new(),
            size: rows as f64 * bytes,
            t: floor_s,
            work_s: 0.0,
            fixed_s: 0.0,
            floor_s,
            launch_s: 0.0,
            rows: Some((rows, bytes)),
        }
    }

    #[test]
    fn row_rate_pools_one_slope_over_curves_with_their_own_floors() {
        // Two kernels at 10 GB/s per block (1e-10 s/B), floors 2 and 3 µs; a 300-row
        // launch is beyond a quarter wave of 216 slots and must not enter the fit.
        let key = |op: &str| (CalibrationFamily::Vector, Some(op.to_string()));
        let mut by: BTreeMap<CurveKey, Vec<Sample>> = BTreeMap::new();
        by.insert(
            key("a"),
            [8e3, 16e3, 32e3]
                .iter()
                .map(|&b| sample(1, b, 2e-6 + b * 1e-10))
                .collect(),
        );
        let mut b_rows: Vec<Sample> = [4e3, 40e3, 60e3]
            .iter()
            .map(|&b| sample(4, b, 3e-6 + b * 1e-10))
            .collect();
        b_rows.push(sample(300, 1e3, 1.0));
        by.insert(key("b"), b_rows);
        let (slope, floors) = row_rate(&by, 216.0).unwrap();
        assert!((slope / 1e-10 - 1.0).abs() < 1e-9, "{slope}");
        assert!((floors[&key("a")] - 2e-6).abs() < 1e-12);
        assert!((floors[&key("b")] - 3e-6).abs() < 1e-12);
        // Embedding rows take the serial path instead; one width gives no slope.
        let one_width: BTreeMap<CurveKey, Vec<Sample>> =
            [(key("a"), vec![sample(1, 8e3, 2e-6); 3])]
                .into_iter()
                .collect();
        assert!(row_rate(&one_width, 216.0).is_none());
    }

    #[test]
    fn serial_gather_is_a_line_over_the_small_index_launches() {
        let key = (CalibrationFamily::Embedding, None);
        let v: Vec<Sample> = [1u64, 2, 4, 8, 16, 32]
            .iter()
            .map(|&r| {
                sample(
                    r,
                    8e3,
                    if r <= 16 {
                        2e-6 + r as f64 * 0.7e-6
                    } else {
                        5e-6
                    },
                )
            })
            .collect();
        let (a, b) = serial(&key, &v).unwrap();
        assert!(
            (a - 2e-6).abs() < 1e-12 && (b - 0.7e-6).abs() < 1e-12,
            "{a} {b}"
        );
        assert!(serial(&(CalibrationFamily::Vector, None), &v).is_none());
    }
}
