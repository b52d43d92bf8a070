//! End-to-end checks of the `xpusim` binary: the main commands work on built-in defaults,
//! and bad input gives a clear error (exit code 2), never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn xpusim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xpusim"))
        .args(args)
        .output()
        .expect("the xpusim binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = xpusim(args);
    assert!(
        o.status.success(),
        "xpusim {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(args: &[&str]) -> String {
    let o = xpusim(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "xpusim {args:?} should fail cleanly"
    );
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!e.contains("panicked"), "{e}");
    e
}

#[test]
fn compare_with_no_arguments_prints_the_era_suite() {
    let out = ok(&["compare"]);
    for m in [
        "resnet-50",
        "lstm-lm",
        "bert-base",
        "llama-2-7b prefill",
        "llama-2-7b decode",
        "mixtral-8x7b",
        "mamba-2.8b",
    ] {
        assert!(out.contains(m), "missing {m} in\n{out}");
    }
    for hw in ["a100-80gb", "h100-sxm"] {
        assert!(out.contains(hw), "missing {hw}");
    }
    assert!(out.contains("fastest") && out.contains("most efficient"));
}

#[test]
fn run_json_has_the_documented_schema() {
    let out = ok(&[
        "run",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--phase",
        "decode",
        "--batch",
        "8",
        "--context",
        "2048",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "model",
        "hardware",
        "phase",
        "batch",
        "latency_s",
        "throughput_per_s",
        "flops",
        "macs",
        "params",
        "weight_bytes",
        "energy_j",
        "bound",
        "ops",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["phase"], "decode");
    assert_eq!(v["batch"], 8);
    assert_eq!(v["precision"], "bf16");
    let ops = v["ops"].as_array().unwrap();
    assert!(!ops.is_empty());
    for k in [
        "name", "kind", "flops", "bytes", "time_s", "energy_j", "bound",
    ] {
        assert!(ops[0].get(k).is_some(), "op missing {k}");
    }
    // Totals are the sum of the ops.
    let t: f64 = ops.iter().map(|o| o["time_s"].as_f64().unwrap()).sum();
    let lat = v["latency_s"].as_f64().unwrap();
    assert!((t - lat).abs() <= 1e-9 * lat.max(1.0), "{t} vs {lat}");
}

#[test]
fn csv_and_json_agree() {
    let args = [
        "run",
        "--model",
        "resnet-50",
        "--hw",
        "a100-80gb",
        "--batch",
        "4",
    ];
    let json: serde_json::Value =
        serde_json::from_str(&ok(&[&args[..], &["--format", "json"]].concat())).unwrap();
    let csv = ok(&[&args[..], &["--format", "csv"]].concat());
    let total = csv.lines().find(|l| l.contains(",TOTAL,")).unwrap();
    let f: Vec<&str> = total.split(',').collect();
    // model,hardware,phase,precision,batch,op,kind,role,placement,repeat,flops,macs,bytes,time_s
    assert_eq!(
        f[10].parse::<u64>().unwrap(),
        json["flops"].as_u64().unwrap()
    );
    let lat: f64 = f[13].parse().unwrap();
    assert!((lat - json["latency_s"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn precision_flag_changes_bytes_not_flops() {
    let get = |p: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&[
            "run",
            "--model",
            "llama-2-7b",
            "--hw",
            "h100-sxm",
            "--phase",
            "decode",
            "--precision",
            p,
            "--format",
            "json",
        ]))
        .unwrap()
    };
    let (a, b) = (get("bf16"), get("w4a16"));
    assert_eq!(a["flops"], b["flops"]);
    assert!(b["weight_bytes"].as_u64().unwrap() * 3 < a["weight_bytes"].as_u64().unwrap());
    assert!(b["latency_s"].as_f64().unwrap() < a["latency_s"].as_f64().unwrap());
    assert_eq!(b["precision"], "w4a16");
}

#[test]
fn list_commands_list_builtins() {
    let m = ok(&["list", "models"]);
    for n in [
        "resnet-50",
        "gnmt",
        "deepspeech2",
        "bert-large",
        "vit-b-16",
        "gpt-2",
        "llama-3-70b",
    ] {
        assert!(m.contains(n), "missing {n}");
    }
    let h = ok(&["list", "hw"]);
    assert!(h.contains("h100-sxm") && h.contains("a100-80gb"));
}

#[test]
fn misspelt_names_get_suggestions() {
    let e = err(&["run", "--model", "llama-2-7b", "--hw", "h100-sx"]);
    assert!(e.contains("did you mean h100-sxm"), "{e}");
    let e = err(&["run", "--model", "mobilnet-v2", "--hw", "h100-sxm"]);
    assert!(e.contains("mobilenet-v2"), "{e}");
}

#[test]
fn bad_sizes_are_clear_errors() {
    let e = err(&[
        "run",
        "--model",
        "resnet-50",
        "--hw",
        "h100-sxm",
        "--batch",
        "0",
    ]);
    assert!(e.contains("batch"), "{e}");
    let e = err(&[
        "run",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--phase",
        "prefill",
        "--seq",
        "1000000000000000",
    ]);
    assert!(
        e.contains("overflow") || e.contains("exceed") || e.contains("too"),
        "{e}"
    );
    let e = err(&[
        "run",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--precision",
        "fp12",
    ]);
    assert!(e.contains("fp12"), "{e}");
}

#[test]
fn malformed_hardware_file_names_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("xpusim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = xpusim_hw::registry::DEVICES
        .iter()
        .find(|(f, _)| *f == "h100-sxm.toml")
        .unwrap()
        .1;
    let bad = src.replacen("bandwidth_gbps = 3350", "bandwidth_gbps = -3350", 1);
    let p = dir.join("bad.toml");
    std::fs::write(&p, bad).unwrap();
    let e = err(&["run", "--model", "resnet-50", "--hw", p.to_str().unwrap()]);
    assert!(
        e.contains("bad.toml:") && e.contains("memory[2].bandwidth_gbps"),
        "{e}"
    );
    let good = dir.join("mine.toml");
    std::fs::write(&good, src).unwrap();
    ok(&[
        "run",
        "--model",
        "resnet-50",
        "--hw",
        good.to_str().unwrap(),
    ]);
}

fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    assert!(
        p.exists() || std::env::var("CI").as_deref() != Ok("true"),
        "../shared/{rel} is required under CI=true: a test that reads it must not skip"
    );
    p.exists().then_some(p)
}

#[test]
fn onnx_files_run_like_built_in_models() {
    let Some(m) = shared("models/onnxzoo_light_resnet50.onnx") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        eprintln!("skipped: ../shared/models not found");
        return;
    };
    let out = ok(&[
        "run",
        "--model",
        m.to_str().unwrap(),
        "--hw",
        "h100-sxm",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Manifest: 4,089,184,256 MACs at 1x3x224x224.
    assert_eq!(v["macs"].as_u64().unwrap(), 4_089_184_256);
    let e = err(&[
        "run",
        "--model",
        m.to_str().unwrap(),
        "--hw",
        "h100-sxm",
        "--batch",
        "4",
    ]);
    assert!(e.contains("--dim"), "{e}");
    let Some(bert) = shared("models/minilm_l3_paraphrase_fp32.onnx") else {
        return;
    };
    let bert = bert.to_str().unwrap();
    let one = ok(&[
        "run",
        "--model",
        bert,
        "--hw",
        "a100-80gb",
        "--input",
        "input_ids=1x128",
        "--input",
        "attention_mask=1x128",
        "--format",
        "json",
    ]);
    let four = ok(&[
        "run",
        "--model",
        bert,
        "--hw",
        "a100-80gb",
        "--input",
        "input_ids=4x128",
        "--input",
        "attention_mask=4x128",
        "--format",
        "json",
    ]);
    let macs = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).unwrap()["macs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(macs(&one), 717_225_984);
    assert_eq!(macs(&four), 4 * 717_225_984);
}

#[test]
fn truncated_onnx_is_a_one_line_error() {
    let Some(m) = shared("models/onnxzoo_light_squeezenet.onnx") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared is required under CI=true: a test that reads it must not skip"
        );
        eprintln!("skipped: ../shared/models not found");
        return;
    };
    let bytes = std::fs::read(m).unwrap();
    let dir = std::env::temp_dir().join(format!("xpusim-cli-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("cut.onnx");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = err(&["run", "--model", p.to_str().unwrap(), "--hw", "h100-sxm"]);
    assert!(e.contains("cut.onnx"), "{e}");
}

#[test]
fn hugging_face_configs_run_like_built_in_models() {
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../xpusim-hf/tests/fixtures");
    let cfg = std::fs::read_dir(&fixtures)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.to_string_lossy().contains("llama-2-7b") || p.to_string_lossy().contains("Llama-2-7b")
        });
    let Some(cfg) = cfg else {
        panic!("no Llama-2-7B fixture in {}", fixtures.display())
    };
    let from_file: serde_json::Value = serde_json::from_str(&ok(&[
        "run",
        "--model",
        cfg.to_str().unwrap(),
        "--hw",
        "h100-sxm",
        "--phase",
        "decode",
        "--batch",
        "8",
        "--format",
        "json",
    ]))
    .unwrap();
    let from_zoo: serde_json::Value = serde_json::from_str(&ok(&[
        "run",
        "--model",
        "llama-2-7b",
        "--hw",
        "h100-sxm",
        "--phase",
        "decode",
        "--batch",
        "8",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(from_file["params"], from_zoo["params"]);
    assert_eq!(from_file["flops"], from_zoo["flops"]);
}

#[test]
fn no_fusion_runs_every_op_as_its_own_kernel() {
    let latency = |extra: &[&str]| -> f64 {
        let mut args = vec![
            "run",
            "--model",
            "resnet-50",
            "--hw",
            "a100-80gb",
            "--batch",
            "64",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&ok(&args)).expect("JSON");
        v["latency_s"].as_f64().expect("latency_s")
    };
    let (fused, plain) = (latency(&[]), latency(&["--no-fusion"]));
    assert!(plain > 1.3 * fused, "{plain} vs {fused}");
}

/// `xpusim compare | head -c 100`: the reader goes away; the command ends quietly (no panic
/// on the broken pipe).
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    for args in [&["compare"][..], &["attacc"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xpusim"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 100];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `compare --baseline` (issue #16): each chip's speed-up and energy gain are the
/// baseline's latency and energy per sample over the chip's, and the geometric mean is
/// over the workloads; the baseline is added when --hw lacks it.
#[test]
fn compare_baseline_ratios_come_from_the_results() {
    let o = xpusim(&[
        "compare",
        "--models",
        "resnet-50,bert-base",
        "--hw",
        "h100-sxm,tpu-v4",
        "--baseline",
        "a100-80gb",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let res = v["results"].as_array().unwrap();
    let get = |model: &str, hw: &str, k: &str| {
        res.iter()
            .find(|r| r["model"] == model && r["hardware"] == hw)
            .and_then(|r| r[k].as_f64())
            .unwrap()
    };
    let per = v["baseline"]["per_workload"].as_array().unwrap();
    assert_eq!(per.len(), 6, "two workloads × three chips (baseline added)");
    let mut log_sum = 0.0;
    for p in per {
        let (m, hw) = (
            p["model"].as_str().unwrap(),
            p["hardware"].as_str().unwrap(),
        );
        let want = get(m, "a100-80gb", "latency_s") / get(m, hw, "latency_s");
        let got = p["speedup"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "{m} {hw}: {got} vs {want}"
        );
        let want_e = get(m, "a100-80gb", "energy_per_sample_j") / get(m, hw, "energy_per_sample_j");
        assert!((p["energy_gain"].as_f64().unwrap() - want_e).abs() <= 1e-12 * want_e);
        if hw == "a100-80gb" {
            assert_eq!(got, 1.0);
        }
        if hw == "tpu-v4" {
            log_sum += got.ln();
        }
    }
    let g = v["baseline"]["geomean"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["hardware"] == "tpu-v4")
        .unwrap()["speedup"]
        .as_f64()
        .unwrap();
    assert!((g - (log_sum / 2.0).exp()).abs() < 1e-12, "{g}");
    // The table shows the ratios beside the numbers and a geometric-mean row.
    let o = xpusim(&[
        "compare",
        "--models",
        "resnet-50",
        "--hw",
        "h100-sxm",
        "--baseline",
        "a100-80gb",
    ]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(t.contains("· 1.00×") && t.contains("geometric mean"), "{t}");
}

/// `xpusim inspect` (issue #16): an ONNX file's inputs, symbolic dims with the flags that
/// bind them, op counts and types; the line it prints binds the model for `run`.
#[test]
fn inspect_lists_inputs_dims_ops_and_the_binding_line() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models");
    let f = shared.join("minilm_l3_paraphrase_fp32.onnx");
    if !f.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "../shared missing under CI"
        );
        eprintln!("skipping: {} absent", f.display());
        return;
    }
    let path = f.to_str().unwrap();
    let o = xpusim(&["inspect", path, "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = &v["onnx"];
    assert_eq!(
        m["symbolic_dims"],
        serde_json::json!(["batch_size", "sequence_length"])
    );
    assert_eq!(m["ops"]["MatMul"], 24);
    assert_eq!(m["nodes"], 354, "the manifest's node count");
    assert_eq!(m["inputs"][0]["dtype"], "int64");
    let bind: Vec<String> = m["bind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().replace("=N", "=8"))
        .collect();
    // The printed flags, with N chosen, make `run` work.
    let mut args = vec!["run", "--model", path, "--hw", "h100-sxm"];
    let split: Vec<&str> = bind.iter().flat_map(|b| b.split(' ')).collect();
    args.extend(split);
    let o = xpusim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = xpusim(&["inspect", "resnet-50"]);
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && t.contains("25.6 M parameters"), "{t}");
}

/// ONNX data types come from the file and the report says what was costed: an fp32 file is
/// `fp32` at the fp32 (not TF32) peak, a static-QDQ file is mixed with its int8 ops counted,
/// and `--precision` overrides every op with a note naming what it replaced.
#[test]
fn onnx_precision_labels_are_truthful_and_overrides_are_noted() {
    let (Some(bert), Some(qdq)) = (
        shared("models/minilm_l3_paraphrase_fp32.onnx"),
        shared("models/smart_turn_v3_whisper_encoder_qdq.onnx"),
    ) else {
        return;
    };
    let (bert, qdq) = (bert.to_str().unwrap(), qdq.to_str().unwrap());
    let bert_args = [
        "run",
        "--model",
        bert,
        "--hw",
        "h100-sxm",
        "--input",
        "input_ids=1x128",
        "--input",
        "attention_mask=1x128",
        "--format",
        "json",
    ];
    let v: serde_json::Value = serde_json::from_str(&ok(&bert_args)).unwrap();
    assert_eq!(v["precision"], "fp32");
    // H100 SXM: 66.9 TFLOP/s fp32 on CUDA cores; 494.7 is TF32, which must be asked for.
    assert!(
        (v["peak_tflops"].as_f64().unwrap() - 66.9).abs() < 0.1,
        "{v}"
    );

    let mut tf32 = bert_args.to_vec();
    tf32.extend(["--precision", "tf32"]);
    let o = xpusim(&tf32);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["precision"], "tf32");
    assert!(v["peak_tflops"].as_f64().unwrap() > 400.0, "{v}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("note: --precision tf32 overrides the file's fp32"),
        "{e}"
    );

    let q = [
        "run",
        "--model",
        qdq,
        "--hw",
        "h100-sxm",
        "--input",
        "input_features=1x80x800",
        "--format",
        "json",
    ];
    let v: serde_json::Value = serde_json::from_str(&ok(&q)).unwrap();
    let p = v["precision"].as_str().unwrap();
    assert!(
        p.starts_with("mixed (") && p.contains("int8") && p.contains("fp32"),
        "{p}"
    );
    let mut csv = q.to_vec();
    csv.pop();
    csv.push("csv");
    let out = ok(&csv);
    // The label has a comma: quoted, so every row keeps its column count.
    assert!(out.contains(&format!(",\"{p}\",")), "{out}");
}
