//! The shipped validation set (data/validation) must not regress past data/validation/bounds.toml.

use std::path::PathBuf;

use xpusim_validate::{Predictor, Report};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(serde::Deserialize)]
struct Bounds {
    files: Vec<String>,
    mape_pct: std::collections::BTreeMap<String, f64>,
}

#[test]
fn held_out_error_stays_within_recorded_bounds() {
    let text = std::fs::read_to_string(root().join("data/validation/bounds.toml")).unwrap();
    let b: Bounds = toml::from_str(&text).unwrap();
    if !root().join("../shared/calibration").is_dir() {
        // The CSVs are in the repo, but keep the same rule as every shared-data test.
        eprintln!("note: ../shared/calibration absent; the shipped CSVs are checked anyway");
    }
    let mut rows = Vec::new();
    for f in &b.files {
        rows.extend(xpusim_validate::read(&root().join(f)).unwrap());
    }
    let r = Report::run(&rows, &mut Predictor::default());
    eprint!("{}", xpusim_validate::render::summary_md(&r));
    assert!(!b.mape_pct.is_empty(), "bounds.toml records no bound");
    for (what, bound) in &b.mape_pct {
        let s = match what.as_str() {
            "overall" => r.overall(),
            "kernel" | "model" | "energy" => r.class(what),
            cat => r
                .by_category()
                .remove(cat)
                .unwrap_or_else(|| panic!("no category `{cat}`")),
        };
        let got = s
            .mape_pct
            .unwrap_or_else(|| panic!("`{what}` has no held-out rows"));
        assert!(
            got <= *bound,
            "held-out MAPE of `{what}` regressed: {got:.2}% > bound {bound}%"
        );
    }
}
