//! `cargo +nightly fuzz run seq_dist` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::seq_dist`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::seq_dist(data));
