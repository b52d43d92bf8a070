//! Validation: every prediction checked against a number someone measured.
//!
//! A validation file ([`data`]) lists measurements — one kernel or one model pass on one
//! device, a metric, a value, its source. [`Report::run`] predicts each row with the
//! engine ([`predict`]), and reports the signed error per row and MAPE per category
//! ([`report`], [`render`]). Training rows (phase `train`) price one optimizer step of a
//! published run with `xpusim-train` ([`train`]). Power and energy rows (`power_w`,
//! `energy_per_sample_j`, `joules_per_token`, `samples_per_j`) price the same passes and
//! turn their energy into the metric, boards alone or the node at the wall ([`Scope`]).
//! Serving rows (phase `serve`) run a benchmark's requests through the serving simulator
//! ([`serving`]). [`fit`] derives achievable-efficiency curves for a device
//! from its kernel rows; the curves are data in the device file
//! ([`xpusim_hw::calibration`]), applied by the engine in one place.
//!
//! Invariants:
//! - Every row appears in the report: evaluated (`ok`) or `skipped` with its reason; a
//!   skipped row never counts in an error statistic.
//! - Held-out statistics exclude rows marked `used_for_calibration = yes`.
//! - A file that cannot be read fails with `file:line: column: what was expected`.
//! - Predictions depend only on the row and the device files, never on other rows.

pub mod attacc;
mod data;
pub mod efficiency;
mod error;
pub mod fit;
mod fit_rows;
pub mod kernel;
pub mod predict;
pub mod render;
mod render_text;
pub mod report;
pub mod serving;
pub mod split;
pub mod system;
pub mod train;

pub use data::{is_energy_metric, parse, read, Row, Scope, Timing, ENERGY_METRICS, REQUIRED};
pub use error::ValidateError;
pub use predict::{Prediction, Predictor};
pub use report::{Report, RowResult, Stats};
