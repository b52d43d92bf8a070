//! Shared helpers for the integration tests: the shared model directory and its manifest.
#![allow(dead_code)]

pub mod build;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `../shared/models`, or None where it is absent (never under `CI=true`: CI has it).
pub fn models_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models");
    let found = d.join("manifest.csv").exists();
    assert!(
        found || std::env::var("CI").as_deref() != Ok("true"),
        "../shared/models is required under CI=true: a test that reads it must not skip"
    );
    found.then_some(d)
}

/// Minimal RFC-4180 CSV reader (quoted fields, doubled quotes).
pub fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut q = false;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match (q, c) {
            (true, '"') if it.peek() == Some(&'"') => {
                field.push('"');
                it.next();
            }
            (true, '"') => q = false,
            (true, c) => field.push(c),
            (false, '"') => q = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

pub struct Entry {
    pub file: String,
    pub inputs: BTreeMap<String, Vec<u64>>,
    pub macs: u64,
    pub macs_sub: u64,
}

pub fn manifest(dir: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(dir.join("manifest.csv")).expect("manifest");
    let rows = csv(&text);
    let h = &rows[0];
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (cf, ci, cm, cs) = (
        col("file"),
        col("concrete_inputs"),
        col("macs_top_measured_by_onnxruntime_shapes"),
        col("macs_in_subgraphs"),
    );
    rows[1..]
        .iter()
        .filter(|r| r.len() == h.len())
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r[ci]).expect("concrete_inputs");
            let mut inputs = BTreeMap::new();
            for pair in v.as_array().expect("array") {
                let name = pair[0].as_str().expect("name").to_string();
                let shape = pair[1]
                    .as_array()
                    .expect("shape")
                    .iter()
                    .map(|d| d.as_u64().expect("dim"))
                    .collect();
                inputs.insert(name, shape);
            }
            Entry {
                file: r[cf].clone(),
                inputs,
                macs: r[cm].parse().expect("macs"),
                macs_sub: r[cs].parse().unwrap_or(0),
            }
        })
        .collect()
}
