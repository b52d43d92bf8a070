//! Mutated fixture configs never panic: they import and build, or return an error.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use xpusim_ir::Phase;
use xpusim_models::Workload;

fn fixtures() -> Vec<(String, serde_json::Map<String, Value>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let Value::Object(o) = serde_json::from_str(&text).unwrap() else {
                panic!()
            };
            (p.display().to_string(), o)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn mutated_configs_do_not_panic(
        which in 0usize..64,
        field in 0usize..64,
        value in prop_oneof![
            Just(Value::from(0u64)), Just(Value::from(1u64)), Just(Value::from(3u64)),
            Just(Value::from(1u64 << 20)), Just(Value::from(1u64 << 24)),
            Just(Value::from(1u64 << 40)), Just(Value::from(u64::MAX)), Just(Value::from(-1i64)),
            Just(Value::from(2.5f64)), Just(Value::Null), Just(Value::from("auto")),
            Just(Value::Bool(true)),
        ],
        batch in 1u64..4, seq in 1u64..300, ctx in 0u64..300,
    ) {
        let all = fixtures();
        let (name, mut obj) = all[which % all.len()].clone();
        let numeric: Vec<String> = obj
            .iter()
            .filter(|(_, v)| v.is_number() || v.is_boolean() || v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        let key = numeric[field % numeric.len()].clone();
        obj.insert(key, value);
        let text = Value::Object(obj).to_string();
        if let Ok(m) = xpusim_hf::parse(&text, Path::new(&name)) {
            for &ph in m.config.phases() {
                let _ = m.config.build(&Workload::new(ph, batch, seq, ctx));
            }
            let _ = m.config.build(&Workload::new(Phase::Decode, batch, 1, u64::MAX));
        }
    }
}
