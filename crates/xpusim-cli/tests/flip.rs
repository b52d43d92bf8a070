//! `xpusim flip`: summary, HTML report, JSON, and one-line errors for bad inputs.

use std::process::{Command, Output};

fn xpusim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("xpusim-flip-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn flip_prints_the_summary_and_writes_the_report() {
    let dir = scratch("ok");
    let html = dir.join("out.html");
    let out = xpusim(&[
        "flip",
        "--hw",
        "h100-sxm,xformer-asic",
        "--html",
        html.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("samples per TCO dollar"), "{text}");
    for needle in [
        "xformer-asic",
        "Best per scenario",
        "Pareto across scenarios",
        "Missing generality",
        "Lifetime",
        // The training eras, the training-heavy scenario, and Llama 3 8B not fitting on one
        // 80 GB device.
        "llm-train",
        "training-heavy →",
        "With training: in `training-heavy` (50% of demand training)",
        "Training memory: no layout of llama-3-8b train fits on h100-sxm ×2",
    ] {
        assert!(text.contains(needle), "no `{needle}` in\n{text}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<table id=\"ranking\"") && page.contains("<svg"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flip_json_has_analysis_and_verdicts() {
    let out = xpusim(&[
        "flip",
        "--hw",
        "h100-sxm,host-cpu",
        "--metric",
        "energy",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["analysis"]["metric"], "energy");
    assert_eq!(v["analysis"]["names"].as_array().unwrap().len(), 2);
    assert!(!v["verdicts"].as_array().unwrap().is_empty());
}

#[test]
fn bad_scenarios_file_is_a_one_line_error() {
    let dir = scratch("bad");
    let f = dir.join("s.toml");
    std::fs::write(
        &f,
        "[[scenario]]\nname = \"x\"\nmix = { transformers = 1 }\n",
    )
    .unwrap();
    let out = xpusim(&[
        "flip",
        "--hw",
        "h100-sxm",
        "--scenarios",
        f.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("s.toml") && err.contains("mix.transformers") && err.contains("unknown era"),
        "{err}"
    );
    let out = xpusim(&["flip", "--hw", "h100-sxm", "--metric", "speed"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown `speed`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_html_writes_the_model_report_with_host_ops() {
    let dir = scratch("run");
    let html = dir.join("run.html");
    let out = xpusim(&[
        "run",
        "--model",
        "resnet-50",
        "--hw",
        "xformer-asic",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<table id=\"host\"") && page.contains("conv"),
        "host ops listed"
    );
    assert!(page.contains("id=\"roofline\"") && page.contains("on host-cpu (conv not native)"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("native coverage on xformer-asic") && text.contains("conv"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_html_writes_heatmaps() {
    let dir = scratch("cmp");
    let html = dir.join("cmp.html");
    let out = xpusim(&[
        "compare",
        "--models",
        "bert-base",
        "--hw",
        "h100-sxm,t4",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"speed\"") && page.contains("<table id=\"latency\""));
    let _ = std::fs::remove_dir_all(&dir);
}
