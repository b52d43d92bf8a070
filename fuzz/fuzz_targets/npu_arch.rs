//! `cargo +nightly fuzz run npu_arch` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::npu_arch`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::npu_arch(data));
