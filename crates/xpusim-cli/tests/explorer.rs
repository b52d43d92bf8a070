//! `xpusim explorer`: the page is self-contained and small, and in headless Chromium, opened
//! from a `file://` URL, it shows exactly what the command line prints for the same inputs —
//! for presets and for a chip edited through the URL. Without /usr/bin/chromium (or without
//! the wasm32-wasip1 target at build time) the browser checks skip with a message locally
//! and fail under CI=true.

use std::path::{Path, PathBuf};
use std::process::Command;

use xpusim_cli::{output, run_cli};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The issue's ceiling on what a visitor downloads.
const MAX_PAGE_BYTES: u64 = 5_000_000;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (returns false) locally, panics under CI.
fn need(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(!in_ci(), "CI=true: {what}");
        eprintln!("skipped: {what}");
    }
    ok
}

fn cli(argv: &[&str]) -> Result<String, String> {
    let (r, got) = output::capture(|| run_cli(argv.iter().copied()));
    r.map(|()| got.stdout).map_err(|e| e.to_string())
}

/// Writes the site into a fresh directory; None when this build has no engine.
fn site(tag: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("xpusim-explorer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    match cli(&["explorer", "--out", dir.to_str().expect("utf-8 temp dir")]) {
        Ok(_) => Some(dir),
        Err(e) if e.contains("built without the explorer") => {
            need(false, &format!("this build has no explorer engine: {e}"));
            None
        }
        Err(e) => panic!("explorer failed: {e}"),
    }
}

#[test]
fn the_page_is_one_small_self_contained_file() {
    let Some(dir) = site("page") else { return };
    let index = dir.join("index.html");
    let bytes = std::fs::metadata(&index).expect("index.html").len();
    assert!(bytes < MAX_PAGE_BYTES, "index.html is {bytes} bytes");
    let html = std::fs::read_to_string(&index).expect("utf-8");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"<output id="result""#));
    // Nothing is fetched from elsewhere: it must open from a file with no network.
    for ext in ["src=\"http", "href=\"http", "@import", "fetch("] {
        assert!(!html.contains(ext), "external resource `{ext}`");
    }
    // Every control has a label.
    for id in [
        "model",
        "hw",
        "phase",
        "batch",
        "seq",
        "precision",
        "rate",
        "t-hw",
        "t-tp",
    ] {
        assert!(
            html.contains(&format!(r#"<label for="{id}""#)),
            "no label for #{id}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn chromium_dom(dir: &Path, url: &str) -> String {
    let profile = dir.join("profile");
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // No --virtual-time-budget: the page computes its first result before its load
            // event, so a plain --dump-dom (the issue's check) sees it.
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The attribute `name` of the `<output id="result">` element.
fn result_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find(r#"<output id="result""#)?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(r#" {name}=""#);
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

fn page_numbers(dir: &Path, query: &str) -> [f64; 3] {
    let url = format!("file://{}/index.html?{query}", dir.display());
    let dom = chromium_dom(dir, &url);
    let state = result_attr(&dom, "data-state");
    assert_eq!(
        state.as_deref(),
        Some("ready"),
        "{query}: page not ready; error box: {:?}",
        dom.split(r#"<div id="error" role="alert">"#)
            .nth(1)
            .and_then(|s| s.split("</div>").next())
    );
    ["data-latency-s", "data-energy-j", "data-throughput-per-s"].map(|a| {
        result_attr(&dom, a)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{query}: no number in {a}"))
    })
}

fn cli_numbers(argv: &[&str]) -> [f64; 3] {
    let out = cli(argv).expect("the CLI runs");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    ["latency_s", "energy_j", "throughput_per_s"].map(|k| v[k].as_f64().expect(k))
}

/// The page prints numbers in JavaScript's shortest round-trip form, so they are the
/// engine's f64s exactly; the page's engine is an optimised build, and this test's CLI is
/// whatever profile runs the tests. Optimised builds agree to the bit (the release binary and
/// the page print the same digits); a debug build can differ in the last bit or two of a
/// long sum, hence 1e-12 relative.
fn same(page: [f64; 3], cli: [f64; 3], what: &str) {
    for (p, c) in page.iter().zip(cli) {
        assert!(
            (p - c).abs() <= 1e-12 * c.abs(),
            "{what}: page {page:?} vs CLI {cli:?}"
        );
    }
}

#[test]
fn chromium_shows_what_the_cli_prints() {
    if !need(
        Path::new(CHROMIUM).exists(),
        &format!("{CHROMIUM} not installed (apt-get install chromium)"),
    ) {
        return;
    }
    let Some(dir) = site("browser") else { return };
    // The page's URL keys are the CLI's flags: `model=…&hw=…` runs `run --model … --hw …`.
    for query in [
        "model=llama-2-7b&hw=h100-sxm&phase=decode&batch=8",
        "model=resnet-50&hw=a100-80gb&phase=inference&batch=32",
        "model=gpt2&hw=tpu-v4&phase=prefill&batch=4&seq=512&precision=bf16",
    ] {
        let mut argv = vec!["run".to_string()];
        for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
            argv.extend([format!("--{k}"), v.to_string()]);
        }
        argv.extend(["--format".to_string(), "json".to_string()]);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        same(page_numbers(&dir, query), cli_numbers(&argv), query);
    }

    // A chip edited through the URL: double H100's HBM bandwidth. Decode at batch 8 is
    // memory-bound, so it must get faster, and equal the CLI on the same edited file.
    let (_, spec) = xpusim_cli::bindings::hw_source_json("h100-sxm").expect("preset");
    let mut spec: serde_json::Value = serde_json::from_str(&spec).expect("json");
    let mem = spec["memory"].as_array().expect("memory levels").len() - 1;
    let path = format!("memory.{mem}.bandwidth_gbps");
    let hbm = spec["memory"][mem]["bandwidth_gbps"]
        .as_f64()
        .expect("bandwidth");
    spec["memory"][mem]["bandwidth_gbps"] = (2.0 * hbm).into();
    spec["name"] = "h100-sxm-edited".into();
    let toml = xpusim_cli::bindings::json_to_toml("edited", &spec.to_string()).expect("as TOML");
    let file = dir.join("h100-edited.toml");
    std::fs::write(&file, toml).expect("write");
    let query = format!(
        "model=llama-2-7b&hw=h100-sxm&phase=decode&batch=8&edit.{path}={}",
        2.0 * hbm
    );
    let edited = page_numbers(&dir, &query);
    let f = file.to_str().expect("utf-8");
    let decode = |hw: &str| {
        cli_numbers(&[
            "run",
            "--model",
            "llama-2-7b",
            "--hw",
            hw,
            "--phase",
            "decode",
            "--batch",
            "8",
            "--format",
            "json",
        ])
    };
    let cli_edited = decode(f);
    same(edited, cli_edited, &query);
    let preset = decode("h100-sxm");
    assert!(
        edited[0] < 0.75 * preset[0],
        "doubling HBM bandwidth should speed memory-bound decode: {} s vs {} s",
        edited[0],
        preset[0]
    );

    // A bad edit is an error naming the field, not a silent preset result.
    let url = format!(
        "file://{}/index.html?model=llama-2-7b&hw=h100-sxm&edit.memory.9.bandwidth_gbps=1",
        dir.display()
    );
    let dom = chromium_dom(&dir, &url);
    assert_eq!(result_attr(&dom, "data-state").as_deref(), Some("error"));
    assert!(
        dom.contains("edit.memory.9.bandwidth_gbps: no such field"),
        "the error names the edit"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
