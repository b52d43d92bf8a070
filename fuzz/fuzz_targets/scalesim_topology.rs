//! `cargo +nightly fuzz run scalesim_topology` (from the repository root): see docs/fuzzing.md and
//! [`xpusim_fuzz::scalesim_topology`].
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| xpusim_fuzz::scalesim_topology(data));
