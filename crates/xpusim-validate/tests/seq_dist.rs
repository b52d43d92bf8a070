//! A measured row with a `seq_dist` column is predicted as the packed pass: the same
//! latency `xpusim run --seq-dist` gives, its batch the distribution's sequences, and a
//! `seq_dist` on a decode row is a skip reason, not a guess.

use xpusim_ir::{DType, Precision, SeqDist};
use xpusim_validate::{parse, Predictor};

const HEAD: &str = "id,hardware,devices,parallelism,precision,workload,phase,batch,seq_in,seq_out,metric,value,unit,source,seq_dist";

#[test]
fn an_unpadded_row_is_predicted_as_the_packed_pass() {
    let text = format!(
        "{HEAD}\nr1,a100-80gb,1,,bf16,bert-large,inference,,,,latency_ms,20,ms,test,\"128:10,384:4\"\nr2,a100-80gb,1,,bf16,llama-2-7b,decode,,,,latency_ms,20,ms,test,128:2\n"
    );
    let rows = parse("t.csv", &text).unwrap();
    let mut p = Predictor::default();
    let ms = p.predict(&rows[0]).unwrap().value;
    let d = SeqDist::parse_inline("128:10,384:4").unwrap();
    let req = xpusim_workload::Request {
        seq_dist: Some(d),
        ..xpusim_workload::Request::new("bert-large")
    };
    let g = req.graph_at(Precision::uniform(DType::Bf16)).unwrap();
    let t = xpusim_target::Target::device(xpusim_hw::find_preset("a100-80gb").unwrap());
    let c = xpusim_target::evaluate(&g, &t).unwrap();
    assert!(
        (ms - c.latency_s * 1e3).abs() < 1e-9 * ms,
        "{ms} vs {}",
        c.latency_s * 1e3
    );
    let e = p.predict(&rows[1]).unwrap_err();
    assert!(e.contains("seq_dist"), "{e}");
}
