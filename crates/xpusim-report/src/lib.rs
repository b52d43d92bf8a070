//! xpusim reports: SVG charts and a self-contained HTML report.
//!
//! - [`charts`]: roofline with every op placed on it, per-op time breakdown, Pareto scatter
//!   and the era × design heatmap, each an SVG string drawn with `plotters`.
//! - [`html`]: one HTML file with the flip analysis tables and the charts inline (no
//!   scripts, styles or fonts from outside the file); [`model`]: the same for one model
//!   on one device (`xpusim run --html`); [`compare`]: chips × workloads heatmaps and
//!   tables (`xpusim compare --html`).
//!
//! Invariants: every chart is valid standalone SVG text; the HTML embeds everything it
//! shows, and every text from a model, device or user file is HTML-escaped.

pub mod charts;
pub mod compare;
pub mod html;
pub mod model;

pub use compare::compare_report;
pub use html::flip_report;
pub use model::model_report;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("chart `{chart}`: {msg}")]
    Chart { chart: String, msg: String },
}
