//! `xpusim validate` and `xpusim calibrate` end to end on the shipped validation files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Data rows of a shipped CSV: every line that is not blank, a `#` comment or the header. The
/// tests below check that `validate` reports each of them, so a newly sourced row never needs a
/// test edit.
fn data_rows(path: &str) -> usize {
    let text = std::fs::read_to_string(root().join(path)).expect("the shipped CSV reads");
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    lines.count().saturating_sub(1)
}

fn xpusim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

/// `validate FILE --format json` on a shipped file: the JSON, after checking that it ran and
/// reports one row per data row of the file.
fn validate_json(file: &str) -> serde_json::Value {
    let o = xpusim(&["validate", file, "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["rows"].as_array().expect("rows").len(), data_rows(file));
    v
}

#[test]
fn validate_prints_every_row_and_mape_as_json() {
    let v = validate_json("data/validation/public.csv");
    let rows = v["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert!(r["error_pct"].is_number() && r["predicted"].is_number());
    }
    assert!(v["mape_pct"]["overall"].as_f64().is_some_and(|m| m > 0.0));
}

/// DeepBench's training workbooks: every GEMM and skip-input RNN row is predicted, none skipped.
#[test]
fn validate_predicts_every_deepbench_training_row() {
    let f = "data/validation/deepbench-train.csv";
    let v = validate_json(f);
    let rows = v["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["split"], "test", "{r}");
    }
}

/// TensorRT's BERT demo: every encoder row (3 GPUs x 2 models x 2 sequence lengths x 10
/// batches x FP16/INT8) is predicted and held out.
#[test]
fn validate_predicts_every_trt_bert_row() {
    let v = validate_json("data/validation/trt-bert.csv");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 240);
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["split"], "test", "{r}");
        assert_eq!(r["category"], "model/encoder inference", "{r}");
    }
}

/// FlashAttention-3's Fig. 5 (6 panels of head dim and mask, 2-4 implementations, 6 sequence
/// lengths, one hidden label: 131 rows) and FlashAttention-2's forward + backward on A100 and
/// H100 (2 × 4 panels of 6 lengths, three hidden labels: 45 rows): every attention kernel row
/// is predicted and held out.
#[test]
fn validate_predicts_every_attention_row() {
    let v = validate_json("data/validation/attention.csv");
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 131 + 45);
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["split"], "test", "{r}");
        assert_eq!(r["class"], "kernel", "{r}");
    }
}

/// DeepGEMM's FP8 GEMMs on the H800: every dense and grouped row is predicted; the source is a
/// fit source whose flagged rows are the dense M = 4096 GEMMs (the FP8 matrix efficiency).
#[test]
fn validate_predicts_every_deepgemm_row() {
    let f = "data/validation/deepgemm.csv";
    let v = validate_json(f);
    let rows = v["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["split"], "fit", "{r}");
        assert_eq!(r["hardware"], "h800", "{r}");
        let flagged = r["used_for_calibration"].as_bool();
        let m4096 = r["id"]
            .as_str()
            .is_some_and(|id| id.contains("-gemm-4096x"));
        assert_eq!(flagged, Some(m4096), "{r}");
    }
}

#[test]
fn validate_predicts_every_power_row_apart_from_the_time_figures() {
    let v = validate_json("data/validation/power.csv");
    let rows = v["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(
            (r["status"].as_str(), r["class"].as_str()),
            (Some("ok"), Some("energy")),
            "{r}"
        );
        assert!(
            r["predicted"]
                .as_f64()
                .is_some_and(|p| p.is_finite() && p > 0.0),
            "{r}"
        );
    }
    assert_eq!(
        v["classes"]["energy"]["n"].as_u64(),
        Some(rows.len() as u64)
    );
    assert!(v["energy_metrics"]["power_w"]["mape_pct"].is_number());
    assert!(v["energy_metrics"]["power_w"]["bias_pct"].is_number());
    // Watts never enter the time and throughput figures.
    assert!(v["mape_pct"]["overall"].is_null());
}

#[test]
fn validate_predicts_training_rows_or_says_why_not() {
    let v = validate_json("data/validation/training.csv");
    let rows = v["rows"].as_array().expect("rows");
    for r in rows {
        assert_eq!(r["class"], "train", "{r}");
        match r["status"].as_str() {
            Some("ok") => assert!(r["error_pct"].is_number() && r["predicted"].is_number()),
            _ => assert!(r["reason"].as_str().is_some_and(|w| !w.is_empty()), "{r}"),
        }
    }
    assert!(v["classes"]["train"]["n"].as_u64().is_some_and(|n| n > 0));
}

#[test]
fn calibrate_prints_curves_that_load_as_a_device_file() {
    let out = std::env::temp_dir().join(format!("xpusim-cal-{}.toml", std::process::id()));
    let o = xpusim(&[
        "calibrate",
        "data/validation/vidur.csv",
        "--hw",
        "h100-sxm",
        "--families",
        "vector",
        "--write",
        out.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dev = xpusim_hw::load_device(out.to_str().unwrap_or_default()).expect("loads");
    assert!(!dev.calibration.is_empty());
    let _ = std::fs::remove_file(&out);
}

#[test]
fn bad_input_is_a_one_line_error() {
    let o = xpusim(&[
        "calibrate",
        "data/validation/vidur.csv",
        "--hw",
        "h100-sxm",
        "--families",
        "tensor",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown family `tensor`"));
    let o = xpusim(&["validate", "no/such/file.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.csv"));
}

/// Issue #16: `validate` printed ~2,700 rows by default. The table lists the 20 largest
/// errors and says how many it left out; `--rows all` lists every row.
#[test]
fn the_table_lists_the_largest_errors_unless_asked_for_all() {
    let o = xpusim(&["validate", "data/validation/vidur.csv"]);
    assert!(o.status.success());
    let t = String::from_utf8_lossy(&o.stdout);
    let listed: Vec<f64> = t
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('('))
        .filter_map(|l| l.split_whitespace().nth(4)?.parse::<f64>().ok())
        .collect();
    assert_eq!(listed.len(), 20, "{t}");
    assert!(
        listed.windows(2).all(|w| w[0].abs() >= w[1].abs()),
        "largest first: {listed:?}"
    );
    assert!(t.contains("20 of ") && t.contains("--rows all"), "{t}");
    let o = xpusim(&["validate", "data/validation/vidur.csv", "--rows", "all"]);
    let all = String::from_utf8_lossy(&o.stdout);
    assert!(all.lines().count() > 1000 && !all.contains("rows shown"));
}

/// The FP8 efficiency rule end to end: what `calibrate --dtype fp8` prints is the h800
/// preset's shipped value; a format the tool does not know is a one-line error naming the flag.
#[test]
fn calibrate_derives_the_shipped_fp8_efficiency() {
    let calibrate = |dtype: &str| {
        xpusim(&[
            "calibrate",
            "data/validation/deepgemm.csv",
            "--hw",
            "h800",
            "--matrix-efficiency",
            "--dtype",
            dtype,
        ])
    };
    let o = calibrate("fp8");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let shipped = include_str!("../../xpusim-hw/presets/h800.toml")
        .lines()
        .find(|l| l.starts_with("efficiency_by_format"))
        .expect("h800 ships an FP8 efficiency")
        .to_string();
    assert!(out.contains(&shipped), "{out} vs {shipped}");
    let bad = calibrate("fp7");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--dtype"));
}
