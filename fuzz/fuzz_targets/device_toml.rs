//! `cargo +nightly fuzz run device_toml` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::device_toml`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::device_toml(data));
