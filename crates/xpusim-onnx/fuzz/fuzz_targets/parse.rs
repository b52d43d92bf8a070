//! `cargo +nightly fuzz run parse` (from crates/xpusim-onnx): any byte string must import
//! or fail with an error, never panic. Seed the corpus with the shared models:
//! `mkdir -p fuzz/corpus/parse && cp ../../../shared/models/*.onnx fuzz/corpus/parse/`.
//!
//! Each input is imported twice: with default options (symbolic dims unbound), and with
//! every graph input bound to its declared shape, unknown dims set to 2, so that fuzzing
//! also reaches shape inference and lowering of dynamic models.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use xpusim_onnx::proto::{DimValue, ModelProto};
use xpusim_onnx::{import_bytes, OnnxOptions};

fuzz_target!(|data: &[u8]| {
    let _ = import_bytes("fuzz.onnx", data, &OnnxOptions::default());
    let Ok(m) = ModelProto::decode(data) else {
        return;
    };
    let mut opts = OnnxOptions::default();
    for vi in m.graph.iter().flat_map(|g| &g.input) {
        let dims = vi
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .and_then(|t| t.shape.as_ref())
            .map(|s| {
                s.dim
                    .iter()
                    .map(|d| match d.value {
                        Some(DimValue::DimValue(v)) if (0..=1 << 20).contains(&v) => v as u64,
                        _ => 2,
                    })
                    .collect()
            })
            .unwrap_or_default();
        opts.inputs.insert(vi.name.clone(), dims);
    }
    let _ = import_bytes("fuzz.onnx", data, &opts);
});
