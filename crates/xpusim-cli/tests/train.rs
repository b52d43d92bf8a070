//! `xpusim train`: the table of a fixed layout (snapshot), the layout search, and the
//! errors of layouts that cannot run or do not fit.

use std::process::Command;

fn xpusim(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("run xpusim");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn table_of_a_fixed_layout() {
    let (ok, out, err) = xpusim(&[
        "train",
        "--model",
        "llama-2-7b",
        "--hw",
        "dgx-a100",
        "--nodes",
        "2",
        "--tp",
        "4",
        "--pp",
        "2",
        "--sp",
        "--seq",
        "4096",
        "--global-batch",
        "256",
        "--recompute",
        "selective",
        "--tokens",
        "2e12",
    ]);
    assert!(ok, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn json_has_the_step_the_memory_and_the_run() {
    let (ok, out, err) = xpusim(&[
        "train",
        "--model",
        "gpt3-175b",
        "--hw",
        "dgx-a100",
        "--nodes",
        "8",
        "--tp",
        "8",
        "--pp",
        "8",
        "--sp",
        "--seq",
        "2048",
        "--global-batch",
        "64",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "step_time_s",
        "mfu",
        "hfu",
        "tokens_per_s",
        "energy_per_step_j",
    ] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}");
    }
    assert!(
        v["memory"]["total_bytes"].as_u64().unwrap()
            <= v["memory"]["capacity_bytes"].as_u64().unwrap()
    );
    assert_eq!(v["devices"], 64);
    assert!(v["run"]["device_hours"].as_f64().unwrap() > 0.0);
}

#[test]
fn without_a_layout_the_fastest_that_fits_is_searched() {
    let (ok, out, err) = xpusim(&[
        "train",
        "--model",
        "llama-2-7b",
        "--hw",
        "dgx-h100",
        "--seq",
        "2048",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(rows.len() > 10, "{out}");
    // The first row is the fastest layout that fits.
    assert!(rows[0].contains(",true,"), "{}", rows[0]);
    let step = |r: &str| r.split(',').nth(4).unwrap().parse::<f64>().unwrap();
    for r in &rows[1..] {
        if r.contains(",true,") {
            assert!(step(r) >= step(rows[0]));
        }
    }
}

#[test]
fn a_layout_that_does_not_fit_is_an_error_with_the_change_that_fits() {
    let (ok, _, err) = xpusim(&[
        "train",
        "--model",
        "llama-2-7b",
        "--hw",
        "dgx-a100",
        "--tp",
        "1",
        "--dp",
        "8",
        "--zero",
        "0",
        "--seq",
        "4096",
        "--micro-batch",
        "8",
        "--global-batch",
        "64",
    ]);
    assert!(!ok);
    assert!(err.contains("does not fit"), "{err}");
    assert!(err.contains(" GB"), "{err}");
    assert!(err.contains("smallest change that fits"), "{err}");
}

#[test]
fn bad_options_are_errors_that_say_what_to_do() {
    for (args, what) in [
        (vec!["--hw", "a100-80gb", "--nodes", "2"], "needs a system"),
        (vec!["--hw", "dgx-a100", "--tp", "3"], "does not divide"),
        (vec!["--hw", "dgx-a100", "--schedule", "zigzag"], "1f1b"),
        (
            vec!["--hw", "dgx-a100", "--tp", "2", "--dp", "2"],
            "dp·tp·pp·cp = 2·2·1·1 = 4",
        ),
        (vec!["--hw", "dgx-a100", "--recompute", "some"], "selective"),
        (
            vec!["--hw", "dgx-a100", "--tp", "8", "--schedule", "dualpipe"],
            "even number of pipeline stages",
        ),
        (
            vec![
                "--hw",
                "dgx-a100",
                "--tp",
                "8",
                "--global-batch",
                "3",
                "--dp",
                "1",
                "--micro-batch",
                "2",
            ],
            "multiple",
        ),
    ] {
        let mut a = vec!["train", "--model", "llama-2-7b"];
        a.extend(args);
        let (ok, _, err) = xpusim(&a);
        assert!(!ok, "{a:?}");
        assert!(err.contains(what), "{a:?}: {err}");
    }
}

/// A Hugging Face config.json trains like the zoo model it describes.
#[test]
fn a_hugging_face_config_trains_like_the_zoo_model() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../xpusim-hf/tests/fixtures/llama-3.1-8b.json"
    );
    let run = |model: &str| -> serde_json::Value {
        let (ok, out, err) = xpusim(&[
            "train",
            "--model",
            model,
            "--hw",
            "dgx-a100",
            "--tp",
            "8",
            "--dp",
            "1",
            "--seq",
            "2048",
            "--global-batch",
            "8",
            "--format",
            "json",
        ]);
        assert!(ok, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let (hf, zoo) = (run(fixture), run("llama-3.1-8b"));
    assert_eq!(hf["params"], zoo["params"]);
    let (a, b) = (
        hf["step_time_s"].as_f64().unwrap(),
        zoo["step_time_s"].as_f64().unwrap(),
    );
    assert!((a / b - 1.0).abs() < 1e-6, "{a} vs {b}");
}

/// `--rank cost` also tries fractions of the cluster and lists dollars per million tokens,
/// ranked.
#[test]
fn ranking_by_cost_tries_fewer_devices_and_orders_by_dollars() {
    let (ok, out, err) = xpusim(&[
        "train",
        "--model",
        "llama-2-7b",
        "--hw",
        "dgx-h100",
        "--nodes",
        "2",
        "--seq",
        "2048",
        "--rank",
        "cost",
        "--top",
        "50",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("best layouts by cost"), "{out}");
    let rows: Vec<(u64, f64)> = out
        .lines()
        .filter(|l| l.contains("tp=") && l.contains("┆ yes"))
        .map(|l| {
            let cells: Vec<&str> = l.split('┆').map(str::trim).collect();
            let devices = cells[1].parse().unwrap();
            let usd = cells[6].trim_end_matches('│').trim().parse().unwrap();
            (devices, usd)
        })
        .collect();
    assert!(rows.len() > 5, "{out}");
    assert!(rows.windows(2).all(|w| w[0].1 <= w[1].1), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 < 16), "{rows:?}");
}

/// DeepSeek's DualPipe from the command line: two stages per device, so twice the
/// parameters' memory of 1F1B on the same layout, and the communication an overlapped pair
/// hides is not on the step's critical path.
#[test]
fn dualpipe_holds_two_stages_and_hides_the_all_to_alls() {
    let run = |schedule: &str| {
        let (ok, out, err) = xpusim(&[
            "train",
            "--model",
            "mixtral-8x7b",
            "--hw",
            "dgx-h100",
            "--nodes",
            "8",
            "--tp",
            "1",
            "--pp",
            "4",
            "--dp",
            "16",
            "--ep",
            "8",
            "--global-batch",
            "256",
            "--seq",
            "2048",
            "--recompute",
            "full",
            "--schedule",
            schedule,
            "--format",
            "json",
        ]);
        assert!(ok, "{schedule}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let (one, dual) = (run("1f1b"), run("dualpipe"));
    assert_eq!(dual["layout"]["schedule"], "dualpipe");
    let w = |v: &serde_json::Value| v["memory"]["weights_bytes"].as_f64().unwrap();
    assert!(
        (w(&dual) / w(&one) - 2.0).abs() < 0.01,
        "{} vs {}",
        w(&dual),
        w(&one)
    );
    let a2a = |v: &serde_json::Value| {
        v["breakdown"]["communication_s"]["ep_alltoall"]
            .as_f64()
            .unwrap_or(0.0)
    };
    assert!(a2a(&dual) < a2a(&one));
    assert!(dual["step_time_s"].as_f64() < one["step_time_s"].as_f64());
}
