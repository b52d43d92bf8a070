//! Rows end to end: skipped rows are reported (never dropped, never zero error), MAPE
//! arithmetic, and fitted curves reduce the error on the rows they were fitted on.

use xpusim_hw::find_preset;
use xpusim_validate::{fit, parse, Predictor, Report};

const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,used_for_calibration";

fn report(body: &str) -> Report {
    let rows = parse("t.csv", &format!("{HEAD}\n{body}")).unwrap();
    Report::run(&rows, &mut Predictor::default())
}

#[test]
fn rows_that_cannot_be_evaluated_are_skipped_with_a_reason() {
    let r = report(
        "a,nosuchchip,1,,fp16,\"gemm:m=64,n=64,k=64\",kernel,1,,,latency_ms,1,ms,s,no
b,a100-80gb,1,,fp16,\"gemm:m=64,n=64,k=64\",kernel,1,,,joules,1,J,s,no
c,h100-sxm,16,tp,bf16,llama-2-7b,decode,1,128,,tpot_ms,10,ms,s,no
d,a100-80gb,1,,bf16,llama-2-7b,decode,1,128,,tpot_ms,10,s,s,no
e,a100-80gb,1,,fp16,\"gemm:m=4096,n=4096,k=4096\",kernel,1,,,latency_ms,1,ms,s,no",
    );
    assert_eq!(r.rows.len(), 5);
    let why: Vec<_> = r
        .rows
        .iter()
        .map(|x| x.reason.clone().unwrap_or_default())
        .collect();
    assert!(why[0].contains("unknown hardware"), "{why:?}");
    assert!(why[1].contains("unsupported metric `joules`"), "{why:?}");
    assert!(why[2].contains("no system preset with 16"), "{why:?}");
    assert!(why[3].contains("unit `s`"), "{why:?}");
    assert_eq!(r.rows[4].status, "ok");
    let s = r.overall();
    assert_eq!((s.n, s.skipped), (1, 4));
    // The one evaluated row alone defines the MAPE.
    assert_eq!(s.mape_pct, r.rows[4].error_pct.map(f64::abs));
    let j = r.to_json();
    assert_eq!(j["rows"][0]["status"], "skipped");
    assert!(j["mape_pct"]["overall"].is_number());
}

#[test]
fn tensor_parallel_rows_run_on_a_system() {
    let r = report(
        "tp,a100-80gb,8,tp,bf16,llama-2-70b,decode,8,512,,tpot_ms,30,ms,s,no
sys,dgx-h100,4,tp,bf16,llama-2-70b,prefill,1,2048,,ttft_ms,100,ms,s,no
ar,a100-80gb,4,tp,fp16,\"allreduce:elems=1048576\",kernel,1,,,latency_ms,0.1,ms,s,no",
    );
    for x in &r.rows {
        assert_eq!(x.status, "ok", "{x:?}");
    }
    // More devices, less time per token: TP 8 beats TP 2 on the same model.
    let two = report("a,a100-80gb,2,tp,bf16,llama-2-70b,decode,8,512,,tpot_ms,30,ms,s,no");
    assert!(
        two.rows[0].predicted > r.rows[0].predicted,
        "{:?} vs {:?}",
        two.rows[0],
        r.rows[0]
    );
}

#[test]
fn mape_is_the_mean_absolute_error_of_held_out_rows_only() {
    // Three identical GEMMs "measured" at 2x, 1x and 0.5x of one prediction.
    let dev = find_preset("a100-80gb").unwrap();
    let op = xpusim_validate::kernel::lower(
        "gemm:m=2048,n=2048,k=2048",
        xpusim_ir::Precision::uniform(xpusim_ir::DType::Fp16),
    )
    .unwrap();
    let t_ms = xpusim_engine::cost_op(&op, &dev).unwrap().time_s * 1e3;
    let row = |id: &str, v: f64, fit: &str| {
        format!("{id},a100-80gb,1,,fp16,\"gemm:m=2048,n=2048,k=2048\",kernel,1,,,latency_ms,{v},ms,s,{fit}\n")
    };
    let body = row("a", t_ms / 2.0, "no")
        + &row("b", t_ms, "no")
        + &row("c", t_ms * 2.0, "no")
        + &row("d", t_ms * 10.0, "yes");
    let s = report(&body).overall();
    assert_eq!((s.n, s.fit_n), (3, 1));
    // Errors +100 %, 0 %, −50 %: MAPE 50 %, median 50 %, bias +16.7 %.
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-6;
    assert!(close(s.mape_pct, 50.0), "{s:?}");
    assert!(close(s.median_abs_pct, 50.0), "{s:?}");
    assert!(close(s.bias_pct, 50.0 / 3.0), "{s:?}");
    assert!(close(s.fit_mape_pct, 90.0), "{s:?}");
}

#[test]
fn fitted_curves_reduce_the_error_on_their_rows() {
    // Measurements 3x slower than the analytical model on norms: a curve must close most
    // of the gap.
    let mut dev = find_preset("h100-sxm").unwrap();
    dev.calibration.clear();
    let mut body = String::new();
    for (i, rows) in [1024u64, 4096, 16384, 65536].iter().enumerate() {
        let w = format!("rmsnorm:rows={rows},cols=8192");
        let op = xpusim_validate::kernel::lower(
            &w,
            xpusim_ir::Precision::uniform(xpusim_ir::DType::Fp16),
        )
        .unwrap();
        let c = xpusim_engine::cost_op(&op, &dev).unwrap();
        let measured_ms = ((c.time_s - c.overhead_s) * 3.0 + c.overhead_s) * 1e3;
        body += &format!(
            "r{i},h100-sxm,1,,fp16,\"{w}\",kernel,1,,,latency_ms,{measured_ms},ms,s,yes\n"
        );
    }
    let rows = parse("t.csv", &format!("{HEAD}\n{body}")).unwrap();
    let f = fit::fit(&rows, &dev, true, "test");
    assert_eq!(f.used, 4);
    let mut unfitted = rows.clone();
    unfitted
        .iter_mut()
        .for_each(|r| r.used_for_calibration = false);
    let mut before = Predictor::default();
    before.override_device = Some(dev.clone());
    let mut after = Predictor::default();
    let mut fitted = dev.clone();
    fitted.calibration = f.curves.clone();
    after.override_device = Some(fitted.clone());
    let b = Report::run(&unfitted, &mut before)
        .overall()
        .mape_pct
        .unwrap();
    let a = Report::run(&unfitted, &mut after)
        .overall()
        .mape_pct
        .unwrap();
    assert!(b > 50.0 && a < 1.0, "before {b}% after {a}%");
    // The fitted curves round-trip through a device file.
    let src = xpusim_hw::registry::DEVICES
        .iter()
        .find(|(f, _)| *f == "h100-sxm.toml")
        .unwrap()
        .1;
    let text = fit::replace_in_device(src, &f.curves).unwrap();
    let back = xpusim_hw::DeviceSpec::from_toml("fitted.toml", &text).unwrap();
    assert_eq!(back.calibration, f.curves);
}

/// `tp=2,dp=4` on 8 devices is four 2-way tensor-parallel replicas: four times the
/// throughput of the `tp` row on 2 devices, and the same latency (issue #15: inference rows
/// take the training rows' `key=value` layouts).
#[test]
fn an_inference_row_takes_a_key_value_layout() {
    let r = report(
        "a,dgx-h100,2,tp,bf16,llama-2-13b,decode,8,512,,tokens_per_s,1000,tokens/s,s,no
b,dgx-h100,8,\"tp=2,dp=4\",bf16,llama-2-13b,decode,8,512,,tokens_per_s,1000,tokens/s,s,no
c,dgx-h100,2,tp,bf16,llama-2-13b,decode,8,512,,tpot_ms,10,ms,s,no
d,dgx-h100,8,\"tp=2,dp=4\",bf16,llama-2-13b,decode,8,512,,tpot_ms,10,ms,s,no
e,dgx-h100,8,\"tp=2,dp=3\",bf16,llama-2-13b,decode,8,512,,tpot_ms,10,ms,s,no",
    );
    let pred: Vec<f64> = r.rows[..4]
        .iter()
        .map(|x| x.predicted.unwrap_or_else(|| panic!("{:?}", x.reason)))
        .collect();
    assert!((pred[1] / pred[0] - 4.0).abs() < 1e-12, "{pred:?}");
    assert_eq!(pred[2], pred[3]);
    let why = r.rows[4].reason.clone().unwrap_or_default();
    assert!(
        why.contains("tp·pp·dp = 6") && why.contains("devices = 8"),
        "{why}"
    );
}
