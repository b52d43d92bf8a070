//! Calibration as data: measured achievable-efficiency curves per op family.
//!
//! The analytical engine predicts the time an op's work (compute or traffic, whichever
//! binds) takes at the device's sustained rates. Real kernels fall short of that by an
//! amount that depends on the op's size and family (small GEMMs cannot fill the pipeline,
//! tiny norms never reach streaming bandwidth). Calculon (Isaev et al., SC 2023) and
//! LLMCompass (Zhang et al., ISCA 2024) handle this with measured efficiency tables; here
//! a device file may carry one curve per family:
//!
//! ```toml
//! [[calibration]]
//! family = "vector"
//! op = "rmsnorm"            # optional: this operator only; without it, the whole family
//! points = [[1.0e5, 0.35], [1.0e7, 0.8], [1.0e9, 1.0]]   # (size, multiplier)
//! source = "fitted by `xpusim calibrate` from data/validation/vidur.csv (rows marked)"
//! ```
//!
//! A multiplier `e` divides the op's work time (`compute / e`, `traffic / e`); the fixed
//! launch overhead is untouched. Sizes are FLOPs for `matmul` and `attention`, bytes
//! moved for the other families. Between points `e` is interpolated linearly in
//! `log(size)`; outside, the end value holds. Without a curve the multiplier is 1, so a
//! device file without `[[calibration]]` behaves exactly as before.
//!
//! A curve may also carry `fixed_us`: the operator's measured minimum time per launch
//! (launch, grid scheduling, the first wave's pipeline fill and final synchronisation),
//! which replaces the generic `overhead.launch_us` for the ops on that curve. Tiny
//! kernels take a fixed few microseconds whatever their size (Vidur's A100/H100 profiles:
//! a 24 kB residual add takes 2 µs, a 50 kB rotary embedding 5 µs); expressing that as a
//! multiplier on a nanosecond work time needs multipliers of 0.01 that then mis-predict
//! every size between the points. With the floor as data, the multiplier only describes
//! how the work part scales. The value is a property of the kernel on that device, not of
//! the device's rates, so a faster device never gets a larger floor.
//!
//! Two more terms describe how a kernel is parallelised, which no size axis can:
//!
//! * `row_gbps`: kernels that give each row (token) its own thread block — norms,
//!   softmax, serving stacks' fused activation and rotary kernels (vLLM
//!   `csrc/layernorm_kernels.cu`, `activation_kernels.cu`, `pos_encoding_kernels.cu`:
//!   `grid(num_tokens)`, up to 1024 threads per block) — cannot go faster than one block
//!   streaming its row, and with fewer rows than the GPU holds blocks most SMs idle.
//!   Vidur's profiles show it: a one-token SiLU·mul of Llama-2-70B (28,672 wide, 172 kB)
//!   takes 15 µs on an H100, at TP 8 (3,584 wide) 2 µs, while the same bytes spread over
//!   the whole GPU take under 1 µs. One block streams ~8–13 GB/s on A100 and H100 (a few
//!   loads in flight per thread against ~600 ns DRAM latency, Little's law), for every
//!   row-parallel kernel alike, so the rate is fitted once per device.
//! * `serial_max_rows` / `serial_us_per_row`: PyTorch's `index_select` (behind
//!   `F.embedding`) walks the indices one after another when there are at most 16 of them
//!   (`aten/src/ATen/native/cuda/Indexing.cu`, small-index kernel), so a 1–16 token
//!   embedding costs a dependent memory round trip per token whatever the row width
//!   (Vidur, A100: 3, 4, 5, 8, 14 µs for 1, 2, 4, 8, 16 tokens at 4,096 and at 8,192 wide;
//!   32 tokens take the parallel path and 4–6 µs).

use serde::{Deserialize, Serialize};

/// Largest multiplier accepted: a curve may say the analytical model is pessimistic, but
/// not by more than this (a larger value means a broken fit or a broken base model).
pub const MAX_MULTIPLIER: f64 = 4.0;

/// Op families with their own curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationFamily {
    /// Matmul, convolution and recurrent contractions; size = FLOPs.
    Matmul,
    /// Fused attention; size = FLOPs.
    Attention,
    /// Elementwise, norms, softmax, reductions, scans, unknown ops; size = bytes.
    Vector,
    /// Embedding gathers; size = bytes.
    Embedding,
    /// Copies and streaming data movement; size = bytes.
    Memory,
}

impl CalibrationFamily {
    pub const ALL: [CalibrationFamily; 5] = [
        CalibrationFamily::Matmul,
        CalibrationFamily::Attention,
        CalibrationFamily::Vector,
        CalibrationFamily::Embedding,
        CalibrationFamily::Memory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CalibrationFamily::Matmul => "matmul",
            CalibrationFamily::Attention => "attention",
            CalibrationFamily::Vector => "vector",
            CalibrationFamily::Embedding => "embedding",
            CalibrationFamily::Memory => "memory",
        }
    }

    /// What the curve's size axis measures.
    pub fn size_unit(self) -> &'static str {
        match self {
            CalibrationFamily::Matmul | CalibrationFamily::Attention => "flops",
            _ => "bytes",
        }
    }
}

/// One family's curve: `(size, multiplier)` points with sizes strictly increasing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationCurve {
    pub family: CalibrationFamily,
    /// Narrows the curve to one operator of the family (`rmsnorm`, `rope`, `add`,
    /// `silu_mul`, `softmax`...: an elementwise op's function or a norm's kind). A curve
    /// for the op wins over the family-wide curve (no `op`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    pub points: Vec<[f64; 2]>,
    /// Measured fixed time per launch of this op, in µs, replacing `overhead.launch_us`
    /// (see the module doc); `None` keeps the device's launch overhead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_us: Option<f64>,
    /// Streaming rate of one thread block working through one row alone, GB/s, for
    /// kernels that give each row its own block (see the module doc); `None`: the kernel
    /// spreads its work over the device and has no per-row term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_gbps: Option<f64>,
    /// Kernels that walk their rows one after another while there are at most this many
    /// (PyTorch's small-index gather); `None`: no serial path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_max_rows: Option<u64>,
    /// Time per row on that serial path, µs (one dependent memory round trip each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_us_per_row: Option<f64>,
    /// Where the points come from (dataset, rows, command).
    #[serde(default)]
    pub source: String,
}

impl CalibrationCurve {
    /// Multiplier at `size`, log-linear between points, constant beyond the ends.
    pub fn at(&self, size: f64) -> f64 {
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return 1.0;
        };
        if size.is_nan() || size <= first[0] {
            return first[1];
        }
        if size >= last[0] {
            return last[1];
        }
        for w in self.points.windows(2) {
            let ([x0, y0], [x1, y1]) = (w[0], w[1]);
            if size <= x1 {
                let t = (size.ln() - x0.ln()) / (x1.ln() - x0.ln());
                return y0 + t * (y1 - y0);
            }
        }
        last[1]
    }

    /// `fixed_us` is finite and not negative (or absent).
    pub fn fixed_ok(&self) -> bool {
        self.fixed_us.is_none_or(|f| f.is_finite() && f >= 0.0)
    }

    /// The row terms are positive and finite, and the serial path has both its fields;
    /// `Err` names the offending field.
    pub fn rows_ok(&self) -> Result<(), (&'static str, String)> {
        if let Some(g) = self.row_gbps.filter(|g| !(g.is_finite() && *g > 0.0)) {
            return Err(("row_gbps", format!("row_gbps {g} must be finite and > 0")));
        }
        match (self.serial_max_rows, self.serial_us_per_row) {
            (None, None) => Ok(()),
            (Some(n), Some(us)) if n > 0 && us.is_finite() && us > 0.0 => Ok(()),
            (Some(_), None) => Err((
                "serial_us_per_row",
                "serial_max_rows needs serial_us_per_row (µs per row on the serial path)".into(),
            )),
            (None, Some(_)) => Err((
                "serial_max_rows",
                "serial_us_per_row needs serial_max_rows (the largest row count run serially)"
                    .into(),
            )),
            (Some(n), Some(us)) => Err((
                "serial_us_per_row",
                format!("serial path of {n} rows at {us} µs each: both must be > 0"),
            )),
        }
    }

    /// Checks the points; the message names the offending point.
    pub fn check(&self) -> Result<(), (usize, String)> {
        if self.points.is_empty() {
            return Err((0, "expected at least one [size, multiplier] point".into()));
        }
        let mut prev = 0.0;
        for (i, [s, e]) in self.points.iter().copied().enumerate() {
            if !(s.is_finite() && s > prev) {
                return Err((
                    i,
                    format!("size {s} must be finite, > 0 and greater than the previous size"),
                ));
            }
            if !(e.is_finite() && e > 0.0 && e <= MAX_MULTIPLIER) {
                return Err((
                    i,
                    format!("multiplier {e} must be in (0, {MAX_MULTIPLIER}]"),
                ));
            }
            prev = s;
        }
        Ok(())
    }
}

/// Multiplier for an op of `family` (named `op`, if it has a name curves can key on) at
/// `size`: the op's own curve, else the family's, else 1.
pub fn multiplier(
    curves: &[CalibrationCurve],
    family: CalibrationFamily,
    op: Option<&str>,
    size: f64,
) -> f64 {
    curve_for(curves, family, op).map_or(1.0, |c| c.at(size))
}

/// The curve that applies to an op of `family` named `op`: its own, else the family's.
pub fn curve_for<'a>(
    curves: &'a [CalibrationCurve],
    family: CalibrationFamily,
    op: Option<&str>,
) -> Option<&'a CalibrationCurve> {
    let own = op.and_then(|o| {
        curves
            .iter()
            .find(|c| c.family == family && c.op.as_deref() == Some(o))
    });
    own.or_else(|| curves.iter().find(|c| c.family == family && c.op.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: Vec<[f64; 2]>) -> CalibrationCurve {
        CalibrationCurve {
            family: CalibrationFamily::Vector,
            op: None,
            points,
            fixed_us: None,
            row_gbps: None,
            serial_max_rows: None,
            serial_us_per_row: None,
            source: String::new(),
        }
    }

    #[test]
    fn interpolates_in_log_size_and_clamps_at_the_ends() {
        let c = curve(vec![[1e3, 0.2], [1e5, 0.6]]);
        assert_eq!(c.at(10.0), 0.2);
        assert_eq!(c.at(1e9), 0.6);
        assert!((c.at(1e4) - 0.4).abs() < 1e-12);
        let mut add = curve(vec![[1.0, 0.9]]);
        add.op = Some("add".into());
        let all = [c, add];
        assert_eq!(multiplier(&all, CalibrationFamily::Matmul, None, 1e4), 1.0);
        assert_eq!(
            multiplier(&all, CalibrationFamily::Vector, Some("add"), 1e4),
            0.9
        );
        assert!(
            (multiplier(&all, CalibrationFamily::Vector, Some("rope"), 1e4) - 0.4).abs() < 1e-12
        );
    }

    #[test]
    fn rejects_unordered_sizes_and_bad_multipliers() {
        assert_eq!(
            curve(vec![[1e3, 0.2], [1e3, 0.6]]).check().unwrap_err().0,
            1
        );
        assert!(curve(vec![[1e3, 0.0]]).check().is_err());
        assert!(curve(vec![[1e3, MAX_MULTIPLIER * 2.0]]).check().is_err());
        assert!(curve(vec![]).check().is_err());
        assert!(curve(vec![[1.0, 1.0], [2.0, 0.5]]).check().is_ok());
        let mut c = curve(vec![[1.0, 1.0]]);
        c.fixed_us = Some(-1.0);
        assert!(!c.fixed_ok());
        c.fixed_us = Some(2.0);
        assert!(c.fixed_ok());
    }
}

#[cfg(test)]
mod spec_tests {
    use crate::DeviceSpec;

    fn with(extra: &str) -> Result<DeviceSpec, crate::HwError> {
        let base = crate::registry::DEVICES
            .iter()
            .find(|(f, _)| *f == "h100-sxm.toml")
            .map(|(_, s)| *s)
            .unwrap_or_default();
        // Drop the preset's own curves so the test controls them.
        let base = base.split("\n[[calibration]]").next().unwrap_or_default();
        DeviceSpec::from_toml("dev.toml", &format!("{base}\n{extra}"))
    }

    #[test]
    fn bad_curves_name_the_line_and_field() {
        let e = with("[[calibration]]\nfamily = \"vector\"\npoints = [[1e3, 0.5], [1e2, 0.6]]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `calibration[0].points[1]`"), "{e}");
        assert!(e.starts_with("dev.toml:"), "{e}");
        let e = with("[[calibration]]\nfamily = \"vector\"\npoints = [[1e3, 0.5]]\n[[calibration]]\nfamily = \"vector\"\npoints = [[1e3, 0.5]]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a second curve for family `vector`"), "{e}");
        let e = with("[[calibration]]\nfamily = \"tensor\"\npoints = [[1e3, 0.5]]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tensor"), "{e}");
        let ok = with("[[calibration]]\nfamily = \"vector\"\nop = \"add\"\npoints = [[1e3, 0.5]]\n[[calibration]]\nfamily = \"vector\"\npoints = [[1e3, 0.5]]\n");
        assert_eq!(ok.map(|d| d.calibration.len()).ok(), Some(2));
        let e =
            with("[[calibration]]\nfamily = \"vector\"\nfixed_us = -2.0\npoints = [[1e3, 0.5]]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("field `calibration[0].fixed_us`"), "{e}");
    }
}
