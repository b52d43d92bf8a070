//! The suite flip ranks designs on: the era suite of `xpusim-workload` (the same as
//! `compare`, `cost` and `sweep`) and its training suite (ResNet-50, BERT-Large and
//! Llama 3 8B, phase train, priced by `xpusim-train`), every workload tagged with its era.

use xpusim_ir::{DType, Graph};

use crate::FlipError;

pub use xpusim_workload::{SuiteWorkload, SUITE_DECODE_BATCH, TRAINING_ERAS};

/// The eras a scenario or timeline may weight, in the order reports list them: the era
/// suite's, then the training eras.
pub const ERAS: &[&str] = &ALL_ERAS;

const ALL_ERAS: [&str; xpusim_workload::ERAS.len() + TRAINING_ERAS.len()] =
    concat(xpusim_workload::ERAS, TRAINING_ERAS);

const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[i + j] = b[j];
        j += 1;
    }
    out
}

/// The era suite (inference: what `compare` runs).
pub fn era_suite() -> Vec<SuiteWorkload> {
    xpusim_workload::era_suite()
}

/// The training suite (one workload per training era).
pub fn training_suite() -> Vec<SuiteWorkload> {
    xpusim_workload::training_suite()
}

/// What `flip` evaluates: the era suite, then the training suite.
pub fn flip_suite() -> Vec<SuiteWorkload> {
    let mut v = era_suite();
    v.extend(training_suite());
    v
}

/// The graph of a suite workload in a target's natural 16-bit format (for a training
/// workload, the forward of one micro-batch).
pub fn build(w: &SuiteWorkload, natural: DType) -> Result<Graph, FlipError> {
    w.request().graph(natural).map_err(|e| FlipError::Workload {
        workload: w.label(),
        msg: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras_are_the_era_suites_then_the_training_eras() {
        let want: Vec<&str> = xpusim_workload::ERAS
            .iter()
            .chain(TRAINING_ERAS)
            .copied()
            .collect();
        assert_eq!(ERAS, want.as_slice());
        for w in flip_suite() {
            assert!(ERAS.contains(&w.era), "{}", w.era);
            assert_eq!(w.is_training(), TRAINING_ERAS.contains(&w.era), "{}", w.era);
        }
    }
}
