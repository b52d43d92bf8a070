//! `xpusim run --mapper npu --arch A`: the chosen mapping per op, and a clear error when a
//! scratchpad cannot hold the smallest legal tile.

use std::process::Command;

fn xpusim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

#[test]
fn npu_mapper_reports_a_mapping_per_contraction() {
    let o = xpusim(&[
        "run",
        "--model",
        "resnet-50",
        "--batch",
        "1",
        "--mapper",
        "npu",
        "--arch",
        "tpu-v4",
        "--objective",
        "energy",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let ops = v["layer_by_layer"]["ops"].as_array().expect("ops");
    assert!(ops.len() > 20);
    for op in ops {
        assert!(
            op["levels"].as_array().expect("levels").len() == 2,
            "vmem and cmem tiles"
        );
        assert!(op["energy"]["total_pj"].as_f64().expect("energy") > 0.0);
    }
    assert_eq!(v["objective"], "energy");
    let stages = v["pipelined"]["stages"].as_array().expect("stages");
    assert!(
        !stages.is_empty() && stages.len() <= 8,
        "at most one stage per core"
    );
    assert!(v["area_mm2"]["chip_mm2"].as_f64().expect("area") > 0.0);
}

#[test]
fn a_too_small_scratchpad_names_the_op_and_capacity() {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../xpusim-hw/presets/furiosa-rngd.toml"
    );
    let text = std::fs::read_to_string(src)
        .expect("furiosa-rngd preset")
        .replace("capacity_bytes = 33554432", "capacity_bytes = 2048");
    let dir = std::env::temp_dir().join(format!("xpusim-npu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tiny.toml");
    std::fs::write(&path, text).expect("write");
    let o = xpusim(&[
        "run",
        "--model",
        "bert-base",
        "--mapper",
        "npu",
        "--arch",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("smallest legal tile") && e.contains("pe-sram") && e.contains("2048 B"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_arch_is_a_clear_error() {
    let o = xpusim(&[
        "run",
        "--model",
        "resnet-50",
        "--mapper",
        "npu",
        "--arch",
        "tpu-v9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("tpu-v9") && e.contains("eyeriss"), "{e}");
}

#[test]
fn retired_like_names_suggest_the_device_presets() {
    for (old, new) in [("tpu-v4-like", "tpu-v4"), ("atom-like", "rebellions-atom")] {
        let o = xpusim(&[
            "run",
            "--model",
            "resnet-50",
            "--mapper",
            "npu",
            "--arch",
            old,
        ]);
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&format!("did you mean {new}?")), "{e}");
    }
}

#[test]
fn a_device_without_an_array_section_is_a_clear_error() {
    let o = xpusim(&[
        "run",
        "--model",
        "resnet-50",
        "--mapper",
        "npu",
        "--arch",
        "h100-sxm",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("h100-sxm") && e.contains("[array]"), "{e}");
}

#[test]
fn every_array_device_maps_a_transformer_in_its_natural_format() {
    for arch in ["rebellions-atom", "furiosa-rngd", "eyeriss", "npu-systolic"] {
        let o = xpusim(&[
            "run",
            "--model",
            "bert-base",
            "--seq",
            "64",
            "--mapper",
            "npu",
            "--arch",
            arch,
            "--format",
            "json",
        ]);
        assert!(
            o.status.success(),
            "{arch}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(v["arch"], arch);
        assert!(v["layer_by_layer"]["energy_j"].as_f64().expect("energy") > 0.0);
    }
}

/// Issue #16: `--mapper npu` required --hw and then ignored it (and --top). --hw names the
/// device; --top limits the table to the ops with the most cycles; a conflict is an error.
#[test]
fn npu_mapper_takes_hw_and_top() {
    let run = |extra: &[&str]| {
        let mut a = vec![
            "run",
            "--model",
            "resnet-50",
            "--batch",
            "1",
            "--mapper",
            "npu",
        ];
        a.extend_from_slice(extra);
        xpusim(&a)
    };
    let o = run(&["--hw", "tpu-v4", "--top", "3"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("TPU v4"), "{out}");
    let rows = out.lines().filter(|l| l.starts_with("│ ")).count();
    assert_eq!(rows, 1 + 3, "header and three ops: {out}");
    assert!(out.contains("more mapped ops not shown"), "{out}");
    let same = run(&["--arch", "tpu-v4", "--top", "3"]);
    assert_eq!(same.stdout, o.stdout);
    let o = run(&["--hw", "tpu-v4", "--arch", "eyeriss"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("different devices"),
        "{err}"
    );
}
