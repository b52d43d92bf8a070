//! `cargo +nightly fuzz run hf_config` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::hf_config`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::hf_config(data));
