//! `cargo +nightly fuzz run validation_csv` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::validation_csv`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::validation_csv(data));
