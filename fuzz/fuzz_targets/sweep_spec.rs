//! `cargo +nightly fuzz run sweep_spec` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::sweep_spec`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::sweep_spec(data));
