//! A `serve` row is an offline throughput benchmark: its prediction is the serving
//! simulator's output throughput for the row's requests, target, precision and scheduler
//! settings — the number `xpusim serve` gives for the same run — and a bad or misplaced
//! server setting is an error naming its column.

use xpusim_ir::{DType, Precision};
use xpusim_serve::{
    poisson, serve, Admission, SchedulerConfig, Slo, StepOptions, TargetStepModel, TokenDist,
};
use xpusim_validate::{parse, Predictor};

const HEAD: &str = "id,hardware,devices,parallelism,precision,kv_precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,scheduler";
const SCHED: &str =
    "\"max_batch=64,max_tokens=2112,admission=reserve,chunked=0,kv_free_fraction=0.95\"";

#[test]
fn a_serve_row_is_the_simulators_throughput() {
    let text = format!(
        "{HEAD}\nr1,h100-sxm,1,tp,fp8-w8a8,fp8,llama-3-8b,serve,200,1024,256,tokens_per_s,5000,tokens/s,t,{SCHED}\n"
    );
    let rows = parse("t.csv", &text).unwrap();
    let got = Predictor::default().predict(&rows[0]).unwrap().value;

    let mut p = Precision::parse("fp8-w8a8", DType::Bf16).unwrap();
    p.kv = DType::Fp8;
    let mut o = StepOptions::new(p, 2112);
    o.kv_free_fraction = Some(0.95);
    let cfg = xpusim_models::zoo::transformer_config("llama-3-8b").unwrap();
    let dev = xpusim_hw::find_preset("h100-sxm").unwrap();
    let m = TargetStepModel::on_device(cfg, dev, o).unwrap();
    let reqs = poisson(
        f64::INFINITY,
        200,
        TokenDist::Fixed(1024),
        TokenDist::Fixed(256),
        0,
    )
    .unwrap();
    let sched = SchedulerConfig {
        max_batched_tokens: 2112,
        max_seqs: 64,
        max_chunk: 2112,
        admission: Admission::Reserve,
        chunked_prefill: false,
        ..SchedulerConfig::default()
    };
    let want = serve(&m, &reqs, &sched, &Slo::default(), None)
        .unwrap()
        .metrics
        .output_tokens_per_s;
    assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    // The row's 16-bit-KV twin holds half the sequences, so it is slower.
    let bf16 = text.replace(",fp8,llama", ",bf16,llama");
    let rows = parse("t.csv", &bf16).unwrap();
    let slower = Predictor::default().predict(&rows[0]).unwrap().value;
    assert!(slower < got, "{slower} vs {got}");
}

#[test]
fn server_settings_are_checked_and_only_serve_rows_take_them() {
    let bad = format!(
        "{HEAD}\nr1,h100-sxm,1,tp,fp8,,llama-3-8b,serve,10,128,128,tokens_per_s,1,tokens/s,t,max_batch=0\n"
    );
    let e = parse("t.csv", &bad).unwrap_err().to_string();
    assert!(e.contains("scheduler") && e.contains("max_batch"), "{e}");
    let bad = format!(
        "{HEAD}\nr1,h100-sxm,1,tp,fp8,fp7,llama-3-8b,serve,10,128,128,tokens_per_s,1,tokens/s,t,\n"
    );
    let e = parse("t.csv", &bad).unwrap_err().to_string();
    assert!(e.contains("kv_precision"), "{e}");
    let text = format!(
        "{HEAD}\nr1,h100-sxm,1,tp,fp8,,llama-3-8b,decode,10,128,,tokens_per_s,1,tokens/s,t,max_batch=8\n\
         r2,h100-sxm,1,tp,fp8,,llama-3-8b,serve,10,128,128,power_w,1,W,t,\n\
         r3,h100-sxm,1,tp,fp8,,llama-3-8b,serve,10,128,,tokens_per_s,1,tokens/s,t,\n"
    );
    let rows = parse("t.csv", &text).unwrap();
    let mut p = Predictor::default();
    for (row, says) in rows.iter().zip(["`scheduler`", "not energy", "seq_out"]) {
        let e = p.predict(row).unwrap_err();
        assert!(e.contains(says), "{}: {e}", row.id);
    }
}
