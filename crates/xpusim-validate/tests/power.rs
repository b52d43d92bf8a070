//! Power and energy rows: every shipped row of data/validation/power.csv is predicted, and the
//! metrics keep the relations that define them (wall = boards + host, a cap bounds the boards,
//! samples/J is the inverse of J/sample).

use std::path::PathBuf;

use xpusim_validate::{parse, Predictor, Report};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,scope,power_cap_w";

fn predict(body: &str) -> Report {
    let rows = parse("t.csv", &format!("{HEAD}\n{body}")).expect("rows parse");
    Report::run(&rows, &mut Predictor::default())
}

fn value(r: &Report, i: usize) -> f64 {
    let x = &r.rows[i];
    assert_eq!(x.status, "ok", "{x:?}");
    x.predicted.expect("a prediction")
}

#[test]
fn every_shipped_power_row_is_predicted() {
    let rows =
        xpusim_validate::read(&root().join("data/validation/power.csv")).expect("power.csv reads");
    assert!(!rows.is_empty());
    let r = Report::run(&rows, &mut Predictor::default());
    for x in &r.rows {
        assert_eq!(x.status, "ok", "{x:?}");
        assert_eq!(x.class, "energy", "{x:?}");
        let v = x.predicted.expect("a prediction");
        assert!(v.is_finite() && v > 0.0, "{x:?}");
        assert!(x.error_pct.is_some_and(f64::is_finite), "{x:?}");
        // Each says what it is made of.
        assert!(x.flags.iter().any(|f| f.contains("host")), "{x:?}");
    }
    // Power rows are their own class: they never enter the time/throughput figures.
    assert_eq!(r.overall().n, 0);
    assert_eq!(r.class("energy").n, r.rows.len());
}

#[test]
fn wall_is_boards_plus_the_systems_host_share() {
    let r = predict(
        "b,dgx-a100,8,dp,int8,resnet-50,inference,256,,,power_w,3000,W,s,board,
w,dgx-a100,8,dp,int8,resnet-50,inference,256,,,power_w,3000,W,s,wall,
h,dgx-a100,4,dp,int8,resnet-50,inference,256,,,power_w,3000,W,s,wall,",
    );
    let (board, wall, half) = (value(&r, 0), value(&r, 1), value(&r, 2));
    // The dgx-a100 preset cites 3,300 W of node power for its 8 GPUs; 4 GPUs carry half.
    assert!((wall - board - 3300.0).abs() < 1e-6, "{board} {wall}");
    assert!((half - board / 2.0 - 1650.0).abs() < 1e-6, "{board} {half}");
}

#[test]
fn a_cap_bounds_the_boards_and_slows_the_work() {
    let r = predict(
        "free,a100-80gb,1,dp,int8,resnet-50,inference,256,,,power_w,300,W,s,board,
capped,a100-80gb,1,dp,int8,resnet-50,inference,256,,,power_w,300,W,s,board,150
tput,a100-80gb,1,dp,int8,resnet-50,inference,256,,,samples_per_s,30000,samples/s,s,,
tput-capped,a100-80gb,1,dp,int8,resnet-50,inference,256,,,samples_per_s,30000,samples/s,s,,150",
    );
    let (free, capped) = (value(&r, 0), value(&r, 1));
    assert!(capped <= 150.0 * (1.0 + 1e-9), "{capped}");
    assert!(capped < free, "{capped} vs {free}");
    assert!(value(&r, 3) < value(&r, 2));
}

#[test]
fn per_sample_metrics_are_inverse_and_tokens_count() {
    let r = predict(
        "e,a100-80gb,1,dp,int8,resnet-50,inference,64,,,energy_per_sample_j,0.01,J/sample,s,board,
s,a100-80gb,1,dp,int8,resnet-50,inference,64,,,samples_per_j,100,samples/J,s,board,
t,a100-80gb,1,,bf16,llama-2-7b,generate,4,128,64,joules_per_token,1,J/token,s,board,
p,a100-80gb,1,,bf16,llama-2-7b,decode,8,512,,power_w,300,W,s,,",
    );
    let (e, s) = (value(&r, 0), value(&r, 1));
    assert!((e * s - 1.0).abs() < 1e-9, "{e} {s}");
    assert!(value(&r, 2) > 0.0 && value(&r, 3) > 0.0);
}

#[test]
fn what_cannot_be_priced_is_skipped_naming_why() {
    let r = predict(
        "dev,a100-80gb,1,dp,int8,resnet-50,inference,64,,,power_w,300,W,s,wall,
cap,a100-80gb,1,dp,int8,resnet-50,inference,64,,,power_w,300,W,s,board,900
unit,a100-80gb,1,dp,int8,resnet-50,inference,64,,,power_w,300,kW,s,board,
kern,a100-80gb,1,,fp16,\"gemm:m=64,n=64,k=64\",kernel,1,,,power_w,300,W,s,board,",
    );
    let why: Vec<String> = r
        .rows
        .iter()
        .map(|x| x.reason.clone().unwrap_or_default())
        .collect();
    assert!(why[0].contains("scope `wall` needs a system"), "{why:?}");
    assert!(why[1].contains("column `power_cap_w`"), "{why:?}");
    assert!(why[2].contains("unit `kW`"), "{why:?}");
    assert!(why[3].contains("does not apply to a kernel"), "{why:?}");
    // A kernel row stays in the kernel class whatever its metric; skipped, it counts nowhere.
    assert_eq!(r.class("energy").skipped, 3);
    assert_eq!(r.class("kernel").skipped, 1);
}
