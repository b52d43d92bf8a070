//! `cargo +nightly fuzz run parse` (from crates/xpusim-onnx): any byte string must import
//! or fail with an error, never panic. Seed the corpus with the shared models:
//! `mkdir -p corpus/parse && cp ../../../shared/models/*.onnx corpus/parse/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xpusim_onnx::{import_bytes, OnnxOptions};

fuzz_target!(|data: &[u8]| {
    let _ = import_bytes("fuzz.onnx", data, &OnnxOptions::default());
});
