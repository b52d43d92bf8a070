//! The era suite flip ranks designs on: the one suite of `xpusim-workload` (the same as
//! `compare`, `cost` and `sweep`), every workload tagged with its era.

use xpusim_ir::{DType, Graph};

use crate::FlipError;

pub use xpusim_workload::{SuiteWorkload, ERAS, SUITE_DECODE_BATCH};

/// The era suite.
pub fn era_suite() -> Vec<SuiteWorkload> {
    xpusim_workload::era_suite()
}

/// The graph of a suite workload in a target's natural 16-bit format.
pub fn build(w: &SuiteWorkload, natural: DType) -> Result<Graph, FlipError> {
    w.request().graph(natural).map_err(|e| FlipError::Workload {
        workload: w.label(),
        msg: e.to_string(),
    })
}
