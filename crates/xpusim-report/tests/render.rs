//! The HTML report renders in headless Chromium with its tables and charts. Skipped, with
//! a message, where /usr/bin/chromium is absent (`.ci/run` installs it where it can).

use std::path::{Path, PathBuf};
use std::process::Command;

use xpusim_flip::{
    analyse, builtin_scenarios, builtin_timeline, era_suite, evaluate, summary, Design, Metric,
};

const CHROMIUM: &str = "/usr/bin/chromium";

fn report() -> String {
    let designs = ["h100-sxm", "xformer-asic", "host-cpu"]
        .iter()
        .map(|n| Design::new(xpusim_target::Target::load(n).unwrap()))
        .collect();
    let ev = evaluate(designs, &era_suite()).unwrap();
    let (s, t) = (builtin_scenarios(), builtin_timeline());
    let a = analyse(&ev, Metric::Tco, &s, &t).unwrap();
    let v = summary::verdicts(&a, &ev);
    xpusim_report::flip_report(&ev, &a, &s, &t, &v).unwrap()
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("xpusim-report-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn chromium(dir: &Path, args: &[&str]) -> std::process::Output {
    let profile = dir.join("profile");
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn report_is_self_contained() {
    let html = report();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in [
        "verdicts", "ranking", "regret", "lifetime", "coverage", "heatmap", "pareto",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    assert!(html.matches("<svg").count() >= 4);
    // Nothing is fetched from elsewhere.
    for ext in ["src=\"http", "href=\"http", "<script", "@import", "url("] {
        assert!(!html.contains(ext), "external resource `{ext}`");
    }
}

#[test]
fn chromium_renders_tables_and_charts() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} not installed (apt-get install chromium)");
        return;
    }
    let dir = scratch();
    let page = dir.join("flip.html");
    std::fs::write(&page, report()).unwrap();
    let url = format!("file://{}", page.display());
    let out = chromium(&dir, &["--dump-dom", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    for id in ["ranking", "regret", "lifetime", "coverage"] {
        assert!(
            dom.contains(&format!("<table id=\"{id}\"")),
            "rendered DOM lacks table #{id}"
        );
    }
    assert!(
        dom.matches("<svg").count() >= 4,
        "rendered DOM lacks the charts"
    );
    assert!(dom.contains("xformer-asic") && dom.contains("Verdicts"));
    let shot = dir.join("shot.png");
    let out = chromium(
        &dir,
        &[
            "--window-size=1200,2400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A blank 1200×2400 page compresses to a few kB; tables and charts take far more.
    assert!(png.len() > 50_000, "screenshot only {} bytes", png.len());
    let _ = std::fs::remove_dir_all(&dir);
}
